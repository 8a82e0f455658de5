"""``myorisk evaluate``: performance of predicted probabilities (rms ``val.prob``) — from a column of
the data, or from a model spec file (a published model or one saved by ``fit --save``)."""

from __future__ import annotations

import warnings
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
    ExtrapolateOpt,
    JsonOpt,
    PlotOpt,
    SepOpt,
    out,
)
from myorisk.errors import InputError, did_you_mean


def _calibration_curve(prob: np.ndarray, y: np.ndarray, n_points: int = 50) -> list[dict[str, float]]:
    """Smoothed calibration curve (R lowess, iter=0) on a grid of predicted risks, as val.prob draws it."""
    from myorisk.modeling.smoothing import approx, lowess

    xs, ys = lowess(prob, y, iter=0)
    lo, hi = float(np.min(prob)), float(np.max(prob))
    grid = np.linspace(lo, hi, n_points)
    obs = approx(xs, ys, grid, ties="mean")
    return [{"predicted": float(g), "observed": float(o)} for g, o in zip(grid, obs, strict=True)]


def evaluate_probabilities(
    prob: np.ndarray, y: np.ndarray, *, thresholds: np.ndarray | None = None, name: str = "model"
) -> dict[str, Any]:
    """val.prob statistics, ROC with DeLong CI, calibration curve and decision curve of frozen risks."""
    from myorisk.modeling.decision import decision_curve
    from myorisk.modeling.performance import val_prob
    from myorisk.modeling.roc import roc_curve

    perf = val_prob(prob, y)
    roc = roc_curve(y, prob, direction="<")
    res = perf.to_dict()
    res["auc"] = {"auc": roc.auc, "ci_low": roc.ci_low, "ci_high": roc.ci_high, "method": "DeLong"}
    res["calibration_curve"] = _calibration_curve(prob, y)
    grid = thresholds if thresholds is not None else np.round(np.arange(0.01, 1.0, 0.01), 10)
    dc = decision_curve(y, {name: prob}, grid)
    res["decision_curve"] = dc.to_dict()
    return res




def evaluate(
    data: DataArg,
    outcome: Annotated[str, typer.Option("--outcome", "-y", help="Observed binary outcome column.")],
    prob: Annotated[str | None, typer.Option("--prob", help="Column of predicted probabilities to evaluate.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Model spec: a published model's name or a JSON file.")] = None,
    recalibrate: Annotated[str | None, typer.Option("--recalibrate", help="Update the model on these data: intercept, logistic or refit (with --model; writes --save).")] = None,
    save: Annotated[Path | None, typer.Option("--save", help="Where to write the recalibrated model spec.")] = None,
    extrapolate: ExtrapolateOpt = False,
    event: EventOpt = None,
    plot: PlotOpt = None,
    impute: Annotated[int | None, typer.Option("--impute", min=0, help="With --model: impute missing predictors (M imputations, 0: from the share incomplete) without using the outcome; default: rows excluded.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Seed of --impute.")] = None,
    maxit: Annotated[int, typer.Option("--maxit", min=1, max=200, help="Iterations of each imputation chain (--impute).")] = 10,
    auxiliary: Annotated[str | None, typer.Option("--auxiliary", help="Comma-separated columns used only to impute (--impute).")] = None,
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """Validate predicted risks against outcomes: C with DeLong CI, Brier, calibration intercept/slope,
    calibration-in-the-large, Emax/E90/Eavg, Spiegelhalter, Hosmer–Lemeshow, calibration and decision curves."""
    if (prob is None) == (model is None):
        raise InputError("give exactly one of --prob COLUMN or --model NAME|FILE")
    if recalibrate is not None and model is None:
        raise InputError("--recalibrate needs --model")
    if impute is not None and (model is None or recalibrate is not None):
        raise InputError("--impute goes with --model (and not with --recalibrate)")
    if recalibrate is not None and recalibrate not in ("intercept", "logistic", "refit"):
        raise InputError(f"--recalibrate must be intercept, logistic or refit, not {recalibrate!r}")
    common.guard_output(save, "--save", data, model)
    common.check_plot(plot, data, model)
    df = common.read(data, encoding, sep, decimal)
    if outcome not in df.columns:
        raise InputError(f"{data.name}: column '{outcome}' not found" + did_you_mean(outcome, list(df.columns)))
    spec = None
    imputed = None
    if prob is not None:
        sub = common.complete(df, [prob], data.name).join(df[[outcome]], how="inner")
        sub = common.drop_missing_outcome(sub, outcome, data.name)
        p = sub[prob].to_numpy(float)
        bad = (p < 0) | (p > 1)
        if bad.any():
            rows = ", ".join(str(r) for r in sub.index[bad][:5])
            raise InputError(f"{data.name}: column '{prob}' holds values outside [0, 1] (rows {rows})")
        label = prob
    else:
        from myorisk.modeling.spec import predict
        from myorisk.published.files import load_spec

        spec = load_spec(model)
        needed = [v.name for v in spec.variables]
        sub = common.drop_missing_outcome(df, outcome, data.name)
        if impute is not None:
            from myorisk.commands import _impute
            from myorisk.commands._impute_eval import predictions_by_imputation

            seed = _impute.drawn_seed(seed)
            p, probs_m, imputed = predictions_by_imputation(
                spec, sub, m=impute or None, seed=seed, maxit=maxit, auxiliary=auxiliary,
                extrapolate=extrapolate or None, source=data.name)
        elif all(c in sub.columns for c in needed):  # else predict names the missing column
            gone = sub[needed].isna().any(axis=1).to_numpy()
            if gone.any():
                common.note(f"{data.name}: {int(gone.sum())} rows with missing predictors were excluded "
                            f"({common.rows_text(sub.index[gone])})")
            sub = sub.loc[~gone]
        if imputed is None:
            scored = predict(spec, sub, source=data.name, extrapolate=extrapolate or None)
            common.note_extrapolation(spec, scored, data.name)
            p = scored["probability"].to_numpy(float)
        label = spec.name
    y, ev = common.outcome01(sub, outcome, event, data.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = evaluate_probabilities(p, y, name=label)
    res = {"outcome": outcome, "event": ev, "predictions": label, **res}
    if spec is not None and imputed is not None:
        from myorisk.commands._impute_eval import pooled_performance

        res["imputation"] = {**imputed, "seed": seed, **pooled_performance(probs_m, y)}
    if spec is not None:
        res["model"] = {"name": spec.name, "status": spec.provenance.get("status"),
                        "caveats": spec.provenance.get("caveats", [])}
    if recalibrate is not None:
        from myorisk.modeling.spec import recalibrate as do_recal
        from myorisk.published.files import save_spec

        frame = sub.copy()
        frame[outcome] = y
        new = do_recal(spec, frame, method=recalibrate, outcome=outcome, source=data.name,
                       extrapolate=extrapolate or None)
        target = save or Path(f"{spec.name}-{recalibrate}.json")
        save_spec(new, target)
        res["recalibrated"] = {"method": recalibrate, "path": str(target),
                               "coefficients": dict(new.coefficients)}
    if spec is not None and spec.notice():
        common.note(spec.notice())
    if plot is not None:
        _plot_evaluation(res, p, y, label, plot, watermark=common.watermark(df), quiet=as_json)
    if as_json:
        common.dump(res)
        return
    _print_evaluation(res)
    if res.get("imputation"):
        im = res["imputation"]
        out.print(f"missing predictors imputed without the outcome: {im['m']} imputations by chained equations "
                  f"(seed {im['seed']}; {100 * im['share_incomplete']:.1f}% of rows incomplete); predictions from the "
                  f"linear predictor averaged over imputations; per-imputation C pooled on the logit scale "
                  f"{im['c']:.4f}, mean Brier {im['brier']:.4f}")


def _plot_evaluation(res: dict[str, Any], p: np.ndarray, y: np.ndarray, label: str, path: Path, *,
                     watermark: str | None, quiet: bool) -> None:
    """The report's ROC, calibration and decision-curve figures of these predictions, as three panels."""
    from myorisk.modeling.decision import decision_curve
    from myorisk.modeling.roc import roc_curve
    from myorisk.report import figures as F

    cc = res["calibration_curve"]
    cal = (np.array([c["predicted"] for c in cc], float),
           np.array([np.nan if c["observed"] is None else c["observed"] for c in cc], float), p)
    dc = decision_curve(y, {label: p}, np.asarray(res["decision_curve"]["thresholds"], float))
    fig = F.evaluation_plot(label, roc_curve(y, p, direction="<"), cal, dc,
                            title=f"{label}: {res['outcome']} = {res['event']} (n = {res['n']}, {res['events']} events)",
                            watermark=watermark)
    common.save_plot(fig, path, quiet=quiet)


def table1(
    data: DataArg,
    variables: Annotated[str, typer.Option("--variables", "-v", help="Comma-separated columns to describe.")],
    by: Annotated[str | None, typer.Option("--by", help="Grouping column (e.g. the outcome).")] = None,
    categorical: Annotated[str | None, typer.Option("--categorical", help="Columns to treat as categorical.")] = None,
    nonnormal: Annotated[str, typer.Option("--nonnormal", help="Columns shown as median [IQR] with rank tests; 'auto' (the default, as `study`): decided per variable by the Shapiro–Wilk rule; 'none': mean ± SD for all.")] = "auto",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the table: .csv, .xlsx or .html.")] = None,
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """Baseline characteristics (Table 1) by group with the test used and its statistic."""
    from myorisk.modeling import tableone as t1

    common.guard_output(output, "--output", data)
    df = common.read(data, encoding, sep, decimal)
    # the same rule as the study's Table 1 (study.config Table1Config.nonnormal = "auto")
    nn: Any = ("auto" if nonnormal.strip().lower() == "auto" else
               None if nonnormal.strip().lower() == "none" else (common.split(nonnormal) or None))
    cats = common.split(categorical)
    for v in common.split(variables):  # 0/1 indicators are categories, shown as n (%)
        if v in df.columns and v not in cats and pd.api.types.is_numeric_dtype(df[v].dtype):
            vals = set(pd.unique(df[v].dropna()))
            if vals and vals <= {0, 1}:
                cats.append(v)
    try:
        res = t1.table_one(df, by=by, variables=common.split(variables),
                           categorical=cats or None, nonnormal=nn)
    except InputError as e:  # the engine does not know the file: every message names it
        raise e.with_file(data.name) from None
    if output is not None:
        ext = output.suffix.lower()
        from myorisk.report import files as t1_files

        if ext == ".csv":
            t1_files.write_csv(res, output)
        elif ext == ".xlsx":
            t1_files.write_xlsx(res, output)
        elif ext in (".html", ".htm"):
            from myorisk.atomic import write_text_atomic

            write_text_atomic(output, t1.to_html(res))
        else:
            raise InputError(f"--output must end in .csv, .xlsx or .html, not {output.name!r}")
    if res.n_missing_group:  # never silently: these rows are in no column of the table
        common.note(f"{data.name}: {res.n_missing_group} row(s) with a missing '{by}' were excluded")
    if as_json:
        common.dump(res.to_dict())
        return
    disp = res.to_display()
    out.print(common.table(disp.reset_index() if disp.index.name else disp, title="Table 1"))
    if output is not None:
        out.print(f"written to {output}")


def _pair(text: str | None, option: str) -> tuple[float, float] | None:
    if text is None:
        return None
    parts = [t.strip() for t in text.split(",")]
    try:
        vals = tuple(float(t) for t in parts)
    except ValueError:
        vals = ()
    if len(vals) != 2:
        raise InputError(f"{option} takes two numbers separated by a comma, not {text!r}")
    return vals  # type: ignore[return-value]


def sample_size(
    prevalence: Annotated[float, typer.Option("--prevalence", help="Anticipated outcome proportion.")],
    parameters: Annotated[int | None, typer.Option("--parameters", help="Candidate predictor parameters (development).")] = None,
    csrsquared: Annotated[float | None, typer.Option("--csrsquared", help="Anticipated Cox–Snell R².")] = None,
    nagrsquared: Annotated[float | None, typer.Option("--nagrsquared", help="Anticipated Nagelkerke R².")] = None,
    cstatistic: Annotated[float | None, typer.Option("--cstatistic", "--c", help="Anticipated C statistic.")] = None,
    shrinkage: Annotated[float, typer.Option("--shrinkage", help="Target expected shrinkage (criterion 1).")] = 0.9,
    simulate: Annotated[bool, typer.Option("--simulate", help="Simulation-based size (samplesizedev, Pavlou et al. 2024): needs --prevalence, --c, --parameters and --n or a target.")] = False,
    n: Annotated[int | None, typer.Option("--n", min=10, help="--simulate: performance expected at this development sample size.")] = None,
    target_slope: Annotated[float | None, typer.Option("--target-slope", help="--simulate: n whose median calibration slope reaches this (e.g. 0.9).")] = None,
    target_prob: Annotated[float | None, typer.Option("--target-prob", help="--simulate: n whose probability of a slope in (0.85, 1.15) reaches this (e.g. 0.8).")] = None,
    simulations: Annotated[int, typer.Option("--simulations", min=10, help="--simulate: simulated development sets per n.")] = 1000,
    validation_size: Annotated[int, typer.Option("--validation-size", min=1000, help="--simulate: validation set size.")] = 25000,
    validation: Annotated[bool, typer.Option("--validation", help="Sample size to externally validate an existing model (Riley 2021; pmvalsampsize).", rich_help_panel="External validation")] = False,
    lp_normal: Annotated[str | None, typer.Option("--lp-normal", help="Normal linear-predictor distribution: MEAN,SD.", rich_help_panel="External validation")] = None,
    lp_beta: Annotated[str | None, typer.Option("--lp-beta", help="Beta distribution of predicted risks: ALPHA,BETA.", rich_help_panel="External validation")] = None,
    lp_cstat: Annotated[float | None, typer.Option("--lp-cstat", help="Starting non-event LP mean; events/non-events normal with the C-implied variance.", rich_help_panel="External validation")] = None,
    oe: Annotated[float, typer.Option("--oe", help="Anticipated O/E.", rich_help_panel="External validation")] = 1.0,
    oe_ci_width: Annotated[float, typer.Option("--oe-ci-width", help="Target 95% CI width of O/E.", rich_help_panel="External validation")] = 0.2,
    slope: Annotated[float, typer.Option("--slope", help="Anticipated calibration slope.", rich_help_panel="External validation")] = 1.0,
    slope_ci_width: Annotated[float, typer.Option("--slope-ci-width", help="Target 95% CI width of the slope.", rich_help_panel="External validation")] = 0.2,
    c_ci_width: Annotated[float, typer.Option("--c-ci-width", help="Target 95% CI width of C.", rich_help_panel="External validation")] = 0.1,
    threshold: Annotated[float | None, typer.Option("--threshold", help="Risk threshold: adds the net-benefit criterion.", rich_help_panel="External validation")] = None,
    sensitivity: Annotated[float | None, typer.Option("--sensitivity", help="Anticipated sensitivity at --threshold (else from the simulated LP).", rich_help_panel="External validation")] = None,
    specificity: Annotated[float | None, typer.Option("--specificity", help="Anticipated specificity at --threshold.", rich_help_panel="External validation")] = None,
    nb_ci_width: Annotated[float, typer.Option("--nb-ci-width", help="Target 95% CI width of standardised net benefit.", rich_help_panel="External validation")] = 0.2,
    simobs: Annotated[int, typer.Option("--simobs", help="Simulated patients for the LP distribution.", rich_help_panel="External validation")] = 1_000_000,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Seed: of --simulate (default 2022; results depend on it alone) or of --validation's LP simulation (default 123456, R's stream replayed).")] = None,
    workers: common.WorkersOpt = None,
    scheduler: common.SchedulerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Minimum sample size for developing a binary-outcome prediction model (Riley et al. 2020;
    pmsampsize), by simulation (--simulate; samplesizedev, Pavlou et al. 2024) or, with --validation,
    for externally validating one (Riley et al. 2021; pmvalsampsize)."""
    if simulate and validation:
        raise InputError("give --simulate or --validation, not both")
    if simulate:
        _simulated_size(prevalence, parameters, cstatistic, n, target_slope, target_prob, simulations,
                        validation_size, 2022 if seed is None else seed, workers, scheduler, as_json,
                        others=[o for o, v in (("--csrsquared", csrsquared), ("--nagrsquared", nagrsquared))
                                if v is not None])
        return
    extra = [o for o, v in (("--n", n), ("--target-slope", target_slope), ("--target-prob", target_prob),
                            ("--workers", workers), ("--scheduler", scheduler)) if v is not None]
    if extra:
        raise InputError(f"{extra[0]} needs --simulate")
    if validation:
        from myorisk.modeling.sample_size import riley_validation

        wrong = [o for o, v in (("--parameters", parameters), ("--csrsquared", csrsquared),
                                ("--nagrsquared", nagrsquared)) if v is not None]
        if wrong:
            raise InputError(f"{', '.join(wrong)} belong(s) to the development sample size, not --validation")
        if cstatistic is None:
            raise InputError("--validation needs --cstatistic (the anticipated C in the validation data)")
        try:
            res = riley_validation(
                prevalence=prevalence, cstatistic=cstatistic, lpnormal=_pair(lp_normal, "--lp-normal"),
                lpbeta=_pair(lp_beta, "--lp-beta"), lpcstat=lp_cstat, oe=oe, oeciwidth=oe_ci_width,
                cslope=slope, csciwidth=slope_ci_width, cstatciwidth=c_ci_width, simobs=simobs, seed=123456 if seed is None else seed,
                sensitivity=sensitivity, specificity=specificity, threshold=threshold, nbciwidth=nb_ci_width)
        except InputError as e:
            msg = str(e).removeprefix("riley_validation: ").replace("lpnormal", "--lp-normal") \
                .replace("lpbeta", "--lp-beta").replace("lpcstat", "--lp-cstat")
            raise InputError(f"sample-size --validation: {msg}") from None
        if as_json:
            common.dump(res.to_dict())
            return
        out.print(common.table(res.to_frame(), title="Riley et al. (2021) criteria for external validation"))
        out.print(res.summary())
        return
    from myorisk.modeling.sample_size import riley_binary

    if parameters is None:
        raise InputError("give --parameters (candidate predictor parameters), or --validation for an external validation")
    given = [o for o, v in (("--csrsquared", csrsquared), ("--nagrsquared", nagrsquared),
                            ("--cstatistic", cstatistic)) if v is not None]
    if len(given) != 1:
        raise InputError("give exactly one of --csrsquared, --nagrsquared or --cstatistic "
                         f"(got {', '.join(given) or 'none'})")
    try:
        res = riley_binary(prevalence=prevalence, parameters=parameters, csrsquared=csrsquared,
                           nagrsquared=nagrsquared, cstatistic=cstatistic, shrinkage=shrinkage)
    except InputError as e:  # the engine names its function; the user typed options
        raise e.with_file("sample-size", replace=True) from None
    if as_json:
        common.dump(res.to_dict())
        return
    out.print(common.table(res.to_frame(), title="Riley et al. (2020) criteria"))
    out.print(res.summary())


def _simulated_size(prevalence: float, parameters: int | None, cstatistic: float | None, n: int | None,
                    target_slope: float | None, target_prob: float | None, simulations: int,
                    validation_size: int, seed: int, workers: int | None, scheduler: str | None,
                    as_json: bool, others: list[str]) -> None:
    """``sample-size --simulate``: expected performance at --n, or the n reaching a target."""
    from myorisk.commands.validation import _progress
    from myorisk.modeling.sample_size_sim import expected_performance, simulated_size

    if others:
        raise InputError(f"--simulate takes the C-statistic (--c), not {others[0]}")
    if parameters is None:
        raise InputError("--simulate needs --parameters (the number of predictors)")
    if cstatistic is None:
        raise InputError("--simulate needs --c (the anticipated C-statistic)")
    asked = [o for o, v in (("--n", n), ("--target-slope", target_slope), ("--target-prob", target_prob))
             if v is not None]
    if len(asked) != 1:
        raise InputError("--simulate needs exactly one of --n, --target-slope or --target-prob "
                         f"(got {', '.join(asked) or 'none'})")
    try:
        with common.executor_for(workers, scheduler) as ex, _progress("simulations", not as_json) as cb:
            if n is not None:
                res = expected_performance(n, prevalence, cstatistic, parameters, simulations=simulations,
                                           nval=validation_size, seed=seed, executor=ex, progress=cb)
            else:
                res = simulated_size(prevalence, cstatistic, parameters, target_slope=target_slope,
                                     target_prob=target_prob, simulations=simulations,
                                     nval=validation_size, seed=seed, executor=ex, progress=cb)
    except InputError as e:
        raise InputError(f"sample-size --simulate: {e}") from None
    if as_json:
        common.dump(res.to_dict())
        return
    perf = res if n is not None else res.performance
    d = perf.to_dict()
    title = (f"Expected performance at n = {perf.n} (prevalence {perf.prevalence:g}, C {perf.cstatistic:g}, "
             f"{perf.parameters} predictors; {perf.simulations} simulated development sets, validation "
             f"n = {perf.validation_size}, seed {perf.seed})")
    out.print(common.table(perf.to_frame(), title=title))
    if perf.failed:
        common.note(f"{perf.failed} of {perf.simulations} simulated development sets gave no model (one outcome "
                    "class or a singular design) and were left out")
    if perf.separated:
        common.note(f"{perf.separated} of {perf.simulations} simulated development sets were separated (no "
                    "maximum-likelihood estimate); they count with their diverging fits (slope near 0), as in samplesizedev")
    if n is None:
        what = (f"median calibration slope {res.target:g}" if res.statistic == "median_slope"
                else f"P({perf.bounds[0]:g} < slope < {perf.bounds[1]:g}) = {res.target:g}")
        out.print(f"Required n for {what}: {res.n_required} (within ±1 MCSE: {res.n_interval[0]}–{res.n_interval[1]}; "
                  f"searched n = {', '.join(str(e[0]) for e in res.evaluations)})")
        extra = f"; analytical PrAP size {res.analytical_prob}" if res.analytical_prob is not None else ""
        out.print(f"Closed forms: Riley criterion 1 {res.rvs}; samplesizedev's corrected formula "
                  f"{res.analytical_corrected} (adjusted C {res.c_adjusted:.3f}){extra}.")
    out.print(f"Took {(res.seconds if n is None else d['seconds']):.1f} s.")


def _print_evaluation(res: dict[str, Any]) -> None:
    f = common.fmt
    hl = res.get("hosmer_lemeshow") or {}
    auc = res["auc"]
    rows = [
        ("n (events)", f"{res['n']} ({res['events']})"),
        ("C (ROC area), DeLong 95% CI", f"{f(auc['auc'])} ({f(auc['ci_low'])}–{f(auc['ci_high'])})"),
        ("Somers' Dxy", f(res["dxy"])),
        ("Brier score", f(res["brier"])),
        ("Calibration intercept (joint)", f(res["intercept"])),
        ("Calibration slope", f(res["slope"])),
        ("Calibration-in-the-large", f(res["citl"])),
        ("Emax / E90 / Eavg", f"{f(res['emax'])} / {f(res['e90'])} / {f(res['eavg'])}"),
        ("Spiegelhalter z (p)", f"{f(res['spiegelhalter_z'])} ({common.fmt_p(res['spiegelhalter_p'])})"),
        ("Nagelkerke R²", f(res["r2"])),
        ("Hosmer–Lemeshow χ² (df, p)", f"{f(hl.get('chi2'))} ({hl.get('df')}, {common.fmt_p(hl['p']) if hl.get('p') is not None else '—'})"),
    ]
    title = f"Performance of {res['predictions']} for {res['outcome']} = {res['event']}"
    out.print(common.table(pd.DataFrame(rows, columns=["statistic", "value"]), title=title))
    for w in res.get("warnings", []):
        common.note(w)
    m = res.get("model")
    if m and m.get("status") not in (None, "fitted", "published"):
        common.note(f"model '{m['name']}' is {m['status']}: " + " ".join(m.get("caveats", [])))
    if "recalibrated" in res:
        out.print(f"recalibrated model ({res['recalibrated']['method']}) written to {res['recalibrated']['path']}")
