"""``myorisk site-summary`` (one centre's shareable aggregates) and ``myorisk meta`` (pooling them).

Multi-centre external validation without pooling patient data: each centre writes a site file
with ``site-summary``; a coordinator pools the files with ``meta`` (random effects, REML,
Hartung–Knapp–Sidik–Jonkman, prediction intervals, forest plots, report).
"""

from __future__ import annotations

import json
import math
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
    ExtrapolateOpt,
    JsonOpt,
    SepOpt,
    out,
)
from myorisk.errors import InputError


def _floats(text: str, option: str) -> list[float]:
    vals = []
    for t in common.split(text):
        try:
            vals.append(float(t))
        except ValueError:
            raise InputError(f"{option}: '{t}' is not a number") from None
    if not vals:
        raise InputError(f"{option}: give at least one value")
    return vals


def _range(text: str | None, option: str) -> tuple[float | None, float | None] | None:
    """``LOW:HIGH`` with either side optional (``0.7:`` = above 0.7)."""
    if text is None:
        return None
    if ":" not in text:
        raise InputError(f"{option} must look like LOW:HIGH (either side may be empty), not {text!r}")
    a, b = text.split(":", 1)
    try:
        lo = float(a) if a.strip() else None
        hi = float(b) if b.strip() else None
    except ValueError:
        raise InputError(f"{option} must look like LOW:HIGH with numbers, not {text!r}") from None
    if lo is None and hi is None:
        raise InputError(f"{option}: give at least one side of LOW:HIGH")
    if lo is not None and hi is not None and hi <= lo:
        raise InputError(f"{option}: HIGH must exceed LOW in {text!r}")
    return lo, hi


def site_summary(
    data: DataArg,
    model: Annotated[str, typer.Option("--model", help="A published model's name (see `myorisk models`) or a model spec JSON file.")],
    site: Annotated[str, typer.Option("--site", help="Name of this centre (written into the file).")],
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Site file to write (JSON).")] = None,
    outcome: Annotated[str | None, typer.Option("--outcome", "-y", help="Outcome column (default: the model's outcome).")] = None,
    event: EventOpt = None,
    min_cell: Annotated[int, typer.Option("--min-cell", min=0, help="Suppress counts below this (small-cell rule); 0 turns it off.")] = 5,
    thresholds: Annotated[str, typer.Option("--thresholds", help="Comma-separated risk thresholds for net benefit.")] = "0.1,0.2,0.3",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what the file would contain; write nothing.")] = False,
    extrapolate: ExtrapolateOpt = False,
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """Summarise a model's performance in one centre as a shareable site file: aggregates only
    (O/E, calibration, C, Brier, net benefit, calibration table, case mix), small cells suppressed."""
    from myorisk.published.files import load_spec
    from myorisk.study.multicentre import describe_site, summarise_frame

    if out_path is None and not dry_run:
        raise InputError("give --out SITE.json (or --dry-run to only see the contents)")
    if out_path is not None and out_path.suffix.lower() != ".json":
        raise InputError(f"--out must be a .json file, not {out_path.name!r}")
    common.guard_output(out_path, "--out", data)
    if out_path is not None and not out_path.absolute().parent.is_dir():
        raise InputError(f"--out {out_path}: folder '{out_path.parent}' does not exist")
    thr = _floats(thresholds, "--thresholds")
    spec = load_spec(model)
    df = common.read(data, encoding, sep, decimal)
    doc, excluded, scored = summarise_frame(df, spec, site=site, outcome=outcome, event=event, min_cell=min_cell,
                                            thresholds=thr, source=data.name, extrapolate=extrapolate or None,
                                            synthetic=_is_synthetic(df))
    common.note_extrapolation(spec, scored, data.name)
    for k, v in excluded.items():  # local notes only (row counts, never written when small)
        if v:
            common.note(f"{data.name}: {v} row(s) excluded ({k.replace('_', ' ')})")
    if spec.notice():
        common.note(spec.notice())
    if as_json:
        common.dump(doc)
    else:
        out.print(f"The site file {'would contain' if dry_run else 'contains'}:")
        for line in describe_site(doc):
            out.print(f"  - {line}")
    if dry_run:
        return
    from myorisk.atomic import write_text_atomic

    write_text_atomic(out_path, json.dumps(doc, indent=2, allow_nan=False) + "\n")
    if not as_json:
        out.print(f"wrote {out_path}")


def _is_synthetic(df: pd.DataFrame) -> bool:
    """True for myorisk's synthetic cohorts (a ``synthetic`` column that is 1/True throughout)."""
    if "synthetic" not in df.columns:
        return False
    v = df["synthetic"]
    return bool(len(v)) and bool(v.astype(str).str.strip().str.lower().isin(("1", "true", "yes")).all())


def meta(
    files: Annotated[list[Path], typer.Argument(help="Site files written by `myorisk site-summary` (two or more).")],
    c_range: Annotated[str, typer.Option("--c-acceptable", help="Acceptable C in a new centre, LOW:HIGH (either side may be empty).")] = "0.7:",
    oe_range: Annotated[str, typer.Option("--oe-acceptable", help="Acceptable O/E, LOW:HIGH.")] = "0.9:1.1",
    slope_range: Annotated[str, typer.Option("--slope-acceptable", help="Acceptable calibration slope, LOW:HIGH.")] = "0.9:1.1",
    citl_range: Annotated[str, typer.Option("--citl-acceptable", help="Acceptable calibration-in-the-large, LOW:HIGH.")] = "-0.1:0.1",
    plot: Annotated[Path | None, typer.Option("--plot", help="Forest plots of C, O/E, slope and CITL: .png, .svg or .pdf.")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Folder for an HTML report with figures and tables.")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="With --report: also print the report to PDF (Chromium).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Random-effects meta-analysis of site files: pooled C, O/E, calibration slope and CITL with
    REML τ², Hartung–Knapp–Sidik–Jonkman CIs, 95% prediction intervals, I² and the probability
    that performance in a new centre is acceptable."""
    from myorisk.study.multicentre import pool_sites, read_site

    if len(files) < 2:
        raise InputError(f"meta needs at least 2 site files, got {len(files)}")
    seen: dict[Path, Path] = {}
    for f in files:
        r = f.resolve()
        if r in seen:
            raise InputError(f"{f} is given twice")
        seen[r] = f
    if pdf and report is None:
        raise InputError("--pdf needs --report DIR")
    if plot is not None and plot.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise InputError(f"--plot must end in .png, .svg or .pdf, not {plot.name!r}")
    for f in files:
        common.guard_output(plot, "--plot", f)
    acc = {"c": _range(c_range, "--c-acceptable"), "oe": _range(oe_range, "--oe-acceptable"),
           "slope": _range(slope_range, "--slope-acceptable"), "citl": _range(citl_range, "--citl-acceptable")}
    if report is not None:
        from myorisk.report.write import check_output_folder

        try:
            check_output_folder(report)
        except InputError as e:
            raise InputError(str(e).replace("--out folder", "--report folder")) from None
    docs = [read_site(f) for f in files]
    res = pool_sites(docs, acceptable=acc)
    if plot is not None:
        from myorisk.report.figures import meta_forest_panel

        fig = meta_forest_panel(res, watermark="SYNTHETIC DATA" if res.synthetic else None)
        _save_fig(fig, plot)
    written = None
    if report is not None:
        from myorisk.report.meta import write_meta_report

        written = write_meta_report(res, report, pdf=pdf)
    if as_json:
        common.dump(res.to_dict())
        return
    _print_meta(res)
    if plot is not None:
        out.print(f"forest plots written to {plot}")
    if written is not None:
        out.print(f"report written to {written}")


def _save_fig(fig: Any, path: Path) -> None:
    import io

    from myorisk.atomic import write_bytes_atomic

    buf = io.BytesIO()
    fmt = path.suffix.lower().lstrip(".")
    fig.savefig(buf, format=fmt, dpi=200, bbox_inches="tight",
                metadata={"Date": None} if fmt == "svg" else None)
    import matplotlib.pyplot as plt

    plt.close(fig)
    write_bytes_atomic(path, buf.getvalue())


def _fmt_range(lo: float | None, hi: float | None) -> str:
    if lo is None:
        return f"< {hi:g}"
    if hi is None:
        return f"> {lo:g}"
    return f"{lo:g} to {hi:g}"


def _fmt_prob(p: float) -> str:
    return "NA" if p is None or not math.isfinite(p) else f"{p:.2f}"


def _ci(est: float, lo: float, hi: float, digits: int) -> str:
    """``0.83 (0.75–0.89)``; ``0.25 (-0.15 to 0.65)`` when a limit is negative (a dash beside a minus
    sign misreads), as the forest plot writes it."""
    return f"{est:.{digits}f} ({_interval(lo, hi, digits)})"


def _interval(lo: float, hi: float, digits: int) -> str:
    sep = " to " if min(lo, hi) < 0 else "–"
    return f"{lo:.{digits}f}{sep}{hi:.{digits}f}"


def _print_meta(res: Any) -> None:
    f = common.fmt
    rows = []
    for s in res.sites:
        rows.append({"site": s["site"], "n": s["n"], "events": s["events"],
                     "C (95% CI)": _ci(s["c"], s["c_low"], s["c_high"], 3),
                     "O/E (95% CI)": _ci(s["oe"], s["oe_low"], s["oe_high"], 2),
                     "slope (95% CI)": _ci(s["slope"], s["slope_low"], s["slope_high"], 2),
                     "CITL (95% CI)": _ci(s["citl"], s["citl_low"], s["citl_high"], 2)})
    title = "Centres" + (f" (model '{res.model['name']}')" if res.model else "")
    out.print(common.table(pd.DataFrame(rows), title=title))
    names = {"c": "C statistic", "oe": "O/E", "slope": "Calibration slope", "citl": "Calibration-in-the-large"}
    prow = []
    for m, ma in res.pooled.items():
        d = ma.to_dict()
        digits = 3 if m == "c" else 2
        lo, hi = res.acceptable[m]
        prow.append({"measure": names[m],
                     "pooled (95% CI)": _ci(d["estimate"], d["low"], d["high"], digits),
                     "95% prediction interval": _interval(d["pi_low"], d["pi_high"], digits),
                     "τ²": f(d["tau2"]), "I² (%)": f"{d['i2']:.1f}",
                     "P(acceptable in a new centre)": f"{_fmt_prob(res.probability(m))} ({_fmt_range(lo, hi)})"})
    out.print(common.table(pd.DataFrame(prow), title=f"Random-effects meta-analysis of {len(res.sites)} centres "
                           "(REML, Hartung–Knapp–Sidik–Jonkman; C pooled on the logit scale, O/E on the log scale)"))
    for n in res.notes:
        common.note(n)
