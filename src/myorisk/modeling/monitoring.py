"""Prospective monitoring of frozen risk predictions as outcomes accrue.

Everything here is computed from predicted probabilities ``p`` and observed 0/1 outcomes ``y``
(optionally in calendar order); the point estimates are :func:`myorisk.modeling.performance.val_prob`'s
and :func:`myorisk.modeling.roc.roc_curve`'s, so a monitoring report shows the same numbers as
``myorisk evaluate`` on the same patients. What monitoring adds:

- observed/expected ratio O/E with the CI of Debray et al. (BMJ 2017;356:i6460, Table 1):
  SE(ln O/E) = sqrt(1/O − 1/N);
- Wald CIs of calibration-in-the-large (``glm(y ~ 1, offset = qlogis(p))``) and of the calibration
  slope (``glm(y ~ qlogis(p))``), as R's ``confint.default``;
- the cumulative observed − expected curve in calendar order with its pointwise 95% band under a
  calibrated model (Var(O − E) = Σ p(1 − p)), and the two one-sided Bernoulli CUSUMs of Steiner
  et al. (Biostatistics 2000;1:441-452) for an odds ratio of 2 and 1/2;
- a plain-language verdict: calibration is flagged as off "beyond chance" when the 95% CI of O/E
  excludes 1, or that of the slope excludes 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from myorisk._json import clean
from myorisk.errors import InputError

__all__ = ["Interval", "MonitorResult", "monitor_predictions", "observed_expected"]


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval (and standard error where one exists)."""

    estimate: float
    low: float
    high: float
    se: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``{estimate, low, high, se}``."""
        return clean({"estimate": self.estimate, "low": self.low, "high": self.high, "se": self.se})


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2))


def observed_expected(prob: np.ndarray, y: np.ndarray, level: float = 0.95) -> Interval:
    """O/E = Σy / Σp with the CI exp(ln(O/E) ± z·sqrt(1/O − 1/N)) (Debray et al. 2017).

    With no events the ratio is 0 and its CI is undefined (NaN bounds).
    """
    p = np.asarray(prob, float)
    yy = np.asarray(y, float)
    o, e, n = float(yy.sum()), float(p.sum()), yy.size
    if n == 0 or e <= 0:
        return Interval(float("nan"), float("nan"), float("nan"))
    oe = o / e
    if o == 0 or o == n:
        return Interval(oe, float("nan"), float("nan"))
    se = float(np.sqrt(1.0 / o - 1.0 / n))
    z = _z(level)
    return Interval(oe, float(np.exp(np.log(oe) - z * se)), float(np.exp(np.log(oe) + z * se)), se)


@dataclass(frozen=True)
class MonitorResult:
    """Calibration and discrimination of frozen predictions on an accrued cohort.

    Attributes
    ----------
    n, events : int
        Patients with a prediction and an observed outcome; those with the outcome.
    expected : float
        Σ p.
    oe, citl, slope, c : Interval
        O/E; calibration-in-the-large; calibration slope; C (ROC area) with DeLong CI.
    intercept, brier : float
        Joint recalibration intercept and Brier score (``val.prob``).
    calibration_curve : tuple of dict
        ``{predicted, observed}`` on a grid: R ``lowess(p, y, iter = 0)`` as ``val.prob`` draws it.
    drift : pandas.DataFrame
        One row per patient in calendar order: ``time``, ``prob``, ``y``, ``cum_observed``,
        ``cum_expected``, ``cum_o_minus_e``, ``band`` (1.96·sqrt(Σp(1−p))), ``cusum_up``
        (odds ratio 2: under-prediction), ``cusum_down`` (odds ratio 1/2: over-prediction).
    alert : bool
        Calibration off beyond chance (O/E or slope CI excludes 1).
    message : str
        The verdict in plain language.
    level : float
    """

    n: int
    events: int
    expected: float
    oe: Interval
    citl: Interval
    slope: Interval
    c: Interval
    intercept: float
    brier: float
    calibration_curve: tuple
    groups: tuple
    drift: pd.DataFrame = field(repr=False)
    alert: bool
    message: str
    level: float = 0.95

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``{n, events, expected, oe, citl, slope, c, intercept, brier, alert, message,
        calibration_curve, drift}``."""
        d = self.drift
        return clean({
            "n": self.n, "events": self.events, "expected": self.expected,
            "oe": self.oe.to_dict(), "citl": self.citl.to_dict(), "slope": self.slope.to_dict(),
            "c": {**self.c.to_dict(), "method": "DeLong"},
            "intercept": self.intercept, "brier": self.brier, "level": self.level,
            "alert": self.alert, "message": self.message,
            "calibration_curve": list(self.calibration_curve), "groups": list(self.groups),
            "drift": [{"time": None if pd.isna(t) else str(t), "cum_o_minus_e": float(a),
                       "band": float(b), "cusum_up": float(u), "cusum_down": float(w)}
                      for t, a, b, u, w in zip(d["time"], d["cum_o_minus_e"], d["band"],
                                               d["cusum_up"], d["cusum_down"], strict=True)],
        })

    def to_frame(self) -> pd.DataFrame:
        """One row per statistic: ``statistic``, ``estimate``, ``low``, ``high``."""
        rows = [{"statistic": k, "estimate": getattr(self, k).estimate, "low": getattr(self, k).low,
                 "high": getattr(self, k).high} for k in ("oe", "citl", "slope", "c")]
        return pd.DataFrame(rows)


def _cusum(p: np.ndarray, y: np.ndarray, odds_ratio: float) -> np.ndarray:
    """Bernoulli log-likelihood-ratio CUSUM (Steiner et al. 2000) for odds ratio ``odds_ratio``."""
    w = y * np.log(odds_ratio) - np.log(1.0 - p + odds_ratio * p)
    out = np.empty_like(p)
    s = 0.0
    for i, wi in enumerate(w):
        s = max(0.0, s + wi)
        out[i] = s
    return out


def monitor_predictions(prob: Any, y: Any, times: Any = None, *, level: float = 0.95) -> MonitorResult:
    """Monitor frozen predicted risks against observed outcomes.

    Parameters
    ----------
    prob : array_like of shape (n,)
        Predicted probabilities in (0, 1).
    y : array_like of shape (n,)
        Observed outcomes coded 0/1.
    times : array_like of shape (n,), optional
        Calendar time of each prediction (dates or numbers); the drift curve follows this order
        (ties keep the input order). Default: the input order.
    level : float, default 0.95
        Confidence level of every interval.

    Returns
    -------
    MonitorResult

    Raises
    ------
    myorisk.errors.InputError
        Fewer than one event and one non-event, a probability outside (0, 1), or arrays of
        different lengths.
    """
    from myorisk.modeling._newton import newton_logistic
    from myorisk.modeling.performance import val_prob
    from myorisk.modeling.roc import roc_curve
    from myorisk.modeling.smoothing import approx, lowess

    p = np.asarray(prob, float)
    yy = np.asarray(y, float)
    if p.shape != yy.shape or p.ndim != 1:
        raise InputError("monitor: predictions and outcomes must be two vectors of the same length")
    if not np.all((p > 0) & (p < 1)):
        raise InputError("monitor: predicted probabilities must lie strictly between 0 and 1")
    if not np.all((yy == 0) | (yy == 1)):
        raise InputError("monitor: outcomes must be coded 0/1")
    n, events = yy.size, int(yy.sum())
    if events == 0 or events == n:
        raise InputError(f"monitor: {n} outcome(s) with {events} event(s): monitoring needs at "
                         "least one event and one non-event")
    perf = val_prob(p, yy)
    roc = roc_curve(yy, p, direction="<", level=level)
    z = _z(level)
    lg = np.log(p / (1 - p))
    citl_fit = newton_logistic(np.ones((n, 1)), yy, offset=lg, tol=1e-13)
    se_citl = float(np.sqrt(citl_fit.cov[0, 0]))
    citl = Interval(perf.citl, perf.citl - z * se_citl, perf.citl + z * se_citl, se_citl)
    if np.ptp(lg) > 0:
        slope_fit = newton_logistic(np.column_stack([np.ones(n), lg]), yy, tol=1e-13)
        se_slope = float(np.sqrt(slope_fit.cov[1, 1]))
        slope = Interval(perf.slope, perf.slope - z * se_slope, perf.slope + z * se_slope,
                         se_slope)
    else:  # one predicted risk for everybody: the slope is not estimable
        slope = Interval(float("nan"), float("nan"), float("nan"), None)
    oe = observed_expected(p, yy, level)
    c = Interval(roc.auc, roc.ci_low, roc.ci_high, roc.se if hasattr(roc, "se") else None)

    if np.ptp(p) > 0:
        xs, ys = lowess(p, yy, iter=0)
        grid = np.linspace(float(p.min()), float(p.max()), 50)
        curve = tuple({"predicted": float(g), "observed": float(o)}
                      for g, o in zip(grid, approx(xs, ys, grid, ties="mean"), strict=True))
    else:  # one predicted risk for everybody: no curve to smooth (the risk group shows it)
        curve = ()

    k = int(min(10, max(2, n // 10)))
    edges = np.unique(np.quantile(p, np.linspace(0, 1, k + 1)))  # tied risks stay together
    k = max(1, edges.size - 1)
    gi = np.clip(np.searchsorted(edges[1:-1], p, side="right"), 0, k - 1)
    groups = tuple({"n": int((gi == g).sum()), "predicted": float(p[gi == g].mean()),
                    "observed": float(yy[gi == g].mean())} for g in range(k) if (gi == g).any())

    order = np.arange(n) if times is None else np.argsort(
        pd.Series(list(times)).to_numpy(), kind="stable")
    po, yo = p[order], yy[order]
    tt = (pd.Series(np.arange(1, n + 1)) if times is None
          else pd.Series(list(times)).iloc[order].reset_index(drop=True))
    cum_o, cum_e = np.cumsum(yo), np.cumsum(po)
    drift = pd.DataFrame({
        "time": tt, "prob": po, "y": yo, "cum_observed": cum_o, "cum_expected": cum_e,
        "cum_o_minus_e": cum_o - cum_e, "band": z * np.sqrt(np.cumsum(po * (1 - po))),
        "cusum_up": _cusum(po, yo, 2.0), "cusum_down": _cusum(po, yo, 0.5),
    })

    pct = f"{int(round(level * 100))}%"
    problems = []
    if np.isfinite(oe.low) and oe.low > 1:
        problems.append(f"more events than predicted (O/E {oe.estimate:.2f}, {pct} CI "
                        f"{oe.low:.2f}–{oe.high:.2f}): the model under-estimates risk")
    elif np.isfinite(oe.high) and oe.high < 1:
        problems.append(f"fewer events than predicted (O/E {oe.estimate:.2f}, {pct} CI "
                        f"{oe.low:.2f}–{oe.high:.2f}): the model over-estimates risk")
    if not np.isfinite(slope.estimate):
        pass
    elif slope.high < 1:
        problems.append(f"calibration slope {slope.estimate:.2f} ({pct} CI {slope.low:.2f}–"
                        f"{slope.high:.2f}) is below 1: predictions are too extreme")
    elif slope.low > 1:
        problems.append(f"calibration slope {slope.estimate:.2f} ({pct} CI {slope.low:.2f}–"
                        f"{slope.high:.2f}) is above 1: predictions are too moderate")
    outside = np.flatnonzero(np.abs(drift["cum_o_minus_e"].to_numpy())
                             > drift["band"].to_numpy())
    if problems:
        message = ("Calibration is off beyond chance: " + "; ".join(problems)
                   + ". Review the model before relying on its risks for these patients.")
    else:
        slope_text = (f"slope {slope.estimate:.2f}, {slope.low:.2f}–{slope.high:.2f}"
                      if np.isfinite(slope.estimate)
                      else "slope not estimable: one predicted risk for everybody")
        message = (f"No evidence of miscalibration beyond chance in {n} patients with {events} "
                   f"events (O/E {oe.estimate:.2f}, {pct} CI {oe.low:.2f}–{oe.high:.2f}; "
                   f"{slope_text}). With few patients "
                   "the intervals are wide: absence of an alert is not proof of calibration.")
    if outside.size:
        message += (f" The cumulative observed − expected left its pointwise {pct} band at "
                    f"{outside.size} of {n} points (first at number {int(outside[0]) + 1}); a "
                    "pointwise band is crossed by chance in long series, so watch whether the "
                    "curve keeps drifting.")
    return MonitorResult(n=n, events=events, expected=float(p.sum()), oe=oe, citl=citl, slope=slope,
                         c=c, intercept=float(perf.intercept), brier=float(perf.brier),
                         calibration_curve=curve, groups=groups, drift=drift, alert=bool(problems),
                         message=message, level=level)
