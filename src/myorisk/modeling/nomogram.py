"""Nomograms for logistic models, scaled as rms ``nomogram``.

Each predictor's axis runs over R ``pretty(range, n=10)`` values (or its ≤ 10 distinct values, or
its levels); a value's points are its contribution βx minus the smallest contribution on that axis,
times ``sc = 100 / (widest contribution range)``; the total points map back to the linear predictor
by ``lp = intercept + total / sc``. Probability ticks are placed by inverting plogis on a
1,000-point linear-predictor grid, as rms does.

Per-patient points are exact: ``(β_j·x_j − min_j)·sc`` for any value in range, not only at ticks.

Splines and interactions are drawn as rms 6.5 draws them: a predictor's points are its partial
linear predictor (all its design columns: x, x', x'', …) over the axis values, so a spline axis may
be non-monotone. A predictor that interacts with categorical ones gets one axis per combination of
their levels (``age (race=black)``), each axis carrying the partial linear predictor of the
predictor, of the categorical ones and of their interactions; the categorical predictors get no axis
of their own. When a model has interactions, continuous predictors come first (rms orders main
effects by ``discrete``). Two interacting continuous predictors need rms' ``interact=`` values and
are refused.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from myorisk.errors import InputError
from myorisk.modeling._special import expit
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
    name : str
        The axis title as rms names it: the variable, or for an axis of a predictor interacting with
        categorical ones ``"age (race=black)"`` (defaults to ``variable``).
    condition : tuple of (str, value)
        The levels of the interacting predictors this axis is drawn at (empty for a main effect).
    """

    variable: str
    kind: str
    values: tuple
    points: tuple[float, ...]
    labels: tuple[str, ...]
    name: str = ""
    condition: tuple = ()

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.variable)

    @property
    def monotone(self) -> bool:
        """True when the points rise or fall steadily along the axis values."""
        d = np.diff(np.asarray(self.points, dtype=float))
        return bool(np.all(d >= 0) or np.all(d <= 0))

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
        Largest possible total points (sum of each axis's largest points; a predictor drawn on
        one axis per level of a factor counts once, at its highest axis).
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
        Smallest partial linear predictor of each axis group on its axes (rms ``R[1, ]``).
    groups : tuple of (str, tuple of str, tuple of int)
        Per axis group: the predictor whose axes carry the points, the interacting predictors it
        absorbs, and the indices of the terms whose partial linear predictor the points are.
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
    groups: tuple = field(repr=False, default=())

    def axis(self, variable: str) -> NomogramAxis:
        """The axis named ``variable`` (``"age (race=black)"``), or the first axis of that predictor."""
        for a in self.axes:
            if a.name == variable:
                return a
        for a in self.axes:
            if a.variable == variable:
                return a
        raise KeyError(variable)

    @property
    def point_variables(self) -> tuple[str, ...]:
        """The predictors that carry points (one per axis group; interacting categorical ones do not)."""
        return tuple(g[0] for g in self._groups())

    def patient_axes(self, values: Mapping) -> dict[str, str]:
        """The axis each point-carrying predictor of a patient is read on: ``{"age": "age (race=black)"}``.

        ``values`` maps variables to the patient's values (numbers or text, as typed in a form);
        a predictor without interactions is read on its only axis.
        """
        def same(a: object, b: object) -> bool:
            if str(a).strip() == _fmt(b):
                return True
            try:
                return float(str(a)) == float(b)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                return False

        out: dict[str, str] = {}
        for a in self.axes:
            if a.variable in out:
                continue
            if all(k in values and same(values[k], lv) for k, lv in a.condition):
                out[a.variable] = a.name
        return out

    def total_max(self) -> float:
        """Largest possible total points: the sum over axis groups of their largest points (a
        predictor drawn on one axis per level of a factor counts once, at its highest axis)."""
        best: dict[str, float] = {}
        for a in self.axes:
            best[a.variable] = max(best.get(a.variable, 0.0), max((float(p) for p in a.points), default=0.0))
        return float(sum(best.values()))

    def _groups(self) -> tuple:
        return self.groups or tuple((t.name, (), (i,)) for i, t in enumerate(self.terms))

    def contributions(self, data: pd.DataFrame, source: str = "data") -> pd.DataFrame:
        """Partial linear predictor of each axis group for each row (a linear predictor's β·x; a
        categorical one's level coefficient, 0 for the reference; a spline's Σ β·basis; a predictor
        interacting with factors: its terms, theirs and the interaction's)."""
        return pd.DataFrame(self.contributions_clean(self._clean(data, source), data.shape[0]),
                            index=data.index)

    def _clean(self, data: pd.DataFrame, source: str) -> dict[str, np.ndarray]:
        from myorisk.modeling.design import clean_columns

        for t in self.terms:
            for v in t.variables:
                if v not in data.columns:
                    raise InputError(f"{source}: column '{v}' needed by the model is missing")
        return clean_columns(self.terms, data, source)

    def contributions_clean(self, data: Mapping[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
        """:meth:`contributions` from clean values (floats, level labels; see
        :meth:`myorisk.modeling.design.Term.encode_clean`), without pandas."""
        out = {}
        for var, _members, idx in self._groups():
            total = np.zeros(n)
            for i in idx:
                t = self.terms[i]
                cols = t.encode_clean(data, n)
                beta = np.array([self.coefficients[c] for c in t.columns])
                total = total + cols @ beta if len(idx) > 1 else cols @ beta
            out[var] = total
        return out

    def points_clean(self, data: Mapping[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
        """:meth:`points` from clean values, as a dict of arrays (no pandas)."""
        contrib = self.contributions_clean(data, n)
        pts = {v: (contrib[v] - self.term_minima[v]) * self.scale for v in self.point_variables}
        total = np.zeros(n)
        for v in self.point_variables:  # the order pandas' row sum adds them in
            total = total + pts[v]
        pts["total"] = total
        pts["linear_predictor"] = self.intercept + total / self.scale
        pts["probability"] = expit(pts["linear_predictor"])
        return pts

    def points(self, data: pd.DataFrame, source: str = "data") -> pd.DataFrame:
        """Points per axis group and ``total`` for each row, with ``linear_predictor`` and ``probability``."""
        return pd.DataFrame(self.points_clean(self._clean(data, source), data.shape[0]), index=data.index)

    def span(self) -> NomogramSpan:
        """The total-points, linear-predictor and probability axes over every possible total
        (0 to the sum of the axes' largest points); see :class:`NomogramSpan`."""
        from scipy.special import logit

        tmax = self.total_max()  # a predictor drawn once per level of a factor counts once
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
                rows.append({"axis": a.name, "value": v, "label": lab, "points": p})
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
                        "name": a.name,
                        "condition": {k: v for k, v in a.condition},
                        "monotone": a.monotone,
                        "kind": a.kind,
                        "values": list(a.values),
                        "points": list(a.points),
                        "labels": list(a.labels),
                        "display_labels": list(a.display_labels),
                    }
                    for a in self.axes
                ],
                "point_variables": list(self.point_variables),
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
    discrete: Collection[str] = (),
) -> Nomogram:
    """Build a nomogram from model terms and coefficients.

    Parameters
    ----------
    terms : sequence of Term
        Main effects (numeric, categorical, rcs) and interactions.
    coefficients : mapping
        Coefficient by design-column name, including ``"Intercept"``.
    axis_values : mapping
        Numeric or spline predictor → axis values (see :func:`axis_values_from_summary`).
        Categorical predictors use their levels.
    lp_range : (float, float)
        Range of the linear predictor in the development data (rms uses the fit's
        ``linear.predictors``) for the linear-predictor and probability axes.
    fun_at : sequence of float, optional
        Probability ticks (default: ``pretty(plogis(range(lp ticks)), n=10)`` as rms).
    maxscale, nint : float, int
        rms ``maxscale`` and ``nint``.
    discrete : collection of str
        Numeric predictors whose axis values are their few distinct values (rms ``datadist``
        ``values``; e.g. a 0/1 predictor): they count as categorical where rms orders axes and
        splits an interacting predictor's axis by level.

    Notes
    -----
    Matches rms 6.5 ``nomogram(fit, fun=plogis)``: the points of every axis value, ``sc``,
    ``Intercept``, and the total-points, linear-predictor and probability axes, for main-effect
    models and for models with splines and interactions with categorical predictors (one axis per
    level, rms' default ``interact=``).

    Raises
    ------
    InputError
        An interaction between two continuous predictors (rms needs ``interact=`` values), a numeric
        predictor without axis values, or a model whose every axis is flat.
    """
    terms = tuple(terms)
    # the predictors, in model order, with the Term that describes each
    var_term: dict[str, Term] = {}
    for t in terms:
        for p in (t.parents if t.kind == "interaction" else (t,)):
            var_term.setdefault(p.name, p)
    variables = list(var_term)

    def is_discrete(v: str) -> bool:
        return var_term[v].kind == "categorical" or v in discrete

    def levels_of(v: str) -> list:
        t = var_term[v]
        if t.kind == "categorical":
            return list(t.levels)
        if v not in axis_values:
            raise InputError(f"no axis values for numeric predictor '{v}'")
        return [float(x) for x in axis_values[v]]

    # predictors linked by interactions (rms related.predictors), as connected groups
    linked: dict[str, set[str]] = {v: {v} for v in variables}
    for t in terms:
        if t.kind == "interaction":
            merged = set().union(*(linked[v] for v in t.variables))
            for v in merged:
                linked[v] = merged
    has_ia = any(t.kind == "interaction" for t in terms)
    order = sorted(variables, key=is_discrete) if has_ia else variables  # stable, as R's order()

    groups: list[tuple[str, tuple[str, ...], tuple[int, ...]]] = []
    lines: list[tuple[str, str, list, np.ndarray, tuple]] = []  # (group var, axis name, values, lp, condition)
    done: set[str] = set()
    for v in order:
        if v in done:
            continue
        others = [w for w in variables if w in linked[v] and w != v]
        continuous = [w for w in others if not is_discrete(w)]
        if continuous:
            raise InputError(
                f"the nomogram of an interaction between two continuous predictors ({v}, "
                f"{continuous[0]}) needs chosen values of one of them (rms interact=): not drawn")
        idx = tuple(i for i, t in enumerate(terms) if set(t.variables) <= linked[v])
        groups.append((v, tuple(others), idx))
        done.update(linked[v])
        values = levels_of(v)
        # combinations of the interacting predictors' levels, the first varying fastest (expand.grid)
        combos: list[tuple] = [()]
        for w in others:
            combos = [c + ((w, lv),) for lv in levels_of(w) for c in combos]
        combos = [tuple(sorted(c, key=lambda kv: others.index(kv[0]))) for c in combos]
        for combo in combos:
            frame = pd.DataFrame({v: values, **{w: [lv] * len(values) for w, lv in combo}})
            lp = np.zeros(len(values))
            for k, i in enumerate(idx):
                t = terms[i]
                part = t.encode_frame(frame, "nomogram") @ np.array([coefficients[c] for c in t.columns])
                lp = part if k == 0 else lp + part
            name = v if not combo else f"{v} (" + " ".join(f"{w}={_fmt(lv)}" for w, lv in combo) + ")"
            lines.append((v, name, values, lp, combo))
    minima = {g[0]: min(float(ln[3].min()) for ln in lines if ln[0] == g[0]) for g in groups}
    ranges = {g[0]: max(float(ln[3].max()) for ln in lines if ln[0] == g[0]) - minima[g[0]] for g in groups}
    widest = max(ranges.values()) if ranges else 0.0
    if widest <= 0:
        raise InputError("every predictor has a zero effect on its axis: no nomogram can be scaled")
    sc = maxscale / widest
    intercept = float(coefficients["Intercept"] + sum(minima.values()))
    axes = []
    for v, name, values, lp, combo in lines:
        pts = (lp - minima[v]) * sc
        kind = var_term[v].kind
        vv, p, lab = _merge_labels(values, pts, discrete=kind == "categorical" or len(values) <= 10)
        axes.append(NomogramAxis(v, "categorical" if kind == "categorical" else "numeric", tuple(vv),
                                 tuple(p), tuple(lab), name=name, condition=combo))
    entities = len(groups)
    lp_at = pretty(lp_range[0], lp_range[1], n=nint)
    sum_max = maxscale if entities == 1 else max(maxscale, sc * float(np.max(lp_at - intercept)))
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
        groups=tuple(groups),
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
    values = {
        name: axis_values_from_summary(summ, nint=nint)
        for name, summ in fit.term_summary.items()
        if "min" in summ
    }
    discrete = [name for name, summ in fit.term_summary.items()
                if summ.get("values") is not None and len(summ["values"]) <= 10]
    lp = fit.linear_predictor
    return build_nomogram(
        fit.terms, fit.coef, values, (float(lp.min()), float(lp.max())), fun_at=fun_at,
        maxscale=maxscale, nint=nint, discrete=discrete,
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
