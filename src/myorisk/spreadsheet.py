"""Tables that a spreadsheet opens safely: no cell runs as a formula (OWASP "CSV injection").

Used by every table myorisk writes for people to open (``myositis.io.write_table``: CSV, TSV,
XLSX — openpyxl stores a text cell beginning with ``=`` as a formula) and by the web's scored
downloads (``web.scoring.csv_bytes``). Hand-written (see ``docs/hand-written.md``): ``defusedcsv``
would also prefix negative numbers.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FORMULA_START", "neutralise_formulas"]

#: First characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _neutral(cell: object) -> object:
    if isinstance(cell, str) and cell.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(cell):
        return "'" + cell
    return cell


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` that a spreadsheet opens without running formulas.

    Every *text* cell, and every column name, that begins with ``=``, ``+``, ``-``, ``@``, a tab
    or a carriage return is prefixed with a single quote, as OWASP recommends against CSV
    injection; numbers are never changed: numeric columns are left alone, and a text cell that
    is a plain number (``-3.5``, ``+1e3``) is a number to the spreadsheet too, so it stays as
    it is.
    """
    import pandas as pd

    out = frame.rename(columns=lambda c: _neutral(str(c)))
    text = [j for j, dt in enumerate(out.dtypes)
            if not (pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_bool_dtype(dt))]
    if text:  # one pass over the text cells (cost proportional to cells, however many columns)
        part = out.iloc[:, text].astype(object)
        risky = part.map(lambda x: isinstance(x, str) and x.startswith(FORMULA_START)
                         and not _PLAIN_NUMBER.match(x))
        if risky.to_numpy().any():
            out = out.copy()
            for j, col in zip(text, part.columns, strict=True):
                hit = risky[col].to_numpy()
                if hit.any():
                    out.isetitem(j, part[col].where(~hit, "'" + part[col].where(hit, "")))
    return out
