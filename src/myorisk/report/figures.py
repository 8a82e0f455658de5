"""Journal-quality figures drawn from result objects (matplotlib, Agg backend).

One function per figure. Each takes result objects (never raw data to analyse), an optional
``ax`` to draw into, and ``watermark`` — the text put in a corner of the figure, ``"SYNTHETIC
DATA"`` when the data are synthetic. Each returns the :class:`matplotlib.figure.Figure`.
Nothing is computed here beyond what drawing needs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "PALETTE",
    "forest_plot",
    "forest_limits",
    "forest_clipped",
    "nomogram_plot",
    "roc_plot",
    "calibration_plot",
    "calibration_set_plot",
    "calibration_curve_plot",
    "calibration_panels",
    "decision_plot",
    "auc_boxplot",
    "index_plot",
    "monitor_plot",
    "mice_trace_plot",
    "mice_density_plot",
    "missing_share_plot",
    "save",
    "meta_forest_plot",
    "meta_forest_panel",
]

#: Okabe–Ito colour-blind-safe palette.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
_GREY = "#666666"

_RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "svg.fonttype": "path",
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "figure.max_open_warning": 0,  # a report draws all its figures before saving them
}


def _plt():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _new(ax, size: tuple[float, float]):
    """A new figure and axes, or the figure of ``ax``."""
    if ax is not None:
        return ax.figure, ax
    plt = _plt()
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=size)
    return fig, ax


def _apply_rc():
    import matplotlib as mpl

    return mpl.rc_context(_RC)


def _mark(fig, watermark: str | None) -> None:
    if watermark:
        fig.text(0.995, 0.005, watermark, ha="right", va="bottom", fontsize=7, color="#B00020",
                 fontweight="bold", alpha=0.85, zorder=100)


_LOCS = ("upper left", "upper right", "lower right", "lower left", "center right", "center left",
         "upper center", "lower center")


def _occupied(ax, renderer):
    """What a legend must not cover, in display coordinates: points along every line (densely
    sampled), and the boxes of bars, texts and filled areas."""
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.patches import Rectangle

    pts, boxes = [], []
    for ln in ax.get_lines():
        xy = ln.get_xydata()
        if len(xy) == 0:
            continue
        xy = ln.get_transform().transform(np.asarray(xy, float))
        xy = xy[np.all(np.isfinite(xy), axis=1)]
        for a, b in zip(xy[:-1], xy[1:], strict=True):
            k = max(2, int(np.hypot(*(b - a)) / 3))
            t = np.linspace(0, 1, k)[:, None]
            pts.append(a + t * (b - a))
        pts.append(xy)
    for c in ax.collections:
        if isinstance(c, LineCollection):
            for seg in c.get_segments():
                seg = c.get_transform().transform(np.asarray(seg, float))
                for a, b in zip(seg[:-1], seg[1:], strict=True):
                    t = np.linspace(0, 1, max(2, int(np.hypot(*(b - a)) / 3)))[:, None]
                    pts.append(a + t * (b - a))
        elif isinstance(c, PolyCollection):
            for path in c.get_paths():
                v = c.get_transform().transform(path.vertices)
                pts.append(v[np.all(np.isfinite(v), axis=1)])
    for patch in ax.patches:
        if isinstance(patch, Rectangle) and patch.get_height() <= 0:
            continue
        bb = patch.get_window_extent(renderer)
        if bb.width > 0 and bb.height > 0:
            boxes.append(bb)
    for t in ax.texts:
        if t.get_text().strip():
            boxes.append(t.get_window_extent(renderer))
    allp = np.concatenate(pts) if pts else np.zeros((0, 2))
    return allp, boxes


def _legend(ax, prefer: Sequence[Any] = (), *, outside: bool = False, **kw):
    """A legend that covers no curve, point, bar or text: the first free place among ``prefer``
    (a location name, or ``(name, bbox_to_anchor)``) and then the usual corners; when none is
    free (or ``outside``), below the axes."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    pts, boxes = _occupied(ax, renderer)
    places = [p if isinstance(p, tuple) else (p, None) for p in prefer]
    places += [(x, None) for x in _LOCS if (x, None) not in places]
    for loc, anchor in ([] if outside else places):
        leg = ax.legend(loc=loc, **({"bbox_to_anchor": anchor} if anchor else {}), **kw)
        bb = leg.get_window_extent(renderer).padded(2)
        inside = ((pts[:, 0] >= bb.x0) & (pts[:, 0] <= bb.x1) & (pts[:, 1] >= bb.y0) & (pts[:, 1] <= bb.y1))
        if not inside.any() and not any(bb.overlaps(b) for b in boxes):
            return leg
        leg.remove()
    n = len(kw["handles"]) if "handles" in kw else len(ax.get_legend_handles_labels()[0])
    return ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1 if n > 3 else max(n, 1), **kw)


def save(fig, path_stem: str | Any, formats: Sequence[str] = ("png", "svg"), dpi: int = 300) -> list:
    """Save ``fig`` as ``<stem>.png`` (``dpi``) and ``<stem>.svg``; return the paths."""
    from pathlib import Path

    stem = Path(path_stem)
    out = []
    for f in formats:
        p = stem.with_suffix(f".{f}")
        fig.savefig(p, dpi=dpi, bbox_inches="tight", metadata={"Date": None} if f == "svg" else None)
        out.append(p)
    return out


def _fmt_or(v: float) -> str:
    if not np.isfinite(v):
        return "∞" if v > 0 else "–"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 0.01:
        return f"{v:.2f}"
    return f"{v:.1e}"


def _fmt_p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


# ----------------------------------------------------------------------------- forest
def forest_limits(rows: pd.DataFrame) -> tuple[float, float]:
    """The x-axis range :func:`forest_plot` uses for ``rows`` (log scale, 1e-4 to 1e5 at most)."""
    est = rows["or"].to_numpy(float)
    lo = rows["or_low"].to_numpy(float)
    hi = rows["or_high"].to_numpy(float)
    finite = np.isfinite(est) & (est > 0)
    vals = np.concatenate([est[finite], lo[np.isfinite(lo) & (lo > 0)], hi[np.isfinite(hi)]])
    xmin = max(min(vals.min() if vals.size else 0.1, 0.5) / 1.5, 1e-4)
    xmax = min(max(vals.max() if vals.size else 10, 2) * 1.5, 1e5)
    return xmin, xmax


def forest_clipped(rows: pd.DataFrame) -> bool:
    """True when :func:`forest_plot` draws an arrow: an estimable row's CI runs past the axis."""
    xmin, xmax = forest_limits(rows)
    est = rows["or"].to_numpy(float)
    lo = rows["or_low"].to_numpy(float)
    hi = rows["or_high"].to_numpy(float)
    ok = np.isfinite(est) & (est > 0)
    with np.errstate(invalid="ignore"):
        past = ~(np.isfinite(hi) & (hi <= xmax)) | ~(np.isfinite(lo) & (lo >= xmin))
    return bool(np.any(ok & past))


def forest_plot(rows: pd.DataFrame, *, title: str = "Odds ratios", ax=None,
                watermark: str | None = None, xlabel: str = "Odds ratio (95% CI, log scale)"):
    """Forest plot of odds ratios with their CIs and a text column ``OR (CI)  p``.

    Parameters
    ----------
    rows : DataFrame
        Columns ``label``, ``or``, ``or_low``, ``or_high`` and optionally ``p``; one row per term,
        top to bottom. Rows whose OR is missing are listed as "not estimable".
    title : str
    ax : matplotlib Axes, optional
    watermark : str, optional
    xlabel : str
    """
    with _apply_rc():
        n = len(rows)
        fig, ax = _new(ax, (7.2, 1.25 + 0.27 * n))
        y = np.arange(n)[::-1]
        est = rows["or"].to_numpy(float)
        lo = rows["or_low"].to_numpy(float)
        hi = rows["or_high"].to_numpy(float)
        finite = np.isfinite(est) & (est > 0)
        xmin, xmax = forest_limits(rows)
        ax.set_xscale("log")
        ax.set_xlim(xmin, xmax)
        ax.axvline(1.0, color=_GREY, lw=0.8, ls="--", zorder=0)
        for yi, e, a, b, ok in zip(y, est, lo, hi, finite, strict=True):
            if not ok:
                ax.text(xmin * 1.1, yi, "not estimable", ha="left", va="center",
                        fontsize=7, color=_GREY, style="italic")
                continue
            a2, b2 = max(a, xmin) if np.isfinite(a) else xmin, min(b, xmax) if np.isfinite(b) else xmax
            ax.plot([a2, b2], [yi, yi], color=PALETTE[0], lw=1.2, solid_capstyle="butt")
            if not (np.isfinite(b) and b <= xmax):
                ax.annotate("", xy=(xmax, yi), xytext=(xmax / 1.25, yi),
                            arrowprops=dict(arrowstyle="->", color=PALETTE[0], lw=1.0))
            if not (np.isfinite(a) and a >= xmin):
                ax.annotate("", xy=(xmin, yi), xytext=(xmin * 1.25, yi),
                            arrowprops=dict(arrowstyle="->", color=PALETTE[0], lw=1.0))
            ax.plot([e], [yi], marker="s", color=PALETTE[0], ms=5)
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        ax.xaxis.set_major_locator(LogLocator(base=10))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_yticks(y)
        ax.set_yticklabels(list(rows["label"].astype(str)))
        ax.set_ylim(-0.7, n + 0.2)
        ax.set_xlabel(xlabel)
        ax.set_title(title, loc="left")
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        # text column
        trans = ax.get_yaxis_transform()
        ax.text(1.02, n - 0.2, "OR (95% CI)", transform=trans, fontsize=8, fontweight="bold", va="center")
        has_p = "p" in rows.columns
        if has_p:
            ax.text(1.62, n - 0.2, "p", transform=trans, fontsize=8, fontweight="bold", va="center")
        for yi, e, a, b, ok, p in zip(y, est, lo, hi, finite,
                                      rows["p"] if has_p else [None] * n, strict=True):
            if ok:
                ax.text(1.02, yi, f"{_fmt_or(e)} ({_fmt_or(a)}–{_fmt_or(b)})", transform=trans,
                        fontsize=8, va="center")
            if has_p and p is not None and np.isfinite(p):
                ax.text(1.62, yi, _fmt_p(float(p)), transform=trans, fontsize=8, va="center",
                        fontweight="bold" if p < 0.05 else "normal")
        fig.subplots_adjust(left=0.33, right=0.63, top=1 - 0.4 / fig.get_figheight(),
                            bottom=0.6 / fig.get_figheight())
        _mark(fig, watermark)
    return fig


# ----------------------------------------------------------------------------- nomogram
def _turns(labs: Sequence[str]) -> bool:
    """True when numeric tick labels, in the order of their points, do not run one way."""
    try:
        v = np.array([float(x) for x in labs])
    except ValueError:
        return False
    d = np.diff(v)
    return not (np.all(d > 0) or np.all(d < 0))


def nomogram_plot(nom, *, labels: Mapping[str, str] | None = None, title: str = "Nomogram",
                  outcome_label: str = "Probability", ax=None, watermark: str | None = None):
    """Draw an rms-style nomogram: Points, one axis per predictor, Total points, probability.

    Parameters
    ----------
    nom : Nomogram
    labels : mapping, optional
        Display label per predictor.
    title, outcome_label : str
    ax, watermark
    """
    labels = dict(labels or {})
    with _apply_rc():
        rows = 2 + len(nom.axes) + 2
        fig, ax = _new(ax, (7.4, 0.55 * rows + 0.8))
        # the total-points and probability axes over every possible total, as the web draws
        # them: Nomogram.span() (the engine) gives the span and its ticks
        span = nom.span()
        total_max = span.total_max
        # predictor-axis points (0..maxscale) on the top scale; total points mapped onto the same width
        W = float(nom.maxscale)
        tscale = W / total_max

        def axis_line(yv, xs, labs, name, *, above=False, minor=None):
            xs = np.asarray(xs, float)
            ax.plot([xs.min(), xs.max()], [yv, yv], color="black", lw=0.9)
            for x in xs:
                ax.plot([x, x], [yv, yv + (0.12 if above else -0.12)], color="black", lw=0.8)
            if minor is not None:
                for x in minor:
                    ax.plot([x, x], [yv, yv + (0.06 if above else -0.06)], color="black", lw=0.5)
            # labels: first row, else a staggered second row, else left out (tick kept)
            # (a non-monotone spline axis gets a third row: its ticks crowd where the curve turns)
            nrow = 3 if minor is None and not above and len(xs) > 2 and _turns(labs) else 2
            ends = [-np.inf] * nrow
            for x, lab in zip(xs, labs, strict=True):
                half = 0.55 * len(str(lab)) * W / 100.0 * 1.15 + 0.4
                for row in range(nrow):
                    if x - half >= ends[row]:
                        off = (0.16 if above else -0.16) * (1 + 1.6 * row)
                        ax.text(x, yv + off, lab, ha="center", va="bottom" if above else "top",
                                fontsize=7.5)
                        ends[row] = x + half
                        break
            ax.text(-3, yv, name, ha="right", va="center", fontsize=8.5)

        yv = rows - 1
        ticks = np.arange(0, W + 1e-9, 10)
        axis_line(yv, ticks, [f"{t:g}" for t in ticks], "Points", above=True,
                  minor=np.arange(0, W + 1e-9, 2))
        for a in nom.axes:
            yv -= 1
            pts = np.asarray(a.points, float)
            labs = list(getattr(a, "display_labels", a.labels))  # a 0/1 predictor reads No/Yes
            order = np.argsort(pts, kind="stable")
            # an axis of a predictor interacting with factors is named by its levels: "age (race=black)";
            # a spline axis may be non-monotone: its ticks sit at their points, labels staggered
            cond = getattr(a, "condition", ())
            name = labels.get(a.variable, a.variable) + (
                " (" + " ".join(f"{labels.get(k, k)}={v if isinstance(v, str) else f'{v:g}'}" for k, v in cond) + ")"
                if cond else "")
            axis_line(yv, pts[order], [labs[i] for i in order], name)
        yv -= 1
        tp = np.asarray([v for _, v in span.total_ticks], float)
        axis_line(yv, tp * tscale, [f"{t:g}" for t in tp], "Total points", above=True)
        yv -= 1
        pp = np.asarray([p for p, _ in span.prob_ticks], float) * tscale
        axis_line(yv, pp, [f"{v:g}" for _, v in span.prob_ticks], outcome_label)
        for x in ticks:
            ax.plot([x, x], [yv - 0.3, rows - 1], color="#DDDDDD", lw=0.5, zorder=0)
        ax.set_xlim(-2, W + 4)
        ax.set_ylim(yv - 0.8, rows - 0.3)
        ax.axis("off")
        ax.set_title(title, loc="left")
        fig.subplots_adjust(left=0.3, right=0.97, top=0.9, bottom=0.04)
        _mark(fig, watermark)
    return fig


# ----------------------------------------------------------------------------- ROC
def roc_plot(curves: Sequence[tuple[str, Any]], *, title: str = "ROC curves", ax=None,
             watermark: str | None = None, styles: Sequence[str] | None = None):
    """ROC curves with AUC and DeLong 95% CI in the legend.

    Parameters
    ----------
    curves : sequence of (label, RocResult)
    title : str
    ax, watermark
    styles : sequence of str, optional
        Line style per curve (default solid for the first, dashed/dotted after).
    """
    with _apply_rc():
        fig, ax = _new(ax, (4.6, 4.6))
        ax.plot([0, 1], [0, 1], color=_GREY, lw=0.8, ls=":", zorder=0)
        styles = styles or ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1))]
        for i, (lab, r) in enumerate(curves):
            fpr = 1 - np.asarray(r.specificities, float)
            tpr = np.asarray(r.sensitivities, float)
            o = np.lexsort((tpr, fpr))  # pROC joins its curve points by straight lines
            ci = (f" ({r.ci_low:.2f}–{r.ci_high:.2f})" if np.isfinite(r.ci_low) else "")
            ax.plot(fpr[o], tpr[o], color=PALETTE[i % len(PALETTE)],
                    ls=styles[i % len(styles)], lw=1.8 if i == 0 else 1.3,
                    label=f"{lab}: AUC {r.auc:.3f}{ci}")
        ax.set_xlim(-0.01, 1.01)
        ax.set_ylim(-0.01, 1.01)
        ax.set_aspect("equal")
        ax.set_xlabel("1 − specificity")
        ax.set_ylabel("Sensitivity")
        ax.set_title(title, loc="left")
        fig.tight_layout()
        _legend(ax, ("lower right",), outside=len(curves) > 4, handlelength=2.2, fontsize=7.5)
        _mark(fig, watermark)
        fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- calibration
def _rug(ax, x, y=None, *, base=0.0, height=0.03):
    x = np.asarray(x, float)
    if y is None:
        ax.vlines(x, base, base + height, color=_GREY, lw=0.6, alpha=0.7)
        return
    y = np.asarray(y)
    ax.vlines(x[y == 1], 1 - height, 1.0, color=PALETTE[1], lw=0.7, alpha=0.8)
    ax.vlines(x[y == 0], base, base + height, color=PALETTE[0], lw=0.7, alpha=0.8)


def calibration_plot(cal, predictions: np.ndarray, *, title: str = "Calibration",
                     y: np.ndarray | None = None, ax=None, watermark: str | None = None):
    """Bootstrap calibration: apparent, bias-corrected and ideal lines with a rug of predictions.

    Parameters
    ----------
    cal : Calibration
        From :func:`myorisk.modeling.calibration.calibrate`.
    predictions : ndarray
        The model's predicted risks in the development data (the rug and histogram).
    y : ndarray, optional
        Outcomes: patients with the event are marked by orange ticks at the top.
    title, ax, watermark
    """
    with _apply_rc():
        fig, ax = _new(ax, (4.8, 4.8))
        ax.plot([0, 1], [0, 1], color=_GREY, ls="--", lw=1.0, label="Ideal")
        ax.plot(cal.predicted, cal.apparent, color=PALETTE[0], ls=":", lw=1.6, label="Apparent")
        ax.plot(cal.predicted, cal.corrected, color=PALETTE[1], ls="-", lw=1.8, label="Bias-corrected")
        p = np.asarray(predictions, float)
        # spike histogram of predictions along the bottom
        hist, edges = np.histogram(p, bins=np.linspace(0, 1, 51))
        if hist.max() > 0:
            h = hist / hist.max() * 0.08
            ax.bar(edges[:-1], h, width=np.diff(edges), align="edge", color="#BBBBBB",
                   edgecolor="none", zorder=0, label="Predictions (histogram)")
        if y is not None:
            yy = np.asarray(y)
            ax.vlines(p[yy == 1], 0.97, 1.0, color=PALETTE[1], lw=0.6, alpha=0.7,
                      label="Patients with the outcome (ticks)")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_xlabel("Predicted probability")
        ax.set_ylabel("Observed probability")
        ax.set_title(title, loc="left")
        ax.text(0.98, 0.12, f"B = {cal.B} bootstrap resamples\nmean absolute error {cal.mean_abs_error:.3f}"
                f"\n0.9 quantile of |error| {cal.e90:.3f}", transform=ax.transAxes, ha="right",
                va="bottom", fontsize=7.5, color="#333333")
        fig.tight_layout()
        _legend(ax, (("upper left", (0.0, 0.955)),), fontsize=7.5)
        _mark(fig, watermark)
        fig.tight_layout()
    return fig


def calibration_set_plot(curves: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray]], *,
                         title: str = "Calibration in each set", ax=None, watermark: str | None = None):
    """Smoothed (lowess) observed vs predicted risk in several sets, with rugs.

    Parameters
    ----------
    curves : sequence of (label, grid, observed, predictions)
        ``grid``/``observed``: the lowess calibration curve; ``predictions``: the set's risks.
    title, ax, watermark
    """
    with _apply_rc():
        fig, ax = _new(ax, (4.8, 4.8))
        ax.plot([0, 1], [0, 1], color=_GREY, ls="--", lw=1.0, label="Ideal")
        for i, (lab, g, o, p) in enumerate(curves):
            col = PALETTE[i % len(PALETTE)]
            ax.plot(g, np.clip(o, 0, 1), color=col, lw=1.6, label=lab)
            ax.vlines(np.asarray(p, float), 0.0 + 0.025 * i, 0.025 * (i + 1), color=col, lw=0.6, alpha=0.7)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_xlabel("Predicted probability")
        ax.set_ylabel("Observed probability (lowess)")
        ax.set_title(title, loc="left")
        fig.tight_layout()
        _legend(ax, ("upper left",), fontsize=7.5)
        _mark(fig, watermark)
        fig.tight_layout()
    return fig


def calibration_curve_plot(curve, *, title: str = "Calibration", label: str | None = None, ax=None,
                           watermark: str | None = None, color: str = PALETTE[0], legend: bool = True):
    """Calibration of fixed predictions in one set, drawn without overclaiming.

    Grouped observed proportions with exact 95% CIs and the logistic recalibration line with
    its band are always drawn; the lowess curve with its pointwise bootstrap band only when the
    set has enough events for a flexible curve (``curve.flexible``); otherwise a note says why.

    Parameters
    ----------
    curve : CalibrationCurve
        From :func:`myorisk.modeling.calibration.calibration_curve` (or ``Evaluation.calibration``).
    title : str
    label : str, optional
        Name of the set (shown under the title with n and events).
    ax, watermark
    color : str
    legend : bool
    """
    with _apply_rc():
        fig, ax = _new(ax, (4.8, 4.8))
        ax.plot([0, 1], [0, 1], color=_GREY, ls="--", lw=1.0, label="Ideal")
        g = np.asarray(curve.grid, float)
        if curve.flexible:
            ok = np.isfinite(curve.low) & np.isfinite(curve.high)
            ax.fill_between(g[ok], np.clip(curve.low[ok], 0, 1), np.clip(curve.high[ok], 0, 1),
                            color=color, alpha=0.15, lw=0,
                            label=f"Lowess {curve.level:.0%} bootstrap band (B = {curve.B})")
            ax.plot(g, np.clip(curve.observed, 0, 1), color=color, lw=1.8, label="Lowess curve")
        ax.fill_between(g, curve.logistic_low, curve.logistic_high, color=PALETTE[1], alpha=0.12,
                        lw=0, label=f"Logistic line {curve.level:.0%} CI")
        ax.plot(g, curve.logistic, color=PALETTE[1], lw=1.4, ls="-.",
                label=f"Logistic recalibration line (slope {curve.slope:.2f}, "
                      f"calibration-in-the-large {curve.intercept:.2f})")
        gr = curve.groups
        yerr = np.vstack([gr["observed"] - gr["low"], gr["high"] - gr["observed"]])
        ax.errorbar(gr["predicted"], gr["observed"], yerr=yerr, fmt="o", color="black", ms=4.5,
                    capsize=2.5, lw=1.0, clip_on=False,
                    label=f"Grouped proportions ({len(gr)} groups), exact {curve.level:.0%} CI")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_xlabel("Predicted probability")
        ax.set_ylabel("Observed proportion")
        sub = f"{label}: " if label else ""
        small = (f"\ntoo few events for a flexible curve (< {curve.min_events}): no lowess"
                 if not curve.flexible else "")
        ax.set_title(f"{title}\n{sub}n = {curve.n}, {curve.events} events{small}", loc="left")
        if legend:
            if ax.figure is fig and len(fig.axes) == 1:
                fig.tight_layout()
            _legend(ax, ("upper left", "lower right"), fontsize=6.8, handlelength=1.8)
        _mark(fig, watermark)
    return fig


def calibration_panels(items: Sequence[tuple[str, Any]], *, title: str = "Calibration in each set",
                       watermark: str | None = None):
    """One :func:`calibration_curve_plot` panel per set, side by side (a shared legend below).

    Parameters
    ----------
    items : sequence of (set label, CalibrationCurve)
    title : str
    watermark : str, optional
    """
    plt = _plt()
    k = max(len(items), 1)
    with _apply_rc():
        fig, axes = plt.subplots(1, k, figsize=(max(3.3 * k + 0.4, 5.0), 4.3 if k > 1 else 5.4),
                                 squeeze=False)
        for i, (lab, c) in enumerate(items):
            calibration_curve_plot(c, title=lab, ax=axes[0, i], legend=False)
            small = "\ntoo few events for a lowess curve" if not c.flexible else ""
            axes[0, i].set_title(f"{lab}\nn = {c.n}, {c.events} events; slope {c.slope:.2f}, "
                                 f"CITL {c.intercept:.2f}{small}", loc="left", fontsize=8)
            if i:
                axes[0, i].set_ylabel("")
        handles, labels = [], []
        for ax in axes[0]:
            for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
                key = lab.split(" (slope")[0]
                if key not in labels:
                    handles.append(h)
                    labels.append(key)
        fig.suptitle(title, x=0.01, ha="left", fontsize=10, fontweight="bold")
        ncol = min(len(labels), 3 if k > 1 else 2)
        rows = -(-len(labels) // ncol)
        fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=7,
                   frameon=False, bbox_to_anchor=(0.5, 0.0))
        fig.tight_layout(rect=(0, 0.045 * rows + 0.02, 1, 0.97))
        _mark(fig, watermark)
    return fig


# ----------------------------------------------------------------------------- decision
def decision_plot(dc, *, labels: Mapping[str, str] | None = None, title: str = "Decision curves",
                  ax=None, watermark: str | None = None):
    """Net benefit of each model, treat all and treat none over threshold probabilities.

    Parameters
    ----------
    dc : DecisionCurve
    labels : mapping, optional
        Display label per model name.
    title, ax, watermark
    """
    labels = dict(labels or {})
    with _apply_rc():
        fig, ax = _new(ax, (5.6, 4.2))
        t = np.asarray(dc.thresholds, float)
        models = [m for m in dc.models if m not in ("treat_all", "treat_none")]
        ax.plot(t, dc.net_benefit["treat_none"], color="black", lw=1.0, label="Treat none")
        ax.plot(t, dc.net_benefit["treat_all"], color=_GREY, lw=1.0, ls="--", label="Treat all")
        for i, m in enumerate(models):
            ax.plot(t, dc.net_benefit[m], color=PALETTE[i % len(PALETTE)], lw=1.8,
                    ls=["-", "-.", ":"][i % 3], label=labels.get(m, m))
        top = max(float(np.nanmax(dc.net_benefit[m])) for m in [*models, "treat_all"])
        ax.set_ylim(-0.05 if top < 0.5 else -0.1, max(top * 1.1, 0.05))
        ax.set_xlim(t.min(), t.max())
        ax.set_xlabel("Threshold probability")
        ax.set_ylabel("Net benefit")
        ax.set_title(title, loc="left")
        ax.text(0.01, 0.01, f"n = {dc.n}, prevalence {dc.prevalence:.2f}", transform=ax.transAxes,
                fontsize=7, color="#333333", va="bottom")
        fig.tight_layout()
        _legend(ax, ("upper right",), fontsize=7.5)
        _mark(fig, watermark)
        fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- AUC boxplots
def auc_boxplot(items: Sequence[tuple[str, Any]], *, title: str = "Bootstrap AUCs", ax=None,
                watermark: str | None = None):
    """Boxplots of the resampled AUCs: each model's training (in-bag) and out-of-bag AUCs.

    Parameters
    ----------
    items : sequence of (label, ResampledAUC)
    title, ax, watermark
    """
    with _apply_rc():
        fig, ax = _new(ax, (1.8 + 1.9 * len(items), 4.0))
        data, pos, cols, ticks, tlabs = [], [], [], [], []
        for i, (lab, r) in enumerate(items):
            tr = np.asarray(r.train, float)
            oob = np.asarray(r.oob, float)
            data += [tr[np.isfinite(tr)], oob[np.isfinite(oob)]]
            pos += [3 * i + 1, 3 * i + 2]
            cols += [PALETTE[0], PALETTE[1]]
            ticks.append(3 * i + 1.5)
            tlabs.append(lab)
            ax.plot([3 * i + 0.6, 3 * i + 2.4], [r.apparent] * 2, color="black", ls=":", lw=1.0)
        bp = ax.boxplot(data, positions=pos, widths=0.7, patch_artist=True, showfliers=True,
                        flierprops=dict(marker=".", ms=2, alpha=0.4, mec=_GREY),
                        medianprops=dict(color="black", lw=1.2))
        for b, c in zip(bp["boxes"], cols, strict=True):
            b.set_facecolor(c)
            b.set_alpha(0.55)
            b.set_edgecolor(c)
        ax.set_xticks(ticks)
        ax.set_xticklabels(tlabs)
        ax.set_ylabel("AUC")
        lo = min([float(np.min(d)) for d in data if d.size] + [0.5])
        ax.set_ylim(max(0.0, lo - 0.03), 1.005)
        ax.axhline(0.5, color=_GREY, lw=0.6, ls="--", zorder=0)
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        B = items[0][1].B if items else 0
        ax.set_title(f"{title} (B = {B})", loc="left")
        fig.tight_layout()
        _legend(ax, ("lower left",), fontsize=7.5,
                handles=[Patch(color=PALETTE[0], alpha=0.55, label="Resample (training)"),
                         Patch(color=PALETTE[1], alpha=0.55, label="Out-of-bag (test)"),
                         Line2D([], [], color="black", ls=":", label="Apparent")])
        _mark(fig, watermark)
        fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- index curve
def index_plot(ic, *, title: str | None = None, ax=None, watermark: str | None = None,
               outcome_label: str = "Predicted probability"):
    """Probability of the outcome against a continuous index, 95% band, rug of patients.

    Parameters
    ----------
    ic : IndexCurve
    title, ax, watermark, outcome_label
    """
    with _apply_rc():
        fig, ax = _new(ax, (5.6, 4.2))
        ax.fill_between(ic.grid, ic.low, ic.high, color=PALETTE[0], alpha=0.18, lw=0, label="95% CI")
        ax.plot(ic.grid, ic.prob, color=PALETTE[0], lw=2.0, label="Predicted probability")
        idx = np.asarray(ic.index, float)
        y = np.asarray(ic.y)
        ax.vlines(idx[y == 1], 0.97, 1.0, color=PALETTE[1], lw=0.7, alpha=0.8, label="Patients with the outcome")
        ax.vlines(idx[y == 0], 0.0, 0.03, color=_GREY, lw=0.7, alpha=0.8, label="Patients without")
        ax.set_ylim(0, 1)
        pad = 0.03 * (idx.max() - idx.min())
        ax.set_xlim(idx.min() - pad, idx.max() + pad)
        ax.set_xlabel(ic.label)
        ax.set_ylabel(outcome_label)
        ax.set_title(title or f"{ic.label}: probability by index value", loc="left")
        fig.tight_layout()
        _legend(ax, ("upper left",), fontsize=7.5)
        _mark(fig, watermark)
        fig.tight_layout()
    return fig


def monitor_plot(res: Mapping[str, Any], *, which: str = "both", title: str | None = None,
                 watermark: str | None = None):
    """Registry monitoring: calibration of the accrued cohort and the cumulative O − E drift chart.

    Parameters
    ----------
    res : mapping
        ``Registry.monitor(...)`` / ``registry monitor --json``: ``calibration_curve`` (lowess),
        ``groups`` (risk groups), ``drift`` (cumulative O − E with its 95% band), ``oe``,
        ``slope``, ``c``, ``n``, ``events``.
    which : {"both", "calibration", "drift"}
        Both panels side by side, or one of them alone (the web page stacks them on a phone).
    title, watermark
    """
    with _apply_rc():
        plt = _plt()
        if which == "both":
            fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.6, 4.4))
        else:
            fig, ax = plt.subplots(figsize=(4.8, 4.4))
            ax1, ax2 = (ax, None) if which == "calibration" else (None, ax)
        if ax1 is not None:
            _monitor_calibration(ax1, res)
        if ax2 is not None:
            _monitor_drift(ax2, res)
        if title:
            fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
        _mark(fig, watermark)
        fig.tight_layout()
    return fig


def _fmt2(v: Any) -> str:
    return "—" if v is None else f"{v:.2f}"


def _monitor_calibration(ax1, res: Mapping[str, Any]) -> None:
    with _apply_rc():
        ax1.plot([0, 1], [0, 1], color=_GREY, ls="--", lw=1.0, label="Ideal")
        cc = res.get("calibration_curve") or []
        if cc:
            ax1.plot([c["predicted"] for c in cc], [c["observed"] for c in cc], color=PALETTE[0],
                     lw=1.8, label="Smoothed (lowess)")
        gr = res.get("groups") or []
        if gr:
            ax1.scatter([g["predicted"] for g in gr], [g["observed"] for g in gr],
                        s=[12 + 2 * g["n"] ** 0.5 * 4 for g in gr], color=PALETTE[1], zorder=3,
                        label="Risk groups (observed share)")
        ax1.set_xlim(0, 1)
        ax1.set_ylim(0, 1)
        ax1.set_aspect("equal")
        ax1.set_xlabel("Predicted risk")
        ax1.set_ylabel("Observed proportion")
        ax1.set_title("Calibration of the accrued cohort", loc="left")
        _legend(ax1, ("upper left",), fontsize=7.5)
        oe, sl, c = res["oe"], res["slope"], res["c"]
        _f = _fmt2

        ax1.text(0.98, 0.03, f"n = {res['n']}, events = {res['events']}\n"
                 f"O/E {_f(oe['estimate'])} ({_f(oe['low'])}–{_f(oe['high'])})\n"
                 f"slope {_f(sl['estimate'])} ({_f(sl['low'])}–{_f(sl['high'])})\n"
                 f"C {_f(c['estimate'])} ({_f(c['low'])}–{_f(c['high'])})",
                 transform=ax1.transAxes, ha="right", va="bottom", fontsize=7.5, color="#333333")


def _monitor_drift(ax2, res: Mapping[str, Any]) -> None:
    with _apply_rc():
        dr = res.get("drift") or []
        k = np.arange(1, len(dr) + 1)
        d = np.array([x["cum_o_minus_e"] for x in dr], float)
        b = np.array([x["band"] for x in dr], float)
        if len(dr):
            ax2.fill_between(k, -b, b, color="#DDDDDD", step="post",
                             label="95% band if calibrated")
            ax2.step(k, d, where="post", color=PALETTE[0], lw=1.6, label="Cumulative O − E")
            ax2.axhline(0, color=_GREY, lw=0.8)
            times = [x.get("time") for x in dr]
            ticks = [i for i in range(len(times)) if i == 0 or times[i] != times[i - 1]]
            if 1 < len(ticks) <= 12:
                ax2.set_xticks([t + 1 for t in ticks], [str(times[t]) for t in ticks],
                               rotation=45, ha="right")
        ax2.set_xlabel("Patients with an outcome, in calendar order of baseline")
        ax2.set_ylabel("Observed − expected events")
        ax2.set_title("Drift: cumulative observed − expected", loc="left")
        _legend(ax2, ("upper left", "lower left"), fontsize=7.5)



# ----------------------------------------------------------------------------- meta-analysis
_META_LABELS = {
    "c": ("C statistic", 0.5, "C statistic (95% CI)"),
    "oe": ("O/E ratio", 1.0, "Observed / expected (95% CI, log scale)"),
    "slope": ("Calibration slope", 1.0, "Calibration slope (95% CI)"),
    "citl": ("Calibration-in-the-large", 0.0, "Calibration-in-the-large (95% CI)"),
}


def meta_forest_plot(ma, *, title: str | None = None, ax=None, watermark: str | None = None,
                     reference: float | None = None, xlabel: str | None = None, text: bool = True):
    """Forest plot of one random-effects meta-analysis (a :class:`~myorisk.modeling.meta.MetaAnalysis`).

    Each study: a square sized by its random-effects weight and its 95% Wald CI (on the analysis
    scale, back-transformed); the pooled estimate as a diamond spanning its Hartung–Knapp CI, and
    the 95% prediction interval as a line through it. O/E is drawn on a log axis.

    Parameters
    ----------
    ma : MetaAnalysis
    title, xlabel : str, optional
        Defaults from the measure.
    ax : matplotlib Axes, optional
    watermark : str, optional
    reference : float, optional
        Vertical reference line (perfect value: 1 for O/E and slope, 0 for CITL, 0.5 for C).
    text : bool
        Print "estimate (CI)" and weight beside the plot.
    """
    name, ref, xl = _META_LABELS.get(ma.measure, (ma.measure, None, f"{ma.measure} (95% CI)"))
    reference = ref if reference is None else reference
    fr = ma.to_frame()
    studies = fr.iloc[:-1]
    pooled = fr.iloc[-1]
    pi_lo, pi_hi = ma.natural(ma.pi_low), ma.natural(ma.pi_high)
    with _apply_rc():
        k = len(studies)
        fig, ax = _new(ax, (7.2, 1.5 + 0.3 * (k + 2)))
        y = np.arange(k)[::-1] + 2.0
        if ma.transform == "log":
            ax.set_xscale("log")
        wmax = float(studies["weight"].max())
        for yi, (_, r) in zip(y, studies.iterrows(), strict=True):
            ax.plot([r["low"], r["high"]], [yi, yi], color=PALETTE[0], lw=1.2, solid_capstyle="butt")
            ax.plot([r["estimate"]], [yi], marker="s", color=PALETTE[0],
                    ms=3.5 + 5.5 * math.sqrt(r["weight"] / wmax), ls="none")
        e, lo, hi = pooled["estimate"], pooled["low"], pooled["high"]
        ax.plot([pi_lo, pi_hi], [0.5, 0.5], color=PALETTE[1], lw=1.4, solid_capstyle="butt",
                label="95% prediction interval")
        ax.fill([lo, e, hi, e], [0.5, 0.78, 0.5, 0.22], color=PALETTE[1], zorder=3,
                label="pooled (95% CI)")
        if reference is not None:
            ax.axvline(reference, color=_GREY, lw=0.8, ls="--", zorder=0)
        labels = list(studies["study"].astype(str)) + ["Pooled (random effects)"]
        ax.set_yticks(list(y) + [0.5])
        ax.set_yticklabels(labels)
        ax.set_ylim(-0.3, k + 2.6)
        xs = np.concatenate([studies["low"], studies["high"], [pi_lo, pi_hi]])
        xs = xs[np.isfinite(xs)]
        if reference is not None:
            xs = np.append(xs, reference)
        if ma.transform == "log":
            a, b = xs.min() / 1.15, xs.max() * 1.15
        else:
            pad = 0.06 * (xs.max() - xs.min() or 1.0)
            a, b = xs.min() - pad, xs.max() + pad
        if ma.transform == "logit":
            a, b = max(a, 0.0), min(b, 1.0)
        ax.set_xlim(a, b)
        if ma.transform == "log":
            from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

            nice = np.array([0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 10, 20])
            ticks = nice[(nice >= a) & (nice <= b)]
            if ticks.size > 7:
                ticks = ticks[::2] if 1 not in ticks[::2] else ticks[::2]
            ax.xaxis.set_major_locator(FixedLocator(ticks))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(xlabel or xl)
        tau = math.sqrt(ma.tau2)
        ax.set_title(title or f"{name}: τ² = {ma.tau2:.3g} (τ = {tau:.2f}), I² = {ma.i2:.0f}%", loc="left")
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        if text:
            d = 3 if ma.measure == "c" else 2

            def put(x_pt: float, yv: float, txt: str, bold: bool = False) -> None:
                ax.annotate(txt, xy=(1.0, yv), xycoords=("axes fraction", "data"), xytext=(x_pt, 0),
                            textcoords="offset points", fontsize=8, va="center", annotation_clip=False,
                            fontweight="bold" if bold else "normal")

            put(12, k + 2.1, "Estimate (95% CI)", True)
            put(122, k + 2.1, "Weight", True)
            for yi, (_, r) in zip(y, studies.iterrows(), strict=True):
                put(12, yi, f"{r['estimate']:.{d}f} ({r['low']:.{d}f} to {r['high']:.{d}f})")
                put(122, yi, f"{r['weight']:.1f}%")
            put(12, 0.5, f"{e:.{d}f} ({lo:.{d}f} to {hi:.{d}f})\nPI {pi_lo:.{d}f} to {pi_hi:.{d}f}", True)
            if ax.figure is fig:
                fig.subplots_adjust(left=0.28, right=0.60)
        _mark(fig, watermark)
    return fig


def meta_forest_panel(multi, *, measures: Sequence[str] = ("c", "oe", "slope", "citl"),
                      watermark: str | None = None):
    """Forest plots of several pooled measures of a :class:`~myorisk.study.multicentre.MultiCentre`,
    one above the other."""
    ms = [m for m in measures if m in multi.pooled]
    k = len(multi.sites)
    plt = _plt()
    with _apply_rc():
        heights = [k + 2.6 for _ in ms]
        fig, axes = plt.subplots(len(ms), 1, figsize=(7.6, sum(0.3 * h + 0.9 for h in heights)),
                                 gridspec_kw={"height_ratios": heights})
        axes = np.atleast_1d(axes)
        for ax, m in zip(axes, ms, strict=True):
            meta_forest_plot(multi.pooled[m], ax=ax)
        fig.subplots_adjust(left=0.27, right=0.60, hspace=0.75, top=0.97, bottom=0.04)
        _mark(fig, watermark)
    return fig


# ----------------------------------------------------------------------------- evaluation panel
def evaluation_plot(label: str, roc, calibration: tuple[np.ndarray, np.ndarray, np.ndarray], dc, *,
                    title: str | None = None, watermark: str | None = None):
    """Three panels of a model's performance in one data set: ROC, calibration, decision curve.

    Each panel is drawn by the figure the report uses (:func:`roc_plot`,
    :func:`calibration_set_plot`, :func:`decision_plot`).

    Parameters
    ----------
    label : str
        The model (or column of predictions).
    roc : RocResult
    calibration : (grid, observed, predictions)
        The smoothed calibration curve and the predicted risks.
    dc : DecisionCurve
    title : str, optional
        Figure title.
    watermark : str, optional
    """
    plt = _plt()
    with _apply_rc():
        fig, axes = plt.subplots(1, 3, figsize=(14.4, 5.0))
        roc_plot([(label, roc)], title="Discrimination", ax=axes[0])
        g, o, p = calibration
        calibration_set_plot([(label, g, o, p)], title="Calibration", ax=axes[1])
        decision_plot(dc, title="Decision curve", ax=axes[2])
        if title:
            fig.suptitle(title, x=0.01, ha="left", fontsize=11, fontweight="bold")
        fig.tight_layout()
        _mark(fig, watermark)
    return fig


def anova_chart(res, *, title: str = "Wald χ² − d.f. per factor", ax=None, watermark: str | None = None):
    """Dot chart of χ² − d.f. for each factor of an :class:`~myorisk.modeling.anova.Anova` (rms ``plot(anova())``).

    Factors are the main rows (a predictor with all its higher-order terms, or an interaction);
    sorted by χ² − d.f., the largest on top, with P beside each dot. χ² − d.f. is the χ² above what
    chance alone would give, which puts factors with different d.f. on one scale.
    """
    rows = [r for r in res.rows if not r.label.startswith(" ") and not r.factor.startswith("TOTAL")]
    rows.sort(key=lambda r: r.chi2 - r.df)
    with _apply_rc():
        fig, ax = _new(ax, (6.4, 1.2 + 0.32 * max(len(rows), 1)))
        vals = [r.chi2 - r.df for r in rows]
        ypos = np.arange(len(rows))
        ax.hlines(ypos, 0.0, vals, color="#BBBBBB", linewidth=0.8)  # each stem from 0 to its value
        ax.plot(vals, ypos, "o", color="#1f4e79")
        ax.axvline(0.0, color="#666666", linewidth=0.8, linestyle=":")
        ax.set_yticks(ypos, [r.factor for r in rows])
        ax.set_xlabel("χ² − d.f.")
        ax.set_title(title)
        span = (max(vals, default=1.0) - min(0.0, min(vals, default=0.0))) or 1.0
        for y, r, v in zip(ypos, rows, vals, strict=True):
            ax.text(max(v, 0.0) + 0.03 * span, y, f"P {_fmt_p(r.p)}", va="center", fontsize=7,
                    color="#444444")  # right of the zero line, also for a negative value
        ax.set_xlim(min(0.0, min(vals, default=0.0)) - 0.05 * span, max(vals, default=1.0) + 0.25 * span)
        _mark(fig, watermark)
    return fig


# ----------------------------------------------------------------------------- multiple imputation
def mice_trace_plot(imp, *, title: str = "Imputation chains: mean and SD of imputed values",
                    watermark: str | None = None):
    """Trace plots of a :class:`~myorisk.modeling.mice.MiceResult`: for each imputed variable the
    mean and SD of its imputed values after every iteration, one line per chain (mice ``plot(imp)``).
    Chains that mix and show no trend indicate convergence.
    """
    plt = _plt()
    names = list(imp.chain_mean)
    if not names:
        raise ValueError("no variable was imputed")
    with _apply_rc():
        fig, axes = plt.subplots(len(names), 2, figsize=(7.0, 1.9 * len(names) + 0.6), squeeze=False)
        it = np.arange(1, imp.maxit + 1)
        for r, name in enumerate(names):
            for c, (arr, lab) in enumerate(((imp.chain_mean[name], "mean"), (imp.chain_sd[name], "SD"))):
                ax = axes[r, c]
                for i in range(arr.shape[1]):
                    ax.plot(it, arr[:, i], lw=0.9, color=PALETTE[i % len(PALETTE)], alpha=0.85)
                ax.set_title(f"{name}: {lab}" + (" (level number)" if imp.methods.get(name) == "polyreg" else ""),
                             loc="left", fontsize=8.5)
                ax.set_xlabel("iteration" if r == len(names) - 1 else "")
                ax.set_xticks(it if imp.maxit <= 20 else ax.get_xticks())
        fig.suptitle(title, x=0.01, ha="left", fontsize=10, fontweight="bold")
        _mark(fig, watermark)
        fig.tight_layout()
    return fig


def mice_density_plot(imp, *, title: str = "Observed (black) and imputed (colour) values",
                      watermark: str | None = None):
    """Observed against imputed distributions per imputed variable (mice ``densityplot`` /
    ``stripplot``): numeric variables as densities (observed thick black, each imputation thin),
    categorical ones as the share of each value among observed and imputed values.
    """
    from scipy.stats import gaussian_kde

    plt = _plt()
    names = list(imp.imputed)
    if not names:
        raise ValueError("no variable was imputed")
    ncol = min(3, len(names))
    nrow = -(-len(names) // ncol)
    with _apply_rc():
        fig, axes = plt.subplots(nrow, ncol, figsize=(3.0 * ncol + 0.4, 2.5 * nrow + 0.5), squeeze=False)
        for k, name in enumerate(names):
            ax = axes[k // ncol, k % ncol]
            obs = imp.data[name].dropna()
            vals = imp.imputed[name]
            if imp.methods.get(name) == "pmm":
                o = obs.to_numpy(dtype=float)
                lo, hi = float(np.min(o)), float(np.max(o))
                grid = np.linspace(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo), 200)
                if np.ptp(o) > 0 and o.size > 2:
                    ax.plot(grid, gaussian_kde(o)(grid), color="black", lw=2.0, label="observed")
                for i in range(vals.shape[0]):
                    v = vals[i].astype(float)
                    if v.size > 2 and np.ptp(v) > 0:
                        ax.plot(grid, gaussian_kde(v)(grid), color=PALETTE[0], lw=0.7, alpha=0.5,
                                label="imputed" if i == 0 else None)
                ax.set_ylabel("density")
            else:
                def lab(v):
                    return str(int(v)) if isinstance(v, float | np.floating) and float(v).is_integer() else str(v)

                so = np.array([lab(v) for v in obs])
                si = np.array([lab(v) for v in vals.ravel()])
                levels = sorted(set(so) | set(si))
                po = [np.mean(so == lv) for lv in levels]
                pi = [np.mean(si == lv) for lv in levels]
                x = np.arange(len(levels))
                ax.bar(x - 0.2, po, 0.4, color="black", label="observed")
                ax.bar(x + 0.2, pi, 0.4, color=PALETTE[0], label="imputed (all)")
                ax.set_xticks(x, levels)
                ax.set_ylabel("share")
            miss = int(imp.data[name].isna().sum())
            ax.set_title(f"{name} ({imp.methods.get(name)}, {miss} imputed)", loc="left", fontsize=8.5)
            if k == 0 or (imp.methods.get(name) != "pmm" and all(
                    imp.methods.get(n2) == "pmm" for n2 in names[:k])):
                ax.legend(fontsize=7)
        for k in range(len(names), nrow * ncol):
            axes[k // ncol, k % ncol].set_visible(False)
        fig.suptitle(title, x=0.01, ha="left", fontsize=10, fontweight="bold")
        _mark(fig, watermark)
        fig.tight_layout()
    return fig


def missing_share_plot(missing: pd.DataFrame, *, title: str = "Missing values per variable", ax=None,
                       watermark: str | None = None):
    """Horizontal bars of the share missing per variable (a ``missing`` table: variable, missing, share)."""
    with _apply_rc():
        m = missing.sort_values("share")
        fig, ax = _new(ax, (5.6, 0.3 * len(m) + 1.2))
        ax.barh(m["variable"].astype(str), 100 * m["share"], color=PALETTE[0])
        for y, (s, k) in enumerate(zip(m["share"], m["missing"], strict=True)):
            ax.text(100 * s + 0.5, y, f"{100 * s:.1f}% ({k})", va="center", fontsize=7.5)
        ax.set_xlabel("missing (%)")
        ax.set_xlim(0, max(10.0, 100 * float(m["share"].max()) * 1.25))
        ax.set_title(title, loc="left")
        _mark(fig, watermark)
        fig.tight_layout()
    return fig


def effects_plot(res, *, odds_ratio: bool = False, title: str | None = None, watermark: str | None = None,
                 labels: Mapping[str, str] | None = None):
    """Partial effect of each predictor (rms ``ggplot(Predict(fit))``): one panel per predictor.

    Numeric predictors: a line with a shaded pointwise confidence band; categorical ones (and
    numeric ones with few values): points with error bars. Log odds, or odds ratios against the
    adjust-to value on a log scale when ``odds_ratio``.
    """
    effs = list(res.effects)
    k = max(len(effs), 1)
    cols = min(3, k)
    rows = (k + cols - 1) // cols
    with _apply_rc():
        plt = _plt()
        fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols, 2.7 * rows), squeeze=False)
        for ax, e in zip(axes.flat, effs, strict=False):
            y, lo, hi = ((e.odds_ratio, e.or_lower, e.or_upper) if odds_ratio
                         else (e.linear_predictor, e.lower, e.upper))
            discrete = e.kind == "categorical" or len(e.x) <= 10
            if discrete:
                pos = np.arange(len(e.x))
                ax.errorbar(pos, y, yerr=[y - lo, hi - y], fmt="o", color="#1f4e79", capsize=3)
                binary = e.kind == "numeric" and sorted(map(float, e.x)) == [0.0, 1.0]
                ax.set_xticks(pos, [("No" if float(v) == 0 else "Yes") if binary else str(_num_label(v))
                                    for v in e.x])
                ax.set_xlim(-0.5, len(e.x) - 0.5)
            else:
                ax.fill_between(e.x, lo, hi, color="#1f4e79", alpha=0.18, linewidth=0)
                ax.plot(e.x, y, color="#1f4e79")
            if odds_ratio:
                from matplotlib.ticker import FuncFormatter, LogLocator

                ax.set_yscale("log")
                ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
                ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
                ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
                ax.axhline(1.0, color="#666666", linewidth=0.8, linestyle=":")
            ax.set_xlabel((labels or {}).get(e.variable, e.variable))
            ax.set_ylabel("Odds ratio" if odds_ratio else "Log odds")
        for ax in list(axes.flat)[len(effs):]:
            ax.set_visible(False)
        adj = ", ".join(f"{(labels or {}).get(k, k)} = {_num_label(v)}" for k, v in res.adjust.items())
        fig.suptitle(title or f"Partial effects on {res.outcome} ({int(res.level * 100)}% pointwise CI)",
                     fontsize=10, fontweight="bold")
        fig.text(0.5, -0.01, f"Adjusted to: {adj}", ha="center", va="top", fontsize=7, color="#444444",
                 wrap=True)
        fig.tight_layout()
        _mark(fig, watermark)
    return fig


def _num_label(v: object) -> object:
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, float):
        return f"{v:.4g}"
    return v
