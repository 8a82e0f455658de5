"""Bootstrap bias-corrected calibration curves, as R rms 6.5 ``calibrate`` (``calibrate.default``).

For a grid of 50 predicted risks (from the 5th smallest to the 5th largest prediction), the
apparent curve is ``lowess(p̂, y, iter=0)`` interpolated at the grid; each bootstrap resample
gives the same curve on its own data (training) and on the original data with its coefficients
frozen (test); the bias-corrected curve is apparent − (mean training − mean test). The summary
errors compare every original prediction with the corrected curve (``print.calibrate``).
The resamples and refits are shared with :mod:`myorisk.modeling.validation`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from myorisk.errors import InputError
from myorisk.modeling._compiled import kernels as _kernels
from myorisk.modeling._special import expit
from myorisk.modeling.design import Design
from myorisk.modeling.smoothing import approx
from myorisk.modeling.validation import (
    Progress,
    SelectionSpec,
    Validation,
    _apparent,
    _check_common,
    _clean,
    _problem,
    _run,
    _validation_result,
)

if TYPE_CHECKING:  # pandas loads in the methods that build frames
    import pandas as pd

__all__ = [
    "Calibration",
    "CalibrationCurve",
    "calibrate",
    "calibration_curve",
    "validate_and_calibrate",
    "default_grid",
    "FLEXIBLE_MIN_EVENTS",
]

#: Events and non-events a flexible (loess) calibration curve needs (Van Calster et al. 2016).
FLEXIBLE_MIN_EVENTS = 200


def default_grid(predicted: np.ndarray) -> np.ndarray:
    """rms's grid: 50 equally spaced risks from the 5th smallest to the 5th largest prediction."""
    p = np.sort(np.asarray(predicted, dtype=float))
    n = p.size
    if n < 11:
        raise InputError(f"calibrate: needs more than 10 patients, got {n}")
    return np.linspace(p[4], p[n - 5], 50)


def _interp_rows(xs: np.ndarray, ys: np.ndarray, predy: np.ndarray) -> np.ndarray:
    """``approx(x, y, xout=predy, ties=first)`` per row of sorted ``xs`` (rule 1: NaN outside).

    Tied x carry equal smoothed values (lowess copies them), so any tie rule gives the same.
    """
    return _kernels.interp_rows(
        np.ascontiguousarray(xs, dtype=float), np.ascontiguousarray(ys, dtype=float),
        np.ascontiguousarray(predy, dtype=float).ravel(),
    )


_NO_COUNTS = np.zeros((0, 0), dtype=np.int64)


def _cal_rows(
    xs: np.ndarray, ys: np.ndarray, predy: np.ndarray, counts: np.ndarray | None = None
) -> np.ndarray:
    """rms ``cal.error``: lowess calibration curve at ``predy`` minus ``predy`` (rows sorted).

    With ``counts`` (same shape as ``xs``), point ``j`` of row ``r`` enters ``counts[r, j]``
    times: the bootstrap resample itself, duplicates included.
    """
    return _kernels.cal_rows(
        np.ascontiguousarray(xs, dtype=float), np.ascontiguousarray(ys, dtype=float),
        _NO_COUNTS if counts is None else np.ascontiguousarray(counts, dtype=np.int64),
        np.ascontiguousarray(predy, dtype=float).ravel(), 2.0 / 3.0,
    )


@dataclass(frozen=True)
class Calibration:
    """Bootstrap bias-corrected calibration curve (rms ``calibrate``, method "boot").

    Attributes
    ----------
    B : int
        Resamples drawn.
    seconds : float
        Time spent in the bootstrap.
    predicted : ndarray
        Grid of predicted risks (``predy``).
    apparent : ndarray
        Apparent lowess calibration curve at the grid (``calibrated.orig``).
    corrected : ndarray
        Bias-corrected curve (``calibrated.corrected``).
    optimism : ndarray
        Mean training − mean test (cal − predy) per grid point.
    n : ndarray
        Replicates used per grid point (fewer where a resample's curve does not reach).
    mean_abs_error, mean_sq_error, e90 : float
        Mean |error|, mean squared error and 0.9 quantile of |error| of the original
        predictions against the corrected curve (rms ``print.calibrate``).
    n_predictions : int
        Number of predictions behind those errors (rms prints ``n=``).
    n_failed : int
        Resamples whose fit failed and were skipped.
    failure_policy : str
        See :class:`myorisk.modeling.validation.Validation`.
    predictions, y : ndarray
        The original model's predicted risks and the outcomes, per patient (what a calibration
        figure shows as a histogram and ticks); not in ``to_dict`` (row-level).
    """

    B: int
    seconds: float
    predicted: np.ndarray
    apparent: np.ndarray
    corrected: np.ndarray
    optimism: np.ndarray
    n: np.ndarray
    mean_abs_error: float
    mean_sq_error: float
    e90: float
    n_predictions: int
    n_failed: int
    failure_policy: str
    predictions: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    y: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    def to_columns(self) -> dict:
        """The columns of :meth:`to_frame`, as arrays (no pandas needed)."""
        return {
            "predicted": self.predicted, "apparent": self.apparent,
            "corrected": self.corrected, "optimism": self.optimism, "n": self.n,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per grid point: predicted, apparent, corrected, optimism, n."""
        import pandas as pd

        return pd.DataFrame(self.to_columns())

    def to_dict(self) -> dict:
        """The ``myorisk calibrate --json`` contract plus ``n`` per grid point."""
        return _clean(
            {
                "B": self.B,
                "seconds": self.seconds,
                "mean_abs_error": self.mean_abs_error,
                "mean_sq_error": self.mean_sq_error,
                "e90": self.e90,
                "curve": [
                    {"predicted": p, "apparent": a, "corrected": c, "n": int(k)}
                    for p, a, c, k in zip(
                        self.predicted, self.apparent, self.corrected, self.n, strict=True
                    )
                ],
                "n_predictions": self.n_predictions,
                "n_failed": self.n_failed,
                "failure_policy": self.failure_policy,
                "rms_version": "6.5",
            }
        )


def _calibration_result(acc, info, predy, seconds, policy) -> Calibration:
    app = info["apparent"]
    predicted = expit(app["lp"])
    o = np.argsort(predicted, kind="stable")
    orig = _cal_rows(predicted[o][None], info["y"][o][None], predy)[0] + predy
    k = predy.size
    tr = np.concatenate(acc.cal_train) if acc.cal_train else np.zeros((0, k))
    te = np.concatenate(acc.cal_test) if acc.cal_test else np.zeros((0, k))
    na = np.isnan(tr) | np.isnan(te)
    num = (~na).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        opt = (np.where(na, 0, tr).sum(axis=0) - np.where(na, 0, te).sum(axis=0)) / num
    corrected = orig - opt
    s = ~np.isnan(predy + corrected)
    if s.sum() >= 2:
        err = predicted - approx(predy[s], corrected[s], predicted, ties="mean")
    else:
        err = np.full(predicted.size, np.nan)
    ae = np.abs(err)
    fin = np.isfinite(ae)
    return Calibration(
        B=info["B"], seconds=seconds, predicted=predy, apparent=orig, corrected=corrected,
        optimism=opt, n=num, mean_abs_error=float(np.mean(ae[fin])) if fin.any() else np.nan,
        mean_sq_error=float(np.mean(err[fin] ** 2)) if fin.any() else np.nan,
        e90=float(np.quantile(ae[fin], 0.9)) if fin.any() else np.nan,
        n_predictions=int(err.size), n_failed=acc.n_fail, failure_policy=policy,
        predictions=predicted, y=np.asarray(info["y"]),
    )


def calibrate(
    design: Design | tuple[np.ndarray, np.ndarray],
    *,
    B: int = 1000,
    seed: int | None = None,
    resamples: np.ndarray | None = None,
    selection: SelectionSpec | None = None,
    failure_policy: str = "rms65",
    predy: np.ndarray | None = None,
    rms_version: str = "6.5",
    chunk_size: int | None = None,
    progress: Progress | None = None,
    executor: Any = None,
) -> Calibration:
    """Bootstrap bias-corrected calibration curve: rms 6.5 ``calibrate(fit, B=B)``.

    Parameters
    ----------
    design, B, seed, resamples, selection, failure_policy, rms_version, chunk_size, progress, executor
        As :func:`myorisk.modeling.validation.validate`.
    predy : array_like, optional
        Grid of predicted risks; default rms's 50 points between the 5th smallest and 5th
        largest prediction.

    Returns
    -------
    Calibration
    """
    cal, _ = _both(design, B=B, seed=seed, resamples=resamples, selection=selection,
                   failure_policy=failure_policy, predy=predy, rms_version=rms_version,
                   chunk_size=chunk_size, progress=progress, with_validate=False, executor=executor)
    return cal


def validate_and_calibrate(
    design: Design | tuple[np.ndarray, np.ndarray],
    *,
    B: int = 1000,
    seed: int | None = None,
    resamples: np.ndarray | None = None,
    selection: SelectionSpec | None = None,
    failure_policy: str = "rms65",
    predy: np.ndarray | None = None,
    auc: bool = False,
    rms_version: str = "6.5",
    chunk_size: int | None = None,
    progress: Progress | None = None,
    executor: Any = None,
) -> tuple[Validation, Calibration]:
    """:func:`validate` and :func:`calibrate` from one set of resamples and refits.

    Parameters are those of :func:`calibrate` (and ``auc`` of ``validate``). Both results
    report the same ``seconds`` (the shared bootstrap).
    """
    cal, val = _both(design, B=B, seed=seed, resamples=resamples, selection=selection,
                     failure_policy=failure_policy, predy=predy, rms_version=rms_version,
                     chunk_size=chunk_size, progress=progress, with_validate=True, auc=auc,
                     executor=executor)
    assert val is not None
    return val, cal


def _both(design, *, B, seed, resamples, selection, failure_policy, predy, rms_version,
          chunk_size, progress, with_validate, auc=False, executor=None):
    _check_common(B, failure_policy, rms_version)
    prob = _problem(design)
    t0 = time.perf_counter()
    if predy is None:
        grid = default_grid(expit(_apparent(prob, selection)[0]["lp"]))
    else:
        grid = np.asarray(predy, dtype=float).ravel()
        if grid.size < 2 or not np.all(np.isfinite(grid)):
            raise InputError("calibrate: predy must hold at least two finite risks")
    want = {"calibrate"} | ({"validate"} if with_validate else set()) | ({"auc"} if auc else set())
    t0 = time.perf_counter()
    acc, info = _run(
        prob, B=B, seed=seed, resamples=resamples, selection=selection, policy=failure_policy,
        chunk_size=chunk_size, progress=progress, want=want, predy=grid, executor=executor,
    )
    seconds = time.perf_counter() - t0
    info["y"] = prob.y
    cal = _calibration_result(acc, info, grid, seconds, failure_policy)
    val = (
        _validation_result(prob, acc, info, seconds, selection, failure_policy, auc)
        if with_validate else None
    )
    return cal, val


# ----------------------------------------------------------------------------- one set's curve
@dataclass(frozen=True)
class CalibrationCurve:
    """Calibration of fixed predictions in one data set, drawn without overclaiming.

    Three views of the same predictions: a flexible curve (R ``lowess(p, y, iter = 0)``, as rms
    ``val.prob``) with a pointwise bootstrap band; grouped observed proportions with exact
    (Clopper–Pearson, R ``binom.test``) CIs; and the logistic recalibration line
    ``logit P(y) = a + b·logit(p)`` (calibration slope ``b``) with a Wald band, plus the
    calibration-in-the-large intercept (``glm(y ~ 1, offset = logit(p))``).
    A flexible curve needs many events (Van Calster et al. 2016 suggest at least 200 events and
    200 non-events); with fewer, ``flexible`` is False and figures show the grouped points and
    the logistic line instead.

    Attributes
    ----------
    n, events : int
    flexible : bool
        ``min(events, non-events) >= min_events``.
    min_events : int
    grid : ndarray
        Predicted risks at which the curves are evaluated (50 points, lowest to highest).
    observed : ndarray
        The lowess curve at ``grid`` (may leave [0, 1] at the ends, as lowess does).
    low, high : ndarray
        Pointwise bootstrap percentile band of the lowess curve (NaN where fewer than half of
        the resamples reach the grid point).
    B : int
        Bootstrap resamples behind the band.
    logistic, logistic_low, logistic_high : ndarray
        Recalibration line at ``grid`` with its pointwise Wald band.
    intercept, intercept_low, intercept_high : float
        Calibration-in-the-large (0 is ideal) with Wald CI.
    slope, slope_low, slope_high : float
        Calibration slope (1 is ideal) with Wald CI.
    groups : DataFrame
        ``group, n, events, predicted`` (mean), ``observed`` (proportion), ``low, high``.
    level : float
    note : str
        Why the flexible curve is not shown, when it is not.
    """

    n: int
    events: int
    flexible: bool
    min_events: int
    grid: np.ndarray = field(repr=False)
    observed: np.ndarray = field(repr=False)
    low: np.ndarray = field(repr=False)
    high: np.ndarray = field(repr=False)
    B: int
    logistic: np.ndarray = field(repr=False)
    logistic_low: np.ndarray = field(repr=False)
    logistic_high: np.ndarray = field(repr=False)
    intercept: float
    intercept_low: float
    intercept_high: float
    slope: float
    slope_low: float
    slope_high: float
    groups: pd.DataFrame = field(repr=False)
    level: float = 0.95
    note: str = ""

    def to_frame(self) -> pd.DataFrame:
        """One row per grid point: predicted, lowess with band, logistic line with band."""
        import pandas as pd

        return pd.DataFrame({
            "predicted": self.grid, "lowess": self.observed, "lowess_low": self.low,
            "lowess_high": self.high, "logistic": self.logistic,
            "logistic_low": self.logistic_low, "logistic_high": self.logistic_high,
        })

    def to_dict(self) -> dict:
        """JSON-ready."""
        return _clean({
            "n": self.n, "events": self.events, "flexible": self.flexible,
            "min_events": self.min_events, "B": self.B, "level": self.level,
            "intercept": self.intercept, "intercept_low": self.intercept_low,
            "intercept_high": self.intercept_high, "slope": self.slope,
            "slope_low": self.slope_low, "slope_high": self.slope_high, "note": self.note,
            "groups": self.groups.to_dict(orient="records"),
            "curve": self.to_frame().to_dict(orient="records"),
        })


def _clopper_pearson(k: np.ndarray, n: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact binomial CI (R ``binom.test``)."""
    from scipy.stats import beta

    a = (1.0 - level) / 2.0
    with np.errstate(invalid="ignore"):
        lo = np.where(k > 0, beta.ppf(a, k, n - k + 1), 0.0)
        hi = np.where(k < n, beta.ppf(1 - a, k + 1, n - k), 1.0)
    return lo, hi


def _quantile_groups(p: np.ndarray, g: int) -> np.ndarray:
    """0-based group of each prediction: R ``cut(p, unique(quantile(p, 0:g/g)), include.lowest)``."""
    from myorisk.modeling.performance import _quantile7, _r_seq_by

    qq = _quantile7(p, _r_seq_by(g))
    breaks = np.sort(np.array(list(dict.fromkeys(qq.tolist())), dtype=float))
    if breaks.size < 2:
        return np.zeros(p.size, dtype=np.int64)
    code = np.searchsorted(breaks, p, side="left")
    code[code == 0] = 1
    idx = code - 1
    # renumber the non-empty groups 0..k-1
    _, inv = np.unique(idx, return_inverse=True)
    return inv


def calibration_curve(
    prob: np.ndarray,
    y: np.ndarray,
    *,
    B: int = 200,
    seed: int | None = 20240501,
    resamples: np.ndarray | None = None,
    groups: int | None = None,
    min_events: int = FLEXIBLE_MIN_EVENTS,
    level: float = 0.95,
    grid: np.ndarray | None = None,
) -> CalibrationCurve:
    """Calibration of fixed predictions in one set: lowess with bootstrap band, grouped and logistic.

    Parameters
    ----------
    prob : array_like of shape (n,)
        Predicted risks (strictly between 0 and 1).
    y : array_like of shape (n,)
        Outcomes coded 0/1.
    B : int, default=200
        Bootstrap resamples for the pointwise band (ignored with ``resamples``).
    seed : int, optional
        Seed of ``numpy.random.default_rng`` for the resamples.
    resamples : ndarray of int, shape (B, n), optional
        0-based resamples to use instead (replay an R run with
        :func:`myorisk.modeling.validation.normalize_resamples`).
    groups : int, optional
        Number of quantile groups; default ``n // 20`` bounded to 3..10.
    min_events : int, default=200
        Events and non-events a flexible curve needs (Van Calster et al. 2016).
    level : float, default=0.95
    grid : array_like, optional
        Risks at which the curves are evaluated; default 50 points from the lowest to the
        highest prediction.

    Returns
    -------
    CalibrationCurve

    Raises
    ------
    InputError
        Fewer than 3 patients, a single outcome value, or risks outside (0, 1).
    """
    import pandas as pd
    from scipy.stats import norm

    from myorisk.modeling._newton import newton_logistic

    p = np.asarray(prob, dtype=float).ravel()
    yy = np.asarray(y, dtype=float).ravel()
    if p.size != yy.size:
        raise InputError(f"calibration_curve: {p.size} risks but {yy.size} outcomes")
    if p.size < 3:
        raise InputError(f"calibration_curve: needs at least 3 patients, got {p.size}")
    if not np.all(np.isin(yy, (0.0, 1.0))):
        raise InputError("calibration_curve: the outcome must be coded 0/1")
    if yy.min() == yy.max():
        raise InputError("calibration_curve: the outcome takes a single value")
    if not np.all((p > 0) & (p < 1)):
        raise InputError("calibration_curve: predicted risks must lie strictly between 0 and 1")
    n = p.size
    events = int(yy.sum())
    z = float(norm.ppf(0.5 + level / 2.0))
    g = np.linspace(p.min(), p.max(), 50) if grid is None else np.asarray(grid, float).ravel()
    o = np.argsort(p, kind="stable")
    xs, ys = p[o], yy[o]
    observed = _cal_rows(xs[None], ys[None], g)[0] + g
    # pointwise bootstrap band
    if resamples is not None:
        from myorisk.modeling.validation import normalize_resamples

        idx = normalize_resamples(resamples, n, base=0)
    else:
        if B < 1:
            raise InputError(f"calibration_curve: B must be at least 1, not {B}")
        idx = np.random.default_rng(seed).integers(0, n, size=(B, n))
    nb = idx.shape[0]
    rank = np.empty(n, dtype=np.int64)
    rank[o] = np.arange(n)
    counts = np.zeros((nb, n), dtype=np.int64)
    np.add.at(counts, (np.repeat(np.arange(nb), n), rank[idx].ravel()), 1)
    boot = _cal_rows(np.broadcast_to(xs, (nb, n)), np.broadcast_to(ys, (nb, n)), g, counts) + g
    a = (1.0 - level) / 2.0
    enough = np.sum(np.isfinite(boot), axis=0) >= nb / 2
    with np.errstate(invalid="ignore"), _quiet_nan():
        low = np.where(enough, np.nanquantile(boot, a, axis=0), np.nan)
        high = np.where(enough, np.nanquantile(boot, 1 - a, axis=0), np.nan)
    # logistic recalibration: intercept (offset) and slope
    lg = np.log(p / (1 - p))
    one = np.ones((n, 1))
    citl = newton_logistic(one, yy, offset=lg)
    ci = float(citl.beta[0])
    cse = float(np.sqrt(citl.cov[0, 0]))
    X = np.column_stack([np.ones(n), lg])
    rc = newton_logistic(X, yy)
    sb = float(rc.beta[1])
    sse = float(np.sqrt(rc.cov[1, 1]))
    G = np.column_stack([np.ones(g.size), np.log(g / (1 - g))])
    eta = G @ rc.beta
    se = np.sqrt(np.einsum("ij,jk,ik->i", G, rc.cov, G))
    # grouped
    k = groups if groups is not None else int(min(10, max(3, n // 20)))
    grp = _quantile_groups(p, k)
    ng = np.bincount(grp).astype(np.int64)
    eg = np.bincount(grp, weights=yy).round().astype(np.int64)
    pg = np.bincount(grp, weights=p) / ng
    lo_g, hi_g = _clopper_pearson(eg, ng, level)
    gframe = pd.DataFrame({"group": np.arange(1, ng.size + 1), "n": ng, "events": eg,
                           "predicted": pg, "observed": eg / ng, "low": lo_g, "high": hi_g})
    smaller = min(events, n - events)
    flexible = smaller >= min_events
    note = "" if flexible else (
        f"{smaller} {'events' if events <= n - events else 'non-events'}: too few for a flexible "
        f"calibration curve (at least {min_events} events and {min_events} non-events, Van Calster "
        "et al. 2016); grouped proportions and the logistic recalibration line are shown instead")
    return CalibrationCurve(
        n=n, events=events, flexible=bool(flexible), min_events=int(min_events), grid=g,
        observed=observed, low=low, high=high, B=int(nb), logistic=expit(eta),
        logistic_low=expit(eta - z * se), logistic_high=expit(eta + z * se),
        intercept=ci, intercept_low=ci - z * cse, intercept_high=ci + z * cse,
        slope=sb, slope_low=sb - z * sse, slope_high=sb + z * sse, groups=gframe, level=level,
        note=note,
    )


class _quiet_nan:
    """Silence numpy's all-NaN-slice warning (columns no resample reaches are NaN by design)."""

    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)
        return self

    def __exit__(self, *exc):
        return self._w.__exit__(*exc)
