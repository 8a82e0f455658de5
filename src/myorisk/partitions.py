"""Data in Parquet partitions, read where they are processed (for data larger than memory).

A data set is a folder of ``*.parquet`` files, a ``*.parquet`` glob, or one Parquet file (whose
row groups are then its partitions). A :class:`ParquetPartition` names one file (and optionally
one row group) and the columns a model needs; its ``load()`` reads just those columns (pyarrow)
on whichever worker processes it and returns the design rows and 0/1 outcome that
:func:`myorisk.modeling.sufficient.fit_partitioned` sums over. Nothing is ever concatenated in
the driver.

Rows with a missing value (null or NaN) in the outcome or a predictor are excluded in every
partition (listwise deletion, as ``myorisk fit`` does), and :func:`scan_partitions` counts them
by column and names the first rows as ``file:row`` (row = 1-based row of the file). Only numeric
(or boolean) predictors and an outcome coded 0/1 are supported; a missing column, a text
column, columns whose type differs between files, an empty folder, a file that is not Parquet,
an infinite value or another outcome code stop with one message naming the file, the column
and the rule.
"""

from __future__ import annotations

import glob as _glob
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from myorisk.errors import InputError

__all__ = ["ParquetPartition", "parquet_partitions", "parquet_files", "scan_partition", "scan_partitions",
           "PartitionScan", "is_parquet_source", "collect_levels", "partition_levels", "design_names"]

SUFFIXES = (".parquet", ".parq", ".pq")
ROWS_LISTED = 10  # rows with missing values named per partition


def is_parquet_source(source: str | Path) -> bool:
    """True for a folder, a ``*.parquet`` glob or a file with a Parquet suffix."""
    text = str(source)
    if any(ch in text for ch in "*?["):
        return True
    p = Path(text)
    return p.is_dir() or p.suffix.lower() in SUFFIXES


def _label(path: str, row_group: int | None) -> str:
    name = Path(path).name
    return name if row_group is None else f"{name} (row group {row_group + 1})"


@dataclass(frozen=True)
class ParquetPartition:
    """One Parquet file (or one row group of it) of a partitioned data set.

    Attributes
    ----------
    path : str
        The file.
    outcome : str
        0/1 outcome column.
    predictors : tuple of str
        Predictor columns (an intercept column is added).
    row_group : int or None
        Only this row group of the file (None: the whole file).
    row_offset : int
        Rows of the file before this row group (to number rows as the file does).
    categorical : tuple of str
        Predictors coded as categories (text, numbers or true/false; blank text is missing).
    levels : tuple of tuple of str
        Per categorical predictor, its levels with the reference first (from
        :func:`collect_levels`); each other level gets a 0/1 column ``var=level``. Empty: not yet
        known (``load`` is then unavailable; :func:`partition_levels` is).
    interactions : tuple of (str, str)
        Products of two predictors' columns, after the main effects: every column of the first
        times every column of the second, the second's columns outermost, named ``a * b`` (as
        rms and ``myorisk fit`` name them).
    """

    path: str
    outcome: str
    predictors: tuple[str, ...]
    row_group: int | None = None
    row_offset: int = 0
    categorical: tuple[str, ...] = ()
    levels: tuple[tuple[str, ...], ...] = ()
    interactions: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        """The file name (with the row group when the partition is one)."""
        return _label(self.path, self.row_group)

    def _columns(self) -> tuple[list[np.ndarray], np.ndarray, dict[str, list[str]]]:
        """The outcome and predictor columns as floats (NaN where missing; a categorical column as
        codes into this partition's labels), the complete rows, and those labels."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        cols = [self.outcome, *self.predictors]
        name = Path(self.path).name
        try:
            if self.row_group is None:
                table = pq.read_table(self.path, columns=cols)
            else:
                table = pq.ParquetFile(self.path).read_row_group(self.row_group, columns=cols)
        except (OSError, ValueError, KeyError) as e:
            raise InputError(f"{name}: cannot read columns {', '.join(cols)} as Parquet ({e})") from None
        arrays = []
        labels: dict[str, list[str]] = {}
        ok = np.ones(table.num_rows, dtype=bool)
        for c in cols:
            col = table.column(c)
            if c in self.categorical:
                a, labels[c] = _category_codes(col, self.label, c)
            else:
                if not _numeric_type(col.type):
                    raise InputError(f"{self.label}: column '{c}' is {_kind(col.type)}, not numeric; partitioned "
                                     "fits take numeric or true/false columns (or declare it --categorical)")
                a = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
                a = np.array(a, dtype=float)  # writable
                inf = np.flatnonzero(np.isinf(a))
                if inf.size:
                    where = "row group" if self.row_group is not None else "file"
                    raise InputError(f"{name}: row {self.row_offset + int(inf[0]) + 1}, column '{c}': infinite "
                                     f"value ({inf.size} such rows in this {where})")
            ok &= ~np.isnan(a)
            arrays.append(a)
        return arrays, ok, labels

    def _xy(self, arrays: list[np.ndarray], ok: np.ndarray,
            labels: dict[str, list[str]]) -> tuple[np.ndarray, np.ndarray]:
        y = arrays[0][ok]
        off = np.flatnonzero((y != 0) & (y != 1))
        if off.size:
            row = int(np.flatnonzero(ok)[off[0]])
            raise InputError(f"{Path(self.path).name}: row {self.row_offset + row + 1}, column '{self.outcome}': "
                             f"outcome must be 0 or 1, not {y[off[0]]:g}")
        blocks = [np.ones((y.size, 1))]
        levels = dict(zip(self.categorical, self.levels, strict=False))
        own: dict[str, np.ndarray] = {}
        for c, a in zip(self.predictors, arrays[1:], strict=True):
            if c not in self.categorical:
                own[c] = a[ok][:, None]
                blocks.append(own[c])
                continue
            lv = levels.get(c)
            if lv is None:  # pragma: no cover - guarded by the caller
                raise InputError(f"{self.label}: the levels of '{c}' are not known yet")
            where = {v: i for i, v in enumerate(lv)}
            glob = np.array([where.get(u, -1) for u in labels[c]], dtype=np.int64)
            g = glob[a[ok].astype(np.int64)] if y.size else np.zeros(0, dtype=np.int64)
            if np.any(g < 0):  # pragma: no cover - levels come from every partition
                raise InputError(f"{self.label}: column '{c}' has a level missing from the level list")
            own[c] = (g[:, None] == np.arange(1, len(lv))[None, :]).astype(float)
            blocks.append(own[c])
        for a_, b_ in self.interactions:
            A, B = own[a_], own[b_]
            blocks += [A[:, [i]] * B[:, [j]] for j in range(B.shape[1]) for i in range(A.shape[1])]
        return np.hstack(blocks), y

    def load(self) -> tuple[np.ndarray, np.ndarray]:
        """``(X, y)`` of the complete rows: the intercept, predictor (and dummy) columns, and the outcome."""
        return self._xy(*self._columns())


def _level_label(v: float) -> str:
    """Text form of a numeric category (1.0 → '1'), as ``myorisk fit`` names levels."""
    return str(int(v)) if float(v).is_integer() else str(v)


def _category_codes(col: Any, label: str, name: str) -> tuple[np.ndarray, list[str]]:
    """Codes (float, NaN where missing) into this partition's own labels, and the labels."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = col.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        trimmed = pc.utf8_trim_whitespace(col)
        enc = pc.dictionary_encode(trimmed).combine_chunks()
        words = enc.dictionary.to_pylist()
        idx = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(float)
        idx[idx < 0] = np.nan
        blank = [i for i, w in enumerate(words) if w == ""]
        for i in blank:  # blank text is missing, as in a CSV
            idx[idx == i] = np.nan
        return idx, [str(w) for w in words]
    if pa.types.is_boolean(t):
        a = np.array(pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
        return a, ["False", "True"]
    if not _numeric_type(t):
        raise InputError(f"{label}: column '{name}' is {_kind(t)}; a categorical predictor must be text, numbers "
                         "or true/false")
    a = np.array(pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
    a[np.isinf(a)] = np.nan
    uniq = np.unique(a[~np.isnan(a)])
    codes = np.full(a.shape, np.nan)
    good = ~np.isnan(a)
    codes[good] = np.searchsorted(uniq, a[good])
    return codes, [_level_label(u) for u in uniq]


def partition_levels(part: ParquetPartition) -> dict[str, list[str]]:
    """Levels of the categorical predictors among the complete rows of one partition."""
    arrays, ok, labels = part._columns()
    out = {}
    for c, a in zip(part.predictors, arrays[1:], strict=True):
        if c in part.categorical:
            used = np.unique(a[ok]).astype(np.int64)
            out[c] = [labels[c][i] for i in used]
    return out


def collect_levels(parts: Sequence[ParquetPartition], reference: dict[str, str] | None = None,
                   executor: Any = None, source: str = "data") -> list[ParquetPartition]:
    """The partitions with the levels of their categorical predictors filled in (a first pass).

    Levels are those seen in the complete rows of every partition, ordered as R orders factor
    levels (numbers by value, text by collation), the ``reference`` level (or the first) first.
    """
    from dataclasses import replace

    from myorisk.modeling._collate import r_sorted
    from myorisk.modeling.executor import ThreadExecutor

    if not parts or not parts[0].categorical:
        return list(parts)
    ex = executor or ThreadExecutor()
    found: dict[str, set[str]] = {c: set() for c in parts[0].categorical}
    for r in ex.run(partition_levels, [(p,) for p in parts]):
        for c, lv in r.items():
            found[c].update(lv)
    reference = dict(reference or {})
    levels = []
    for c in parts[0].categorical:
        lv = r_sorted(found[c])
        ref = reference.get(c)
        if ref is not None:
            if str(ref) not in lv:
                raise InputError(f"{source}: reference level '{ref}' of '{c}' does not occur (levels: {', '.join(lv)})")
            lv = [str(ref)] + [x for x in lv if x != str(ref)]
        if len(lv) < 2:
            raise InputError(f"{source}: categorical predictor '{c}' has {'a single level' if lv else 'no value'}"
                             f"{' (' + lv[0] + ')' if lv else ''} in the rows used; it cannot be estimated — remove it")
        levels.append(tuple(lv))
    return [replace(p, levels=tuple(levels)) for p in parts]


def design_names(part: ParquetPartition) -> list[str]:
    """Column names of the design: Intercept, then each predictor (``var=level`` for a category)."""
    names = ["Intercept"]
    levels = dict(zip(part.categorical, part.levels, strict=False))
    own = {c: [f"{c}={lv}" for lv in levels[c][1:]] if c in part.categorical else [c] for c in part.predictors}
    for c in part.predictors:
        names += own[c]
    for a, b in part.interactions:
        names += [f"{ca} * {cb}" for cb in own[b] for ca in own[a]]
    return names


def _kind(t: Any) -> str:
    """How a person names a Parquet column type."""
    import pyarrow as pa

    if pa.types.is_boolean(t):
        return "true/false"
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "numeric"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "text"
    return f"of type {t}"


def _numeric_type(t: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
                or pa.types.is_decimal(t) or pa.types.is_null(t))


def scan_partition(part: ParquetPartition) -> dict[str, Any]:
    """First pass over one partition: rows, missing values by column, first incomplete rows,
    per-column min and max and the cross-products of the complete rows (to name a constant or
    collinear predictor before fitting)."""
    arrays, ok, labels = part._columns()
    cols = [part.outcome, *part.predictors]
    X, y = part._xy(arrays, ok, labels)  # checks the outcome codes of the complete rows
    miss = ~ok
    rows = (np.flatnonzero(miss)[:ROWS_LISTED] + part.row_offset + 1).tolist()
    return {
        "label": part.label, "file": Path(part.path).name,
        "rows": int(ok.size), "dropped": int(miss.sum()), "events": int(y.sum()),
        "by_column": {c: int(np.isnan(a).sum()) for c, a in zip(cols, arrays, strict=True)},
        "missing_rows": [f"{Path(part.path).name}:{r}" for r in rows],
        "min": X.min(axis=0).tolist() if y.size else None, "max": X.max(axis=0).tolist() if y.size else None,
        "binary": np.all((X == 0) | (X == 1), axis=0).tolist(),
        "gram": X.T @ X,
    }


@dataclass(frozen=True)
class PartitionScan:
    """What the first pass over every partition found (merged in partition order).

    Attributes
    ----------
    n_rows, n_dropped : int
        Rows read and rows excluded for a missing value.
    events : int
        Events among the complete rows.
    by_column : dict
        Column → missing values.
    rows : tuple of str
        ``file:row`` of the first excluded rows of every partition (at most 10 per partition).
    rows_complete : bool
        True when ``rows`` names every excluded row.
    minimum, maximum : ndarray
        Per design column (intercept first), over the complete rows.
    gram : ndarray
        XᵀX of the complete rows.
    binary : ndarray of bool
        Per design column: only 0 and 1 occur.
    """

    n_rows: int
    n_dropped: int
    events: int
    by_column: dict
    rows: tuple[str, ...]
    rows_complete: bool
    minimum: np.ndarray
    maximum: np.ndarray
    gram: np.ndarray
    binary: np.ndarray | None = None

    def missing(self) -> dict[str, Any]:
        """The listwise-deletion report in ``myorisk fit``'s form (rows as ``file:row``)."""
        return {"n_rows": self.n_rows, "n_dropped": self.n_dropped,
                "by_column": {k: v for k, v in self.by_column.items()}, "rows": list(self.rows),
                "rows_complete": self.rows_complete}

    def message(self) -> str | None:
        """One sentence describing the removal, as ``myorisk fit`` words it, or None."""
        if not self.n_dropped:
            return None
        cols = ", ".join(f"'{c}' {k}" for c, k in self.by_column.items() if k)
        shown = ", ".join(self.rows[:10]) + (" …" if len(self.rows) > 10 or not self.rows_complete else "")
        return (f"{self.n_dropped} of {self.n_rows} rows with missing values were excluded (listwise "
                f"deletion; missing: {cols}; rows {shown})")


def scan_partitions(parts: Sequence[ParquetPartition], executor: Any = None) -> PartitionScan:
    """Run :func:`scan_partition` on every partition (on ``executor``'s workers) and merge."""
    from myorisk.modeling.executor import ThreadExecutor

    ex = executor or ThreadExecutor()
    res = ex.run(scan_partition, [(p,) for p in parts])
    by: dict[str, int] = {}
    rows: list[str] = []
    complete = True
    mins, maxs = [], []
    gram = None
    binary = np.ones(len(design_names(parts[0])), dtype=bool)
    for r in res:
        binary &= np.asarray(r["binary"], dtype=bool)
        for c, k in r["by_column"].items():
            by[c] = by.get(c, 0) + k
        rows.extend(r["missing_rows"])
        complete &= len(r["missing_rows"]) == r["dropped"]
        if r["min"] is not None:
            mins.append(r["min"])
            maxs.append(r["max"])
        gram = r["gram"] if gram is None else gram + r["gram"]
    k = len(design_names(parts[0]))
    return PartitionScan(
        n_rows=sum(r["rows"] for r in res), n_dropped=sum(r["dropped"] for r in res),
        events=sum(r["events"] for r in res), by_column=by,
        rows=tuple(rows), rows_complete=complete,
        minimum=np.min(mins, axis=0) if mins else np.full(k, np.nan),
        maximum=np.max(maxs, axis=0) if maxs else np.full(k, np.nan), gram=gram, binary=binary,
    )


def parquet_files(source: str | Path | Sequence[str | Path]) -> list[Path]:
    """The files of a folder (every ``*.parquet``, sorted by name), a glob, one file, or a list.

    Hidden files and files starting with ``_`` (``_SUCCESS``, ``_metadata`` of Spark and Hive)
    are skipped in a folder; any other file that is not ``.parquet`` is an error.
    """
    if not isinstance(source, str | Path):
        files = [Path(s) for s in source]
    elif any(ch in str(source) for ch in "*?["):
        files = sorted(Path(f) for f in _glob.glob(str(source)))
        if not files:
            raise InputError(f"{source}: no file matches this pattern")
    elif Path(source).is_dir():
        entries = sorted(p for p in Path(source).iterdir() if not p.name.startswith((".", "_")))
        others = [p for p in entries if p.suffix.lower() not in SUFFIXES]
        if others:
            what = "folder" if others[0].is_dir() else "file"
            raise InputError(f"{source}: holds the {what} '{others[0].name}', which is not a Parquet file "
                             "(a partitioned data set folder holds only *.parquet files)")
        files = entries
        if not files:
            raise InputError(f"{source}: no *.parquet files in this folder")
    else:
        files = [Path(source)]
    for f in files:
        if not f.exists():
            raise InputError(f"{f}: file not found")
        if f.is_dir():
            raise InputError(f"{f}: is a folder; give the Parquet files (or their folder) directly")
        if f.suffix.lower() not in SUFFIXES:
            raise InputError(f"{f.name}: not a Parquet file (.parquet); partitioned fits read Parquet only")
    return files


def _check_schema(files: Sequence[Path], columns: Sequence[str], categorical: Sequence[str] = ()) -> list[Any]:
    """Footers of every file: the columns exist, are numeric or boolean, and agree across files."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from myorisk.errors import did_you_mean

    metas = []
    first: dict[str, Any] = {}
    for f in files:
        try:
            pf = pq.ParquetFile(f)
        except (OSError, ValueError) as e:
            raise InputError(f"{f.name}: not a readable Parquet file ({e})") from None
        schema = pf.schema_arrow
        for c in columns:
            if c not in schema.names:
                raise InputError(f"{f.name}: column '{c}' not found (columns are: {', '.join(schema.names[:20])})"
                                 + did_you_mean(c, list(schema.names)))
            t = schema.field(c).type
            if c in categorical:
                if not (_numeric_type(t) or pa.types.is_string(t) or pa.types.is_large_string(t)):
                    raise InputError(f"{f.name}: column '{c}' is {_kind(t)}; a categorical predictor must be text, "
                                     "numbers or true/false")
            elif not _numeric_type(t):
                raise InputError(f"{f.name}: column '{c}' is {_kind(t)}, not numeric; partitioned fits take numeric or "
                                 "true/false columns (or declare it --categorical)")
            if pa.types.is_null(t):  # all missing in this file
                continue
            kind = _kind(t)  # integer in one file and floating in another is the same kind
            if c in first and first[c][0] != kind:
                raise InputError(f"{f.name}: column '{c}' is {kind} here but {first[c][0]} in {first[c][1]}: the "
                                 "files of a partitioned data set must have the same schema")
            first.setdefault(c, (kind, f.name))
        metas.append(pf.metadata)
    return metas


def parquet_partitions(source: str | Path | Sequence[str | Path], outcome: str,
                       predictors: Sequence[str], categorical: Sequence[str] = (),
                       interactions: Sequence[tuple[str, str]] = ()) -> list[ParquetPartition]:
    """The partitions of a Parquet data set: one per file, or one per row group of a single file.

    Paths are made absolute, so that a worker started elsewhere (``--scheduler``) opens the same
    files when it shares the file system.

    Parameters
    ----------
    source : str, Path or sequence
        A folder of ``*.parquet`` files, a glob, one file, or a list of files.
    outcome : str
        0/1 outcome column.
    predictors : sequence of str
        Predictor columns.
    categorical : sequence of str
        Predictors coded as categories (their levels are collected by :func:`collect_levels`);
        text columns are categories whether named here or not.
    interactions : sequence of (str, str)
        Pairs of predictors whose product columns follow the main effects.

    Returns
    -------
    list of ParquetPartition
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = parquet_files(source)
    try:  # a text column is a category, as in a CSV
        first = pq.read_schema(files[0])
    except (OSError, ValueError) as e:
        raise InputError(f"{files[0].name}: not a readable Parquet file ({e})") from None
    text = {c for c in predictors if c in first.names and
            (pa.types.is_string(first.field(c).type) or pa.types.is_large_string(first.field(c).type))}
    cats = tuple(c for c in predictors if c in set(categorical) | text)
    metas = _check_schema(files, [outcome, *predictors], cats)
    preds = tuple(predictors)
    ia = tuple((str(a), str(b)) for a, b in interactions)
    if len(files) == 1 and metas[0].num_row_groups > 1:
        out, offset = [], 0
        for g in range(metas[0].num_row_groups):
            out.append(ParquetPartition(str(files[0].resolve()), outcome, preds, row_group=g, row_offset=offset,
                                        categorical=cats, interactions=ia))
            offset += metas[0].row_group(g).num_rows
        return out
    return [ParquetPartition(str(f.resolve()), outcome, preds, categorical=cats, interactions=ia) for f in files]
