"""``myorisk impute``: multiple imputation by chained equations, written in long format."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from myorisk.commands import _common as common
from myorisk.commands import _impute
from myorisk.commands._common import (
    CategoricalOpt,
    DataArg,
    DecimalOpt,
    EncodingOpt,
    JsonOpt,
    OutcomeOpt,
    PredictorsOpt,
    SepOpt,
    out,
)
from myorisk.errors import InputError

_FIG = (".png", ".svg", ".pdf")


def _fig_path(path: Path | None, option: str, data: Path) -> None:
    if path is None:
        return
    common.guard_output(path, option, data)
    if path.suffix.lower() not in _FIG:
        raise InputError(f"{option} {path}: give a .png, .svg or .pdf file name")


def impute(
    data: DataArg,
    outcome: OutcomeOpt,
    predictors: PredictorsOpt,
    m: Annotated[int, typer.Option("--m", "-m", min=0, max=500, help="Number of imputations (0: from the share of incomplete rows, White et al.).")] = 0,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Seed (the imputations depend on it alone; drawn and reported if omitted).")] = None,
    maxit: _impute.MaxitOpt = 10,
    auxiliary: _impute.AuxiliaryOpt = None,
    categorical: CategoricalOpt = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the completed data sets in long format (.imp, .id first; CSV), as mice::complete(imp, \"long\").")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Trace plots of the chains (mean and SD of imputed values per iteration); PNG, SVG or PDF.")] = None,
    plot_densities: Annotated[Path | None, typer.Option("--plot-densities", help="Observed vs imputed distributions per variable; PNG, SVG or PDF.")] = None,
    plot_missing: Annotated[Path | None, typer.Option("--plot-missing", help="Share missing per variable; PNG, SVG or PDF.")] = None,
    as_json: JsonOpt = False,
    encoding: EncodingOpt = None, sep: SepOpt = None, decimal: DecimalOpt = None,
) -> None:
    """Impute missing values by chained equations (PMM, logistic, polytomous; outcome in every model).

    The long file can be given to fit --imputations (Rubin's rules) or to R's mice (as.mids).
    """
    from myorisk.atomic import write_text_atomic

    preds = common.columns_list(predictors)
    cats = common.categorical_list(categorical, preds)
    common.guard_output(output, "--output", data)
    if output is not None and output.suffix.lower() != ".csv":
        raise InputError(f"--output {output}: the long format is written as CSV; give a .csv file name")
    for p, opt in ((plot, "--plot"), (plot_densities, "--plot-densities"), (plot_missing, "--plot-missing")):
        _fig_path(p, opt, data)
    seed = _impute.drawn_seed(seed)
    df = common.read(data, encoding, sep, decimal)
    _, imp = _impute.imputed_sets(df, outcome, preds, m=m or None, seed=seed, maxit=maxit, categorical=cats,
                                  auxiliary=auxiliary, source=data.name)
    if output is not None:
        write_text_atomic(output, imp.long().to_csv(index=False))
    if plot is not None or plot_densities is not None or plot_missing is not None:
        from myorisk.report import figures

        plt = figures._plt()  # Agg backend first

        def draw(fig, path: Path) -> None:
            try:
                figures.save(fig, path.with_suffix(""), formats=(path.suffix.lower()[1:],))
            finally:
                plt.close(fig)

        for path, fn in ((plot, figures.mice_trace_plot), (plot_densities, figures.mice_density_plot)):
            if path is not None:
                if not imp.imputed:
                    raise InputError(f"{data.name}: no value is missing in {', '.join([outcome, *preds])}; "
                                     "nothing to plot")
                draw(fn(imp), path)
        if plot_missing is not None:
            draw(figures.missing_share_plot(imp.missing), plot_missing)
    if as_json:
        common.dump({**imp.to_dict(), "output": str(output) if output else None})
        return
    out.print(common.table(imp.to_frame(), title=f"Multiple imputation by chained equations: m = {imp.m}, "
                                                  f"{imp.maxit} iterations, seed {seed}",
                           formats={"share": lambda v: f"{100 * v:.1f}%"}))
    out.print(f"{100 * imp.share_incomplete:.1f}% of rows incomplete; the outcome '{outcome}' is in every "
              "imputation model")
    for path in (output, plot, plot_densities, plot_missing):
        if path is not None:
            out.print(f"written: {path}")
