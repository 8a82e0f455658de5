"""Model spec files: a fitted or published logistic model as a JSON document.

Format ``myorisk-model/2`` (files in format ``/1``, which has no ``terms``, are read as well)::

    {
      "format": "myorisk-model/2",
      "name": "pmdm-noninvasive",
      "title": "…",
      "outcome": {"name": "nonresponse", "event": "1", "description": "…"},
      "variables": [
        {"name": "sex", "kind": "categorical", "label": "Sex", "unit": "", "levels": ["female",
         "male"], "reference": "female", "description": "…"},
        {"name": "msuvmax", "kind": "numeric", "label": "mSUVmax", "unit": "ratio", "min": 0,
         "max": 3, "description": "…"},
        {"name": "anti_tif1g", "kind": "binary", "label": "Anti-TIF1-γ", "min": 0, "max": 1}
      ],
      "terms": [{"kind": "rcs", "variable": "msuvmax", "knots": [0.9, 1.4, 2.3]},
                {"kind": "interaction", "variables": ["sex", "msuvmax"], "restricted": false}],
                                                                     (optional, format /2)
      "coefficients": {"Intercept": -3.1, "sex=male": 2.02, "msuvmax": 4.14, "msuvmax'": 0.3,
                       "sex=male * msuvmax": 0.5, "sex=male * msuvmax'": -0.2},
      "covariance": {"order": [...], "matrix": [[...]]},          (optional)
      "provenance": {"status": "published|reconstructed|fitted|recalibrated", "source": "…",
                     "published": [...], "reconstructed": [...], "errata": [...],
                     "caveats": [...]},
      "lineage": [...],
      "performance": {...},                                        (optional)
      "software": {"myorisk": "0.1.0"}
    }

Coefficients are keyed by design-column name as :mod:`myorisk.modeling.design` names them
(``"Intercept"`` first; ``var=level`` for the dummies of a categorical variable; the variable name
for numeric and binary ones; ``x'``, ``x''`` for a spline's nonlinear terms; ``a * b`` for an
interaction's products, as rms prints them). Without ``terms`` every variable enters linearly; a
``terms`` entry of kind ``rcs`` makes its variable a restricted cubic spline with the given knots
(fixed from the development data), and one of kind ``interaction`` adds the products of two
variables' columns (``restricted``: rms' ``%ia%``, no product of two nonlinear terms). :func:`predict` refuses values outside a variable's ``min``/``max``,
unknown levels and missing values, naming the row and column.
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from myorisk._json import clean as _clean
from myorisk.codes import DEFAULT as DEFAULT_CODES
from myorisk.codes import FALSE_WORDS, TRUE_WORDS, Vocabulary
from myorisk.errors import InputError, ModelError, Problem, did_you_mean, word_problems
from myorisk.modeling._newton import newton_logistic
from myorisk.modeling._special import expit
from myorisk.modeling.design import Term, _is_missing, _level_label, code_outcome

__all__ = [
    "FORMAT",
    "STATUSES",
    "VariableSpec",
    "ModelSpec",
    "validate_inputs",
    "extrapolation_note",
    "predict",
    "score_clean",
    "predict_one",
    "linear_predictor",
    "recalibrate",
    "RECALIBRATION_METHODS",
]

FORMAT = "myorisk-model/2"
#: Formats this version reads: /1 (main effects only) and /2 (adds ``terms``: splines, interactions).
READABLE_FORMATS = ("myorisk-model/1", "myorisk-model/2")
KINDS = ("numeric", "binary", "categorical")
STATUSES = ("published", "reconstructed", "fitted", "recalibrated")
RANGES = ("valid", "observed")
_TRUE = TRUE_WORDS  # the one vocabulary (myorisk.codes); names kept for the web's imports
_FALSE = FALSE_WORDS


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


@dataclass(frozen=True)
class VariableSpec:
    """One predictor of a model spec.

    Attributes
    ----------
    name : str
        Column name (canonical name of the data dictionary for the bundled models).
    kind : {"numeric", "binary", "categorical"}
        ``binary`` takes 0/1 (also yes/no, true/false on input) and enters as one column.
    label : str
        Human-readable name (nomogram axis, calculator form).
    unit : str
    min, max : float or None
        Range (inclusive) of a numeric variable.
    range : {"valid", "observed"}
        ``valid``: the range of values the model accepts (published models, written by hand);
        inputs outside it are refused. ``observed``: the range seen in the development data
        (``fit --save``); inputs outside it are scored by extrapolation, as R's ``predict``
        does, and reported (see :func:`validate_inputs`).
    levels : tuple of str
        Categorical: every level (the reference first).
    reference : str or None
        Categorical: the reference level.
    description : str
    """

    name: str
    kind: str
    label: str = ""
    unit: str = ""
    min: float | None = None
    max: float | None = None
    levels: tuple[str, ...] = ()
    reference: str | None = None
    description: str = ""
    range: str = "valid"

    @property
    def columns(self) -> tuple[str, ...]:
        """Design-column names of this variable."""
        if self.kind == "categorical":
            return tuple(f"{self.name}={lv}" for lv in self.levels if lv != self.reference)
        return (self.name,)

    def term(self) -> Term:
        """The engine :class:`~myorisk.modeling.design.Term` of this variable."""
        if self.kind == "categorical":
            levels = (self.reference, *[lv for lv in self.levels if lv != self.reference])
            return Term(self.name, "categorical", levels=tuple(levels), columns=self.columns)
        return Term(self.name, "numeric", columns=(self.name,))

    def range_text(self) -> str:
        """Allowed values as text: ``0-3 ratio``, ``0 or 1``, ``female, male``."""
        if self.kind == "categorical":
            return ", ".join(self.levels)
        if self.kind == "binary":
            return "0 or 1"
        lo, hi = _num(self.min), _num(self.max)
        txt = f"{lo}-{hi}" if lo and hi else (f">= {lo}" if lo else (f"<= {hi}" if hi else "any"))
        return f"{txt} {self.unit}".strip()

    def to_dict(self) -> dict:
        """JSON-ready form."""
        d: dict = {"name": self.name, "kind": self.kind, "label": self.label or self.name,
                   "unit": self.unit}
        if self.kind == "categorical":
            d["levels"] = list(self.levels)
            d["reference"] = self.reference
        else:
            d["min"] = self.min
            d["max"] = self.max
            if self.range != "valid":
                d["range"] = self.range
        d["description"] = self.description
        return d


@dataclass(frozen=True)
class ModelSpec:
    """A logistic prediction model as stored in a spec file (see the module docstring).

    Attributes
    ----------
    name, title : str
    outcome : dict
        ``name``, ``event`` (outcome value coded 1, as text) and ``description``.
    variables : tuple of VariableSpec
    coefficients : dict
        Design-column name → coefficient, ``"Intercept"`` first.
    provenance : dict
        ``status`` (published | reconstructed | fitted | recalibrated), ``source`` and the lists
        ``published``, ``reconstructed``, ``errata``, ``caveats``.
    covariance : dict or None
        ``{"order": [...], "matrix": [[...]]}``.
    lineage : tuple of dict
        Each step that produced this model from another (recalibration, refit).
    performance : dict or None
        Reported or measured performance (free-form; documents its own source).
    software : dict
        ``{"myorisk": version}`` of the writer.
    format : str
    model_terms : tuple of dict
        Splines and interactions (the ``terms`` key): ``{"kind": "rcs", "variable", "knots"}`` and
        ``{"kind": "interaction", "variables": [a, b], "restricted"}``.
    """

    name: str
    title: str
    outcome: dict
    variables: tuple[VariableSpec, ...]
    coefficients: dict
    provenance: dict
    covariance: dict | None = None
    lineage: tuple = ()
    performance: dict | None = None
    software: dict = field(default_factory=dict)
    format: str = FORMAT
    model_terms: tuple = ()

    # ------------------------------------------------------------------ views
    @property
    def is_linear(self) -> bool:
        """True when every variable enters as a single linear term (no spline, no interaction)."""
        return not self.model_terms
    @property
    def status(self) -> str:
        """Provenance status."""
        return str(self.provenance.get("status", ""))

    @property
    def is_reconstructed(self) -> bool:
        """True when any number of the model was reconstructed rather than published or fitted."""
        return self.status == "reconstructed" or bool(self.provenance.get("reconstructed"))

    def notice(self) -> str | None:
        """One line to show wherever the model is shown, when it is reconstructed."""
        if not self.is_reconstructed:
            return None
        what = "; ".join(str(r.get("what", r)) if isinstance(r, Mapping) else str(r)
                         for r in self.provenance.get("reconstructed", []))
        return (f"RECONSTRUCTED model '{self.name}': not all of its numbers were published "
                f"({what}). Predictions are approximate; see the spec's provenance.")

    def variable(self, name: str) -> VariableSpec:
        """The variable called ``name``."""
        for v in self.variables:
            if v.name == name:
                return v
        raise KeyError(name)

    def terms(self) -> tuple[Term, ...]:
        """Engine terms, in model order: each variable (linear or spline), then the interactions."""
        return _terms(self.variables, self.model_terms)

    def design_columns(self) -> tuple[str, ...]:
        """``("Intercept", ...)`` in model order."""
        return ("Intercept", *[c for t in self.terms() for c in t.columns])

    def beta(self) -> np.ndarray:
        """Coefficients as a vector in :meth:`design_columns` order."""
        return np.array([float(self.coefficients[c]) for c in self.design_columns()])

    def ranges(self) -> dict[str, tuple[float, float]]:
        """``{variable: (min, max)}`` of the numeric and binary variables."""
        out = {}
        for v in self.variables:
            if v.kind == "binary":
                out[v.name] = (0.0, 1.0)
            elif v.kind == "numeric" and v.min is not None and v.max is not None:
                out[v.name] = (float(v.min), float(v.max))
        return out

    def lp_range(self) -> tuple[float, float]:
        """Smallest and largest linear predictor over the valid ranges."""
        if not self.is_linear:
            return _lp_range_grid(self)
        lo = hi = float(self.coefficients["Intercept"])
        for v in self.variables:
            if v.kind == "categorical":
                c = [0.0] + [float(self.coefficients[k]) for k in v.columns]
            else:
                a, b = self.ranges().get(v.name, (0.0, 0.0))
                c = [float(self.coefficients[v.name]) * a, float(self.coefficients[v.name]) * b]
            lo += min(c)
            hi += max(c)
        return lo, hi

    def probability_range(self) -> tuple[float, float]:
        """Lowest and highest predicted probability any valid input can give
        (``expit`` of :meth:`lp_range`): a model with a large intercept never predicts low
        risks (the ReDMI's lowest is 25%)."""
        lo, hi = self.lp_range()
        return float(expit(lo)), float(expit(hi))

    def nomogram(self):  # noqa: ANN201 - returns myorisk.modeling.nomogram.Nomogram
        """The model's nomogram, scaled as rms would: each numeric axis runs from the
        variable's lowest allowed value to its highest, with rms's pretty values between.

        Built once per spec (a spec is frozen, and so is its nomogram): every prediction's
        points read it."""
        return self._nomogram

    @functools.cached_property
    def _nomogram(self):  # noqa: ANN202
        from myorisk.modeling.nomogram import axis_values_in_range, build_nomogram

        axis = {}
        for v in self.variables:
            if v.kind == "binary":
                axis[v.name] = [0.0, 1.0]
            elif v.kind == "numeric":
                lo, hi = self.ranges().get(v.name, (None, None))
                if lo is None:
                    raise ModelError(f"model '{self.name}': variable '{v.name}' has no range")
                # from the lowest allowed value to the highest (not pretty's rounder ends)
                axis[v.name] = axis_values_in_range(lo, hi)
        # 0/1 variables count as discrete (rms datadist values): an interacting predictor gets an
        # axis per value
        discrete = [v.name for v in self.variables if v.kind == "binary"]
        return build_nomogram(self.terms(), self.coefficients, axis, self.lp_range(), discrete=discrete)

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict:
        """JSON-ready document (key order as in the module docstring)."""
        d: dict = {
            "format": self.format,
            "name": self.name,
            "title": self.title,
            "outcome": dict(self.outcome),
            "variables": [v.to_dict() for v in self.variables],
        }
        if self.model_terms:
            d["terms"] = [dict(t) for t in self.model_terms]
        d["coefficients"] = {c: float(self.coefficients[c]) for c in self.design_columns()}
        if self.covariance is not None:
            d["covariance"] = self.covariance
        d["provenance"] = self.provenance
        d["lineage"] = list(self.lineage)
        if self.performance is not None:
            d["performance"] = self.performance
        d["software"] = self.software
        return d

    @classmethod
    def from_dict(cls, d: Mapping, source: str = "model spec") -> ModelSpec:
        """Build and validate a spec from its JSON document.

        Raises
        ------
        InputError
            Naming the offending key, e.g. ``"m.json: key 'variables[1].min': must be a number"``.
        """
        return _parse(d, source)

    @classmethod
    def from_fit(
        cls,
        fit,  # noqa: ANN001 - myorisk.modeling.logistic.LogisticFit
        data: pd.DataFrame,
        name: str,
        *,
        title: str | None = None,
        outcome_description: str = "",
        labels: Mapping[str, str] | None = None,
        units: Mapping[str, str] | None = None,
        descriptions: Mapping[str, str] | None = None,
        source: str = "data",
        performance: Mapping | None = None,
    ) -> ModelSpec:
        """Spec of a model fitted by :func:`myorisk.modeling.logistic.fit_logistic`.

        Numeric ranges are the observed ranges of ``data`` (the rows used by the fit), marked
        ``range="observed"``: new data outside them is scored by extrapolation and reported.
        Numeric predictors taking only 0 and 1 become ``binary``.
        """
        from myorisk import __version__

        labels, units, descriptions = dict(labels or {}), dict(units or {}), dict(descriptions or {})
        dropped = [r for r in fit.missing.get("rows", []) if r in data.index]
        used = data.drop(index=dropped)
        variables = []
        model_terms: list[dict] = []
        for t in fit.terms:
            if t.kind == "interaction":
                model_terms.append({"kind": "interaction", "variables": list(t.variables),
                                    "restricted": t.restricted})
                continue
            common = {"label": labels.get(t.name, t.name), "unit": units.get(t.name, ""),
                      "description": descriptions.get(t.name, "")}
            if t.kind == "rcs":
                model_terms.append({"kind": "rcs", "variable": t.name, "knots": [float(k) for k in t.knots]})
            if t.kind == "categorical":
                variables.append(VariableSpec(t.name, "categorical", levels=tuple(t.levels),
                                              reference=t.reference, **common))
                continue
            x = pd.to_numeric(used[t.name], errors="coerce").dropna().to_numpy(dtype=float)
            if x.size and set(np.unique(x)) <= {0.0, 1.0} and t.kind == "numeric":
                variables.append(VariableSpec(t.name, "binary", min=0.0, max=1.0, **common))
            else:
                variables.append(VariableSpec(t.name, "numeric", min=float(x.min()),
                                              max=float(x.max()), range="observed", **common))
        perf = dict(performance) if performance is not None else {
            "data": source, "n": fit.n, "events": fit.events, "c": fit.c,
            "brier": fit.brier, "r2_nagelkerke": fit.r2_nagelkerke, "apparent": True,
        }
        return cls(
            name=name,
            title=title or name,
            outcome={"name": fit.outcome, "event": fit.event, "description": outcome_description},
            variables=tuple(variables),
            coefficients=dict(fit.coef),
            covariance={"order": list(fit.names), "matrix": np.asarray(fit.cov).tolist()},
            provenance={"status": "fitted", "source": f"fitted by myorisk to {source}",
                        "method": fit.method, "published": [], "reconstructed": [],
                        "errata": [], "caveats": list(fit.warnings)},
            lineage=({"step": "fit", "data": source, "n": fit.n, "events": fit.events,
                      "method": fit.method, "date": _today(),
                      **({"penalty": fit.penalty, "effective_df": fit.effective_df} if fit.penalty else {}),
                      **({"shrinkage": fit.shrinkage} if fit.shrinkage else {})},),
            performance=_clean(perf),
            software={"myorisk": __version__},
            model_terms=tuple(model_terms),
        )


def _today() -> str:
    return _dt.date.today().isoformat()


# ----------------------------------------------------------------------------- parsing
def _need(d: Mapping, key: str, path: str, source: str, types: type | tuple) -> object:
    if not isinstance(d, Mapping) or key not in d:
        raise InputError(f"{source}: key '{path}{key}' is missing")
    v = d[key]
    if not isinstance(v, types) or isinstance(v, bool) and types is not bool:
        tn = types.__name__ if isinstance(types, type) else " or ".join(t.__name__ for t in types)
        raise InputError(f"{source}: key '{path}{key}' must be {tn}, not {type(v).__name__}")
    return v


def _opt_number(d: Mapping, key: str, path: str, source: str) -> float | None:
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(float(v)):
        raise InputError(f"{source}: key '{path}{key}' must be a finite number, not {v!r}")
    return float(v)


def _parse(d: Mapping, source: str) -> ModelSpec:
    if not isinstance(d, Mapping):
        raise InputError(f"{source}: a model spec must be a JSON object")
    fmt = _need(d, "format", "", source, str)
    if fmt not in READABLE_FORMATS:
        raise InputError(f"{source}: key 'format' is {fmt!r}; this myorisk reads "
                         f"{' and '.join(repr(f) for f in READABLE_FORMATS)}")
    name = _need(d, "name", "", source, str)
    title = d.get("title", name)
    out = _need(d, "outcome", "", source, dict)
    _need(out, "name", "outcome.", source, str)
    ev = out.get("event", "1")
    outcome = {"name": out["name"], "event": _level_label(ev), "description":
               str(out.get("description", ""))}
    raw_vars = _need(d, "variables", "", source, list)
    if not raw_vars:
        raise InputError(f"{source}: key 'variables' is empty")
    variables = []
    seen = set()
    for i, rv in enumerate(raw_vars):
        p = f"variables[{i}]."
        if not isinstance(rv, Mapping):
            raise InputError(f"{source}: key 'variables[{i}]' must be an object")
        vname = _need(rv, "name", p, source, str)
        if vname in seen:
            raise InputError(f"{source}: key '{p}name': variable '{vname}' appears twice")
        seen.add(vname)
        kind = _need(rv, "kind", p, source, str)
        if kind not in KINDS:
            raise InputError(f"{source}: key '{p}kind' is {kind!r}; use one of {', '.join(KINDS)}")
        common = {"label": str(rv.get("label") or vname), "unit": str(rv.get("unit") or ""),
                  "description": str(rv.get("description") or "")}
        if kind == "categorical":
            levels = _need(rv, "levels", p, source, list)
            levels = tuple(_level_label(v) for v in levels)
            if len(levels) < 2 or len(set(levels)) != len(levels):
                raise InputError(f"{source}: key '{p}levels' needs at least 2 distinct levels")
            ref = _level_label(rv.get("reference", levels[0]))
            if ref not in levels:
                raise InputError(f"{source}: key '{p}reference' ({ref!r}) is not one of the levels "
                                 f"({', '.join(levels)})")
            variables.append(VariableSpec(vname, kind, levels=levels, reference=ref, **common))
            continue
        lo, hi = _opt_number(rv, "min", p, source), _opt_number(rv, "max", p, source)
        if kind == "binary":
            lo, hi = 0.0, 1.0
        if lo is not None and hi is not None and lo > hi:
            raise InputError(f"{source}: key '{p}min' ({lo:g}) is above '{p}max' ({hi:g})")
        basis = rv.get("range", "valid")
        if basis not in RANGES or kind == "binary" and basis != "valid":
            raise InputError(f"{source}: key '{p}range' is {basis!r}; use one of {', '.join(RANGES)} "
                             "(binary variables: valid)")
        variables.append(VariableSpec(vname, kind, min=lo, max=hi, range=basis, **common))
    model_terms = _parse_terms(d.get("terms", []), variables, fmt, source)
    coefs = _need(d, "coefficients", "", source, dict)
    spec_cols = ("Intercept", *[c for t in _terms(tuple(variables), model_terms) for c in t.columns])
    missing = [c for c in spec_cols if c not in coefs]
    if missing:
        raise InputError(f"{source}: key 'coefficients.{missing[0]}' is missing (the variables "
                         f"need coefficients {', '.join(spec_cols)})")
    extra = [c for c in coefs if c not in spec_cols]
    if extra:
        raise InputError(f"{source}: key 'coefficients.{extra[0]}' matches no variable or level "
                         f"(expected {', '.join(spec_cols)})")
    coefficients = {}
    for c in spec_cols:
        coefficients[c] = _opt_number(coefs, c, "coefficients.", source)
        if coefficients[c] is None:
            raise InputError(f"{source}: key 'coefficients.{c}' must be a number")
    cov = d.get("covariance")
    if cov is not None:
        order = _need(cov, "order", "covariance.", source, list)
        mat = _need(cov, "matrix", "covariance.", source, list)
        if sorted(order) != sorted(spec_cols):
            raise InputError(f"{source}: key 'covariance.order' must list the coefficients "
                             f"({', '.join(spec_cols)})")
        try:
            arr = np.asarray(mat, dtype=float)
        except (TypeError, ValueError) as e:
            raise InputError(f"{source}: key 'covariance.matrix' is not a numeric matrix") from e
        if arr.shape != (len(order), len(order)):
            raise InputError(f"{source}: key 'covariance.matrix' must be {len(order)}×{len(order)}")
    prov = _need(d, "provenance", "", source, dict)
    status = _need(prov, "status", "provenance.", source, str)
    if status not in STATUSES:
        raise InputError(f"{source}: key 'provenance.status' is {status!r}; use one of "
                         f"{', '.join(STATUSES)}")
    for k in ("published", "reconstructed", "errata", "caveats"):
        if k in prov and not isinstance(prov[k], list):
            raise InputError(f"{source}: key 'provenance.{k}' must be a list")
    lineage = d.get("lineage", [])
    if not isinstance(lineage, list):
        raise InputError(f"{source}: key 'lineage' must be a list")
    perf = d.get("performance")
    if perf is not None and not isinstance(perf, dict):
        raise InputError(f"{source}: key 'performance' must be an object")
    sw = d.get("software", {})
    if not isinstance(sw, dict):
        raise InputError(f"{source}: key 'software' must be an object")
    return ModelSpec(name=name, title=str(title), outcome=outcome, variables=tuple(variables),
                     coefficients=coefficients, provenance=dict(prov), covariance=cov,
                     lineage=tuple(lineage), performance=perf, software=dict(sw), format=fmt,
                     model_terms=model_terms)


def _parse_terms(raw: object, variables: Sequence[VariableSpec], fmt: str, source: str) -> tuple:
    """Check the ``terms`` key (format /2): splines of numeric variables, interactions of two variables."""
    if raw in (None, []):
        return ()
    if fmt == "myorisk-model/1":
        raise InputError(f"{source}: key 'terms' needs format 'myorisk-model/2'")
    if not isinstance(raw, list):
        raise InputError(f"{source}: key 'terms' must be a list")
    kinds = {v.name: v.kind for v in variables}
    out: list[dict] = []
    splines: set[str] = set()
    for i, t in enumerate(raw):
        p = f"terms[{i}]."
        if not isinstance(t, Mapping):
            raise InputError(f"{source}: key 'terms[{i}]' must be an object")
        kind = _need(t, "kind", p, source, str)
        if kind == "rcs":
            var = _need(t, "variable", p, source, str)
            if kinds.get(var) != "numeric":
                raise InputError(f"{source}: key '{p}variable': '{var}' is not a numeric variable of the model")
            if var in splines:
                raise InputError(f"{source}: key '{p}variable': '{var}' has two splines")
            knots = _need(t, "knots", p, source, list)
            try:
                kn = [float(k) for k in knots]
            except (TypeError, ValueError):
                raise InputError(f"{source}: key '{p}knots' must be numbers") from None
            if len(kn) < 3 or any(b <= a for a, b in zip(kn, kn[1:], strict=False)):
                raise InputError(f"{source}: key '{p}knots' needs at least 3 increasing knots")
            splines.add(var)
            out.append({"kind": "rcs", "variable": var, "knots": kn})
        elif kind == "interaction":
            vs = _need(t, "variables", p, source, list)
            if len(vs) != 2 or any(v not in kinds for v in vs) or vs[0] == vs[1]:
                raise InputError(f"{source}: key '{p}variables' must name two different variables of the model")
            out.append({"kind": "interaction", "variables": [str(v) for v in vs],
                        "restricted": bool(t.get("restricted", False))})
        else:
            raise InputError(f"{source}: key '{p}kind' is {kind!r}; use rcs or interaction")
    return tuple(out)


def _terms(variables: Sequence[VariableSpec], model_terms: Sequence[Mapping]) -> tuple[Term, ...]:
    """Engine terms of a spec: each variable (a spline where ``terms`` says so), then interactions."""
    from myorisk.modeling.design import _pair_index

    knots = {t["variable"]: tuple(float(k) for k in t["knots"]) for t in model_terms if t["kind"] == "rcs"}
    mains: dict[str, Term] = {}
    for v in variables:
        if v.name in knots:
            kn = knots[v.name]
            mains[v.name] = Term(v.name, "rcs", knots=kn, columns=tuple(v.name + "'" * j for j in range(len(kn) - 1)))
        else:
            mains[v.name] = v.term()
    out = list(mains.values())
    for t in model_terms:
        if t["kind"] != "interaction":
            continue
        a, b = (mains[n] for n in t["variables"])
        restricted = bool(t.get("restricted", False))
        idx = _pair_index(a.nonlinear, b.nonlinear, restricted)
        out.append(Term(f"{a.name} * {b.name}", "interaction", parents=(a, b), restricted=restricted,
                        columns=tuple(f"{a.columns[i]} * {b.columns[j]}" for i, j in idx)))
    return tuple(out)


def _lp_range_grid(spec: ModelSpec, points: int = 60) -> tuple[float, float]:
    """Linear-predictor range of a model with splines or interactions, over a grid of its inputs."""
    import itertools

    from myorisk.modeling.design import encode_new

    grids = []
    for v in spec.variables:
        if v.kind == "categorical":
            grids.append(list(v.levels))
        elif v.kind == "binary":
            grids.append([0.0, 1.0])
        else:
            if v.min is None or v.max is None:
                raise ModelError(f"model '{spec.name}': variable '{v.name}' has no range")
            grids.append(list(np.linspace(v.min, v.max, points)))
    size = int(np.prod([len(g) for g in grids]))
    if size > 2_000_000:  # too many combinations: sample them (seeded, so the range is stable)
        rng = np.random.default_rng(0)
        rows = [[g[rng.integers(len(g))] for g in grids] for _ in range(200_000)]
    else:
        rows = list(itertools.product(*grids))
    frame = pd.DataFrame(rows, columns=[v.name for v in spec.variables])
    lp = encode_new(spec.terms(), frame, "model grid") @ spec.beta()
    return float(lp.min()), float(lp.max())


# ----------------------------------------------------------------------------- files
# The engine neither knows where bundled models live nor writes files: load_spec, save_spec and
# bundled_models live in myorisk.published.files. These names stay importable from here.
_MOVED = ("bundled_models", "load_spec", "save_spec")


def __getattr__(name: str) -> object:
    if name in _MOVED:
        from myorisk.published import files

        return getattr(files, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ----------------------------------------------------------------------------- prediction
def validate_inputs(spec: ModelSpec, data: pd.DataFrame, source: str = "data", *,
                    extrapolate: bool | None = None, missing: str = "error",
                    codes: Vocabulary | None = None) -> pd.DataFrame:
    """Check and normalise the model's input columns of ``data``.

    Returns a DataFrame with one column per model variable: numeric and binary as float,
    categorical as the spec's level labels (matched case-insensitively, or by a synonym of the
    vocabulary of accepted codes, e.g. ``M`` for ``male``). Its ``attrs["extrapolated"]`` maps
    each numeric variable with accepted values outside the spec's range to those rows (index
    labels); ``attrs["incomplete"]`` lists the rows with a missing value (``missing="skip"``).

    Parameters
    ----------
    extrapolate : bool or None
        Numeric values outside a variable's range: ``None`` (default) refuses them for a
        ``valid`` range and accepts them for an ``observed`` (development-data) range; ``True``
        accepts them for every variable; ``False`` refuses them for every variable.
    missing : {"error", "skip"}, default "error"
        A missing value is an error, or its row is kept (NaN) and listed as incomplete.
    codes : myorisk.codes.Vocabulary, optional
        Accepted yes/no words and level synonyms (default :data:`myorisk.codes.DEFAULT`).

    Raises
    ------
    InputError
        Missing column; missing (with ``missing="error"``), non-numeric, out-of-range value;
        unknown level. Carries one :class:`~myorisk.errors.Problem` per bad cell; the message
        names the row and column and the allowed values, a rule broken in many rows once.
    """
    if missing not in ("error", "skip"):
        raise ValueError(f"missing must be 'error' or 'skip', not {missing!r}")
    vocab = codes or DEFAULT_CODES
    absent = [v.name for v in spec.variables if v.name not in data.columns]
    if absent:
        raise InputError(
            f"{source}: column{'s' if len(absent) > 1 else ''} "
            f"{', '.join(repr(a) for a in absent)} needed by model '{spec.name}' "
            f"{'are' if len(absent) > 1 else 'is'} missing (the model needs "
            f"{', '.join(v.name for v in spec.variables)})"
            + did_you_mean(absent[0], [c for c in data.columns if c not in
                                       {v.name for v in spec.variables}]),
            problems=[Problem(source, None, a, None, f"is missing (needed by model '{spec.name}')")
                      for a in absent])
    problems: list[Problem] = []
    out = {}
    extrapolated: dict[str, list] = {}
    incomplete = np.zeros(len(data), dtype=bool)
    for v in spec.variables:
        s = data[v.name]
        miss = _is_missing(s)
        if missing == "skip":
            incomplete |= miss.to_numpy()
        else:
            for r in s.index[miss.to_numpy()]:
                problems.append(Problem(source, r, v.name, None,
                                        f"value is missing (allowed: {v.range_text()})"))
        if v.kind == "categorical":
            lab = s.map(lambda x, levels=v.levels: None if x is None or (
                isinstance(x, float) and math.isnan(x)) else vocab.level(_level_label(x), levels))
            bad = lab.isna() & ~miss
            for r in s.index[bad.to_numpy()]:
                problems.append(Problem(source, r, v.name, s[r],
                                        f"is not one of the model's levels ({v.range_text()})"))
            out[v.name] = lab
            continue
        if v.kind == "binary":
            def _bin(x: object) -> float:
                b = vocab.binary(x)
                return np.nan if b is None else b

            num = s.map(lambda x: np.nan if x is None or (isinstance(x, float) and math.isnan(x))
                        else _bin(x)).astype(float)
            bad = num.isna() & ~miss
            for r in s.index[bad.to_numpy()]:
                problems.append(Problem(source, r, v.name, s[r], "is not 0 or 1"))
            out[v.name] = num
            continue
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            num = s.astype(float)
        else:
            num = pd.to_numeric(s.astype("string").str.strip(), errors="coerce").astype(float)
        bad = num.isna() & ~miss
        for r in s.index[bad.to_numpy()]:
            problems.append(Problem(source, r, v.name, s[r], "is not a number"))
        lo = -np.inf if v.min is None else v.min
        hi = np.inf if v.max is None else v.max
        out_rng = num.notna() & ((num < lo) | (num > hi))
        accept = (v.range == "observed") if extrapolate is None else extrapolate
        if accept and out_rng.any():
            extrapolated[v.name] = list(s.index[out_rng.to_numpy()])
        elif not accept:
            what = "valid range" if v.range == "valid" else "development-data range"
            for r in s.index[out_rng.to_numpy()]:
                problems.append(Problem(source, r, v.name, None,
                                        f"{num[r]:g} is outside the model's {what} "
                                        f"{v.range_text()}"))
        out[v.name] = num
    if problems:
        raise InputError(word_problems(problems), problems=problems)
    clean = pd.DataFrame(out, index=data.index)
    clean.attrs["extrapolated"] = extrapolated
    clean.attrs["incomplete"] = list(data.index[incomplete])
    return clean


def extrapolation_note(spec: ModelSpec, extrapolated: Mapping[str, Sequence], source: str = "data") -> str | None:
    """One line naming the rows scored outside the model's ranges (``attrs["extrapolated"]``)."""
    if not extrapolated:
        return None
    parts = []
    for name, rows in extrapolated.items():
        v = spec.variable(name)
        shown = ", ".join(str(r) for r in list(rows)[:10]) + (" …" if len(rows) > 10 else "")
        parts.append(f"'{name}' outside {v.range_text()} in {len(rows)} row(s) (rows {shown})")
    return (f"{source}: predictions of '{spec.name}' extrapolate beyond the range the model was "
            f"developed on: " + "; ".join(parts))


def linear_predictor(spec: ModelSpec, data: pd.DataFrame, source: str = "data", *,
                     extrapolate: bool | None = None) -> np.ndarray:
    """Linear predictor of every row of ``data`` (validated by :func:`validate_inputs`)."""
    from myorisk.modeling.design import encode_new

    clean = validate_inputs(spec, data, source, extrapolate=extrapolate)
    return encode_new(spec.terms(), clean, source) @ spec.beta()


def score_clean(spec: ModelSpec, data: Mapping[str, np.ndarray], n: int, *,
                points: bool = True) -> dict[str, Any]:
    """Linear predictor, probability and nomogram points of ``n`` patients given as clean values
    (floats for numeric and 0/1 variables, level labels for categorical ones), without pandas.

    :func:`predict` calls it after validating a data frame; the web API calls it with the values
    of requests its input models have validated.

    Returns
    -------
    dict
        ``linear_predictor`` and ``probability`` (arrays of length ``n``) and, with ``points``,
        ``points`` (axis group → array) and ``points_total``.
    """
    from myorisk.modeling.design import encode_clean

    lp = encode_clean(spec.terms(), data, n) @ spec.beta()
    out: dict[str, Any] = {"linear_predictor": lp, "probability": expit(lp)}
    if points:
        nomo = spec.nomogram()
        pts = nomo.points_clean(data, n)
        out["points"] = {name: pts[name] for name in nomo.point_variables}
        out["points_total"] = pts["total"]
    return out


def predict(spec: ModelSpec, data: pd.DataFrame, source: str = "data", *,
            points: bool = True, extrapolate: bool | None = None, missing: str = "error",
            codes: Vocabulary | None = None) -> pd.DataFrame:
    """Predicted probability, linear predictor and nomogram points for each row.

    Parameters
    ----------
    spec : ModelSpec
    data : DataFrame
        One row per patient with the model's variables (other columns are ignored). The index
        labels rows in messages.
    source : str
        Name of the data in messages.
    points : bool, default True
        Add ``points_<variable>`` and ``points_total`` from the model's nomogram.
    extrapolate : bool or None
        Values outside the spec's ranges; see :func:`validate_inputs`. Rows scored by
        extrapolation are listed in the result's ``attrs["extrapolated"]``.
    missing : {"error", "skip"}, default "error"
        A row with a missing value is an error, or is left unscored (NaN in every output
        column) and listed in the result's ``attrs["incomplete"]``.
    codes : myorisk.codes.Vocabulary, optional
        Accepted yes/no words and level synonyms.

    Returns
    -------
    DataFrame
        Same index as ``data``: ``probability``, ``linear_predictor`` and, with ``points``,
        one ``points_<variable>`` column per variable and ``points_total``.

    Raises
    ------
    InputError
        See :func:`validate_inputs`.
    """
    clean = validate_inputs(spec, data, source, extrapolate=extrapolate, missing=missing,
                            codes=codes)
    incomplete = clean.attrs["incomplete"]
    ok = ~clean.index.isin(incomplete) if incomplete else np.ones(len(clean), dtype=bool)
    part = clean.loc[ok]
    part.attrs = {"extrapolated": {}, "incomplete": []}
    from myorisk.modeling.design import clean_columns

    scored = score_clean(spec, clean_columns(spec.terms(), part, source), len(part), points=points)
    lp = np.full(len(clean), np.nan)
    lp[ok] = scored["linear_predictor"]
    prob = np.full(len(clean), np.nan)
    prob[ok] = scored["probability"]
    out = pd.DataFrame({"probability": prob, "linear_predictor": lp}, index=data.index)
    if points:
        # one column per axis group: a factor interacting with a predictor is read on that
        # predictor's axes (rms) and has no points of its own
        for name, pts in scored["points"].items():
            col = np.full(len(clean), np.nan)
            col[ok] = pts
            out[f"points_{name}"] = col
        tot = np.full(len(clean), np.nan)
        tot[ok] = scored["points_total"]
        out["points_total"] = tot
    out.attrs["extrapolated"] = clean.attrs["extrapolated"]
    out.attrs["incomplete"] = incomplete
    return out


# ----------------------------------------------------------------------------- recalibration
RECALIBRATION_METHODS = ("intercept", "logistic", "refit")


def recalibrate(
    spec: ModelSpec,
    data: pd.DataFrame,
    method: str = "intercept",
    *,
    source: str = "data",
    name: str | None = None,
    outcome: str | None = None,
    extrapolate: bool | None = None,
) -> ModelSpec:
    """Update a model on new data and return the new spec, with its lineage.

    Parameters
    ----------
    spec : ModelSpec
    data : DataFrame
        The validation cohort: the model's variables and the outcome column.
    method : {"intercept", "logistic", "refit"}
        ``intercept``: re-estimate the intercept with the linear predictor as offset
        (calibration-in-the-large). ``logistic``: fit ``y ~ a + b·lp`` and scale every
        coefficient by ``b`` and shift the intercept (logistic recalibration). ``refit``:
        re-estimate every coefficient by maximum likelihood (same variables and coding).
    source : str
        Name of the data (recorded in the lineage and used in messages).
    name : str, optional
        Name of the new model (default ``"<name>-<method>"``).
    outcome : str, optional
        Outcome column (default: the spec's outcome name).
    extrapolate : bool or None
        Values outside the spec's ranges; see :func:`validate_inputs`.

    Raises
    ------
    InputError
        Unknown method, missing outcome column or values, invalid predictor values.
    ModelError
        The update cannot be estimated (e.g. separation, no events).
    """
    from myorisk import __version__

    if method not in RECALIBRATION_METHODS:
        raise InputError(f"recalibration method must be one of {', '.join(RECALIBRATION_METHODS)}, "
                         f"not {method!r}")
    ycol = outcome or spec.outcome["name"]
    if ycol not in data.columns:
        raise InputError(f"{source}: outcome column '{ycol}' not found")
    miss = _is_missing(data[ycol])
    if miss.any():
        raise InputError(f"{source}: row {data.index[miss.to_numpy()][0]}, column '{ycol}': "
                         "outcome is missing (remove the row or fill it in)")
    y, _ = code_outcome(data[ycol], event=spec.outcome.get("event"), name=ycol, source=source)
    clean = validate_inputs(spec, data, source, extrapolate=extrapolate)
    lp = linear_predictor(spec, clean, source, extrapolate=True)
    coefs = dict(spec.coefficients)
    cov = None
    if method == "intercept":
        core = newton_logistic(np.ones((y.size, 1)), y, offset=lp, maxit=100)
        _check_core(core, source)
        params = {"intercept_shift": float(core.beta[0])}
        coefs["Intercept"] = coefs["Intercept"] + float(core.beta[0])
    elif method == "logistic":
        core = newton_logistic(np.column_stack([np.ones(y.size), lp]), y, maxit=100)
        _check_core(core, source)
        a, b = float(core.beta[0]), float(core.beta[1])
        params = {"calibration_intercept": a, "calibration_slope": b}
        coefs = {k: (a + b * v if k == "Intercept" else b * v) for k, v in coefs.items()}
    else:
        from myorisk.modeling.logistic import fit_logistic

        d = clean.copy()
        d["__y__"] = y
        cats = [v.name for v in spec.variables if v.kind == "categorical"]
        fit = fit_logistic(d, "__y__", [v.name for v in spec.variables], categorical=cats,
                           reference={v.name: v.reference for v in spec.variables
                                      if v.kind == "categorical"}, source=source)
        missing_cols = [c for c in spec.design_columns() if c not in fit.coef]
        if missing_cols:
            raise ModelError(f"{source}: level '{missing_cols[0]}' does not occur in the data; "
                             "the model cannot be refitted with the same coding")
        coefs = {c: fit.coef[c] for c in spec.design_columns()}
        order = list(fit.names)
        cov = {"order": order, "matrix": np.asarray(fit.cov).tolist()}
        params = {"method": fit.method}
    step = {
        "step": f"recalibrate:{method}",
        "parent": spec.name,
        "parent_status": spec.status,
        "parent_coefficients": {k: float(v) for k, v in spec.coefficients.items()},
        "data": source,
        "n": int(y.size),
        "events": int(y.sum()),
        "parameters": params,
        "date": _today(),
        "myorisk": __version__,
    }
    prov = {
        "status": "fitted" if method == "refit" else "recalibrated",
        "source": f"{method} update of '{spec.name}' on {source}",
        "parent_source": spec.provenance.get("source", ""),
        "published": [],
        "reconstructed": list(spec.provenance.get("reconstructed", [])) if method != "refit"
        else [],
        "errata": list(spec.provenance.get("errata", [])),
        "caveats": list(spec.provenance.get("caveats", [])) + [
            f"Updated by {method} recalibration on {source} (n = {int(y.size)}, "
            f"events = {int(y.sum())}); the valid ranges are the parent model's."
        ],
    }
    new = replace(
        spec,
        name=name or f"{spec.name}-{method}",
        title=f"{spec.title} ({method} update on {source})",
        coefficients=coefs,
        covariance=cov,
        provenance=_clean(prov),
        lineage=(*spec.lineage, _clean(step)),
        performance=None,
        software={"myorisk": __version__},
    )
    p = expit(linear_predictor(new, clean, source))
    from myorisk.modeling.concordance import concordance

    new = replace(new, performance=_clean({
        "data": source, "n": int(y.size), "events": int(y.sum()), "apparent": True,
        "c": concordance(p, y).c, "brier": float(np.mean((p - y) ** 2)),
        "mean_predicted": float(p.mean()), "observed_rate": float(y.mean()),
    }))
    return new


def _check_core(core, source: str) -> None:  # noqa: ANN001
    if not core.converged or not np.all(np.isfinite(core.beta)):
        raise ModelError(f"{source}: the recalibration fit did not converge (check that the data "
                         "have both outcomes and are not perfectly separated by the model)")


def predict_one(spec: ModelSpec, values: Mapping, source: str = "patient", *,
                extrapolate: bool | None = None) -> dict:
    """Prediction for one patient given as a mapping (the JSON object of ``predict --json``).

    Returns
    -------
    dict
        ``{probability, linear_predictor, points: {variable: points}, points_total, model,
        notice}`` (``notice`` is None unless the model is reconstructed), plus
        ``extrapolated`` (the variables outside the model's range) when the prediction
        extrapolates (see :func:`validate_inputs`).

    Raises
    ------
    InputError
        As :func:`predict` (rows are called ``row 1``); also when ``values`` is not a mapping.
    """
    if not isinstance(values, Mapping):
        raise InputError(f"{source}: expected a JSON object of variable: value pairs, not "
                         f"{type(values).__name__}")
    row = pd.DataFrame([{k: values.get(k) for k in [v.name for v in spec.variables]
                         if k in values}], index=[1])
    scored = predict(spec, row, source, extrapolate=extrapolate)
    out = scored.iloc[0]
    res = {
        "model": spec.name,
        "probability": out["probability"],
        "linear_predictor": out["linear_predictor"],
        # a factor interacting with a predictor is read on that predictor's axes: no points of its own
        "points": {v.name: out[f"points_{v.name}"] for v in spec.variables if f"points_{v.name}" in out},
        "points_total": out["points_total"],
        "notice": spec.notice(),
    }
    if scored.attrs["extrapolated"]:
        res["extrapolated"] = list(scored.attrs["extrapolated"])
    return _clean(res)
