"""Random-effects meta-analysis of prediction-model performance across centres.

Two parts, both independent of any disease, file or database:

* :func:`random_effects` — the univariate random-effects model of metafor 3.8
  ``rma(yi, vi, method = "REML", test = "knha")`` with ``predict()``: REML τ² by metafor's Fisher
  scoring (same start, step rule, threshold and ``ll0check``), Hartung–Knapp(–Sidik–Jonkman)
  standard error and t-based confidence interval, the 95% prediction interval, Cochran's Q, I² and
  H², and the probability that the measure in a new centre lies in an acceptable range, from the
  predictive t distribution with k − 1 degrees of freedom (Riley et al. 2011; Debray et al. 2017).
* :func:`site_performance` — the aggregate numbers one centre shares about a fixed model from its
  outcomes ``y`` and predicted risks ``p``: O/E with the SE of log(O/E), calibration-in-the-large,
  calibration slope, C with DeLong SE and on the logit scale, Brier, net benefit with its
  components, a binned calibration table on a fixed grid and the case mix. Counts below a small-cell
  limit are never stored in the result.

References
----------
Debray TPA et al. A guide to systematic review and meta-analysis of prediction model performance.
BMJ 2017;356:i6460. — Snell KIE et al. Meta-analysis of prediction model performance across
multiple studies: which scale helps ensure between-study normality for the C-statistic and
calibration measures? Stat Methods Med Res 2018;27:3505–22. — Riley RD et al. Interpretation of
random effects meta-analyses. BMJ 2011;342:d549. — Viechtbauer W. Conducting meta-analyses in R
with the metafor package. J Stat Softw 2010;36(3).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from myorisk._json import clean
from myorisk.errors import InputError

__all__ = [
    "MetaAnalysis",
    "SitePerformance",
    "random_effects",
    "site_performance",
    "CALIBRATION_GRID",
]

#: Fixed grid of predicted risk for the binned calibration table (edges).
CALIBRATION_GRID: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)

_TRANSFORMS = {"identity", "logit", "log"}


def _back(x: float, transform: str) -> float:
    if not math.isfinite(x):
        return x
    if transform == "logit":
        return float(1.0 / (1.0 + math.exp(-x)))
    if transform == "log":
        return float(math.exp(x))
    return float(x)


def _forward(x: float, transform: str) -> float:
    if transform == "logit":
        if not 0.0 < x < 1.0:
            raise InputError(f"a threshold on the logit scale must lie in (0, 1), not {x}")
        return math.log(x / (1.0 - x))
    if transform == "log":
        if x <= 0.0:
            raise InputError(f"a threshold on the log scale must be positive, not {x}")
        return math.log(x)
    return float(x)


# --------------------------------------------------------------------------------------------
# random-effects meta-analysis (metafor rma.uni, REML, knha; predict.rma)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MetaAnalysis:
    """Random-effects meta-analysis of one measure (metafor ``rma(method="REML", test="knha")``).

    Every field is on the analysis scale (``transform`` says which: ``"logit"`` for C,
    ``"log"`` for O/E, ``"identity"`` for slopes and intercepts) unless its name ends in
    ``_natural``; :meth:`to_dict` reports the natural scale.

    Attributes
    ----------
    measure : str
        Name of the measure (``"c"``, ``"oe"``, ``"slope"``, ``"citl"`` or any label).
    transform : {"identity", "logit", "log"}
        Scale on which the estimates were pooled.
    labels : tuple of str
        Study (centre) labels.
    yi, vi : numpy.ndarray
        Per-study estimates and sampling variances on the analysis scale.
    k : int
        Number of studies.
    estimate, se : float
        Pooled mean μ̂ and its Knapp–Hartung standard error.
    low, high : float
        Confidence interval μ̂ ± t_{k−1}·se.
    pi_low, pi_high : float
        Prediction interval μ̂ ± t_{k−1}·√(se² + τ²) (``predict.rma``, default ``pi.type``).
    tau2 : float
        REML between-study variance τ².
    i2, h2 : float
        I² (%) and H² as metafor: I² = 100·τ²/(ṽ + τ²), H² = τ²/ṽ + 1 with the "typical"
        within-study variance ṽ = (k − 1)/tr(P).
    q, q_p : float
        Cochran's Q and its χ²_{k−1} P value.
    s2w : float
        Knapp–Hartung scale factor (weighted residual sum of squares / (k − 1)).
    df : int
        Degrees of freedom of the t distribution, k − 1.
    level : float
        Confidence level.
    iterations : int
        Fisher-scoring iterations used for τ².
    notes : tuple of str
        Remarks (τ² reset to 0 by metafor's ``ll0check``, k = 1, …).
    """

    measure: str
    transform: str
    labels: tuple[str, ...]
    yi: np.ndarray = field(repr=False)
    vi: np.ndarray = field(repr=False)
    k: int
    estimate: float
    se: float
    low: float
    high: float
    pi_low: float
    pi_high: float
    tau2: float
    i2: float
    h2: float
    q: float
    q_p: float
    s2w: float
    df: int
    level: float
    iterations: int
    notes: tuple[str, ...] = ()

    def predictive_probability(self, low: float | None = None, high: float | None = None) -> float:
        """Probability that the measure in a new study lies in (low, high) on the natural scale.

        From the predictive distribution μ̂ + √(se² + τ²)·t_{k−1} (the distribution that gives the
        prediction interval). ``None`` leaves a side open. NaN when k < 2.
        """
        from scipy.stats import t as tdist

        if self.df < 1:
            return math.nan
        scale = math.sqrt(self.se ** 2 + self.tau2)
        if scale == 0:
            return math.nan
        lo = -math.inf if low is None else _forward(low, self.transform)
        hi = math.inf if high is None else _forward(high, self.transform)
        if hi <= lo:
            raise InputError(f"{self.measure}: acceptable range ({low}, {high}) is empty")
        a = tdist.cdf((lo - self.estimate) / scale, self.df) if math.isfinite(lo) else 0.0
        b = tdist.cdf((hi - self.estimate) / scale, self.df) if math.isfinite(hi) else 1.0
        return float(b - a)

    def natural(self, x: float) -> float:
        """Back-transform a value from the analysis scale to the natural scale."""
        return _back(x, self.transform)

    def to_dict(self) -> dict[str, Any]:
        """Natural-scale estimate, CI and PI; τ², I², H², Q on the analysis scale."""
        b = self.natural
        return clean({
            "measure": self.measure,
            "scale": self.transform,
            "k": self.k,
            "estimate": b(self.estimate),
            "low": b(self.low),
            "high": b(self.high),
            "pi_low": b(self.pi_low),
            "pi_high": b(self.pi_high),
            "tau2": self.tau2,
            "tau": math.sqrt(self.tau2),
            "i2": self.i2,
            "h2": self.h2,
            "q": self.q,
            "q_p": self.q_p,
            "estimate_scaled": self.estimate,
            "se_scaled": self.se,
            "df": self.df,
            "level": self.level,
            "method": "REML, Hartung-Knapp-Sidik-Jonkman",
            "notes": list(self.notes),
        })

    def to_frame(self) -> pd.DataFrame:
        """One row per study and a ``pooled`` row (natural scale), with weights in %."""
        w = 1.0 / (self.vi + self.tau2)
        rows = []
        for lab, y, v, wi in zip(self.labels, self.yi, self.vi, w, strict=True):
            se = math.sqrt(v)
            rows.append({"study": lab, "estimate": self.natural(y),
                         "low": self.natural(y - 1.959963984540054 * se),
                         "high": self.natural(y + 1.959963984540054 * se),
                         "weight": 100.0 * wi / w.sum()})
        rows.append({"study": "pooled", "estimate": self.natural(self.estimate),
                     "low": self.natural(self.low), "high": self.natural(self.high),
                     "weight": 100.0})
        return pd.DataFrame(rows)


def _tcrit(level: float, df: int) -> float:
    from scipy.stats import t as tdist

    return float(tdist.ppf(1.0 - (1.0 - level) / 2.0, df))


def _reml_ll(yi: np.ndarray, vi: np.ndarray, tau2: float) -> float:
    w = 1.0 / (vi + tau2)
    mu = float(np.sum(w * yi) / np.sum(w))
    rss = float(np.sum(w * (yi - mu) ** 2))
    k = yi.size
    return (-0.5 * (k - 1) * math.log(2 * math.pi) - 0.5 * float(np.sum(np.log(vi + tau2)))
            - 0.5 * math.log(float(np.sum(w))) - 0.5 * rss)


def random_effects(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    *,
    labels: Sequence[str] | None = None,
    measure: str = "estimate",
    transform: str = "identity",
    level: float = 0.95,
    threshold: float = 1e-5,
    maxiter: int = 100,
) -> MetaAnalysis:
    """Random-effects meta-analysis, REML with the Hartung–Knapp–Sidik–Jonkman adjustment.

    Parameters
    ----------
    yi : array-like of float
        Per-study estimates on the analysis scale (logit C, log O/E, slope, …).
    vi : array-like of float
        Their sampling variances (squared standard errors), all positive.
    labels : sequence of str, optional
        Study labels (default ``"1"``, ``"2"``, …).
    measure : str
        Name carried into the result.
    transform : {"identity", "logit", "log"}
        Scale of ``yi``; used to report on the natural scale.
    level : float
        Confidence level of the CI and PI.
    threshold, maxiter : float, int
        Fisher-scoring convergence threshold on |Δτ²| and iteration limit (metafor's defaults).

    Returns
    -------
    MetaAnalysis

    Raises
    ------
    InputError
        Fewer than 2 studies, lengths differ, non-finite estimates or non-positive variances, or
        Fisher scoring not converging.

    Notes
    -----
    Follows metafor 3.8 ``rma.uni`` for an intercept-only model: τ² starts at the Hedges
    estimate max(0, (Σ(yᵢ − ȳ)² − (k − 1)/k·Σvᵢ)/(k − 1)); each step adds
    (y'PPy − tr P)/tr(PP), halved while it would make τ² negative, until |Δτ²| ≤ 10⁻⁵. If the
    restricted likelihood at τ² = 0 exceeds that at the solution by more than ε^¼, τ² is set to
    0 (metafor's ``ll0check``). The pooled variance is (Σwᵢ)⁻¹ multiplied by
    s²_w = Σwᵢ(yᵢ − μ̂)²/(k − 1), not truncated at 1 (``test = "knha"``, not ``"adhoc"``).
    """
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    if transform not in _TRANSFORMS:
        raise InputError(f"transform must be one of {sorted(_TRANSFORMS)}, not {transform!r}")
    if y.size != v.size:
        raise InputError(f"{measure}: {y.size} estimates but {v.size} variances")
    k = y.size
    labs = tuple(str(s) for s in labels) if labels is not None else tuple(str(i + 1) for i in range(k))
    if len(labs) != k:
        raise InputError(f"{measure}: {len(labs)} labels for {k} studies")
    bad = ~np.isfinite(y) | ~np.isfinite(v) | (v <= 0)
    if bad.any():
        which = ", ".join(labs[i] for i in np.flatnonzero(bad)[:5])
        raise InputError(f"{measure}: missing estimate or non-positive variance for {which}")
    if k < 2:
        raise InputError(f"{measure}: a meta-analysis needs at least 2 studies, got {k}")
    if not 0.0 < level < 1.0:
        raise InputError(f"level must be between 0 and 1, not {level}")
    notes: list[str] = []
    # Hedges start (metafor: (RSS − tr(PV))/(k − p) with P the unweighted projection)
    resid = y - y.mean()
    tau2 = max(0.0, (float(resid @ resid) - (k - 1) / k * float(v.sum())) / (k - 1))
    change, it, conv = threshold + 1.0, 0, True
    while change > threshold:
        it += 1
        old = tau2
        w = 1.0 / (v + tau2)
        sw = w.sum()
        # P = W − w wᵀ / Σw (intercept-only)
        P = np.diag(w) - np.outer(w, w) / sw
        Py = P @ y
        trP = float(np.trace(P))
        trPP = float(np.sum(P * P))
        adj = (float(Py @ Py) - trP) / trPP
        if not math.isfinite(adj):
            adj = 0.0
        while tau2 + adj < 0.0:
            adj /= 2.0
        tau2 = tau2 + adj
        change = abs(old - tau2)
        if it > maxiter:
            conv = False
            break
    if not conv:
        raise InputError(f"{measure}: REML Fisher scoring did not converge in {maxiter} iterations")
    if _reml_ll(y, v, 0.0) - _reml_ll(y, v, tau2) > np.finfo(float).eps ** 0.25 and tau2 > threshold:
        notes.append("Fisher scoring may have stopped at a local maximum; τ² set to 0 (as metafor)")
        tau2 = 0.0
    w = 1.0 / (v + tau2)
    sw = float(w.sum())
    mu = float(np.sum(w * y) / sw)
    rss = float(np.sum(w * (y - mu) ** 2))
    s2w = 0.0 if rss <= np.finfo(float).eps else rss / (k - 1)
    se = math.sqrt(s2w / sw)
    if s2w == 0.0 and tau2 == 0.0:
        notes.append("every centre has the same estimate, so the Hartung–Knapp–Sidik–Jonkman "
                     "interval has zero width (as metafor's); it is not certainty, and the probability of "
                     "acceptable performance in a new centre cannot be estimated")
    crit = _tcrit(level, k - 1)
    pi_half = crit * math.sqrt(se ** 2 + tau2)
    # heterogeneity (fixed-effect weights)
    w0 = 1.0 / v
    mu0 = float(np.sum(w0 * y) / w0.sum())
    q = max(0.0, float(np.sum(w0 * (y - mu0) ** 2)))
    from scipy.stats import chi2

    q_p = float(chi2.sf(q, k - 1))
    trP0 = float(w0.sum() - np.sum(w0 ** 2) / w0.sum())
    vt = (k - 1) / trP0
    i2 = 100.0 * tau2 / (vt + tau2)
    h2 = tau2 / vt + 1.0
    return MetaAnalysis(
        measure=measure, transform=transform, labels=labs, yi=y, vi=v, k=k, estimate=mu, se=se,
        low=mu - crit * se, high=mu + crit * se, pi_low=mu - pi_half, pi_high=mu + pi_half,
        tau2=float(tau2), i2=float(i2), h2=float(h2), q=q, q_p=q_p, s2w=float(s2w), df=k - 1,
        level=float(level), iterations=it, notes=tuple(notes),
    )


# --------------------------------------------------------------------------------------------
# per-site aggregates of a fixed model
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SitePerformance:
    """Aggregate performance of a fixed model in one centre; no patient-level values.

    Counts (events, non-events, net-benefit components, calibration bins) below ``min_cell``
    are stored as ``None``; the centre is refused altogether when its events or non-events are
    below ``min_cell`` (every other statistic would then reveal them).

    Attributes
    ----------
    n, events : int
        Patients and events.
    expected : float
        Σp, the expected number of events.
    oe, log_oe_se : float
        Observed/expected ratio and the SE of log(O/E), √((1 − O/n)/O) (Debray et al. 2017).
    citl, citl_se : float
        Calibration-in-the-large: intercept of ``glm(y ~ offset(lp), binomial)`` and its SE.
    slope, slope_se : float
        Calibration slope: coefficient of lp in ``glm(y ~ lp, binomial)`` and its SE.
    c, c_se : float
        C statistic (ROC area) and its DeLong SE (pROC ``var``).
    c_logit, c_se_logit : float
        logit(C) and its SE by the delta method, se/(C(1 − C)) (Snell et al. 2018).
    brier : float
        Mean squared error of the predicted risks.
    lp_mean, lp_sd : float
        Case mix: mean and SD of the linear predictor.
    thresholds : tuple of float
        Risk thresholds of the net-benefit rows.
    net_benefit : tuple of float
        TP/n − FP/n · t/(1 − t) at each threshold (positives: p ≥ t); None where the counts are
        suppressed (with n and the events known, it would reveal them).
    tp, fp : tuple of int or None
        True and false positives at each threshold; None where any of the four cells is below
        ``min_cell``.
    calibration : tuple of dict
        Per bin of ``grid``: ``low, high, n, observed, mean_predicted`` (observed proportion and
        mean predicted risk; every value None when the bin's n, events or non-events is below
        ``min_cell``).
    min_cell : int
        The small-cell limit applied.
    """

    n: int
    events: int
    expected: float
    oe: float
    log_oe_se: float
    citl: float
    citl_se: float
    slope: float
    slope_se: float
    c: float
    c_se: float
    c_logit: float
    c_se_logit: float
    brier: float
    lp_mean: float
    lp_sd: float
    thresholds: tuple[float, ...]
    net_benefit: tuple[float | None, ...]
    tp: tuple[int | None, ...]
    fp: tuple[int | None, ...]
    calibration: tuple[dict[str, Any], ...]
    min_cell: int

    def ci(self, measure: str, level: float = 0.95) -> tuple[float, float]:
        """Wald interval on the analysis scale, back-transformed (C: logit; O/E: log)."""
        from scipy.stats import norm

        z = float(norm.ppf(1 - (1 - level) / 2))
        if measure == "c":
            return _back(self.c_logit - z * self.c_se_logit, "logit"), _back(self.c_logit + z * self.c_se_logit, "logit")
        if measure == "oe":
            lo = math.log(self.oe)
            return math.exp(lo - z * self.log_oe_se), math.exp(lo + z * self.log_oe_se)
        if measure == "slope":
            return self.slope - z * self.slope_se, self.slope + z * self.slope_se
        if measure == "citl":
            return self.citl - z * self.citl_se, self.citl + z * self.citl_se
        raise InputError(f"unknown measure {measure!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary of every aggregate."""
        c_lo, c_hi = self.ci("c")
        oe_lo, oe_hi = self.ci("oe")
        s_lo, s_hi = self.ci("slope")
        i_lo, i_hi = self.ci("citl")
        return clean({
            "n": self.n, "events": self.events, "expected": self.expected,
            "c": self.c, "c_se": self.c_se, "c_logit": self.c_logit, "c_se_logit": self.c_se_logit,
            "c_low": c_lo, "c_high": c_hi,
            "oe": self.oe, "log_oe_se": self.log_oe_se, "oe_low": oe_lo, "oe_high": oe_hi,
            "citl": self.citl, "citl_se": self.citl_se, "citl_low": i_lo, "citl_high": i_hi,
            "slope": self.slope, "slope_se": self.slope_se, "slope_low": s_lo, "slope_high": s_hi,
            "brier": self.brier,
            "case_mix": {"lp_mean": self.lp_mean, "lp_sd": self.lp_sd},
            "net_benefit": [
                {"threshold": t, "net_benefit": nb, "tp": tp, "fp": fp}
                for t, nb, tp, fp in zip(self.thresholds, self.net_benefit, self.tp, self.fp, strict=True)
            ],
            "calibration": [dict(b) for b in self.calibration],
            "min_cell": self.min_cell,
        })

    def to_frame(self) -> pd.DataFrame:
        """One row per statistic (name, value)."""
        d = self.to_dict()
        rows = [(k, v) for k, v in d.items() if not isinstance(v, (dict, list))]
        return pd.DataFrame(rows, columns=["statistic", "value"])


def _small(count: int, min_cell: int) -> bool:
    return 0 < count < min_cell


def site_performance(
    y: Sequence[float] | np.ndarray,
    p: Sequence[float] | np.ndarray,
    *,
    lp: Sequence[float] | np.ndarray | None = None,
    thresholds: Sequence[float] = (0.1, 0.2, 0.3),
    grid: Sequence[float] = CALIBRATION_GRID,
    min_cell: int = 5,
    label: str = "site",
) -> SitePerformance:
    """Aggregate validation statistics of a fixed model in one centre.

    Parameters
    ----------
    y : array-like of 0/1
        Observed outcomes.
    p : array-like of float
        Predicted risks in (0, 1).
    lp : array-like of float, optional
        Linear predictor; ``logit(p)`` by default.
    thresholds : sequence of float
        Risk thresholds for net benefit, in (0, 1).
    grid : sequence of float
        Bin edges of predicted risk for the calibration table (fixed, so that centres agree).
    min_cell : int
        Small-cell limit: counts in 1…min_cell−1 are suppressed; 0 disables the rule.
    label : str
        Name used in error messages.

    Returns
    -------
    SitePerformance

    Raises
    ------
    InputError
        Lengths differ, outcome not 0/1, risks outside (0, 1), or events / non-events below
        ``min_cell`` (the aggregates would reveal them).

    Notes
    -----
    O/E, calibration-in-the-large and slope, C, their SEs and the logit transform follow Debray
    et al. (2017) and Snell et al. (2018); the logistic fits are R's ``glm`` (same estimates and
    Fisher-information SEs), C and its variance pROC's DeLong.
    """
    from myorisk.modeling._newton import newton_logistic
    from myorisk.modeling.decision import decision_curve
    from myorisk.modeling.roc import _delong_var, delong_placements

    yv = np.asarray(y, dtype=float).ravel()
    pv = np.asarray(p, dtype=float).ravel()
    if yv.size != pv.size:
        raise InputError(f"{label}: {yv.size} outcomes but {pv.size} predicted risks")
    if not np.isin(yv, (0.0, 1.0)).all():
        raise InputError(f"{label}: the outcome must be coded 0/1")
    if not (np.isfinite(pv).all() and (pv > 0).all() and (pv < 1).all()):
        raise InputError(f"{label}: predicted risks must lie strictly between 0 and 1")
    if min_cell < 0:
        raise InputError(f"min_cell must be 0 or more, not {min_cell}")
    lpv = np.log(pv / (1 - pv)) if lp is None else np.asarray(lp, dtype=float).ravel()
    if lpv.size != yv.size or not np.isfinite(lpv).all():
        raise InputError(f"{label}: linear predictor missing or of the wrong length")
    n = int(yv.size)
    o = int(yv.sum())
    if o == 0 or o == n:
        raise InputError(f"{label}: {'no events' if o == 0 else 'no non-events'} among {n} patients; "
                         "C and the calibration slope need both")
    if o < min_cell or n - o < min_cell:
        what = "events" if o < min_cell else "non-events"
        raise InputError(f"{label}: fewer than {min_cell} {what}; a summary would reveal a small cell "
                         "(lower --min-cell only if your governance allows it)")
    e = float(pv.sum())
    oe = o / e
    log_oe_se = math.sqrt((1.0 - o / n) / o)
    ones = np.ones(n)
    f_citl = newton_logistic(ones[:, None], yv, offset=lpv)
    f_slope = newton_logistic(np.column_stack([ones, lpv]), yv)
    theta, v10, v01 = delong_placements(pv[yv == 0], pv[yv == 1], "<")
    if theta in (0.0, 1.0) or not (f_slope.converged and f_citl.converged):
        raise InputError(f"{label}: the predicted risks separate events from non-events completely "
                         f"(C = {theta:g}); logit C and the calibration slope cannot be estimated")
    c_se = math.sqrt(_delong_var(theta, v10, v01))
    c_logit = math.log(theta / (1 - theta)) if 0 < theta < 1 else math.nan
    c_se_logit = c_se / (theta * (1 - theta)) if 0 < theta < 1 else math.nan
    thr = tuple(float(t) for t in thresholds)
    for t in thr:
        if not 0.0 < t < 1.0:
            raise InputError(f"net-benefit threshold {t} is not between 0 and 1")
    dc = decision_curve(yv, {"model": pv}, np.asarray(thr))
    nbs: list[float | None] = [float(v) for v in dc.net_benefit["model"]]
    tps, fps = [], []
    for i in range(len(thr)):
        tp = int(round(float(dc.tp_rate["model"][i]) * n))
        fp = int(round(float(dc.fp_rate["model"][i]) * n))
        fn, tn = o - tp, (n - o) - fp
        hide = any(_small(c, min_cell) for c in (tp, fp, fn, tn))
        tps.append(None if hide else tp)
        fps.append(None if hide else fp)
        if hide:  # with n and the events known, the net benefit would give the counts back
            nbs[i] = None
    edges = np.asarray(grid, dtype=float)
    if edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise InputError("the calibration grid must be increasing with at least two edges")
    cal = []
    for i in range(edges.size - 1):
        lo, hi = edges[i], edges[i + 1]
        inb = (pv >= lo) & ((pv < hi) if i < edges.size - 2 else (pv <= hi))
        nb_ = int(inb.sum())
        ev = int(yv[inb].sum())
        hide = any(_small(c, min_cell) for c in (nb_, ev, nb_ - ev))
        cal.append({
            "low": float(lo), "high": float(hi),
            "n": None if hide else nb_,
            "observed": None if (hide or nb_ == 0) else ev / nb_,
            "mean_predicted": None if (hide or nb_ == 0) else float(pv[inb].mean()),
        })
    return SitePerformance(
        n=n, events=o, expected=e, oe=oe, log_oe_se=log_oe_se,
        citl=float(f_citl.beta[0]), citl_se=float(math.sqrt(f_citl.cov[0, 0])),
        slope=float(f_slope.beta[1]), slope_se=float(math.sqrt(f_slope.cov[1, 1])),
        c=theta, c_se=c_se, c_logit=c_logit, c_se_logit=c_se_logit,
        brier=float(np.mean((pv - yv) ** 2)),
        lp_mean=float(lpv.mean()), lp_sd=float(lpv.std(ddof=1)) if n > 1 else math.nan,
        thresholds=thr, net_benefit=tuple(nbs), tp=tuple(tps), fp=tuple(fps),
        calibration=tuple(cal), min_cell=int(min_cell),
    )
