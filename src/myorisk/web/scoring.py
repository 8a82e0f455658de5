"""Scoring for the web faces: validated records → predictions, uploaded CSV → scored CSV.

Nothing here keeps, prints or logs an input value: values live only in the request being served.
Every prediction goes through :func:`myorisk.modeling.spec.predict`, the function behind
``myorisk predict``, so the calculator, the API and the command line give identical numbers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

import pandas as pd
from pydantic import BaseModel, ValidationError

from myorisk.errors import InputError
from myorisk.modeling.spec import ModelSpec, VariableSpec, predict, score_clean, validate_inputs
from myorisk.spreadsheet import neutralise_formulas
from myorisk.web.registry import ModelEntry, allowed_text, band_of

__all__ = [
    "FieldError",
    "field_errors",
    "validate_records",
    "predict_records",
    "read_upload",
    "display_name",
    "BatchModel",
    "score_upload",
    "score_frame",
    "neutralise_formulas",
    "csv_bytes",
    "content_disposition",
    "parse_json",
    "RESULT_COLUMNS",
    "MAX_UPLOAD_BYTES",
    "MAX_PATIENTS",
]

#: Largest CSV upload accepted (bytes).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: Largest list of patients accepted by one API call.
MAX_PATIENTS = 10_000
#: At most this many problems are listed for one upload.
MAX_LISTED = 200
#: Widest upload read (columns): a model needs a handful; a 100 kB header of 20,000 empty
#: columns would otherwise cost a minute of CPU in the reader and writer.
MAX_COLUMNS = 1000


@dataclass(frozen=True)
class FieldError:
    """One refused value.

    Attributes
    ----------
    loc : tuple
        Where: ``("body", "age")``, ``("body", 3, "age")`` or, for a file, ``(row, column)``.
    msg : str
        What is wrong and what is allowed, in words.
    type : str
        Machine-readable kind (pydantic's error type, or ``"value_error"``).
    """

    loc: tuple
    msg: str
    type: str

    def to_dict(self) -> dict:
        """FastAPI-shaped error item (``loc``, ``msg``, ``type``)."""
        return {"loc": list(self.loc), "msg": self.msg, "type": self.type}


def _show(value: object) -> str:
    """The refused value as JSON writes it: ``"3.5"`` (a string), ``3.5``, ``null``, ``true``."""
    if isinstance(value, str) and len(value) > 37:
        return json.dumps(value[:36] + "…", ensure_ascii=False)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # 12, as typed in the form (read as 12.0)
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _numeric_text(value: object) -> bool:
    """True for a string holding a number (``"3.5"``): the JSON API wants the number itself."""
    if not isinstance(value, str):
        return False
    try:
        return math.isfinite(float(value.strip()))
    except ValueError:
        return False


def _friendly(v: VariableSpec | None, err: Mapping) -> str:
    """A message naming the variable, the problem and what is allowed."""
    kind = err.get("type", "")
    given = err.get("input")
    if v is None:
        if kind in ("model_type", "dict_type", "model_attributes_type"):
            return "each patient must be a JSON object whose keys are the model's variables"
        if kind == "list_type":
            return "expected a JSON object (one patient) or a list of them"
        return str(err.get("msg", "invalid value"))
    what = v.label or v.name
    allowed = f"allowed: {allowed_text(v)}"
    if kind == "missing":
        return f"{what} is required ({allowed})"
    if v.kind == "binary" and kind in ("greater_than_equal", "less_than_equal", "binary_parsing",
                                       "int_parsing", "int_type", "int_from_float"):
        return f"{what}: {_show(given)} is not 0 or 1 ({allowed})"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than") or (
            kind == "float_type" and isinstance(given, int) and not isinstance(given, bool)):
        # (an integer too large for a float is out of any range)
        return f"{what}: {_show(given)} is outside the allowed range ({allowed})"
    if kind == "finite_number":
        return f"{what}: must be a finite number ({allowed})"
    if kind == "float_type" and _numeric_text(given):
        return (f"{what}: {_show(given)} is text, not a number: send {given.strip()} without "
                f"quotes ({allowed})")
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"):
        return f"{what}: {_show(given)} is not a number ({allowed})"
    if kind in ("literal_error", "enum"):
        near = [lv for lv in v.levels if isinstance(given, str)
                and given.strip().lower() == lv.lower()]
        hint = f": write {_show(near[0])}" if near else ""
        return f"{what}: {_show(given)} is not one of the model's levels ({allowed}){hint}"
    return f"{what}: {err.get('msg', 'invalid value')} ({allowed})"


def field_errors(entry: ModelEntry, exc: ValidationError, prefix: tuple = ("body",)) -> list[FieldError]:
    """Turn a pydantic ``ValidationError`` into messages that name the field and the allowed values."""
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(err.get("loc", ()))
        var = None
        for part in reversed(loc):
            if isinstance(part, str):
                try:
                    var = entry.spec.variable(part)
                except KeyError:
                    continue
                break
        out.append(FieldError((*prefix, *loc), _friendly(var, err), str(err.get("type", ""))))
    return out


def validate_records(entry: ModelEntry, body: object) -> tuple[list[BaseModel], bool]:
    """Validate an API body: one patient (object) or a list of them.

    Validation follows the OpenAPI document: numbers must be JSON numbers (``"3.5"`` is refused
    with a message saying so); a binary variable takes 0 or 1, true or false, or one of the
    engine's yes/no words (``"yes"``, ``"no"``, ``"present"``…, any case), as batch CSV does;
    levels exactly as listed.

    Returns
    -------
    (records, many)
        The validated patients and whether the body was a list.

    Raises
    ------
    RecordsInvalid
        With field-level errors located as FastAPI locates them (``["body", i, "age"]``).
    """
    model = entry.input_model
    if isinstance(body, list):
        if not body:
            raise RecordsInvalid([FieldError(("body",), "the list of patients is empty",
                                             "too_short")])
        if len(body) > MAX_PATIENTS:
            raise RecordsInvalid([FieldError(("body",), f"at most {MAX_PATIENTS} patients per "
                                             f"request (got {len(body)})", "too_long")])
        records, errors = [], []
        for i, item in enumerate(body):
            try:
                records.append(model.model_validate(item, strict=True))
            except ValidationError as e:
                errors.extend(field_errors(entry, e, ("body", i)))
        if errors:
            raise RecordsInvalid(errors)
        return records, True
    try:
        return [model.model_validate(body, strict=True)], False
    except ValidationError as e:
        raise RecordsInvalid(field_errors(entry, e, ("body",))) from None


class RecordsInvalid(Exception):
    """Input refused; ``errors`` lists every refused field."""

    def __init__(self, errors: Sequence[FieldError]):
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = list(errors)


def predict_records(entry: ModelEntry, records: Sequence[BaseModel]) -> list[dict]:
    """Predictions for validated patients, as ``myorisk predict --json`` prints them.

    The input models have checked every value (allowed levels, ranges, 0/1), so the values go
    straight to the engine's scorer (:func:`myorisk.modeling.spec.score_clean`): no data frame
    is built for a request.

    Returns
    -------
    list of dict
        ``{probability, linear_predictor, points: {variable: points}, points_total}`` per patient.
    """
    import numpy as np

    spec = entry.spec
    rows = [r.model_dump() for r in records]
    cols = {v.name: (np.array([row[v.name] for row in rows], dtype=object) if v.kind == "categorical"
                     else np.array([row[v.name] for row in rows], dtype=float))
            for v in spec.variables}
    res = score_clean(spec, cols, len(rows))
    names = [v.name for v in spec.variables]
    return [
        {
            "probability": float(res["probability"][i]),
            "linear_predictor": float(res["linear_predictor"][i]),
            "points": {n: float(res["points"][n][i]) for n in names if n in res["points"]},
            "points_total": float(res["points_total"][i]),
        }
        for i in range(len(rows))
    ]


# ----------------------------------------------------------------------------- CSV upload
def display_name(filename: str | None) -> str:
    """The base name of an uploaded file as it may be shown and reused: no folders, no control
    characters, no lone surrogates, at most 120 characters (``upload.csv`` when nothing is left).
    """
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF)
    name = name.strip().strip(".") or "upload.csv"
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 115 - len(ext)] + "…" + dot + ext) if dot and len(ext) <= 5 else name[:120]
    return name


def read_upload(data: bytes, filename: str) -> pd.DataFrame:
    """Read an uploaded table with the project's one tabular reader.

    The bytes go through :func:`myorisk.myositis.io.read_table_bytes`, the in-memory form of
    :func:`~myorisk.myositis.io.read_table`, the reader of every command (``myorisk predict
    --input`` included), so separators, decimal marks, encodings, missing-value tokens and column
    typing are the same in the browser and on the command line; nothing is written to disk. Only
    text tables are read (CSV, semicolon- or tab-separated); workbooks are refused, since a
    compressed upload can expand far beyond the size limit.

    Parameters
    ----------
    data : bytes
        The uploaded file.
    filename : str
        Its name as shown in messages (see :func:`display_name`).

    Returns
    -------
    pandas.DataFrame
        As :func:`~myorisk.myositis.io.read_table`: the index is the line number in the file
        (header = line 1).

    Raises
    ------
    InputError
        Empty, binary or malformed file; messages start with ``filename``.
    """
    from myorisk.myositis.io import read_table_bytes

    if not data.strip():
        raise InputError(f"{filename}: file is empty")
    head = data[:8192]
    if head.startswith(b"PK\x03\x04"):
        raise InputError(f"{filename}: is a workbook (XLSX/ZIP), not a CSV file: save the sheet "
                         "as CSV (comma or semicolon separated) and upload that")
    if head.startswith(b"%PDF") or (b"\x00" in head and not head.startswith(
            (b"\xff\xfe", b"\xfe\xff"))):
        raise InputError(f"{filename}: is not a CSV text file (save the sheet as CSV first)")
    first = data[:1 << 20].split(b"\n", 1)[0]
    width = 1 + max(first.count(b","), first.count(b";"), first.count(b"\t"))
    if width > MAX_COLUMNS:
        raise InputError(f"{filename}: the header has about {width:,} columns; the calculator "
                         f"reads at most {MAX_COLUMNS:,} (keep the model's columns and an "
                         "identifier)")
    try:
        return read_table_bytes(data, filename)
    except (ValueError, OverflowError, RecursionError, MemoryError) as e:
        if isinstance(e, InputError):
            raise
        raise InputError(f"{filename}: could not be read as a table "
                         f"({type(e).__name__})") from None


def _problems(entry: ModelEntry, frame: pd.DataFrame, source: str) -> list[dict]:
    """Every refused cell, from the structured problems of the engine's validation."""
    try:
        validate_inputs(entry.spec, frame, source, extrapolate=False)
    except InputError as e:
        order = {v.name: i for i, v in enumerate(entry.spec.variables)}
        probs = sorted(e.problems, key=lambda p: (frame.index.get_loc(p.row) if p.row in frame.index
                                                 else -1, order.get(p.column or "", -1)))
        return [{"row": p.row, "column": p.column,
                 "message": p.rule if p.value is None else f"'{p.value}' {p.rule}"}
                for p in probs][:MAX_LISTED]
    return []


@dataclass(frozen=True)
class BatchModel:
    """What batch scoring needs of a served model, small enough to send to another process."""

    spec: ModelSpec
    bands_all: tuple

    @classmethod
    def of(cls, entry: ModelEntry) -> BatchModel:
        """The batch part of a served model."""
        return cls(entry.spec, tuple(entry.bands_all))


def score_upload(model: BatchModel, data: bytes, filename: str
                 ) -> list[dict] | tuple[bytes, dict[str, str]]:
    """Read, score and write one upload: the scored CSV and the renamed columns, or the
    problems to list (``{row, column, message}``). A pure function of its arguments, so that the
    calculator can run it in a thread or in a separate process."""
    try:
        frame = read_upload(data, filename)
    except InputError as e:
        return [{"row": None, "column": None, "message": str(e)}]
    scored, problems, renamed = score_frame(model, frame, filename)  # type: ignore[arg-type]
    if problems or scored is None:
        return problems
    return csv_bytes(scored), renamed


def result_columns(entry: ModelEntry) -> list[str]:
    """The columns batch scoring appends, in order (the columns ``myorisk predict`` adds, then
    ``risk_band``)."""
    return (["probability", "linear_predictor"] + [f"points_{v.name}" for v in entry.spec.variables]
            + ["points_total", "risk_band"])


#: Stem of the result columns common to every model (see :func:`result_columns`).
RESULT_COLUMNS = ("probability", "linear_predictor", "points_total", "risk_band")


def _free_name(name: str, taken: set[str]) -> str:
    k = 1
    while f"{name}_{k}" in taken:
        k += 1
    return f"{name}_{k}"


def score_frame(entry: ModelEntry, frame: pd.DataFrame, source: str) -> tuple[
        pd.DataFrame | None, list[dict], dict[str, str]]:
    """Score an uploaded table.

    The user's columns are all kept, in their order, followed by the result columns
    (:func:`result_columns`). A user's column whose name is one of the result columns is
    renamed, never overwritten: ``probability`` becomes ``probability_1`` (the first
    ``_<k>``, k = 1, 2, …, that names no other column of the file or of the result), and the
    renaming is returned so that the face reports it.

    Returns
    -------
    (scored, problems, renamed)
        ``scored`` is the scored table (None when any value was refused); ``problems`` lists
        every refused value as ``{row, column, message}`` (row = line number in the file; column
        None for problems of the whole file); ``renamed`` maps each renamed user column to its
        new name.
    """
    if frame.empty:
        return None, [{"row": None, "column": None,
                       "message": "the file has a header but no rows"}], {}
    absent = [v.name for v in entry.spec.variables if v.name not in frame.columns]
    if absent:
        return None, [{"row": None, "column": a,
                       "message": f"column '{a}' is missing (the model needs "
                                  f"{', '.join(v.name for v in entry.spec.variables)})"}
                      for a in absent], {}
    try:
        res = predict(entry.spec, frame, source=source, extrapolate=False)
    except InputError:
        problems = _problems(entry, frame, source)
        if not problems:  # pragma: no cover - predict and validate_inputs refuse the same rows
            raise
        return None, problems, {}
    added = result_columns(entry)
    taken = {str(c) for c in frame.columns} | set(added)
    renamed: dict[str, str] = {}
    for c in frame.columns:
        if c in added:
            renamed[c] = _free_name(c, taken)
            taken.add(renamed[c])
    out = frame.rename(columns=renamed)
    res["risk_band"] = [band_of(float(p), entry.bands_all).label for p in res["probability"]]
    out = pd.concat([out, res[added]], axis=1)
    return out, [], renamed


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The scored table as a CSV file that Excel opens correctly and safely.

    UTF-8 with a byte-order mark (Excel otherwise reads UTF-8 as the local code page), full
    precision, no index, formulas neutralised (:func:`neutralise_formulas`).
    """
    text = neutralise_formulas(frame).to_csv(index=False, lineterminator="\n")
    return b"\xef\xbb\xbf" + text.encode("utf-8")


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """A ``Content-Disposition`` value for any file name (RFC 6266 and RFC 5987).

    ``filename=`` carries an ASCII stand-in (other characters become ``_``) for old clients;
    ``filename*=UTF-8''…`` carries the name itself, percent-encoded, which every current browser
    uses: ``患者.csv`` downloads as ``患者.csv``.
    """
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in filename)
    safe = "".join(c for c in filename if not 0xD800 <= ord(c) <= 0xDFFF)
    return (f'{disposition}; filename="{ascii_name}"; '
            f"filename*=UTF-8''{quote(safe, safe='')}")


# ----------------------------------------------------------------------------- JSON bodies
#: Deepest nesting of arrays/objects accepted in a JSON body (a patient list is 2 deep).
MAX_JSON_DEPTH = 32


def _check_json(value: object) -> str | None:
    """Why a parsed JSON value cannot be processed (too deep, lone surrogates), or None."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, dict | list):
            if depth > MAX_JSON_DEPTH:
                return f"JSON nested more than {MAX_JSON_DEPTH} levels deep"
            items = list(v.items()) if isinstance(v, dict) else [(None, x) for x in v]
            for k, x in items:
                if isinstance(k, str) and not _is_utf8(k):
                    return "a key holds an invalid character (a lone UTF-16 surrogate such as \\ud800)"
                stack.append((x, depth + 1))
        elif isinstance(v, str) and not _is_utf8(v):
            return "a text value holds an invalid character (a lone UTF-16 surrogate such as \\ud800)"
    return None


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_json(raw: bytes) -> object:
    """Parse a request body as JSON, refusing what JSON allows but no patient needs.

    Refused (as :class:`RecordsInvalid`, answered 422): an empty body; malformed JSON or bytes
    that are not UTF-8; integers longer than Python's int-string digit limit (4300 digits);
    nesting deeper than :data:`MAX_JSON_DEPTH`; strings or keys with lone UTF-16 surrogates
    (``"\\ud800"``, valid JSON text but not Unicode text).
    """
    if not raw.strip():
        raise RecordsInvalid([FieldError(("body",), "the request body is empty: send one patient "
                                         "as a JSON object, or a list of them", "missing")])
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as e:
        raise RecordsInvalid([FieldError(("body",), f"malformed JSON (line {e.lineno}, column "
                                         f"{e.colno}: {e.msg})", "json_invalid")]) from None
    except UnicodeDecodeError:
        raise RecordsInvalid([FieldError(("body",), "the body is not UTF-8 text (JSON must be "
                                         "UTF-8)", "json_invalid")]) from None
    except ValueError:  # integer beyond sys.get_int_max_str_digits()
        raise RecordsInvalid([FieldError(("body",), "a number in the JSON has too many digits",
                                         "json_invalid")]) from None
    except RecursionError:
        raise RecordsInvalid([FieldError(("body",), f"JSON nested more than {MAX_JSON_DEPTH} "
                                         "levels deep", "json_invalid")]) from None
    why = _check_json(value)
    if why:
        raise RecordsInvalid([FieldError(("body",), why, "json_invalid")])
    return value
