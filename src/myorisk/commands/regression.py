"""``myorisk fit``, ``univariate``, ``select`` and ``nomogram``: logistic models from a data file."""

from __future__ import annotations

import warnings
from enum import Enum
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer

from myorisk.commands import _common as common
from myorisk.commands import _impute
from myorisk.commands._common import (
    CategoricalOpt,
    CiMethod,
    DataArg,
    DecimalOpt,
    EncodingOpt,
    EventOpt,
    JsonOpt,
    OutcomeOpt,
    PlotOpt,
    PredictorsOpt,
    ReferenceOpt,
    SepOpt,
    out,
)
from myorisk.errors import InputError

PartWorkersOpt = Annotated[int | None, typer.Option(
    "--workers", min=1, help="Parquet data: read and sum the partitions on a local Dask cluster of N worker "
    "processes (default: threads in this process). Results are the same either way.")]
PerOpt = Annotated[
    list[str] | None,
    typer.Option("--per", help="Odds ratio of a continuous predictor per UNIT instead of per 1, as VAR=UNIT "
                               "(e.g. msuvmax=0.1; repeatable): OR^UNIT, CI limits likewise."),
]


def _units(per: list[str] | None, preds: list[str], cats: list[str]) -> dict[str, float]:
    """--per units, checked against the predictors before any work."""
    from myorisk.modeling.per_unit import parse_units
    from myorisk.modeling.terms import parse_terms

    units = parse_units(per)
    used: dict[str, str] = {}  # variable -> the spline or interaction it enters through
    for e in parse_terms(preds):
        if e.kind == "rcs":
            used.setdefault(e.name, f"rcs({e.name})")
        elif e.kind == "interaction":
            for v in e.variables:
                used.setdefault(v, e.name)
    for k in units:
        if k in used:
            raise InputError(f"--per {k}: '{k}' enters the model through '{used[k]}'; an odds ratio per unit "
                             "is defined only for a linear term without interactions (use `myorisk effects "
                             f"--or --at {k}=…` for odds ratios between chosen values)")
        if k not in preds:
            raise InputError(f"--per {k}: '{k}' is not one of the predictors ({', '.join(preds)})")
        if k in cats:
            raise InputError(f"--per {k}: '{k}' is categorical; odds ratios per unit apply to continuous predictors")
    return units


def _per_column(units: pd.Series) -> list[str]:
    """The unit of each row's odds ratio, as typed (blank where it does not apply: intercept, levels)."""
    return ["" if u is None or pd.isna(u) else common.fmt_value(float(u)) for u in units]


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
    penalty: Annotated[float, typer.Option("--penalty", help="Penalised maximum likelihood, rms lrm(penalty=P) with rms' default penalty matrix (see `myorisk pentrace`).")] = 0.0,
    shrink: Annotated[ShrinkMethod | None, typer.Option("--shrink", help="Shrink the slopes after fitting: heuristic ((LR χ² − df)/LR χ², van Houwelingen & le Cessie) or bootstrap (optimism-corrected calibration slope).")] = None,
    bootstrap: Annotated[int, typer.Option("--bootstrap", "-B", help="Resamples for --shrink bootstrap.")] = 200,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the resamples for --shrink bootstrap, and of the imputations with --impute.")] = None,
    impute: _impute.ImputeOpt = None,
    imputations: _impute.ImputationsOpt = None,
    imputation_column: _impute.ImputationColumnOpt = ".imp",
    auxiliary: _impute.AuxiliaryOpt = None,
    maxit: _impute.MaxitOpt = 10,
    per: PerOpt = None,
    workers: PartWorkersOpt = None,
    scheduler: common.SchedulerOpt = None,
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """Fit a logistic regression (maximum likelihood, Firth or penalised) and show ORs with CIs and model statistics.

    Predictors in R's notation: -x "age, rcs(msuvmax, 4), sex*msuvmax" (restricted cubic splines with
    Harrell's knots, interactions as rms names them). DATA may also be Parquet — a folder of .parquet
    files, a quoted glob 'dir/*.parquet' or one file — fitted partition by partition from summed
    statistics (numeric, true/false and categorical columns and their interactions; --workers/--scheduler run the
    partitions on Dask; docs/scale-out.md).
    """
    from myorisk.commands import partitioned

    if partitioned.is_parquet(data):
        partitioned.fit_parquet(data, outcome, predictors, level=level, workers=workers, scheduler=scheduler,
                                as_json=as_json, categorical=categorical, reference=reference, save=save,
                                name=name, unsupported={
                                    "--firth": firth, "--ci profile": ci.value != "wald",
                                    "--event": event is not None,
                                    "--penalty": bool(penalty), "--shrink": shrink is not None,
                                    "--impute/--imputations": impute is not None or imputations is not None,
                                    "--per": per is not None,
                                    "--encoding/--sep/--decimal": any(v is not None for v in (encoding, sep, decimal))})
        return
    if workers is not None or scheduler is not None:
        raise InputError("--workers/--scheduler apply to Parquet data (a partitioned fit); a CSV or Excel file "
                         "is fitted in this process")
    from myorisk.modeling.logistic import fit_logistic
    from myorisk.modeling.per_unit import odds_ratios_per

    preds = common.columns_list(predictors)
    cats = common.categorical_list(categorical, preds)
    units = _units(per, preds, cats)
    common.guard_output(save, "--save", data)
    if shrink is not None and firth:
        raise InputError("--shrink applies to maximum-likelihood fits; drop --firth")
    _impute.check(impute, imputations, auxiliary)
    if impute is not None or imputations is not None:
        if shrink is not None or penalty or per is not None:
            raise InputError("--shrink, --penalty and --per are not available with --impute/--imputations (pooled ML fits)")
        from myorisk.commands._impute_fit import fit_pooled

        fit_pooled(data, outcome, preds, firth=firth, level=level, cats=cats, reference=common.refs(reference),
                   event=event, impute=impute, seed=seed, imputations=imputations, column=imputation_column,
                   auxiliary=auxiliary, maxit=maxit, save=save, name=name, as_json=as_json,
                   read=(encoding, sep, decimal))
        return
    df = common.read(data, encoding, sep, decimal)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_logistic(
            df, outcome, preds, firth=firth, ci=ci.value, level=level,
            categorical=cats, reference=common.refs(reference), event=event, source=data.name,
            penalty=penalty,
        )
        if shrink is not None:
            res = _shrunk(res, df, outcome, preds, cats, reference, event, data.name, shrink, bootstrap, seed)
    if save is not None:
        from myorisk.modeling.spec import ModelSpec
        from myorisk.published.files import save_spec

        spec = ModelSpec.from_fit(res, df, name=name or save.stem)
        save_spec(spec, save)
    fr = odds_ratios_per(res.to_frame(), units) if units else res.to_frame()
    if as_json:
        d = res.to_dict()
        if units:
            d["terms"] = fr.to_dict(orient="records")
            d["per"] = units
        common.dump(d)
    else:
        if units:  # coef and se stay per 1 unit; the OR columns are per the unit shown
            fr = fr.assign(**{"OR per": _per_column(fr["per"])}).drop(columns="per")
            fr.loc[fr["term"] == "Intercept", "OR per"] = ""
        kind = "Firth" if firth else (f"penalised, penalty {penalty:g}" if penalty else "maximum likelihood")
        out.print(common.table(fr, title=f"Logistic regression ({kind}), "
                                f"outcome {outcome} = {res.event}; {int(level * 100)}% {ci.value} CI",
                         formats={"p": common.fmt_p}))
        pen = (f" (penalised {res.loglik_penalized:.4f}, which Firth's method maximises; the LR test uses it)"
               if res.loglik_penalized is not None else "")
        out.print(
            f"n = {res.n}, events = {res.events}; log-likelihood {res.loglik:.4f}{pen}, AIC {res.aic:.3f}; "
            f"LR χ² {res.lr_chi2:.3f} on {common.fmt(res.lr_df, 2) if res.effective_df is not None else res.lr_df}"
            f"{' effective' if res.effective_df is not None else ''} d.f., p {common.fmt_p(res.lr_p)}; "
            f"Nagelkerke R² {res.r2_nagelkerke:.4f}; C {res.c:.4f}, Dxy {res.dxy:.4f}; Brier {res.brier:.4f}"
        )
        if save is not None:
            out.print(f"model spec written to {save}")
    for w in res.warnings:
        common.note(w)


class ShrinkMethod(str, Enum):
    heuristic = "heuristic"
    bootstrap = "bootstrap"


def _shrunk(res, df, outcome, preds, cats, reference, event, source, method, B, seed):  # noqa: ANN001, ANN202
    """``res`` with its slopes shrunk (heuristic factor, or the bootstrap-corrected calibration slope)."""
    from myorisk.modeling.penalty import heuristic_shrinkage, shrink

    if method is ShrinkMethod.heuristic:
        return shrink(res, heuristic_shrinkage(res), "heuristic")
    from myorisk.modeling.design import build_design
    from myorisk.modeling.validation import validate

    if B < 50:
        raise InputError("--shrink bootstrap: use at least 50 resamples (-B), 200 or more for a stable factor")
    if res.penalty:
        raise InputError("--shrink bootstrap validates an unpenalised fit; use --penalty or --shrink, not both")
    design = build_design(df, outcome, preds, categorical=cats, reference=common.refs(reference),
                          event=event, source=source)
    if seed is None:  # drawn, and reported so that the run can be repeated
        seed = int(np.random.SeedSequence().entropy % 2**31)
    val = validate(design, B=B, seed=seed)
    factor = float(val.corrected["Slope"])
    out_res = shrink(res, factor, "bootstrap")
    common.note(f"bootstrap shrinkage: corrected calibration slope {factor:.3f} from {B} resamples (seed {seed})")
    return out_res


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
    per: PerOpt = None,
    impute: _impute.ImputeOpt = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Seed of the imputations (with --impute).")] = None,
    imputations: _impute.ImputationsOpt = None,
    imputation_column: _impute.ImputationColumnOpt = ".imp",
    auxiliary: _impute.AuxiliaryOpt = None,
    maxit: _impute.MaxitOpt = 10,
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """Each candidate predictor alone: OR, CI and p (Table 2 of a prediction study)."""
    if impute is not None or imputations is not None:
        from myorisk.commands._impute_fit import univariate_pooled

        _impute.check(impute, imputations, auxiliary)
        if per is not None:
            raise InputError("--per is not available with --impute/--imputations")
        if ci.value != "wald" or firth:
            raise InputError("with --impute/--imputations the intervals are Rubin's (t on Barnard–Rubin df); "
                             "drop --ci profile and --firth")
        univariate_pooled(data, outcome, common.columns_list(predictors), level=level,
                          cats=common.categorical_list(categorical, common.columns_list(predictors)),
                          reference=common.refs(reference), event=event, impute=impute, seed=seed,
                          imputations=imputations, column=imputation_column, auxiliary=auxiliary, maxit=maxit,
                          as_json=as_json, read=(encoding, sep, decimal))
        return
    from myorisk.modeling.per_unit import odds_ratios_per
    from myorisk.modeling.selection import univariate as run

    preds = common.columns_list(predictors)
    cats = common.categorical_list(categorical, preds)
    units = _units(per, preds, cats)
    df = common.read(data, encoding, sep, decimal)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run(df, outcome, preds, ci=ci.value, level=level, firth=firth,
                  categorical=cats, reference=common.refs(reference), event=event, source=data.name)
    rows = res.rows
    if units:
        rows = odds_ratios_per(rows, units)
    if as_json:
        d = res.to_dict()
        if units:
            from myorisk._json import clean

            d["rows"] = clean(rows.to_dict(orient="records"))
            d["per"] = units
        common.dump(d)
    else:
        cols = ["variable", "term", "n", "events", "or", "or_low", "or_high", "p"]
        if units:
            rows = rows.assign(**{"OR per": _per_column(rows["per"])})
            cols.insert(cols.index("or_high") + 1, "OR per")
        out.print(common.table(rows[cols], title=f"Univariate logistic regression, outcome {outcome} = {res.event} "
                                               f"({int(level * 100)}% {ci.value} CI)", formats={"p": common.fmt_p}))
    for w in res.warnings:
        common.note(w)


class SelectMethod(str, Enum):
    pscreen = "pscreen"
    aic = "aic"
    lasso = "lasso"


class LassoRule(str, Enum):
    min = "min"
    one_se = "1se"


def _select_lasso(data, outcome, preds, categorical, reference, event, alpha, lam, folds, seed, foldid,
                  rule, as_json, read_options=(None, None, None)) -> None:  # noqa: ANN001
    """``select --method lasso``: glmnet's path, λ from --lambda or cross-validation."""
    from myorisk.modeling.design import build_design
    from myorisk.modeling.lasso import lasso_cv, lasso_path

    df = common.read(data, *read_options)
    if foldid is not None and foldid not in df.columns:
        raise InputError(f"{data.name}: --foldid column '{foldid}' not found")
    design = build_design(df, outcome, preds, categorical=common.categorical_list(categorical, preds),
                          reference=common.refs(reference), event=event, source=data.name)
    msg = design.missing.message()
    if msg:
        common.note(msg)
    X, y, cols = design.X[:, 1:], design.y, design.columns[1:]
    result: dict = {"method": "lasso", "alpha": alpha, "n": int(y.size), "events": int(y.sum())}
    if lam is not None:
        coefs = lasso_path(X, y, cols, alpha=alpha, lambdas=[lam]).at(lam)
        result.update({"lambda": lam, "lambda_source": "given"})
    else:
        if foldid is not None:
            fid = df.loc[design.rows, foldid]
            if fid.isna().any():
                raise InputError(f"{data.name}: --foldid column '{foldid}' has missing values in rows used")
            cv = lasso_cv(X, y, cols, alpha=alpha, foldid=fid.to_numpy())
        else:
            if seed is None:
                seed = int(np.random.SeedSequence().entropy % 2**31)
                common.note(f"folds drawn with seed {seed} (give --seed {seed} to repeat)")
            cv = lasso_cv(X, y, cols, alpha=alpha, folds=folds, seed=seed)
        which = "lambda.min" if rule is LassoRule.min else "lambda.1se"
        lam = cv.lambda_min if rule is LassoRule.min else cv.lambda_1se
        coefs = cv.coefficients(which)
        result.update({"lambda": lam, "lambda_source": which, "lambda_min": cv.lambda_min,
                       "lambda_1se": cv.lambda_1se, "folds": cv.folds, "seed": seed,
                       "cv": cv.to_frame().to_dict(orient="records")})
    selected = [t.name for t, sl in zip(design.terms, design.term_slices(), strict=True)
                if any(coefs[design.columns[j]] != 0 for j in range(sl.start, sl.stop))]
    result.update({"selected": selected, "coefficients": coefs})
    if as_json:
        common.dump(result)
        return
    fr = pd.DataFrame({"term": list(coefs), "coefficient": list(coefs.values())})
    out.print(common.table(fr, title=f"{'LASSO' if alpha == 1 else f'Elastic net (alpha {alpha:g})'}, "
                                     f"λ = {lam:.4g} ({result['lambda_source']}); original scale"))
    out.print(f"selected: {', '.join(selected) if selected else '(none)'}")
    common.note("LASSO coefficients are shrunk towards 0 by design; validate the whole procedure, not the "
                "final model alone")


def select(
    data: DataArg,
    outcome: OutcomeOpt,
    predictors: PredictorsOpt,
    method: Annotated[SelectMethod, typer.Option("--method", help="pscreen: univariate p < alpha then keep p < alpha; aic: backward stepwise AIC; lasso: glmnet LASSO / elastic net.")] = SelectMethod.pscreen,
    alpha: Annotated[float | None, typer.Option("--alpha", help="pscreen: significance level (default 0.05); lasso: elastic-net mixing, 1 = LASSO, 0 = ridge (default 1).")] = None,
    lambda_: Annotated[float | None, typer.Option("--lambda", help="lasso: this penalty λ instead of cross-validation.")] = None,
    folds: Annotated[int, typer.Option("--folds", help="lasso: folds of the cross-validation.")] = 10,
    seed: Annotated[int | None, typer.Option("--seed", help="lasso: seed of the random folds; with --impute: seed of the imputations.")] = None,
    foldid: Annotated[str | None, typer.Option("--foldid", help="lasso: column holding each row's fold (as cv.glmnet's foldid), instead of random folds.")] = None,
    rule: Annotated[LassoRule, typer.Option("--rule", help="lasso: λ.min (smallest CV deviance) or λ.1se (largest λ within one SE).")] = None,
    categorical: CategoricalOpt = None,
    reference: ReferenceOpt = None,
    event: EventOpt = None,
    impute: _impute.ImputeOpt = None,
    imputations: _impute.ImputationsOpt = None,
    imputation_column: _impute.ImputationColumnOpt = ".imp",
    auxiliary: _impute.AuxiliaryOpt = None,
    maxit: _impute.MaxitOpt = 10,
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """Select predictors (study A's p-value screen, backward AIC, or LASSO) and show the final model."""
    if impute is not None or imputations is not None:
        from myorisk.commands._impute_fit import select_pooled

        _impute.check(impute, imputations, auxiliary)
        if method is not SelectMethod.pscreen:
            raise InputError("with --impute/--imputations only --method pscreen is available (selection on "
                             f"pooled Wald tests, Wood et al. 2008); {method.value} has no agreed pooled form "
                             "(`validate --impute M --select pscreen|aic` repeats a selection within each imputation)")
        select_pooled(data, outcome, common.columns_list(predictors), alpha=0.05 if alpha is None else alpha,
                      cats=common.categorical_list(categorical, common.columns_list(predictors)),
                      reference=common.refs(reference), event=event, impute=impute, seed=seed,
                      imputations=imputations, column=imputation_column, auxiliary=auxiliary, maxit=maxit,
                      as_json=as_json, read=(encoding, sep, decimal))
        return
    from myorisk.modeling.selection import backward_aic, select_pscreen

    preds = common.columns_list(predictors)
    if method is SelectMethod.lasso:
        _select_lasso(data, outcome, preds, categorical, reference, event, 1.0 if alpha is None else alpha,
                      lambda_, folds, seed, foldid, rule or LassoRule.min, as_json, (encoding, sep, decimal))
        return
    for opt, val in (("--lambda", lambda_), ("--seed", seed), ("--foldid", foldid), ("--rule", rule)):
        if val is not None:
            raise InputError(f"{opt} applies to --method lasso")
    alpha = 0.05 if alpha is None else alpha
    if not 0.0 < alpha < 1.0:
        raise InputError(f"--alpha: the significance level must be between 0 and 1, not {alpha}")
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
    plot: PlotOpt = None,
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """Fit a logistic model and show its nomogram (rms scaling: 0-100 points on the widest predictor)."""
    from myorisk.modeling.logistic import fit_logistic
    from myorisk.modeling.nomogram import nomogram_from_fit

    preds = common.columns_list(predictors)
    cats = common.categorical_list(categorical, preds)
    common.check_plot(plot, data)
    df = common.read(data, encoding, sep, decimal)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_logistic(df, outcome, preds, categorical=cats,
                           reference=common.refs(reference), event=event, source=data.name)
    nom = nomogram_from_fit(res)
    for w in res.warnings:  # e.g. rows removed for missing values: never silently
        common.note(w)
    if plot is not None:
        from myorisk.report import figures as F

        common.save_plot(F.nomogram_plot(nom, title=f"Nomogram: {outcome} = {res.event}",
                                         outcome_label="Predicted probability", watermark=common.watermark(df)),
                         plot, quiet=as_json)
    if as_json:
        common.dump(nom.to_dict())
    else:
        out.print(f"Points per unit of linear predictor: {nom.scale:.4f}; intercept at 0 points: {nom.intercept:.4f}")
        for a in nom.axes:
            out.print(common.table(pd.DataFrame({"value": a.display_labels, "points": a.points}), title=a.name))
        out.print(common.table(pd.DataFrame({"total points": nom.prob_positions, "probability": nom.prob_values}),
                         title="Total points → probability"))


# ----------------------------------------------------------------------------- anova
def anova(
    data: DataArg,
    outcome: OutcomeOpt,
    predictors: PredictorsOpt,
    firth: Annotated[bool, typer.Option("--firth", help="Firth's penalised likelihood (brglm2 AS_mean / logistf).")] = False,
    categorical: CategoricalOpt = None,
    reference: ReferenceOpt = None,
    event: EventOpt = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Dot chart of χ² − d.f. per factor (PNG, SVG or PDF by extension).")] = None,
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """Wald χ² per factor with its nonlinear and interaction parts, and totals (rms anova).

    Terms in R's notation: -x "age, rcs(msuvmax, 4), sex*msuvmax".
    """
    from myorisk.modeling.anova import anova as run
    from myorisk.modeling.logistic import fit_logistic

    preds = common.columns_list(predictors)
    cats = common.categorical_list(categorical, preds)
    common.check_plot(plot, data)
    df = common.read(data, encoding, sep, decimal)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_logistic(df, outcome, preds, firth=firth, categorical=cats,
                           reference=common.refs(reference), event=event, source=data.name)
    res = run(fit)
    for w in fit.warnings:
        common.note(w)
    if plot is not None:  # atomic, in the format of the extension (as every --plot)
        from myorisk.report.figures import anova_chart

        common.save_plot(anova_chart(res, watermark=common.watermark(df)), plot, quiet=True)
    if as_json:
        common.dump(res.to_dict())
        return
    fr = res.to_frame()
    fr["factor"] = [r.label for r in res.rows]  # rms' layout: sub-rows indented under their factor
    out.print(common.table(fr[["factor", "chi2", "df", "p"]].rename(columns={"chi2": "χ²", "df": "d.f."}),
                           title=f"Wald statistics (rms anova), outcome {outcome} = {fit.event}",
                           formats={"p": common.fmt_p}))
    if plot is not None:
        out.print(f"figure written to {plot}")


# ----------------------------------------------------------------------------- pentrace
def pentrace(
    data: DataArg,
    outcome: OutcomeOpt,
    predictors: PredictorsOpt,
    penalties: Annotated[str, typer.Option("--penalties", help="Penalties to try, comma-separated (0 is always added).")] = "0,0.5,1,2,4,8,16,32",
    categorical: CategoricalOpt = None,
    reference: ReferenceOpt = None,
    event: EventOpt = None,
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """Choose the penalty of a penalised fit: the largest corrected AIC over a grid (rms pentrace)."""
    from myorisk.modeling.design import build_design
    from myorisk.modeling.penalty import pentrace as run

    preds = common.columns_list(predictors)
    cats = common.categorical_list(categorical, preds)
    try:
        grid = [float(v) for v in common.split(penalties)]
    except ValueError:
        raise InputError(f"--penalties: '{penalties}' is not a comma-separated list of numbers") from None
    df = common.read(data, encoding, sep, decimal)
    design = build_design(df, outcome, preds, categorical=cats, reference=common.refs(reference),
                          event=event, source=data.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run(design, grid)
    msg = design.missing.message()
    if msg:
        common.note(msg)
    if as_json:
        common.dump(res.to_dict())
        return
    fr = res.to_frame().rename(columns={"df": "effective d.f.", "aic": "AIC (χ² scale)",
                                        "bic": "BIC (χ² scale)", "aic_c": "corrected AIC"})
    out.print(common.table(fr, title=f"Penalty trace (rms pentrace), outcome {outcome}; n = {res.n}",
                           formats={"penalty": lambda v: f"{v:g}"}))
    out.print(f"best penalty (largest corrected AIC): {res.best:g}; refit with "
              f"`myorisk fit … --penalty {res.best:g}`")


# ----------------------------------------------------------------------------- effects
def effects(
    data: DataArg,
    outcome: OutcomeOpt,
    predictors: PredictorsOpt,
    at: Annotated[list[str] | None, typer.Option("--at", help="Values of one predictor, VAR=v1,v2,… (repeatable).")] = None,
    variables: Annotated[str | None, typer.Option("--variables", help="Predictors to show (default: all).")] = None,
    odds_ratio: Annotated[bool, typer.Option("--or", help="Odds ratios against the adjust-to value instead of log odds (table and figure).")] = False,
    penalty: Annotated[float, typer.Option("--penalty", help="Penalised fit, as `fit --penalty`.")] = 0.0,
    categorical: CategoricalOpt = None,
    reference: ReferenceOpt = None,
    event: EventOpt = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Figure of every partial effect (PNG, SVG or PDF by extension).")] = None,
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """Partial effect of each predictor with pointwise 95% CIs, others at their adjust-to values (rms Predict)."""
    from myorisk.modeling.effects import effects as run
    from myorisk.modeling.logistic import fit_logistic

    preds = common.columns_list(predictors)
    cats = common.categorical_list(categorical, preds)
    common.check_plot(plot, data)
    grid: dict[str, list] = {}
    for item in at or []:
        var, eq, vals = item.partition("=")
        if not eq or not vals.strip():
            raise InputError(f"--at '{item}': write VAR=v1,v2,…")
        grid[var.strip()] = [_value(v) for v in common.split(vals)]
    df = common.read(data, encoding, sep, decimal)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_logistic(df, outcome, preds, categorical=cats, reference=common.refs(reference),
                           event=event, source=data.name, penalty=penalty)
    res = run(fit, df, variables=common.split(variables) or None, at=grid)
    for w in fit.warnings:
        common.note(w)
    if plot is not None:
        from myorisk.report.figures import effects_plot

        common.save_plot(effects_plot(res, odds_ratio=odds_ratio, watermark=common.watermark(df)), plot,
                         quiet=True)
    if as_json:
        common.dump(res.to_dict())
        return
    for e in res.effects:
        show = list(range(len(e.x))) if len(e.x) <= 12 else sorted(set(np.linspace(0, len(e.x) - 1, 9).round().astype(int)))
        if odds_ratio:
            cols = {"value": [e.x[i] for i in show], "OR": e.odds_ratio[show],
                    "lower": e.or_lower[show], "upper": e.or_upper[show]}
        else:
            cols = {"value": [e.x[i] for i in show], "log odds": e.linear_predictor[show],
                    "lower": e.lower[show], "upper": e.upper[show]}
        ref = f"{e.reference:g}" if isinstance(e.reference, float) else e.reference
        title = f"{e.variable} (others at their adjust-to values; 95% CI" + (
            f"; OR against {e.variable} = {ref})" if odds_ratio else ")")
        value_fmt = (common.column_formatter(cols["value"]) if e.kind == "numeric"  # one format per column
                     else str)
        out.print(common.table(pd.DataFrame(cols), title=title, formats={"value": value_fmt}))
    if plot is not None:
        out.print(f"figure written to {plot}")


def _value(text: str) -> object:
    try:
        return float(text)
    except ValueError:
        return text
