"""Predictors derived from raw imaging and EMG readings: mSUVmax, MRI score, abundant EMG SPs.

Each function takes a long-format table (one reading per row; ``docs/cohort-files.md``
describes the files) and returns a result with one row per patient. Decisions follow
``shared/spec/clinical-scores.md`` decisions 3-4 and §4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from myorisk.errors import InputError
from myorisk.myositis._cells import CellErrors, records, require_columns
from myorisk.myositis.schema import normalise_name

__all__ = [
    "MRI_FEATURES",
    "MRI_GROUPS",
    "PET_MUSCLES",
    "EmgResult",
    "MriResult",
    "MsuvmaxResult",
    "emg_abundant_sp",
    "mri_score",
    "msuvmax",
]

#: The eight proximal muscles of the mSUVmax (study A's description of Matuszak's method).
PET_MUSCLES: tuple[str, ...] = ("pectoralis_major", "deltoid", "triceps_brachii",
                                "biceps_brachii", "psoas_major", "gluteus", "quadriceps",
                                "adductors")
SIDES: tuple[str, ...] = ("left", "right")
_SIDE_ALIASES = {"l": "left", "left": "left", "r": "right", "right": "right"}
#: Muscle groups and features of study A's MRI score (each graded 0-3).
MRI_GROUPS: tuple[str, ...] = ("gluteal", "adductors", "hamstrings", "quadriceps")
MRI_FEATURES: tuple[str, ...] = ("muscle_edema", "atrophy", "fascial_edema",
                                 "subcutaneous_edema")


def _labels(df: pd.DataFrame, column: str) -> pd.Series:
    return df[column].map(lambda v: None if pd.isna(v) else normalise_name(str(v)))


def _unknown(errs: CellErrors, df: pd.DataFrame, column: str, values: pd.Series,
             allowed: tuple[str, ...]) -> None:
    for r, raw, v in zip(df.index, df[column], values, strict=True):
        if v is None:
            errs.add(r, column, "missing")
        elif v not in allowed:
            errs.add(r, column, f"'{raw}' is not one of {', '.join(allowed)}")


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows).reset_index(drop=True)


# --------------------------------------------------------------------------- mSUVmax
@dataclass(frozen=True)
class MsuvmaxResult:
    """mSUVmax per patient.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``patient_id``, ``msuvmax``, ``muscle_suvmax_mean`` (mean of the per-site
        values), ``liver_suv`` (mean liver SUV), ``n_sites`` (sites with readings, of 16),
        ``n_readings`` (muscle readings used), ``missing_sites`` (``;``-separated, or missing).
    allow_missing : bool
        Whether patients with missing sites were accepted.
    """

    table: pd.DataFrame
    allow_missing: bool

    def to_frame(self) -> pd.DataFrame:
        """Tidy copy of :attr:`table`."""
        return self.table.copy()

    def to_dict(self) -> dict[str, object]:
        """JSON-ready ``{rows: [...], allow_missing}``."""
        return {"rows": records(self.table), "allow_missing": self.allow_missing}


def msuvmax(readings: pd.DataFrame, *, allow_missing: bool = False,
            source: str = "pet readings") -> MsuvmaxResult:
    """Muscle FDG uptake index of Matuszak et al. (2019) from per-site PET/CT readings.

    Parameters
    ----------
    readings : pandas.DataFrame
        Long format, one reading per row: ``patient_id``, ``site`` (one of
        :data:`PET_MUSCLES` or ``liver``; case, spaces and dashes are folded), ``side``
        (``left``/``right`` or ``L``/``R``; empty for the liver), ``suv`` (SUVmax for a
        muscle, SUVmean for the liver) and optionally ``reader`` and ``repeat`` (any labels).
    allow_missing : bool, default False
        A patient lacking a muscle site or the liver is an error; if True, the mean is taken
        over the sites present and the missing ones are reported (no liver still gives NaN).
    source : str, default "pet readings"
        File name for error messages.

    Returns
    -------
    MsuvmaxResult

    Raises
    ------
    myorisk.errors.InputError
        Columns absent, unknown site or side, a SUV that is not a positive number, or a
        missing site (``allow_missing=False``); one message lists them all.

    Notes
    -----
    mSUVmax = mean over the 16 sites (8 muscles x 2 sides) of SUVmax / mean liver SUV. With
    several readers and repeats (study A: 2 x 2), the readings of one site are averaged first;
    the liver readings are averaged likewise.
    """
    require_columns(readings, ("patient_id", "site", "suv"), source, "mSUVmax")
    errs = CellErrors(source)
    site = _labels(readings, "site")
    _unknown(errs, readings, "site", site, (*PET_MUSCLES, "liver"))
    suv = errs.numbers(readings, "suv", low=0, low_exclusive=True)
    raw_side = (readings["side"] if "side" in readings.columns
                else pd.Series([None] * len(readings), index=readings.index, dtype=object))
    side = raw_side.map(lambda v: None if pd.isna(v) else normalise_name(str(v)))
    for r, raw, s, v in zip(readings.index, raw_side, side, site, strict=True):
        if v in PET_MUSCLES and s not in _SIDE_ALIASES:
            errs.add(r, "side", "missing (left or right)" if s is None else
                     f"'{raw}' is not left or right")
    for r, v, x in zip(readings.index, site, suv, strict=True):
        if np.isnan(x) and v is not None:
            errs.add(r, "suv", "missing")
    errs.raise_if_any()
    data = pd.DataFrame({"patient_id": readings["patient_id"].to_numpy(),
                         "site": site.to_numpy(),
                         "side": [_SIDE_ALIASES.get(s, "") if s else "" for s in side],
                         "suv": suv})
    rows = []
    problems = []
    for pid, g in data.groupby("patient_id", sort=False):
        liver = g.loc[g["site"] == "liver", "suv"]
        muscle = g[g["site"] != "liver"]
        per_site = muscle.groupby(["site", "side"])["suv"].mean()
        expected = [(m, s) for m in PET_MUSCLES for s in SIDES]
        absent = [f"{m}_{s}" for m, s in expected if (m, s) not in per_site.index]
        if liver.empty:
            absent.append("liver")
        if absent and not allow_missing:
            problems.append(f"patient {pid}: no reading for {', '.join(absent)}")
        liver_mean = float(liver.mean()) if not liver.empty else np.nan
        site_mean = float(per_site.mean()) if len(per_site) else np.nan
        rows.append({"patient_id": pid, "msuvmax": site_mean / liver_mean,
                     "muscle_suvmax_mean": site_mean, "liver_suv": liver_mean,
                     "n_sites": int(len(per_site)), "n_readings": int(len(muscle)),
                     "missing_sites": "; ".join(absent) if absent else None})
    if problems:
        raise InputError(f"{source}: " + "; ".join(problems)
                         + " (pass allow_missing=True to average the sites present)")
    return MsuvmaxResult(_frame(rows), allow_missing)


# --------------------------------------------------------------------------- MRI
@dataclass(frozen=True)
class MriResult:
    """MRI score per patient.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``patient_id``, ``mri_score`` (mean over readers), ``n_readers``,
        ``reader_scores`` (``;``-separated per-reader totals), ``missing_cells``.
    method : str
        How the 4 x 4 grades were combined (see :func:`mri_score`).
    """

    table: pd.DataFrame
    method: str

    def to_frame(self) -> pd.DataFrame:
        """Tidy copy of :attr:`table`."""
        return self.table.copy()

    def to_dict(self) -> dict[str, object]:
        """JSON-ready ``{rows: [...], method}``."""
        return {"rows": records(self.table), "method": self.method}


def mri_score(readings: pd.DataFrame, *, method: str = "group_max", allow_missing: bool = False,
              source: str = "mri readings") -> MriResult:
    """Study A's muscle MRI score from per-reader grades.

    Parameters
    ----------
    readings : pandas.DataFrame
        Long format, one grade per row: ``patient_id``, ``reader``, ``group`` (one of
        :data:`MRI_GROUPS`), ``feature`` (one of :data:`MRI_FEATURES`), ``grade`` (0-3, whole:
        0 normal, 1 mild, 2 moderate, 3 severe).
    method : {"group_max", "feature_max", "sum"}, default "group_max"
        How the 16 grades of one reader make a total. Study A grades 4 features in 4 muscle
        groups and states a total of 0-12, which only a collapse over one axis gives:
        ``group_max`` grades each muscle group by its worst feature and sums the 4 groups
        (0-12); ``feature_max`` grades each feature by its worst group and sums the 4 features
        (0-12); ``sum`` adds all 16 grades (0-48, not study A's scale).
    allow_missing : bool, default False
        A missing (group, feature) cell for a reader is an error; if True it is left out
        (the total then is a lower bound) and reported.
    source : str, default "mri readings"
        File name for error messages.

    Returns
    -------
    MriResult

    Raises
    ------
    myorisk.errors.InputError
        Columns absent, unknown group or feature, a grade outside 0-3 or not whole, a duplicate
        (reader, group, feature), or a missing cell (``allow_missing=False``).

    Notes
    -----
    The patient's score is the mean of the readers' totals (study A: two radiologists).
    """
    if method not in ("group_max", "feature_max", "sum"):
        raise InputError(f"method must be 'group_max', 'feature_max' or 'sum', not {method!r}")
    require_columns(readings, ("patient_id", "reader", "group", "feature", "grade"), source,
                    "the MRI score")
    errs = CellErrors(source)
    group = _labels(readings, "group")
    feature = _labels(readings, "feature")
    _unknown(errs, readings, "group", group, MRI_GROUPS)
    _unknown(errs, readings, "feature", feature, MRI_FEATURES)
    grade = errs.numbers(readings, "grade", low=0, high=3)
    for r, g in zip(readings.index, grade, strict=True):
        if np.isnan(g):
            errs.add(r, "grade", "missing")
        elif g != int(g):
            errs.add(r, "grade", f"{g:g} is not a whole grade 0-3")
    data = pd.DataFrame({"patient_id": readings["patient_id"].to_numpy(),
                         "reader": readings["reader"].astype(str).to_numpy(),
                         "group": group.to_numpy(), "feature": feature.to_numpy(),
                         "grade": grade, "row": readings.index})
    dup = data.duplicated(["patient_id", "reader", "group", "feature"], keep="first")
    for r in data.loc[dup, "row"]:
        errs.add(r, "grade", "second grade for the same patient, reader, group and feature")
    errs.raise_if_any()
    rows, problems = [], []
    for pid, g in data.groupby("patient_id", sort=False):
        totals, missing_cells = [], []
        for reader, gr in g.groupby("reader", sort=True):
            grid = gr.pivot(index="group", columns="feature", values="grade").reindex(
                index=list(MRI_GROUPS), columns=list(MRI_FEATURES))
            holes = [f"reader {reader}: {gg}/{ff}" for gg in MRI_GROUPS for ff in MRI_FEATURES
                     if np.isnan(grid.loc[gg, ff])]
            missing_cells.extend(holes)
            if method == "group_max":
                total = grid.max(axis=1, skipna=True).fillna(0).sum()
            elif method == "feature_max":
                total = grid.max(axis=0, skipna=True).fillna(0).sum()
            else:
                total = grid.sum().sum()
            totals.append(float(total))
        if missing_cells and not allow_missing:
            problems.append(f"patient {pid}: no grade for {', '.join(missing_cells)}")
        rows.append({"patient_id": pid, "mri_score": float(np.mean(totals)),
                     "n_readers": len(totals),
                     "reader_scores": "; ".join(f"{t:g}" for t in totals),
                     "missing_cells": "; ".join(missing_cells) if missing_cells else None})
    if problems:
        raise InputError(f"{source}: " + "; ".join(problems)
                         + " (pass allow_missing=True to score the grades present)")
    return MriResult(_frame(rows), method)


# --------------------------------------------------------------------------- EMG
@dataclass(frozen=True)
class EmgResult:
    """Abundant spontaneous potentials per patient.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``patient_id``, ``emg_abundant_sp`` (0/1), ``n_sites``, ``n_abundant_sites``,
        ``abundant_sites`` (``;``-separated).
    min_rate : float
        Rate (fibrillations + positive sharp waves per second) that makes a site abundant.
    min_sites : int
        Number of abundant sites that makes the patient positive.
    """

    table: pd.DataFrame
    min_rate: float
    min_sites: int

    def to_frame(self) -> pd.DataFrame:
        """Tidy copy of :attr:`table`."""
        return self.table.copy()

    def to_dict(self) -> dict[str, object]:
        """JSON-ready ``{rows: [...], min_rate, min_sites}``."""
        return {"rows": records(self.table), "min_rate": self.min_rate,
                "min_sites": self.min_sites}


def emg_abundant_sp(readings: pd.DataFrame, *, min_rate: float = 2.0, min_sites: int = 2,
                    source: str = "emg readings") -> EmgResult:
    """Study A's "abundant spontaneous potentials" from per-site EMG rates.

    Parameters
    ----------
    readings : pandas.DataFrame
        Long format: ``patient_id``, ``site`` (muscle, any label, e.g. ``deltoid_left``),
        ``rate`` (fibrillation potentials and positive sharp waves per second, >= 0);
        optionally ``reader``. Several readings of one site are averaged.
    min_rate : float, default 2.0
        A site is abundant when its rate is >= ``min_rate`` per second.
    min_sites : int, default 2
        ``emg_abundant_sp`` is 1 when at least ``min_sites`` sites are abundant ("across
        multiple muscle sites").
    source : str, default "emg readings"
        File name for error messages.

    Returns
    -------
    EmgResult

    Raises
    ------
    myorisk.errors.InputError
        Columns absent, a rate that is missing, negative or not a number, or bad options.
    """
    if min_sites < 1:
        raise InputError(f"min_sites must be at least 1, not {min_sites}")
    if not min_rate > 0:
        raise InputError(f"min_rate must be positive, not {min_rate}")
    require_columns(readings, ("patient_id", "site", "rate"), source, "the EMG summary")
    errs = CellErrors(source)
    site = _labels(readings, "site")
    rate = errs.numbers(readings, "rate", low=0)
    for r, s, x in zip(readings.index, site, rate, strict=True):
        if s is None:
            errs.add(r, "site", "missing")
        if np.isnan(x):
            errs.add(r, "rate", "missing")
    errs.raise_if_any()
    data = pd.DataFrame({"patient_id": readings["patient_id"].to_numpy(),
                         "site": site.to_numpy(), "rate": rate})
    rows = []
    for pid, g in data.groupby("patient_id", sort=False):
        per_site = g.groupby("site", sort=True)["rate"].mean()
        hot = [s for s, x in per_site.items() if round(x, 9) >= min_rate]
        rows.append({"patient_id": pid, "emg_abundant_sp": int(len(hot) >= min_sites),
                     "n_sites": int(len(per_site)), "n_abundant_sites": len(hot),
                     "abundant_sites": "; ".join(hot) if hot else None})
    return EmgResult(_frame(rows), float(min_rate), int(min_sites))
