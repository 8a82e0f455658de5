"""The study's multiple-imputation analysis (``missing: {method: mice, …}``).

The complete-case analysis stays the main one (it is what the seed-paper replications report);
with ``method: mice`` every model is, in addition, refitted on m imputed development sets and
pooled by Rubin's rules, and validated by the optimism bootstrap within each imputation (selection
repeated inside, as in the complete-case bootstrap) with location-shifted intervals for the
corrected indexes (``docs/missing-data.md``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from myorisk._json import clean as _clean

__all__ = ["StudyImputation", "ModelImputation", "run_imputation"]


@dataclass(frozen=True)
class ModelImputation:
    """One model after multiple imputation: pooled fit and validation across imputations."""

    name: str
    predictors: tuple[str, ...]
    pooled: Any  # PooledFit
    validation: Any  # ImputedValidation

    def to_dict(self) -> dict:
        return _clean({"name": self.name, "predictors": list(self.predictors), "pooled": self.pooled.to_dict(),
                       "validation": self.validation.to_dict()})


@dataclass(frozen=True)
class StudyImputation:
    """What the imputation analysis produced.

    Attributes
    ----------
    info : dict
        m, seed, maxit, methods per variable, share of incomplete rows, auxiliaries.
    variables : DataFrame
        Per variable: method, n, missing, share, observed and imputed means.
    models : tuple of ModelImputation
    n_rows : int
        Development rows imputed (rows with the outcome).
    mice : MiceResult
        The imputations themselves (for diagnostics figures).
    """

    info: dict
    variables: pd.DataFrame
    models: tuple[ModelImputation, ...]
    n_rows: int
    mice: Any = field(default=None, repr=False)

    def to_dict(self) -> dict:
        return _clean({"info": self.info, "n_rows": self.n_rows,
                       "variables": self.variables.to_dict(orient="records"),
                       "models": [m.to_dict() for m in self.models]})


def run_imputation(cfg, dev_df: pd.DataFrame, source: str, models, fit_kw) -> StudyImputation:  # noqa: ANN001
    """Impute the development set (outcome in every imputation model) and analyse every model.

    Parameters
    ----------
    cfg : StudyConfig
    dev_df : DataFrame
        The development set.
    source : str
        Its name in messages.
    models : sequence of ModelResult
        The complete-case models (their method, candidates and final predictors are reused).
    fit_kw : callable(cfg, predictors) -> dict
        The pipeline's categorical/reference/event arguments for a list of predictors.
    """
    from myorisk.errors import InputError
    from myorisk.modeling.design import build_design
    from myorisk.modeling.imputation import fit_imputed
    from myorisk.modeling.mi_validation import validate_imputed
    from myorisk.modeling.mice import mice
    from myorisk.modeling.validation import SelectionSpec

    mc = cfg.missing
    out_col = cfg.outcome.column
    cands = list(cfg.predictors.candidates)
    aux = [a for a in mc.auxiliary if a not in cands and a != out_col]
    absent = [a for a in aux if a not in dev_df.columns]
    if absent:
        raise InputError(f"{cfg.source}: key 'missing.auxiliary': column '{absent[0]}' is not in {source}")
    df = dev_df.loc[dev_df[out_col].notna(), [out_col, *cands, *aux]]
    imp = mice(df, m=mc.m, maxit=mc.maxit, seed=mc.seed, categorical=list(cfg.predictors.categorical),
               outcome=out_col, auxiliary=aux, source=source)
    sets = imp.completed()
    results = []
    for m in models:
        preds = list(m.predictors)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pooled = fit_imputed(sets, out_col, preds, source=source, method="mice", seed=mc.seed,
                                 imputation=imp.info(), **fit_kw(cfg, preds))
            designs = [build_design(s, out_col, list(m.candidates), source=f"{source} (imputation {i})",
                                    **fit_kw(cfg, list(m.candidates))) for i, s in enumerate(sets, start=1)]
            sel = None if m.method == "fixed" else SelectionSpec(method=m.method, alpha=cfg.selection.alpha)
            val = validate_imputed(designs, B=cfg.bootstrap.B, seed=cfg.bootstrap.seed, selection=sel, ci=True,
                                   imputation=imp.info())
        results.append(ModelImputation(name=m.name, predictors=tuple(preds), pooled=pooled, validation=val))
    return StudyImputation(info=imp.info(), variables=imp.to_frame(), models=tuple(results), n_rows=len(df),
                           mice=imp)


def methods_sentence(res) -> str:  # noqa: ANN001 - Results
    """The Methods paragraph on missing data when the study imputes."""
    imp = res.imputation
    info = imp.info
    meth = {"pmm": "predictive mean matching (5 donors)", "logreg": "logistic regression",
            "polyreg": "polytomous regression"}
    by = "; ".join(f"{k}: {meth.get(v, v)}" for k, v in info.get("methods", {}).items()) or "none"
    aux = info.get("auxiliary") or []
    return (
        "Missing data. Each variable's missing values are reported per set. The main analysis used complete "
        "cases (listwise deletion; every excluded row is listed in the warnings). In addition, the "
        f"{imp.n_rows} development patients with the outcome were multiply imputed by chained equations "
        f"(m = {info['m']} imputations, {info['maxit']} iterations, seed {info['seed']}; "
        f"{100 * info['share_incomplete']:.1f}% of rows incomplete), with the outcome in every imputation model"
        f"{' and auxiliary variables ' + ', '.join(aux) if aux else ''} ({by}; myorisk's MICE following mice "
        "3.15's default methods; van Buuren 2018, White et al. 2011). Each model was refitted in every "
        "imputed data set and pooled by Rubin's rules (Barnard–Rubin degrees of freedom). Internal validation "
        "ran the optimism bootstrap, with the selection repeated, within each imputed data set and averaged "
        "the corrected indexes across imputations (Wahl et al. 2016); 95% intervals for the corrected "
        "indexes are location-shifted bootstrap intervals (Noma et al. 2021), approximate (see the "
        "documentation for their simulated coverage)."
    )

