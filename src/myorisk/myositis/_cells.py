"""Shared cell checks for the instruments: collect every bad cell, raise one InputError."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from myorisk._json import clean
from myorisk.codes import DEFAULT as DEFAULT_CODES
from myorisk.errors import InputError, Problem, did_you_mean
from myorisk.myositis.io import to_numbers


def require_columns(df: pd.DataFrame, columns: Iterable[str], source: str, what: str) -> None:
    """Raise if any of ``columns`` is absent, naming all of them and what needs them."""
    columns = list(columns)
    absent = [c for c in columns if c not in df.columns]
    if absent:
        raise InputError(f"{source}: {what} needs column(s) {', '.join(absent)}"
                         + did_you_mean(absent[0], [c for c in df.columns if c not in columns]),
                         problems=[Problem(source, None, c, None, f"is needed by {what}")
                                   for c in absent])


class CellErrors:
    """Collects bad cells across columns as :class:`~myorisk.errors.Problem` objects;
    :meth:`raise_if_any` raises one InputError (a rule broken in many rows is said once)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    @property
    def items(self) -> list[str]:
        """The problems as ``row R, column 'c': ...`` texts (without the file)."""
        return [p.text(with_file=False) for p in self.problems]

    def add(self, row: object, column: str, message: str, value: object = None) -> None:
        """Record one problem at (row, column): ``message`` follows ``value`` when given."""
        self.problems.append(Problem(self.source, row, column, value, message))

    def numbers(self, df: pd.DataFrame, column: str, *, low: float | None = None,
                high: float | None = None, low_exclusive: bool = False) -> np.ndarray:
        """Column as float (NaN for missing); bad or out-of-range cells are recorded."""
        values, bad = to_numbers(df[column])
        for r, v in bad:
            self.add(r, column, "is not a number", value=v)
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
        """Column as 0.0/1.0/NaN; anything else is recorded (the accepted words of
        :mod:`myorisk.codes`)."""
        out = np.full(len(df), np.nan)
        for i, (r, v) in enumerate(df[column].items()):
            if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
                continue
            b = DEFAULT_CODES.binary(v)
            if b is not None:
                out[i] = b
            elif str(v).strip():
                self.add(r, column, "is not 0/1", value=v)
        return out

    def raise_if_any(self, *, hint: str | None = None,
                     option: tuple[str, tuple[str, ...]] | None = None) -> None:
        """Raise one InputError carrying every recorded problem.

        ``hint`` says how to fix it in the function's own terms; ``option`` names the keyword and
        the values that would allow it (``("missing", ("absent", "skip"))``), so that a face can
        say it in its own words (a command-line option) without reading the message.
        """
        if self.problems:
            raise InputError(problems=self.problems, hint=hint, option=option)


def json_value(v: object) -> object:
    """Plain JSON value: numpy scalars -> Python, NaN/NA -> None (:func:`myorisk._json.clean`)."""
    return clean(v)


def records(df: pd.DataFrame) -> list[dict[str, object]]:
    """Rows of ``df`` as JSON-ready dicts."""
    cols = list(df.columns)
    return [{c: json_value(v) for c, v in zip(cols, rec, strict=True)}
            for rec in df.itertuples(index=False, name=None)]
