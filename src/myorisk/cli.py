"""The ``myorisk`` command line: thin wrappers around the engine and the myositis layer.

Every analysis command takes ``--json`` and prints the result's ``to_dict()``; otherwise a readable
table. Bad input ends with exit code 2 and one line on stderr naming the file, row, column and rule;
no traceback reaches the user.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from typer.core import TyperGroup

from myorisk import __version__
from myorisk.commands import _common as common
from myorisk.commands._common import (
    CategoricalOpt,
    CiMethod,
    DataArg,
    EventOpt,
    JsonOpt,
    OutcomeOpt,
    PredictorsOpt,
    ReferenceOpt,
    err,
    out,
)
from myorisk.errors import InputError, MyoriskError


class _PanelGroup(TyperGroup):
    """Plain (non-rich) top-level help, with the commands listed under their ``rich_help_panel``."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        commands = [(n, c) for n in self.list_commands(ctx)
                    if (c := self.get_command(ctx, n)) is not None and not c.hidden]
        if not commands:
            return
        width = max(len(n) for n, _ in commands)  # one name column across every panel
        limit = formatter.width - 6 - width
        panels: dict[str, list[tuple[str, str]]] = {"Commands": []}
        for n, c in commands:
            text = c.get_short_help_str(limit)
            panels.setdefault(getattr(c, "rich_help_panel", None) or "Commands", []).append(
                (n.ljust(width) if text else n, text))
        for title, rows in panels.items():
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


app = typer.Typer(
    cls=_PanelGroup,
    name="myorisk",
    help=(
        "Prediction models for non-response to therapy in polymyositis/dermatomyositis: "
        "fits, performance, ROC, decision curves, validation and nomograms identical to R rms/pROC; "
        "myositis instruments; published models as calculators."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)



# ----------------------------------------------------------------------------- fit
@app.command(short_help="Fit a logistic regression (ML or Firth)", rich_help_panel="Models and performance")
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
) -> None:
    """Fit a logistic regression (maximum likelihood or Firth) and show ORs with CIs and model statistics."""
    from myorisk.modeling.logistic import fit_logistic

    preds = common.columns_list(predictors)
    cats = common.categorical_list(categorical, preds)
    common.guard_output(save, "--save", data)
    df = common.read(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_logistic(
            df, outcome, preds, firth=firth, ci=ci.value, level=level,
            categorical=cats, reference=common.refs(reference), event=event, source=data.name,
        )
    if save is not None:
        from myorisk.modeling.spec import ModelSpec, save_spec

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
@app.command(short_help="Univariable ORs with CIs and p (Table 2)", rich_help_panel="Models and performance")
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
) -> None:
    """Each candidate predictor alone: OR, CI and p (Table 2 of a prediction study)."""
    from myorisk.modeling.selection import univariate as run

    preds = common.columns_list(predictors)
    cats = common.categorical_list(categorical, preds)
    df = common.read(data)
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


@app.command(short_help="Select predictors (p-value screen or backward AIC)", rich_help_panel="Models and performance")
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
) -> None:
    """Select predictors (study A's p-value screen or backward AIC) and show the final model."""
    from myorisk.modeling.selection import backward_aic, select_pscreen

    preds = common.columns_list(predictors)
    df = common.read(data)
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
@app.command(short_help="Fit a logistic model and show its nomogram", rich_help_panel="Models and performance")
def nomogram(
    data: DataArg,
    outcome: OutcomeOpt,
    predictors: PredictorsOpt,
    categorical: CategoricalOpt = None,
    reference: ReferenceOpt = None,
    event: EventOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Fit a logistic model and show its nomogram (rms scaling: 0-100 points on the widest predictor)."""
    from myorisk.modeling.logistic import fit_logistic
    from myorisk.modeling.nomogram import nomogram_from_fit

    preds = common.columns_list(predictors)
    cats = common.categorical_list(categorical, preds)
    df = common.read(data)
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


# ----------------------------------------------------------------------------- roc
@app.command(short_help="ROC curve, AUC with DeLong CI, DeLong tests", rich_help_panel="Models and performance")
def roc(
    data: DataArg,
    outcome: OutcomeOpt,
    score: Annotated[list[str], typer.Option("--score", "-s", help="Score or probability column (give two for a DeLong test).")],
    direction: Annotated[str, typer.Option("--direction", help="auto, '<' (cases higher) or '>' (cases lower).")] = "auto",
    level: Annotated[float, typer.Option("--level", help="Confidence level of the DeLong CIs.")] = 0.95,
    versus: Annotated[Path | None, typer.Option("--versus", help="Second data file (e.g. an external cohort): unpaired DeLong test of the same score there.")] = None,
    event: EventOpt = None,
    as_json: JsonOpt = False,
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
    df = common.read(data)
    if outcome not in df.columns:
        raise InputError(f"{data.name}: column '{outcome}' not found")
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
        df2 = common.read(versus)
        if outcome not in df2.columns:
            raise InputError(f"{versus.name}: column '{outcome}' not found")
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
@app.command(short_help="Decision curves: net benefit vs treat all/none", rich_help_panel="Models and performance")
def dca(
    data: DataArg,
    outcome: OutcomeOpt,
    score: Annotated[list[str], typer.Option("--score", "-s", help="Predicted-risk column (repeatable); values in [0, 1].")],
    thresholds: Annotated[str, typer.Option("--thresholds", help="Threshold grid FROM:TO:STEP.")] = "0:0.99:0.01",
    harm: Annotated[float, typer.Option("--harm", help="Harm of the test, subtracted from each model's net benefit.")] = 0.0,
    prevalence: Annotated[float | None, typer.Option("--prevalence", help="Outcome prevalence for case-control data.")] = None,
    event: EventOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Decision curve analysis: net benefit of each model, treat all and treat none (dcurves rules)."""
    from myorisk.modeling.decision import decision_curve, parse_threshold_grid

    if len(set(score)) < len(score):
        dup = next(s for s in score if score.count(s) > 1)
        raise InputError(f"--score '{dup}' is given twice")
    common.check_grid_size(thresholds)
    grid = parse_threshold_grid(thresholds)
    df = common.read(data)
    if outcome not in df.columns:
        raise InputError(f"{data.name}: column '{outcome}' not found")
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


# ----------------------------------------------------------------------------- command modules
# Each module in myorisk.commands defines register(app) and adds its commands (kept apart so that
# the domain layers' commands live beside nothing else).
_COMMAND_MODULES = ("evaluate", "tableone", "validation", "myositis", "models", "study", "web",
                    "registry")


def _register_all() -> None:
    import importlib

    for name in _COMMAND_MODULES:
        try:
            mod = importlib.import_module(f"myorisk.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"myorisk.commands.{name}":
                continue  # not built yet
            raise
        mod.register(app)


_register_all()


# ----------------------------------------------------------------------------- entry point
def _exc_types() -> dict[str, tuple[type, ...]]:
    """Exception classes of typer's (possibly vendored) click, found by name."""
    mods = [typer]
    try:
        from typer import _click  # type: ignore[attr-defined]

        mods += [_click, getattr(_click, "exceptions", _click)]
    except ImportError:  # pragma: no cover - older typer uses click itself
        pass
    try:  # pragma: no cover
        import click as _c

        mods += [_c, _c.exceptions]
    except ImportError:  # pragma: no cover
        pass

    def find(*names: str) -> tuple[type, ...]:
        found = []
        for m in mods:
            for n in names:
                t = getattr(m, n, None)
                if isinstance(t, type) and t not in found:
                    found.append(t)
        return tuple(found)

    return {
        "help": find("NoArgsIsHelpError", "NoArgsIsHelp"),
        "exit": find("Exit"),
        "abort": find("Abort"),
        "click": find("ClickException"),
    }


MAX_LINE = 600


def _shorten(msg: str) -> str:
    """Keep each line of an error readable: a message listing every bad row is cut after MAX_LINE characters."""
    lines = []
    for line in msg.splitlines() or [""]:
        if len(line) > MAX_LINE:
            line = line[:MAX_LINE].rstrip() + f" … ({len(line) - MAX_LINE} more characters)"
        lines.append(line)
    return "\n".join(lines)


def _run(argv: Sequence[str] | None) -> int:
    """Run the CLI; notes reach stderr only when the command succeeds (a failure is one line)."""
    common.hold_notes()
    try:
        code = _run_held(argv)
    except BaseException:
        common.release_notes(show=False)
        raise
    common.release_notes(show=code == 0)
    return code


def _run_held(argv: Sequence[str] | None) -> int:
    """Run the CLI and turn every failure into an exit code and one line on stderr."""
    ex = _exc_types()
    cmd = typer.main.get_command(app)
    try:
        rv = cmd.main(args=list(argv) if argv is not None else None, prog_name="myorisk", standalone_mode=False)
        if rv == 130:  # typer turns Ctrl-C (KeyboardInterrupt) into Exit(130) and returns its code
            err.print("myorisk: interrupted", markup=False)
        return int(rv) if isinstance(rv, int) else 0
    except ex["help"] as e:
        ctx = getattr(e, "ctx", None)
        print(ctx.get_help() if ctx is not None else cmd.get_help(cmd.make_context("myorisk", [])))
        return 0
    except ex["exit"] as e:
        code = int(getattr(e, "exit_code", 0) or 0)
        if code == 130:
            err.print("myorisk: interrupted", markup=False)
        return code
    except ex["abort"]:
        err.print("myorisk: aborted", markup=False)
        return 1
    except ex["click"] as e:
        msg = e.format_message() if hasattr(e, "format_message") else str(e)
        ctx = getattr(e, "ctx", None)
        where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        err.print(f"myorisk: error: {msg}{where}", markup=False)
        return 2
    except MyoriskError as e:
        err.print(f"myorisk: error: {_shorten(str(e))}", markup=False)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        err.print("myorisk: interrupted", markup=False)
        return 130
    except Exception as e:  # noqa: BLE001 - last line of defence: no traceback for users
        if os.environ.get("MYORISK_DEBUG"):
            raise
        err.print(f"myorisk: internal error: {type(e).__name__}: {e} (set MYORISK_DEBUG=1 for a traceback; "
                  "please report it)", markup=False)
        return 1


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point (``myorisk``)."""
    try:
        code = _run(argv)
        sys.stdout.flush()
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 0
    sys.exit(code)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.")] = False,
) -> None:
    if version:
        out.print(f"myorisk {__version__}")
        raise typer.Exit(0)
    if ctx.invoked_subcommand is None:
        out.print(ctx.get_help())
        raise typer.Exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
