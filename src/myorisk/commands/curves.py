"""``myorisk roc`` and ``dca``: ROC curves with DeLong tests, decision curves."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from myorisk.commands import _common as common
from myorisk.commands._common import (
    DataArg,
    DecimalOpt,
    EncodingOpt,
    EventOpt,
    JsonOpt,
    OutcomeOpt,
    SepOpt,
    out,
)
from myorisk.errors import InputError, did_you_mean


# ----------------------------------------------------------------------------- roc
def roc(
    data: DataArg,
    outcome: OutcomeOpt,
    score: Annotated[list[str], typer.Option("--score", "-s", help="Score or probability column (give two for a DeLong test).")],
    direction: Annotated[str, typer.Option("--direction", help="auto, '<' (cases higher) or '>' (cases lower).")] = "auto",
    level: Annotated[float, typer.Option("--level", help="Confidence level of the DeLong CIs.")] = 0.95,
    versus: Annotated[Path | None, typer.Option("--versus", help="Second data file (e.g. an external cohort): unpaired DeLong test of the same score there.")] = None,
    event: EventOpt = None,
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """ROC curve, AUC with DeLong CI, Youden-optimal threshold; with two scores, the paired DeLong test;
    with --versus, the unpaired DeLong test between two cohorts."""
    from myorisk.modeling.roc import best_threshold, delong_test, delong_test_unpaired, roc_curve

    if len(score) > 2:
        raise InputError("give one or two --score columns")
    if len(set(score)) < len(score):
        raise InputError(f"--score '{score[0]}' is given twice; give two different columns for a DeLong test")
    if versus is not None and len(score) != 1:
        raise InputError("--versus compares one --score between two files")
    df = common.read(data, encoding, sep, decimal)
    if outcome not in df.columns:
        raise InputError(f"{data.name}: column '{outcome}' not found" + did_you_mean(outcome, list(df.columns)))
    sub = common.complete(df, [*score], data.name).join(df[[outcome]], how="inner")
    sub = common.drop_missing_outcome(sub, outcome, data.name)
    y, ev = common.outcome01(sub, outcome, event, data.name)
    curves = []
    res_list = []
    for s in score:
        r = roc_curve(y, sub[s].to_numpy(float), direction=direction, level=level)
        b = best_threshold(r)
        res_list.append(r)
        curves.append({"score": s, "auc": r.auc, "ci_low": r.ci_low, "ci_high": r.ci_high, "se": r.se,
                       "direction": r.direction, "n_cases": r.n_cases, "n_controls": r.n_controls,
                       "best": {"threshold": b.threshold, "sensitivity": b.sensitivity,
                                "specificity": b.specificity, "ppv": b.ppv, "npv": b.npv, "youden": b.youden},
                       # every tied optimum, as pROC's coords(x = "best") returns them
                       "best_all": [{k: row[k] for k in ("threshold", "sensitivity", "specificity", "ppv", "npv")}
                                    for row in b.rows]})
    result: dict[str, Any] = {"outcome": outcome, "event": ev, "level": level, "curves": curves}
    if len(score) == 2:
        t = delong_test(y, sub[score[0]].to_numpy(float), sub[score[1]].to_numpy(float), level=level,
                        direction1=res_list[0].direction, direction2=res_list[1].direction)
        result["delong"] = {"z": t.z, "p": t.p, "diff": t.diff, "ci_low": t.ci_low, "ci_high": t.ci_high}
        if res_list[0].direction != res_list[1].direction:  # pROC warns the same
            common.note(f"'{score[0]}' and '{score[1]}' have opposite directions ({res_list[0].direction} and "
                        f"{res_list[1].direction}): DeLong's test should not be applied to ROC curves "
                        "with different directions; fix one with --direction")
    if versus is not None:
        df2 = common.read(versus, encoding, sep, decimal)
        if outcome not in df2.columns:
            raise InputError(f"{versus.name}: column '{outcome}' not found" + did_you_mean(outcome, list(df2.columns)))
        sub2 = common.complete(df2, [score[0]], versus.name).join(df2[[outcome]], how="inner")
        sub2 = common.drop_missing_outcome(sub2, outcome, versus.name)
        y2, _ = common.outcome01(sub2, outcome, event, versus.name)
        r2 = roc_curve(y2, sub2[score[0]].to_numpy(float), direction=res_list[0].direction, level=level)
        curves.append({"score": f"{score[0]} ({versus.name})", "auc": r2.auc, "ci_low": r2.ci_low,
                       "ci_high": r2.ci_high, "se": r2.se, "direction": r2.direction,
                       "n_cases": r2.n_cases, "n_controls": r2.n_controls})
        t2 = delong_test_unpaired(y, sub[score[0]].to_numpy(float), y2, sub2[score[0]].to_numpy(float),
                                  direction1=res_list[0].direction, direction2=res_list[0].direction)
        result["delong_unpaired"] = {"statistic": t2.statistic, "df": t2.df, "p": t2.p, "diff": t2.diff}
    if as_json:
        common.dump(result)
        return
    fr = pd.DataFrame([{k: c[k] for k in ("score", "auc", "ci_low", "ci_high", "direction", "n_cases", "n_controls")}
                       for c in curves])
    out.print(common.table(fr, title=f"ROC, outcome {outcome} = {ev} (DeLong {int(level * 100)}% CI)"))
    for c in curves:
        if "best" not in c:
            continue
        b = c["best"]
        out.print(f"{c['score']}: Youden-optimal threshold {common.fmt(b['threshold'])} — sensitivity "
                  f"{common.fmt(b['sensitivity'])}, specificity {common.fmt(b['specificity'])}, PPV {common.fmt(b['ppv'])}, NPV {common.fmt(b['npv'])}")
        for t in c["best_all"][1:]:
            out.print(f"  tied optimum: threshold {common.fmt(t['threshold'])} — sensitivity {common.fmt(t['sensitivity'])}, "
                      f"specificity {common.fmt(t['specificity'])}, PPV {common.fmt(t['ppv'])}, NPV {common.fmt(t['npv'])}")
    if "delong_unpaired" in result:
        d = result["delong_unpaired"]
        out.print(f"DeLong unpaired test {data.name} vs {versus.name}: difference {common.fmt(d['diff'])}, "
                  f"D = {common.fmt(d['statistic'])} on {common.fmt(d['df'], 1)} df, p = {common.fmt_p(d['p'])}")
    if "delong" in result:
        d = result["delong"]
        out.print(f"DeLong paired test {score[0]} vs {score[1]}: difference {common.fmt(d['diff'])} "
                  f"({common.fmt(d['ci_low'])} to {common.fmt(d['ci_high'])}), z = {common.fmt(d['z'])}, p = {common.fmt_p(d['p'])}")


# ----------------------------------------------------------------------------- dca
def dca(
    data: DataArg,
    outcome: OutcomeOpt,
    score: Annotated[list[str], typer.Option("--score", "-s", help="Predicted-risk column (repeatable); values in [0, 1].")],
    thresholds: Annotated[str, typer.Option("--thresholds", help="Threshold grid FROM:TO:STEP.")] = "0:0.99:0.01",
    harm: Annotated[float, typer.Option("--harm", help="Harm of the test, subtracted from each model's net benefit.")] = 0.0,
    prevalence: Annotated[float | None, typer.Option("--prevalence", help="Outcome prevalence for case-control data.")] = None,
    event: EventOpt = None,
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """Decision curve analysis: net benefit of each model, treat all and treat none (dcurves rules)."""
    from myorisk.modeling.decision import decision_curve, parse_threshold_grid

    if len(set(score)) < len(score):
        dup = next(s for s in score if score.count(s) > 1)
        raise InputError(f"--score '{dup}' is given twice")
    common.check_grid_size(thresholds)
    grid = parse_threshold_grid(thresholds)
    df = common.read(data, encoding, sep, decimal)
    if outcome not in df.columns:
        raise InputError(f"{data.name}: column '{outcome}' not found" + did_you_mean(outcome, list(df.columns)))
    sub = common.complete(df, [*score], data.name).join(df[[outcome]], how="inner")
    sub = common.drop_missing_outcome(sub, outcome, data.name)
    y, _ = common.outcome01(sub, outcome, event, data.name)
    for s in score:
        bad = (sub[s] < 0) | (sub[s] > 1)
        if bad.any():
            rows = ", ".join(str(r) for r in sub.index[bad.to_numpy()][:5])
            raise InputError(
                f"{data.name}: column '{s}' holds values outside [0, 1] (rows {rows}"
                f"{' …' if bad.sum() > 5 else ''}); decision curves need predicted risks, not scores"
            )
    res = decision_curve(y, {s: sub[s].to_numpy(float) for s in score}, grid, harm=harm, prevalence=prevalence)
    if as_json:
        common.dump(res.to_dict())
        return
    fr = res.to_frame()
    wide = fr.pivot(index="threshold", columns="model", values="net_benefit").reset_index()
    out.print(common.table(wide[["threshold", *score, "treat_all", "treat_none"]], title="Net benefit"))
