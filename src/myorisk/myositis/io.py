"""Reading and writing cohort tables, REDCap exports and mapping files.

Every reader returns a :class:`pandas.DataFrame` whose index is the row number as the user
counts it in the file: for CSV/TSV the line number (header = line 1, first data row = line 2),
for XLSX the sheet row, for SPSS ``.sav`` and Stata ``.dta`` the case (observation) number
(first case = 1), which is what the Data Editor and ``browse`` show. Fully blank rows are
skipped without renumbering the rest.

Cells are typed the same way whatever the format, so one cohort saved as CSV, XLSX, SAV or DTA
reads as identical data:

* missing: empty cells and the tokens in :data:`NA_TOKENS`;
* a column whose every non-missing cell is a number (or a text that reads as one) is numeric:
  ``int64`` if all values are whole and none is missing, else ``float64``; a column holding a
  number written with a leading zero (``"007"``) stays text, so identifiers keep their zeros;
* every other column is text (pandas ``str``); dates and times become ISO text
  (``2021-03-04``), which :mod:`myorisk.myositis.cohort` parses for date variables.

Errors are :class:`myorisk.errors.InputError` and name the file.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io as _io
import math
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from myorisk.codes import DEFAULT as DEFAULT_CODES
from myorisk.codes import Vocabulary
from myorisk.errors import InputError, Problem, did_you_mean
from myorisk.myositis.schema import VARIABLES, normalise_name

__all__ = [
    "NA_TOKENS",
    "MappedColumn",
    "Mapping",
    "apply_mapping",
    "coerce_numeric",
    "parse_choices",
    "read_data",
    "read_mapping",
    "read_redcap",
    "decode",
    "read_table",
    "read_table_bytes",
    "sniff_decimal",
    "sniff_separator",
    "to_numbers",
    "write_table",
]

#: Cell texts read as missing (compared after trimming spaces, case-sensitive as pandas does).
#: Not "None" or "-": those are real categories in clinical files (no air bags, antibody negative),
#: and R's read.csv keeps them too; a "-" in a numeric column is reported as not a number.
NA_TOKENS = frozenset({"", "NA", "N/A", "n/a", "na", "NaN", "nan", "NULL", "null", "#N/A", "."})
READABLE = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".sav", ".zsav", ".dta")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_LEADING_ZERO = re.compile(r"^[+-]?0\d")


# --------------------------------------------------------------------------- cell typing
def _cell(v: object) -> object:
    """One raw cell -> None, int, float or str."""
    if v is None:
        return None
    if isinstance(v, bool | np.bool_):
        return int(v)
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return None if math.isnan(v) else float(v)
    if isinstance(v, _dt.datetime | pd.Timestamp):
        if pd.isna(v):
            return None
        if (v.hour, v.minute, v.second, v.microsecond) == (0, 0, 0, 0):
            return v.date().isoformat()
        return v.isoformat(sep=" ")
    if isinstance(v, _dt.date | _dt.time):
        return v.isoformat()
    if v is pd.NA or v is pd.NaT:
        return None
    s = str(v).strip()
    return None if s in NA_TOKENS else s


def _as_text(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


_NUMBER_COMMA = re.compile(r"^[+-]?(\d+,?\d*|,\d+)([eE][+-]?\d+)?$")
#: Both marks present, so never ambiguous: 1.234,5 (European) and 1,234.5 (US).
_EU_FULL = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+,\d+$")
_US_FULL = re.compile(r"^[+-]?\d{1,3}(,\d{3})+\.\d+$")
#: Could be a thousands separator: 1,234 / 12.345.678 (first group 1-3 digits, no leading 0).
_THOUSANDS_COMMA = re.compile(r"^[+-]?[1-9]\d{0,2}(,\d{3})+$")
_THOUSANDS_POINT = re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3})+$")
_POINT_DECIMAL = re.compile(r"^[+-]?\d*\.\d+([eE][+-]?\d+)?$")
_COMMA_DECIMAL = re.compile(r"^[+-]?\d*,\d+([eE][+-]?\d+)?$")
#: Digits with points and commas: "looks like a number" in some convention.
_ANY_NUMBER = re.compile(r"^[+-]?[\d.,]*\d[\d.,]*([eE][+-]?\d+)?$")
_MARK_NAME = {".": "decimal point", ",": "decimal comma"}


def _number_text(s: str, decimal: str) -> str | None:
    """``s`` as a number text with a decimal point, or None when it is not a number."""
    if decimal == ".":
        if _NUMBER.match(s):
            return s
        if _US_FULL.match(s):
            return s.replace(",", "")
        return None
    if _NUMBER_COMMA.match(s):
        return s.replace(",", ".")
    if _EU_FULL.match(s):
        return s.replace(".", "").replace(",", ".")
    return None


def _typed_column(values: Sequence[object], index: pd.Index, name: str, *, decimal: str = ".",
                  source: str | None = None, typed: bool = True) -> pd.Series:
    """Type one column of raw cells by the rules in the module docstring.

    ``decimal`` is the file's decimal mark; number texts are read with it (and, in a text
    column, rewritten with a point). With ``source``, a column whose cells all look like numbers
    but some cannot be read with that mark is refused (one line naming file and column).
    """
    cells = [_cell(v) for v in values]
    readable: list[object] = []
    bad: list[tuple[object, str]] = []
    n_number = 0
    all_numberish = True
    for r, c in zip(index, cells, strict=True):
        if isinstance(c, str):
            t = _number_text(c, decimal)
            if t is not None:
                n_number += 1
                readable.append(t)
                continue
            readable.append(c)
            if _ANY_NUMBER.match(c):
                bad.append((r, c))
            else:
                all_numberish = False
        else:
            readable.append(c)
            if c is not None:
                n_number += 1
    if source is not None and bad and all_numberish and n_number:
        other = "," if decimal == "." else "."
        shown = ", ".join(f"row {r}: '{v}'" for r, v in bad[:3]) + (" …" if len(bad) > 3 else "")
        raise InputError(
            f"{source}: column '{name}' looks like numbers but {len(bad)} cell(s) cannot be read "
            f"as numbers with a {_MARK_NAME[decimal]} ({shown}); if the file writes numbers "
            f"with a {_MARK_NAME[other]}, give --decimal '{other}'",
            problems=[Problem(source, r, name, v, f"cannot be read as a number with a "
                                                 f"{_MARK_NAME[decimal]}") for r, v in bad])
    present = [c for c in readable if c is not None]
    numeric = bool(present) and all(
        isinstance(c, int | float)
        or (isinstance(c, str) and _NUMBER.match(c) and not _LEADING_ZERO.match(c))
        for c in present
    )
    if not typed:
        keep = [None if c is None else (c if isinstance(c, str) else _as_text(c))
                for c in (readable if decimal != "." else cells)]
        return pd.Series(keep, index=index, name=name, dtype=object)
    if numeric:
        arr = np.array([np.nan if c is None else float(c) for c in readable], dtype=float)
        huge = np.isinf(arr)
        if huge.any():  # a number beyond the double range (1e309, 400 digits): not a usable value
            rows = [r for r, h in zip(index, huge, strict=True) if h]
            where = f"{source}: " if source else ""
            raise InputError(
                f"{where}column '{name}': {len(rows)} value(s) too large to be a number (row "
                f"{', '.join(map(str, rows[:3]))}{' …' if len(rows) > 3 else ''})",
                problems=[Problem(source, r, name, None, "too large to be a number") for r in rows])
        if len(present) == len(cells) and np.all(np.mod(arr, 1) == 0) and np.all(
            np.abs(arr) < 2**53
        ):
            return pd.Series(arr.astype(np.int64), index=index, name=name)
        return pd.Series(arr, index=index, name=name)
    # a text column keeps its texts; number texts are written with a point (decimal comma files)
    text = [np.nan if c is None else _as_text(c) for c in
            (readable if decimal != "." else cells)]
    return pd.Series(text, index=index, name=name, dtype="str")


def _frame(header: Sequence[object], rows: list[tuple[int, Sequence[object]]], source: str,
           *, row_word: str = "row", header_row: int | None = None, decimal: str = ".",
           typed: bool = True) -> pd.DataFrame:
    """Build the typed frame from a header and (row number, cells) pairs."""
    names: list[str | None] = []
    for h in header:
        c = _cell(h)
        # NFC: "Âge" typed composed in a mapping matches "Âge" written decomposed in the file
        names.append(None if c is None else unicodedata.normalize("NFC", _as_text(c)))
    width = len(names)
    for rn, cells in rows:
        if len(cells) > width and any(_cell(c) is not None for c in cells[width:]):
            raise InputError(
                f"{source}: {row_word} {rn} has {len(cells)} cells but the header has {width} "
                f"columns"
            )
    index = pd.Index([rn for rn, _ in rows], name="row")
    columns: dict[str, pd.Series] = {}
    seen: dict[str, int] = {}
    for j, name in enumerate(names):
        col = [cells[j] if j < len(cells) else None for _, cells in rows]
        if name is None:
            if any(_cell(c) is not None for c in col):
                where = ""
                if header_row is not None:
                    named = [n for n in names if n is not None]
                    title = (f", '{named[0]}': is that a title above the header row?"
                             if len(named) == 1 else "")
                    where = f" (header taken from {row_word} {header_row}{title})"
                raise InputError(f"{source}: column {j + 1} holds data but has no name in the "
                                 f"header{where}")
            continue
        if name in seen:
            raise InputError(f"{source}: duplicate column name '{name}' (columns {seen[name]} "
                             f"and {j + 1})")
        seen[name] = j + 1
        columns[name] = _typed_column(col, index, name, decimal=decimal, source=source,
                                      typed=typed)
    if not columns:
        raise InputError(f"{source}: the header row names no columns")
    return pd.DataFrame(columns, index=index)


# --------------------------------------------------------------------------- readers
def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a data file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")


#: Rows whose cells decide the decimal mark.
SNIFF_ROWS = 5000
#: Separators tried, in order of preference when two read the file equally well.
SEPARATORS = (",", ";", "\t", "|")
_SEP_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
_SEP_WORDS = {"comma": ",", ",": ",", "semicolon": ";", ";": ";", "tab": "\t", "\\t": "\t",
              "\t": "\t", "pipe": "|", "|": "|"}
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def normalise_sep(sep: str | None) -> str | None:
    """``--sep`` value (``,``, ``;``, ``tab``, ``|`` or their names) as the character, or None."""
    if sep is None or sep == "auto":
        return None
    key = sep if sep in _SEP_WORDS else sep.strip().lower()
    if key not in _SEP_WORDS:
        raise InputError(f"--sep must be one of , ; tab | (or auto), not {sep!r}")
    return _SEP_WORDS[key]


def normalise_decimal(decimal: str | None) -> str | None:
    """``--decimal`` value (``.``/``point`` or ``,``/``comma``) as the character, or None."""
    if decimal is None or decimal == "auto":
        return None
    key = decimal.strip().lower()
    if key in (".", "point", "dot"):
        return "."
    if key in (",", "comma"):
        return ","
    raise InputError(f"--decimal must be '.' (point) or ',' (comma), not {decimal!r}")


def normalise_encoding(encoding: str | None) -> str | None:
    """``--encoding`` value as a Python codec name, or None (detect)."""
    if encoding is None or encoding == "auto":
        return None
    import codecs

    try:
        name = codecs.lookup(encoding.strip()).name
    except LookupError:
        raise InputError(f"--encoding: unknown encoding {encoding!r} (e.g. utf-8, gb18030, gbk, "
                         f"cp1252, latin-1, utf-16)") from None
    return "utf-8-sig" if name == "utf-8" else name


def _runs(raw: bytes) -> list[tuple[int, int]]:
    """(start, end) of every run of non-ASCII bytes."""
    return [(m.start(), m.end()) for m in re.finditer(rb"[\x80-\xff]+", raw)]


def _gb_plausible(text: str) -> bool:
    """Every non-ASCII character is one a Chinese table holds (CJK, punctuation, Greek, symbols)."""
    for ch in text:
        o = ord(ch)
        if o < 0x80:
            continue
        if (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x3000 <= o <= 0x303F
                or 0xFF00 <= o <= 0xFFEF or 0x2000 <= o <= 0x206F or 0x0391 <= o <= 0x03C9
                or 0x2100 <= o <= 0x22FF or 0x2460 <= o <= 0x24FF or 0x2500 <= o <= 0x257F
                or 0xE0 <= o <= 0xFC or 0x0101 <= o <= 0x01DC  # pinyin letters (ü, ā, ǎ …)
                or o in (0xB0, 0xB1, 0xB7, 0xD7, 0xF7)):
            continue
        return False
    return True


def _latin_plausible(raw: bytes, runs: list[tuple[int, int]]) -> bool:
    """Accented letters sit inside words: every run of 2+ non-ASCII bytes touches a letter or digit."""
    for a, b in runs:
        if b - a < 2:
            continue
        left = chr(raw[a - 1]) if a > 0 else ""
        right = chr(raw[b]) if b < len(raw) else ""
        if not (left.isalnum() or right.isalnum()):
            return False
    return True


def decode(raw: bytes, source: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode a text table; return ``(text, encoding)``.

    Without ``encoding``: a byte-order mark decides (UTF-8, UTF-16); else UTF-8 if the bytes are
    valid UTF-8; else Chinese GB18030 (a superset of GBK and GB2312) or Western Windows-1252,
    whichever the bytes are plausible as: GB18030 when they decode to Chinese characters,
    punctuation and symbols only and the non-ASCII bytes mostly come in pairs; Windows-1252 when
    every run of two or more non-ASCII bytes touches a letter or digit (accented letters inside
    words). When both or neither are plausible the file is refused with a message asking for
    ``--encoding``; it is never decoded as Latin-1 silently (docs/cohort-files.md).
    """
    head = raw[:8192]
    if encoding is None:
        for bom, enc in _BOMS:
            if raw.startswith(bom):
                encoding = enc
                break
    if encoding is None:
        if head.startswith(b"%PDF"):
            raise InputError(f"{source}: is a PDF document, not a table")
        if head.startswith(b"PK\x03\x04"):
            raise InputError(f"{source}: is a ZIP/XLSX file, not a text table (rename it to "
                             f".xlsx?)")
        if b"\x00" in head:
            raise InputError(f"{source}: is a binary file, not a text table (a UTF-16 file "
                             f"without byte-order mark? give --encoding utf-16-le)")
    if encoding is not None:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            line = raw[:exc.start].count(b"\n") + 1
            raise InputError(f"{source}: line {line} is not valid {encoding} text (byte "
                             f"0x{raw[exc.start]:02x}); give the file's encoding with --encoding "
                             f"(e.g. utf-8, gb18030, cp1252)") from None
        return text.lstrip("\ufeff"), encoding
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    runs = _runs(raw)
    try:
        latin: str | None = raw.decode("cp1252")
    except UnicodeDecodeError:
        latin = None
    try:
        gb: str | None = raw.decode("gb18030")
    except UnicodeDecodeError:
        gb = None
    gb_ok = gb is not None and _gb_plausible(gb)
    latin_ok = latin is not None and _latin_plausible(raw, runs)
    odd = sum((b - a) % 2 for a, b in runs)
    if latin is not None and runs and odd * 2 > len(runs):
        # Chinese text comes in byte pairs (a lone lead byte needs an ASCII trail byte, rare
        # characters only); mostly lone accented letters are Western text
        gb_ok = False
    if gb_ok and not latin_ok:
        return gb, "gb18030"  # type: ignore[return-value]
    if latin_ok and not gb_ok:
        return latin, "cp1252"  # type: ignore[return-value]
    a = runs[0][0] if runs else 0
    line = raw[:a].count(b"\n") + 1
    why = ("it reads as Chinese (GB18030/GBK) and as Western (Windows-1252) text alike"
           if gb_ok else "it is neither UTF-8, nor Chinese GB18030/GBK, nor Western "
                         "Windows-1252 text")
    raise InputError(f"{source}: cannot tell the text encoding: {why} (first non-ASCII byte on "
                     f"line {line}); give --encoding (e.g. --encoding gb18030 or --encoding "
                     f"cp1252), or save the file as 'CSV UTF-8'")


def _decode_text(path: Path, encoding: str | None = None) -> str:
    return _decode_checked(path.read_bytes(), str(path), encoding)[0]


def _decode_checked(raw: bytes, source: str, encoding: str | None) -> tuple[str, str]:
    text, enc = decode(raw, source, encoding)
    sample = text[:8192]
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t\f")
    if bad > max(2, len(sample) // 100):
        raise InputError(f"{source}: is a binary file, not a text table")
    return text, enc


def _records(text: str, sep: str) -> list[list[str]]:
    return [r for r in csv.reader(_io.StringIO(text, newline=""), delimiter=sep)
            if any(c.strip() for c in r)]


def sniff_separator(text: str) -> str:
    """The separator that reads the first lines as the most regular table.

    Each of ``, ; tab |`` is tried with a CSV parser (so quoted fields may hold any of them);
    the winner gives the same number of fields (at least two) in the most rows, then the most
    fields; ties go to the earlier in that list. A file with one column reads with ``,``.
    """
    sample = text[:65536]
    truncated = len(text) > len(sample)
    if truncated and "\n" in sample:
        sample = sample[:sample.rindex("\n")]
    best: tuple[float, int, int] | None = None
    chosen = ","
    for k, sep in enumerate(SEPARATORS):
        try:
            recs = _records(sample, sep)[:200]
        except csv.Error:
            continue
        if not recs or len(recs[0]) < 2:
            continue
        width = len(recs[0])
        body = recs[1:]
        regular = sum(len(r) == width for r in body) / len(body) if body else 1.0
        score = (regular, width, -k)
        if best is None or score > best:
            best, chosen = score, sep
    return chosen


def sniff_decimal(rows: Sequence[tuple[int, Sequence[str]]], header: Sequence[str], sep: str,
                  source: str) -> str:
    """The decimal mark of a text table: ``"."`` unless the numbers say ``","``.

    A comma-separated file uses the point. Otherwise cells such as ``1,5`` or ``0,534`` (a
    comma that cannot be a thousands separator) say comma and ``2.5`` says point; a file with
    both, or with only ``1,234``-like cells, is refused with a message asking for ``--decimal``.
    """
    if sep == ",":
        return "."
    comma = point = ambiguous = None
    # the first rows decide; a later cell in the other convention is refused by the reader
    # ("looks like numbers but cannot be read"), never read wrongly
    for rn, cells in rows[:SNIFF_ROWS]:
        for j, raw in enumerate(cells):
            c = raw.strip()
            if not c or c[-1] not in "0123456789":
                continue
            col = header[j] if j < len(header) else str(j + 1)
            if _COMMA_DECIMAL.match(c) or _EU_FULL.match(c):
                if _THOUSANDS_COMMA.match(c):
                    ambiguous = ambiguous or (rn, col, c)
                else:
                    comma = comma or (rn, col, c)
            elif _POINT_DECIMAL.match(c) or _US_FULL.match(c):
                if not _THOUSANDS_POINT.match(c):
                    point = point or (rn, col, c)
        if comma and point:
            break
    if comma and point:
        raise InputError(
            f"{source}: numbers are written with decimal commas (row {comma[0]}, column "
            f"'{comma[1]}': '{comma[2]}') and with decimal points (row {point[0]}, column "
            f"'{point[1]}': '{point[2]}'); give --decimal ',' or --decimal '.'",
            problems=[Problem(source, comma[0], comma[1], comma[2], "has a decimal comma"),
                      Problem(source, point[0], point[1], point[2], "has a decimal point")])
    if comma:
        return ","
    if point:
        return "."
    if ambiguous:
        r, col, v = ambiguous
        raise InputError(
            f"{source}: row {r}, column '{col}': '{v}' could be a decimal comma or a thousands "
            f"separator; give --decimal ',' (decimal comma) or --decimal '.' (then '{v}' is "
            f"refused: write thousands without a separator)",
            problems=[Problem(source, r, col, v, "is ambiguous (decimal comma or thousands)")])
    return "."


def _parse_text(text: str, source: str, sep: str | None, decimal: str | None,
                typed: bool = True) -> pd.DataFrame:
    if not text.strip():
        raise InputError(f"{source}: file is empty")
    chosen = sep if sep is not None else sniff_separator(text)
    reader = csv.reader(_io.StringIO(text, newline=""), delimiter=chosen)
    header: list[str] | None = None
    header_row = 0
    rows: list[tuple[int, list[str]]] = []
    prev = 0
    try:
        for rec in reader:
            start, prev = prev + 1, reader.line_num
            if not any(c.strip() for c in rec):
                continue
            if header is None:
                header, header_row = rec, start
            else:
                rows.append((start, rec))
    except csv.Error as exc:
        raise InputError(f"{source}: line {reader.line_num}: not a valid CSV table ({exc})") from exc
    if header is None:
        raise InputError(f"{source}: file is empty")
    if len(header) == 1 and not rows and len(header[0]) > 200:
        raise InputError(f"{source}: is not a table (no delimiter found)")
    mark = decimal if decimal is not None else sniff_decimal(rows, [h.strip() for h in header],
                                                             chosen, source)
    if mark == "," and chosen == ",":
        raise InputError(f"{source}: a comma cannot be both the separator and the decimal mark; "
                         f"give --sep ';' (or tab)")
    frame = _frame(header, rows, source, header_row=header_row, decimal=mark, typed=typed)
    frame.attrs["read"] = {"sep": chosen, "decimal": mark}
    return frame


def _read_delimited(path: Path, delimiter: str | None, *, encoding: str | None = None,
                    decimal: str | None = None) -> pd.DataFrame:
    text, enc = _decode_checked(path.read_bytes(), str(path), encoding)
    frame = _parse_text(text, str(path), delimiter, decimal)
    frame.attrs["read"]["encoding"] = enc
    return frame


def read_table_bytes(data: bytes, source: str, *, encoding: str | None = None,
                     sep: str | None = None, decimal: str | None = None,
                     typed: bool = True) -> pd.DataFrame:
    """Read a CSV/TSV table held in memory (an upload) with the same rules as :func:`read_table`.

    Parameters
    ----------
    data : bytes
        The file's bytes.
    source : str
        File name for messages.
    encoding, sep, decimal : str, optional
        As :func:`read_table` (detected when None).
    typed : bool, default True
        False keeps every cell as text (``None`` when missing), numbers written with a decimal
        point: what a face that writes the user's columns back unchanged needs.

    Returns
    -------
    pandas.DataFrame
        Index = line number as the user counts it; ``attrs["read"]`` holds the separator,
        decimal mark and encoding used.
    """
    if not data or not data.strip():
        raise InputError(f"{source}: file is empty")
    text, enc = _decode_checked(data, source, normalise_encoding(encoding))
    frame = _parse_text(text, source, normalise_sep(sep), normalise_decimal(decimal), typed)
    frame.attrs["read"]["encoding"] = enc
    return frame


def _read_xlsx(path: Path, sheet: str | int | None) -> pd.DataFrame:
    import zipfile

    from openpyxl import load_workbook

    if not zipfile.is_zipfile(path):
        raise InputError(f"{path}: is not an XLSX workbook")
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise InputError(f"{path}: is not a readable XLSX workbook ({exc})") from exc
    try:
        if sheet is None:
            ws = wb.worksheets[0]
        elif isinstance(sheet, int):
            if not 0 <= sheet < len(wb.worksheets):
                raise InputError(f"{path}: has no sheet number {sheet}")
            ws = wb.worksheets[sheet]
        else:
            if sheet not in wb.sheetnames:
                raise InputError(f"{path}: has no sheet '{sheet}' (sheets: "
                                 f"{', '.join(wb.sheetnames)})")
            ws = wb[sheet]
        header: Sequence[object] | None = None
        header_row = 0
        rows: list[tuple[int, Sequence[object]]] = []
        for rn, rec in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1):
            if all(_cell(c) is None for c in rec):
                continue
            if header is None:
                header, header_row = rec, rn
            else:
                rows.append((rn, rec))
    finally:
        wb.close()
    if header is None:
        raise InputError(f"{path}: sheet '{ws.title}' is empty")
    return _frame(header, rows, f"{path}", header_row=header_row)


def _read_stat(path: Path, kind: str) -> pd.DataFrame:
    import pyreadstat

    reader = pyreadstat.read_dta if kind == "dta" else pyreadstat.read_sav
    try:
        raw, _meta = reader(str(path), apply_value_formats=True, formats_as_category=False)
    except Exception as exc:  # pyreadstat raises ReadstatError / PyreadstatError / OSError
        label = "Stata .dta" if kind == "dta" else "SPSS .sav"
        raise InputError(f"{path}: is not a readable {label} file ({exc})") from exc
    if raw.shape[1] == 0:
        raise InputError(f"{path}: file holds no variables")
    header = list(raw.columns)
    rows = [(i + 1, list(rec)) for i, rec in enumerate(raw.itertuples(index=False, name=None))]
    rows = [(rn, rec) for rn, rec in rows if any(_cell(c) is not None for c in rec)]
    return _frame(header, rows, str(path), row_word="case")


def read_table(path: str | os.PathLike[str], *, sheet: str | int | None = None,
               encoding: str | None = None, sep: str | None = None,
               decimal: str | None = None) -> pd.DataFrame:
    """Read a data table from CSV, TSV, XLSX, SPSS ``.sav`` or Stata ``.dta``.

    The one tabular reader: every command, the study and the web's batch upload
    (:func:`read_table_bytes`) read through it. How text files are detected is described in
    ``docs/cohort-files.md``.

    Parameters
    ----------
    path : str or path-like
        The file. The extension chooses the reader: ``.csv``/``.txt`` (separator ``,``, ``;``,
        tab or ``|``, detected by :func:`sniff_separator`), ``.tsv``, ``.xlsx``/``.xlsm``,
        ``.sav``/``.zsav``, ``.dta``.
    sheet : str or int, optional
        XLSX sheet name or 0-based number; default the first sheet.
    encoding : str, optional
        Text encoding of a CSV/TSV (``utf-8``, ``gb18030``, ``cp1252``...); default detected
        by :func:`decode` (byte-order mark, UTF-8, GB18030 or Windows-1252, else refused).
    sep : str, optional
        Separator (``,``, ``;``, ``tab``, ``|``); default detected.
    decimal : str, optional
        Decimal mark (``.`` or ``,``); default detected by :func:`sniff_decimal`.

    Returns
    -------
    pandas.DataFrame
        One column per header cell, typed as described in the module docstring; the index
        (named ``row``) is the row number as the user counts it in the file.

    Raises
    ------
    myorisk.errors.InputError
        Missing or empty file, a file that is not a table (binary, PDF, ZIP renamed .csv),
        unsupported extension, duplicate or unnamed columns, a row longer than the header.
        The message starts with the file name.
    """
    p = Path(path)
    _check_file(p)
    ext = p.suffix.lower()
    enc, sp, dec = normalise_encoding(encoding), normalise_sep(sep), normalise_decimal(decimal)
    if ext in (".csv", ".txt"):
        return _read_delimited(p, sp, encoding=enc, decimal=dec)
    if ext == ".tsv":
        return _read_delimited(p, sp or "\t", encoding=enc, decimal=dec)
    if ext in (".xlsx", ".xlsm"):
        return _read_xlsx(p, sheet)
    if ext in (".sav", ".zsav"):
        return _read_stat(p, "sav")
    if ext == ".dta":
        return _read_stat(p, "dta")
    raise InputError(f"{p}: unsupported file type '{ext or p.name}' (use one of "
                     f"{', '.join(READABLE)})")


def read_data(path: str | os.PathLike[str], *, sheet: str | int | None = None,
              encoding: str | None = None, sep: str | None = None,
              decimal: str | None = None) -> pd.DataFrame:
    """Read any supported table for the general (engine) commands.

    The same reader as :func:`read_table`, so that every command reports file problems in the
    same words. Use :func:`coerce_numeric` afterwards on the columns a command needs as numbers.

    Parameters
    ----------
    path : str or path-like
        CSV, TSV, XLSX, SAV or DTA file.
    sheet : str or int, optional
        XLSX sheet.
    encoding, sep, decimal : str, optional
        As :func:`read_table`.

    Returns
    -------
    pandas.DataFrame
        As :func:`read_table`.
    """
    return read_table(path, sheet=sheet, encoding=encoding, sep=sep, decimal=decimal)


def coerce_numeric(df: pd.DataFrame, columns: Iterable[str], source: str) -> pd.DataFrame:
    """Return a copy with ``columns`` as ``float64``, or raise one error listing every bad cell.

    Parameters
    ----------
    df : pandas.DataFrame
        Data whose index holds the user's row numbers (as the readers set it).
    columns : iterable of str
        Columns that must be numeric. Missing cells stay NaN.
    source : str
        File name used in the message.

    Returns
    -------
    pandas.DataFrame
        Copy of ``df`` with the named columns converted.

    Raises
    ------
    myorisk.errors.InputError
        A named column is absent, or cells are not numbers; the single-line message lists
        them all: ``"cohort.csv: row 7, column 'age': 'abc' is not a number; row 9, ..."``.
    """
    cols = list(columns)
    absent = [c for c in cols if c not in df.columns]
    if absent:
        names = ", ".join(f"'{c}'" for c in absent)
        raise InputError(f"{source}: column {names} not found (columns: "
                         f"{', '.join(map(str, df.columns))})"
                         + did_you_mean(absent[0], list(df.columns)),
                         problems=[Problem(source, None, c, None, "not found") for c in absent])
    out = df.copy()
    bad: list[Problem] = []
    for c in cols:
        values, cell_errors = to_numbers(df[c])
        out[c] = values
        bad.extend(Problem(source, r, c, v, "is not a number") for r, v in cell_errors)
    if bad:
        raise InputError(problems=bad)
    return out


def to_numbers(s: pd.Series) -> tuple[pd.Series, list[tuple[object, object]]]:
    """Convert a column to ``float64``; return it and the (row, value) pairs that failed.

    Parameters
    ----------
    s : pandas.Series
        Column as read.

    Returns
    -------
    values : pandas.Series
        ``float64``; failed cells are NaN.
    errors : list of (row, value)
        Cells that are present but are not numbers.
    """
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype(float), []
    errors: list[tuple[object, object]] = []
    out = np.full(len(s), np.nan)
    for i, (r, v) in enumerate(s.items()):
        c = _cell(v)
        if c is None:
            continue
        if isinstance(c, int | float):
            out[i] = float(c)
        elif _NUMBER.match(c):
            out[i] = float(c)
        else:
            errors.append((r, v))
    return pd.Series(out, index=s.index, name=s.name), errors


# --------------------------------------------------------------------------- REDCap
def _dict_column(dd: pd.DataFrame, *prefixes: str) -> str | None:
    for c in dd.columns:
        n = normalise_name(c)
        if any(n.startswith(p) for p in prefixes):
            return c
    return None


def parse_choices(text: str) -> dict[str, str]:
    """Parse a REDCap choice list ``"1, Male | 2, Female"`` into ``{"1": "Male", "2": "Female"}``.

    Parameters
    ----------
    text : str
        The "Choices, Calculations, OR Slider Labels" cell.

    Returns
    -------
    dict of str to str
        Code to label, codes as written (trimmed).
    """
    out: dict[str, str] = {}
    for part in str(text).split("|"):
        if "," not in part:
            continue
        code, label = part.split(",", 1)
        out[code.strip()] = label.strip()
    return out


def read_redcap(data_csv: str | os.PathLike[str],
                dictionary_csv: str | os.PathLike[str], *, encoding: str | None = None,
                sep: str | None = None, decimal: str | None = None) -> pd.DataFrame:
    """Read a REDCap raw data export together with its data dictionary.

    Parameters
    ----------
    data_csv : str or path-like
        "CSV / Microsoft Excel (raw data)" export: field names as header, codes as values.
    dictionary_csv : str or path-like
        The project's data dictionary (export or API form: ``Variable / Field Name`` or
        ``field_name``, ``Field Type``, ``Choices, Calculations, OR Slider Labels``, ...).
    encoding, sep, decimal : str, optional
        How to read the data export (as :func:`read_table`), e.g. after it was re-saved by a
        spreadsheet with ``;`` and decimal commas; the dictionary, which REDCap writes as UTF-8
        CSV, is always detected.

    Returns
    -------
    pandas.DataFrame
        As :func:`read_table`, with ``radio`` and ``dropdown`` codes replaced by their labels
        (a code not in the dictionary is kept as written, so the cohort check reports it),
        ``yesno``/``truefalse`` and checkbox columns (``field___code``) kept as 0/1 numbers,
        and text fields validated as numbers kept numeric. Columns REDCap adds
        (``redcap_event_name``, ``*_complete`` ...) are kept.

    Raises
    ------
    myorisk.errors.InputError
        Either file unreadable, or the dictionary lacks the field-name/field-type columns.
    """
    data = read_table(data_csv, encoding=encoding, sep=sep, decimal=decimal)
    dd = read_table(dictionary_csv)
    name_col = _dict_column(dd, "variable", "field_name")
    type_col = _dict_column(dd, "field_type")
    choice_col = _dict_column(dd, "choices", "select_choices")
    if name_col is None or type_col is None:
        raise InputError(f"{dictionary_csv}: not a REDCap data dictionary (no 'Variable / Field "
                         f"Name' and 'Field Type' columns)")
    data = data.copy()
    for _, entry in dd.iterrows():
        fname, ftype = str(entry[name_col]).strip(), str(entry[type_col]).strip().lower()
        if fname not in data.columns or ftype not in ("radio", "dropdown"):
            continue
        choices = parse_choices(entry[choice_col]) if choice_col is not None else {}
        if not choices:
            continue
        col = data[fname]
        labels = [np.nan if _cell(v) is None else choices.get(_as_text(_cell(v)), _as_text(
            _cell(v))) for v in col]
        data[fname] = _typed_column(labels, data.index, fname)
    return data


# --------------------------------------------------------------------------- mapping
@dataclass(frozen=True)
class MappedColumn:
    """One column renamed to its canonical name.

    Parameters
    ----------
    canonical : str
        Canonical name (``shared/spec/data-dictionary.md``).
    user_column : str
        Name in the user's file.
    how : {"mapping", "auto"}
        ``mapping``: named in the mapping file; ``auto``: the names match after folding case,
        spaces and dashes (e.g. ``"Patient ID"`` -> ``patient_id``).
    recoded : int
        Number of cells whose value the mapping recoded.
    """

    canonical: str
    user_column: str
    how: str
    recoded: int = 0

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return {"canonical": self.canonical, "user_column": self.user_column, "how": self.how,
                "recoded": self.recoded}


@dataclass(frozen=True)
class Mapping:
    """A mapping from users' column names (and values) to the canonical ones.

    Parameters
    ----------
    columns : dict of str to str
        ``canonical -> user_column``.
    recodes : dict of str to dict
        ``canonical -> {user value: canonical value}`` (values compared as trimmed text).
    options : dict
        Cohort-wide declarations; ``mmt8_max`` (80 or 150) declares the MMT8 scale.
    source : str
        Where the mapping came from (file name), for messages.
    codes : dict
        Words added to the vocabulary of accepted codes (:mod:`myorisk.codes`):
        ``{"yes": [...], "no": [...], "<level>": [...]}``.
    """

    columns: dict[str, str] = field(default_factory=dict)
    recodes: dict[str, dict[str, object]] = field(default_factory=dict)
    options: dict[str, object] = field(default_factory=dict)
    source: str = "mapping"
    codes: dict[str, object] = field(default_factory=dict)

    @property
    def vocabulary(self) -> Vocabulary:
        """The built-in vocabulary plus this mapping's ``codes:`` words."""
        return DEFAULT_CODES.extended(self.codes, self.source) if self.codes else DEFAULT_CODES

    @classmethod
    def from_dict(cls, obj: dict[str, object], source: str = "mapping") -> Mapping:
        """Build from the parsed YAML/JSON form (see :func:`read_mapping`).

        Parameters
        ----------
        obj : dict
            Either ``{"columns": {...}, "recode": {...}, "options": {...}}`` or flat
            ``{canonical: user_column}`` / ``{canonical: {"column": ..., "recode": {...}}}``.
        source : str, default "mapping"
            Name used in messages.

        Returns
        -------
        Mapping
        """
        if not isinstance(obj, dict):
            raise InputError(f"{source}: a mapping must be 'canonical: user_column' pairs")
        columns: dict[str, str] = {}
        recodes: dict[str, dict[str, object]] = {}
        options = dict(obj.get("options") or {}) if isinstance(obj.get("options"), dict) else {}
        codes = obj.get("codes") or {}
        if not isinstance(codes, dict):
            raise InputError(f"{source}: 'codes' must map yes, no or a level name to a list of "
                             f"words, e.g. codes: {{yes: [ja, oui], male: [Mann, homme]}}")
        DEFAULT_CODES.extended(codes, source)  # refuse a word meaning both yes and no now
        structured = "columns" in obj or "recode" in obj
        pairs = obj.get("columns") or {} if structured else {
            k: v for k, v in obj.items() if k not in ("options", "codes")}
        if not isinstance(pairs, dict):
            raise InputError(f"{source}: 'columns' must be 'canonical: user_column' pairs")
        for canon, spec in pairs.items():
            if isinstance(spec, dict):
                if spec.get("column") is not None:
                    columns[str(canon)] = unicodedata.normalize("NFC", str(spec["column"]))
                if spec.get("recode"):
                    recodes[str(canon)] = _recode_dict(spec["recode"], source, str(canon))
            elif spec is None:
                raise InputError(f"{source}: '{canon}' has no user column")
            else:
                columns[str(canon)] = unicodedata.normalize("NFC", str(spec))
        if structured and obj.get("recode"):
            rec = obj["recode"]
            if not isinstance(rec, dict):
                raise InputError(f"{source}: 'recode' must map variables to value pairs")
            for canon, pairs_ in rec.items():
                recodes[str(canon)] = _recode_dict(pairs_, source, str(canon))
        unknown = [c for c in list(columns) + list(recodes) if c not in VARIABLES]
        if unknown:
            raise InputError(f"{source}: not canonical variable names: "
                             f"{', '.join(sorted(set(unknown)))}")
        return cls(columns, recodes, options, source, dict(codes))


def _recode_dict(obj: object, source: str, canon: str) -> dict[str, object]:
    if isinstance(obj, str):  # CSV form "M=male; F=female"
        out: dict[str, object] = {}
        for part in obj.split(";"):
            if part.strip():
                if "=" not in part:
                    raise InputError(f"{source}: recode of '{canon}': '{part.strip()}' is not "
                                     f"'value=new'")
                k, v = part.split("=", 1)
                out[k.strip()] = v.strip()
        return out
    if not isinstance(obj, dict):
        raise InputError(f"{source}: recode of '{canon}' must be value pairs")
    return {_as_text(_cell(k)): v for k, v in obj.items()}


def read_mapping(path: str | os.PathLike[str]) -> Mapping:
    """Read a mapping file (YAML or CSV).

    Parameters
    ----------
    path : str or path-like
        ``.yaml``/``.yml``: ``canonical: user_column`` pairs, or a ``columns:`` block plus
        optional ``recode:`` (``sex: {M: male, F: female}``) and ``options:``
        (``mmt8_max: 150``). ``.csv``: columns ``canonical``, ``user_column`` and optionally
        ``recode`` (``"M=male; F=female"``).

    Returns
    -------
    Mapping

    Raises
    ------
    myorisk.errors.InputError
        Unreadable file, wrong structure, or a canonical name that does not exist.
    """
    p = Path(path)
    _check_file(p)
    ext = p.suffix.lower()
    if ext in (".yaml", ".yml", ".json"):
        import yaml

        try:
            obj = yaml.safe_load(_decode_text(p))
        except yaml.YAMLError as exc:
            raise InputError(f"{p}: not valid YAML ({str(exc).splitlines()[0]})") from exc
        return Mapping.from_dict(obj, str(p))
    if ext in (".csv", ".tsv", ".txt"):
        tab = read_table(p)
        cols = {normalise_name(c): c for c in tab.columns}
        if "canonical" not in cols or "user_column" not in cols:
            raise InputError(f"{p}: a CSV mapping needs columns 'canonical' and 'user_column'")
        flat: dict[str, object] = {}
        for r, rec in tab.iterrows():
            canon = _cell(rec[cols["canonical"]])
            user = _cell(rec[cols["user_column"]])
            if canon is None:
                raise InputError(f"{p}: row {r}, column 'canonical': empty")
            entry: dict[str, object] = {"column": None if user is None else _as_text(user)}
            if "recode" in cols and _cell(rec[cols["recode"]]) is not None:
                entry["recode"] = str(rec[cols["recode"]])
            flat[_as_text(canon)] = entry
        return Mapping.from_dict(flat, str(p))
    raise InputError(f"{p}: a mapping file must be .yaml, .yml or .csv")


def apply_mapping(df: pd.DataFrame, mapping: Mapping | None, source: str
                  ) -> tuple[pd.DataFrame, list[MappedColumn]]:
    """Rename users' columns to canonical names and recode values.

    Parameters
    ----------
    df : pandas.DataFrame
        Table as read.
    mapping : Mapping or None
        Explicit mapping; columns it does not name are also matched automatically when their
        folded name (:func:`~myorisk.myositis.schema.normalise_name`) is a canonical name.
    source : str
        Data file name for messages.

    Returns
    -------
    data : pandas.DataFrame
        Renamed (and recoded) copy; other columns are kept unchanged.
    mapped : list of MappedColumn
        What was renamed or recoded.

    Raises
    ------
    myorisk.errors.InputError
        A mapped user column is not in the file, two canonical names claim one column, or a
        rename would collide with an existing column.
    """
    m = mapping or Mapping()
    present = set(map(str, df.columns))
    missing = [f"'{u}' (for {c})" for c, u in m.columns.items() if u not in present]
    if missing:
        raise InputError(f"{m.source}: columns not found in {source}: {', '.join(missing)}")
    users = list(m.columns.values())
    dup = sorted({u for u in users if users.count(u) > 1})
    if dup:
        raise InputError(f"{m.source}: column(s) {', '.join(map(repr, dup))} mapped to more "
                         f"than one canonical variable")
    rename = {u: c for c, u in m.columns.items() if u != c}
    how = dict.fromkeys(rename, "mapping")
    taken = set(m.columns.values()) | set(m.columns)
    for col in df.columns:
        if col in taken or col in VARIABLES:
            continue
        folded = normalise_name(col)
        if folded in VARIABLES and folded not in taken and folded not in present:
            rename[col] = folded
            how[col] = "auto"
            taken.add(folded)
    clash = [f"'{u}' -> '{c}'" for u, c in rename.items() if c in present and c not in rename]
    if clash:
        raise InputError(f"{m.source}: renaming {', '.join(clash)} would overwrite a column of "
                         f"the same name in {source}")
    out = df.rename(columns=rename)
    mapped = {c: MappedColumn(c, u, how[u]) for u, c in rename.items()}
    for canon, codes in m.recodes.items():
        if canon not in out.columns:
            continue
        col = out[canon]
        n = 0
        values = []
        for v in col:
            c = _cell(v)
            key = None if c is None else _as_text(c)
            if key is not None and key in codes:
                values.append(codes[key])
                n += 1
            else:
                values.append(c)
        out[canon] = _typed_column(values, out.index, canon)
        prev = mapped.get(canon)
        mapped[canon] = MappedColumn(canon, prev.user_column if prev else canon,
                                     prev.how if prev else "mapping", n)
    return out, list(mapped.values())


# --------------------------------------------------------------------------- writer
def write_table(df: pd.DataFrame, path: str | os.PathLike[str], *, index: bool = False) -> None:
    """Write a table atomically (temporary file in the same folder, then rename).

    Parameters
    ----------
    df : pandas.DataFrame
        Table to write. Text cells (and column names) that a spreadsheet would run as a formula
        (``=``, ``+``, ``-``, ``@``, tab, CR first, and not a plain number) are written with a
        leading ``'`` (:func:`myorisk.spreadsheet.neutralise_formulas`); numbers never change.
    path : str or path-like
        ``.csv``, ``.tsv`` (UTF-8 with a byte-order mark, so Excel shows non-ASCII text) or
        ``.xlsx``. An existing file is replaced only once the new one is complete
        (:mod:`myorisk.atomic`), so a failed write never leaves a half-written file.
    index : bool, default False
        Also write the index (the row numbers) as the first column.

    Raises
    ------
    myorisk.errors.InputError
        Unsupported extension or a folder that does not exist.
    """
    from myorisk.atomic import write_atomic, write_csv_atomic
    from myorisk.spreadsheet import neutralise_formulas

    p = Path(path)
    ext = p.suffix.lower()
    if ext not in (".csv", ".tsv", ".xlsx"):
        raise InputError(f"{p}: can only write .csv, .tsv or .xlsx")
    # a text cell such as '=HYPERLINK(…)' from an input file must not run when the table is opened
    df = neutralise_formulas(df)
    if ext == ".xlsx":
        write_atomic(p, lambda tmp: df.to_excel(tmp, index=index, engine="openpyxl"))
    else:
        write_csv_atomic(df, p, sep="\t" if ext == ".tsv" else ",", index=index)
