"""Files of result objects: Table 1 as CSV (UTF-8 with BOM) and XLSX, written atomically.

The engine (:mod:`myorisk.modeling`) returns results and writes no files; the faces write them here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from myorisk.atomic import write_atomic, write_csv_atomic
from myorisk.modeling.tableone import TableOne

__all__ = ["write_csv", "write_xlsx"]


def write_csv(table: TableOne, path: str | os.PathLike[str], *, tidy: bool = False) -> Path:
    """Write the display table (or the tidy frame with ``tidy=True``) as CSV (UTF-8 with BOM), atomically.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    frame = table.to_frame() if tidy else table.to_display()
    return write_csv_atomic(frame, path)


def write_xlsx(table: TableOne, path: str | os.PathLike[str]) -> Path:
    """Write an XLSX workbook atomically: sheets ``Table 1``, ``tidy``, ``tests``, ``notes``.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    def write(p: Path) -> None:
        with pd.ExcelWriter(p, engine="openpyxl") as xw:
            table.to_display().to_excel(xw, sheet_name="Table 1", index=False)
            table.to_frame().to_excel(xw, sheet_name="tidy", index=False)
            table.tests_frame().to_excel(xw, sheet_name="tests", index=False)
            pd.DataFrame({"note": list(table.notes)}).to_excel(xw, sheet_name="notes",
                                                               index=False)

    return write_atomic(path, write)
