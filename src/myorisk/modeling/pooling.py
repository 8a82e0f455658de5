"""Rubin's rules: pooling estimates from multiply imputed data sets, as mice 3.15 ``pool()``.

For each parameter, with m completed-data estimates Q_i and their squared standard errors U_i
(Rubin 1987; van Buuren 2018, §2.3):

* Q̄ = mean Q_i; Ū = mean U_i (within); B = var Q_i (between, divisor m − 1);
* T = Ū + (1 + 1/m)·B (total);
* r (``riv``) = (1 + 1/m)·B/Ū; λ (``lambda``) = (1 + 1/m)·B/T;
* Barnard–Rubin (1999) degrees of freedom with the complete-data df ``dfcom`` (for a glm mice
  takes the residual df n − p): λ is floored at 1e-4, ν_old = (m − 1)/λ²,
  ν_obs = (dfcom + 1)/(dfcom + 3)·dfcom·(1 − λ), ν = ν_old·ν_obs/(ν_old + ν_obs);
* fmi = (r + 2/(ν + 3))/(r + 1) (mice's definition: it uses the adjusted ν, so fmi ≠ λ);
* t = Q̄/√T referred to Student's t on ν df (mice floors ν at 0.001 for the p-value);
  CI Q̄ ± t_{ν, (1+level)/2}·√T.

Also :func:`pool_scalar` for a single quantity (mice ``pool.scalar``) and
:func:`pool_logit` for a probability-scale index pooled on the logit scale (a C statistic).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from myorisk._json import clean as _clean
from myorisk.errors import InputError

__all__ = ["Pooled", "pool", "pool_scalar", "barnard_rubin", "pool_logit", "d1_test"]


def barnard_rubin(m: int, b: np.ndarray, t: np.ndarray, dfcom: float = np.inf) -> np.ndarray:
    """Barnard–Rubin adjusted degrees of freedom (mice ``barnard.rubin``)."""
    b = np.asarray(b, dtype=float)
    t = np.asarray(t, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = (1.0 + 1.0 / m) * b / t
    lam = np.where(lam < 1e-4, 1e-4, lam)
    dfold = (m - 1) / lam**2
    if np.isinf(dfcom):
        return dfold
    dfobs = (dfcom + 1.0) / (dfcom + 3.0) * dfcom * (1.0 - lam)
    return dfold * dfobs / (dfold + dfobs)


@dataclass(frozen=True)
class Pooled:
    """Estimates pooled by Rubin's rules (one row per parameter).

    Attributes
    ----------
    names : tuple of str
    m : int
        Number of imputations.
    estimate, ubar, b, t, df, riv, lambda_, fmi : ndarray
        As mice's ``pool()$pooled`` (``lambda_`` is mice's ``lambda``).
    dfcom : float
        Complete-data degrees of freedom used.
    level : float
        Confidence level of ``ci_low``/``ci_high``.
    """

    names: tuple[str, ...]
    m: int
    estimate: np.ndarray
    ubar: np.ndarray
    b: np.ndarray
    t: np.ndarray
    df: np.ndarray
    riv: np.ndarray
    lambda_: np.ndarray
    fmi: np.ndarray
    dfcom: float
    level: float = 0.95

    @property
    def se(self) -> np.ndarray:
        """√T."""
        return np.sqrt(self.t)

    @property
    def statistic(self) -> np.ndarray:
        """Q̄/√T."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.estimate / self.se

    @property
    def p(self) -> np.ndarray:
        """Two-sided p on Student's t with the Barnard–Rubin df (floored at 0.001, as mice)."""
        from scipy import stats

        return 2.0 * stats.t.sf(np.abs(self.statistic), np.maximum(self.df, 0.001))

    @property
    def ci_low(self) -> np.ndarray:
        from scipy import stats

        return self.estimate - stats.t.ppf(0.5 + self.level / 2.0, self.df) * self.se

    @property
    def ci_high(self) -> np.ndarray:
        from scipy import stats

        return self.estimate + stats.t.ppf(0.5 + self.level / 2.0, self.df) * self.se

    def to_frame(self) -> pd.DataFrame:
        """term, estimate, se, statistic, df, p, ci_low, ci_high, riv, lambda, fmi, ubar, b, t."""
        return pd.DataFrame({
            "term": list(self.names), "estimate": self.estimate, "se": self.se,
            "statistic": self.statistic, "df": self.df, "p": self.p, "ci_low": self.ci_low,
            "ci_high": self.ci_high, "riv": self.riv, "lambda": self.lambda_, "fmi": self.fmi,
            "ubar": self.ubar, "b": self.b, "t": self.t,
        })

    def to_dict(self) -> dict:
        return _clean({"m": self.m, "dfcom": self.dfcom, "level": self.level,
                       "terms": self.to_frame().to_dict(orient="records")})


def pool(
    estimates: np.ndarray,
    variances: np.ndarray,
    *,
    names: Sequence[str] | None = None,
    dfcom: float = np.inf,
    level: float = 0.95,
) -> Pooled:
    """Pool m sets of estimates by Rubin's rules (mice ``pool``, rule "rubin1987").

    Parameters
    ----------
    estimates : array_like, shape (m, k)
        Completed-data estimates, one row per imputation.
    variances : array_like, shape (m, k)
        Their squared standard errors (the covariance diagonals).
    names : sequence of str, optional
    dfcom : float, default inf
        Complete-data degrees of freedom (mice takes ``df.residual`` of a glm: n − p).
    level : float, default 0.95

    Returns
    -------
    Pooled
    """
    Q = np.atleast_2d(np.asarray(estimates, dtype=float))
    U = np.atleast_2d(np.asarray(variances, dtype=float))
    if Q.shape != U.shape:
        raise InputError(f"pool: estimates {Q.shape} and variances {U.shape} differ in shape")
    m, k = Q.shape
    if m < 2:
        raise InputError(f"pool: Rubin's rules need at least 2 imputations, got {m}")
    dfcom = max(float(dfcom), 1.0)
    qbar = Q.mean(axis=0)
    ubar = U.mean(axis=0)
    b = Q.var(axis=0, ddof=1)
    t = ubar + (1.0 + 1.0 / m) * b
    df = barnard_rubin(m, b, t, dfcom)
    with np.errstate(divide="ignore", invalid="ignore"):
        riv = (1.0 + 1.0 / m) * b / ubar
        lam = (1.0 + 1.0 / m) * b / t
    fmi = (riv + 2.0 / (df + 3.0)) / (riv + 1.0)
    nm = tuple(names) if names is not None else tuple(f"q{j}" for j in range(k))
    return Pooled(names=nm, m=m, estimate=qbar, ubar=ubar, b=b, t=t, df=df, riv=riv, lambda_=lam,
                  fmi=fmi, dfcom=dfcom, level=level)


def pool_scalar(q: Sequence[float], u: Sequence[float], *, n: float = np.inf, k: int = 1) -> Pooled:
    """One quantity (mice ``pool.scalar``: dfcom = n − k)."""
    return pool(np.asarray(q, dtype=float)[:, None], np.asarray(u, dtype=float)[:, None],
                names=("q",), dfcom=n - k)


def pool_logit(values: Sequence[float]) -> float:
    """Average of probability-scale indexes on the logit scale, back-transformed.

    The C statistic is pooled this way (Marshall et al. 2009; Debray et al. 2017): its sampling
    distribution is closer to normal on the logit scale.
    """
    v = np.clip(np.asarray(values, dtype=float), 1e-12, 1 - 1e-12)
    z = np.mean(np.log(v / (1 - v)))
    return float(1.0 / (1.0 + np.exp(-z)))


def d1_test(estimates: np.ndarray, covariances: np.ndarray) -> tuple[float, int, float, float]:
    """Multiparameter Wald test pooled over imputations: D1 of Li, Raghunathan and Rubin (1991).

    For the k coefficients of one variable (e.g. the dummies of a categorical predictor) tested
    against 0: r = (1 + 1/m)·tr(B·Ū⁻¹)/k, D1 = Q̄'Ū⁻¹Q̄/(k(1 + r)), referred to F(k, ν) with
    ν = 4 + (t − 4)(1 + (1 − 2/t)/r)² for t = k(m − 1) > 4, else t(1 + 1/k)(1 + 1/r)²/2.
    (mice's ``D1`` calls mitml, which adds a complete-data df correction; not compared with R.)

    Returns
    -------
    (statistic, k, nu, p)
    """
    from scipy import stats

    Q = np.asarray(estimates, dtype=float)
    U = np.asarray(covariances, dtype=float)
    m, k = Q.shape
    qbar = Q.mean(axis=0)
    ubar = U.mean(axis=0)
    B = np.atleast_2d(np.cov(Q, rowvar=False, ddof=1))
    uinv = np.linalg.inv(ubar)
    r = (1.0 + 1.0 / m) * float(np.trace(B @ uinv)) / k
    d = float(qbar @ uinv @ qbar) / (k * (1.0 + r))
    t = k * (m - 1)
    if r <= 0:
        nu = np.inf
    elif t > 4:
        nu = 4.0 + (t - 4.0) * (1.0 + (1.0 - 2.0 / t) / r) ** 2
    else:
        nu = t * (1.0 + 1.0 / k) * (1.0 + 1.0 / r) ** 2 / 2.0
    p = float(stats.f.sf(d, k, nu)) if np.isfinite(nu) else float(stats.chi2.sf(d * k, k))
    return d, k, float(nu), p
