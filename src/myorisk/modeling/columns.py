"""A light table: named numpy columns and row labels, for commands that need no pandas.

Importing pandas costs a third of a second, more than a small model fit; a plain numeric cohort
file read for ``fit``, ``validate`` or ``calibrate`` goes from the reader to the design matrix as
numpy arrays in a :class:`Columns`. :meth:`Columns.to_pandas` gives the DataFrame the readers
give, so any step that needs pandas takes the same data (docs/engine.md, "Light tables").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Columns", "frame_of", "series_of"]


def series_of(values: np.ndarray, index: Any, name: str, text_dtype: object = "str") -> pd.Series:
    """One typed column as a pandas Series: numbers keep their dtype; a text column (object array of
    str, None where missing) becomes ``text_dtype`` (pandas ``str``, NaN where missing)."""
    import pandas as pd

    if values.dtype != object:
        return pd.Series(values, index=index, name=name)
    if text_dtype is object:
        return pd.Series(list(values), index=index, name=name, dtype=object)
    return pd.Series([np.nan if v is None else v for v in values], index=index, name=name,
                     dtype=text_dtype)


def frame_of(names: Sequence[str], arrays: Sequence[np.ndarray], rows: np.ndarray,
             index_name: str | None = "row", text_dtype: object = "str") -> pd.DataFrame:
    """The DataFrame of typed columns (see :func:`series_of`), indexed by the row labels."""
    import pandas as pd

    index = pd.Index(list(rows), name=index_name)
    return pd.DataFrame({n: series_of(a, index, n, text_dtype) for n, a in zip(names, arrays, strict=True)},
                        index=index)


@dataclass(frozen=True)
class Columns:
    """Named columns of equal length, with the row labels a user counts in the file.

    Attributes
    ----------
    names : tuple of str
        Column names, in file order.
    arrays : tuple of ndarray
        One per name: ``int64`` or ``float64`` (NaN = missing) for numbers, ``object`` (``str``,
        None = missing) for text.
    rows : ndarray
        Row label of each position (the file's line numbers when read by myorisk's readers).
    attrs : dict
        As ``DataFrame.attrs``: how the file was read (``"read"``), and so on.
    index_name : str or None
        Name of the row labels (``"row"``).
    """

    names: tuple[str, ...]
    arrays: tuple[np.ndarray, ...]
    rows: np.ndarray
    attrs: dict = field(default_factory=dict, compare=False)
    index_name: str | None = "row"

    def __post_init__(self) -> None:
        if len(self.names) != len(self.arrays):
            raise ValueError("one array per column name")
        if any(a.shape != (len(self.rows),) for a in self.arrays):
            raise ValueError("every column has one value per row")

    # DataFrame-like read access, as much as the engine uses
    @property
    def columns(self) -> tuple[str, ...]:
        """Column names (as ``DataFrame.columns``)."""
        return self.names

    @property
    def index(self) -> np.ndarray:
        """Row labels (as ``DataFrame.index``)."""
        return self.rows

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return len(self.rows), len(self.names)

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.arrays[self.names.index(name)]
        except ValueError:
            raise KeyError(name) from None

    def is_numeric(self, name: str) -> bool:
        """True for a column of numbers (int, float or bool)."""
        return self[name].dtype.kind in "biuf"

    def subset(self, keep: np.ndarray, names: Sequence[str] | None = None) -> Columns:
        """The rows where ``keep`` is true, and the columns ``names`` (default all)."""
        names = tuple(self.names if names is None else names)
        return Columns(names, tuple(self[n][keep] for n in names), self.rows[keep], dict(self.attrs),
                       self.index_name)

    def to_pandas(self) -> pd.DataFrame:
        """The same table as a DataFrame (what :func:`myorisk.myositis.io.read_table` returns)."""
        df = frame_of(self.names, self.arrays, self.rows, self.index_name)
        df.attrs.update(self.attrs)
        return df
