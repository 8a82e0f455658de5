"""Server-side SVG drawing of a nomogram (from ``Nomogram.to_dict()``), a patient's points marked.

The drawing follows the rms layout: a 0-100 *Points* ruler on top, one axis per predictor placed
on that ruler, then *Total points*, *Linear predictor* and the probability axis on the total-points
scale. A patient's value on each predictor axis is circled and joined to the Points ruler; the
total is marked on the Total points axis and carried down to the probability axis. Those three
axes span every possible total (0 to the sum of the predictors' maximum points), so that every
patient's mark lies on them; the span and its ticks come from the engine
(:meth:`myorisk.modeling.nomogram.Nomogram.span`, ``to_dict()["span"]``): this module only draws. The
``<desc>`` reads each predictor by its label with the patient's value and points.

Only presentation attributes are used (no ``<style>`` element or ``style=""``), so the drawing
works under a strict Content-Security-Policy and as a stand-alone file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

__all__ = ["nomogram_svg"]

_W = 760
_LEFT = 178
_RIGHT = 28
_ROW = 50
_TOP = 14
_FONT = 12
_CHAR = 6.6  # average glyph width at 12 px (system sans-serif)
_CHAR_BOLD = 7.4  # the same, bold
_INK = "#1f2328"
_MUTED = "#57606a"
_MARK = "#b3261e"


def _fmt(v: float) -> str:
    return f"{v:.4g}" if abs(v) < 1e4 else f"{v:.0f}"


def _points_text(points: float) -> str:
    """``27.6 points``, ``100 points``, ``1 point``."""
    t = f"{points:.1f}".removesuffix(".0")
    if t == "-0":
        t = "0"
    return f"{t} point" + ("" if t == "1" else "s")


def _thin(xs: Sequence[float], labels: Sequence[str]) -> list[bool]:
    """Which tick labels to print so that none overlaps the previous one (greedy, left to right)."""
    keep = [False] * len(xs)
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    last_x, last_w = None, 0.0
    for i in order:
        w = len(labels[i]) * _CHAR
        if last_x is None or xs[i] - last_x >= (w + last_w) / 2 + 6:
            keep[i] = True
            last_x, last_w = xs[i], w
    return keep


class _Canvas:
    def __init__(self, left: float, width: float, stacked: bool) -> None:
        self.parts: list[str] = []
        self.under: list[str] = []  # drawn first: the dashed lines of the patient's marks
        self.left = left
        self.width = width
        self.stacked = stacked

    def line(self, x1: float, y1: float, x2: float, y2: float, color: str = _INK,
             width: float = 1.0, dash: str | None = None, under: bool = False) -> None:
        d = f' stroke-dasharray="{dash}"' if dash else ""
        (self.under if under else self.parts).append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                          f'stroke="{color}" stroke-width="{width}"{d}/>')

    def text(self, x: float, y: float, s: str, anchor: str = "middle", color: str = _INK,
             size: int = _FONT, bold: bool = False) -> None:
        w = ' font-weight="700"' if bold else ""
        # a white halo (stroke painted under the fill) keeps text legible where a dashed mark
        # line runs behind it
        self.parts.append(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" '
                          f'font-size="{size}" fill="{color}"{w} stroke="#ffffff" '
                          f'stroke-width="3" stroke-linejoin="round" paint-order="stroke">'
                          f'{escape(s)}</text>')

    def mark_label(self, x: float, y: float, s: str) -> None:
        """Label of a patient mark on the axis at ``y``: above the axis line and beside the mark,
        to its right (to its left near the right edge), so that it crosses neither the dashed
        line through the mark nor the tick marks and labels below the axis."""
        dy = 4 if self.stacked else 6
        if x + 8 + len(s) * _CHAR_BOLD > self.width - 4:
            self.text(x - 8, y - dy, s, anchor="end", color=_MARK, bold=True)
        else:
            self.text(x + 8, y - dy, s, anchor="start", color=_MARK, bold=True)

    def circle(self, x: float, y: float, r: float = 5.0, color: str = _MARK) -> None:
        self.parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{color}" '
                          f'stroke="#ffffff" stroke-width="1.5"/>')

    def axis(self, y: float, xs: Sequence[float], labels: Sequence[str], title: str,
             subtitle: str = "", span: tuple[float, float] | None = None,
             stagger: bool = False) -> None:
        """Horizontal axis at ``y`` with ticks at ``xs`` and labels below; the axis line runs
        over ``span`` (default: from the first tick to the last). With ``stagger`` (a
        non-monotone axis, whose ticks crowd where the curve turns) labels that do not fit in the
        first row go to a second row below it."""
        if not xs and span is None:
            return
        if self.stacked:  # title above the axis, left-aligned (narrow screens)
            self.text(self.left - 8, y - 16, title + (f" ({subtitle})" if subtitle else ""),
                      anchor="start", bold=True)
        else:
            self.text(self.left - 12, y + 4, title, anchor="end", bold=True)
            if subtitle:
                self.text(self.left - 12, y + 18, subtitle, anchor="end", color=_MUTED, size=11)
        lo, hi = span if span is not None else (min(xs), max(xs))
        self.line(lo, y, hi, y, width=1.2)
        keep = _thin(xs, labels)
        second = [False] * len(xs)
        if stagger:
            rest = [i for i, k in enumerate(keep) if not k]
            for j, k2 in zip(rest, _thin([xs[i] for i in rest], [labels[i] for i in rest]), strict=True):
                second[j] = k2
        for x, lab, k, k2 in zip(xs, labels, keep, second, strict=True):
            self.line(x, y, x, y + (6 if k or k2 else 4))
            if k:
                self.text(x, y + 19, lab)
            elif k2:
                self.text(x, y + 30, lab, size=_FONT - 1)


def nomogram_svg(
    nomogram: Mapping,
    variables: Sequence[Mapping],
    *,
    outcome_label: str = "Probability",
    patient: Mapping | None = None,
    title: str = "Nomogram",
    stacked: bool = False,
    id_prefix: str = "nomo",
) -> str:
    """Draw a nomogram as an SVG element.

    Parameters
    ----------
    nomogram : mapping
        ``Nomogram.to_dict()``.
    variables : sequence of mapping
        ``VariableSpec.to_dict()`` of each predictor (label, unit, kind), in axis order.
    outcome_label : str
        Title of the probability axis.
    patient : mapping, optional
        ``{"points": {variable: points}, "values": {variable: display text},
        "points_total": float, "probability": float}``: marked on the drawing when given
        (``values`` of numeric variables label their marks). An optional ``"spoken"``
        ``{variable: text}`` gives the values as the text alternative reads them (default
        ``values``), e.g. with the full unit.
    title : str
        Accessible title of the image.
    stacked : bool
        Narrow layout for phones: axis titles above the axes, ``viewBox`` 340 wide (else titles
        in a left column, 760 wide).
    id_prefix : str
        Prefix of the ids of the ``<title>`` and ``<desc>`` elements (unique per page).

    Returns
    -------
    str
        An ``<svg>`` element that scales to its container.
    """
    by_name = {v["name"]: v for v in variables}
    axes = nomogram["axes"]
    maxscale = float(nomogram["maxscale"])
    # The total-points, linear-predictor and probability axes span every possible total: the
    # engine's Nomogram.span() (to_dict()["span"]) gives the span and its ticks.
    span_d = nomogram["span"]
    tmax = float(span_d["total_max"])

    def ticks_of(key: str) -> list[tuple[float, float]]:
        ax = span_d[key]
        return [(float(p), float(v)) for p, v in zip(ax["points"], ax["values"], strict=True)]

    width = 340 if stacked else _W
    left = 24.0 if stacked else float(_LEFT)
    row = 62 if stacked else _ROW
    x0, x1 = left, float(width - (20 if stacked else _RIGHT))

    def xp(points: float) -> float:
        return x0 + points / maxscale * (x1 - x0)

    def xt(total: float) -> float:
        return x0 + total / tmax * (x1 - x0)

    span = (xt(0.0), xt(tmax))
    n_rows = 1 + len(axes) + 3
    top = _TOP + (22 if stacked else 0)
    height = top + n_rows * row + 8
    c = _Canvas(left, width, stacked)
    y = top + 12.0
    ruler = [i * maxscale / 10 for i in range(11)]
    c.axis(y, [xp(p) for p in ruler], [f"{p:g}" for p in ruler], "Points")
    y_points = y
    marks = []
    for ax in axes:
        y += row
        var = by_name.get(ax["variable"], {"label": ax["variable"], "unit": "", "kind": ax["kind"]})
        labels = list(ax["labels"])
        if var.get("kind") == "binary":
            labels = [{"0": "no", "1": "yes"}.get(lab, lab) for lab in labels]
        unit = var.get("unit") or ""
        # an axis of a predictor interacting with factors (rms: "age (race=black)") is titled by
        # the predictor, its subtitle names the levels; a non-monotone (spline) axis staggers labels
        cond = ax.get("condition") or {}
        where = ", ".join(f"{by_name.get(k, {}).get('label') or k} = {lv}" for k, lv in cond.items())
        c.axis(y, [xp(float(p)) for p in ax["points"]], labels, str(var.get("label") or
                                                                     ax["variable"]),
               subtitle=", ".join(s for s in (unit if unit and var.get("kind") == "numeric" else "",
                                              f"if {where}" if where else "") if s),
               stagger=not ax.get("monotone", True))
        on_axis = not cond or (patient is not None
                               and (patient.get("axes") or {}).get(ax["variable"]) == ax.get("name"))
        if patient is not None and on_axis and ax["variable"] in patient["points"]:
            shown = str(patient["values"].get(ax["variable"], "")) \
                if var.get("kind") == "numeric" else ""
            marks.append((ax["variable"], y, float(patient["points"][ax["variable"]]), shown))
    y += row
    ticks = ticks_of("total")
    c.axis(y, [xt(p) for p, _ in ticks], [f"{t:g}" for _, t in ticks], "Total points", span=span)
    y_total = y
    y += row
    ticks = ticks_of("linear_predictor")
    c.axis(y, [xt(p) for p, _ in ticks], [_fmt(v) for _, v in ticks], "Linear predictor",
           span=span)
    y += row
    ticks = ticks_of("probability")
    for p, v in ticks_of("probability_tails"):  # only where its label leaves room for the others
        w = len(f"{v:g}") * _CHAR
        if all(abs(xt(p) - xt(q)) >= (w + len(f"{u:g}") * _CHAR) / 2 + 6 for q, u in ticks):
            ticks.append((p, v))
    ticks.sort()
    c.axis(y, [xt(p) for p, _ in ticks], [f"{v:g}" for _, v in ticks], outcome_label, span=span)
    y_prob = y

    desc = "Empty nomogram: no patient entered."
    if patient is not None:
        spoken = patient.get("spoken") or patient["values"]
        parts = []
        for name, ym, pts, val in marks:
            xm = xp(pts)
            c.line(xm, y_points + 2, xm, ym - 2, color=_MARK, dash="3 3", under=True)
            c.circle(xm, ym)
            if val:
                c.mark_label(xm, ym, val)
            var = by_name.get(name, {})
            said = str(spoken.get(name, "")).strip()
            parts.append(f"{var.get('label') or name}: " + (f"{said}, " if said else "")
                         + _points_text(pts))
        tot = float(patient["points_total"])
        xm = xt(min(max(tot, 0.0), tmax))
        c.line(xm, y_total + 2, xm, y_prob - 2, color=_MARK, dash="3 3", under=True)
        c.circle(xm, y_total)
        c.mark_label(xm, y_total, f"{tot:.1f}")
        c.circle(xm, y_prob)
        c.mark_label(xm, y_prob, f"{100 * float(patient['probability']):.1f}%")
        desc = ("This patient: " + "; ".join(parts) + f"; total {_points_text(tot)}; "
                f"predicted probability {100 * float(patient['probability']):.1f}%.")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:.0f}" '
        f'class="nomogram{" stacked" if stacked else ""}" role="img" '
        f'aria-labelledby="{id_prefix}-title {id_prefix}-desc" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif">'
        f'<title id="{id_prefix}-title">{escape(title)}</title>'
        f'<desc id="{id_prefix}-desc">{escape(desc)}</desc>'
        f'<rect x="0" y="0" width="{width}" height="{height:.0f}" fill="#ffffff"/>'
        + "".join(c.under) + "".join(c.parts) + "</svg>"
    )
