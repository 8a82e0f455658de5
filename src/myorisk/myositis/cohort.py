"""Cohort files: load, check against the canonical schema, and derive instrument results.

Every command that reads a cohort goes through :func:`load` (or :func:`check` for a report
without raising), so problems read the same everywhere::

    cohort.csv: row 7, column 'age': 'abc' is not a number

Rows are the user's row numbers (see :mod:`myorisk.myositis.io`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from myorisk.codes import DEFAULT as DEFAULT_CODES
from myorisk.errors import InputError, word_problems
from myorisk.errors import Problem as _BaseProblem
from myorisk.myositis import criteria as _criteria
from myorisk.myositis import imaging as _imaging
from myorisk.myositis import tis as _tis
from myorisk.myositis._cells import json_value, records
from myorisk.myositis.io import (
    MappedColumn,
    Mapping,
    apply_mapping,
    read_mapping,
    read_redcap,
    read_table,
    to_numbers,
)
from myorisk.myositis.io import _as_text as _show
from myorisk.myositis.schema import (
    BIOPSY_ITEMS,
    CORE_SET,
    CRITERIA_ITEMS,
    DATE_PAIRS,
    ENZYMES,
    MMT8_SCALES,
    VARIABLES,
)

__all__ = ["CheckReport", "Cohort", "Problem", "check", "default_enzyme", "derive", "load",
           "read_readings"]


@dataclass(frozen=True)
class Problem(_BaseProblem):
    """One problem found in a cohort file: :class:`myorisk.errors.Problem` with a severity.

    Parameters
    ----------
    file : str or None
        File name.
    row : int or None
        Row as the user counts it (None: the whole column or file).
    column : str or None
        Canonical column name (the user's name is in :attr:`CheckReport.mapped`).
    value : object
        The offending cell value as read (None when not about one cell).
    rule : str
        What is wrong, e.g. ``"is not a number"``.
    severity : {"error", "warning"}
        Errors stop :func:`load` (and exit 2 on the command line); warnings do not.
    hint : str or None
        How to fix it (said once per group of problems).
    """

    severity: str = "error"
    hint: str | None = None

    def line(self, source: str | None = None) -> str:
        """One-line message ``"<source>: row R, column 'c': '<value>' <rule>"``."""
        tag = "" if self.severity == "error" else f"{self.severity}: "
        where = self.where()
        val = "" if self.value is None else f"'{_show(self.value)}' "
        head = f"{source or self.file}: " + (f"{where}: " if where else "")
        return f"{head}{tag}{val}{self.rule}"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return {"row": json_value(self.row), "column": self.column,
                "value": None if self.value is None else _show(self.value), "rule": self.rule,
                "severity": self.severity}


def _grouped_lines(problems: tuple[Problem, ...], source: str) -> list[str]:
    """One line per (severity, column, rule): a rule broken in many rows is said once."""
    groups: dict[tuple, list[Problem]] = {}
    for p in problems:
        groups.setdefault((p.severity, p.column, p.rule), []).append(p)
    lines = []
    for (sev, _col, _rule), items in groups.items():
        if len(items) == 1:
            text = items[0].line(source)
        else:
            base = [_BaseProblem(source, p.row, p.column, p.value, p.rule) for p in items]
            text = word_problems(base)
            if sev != "error":
                text = text.replace(f"{source}: ", f"{source}: {sev}: ", 1)
        hint = next((p.hint for p in items if p.hint), None) if len(items) > 1 else None
        lines.append(f"{text} — {hint}" if hint else text)
    return lines


@dataclass(frozen=True)
class CheckReport:
    """Everything :func:`check` found in a cohort.

    Parameters
    ----------
    source : str
        File name.
    n_rows : int
        Data rows.
    problems : tuple of Problem
        In the order found (by rule, then row).
    missing : pandas.DataFrame
        Missing-data report, one row per column: ``variable``, ``canonical`` (bool),
        ``kind``, ``n``, ``n_missing``, ``pct_missing``.
    mapped : tuple of MappedColumn
        Columns renamed or recoded.
    unmapped : tuple of str
        Columns that are not canonical variables (kept unchanged).
    """

    source: str
    n_rows: int
    problems: tuple[Problem, ...]
    missing: pd.DataFrame
    mapped: tuple[MappedColumn, ...] = ()
    unmapped: tuple[str, ...] = ()

    @property
    def errors(self) -> tuple[Problem, ...]:
        """Problems of severity ``error``."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def lines(self, *, errors_only: bool = False) -> list[str]:
        """One message line per kind of problem (a rule broken in many rows is one line, with
        the count and the first rows)."""
        ps = self.errors if errors_only else self.problems
        return _grouped_lines(ps, self.source)

    def raise_for_errors(self) -> None:
        """Raise one InputError carrying every error: one line per kind of error."""
        if not self.ok:
            raise InputError("\n".join(self.lines(errors_only=True)),
                             problems=[_BaseProblem(self.source, p.row, p.column, p.value, p.rule)
                                       for p in self.errors])

    def to_frame(self) -> pd.DataFrame:
        """Problems as a table (``row, column, value, rule, severity``)."""
        return pd.DataFrame([p.to_dict() for p in self.problems],
                            columns=["row", "column", "value", "rule", "severity"])

    def to_dict(self) -> dict[str, object]:
        """JSON-ready ``{source, n_rows, ok, n_errors, n_warnings, problems, missing, mapped,
        unmapped}``."""
        return {"source": self.source, "n_rows": self.n_rows, "ok": self.ok,
                "n_errors": len(self.errors),
                "n_warnings": len(self.problems) - len(self.errors),
                "problems": [p.to_dict() for p in self.problems],
                "missing": records(self.missing),
                "mapped": [m.to_dict() for m in self.mapped],
                "unmapped": list(self.unmapped)}


@dataclass(frozen=True)
class Cohort:
    """A checked cohort with canonical column names and types.

    Parameters
    ----------
    data : pandas.DataFrame
        Canonical names; numbers ``float64``, 0/1 variables ``Int64``, categories as the
        schema's levels, dates ``datetime64``; other columns as read. Index = user's rows.
    source : str
        File name.
    report : CheckReport
        The check (warnings may remain).
    """

    data: pd.DataFrame
    source: str
    report: CheckReport = field(repr=False)


# --------------------------------------------------------------------------- checking
def _as_mapping(mapping: Mapping | dict | str | os.PathLike[str] | None) -> Mapping | None:
    if mapping is None or isinstance(mapping, Mapping):
        return mapping
    if isinstance(mapping, dict):
        return Mapping.from_dict(mapping)
    return read_mapping(mapping)


def _validate(df: pd.DataFrame, source: str, mapping: Mapping | None
              ) -> tuple[pd.DataFrame, CheckReport]:
    data, mapped = apply_mapping(df, mapping, source)
    typed = data.copy()
    problems: list[Problem] = []

    def add(row: object, col: str | None, value: object, rule: str, sev: str = "error",
            hint: str | None = None) -> None:
        problems.append(Problem(source, row, col, value, rule, sev, hint))

    vocab = mapping.vocabulary if mapping is not None else DEFAULT_CODES

    if "patient_id" not in data.columns:
        add(None, "patient_id", None, "required column is missing (map your identifier column "
                                      "to patient_id)")
    mmt_hi = _mmt8_max(data, mapping)
    for col in data.columns:
        var = VARIABLES.get(col)
        if var is None:
            continue
        s = data[col]
        if var.kind == "id":
            seen: dict[str, object] = {}
            for r, v in s.items():
                if pd.isna(v):
                    add(r, col, None, "missing (every row needs a patient_id)")
                    continue
                key = _show(v)
                if key in seen:
                    add(r, col, v, f"is a duplicate patient_id (first at row {seen[key]})")
                else:
                    seen[key] = r
        elif var.kind == "number":
            values, bad = to_numbers(s)
            for r, v in bad:
                add(r, col, v, _not_a_number(v))
            hi = mmt_hi if col in ("mmt8_bl", "mmt8_fu") else None
            for r, x, raw in zip(data.index, values, s, strict=True):
                if np.isnan(x):
                    continue
                lo_bad = var.low is not None and (x <= var.low if var.low_exclusive
                                                  else x < var.low)
                top = var.high if hi is None else hi.loc[r]
                if lo_bad or (top is not None and x > top):
                    rng = var.range_text() if hi is None else f"0-{top:g}"
                    extra = "" if hi is None else " (declare mmt8_max = 150 for the 0-150 scale)"
                    add(r, col, raw, f"is out of range {rng}{extra}")
            if col == "mmt8_max":
                for r, x in values.items():
                    if not np.isnan(x) and x not in MMT8_SCALES:
                        add(r, col, x, "is not an MMT8 scale maximum (80 or 150)")
            typed[col] = values
        elif var.kind == "binary":
            out = []
            for r, v in s.items():
                if pd.isna(v):
                    out.append(pd.NA)
                    continue
                b = vocab.binary(v)
                if b is None:
                    add(r, col, v, "is not 0/1 (or yes/no)",
                        hint=f"if such words mean yes or no, say so in a mapping file "
                             f"(--mapping FILE), e.g. 'codes: {{yes: [{_show(v)}]}}' (or 'no:')")
                    out.append(pd.NA)
                else:
                    out.append(int(b))
            typed[col] = pd.array(out, dtype="Int64")
        elif var.kind == "category":
            out = []
            for r, v in s.items():
                if pd.isna(v):
                    out.append(np.nan)
                    continue
                lv = vocab.level(v, var.levels)
                if lv is None:
                    add(r, col, v, f"is not a known category (expected {', '.join(var.levels)})",
                        hint=f"if they are other words for {' or '.join(var.levels)}, say so "
                             f"in a mapping file (--mapping FILE), e.g. 'codes: "
                             f"{{{var.levels[-1]}: [{_show(v)}]}}' or 'recode: {{{col}: "
                             f"{{{_show(v)}: {var.levels[-1]}}}}}'")
                out.append(lv if lv is not None else np.nan)
            typed[col] = pd.Series(out, index=data.index, dtype="str")
        elif var.kind == "date":
            parsed = []
            for r, v in s.items():
                if pd.isna(v):
                    parsed.append(pd.NaT)
                    continue
                text = _show(v).strip()
                try:
                    if not _ISO_DATE.match(text):  # 04/03/2021: 4 March or 3 April? never guess
                        raise ValueError(text)
                    parsed.append(pd.Timestamp(text).normalize())
                except ValueError:
                    add(r, col, v, "is not a date (use YYYY-MM-DD)")
                    parsed.append(pd.NaT)
            typed[col] = pd.to_datetime(pd.Series(parsed, index=data.index))
    _cross_field(data, typed, add)
    if mapping is not None and "mmt8_max" in mapping.options:
        typed.attrs["mmt8_max"] = float(mapping.options["mmt8_max"])  # read by the TIS
    position = {c: i for i, c in enumerate(data.columns)}
    problems.sort(key=lambda p: (_row_key(p.row), position.get(p.column, -1)))
    report = CheckReport(source, len(data), tuple(problems), _missing_report(data), tuple(mapped),
                         tuple(c for c in data.columns if c not in VARIABLES))
    return typed, report


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


def _not_a_number(v: object) -> str:
    if _DECIMAL_COMMA.match(_show(v).strip()):
        return "is not a number (decimal comma? write the number with a point, e.g. 1.5)"
    return "is not a number"


def _row_key(row: object) -> tuple[int, float]:
    if row is None:
        return (0, 0.0)
    try:
        return (1, float(row))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return (1, 0.0)


def _mmt8_max(data: pd.DataFrame, mapping: Mapping | None) -> pd.Series:
    """Per-row MMT8 maximum: the row's ``mmt8_max``, else the mapping option, else 80."""
    default = 80.0
    if mapping is not None and "mmt8_max" in mapping.options:
        opt = mapping.options["mmt8_max"]
        try:
            default = float(opt)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            default = float("nan")
        if default not in MMT8_SCALES:
            raise InputError(f"{mapping.source}: options: mmt8_max must be 80 or 150, not {opt!r}")
    hi = pd.Series(default, index=data.index, dtype=float)
    if "mmt8_max" in data.columns:
        values, _ = to_numbers(data["mmt8_max"])
        ok = values.isin(MMT8_SCALES)
        hi[ok] = values[ok]
    return hi


def _cross_field(data: pd.DataFrame, typed: pd.DataFrame, add: Callable[..., None]) -> None:
    if "biopsy_done" in typed.columns:
        done = typed["biopsy_done"]
        for col in BIOPSY_ITEMS:
            if col not in data.columns:
                continue
            for r, v in data[col].items():
                if pd.isna(v):
                    continue
                if done.loc[r] is pd.NA:
                    add(r, col, v, "is a biopsy finding but biopsy_done is missing",
                        "warning")
                elif done.loc[r] == 0:
                    add(r, col, v, "is a biopsy finding but biopsy_done is 0 (no biopsy)")
    for early, late in DATE_PAIRS:
        if early in typed.columns and late in typed.columns:
            a, b = typed[early], typed[late]
            for r in typed.index:
                if pd.notna(a.loc[r]) and pd.notna(b.loc[r]) and b.loc[r] < a.loc[r]:
                    add(r, late, data[late].loc[r],
                        f"is before {early} ({a.loc[r].date().isoformat()}): follow-up cannot "
                        f"precede baseline")


def _missing_report(data: pd.DataFrame) -> pd.DataFrame:
    n = len(data)
    rows = []
    for col in data.columns:
        k = int(data[col].isna().sum())
        var = VARIABLES.get(col)
        rows.append({"variable": col, "canonical": var is not None,
                     "kind": var.kind if var else "", "n": n, "n_missing": k,
                     "pct_missing": 100.0 * k / n if n else 0.0})
    return pd.DataFrame(rows, columns=["variable", "canonical", "kind", "n", "n_missing",
                                       "pct_missing"])


def check(df: pd.DataFrame, source: str,
          mapping: Mapping | dict | str | os.PathLike[str] | None = None) -> CheckReport:
    """Check a cohort table against the canonical schema without raising on data problems.

    Parameters
    ----------
    df : pandas.DataFrame
        Table as read by :func:`myorisk.myositis.io.read_table` (index = user's rows).
    source : str
        File name for messages.
    mapping : Mapping, dict, path or None
        Column mapping (file path, parsed dict or :class:`~myorisk.myositis.io.Mapping`).

    Returns
    -------
    CheckReport
        Every problem (types, ranges, categories, duplicate or missing ``patient_id``, biopsy
        findings without a biopsy, follow-up before baseline), the missing-data report and
        what was mapped.

    Raises
    ------
    myorisk.errors.InputError
        Only for a broken mapping (a mapped column not in the file, an unknown canonical name).
    """
    return _validate(df, source, _as_mapping(mapping))[1]


def load(path: str | os.PathLike[str],
         mapping: Mapping | dict | str | os.PathLike[str] | None = None, *,
         sheet: str | int | None = None,
         redcap_dictionary: str | os.PathLike[str] | None = None,
         encoding: str | None = None, sep: str | None = None,
         decimal: str | None = None) -> Cohort:
    """Read, map and check a cohort file; raise if anything is an error.

    Parameters
    ----------
    path : str or path-like
        CSV, TSV, XLSX, SAV or DTA (or a REDCap raw export with ``redcap_dictionary``).
    mapping : Mapping, dict, path or None
        Column mapping.
    sheet : str or int, optional
        XLSX sheet.
    redcap_dictionary : str or path-like, optional
        REDCap data dictionary; ``path`` is then read with
        :func:`~myorisk.myositis.io.read_redcap`.
    encoding, sep, decimal : str, optional
        Text-file reading options of :func:`~myorisk.myositis.io.read_table` (default detected).

    Returns
    -------
    Cohort
        Checked data with canonical names and types.

    Raises
    ------
    myorisk.errors.InputError
        File problems (one line) or every data error, one per line.
    """
    source = str(path)
    raw = read_redcap(path, redcap_dictionary) if redcap_dictionary else read_table(
        path, sheet=sheet, encoding=encoding, sep=sep, decimal=decimal)
    typed, report = _validate(raw, source, _as_mapping(mapping))
    report.raise_for_errors()
    return Cohort(typed, source, report)


# --------------------------------------------------------------------------- derive
def default_enzyme(columns: object) -> tuple[str, str | None]:
    """The TIS enzyme measure the columns allow, and a note when it is a fallback.

    ``enzyme`` when ``enzyme_bl`` is present (one enzyme chosen per patient by the user), else
    ``most_abnormal`` when any ``<e>_uln`` column is, else ``ck`` (study A) with a note.
    """
    cols = set(map(str, columns))  # type: ignore[call-overload]
    if "enzyme_bl" in cols:
        return "enzyme", None
    if any(f"{e}_uln" in cols for e in ENZYMES):
        return "most_abnormal", None
    return "ck", "TIS: no enzyme ULN columns, so CK is the enzyme measure (study A)"


def _add(out: pd.DataFrame, name: str, values: object, notes: list[str],
         added: list[str]) -> None:
    if name in out.columns and out[name].notna().any():
        notes.append(f"'{name}' is already in the data: kept the file's values, did not derive")
        return
    out[name] = values
    added.append(name)


def _binary_int(x: pd.Series) -> pd.Series:
    return pd.array([pd.NA if pd.isna(v) else int(v) for v in x], dtype="Int64")


def _merge_by_id(out: pd.DataFrame, res: pd.DataFrame, cols: dict[str, str], what: str,
                 notes: list[str], added: list[str]) -> None:
    if "patient_id" not in out.columns:
        raise InputError(f"{what}: the cohort needs patient_id to join readings")
    key = out["patient_id"].map(_show)
    res = res.assign(_key=res["patient_id"].map(_show)).set_index("_key")
    unknown = sorted(set(res.index) - set(key))
    if unknown:
        notes.append(f"{what}: readings for patient(s) not in the cohort ignored: "
                     f"{', '.join(unknown)}")
    for src, dst in cols.items():
        _add(out, dst, key.map(res[src]).to_numpy(), notes, added)


def derive(
    df: pd.DataFrame,
    *,
    pet: pd.DataFrame | None = None,
    mri: pd.DataFrame | None = None,
    emg: pd.DataFrame | None = None,
    criteria_options: dict | None = None,
    tis_options: dict | None = None,
    source: str = "data",
) -> pd.DataFrame:
    """Add every variable derivable from the columns present; never drop or reorder a row.

    Parameters
    ----------
    df : pandas.DataFrame
        Canonical cohort (``load(...).data``).
    pet, mri, emg : pandas.DataFrame, optional
        Long-format readings for :func:`~myorisk.myositis.imaging.msuvmax`,
        :func:`~myorisk.myositis.imaging.mri_score` and
        :func:`~myorisk.myositis.imaging.emg_abundant_sp` (joined on ``patient_id``; patients
        without readings get missing values). Missing sites/cells are allowed and reported in
        ``msuvmax_missing_sites`` / ``mri_missing_cells``.
    criteria_options : dict, optional
        Keywords for :func:`~myorisk.myositis.criteria.eular_acr_2017` (default
        ``missing="skip"``: rows lacking an item get no classification).
    tis_options : dict, optional
        Keywords for :func:`~myorisk.myositis.tis.total_improvement_score` (default
        ``missing="allow"``; ``enzyme`` default: ``"enzyme"`` when ``enzyme_bl`` is present,
        else ``"most_abnormal"`` when any ``<e>_uln`` is, else ``"ck"`` (study A);
        ``population`` default ``"auto"`` when ``age_onset`` is complete; when some ages are
        missing, juvenile thresholds where ``age_onset`` < 18 and adult ones elsewhere, with a
        note; ``"adult"`` without ``age_onset``).
    source : str, default "data"
        File name for error messages.

    Returns
    -------
    pandas.DataFrame
        Copy of ``df`` plus, where inputs exist: ``eular_score``, ``eular_variant``,
        ``eular_probability``, ``eular_category``, ``eular_iim``, ``eular_subgroup``,
        ``eular_subgroup_branch``, ``biopsy_recommended``; ``points_<measure>``, ``tis``,
        ``tis_complete``, ``tis_population``, ``tis_enzyme``, ``tis_category``, ``response``,
        ``nonresponse``; ``msuvmax``; ``mri_score``; ``emg_abundant_sp``. A column already
        holding values is never overwritten. ``result.attrs["derived"]`` lists
        ``added`` columns and ``notes``.
    """
    out = df.copy()
    notes: list[str] = []
    added: list[str] = []
    if all(c in df.columns for c in ("age_onset", *CRITERIA_ITEMS)):
        opts = {"missing": "skip", "source": source, **(criteria_options or {})}
        t = _criteria.eular_acr_2017(df, **opts).table
        for src, dst in (("score", "eular_score"), ("variant", "eular_variant"),
                         ("probability", "eular_probability"), ("category", "eular_category"),
                         ("iim", "eular_iim"), ("subgroup", "eular_subgroup"),
                         ("subgroup_branch", "eular_subgroup_branch"),
                         ("biopsy_recommended", "biopsy_recommended")):
            flag = src in ("iim", "biopsy_recommended")
            _add(out, dst, _binary_int(t[src]) if flag else t[src].to_numpy(), notes, added)
        skipped = int(t["score"].isna().sum())
        if skipped:
            notes.append(f"EULAR/ACR 2017: {skipped} row(s) not scored (missing items)")
    else:
        notes.append("EULAR/ACR 2017: not derived (needs age_onset and the 10 clinical items)")
    core = [f"{m}_{t}" for m in CORE_SET for t in ("bl", "fu")]
    if all(c in df.columns for c in core):
        opts = {"missing": "allow", "source": source, **(tis_options or {})}
        if "enzyme" not in opts:
            opts["enzyme"], why = default_enzyme(df.columns)
            if why:
                notes.append(why)
        juvenile_rows = None
        if "population" not in opts:
            age = (pd.to_numeric(df["age_onset"], errors="coerce") if "age_onset" in df.columns
                   else None)
            auto = age is not None and bool(age.notna().all())
            opts["population"] = "auto" if auto else "adult"
            if age is not None and not auto:
                # known children keep the JDM thresholds; only rows without an age get adult
                juvenile_rows = (age < 18).to_numpy()
                notes.append(f"TIS: age_onset missing in {int(age.isna().sum())} row(s): "
                             f"adult thresholds used there")
        if opts["enzyme"] in ENZYMES and f"{opts['enzyme']}_bl" not in df.columns:
            notes.append("TIS: not derived (no enzyme measure: enzyme_bl, ck_bl ...)")
        else:
            t = _tis.total_improvement_score(df, **opts).table
            if juvenile_rows is not None and juvenile_rows.any():
                tj = _tis.total_improvement_score(df, **{**opts, "population": "juvenile"}).table
                t = t.copy()
                t.loc[juvenile_rows] = tj.loc[juvenile_rows]
            for m in _tis.MEASURES:
                _add(out, f"points_{m}", t[f"points_{m}"].to_numpy(), notes, added)
            for src, dst in (("tis", "tis"), ("population", "tis_population"),
                             ("enzyme_used", "tis_enzyme"), ("category", "tis_category")):
                _add(out, dst, t[src].to_numpy(), notes, added)
            _add(out, "tis_complete", _binary_int(t["complete"]), notes, added)
            _add(out, "response", _binary_int(t["response"]), notes, added)
            _add(out, "nonresponse", _binary_int(t["nonresponse"]), notes, added)
            inc = int((~t["complete"]).sum())
            if inc:
                notes.append(f"TIS: {inc} row(s) incomplete (a core set measure missing)")
    else:
        notes.append("TIS: not derived (needs *_bl and *_fu of pga, ptga, mmt8, haq, "
                     "extramuscular and an enzyme)")
    if pet is not None:
        r = _imaging.msuvmax(pet, allow_missing=True,
                             source=pet.attrs.get("source", "pet readings")).table
        _merge_by_id(out, r, {"msuvmax": "msuvmax", "missing_sites": "msuvmax_missing_sites"},
                     "PET readings", notes, added)
    if mri is not None:
        r = _imaging.mri_score(mri, allow_missing=True,
                               source=mri.attrs.get("source", "mri readings")).table
        _merge_by_id(out, r, {"mri_score": "mri_score", "missing_cells": "mri_missing_cells"},
                     "MRI readings", notes, added)
    if emg is not None:
        r = _imaging.emg_abundant_sp(emg, source=emg.attrs.get("source", "emg readings")).table
        _merge_by_id(out, r, {"emg_abundant_sp": "emg_abundant_sp"}, "EMG readings", notes,
                     added)
        if "emg_abundant_sp" in added:
            out["emg_abundant_sp"] = _binary_int(out["emg_abundant_sp"])
    if len(out) != len(df):  # pragma: no cover - guarded by construction
        raise AssertionError("derive changed the number of rows")
    out.attrs["derived"] = {"added": added, "notes": notes}
    return out


def read_readings(path: str | os.PathLike[str] | None, *, encoding: str | None = None,
                  sep: str | None = None, decimal: str | None = None) -> pd.DataFrame | None:
    """Read a long-format readings file (PET, MRI or EMG) with the cohort reader.

    Parameters
    ----------
    path : str, path-like or None
        The file, or None.
    encoding, sep, decimal : str, optional
        As :func:`myorisk.myositis.io.read_table` (the command's ``--encoding/--sep/--decimal``,
        which apply to every file it reads).

    Returns
    -------
    pandas.DataFrame or None
        Columns renamed to lower case (``Patient ID`` -> ``patient_id``); ``attrs["source"]``
        holds the file name for messages.
    """
    if path is None:
        return None
    from myorisk.myositis.schema import normalise_name

    tab = read_table(Path(path), encoding=encoding, sep=sep, decimal=decimal)
    tab = tab.rename(columns={c: normalise_name(c) for c in tab.columns})
    tab.attrs["source"] = str(path)
    return tab
