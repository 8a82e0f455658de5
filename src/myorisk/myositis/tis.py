"""2016 ACR/EULAR response criteria: Total Improvement Score (TIS) for adult DM/PM and JDM.

Aggarwal R et al., Ann Rheum Dis 2017;76:792-801 (adult); Rider LG et al., Ann Rheum Dis
2017;76:782-791 (JDM). Conversion table, thresholds and the decisions on open points follow
``shared/spec/clinical-scores.md`` §2 and decision 2; ``docs/instruments.md`` explains them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from myorisk.errors import InputError
from myorisk.myositis._cells import CellErrors, json_value, records, require_columns
from myorisk.myositis.schema import ENZYMES

__all__ = [
    "CATEGORIES",
    "MEASURES",
    "POINTS",
    "THRESHOLDS",
    "TisResult",
    "improvement_points",
    "percent_improvement",
    "total_improvement_score",
]

#: Core set measures, in the order the results list them.
MEASURES: tuple[str, ...] = ("pga", "ptga", "mmt8", "haq", "enzyme", "extramuscular")
#: Band upper edges of percent improvement (a band is ``low < x <= high``) and the points per
#: band, lowest band ("worsening to <= 5% (2%) improvement") first; spec §2.2.
_EDGES = (5.0, 15.0, 25.0, 40.0)
_EDGES_MMT = (2.0, 10.0, 20.0, 30.0)
POINTS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "pga": (_EDGES, (0.0, 7.5, 15.0, 17.5, 20.0)),
    "ptga": (_EDGES, (0.0, 2.5, 5.0, 7.5, 10.0)),
    "mmt8": (_EDGES_MMT, (0.0, 10.0, 20.0, 27.5, 32.5)),
    "haq": (_EDGES, (0.0, 5.0, 7.5, 7.5, 10.0)),
    "enzyme": (_EDGES, (0.0, 2.5, 5.0, 7.5, 7.5)),
    "extramuscular": (_EDGES, (0.0, 7.5, 12.5, 15.0, 20.0)),
}
#: TIS thresholds (minimal, moderate, major).
THRESHOLDS: dict[str, tuple[float, float, float]] = {"adult": (20.0, 40.0, 60.0),
                                                     "juvenile": (30.0, 45.0, 70.0)}
#: Improvement categories, lowest first.
CATEGORIES: tuple[str, ...] = ("none", "minimal", "moderate", "major")
_RANGES = {"pga": (0.0, 10.0), "ptga": (0.0, 10.0), "haq": (0.0, 3.0),
           "extramuscular": (0.0, 10.0)}
_LEVEL = {"minimal": 0, "moderate": 1, "major": 2}


def percent_improvement(baseline: np.ndarray, follow_up: np.ndarray, *, higher_is_better: bool,
                        zero_baseline: str = "zero_points") -> np.ndarray:
    """Percent improvement from baseline, rounded to 1e-9.

    Parameters
    ----------
    baseline, follow_up : numpy.ndarray
        Values of one measure (NaN = missing).
    higher_is_better : bool
        True for MMT: (follow-up - baseline)/baseline x 100; else (baseline - follow-up)/
        baseline x 100.
    zero_baseline : {"zero_points", "error"}, default "zero_points"
        Baseline 0: ``zero_points`` gives 0% for 0 -> 0 and for any worsening, and +inf for an
        improvement from 0 (only possible for MMT; it lands in the top band); ``error`` is
        handled by the caller (this function then returns NaN there).

    Returns
    -------
    numpy.ndarray
        Percent improvement; negative is worsening; NaN where an input is missing.
    """
    bl = np.asarray(baseline, float)
    fu = np.asarray(follow_up, float)
    diff = (fu - bl) if higher_is_better else (bl - fu)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.round(diff / bl * 100.0, 9)
    zero = bl == 0
    if zero_baseline == "zero_points":
        pct = np.where(zero, np.where(diff > 0, np.inf, 0.0), pct)
    else:
        pct = np.where(zero, np.nan, pct)
    return pct


def improvement_points(measure: str, pct: np.ndarray) -> np.ndarray:
    """Convert percent improvement of one core set measure to TIS points (spec §2.2).

    Parameters
    ----------
    measure : str
        One of :data:`MEASURES`.
    pct : numpy.ndarray
        Percent improvement (as :func:`percent_improvement` gives, already rounded to 1e-9).

    Returns
    -------
    numpy.ndarray
        Points; NaN where ``pct`` is NaN. Bands are ``low < x <= high``: exactly 15% scores the
        ">5% to 15%" band, exactly 40% the ">25% to 40%" band.
    """
    edges, pts = POINTS[measure]
    pct = np.asarray(pct, float)
    band = np.digitize(np.where(np.isnan(pct), 0.0, pct), edges, right=True)
    return np.where(np.isnan(pct), np.nan, np.asarray(pts)[band])


@dataclass(frozen=True)
class TisResult:
    """Total Improvement Score per row.

    Parameters
    ----------
    table : pandas.DataFrame
        Same index as the input. Columns: ``patient_id``; ``pct_<m>`` (percent improvement) and
        ``points_<m>`` for each measure of :data:`MEASURES`; ``enzyme_used``; ``tis``
        (sum of points; with ``missing="allow"`` the sum over the measures present);
        ``complete``; ``population`` (adult/juvenile); ``category`` (:data:`CATEGORIES`,
        missing when an incomplete TIS could still reach a higher band); ``response``
        (1 if TIS >= the ``response_at`` threshold, 0 if not, missing when an incomplete TIS
        leaves it undecided) and ``nonresponse`` (1 - response).
    enzyme : str
        Enzyme rule used.
    zero_baseline, missing, population, response_at : str
        The options used.
    """

    table: pd.DataFrame
    enzyme: str
    zero_baseline: str
    missing: str
    population: str
    response_at: str

    def to_frame(self) -> pd.DataFrame:
        """Tidy copy of :attr:`table`."""
        return self.table.copy()

    def to_dict(self) -> dict[str, object]:
        """JSON-ready ``{rows: [{patient_id, row, points: {...}, tis, category, response}]}``."""
        rows = []
        for r, rec in zip(self.table.index, records(self.table), strict=True):
            rows.append({
                "patient_id": rec["patient_id"],
                "row": json_value(r),
                "points": {m: rec[f"points_{m}"] for m in MEASURES},
                "percent_change": {m: rec[f"pct_{m}"] for m in MEASURES},
                "enzyme_used": rec["enzyme_used"],
                "tis": rec["tis"],
                "complete": rec["complete"],
                "population": rec["population"],
                "category": rec["category"],
                "response": rec["response"],
                "nonresponse": rec["nonresponse"],
            })
        return {"rows": rows,
                "parameters": {"enzyme": self.enzyme, "zero_baseline": self.zero_baseline,
                               "missing": self.missing, "population": self.population,
                               "response_at": self.response_at}}


def _enzyme_values(df: pd.DataFrame, enzyme: str, errs: CellErrors
                   ) -> tuple[np.ndarray, np.ndarray, list[object]]:
    n = len(df)
    if enzyme == "enzyme" or enzyme in ENZYMES:
        bl = errs.numbers(df, f"{enzyme}_bl", low=0, low_exclusive=True)
        fu = errs.numbers(df, f"{enzyme}_fu", low=0, low_exclusive=True)
        used: list[object] = [enzyme if not np.isnan(b) else None for b in bl]
        return bl, fu, used
    # most abnormal at baseline by ratio to the upper limit of normal
    names = [e for e in ENZYMES if f"{e}_bl" in df.columns]
    if not names:
        raise InputError(f"{errs.source}: enzyme='most_abnormal' needs baseline enzymes "
                         f"(ck_bl, aldolase_bl, ldh_bl, ast_bl, alt_bl) with *_fu and *_uln")
    require_columns(df, [f"{e}_{t}" for e in names for t in ("fu", "uln")], errs.source,
                    "enzyme='most_abnormal'")
    vals = {}
    for e in names:
        b = errs.numbers(df, f"{e}_bl", low=0, low_exclusive=True)
        f = errs.numbers(df, f"{e}_fu", low=0, low_exclusive=True)
        u = errs.numbers(df, f"{e}_uln", low=0, low_exclusive=True)
        for r, bi, ui in zip(df.index, b, u, strict=True):
            if not np.isnan(bi) and np.isnan(ui):
                errs.add(r, f"{e}_uln", "missing (the most abnormal enzyme is chosen by the "
                                        "ratio to the upper limit of normal)")
        vals[e] = (b, f, u)
    bl, fu = np.full(n, np.nan), np.full(n, np.nan)
    used = [None] * n
    for i in range(n):
        best, best_ratio = None, -np.inf
        for e in names:  # order of ENZYMES breaks ties
            b, _, u = vals[e]
            if not np.isnan(b[i]) and not np.isnan(u[i]) and b[i] / u[i] > best_ratio:
                best, best_ratio = e, b[i] / u[i]
        if best is not None:
            bl[i], fu[i], used[i] = vals[best][0][i], vals[best][1][i], best
    return bl, fu, used


def total_improvement_score(
    df: pd.DataFrame,
    *,
    enzyme: str = "most_abnormal",
    population: str = "adult",
    zero_baseline: str = "zero_points",
    missing: str = "error",
    response_at: str = "minimal",
    mmt8_max: float | None = None,
    source: str = "data",
) -> TisResult:
    """Compute the ACR/EULAR 2016 Total Improvement Score, category and response.

    Parameters
    ----------
    df : pandas.DataFrame
        Baseline ``_bl`` and follow-up ``_fu`` columns of ``pga``, ``ptga`` (VAS 0-10),
        ``mmt8`` (0-80, or 0-150 when declared), ``haq`` (0-3), ``extramuscular`` (0-10) and the
        enzyme (see ``enzyme``); optionally ``patient_id``, ``age_onset`` (for
        ``population="auto"``) and ``mmt8_max``.
    enzyme : str, default "most_abnormal"
        ``"most_abnormal"``: of ``ck``, ``aldolase``, ``ldh``, ``ast``, ``alt`` (columns
        ``<e>_bl``, ``<e>_fu``, ``<e>_uln``), the one with the largest baseline/ULN ratio (ties:
        that order); the criteria's definition. A name from ``ck``, ``aldolase``, ``ldh``,
        ``ast``, ``alt`` uses that enzyme (study A used ``"ck"``); ``"enzyme"`` uses columns
        ``enzyme_bl``/``enzyme_fu`` as given.
    population : {"adult", "juvenile", "auto"}, default "adult"
        Thresholds 20/40/60 (adult) or 30/45/70 (JDM); ``auto``: juvenile where ``age_onset``
        < 18. The conversion table is the same for both.
    zero_baseline : {"zero_points", "error"}, default "zero_points"
        A baseline of 0: ``zero_points`` scores 0 points for 0 -> 0 and for worsening (an
        improvement from an MMT baseline of 0 scores the top band); ``error`` rejects it.
    missing : {"error", "allow"}, default "error"
        A missing measure is an error, or scores nothing and marks the TIS incomplete.
    response_at : {"minimal", "moderate", "major"}, default "minimal"
        Threshold that defines ``response`` (study A: minimal, TIS >= 20 in adults).
    mmt8_max : {80, 150} or None, default None
        MMT8 scale maximum for the range check; None: the row's ``mmt8_max`` column if present,
        else the mapping's ``options: mmt8_max`` (``df.attrs["mmt8_max"]``, set by
        :func:`myorisk.myositis.cohort.load`), else 80.
    source : str, default "data"
        File name for error messages.

    Returns
    -------
    TisResult

    Raises
    ------
    myorisk.errors.InputError
        An option is unknown, a column is absent, or cells are not numbers, out of range,
        missing (``missing="error"``) or a zero baseline (``zero_baseline="error"``); one
        message lists every bad cell.

    Notes
    -----
    Improvement % = (baseline - follow-up)/baseline x 100 for the VAS, HAQ, enzyme and
    extramuscular measures, (follow-up - baseline)/baseline x 100 for MMT, rounded to 1e-9 before
    the bands are applied (8 -> 6.8 is exactly 15%). Bands are ``low < x <= high`` with edges
    5/15/25/40% (MMT 2/10/20/30%).
    """
    for name, value, allowed in (
        ("population", population, ("adult", "juvenile", "auto")),
        ("zero_baseline", zero_baseline, ("zero_points", "error")),
        ("missing", missing, ("error", "allow")),
        ("response_at", response_at, tuple(_LEVEL)),
    ):
        if value not in allowed:
            raise InputError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    if enzyme not in ("most_abnormal", "enzyme", *ENZYMES):
        raise InputError(f"enzyme must be 'most_abnormal', 'enzyme' or one of "
                         f"{', '.join(ENZYMES)}, not {enzyme!r}")
    if mmt8_max is not None and mmt8_max not in (80, 150):
        raise InputError(f"mmt8_max must be 80 or 150, not {mmt8_max!r}")
    base = [f"{m}_{t}" for m in MEASURES if m != "enzyme" for t in ("bl", "fu")]
    if enzyme != "most_abnormal":
        base += [f"{enzyme}_bl", f"{enzyme}_fu"]
    if population == "auto":
        base.append("age_onset")
    require_columns(df, base, source, "the Total Improvement Score")
    n = len(df)
    errs = CellErrors(source)
    if mmt8_max is not None:
        mmt_hi = np.full(n, float(mmt8_max))
    else:
        # a cohort loaded with a mapping declaring ``options: mmt8_max`` carries it in attrs
        declared = float(df.attrs.get("mmt8_max", 80.0))
        if "mmt8_max" in df.columns:
            mmt_hi = errs.numbers(df, "mmt8_max", low=80, high=150)
            mmt_hi = np.where(np.isnan(mmt_hi), declared, mmt_hi)
        else:
            mmt_hi = np.full(n, declared)
    values: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for m in ("pga", "ptga", "haq", "extramuscular"):
        lo, hi = _RANGES[m]
        values[m] = (errs.numbers(df, f"{m}_bl", low=lo, high=hi),
                     errs.numbers(df, f"{m}_fu", low=lo, high=hi))
    mb = errs.numbers(df, "mmt8_bl", low=0)
    mf = errs.numbers(df, "mmt8_fu", low=0)
    for col, arr in (("mmt8_bl", mb), ("mmt8_fu", mf)):
        for r, x, hi in zip(df.index, arr, mmt_hi, strict=True):
            if x > hi:
                errs.add(r, col, f"{x:g} is out of range (must be <= {hi:g}; declare "
                                 f"mmt8_max = 150 for the 0-150 scale)")
    values["mmt8"] = (mb, mf)
    ebl, efu, used = _enzyme_values(df, enzyme, errs)
    values["enzyme"] = (ebl, efu)
    if population == "auto":
        age = errs.numbers(df, "age_onset", low=0, high=120)
        for r, a in zip(df.index, age, strict=True):
            if np.isnan(a):
                errs.add(r, "age_onset", "missing (needed for population='auto')")
        juvenile = age < 18
    else:
        juvenile = np.full(n, population == "juvenile")
    label = {"enzyme": enzyme if enzyme in ("enzyme", *ENZYMES) else "enzyme"}
    incomplete = False
    for m in MEASURES:
        bl, fu = values[m]
        for i, r in enumerate(df.index):
            miss = [t for t, a in (("bl", bl), ("fu", fu)) if np.isnan(a[i])]
            if miss and missing == "error":
                if m == "enzyme" and enzyme == "most_abnormal":
                    col = f"{used[i]}_{miss[0]}" if used[i] else "ck_bl"
                    what = "missing (no enzyme with baseline, follow-up and ULN)" if not used[
                        i] else "missing"
                else:
                    col, what = f"{label.get(m, m)}_{miss[0]}", "missing"
                errs.add(r, col, f"{what} (core set measure)")
                incomplete = True
            if zero_baseline == "error" and bl[i] == 0:
                errs.add(r, f"{label.get(m, m)}_bl", "baseline is 0 so the percent change is "
                                                     "undefined (zero_baseline='error')")
    if incomplete:
        errs.raise_if_any(hint="pass missing='allow' to score an incomplete TIS",
                          option=("missing", ("allow",)))
    errs.raise_if_any()

    table: dict[str, object] = {}
    ids = df["patient_id"].to_numpy() if "patient_id" in df.columns else df.index.to_numpy()
    table["patient_id"] = ids
    total = np.zeros(n)
    reachable = np.zeros(n)
    complete = np.ones(n, bool)
    for m in MEASURES:
        bl, fu = values[m]
        pct = percent_improvement(bl, fu, higher_is_better=(m == "mmt8"),
                                  zero_baseline=zero_baseline)
        pts = improvement_points(m, pct)
        table[f"pct_{m}"] = pct
        table[f"points_{m}"] = pts
        absent = np.isnan(pts)
        complete &= ~absent
        total += np.where(absent, 0.0, pts)
        reachable += np.where(absent, POINTS[m][1][-1], 0.0)
    table["enzyme_used"] = used
    table["tis"] = total
    table["complete"] = complete
    table["population"] = np.where(juvenile, "juvenile", "adult")
    cats: list[object] = []
    resp = np.full(n, np.nan)
    level = _LEVEL[response_at]
    for i in range(n):
        thr = THRESHOLDS["juvenile" if juvenile[i] else "adult"]
        low = sum(total[i] >= t for t in thr)
        high = sum(total[i] + reachable[i] >= t for t in thr)
        cats.append(CATEGORIES[low] if low == high else None)
        if total[i] >= thr[level]:
            resp[i] = 1.0
        elif total[i] + reachable[i] < thr[level]:
            resp[i] = 0.0
    table["category"] = cats
    table["response"] = resp
    table["nonresponse"] = 1.0 - resp
    return TisResult(pd.DataFrame(table, index=df.index), enzyme, zero_baseline, missing,
                     population, response_at)
