"""``myorisk roc`` and ``dca``: ROC curves with DeLong tests, decision curves."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
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
    PlotOpt,
    SepOpt,
    out,
)
from myorisk.errors import InputError, did_you_mean


# ----------------------------------------------------------------------------- roc
def _tidy(v: float | None) -> float | None:
    """A threshold without binary floating-point noise: (0.81 + 0.83)/2 is 0.82, not 0.8200000000000001."""
    if v is None or not np.isfinite(v):
        return v
    return float(f"{float(v):.15g}")


def roc(
    data: DataArg,
    outcome: OutcomeOpt,
    score: Annotated[list[str], typer.Option("--score", "-s", help="Score or probability column (repeatable: curves are overlaid and every pair gets a paired DeLong test).")],
    direction: Annotated[str, typer.Option("--direction", help="auto, '<' (cases higher) or '>' (cases lower).")] = "auto",
    level: Annotated[float, typer.Option("--level", help="Confidence level of the DeLong CIs.")] = 0.95,
    versus: Annotated[Path | None, typer.Option("--versus", help="Second data file (e.g. an external cohort): unpaired DeLong test of the same score there.")] = None,
    event: EventOpt = None,
    plot: PlotOpt = None,
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """ROC curves, AUC with DeLong CI, Youden-optimal threshold; with several scores, paired DeLong
    tests of every pair (raw and Holm-adjusted p); with --versus, the unpaired DeLong test between two cohorts."""
    from myorisk.modeling.multiplicity import holm_adjust
    from myorisk.modeling.roc import best_threshold, delong_test, delong_test_unpaired, roc_curve

    if len(set(score)) < len(score):
        dup = next(s for s in score if score.count(s) > 1)
        raise InputError(f"--score '{dup}' is given twice; give different columns to compare")
    if versus is not None and len(score) != 1:
        raise InputError("--versus compares one --score between two files")
    common.check_plot(plot, data, versus)
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
                       "best": {"threshold": _tidy(b.threshold), "sensitivity": b.sensitivity,
                                "specificity": b.specificity, "ppv": b.ppv, "npv": b.npv, "youden": b.youden},
                       # every tied optimum, as pROC's coords(x = "best") returns them
                       "best_all": [{k: (_tidy(row[k]) if k == "threshold" else row[k])
                                     for k in ("threshold", "sensitivity", "specificity", "ppv", "npv")}
                                    for row in b.rows]})
    result: dict[str, Any] = {"outcome": outcome, "event": ev, "level": level, "curves": curves}
    if len(score) >= 2:
        pairs = []
        for i in range(len(score)):
            for j in range(i + 1, len(score)):
                t = delong_test(y, sub[score[i]].to_numpy(float), sub[score[j]].to_numpy(float), level=level,
                                direction1=res_list[i].direction, direction2=res_list[j].direction)
                pairs.append({"score1": score[i], "score2": score[j], "z": t.z, "p": t.p, "diff": t.diff,
                              "ci_low": t.ci_low, "ci_high": t.ci_high})
                if res_list[i].direction != res_list[j].direction:  # pROC warns the same
                    common.note(f"'{score[i]}' and '{score[j]}' have opposite directions ({res_list[i].direction} "
                                f"and {res_list[j].direction}): DeLong's test should not be applied to ROC curves "
                                "with different directions; fix one with --direction")
        for pr, ph in zip(pairs, holm_adjust([pr["p"] for pr in pairs]), strict=True):
            pr["p_holm"] = float(ph) if np.isfinite(ph) else None
        if len(score) == 2:  # the two-score key, as before
            result["delong"] = {k: pairs[0][k] for k in ("z", "p", "diff", "ci_low", "ci_high")}
        result["delong_pairs"] = pairs
        result["multiplicity"] = (
            f"{len(pairs)} pairwise comparisons: p_holm is Holm's step-down adjustment (R p.adjust "
            "'holm'), which keeps the family-wise error rate at the nominal level; the raw p overstates "
            "significance when several pairs are tested" if len(pairs) > 1 else
            "one comparison: no multiplicity adjustment needed (p_holm = p)")
    plot_curves = [(s, r) for s, r in zip(score, res_list, strict=True)]
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
        plot_curves = [(f"{score[0]} ({data.name})", res_list[0]), (f"{score[0]} ({versus.name})", r2)]
        t2 = delong_test_unpaired(y, sub[score[0]].to_numpy(float), y2, sub2[score[0]].to_numpy(float),
                                  direction1=res_list[0].direction, direction2=res_list[0].direction)
        result["delong_unpaired"] = {"statistic": t2.statistic, "df": t2.df, "p": t2.p, "diff": t2.diff}
    if plot is not None:
        from myorisk.report import figures as F

        common.save_plot(F.roc_plot(plot_curves, title=f"ROC curves: {outcome} = {ev}", watermark=common.watermark(df)),
                         plot, quiet=as_json)
    if as_json:
        common.dump(result)
        return
    fr = pd.DataFrame([{k: c[k] for k in ("score", "auc", "ci_low", "ci_high", "direction", "n_cases", "n_controls")}
                       for c in curves]).rename(columns={"auc": "AUC", "ci_low": "CI low", "ci_high": "CI high",
                                                         "n_cases": "cases", "n_controls": "controls"})
    out.print(common.table(fr, title=f"ROC, outcome {outcome} = {ev} (DeLong {common.pct(level)} CI)"))
    for c in curves:
        if "best" not in c:
            continue
        b = c["best"]
        out.print(f"{c['score']}: Youden-optimal threshold {common.fmt_value(b['threshold'])} — sensitivity "
                  f"{common.fmt(b['sensitivity'])}, specificity {common.fmt(b['specificity'])}, PPV {common.fmt(b['ppv'])}, NPV {common.fmt(b['npv'])}")
        for t in c["best_all"][1:]:
            out.print(f"  tied optimum: threshold {common.fmt_value(t['threshold'])} — sensitivity {common.fmt(t['sensitivity'])}, "
                      f"specificity {common.fmt(t['specificity'])}, PPV {common.fmt(t['ppv'])}, NPV {common.fmt(t['npv'])}")
    if "delong_unpaired" in result:
        d = result["delong_unpaired"]
        out.print(f"DeLong unpaired test {data.name} vs {versus.name}: difference {common.fmt(d['diff'])}, "
                  f"D = {common.fmt(d['statistic'])} on {common.fmt(d['df'], 1)} df, p = {common.fmt_p(d['p'])}")
    if "delong" in result:
        d = result["delong"]
        out.print(f"DeLong paired test {score[0]} vs {score[1]}: difference {common.fmt(d['diff'])} "
                  f"({common.fmt(d['ci_low'])} to {common.fmt(d['ci_high'])}), z = {common.fmt(d['z'])}, p = {common.fmt_p(d['p'])}")
    elif "delong_pairs" in result:
        pf = pd.DataFrame([{"score 1": pr["score1"], "score 2": pr["score2"], "AUC difference": pr["diff"],
                            "CI low": pr["ci_low"], "CI high": pr["ci_high"], "z": pr["z"], "p": pr["p"],
                            "p (Holm)": pr["p_holm"]} for pr in result["delong_pairs"]])
        out.print(common.table(pf, title=f"Paired DeLong tests ({common.pct(level)} CI of the difference)",
                               formats={"p": common.fmt_p, "p (Holm)": common.fmt_p}))
        out.print(f"multiplicity: {result['multiplicity']}", markup=False)


# ----------------------------------------------------------------------------- dca
def dca(
    data: DataArg,
    outcome: OutcomeOpt,
    score: Annotated[list[str], typer.Option("--score", "-s", help="Predicted-risk column (repeatable); values in [0, 1].")],
    thresholds: Annotated[str, typer.Option("--thresholds", help="Threshold grid FROM:TO:STEP.")] = "0:0.99:0.01",
    harm: Annotated[float, typer.Option("--harm", help="Harm of the test, subtracted from each model's net benefit.")] = 0.0,
    prevalence: Annotated[float | None, typer.Option("--prevalence", help="Outcome prevalence for case-control data.")] = None,
    event: EventOpt = None,
    plot: PlotOpt = None,
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
    common.check_plot(plot, data)
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
    if plot is not None:
        from myorisk.report import figures as F

        common.save_plot(F.decision_plot(res, title=f"Decision curves: {outcome}", watermark=common.watermark(df)),
                         plot, quiet=as_json)
    if as_json:
        common.dump(res.to_dict())
        return
    fr = res.to_frame()
    wide = fr.pivot(index="threshold", columns="model", values="net_benefit").reset_index()
    wide = wide[["threshold", *score, "treat_all", "treat_none"]].rename(
        columns={"treat_all": "treat all", "treat_none": "treat none"})
    out.print(common.table(wide, title="Net benefit"))
