"""``myorisk validate`` and ``myorisk calibrate``: Harrell's optimism bootstrap (rms 6.5)."""

from __future__ import annotations

import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer

from myorisk.commands import _common as common
from myorisk.commands import _impute
from myorisk.commands._common import (
    CategoricalOpt,
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
    err,
    out,
)
from myorisk.errors import InputError

MAX_B = 100_000  # as the study configuration's bootstrap.B; more would only exhaust memory
DEFAULT_B = 1000
BootOpt = Annotated[int | None, typer.Option("--bootstrap", "-B", min=1, max=MAX_B, help=f"Number of bootstrap resamples (default {DEFAULT_B}; with --resamples, the file's).")]
SeedOpt = Annotated[int | None, typer.Option("--seed", min=0, help="Random seed, a whole number >= 0 (results are reproducible from it; without it a seed is drawn and reported).")]
SelectOpt = Annotated[
    str | None,
    typer.Option("--select", help="Repeat this selection inside every resample: pscreen, aic or lasso (10-fold cross-validated λ.min, kept terms refitted; the predictors are then the candidates)."),
]
AlphaOpt = Annotated[float, typer.Option("--alpha", help="Significance level of the p-value screen.")]
ResamplesOpt = Annotated[
    Path | None,
    typer.Option("--resamples", help="CSV of bootstrap row indexes, one resample per line (e.g. drawn in R); replaces -B and --seed."),
]
BaseOpt = Annotated[
    str,
    typer.Option("--resamples-base", help="Whether the --resamples indexes start at 1 (as R's) or 0; auto: 1 when the value n occurs, 0 when 0 does."),
]
ScreenAlphaOpt = Annotated[
    float | None,
    typer.Option("--screen-alpha", help="pscreen: significance level of the univariable screen (default: --alpha)."),
]
PolicyOpt = Annotated[
    str,
    typer.Option("--failure-policy", help="rms65: stop refits as rms 6.5 does (parity); converge: full convergence, skip separated resamples."),
]


@contextmanager
def _progress(label: str, enabled: bool):
    """A rich progress bar on a terminal (stderr); nothing otherwise."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def cb(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield cb


def _prepare(data: Path, outcome: str, predictors: str, categorical, reference, event, select, alpha, resamples,
             *, bootstrap: int | None, seed: int | None, base: str, screen_alpha: float | None,
             encoding: str | None = None, sep: str | None = None, decimal: str | None = None):
    """Design, selection, index matrix, B and seed of a validate/calibrate call (all checked first)."""
    from myorisk.modeling.design import build_design
    from myorisk.modeling.validation import SelectionSpec, normalize_resamples

    if base not in ("auto", "0", "1"):
        raise InputError(f"--resamples-base must be auto, 0 or 1, not {base!r}")
    if resamples is None and base != "auto":
        raise InputError("--resamples-base goes with --resamples FILE")
    if resamples is not None and seed is not None:
        raise InputError("--seed has no effect with --resamples (the file fixes every resample); drop one")
    if screen_alpha is not None and select != "pscreen":
        raise InputError("--screen-alpha goes with --select pscreen")
    if screen_alpha is not None and not 0.0 < screen_alpha < 1.0:
        raise InputError(f"--screen-alpha must be between 0 and 1, not {screen_alpha}")
    if not 0.0 < alpha < 1.0:
        raise InputError(f"--alpha must be between 0 and 1, not {alpha}")

    df = common.read(data, encoding, sep, decimal)
    design = build_design(df, outcome, common.columns_list(predictors), categorical=common.split(categorical),
                          reference=common.refs(reference), event=event, source=data.name)
    msg = design.missing.message()
    if msg:
        common.note(msg)
    selection = None
    if select is not None and any(t.kind == "interaction" for t in design.terms):
        raise InputError("--select drops whole terms and could keep an interaction without its main effects: "
                         "validate a model with interactions as prespecified (without --select)")
    if select is not None:
        if select not in ("pscreen", "aic", "lasso"):
            raise InputError(f"--select must be pscreen, aic or lasso, not {select!r}")
        method = {"pscreen": "pscreen", "aic": "backward_aic", "lasso": "lasso"}[select]
        selection = SelectionSpec(method=method, alpha=alpha, screen_alpha=screen_alpha,
                                  seed=seed if seed is not None else 0)
    idx = None
    if resamples is not None:
        raw = read_index_matrix(resamples)
        try:
            idx = normalize_resamples(raw, design.X.shape[0], base=base if base == "auto" else int(base))
        except InputError as e:
            e = e.with_file(resamples.name, replace=True)
            if base == "auto" and e.option and e.option[0] == "base":
                e = e.with_hint("give --resamples-base 1 (R's sample()) or 0")
            raise e from None
        if bootstrap is not None and bootstrap != idx.shape[0]:
            raise InputError(f"--bootstrap {bootstrap} does not match the {idx.shape[0]} resamples in "
                             f"{resamples.name}; drop --bootstrap")
        return design, selection, idx, idx.shape[0], None, common.watermark(df)
    if seed is None:  # reproducible all the same: the drawn seed is reported
        seed = int(np.random.SeedSequence().entropy % (2**31))
    return design, selection, idx, bootstrap if bootstrap is not None else DEFAULT_B, seed, common.watermark(df)


def read_index_matrix(path: Path) -> np.ndarray:
    """Read a bootstrap index matrix: one resample per line, indexes separated by commas or spaces.

    An optional header line (any non-numeric first line, as R's ``write.csv`` writes) is skipped.
    """
    if not path.exists():
        raise InputError(f"{path}: file not found")
    rows: list[list[int]] = []
    with path.open("rb") as fh:
        raw = fh.read()
    if b"\0" in raw:
        raise InputError(f"{path.name}: is a binary file, not a text table of indexes")
    lines = raw.decode("utf-8", errors="replace").splitlines()
    for lineno, line in enumerate(lines, start=1):
        cells = [c.strip().strip('"') for c in line.replace(",", " ").replace(";", " ").split()]
        if not cells:
            continue
        try:
            vals = [float(c) for c in cells]
        except ValueError:
            if not rows and lineno == 1:
                continue  # header
            bad = next(c for c in cells if not _is_number(c))
            raise InputError(f"{path.name}: row {lineno}: '{bad}' is not a whole number") from None
        if any(not v.is_integer() for v in vals):
            raise InputError(f"{path.name}: row {lineno}: indexes must be whole numbers")
        rows.append([int(v) for v in vals])
    if not rows:
        raise InputError(f"{path.name}: holds no resamples")
    widths = {len(r) for r in rows}
    if len(widths) > 1:
        raise InputError(f"{path.name}: resamples have different lengths ({', '.join(map(str, sorted(widths)))})")
    return np.asarray(rows, dtype=np.int64)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _drawn(seed: int | None, resamples: Path | None) -> str:
    return f"resamples from {resamples.name}" if resamples is not None else f"seed {seed}"


def _note_failures(d: dict) -> None:
    if d.get("n_failed"):
        reasons = ", ".join(f"{k} {v}" for k, v in (d.get("failures") or {}).items() if v)
        common.note(f"{d['n_failed']} of {d['B']} resamples failed and were skipped ({d.get('failure_policy')}"
                    f"{': ' + reasons if reasons else ''})")




def validate(
    data: DataArg,
    outcome: OutcomeOpt,
    predictors: PredictorsOpt,
    bootstrap: BootOpt = None,
    seed: SeedOpt = None,
    select: SelectOpt = None,
    alpha: AlphaOpt = 0.05,
    screen_alpha: ScreenAlphaOpt = None,
    resamples: ResamplesOpt = None,
    resamples_base: BaseOpt = "auto",
    failure_policy: PolicyOpt = "rms65",
    auc: Annotated[bool, typer.Option("--auc", help="Also the AUC in each resample's training fit and out-of-bag patients (.632+).")] = False,
    categorical: CategoricalOpt = None,
    reference: ReferenceOpt = None,
    event: EventOpt = None,
    by: Annotated[str | None, typer.Option("--by", help="Internal–external cross-validation: leave out each centre of this column in turn, develop on the rest, validate on it, then meta-analyse.")] = None,
    firth: Annotated[bool, typer.Option("--firth", help="With --by: Firth's penalised likelihood for the development fits.")] = False,
    plot: Annotated[Path | None, typer.Option("--plot", help="With --by: forest plots of the centres; with --auc: the resampled AUCs (the report's boxplot). .png, .svg or .pdf.")] = None,
    impute: _impute.ImputeOpt = None,
    ci: Annotated[bool, typer.Option("--ci", help="Intervals for every corrected index: location-shifted bootstrap (Noma et al. 2021).")] = False,
    level: Annotated[float, typer.Option("--level", help="Confidence level of --ci.")] = 0.95,
    maxit: _impute.MaxitOpt = 10,
    auxiliary: _impute.AuxiliaryOpt = None,
    workers: common.WorkersOpt = None,
    scheduler: common.SchedulerOpt = None,
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """Bootstrap optimism-corrected indexes (rms validate): Dxy, R2, Intercept, Slope, Emax, D, U, Q, B, g, gp;
    with --by CENTRE, internal–external cross-validation by centre pooled by random-effects meta-analysis."""
    if impute is not None or ci:
        from myorisk.commands._impute_validation import run_validate

        if auc:
            raise InputError("--auc is not available with --impute or --ci; run validate --auc separately")
        if by is not None or firth:
            raise InputError("--by (cross-validation by centre, with --firth) does not go with --impute or --ci")
        if plot is not None:
            raise InputError("--plot is not available with --impute or --ci")

        run_validate(data, outcome, predictors, bootstrap=bootstrap, seed=seed, select=select, alpha=alpha,
                 screen_alpha=screen_alpha, resamples=resamples, failure_policy=failure_policy,
                 categorical=categorical, reference=reference, event=event, impute=impute, ci=ci, level=level,
                 maxit=maxit, auxiliary=auxiliary, workers=workers, scheduler=scheduler, as_json=as_json,
                 read=(encoding, sep, decimal))
        return
    from myorisk.modeling.validation import validate as run

    if by is not None:
        bootstrap_only = [o for o, v in (("--bootstrap", bootstrap), ("--seed", seed), ("--select", select),
                                         ("--screen-alpha", screen_alpha), ("--resamples", resamples))
                          if v is not None]
        bootstrap_only += ["--auc"] if auc else []
        bootstrap_only += ["--failure-policy"] if failure_policy != "rms65" else []
        bootstrap_only += ["--resamples-base"] if resamples_base != "auto" else []
        bootstrap_only += [o for o, v in (("--workers", workers), ("--scheduler", scheduler)) if v is not None]
        if bootstrap_only:
            raise InputError(f"{', '.join(bootstrap_only)} belong(s) to the bootstrap; --by validates by leaving "
                             "out centres instead")
        _validate_by(data, outcome, predictors, by, categorical, reference, event, firth, plot, as_json,
                     (encoding, sep, decimal))
        return
    if firth:
        raise InputError("--firth goes with --by CENTRE")
    if plot is not None and not auc:
        raise InputError("--plot draws the resampled AUCs (give --auc) or the centres' forest plots (give --by)")
    common.check_plot(plot, data, resamples)
    design, selection, idx, B, seed, wm = _prepare(
        data, outcome, predictors, categorical, reference, event, select, alpha, resamples,
        bootstrap=bootstrap, seed=seed, base=resamples_base, screen_alpha=screen_alpha,
        encoding=encoding, sep=sep, decimal=decimal)
    with common.executor_for(workers, scheduler) as ex, _progress("bootstrap", not as_json) as cb, \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run(design, B=B, seed=seed, resamples=idx, selection=selection,
                  failure_policy=failure_policy, auc=auc, progress=cb, executor=ex)
    d = {**res.to_dict(), "seed": seed, "resamples": str(resamples) if resamples is not None else None,
         "missing": design.missing.to_dict()}
    if plot is not None and res.auc is not None:
        from myorisk.report import figures as F

        common.save_plot(F.auc_boxplot([("model", res.auc)], title="AUC in bootstrap resamples",
                                       watermark=wm),
                         plot, quiet=as_json)
    if as_json:
        common.dump(d)
        return
    out.print(common.table(res.to_frame(), title=f"Bootstrap validation (B = {d['B']}, {_drawn(seed, resamples)}, "
                                                 f"{d['seconds']:.2f} s)"))
    _note_failures(d)
    if d.get("selection_frequency"):
        fr = pd.DataFrame([{"variable": k, "selected": v} for k, v in d["selection_frequency"].items()])
        out.print(common.table(fr, title="How often each candidate was selected"))
    if d.get("selection_empty"):
        common.note(f"in {100 * d['selection_empty']:.1f}% of resamples the selection kept no predictor "
                    "(the screened-in model was separated or nothing passed); those resamples count "
                    "as intercept-only models, as the procedure delivers them (Intercept and Slope are undefined there)")
    if d.get("selected"):
        out.print(f"selected in the original data: {', '.join(d['selected'])}")
    if d.get("resampled_auc"):
        ra = d["resampled_auc"]
        rows = []
        for key, label in (("train", "training fit (in-bag)"), ("oob", "out-of-bag patients")):
            s = ra.get(key) or {}
            rows.append({"AUC in": label, "mean": s.get("mean"), "median": s.get("median"),
                         "2.5%": s.get("q025"), "97.5%": s.get("q975")})
        out.print(common.table(pd.DataFrame(rows), title="Resampled AUC"))
        out.print(f"apparent AUC {common.fmt(ra.get('apparent'))}; .632 estimate {common.fmt(ra.get('auc_632'))}; "
                  f".632+ estimate {common.fmt(ra.get('auc_632plus'))}")


def calibrate(
    data: DataArg,
    outcome: OutcomeOpt,
    predictors: PredictorsOpt,
    bootstrap: BootOpt = None,
    seed: SeedOpt = None,
    select: SelectOpt = None,
    alpha: AlphaOpt = 0.05,
    screen_alpha: ScreenAlphaOpt = None,
    resamples: ResamplesOpt = None,
    resamples_base: BaseOpt = "auto",
    failure_policy: PolicyOpt = "rms65",
    categorical: CategoricalOpt = None,
    reference: ReferenceOpt = None,
    event: EventOpt = None,
    plot: PlotOpt = None,
    impute: _impute.ImputeOpt = None,
    ci: Annotated[bool, typer.Option("--ci", help="Intervals for every corrected index: location-shifted bootstrap (Noma et al. 2021).")] = False,
    level: Annotated[float, typer.Option("--level", help="Confidence level of --ci.")] = 0.95,
    maxit: _impute.MaxitOpt = 10,
    auxiliary: _impute.AuxiliaryOpt = None,
    workers: common.WorkersOpt = None,
    scheduler: common.SchedulerOpt = None,
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """Bootstrap bias-corrected calibration curve (rms calibrate): apparent and corrected curves, MAE, MSE, E90."""
    if impute is not None or ci:
        from myorisk.commands._impute_validation import run_calibrate

        if plot is not None:
            raise InputError("--plot is not available with --impute or --ci")

        run_calibrate(data, outcome, predictors, bootstrap=bootstrap, seed=seed, select=select, alpha=alpha,
                 screen_alpha=screen_alpha, resamples=resamples, failure_policy=failure_policy,
                 categorical=categorical, reference=reference, event=event, impute=impute, ci=ci, level=level,
                 maxit=maxit, auxiliary=auxiliary, workers=workers, scheduler=scheduler, as_json=as_json,
                 read=(encoding, sep, decimal))
        return
    from myorisk.modeling.calibration import calibrate as run

    common.check_plot(plot, data, resamples)
    design, selection, idx, B, seed, wm = _prepare(
        data, outcome, predictors, categorical, reference, event, select, alpha, resamples,
        bootstrap=bootstrap, seed=seed, base=resamples_base, screen_alpha=screen_alpha,
        encoding=encoding, sep=sep, decimal=decimal)
    with common.executor_for(workers, scheduler) as ex, _progress("bootstrap", not as_json) as cb, \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run(design, B=B, seed=seed, resamples=idx, selection=selection,
                  failure_policy=failure_policy, progress=cb, executor=ex)
    d = {**res.to_dict(), "seed": seed, "resamples": str(resamples) if resamples is not None else None,
         "missing": design.missing.to_dict()}
    if plot is not None:
        if d["mean_abs_error"] is None:
            raise InputError("--plot: no usable resample, so there is no bias-corrected curve to draw")
        from myorisk.report import figures as F

        common.save_plot(F.calibration_plot(res, res.predictions, y=res.y, title=f"Calibration: {outcome}",
                                            watermark=wm), plot, quiet=as_json)
    if as_json:
        common.dump(d)
        return
    frame = res.to_frame().assign(n=lambda f: f["n"].astype(int))
    out.print(common.table(frame, title=f"Bootstrap calibration (B = {d['B']}, {_drawn(seed, resamples)}, "
                                        f"{d['seconds']:.2f} s)"))
    _note_failures(d)
    if d["mean_abs_error"] is None:
        common.note("no usable resample: the bias-corrected curve and its errors are undefined")
    else:
        out.print(f"Mean absolute error {d['mean_abs_error']:.4f}; mean squared error {d['mean_sq_error']:.5f}; "
                  f"0.9 quantile of absolute error {d['e90']:.4f}")


def _validate_by(data: Path, outcome: str, predictors: str, by: str, categorical, reference, event,
                 firth: bool, plot: Path | None, as_json: bool, read_options=(None, None, None)) -> None:
    """``validate --by CENTRE``: internal–external cross-validation, then random-effects pooling."""
    from myorisk.commands.multicentre import _is_synthetic, _print_meta, _save_fig
    from myorisk.study.multicentre import internal_external

    if plot is not None and plot.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise InputError(f"--plot must end in .png, .svg or .pdf, not {plot.name!r}")
    common.guard_output(plot, "--plot", data)
    from myorisk.modeling.terms import parse_terms

    preds = common.columns_list(predictors)
    variables = list(dict.fromkeys(v for e in parse_terms(preds) for v in e.variables))  # rcs(x, 4), a*b
    df = common.read(data, *read_options)
    for c in [outcome, by, *variables]:
        if c not in df.columns:
            raise InputError(f"{data.name}: column '{c}' not found")
    need = [outcome, *variables]
    miss = df[need].isna().any(axis=1).to_numpy()
    if miss.any():
        common.note(f"{data.name}: {int(miss.sum())} rows with a missing outcome or predictor were excluded "
                    f"({common.rows_text(df.index[miss])})")
        df = df.loc[~miss]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = internal_external(df, outcome, preds, by, categorical=common.categorical_list(categorical, preds),
                                reference=common.refs(reference), event=event, firth=firth, source=data.name,
                                synthetic=_is_synthetic(df))
    if plot is not None:
        from myorisk.report.figures import meta_forest_panel

        _save_fig(meta_forest_panel(res, watermark="SYNTHETIC DATA" if res.synthetic else None), plot)
    if as_json:
        common.dump({"by": by, **res.to_dict()})
        return
    out.print(f"Internal–external cross-validation by '{by}': each centre validates a model developed on the others")
    _print_meta(res)
    if plot is not None:
        out.print(f"forest plots written to {plot}")
