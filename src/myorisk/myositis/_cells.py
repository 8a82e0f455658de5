"""Shared cell checks for the instruments: collect every bad cell, raise one InputError."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from myorisk.codes import DEFAULT as DEFAULT_CODES
from myorisk.errors import InputError
from myorisk.myositis.io import to_numbers


def require_columns(df: pd.DataFrame, columns: Iterable[str], source: str, what: str) -> None:
    """Raise if any of ``columns`` is absent, naming all of them and what needs them."""
    absent = [c for c in columns if c not in df.columns]
    if absent:
        raise InputError(f"{source}: {what} needs column(s) {', '.join(absent)}")


class CellErrors:
    """Collects bad cells across columns; :meth:`raise_if_any` raises one InputError."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[str] = []

    def add(self, row: object, column: str, message: str) -> None:
        """Record one problem at (row, column)."""
        self.items.append(f"row {row}, column '{column}': {message}")

    def numbers(self, df: pd.DataFrame, column: str, *, low: float | None = None,
                high: float | None = None, low_exclusive: bool = False) -> np.ndarray:
        """Column as float (NaN for missing); bad or out-of-range cells are recorded."""
        values, bad = to_numbers(df[column])
        for r, v in bad:
            self.add(r, column, f"'{v}' is not a number")
        arr = values.to_numpy(dtype=float)
        for r, x in zip(df.index, arr, strict=True):
            if np.isnan(x):
                continue
            too_low = low is not None and (x <= low if low_exclusive else x < low)
            if too_low or (high is not None and x > high):
                lo = "" if low is None else (f"> {low:g}" if low_exclusive else f">= {low:g}")
                hi = "" if high is None else f"<= {high:g}"
                rule = " and ".join(t for t in (lo, hi) if t)
                self.add(r, column, f"{x:g} is out of range (must be {rule})")
        return arr

    def binary(self, df: pd.DataFrame, column: str) -> np.ndarray:
        """Column as 0.0/1.0/NaN; anything else is recorded (yes/no-like tokens accepted)."""
        out = np.full(len(df), np.nan)
        for i, (r, v) in enumerate(df[column].items()):
            if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
                continue
            b = DEFAULT_CODES.binary(v)
            if b is not None:
                out[i] = b
            elif str(v).strip():
                self.add(r, column, f"'{v}' is not 0/1")
        return out

    def raise_if_any(self) -> None:
        """Raise one single-line InputError listing every recorded problem."""
        if self.items:
            raise InputError(f"{self.source}: " + "; ".join(self.items))


def json_value(v: object) -> object:
    """Plain JSON value: numpy scalars -> Python, NaN/NA -> None."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return None if np.isnan(v) else float(v)
    return v


def records(df: pd.DataFrame) -> list[dict[str, object]]:
    """Rows of ``df`` as JSON-ready dicts."""
    cols = list(df.columns)
    return [{c: json_value(v) for c, v in zip(cols, rec, strict=True)}
            for rec in df.itertuples(index=False, name=None)]
