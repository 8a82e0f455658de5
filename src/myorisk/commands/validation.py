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
from myorisk.commands._common import (
    CategoricalOpt,
    DataArg,
    EventOpt,
    JsonOpt,
    OutcomeOpt,
    PredictorsOpt,
    ReferenceOpt,
    err,
    out,
)
from myorisk.errors import InputError

MAX_B = 100_000  # as the study configuration's bootstrap.B; more would only exhaust memory
BootOpt = Annotated[int, typer.Option("--bootstrap", "-B", min=1, max=MAX_B, help="Number of bootstrap resamples.")]
SeedOpt = Annotated[int | None, typer.Option("--seed", min=0, help="Random seed, a whole number >= 0 (results are reproducible from it).")]
SelectOpt = Annotated[
    str | None,
    typer.Option("--select", help="Repeat this selection inside every resample: pscreen or aic (the predictors are then the candidates)."),
]
AlphaOpt = Annotated[float, typer.Option("--alpha", help="Significance level of the p-value screen.")]
ResamplesOpt = Annotated[
    Path | None,
    typer.Option("--resamples", help="CSV of bootstrap row indexes, one resample per line (e.g. drawn in R; 1-based detected)."),
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


def _prepare(data: Path, outcome: str, predictors: str, categorical, reference, event, select, alpha, resamples):
    from myorisk.modeling.design import build_design
    from myorisk.modeling.validation import SelectionSpec, normalize_resamples

    df = common.read(data)
    design = build_design(df, outcome, common.split(predictors), categorical=common.split(categorical),
                          reference=common.refs(reference), event=event, source=data.name)
    msg = design.missing.message()
    if msg:
        common.note(msg)
    selection = None
    if select is not None:
        if select not in ("pscreen", "aic"):
            raise InputError(f"--select must be pscreen or aic, not {select!r}")
        selection = SelectionSpec(method="pscreen" if select == "pscreen" else "backward_aic", alpha=alpha)
    idx = None
    if resamples is not None:
        idx = normalize_resamples(read_index_matrix(resamples), design.X.shape[0])
    return design, selection, idx


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


def register(app: typer.Typer) -> None:
    """Add ``validate`` and ``calibrate``."""

    @app.command()
    def validate(
        data: DataArg,
        outcome: OutcomeOpt,
        predictors: PredictorsOpt,
        bootstrap: BootOpt = 1000,
        seed: SeedOpt = None,
        select: SelectOpt = None,
        alpha: AlphaOpt = 0.05,
        resamples: ResamplesOpt = None,
        failure_policy: PolicyOpt = "rms65",
        auc: Annotated[bool, typer.Option("--auc", help="Also the AUC in each resample's training fit and out-of-bag patients (.632+).")] = False,
        categorical: CategoricalOpt = None,
        reference: ReferenceOpt = None,
        event: EventOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Bootstrap optimism-corrected indexes (rms validate): Dxy, R2, Intercept, Slope, Emax, D, U, Q, B, g, gp."""
        from myorisk.modeling.validation import validate as run

        design, selection, idx = _prepare(data, outcome, predictors, categorical, reference, event, select, alpha, resamples)
        with _progress("bootstrap", not as_json) as cb, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = run(design, B=bootstrap, seed=seed, resamples=idx, selection=selection,
                      failure_policy=failure_policy, auc=auc, progress=cb)
        if as_json:
            common.dump(res.to_dict())
            return
        d = res.to_dict()
        out.print(common.table(res.to_frame(), title=f"Bootstrap validation (B = {d['B']}, {d['seconds']:.2f} s)"))
        if d.get("n_failed"):
            common.note(f"{d['n_failed']} resamples failed ({d.get('failure_policy')}): {d.get('failures')}")
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

    @app.command()
    def calibrate(
        data: DataArg,
        outcome: OutcomeOpt,
        predictors: PredictorsOpt,
        bootstrap: BootOpt = 1000,
        seed: SeedOpt = None,
        select: SelectOpt = None,
        alpha: AlphaOpt = 0.05,
        resamples: ResamplesOpt = None,
        failure_policy: PolicyOpt = "rms65",
        categorical: CategoricalOpt = None,
        reference: ReferenceOpt = None,
        event: EventOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Bootstrap bias-corrected calibration curve (rms calibrate): apparent and corrected curves, MAE, MSE, E90."""
        from myorisk.modeling.calibration import calibrate as run

        design, selection, idx = _prepare(data, outcome, predictors, categorical, reference, event, select, alpha, resamples)
        with _progress("bootstrap", not as_json) as cb, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = run(design, B=bootstrap, seed=seed, resamples=idx, selection=selection,
                      failure_policy=failure_policy, progress=cb)
        if as_json:
            common.dump(res.to_dict())
            return
        d = res.to_dict()
        out.print(common.table(res.to_frame(), title=f"Bootstrap calibration (B = {d['B']}, {d['seconds']:.2f} s)"))
        out.print(f"Mean absolute error {d['mean_abs_error']:.4f}; mean squared error {d['mean_sq_error']:.5f}; "
                  f"0.9 quantile of absolute error {d['e90']:.4f}")
