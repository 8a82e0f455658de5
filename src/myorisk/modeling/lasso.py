"""LASSO and elastic-net logistic regression with glmnet's conventions (glmnet 4.1, ``family="binomial"``).

The objective, on predictors standardised as glmnet does (centred, divided by their SD with divisor
n), is

    −(1/n) Σ log-likelihood + λ [ α Σ|β_j| + (1 − α)/2 Σ β_j² ],

minimised by proximal Newton steps (iteratively reweighted least squares) with cyclic coordinate
descent, warm-started along a decreasing λ path. Coefficients are reported on the original scale
(as ``coef(glmnet)``). The default path has 100 values from λ_max — the smallest λ at which every
slope is zero, ``max_j |x̃_j′(y − ȳ)| / (n·α)`` — down to λ_max × (1e-4 if n > p else 1e-2), log-spaced,
and stops early as glmnet does (from the 5th λ on, when the fraction of deviance explained grows by
less than 1e-5 or exceeds 0.999). K-fold cross-validation follows ``cv.glmnet`` (binomial deviance,
probabilities clipped to [1e-5, 1 − 1e-5], fold-grouped mean and standard error; λ.min the smallest
mean deviance, λ.1se the largest λ within one standard error of it). Folds are given (a fold-id
column, for exact parity with R) or drawn from a seed.

Hand-written (see docs/hand-written.md): scikit-learn's and statsmodels' penalised logistic fits
neither standardise nor scale the penalty as glmnet does, and neither reproduces its path or CV rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from myorisk._json import clean as _clean
from myorisk.errors import InputError

__all__ = ["LassoPath", "LassoCV", "lasso_path", "lasso_cv", "lambda_path"]

def _cd():
    from myorisk.modeling._compiled import lasso

    return lasso.cd_path


def _standardise(X: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xm = w @ X
    xs = np.sqrt(w @ (X - xm) ** 2)
    if np.any(xs == 0):
        raise InputError("a predictor is constant in the data: drop it before the LASSO")
    return (X - xm) / xs, xm, xs


def _unstandardise(coefs: np.ndarray, xm: np.ndarray, xs: np.ndarray) -> np.ndarray:
    out = coefs.copy()
    out[:, 1:] = coefs[:, 1:] / xs
    out[:, 0] = coefs[:, 0] - out[:, 1:] @ xm
    return out


def _interpolate(lambdas: np.ndarray, coefs: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Coefficients at ``s`` from a path, by glmnet's ``lambda.interp`` (linear in λ, clamped)."""
    k = lambdas.size
    if k == 1:
        return np.repeat(coefs[:1], s.size, axis=0)
    span = lambdas[0] - lambdas[-1]
    pos = (lambdas[0] - lambdas) / span  # 0 … 1, increasing
    sf = np.clip((lambdas[0] - s) / span, pos.min(), pos.max())
    coord = np.interp(sf, pos, np.arange(1, k + 1, dtype=float))
    left = np.floor(coord).astype(int) - 1
    right = np.ceil(coord).astype(int) - 1
    denom = pos[left] - pos[right]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = (sf - pos[right]) / denom
    frac[(left == right) | (np.abs(denom) < np.finfo(float).eps)] = 1.0
    return frac[:, None] * coefs[left] + (1.0 - frac[:, None]) * coefs[right]


def lambda_path(X: np.ndarray, y: np.ndarray, alpha: float = 1.0, nlambda: int = 100,
                min_ratio: float | None = None) -> np.ndarray:
    """glmnet's default λ sequence for a binomial model (λ_max down to λ_max·min_ratio, log-spaced)."""
    n, p = X.shape
    w = np.full(n, 1.0 / n)
    Xs, _, _ = _standardise(X, w)
    lmax = float(np.max(np.abs(Xs.T @ (w * (y - y.mean()))))) / max(alpha, 1e-3)
    ratio = min_ratio if min_ratio is not None else (1e-4 if n > p else 1e-2)
    return lmax * ratio ** (np.arange(nlambda) / (nlambda - 1))


@dataclass(frozen=True)
class LassoPath:
    """Coefficients along a λ path (original scale, intercept first).

    Attributes
    ----------
    columns : tuple of str
        Design columns (``Intercept`` first).
    lambdas : ndarray
    coefficients : ndarray of shape (len(lambdas), len(columns))
    dev_ratio : ndarray
        Fraction of the null deviance explained at each λ.
    alpha : float
    """

    columns: tuple[str, ...]
    lambdas: np.ndarray
    coefficients: np.ndarray
    dev_ratio: np.ndarray
    alpha: float

    def at(self, lam: float) -> dict[str, float]:
        """Coefficients at a λ of the path."""
        k = int(np.argmin(np.abs(self.lambdas - lam)))
        if not np.isclose(self.lambdas[k], lam, rtol=1e-10, atol=0):
            raise InputError(f"λ = {lam:g} is not on the path")
        return dict(zip(self.columns, map(float, self.coefficients[k]), strict=True))

    def to_frame(self) -> pd.DataFrame:
        """One row per λ: lambda, df (non-zero slopes), dev_ratio and each coefficient."""
        fr = pd.DataFrame(self.coefficients, columns=list(self.columns))
        fr.insert(0, "dev_ratio", self.dev_ratio)
        fr.insert(0, "df", (self.coefficients[:, 1:] != 0).sum(axis=1))
        fr.insert(0, "lambda", self.lambdas)
        return fr

    def to_dict(self) -> dict:
        """JSON-ready path."""
        return _clean({"alpha": self.alpha, "columns": list(self.columns),
                       "path": self.to_frame().to_dict(orient="records")})


def lasso_path(X: np.ndarray, y: np.ndarray, columns: Sequence[str], *, alpha: float = 1.0,
               lambdas: Sequence[float] | None = None, nlambda: int = 100) -> LassoPath:
    """Fit the elastic-net logistic path (``glmnet(x, y, family="binomial", alpha=)``).

    Parameters
    ----------
    X : ndarray of shape (n, p)
        Predictors without an intercept column (factors as dummy columns).
    y : ndarray of shape (n,)
        0/1 outcome.
    columns : sequence of str
        Names of X's columns.
    alpha : float in [0, 1], default=1
        1 = LASSO, 0 = ridge, in between = elastic net.
    lambdas : sequence of float, optional
        λ values (sorted decreasing; no early stop, as glmnet with a user sequence). Default: the
        path of :func:`lambda_path` with glmnet's early stop.
    nlambda : int, default=100

    Returns
    -------
    LassoPath
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if not 0.0 <= alpha <= 1.0:
        raise InputError(f"--alpha must be between 0 (ridge) and 1 (LASSO), not {alpha}")
    if X.ndim != 2 or X.shape[1] == 0:
        raise InputError("the LASSO needs at least one predictor")
    n = X.shape[0]
    if not 0 < y.sum() < n:
        raise InputError("the outcome takes a single value: a model needs both events and non-events")
    w = np.full(n, 1.0 / n)
    Xs, xm, xs = _standardise(X, w)
    early = lambdas is None
    if lambdas is None:
        lam = lambda_path(X, y, alpha, nlambda)
    else:
        lam = np.sort(np.asarray(lambdas, dtype=float))[::-1]
        if np.any(lam <= 0) or not np.all(np.isfinite(lam)):
            raise InputError("--lambda: give positive numbers")
    coefs, devr = _cd()(np.ascontiguousarray(Xs), y, w, float(alpha), lam, early, 1000)
    return LassoPath(columns=("Intercept", *columns), lambdas=lam[: coefs.shape[0]],
                     coefficients=_unstandardise(coefs, xm, xs), dev_ratio=devr, alpha=float(alpha))


@dataclass(frozen=True)
class LassoCV:
    """Cross-validated λ (``cv.glmnet``, binomial deviance).

    Attributes
    ----------
    path : LassoPath
        The path on all the data.
    cvm, cvsd : ndarray
        Mean cross-validated deviance and its standard error per λ of the path.
    lambda_min, lambda_1se : float
    folds : int
    foldid : ndarray
        Fold of each row (1-based).
    """

    path: LassoPath
    cvm: np.ndarray
    cvsd: np.ndarray
    lambda_min: float
    lambda_1se: float
    folds: int
    foldid: np.ndarray

    def coefficients(self, which: str = "lambda.min") -> dict[str, float]:
        """Coefficients at λ.min or λ.1se (original scale)."""
        return self.path.at(self.lambda_min if which == "lambda.min" else self.lambda_1se)

    def to_frame(self) -> pd.DataFrame:
        """One row per λ: lambda, cvm, cvsd, df."""
        return pd.DataFrame({"lambda": self.path.lambdas, "cvm": self.cvm, "cvsd": self.cvsd,
                             "df": (self.path.coefficients[:, 1:] != 0).sum(axis=1)})

    def to_dict(self) -> dict:
        """JSON-ready: λ.min, λ.1se, folds and the CV curve."""
        return _clean({"lambda_min": self.lambda_min, "lambda_1se": self.lambda_1se,
                       "folds": self.folds, "alpha": self.path.alpha,
                       "cv": self.to_frame().to_dict(orient="records")})


def lasso_cv(X: np.ndarray, y: np.ndarray, columns: Sequence[str], *, alpha: float = 1.0,
             folds: int = 10, seed: int | None = None, foldid: Sequence[int] | None = None,
             nlambda: int = 100) -> LassoCV:
    """K-fold cross-validation of the path, as ``cv.glmnet(type.measure="deviance")``.

    Parameters
    ----------
    X, y, columns, alpha, nlambda
        See :func:`lasso_path`.
    folds : int, default=10
        Number of folds when ``foldid`` is not given (rows assigned at random from ``seed``, as
        ``sample(rep(seq(nfolds), length = n))``).
    seed : int, optional
    foldid : sequence of int, optional
        The fold of each row (any labels; for exact parity with R give the same ``foldid``).

    Returns
    -------
    LassoCV
    """
    y = np.asarray(y, dtype=float)
    n = y.size
    if foldid is None:
        if not 3 <= folds <= n:
            raise InputError(f"--folds must be between 3 and the number of rows ({n}), not {folds}")
        rng = np.random.default_rng(seed)
        fid = rng.permutation(np.resize(np.arange(1, folds + 1), n))
    else:
        labels, fid = np.unique(np.asarray(foldid), return_inverse=True)
        fid = fid + 1
        if labels.size < 3:
            raise InputError("cross-validation needs at least 3 folds")
    K = int(fid.max())
    full = lasso_path(X, y, columns, alpha=alpha, nlambda=nlambda)
    lam = full.lambdas
    X = np.asarray(X, dtype=float)
    dev = np.zeros((K, lam.size))
    sizes = np.zeros(K)
    for k in range(1, K + 1):
        test = fid == k
        # as cv.glmnet: each fold fits its own default path, read at the full path's λ by
        # glmnet's linear interpolation in λ (constant beyond the fold's range)
        fit = lasso_path(X[~test], y[~test], columns, alpha=alpha, nlambda=nlambda)
        coefs = _interpolate(fit.lambdas, fit.coefficients, lam)
        eta = coefs[:, :1].T + X[test] @ coefs[:, 1:].T
        p = np.clip(1.0 / (1.0 + np.exp(-eta)), 1e-5, 1 - 1e-5)
        yt = y[test][:, None]
        dev[k - 1] = np.mean(-2.0 * (yt * np.log(p) + (1 - yt) * np.log(1 - p)), axis=0)
        sizes[k - 1] = test.sum()
    cvm = sizes @ dev / sizes.sum()
    cvsd = np.sqrt((sizes @ (dev - cvm) ** 2) / sizes.sum() / (K - 1))
    lmin = float(np.max(lam[cvm <= np.min(cvm)]))
    i = int(np.where(lam == lmin)[0][0])
    l1se = float(np.max(lam[cvm <= cvm[i] + cvsd[i]]))
    return LassoCV(path=full, cvm=cvm, cvsd=cvsd, lambda_min=lmin, lambda_1se=l1se, folds=K, foldid=fid)
