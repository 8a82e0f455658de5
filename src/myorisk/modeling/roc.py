"""ROC curves, AUC with DeLong variance, DeLong tests and optimal thresholds (R pROC 1.18).

Everything here reproduces R ``pROC`` 1.18 numerically:

* :func:`roc_curve` = ``roc(response, predictor, levels = c(0, 1), direction = ...)`` with
  ``auc``, ``var(method = "delong")`` and ``ci.auc(method = "delong")``;
* :func:`delong_test` = ``roc.test(roc1, roc2, method = "delong", paired = TRUE)``;
* :func:`delong_test_unpaired` = ``roc.test(roc1, roc2, method = "delong", paired = FALSE)``;
* :func:`best_threshold` = ``coords(roc, x = "best", best.method = ...)``.

Inputs are never cleaned silently: a missing or infinite score, a non-binary outcome or
mismatched lengths raise :class:`myorisk.errors.InputError`; the caller handles missing values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import norm
from scipy.stats import t as t_dist

from myorisk.errors import InputError

__all__ = [
    "BestThreshold",
    "RocResult",
    "RocTest",
    "RocTestUnpaired",
    "best_threshold",
    "delong_placements",
    "delong_test",
    "delong_test_unpaired",
    "roc_curve",
]

Direction = Literal["auto", "<", ">"]

_NOTE_SMALL = (
    "DeLong variance undefined: {what} has {k} subject(s) and needs at least 2 (pROC returns NA)"
)


# --------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------
def _label(x: Any, default: str) -> str:
    name = getattr(x, "name", None)
    return f"column '{name}'" if isinstance(name, str) and name else default


def _rows(x: Any, mask: np.ndarray, limit: int = 5) -> str:
    """Row identifiers of ``mask``: the pandas index when there is one, else 0-based positions."""
    pos = np.flatnonzero(mask)
    if isinstance(x, pd.Series | pd.Index):
        ids = [str(v) for v in np.asarray(x.index)[pos[:limit]]]
        word = "row" if pos.size == 1 else "rows"
    else:
        ids = [str(v) for v in pos[:limit]]
        word = "position (0-based)" if pos.size == 1 else "positions (0-based)"
    more = f" and {pos.size - limit} more" if pos.size > limit else ""
    return f"{word} {', '.join(ids)}{more}"


def _outcome(y: Any, name: str = "outcome") -> np.ndarray:
    """A 0/1 (or boolean) outcome as a boolean array (True = case)."""
    label = _label(y, name)
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise InputError(f"{label}: must be one-dimensional, got shape {arr.shape}")
    if arr.dtype == bool:
        return arr.copy()
    try:
        num = _to_float(arr)
    except (TypeError, ValueError):
        bad = np.array([not _is01(v) for v in arr])
        raise InputError(
            f"{label}: {_rows(y, bad)}: value {_show(arr[bad][0])} is not 0/1 "
            "(the outcome must be coded 1 = case, 0 = control)"
        ) from None
    miss = np.isnan(num)
    if miss.any():
        raise InputError(
            f"{label}: {int(miss.sum())} missing value(s) at {_rows(y, miss)}; remove or impute "
            "them before ROC analysis"
        )
    bad = (num != 0) & (num != 1)
    if bad.any():
        raise InputError(
            f"{label}: {_rows(y, bad)}: value {_show(arr[bad][0])} is not 0/1 "
            "(the outcome must be coded 1 = case, 0 = control)"
        )
    return num == 1


def _to_float(arr: np.ndarray) -> np.ndarray:
    """Float copy with every missing marker (None, NaN, pd.NA, NaT) as NaN."""
    if arr.dtype.kind in "fiub":
        return arr.astype(float)
    miss = np.asarray(pd.isna(arr), dtype=bool)
    out = np.full(arr.shape, np.nan)
    out[~miss] = arr[~miss].astype(float)
    return out


def _show(v: Any) -> str:
    """A value as the user typed it (numpy scalars shown as plain Python values)."""
    return repr(v.item() if isinstance(v, np.generic) else v)


def _is01(v: Any) -> bool:
    try:
        return float(v) in (0.0, 1.0)
    except (TypeError, ValueError):
        return False


def _score(x: Any, n: int, name: str = "score") -> np.ndarray:
    label = _label(x, name)
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise InputError(f"{label}: must be one-dimensional, got shape {arr.shape}")
    if arr.size != n:
        raise InputError(f"{label}: has {arr.size} values but the outcome has {n}; lengths differ")
    try:
        num = _to_float(arr)
    except (TypeError, ValueError):
        raise InputError(f"{label}: must be numeric") from None
    miss = np.isnan(num)
    if miss.any():
        raise InputError(
            f"{label}: {int(miss.sum())} missing value(s) at {_rows(x, miss)}; remove or impute "
            "them before ROC analysis (nothing is dropped silently)"
        )
    inf = np.isinf(num)
    if inf.any():
        raise InputError(
            f"{label}: {int(inf.sum())} infinite value(s) at {_rows(x, inf)}; a ROC curve needs "
            "finite scores"
        )
    return num


def _groups(yb: np.ndarray, label: str = "outcome") -> tuple[int, int]:
    m = int(yb.sum())
    n = int(yb.size - m)
    if m < 1 or n < 1:
        what = "cases (outcome = 1)" if m < 1 else "controls (outcome = 0)"
        raise InputError(
            f"{label}: no {what} among {yb.size} rows; the AUC is undefined without both groups"
        )
    return m, n


def _check_level(level: float) -> float:
    level = float(level)
    if not 0.0 < level < 1.0:
        raise InputError(f"level {level} must be strictly between 0 and 1")
    return level


def _check_direction(direction: str) -> str:
    if direction not in ("auto", "<", ">"):
        raise InputError(f"direction {direction!r} must be 'auto', '<' or '>'")
    return direction


# --------------------------------------------------------------------------------------------
# core computations
# --------------------------------------------------------------------------------------------
def _auto_direction(controls: np.ndarray, cases: np.ndarray) -> str:
    # pROC roc.default: "<" if median(controls) <= median(cases)
    return "<" if np.median(controls) <= np.median(cases) else ">"


def _thresholds(predictor: np.ndarray, direction: str) -> tuple[np.ndarray, np.ndarray]:
    """pROC ``roc.utils.thresholds``: midpoints of sorted unique values plus -Inf/+Inf.

    Returns the thresholds (ascending) and the sorted unique values.
    """
    uc = np.unique(predictor)
    lo = np.concatenate(([-np.inf], uc))
    hi = np.concatenate((uc, [np.inf]))
    with np.errstate(over="ignore", invalid="ignore"):
        t1 = (lo + hi) / 2.0
        t2 = lo / 2.0 + hi / 2.0
    thr = np.where(np.abs(t1) > 1e100, t2, t1)
    # floating-point near-ties: a midpoint that equals a data value is moved so that the
    # classification it stands for is kept (pROC's guard, same rule)
    ties = np.flatnonzero(np.isin(thr, predictor))
    for i in ties:
        lower, upper = uc[i - 1], uc[i]
        if direction == "<" and thr[i] == lower:
            thr[i] = upper
        elif direction == ">" and thr[i] == upper:
            thr[i] = lower
    return thr, uc


def _curve(
    controls: np.ndarray, cases: np.ndarray, direction: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thresholds, sensitivities and specificities in pROC's stored (sorted) order."""
    predictor = np.concatenate((controls, cases))
    thr, uc = _thresholds(predictor, direction)
    k = uc.size
    ncases, ncontrols = cases.size, controls.size
    cnt_case = np.bincount(np.searchsorted(uc, cases), minlength=k)
    cnt_ctrl = np.bincount(np.searchsorted(uc, controls), minlength=k)
    if direction == "<":
        # threshold j (ascending, j = 0..k) is positive for unique values with index >= j
        tp = np.concatenate((np.cumsum(cnt_case[::-1])[::-1], [0]))
        fp = np.concatenate((np.cumsum(cnt_ctrl[::-1])[::-1], [0]))
    else:
        # positive for values <= threshold: unique values with index < j
        tp = np.concatenate(([0], np.cumsum(cnt_case)))
        fp = np.concatenate(([0], np.cumsum(cnt_ctrl)))
    se = tp / ncases
    sp = (ncontrols - fp) / ncontrols
    # pROC sort.roc: reverse when specificities are not non-decreasing
    if np.any(np.diff(sp) < 0):
        thr, se, sp = thr[::-1].copy(), se[::-1].copy(), sp[::-1].copy()
    return thr, se, sp


def delong_placements(
    controls: np.ndarray, cases: np.ndarray, direction: str
) -> tuple[float, np.ndarray, np.ndarray]:
    """DeLong structural components (placement values) in O(N log N).

    Parameters
    ----------
    controls, cases : numpy.ndarray
        Scores of the controls and of the cases.
    direction : {"<", ">"}
        ``"<"``: cases have higher scores; ``">"``: scores are negated first.

    Returns
    -------
    theta : float
        The AUC (Mann–Whitney statistic, tied case–control pairs count ½).
    v10 : numpy.ndarray
        One per case: (#controls below + ½·#controls tied) / n_controls.
    v01 : numpy.ndarray
        One per control: (#cases above + ½·#cases tied) / n_cases.

    Notes
    -----
    Matches pROC ``delongPlacementsCpp`` (``X`` = ``v10``, ``Y`` = ``v01``, ``theta``), using
    binary searches in the sorted groups instead of pROC's single sorted pass.
    """
    x = np.asarray(cases, dtype=float)
    yv = np.asarray(controls, dtype=float)
    if direction == ">":
        x, yv = -x, -yv
    m, n = x.size, yv.size
    ys = np.sort(yv)
    xs = np.sort(x)
    below = np.searchsorted(ys, x, side="left")
    tied = np.searchsorted(ys, x, side="right") - below
    k10 = below + 0.5 * tied  # exact half-integers
    c_below = np.searchsorted(xs, yv, side="left")
    c_tied = np.searchsorted(xs, yv, side="right") - c_below
    k01 = (m - c_below - c_tied) + 0.5 * c_tied
    theta = float(k10.sum() / m / n)
    return theta, k10 / n, k01 / m


def _delong_var(theta: float, v10: np.ndarray, v01: np.ndarray) -> float:
    m, n = v10.size, v01.size
    sx = float(np.sum((v10 - theta) * (v10 - theta)) / (m - 1))
    sy = float(np.sum((v01 - theta) * (v01 - theta)) / (n - 1))
    return sx / m + sy / n


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------
def _f(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


@dataclass(frozen=True)
class RocResult:
    """Empirical ROC curve with its AUC and DeLong standard error.

    Attributes
    ----------
    auc : float
        Area under the curve (Mann–Whitney statistic; tied case–control pairs count ½).
    ci_low, ci_high : float
        Wald interval ``auc ± z·se`` clipped to [0, 1] (pROC ``ci.auc(method = "delong")``);
        NaN when a group has ≤ 1 subject (see ``note``).
    se : float
        DeLong standard error, ``sqrt(variance)``.
    variance : float
        DeLong variance ``S10/m + S01/n`` (pROC ``var(roc)``).
    direction : str
        ``"<"`` (controls < cases: positive if score ≥ threshold) or ``">"`` (positive if
        score ≤ threshold); the resolved value when ``"auto"`` was asked.
    n_cases, n_controls : int
        Group sizes (outcome 1 / outcome 0).
    level : float
        Confidence level of the interval.
    thresholds, sensitivities, specificities : numpy.ndarray
        Curve points in pROC's order (specificity non-decreasing; thresholds include ±Inf).
    note : str
        Why ``se``/``ci_low``/``ci_high`` are NaN, else ``""``.
    case_placements, control_placements : numpy.ndarray
        DeLong placements V10 (per case, input order) and V01 (per control, input order).
    """

    auc: float
    ci_low: float
    ci_high: float
    se: float
    variance: float
    direction: str
    n_cases: int
    n_controls: int
    level: float
    thresholds: np.ndarray = field(repr=False)
    sensitivities: np.ndarray = field(repr=False)
    specificities: np.ndarray = field(repr=False)
    note: str = ""
    case_placements: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    control_placements: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Curve points: columns ``threshold``, ``sensitivity``, ``specificity``."""
        return pd.DataFrame(
            {
                "threshold": self.thresholds,
                "sensitivity": self.sensitivities,
                "specificity": self.specificities,
            }
        )

    def to_dict(self) -> dict:
        """JSON-ready summary plus curve points (±Inf thresholds and NaN become ``None``)."""
        return {
            "auc": _f(self.auc),
            "ci_low": _f(self.ci_low),
            "ci_high": _f(self.ci_high),
            "se": _f(self.se),
            "direction": self.direction,
            "n_cases": int(self.n_cases),
            "n_controls": int(self.n_controls),
            "level": float(self.level),
            "note": self.note,
            "points": {
                "threshold": [_f(v) for v in self.thresholds],
                "sensitivity": [float(v) for v in self.sensitivities],
                "specificity": [float(v) for v in self.specificities],
            },
        }


@dataclass(frozen=True)
class RocTest:
    """Paired DeLong test of two correlated ROC curves (same subjects).

    Attributes
    ----------
    auc1, auc2 : float
        AUCs of the two scores.
    diff : float
        ``auc1 - auc2``.
    se : float
        Standard error of the difference, ``sqrt(Lᵀ S L)`` with ``L = (1, -1)``.
    z : float
        ``diff / se`` (0 when both are 0, as pROC).
    p : float
        Two-sided normal p-value.
    ci_low, ci_high : float
        ``diff ∓ z_{1-α/2}·se`` (not clipped; pROC ≥ 1.18).
    level : float
        Confidence level.
    direction1, direction2 : str
        Directions used for each curve.
    n_cases, n_controls : int
        Group sizes.
    note : str
        Why the statistics are NaN (a group with ≤ 1 subject), or a warning about
        differing directions; else ``""``.
    """

    auc1: float
    auc2: float
    diff: float
    se: float
    z: float
    p: float
    ci_low: float
    ci_high: float
    level: float
    direction1: str
    direction2: str
    n_cases: int
    n_controls: int
    note: str = ""

    def to_frame(self) -> pd.DataFrame:
        """One-row table of the test."""
        return pd.DataFrame([self.to_dict()])

    def to_dict(self) -> dict:
        """JSON-ready dictionary (NaN → ``None``)."""
        return {
            "auc1": _f(self.auc1),
            "auc2": _f(self.auc2),
            "diff": _f(self.diff),
            "se": _f(self.se),
            "z": _f(self.z),
            "p": _f(self.p),
            "ci_low": _f(self.ci_low),
            "ci_high": _f(self.ci_high),
            "level": float(self.level),
            "direction1": self.direction1,
            "direction2": self.direction2,
            "n_cases": int(self.n_cases),
            "n_controls": int(self.n_controls),
            "note": self.note,
        }


@dataclass(frozen=True)
class RocTestUnpaired:
    """Unpaired DeLong test of two ROC curves from different subjects.

    Attributes
    ----------
    auc1, auc2 : float
        AUCs of the two curves.
    diff : float
        ``auc1 - auc2``.
    statistic : float
        ``D = diff / sqrt(V1 + V2)`` with DeLong variances ``V1``, ``V2``.
    df : float
        Welch-type degrees of freedom ``(V1+V2)² / (V1²/(N1−1) + V2²/(N2−1))``, N = curve size.
    p : float
        Two-sided p-value from the t distribution with ``df`` degrees of freedom.
    direction1, direction2 : str
        Directions used for each curve.
    n1, n2 : int
        Sizes of the two samples.
    note : str
        Why the statistics are NaN, else ``""``.
    """

    auc1: float
    auc2: float
    diff: float
    statistic: float
    df: float
    p: float
    direction1: str
    direction2: str
    n1: int
    n2: int
    note: str = ""

    def to_frame(self) -> pd.DataFrame:
        """One-row table of the test."""
        return pd.DataFrame([self.to_dict()])

    def to_dict(self) -> dict:
        """JSON-ready dictionary (NaN → ``None``)."""
        return {
            "auc1": _f(self.auc1),
            "auc2": _f(self.auc2),
            "diff": _f(self.diff),
            "statistic": _f(self.statistic),
            "df": _f(self.df),
            "p": _f(self.p),
            "direction1": self.direction1,
            "direction2": self.direction2,
            "n1": int(self.n1),
            "n2": int(self.n2),
            "note": self.note,
        }


@dataclass(frozen=True)
class BestThreshold:
    """Optimal threshold(s) of a ROC curve.

    The scalar attributes describe the first optimum in curve order; ``rows`` holds every tied
    optimum (pROC returns all of them).

    Attributes
    ----------
    method : str
        ``"youden"`` (maximise Se + Sp) or ``"closest.topleft"`` (minimise (1−Se)² + (1−Sp)²).
    threshold, sensitivity, specificity : float
        First optimum.
    ppv, npv : float
        Predictive values in the sample (NaN when undefined, e.g. nobody test-positive).
    youden : float
        Youden index J = Se + Sp − 1 (pROC's ``"youden"`` column reports Se + Sp).
    closest_topleft : float
        Squared distance to the top-left corner, (1−Se)² + (1−Sp)².
    rows : tuple of dict
        All tied optima, in pROC's order, with the keys above.
    """

    method: str
    threshold: float
    sensitivity: float
    specificity: float
    ppv: float
    npv: float
    youden: float
    closest_topleft: float
    rows: tuple[dict, ...] = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """All tied optima, one row each."""
        return pd.DataFrame(list(self.rows))

    def to_dict(self) -> dict:
        """JSON-ready dictionary of the first optimum plus ``all`` optima."""
        first = {k: _f(v) for k, v in self.rows[0].items()}
        return {
            "method": self.method,
            **first,
            "all": [{k: _f(v) for k, v in r.items()} for r in self.rows],
        }


# --------------------------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------------------------
def _split(y: Any, score: Any, yname: str = "outcome", sname: str = "score"):
    yb = _outcome(y, yname)
    s = _score(score, yb.size, sname)
    _groups(yb, _label(y, yname))
    return yb, s


def _roc_from_groups(
    controls: np.ndarray, cases: np.ndarray, direction: str, level: float
) -> RocResult:
    if direction == "auto":
        direction = _auto_direction(controls, cases)
    thr, se_, sp_ = _curve(controls, cases, direction)
    theta, v10, v01 = delong_placements(controls, cases, direction)
    m, n = cases.size, controls.size
    note = ""
    if m <= 1 or n <= 1:
        what = "the case group" if m <= 1 else "the control group"
        note = _NOTE_SMALL.format(what=what, k=m if m <= 1 else n)
        var = se = lo = hi = float("nan")
    else:
        var = _delong_var(theta, v10, v01)
        se = float(np.sqrt(var))
        z = float(norm.ppf(1.0 - (1.0 - level) / 2.0))
        lo = min(max(theta - z * se, 0.0), 1.0)
        hi = min(max(theta + z * se, 0.0), 1.0)
    return RocResult(
        auc=theta,
        ci_low=float(lo),
        ci_high=float(hi),
        se=float(se),
        variance=float(var),
        direction=direction,
        n_cases=int(m),
        n_controls=int(n),
        level=float(level),
        thresholds=thr,
        sensitivities=se_,
        specificities=sp_,
        note=note,
        case_placements=v10,
        control_placements=v01,
    )


def roc_curve(
    y: Sequence[Any] | np.ndarray | pd.Series,
    score: Sequence[float] | np.ndarray | pd.Series,
    *,
    direction: Direction = "auto",
    level: float = 0.95,
) -> RocResult:
    """Empirical ROC curve, AUC and DeLong confidence interval.

    Parameters
    ----------
    y : array-like of 0/1 or bool
        Outcome; 1 (True) = case, 0 = control.
    score : array-like of float
        Marker or predicted risk; no missing or infinite values.
    direction : {"auto", "<", ">"}
        ``"<"``: controls score lower than cases (positive if score ≥ threshold); ``">"``:
        the opposite. ``"auto"`` picks ``"<"`` if median(controls) ≤ median(cases). Fix the
        direction when resampling, otherwise AUCs are biased upwards.
    level : float
        Confidence level of the DeLong interval.

    Returns
    -------
    RocResult

    Raises
    ------
    InputError
        Outcome not 0/1, lengths differ, missing or infinite scores, no case or no control.

    Notes
    -----
    Matches R pROC 1.18 ``roc(y, score, levels = c(0, 1), direction = ...)`` (thresholds from
    ``roc.utils.thresholds`` with its near-tie guard, sensitivities, specificities),
    ``auc()``, ``var(method = "delong")`` and ``ci.auc(method = "delong")``: the variance is
    ``S10/m + S01/n`` from the placements of ``delongPlacementsCpp`` and the interval is
    ``qnorm(c(α/2, 1−α/2), auc, se)`` clipped to [0, 1]. With ≤ 1 case or control pROC returns
    NA for the interval; here ``se``, ``ci_low`` and ``ci_high`` are NaN and ``note`` says why.
    """
    _check_direction(direction)
    level = _check_level(level)
    yb, s = _split(y, score)
    return _roc_from_groups(s[~yb], s[yb], direction, level)


def delong_test(
    y: Sequence[Any] | np.ndarray | pd.Series,
    score1: Sequence[float] | np.ndarray | pd.Series,
    score2: Sequence[float] | np.ndarray | pd.Series,
    *,
    level: float = 0.95,
    direction1: Direction = "auto",
    direction2: Direction = "auto",
) -> RocTest:
    """Paired DeLong test comparing the AUCs of two scores measured on the same subjects.

    Parameters
    ----------
    y : array-like of 0/1 or bool
        Outcome shared by both scores.
    score1, score2 : array-like of float
        The two scores, row-aligned with ``y``.
    level : float
        Confidence level for the interval of the AUC difference.
    direction1, direction2 : {"auto", "<", ">"}
        Direction of each curve; ``"auto"`` resolves each curve on its own, like pROC.

    Returns
    -------
    RocTest

    Notes
    -----
    Matches R pROC 1.18 ``roc.test(roc1, roc2, method = "delong", paired = TRUE)``
    (``delong.paired.calculations``, ``delong.paired.test``, ``ci.delong.paired``): 2×2
    covariance matrices of the case and control placements, ``S = SX/m + SY/n``,
    ``se = sqrt(Lᵀ S L)``, ``z = diff/se``, two-sided normal p-value and ``diff ± z·se``.
    pROC warns when the directions differ; ``note`` records it here. With ≤ 1 case or control
    the statistics are NaN and ``note`` says why.
    """
    _check_direction(direction1)
    _check_direction(direction2)
    level = _check_level(level)
    yb = _outcome(y, "outcome")
    s1 = _score(score1, yb.size, _label(score1, "score1"))
    s2 = _score(score2, yb.size, _label(score2, "score2"))
    m, n = _groups(yb, _label(y, "outcome"))
    r1 = _roc_from_groups(s1[~yb], s1[yb], direction1, level)
    r2 = _roc_from_groups(s2[~yb], s2[yb], direction2, level)
    notes = []
    if r1.direction != r2.direction:
        notes.append(
            f"the curves have different directions ({r1.direction} and {r2.direction}); "
            "DeLong's test should not be applied to them"
        )
    nan = float("nan")
    if m <= 1 or n <= 1:
        notes.insert(0, r1.note.replace("variance", "test"))
        return RocTest(
            r1.auc, r2.auc, r1.auc - r2.auc, nan, nan, nan, nan, nan, level,
            r1.direction, r2.direction, m, n, "; ".join(notes),
        )  # fmt: skip
    ax = r1.case_placements - r1.auc
    bx = r2.case_placements - r2.auc
    ay = r1.control_placements - r1.auc
    by = r2.control_placements - r2.auc
    sx = np.array([[np.sum(ax * ax), np.sum(ax * bx)], [np.sum(bx * ax), np.sum(bx * bx)]]) / (
        m - 1
    )
    sy = np.array([[np.sum(ay * ay), np.sum(ay * by)], [np.sum(by * ay), np.sum(by * by)]]) / (
        n - 1
    )
    s = sx / m + sy / n
    lvec = np.array([1.0, -1.0])
    sig = float(np.sqrt(max(lvec @ s @ lvec, 0.0)))
    d = r1.auc - r2.auc
    if sig == 0.0:
        z = 0.0 if d == 0.0 else float(np.copysign(np.inf, d))
    else:
        z = d / sig
    p = float(2.0 * norm.sf(abs(z)))
    crit = float(norm.ppf(1.0 - (1.0 - level) / 2.0))
    return RocTest(
        auc1=r1.auc,
        auc2=r2.auc,
        diff=d,
        se=sig,
        z=float(z),
        p=p,
        ci_low=d - crit * sig,
        ci_high=d + crit * sig,
        level=level,
        direction1=r1.direction,
        direction2=r2.direction,
        n_cases=m,
        n_controls=n,
        note="; ".join(notes),
    )


def delong_test_unpaired(
    y1: Sequence[Any] | np.ndarray | pd.Series,
    s1: Sequence[float] | np.ndarray | pd.Series,
    y2: Sequence[Any] | np.ndarray | pd.Series,
    s2: Sequence[float] | np.ndarray | pd.Series,
    *,
    direction1: Direction = "auto",
    direction2: Direction = "auto",
) -> RocTestUnpaired:
    """Unpaired DeLong test comparing the AUCs of two independent samples.

    Parameters
    ----------
    y1, s1 : array-like
        Outcome (0/1) and score of the first sample.
    y2, s2 : array-like
        Outcome (0/1) and score of the second sample.
    direction1, direction2 : {"auto", "<", ">"}
        Direction of each curve.

    Returns
    -------
    RocTestUnpaired

    Notes
    -----
    Matches R pROC 1.18 ``roc.test(roc1, roc2, method = "delong", paired = FALSE)``
    (``delong.unpaired.test``): ``D = (θ1 − θ2)/sqrt(V1 + V2)`` with DeLong variances,
    Welch-type ``df = (V1+V2)²/(V1²/(N1−1) + V2²/(N2−1))`` and ``p = 2·pt(−|D|, df)``.
    With ≤ 1 case or control in either sample the statistics are NaN and ``note`` says why.
    """
    _check_direction(direction1)
    _check_direction(direction2)
    ya, sa = _split(y1, s1, "y1", _label(s1, "s1"))
    yb, sb = _split(y2, s2, "y2", _label(s2, "s2"))
    ra = _roc_from_groups(sa[~ya], sa[ya], direction1, 0.95)
    rb = _roc_from_groups(sb[~yb], sb[yb], direction2, 0.95)
    d = ra.auc - rb.auc
    notes = [f"sample {i}: {r.note}" for i, r in ((1, ra), (2, rb)) if r.note]
    if ra.direction != rb.direction:
        notes.append(
            f"the curves have different directions ({ra.direction} and {rb.direction}); "
            "DeLong's test should not be applied to them"
        )
    if not (np.isfinite(ra.variance) and np.isfinite(rb.variance)):
        nan = float("nan")
        return RocTestUnpaired(
            ra.auc, rb.auc, d, nan, nan, nan, ra.direction, rb.direction,
            ya.size, yb.size, "; ".join(notes),
        )  # fmt: skip
    va, vb = ra.variance, rb.variance
    tot = va + vb
    if tot == 0.0:
        stat = 0.0 if d == 0.0 else float(np.copysign(np.inf, d))
        df = float("nan")
        p = 1.0 if d == 0.0 else 0.0
    else:
        stat = d / np.sqrt(tot)
        df = tot**2 / (va**2 / (ya.size - 1) + vb**2 / (yb.size - 1))
        p = float(2.0 * t_dist.sf(abs(stat), df))
    return RocTestUnpaired(
        auc1=ra.auc,
        auc2=rb.auc,
        diff=d,
        statistic=float(stat),
        df=float(df),
        p=p,
        direction1=ra.direction,
        direction2=rb.direction,
        n1=int(ya.size),
        n2=int(yb.size),
        note="; ".join(notes),
    )


def best_threshold(
    roc: RocResult,
    y: Sequence[Any] | np.ndarray | pd.Series | None = None,
    score: Sequence[float] | np.ndarray | pd.Series | None = None,
    *,
    method: Literal["youden", "closest.topleft"] = "youden",
) -> BestThreshold:
    """Optimal threshold(s) of a ROC curve with sensitivity, specificity, PPV and NPV.

    Parameters
    ----------
    roc : RocResult
        The curve, from :func:`roc_curve`.
    y, score : array-like, optional
        The data the curve was built from. When given they are checked against ``roc`` (same
        group sizes and AUC with the curve's direction); a mismatch raises ``InputError``.
    method : {"youden", "closest.topleft"}
        ``"youden"`` maximises Se + Sp; ``"closest.topleft"`` minimises (1−Se)² + (1−Sp)².

    Returns
    -------
    BestThreshold
        First optimum as attributes, every tied optimum in ``rows`` (pROC order: specificity
        non-decreasing).

    Notes
    -----
    Matches R pROC 1.18 ``coords(roc, x = "best", best.method = method,
    ret = c("threshold", "sensitivity", "specificity", "ppv", "npv"))`` with the default
    ``best.weights = c(1, 0.5)``, including its exact floating-point tie rule
    (``optim.crit == max(optim.crit)``). PPV = tp/(tp+fp) and NPV = tn/(tn+fn) with
    tp = Se·n_cases and tn = Sp·n_controls (pROC ``roc.utils.calc.coords``).
    """
    if method not in ("youden", "closest.topleft"):
        raise InputError(f"method {method!r} must be 'youden' or 'closest.topleft'")
    if not isinstance(roc, RocResult):
        raise InputError("roc must be a RocResult from roc_curve()")
    if (y is None) != (score is None):
        raise InputError("give both y and score, or neither")
    if y is not None:
        check = roc_curve(y, score, direction=roc.direction, level=roc.level)
        if (
            check.n_cases != roc.n_cases
            or check.n_controls != roc.n_controls
            or check.auc != roc.auc
        ):
            raise InputError(
                "y and score do not match the ROC curve given (different group sizes or AUC)"
            )
    se, sp = roc.sensitivities, roc.specificities
    r = 1.0  # (1 - prevalence) / (cost * prevalence) with pROC's best.weights = c(1, 0.5)
    if method == "youden":
        crit = se + r * sp
    else:
        crit = -((1.0 - se) ** 2 + r * (1.0 - sp) ** 2)
    idx = np.flatnonzero(crit == crit.max())
    ncases, ncontrols = roc.n_cases, roc.n_controls
    rows = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in idx:
            tp = se[i] * ncases
            fn = ncases - tp
            tn = sp[i] * ncontrols
            fp = ncontrols - tn
            ppv = tp / (tp + fp) if tp + fp > 0 else float("nan")
            npv = tn / (tn + fn) if tn + fn > 0 else float("nan")
            rows.append(
                {
                    "threshold": float(roc.thresholds[i]),
                    "sensitivity": float(se[i]),
                    "specificity": float(sp[i]),
                    "ppv": float(ppv),
                    "npv": float(npv),
                    "youden": float(se[i] + sp[i] - 1.0),
                    "closest_topleft": float((1.0 - se[i]) ** 2 + (1.0 - sp[i]) ** 2),
                }
            )
    first = rows[0]
    return BestThreshold(method=method, rows=tuple(rows), **first)
