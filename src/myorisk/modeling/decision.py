"""Decision curve analysis for a binary outcome (R dcurves ``dca`` equivalent).

For each model and threshold probability t a subject is test-positive when its risk is
≥ t (dcurves' rule; rmda uses >). With pos_rate the outcome prevalence (or the ``prevalence``
given for a case-control sample):

* tp_rate = mean(risk[y = 1] ≥ t) · pos_rate, fp_rate = mean(risk[y = 0] ≥ t) · (1 − pos_rate);
* net benefit NB = tp_rate − t/(1 − t) · fp_rate − harm;
* net interventions avoided (per 1 subject) = (NB − NB_treat_all) / (t/(1 − t));
* standardized net benefit = NB / pos_rate.

"treat_all" (every risk 1 + ε) and "treat_none" (every risk −ε) are always added. Risks of
exactly 0 or 1 are nudged to −ε / 1 + ε (ε = machine epsilon) like dcurves, so a risk of 0 is
test-negative even at t = 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from myorisk.errors import InputError
from myorisk.modeling.roc import _label, _outcome, _rows, _show, _to_float

__all__ = [
    "DecisionCurve",
    "decision_curve",
    "parse_threshold_grid",
    "threshold_grid",
]

EPS = float(np.finfo(float).eps)  # R .Machine$double.eps
RESERVED = ("treat_all", "treat_none")


def threshold_grid(start: float, stop: float, step: float) -> np.ndarray:
    """Threshold grid ``start, start + step, …`` up to ``stop`` inclusive (R ``seq(by =)``).

    Parameters
    ----------
    start, stop : float
        First and last thresholds, with 0 ≤ start ≤ stop < 1.
    step : float
        Positive increment.

    Returns
    -------
    numpy.ndarray

    Notes
    -----
    Reproduces R ``seq(start, stop, by = step)`` exactly: ``n = as.integer((stop − start)/step
    + 1e-10)``, values ``start + (0:n)·step`` capped at ``stop``, so ``stop`` is included when it
    lies on the grid within floating-point tolerance. ``threshold_grid(0, 0.99, 0.01)`` is
    dcurves' default grid (identical to ``np.arange(0, 1, 0.01)``).
    """
    vals = []
    for name, v in (("start", start), ("stop", stop), ("step", step)):
        try:
            fv = float(v)
        except (TypeError, ValueError):
            raise InputError(f"threshold grid: {name} {v!r} is not a number") from None
        if not np.isfinite(fv):
            raise InputError(f"threshold grid: {name} {v!r} is not finite")
        vals.append(fv)
    start, stop, step = vals
    if step <= 0:
        raise InputError(f"threshold grid: step {step!r} must be positive")
    if stop < start:
        raise InputError(f"threshold grid: stop {stop!r} is below start {start!r}")
    _check_range(np.array([start, stop]), "threshold grid")
    span = stop - start
    if span == 0 or span / max(abs(stop), abs(start)) < 100 * EPS:
        return np.array([start])
    n = int(span / step + 1e-10)
    return np.minimum(start + np.arange(n + 1) * step, stop)


def parse_threshold_grid(spec: str) -> np.ndarray:
    """Parse ``"FROM:TO:STEP"`` (e.g. ``"0.05:0.5:0.01"``) into a threshold grid.

    Parameters
    ----------
    spec : str
        Three numbers separated by colons; TO is included within floating-point tolerance.

    Returns
    -------
    numpy.ndarray
        See :func:`threshold_grid`.

    Notes
    -----
    The values of R ``seq(FROM, TO, by = STEP)``, rounded to the most decimals written in FROM,
    TO or STEP: ``"0.8:0.9:0.01"`` gives 0.82, not R's 0.8200000000000001, so a threshold is the
    number the user meant (a risk of exactly 0.82 counts as "at or above 0.82").
    """
    parts = str(spec).strip().split(":")
    if len(parts) != 3 or any(p.strip() == "" for p in parts):
        raise InputError(f"threshold grid {spec!r} must be FROM:TO:STEP, e.g. 0:0.99:0.01")
    nums = []
    for p in parts:
        try:
            nums.append(float(p))
        except ValueError:
            raise InputError(f"threshold grid {spec!r}: {p.strip()!r} is not a number") from None
    grid = threshold_grid(*nums)
    ds = [_decimals(p) for p in parts]
    decimals = None if None in ds else max(ds)
    return np.round(grid, decimals) if decimals is not None else grid


def _decimals(text: str) -> int | None:
    """Decimals written in a number such as ``0.05`` (2) or ``1e-3`` (3); None beyond 15."""
    from decimal import Decimal, InvalidOperation

    try:
        exp = Decimal(text.strip()).as_tuple().exponent
    except InvalidOperation:
        return None
    if not isinstance(exp, int):
        return None
    d = max(0, -exp)
    return d if d <= 15 else None


def _check_range(t: np.ndarray, what: str) -> None:
    bad = ~np.isfinite(t) | (t < 0) | (t >= 1)
    if bad.any():
        v = t[bad][0]
        why = (
            "net benefit at t = 1 is undefined (t/(1 − t) is infinite)"
            if v >= 1 and np.isfinite(v)
            else "thresholds must lie in [0, 1)"
        )
        raise InputError(f"{what}: threshold {_show(v)} is outside [0, 1): {why}")


def _thresholds(thresholds: Any) -> np.ndarray:
    if thresholds is None:
        return threshold_grid(0.0, 0.99, 0.01)
    if isinstance(thresholds, str):
        return parse_threshold_grid(thresholds)
    try:
        t = np.atleast_1d(np.asarray(thresholds, dtype=float))
    except (TypeError, ValueError):
        raise InputError("thresholds must be numbers in [0, 1)") from None
    if t.ndim != 1 or t.size == 0:
        raise InputError("thresholds: give at least one threshold (a 1-d list of numbers)")
    _check_range(t, "thresholds")
    return t


@dataclass(frozen=True)
class DecisionCurve:
    """Net benefit of each model, "treat_all" and "treat_none" over threshold probabilities.

    Attributes
    ----------
    thresholds : numpy.ndarray
        Threshold probabilities t, in [0, 1).
    models : tuple of str
        Curve names: the given models in order, then ``"treat_all"`` and ``"treat_none"``.
    net_benefit : dict of str to numpy.ndarray
        tp_rate − t/(1 − t)·fp_rate − harm per curve and threshold.
    net_intervention_avoided : dict of str to numpy.ndarray
        (NB − NB_treat_all)/(t/(1 − t)) per 1 subject (dcurves ``nper = 1``). At t = 0 the
        division is by zero and, as in R, the value is ±Inf or NaN.
    standardized_net_benefit : dict of str to numpy.ndarray
        NB / pos_rate; NaN for a model with a non-zero harm (dcurves refuses that combination).
    tp_rate, fp_rate : dict of str to numpy.ndarray
        True- and false-positive rates per subject (already multiplied by pos_rate and
        1 − pos_rate).
    prevalence : float
        The pos_rate used: the sample prevalence, or the ``prevalence`` given.
    n : int
        Number of subjects.
    harm : dict of str to float
        Harm subtracted from each curve's net benefit.
    note : str
        Remarks (standardized NB left out because of harms), else ``""``.
    """

    thresholds: np.ndarray
    models: tuple[str, ...]
    net_benefit: dict[str, np.ndarray] = field(repr=False)
    net_intervention_avoided: dict[str, np.ndarray] = field(repr=False)
    standardized_net_benefit: dict[str, np.ndarray] = field(repr=False)
    tp_rate: dict[str, np.ndarray] = field(repr=False)
    fp_rate: dict[str, np.ndarray] = field(repr=False)
    prevalence: float
    n: int
    harm: dict[str, float]
    note: str = ""

    def to_frame(self) -> pd.DataFrame:
        """Long table: model, threshold, net_benefit, net_intervention_avoided,
        standardized_net_benefit, tp_rate, fp_rate (one row per model and threshold)."""
        frames = [
            pd.DataFrame(
                {
                    "model": m,
                    "threshold": self.thresholds,
                    "net_benefit": self.net_benefit[m],
                    "net_intervention_avoided": self.net_intervention_avoided[m],
                    "standardized_net_benefit": self.standardized_net_benefit[m],
                    "tp_rate": self.tp_rate[m],
                    "fp_rate": self.fp_rate[m],
                }
            )
            for m in self.models
        ]
        return pd.concat(frames, ignore_index=True)

    def to_dict(self) -> dict:
        """JSON-ready: ``{thresholds, net_benefit: {name: […]}, net_intervention_avoided: {…},
        standardized_net_benefit: {…}, prevalence, n, harm}``; non-finite values → ``None``."""

        def clean(a: np.ndarray) -> list[float | None]:
            return [float(v) if np.isfinite(v) else None for v in a]

        return {
            "thresholds": [float(t) for t in self.thresholds],
            "net_benefit": {m: clean(self.net_benefit[m]) for m in self.models},
            "net_intervention_avoided": {
                m: clean(self.net_intervention_avoided[m]) for m in self.models
            },
            "standardized_net_benefit": {
                m: clean(self.standardized_net_benefit[m]) for m in self.models
            },
            "prevalence": float(self.prevalence),
            "n": int(self.n),
            "harm": {m: float(h) for m, h in self.harm.items()},
            "note": self.note,
        }


def _risk(name: str, values: Any, n: int) -> np.ndarray:
    label = _label(values, f"risk '{name}'")
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InputError(f"{label}: must be one-dimensional, got shape {arr.shape}")
    if arr.size != n:
        raise InputError(f"{label}: has {arr.size} values but the outcome has {n}; lengths differ")
    try:
        r = _to_float(arr)
    except (TypeError, ValueError):
        raise InputError(f"{label}: must be numeric") from None
    miss = np.isnan(r)
    if miss.any():
        raise InputError(
            f"{label}: {int(miss.sum())} missing value(s) at {_rows(values, miss)}; remove or "
            "impute them before decision curve analysis (nothing is dropped silently)"
        )
    bad = (r < 0) | (r > 1)
    if bad.any():
        raise InputError(
            f"{label}: {_rows(values, bad)}: value {_show(r[bad][0])} is not a probability in [0, 1]"
        )
    return r


def _harms(harm: float | Mapping[str, float], names: Sequence[str]) -> dict[str, float]:
    out = {m: 0.0 for m in (*names, *RESERVED)}
    if isinstance(harm, Mapping):
        for k, v in harm.items():
            if k not in out:
                raise InputError(f"harm given for {k!r}, which is not a model ({', '.join(out)})")
            out[k] = _number(v, f"harm for {k!r}")
    else:
        h = _number(harm, "harm")
        for m in names:
            out[m] = h
    return out


def _number(v: Any, what: str) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InputError(f"{what} {v!r} is not a number") from None
    if not np.isfinite(f):
        raise InputError(f"{what} {v!r} is not finite")
    return f


def _positive_fraction(risk_sorted: np.ndarray, t: np.ndarray) -> np.ndarray:
    """mean(risk >= t) for each t, from sorted risks."""
    k = risk_sorted.size
    return (k - np.searchsorted(risk_sorted, t, side="left")) / k


def decision_curve(
    y: Sequence[Any] | np.ndarray | pd.Series,
    risks: Mapping[str, Sequence[float] | np.ndarray | pd.Series],
    thresholds: Sequence[float] | np.ndarray | str | None = None,
    *,
    harm: float | Mapping[str, float] = 0.0,
    prevalence: float | None = None,
) -> DecisionCurve:
    """Decision curve analysis: net benefit of predicted risks over threshold probabilities.

    Parameters
    ----------
    y : array-like of 0/1 or bool
        Outcome (1 = event).
    risks : mapping of str to array-like
        Predicted probabilities in [0, 1] per model, row-aligned with ``y``. The names
        ``"treat_all"`` and ``"treat_none"`` are reserved.
    thresholds : array-like, str or None
        Threshold probabilities in [0, 1) (t = 1 is undefined), or ``"FROM:TO:STEP"``.
        Default: dcurves' ``seq(0, 0.99, by = 0.01)`` (= ``np.arange(0, 1, 0.01)``).
    harm : float or mapping of str to float
        Harm of using a model, subtracted from its net benefit. A number applies to every
        model (not to treat_all/treat_none); a mapping gives it per curve name.
    prevalence : float, optional
        Population prevalence replacing the sample prevalence (case-control samples).

    Returns
    -------
    DecisionCurve

    Raises
    ------
    InputError
        Outcome not 0/1 or without both classes, risk missing or outside [0, 1], lengths
        differ, threshold outside [0, 1), reserved model name, bad harm or prevalence.

    Notes
    -----
    Reproduces R dcurves ``dca(y ~ model, thresholds = …, harm = …, prevalence = …)`` for a
    binary outcome (``.calculate_test_consequences``), followed by
    ``net_intervention_avoided(nper = 1)`` and ``standardized_net_benefit()``, including the
    ≥ rule and the nudging of risks of exactly 0 and 1 by machine epsilon. dcurves silently
    drops thresholds outside [0, 1]; here they are refused, and t = 1 too.
    """
    yb = _outcome(y, "outcome")
    n = yb.size
    n1 = int(yb.sum())
    if n1 == 0 or n1 == n:
        what = "events (outcome = 1)" if n1 == 0 else "non-events (outcome = 0)"
        raise InputError(
            f"{_label(y, 'outcome')}: no {what} among {n} rows; decision curves need both"
        )
    if not isinstance(risks, Mapping):
        raise InputError("risks must be a mapping of model name to predicted probabilities")
    names = [str(k) for k in risks]
    for k in names:
        if k in RESERVED:
            raise InputError(f"model name {k!r} is reserved for the reference strategies")
    t = _thresholds(thresholds)
    harms = _harms(harm, names)
    if prevalence is None:
        pos_rate = n1 / n
    else:
        pos_rate = _number(prevalence, "prevalence")
        if not 0.0 < pos_rate < 1.0:
            raise InputError(f"prevalence {prevalence!r} must be strictly between 0 and 1")

    curves: dict[str, np.ndarray] = {}
    for k, v in risks.items():
        r = _risk(str(k), v, n)
        r = np.where(r == 0.0, -EPS, np.where(r == 1.0, 1.0 + EPS, r))
        curves[str(k)] = r
    curves["treat_all"] = np.full(n, 1.0 + EPS)
    curves["treat_none"] = np.full(n, -EPS)

    odds = t / (1.0 - t)
    nb: dict[str, np.ndarray] = {}
    tp: dict[str, np.ndarray] = {}
    fp: dict[str, np.ndarray] = {}
    for m, r in curves.items():
        tp[m] = _positive_fraction(np.sort(r[yb]), t) * pos_rate
        fp[m] = _positive_fraction(np.sort(r[~yb]), t) * (1.0 - pos_rate)
        nb[m] = tp[m] - t / (1.0 - t) * fp[m] - harms[m]
    nia: dict[str, np.ndarray] = {}
    snb: dict[str, np.ndarray] = {}
    notes = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for m in curves:
            nia[m] = (nb[m] - nb["treat_all"]) / odds * 1.0
            if harms[m] != 0.0:
                snb[m] = np.full(t.size, np.nan)
                notes.append(m)
            else:
                snb[m] = nb[m] / pos_rate
    note = (
        "standardized net benefit not given for models with a harm: " + ", ".join(notes)
        if notes
        else ""
    )
    return DecisionCurve(
        thresholds=t,
        models=tuple(curves),
        net_benefit=nb,
        net_intervention_avoided=nia,
        standardized_net_benefit=snb,
        tp_rate=tp,
        fp_rate=fp,
        prevalence=float(pos_rate),
        n=int(n),
        harm=harms,
        note=note,
    )
