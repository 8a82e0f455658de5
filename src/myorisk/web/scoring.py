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

import pandas as pd
from pydantic import BaseModel, ValidationError

from myorisk.errors import InputError
from myorisk.modeling.spec import VariableSpec, predict, validate_inputs
from myorisk.web.registry import ModelEntry, allowed_text, band_of

__all__ = [
    "FieldError",
    "field_errors",
    "validate_records",
    "predict_records",
    "read_csv_bytes",
    "score_frame",
    "MAX_UPLOAD_BYTES",
    "MAX_PATIENTS",
]

#: Largest CSV upload accepted (bytes).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: Largest list of patients accepted by one API call.
MAX_PATIENTS = 10_000
#: At most this many problems are listed for one upload.
MAX_LISTED = 200


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
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
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

    Returns
    -------
    list of dict
        ``{probability, linear_predictor, points: {variable: points}, points_total}`` per patient.
    """
    frame = pd.DataFrame([r.model_dump() for r in records],
                         columns=[v.name for v in entry.spec.variables])
    res = predict(entry.spec, frame, source="request", extrapolate=False)
    names = [v.name for v in entry.spec.variables]
    return [
        {
            "probability": float(row["probability"]),
            "linear_predictor": float(row["linear_predictor"]),
            "points": {n: float(row[f"points_{n}"]) for n in names},
            "points_total": float(row["points_total"]),
        }
        for _, row in res.iterrows()
    ]


# ----------------------------------------------------------------------------- CSV upload
def read_csv_bytes(data: bytes, source: str) -> pd.DataFrame:
    """Read an uploaded CSV table with the one tabular reader (:func:`myorisk.myositis.io.read_table_bytes`).

    Separator, decimal mark and encoding are detected as for a file on the command line; every
    cell stays text (missing cells are None), numbers written with a decimal point; the index is
    the line number as the user counts it (header = line 1).

    Raises
    ------
    InputError
        Empty, binary or malformed file; an unclear encoding or decimal mark; a row with more
        cells than the header; duplicate or empty column names.
    """
    from myorisk.myositis.io import read_table_bytes

    return read_table_bytes(data, source, typed=False)


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


def score_frame(entry: ModelEntry, frame: pd.DataFrame, source: str) -> tuple[pd.DataFrame | None,
                                                                                   list[dict]]:
    """Score an uploaded table.

    Returns
    -------
    (scored, problems)
        ``scored`` is the table with ``probability``, ``linear_predictor``, ``points_<variable>``,
        ``points_total`` and ``risk_band`` appended (None when any value was refused);
        ``problems`` lists every refused value as ``{row, column, message}`` (row = line number
        in the file; column None for problems of the whole file).
    """
    if frame.empty:
        return None, [{"row": None, "column": None, "message": "the file has a header but no rows"}]
    absent = [v.name for v in entry.spec.variables if v.name not in frame.columns]
    if absent:
        return None, [{"row": None, "column": a,
                       "message": f"column '{a}' is missing (the model needs "
                                  f"{', '.join(v.name for v in entry.spec.variables)})"}
                      for a in absent]
    try:
        res = predict(entry.spec, frame, source=source, extrapolate=False)
    except InputError:
        problems = _problems(entry, frame, source)
        if not problems:  # pragma: no cover - predict and validate_inputs refuse the same rows
            raise
        return None, problems
    out = frame.copy()
    for c in res.columns:
        out[c] = res[c]
    out["risk_band"] = [band_of(float(p), entry.bands).label for p in res["probability"]]
    return out, []


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The scored table as UTF-8 CSV (full precision, no index)."""
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
