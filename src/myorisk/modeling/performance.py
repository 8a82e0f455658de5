"""Performance of frozen predicted probabilities: rms ``val.prob`` and the Hosmer–Lemeshow test.

Hand-written (see ``docs/hand-written.md``): no Python library reproduces rms 6.5's
``val.prob`` (its binned C, its ``lrm.fit`` stopping rule for the recalibration fit, Emax/E90/Eavg
from R's ``lowess`` + ``approx``) or ResourceSelection 0.3-6's ``hoslem.test`` (R's type-7
quantiles, ``cut(include.lowest=TRUE)``, d.f. from the groups actually formed).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.stats import chi2, norm

from myorisk._json import clean as _clean
from myorisk.errors import InputError
from myorisk.modeling._newton import newton_logistic
from myorisk.modeling.concordance import concordance, concordance_rms65
from myorisk.modeling.smoothing import approx, lowess

if TYPE_CHECKING:  # pandas loads in the methods that build frames
    import pandas as pd

__all__ = [
    "HosmerLemeshow",
    "Performance",
    "hosmer_lemeshow",
    "spiegelhalter_z",
    "val_prob",
]

_SUPPORTED_RMS = ("6.5",)


# --------------------------------------------------------------------------- helpers ----------
def _labels(obj: Any, n: int) -> list[Any]:
    """Row labels for messages: the pandas index when there is one, else 1-based positions."""
    pd = sys.modules.get("pandas")  # a Series exists only once pandas is imported
    if pd is not None and isinstance(obj, (pd.Series, pd.DataFrame)):
        return list(obj.index)
    return list(range(1, n + 1))


def _check_inputs(prob: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate predicted probabilities and a 0/1 outcome; return float arrays."""
    try:
        p = np.asarray(prob, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise InputError(f"prob: not numeric ({exc})") from None
    try:
        yy = np.asarray(y, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise InputError(f"y: outcome not numeric 0/1 ({exc})") from None
    if p.size != yy.size:
        raise InputError(f"prob and y: lengths differ ({p.size} vs {yy.size})")
    lab_p = _labels(prob, p.size)
    lab_y = _labels(y, yy.size)
    bad = np.flatnonzero(np.isnan(p))
    if bad.size:
        raise InputError(f"prob: row {lab_p[bad[0]]}: NaN is not a probability")
    bad = np.flatnonzero(np.isnan(yy))
    if bad.size:
        raise InputError(f"y: row {lab_y[bad[0]]}: NaN is not an outcome (must be 0 or 1)")
    bad = np.flatnonzero((p < 0.0) | (p > 1.0))
    if bad.size:
        raise InputError(f"prob: row {lab_p[bad[0]]}: {p[bad[0]]!r} outside [0, 1]")
    bad = np.flatnonzero((yy != 0.0) & (yy != 1.0))
    if bad.size:
        raise InputError(f"y: row {lab_y[bad[0]]}: {yy[bad[0]]!r} is not 0 or 1")
    return p, yy


def _one_minus_pchisq(x: float, df: float) -> float:
    """R's ``1 - pchisq(x, df)`` as rms and ResourceSelection write it (df = 0: point mass)."""
    if np.isnan(x):
        return float("nan")
    if df == 0:  # point mass at 0: pchisq(x, 0) = 1 for every x >= 0
        return 0.0
    return float(1.0 - chi2.cdf(x, df))


def _quantile7(x: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """R's ``quantile(x, probs, type = 7)``, with R's own arithmetic (not numpy's lerp)."""
    xs = np.sort(x)
    n = xs.size
    probs = np.clip(np.asarray(probs, dtype=float), 0.0, 1.0)
    index = 1.0 + max(n - 1, 0) * probs
    lo = np.floor(index).astype(np.int64)
    hi = np.ceil(index).astype(np.int64)
    qs = xs[lo - 1].copy()
    xhi = xs[hi - 1]
    i = (index > lo) & (xhi != qs)
    h = (index - lo)[i]
    qs[i] = (1.0 - h) * qs[i] + h * xhi[i]
    return qs


def _r_seq_by(g: float) -> np.ndarray:
    """R's ``seq(0, 1, 1/g)``."""
    by = 1.0 / g
    k = int(1.0 / by + 1e-10)
    return np.minimum(np.arange(k + 1) * by, 1.0)


def _qlogis(p: np.ndarray) -> np.ndarray:
    """R's ``qlogis``: log(p / (1 - p)), ±Inf at 0 and 1."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(p / (1.0 - p))


def _lprob(lp: np.ndarray) -> np.ndarray:
    """rms 6.5 Fortran ``lprob``: inverse logit with the linear predictor clamped to ±30."""
    return 1.0 / (1.0 + np.exp(-np.clip(lp, -30.0, 30.0)))


def _llogit(beta: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """rms 6.5 ``LLOGIT`` for one covariate: −2 log L, score and information."""
    prob = _lprob(beta[0] + beta[1] * x)
    ll = float(np.sum(np.where(y == 1.0, np.log(prob), np.log(1.0 - prob))))
    c = np.vstack([np.ones_like(x), x])
    u = c @ (y - prob)
    v = (c * (prob * (1.0 - prob))) @ c.T
    return -2.0 * ll, u, v


@dataclass(frozen=True)
class _Lrm65:
    coef: np.ndarray
    deviance: float
    converged: bool


def _lrm_fit65(x: np.ndarray, y: np.ndarray, maxit: int = 12, dlike: float = 0.025) -> _Lrm65:
    """rms 6.5 ``lrm.fit(x, y)`` for one covariate: its Newton loop and stopping rule.

    rms 6.5 stops when −2 log L changes by at most ``eps = 0.025`` and then takes one more Newton
    step, so its estimates differ from the exact MLE in the ~8th digit; reproduced here.
    """
    ybar = float(np.mean(y))
    beta = np.array([np.log(ybar / (1.0 - ybar)), 0.0])
    oldl = 1e30
    deltab = np.zeros(2)
    curstp = 1.0
    ll = np.nan
    for it in range(1, maxit):
        ll, u, v = _llogit(beta, x, y)
        if np.max(np.abs(u)) < 1e-9 and abs(ll - oldl) < 0.1 * dlike:
            break
        if ll > oldl:
            if it == 1:  # pragma: no cover - cannot happen from the intercept-only start
                return _Lrm65(beta, ll, False)
            curstp /= 2.0
            beta = beta - curstp * deltab
            continue
        curstp = 1.0
        deltab = np.linalg.solve(v, u)
        beta = beta + deltab
        if abs(oldl - ll) <= dlike:
            break
        oldl = ll
    else:
        return _Lrm65(beta, float(ll), False)
    ll, _, _ = _llogit(beta, x, y)
    return _Lrm65(beta, ll, True)


def spiegelhalter_z(prob: Any, y: Any) -> tuple[float, float]:
    """Spiegelhalter's calibration z test.

    Parameters
    ----------
    prob : array_like of shape (n,)
        Predicted probabilities in [0, 1].
    y : array_like of shape (n,)
        Outcome coded 0/1.

    Returns
    -------
    z : float
        Σ(y − p)(1 − 2p) / √Σ(1 − 2p)²·p(1 − p).
    p_value : float
        Two-sided, 2·Φ(−|z|).

    Raises
    ------
    InputError
        Lengths differ, NaN, outcome not 0/1 or probabilities outside [0, 1].

    Notes
    -----
    Matches the internal ``Spi`` function of rms ``val.prob`` (``S:z``, ``S:p``).
    """
    p, yy = _check_inputs(prob, y)
    return _spi(p, yy)


def _spi(p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    with np.errstate(divide="ignore", invalid="ignore"):
        z = float(np.sum((y - p) * (1.0 - 2.0 * p))
                  / np.sqrt(np.sum((1.0 - 2.0 * p) * (1.0 - 2.0 * p) * p * (1.0 - p))))
    return z, float(2.0 * norm.cdf(-abs(z)))


def _none_if_nan(v: Any) -> Any:
    return _clean(v)


# --------------------------------------------------------------------------- Hosmer–Lemeshow --
@dataclass(frozen=True, eq=False)
class HosmerLemeshow:
    """Hosmer–Lemeshow goodness-of-fit test (ResourceSelection 0.3-6 ``hoslem.test``).

    Attributes
    ----------
    chi2 : float
        Σ over the 2·G cells of (observed − expected)² / expected. NaN when a group formed by
        the breaks is empty (expected 0), as in R.
    df : int
        Groups formed − 2.
    p : float
        ``1 - pchisq(chi2, df)``.
    groups : int
        Number of non-empty groups actually formed.
    g : int
        Number of groups asked for.
    lower, upper : ndarray
        Bounds of each group: (lower, upper], the first group also includes its lower bound.
    n, observed_0, observed_1, expected_0, expected_1 : ndarray
        Per-group size, observed non-events and events, expected non-events Σ(1 − p) and
        events Σp.
    warnings : tuple of str
        Warnings R would print (fewer groups than asked).
    """

    chi2: float
    df: int
    p: float
    groups: int
    g: int
    lower: np.ndarray = field(repr=False)
    upper: np.ndarray = field(repr=False)
    n: np.ndarray = field(repr=False)
    observed_0: np.ndarray = field(repr=False)
    observed_1: np.ndarray = field(repr=False)
    expected_0: np.ndarray = field(repr=False)
    expected_1: np.ndarray = field(repr=False)
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """Per-group table: group, lower, upper, n, observed_0/1, expected_0/1."""
        import pandas as pd

        return pd.DataFrame(
            {
                "group": np.arange(1, self.lower.size + 1),
                "lower": self.lower,
                "upper": self.upper,
                "n": self.n,
                "observed_0": self.observed_0,
                "observed_1": self.observed_1,
                "expected_0": self.expected_0,
                "expected_1": self.expected_1,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: chi2, df, p, groups, g, warnings and the per-group table."""
        table = [
            {k: _none_if_nan(v) for k, v in row.items()}
            for row in self.to_frame().to_dict(orient="records")
        ]
        return {
            "chi2": _none_if_nan(self.chi2),
            "df": int(self.df),
            "p": _none_if_nan(self.p),
            "groups": int(self.groups),
            "g": int(self.g),
            "warnings": list(self.warnings),
            "table": table,
        }


def hosmer_lemeshow(y: Any, prob: Any, g: int = 10) -> HosmerLemeshow:
    """Hosmer–Lemeshow test with quantile groups of the predicted probabilities.

    Parameters
    ----------
    y : array_like of shape (n,)
        Outcome coded 0/1.
    prob : array_like of shape (n,)
        Predicted probabilities in [0, 1].
    g : int, default=10
        Number of groups asked for.

    Returns
    -------
    HosmerLemeshow

    Raises
    ------
    InputError
        Bad inputs, ``g < 2``, or fewer than 2 groups can be formed.

    Notes
    -----
    Reproduces ResourceSelection 0.3-6 ``hoslem.test(x = y, y = prob, g)``: breaks =
    ``unique(quantile(prob, seq(0, 1, 1/g)))`` with R's default type-7 quantile (R's formula,
    including the exact ``seq`` values), groups by ``cut(prob, breaks, include.lowest = TRUE)``
    (right-closed), d.f. = non-empty groups − 2. Where R warns "The data did not allow for the
    requested number of bins" (groups < g) the warning is recorded in ``warnings``; where R stops
    (groups < 2) this raises. For frozen external predictions some authors refer the statistic to
    χ² with G d.f.; ``hoslem.test`` always uses G − 2, and so does this function.
    """
    p, yy = _check_inputs(prob, y)
    if not np.isfinite(g) or g < 2 or int(g) != g:
        raise InputError(f"hosmer_lemeshow: g = {g!r}; the number of groups must be an integer >= 2")
    g = int(g)
    if p.size == 0:
        raise InputError("hosmer_lemeshow: no observations")
    qq = _quantile7(p, _r_seq_by(g))
    breaks = np.sort(np.array(list(dict.fromkeys(qq.tolist())), dtype=float))
    if breaks.size < 2:
        raise InputError(
            "hosmer_lemeshow: all predicted probabilities are equal; at least 2 groups are needed"
        )
    nb = breaks.size - 1
    code = np.searchsorted(breaks, p, side="left")  # (b[k-1], b[k]] -> k
    code[code == 0] = 1  # include.lowest
    idx = code - 1
    n = np.bincount(idx, minlength=nb)
    o1 = np.bincount(idx, weights=yy, minlength=nb)
    o0 = np.bincount(idx, weights=1.0 - yy, minlength=nb)
    e1 = np.bincount(idx, weights=p, minlength=nb)
    e0 = np.bincount(idx, weights=1.0 - p, minlength=nb)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = float(np.sum((o0 - e0) ** 2 / e0) + np.sum((o1 - e1) ** 2 / e1))
    groups = int(np.count_nonzero(n))
    if groups < 2:
        raise InputError(
            f"hosmer_lemeshow: the predicted probabilities form {groups} group; at least 2 are needed"
        )
    warns: tuple[str, ...] = ()
    if groups < g:
        warns = (
            "The data did not allow for the requested number of bins "
            f"({groups} groups formed, {g} asked for).",
        )
    df = groups - 2
    return HosmerLemeshow(
        chi2=stat,
        df=df,
        p=_one_minus_pchisq(stat, df),
        groups=groups,
        g=g,
        lower=breaks[:-1].copy(),
        upper=breaks[1:].copy(),
        n=n,
        observed_0=o0,
        observed_1=o1,
        expected_0=e0,
        expected_1=e1,
        warnings=warns,
    )


# --------------------------------------------------------------------------- val.prob ---------
# (attribute, R name in val.prob's output, description)
_STATS: Sequence[tuple[str, str | None, str]] = (
    ("n", None, "observations"),
    ("events", None, "observations with y = 1"),
    ("n_logistic", "Obs", "observations in the logistic calibration (p strictly in (0, 1))"),
    ("dxy", None, "Somers' Dxy, exact"),
    ("dxy_rms65", "Dxy", "Somers' Dxy as rms 6.5 prints it (binned)"),
    ("c", None, "C (ROC area), exact"),
    ("c_rms65", "C (ROC)", "C as rms 6.5 prints it (binned)"),
    ("r2", "R2", "Nagelkerke R2 of the predictions as they are"),
    ("d", "D", "discrimination index"),
    ("d_chi2", "D:Chi-sq", "likelihood ratio of the fixed predictions"),
    ("d_p", "D:p", "P of D:Chi-sq (NA in rms 6.5)"),
    ("u", "U", "unreliability index"),
    ("u_chi2", "U:Chi-sq", "LR test of intercept 0 and slope 1"),
    ("u_p", "U:p", "P of U:Chi-sq"),
    ("q", "Q", "quality index D - U"),
    ("brier", "Brier", "Brier score"),
    ("intercept", "Intercept", "intercept of the logistic recalibration"),
    ("slope", "Slope", "slope of the logistic recalibration"),
    ("citl", None, "calibration-in-the-large (offset model, slope fixed at 1)"),
    ("emax", "Emax", "max |p - lowess calibration curve|"),
    ("e90", "E90", "0.9 quantile of |p - lowess calibration curve|"),
    ("eavg", "Eavg", "mean |p - lowess calibration curve|"),
    ("spiegelhalter_z", "S:z", "Spiegelhalter z"),
    ("spiegelhalter_p", "S:p", "two-sided P of Spiegelhalter z"),
)


@dataclass(frozen=True)
class Performance:
    """Validation statistics of frozen predicted probabilities (rms ``val.prob``).

    Attributes
    ----------
    n : int
        Observations.
    events : int
        Observations with y = 1.
    n_logistic : int
        Observations used in the logistic calibration (p of exactly 0 or 1 are dropped).
    dxy, c : float
        Exact Somers' Dxy and C (ROC area) on those observations (Hmisc ``somers2``, rms ≥ 6.9).
    dxy_rms65, c_rms65 : float
        The values rms 6.5 prints: probabilities binned into cells of width 0.0002.
    r2 : float
        Nagelkerke R² of the predictions as they are (intercept 0, slope 1).
    d, d_chi2, d_p : float
        Discrimination index (LR − 1)/n, the LR χ², and its P (NaN: rms 6.5 prints NA).
    u, u_chi2, u_p : float
        Unreliability index (U:χ² − 2)/n, the 2-d.f. LR test of intercept 0 and slope 1, its P.
    q : float
        Quality index D − U.
    brier : float
        mean((p − y)²) over all observations.
    intercept, slope : float
        Joint logistic recalibration ``logit P(y=1) = a + b·logit(p)`` fitted as rms 6.5
        ``lrm.fit`` does (its stopping rule, so agreeing with R in every printed digit).
    citl : float
        Calibration-in-the-large: intercept of ``glm(y ~ 1, offset = logit(p), binomial)``,
        i.e. with the slope fixed at 1. ``val.prob`` does not compute or print it; its
        ``Intercept`` is the joint recalibration intercept, which is not calibration-in-the-large.
    emax, e90, eavg : float
        Max, 0.9 quantile and mean of |p − smooth(p)|, the smooth being R
        ``approx(lowess(p, y, iter = 0), xout = p, ties = mean)``.
    spiegelhalter_z, spiegelhalter_p : float
        Spiegelhalter's z and its two-sided P.
    hosmer_lemeshow : HosmerLemeshow or None
        Hosmer–Lemeshow test with 10 groups (None when fewer than 2 groups can be formed).
    rms_version : str
        The rms behaviour reproduced.
    warnings : tuple of str
        Warnings R would print (predictions of exactly 0 or 1 dropped, ...).
    """

    n: int
    events: int
    n_logistic: int
    dxy: float
    dxy_rms65: float
    c: float
    c_rms65: float
    r2: float
    d: float
    d_chi2: float
    d_p: float
    u: float
    u_chi2: float
    u_p: float
    q: float
    brier: float
    intercept: float
    slope: float
    citl: float
    emax: float
    e90: float
    eavg: float
    spiegelhalter_z: float
    spiegelhalter_p: float
    hosmer_lemeshow: HosmerLemeshow | None = None
    rms_version: str = "6.5"
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per statistic: ``statistic``, ``r_name`` (val.prob's label), ``value``,
        ``description``; the Hosmer–Lemeshow χ², d.f. and P are appended."""
        import pandas as pd

        rows = [
            {"statistic": a, "r_name": r, "value": float(getattr(self, a)), "description": d}
            for a, r, d in _STATS
        ]
        hl = self.hosmer_lemeshow
        for key, desc in (("chi2", "Hosmer-Lemeshow chi-square"), ("df", "Hosmer-Lemeshow d.f."),
                          ("p", "Hosmer-Lemeshow P")):
            rows.append(
                {
                    "statistic": f"hosmer_lemeshow_{key}",
                    "r_name": None,
                    "value": float(getattr(hl, key)) if hl is not None else np.nan,
                    "description": desc,
                }
            )
        return pd.DataFrame(rows, columns=["statistic", "r_name", "value", "description"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (NaN -> None). Contains the ``evaluate --json`` keys
        ``c, brier, intercept, slope, citl, emax, e90, eavg, hosmer_lemeshow{chi2, df, p}``."""
        out: dict[str, Any] = {a: _none_if_nan(getattr(self, a)) for a, _, _ in _STATS}
        for a in ("n", "events", "n_logistic"):
            out[a] = int(getattr(self, a))
        hl = self.hosmer_lemeshow
        out["hosmer_lemeshow"] = (
            hl.to_dict() if hl is not None else {"chi2": None, "df": None, "p": None}
        )
        out["rms_version"] = self.rms_version
        out["warnings"] = list(self.warnings)
        return out


def val_prob(prob: Any, y: Any, *, rms_version: str = "6.5") -> Performance:
    """Validate frozen predicted probabilities against observed 0/1 outcomes.

    Parameters
    ----------
    prob : array_like of shape (n,)
        Predicted probabilities in [0, 1] (e.g. a published model applied to a new cohort).
    y : array_like of shape (n,)
        Observed outcome coded 0/1.
    rms_version : {"6.5"}, default="6.5"
        rms behaviour to reproduce. Only 6.5 (binned C printed, D:p = NA, ``lrm.fit`` 6.5
        stopping rule) is implemented; the exact C is always given as ``c``.

    Returns
    -------
    Performance

    Raises
    ------
    InputError
        Lengths differ, NaN, outcome not 0/1, probabilities outside [0, 1], fewer than 3
        observations, an outcome with a single value, or an unsupported ``rms_version``.

    Notes
    -----
    Reproduces rms 6.5 ``val.prob(p, y, pl = FALSE)``:

    - ``f.fixed = lrm.fit(logit, y, initial = c(0, 1), maxit = 1)`` evaluates the predictions
      as they are: Dxy and C (binned, 5001 cells), R2 (Nagelkerke), D:Chi-sq = its LR;
      D = (LR − 1)/n; D:p is NA because ``initial`` was given.
    - ``f.recal = lrm.fit(logit, y)`` gives Intercept and Slope; U:Chi-sq = L01 − its deviance
      with L01 = −2Σ[y·logit − log(1 + e^logit)] (NaN terms dropped, as ``na.rm = TRUE``),
      U:p on 2 d.f., U = (U:Chi-sq − 2)/n, Q = D − U.
    - Emax/E90/Eavg from ``lowess(p, y, iter = 0)`` and ``approx(..., ties = mean)``; E90 is
      R's type-7 quantile.
    - Probabilities of exactly 0 or 1 are dropped from the two logistic fits (so from n, C, R2,
      D, U, Intercept, Slope and ``citl``) with R's warning recorded in ``warnings``; Brier,
      Emax/E90/Eavg and Spiegelhalter use all observations.
    - Constant p: R's short cut (Dxy 0, C 0.5, R2 0, D = −1/n, D:p 1, U on 1 d.f., Intercept
      qlogis(mean(y)), Slope 0). rms 6.5 gives 19 values for 18 names there, shifting Emax..S:p;
      this function returns the intended values Emax = E90 = Eavg = |p − mean(y)|.

    ``citl`` is not part of ``val.prob``'s output; it equals
    ``coef(glm(y ~ 1, offset = qlogis(p), family = binomial))``. ``hosmer_lemeshow`` (10 groups,
    :func:`hosmer_lemeshow`) is not part of ``val.prob`` either; it is added for reports.
    """
    if rms_version not in _SUPPORTED_RMS:
        raise InputError(
            f"val_prob: rms_version {rms_version!r} is not supported (supported: "
            + ", ".join(_SUPPORTED_RMS) + ")"
        )
    p, yy = _check_inputs(prob, y)
    n_all = p.size
    if n_all < 3:
        raise InputError(f"val_prob: {n_all} observations; at least 3 are needed")
    events = int(yy.sum())
    if events in (0, n_all):
        raise InputError(
            f"y: all {n_all} outcomes are {int(yy[0])}; calibration needs both 0 and 1"
        )
    logit = _qlogis(p)
    warns: list[str] = []
    with np.errstate(over="ignore", invalid="ignore"):
        terms = yy * logit - np.log(1.0 + np.exp(logit))
    l01 = float(-2.0 * np.nansum(terms))
    s_z, s_p = _spi(p, yy)
    brier = float(np.mean((p - yy) ** 2))
    try:
        hl: HosmerLemeshow | None = hosmer_lemeshow(yy, p, 10)
    except InputError as exc:
        hl = None
        warns.append(f"Hosmer-Lemeshow test not computed: {exc}")

    if np.unique(p).size == 1:
        pbar = float(np.mean(yy))
        intc = float(np.log(pbar / (1.0 - pbar)))
        d = -1.0 / n_all
        with np.errstate(over="ignore", invalid="ignore"):
            lcal = float(-2.0 * np.nansum(yy * intc - np.log(1.0 + np.exp(intc))))
        u_chi2 = l01 - lcal
        u = (u_chi2 - 1.0) / n_all
        err = abs(float(p[0]) - pbar)
        citl = intc - float(logit[0]) if np.isfinite(logit[0]) else float("nan")
        warns.append("all predicted probabilities are equal: rms val.prob's short-cut statistics")
        return Performance(
            n=n_all, events=events, n_logistic=n_all, dxy=0.0, dxy_rms65=0.0, c=0.5, c_rms65=0.5,
            r2=0.0, d=d, d_chi2=0.0, d_p=1.0, u=u, u_chi2=u_chi2,
            u_p=_one_minus_pchisq(u_chi2, 1), q=d - u, brier=brier, intercept=intc, slope=0.0,
            citl=citl, emax=err, e90=err, eavg=err, spiegelhalter_z=s_z, spiegelhalter_p=s_p,
            hosmer_lemeshow=hl, rms_version=rms_version, warnings=tuple(warns),
        )

    fin = np.isfinite(logit)
    nm = int(np.sum(~fin))
    if nm > 0:
        warns.append(
            f"{nm} observations deleted from logistic calibration due to probs. of 0 or 1"
        )
    lg, yf = logit[fin], yy[fin]
    n = int(lg.size)
    n1 = float(yf.sum())
    if n < 3 or n1 in (0.0, float(n)):
        raise InputError(
            "val_prob: after dropping probabilities of exactly 0 or 1, fewer than 3 observations "
            "or a single outcome value remain"
        )
    # f.fixed: the predictions as they are (intercept 0, slope 1), one LLOGIT evaluation
    dev0 = float(-2.0 * ((n - n1) * np.log((n - n1) / n) + n1 * np.log(n1 / n)))
    dev_fixed, _, _ = _llogit(np.array([0.0, 1.0]), lg, yf)
    lr = dev0 - dev_fixed
    r2 = (1.0 - np.exp(-lr / n)) / (1.0 - np.exp(-dev0 / n))
    binned = concordance_rms65(_lprob(lg), yf)
    exact = concordance(p[fin], yf)
    # f.recal: joint logistic recalibration with rms 6.5's iteration
    recal = _lrm_fit65(lg, yf)
    if not recal.converged:
        warns.append("logistic recalibration (rms 6.5 lrm.fit) did not converge in 12 iterations")
    u_chi2 = l01 - recal.deviance
    d = (lr - 1.0) / n
    u = (u_chi2 - 2.0) / n
    # calibration-in-the-large: offset model, slope fixed at 1
    citl_fit = newton_logistic(np.ones((n, 1)), yf, offset=lg, tol=1e-13)
    # Emax / E90 / Eavg from lowess(iter = 0) + approx(ties = mean), on all observations
    sx, sy = lowess(p, yy, iter=0)
    cal_smooth = approx(sx, sy, p, ties="mean")
    er = np.abs(p - cal_smooth)
    return Performance(
        n=n_all,
        events=events,
        n_logistic=n,
        dxy=exact.dxy,
        dxy_rms65=binned.dxy,
        c=exact.c,
        c_rms65=binned.c,
        r2=float(r2),
        d=float(d),
        d_chi2=float(lr),
        d_p=float("nan"),
        u=float(u),
        u_chi2=float(u_chi2),
        u_p=_one_minus_pchisq(u_chi2, 2),
        q=float(d - u),
        brier=brier,
        intercept=float(recal.coef[0]),
        slope=float(recal.coef[1]),
        citl=float(citl_fit.beta[0]),
        emax=float(np.max(er)),
        e90=float(_quantile7(er, np.array([0.9]))[0]),
        eavg=float(np.mean(er)),
        spiegelhalter_z=s_z,
        spiegelhalter_p=s_p,
        hosmer_lemeshow=hl,
        rms_version=rms_version,
        warnings=tuple(warns),
    )
