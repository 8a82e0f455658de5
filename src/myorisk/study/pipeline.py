"""A study from configuration to :class:`~myorisk.study.results.Results`: pure computation.

:func:`prepare` reads every data set and checks it against the configuration (columns, outcome,
numbers, category levels) so that a broken file stops before any work with a message naming the
file, row and column. :func:`run` then does the seed studies' pipeline:

load and check → Table 1 → univariate table → selection → multivariable table → models →
nomograms → ROC (DeLong CIs, single predictors, model comparisons) → bootstrap validation and
calibration (selection repeated inside resamples) → Hosmer–Lemeshow and val.prob → decision
curves → index curve → sample-size adequacy → methods text and TRIPOD+AI checklist.

Nothing here prints, plots or writes files; progress is reported through a callback.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import platform
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from myorisk.errors import InputError, ModelError, did_you_mean
from myorisk.study.config import StudyConfig
from myorisk.study.results import (
    Comparison,
    Evaluation,
    IndexCurve,
    ModelResult,
    Results,
    SetComparison,
    SetInfo,
    SinglePredictor,
)

__all__ = [
    "STEPS",
    "Prepared",
    "prepare",
    "run",
    "load_sets",
    "load_step",
    "table1_step",
    "univariate_step",
    "selection_step",
    "models_step",
    "discrimination_step",
    "bootstrap_step",
    "imputation_step",
    "calibration_step",
    "decision_step",
    "index_step",
    "sample_size_step",
    "published_step",
    "narrative_step",
]

#: The steps of a run, in order (labels shown by progress bars).
STEPS = (
    "Load and check data",
    "Table 1",
    "Univariate table",
    "Selection and multivariable models",
    "Nomograms and model specs",
    "ROC curves and DeLong tests",
    "Bootstrap validation and calibration",
    "Calibration and Hosmer-Lemeshow",
    "Decision curves",
    "Index curve",
    "Sample-size adequacy",
    "Published vs reproduced",
    "Methods text and TRIPOD+AI checklist",
)

Progress = Callable[[str, float, float], None]


@dataclass(frozen=True)
class Prepared:
    """Data sets read and checked against a configuration.

    Attributes
    ----------
    config : StudyConfig
    frames : dict of str to DataFrame
        Set name → rows (index = row as the user counts it in the file).
    sources : dict of str to str
        Set name → file or dataset name (for messages).
    synthetic : dict of str to bool
    seeds : dict
        Generator seeds of bundled synthetic datasets used.
    """

    config: StudyConfig
    frames: dict
    sources: dict
    synthetic: dict
    seeds: dict


# ----------------------------------------------------------------------------- loading
def _is_synthetic(df: pd.DataFrame) -> bool:
    if df.attrs.get("synthetic"):
        return True
    if "synthetic" in df.columns:
        v = pd.to_numeric(df["synthetic"], errors="coerce")
        return bool(len(v) and (v == 1).all())
    return False


def _read(config: StudyConfig, *, file: str | None, dataset: str | None, sheet,
          mapping: str | None = None, key: str = "data", encoding: str | None = None,
          sep: str | None = None, decimal: str | None = None) -> tuple[pd.DataFrame, str, dict]:
    if mapping is not None and file is None:
        raise InputError(f"{config.source}: key '{key}.mapping' goes with '{key}.file' (a bundled dataset "
                         "already has the canonical names)")
    if dataset is not None:
        from myorisk.datasets import _info, load_dataset

        df = load_dataset(dataset)
        seed = {df.attrs.get("name", dataset): _info()[df.attrs["name"]].get("seed")}
        return df, f"{df.attrs.get('name', dataset)} (bundled synthetic dataset)", seed
    from myorisk.codes import harmonise as harmonise_codes
    from myorisk.myositis.io import read_data

    path = config.resolve(file)
    if not path.exists():
        raise InputError(f"{config.source}: data file '{file}' not found (looked for {path})")
    df = read_data(path, sheet=sheet, encoding=encoding, sep=sep, decimal=decimal)
    how = df.attrs.get("read") or {}
    codes = None
    if mapping is not None:
        from myorisk.myositis.io import apply_mapping, read_mapping

        mpath = config.resolve(mapping)
        if not mpath.exists():
            raise InputError(f"{config.source}: mapping file '{mapping}' not found (key '{key}.mapping'; "
                             f"looked for {mpath})")
        m = read_mapping(mpath)
        df, _ = apply_mapping(df, m, path.name)
        codes = m.vocabulary
    df = harmonise_codes(df, codes)
    df.attrs["read"] = how
    return df, path.name, {}


def load_sets(config: StudyConfig) -> tuple[dict, dict, dict, dict]:
    """Read every set named in ``config.data.sets``.

    Returns
    -------
    frames, sources, synthetic, seeds : dict
        Per set: rows, source name, synthetic flag; generator seeds of bundled datasets.
    """
    frames, sources, synth, seeds = {}, {}, {}, {}
    d = config.data
    whole = None
    if d.split_column is not None:
        whole, whole_src, s = _read(config, file=d.file, dataset=d.dataset, sheet=d.sheet,
                                    mapping=d.mapping, key="data", encoding=d.encoding, sep=d.sep,
                                    decimal=d.decimal)
        seeds.update(s)
        if d.split_column not in whole.columns:
            raise InputError(f"{whole_src}: split column '{d.split_column}' not found (key "
                             f"'data.split_column' in {config.source})")
    for name, src in d.sets.items():
        if src.split is not None:
            assert whole is not None
            col = whole[d.split_column].astype("string").str.strip()
            df = whole.loc[col == str(src.split)].copy()
            df.attrs.update(whole.attrs)
            if df.empty:
                values = ", ".join(sorted(map(str, col.dropna().unique())))[:200]
                raise InputError(
                    f"{whole_src}: no row has {d.split_column} = '{src.split}' (key "
                    f"'data.sets.{name}.split' in {config.source}; values are: {values})"
                )
            frames[name], sources[name] = df, whole_src
        else:
            df, source, s = _read(config, file=src.file, dataset=src.dataset,
                                  sheet=src.sheet if src.sheet is not None else d.sheet,
                                  mapping=src.mapping if src.mapping is not None else d.mapping,
                                  key=f"data.sets.{name}" if src.mapping is not None else "data",
                                  encoding=src.encoding or d.encoding, sep=src.sep or d.sep,
                                  decimal=src.decimal or d.decimal)
            seeds.update(s)
            frames[name], sources[name] = df, source
        synth[name] = _is_synthetic(frames[name])
    return frames, sources, synth, seeds


def _binary_columns(df: pd.DataFrame, columns: list[str]) -> list[str]:
    out = []
    for c in columns:
        if c in df.columns and pd.api.types.is_numeric_dtype(df[c]):
            v = df[c].dropna()
            if len(v) and v.isin([0, 1]).all():
                out.append(c)
    return out


def prepare(config: StudyConfig) -> Prepared:
    """Read and check every data set; raise before any analysis if something is wrong.

    Checks: the outcome, every candidate and Table 1 variable exist in the development set; the
    outcome has two values (and the configured event) in every set; numeric candidates hold only
    numbers in every set (the first bad cell is named by row and column); the levels of every
    categorical candidate in the other sets were seen in the development set.

    Raises
    ------
    InputError
    """
    from myorisk.modeling.design import build_design, code_outcome
    from myorisk.myositis.io import coerce_numeric

    frames, sources, synth, seeds = load_sets(config)
    dev = config.data.development
    out_col = config.outcome.column
    cands = config.predictors.candidates
    t1 = config.table1.variables or cands
    for name, df in frames.items():
        src = sources[name]
        if out_col not in df.columns:
            raise InputError(f"{src}: outcome column '{out_col}' not found{did_you_mean(out_col, list(df.columns))} (key 'outcome.column' in "
                             f"{config.source}; columns are: {', '.join(map(str, df.columns[:25]))})")
        y = df[out_col]
        code_outcome(y.dropna(), event=config.outcome.event, name=out_col, source=src)
        needed = cands if name == dev else [c for c in cands if c in df.columns]
        miss = [c for c in [*needed, *t1] if c not in df.columns]
        if name == dev and miss:
            key = "predictors.candidates" if miss[0] in cands else "table1.variables"
            raise InputError(f"{src}: column '{miss[0]}' not found{did_you_mean(miss[0], list(df.columns))} (key '{key}' in {config.source})")
    dev_df = frames[dev]
    for i, m in enumerate(config.models):  # a fixed model's predictors are checked as candidates are
        try:  # terms in R notation: rcs(x, 4), a*b, a:b
            used = _variables(m.predictors or ())
        except InputError as e:
            raise InputError(f"{config.source}: key 'models[{i}].predictors': {e}") from None
        for c in used:
            if c not in dev_df.columns:
                raise InputError(f"{sources[dev]}: column '{c}' not found (key 'models[{i}].predictors' "
                                 f"in {config.source}, model '{m.name}'; columns are: "
                                 f"{', '.join(map(str, dev_df.columns[:25]))})")
    extra = [c for m in config.models for c in _variables(m.predictors or ()) if c not in cands]
    cands = [*cands, *dict.fromkeys(extra)]
    design = build_design(dev_df, out_col, cands, categorical=config.predictors.categorical,
                          reference=config.predictors.reference, event=config.outcome.event,
                          source=sources[dev])
    numeric = [t.name for t in design.terms if t.kind == "numeric"]
    from myorisk.modeling.design import _level_label

    # every level seen in the development set (also in rows a complete-case design drops)
    levels = {t.name: set(dev_df[t.name].dropna().map(_level_label)) for t in design.terms
              if t.kind == "categorical"}
    for name, df in frames.items():
        src = sources[name]
        cols = [c for c in numeric if c in df.columns]
        frames[name] = df.copy()
        frames[name][cols] = coerce_numeric(df, cols, src)[cols]
        frames[name].attrs.update(df.attrs)
        for c, levs in levels.items():
            if c not in df.columns or name == dev:
                continue
            lab = df[c].dropna().map(_level_label)
            bad = lab[~lab.isin(levs)]
            if len(bad):
                raise InputError(f"{src}: row {bad.index[0]}, column '{c}': level '{bad.iloc[0]}' "
                                 f"does not occur in the development set ({', '.join(sorted(levs))})")
    return Prepared(config=config, frames=frames, sources=sources, synthetic=synth, seeds=seeds)


# ----------------------------------------------------------------------------- helpers
class _Steps:
    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.seconds: dict[str, float] = {}
        self._t = 0.0
        self._name = ""

    def start(self, name: str, total: float = 1.0) -> None:
        self._name, self._t = name, time.perf_counter()
        if self.progress:
            self.progress(name, 0.0, total)

    def update(self, done: float, total: float) -> None:
        if self.progress:
            self.progress(self._name, done, total)

    def done(self, total: float = 1.0) -> None:
        self.seconds[self._name] = time.perf_counter() - self._t
        if self.progress:
            self.progress(self._name, total, total)


def _missing_frame(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    rows = []
    for c in columns:
        if c not in df.columns:
            rows.append({"variable": c, "n": len(df), "n_missing": len(df), "pct_missing": 100.0,
                         "note": "column absent"})
            continue
        k = int(df[c].isna().sum())
        rows.append({"variable": c, "n": len(df), "n_missing": k,
                     "pct_missing": 100.0 * k / len(df) if len(df) else 0.0, "note": ""})
    return pd.DataFrame(rows, columns=["variable", "n", "n_missing", "pct_missing", "note"])


def _variables(predictors: Sequence[str]) -> list[str]:
    """The data columns of predictors given as terms (``rcs(age, 4)`` → ``age``; ``a*b`` → a, b)."""
    from myorisk.modeling.terms import parse_terms

    out: list[str] = []
    for p in map(str, predictors):
        # a plain column name stays as it is (it may hold spaces or brackets)
        is_term = p.strip().startswith("rcs(") or any(op in p for op in ("*", ":", "%ia%"))
        if is_term:
            out.extend(v for e in parse_terms([p]) for v in e.variables)
        else:
            out.append(p)
    return list(dict.fromkeys(out))


def _fit_kw(config: StudyConfig, predictors: list[str]) -> dict:
    p = config.predictors
    predictors = _variables(predictors)
    return {
        "categorical": [c for c in p.categorical if c in predictors],
        "reference": {k: v for k, v in p.reference.items() if k in predictors},
        "event": config.outcome.event,
    }


def _univariate(config: StudyConfig, df: pd.DataFrame, source: str, notes: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Each candidate alone (ML; Firth where ML is impossible because of separation)."""
    from myorisk.modeling.selection import univariate

    out_col = config.outcome.column
    frames, separated = [], []
    for v in config.predictors.candidates:
        kw = dict(ci=config.selection.univariate_ci, source=source, **_fit_kw(config, [v]))
        try:
            tab = univariate(df, out_col, [v], **kw)
            method = "ml"
        except ModelError as e:
            if e.reason != "separation":
                raise
            separated.append(v)
            try:
                tab = univariate(df, out_col, [v], firth=True, **kw)
            except ModelError as e2:
                notes.append(f"univariate: '{v}' separates the outcome and the Firth fit failed too "
                             f"({e2}); no odds ratio is reported")
                frames.append(pd.DataFrame([{"variable": v, "term": v, "label": config.label(v),
                                             "method": "not estimable"}]))
                continue
            method = "firth"
            notes.append(f"univariate: '{v}' separates the outcome (maximum-likelihood OR infinite); "
                         "its row uses Firth's penalised likelihood")
        rows = tab.rows.copy()
        rows.insert(2, "label", config.label(v))
        rows["method"] = method
        frames.append(rows)
        notes.extend(w for w in tab.warnings)
    return pd.concat(frames, ignore_index=True), separated


def _complete(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    return df.loc[df[cols].notna().all(axis=1)]


def _build_model(config, mcfg, df, source, separated, notes_all) -> tuple:
    from myorisk.modeling.logistic import fit_logistic
    from myorisk.modeling.selection import backward_aic, select_pscreen

    out_col = config.outcome.column
    method = config.model_method(mcfg)
    cands = config.model_candidates(mcfg)
    notes = []
    excluded = ()
    if method != "fixed":
        excluded = tuple(c for c in cands if c in separated)
        if excluded:
            cands = [c for c in cands if c not in excluded]
            notes.append(f"{', '.join(excluded)} left out of selection: perfect separation in the "
                         "development set (no finite maximum-likelihood estimate)")
    if not cands:
        raise InputError(f"{config.source}: model '{mcfg.name}' has no candidate left to select from")
    kw = _fit_kw(config, cands)
    selection = None
    if method == "pscreen":
        selection = select_pscreen(df, out_col, cands, alpha=config.selection.alpha, source=source, **kw)
        steps = selection.steps
        screened = list(steps.loc[(steps["step"] == "univariate") & (steps["action"] == "enter"), "variable"])
        cc = _complete(df, [out_col, *cands])
        multi = fit_logistic(cc, out_col, screened, source=source, **_fit_kw(config, screened))
        fit = selection.fit
    elif method == "backward_aic":
        selection = backward_aic(df, out_col, cands, source=source, **kw)
        cc = _complete(df, [out_col, *cands])
        multi = fit_logistic(cc, out_col, cands, source=source, **kw)
        fit = selection.fit
    else:
        fit = fit_logistic(df, out_col, cands, source=source, **kw)
        multi = fit
    if getattr(mcfg, "shrink", None) == "heuristic":
        from myorisk.modeling.penalty import heuristic_shrinkage, shrink

        fit = shrink(fit, heuristic_shrinkage(fit), "heuristic")
    notes.extend(fit.warnings)
    notes_all.extend(f"model '{mcfg.name}': {n}" for n in notes)
    return method, tuple(cands), excluded, selection, multi, fit, tuple(notes)


def _spec(fit, df, mcfg, config, source):
    try:
        from myorisk.modeling.spec import ModelSpec
    except ImportError:  # pragma: no cover - spec module not installed
        return None
    return ModelSpec.from_fit(
        fit, df, name=mcfg.name, title=f"{config.title}: {mcfg.display}",
        outcome_description=config.outcome.label, labels=config.predictors.labels,
        units=config.predictors.units, source=source,
    )


def _directions(config, model: ModelResult, dev_df: pd.DataFrame, source: str) -> dict[str, str]:
    """ROC direction of each numeric predictor alone, fixed on the development data by pROC's
    rule (``"<"`` when the median of the controls is at most that of the cases), then used
    unchanged on every other set."""
    from myorisk.modeling.design import code_outcome
    from myorisk.modeling.roc import roc_curve

    out_col = config.outcome.column
    fit = model.fit
    dirs = {}
    for t in fit.terms:
        if t.kind != "numeric":
            continue
        sub = _complete(dev_df, [out_col, t.name])
        y, _ = code_outcome(sub[out_col], event=fit.event, name=out_col, source=source)
        x = pd.to_numeric(sub[t.name], errors="coerce").to_numpy(float)
        dirs[t.name] = roc_curve(y, x, direction="auto").direction
    return dirs


def _evaluate(config, model: ModelResult, set_name, df, source, directions, apparent) -> Evaluation | str:
    from myorisk.modeling.design import code_outcome
    from myorisk.modeling.performance import val_prob
    from myorisk.modeling.roc import best_threshold, delong_test, roc_curve

    fit = model.fit
    preds = _variables(list(model.predictors))  # the columns the model's terms read
    out_col = config.outcome.column
    absent = [c for c in preds if c not in df.columns or df[c].isna().all()]
    if absent:
        return (f"model '{model.name}' not evaluated on {config.set_label(set_name)}: "
                f"{', '.join(absent)} not recorded there")
    if apparent:
        dropped = set(fit.missing.get("rows", []))
        sub = df.loc[[r for r in df.index if r not in dropped]]
        sub = _complete(sub, [out_col, *preds])
    else:
        sub = _complete(df, [out_col, *preds])
    note = ""
    n_out = int(len(df) - len(sub))
    if n_out:
        note = f"{n_out} of {len(df)} rows with a missing outcome or predictor were excluded"
    y, _ = code_outcome(sub[out_col], event=fit.event if config.outcome.event is None else config.outcome.event,
                        name=out_col, source=source)
    if y.sum() < 2 or y.sum() > len(y) - 2:
        return (f"model '{model.name}' not evaluated on {config.set_label(set_name)}: fewer than 2 "
                "patients with or without the outcome")
    lp = fit.predict_lp(sub, source)
    prob = expit(lp)
    roc = roc_curve(y, prob, direction="<")
    best = best_threshold(roc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        perf = val_prob(prob, y)
    singles = []
    for t in fit.terms:
        if t.kind != "numeric" or len(fit.terms) < 2:
            continue
        x = sub[t.name].to_numpy(float)
        if np.unique(x).size <= 2:  # binary predictors: one point, not a curve
            continue
        d = directions.get(t.name, "<")
        r = roc_curve(y, x, direction=d)
        test = delong_test(y, prob, x, direction1="<", direction2=d)
        singles.append(SinglePredictor(t.name, d, r, test))
    return Evaluation(model=model.name, set=set_name, apparent=apparent, rows=tuple(sub.index),
                      y=y, prob=prob, lp=lp, roc=roc, best=best, performance=perf,
                      singles=tuple(singles), note=note)


def _index_curve(config, model: ModelResult) -> IndexCurve:
    from myorisk.modeling.logistic import fit_logistic

    fit = model.fit
    idx = np.asarray(fit.linear_predictor, float)
    y = np.asarray(fit.y, float)
    df = pd.DataFrame({"index": idx, "y": y})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f2 = fit_logistic(df, "y", ["index"])
    grid = np.linspace(idx.min(), idx.max(), 200)
    X = np.column_stack([np.ones_like(grid), grid])
    eta = X @ f2.coefficients
    se = np.sqrt(np.einsum("ij,jk,ik->i", X, f2.cov, X))
    return IndexCurve(label=config.index.label, model=model.name, fit=f2, grid=grid,
                      prob=expit(eta), low=expit(eta - 1.959963984540054 * se),
                      high=expit(eta + 1.959963984540054 * se), index=idx, y=y)


def _versions() -> dict:
    import matplotlib
    import numpy
    import scipy

    from myorisk import __version__

    return {"myorisk": __version__, "python": platform.python_version(), "numpy": numpy.__version__,
            "scipy": scipy.__version__, "pandas": pd.__version__,
            "matplotlib": matplotlib.__version__, "platform": platform.platform()}


# ----------------------------------------------------------------------------- steps
# Each step is a function of the configuration's data and of earlier steps' results, and
# returns a frozen partial result; :func:`run` composes them. Notes (warnings for the report)
# travel in each partial result, in the order the steps ran.


@dataclass(frozen=True)
class Loaded:
    """Step 1 (load and check data): the prepared sets and what the report says about them."""

    prepared: Prepared
    sets: tuple[SetInfo, ...]
    synthetic: bool
    notes: tuple[str, ...] = ()

    @property
    def config(self) -> StudyConfig:
        """The configuration."""
        return self.prepared.config

    @property
    def dev_name(self) -> str:
        """Name of the development set."""
        return self.config.data.development

    @property
    def dev(self) -> pd.DataFrame:
        """Rows of the development set."""
        return self.prepared.frames[self.dev_name]

    @property
    def dev_source(self) -> str:
        """File or dataset of the development set (for messages)."""
        return self.prepared.sources[self.dev_name]


@dataclass(frozen=True)
class TableOneStep:
    """Step 2: Table 1 by outcome (development set) and by set (None with a single set)."""

    outcome: Any
    sets: Any


@dataclass(frozen=True)
class UnivariateStep:
    """Step 3: every candidate alone; candidates that separate the outcome."""

    table: pd.DataFrame
    separated: tuple[str, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class BuiltModel:
    """One model after selection (step 4)."""

    name: str
    label: str
    role: str
    method: str
    candidates: tuple[str, ...]
    excluded_candidates: tuple[str, ...]
    selection: Any
    multivariable: Any
    fit: Any
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SelectionStep:
    """Step 4: selection and the multivariable models."""

    models: tuple[BuiltModel, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelsStep:
    """Step 5: the models with nomograms and spec files (not yet validated)."""

    models: tuple[ModelResult, ...]


@dataclass(frozen=True)
class DiscriminationStep:
    """Step 6: evaluations in every set, paired and unpaired DeLong tests."""

    evaluations: tuple[Evaluation, ...]
    comparisons: tuple[Comparison, ...]
    set_comparisons: tuple[SetComparison, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class BootstrapStep:
    """Step 7: the models with bootstrap validation and calibration."""

    models: tuple[ModelResult, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImputationStep:
    """Step 7b (``missing: {method: mice}``): the multiple-imputation analysis, else None."""

    imputation: Any
    seconds: float | None = None


@dataclass(frozen=True)
class CalibrationStep:
    """Step 8: evaluations with their calibration curves; Hosmer–Lemeshow notes."""

    evaluations: tuple[Evaluation, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class DecisionStep:
    """Step 9: decision curves per set."""

    curves: dict


@dataclass(frozen=True)
class IndexStep:
    """Step 10: the index curve (None without an index model)."""

    index: IndexCurve | None


@dataclass(frozen=True)
class SampleSizeStep:
    """Step 11: sample-size adequacy of the development data."""

    adequacy: Any
    candidate_parameters: int


@dataclass(frozen=True)
class PublishedStep:
    """Step 12: the published vs reproduced table (empty without published values)."""

    table: pd.DataFrame


def load_step(config: StudyConfig | Prepared) -> Loaded:
    """Step 1: read and check every set; count rows, events and missing values."""
    from myorisk.modeling.design import code_outcome

    prep = config if isinstance(config, Prepared) else prepare(config)
    cfg = prep.config
    out_col = cfg.outcome.column
    cands = cfg.predictors.candidates
    t1_vars = cfg.table1.variables or cands
    notes, set_infos = [], []
    for name, df in prep.frames.items():
        y = df[out_col]
        yy, _ = code_outcome(y.dropna(), event=cfg.outcome.event, name=out_col, source=prep.sources[name])
        used = list(dict.fromkeys([out_col, *cands, *t1_vars]))
        set_infos.append(SetInfo(name=name, label=cfg.set_label(name), source=prep.sources[name],
                                 n=len(df), events=int(yy.sum()), n_outcome_missing=int(y.isna().sum()),
                                 synthetic=prep.synthetic[name], missing=_missing_frame(df, used)))
        if y.isna().any():
            notes.append(f"{prep.sources[name]}: {int(y.isna().sum())} rows without outcome are excluded "
                         "from every analysis")
    synthetic = cfg.synthetic if cfg.synthetic is not None else any(prep.synthetic.values())
    return Loaded(prepared=prep, sets=tuple(set_infos), synthetic=bool(synthetic), notes=tuple(notes))


def table1_step(loaded: Loaded) -> TableOneStep:
    """Step 2: Table 1 of the development set by outcome, and of all sets by set."""
    from myorisk.modeling.design import code_outcome
    from myorisk.modeling.tableone import table_one

    cfg, frames = loaded.config, loaded.prepared.frames
    dev_df, out_col = loaded.dev, cfg.outcome.column
    t1_vars = cfg.table1.variables or cfg.predictors.candidates
    binary = _binary_columns(dev_df, t1_vars)
    t1_cat = list(dict.fromkeys([*cfg.predictors.categorical, *binary]))
    labels = {c: cfg.label(c) for c in t1_vars}
    g = dev_df.copy()
    yy, _ = code_outcome(g[out_col].dropna(), event=cfg.outcome.event, name=out_col, source=loaded.dev_source)
    grp = pd.Series(pd.NA, index=g.index, dtype="object")
    grp.loc[g[out_col].dropna().index] = np.where(yy == 1, cfg.outcome.event_name, cfg.outcome.nonevent_name)
    g["_group"] = pd.Categorical(grp, categories=[cfg.outcome.nonevent_name, cfg.outcome.event_name])
    t1_kw = dict(variables=t1_vars, categorical=[c for c in t1_cat if c in t1_vars],
                 nonnormal=cfg.table1.nonnormal, labels=labels)
    by_outcome = table_one(g, by="_group", **t1_kw)
    by_set = None
    if len(frames) > 1:
        parts = []
        for name, df in frames.items():
            part = df.reindex(columns=list(dict.fromkeys([*t1_vars, out_col]))).copy()
            part["_set"] = cfg.set_label(name)
            parts.append(part)
        allsets = pd.concat(parts, ignore_index=True)
        allsets.index = pd.RangeIndex(1, len(allsets) + 1)
        allsets["_set"] = pd.Categorical(allsets["_set"], categories=[cfg.set_label(n) for n in frames])
        for c in t1_vars:  # keep numeric columns numeric across sets (all-missing sets)
            if c in dev_df.columns and pd.api.types.is_numeric_dtype(dev_df[c]):
                allsets[c] = pd.to_numeric(allsets[c], errors="coerce")
        by_set = table_one(allsets, by="_set", **t1_kw)
    return TableOneStep(outcome=by_outcome, sets=by_set)


def univariate_step(loaded: Loaded) -> UnivariateStep:
    """Step 3: each candidate alone (ML; Firth where a candidate separates the outcome)."""
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table, separated = _univariate(loaded.config, loaded.dev, loaded.dev_source, notes)
    return UnivariateStep(table=table, separated=tuple(separated), notes=tuple(notes))


def selection_step(loaded: Loaded, univ: UnivariateStep,
                   update: Callable[[int, int], None] | None = None) -> SelectionStep:
    """Step 4: each configured model: selection (p-screen, backward AIC) or its fixed list."""
    cfg = loaded.config
    notes: list[str] = []
    built = []
    for i, mcfg in enumerate(cfg.models):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            method, mc, excluded, selection, multi, fit, mnotes = _build_model(
                cfg, mcfg, loaded.dev, loaded.dev_source, list(univ.separated), notes)
        built.append(BuiltModel(name=mcfg.name, label=mcfg.display, role=mcfg.role, method=method,
                                candidates=mc, excluded_candidates=excluded, selection=selection,
                                multivariable=multi, fit=fit, notes=mnotes))
        if update:
            update(i + 1, len(cfg.models))
    return SelectionStep(models=tuple(built), notes=tuple(notes))


def models_step(loaded: Loaded, sel: SelectionStep) -> ModelsStep:
    """Step 5: nomogram and model spec file of each model."""
    from myorisk.modeling.nomogram import nomogram_from_fit

    cfg = loaded.config
    out = []
    for b, mcfg in zip(sel.models, cfg.models, strict=True):
        aov = eff = None
        if any(t.kind in ("rcs", "interaction") for t in b.fit.terms):
            # splines or interactions: rms' Wald ANOVA and partial effect plots say what the
            # coefficients cannot
            from myorisk.modeling.anova import anova
            from myorisk.modeling.effects import effects

            aov = anova(b.fit)
            eff = effects(b.fit, loaded.dev)
        out.append(ModelResult(
            name=b.name, label=b.label, method=b.method, candidates=b.candidates,
            excluded_candidates=b.excluded_candidates, selection=b.selection,
            multivariable=b.multivariable, fit=b.fit, nomogram=nomogram_from_fit(b.fit),
            spec=_spec(b.fit, loaded.dev, mcfg, cfg, loaded.dev_source), validation=None,
            calibration=None, notes=b.notes, role=b.role, anova=aov, effects=eff))
    return ModelsStep(models=tuple(out))


def discrimination_step(loaded: Loaded, models: ModelsStep) -> DiscriminationStep:
    """Step 6: every model in every set (ROC, DeLong CI, val.prob); DeLong tests."""
    from myorisk.modeling.roc import delong_test, delong_test_unpaired

    cfg, frames, sources = loaded.config, loaded.prepared.frames, loaded.prepared.sources
    dev = loaded.dev_name
    notes: list[str] = []
    evaluations: list[Evaluation] = []
    for m in models.models:
        directions = _directions(cfg, m, loaded.dev, loaded.dev_source)
        for s in cfg.sets_to_validate:
            ev = _evaluate(cfg, m, s, frames[s], sources[s], directions, apparent=(s == dev))
            if isinstance(ev, str):
                notes.append(ev)
            else:
                evaluations.append(ev)
    comparisons = []
    for s in cfg.sets_to_validate:
        evs = [e for e in evaluations if e.set == s]
        for a, b in itertools.combinations(evs, 2):
            common = [r for r in a.rows if r in set(b.rows)]
            if len(common) < 4:
                continue
            ia = pd.Index(a.rows).get_indexer(common)
            ib = pd.Index(b.rows).get_indexer(common)
            test = delong_test(a.y[ia], a.prob[ia], b.prob[ib], direction1="<", direction2="<")
            comparisons.append(Comparison(set=s, model1=a.model, model2=b.model, n=len(common), test=test))
    set_comparisons = []
    for m in models.models:
        e_dev = next((e for e in evaluations if e.model == m.name and e.set == dev), None)
        for e in evaluations:
            if e.model == m.name and e.set != dev and e_dev is not None:
                t = delong_test_unpaired(e_dev.y, e_dev.prob, e.y, e.prob, direction1="<", direction2="<")
                set_comparisons.append(SetComparison(model=m.name, set1=dev, set2=e.set, test=t))
    return DiscriminationStep(evaluations=tuple(evaluations), comparisons=tuple(comparisons),
                              set_comparisons=tuple(set_comparisons), notes=tuple(notes))


def bootstrap_step(loaded: Loaded, models: ModelsStep,
                   update: Callable[[float, float], None] | None = None) -> BootstrapStep:
    """Step 7: rms validate and calibrate of each model, its selection repeated in every resample."""
    from myorisk.modeling.calibration import validate_and_calibrate
    from myorisk.modeling.design import build_design
    from myorisk.modeling.validation import SelectionSpec

    cfg = loaded.config
    B = cfg.bootstrap.B
    total = B * len(models.models)
    notes: list[str] = []
    out = []
    for k, m in enumerate(models.models):
        design = build_design(loaded.dev, cfg.outcome.column, list(m.candidates), source=loaded.dev_source,
                              **_fit_kw(cfg, list(m.candidates)))
        sel = None if m.method == "fixed" else SelectionSpec(method=m.method, alpha=cfg.selection.alpha)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            val, cal = validate_and_calibrate(
                design, B=B, seed=cfg.bootstrap.seed, selection=sel, auc=True,
                progress=(lambda d, t, k=k: update(k * B + d * B / max(t, 1), total)) if update else None,
            )
        if tuple(val.selected) != tuple(m.predictors):
            notes.append(f"model '{m.name}': the bootstrap's apparent model kept {', '.join(val.selected)}, "
                         f"the reported model {', '.join(m.predictors)}")
        if val.n_failed:
            notes.append(f"model '{m.name}': {val.n_failed} of {B} bootstrap resamples could not be "
                         "fitted and were skipped")
        out.append(replace(m, validation=val, calibration=cal))
    return BootstrapStep(models=tuple(out), notes=tuple(notes))


def imputation_step(loaded: Loaded, models: tuple[ModelResult, ...]) -> ImputationStep:
    """Step 7b: the models refitted by multiple imputation (MICE, Rubin's rules) when configured."""
    cfg = loaded.config
    if cfg.missing.method != "mice":
        return ImputationStep(imputation=None)
    from myorisk.study.imputation import run_imputation

    t0 = time.perf_counter()
    imp = run_imputation(cfg, loaded.dev, loaded.dev_source, list(models), _fit_kw)
    return ImputationStep(imputation=imp, seconds=time.perf_counter() - t0)


def calibration_step(loaded: Loaded, disc: DiscriminationStep) -> CalibrationStep:
    """Step 8: each evaluation's calibration curve (lowess with bootstrap band, grouped,
    logistic); Hosmer–Lemeshow notes (val.prob and the test were computed per set in step 6)."""
    from myorisk.modeling.calibration import calibration_curve

    cfg = loaded.config
    notes: list[str] = []
    out = []
    for e in disc.evaluations:
        hl = e.performance.hosmer_lemeshow
        if hl is not None and hl.warnings:
            notes.extend(f"Hosmer-Lemeshow ({e.model}, {cfg.set_label(e.set)}): {w}" for w in hl.warnings)
        curve = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                curve = calibration_curve(e.prob, e.y, B=cfg.bootstrap.B, seed=cfg.bootstrap.seed)
        except InputError as exc:
            notes.append(f"calibration curve ({e.model}, {cfg.set_label(e.set)}) not drawn: {exc}")
        out.append(replace(e, calibration=curve))
    return CalibrationStep(evaluations=tuple(out), notes=tuple(notes))


def decision_step(loaded: Loaded, evaluations: tuple[Evaluation, ...]) -> DecisionStep:
    """Step 9: net benefit of every model evaluated in a set, on their common patients."""
    from myorisk.modeling.decision import decision_curve, parse_threshold_grid

    cfg = loaded.config
    # R's seq() rounded to the decimals of the configured numbers: thresholds as the user wrote them
    grid = parse_threshold_grid(f"{cfg.decision.start!r}:{cfg.decision.stop!r}:{cfg.decision.step!r}")
    curves = {}
    for s in cfg.sets_to_validate:
        evs = [e for e in evaluations if e.set == s]
        if not evs:
            continue
        common = [r for r in evs[0].rows if all(r in set(e.rows) for e in evs[1:])]
        risks = {e.model: e.prob[pd.Index(e.rows).get_indexer(common)] for e in evs}
        y = evs[0].y[pd.Index(evs[0].rows).get_indexer(common)]
        curves[s] = decision_curve(y, risks, grid)
    return DecisionStep(curves=curves)


def index_step(loaded: Loaded, models: tuple[ModelResult, ...]) -> IndexStep:
    """Step 10: probability against the index model's linear predictor."""
    cfg = loaded.config
    if cfg.index is None:
        return IndexStep(index=None)
    return IndexStep(index=_index_curve(cfg, next(m for m in models if m.name == cfg.index.model)))


def sample_size_step(loaded: Loaded) -> SampleSizeStep:
    """Step 11: events per candidate parameter and Riley et al.'s criteria."""
    from myorisk.modeling.design import build_design
    from myorisk.modeling.sample_size import adequacy, max_r2_cs

    cfg = loaded.config
    cands = cfg.predictors.candidates
    full = build_design(loaded.dev, cfg.outcome.column, cands, source=loaded.dev_source,
                        **_fit_kw(cfg, cands))
    n_par = full.X.shape[1] - 1
    n_dev = int(full.y.size)
    ev_dev = int(full.y.sum())
    phi = ev_dev / n_dev
    ss = cfg.sample_size
    kw = {"cstatistic": ss.cstatistic} if ss.cstatistic is not None else {
        "r2_cs": ss.r2_cs if ss.r2_cs is not None else 0.15 * max_r2_cs(phi)}
    return SampleSizeStep(adequacy=adequacy(n_dev, ev_dev, n_par, shrinkage=ss.shrinkage, **kw),
                          candidate_parameters=n_par)


def published_step(loaded: Loaded, models: tuple[ModelResult, ...],
                   evaluations: tuple[Evaluation, ...], index: IndexCurve | None) -> PublishedStep:
    """Step 12: each published value beside the one reproduced here, with the reason they differ."""
    from myorisk.study.published import published_vs_reproduced

    return PublishedStep(table=published_vs_reproduced(loaded.config, models, evaluations, index,
                                                       synthetic=loaded.synthetic))


def narrative_step(res: Results) -> Results:
    """Step 13: methods text and TRIPOD+AI checklist from what was run."""
    from myorisk.study.narrative import methods_text, tripod_items

    return replace(res, methods=tuple(methods_text(res)), tripod=tuple(tripod_items(res)))


def _versions() -> dict:
    import matplotlib
    import numpy
    import scipy

    from myorisk import __version__

    return {"myorisk": __version__, "python": platform.python_version(), "numpy": numpy.__version__,
            "scipy": scipy.__version__, "pandas": pd.__version__,
            "matplotlib": matplotlib.__version__, "platform": platform.platform()}


# ----------------------------------------------------------------------------- run
def run(config: StudyConfig | Prepared, progress: Progress | None = None) -> Results:
    """Run a whole study: the named steps above, in order.

    Parameters
    ----------
    config : StudyConfig or Prepared
        The configuration (its data are read and checked first), or the output of
        :func:`prepare`.
    progress : callable(step, done, total), optional
        Called when a step starts (``done = 0``), as the bootstrap advances, and when a step
        ends (``done = total``). Step names are :data:`STEPS`.

    Returns
    -------
    Results

    Raises
    ------
    InputError
        Bad data or configuration (before any analysis).
    ModelError
        A model cannot be fitted (e.g. separation in a multivariable model).
    """
    created = _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()
    steps = _Steps(progress)

    steps.start(STEPS[0])
    loaded = load_step(config)
    cfg = loaded.config
    steps.done()

    steps.start(STEPS[1])
    t1 = table1_step(loaded)
    steps.done()

    steps.start(STEPS[2])
    univ = univariate_step(loaded)
    steps.done()

    steps.start(STEPS[3], len(cfg.models))
    sel = selection_step(loaded, univ, steps.update)
    steps.done(len(cfg.models))

    steps.start(STEPS[4])
    built = models_step(loaded, sel)
    steps.done()

    steps.start(STEPS[5])
    disc = discrimination_step(loaded, built)
    steps.done()

    total = cfg.bootstrap.B * len(built.models)
    steps.start(STEPS[6], total)
    boot = bootstrap_step(loaded, built, steps.update)
    steps.done(total)

    imp = imputation_step(loaded, boot.models)  # timed as "imputation" when it runs (missing: mice)
    if imp.seconds is not None:
        steps.seconds["imputation"] = imp.seconds

    steps.start(STEPS[7])
    cal = calibration_step(loaded, disc)
    steps.done()

    steps.start(STEPS[8])
    dec = decision_step(loaded, cal.evaluations)
    steps.done()

    steps.start(STEPS[9])
    idx = index_step(loaded, boot.models)
    steps.done()

    steps.start(STEPS[10])
    size = sample_size_step(loaded)
    steps.done()

    steps.start(STEPS[11])
    pub = published_step(loaded, boot.models, cal.evaluations, idx.index)
    steps.done()

    steps.start(STEPS[12])
    notes = [*loaded.notes, *univ.notes, *sel.notes, *disc.notes, *boot.notes, *cal.notes]
    res = Results(
        config=cfg, synthetic=loaded.synthetic, sets=loaded.sets, table1_outcome=t1.outcome,
        table1_sets=t1.sets, univariate=univ.table, models=boot.models,
        evaluations=cal.evaluations, comparisons=disc.comparisons,
        set_comparisons=disc.set_comparisons, decision=dec.curves, index=idx.index,
        sample_size=size.adequacy, candidate_parameters=size.candidate_parameters, methods=(),
        tripod=(), warnings=tuple(dict.fromkeys(notes)), software=_versions(),
        seeds={"bootstrap": cfg.bootstrap.seed, "datasets": loaded.prepared.seeds},
        seconds=steps.seconds, created=created, published=pub.table, imputation=imp.imputation,
    )
    res = narrative_step(res)
    steps.done()
    return replace(res, seconds=dict(steps.seconds))
