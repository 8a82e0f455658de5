"""The models a running calculator serves: bundled published specs plus a folder of spec files.

Each model becomes a :class:`ModelEntry` holding the spec, its nomogram, its risk bands and the
pydantic model that validates one patient's input (used by the JSON API, the form and the
OpenAPI document). Everything is built once, when the application starts.

Risk bands
----------
A spec file may carry a top-level ``risk_bands`` key::

    "risk_bands": {"bands": [{"label": "low", "max": 0.2}, {"label": "intermediate", "max": 0.5},
                             {"label": "high", "max": 1.0}],
                   "rationale": "why these cut-offs"}

(a plain list of bands is accepted too). Without it the calculator uses :data:`DEFAULT_BANDS`:
low < 20 %, intermediate 20 % to < 50 %, high ≥ 50 %. Neither published study defines risk
thresholds; 50 % is where the event becomes more likely than not, and 20 % is about two thirds of
the event rate of the development cohorts (19/64 = 30 % non-responders in study A's training set,
57/168 = 34 % refractory in study B), so "low" means clearly below the average patient those
models were built on. They are display categories, not validated decision thresholds.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    create_model,
)
from pydantic_core import PydanticCustomError

from myorisk.codes import DEFAULT as DEFAULT_CODES
from myorisk.errors import InputError
from myorisk.modeling.spec import _FALSE, _TRUE, ModelSpec, VariableSpec, bundled_models, load_spec

__all__ = [
    "DEFAULT_BANDS",
    "DEFAULT_BANDS_RATIONALE",
    "RiskBand",
    "ModelEntry",
    "load_models",
    "band_of",
    "reachable_bands",
    "allowed_text",
    "BINARY_TRUE",
    "BINARY_FALSE",
]


@dataclass(frozen=True)
class RiskBand:
    """One risk band: predicted probabilities in ``[low, high)`` (the last band includes 1).

    Attributes
    ----------
    label : str
        Shown beside the probability ("low", "intermediate", "high").
    low, high : float
        Band limits on the probability scale.
    level : int
        0 for the lowest band, rising; the page colours bands by level (and names them in text).
    """

    label: str
    low: float
    high: float
    level: int

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"label": self.label, "min": self.low, "max": self.high}


DEFAULT_BANDS: tuple[RiskBand, ...] = (
    RiskBand("low", 0.0, 0.2, 0),
    RiskBand("intermediate", 0.2, 0.5, 1),
    RiskBand("high", 0.5, 1.0, 2),
)
DEFAULT_BANDS_RATIONALE = (
    "Default bands: neither published study defines risk thresholds. 50% is where the event "
    "becomes more likely than not; 20% is about two thirds of the event rate of the development "
    "cohorts (30% non-responders in study A's training set, 34% refractory in study B), so 'low' "
    "means clearly below the average patient the models were built on. These are display "
    "categories, not validated decision thresholds; a model spec can set its own (risk_bands)."
)


def band_of(p: float, bands: Sequence[RiskBand]) -> RiskBand:
    """The band holding probability ``p`` (``low <= p < high``; the top band includes its end)."""
    for b in bands:
        if b.low <= p < b.high:
            return b
    return bands[-1] if p >= bands[-1].low else bands[0]


def reachable_bands(bands: Sequence[RiskBand], attainable: tuple[float, float]
                    ) -> tuple[tuple[RiskBand, ...], tuple[RiskBand, ...]]:
    """Split ``bands`` into those a prediction of the model can fall in and those it never can.

    ``attainable`` is the model's (lowest, highest) possible probability
    (:meth:`~myorisk.modeling.spec.ModelSpec.probability_range`). A band is reachable when
    some attainable probability lies in ``[low, high)`` (the top band includes 1).
    """
    lo, hi = attainable
    reach, never = [], []
    for i, b in enumerate(bands):
        top = i == len(bands) - 1
        ok = b.low <= hi and (lo < b.high or (top and lo <= b.high))
        (reach if ok else never).append(b)
    return tuple(reach), tuple(never)


def _unreachable_text(never: Sequence[RiskBand], attainable: tuple[float, float]) -> str:
    if not never:
        return ""
    lo, hi = attainable
    below = [b for b in never if b.high <= lo]
    above = [b for b in never if b.low > hi]
    parts = []
    if below:
        parts.append(f"this model never predicts below {100 * lo:.1f}%, so the "
                     + " and ".join(f"'{b.label}' band (under {100 * b.high:g}%)" for b in below)
                     + " cannot occur and is not shown")
    if above:
        parts.append(f"this model never predicts above {100 * hi:.1f}%, so the "
                     + " and ".join(f"'{b.label}' band ({100 * b.low:g}% or more)" for b in above)
                     + " cannot occur and is not shown")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def _parse_bands(raw: object, source: str) -> tuple[tuple[RiskBand, ...], str]:
    """Bands and rationale from a spec's ``risk_bands`` value."""
    rationale = ""
    items = raw
    if isinstance(raw, Mapping):
        rationale = str(raw.get("rationale", ""))
        items = raw.get("bands")
    if not isinstance(items, list) or not items:
        raise InputError(f"{source}: key 'risk_bands' must be a non-empty list of bands "
                         "({\"label\": ..., \"max\": ...}) or an object with 'bands'")
    bands = []
    low = 0.0
    for i, b in enumerate(items):
        if not isinstance(b, Mapping) or "label" not in b:
            raise InputError(f"{source}: key 'risk_bands[{i}]' needs a 'label'")
        hi = b.get("max", 1.0 if i == len(items) - 1 else None)
        if isinstance(hi, bool) or not isinstance(hi, int | float) or not math.isfinite(hi):
            raise InputError(f"{source}: key 'risk_bands[{i}].max' must be a number in (0, 1]")
        hi = float(hi)
        if not low < hi <= 1.0:
            raise InputError(f"{source}: key 'risk_bands[{i}].max' ({hi:g}) must be above the "
                             f"previous band's limit ({low:g}) and at most 1")
        bands.append(RiskBand(str(b["label"]), low, hi, i))
        low = hi
    if low != 1.0:
        raise InputError(f"{source}: key 'risk_bands': the last band must end at 1")
    return tuple(bands), rationale


# ----------------------------------------------------------------------------- input models
#: Words a binary variable takes (case-insensitive): exactly the engine's, so that the JSON API,
#: the form and batch CSV (scored by :func:`myorisk.modeling.spec.predict`) accept the same values.
BINARY_TRUE: tuple[str, ...] = tuple(sorted(_TRUE))
BINARY_FALSE: tuple[str, ...] = tuple(sorted(_FALSE))
_BLANKS = " \t\r\n"


def allowed_text(v: VariableSpec) -> str:
    """Allowed values in words, as the web faces accept them: ``0-10 cm``,
    ``0 or 1, no or yes, false or true``, ``female, male``."""
    if v.kind == "binary":
        return "0 or 1, no or yes, false or true"
    return v.range_text()


def _caseless(word: str) -> str:
    """Regular expression matching ``word`` in any case (JSON Schema has no ``(?i)``)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


def _binary_schema() -> dict:
    words = "|".join(_caseless(w) for w in sorted((*BINARY_TRUE, *BINARY_FALSE), key=len,
                                                   reverse=True))
    return {"anyOf": [
        {"type": "integer", "minimum": 0, "maximum": 1},
        {"type": "boolean"},
        {"type": "string", "pattern": f"^[ \\t\\r\\n]*(?:{words})[ \\t\\r\\n]*$",
         "examples": ["yes", "no"]},
    ]}


def _field_for(v: VariableSpec) -> tuple[Any, Any]:
    """pydantic (type, Field) of one variable."""
    desc = v.label or v.name
    if v.unit:
        desc += f" ({v.unit})"
    if v.description:
        desc += f". {v.description.rstrip('.')}"
    if v.kind == "binary":
        desc += (". Allowed: 0 or 1; also true/false, or the words yes/no, y/n, t/f, "
                 "present/absent, positive/negative (any case).")
    else:
        desc += f". Allowed: {v.range_text()}."
    if v.kind == "categorical":
        words = [w for lv in v.levels for w in DEFAULT_CODES.words_for(lv)[1:]]
        if words:
            desc += f" Also accepted (any case): {', '.join(words)}."
        return (Annotated[Literal[tuple(v.levels)], BeforeValidator(_level_of(v.levels))],  # type: ignore[valid-type]
                Field(..., description=desc, title=v.label or v.name))
    if v.kind == "binary":
        return (Annotated[int, Field(ge=0, le=1), BeforeValidator(_binary),
                          WithJsonSchema(_binary_schema())],
                Field(..., description=desc, title=v.label or v.name))
    kw: dict[str, Any] = {"allow_inf_nan": False}
    if v.min is not None:
        kw["ge"] = v.min
    if v.max is not None:
        kw["le"] = v.max
    return (Annotated[float, Field(**kw), BeforeValidator(_number)],
            Field(..., description=desc, title=v.label or v.name))


def _level_of(levels: Sequence[str]):  # noqa: ANN202 - a pydantic before-validator
    """A level given in any case or as a synonym (``M``, ``男`` for male), as the batch upload and
    the command line read it (:class:`myorisk.codes.Vocabulary`); anything else is left for the
    ``Literal`` to refuse with the allowed levels."""

    def level(x: object) -> object:
        if isinstance(x, str):
            found = DEFAULT_CODES.level(x.strip(_BLANKS), levels)
            if found is not None:
                return found
        return x

    return level


def _binary(x: object) -> object:
    """0/1 from a JSON number (1 and 1.0 alike), a boolean or a yes/no word (the engine's set)."""
    if isinstance(x, bool):
        return int(x)
    if isinstance(x, float) and x in (0.0, 1.0):
        return int(x)
    if isinstance(x, str):
        t = x.strip(_BLANKS).lower()
        if t in _TRUE:
            return 1
        if t in _FALSE:
            return 0
        raise PydanticCustomError("binary_parsing", "Input should be 0 or 1, yes or no, true or false")
    return x


def _number(x: object, info: ValidationInfo) -> object:
    """Numbers: JSON numbers; text (form fields, with ``context={"text": True}``) is read as the
    engine reads CSV cells (``pandas.to_numeric`` of the trimmed text: ``3.5``, ``1e3``; not
    ``1,5``)."""
    if isinstance(x, str) and (info.context or {}).get("text"):
        num = pd.to_numeric(pd.Series([x], dtype="string").str.strip(), errors="coerce").iloc[0]
        if pd.isna(num):
            raise PydanticCustomError("float_parsing", "Input should be a number")
        return float(num)
    return x


def _example(v: VariableSpec) -> object:
    if v.kind == "categorical":
        return v.levels[-1]
    if v.kind == "binary":
        return 1
    lo = v.min if v.min is not None else 0.0
    hi = v.max if v.max is not None else lo + 1.0
    mid = lo + (hi - lo) / 2
    return round(mid, 2) if mid != int(mid) else int(mid)


def _class_name(name: str) -> str:
    parts = [p for p in "".join(c if c.isalnum() else " " for c in name).split() if p]
    return "".join(p[:1].upper() + p[1:] for p in parts) + "Input"


def input_model(spec: ModelSpec) -> type[BaseModel]:
    """A pydantic model of one patient's input to ``spec`` (unknown keys are ignored)."""
    fields = {v.name: _field_for(v) for v in spec.variables}
    example = {v.name: _example(v) for v in spec.variables}
    cfg = ConfigDict(extra="ignore", title=_class_name(spec.name),
                     json_schema_extra={"examples": [example]})
    return create_model(_class_name(spec.name), __config__=cfg, **fields)  # type: ignore[call-overload]


# ----------------------------------------------------------------------------- entries
@dataclass(frozen=True)
class ModelEntry:
    """A model as the web application serves it.

    Attributes
    ----------
    spec : ModelSpec
    origin : str
        ``"bundled"`` or the spec file's path.
    bands : tuple of RiskBand
        The bands this model's predictions can fall in (see :func:`reachable_bands`).
    bands_all : tuple of RiskBand
        Every band defined (by the spec or the defaults), reachable or not.
    attainable : (float, float)
        The model's lowest and highest possible predicted probability.
    bands_rationale : str
        How the bands were chosen (shown on the page).
    bands_default : bool
        True when the spec has no ``risk_bands`` and the defaults apply.
    intended_use : str
        The spec's ``intended_use`` text, if any.
    nomogram : Nomogram
    input_model : type of pydantic.BaseModel
    """

    spec: ModelSpec
    origin: str
    bands: tuple[RiskBand, ...]
    bands_all: tuple[RiskBand, ...]
    attainable: tuple[float, float]
    bands_rationale: str
    bands_default: bool
    intended_use: str
    nomogram: Any = field(repr=False)
    input_model: type[BaseModel] = field(repr=False)

    @property
    def name(self) -> str:
        """The model's name (URL component)."""
        return self.spec.name

    def summary(self) -> dict:
        """Short JSON description (``GET /api/models``)."""
        return {
            "name": self.spec.name,
            "title": self.spec.title,
            "status": self.spec.status,
            "reconstructed": self.spec.is_reconstructed,
            "origin": "bundled" if self.origin == "bundled" else "file",
            "outcome": dict(self.spec.outcome),
            "variables": [v.name for v in self.spec.variables],
            "intended_use": self.intended_use or None,
        }

    def detail(self) -> dict:
        """Full JSON description (``GET /api/models/{name}``): the spec, bands and nomogram."""
        d = self.summary()
        d["notice"] = self.spec.notice()
        d["spec"] = self.spec.to_dict()
        d["risk_bands"] = {
            "bands": [b.to_dict() for b in self.bands],
            "unreachable": [b.to_dict() for b in self.bands_all if b not in self.bands],
            "attainable": {"min": self.attainable[0], "max": self.attainable[1]},
            "rationale": self.bands_rationale,
            "default": self.bands_default,
        }
        d["nomogram"] = self.nomogram.to_dict()
        d["input_schema"] = self.input_model.model_json_schema()
        return d


def _raw_extras(spec_json: Mapping) -> tuple[object, str]:
    bands = spec_json.get("risk_bands")
    use = spec_json.get("intended_use") or (spec_json.get("provenance") or {}).get("intended_use")
    return bands, str(use or "")


#: Intended use of the bundled models, as issue 7 states it; a spec's own ``intended_use`` key wins.
_BUNDLED_USE = {
    "pmdm-noninvasive": "Initial screen at diagnosis of PM/DM: needs no muscle biopsy (sex and "
                        "PET/CT mSUVmax only).",
    "pmdm-comprehensive": "For patients at high or uncertain risk after the non-invasive screen, "
                          "when a muscle biopsy is available.",
    "redmi": "Adults with dermatomyositis at baseline: flags patients likely to become refractory, "
             "as candidates for early escalation of therapy.",
}

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _entry(spec: ModelSpec, raw: Mapping, origin: str, source: str) -> ModelEntry:
    if not _SAFE_NAME.match(spec.name):
        raise InputError(f"{source}: key 'name' ({spec.name!r}) must use only letters, digits, "
                         "'.', '_' and '-' (it becomes part of the calculator's web address)")
    raw_bands, use = _raw_extras(raw)
    raw_bands = getattr(spec, "risk_bands", None) or raw_bands
    if raw_bands:
        bands, rationale = _parse_bands(raw_bands, source)
        default = False
        rationale = rationale or "Risk bands as defined in the model spec file."
    else:
        bands, rationale, default = DEFAULT_BANDS, DEFAULT_BANDS_RATIONALE, True
    use = str(getattr(spec, "intended_use", "") or use
              or (_BUNDLED_USE.get(spec.name, "") if origin == "bundled" else ""))
    attainable = spec.probability_range()
    reach, never = reachable_bands(bands, attainable)
    if never:
        rationale = rationale + " " + _unreachable_text(never, attainable)
    return ModelEntry(spec=spec, origin=origin, bands=reach, bands_all=bands,
                      attainable=attainable, bands_rationale=rationale,
                      bands_default=default, intended_use=use, nomogram=spec.nomogram(),
                      input_model=input_model(spec))


def load_models(models_dir: str | Path | None = None) -> dict[str, ModelEntry]:
    """The bundled published models, then every ``*.json`` spec in ``models_dir``.

    Raises
    ------
    InputError
        ``models_dir`` is not a folder, a spec file is invalid, or two models share a name.
    """
    entries: dict[str, ModelEntry] = {}
    for name in bundled_models():
        spec = load_spec(name)
        raw = json.loads(resources.files("myorisk").joinpath("published", f"{name}.json")
                         .read_text(encoding="utf-8"))
        entries[spec.name] = _entry(spec, raw, "bundled", f"{name}.json")
    if models_dir is None:
        return entries
    folder = Path(models_dir)
    if not folder.is_dir():
        raise InputError(f"{folder}: --models must be a folder of model spec files (*.json)")
    for path in sorted(folder.glob("*.json")):
        spec = load_spec(path)
        raw = json.loads(path.read_text(encoding="utf-8"))
        if spec.name in entries:
            other = entries[spec.name].origin
            raise InputError(f"{path}: model name '{spec.name}' is already used by "
                             f"{'a bundled model' if other == 'bundled' else other}; "
                             "give the model another \"name\"")
        entries[spec.name] = _entry(spec, raw, str(path), str(path))
    return entries
