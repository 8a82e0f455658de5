"""Atomic file writing: a temporary file in the target folder, then a rename — never a half file.

The one writer every layer uses (tables, model specs, exported data sets, reports). CSV files are
written as UTF-8 with a byte-order mark, so Excel opens non-ASCII text (Chinese, accents)
correctly; every reader of myorisk (and R's ``read.csv(..., fileEncoding = "UTF-8-BOM")``,
pandas' ``encoding="utf-8-sig"``) reads them back unchanged.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

__all__ = ["write_atomic", "write_bytes_atomic", "write_csv_atomic", "write_text_atomic"]

#: Encoding of every CSV myorisk writes: UTF-8 with a byte-order mark (Excel needs it).
CSV_ENCODING = "utf-8-sig"


def write_atomic(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary path in the target folder, then rename it to ``path``.

    Parameters
    ----------
    path : str or path-like
        The file to (re)place. An existing file is replaced only once the new one is complete.
    write : callable
        Writes the whole file to the path it is given.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    myorisk.errors.InputError
        The folder does not exist.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        from myorisk.errors import InputError

        raise InputError(f"{target}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix or ".tmp",
                               dir=folder)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return target


def write_text_atomic(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically and return the path."""
    return write_bytes_atomic(path, text.encode(encoding))


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path."""
    return write_atomic(path, lambda p: p.write_bytes(data))


def write_csv_atomic(frame: pd.DataFrame, path: str | os.PathLike[str], *, sep: str = ",",
                     index: bool = False) -> Path:
    """Write ``frame`` as CSV (UTF-8 with byte-order mark, ``\\n`` line ends) atomically.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    path : str or path-like
        Target file.
    sep : str, default ","
        Separator (``"\\t"`` for TSV).
    index : bool, default False
        Also write the index.
    """
    return write_atomic(path, lambda p: frame.to_csv(p, index=index, sep=sep, lineterminator="\n",
                                                     encoding=CSV_ENCODING))


def replace_folder(tmp: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """Put the finished folder ``tmp`` in place of ``out`` (a report folder), never half-written.

    An existing ``out`` is moved aside first and removed only after ``tmp`` took its place, so a
    failure leaves either the old folder or the new one, never a mixture.
    """
    import shutil

    tmp, out = Path(tmp), Path(out)
    backup = None
    if out.exists():
        backup = out.parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, backup)
    os.replace(tmp, out)
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)
    return out
