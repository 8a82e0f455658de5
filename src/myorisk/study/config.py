"""The study configuration file (YAML): what to analyse and how.

A configuration names the data (one file or bundled dataset per set, or one file with a split
column), the outcome, the candidate predictors, the selection method, the models to build, the
sets to validate on and the bootstrap. It is checked completely before any work starts:
:func:`load_config` raises :class:`~myorisk.errors.InputError` with a message naming the file and
the key (``study.yaml: key 'selection.alpha': must be between 0 and 1``).

See ``docs/study.md`` for the reference and an example.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from myorisk.errors import InputError

__all__ = [
    "StudyConfig",
    "SetSource",
    "DataConfig",
    "OutcomeConfig",
    "PredictorConfig",
    "SelectionConfig",
    "ModelConfig",
    "PublishedValue",
    "PublishedModel",
    "BootstrapConfig",
    "MissingConfig",
    "load_config",
    "parse_config",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SetSource(_Strict):
    """Where one data set comes from: a file, a bundled synthetic dataset, or a split value.

    Attributes
    ----------
    file : str, optional
        CSV, TSV, XLSX, SAV or DTA file (relative paths are relative to the config file).
    dataset : str, optional
        Name of a bundled SYNTHETIC cohort (``myorisk datasets list``).
    split : str, optional
        Value of ``data.split_column`` selecting this set's rows from ``data.file``/``data.dataset``.
    sheet : str or int, optional
        XLSX sheet.
    mapping : str, optional
        Column mapping file (YAML or CSV, as ``myorisk check --mapping``) renaming this file's
        columns to the names the configuration uses, and recoding values.
    label : str, optional
        Name shown in the report (default: the set's key).
    encoding, sep, decimal : str, optional
        How to read a CSV/TSV ``file`` (as ``--encoding``, ``--sep``, ``--decimal``); default
        detected (see docs/cohort-files.md).
    """

    file: str | None = None
    dataset: str | None = None
    split: str | None = None
    sheet: str | int | None = None
    mapping: str | None = None
    label: str | None = None
    encoding: str | None = None
    sep: str | None = None
    decimal: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> SetSource:
        given = [k for k in ("file", "dataset", "split") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'file', 'dataset' or 'split'"
                             + (f" (got {', '.join(given)})" if given else ""))
        return self


class DataConfig(_Strict):
    """The data sets. The first set is the development (training) set.

    Attributes
    ----------
    sets : dict of str to SetSource
        Set name (e.g. ``training``, ``internal``, ``external``) → source, in order.
    file, dataset : str, optional
        One file (or bundled dataset) holding every set, with ``split_column``.
    split_column : str, optional
        Column whose values pick each set's rows (``sets.<name>.split``).
    sheet : str or int, optional
    mapping : str, optional
        Column mapping file for ``file`` (see :class:`SetSource`).
    encoding, sep, decimal : str, optional
        How to read CSV/TSV files: for ``file`` and the default of every set's file.
    """

    sets: dict[str, SetSource] = Field(min_length=1)
    file: str | None = None
    dataset: str | None = None
    split_column: str | None = None
    sheet: str | int | None = None
    mapping: str | None = None
    encoding: str | None = None
    sep: str | None = None
    decimal: str | None = None

    @model_validator(mode="after")
    def _splits(self) -> DataConfig:
        uses_split = [k for k, s in self.sets.items() if s.split is not None]
        if uses_split:
            if self.split_column is None:
                raise ValueError(f"set '{uses_split[0]}' uses 'split' but 'split_column' is not given")
            if (self.file is None) == (self.dataset is None):
                raise ValueError("with 'split_column' give exactly one of 'file' or 'dataset'")
        elif self.split_column is not None:
            raise ValueError("'split_column' is given but no set has a 'split' value")
        return self

    @property
    def development(self) -> str:
        """Name of the development (first) set."""
        return next(iter(self.sets))


class OutcomeConfig(_Strict):
    """The binary outcome.

    Attributes
    ----------
    column : str
    event : str, optional
        Value that counts as the event (default 1/True/the second sorted value).
    label : str
        Words for the event, e.g. ``"non-response (TIS < 20 at 12 weeks)"``.
    event_name, nonevent_name : str
        Group names in Table 1 (e.g. ``Non-responders`` / ``Responders``).
    """

    column: str
    event: str | None = None
    label: str = "event"
    event_name: str = "Event"
    nonevent_name: str = "No event"

    @field_validator("event", mode="before")
    @classmethod
    def _event_text(cls, v: Any) -> Any:
        return None if v is None else str(v)


class PredictorConfig(_Strict):
    """Candidate predictors.

    Attributes
    ----------
    candidates : list of str
        Columns considered for the model (also the univariate table).
    categorical : list of str
        Columns treated as categorical (text columns are categorical anyway).
    reference : dict
        Reference level per categorical column.
    labels, units : dict
        Display label and unit per column.
    invasive : list of str
        Predictors that need an invasive test (documentation only; use them in ``exclude``).
    """

    candidates: list[str] = Field(min_length=1)
    categorical: list[str] = []
    reference: dict[str, str] = {}
    labels: dict[str, str] = {}
    units: dict[str, str] = {}

    @field_validator("candidates")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        dup = sorted({c for c in v if v.count(c) > 1})
        if dup:
            raise ValueError(f"'{dup[0]}' is listed twice")
        return v

    @field_validator("reference", mode="before")
    @classmethod
    def _ref_text(cls, v: Any) -> Any:
        return {str(k): str(x) for k, x in v.items()} if isinstance(v, dict) else v


class SelectionConfig(_Strict):
    """Variable selection.

    Attributes
    ----------
    method : {"pscreen", "backward_aic", "fixed"}
        ``pscreen``: univariate p < ``alpha`` enters a multivariable model, p < ``alpha`` there is
        kept (study A; discouraged by TRIPOD/PROBAST). ``backward_aic``: R ``step`` (study B).
        ``fixed``: each model's ``predictors`` list, no selection.
    alpha : float
        Threshold of ``pscreen``.
    univariate_ci : {"wald", "profile"}
        Intervals of the univariate table (study B used profile likelihood).
    """

    method: Literal["pscreen", "backward_aic", "fixed"] = "pscreen"
    alpha: float = Field(0.05, gt=0, lt=1)
    univariate_ci: Literal["wald", "profile"] = "wald"


class PublishedValue(_Strict):
    """A published estimate with its CI (a bare number in the YAML is the estimate alone).

    Attributes
    ----------
    value : float
    low, high : float, optional
        Published confidence limits.
    reversed : bool
        The paper reports the effect in the wrong direction (an erratum): the comparison also
        shows 1/value (odds ratios only).
    reason : str, optional
        Why the reproduced value differs (overrides the model's ``reasons``).
    """

    value: float
    low: float | None = None
    high: float | None = None
    reversed: bool = False
    reason: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare(cls, v: Any) -> Any:
        return {"value": v} if isinstance(v, int | float) and not isinstance(v, bool) else v


class PublishedModel(_Strict):
    """What a paper reported for a model, for the report's "published vs reproduced" table.

    Attributes
    ----------
    source : str
        Where the numbers come from (paper, table).
    odds_ratios : dict of str to PublishedValue
        Term (as in the model table: ``sex=male``, ``msuvmax``) → odds ratio.
    auc : dict of str to PublishedValue
        Set name → AUC.
    r2 : PublishedValue, optional
        Nagelkerke R² (apparent).
    dxy : PublishedValue, optional
        Somers' Dxy (apparent).
    calibration : dict of str to PublishedValue
        Bootstrap bias-corrected ``slope``, ``intercept``, ``emax``, ``mae``, ``mse``.
    index : dict of str to PublishedValue
        For an index model: ``or`` (per unit, outcome ~ index), ``prob_min``, ``prob_max``.
    predictors : list of str
        The predictors the paper's model kept (compared with what a selection kept here).
    note : str
        A sentence for the table's footnote (e.g. how the data relate to the paper).
    reasons : dict of str to str
        Why values differ, by key: ``or``, ``or:<term>``, ``auc``, ``auc:<set>``, ``r2``, ``dxy``,
        ``calibration``, ``calibration:<stat>``, ``index``, ``index:<stat>``; ``default`` for the rest.
    """

    source: str = ""
    odds_ratios: dict[str, PublishedValue] = {}
    auc: dict[str, PublishedValue] = {}
    r2: PublishedValue | None = None
    dxy: PublishedValue | None = None
    calibration: dict[Literal["slope", "intercept", "emax", "mae", "mse"], PublishedValue] = {}
    index: dict[Literal["or", "prob_min", "prob_max"], PublishedValue] = {}
    predictors: list[str] = []
    note: str = ""
    reasons: dict[str, str] = {}


class ModelConfig(_Strict):
    """One model to build.

    Attributes
    ----------
    name : str
        Short name (letters, digits, ``-`` and ``_``): used for files.
    label : str, optional
        Name shown in the report.
    exclude : list of str
        Candidates left out of this model's selection (e.g. invasive biopsy findings for a
        non-invasive model).
    predictors : list of str, optional
        A fixed predictor list (no selection; required with ``selection.method: fixed``).
    role : {"primary", "sensitivity"}
        A primary (prespecified) model or a sensitivity analysis; the report labels each.
    published : PublishedModel, optional
        The paper's numbers for this model (the "published vs reproduced" table).
    shrink : {"heuristic"}, optional
        Shrink the final model's slopes by van Houwelingen & le Cessie's factor (LR χ² − df)/LR χ²,
        intercept re-estimated (``myorisk fit --shrink heuristic``); the shrunk model is the one
        reported, drawn and saved.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    label: str | None = None
    exclude: list[str] = []
    predictors: list[str] | None = None
    role: Literal["primary", "sensitivity"] = "primary"
    published: PublishedModel | None = None
    shrink: Literal["heuristic"] | None = None

    @property
    def display(self) -> str:
        """Label for the report."""
        return self.label or self.name


class BootstrapConfig(_Strict):
    """Bootstrap validation and calibration.

    Attributes
    ----------
    B : int
        Resamples (default 1000).
    seed : int
        Seed of the resampling (results are reproducible).
    """

    B: int = Field(1000, ge=10, le=100_000)
    seed: int = Field(20240501, ge=0)


class MissingConfig(_Strict):
    """How missing predictor values are handled (``missing:``).

    Attributes
    ----------
    method : {"complete_case", "mice"}
        ``complete_case`` (default; what the seed-paper replications use): listwise deletion,
        every excluded row reported. ``mice``: the complete-case analysis is kept and, in
        addition, every model is refitted on m imputed development sets (pooled by Rubin's rules)
        and validated by the optimism bootstrap within each imputation with location-shifted
        intervals (``docs/missing-data.md``).
    m : int, optional
        Imputations (default: from the share of incomplete rows, at least 5).
    seed : int
        Seed of the imputations.
    maxit : int
        Iterations of each chain.
    auxiliary : list of str
        Columns used only in the imputation models.
    """

    method: Literal["complete_case", "mice"] = "complete_case"
    m: int | None = Field(None, ge=2, le=500)
    seed: int = Field(20240501, ge=0)
    maxit: int = Field(10, ge=1, le=200)
    auxiliary: list[str] = []


class IndexConfig(_Strict):
    """A continuous risk index = the linear predictor of a model (study B's ReDMI).

    Attributes
    ----------
    model : str
        Name of the model whose linear predictor is the index.
    label : str
        Name of the index.
    """

    model: str
    label: str = "Index"


class Table1Config(_Strict):
    """Table 1.

    Attributes
    ----------
    variables : list of str, optional
        Rows of Table 1 (default: the candidates).
    nonnormal : "auto" or list of str
        Continuous variables summarised as median (IQR).
    """

    variables: list[str] | None = None
    nonnormal: Literal["auto"] | list[str] = "auto"


class DecisionConfig(_Strict):
    """Decision curves: threshold probabilities ``start``..``stop`` by ``step``."""

    start: float = Field(0.0, ge=0, lt=1)
    stop: float = Field(0.8, gt=0, lt=1)
    step: float = Field(0.01, gt=0, lt=1)

    @model_validator(mode="after")
    def _order(self) -> DecisionConfig:
        if self.stop <= self.start:
            raise ValueError("'stop' must be greater than 'start'")
        return self


class SampleSizeConfig(_Strict):
    """Sample-size adequacy (Riley et al. 2020).

    Attributes
    ----------
    r2_cs, cstatistic : float, optional
        Anticipated Cox–Snell R² or C-statistic of the model. Without either, R²_CS is taken as
        15% of its maximum at the observed prevalence (Riley et al.'s conservative default).
    shrinkage : float
        Target expected shrinkage (0.9).
    """

    r2_cs: float | None = Field(None, gt=0, lt=1)
    cstatistic: float | None = Field(None, gt=0.5, lt=1)
    shrinkage: float = Field(0.9, gt=0, lt=1)

    @model_validator(mode="after")
    def _one(self) -> SampleSizeConfig:
        if self.r2_cs is not None and self.cstatistic is not None:
            raise ValueError("give at most one of 'r2_cs' and 'cstatistic'")
        return self


class SitesConfig(_Strict):
    """Multi-centre validation (``docs/multicentre.md``), written beside the report.

    Attributes
    ----------
    files : list of str
        Site files (``myorisk site-summary``) of one model, pooled into ``meta-analysis/``.
    by : str, optional
        Centre column: internal–external cross-validation of each final model on the pooled
        sets, into ``internal-external-<model>/``.
    """

    files: list[str] = []
    by: str | None = None

    @model_validator(mode="after")
    def _some(self) -> SitesConfig:
        if not self.files and self.by is None:
            raise ValueError("give 'files' (site files to pool) or 'by' (a centre column)")
        if len(self.files) == 1:
            raise ValueError("a meta-analysis needs at least 2 site files")
        return self


class StudyConfig(_Strict):
    """A whole study (the YAML file).

    Attributes
    ----------
    title : str
    data, outcome, predictors, selection, models, bootstrap
        See the classes of the same names.
    validate_on : list of str
        Sets on which the models are evaluated (default: every set).
    table1 : Table1Config
    decision : DecisionConfig
    index : IndexConfig, optional
    sample_size : SampleSizeConfig
    sites : SitesConfig, optional
        Multi-centre validation: site files to pool and/or a centre column.
    synthetic : bool, optional
        Force the SYNTHETIC DATA label on (or off); default: detected from the data.
    bootstrap_note : str, optional
        Sentence explaining the choice of B (shown in the report; the demo uses it).
    base_dir : str
        Folder relative paths are resolved against (set by :func:`load_config`).
    source : str
        Name of the config file (for messages).
    """

    title: str = "Prediction model study"
    description: str = ""
    data: DataConfig
    outcome: OutcomeConfig
    predictors: PredictorConfig
    selection: SelectionConfig = SelectionConfig()
    models: list[ModelConfig] = Field(default_factory=lambda: [ModelConfig(name="model")],
                                      min_length=1)
    validate_on: list[str] | None = None
    bootstrap: BootstrapConfig = BootstrapConfig()
    missing: MissingConfig = MissingConfig()
    table1: Table1Config = Table1Config()
    decision: DecisionConfig = DecisionConfig()
    index: IndexConfig | None = None
    sample_size: SampleSizeConfig = SampleSizeConfig()
    sites: SitesConfig | None = None
    synthetic: bool | None = None
    bootstrap_note: str | None = None
    base_dir: str = "."
    source: str = "config"

    @model_validator(mode="after")
    def _cross(self) -> StudyConfig:
        cands = self.predictors.candidates
        sets = list(self.data.sets)
        names = [m.name for m in self.models]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise _KeyError("models", f"model name '{dup[0]}' is used twice")
        for key in ("categorical",):
            for c in getattr(self.predictors, key):
                if c not in cands and c not in (self.table1.variables or []):
                    raise _KeyError(f"predictors.{key}", f"'{c}' is not a candidate"
                                    + _suggest(c, cands))
        for c in self.predictors.reference:
            if c not in cands:
                raise _KeyError("predictors.reference", f"'{c}' is not a candidate" + _suggest(c, cands))
        for i, m in enumerate(self.models):
            for c in m.exclude:
                if c not in cands:
                    raise _KeyError(f"models[{i}].exclude", f"'{c}' is not a candidate" + _suggest(c, cands))
            if m.predictors is not None:
                if not m.predictors:
                    raise _KeyError(f"models[{i}].predictors", "the list is empty")
                if m.exclude:
                    raise _KeyError(f"models[{i}]", "give 'predictors' or 'exclude', not both")
            elif self.selection.method == "fixed":
                raise _KeyError(f"models[{i}].predictors",
                                "required when selection.method is 'fixed'")
            elif len([c for c in cands if c not in m.exclude]) == 0:
                raise _KeyError(f"models[{i}].exclude", "excludes every candidate")
            if m.published is not None:
                for s in m.published.auc:
                    if s not in sets:
                        raise _KeyError(f"models[{i}].published.auc", f"'{s}' is not a set in data.sets "
                                        f"({', '.join(sets)})" + _suggest(s, sets))
                for c in m.published.predictors:
                    if c not in cands:
                        raise _KeyError(f"models[{i}].published.predictors", f"'{c}' is not a candidate"
                                        + _suggest(c, cands))
                if m.published.index and (self.index is None or self.index.model != m.name):
                    raise _KeyError(f"models[{i}].published.index", "the model is not 'index.model'")
        for s in self.validate_on or []:
            if s not in sets:
                raise _KeyError("validate_on", f"'{s}' is not a set in data.sets ({', '.join(sets)})"
                                + _suggest(s, sets))
        if self.index is not None and self.index.model not in names:
            raise _KeyError("index.model", f"'{self.index.model}' is not a model ({', '.join(names)})"
                            + _suggest(self.index.model, names))
        if self.outcome.column in cands:
            raise _KeyError("predictors.candidates", f"the outcome '{self.outcome.column}' is also a candidate")
        return self

    # ------------------------------------------------------------------ helpers
    @property
    def sets_to_validate(self) -> list[str]:
        """Sets the models are evaluated on, development set first."""
        return list(self.validate_on) if self.validate_on else list(self.data.sets)

    def model_candidates(self, model: ModelConfig) -> list[str]:
        """Candidate predictors of ``model`` (its fixed list, or the candidates minus ``exclude``)."""
        if model.predictors is not None:
            return list(model.predictors)
        return [c for c in self.predictors.candidates if c not in model.exclude]

    def model_method(self, model: ModelConfig) -> str:
        """Selection method of ``model``: ``fixed`` when it has a predictor list."""
        return "fixed" if model.predictors is not None else self.selection.method

    def label(self, column: str) -> str:
        """Display label of a column."""
        return self.predictors.labels.get(column, column)

    def set_label(self, name: str) -> str:
        """Display label of a set."""
        return self.data.sets[name].label or name

    def resolve(self, path: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(os.path.expanduser(path))
        return p if p.is_absolute() else Path(self.base_dir) / p

    def with_reading(self, encoding: str | None = None, sep: str | None = None,
                     decimal: str | None = None) -> StudyConfig:
        """A copy whose data files are read with these options (command-line overrides)."""
        upd = {k: v for k, v in (("encoding", encoding), ("sep", sep), ("decimal", decimal))
               if v is not None}
        if not upd:
            return self
        sets = {k: s.model_copy(update=dict.fromkeys(upd)) for k, s in self.data.sets.items()}
        return self.model_copy(update={"data": self.data.model_copy(update={**upd, "sets": sets})})

    def with_bootstrap(self, B: int | None = None, seed: int | None = None) -> StudyConfig:
        """A copy with another B or seed (command-line overrides)."""
        boot = self.bootstrap.model_copy(update={k: v for k, v in (("B", B), ("seed", seed))
                                                  if v is not None})
        try:
            BootstrapConfig.model_validate(boot.model_dump())
        except ValidationError as e:
            raise InputError(_format(e, self.source).replace("key '", "option '--", 1)) from None
        return self.model_copy(update={"bootstrap": boot})


# ----------------------------------------------------------------------------- errors
class _KeyError(ValueError):
    """A cross-field problem attached to a key path."""

    def __init__(self, key: str, msg: str) -> None:
        super().__init__(msg)
        self.key = key
        self.msg = msg


def _suggest(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


_FIELDS_CACHE: dict[str, list[str]] = {}


def _fields_at(loc: tuple) -> list[str]:
    """Allowed keys of the model at ``loc`` (for 'did you mean' on unknown keys)."""
    model: Any = StudyConfig
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        f = getattr(model, "model_fields", {}).get(part)
        if f is None:
            if model is DataConfig and part != "sets":
                model = SetSource
            continue
        ann = f.annotation
        model = None
        for cand in (ann, *getattr(ann, "__args__", ())):
            for c in (cand, *getattr(cand, "__args__", ())):
                if isinstance(c, type) and issubclass(c, BaseModel):
                    model = c
    return list(getattr(model, "model_fields", {})) if model is not None else []


def _loc_text(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "function-before") or str(part).startswith("function-"):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def _format(e: ValidationError, source: str) -> str:
    """First error of a pydantic ValidationError as one line naming the key."""
    err = e.errors()[0]
    loc = tuple(p for p in err.get("loc", ()) if not str(p).startswith("function-"))
    ctx = err.get("ctx") or {}
    inner = ctx.get("error")
    if isinstance(inner, _KeyError):
        return f"{source}: key '{inner.key}': {inner.msg}"
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        parent, key = loc[:-1], str(loc[-1])
        where = f" in '{_loc_text(parent)}'" if parent else ""
        return f"{source}: unknown key '{_loc_text(loc)}'{where}" + _suggest(key, _fields_at(parent))
    if kind == "missing":
        return f"{source}: key '{_loc_text(loc)}' is required"
    msg = str(err.get("msg", "invalid value"))
    msg = msg.replace("Value error, ", "")
    if kind == "string_pattern_mismatch":
        msg = "use letters, digits, '-' and '_' only (it names output files)"
    value = err.get("input")
    shown = "" if isinstance(value, dict | list) or value is None else f" (got {value!r})"
    if not loc:
        return f"{source}: {msg}"
    return f"{source}: key '{_loc_text(loc)}': {msg}{shown}"


def parse_config(raw: Any, *, source: str = "config", base_dir: str | os.PathLike[str] = ".") -> StudyConfig:
    """Validate a parsed YAML document.

    Parameters
    ----------
    raw : dict
        The document.
    source : str
        File name used in messages.
    base_dir : path
        Folder relative data paths are resolved against.

    Returns
    -------
    StudyConfig

    Raises
    ------
    InputError
        The first problem, as ``"<source>: key '<a.b>': <what is wrong>"``.
    """
    if not isinstance(raw, dict):
        raise InputError(f"{source}: the file must hold a YAML mapping (keys such as 'data:', "
                         f"'outcome:', 'predictors:'), not {type(raw).__name__}")
    for k in ("base_dir", "source"):
        if k in raw:
            raise InputError(f"{source}: unknown key '{k}'")
    try:
        return StudyConfig.model_validate({**raw, "base_dir": str(base_dir), "source": source})
    except ValidationError as e:
        raise InputError(_format(e, source)) from None


def load_config(path: str | os.PathLike[str]) -> StudyConfig:
    """Read and validate a study YAML file.

    Parameters
    ----------
    path : path
        The YAML file.

    Returns
    -------
    StudyConfig

    Raises
    ------
    InputError
        Missing file, YAML syntax error (with its line and column) or an invalid key.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: file not found")
    if p.is_dir():
        raise InputError(f"{p}: is a folder, not a YAML file")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{p.name}: not a UTF-8 text file") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e)
        raise InputError(f"{p.name}: YAML syntax error at {where}{problem}") from None
    return parse_config(raw, source=p.name, base_dir=p.resolve().parent)
