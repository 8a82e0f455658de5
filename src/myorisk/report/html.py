"""Self-contained HTML report of a study run (Jinja2; figures inline as data-URI SVG or PNG)."""

from __future__ import annotations

import base64
import html as _html
import math
import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["render", "frame_html", "format_value"]

_INT_COLS = {"n", "events", "df", "step", "group", "n_missing", "B", "n_failed", "hl_df",
             "n_cases", "n_controls", "parameters", "observed_0", "observed_1"}
_P_COLS = {"p", "hl_p", "lr_p", "wald_p", "term_p", "spiegelhalter_p", "u_p", "d_p"}

SECTIONS = (
    ("data", "Data and missing values"),
    ("table1", "Table 1"),
    ("univariate", "Univariable analysis"),
    ("selection", "Variable selection and multivariable models"),
    ("models", "Final models"),
    ("published", "Published vs reproduced"),
    ("nomograms", "Nomograms"),
    ("discrimination", "Discrimination: ROC curves and DeLong tests"),
    ("validation", "Internal validation by the bootstrap"),
    ("calibration", "Calibration in each set and Hosmer–Lemeshow"),
    ("decision", "Decision curves"),
    ("index", "Index"),
    ("sample_size", "Sample size"),
    ("methods", "Methods"),
    ("tripod", "TRIPOD+AI checklist"),
    ("warnings", "Warnings and notes"),
    ("software", "Software and reproducibility"),
)


def format_value(col: str, v) -> str:
    """Format one cell for display (full precision stays in the CSV/XLSX files)."""
    if v is None:
        return ""
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, str):
        return v
    try:
        if pd.isna(v):
            return "—" if isinstance(v, float | np.floating) else ""
    except (TypeError, ValueError):
        return str(v)
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        f = float(v)
        if math.isinf(f):
            return "∞" if f > 0 else "−∞"
        if col in _P_COLS or col.endswith("_p"):
            return "<0.001" if f < 0.001 else f"{f:.3f}"
        if col in _INT_COLS and f == int(f):
            return str(int(f))
        a = abs(f)
        if a != 0 and (a < 1e-3 or a >= 1e5):
            return f"{f:.2e}"
        txt = f"{f:.1f}" if a >= 100 else f"{f:.3f}"
        if float(txt) == 0:  # no negative zero
            txt = txt.lstrip("-")
        return txt
    return str(v)


_NUMERIC = re.compile(r"^[<−-]?\d[\d.,]*(?:e[+−-]?\d+)?$")


def frame_html(frame: pd.DataFrame, *, caption: str | None = None, note: str = "",
               preformatted: bool = False, max_rows: int | None = None) -> str:
    """A DataFrame as an HTML table with rounded numbers."""
    esc = _html.escape
    parts = ['<div class="tablewrap"><table>']
    if caption:
        parts.append(f"<caption>{esc(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f"<th>{esc(str(c))}</th>" for c in frame.columns) + "</tr></thead><tbody>")
    shown = frame if max_rows is None or len(frame) <= max_rows else frame.iloc[:max_rows]
    # pre-formatted text: right-align a column only when every filled cell in it is a number
    num_cols = {c for c in frame.columns
                if preformatted and any(_NUMERIC.match(str(v)) for v in shown[c])
                and all(_NUMERIC.match(str(v)) or str(v) in ("", "—") for v in shown[c])}
    for _, row in shown.iterrows():
        cells = []
        for c in frame.columns:
            v = row[c]
            txt = str(v) if preformatted else format_value(str(c), v)
            num = (c in num_cols if preformatted
                   else isinstance(v, int | float | np.integer | np.floating))
            cls = ' class="num"' if num else ""
            if txt == "—":
                cls = ' class="num na"' if num else ' class="na"'
            if preformatted and c == frame.columns[0] and str(v).startswith("  "):
                cls = ' class="level"'
                txt = txt.strip()
            cells.append(f"<td{cls}>{esc(txt)}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    if max_rows is not None and len(frame) > max_rows:
        parts.append(f'<p class="note">First {max_rows} of {len(frame)} rows; all rows in the CSV/XLSX file.</p>')
    if note:
        parts.append(f'<p class="note">{esc(note)}</p>')
    parts.append("</div>")
    return "\n".join(parts)


def _img(kind: str, data: bytes, alt: str, width: int | None = None) -> str:
    mime = "image/svg+xml" if kind == "svg" else "image/png"
    b64 = base64.b64encode(data).decode("ascii")
    w = f' style="width:{width}px"' if width else ""
    return f'<img src="data:{mime};base64,{b64}" alt="{_html.escape(alt)}"{w}>'


def render(results, figures: Sequence, tables: Sequence, inline: Mapping[str, tuple[str, bytes]],
           *, model_files: Sequence[str] = ()) -> str:
    """Render the report.

    Parameters
    ----------
    results : Results
    figures : sequence of report.write.Figure
    tables : sequence of report.tables.Table
    inline : mapping
        Figure name → (``"svg"`` or ``"png"``, bytes) embedded in the page.
    model_files : sequence of str
        Relative paths of the model spec files written.

    Returns
    -------
    str
        The HTML document (no external resources).
    """
    import jinja2

    from myorisk.study.narrative import sample_size_warning

    cfg = results.config
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("myorisk.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    order = {k: i for i, (k, _) in enumerate(SECTIONS)}
    lead_tables = ("data", "table1", "selection", "sample_size", "tripod", "published")
    files_only = [t for t in tables if not t.html]
    items = [("table", t.section, i, t) for i, t in enumerate(tables) if t.html] + \
            [("figure", f.section, i, f) for i, f in enumerate(figures)]

    def key(it):
        kind, sec, i, _ = it
        first = "table" if sec in lead_tables else "figure"
        return (order.get(sec, 99), 0 if kind == first else 1, i)

    items.sort(key=key)
    by_section: dict[str, list[str]] = {k: [] for k, _ in SECTIONS}
    n_tab = n_fig = 0
    for kind, sec, _, obj in items:
        if kind == "table":
            n_tab += 1
            caption = f"Table {n_tab}. {obj.title}"
            if obj.display is not None:
                disp = obj.display.drop(columns=[c for c in ("statistic", "Statistic") if c in obj.display.columns])
                body = frame_html(disp, caption=caption, note=obj.note, preformatted=True)
            else:
                big = obj.section in ("decision", "index", "validation", "calibration")
                body = frame_html(obj.frame, caption=caption, note=obj.note, max_rows=60 if big else None)
        else:
            n_fig += 1
            kind_, data = inline[obj.name]
            w_in = float(obj.fig.get_size_inches()[0]) if hasattr(obj.fig, "get_size_inches") else 6.0
            body = (f'<figure id="fig-{obj.name}">{_img(kind_, data, obj.title, width=int(w_in * 118))}'
                    f"<figcaption><b>Figure {n_fig}. {_html.escape(obj.title)}.</b> {_html.escape(obj.caption)}"
                    f' <span class="files">figures/{obj.name}.png · .svg</span></figcaption></figure>')
        by_section[sec].append(body)
    for t in files_only:
        by_section[t.section].append(
            f'<p class="note">{_html.escape(t.title)}: <code>tables/{t.name}.csv</code> · '
            f'<code>.xlsx</code> ({len(t.frame)} rows).</p>')
    sections = [(k, title, by_section[k]) for k, title in SECTIONS]
    sections = [s for s in sections if s[2] or s[0] in ("methods", "warnings", "software")]
    primary = [m for m in results.models if getattr(m, "role", "primary") == "primary"]
    sensitivity = [m for m in results.models if getattr(m, "role", "primary") == "sensitivity"]
    tmpl = env.get_template("report.html.j2")
    return tmpl.render(
        r=results, cfg=cfg, sections=sections, synthetic=results.synthetic,
        ss_warning=sample_size_warning(results), model_files=list(model_files),
        n_figures=len(figures), n_tables=len(tables), primary=primary, sensitivity=sensitivity,
        fmt=format_value,
    )
