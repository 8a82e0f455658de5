"""The ``myorisk`` command line: thin wrappers around the engine and the myositis layer.

Every analysis command takes ``--json`` and prints the result's ``to_dict()``; otherwise a readable
table. Bad input ends with exit code 2 and one line on stderr naming the file, row, column and rule;
no traceback reaches the user.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from myorisk import __version__
from myorisk.errors import InputError, ModelError, MyoriskError

app = typer.Typer(
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
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

# ----------------------------------------------------------------------------- shared options
DataArg = Annotated[Path, typer.Argument(help="Data file: CSV, TSV, XLSX, SPSS .sav or Stata .dta.")]
OutcomeOpt = Annotated[str, typer.Option("--outcome", "-y", help="Binary outcome column.")]
PredictorsOpt = Annotated[
    str, typer.Option("--predictors", "-x", help="Comma-separated predictor columns.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
CategoricalOpt = Annotated[
    str | None,
    typer.Option("--categorical", help="Comma-separated columns to treat as categorical."),
]
ReferenceOpt = Annotated[
    list[str] | None,
    typer.Option("--reference", help="Reference level of a categorical predictor, as VAR=LEVEL (repeatable)."),
]
EventOpt = Annotated[
    str | None, typer.Option("--event", help="Outcome value that counts as the event (default 1/True/second level).")
]


class CiMethod(str, Enum):
    wald = "wald"
    profile = "profile"


def _split(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def _refs(items: Sequence[str] | None) -> dict[str, str]:
    out = {}
    for it in items or ():
        if "=" not in it:
            raise InputError(f"--reference must look like VAR=LEVEL, not {it!r}")
        k, v = it.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _read(path: Path) -> pd.DataFrame:
    from myorisk.myositis.io import read_data

    return read_data(path)


def _dump(obj: Any) -> None:
    from myorisk.modeling.logistic import _clean

    out.print_json(json.dumps(_clean(obj), allow_nan=False)) if sys.stdout.isatty() else print(
        json.dumps(_clean(obj), indent=2, allow_nan=False)
    )


def _note(msg: str) -> None:
    err.print(f"note: {msg}", markup=False)


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    if isinstance(v, int | np.integer):
        return str(int(v))
    v = float(v)
    if not np.isfinite(v):
        return "inf" if v > 0 else ("-inf" if v < 0 else "NA")
    if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
        return f"{v:.{digits - 1}e}"
    return f"{v:.{digits}f}"


def _fmt_p(p: float) -> str:
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"


def _table(frame: pd.DataFrame, title: str | None = None, formats: dict[str, Callable] | None = None) -> Table:
    t = Table(title=title, title_justify="left", show_edge=False, header_style="bold")
    formats = formats or {}
    for c in frame.columns:
        t.add_column(str(c), justify="right" if pd.api.types.is_numeric_dtype(frame[c].dtype) else "left")
    for _, row in frame.iterrows():
        t.add_row(*[formats.get(c, _fmt)(row[c]) for c in frame.columns])
    return t


def _complete(df: pd.DataFrame, columns: Sequence[str], source: str) -> pd.DataFrame:
    """Rows complete for ``columns``; removed rows are reported on stderr, never silently."""
    from myorisk.myositis.io import coerce_numeric

    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"{source}: column '{missing[0]}' not found (columns are: {', '.join(map(str, df.columns[:20]))})")
    sub = df[list(columns)]
    miss = sub.isna().any(axis=1)
    if miss.any():
        rows = ", ".join(str(r) for r in sub.index[miss][:10])
        _note(f"{int(miss.sum())} of {len(sub)} rows with missing values in {', '.join(columns)} were excluded (rows {rows}{' …' if miss.sum() > 10 else ''})")
    return coerce_numeric(sub.loc[~miss], [c for c in columns], source) if len(columns) else sub


def _outcome01(df: pd.DataFrame, outcome: str, event: str | None, source: str) -> tuple[np.ndarray, str]:
    from myorisk.modeling.design import code_outcome

    return code_outcome(df[outcome], event=event, name=outcome, source=source)


# ----------------------------------------------------------------------------- fit
@app.command()
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

    df = _read(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_logistic(
            df, outcome, _split(predictors), firth=firth, ci=ci.value, level=level,
            categorical=_split(categorical), reference=_refs(reference), event=event, source=data.name,
        )
    if save is not None:
        from myorisk.modeling.spec import ModelSpec, save_spec

        spec = ModelSpec.from_fit(res, df, name=name or save.stem)
        save_spec(spec, save)
    if as_json:
        _dump(res.to_dict())
    else:
        fr = res.to_frame()
        out.print(_table(fr, title=f"Logistic regression ({'Firth' if firth else 'maximum likelihood'}), "
                                f"outcome {outcome} = {res.event}; {int(level * 100)}% {ci.value} CI",
                         formats={"p": _fmt_p}))
        out.print(
            f"n = {res.n}, events = {res.events}; log-likelihood {res.loglik:.4f}, AIC {res.aic:.3f}; "
            f"LR χ² {res.lr_chi2:.3f} on {res.lr_df} d.f., p {_fmt_p(res.lr_p)}; "
            f"Nagelkerke R² {res.r2_nagelkerke:.4f}; C {res.c:.4f}, Dxy {res.dxy:.4f}; Brier {res.brier:.4f}"
        )
        if save is not None:
            out.print(f"model spec written to {save}")
    for w in res.warnings:
        _note(w)


# ----------------------------------------------------------------------------- univariate / select
@app.command()
def univariate(
    data: DataArg,
    outcome: OutcomeOpt,
    predictors: PredictorsOpt,
    ci: Annotated[CiMethod, typer.Option("--ci")] = CiMethod.wald,
    level: Annotated[float, typer.Option("--level")] = 0.95,
    firth: Annotated[bool, typer.Option("--firth")] = False,
    categorical: CategoricalOpt = None,
    reference: ReferenceOpt = None,
    event: EventOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Each candidate predictor alone: OR, CI and p (Table 2 of a prediction study)."""
    from myorisk.modeling.selection import univariate as run

    df = _read(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run(df, outcome, _split(predictors), ci=ci.value, level=level, firth=firth,
                  categorical=_split(categorical), reference=_refs(reference), event=event, source=data.name)
    if as_json:
        _dump(res.to_dict())
    else:
        cols = ["variable", "term", "n", "events", "or", "or_low", "or_high", "p"]
        out.print(_table(res.rows[cols], title=f"Univariate logistic regression, outcome {outcome} = {res.event} "
                                               f"({int(level * 100)}% {ci.value} CI)", formats={"p": _fmt_p}))
    for w in res.warnings:
        _note(w)


class SelectMethod(str, Enum):
    pscreen = "pscreen"
    aic = "aic"


@app.command()
def select(
    data: DataArg,
    outcome: OutcomeOpt,
    predictors: PredictorsOpt,
    method: Annotated[SelectMethod, typer.Option("--method", help="pscreen: univariate p < alpha then keep p < alpha; aic: backward stepwise AIC.")] = SelectMethod.pscreen,
    alpha: Annotated[float, typer.Option("--alpha")] = 0.05,
    categorical: CategoricalOpt = None,
    reference: ReferenceOpt = None,
    event: EventOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Select predictors (study A's p-value screen or backward AIC) and show the final model."""
    from myorisk.modeling.selection import backward_aic, select_pscreen

    df = _read(data)
    kw = dict(categorical=_split(categorical), reference=_refs(reference), event=event, source=data.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method is SelectMethod.pscreen:
            res = select_pscreen(df, outcome, _split(predictors), alpha=alpha, **kw)
        else:
            res = backward_aic(df, outcome, _split(predictors), **kw)
    if as_json:
        _dump(res.to_dict())
    else:
        out.print(_table(res.steps, title=f"Selection steps ({method.value})"))
        out.print(f"selected: {', '.join(res.selected)}")
        out.print(_table(res.fit.to_frame(), title="Final model", formats={"p": _fmt_p}))
    _note("apparent performance of a selected model is optimistic: validate it with selection repeated "
          "inside the bootstrap (myorisk validate --select …)")


# ----------------------------------------------------------------------------- nomogram
@app.command()
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

    df = _read(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_logistic(df, outcome, _split(predictors), categorical=_split(categorical),
                           reference=_refs(reference), event=event, source=data.name)
    nom = nomogram_from_fit(res)
    if as_json:
        _dump(nom.to_dict())
    else:
        out.print(f"Points per unit of linear predictor: {nom.scale:.4f}; intercept at 0 points: {nom.intercept:.4f}")
        for a in nom.axes:
            out.print(_table(pd.DataFrame({"value": a.labels, "points": a.points}), title=a.variable))
        out.print(_table(pd.DataFrame({"total points": nom.prob_positions, "probability": nom.prob_values}),
                         title="Total points → probability"))


# ----------------------------------------------------------------------------- roc
@app.command()
def roc(
    data: DataArg,
    outcome: OutcomeOpt,
    score: Annotated[list[str], typer.Option("--score", "-s", help="Score or probability column (give two for a DeLong test).")],
    direction: Annotated[str, typer.Option("--direction", help="auto, '<' (cases higher) or '>' (cases lower).")] = "auto",
    level: Annotated[float, typer.Option("--level")] = 0.95,
    event: EventOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """ROC curve, AUC with DeLong CI, Youden-optimal threshold; with two scores, the paired DeLong test."""
    from myorisk.modeling.roc import best_threshold, delong_test, roc_curve

    if len(score) > 2:
        raise InputError("give one or two --score columns")
    df = _read(data)
    if outcome not in df.columns:
        raise InputError(f"{data.name}: column '{outcome}' not found")
    sub = _complete(df, [*score], data.name).join(df[[outcome]], how="inner")
    sub = sub[sub[outcome].notna()]
    y, ev = _outcome01(sub, outcome, event, data.name)
    curves = []
    res_list = []
    for s in score:
        r = roc_curve(y, sub[s].to_numpy(float), direction=direction, level=level)
        b = best_threshold(r)
        res_list.append(r)
        curves.append({"score": s, "auc": r.auc, "ci_low": r.ci_low, "ci_high": r.ci_high, "se": r.se,
                       "direction": r.direction, "n_cases": r.n_cases, "n_controls": r.n_controls,
                       "best": {"threshold": b.threshold, "sensitivity": b.sensitivity,
                                "specificity": b.specificity, "ppv": b.ppv, "npv": b.npv, "youden": b.youden}})
    result: dict[str, Any] = {"outcome": outcome, "event": ev, "level": level, "curves": curves}
    if len(score) == 2:
        t = delong_test(y, sub[score[0]].to_numpy(float), sub[score[1]].to_numpy(float), level=level,
                        direction1=res_list[0].direction, direction2=res_list[1].direction)
        result["delong"] = {"z": t.z, "p": t.p, "diff": t.diff, "ci_low": t.ci_low, "ci_high": t.ci_high}
    if as_json:
        _dump(result)
        return
    fr = pd.DataFrame([{k: c[k] for k in ("score", "auc", "ci_low", "ci_high", "direction", "n_cases", "n_controls")}
                       for c in curves])
    out.print(_table(fr, title=f"ROC, outcome {outcome} = {ev} (DeLong {int(level * 100)}% CI)"))
    for c in curves:
        b = c["best"]
        out.print(f"{c['score']}: Youden-optimal threshold {_fmt(b['threshold'])} — sensitivity "
                  f"{_fmt(b['sensitivity'])}, specificity {_fmt(b['specificity'])}, PPV {_fmt(b['ppv'])}, NPV {_fmt(b['npv'])}")
    if "delong" in result:
        d = result["delong"]
        out.print(f"DeLong paired test {score[0]} vs {score[1]}: difference {_fmt(d['diff'])} "
                  f"({_fmt(d['ci_low'])} to {_fmt(d['ci_high'])}), z = {_fmt(d['z'])}, p = {_fmt_p(d['p'])}")


# ----------------------------------------------------------------------------- dca
@app.command()
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

    grid = parse_threshold_grid(thresholds)
    df = _read(data)
    if outcome not in df.columns:
        raise InputError(f"{data.name}: column '{outcome}' not found")
    sub = _complete(df, [*score], data.name).join(df[[outcome]], how="inner")
    sub = sub[sub[outcome].notna()]
    y, _ = _outcome01(sub, outcome, event, data.name)
    res = decision_curve(y, {s: sub[s].to_numpy(float) for s in score}, grid, harm=harm, prevalence=prevalence)
    if as_json:
        _dump(res.to_dict())
        return
    fr = res.to_frame()
    wide = fr.pivot(index="threshold", columns="model", values="net_benefit").reset_index()
    out.print(_table(wide[["threshold", *score, "treat_all", "treat_none"]], title="Net benefit"))


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


def _run(argv: Sequence[str] | None) -> int:
    """Run the CLI and turn every failure into an exit code and one line on stderr."""
    ex = _exc_types()
    cmd = typer.main.get_command(app)
    try:
        rv = cmd.main(args=list(argv) if argv is not None else None, prog_name="myorisk", standalone_mode=False)
        return int(rv) if isinstance(rv, int) else 0
    except ex["help"] as e:
        ctx = getattr(e, "ctx", None)
        print(ctx.get_help() if ctx is not None else cmd.get_help(cmd.make_context("myorisk", [])))
        return 0
    except ex["exit"] as e:
        return int(getattr(e, "exit_code", 0) or 0)
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
        err.print(f"myorisk: error: {e}", markup=False)
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
