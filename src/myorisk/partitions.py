"""Data in Parquet partitions, read where they are processed (for data larger than memory).

A :class:`ParquetPartition` names one file and the columns a model needs; its ``load()`` reads
just those columns (pyarrow) and returns the design rows and 0/1 outcome that
:func:`myorisk.modeling.sufficient.fit_partitioned` sums over. Only numeric predictors (and an
outcome coded 0/1) are supported here; a missing value or another outcome code stops the fit
with the file, row and column named — rows are never dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from myorisk.errors import InputError

__all__ = ["ParquetPartition", "parquet_partitions"]


@dataclass(frozen=True)
class ParquetPartition:
    """One Parquet file of a partitioned data set.

    Attributes
    ----------
    path : str
        The file.
    outcome : str
        0/1 outcome column.
    predictors : tuple of str
        Numeric predictor columns (an intercept column is added).
    """

    path: str
    outcome: str
    predictors: tuple[str, ...]

    def load(self) -> tuple[np.ndarray, np.ndarray]:
        """``(X, y)``: the intercept and predictor columns, and the outcome."""
        import pyarrow.parquet as pq

        name = Path(self.path).name
        cols = [self.outcome, *self.predictors]
        try:
            table = pq.read_table(self.path, columns=cols)
        except (OSError, ValueError, KeyError) as e:
            raise InputError(f"{name}: cannot read columns {', '.join(cols)} ({e})") from None
        arrays = []
        for c in cols:
            try:
                a = table.column(c).to_numpy(zero_copy_only=False).astype(float)
            except (TypeError, ValueError):
                raise InputError(f"{name}: column '{c}' is not numeric") from None
            bad = np.flatnonzero(~np.isfinite(a))
            if bad.size:
                raise InputError(f"{name}: row {int(bad[0]) + 1}, column '{c}': missing or non-finite value "
                                 f"({bad.size} such rows in this file); complete the data first")
            arrays.append(a)
        y = arrays[0]
        off = np.flatnonzero((y != 0) & (y != 1))
        if off.size:
            raise InputError(f"{name}: row {int(off[0]) + 1}, column '{self.outcome}': outcome must be 0 or 1, "
                             f"not {y[off[0]]:g}")
        X = np.column_stack([np.ones(y.size), *arrays[1:]])
        return X, y


def parquet_partitions(source: str | Path | Sequence[str | Path], outcome: str,
                       predictors: Sequence[str]) -> list[ParquetPartition]:
    """The partitions of a folder of ``*.parquet`` files (sorted by name) or of a list of files."""
    if isinstance(source, str | Path) and Path(source).is_dir():
        files = sorted(Path(source).glob("*.parquet"))
        if not files:
            raise InputError(f"{source}: no *.parquet files in this folder")
    else:
        files = [Path(source)] if isinstance(source, str | Path) else [Path(s) for s in source]
    for f in files:
        if not f.exists():
            raise InputError(f"{f}: file not found")
    return [ParquetPartition(str(f), outcome, tuple(predictors)) for f in files]
