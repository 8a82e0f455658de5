"""Choosing a penalty (rms ``pentrace``) and shrinking a fitted model's slopes.

* :func:`pentrace` fits the model at every penalty of a grid (0 always included, as rms adds it) and
  keeps the one with the largest corrected AIC on the χ² scale,
  ``LR − 2·df·(1 + (df + 1)/(n − df − 1))``, where LR is the ordinary likelihood-ratio χ² at the
  penalised estimates and df the effective degrees of freedom (rms' ``aic.c``); ``aic = LR − 2·df``
  and ``bic = LR − df·log n`` are reported too.
* :func:`shrink` multiplies every slope by one factor — the heuristic of van Houwelingen & le Cessie
  (1990), ``(LR − df)/LR``, or the bootstrap estimate of the calibration slope (Harrell 2015 §5.5;
  Steyerberg 2019 ch. 13), i.e. the optimism-corrected slope from :func:`myorisk.modeling.validation.validate` —
  and re-estimates the intercept with the shrunk linear predictor as an offset, so that the mean
  predicted risk equals the observed event rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from myorisk._json import clean as _clean
from myorisk.errors import InputError

__all__ = ["Pentrace", "pentrace", "shrink", "heuristic_shrinkage"]


@dataclass(frozen=True)
class Pentrace:
    """Result of :func:`pentrace`.

    Attributes
    ----------
    best : float
        Penalty with the largest corrected AIC.
    penalties, df, aic, bic, aic_c : tuple of float
        One entry per penalty tried, in order.
    n : int
        Rows used.
    """

    best: float
    penalties: tuple[float, ...]
    df: tuple[float, ...]
    aic: tuple[float, ...]
    bic: tuple[float, ...]
    aic_c: tuple[float, ...]
    n: int

    def to_frame(self) -> pd.DataFrame:
        """One row per penalty: penalty, df, aic, bic, aic_c."""
        return pd.DataFrame({"penalty": self.penalties, "df": self.df, "aic": self.aic,
                             "bic": self.bic, "aic_c": self.aic_c})

    def to_dict(self) -> dict:
        """JSON-ready: ``{best, n, rows: [{penalty, df, aic, bic, aic_c}]}``."""
        return _clean({"best": self.best, "n": self.n,
                       "rows": self.to_frame().to_dict(orient="records")})


def pentrace(design, penalties: Sequence[float]) -> Pentrace:  # noqa: ANN001 - Design
    """Fit at each penalty and pick the one maximising the corrected AIC (rms ``pentrace``).

    Parameters
    ----------
    design : Design
        From :func:`myorisk.modeling.design.build_design`.
    penalties : sequence of float
        Penalties ≥ 0 to try; 0 (the unpenalised fit) is always added first, as rms does.

    Returns
    -------
    Pentrace
    """
    from myorisk.modeling.logistic import fit_design

    grid = [float(v) for v in penalties]
    if not grid or any(not np.isfinite(v) or v < 0 for v in grid):
        raise InputError("--penalties: give numbers ≥ 0, e.g. 0,0.5,1,2,4,8")
    grid = [0.0] + [v for v in grid if v > 0]
    n = int(design.y.size)
    dfs, aics, bics, aiccs = [], [], [], []
    for lam in grid:
        fit = fit_design(design, penalty=lam, check=lam == 0.0)
        df = float(fit.effective_df) if fit.effective_df is not None else float(fit.lr_df)
        lr = fit.lr_chi2
        dfs.append(df)
        aics.append(lr - 2.0 * df)
        bics.append(lr - df * np.log(n))
        aiccs.append(lr - 2.0 * df * (1.0 + (df + 1.0) / (n - df - 1.0)))
    best = grid[int(np.argmax(aiccs))]
    return Pentrace(best=best, penalties=tuple(grid), df=tuple(dfs), aic=tuple(aics),
                    bic=tuple(bics), aic_c=tuple(aiccs), n=n)


def heuristic_shrinkage(fit) -> float:  # noqa: ANN001 - LogisticFit
    """van Houwelingen & le Cessie's shrinkage factor (LR χ² − df)/LR χ² of a fit."""
    lr = float(fit.lr_chi2)
    df = float(fit.effective_df if fit.effective_df is not None else fit.lr_df)
    if lr <= 0:
        raise InputError("the model's likelihood-ratio χ² is 0: no shrinkage factor can be estimated")
    return (lr - df) / lr


def shrink(fit, factor: float, method: str):  # noqa: ANN001, ANN201 - LogisticFit in and out
    """Shrink every slope of ``fit`` by ``factor`` and re-estimate the intercept.

    The intercept is the maximum-likelihood intercept given the offset ``factor × (Xβ − β0)``,
    so the mean predicted risk stays equal to the observed event rate. Standard errors and
    confidence limits of the slopes are scaled by the same factor (a fixed constant); the
    model statistics (C, Brier, R²…) are recomputed from the shrunk predictions.

    Parameters
    ----------
    fit : LogisticFit
    factor : float
        Uniform shrinkage factor, usually in (0, 1].
    method : str
        How it was obtained ("heuristic", "bootstrap" or "given"), stored with the fit.

    Returns
    -------
    LogisticFit
    """
    from scipy.special import expit

    from myorisk.modeling._newton import newton_logistic
    from myorisk.modeling.concordance import concordance, concordance_rms65
    from myorisk.modeling.logistic import gini_md

    if not np.isfinite(factor) or factor <= 0:
        raise InputError(f"a shrinkage factor must be a positive number, not {factor:.4g}")
    beta = np.asarray(fit.coefficients, dtype=float)
    y = np.asarray(fit.y, dtype=float)
    slopes_lp = fit.linear_predictor - beta[0]
    off = factor * slopes_lp
    core = newton_logistic(np.ones((y.size, 1)), y, offset=off, maxit=100)
    b0 = float(core.beta[0])
    new = np.concatenate([[b0], factor * beta[1:]])
    lp = b0 + off
    prob = expit(lp)
    scale = np.concatenate([[1.0], np.full(beta.size - 1, factor)])
    cov = np.asarray(fit.cov) * np.outer(scale, scale)
    from myorisk.modeling._newton import loglik_logistic

    ll = loglik_logistic(lp, y)
    n = y.size
    lr = 2.0 * (ll - fit.loglik_null)
    r2 = (1.0 - np.exp(-lr / n)) / (1.0 - np.exp(2.0 * fit.loglik_null / n))
    conc, conc65 = concordance(prob, y), concordance_rms65(prob, y)
    lo = np.concatenate([[np.nan], factor * np.asarray(fit.ci_low)[1:]])
    hi = np.concatenate([[np.nan], factor * np.asarray(fit.ci_high)[1:]])
    note = (f"slopes shrunk by a factor {factor:.3f} ({method}); intercept re-estimated so that the mean "
            "predicted risk equals the observed event rate; SEs and CIs of the slopes are scaled by the "
            "same factor")
    return replace(
        fit, coefficients=new, cov=cov, ci_low=lo, ci_high=hi, loglik=float(ll), lr_chi2=float(lr),
        r2_nagelkerke=float(r2), c=conc.c, dxy=conc.dxy, c_rms65=conc65.c, dxy_rms65=conc65.dxy,
        brier=float(np.mean((prob - y) ** 2)), g=gini_md(lp), gp=gini_md(prob), linear_predictor=lp,
        aic=float(-2.0 * ll + 2.0 * beta.size), warnings=(*fit.warnings, note),
        shrinkage={"method": method, "factor": float(factor)},
    )
