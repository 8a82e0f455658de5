"""``myorisk fit``, ``univariate``, ``select`` and ``nomogram``: logistic models from a data file."""

from __future__ import annotations

import warnings
from enum import Enum
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from myorisk.commands import _common as common
from myorisk.commands._common import (
    CategoricalOpt,
    CiMethod,
    DataArg,
    DecimalOpt,
    EncodingOpt,
    EventOpt,
    JsonOpt,
    OutcomeOpt,
    PredictorsOpt,
    ReferenceOpt,
    SepOpt,
    out,
)


# ----------------------------------------------------------------------------- fit
def fit(
    data: DataArg,
    outcome: OutcomeOpt,
    predictors: PredictorsOpt,
    firth: Annotated[bool, typer.Option("--firth", help="Firth's penalised likelihood (brglm2 AS_mean / logistf).")] = False,
    ci: Annotated[CiMethod, typer.Option("--ci", help="Confidence intervals: Wald or profile likelihood.")] = CiMethod.wald,
    level: Annotated[float, typer.Option("--level", help="Confidence level.")] = 0.95,
    categorical: CategoricalOpt = None,
    reference: ReferenceOpt = None,
    event: EventOpt = None,
    save: Annotated[Path | None, typer.Option("--save", help="Write the fitted model as a model spec file (JSON).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Model name stored in the spec file.")] = None,
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """Fit a logistic regression (maximum likelihood or Firth) and show ORs with CIs and model statistics."""
    from myorisk.modeling.logistic import fit_logistic

    preds = common.columns_list(predictors)
    cats = common.categorical_list(categorical, preds)
    common.guard_output(save, "--save", data)
    df = common.read(data, encoding, sep, decimal)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_logistic(
            df, outcome, preds, firth=firth, ci=ci.value, level=level,
            categorical=cats, reference=common.refs(reference), event=event, source=data.name,
        )
    if save is not None:
        from myorisk.modeling.spec import ModelSpec
        from myorisk.published.files import save_spec

        spec = ModelSpec.from_fit(res, df, name=name or save.stem)
        save_spec(spec, save)
    if as_json:
        common.dump(res.to_dict())
    else:
        fr = res.to_frame()
        out.print(common.table(fr, title=f"Logistic regression ({'Firth' if firth else 'maximum likelihood'}), "
                                f"outcome {outcome} = {res.event}; {int(level * 100)}% {ci.value} CI",
                         formats={"p": common.fmt_p}))
        out.print(
            f"n = {res.n}, events = {res.events}; log-likelihood {res.loglik:.4f}, AIC {res.aic:.3f}; "
            f"LR χ² {res.lr_chi2:.3f} on {res.lr_df} d.f., p {common.fmt_p(res.lr_p)}; "
            f"Nagelkerke R² {res.r2_nagelkerke:.4f}; C {res.c:.4f}, Dxy {res.dxy:.4f}; Brier {res.brier:.4f}"
        )
        if save is not None:
            out.print(f"model spec written to {save}")
    for w in res.warnings:
        common.note(w)


# ----------------------------------------------------------------------------- univariate / select
def univariate(
    data: DataArg,
    outcome: OutcomeOpt,
    predictors: PredictorsOpt,
    ci: Annotated[CiMethod, typer.Option("--ci", help="Confidence intervals: Wald or profile likelihood.")] = CiMethod.wald,
    level: Annotated[float, typer.Option("--level", help="Confidence level.")] = 0.95,
    firth: Annotated[bool, typer.Option("--firth", help="Firth's penalised likelihood (brglm2 AS_mean / logistf).")] = False,
    categorical: CategoricalOpt = None,
    reference: ReferenceOpt = None,
    event: EventOpt = None,
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """Each candidate predictor alone: OR, CI and p (Table 2 of a prediction study)."""
    from myorisk.modeling.selection import univariate as run

    preds = common.columns_list(predictors)
    cats = common.categorical_list(categorical, preds)
    df = common.read(data, encoding, sep, decimal)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run(df, outcome, preds, ci=ci.value, level=level, firth=firth,
                  categorical=cats, reference=common.refs(reference), event=event, source=data.name)
    if as_json:
        common.dump(res.to_dict())
    else:
        cols = ["variable", "term", "n", "events", "or", "or_low", "or_high", "p"]
        out.print(common.table(res.rows[cols], title=f"Univariate logistic regression, outcome {outcome} = {res.event} "
                                               f"({int(level * 100)}% {ci.value} CI)", formats={"p": common.fmt_p}))
    for w in res.warnings:
        common.note(w)


class SelectMethod(str, Enum):
    pscreen = "pscreen"
    aic = "aic"


def select(
    data: DataArg,
    outcome: OutcomeOpt,
    predictors: PredictorsOpt,
    method: Annotated[SelectMethod, typer.Option("--method", help="pscreen: univariate p < alpha then keep p < alpha; aic: backward stepwise AIC.")] = SelectMethod.pscreen,
    alpha: Annotated[float, typer.Option("--alpha", help="Significance level of the p-value screen.")] = 0.05,
    categorical: CategoricalOpt = None,
    reference: ReferenceOpt = None,
    event: EventOpt = None,
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """Select predictors (study A's p-value screen or backward AIC) and show the final model."""
    from myorisk.modeling.selection import backward_aic, select_pscreen

    preds = common.columns_list(predictors)
    df = common.read(data, encoding, sep, decimal)
    kw = dict(categorical=common.categorical_list(categorical, preds), reference=common.refs(reference),
              event=event, source=data.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method is SelectMethod.pscreen:
            res = select_pscreen(df, outcome, preds, alpha=alpha, **kw)
        else:
            res = backward_aic(df, outcome, preds, **kw)
    if as_json:
        common.dump(res.to_dict())
    else:
        out.print(common.table(res.steps, title=f"Selection steps ({method.value})"))
        out.print(f"selected: {', '.join(res.selected)}")
        out.print(common.table(res.fit.to_frame(), title="Final model", formats={"p": common.fmt_p}))
    for w in res.warnings:  # e.g. rows removed for missing values: never silently
        common.note(w)
    common.note("apparent performance of a selected model is optimistic: validate it with selection repeated "
          "inside the bootstrap (myorisk validate --select …)")


# ----------------------------------------------------------------------------- nomogram
def nomogram(
    data: DataArg,
    outcome: OutcomeOpt,
    predictors: PredictorsOpt,
    categorical: CategoricalOpt = None,
    reference: ReferenceOpt = None,
    event: EventOpt = None,
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """Fit a logistic model and show its nomogram (rms scaling: 0-100 points on the widest predictor)."""
    from myorisk.modeling.logistic import fit_logistic
    from myorisk.modeling.nomogram import nomogram_from_fit

    preds = common.columns_list(predictors)
    cats = common.categorical_list(categorical, preds)
    df = common.read(data, encoding, sep, decimal)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_logistic(df, outcome, preds, categorical=cats,
                           reference=common.refs(reference), event=event, source=data.name)
    nom = nomogram_from_fit(res)
    for w in res.warnings:  # e.g. rows removed for missing values: never silently
        common.note(w)
    if as_json:
        common.dump(nom.to_dict())
    else:
        out.print(f"Points per unit of linear predictor: {nom.scale:.4f}; intercept at 0 points: {nom.intercept:.4f}")
        for a in nom.axes:
            out.print(common.table(pd.DataFrame({"value": a.labels, "points": a.points}), title=a.variable))
        out.print(common.table(pd.DataFrame({"total points": nom.prob_positions, "probability": nom.prob_values}),
                         title="Total points → probability"))
