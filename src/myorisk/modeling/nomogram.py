"""Nomograms for logistic models, scaled as rms ``nomogram``.

Each predictor's axis runs over R ``pretty(range, n=10)`` values (or its ≤ 10 distinct values, or
its levels); a value's points are its contribution βx minus the smallest contribution on that axis,
times ``sc = 100 / (widest contribution range)``; the total points map back to the linear predictor
by ``lp = intercept + total / sc``. Probability ticks are placed by inverting plogis on a
1,000-point linear-predictor grid, as rms does.

Per-patient points are exact: ``(β_j·x_j − min_j)·sc`` for any value in range, not only at ticks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit

from myorisk.errors import InputError
from myorisk.modeling.design import Term, _level_label

__all__ = ["pretty", "NomogramAxis", "Nomogram", "NomogramSpan", "PROB_TAILS", "build_nomogram",
           "nomogram_from_fit"]

_DBL_EPS = np.finfo(float).eps


def pretty(lo: float, hi: float, n: int = 5, min_n: int | None = None) -> np.ndarray:
    """R's ``pretty()``: about ``n + 1`` equally spaced round values covering [lo, hi].

    Implements R's ``R_pretty`` (high.u.bias = 1.5, u5.bias = 0.5 + 1.5·1.5, shrink.sml = 0.75,
    eps.correct = 0, min.n = n %/% 3) and the zero clean-up of ``pretty.default``.
    """
    if min_n is None:
        min_n = n // 3
    h, h5, shrink = 1.5, 0.5 + 1.5 * 1.5, 0.75
    rounding_eps = 1e-10
    lo, hi = float(min(lo, hi)), float(max(lo, hi))
    dx = hi - lo
    ndiv = n
    if dx == 0 and hi == 0:
        cell, i_small = 1.0, True
    else:
        cell = max(abs(lo), abs(hi))
        u = 1.0 + (1.0 / (1.0 + h) if h5 >= 1.5 * h + 0.5 else 1.5 / (1.0 + h5))
        u *= max(1, ndiv) * _DBL_EPS
        i_small = dx < cell * u * 3.0
    if i_small:
        if cell > 10:
            cell = 9.0 + cell / 10.0
        cell *= shrink
        if min_n > 1:
            cell /= min_n
    else:
        cell = dx
        if ndiv > 1:
            cell /= ndiv
    if cell < 20 * np.finfo(float).tiny:
        cell = 20 * np.finfo(float).tiny
    elif cell * 10 > np.finfo(float).max:
        cell = 0.1 * np.finfo(float).max
    base = 10.0 ** math.floor(math.log10(cell))
    unit = base
    if 2 * base - cell < h * (cell - unit):
        unit = 2 * base
        if 5 * base - cell < h5 * (cell - unit):
            unit = 5 * base
            if 10 * base - cell < h * (cell - unit):
                unit = 10 * base
    ns = math.floor(lo / unit + 1e-7)
    nu = math.ceil(hi / unit - 1e-7)
    while ns * unit > lo + rounding_eps * unit:
        ns -= 1
    while nu * unit < hi - rounding_eps * unit:
        nu += 1
    k = int(0.5 + nu - ns)
    if k < min_n:
        k = min_n - k
        if ns >= 0:
            nu += k // 2
            ns -= k // 2 + k % 2
        else:
            ns -= k // 2
            nu += k // 2 + k % 2
        ndiv = min_n
    else:
        ndiv = k
    lo_v, hi_v = ns * unit, nu * unit
    s = lo_v + np.arange(ndiv + 1) * ((hi_v - lo_v) / ndiv) if ndiv else np.array([lo_v])
    if ndiv:
        s[-1] = hi_v
        delta = (hi_v - lo_v) / ndiv
        s[np.abs(s) < 1e-14 * delta] = 0.0
    return s


@dataclass(frozen=True)
class NomogramAxis:
    """One predictor's axis.

    Attributes
    ----------
    variable : str
    kind : {"numeric", "categorical"}
    values : tuple
        Axis values (numbers, or level labels).
    points : tuple of float
        Points at each value.
    labels : tuple of str
        Tick labels, with runs of equal points merged as rms does ("a-b", "a+").
    """

    variable: str
    kind: str
    values: tuple
    points: tuple[float, ...]
    labels: tuple[str, ...]

    @property
    def binary(self) -> bool:
        """True for a yes/no predictor: its axis values are exactly 0 and 1."""
        vals = [str(v) if isinstance(v, str) else f"{float(v):g}" for v in self.values]
        return sorted(vals) == ["0", "1"] and len(self.labels) == 2

    @property
    def display_labels(self) -> tuple[str, ...]:
        """Tick labels for people: a 0/1 predictor's axis reads No/Yes, others as :attr:`labels`."""
        if not self.binary:
            return self.labels
        return tuple("Yes" if (str(v) if isinstance(v, str) else f"{float(v):g}") == "1" else "No"
                     for v in self.values)


#: Probability ticks added in the tails of a nomogram's span when they fall beyond the given ones.
PROB_TAILS = (0.001, 0.01, 0.05, 0.95, 0.99, 0.999)


@dataclass(frozen=True)
class NomogramSpan:
    """The total-points, linear-predictor and probability axes over every possible total.

    A drawn nomogram shows these three axes from 0 total points (every predictor at its
    lowest-points value) to ``total_max`` (every predictor at its highest), so that any
    patient's total falls on them; each tick is ``(position in total points, value)``.

    Attributes
    ----------
    total_max : float
        Largest possible total points (sum of each axis's largest points).
    total_ticks, lp_ticks, prob_ticks : tuple of (float, float)
        Ticks of the nomogram's axes that lie in ``[0, total_max]`` (when fewer than two of
        the linear-predictor or probability ticks do, R ``pretty`` ticks of the span instead).
    prob_tails : tuple of (float, float)
        Candidate extra probability ticks (:data:`PROB_TAILS`) inside the span and beyond the
        range of ``prob_ticks``; a drawing adds those its labels leave room for.
    """

    total_max: float
    total_ticks: tuple[tuple[float, float], ...]
    lp_ticks: tuple[tuple[float, float], ...]
    prob_ticks: tuple[tuple[float, float], ...]
    prob_tails: tuple[tuple[float, float], ...]

    def to_dict(self) -> dict:
        """JSON-ready form: ``{total_max, total, linear_predictor, probability, probability_tails}``
        with each axis as ``{points: [...], values: [...]}``."""
        def ax(ticks: Sequence[tuple[float, float]]) -> dict:
            return {"points": [p for p, _ in ticks], "values": [v for _, v in ticks]}

        return {"total_max": self.total_max, "total": ax(self.total_ticks),
                "linear_predictor": ax(self.lp_ticks), "probability": ax(self.prob_ticks),
                "probability_tails": ax(self.prob_tails)}


@dataclass(frozen=True)
class Nomogram:
    """A nomogram: predictor axes, total points, linear predictor and probability axes.

    Attributes
    ----------
    axes : tuple of NomogramAxis
    scale : float
        Points per unit of linear predictor (rms ``sc``).
    intercept : float
        Linear predictor at 0 total points (rms ``Intercept``: β0 + Σ min contributions).
    maxscale : float
    total_points : tuple of float
        Ticks of the total-points axis.
    lp_values, lp_positions : tuple of float
        Linear-predictor ticks and their positions in total points.
    prob_values, prob_positions : tuple of float
        Probability ticks and their positions in total points.
    term_minima : dict
        Smallest contribution of each predictor on its axis.
    """

    axes: tuple[NomogramAxis, ...]
    scale: float
    intercept: float
    maxscale: float
    total_points: tuple[float, ...]
    lp_values: tuple[float, ...]
    lp_positions: tuple[float, ...]
    prob_values: tuple[float, ...]
    prob_positions: tuple[float, ...]
    terms: tuple[Term, ...] = field(repr=False, default=())
    coefficients: Mapping[str, float] = field(repr=False, default_factory=dict)
    term_minima: Mapping[str, float] = field(repr=False, default_factory=dict)

    def axis(self, variable: str) -> NomogramAxis:
        """The axis of ``variable``."""
        for a in self.axes:
            if a.variable == variable:
                return a
        raise KeyError(variable)

    def contributions(self, data: pd.DataFrame, source: str = "data") -> pd.DataFrame:
        """β·x of each predictor for each row (categorical: the level's coefficient, 0 for the reference)."""
        out = {}
        for t in self.terms:
            if t.name not in data.columns:
                raise InputError(f"{source}: column '{t.name}' needed by the model is missing")
            cols = t.encode(data[t.name], source)
            beta = np.array([self.coefficients[c] for c in t.columns])
            out[t.name] = cols @ beta
        return pd.DataFrame(out, index=data.index)

    def points(self, data: pd.DataFrame, source: str = "data") -> pd.DataFrame:
        """Points per predictor and ``total`` for each row, with ``linear_predictor`` and ``probability``."""
        contrib = self.contributions(data, source)
        pts = pd.DataFrame(
            {t.name: (contrib[t.name] - self.term_minima[t.name]) * self.scale for t in self.terms},
            index=data.index,
        )
        pts["total"] = pts.sum(axis=1)
        pts["linear_predictor"] = self.intercept + pts["total"] / self.scale
        pts["probability"] = expit(pts["linear_predictor"])
        return pts

    def span(self) -> NomogramSpan:
        """The total-points, linear-predictor and probability axes over every possible total
        (0 to the sum of the axes' largest points); see :class:`NomogramSpan`."""
        from scipy.special import logit

        tmax = sum(max((float(p) for p in a.points), default=0.0) for a in self.axes)
        if not tmax > 0:
            tmax = float(self.maxscale)
        eps = 1e-9 * max(1.0, tmax)

        def inside(ticks: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
            return [(float(p), float(v)) for p, v in ticks if -eps <= p <= tmax + eps]

        icpt, sc = self.intercept, self.scale
        total = inside([(t, t) for t in self.total_points])
        lp = inside(list(zip(self.lp_positions, self.lp_values, strict=True)))
        if len(lp) < 2:
            lp = inside([((v - icpt) * sc, v) for v in pretty(icpt, icpt + tmax / sc, n=5)])
        prob = inside(list(zip(self.prob_positions, self.prob_values, strict=True)))
        if len(prob) < 2:
            prob = inside([((logit(v) - icpt) * sc, v)
                           for v in pretty(float(expit(icpt)), float(expit(icpt + tmax / sc)), n=5)
                           if 0.0 < v < 1.0])
        tails: list[tuple[float, float]] = []
        if prob:
            lo_v, hi_v = min(v for _, v in prob), max(v for _, v in prob)
            tails = inside([((logit(v) - icpt) * sc, v) for v in PROB_TAILS
                            if v < lo_v or v > hi_v])
        return NomogramSpan(float(tmax), tuple(total), tuple(lp), tuple(prob), tuple(tails))

    def probability_at(self, total_points: float | np.ndarray) -> np.ndarray:
        """Predicted probability at a number of total points."""
        return expit(self.intercept + np.asarray(total_points, dtype=float) / self.scale)

    def to_frame(self) -> pd.DataFrame:
        """Long table: axis, value, label, points (predictor axes, then lp and probability axes)."""
        rows = []
        for a in self.axes:
            for v, p, lab in zip(a.values, a.points, a.labels, strict=True):
                rows.append({"axis": a.variable, "value": v, "label": lab, "points": p})
        for v, p in zip(self.lp_values, self.lp_positions, strict=True):
            rows.append({"axis": "linear_predictor", "value": v, "label": f"{v:g}", "points": p})
        for v, p in zip(self.prob_values, self.prob_positions, strict=True):
            rows.append({"axis": "probability", "value": v, "label": f"{v:g}", "points": p})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        """JSON-ready nomogram (for reports and the web calculator)."""
        from myorisk._json import clean as _clean

        return _clean(
            {
                "scale": self.scale,
                "intercept": self.intercept,
                "maxscale": self.maxscale,
                "axes": [
                    {
                        "variable": a.variable,
                        "kind": a.kind,
                        "values": list(a.values),
                        "points": list(a.points),
                        "labels": list(a.labels),
                        "display_labels": list(a.display_labels),
                    }
                    for a in self.axes
                ],
                "total_points": list(self.total_points),
                "linear_predictor": {"values": list(self.lp_values), "points": list(self.lp_positions)},
                "probability": {"values": list(self.prob_values), "points": list(self.prob_positions)},
                "span": self.span().to_dict(),
            }
        )


def _fmt(v: object) -> str:
    if isinstance(v, str):
        return v
    return f"{float(v):g}"


def _merge_labels(values: Sequence, points: np.ndarray, discrete: bool) -> tuple[list, list, list]:
    """Merge runs of equal points into one tick, as rms (``a-b`` or ``a+`` at the end)."""
    labels = [_fmt(v) for v in values]
    keep_v, keep_p, keep_l = [], [], []
    i = 0
    n = len(points)
    while i < n:
        j = i
        while j + 1 < n and points[j + 1] == points[i]:
            j += 1
        if j > i:
            lab = f"{labels[i]}-{labels[j]}" if (discrete or j < n - 1) else f"{labels[i]}+"
        else:
            lab = labels[i]
        keep_v.append(values[j])
        keep_p.append(float(points[j]))
        keep_l.append(lab)
        i = j + 1
    return keep_v, keep_p, keep_l


def build_nomogram(
    terms: Sequence[Term],
    coefficients: Mapping[str, float],
    axis_values: Mapping[str, Sequence],
    lp_range: tuple[float, float],
    *,
    fun_at: Sequence[float] | None = None,
    maxscale: float = 100.0,
    nint: int = 10,
) -> Nomogram:
    """Build a nomogram from model terms and coefficients.

    Parameters
    ----------
    terms : sequence of Term
    coefficients : mapping
        Coefficient by design-column name, including ``"Intercept"``.
    axis_values : mapping
        Numeric predictor → axis values (see :func:`axis_values_from_summary`). Categorical
        predictors use their levels.
    lp_range : (float, float)
        Range of the linear predictor in the development data (rms uses the fit's
        ``linear.predictors``) for the linear-predictor and probability axes.
    fun_at : sequence of float, optional
        Probability ticks (default: ``pretty(plogis(range(lp ticks)), n=10)`` as rms).
    maxscale, nint : float, int
        rms ``maxscale`` and ``nint``.

    Notes
    -----
    Matches rms 6.5 ``nomogram(fit, fun=plogis)`` for main-effect models (no interactions or
    splines): the points of every axis value, ``sc``, ``Intercept``, and the total-points,
    linear-predictor and probability axes.
    """
    axes_raw = []
    minima, ranges = {}, {}
    for t in terms:
        if t.kind == "categorical":
            values = list(t.levels)
            contrib = np.array([0.0] + [coefficients[c] for c in t.columns])
        else:
            if t.name not in axis_values:
                raise InputError(f"no axis values for numeric predictor '{t.name}'")
            values = [float(v) for v in axis_values[t.name]]
            contrib = coefficients[t.columns[0]] * np.asarray(values)
        minima[t.name] = float(contrib.min())
        ranges[t.name] = float(contrib.max() - contrib.min())
        axes_raw.append((t, values, contrib))
    widest = max(ranges.values()) if ranges else 0.0
    if widest <= 0:
        raise InputError("every predictor has a zero effect on its axis: no nomogram can be scaled")
    sc = maxscale / widest
    intercept = float(coefficients["Intercept"] + sum(minima.values()))
    axes = []
    for t, values, contrib in axes_raw:
        pts = (contrib - minima[t.name]) * sc
        v, p, lab = _merge_labels(values, pts, discrete=t.kind == "categorical" or len(values) <= 10)
        axes.append(NomogramAxis(t.name, t.kind, tuple(v), tuple(p), tuple(lab)))
    lp_at = pretty(lp_range[0], lp_range[1], n=nint)
    sum_max = maxscale if len(terms) == 1 else max(maxscale, sc * float(np.max(lp_at - intercept)))
    total = pretty(0.0, sum_max, n=nint)
    lp_pos = (lp_at - intercept) * sc
    if fun_at is None:
        fat = pretty(float(expit(lp_at.min())), float(expit(lp_at.max())), n=nint)
    else:
        fat = np.asarray(fun_at, dtype=float)
    xseq = np.linspace(lp_at.min(), lp_at.max(), 1000)
    fu = expit(xseq)
    inside = (fat >= fu[0]) & (fat <= fu[-1])
    w = np.interp(fat[inside], fu, xseq)
    fat = fat[inside]
    prob_pos = (w - intercept) * sc
    return Nomogram(
        axes=tuple(axes),
        scale=float(sc),
        intercept=intercept,
        maxscale=float(maxscale),
        total_points=tuple(map(float, total)),
        lp_values=tuple(map(float, lp_at)),
        lp_positions=tuple(map(float, lp_pos)),
        prob_values=tuple(map(float, fat)),
        prob_positions=tuple(map(float, prob_pos)),
        terms=tuple(terms),
        coefficients=dict(coefficients),
        term_minima=minima,
    )


def axis_values_from_summary(summary: Mapping, nint: int = 10, n_unique: int = 10) -> list[float]:
    """Axis values of a numeric predictor as rms picks them from ``datadist``.

    ``summary`` has ``min``, ``max`` and optionally ``values`` (the distinct values when there are
    at most ``n_unique`` of them): those values are used as they are, otherwise
    ``pretty(c(min, max), n = nint)``.
    """
    vals = summary.get("values")
    if vals is not None and len(vals) <= n_unique:
        return sorted(float(v) for v in vals)
    return [float(v) for v in pretty(summary["min"], summary["max"], n=nint)]


def nomogram_from_fit(
    fit, *, fun_at: Sequence[float] | None = None, maxscale: float = 100.0, nint: int = 10
) -> Nomogram:
    """Nomogram of a :class:`~myorisk.modeling.logistic.LogisticFit` (axes from its data summary)."""
    complex_terms = [t.name for t in fit.terms if t.kind in ("rcs", "interaction")]
    if complex_terms:
        from myorisk.errors import InputError

        raise InputError(f"nomograms of models with splines or interactions ({', '.join(complex_terms)}) "
                         "are not drawn yet")
    values = {
        t.name: axis_values_from_summary(fit.term_summary[t.name], nint=nint)
        for t in fit.terms
        if t.kind == "numeric"
    }
    lp = fit.linear_predictor
    return build_nomogram(
        fit.terms, fit.coef, values, (float(lp.min()), float(lp.max())), fun_at=fun_at,
        maxscale=maxscale, nint=nint,
    )


def axis_values_in_range(lo: float, hi: float, nint: int = 10) -> list[float]:
    """Axis values of a numeric predictor allowed from ``lo`` to ``hi``: the ends themselves and
    the R ``pretty(c(lo, hi), n = nint)`` values strictly between them, so that the axis starts
    at the lowest allowed value (not at a rounder value below it that no patient can have) and
    ends at the highest."""
    inner = [float(v) for v in pretty(lo, hi, n=nint) if lo < v < hi]
    return [float(lo), *inner, float(hi)] if hi > lo else [float(lo)]


def term_summary(values: np.ndarray, n_unique: int = 10) -> dict:
    """min, max and (when at most ``n_unique``) the distinct values of a numeric predictor."""
    v = np.asarray(values, dtype=float)
    uniq = np.unique(v)
    out: dict = {"min": float(v.min()), "max": float(v.max())}
    if uniq.size <= n_unique:
        out["values"] = [float(u) for u in uniq]
    return out


__all__ += ["axis_values_from_summary", "axis_values_in_range", "term_summary", "_level_label"]
