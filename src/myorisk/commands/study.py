"""``myorisk study CONFIG.yaml`` and ``myorisk demo``: one command from cohort to report."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from myorisk.commands import _common as common
from myorisk.commands._common import DecimalOpt, EncodingOpt, SepOpt, err, out

WRITE_STEP = "Write report, figures and tables"


def _progress_bars(quiet: bool):
    """A rich Progress with one bar per pipeline step, and the callback feeding it."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from myorisk.study.pipeline import STEPS

    prog = Progress(SpinnerColumn(), TextColumn("{task.description:<40}"), BarColumn(bar_width=30),
                    MofNCompleteColumn(), TimeElapsedColumn(), console=err, disable=quiet,
                    transient=False)

    def factory(prefix: str = ""):
        from rich.markup import escape

        tasks = {s: prog.add_task(escape(f"{prefix}{s}"), total=1, start=False, visible=True)
                 for s in (*STEPS, WRITE_STEP)}

        def cb(step: str, done: float, total: float) -> None:
            tid = tasks.get(step)
            if tid is None:
                return
            prog.start_task(tid)
            prog.update(tid, total=max(total, 1), completed=done)

        return cb

    return prog, factory




def study(
    config: Annotated[Path, typer.Argument(help="Study configuration (YAML); see docs/study.md.")],
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: <config name>-report).")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also render report.pdf (needs Chromium).")] = False,
    bootstrap: Annotated[int | None, typer.Option("--bootstrap", "-B", min=10, max=100_000, help="Bootstrap resamples (overrides the config; default 1000).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Bootstrap seed, a whole number >= 0 (overrides the config).")] = None,
    check: Annotated[bool, typer.Option("--check", help="Only validate the configuration and data, then stop.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary (paths, AUCs) on stdout.")] = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """Run a whole prediction-model study from a YAML configuration into one report folder."""
    from myorisk.report.write import check_output_folder, write
    from myorisk.study.config import load_config
    from myorisk.study.pipeline import prepare, run

    cfg = load_config(config).with_bootstrap(B=bootstrap, seed=seed).with_reading(encoding, sep, decimal)
    target = out_dir or Path(f"{config.stem}-report")
    if not check:
        check_output_folder(target)  # a folder that cannot take the report: say so before any work
    prep = prepare(cfg)  # every check before any work
    if check:
        sets = ", ".join(f"{k}: {len(v)} rows" for k, v in prep.frames.items())
        out.print(f"{config.name}: configuration and data are valid ({sets})")
        return
    sites = _read_sites(cfg, prep)  # site files checked before any work
    if pdf:
        from myorisk.report.pdf import find_chromium

        find_chromium()
    t0 = time.perf_counter()
    prog, factory = _progress_bars(quiet or as_json)
    with prog:
        cb = factory()
        res = run(prep, progress=cb)
        cb(WRITE_STEP, 0, 1)
        report = write(res, target, pdf=pdf)
        cb(WRITE_STEP, 1, 1)
    for extra in _multicentre(cfg, prep, res, sites, report.parent, pdf):
        if not as_json:
            out.print(f"multi-centre report: {extra}")
    _finish(res, report, time.perf_counter() - t0, as_json)


def _read_sites(cfg, prep) -> list:
    """The config's site files (read and checked), and its centre column checked in every set."""
    from myorisk.errors import InputError
    from myorisk.study.multicentre import read_site

    if cfg.sites is None:
        return []
    if cfg.sites.by is not None:
        for name, df in prep.frames.items():
            if cfg.sites.by not in df.columns:
                raise InputError(f"{cfg.source}: key 'sites.by': set '{name}' has no column '{cfg.sites.by}'")
    return [read_site(cfg.resolve(f)) for f in cfg.sites.files]


def _multicentre(cfg, prep, res, sites: list, folder: Path, pdf: bool) -> list[Path]:
    """Pooled site files and internal–external cross-validation, as reports beside the study report."""
    import pandas as pd

    from myorisk.report.meta import write_meta_report
    from myorisk.study.multicentre import internal_external, pool_sites

    written = []
    if sites:
        written.append(write_meta_report(pool_sites(sites), folder / "meta-analysis", pdf=pdf))
    if cfg.sites is not None and cfg.sites.by is not None:
        data = pd.concat(list(prep.frames.values()), ignore_index=True)
        for m in res.models:
            preds = list(m.predictors)
            if not preds:
                continue
            sub = data.dropna(subset=[cfg.outcome.column, *preds])
            if sub[cfg.sites.by].nunique() < 2:
                common.note(f"internal–external validation of '{m.name}' skipped: its predictors are "
                            f"complete in fewer than 2 centres of '{cfg.sites.by}'")
                continue
            mc = internal_external(sub, cfg.outcome.column, preds, cfg.sites.by,
                                   categorical=[c for c in cfg.predictors.categorical if c in preds],
                                   reference={k: v for k, v in cfg.predictors.reference.items() if k in preds},
                                   event=cfg.outcome.event, source=cfg.source, synthetic=bool(res.synthetic))
            written.append(write_meta_report(mc, folder / f"internal-external-{m.name}", pdf=pdf))
    return written


def demo(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("myorisk-demo"),
    pdf: Annotated[bool, typer.Option("--pdf", help="Also render the reports as PDF (needs Chromium).")] = False,
    bootstrap: Annotated[int | None, typer.Option("--bootstrap", "-B", min=10, max=100_000, help="Bootstrap resamples (default 200 for the demo).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Run study A's and study B's analyses on the bundled SYNTHETIC cohorts (myorisk-demo/)."""
    from myorisk.study.demo import DEMO_B, run_demo

    t0 = time.perf_counter()
    prog, factory = _progress_bars(quiet)
    with prog:
        paths = run_demo(out_dir, B=DEMO_B if bootstrap is None else bootstrap, pdf=pdf,
                         progress_for=lambda name: factory(f"[{name}] "))
    out.print(f"Demo finished in {time.perf_counter() - t0:.1f} s (SYNTHETIC DATA).")
    out.print(f"Open {paths[0]}")
    for p in paths[1:]:
        out.print(f"  report: {p}")


def _finish(res, report: Path, seconds: float, as_json: bool) -> None:
    from myorisk.study.narrative import sample_size_warning

    summary = {
        "report": str(report), "folder": str(report.parent), "seconds": seconds,
        "synthetic": res.synthetic,
        "models": [{"name": m.name, "predictors": list(m.predictors)} for m in res.models],
        "performance": [{k: e.summary()[k] for k in ("model", "set", "n", "events", "auc", "auc_low", "auc_high")}
                        for e in res.evaluations],
        "warnings": list(res.warnings),
    }
    if as_json:
        common.dump(summary)
        return
    for e in res.evaluations:
        out.print(f"{e.model} on {e.set}: AUC {e.roc.auc:.3f} ({e.roc.ci_low:.3f}–{e.roc.ci_high:.3f}), "
                  f"n = {e.n}, {e.events} events" + (" [apparent]" if e.apparent else ""))
    w = sample_size_warning(res)
    if w:
        common.note(w)
    out.print(f"Report written to {report} ({seconds:.1f} s){' — SYNTHETIC DATA' if res.synthetic else ''}")
    _ = json  # (json summary uses common.dump)
