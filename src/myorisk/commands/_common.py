"""Helpers shared by every command module: reading data, printing tables and JSON, options."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from myorisk.errors import InputError, did_you_mean

if TYPE_CHECKING:  # numpy and pandas load when a command uses them, not for --help
    import numpy as np
    import pandas as pd


def _width(stream: Any) -> int | None:
    """Terminal width on a terminal; wide enough for any table when piped (rich would cut at 80)."""
    try:
        return None if stream.isatty() else 1000
    except (AttributeError, ValueError):
        return None


# emoji=False: a value such as 'a:b:c' must print as typed, never as ':b:' → emoji.
out = Console(highlight=False, soft_wrap=True, emoji=False, width=_width(sys.stdout))
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False, width=_width(sys.stderr))

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
PlotOpt = Annotated[
    Path | None,
    typer.Option("--plot", help="Also draw the figure (the one the study report draws) to FILE: .png, .svg or .pdf."),
]

#: --plot formats by file extension (matplotlib format names).
PLOT_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def check_plot(path: Path | None, *inputs: Path | str | None) -> None:
    """Refuse a --plot FILE before any work: unknown extension, missing folder, or an input file."""
    if path is None:
        return
    ext = Path(path).suffix.lower()
    if ext not in PLOT_FORMATS:
        raise InputError(f"--plot {path}: the figure format is chosen by the extension; use .png, .svg or .pdf"
                         f"{f', not {ext}' if ext else ''}")
    folder = Path(path).parent
    if str(folder) and not folder.is_dir():
        raise InputError(f"--plot {path}: folder {folder} does not exist")
    guard_output(path, "--plot", *inputs)


def watermark(df: pd.DataFrame) -> str | None:
    """"SYNTHETIC DATA" for a file exported from the bundled synthetic cohorts (column synthetic = 1)."""
    if "synthetic" in df.columns:
        import pandas as pd

        vals = pd.to_numeric(df["synthetic"], errors="coerce")
        if len(vals) and (vals == 1).all():
            return "SYNTHETIC DATA"
    return None


def save_plot(fig: Any, path: Path, *, quiet: bool = False) -> None:
    """Write a figure atomically in the format of ``path``'s extension (300 dpi PNG, SVG, PDF)."""
    import io

    from myorisk.atomic import write_bytes_atomic

    fmt_ = PLOT_FORMATS[Path(path).suffix.lower()]
    buf = io.BytesIO()
    meta = {"Date": None} if fmt_ == "svg" else ({"CreationDate": None} if fmt_ == "pdf" else None)
    fig.savefig(buf, format=fmt_, dpi=300, bbox_inches="tight", metadata=meta)
    import matplotlib.pyplot as plt

    plt.close(fig)
    write_bytes_atomic(path, buf.getvalue())
    if not quiet:
        out.print(f"figure written to {path}", markup=False)


EncodingOpt = Annotated[str | None, typer.Option(
    "--encoding", help="Text encoding of a CSV/TSV file (utf-8, gb18030, gbk, cp1252, utf-16…); default: detected "
                       "(byte-order mark, UTF-8, GB18030 or Windows-1252), refused when unclear.")]
SepOpt = Annotated[str | None, typer.Option(
    "--sep", help="Separator of a CSV/TSV file: ',' ';' 'tab' or '|'; default: detected.")]
DecimalOpt = Annotated[str | None, typer.Option(
    "--decimal", help="Decimal mark of a CSV/TSV file: '.' or ','; default: detected ('.' in a comma-separated file).")]


class CiMethod(str, Enum):
    wald = "wald"
    profile = "profile"


ExtrapolateOpt = Annotated[bool, typer.Option(
    "--extrapolate",
    help="Score values outside every variable's range in the model spec (published models refuse them "
         "otherwise; a fitted model's development-data ranges are always extrapolated, with a note).")]


def note_extrapolation(spec: Any, scored: pd.DataFrame, source: str) -> None:
    """A note on stderr naming the rows a model scored outside its ranges (never silently)."""
    from myorisk.modeling.spec import extrapolation_note

    msg = extrapolation_note(spec, scored.attrs.get("extrapolated", {}), source)
    if msg:
        note(msg)


def split(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def columns_list(text: str | None, option: str = "--predictors") -> list[str]:
    """A required comma-separated list of columns or terms (``rcs(x, 4)``, ``a*b``): at least one, none twice.

    Commas inside parentheses or brackets (``rcs(x, knots=[1, 2, 3])``) do not split.
    """
    from myorisk.modeling.terms import split_terms

    names = split_terms(text or "")
    if not names:
        raise InputError(f"{option}: give at least one column name (comma-separated)")
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise InputError(f"{option}: column '{n}' is listed twice")
        seen.add(n)
    return names


def categorical_list(text: str | None, predictors: Sequence[str]) -> list[str]:
    """--categorical columns; each must be one of the predictors (a typo would otherwise be ignored)."""
    from myorisk.modeling.terms import parse_terms

    cats = split(text)
    variables = list(dict.fromkeys(v for e in parse_terms(predictors) for v in e.variables))
    for c in cats:
        if c not in variables:
            raise InputError(f"--categorical: '{c}' is not one of the predictors ({', '.join(variables)})")
    return cats


def guard_output(output: Path | None, option: str, *inputs: Path | str | None) -> None:
    """Refuse an output path that is one of the input files (it would be overwritten)."""
    if output is None:
        return
    target = Path(output).resolve()
    for src in inputs:
        if src is not None and Path(src).exists() and Path(src).resolve() == target:
            raise InputError(f"{option} {output} would overwrite the input file {Path(src).name}; choose another name")


MAX_GRID = 100_000


def check_grid_size(text: str, option: str = "--thresholds") -> None:
    """Refuse a FROM:TO:STEP grid with more than MAX_GRID points before it is built (memory)."""
    parts = text.split(":")
    if len(parts) != 3:
        return  # the parser reports the format
    try:
        lo, hi, step = (float(p) for p in parts)
    except ValueError:
        return
    if step > 0 and math.isfinite(lo) and math.isfinite(hi) and (hi - lo) / step > MAX_GRID:
        raise InputError(f"{option} {text}: {int((hi - lo) / step) + 1:,} thresholds; at most {MAX_GRID:,} "
                         "(use a larger STEP, e.g. 0:0.99:0.01)")


def refs(items: Sequence[str] | None) -> dict[str, str]:
    out = {}
    for it in items or ():
        if "=" not in it:
            raise InputError(f"--reference must look like VAR=LEVEL, not {it!r}")
        k, v = it.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def read(path: Path, encoding: str | None = None, sep: str | None = None, decimal: str | None = None,
         *, sheet: str | int | None = None, harmonise: bool = True) -> pd.DataFrame:
    """Read a data file with the one tabular reader; say on stderr how a text file was read when
    it was not plain comma-separated UTF-8 with decimal points (so a wrong guess is seen).

    With ``harmonise`` (default) whole columns of accepted words are written in their one form
    (yes/no words → 0/1, M/F → male/female; :func:`myorisk.codes.harmonise`), with a note."""
    from myorisk.myositis.io import read_data

    df = read_data(path, sheet=sheet, encoding=encoding, sep=sep, decimal=decimal)
    note_read(df, Path(path).name)
    if harmonise:
        from myorisk.codes import harmonise as _harmonise

        how = df.attrs.get("read")
        df = _harmonise(df)
        if df.attrs.get("harmonised"):
            note(f"{Path(path).name}: read yes/no words as 1/0 and level words as level names in "
                 f"{', '.join(repr(c) for c in df.attrs['harmonised'])} (accepted codes: docs/cohort-files.md)")
        df.attrs["read"] = how
    return df


def note_read(df: pd.DataFrame, source: str) -> None:
    """A note naming the separator, decimal mark and encoding of a text file that is not plain CSV."""
    how = df.attrs.get("read")
    if not how:
        return
    parts = []
    if how.get("sep") not in (",", None):
        parts.append({";": "semicolon", "\t": "tab", "|": "vertical-bar"}.get(how["sep"], how["sep"]) + "-separated")
    if how.get("decimal") == ",":
        parts.append("decimal comma")
    if how.get("encoding") not in ("utf-8", "utf-8-sig", "ascii", None):
        parts.append(f"encoding {how['encoding']}")
    if parts:
        note(f"{source}: read as {', '.join(parts)} (override with --sep, --decimal, --encoding)")


def dump(obj: Any) -> None:
    from myorisk._json import clean as _clean

    out.print_json(json.dumps(_clean(obj), allow_nan=False)) if sys.stdout.isatty() else print(
        json.dumps(_clean(obj), indent=2, allow_nan=False)
    )


_held: list[str] | None = None


def note(msg: str) -> None:
    """A note on stderr (rows excluded, extrapolation, …); held back while a command runs."""
    if _held is not None:
        _held.append(msg)
    else:
        err.print(f"note: {msg}", markup=False)


def hold_notes() -> None:
    """Keep notes until :func:`release_notes`: an error must stay one line on stderr."""
    global _held
    _held = []


def release_notes(show: bool = True) -> None:
    """Print the held notes (after a success) or drop them (after an error), and stop holding."""
    global _held
    held, _held = _held or [], None
    if show and held:
        # the output first: piped, stdout is block-buffered while stderr is not, so unflushed
        # output would land after (or around) the notes in `cmd > out 2>&1`
        try:
            sys.stdout.flush()
        except (OSError, ValueError):  # a closed pipe: the notes still go to stderr
            pass
        for msg in held:
            note(msg)


#: A value within this of zero (relative to its column's scale) is printed as 0: machine noise.
ZERO_TOL = 1e-12


def pct(level: float) -> str:
    """A confidence level as a person writes it: 0.95 → ``95%``, 0.975 → ``97.5%``."""
    return f"{100 * float(level):.10g}%"


def fmt(v: Any, digits: int = 4) -> str:
    """One number as a person reads it: integers as integers, machine noise as 0, ``digits`` decimals."""
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    import numpy as np

    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, int | np.integer):
        return str(int(v))
    v = float(v)
    if not np.isfinite(v):
        return "inf" if v > 0 else ("-inf" if v < 0 else "NA")
    if abs(v) < ZERO_TOL:
        return "0"
    if abs(v) < 1e-3 or abs(v) >= 1e9:
        return f"{v:.{digits - 1}e}"
    return f"{v:.{digits}f}"


def fmt_value(v: Any, digits: int = 4) -> str:
    """A value the user gave or a grid point (a threshold): as typed (0.82, not 0.8200000000000001)."""
    import numpy as np

    if isinstance(v, float | np.floating) and np.isfinite(v):
        d = _exact_decimals(np.array([float(v)]), digits)
        if d is not None:
            return f"{float(v):.{d}f}"
    return fmt(v, digits)


def _exact_decimals(vals: np.ndarray, digits: int) -> int | None:
    """Fewest decimals (≤ ``digits``) that show every value exactly (to 1e-9 relative), else None."""
    import numpy as np

    for d in range(digits + 1):
        r = np.round(vals, d)
        if np.all(np.abs(r - vals) <= 1e-9 * np.maximum(1.0, np.abs(vals))):
            return d
    return None


def column_formatter(values: Any, digits: int = 4) -> Callable[[Any], str]:
    """One format for a whole numeric column, so that its decimals line up.

    Integers (also whole numbers stored as floats) print as integers; values within
    :data:`ZERO_TOL` of zero (relative to the column's largest value) print as 0; a column whose
    values all have few decimals (a threshold grid: 0.05, 0.10, …) keeps those; otherwise
    ``digits`` decimals, more when the smallest non-zero value would show fewer than two
    significant digits, and scientific notation for the whole column when values span beyond that.
    """
    import numpy as np
    import pandas as pd

    arr = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(float)
    fin = arr[np.isfinite(arr)]
    scale = float(np.max(np.abs(fin))) if fin.size else 1.0
    # noise is relative to the column's scale, but never more than 1e-9: an odds-ratio column
    # spans many orders of magnitude (0.25 beside 5e13 is a real value, not noise)
    tol = min(ZERO_TOL * max(1.0, scale), 1e-9)
    fin = np.where(np.abs(fin) < tol, 0.0, fin)

    def special(v: Any) -> str | None:
        if v is None or (isinstance(v, str)):
            return fmt(v)
        try:
            f = float(v)
        except (TypeError, ValueError):
            return str(v)
        if not np.isfinite(f):
            return fmt(f)
        return None

    def snap(v: Any) -> float:
        f = float(v)
        return 0.0 if abs(f) < tol else f

    if fin.size and np.all(fin == np.round(fin)) and scale < 1e15:
        return lambda v: special(v) or str(int(round(snap(v))))
    exact = _exact_decimals(fin, digits) if fin.size and scale < 1e9 else None
    if exact is not None:
        return lambda v: special(v) or f"{snap(v) + 0.0:.{exact}f}"
    nz = np.abs(fin[fin != 0])
    small = float(nz.min()) if nz.size else 1.0
    if scale >= 1e9 or small < 1e-8:
        return lambda v: special(v) or ("0" if snap(v) == 0 else f"{snap(v):.{digits - 1}e}")
    d = max(digits, int(-np.floor(np.log10(small))) + 1)
    return lambda v: special(v) or f"{snap(v) + 0.0:.{d}f}"


def fmt_p(p: float | None) -> str:
    if p is None or not math.isfinite(p):
        return "NA"
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"


def _table_width() -> int | None:
    """Width a printed table must fit: the terminal's; unlimited when piped (a file or a program
    reads it whole, as :func:`_width` decides for the console)."""
    try:
        if sys.stdout.isatty():
            return out.size.width
    except (AttributeError, ValueError):
        pass
    return None


def table(frame: pd.DataFrame, title: str | None = None, formats: dict[str, Callable] | None = None,
          width: int | None = None) -> Any:
    """A table to print: one format per numeric column (see :func:`column_formatter`); when wider
    than the terminal, split into blocks of columns (the first column repeated in each), as R prints
    a wide data frame. ``--json`` or ``--output`` give the full width."""
    import pandas as pd
    from rich.console import Group

    formats = dict(formats or {})
    cols = list(frame.columns)
    for c in cols:
        if c not in formats:
            dt = frame[c].dtype
            formats[c] = (column_formatter(frame[c]) if pd.api.types.is_numeric_dtype(dt)
                          and not pd.api.types.is_bool_dtype(dt) else fmt)
    cells = [[formats[c](row[c]) for c in cols] for _, row in frame.iterrows()]
    right = {c: pd.api.types.is_numeric_dtype(frame[c].dtype) for c in cols}
    widths = [max([len(str(c))] + [len(r[i]) for r in cells]) for i, c in enumerate(cols)]
    limit = width if width is not None else _table_width()
    blocks: list[list[int]] = [list(range(len(cols)))]
    if limit is not None and sum(w + 3 for w in widths) > limit and len(cols) > 1:
        keep: list[int] = []  # the leading label columns, repeated in every block
        for i, c in enumerate(cols[:-1]):
            if right[c] or sum(widths[k] + 3 for k in [*keep, i]) > limit // 2:
                break
            keep.append(i)
        base = sum(widths[i] + 3 for i in keep)
        blocks, cur, used = [], [], base
        for i in range(len(keep), len(cols)):
            if cur and used + widths[i] + 3 > limit:
                blocks.append(keep + cur)
                cur, used = [], base
            cur.append(i)
            used += widths[i] + 3
        blocks.append(keep + cur)
    tables = []
    for k, blk in enumerate(blocks):
        t = Table(title=title if k == 0 else None, title_justify="left", show_edge=False, header_style="bold",
                  width=limit if limit is not None and sum(widths[i] + 3 for i in blk) > limit else None,
                  caption=(f"(columns {k + 1}/{len(blocks)} of a table wider than the terminal; "
                           "--json gives it whole)") if len(blocks) > 1 and k == len(blocks) - 1 else None,
                  caption_justify="left")
        for i in blk:
            t.add_column(str(cols[i]), justify="right" if right[cols[i]] else "left",
                         no_wrap=right[cols[i]], overflow="fold")
        for r in cells:
            t.add_row(*[r[i] for i in blk])
        tables.append(t)
    return tables[0] if len(tables) == 1 else Group(*tables)


def complete(df: pd.DataFrame, columns: Sequence[str], source: str) -> pd.DataFrame:
    """Rows complete for ``columns``; removed rows are reported on stderr, never silently."""
    from myorisk.myositis.io import coerce_numeric

    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"{source}: column '{missing[0]}' not found (columns are: {', '.join(map(str, df.columns[:20]))})"
                         + did_you_mean(missing[0], list(df.columns)))
    empty = [c for c in columns if len(df) and df[c].isna().all()]
    if empty:
        raise InputError(f"{source}: column '{empty[0]}' is 100% missing (no value in any of the {len(df)} rows)")
    sub = df[list(columns)]
    miss = sub.isna().any(axis=1)
    if len(sub) and miss.all():
        raise InputError(f"{source}: every row has a missing value in {', '.join(columns)}: nothing to analyse")
    if miss.any():
        note(f"{int(miss.sum())} of {len(sub)} rows with missing values in {', '.join(columns)} were excluded "
             f"({rows_text(sub.index[miss])})")
    return coerce_numeric(sub.loc[~miss], [c for c in columns], source) if len(columns) else sub


def rows_text(index: Sequence[Any], limit: int = 10) -> str:
    """``rows 3, 7, …``: the first ``limit`` row labels of a note about removed rows."""
    labels = list(index)
    return "rows " + ", ".join(str(r) for r in labels[:limit]) + (" …" if len(labels) > limit else "")


def drop_missing_outcome(df: pd.DataFrame, outcome: str, source: str) -> pd.DataFrame:
    """Rows with a non-missing ``outcome``; removed rows are reported on stderr (as R's na.omit drops them)."""
    miss = df[outcome].isna()
    if miss.any():
        note(f"{source}: {int(miss.sum())} rows with a missing outcome were excluded ('{outcome}'; "
             f"{rows_text(df.index[miss.to_numpy()])})")
    return df.loc[~miss.to_numpy()]


def outcome01(df: pd.DataFrame, outcome: str, event: str | None, source: str) -> tuple[np.ndarray, str]:
    from myorisk.modeling.design import code_outcome

    return code_outcome(df[outcome], event=event, name=outcome, source=source)




# ----------------------------------------------------------------------------- where the work runs
WorkersOpt = Annotated[int | None, typer.Option(
    "--workers", min=1, help="Run the resamples (of every imputed data set with --impute, and with --ci "
    "too) or the simulations on a local Dask cluster of N worker processes (default: threads in this "
    "process). Results are the same either way.")]
SchedulerOpt = Annotated[str | None, typer.Option(
    "--scheduler", help="Run on an existing Dask cluster: its scheduler address (tcp://host:8786).")]


def executor_for(workers: int | None, scheduler: str | None) -> Any:
    """Context manager yielding the executor of ``--workers``/``--scheduler`` (threads by default)."""
    from myorisk.modeling.executor import executor

    return executor(workers=workers, scheduler=scheduler)
