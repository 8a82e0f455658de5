"""The Results bundle of a study run: every table, model, curve and text the report shows.

Everything here is computed by :func:`myorisk.study.pipeline.run`; renderers
(:mod:`myorisk.report`) only format and draw it. :meth:`Results.to_dict` is the ``results.json``
written next to the report (full precision, NaN → null).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from myorisk import _state
from myorisk.modeling.logistic import LogisticFit, _clean

__all__ = [
    "SetInfo",
    "SinglePredictor",
    "Evaluation",
    "ModelResult",
    "Comparison",
    "SetComparison",
    "IndexCurve",
    "Results",
]


@dataclass(frozen=True)
class SetInfo:
    """One data set as loaded.

    Attributes
    ----------
    name, label : str
        Key in the config and display name.
    source : str
        File or bundled dataset it came from.
    n, events : int
        Rows and events (rows with a missing outcome are not counted as events).
    n_outcome_missing : int
    synthetic : bool
    missing : DataFrame
        Per variable used: ``variable, n, n_missing, pct_missing``.
    """

    name: str
    label: str
    source: str
    n: int
    events: int
    n_outcome_missing: int
    synthetic: bool
    missing: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict:
        """JSON-ready summary."""
        return _clean({
            "name": self.name, "label": self.label, "source": self.source, "n": self.n,
            "events": self.events, "n_outcome_missing": self.n_outcome_missing,
            "synthetic": self.synthetic, "missing": self.missing.to_dict(orient="records"),
        })


@dataclass(frozen=True)
class SinglePredictor:
    """A model's predictor used alone as a score, compared with the model (paired DeLong).

    Attributes
    ----------
    variable : str
    direction : str
        ``"<"`` (higher values → event) or ``">"``, fixed from the development data.
    roc : RocResult
    test : RocTest
        Model vs this predictor.
    """

    variable: str
    direction: str
    roc: Any
    test: Any

    def to_dict(self) -> dict:
        """JSON-ready summary."""
        return _clean({
            "variable": self.variable, "direction": self.direction,
            "auc": self.roc.auc, "ci_low": self.roc.ci_low, "ci_high": self.roc.ci_high,
            "delong_vs_model": {k: v for k, v in self.test.to_dict().items()},
        })


@dataclass(frozen=True)
class Evaluation:
    """A model's performance in one data set.

    Attributes
    ----------
    model, set : str
    apparent : bool
        True on the development set (performance is then optimistic).
    rows : tuple
        Row labels (file line numbers) of the patients evaluated.
    y, prob, lp : ndarray
        Outcome, predicted probability and linear predictor of those rows.
    roc : RocResult
        DeLong CI of the AUC.
    best : BestThreshold
        Youden-optimal threshold.
    performance : Performance
        rms ``val.prob`` statistics, with the Hosmer–Lemeshow test.
    singles : tuple of SinglePredictor
    note : str
        Rows excluded and why.
    calibration : CalibrationCurve or None
        Calibration of the predictions in this set (lowess with bootstrap band, grouped,
        logistic); None before the calibration step or when it cannot be computed.
    """

    model: str
    set: str
    apparent: bool
    rows: tuple
    y: np.ndarray = field(repr=False)
    prob: np.ndarray = field(repr=False)
    lp: np.ndarray = field(repr=False)
    roc: Any = field(repr=False)
    best: Any = field(repr=False)
    performance: Any = field(repr=False)
    singles: tuple[SinglePredictor, ...] = ()
    note: str = ""
    calibration: Any = field(default=None, repr=False)

    @property
    def n(self) -> int:
        """Patients evaluated."""
        return int(self.y.size)

    @property
    def events(self) -> int:
        """Events among them."""
        return int(self.y.sum())

    def summary(self) -> dict:
        """One row of the performance table."""
        perf = self.performance
        hl = perf.hosmer_lemeshow
        return {
            "model": self.model, "set": self.set, "apparent": self.apparent, "n": self.n,
            "events": self.events, "auc": self.roc.auc, "auc_low": self.roc.ci_low,
            "auc_high": self.roc.ci_high, "brier": perf.brier, "r2": perf.r2,
            "cal_intercept": perf.intercept, "cal_slope": perf.slope, "citl": perf.citl,
            "emax": perf.emax, "eavg": perf.eavg,
            "hl_chi2": hl.chi2 if hl is not None else np.nan,
            "hl_df": hl.df if hl is not None else np.nan,
            "hl_p": hl.p if hl is not None else np.nan,
            "threshold": self.best.threshold, "sensitivity": self.best.sensitivity,
            "specificity": self.best.specificity, "ppv": self.best.ppv, "npv": self.best.npv,
        }

    def to_dict(self) -> dict:
        """JSON-ready: summary, ROC, best threshold, val.prob and single predictors."""
        return _clean({
            **self.summary(), "note": self.note, "roc": self.roc.to_dict(),
            "best_threshold": self.best.to_dict(), "performance": self.performance.to_dict(),
            "single_predictors": [s.to_dict() for s in self.singles],
            "calibration_curve": None if self.calibration is None else self.calibration.to_dict(),
            "rows": list(self.rows),
        })


@dataclass(frozen=True)
class ModelResult:
    """One model: how it was selected, its fit, nomogram, spec and bootstrap validation.

    Attributes
    ----------
    name, label : str
    method : {"pscreen", "backward_aic", "fixed"}
    candidates : tuple of str
        Candidates this model was selected from (its fixed list for ``fixed``).
    excluded_candidates : tuple of str
        Candidates left out of selection because they separate the outcome.
    selection : Selection or None
    multivariable : LogisticFit
        The multivariable model before the final step (p-screen: every screened variable;
        backward AIC: the starting model with every candidate; fixed: the model itself).
    fit : LogisticFit
        The final model.
    nomogram : Nomogram
    spec : ModelSpec or None
    validation : Validation or None
    calibration : Calibration or None
    notes : tuple of str
    role : {"primary", "sensitivity"}
        A prespecified (primary) model or a sensitivity analysis.
    anova : Anova or None
        rms' Wald ANOVA, for a model with splines or interactions.
    effects : Effects or None
        Partial effect of each predictor (rms ``Predict``), for a model with splines or interactions.
    """

    name: str
    label: str
    method: str
    candidates: tuple[str, ...]
    excluded_candidates: tuple[str, ...]
    selection: Any
    multivariable: LogisticFit
    fit: LogisticFit
    nomogram: Any
    spec: Any
    validation: Any
    calibration: Any
    notes: tuple[str, ...] = ()
    role: str = "primary"
    anova: Any = None
    effects: Any = None

    @property
    def predictors(self) -> tuple[str, ...]:
        """Predictors of the final model."""
        return tuple(t.name for t in self.fit.terms)

    def to_dict(self) -> dict:
        """JSON-ready summary."""
        return _clean({
            "name": self.name, "label": self.label, "role": self.role, "method": self.method,
            "candidates": list(self.candidates),
            "excluded_candidates": list(self.excluded_candidates),
            "predictors": list(self.predictors),
            "selection": None if self.selection is None else {
                "selected": list(self.selection.selected),
                "steps": self.selection.steps.to_dict(orient="records"),
            },
            "multivariable": self.multivariable.to_dict(),
            "fit": self.fit.to_dict(),
            "nomogram": self.nomogram.to_dict(),
            "validation": None if self.validation is None else self.validation.to_dict(),
            "calibration": None if self.calibration is None else self.calibration.to_dict(),
            "notes": list(self.notes),
        })


@dataclass(frozen=True)
class Comparison:
    """Paired DeLong test of two models on the same patients of one set."""

    set: str
    model1: str
    model2: str
    n: int
    test: Any

    def to_dict(self) -> dict:
        """JSON-ready."""
        return _clean({"set": self.set, "model1": self.model1, "model2": self.model2, "n": self.n,
                       **self.test.to_dict()})


@dataclass(frozen=True)
class SetComparison:
    """Unpaired DeLong test of one model's AUC in the development set vs another set."""

    model: str
    set1: str
    set2: str
    test: Any

    def to_dict(self) -> dict:
        """JSON-ready."""
        return _clean({"model": self.model, "set1": self.set1, "set2": self.set2,
                       **self.test.to_dict()})


@dataclass(frozen=True)
class IndexCurve:
    """A continuous index (a model's linear predictor) and the probability it implies.

    Attributes
    ----------
    label, model : str
    fit : LogisticFit
        ``outcome ~ index`` refitted on the development set (OR per unit, LR χ²).
    grid, prob, low, high : ndarray
        Index values and the predicted probability with its 95% Wald band.
    index, y : ndarray
        Index and outcome of each development patient (the rug).
    """

    label: str
    model: str
    fit: LogisticFit
    grid: np.ndarray = field(repr=False)
    prob: np.ndarray = field(repr=False)
    low: np.ndarray = field(repr=False)
    high: np.ndarray = field(repr=False)
    index: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The curve: index, probability, ci_low, ci_high."""
        return pd.DataFrame({"index": self.grid, "probability": self.prob,
                             "ci_low": self.low, "ci_high": self.high})

    def to_dict(self) -> dict:
        """JSON-ready."""
        row = self.fit.to_frame().iloc[1]
        return _clean({
            "label": self.label, "model": self.model,
            "or_per_unit": row["or"], "or_low": row["or_low"], "or_high": row["or_high"],
            "p": row["p"], "lr_chi2": self.fit.lr_chi2, "lr_p": self.fit.lr_p,
            "index_min": float(self.index.min()), "index_max": float(self.index.max()),
            "prob_at_min": float(self.prob[0]), "prob_at_max": float(self.prob[-1]),
            "curve": self.to_frame().to_dict(orient="records"),
        })


@dataclass(frozen=True)
class Results:
    """Everything a study run produced.

    Attributes
    ----------
    config : StudyConfig
    synthetic : bool
        The data are (at least partly) synthetic: every figure and the report say so.
    sets : tuple of SetInfo
    table1_outcome, table1_sets : TableOne or None
        Table 1 of the development set by outcome, and of all sets by set.
    univariate : DataFrame
        One row per coefficient of each candidate fitted alone (``method`` ml or firth).
    models : tuple of ModelResult
    evaluations : tuple of Evaluation
    comparisons : tuple of Comparison
    set_comparisons : tuple of SetComparison
    decision : dict
        Set name → DecisionCurve (models evaluated on that set, on their common patients).
    index : IndexCurve or None
    sample_size : Adequacy
    candidate_parameters : int
    methods : tuple of str
        Methods paragraphs generated from what was run.
    tripod : tuple of dict
        TRIPOD+AI items: ``item, topic, status, where``.
    warnings : tuple of str
    software : dict
        Versions.
    seeds : dict
    seconds : dict
        Step → seconds.
    created : str
        ISO time of the run.
    published : DataFrame
        Published vs reproduced values (one row per published value; empty when the
        configuration gives none).
    imputation : StudyImputation or None
        The multiple-imputation analysis (``missing: {method: mice}``), else None.
    """

    config: Any
    synthetic: bool
    sets: tuple[SetInfo, ...]
    table1_outcome: Any
    table1_sets: Any
    univariate: pd.DataFrame
    models: tuple[ModelResult, ...]
    evaluations: tuple[Evaluation, ...]
    comparisons: tuple[Comparison, ...]
    set_comparisons: tuple[SetComparison, ...]
    decision: dict
    index: IndexCurve | None
    sample_size: Any
    candidate_parameters: int
    methods: tuple[str, ...]
    tripod: tuple[dict, ...]
    warnings: tuple[str, ...]
    software: dict
    seeds: dict
    seconds: dict
    created: str
    published: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    imputation: Any = None

    # ------------------------------------------------------------------ look-ups
    def model(self, name: str) -> ModelResult:
        """The model called ``name``."""
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)

    def evaluation(self, model: str, set: str) -> Evaluation | None:
        """The evaluation of ``model`` on ``set`` (None when it could not be evaluated)."""
        for e in self.evaluations:
            if e.model == model and e.set == set:
                return e
        return None

    def set_info(self, name: str) -> SetInfo:
        """The set called ``name``."""
        for s in self.sets:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def development(self) -> SetInfo:
        """The development (training) set."""
        return self.sets[0]

    def performance_frame(self) -> pd.DataFrame:
        """One row per model and set: AUC with CI, calibration, Hosmer–Lemeshow, threshold."""
        return pd.DataFrame([e.summary() for e in self.evaluations])

    def validation_frame(self) -> pd.DataFrame:
        """One row per model and index: apparent, training, test, optimism, corrected, n."""
        frames = []
        for m in self.models:
            if m.validation is not None:
                fr = m.validation.to_frame()
                fr.insert(0, "model", m.name)
                frames.append(fr)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def to_dict(self) -> dict:
        """JSON-ready bundle (``results.json``)."""
        return _clean({
            "title": self.config.title,
            "created": self.created,
            "synthetic": self.synthetic,
            "config": self.config.model_dump(exclude={"base_dir"}),
            "sets": [s.to_dict() for s in self.sets],
            "table1_outcome": None if self.table1_outcome is None else self.table1_outcome.to_dict(),
            "table1_sets": None if self.table1_sets is None else self.table1_sets.to_dict(),
            "univariate": self.univariate.to_dict(orient="records"),
            "models": [m.to_dict() for m in self.models],
            "evaluations": [e.to_dict() for e in self.evaluations],
            "comparisons": [c.to_dict() for c in self.comparisons],
            "set_comparisons": [c.to_dict() for c in self.set_comparisons],
            "decision_curves": {k: v.to_dict() for k, v in self.decision.items()},
            "index": None if self.index is None else self.index.to_dict(),
            "sample_size": self.sample_size.to_dict(),
            "candidate_parameters": self.candidate_parameters,
            "methods": list(self.methods),
            "tripod_ai": list(self.tripod),
            "warnings": list(self.warnings),
            "software": self.software,
            "seeds": self.seeds,
            "seconds": self.seconds,
            "published_vs_reproduced": self.published.to_dict(orient="records"),
            "imputation": None if self.imputation is None else self.imputation.to_dict(),
            "reload": _state.encode(self),
        })

    @classmethod
    def from_dict(cls, d: dict) -> Results:
        """The Results a :meth:`to_dict` (``results.json``) was made from.

        Every table, curve and model comes back (the ``reload`` block), so that a stored run
        can be re-rendered and compared with another.

        Raises
        ------
        InputError
            ``d`` is not a results.json written by myorisk (no ``reload`` block).
        """
        from myorisk.errors import InputError

        if not isinstance(d, dict) or "reload" not in d:
            raise InputError("results.json: no 'reload' block (written by an older myorisk, or not a "
                             "study's results.json); run the study again")
        res = _state.decode(d["reload"])
        if not isinstance(res, cls):
            raise InputError("results.json: the 'reload' block does not hold a study's results")
        return res
