"""Partial effects of each predictor (rms ``Predict``): the linear predictor across a predictor's range
with pointwise 95% confidence limits, every other predictor held at its adjust-to value.

Adjust-to values and ranges follow rms' ``datadist`` on the data given (every non-missing value of
each column): the median of a numeric predictor, the most frequent level of a categorical one; a
numeric predictor is drawn over 200 equally spaced points from its q-th to its (1 − q)-th quantile,
q = 10 / max(n, 200), unless it takes 10 or fewer distinct values, which are then used as they are.
Limits are ``lp ± z·se`` with ``se² = x′Vx`` (V the fit's covariance). The odds ratio against the
adjust-to value (rms ``Predict(fun=exp, ref.zero=TRUE)``) uses the variance of the difference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from myorisk._json import clean as _clean
from myorisk.errors import InputError

__all__ = ["Effect", "Effects", "effects", "datadist"]


@dataclass(frozen=True)
class Effect:
    """One predictor's partial effect.

    Attributes
    ----------
    variable : str
    kind : {"numeric", "categorical"}
    x : tuple
        Values of the predictor (numbers, or levels).
    linear_predictor, lower, upper : ndarray
        Log odds with pointwise confidence limits.
    odds_ratio, or_lower, or_upper : ndarray
        Odds ratio against the adjust-to value, with limits.
    reference : object
        The adjust-to value the odds ratios are relative to.
    """

    variable: str
    kind: str
    x: tuple
    linear_predictor: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    odds_ratio: np.ndarray
    or_lower: np.ndarray
    or_upper: np.ndarray
    reference: object


@dataclass(frozen=True)
class Effects:
    """Partial effects of every predictor of a model."""

    effects: tuple[Effect, ...]
    adjust: dict
    level: float
    outcome: str

    def to_frame(self) -> pd.DataFrame:
        """Long format: variable, x, linear_predictor, lower, upper, odds_ratio, or_lower, or_upper."""
        rows = []
        for e in self.effects:
            for i, x in enumerate(e.x):
                rows.append({"variable": e.variable, "x": x, "linear_predictor": e.linear_predictor[i],
                             "lower": e.lower[i], "upper": e.upper[i], "odds_ratio": e.odds_ratio[i],
                             "or_lower": e.or_lower[i], "or_upper": e.or_upper[i]})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        """JSON-ready: ``{effects: [{variable, x, linear_predictor, lower, upper, …}], adjust, level}``."""
        return _clean({
            "outcome": self.outcome, "level": self.level, "adjust": self.adjust,
            "effects": [{"variable": e.variable, "kind": e.kind, "x": list(e.x),
                         "linear_predictor": e.linear_predictor, "lower": e.lower, "upper": e.upper,
                         "odds_ratio": e.odds_ratio, "or_lower": e.or_lower, "or_upper": e.or_upper,
                         "reference": e.reference} for e in self.effects],
        })


def _main_terms(fit) -> dict:  # noqa: ANN001
    return {t.name: t for t in fit.terms if t.kind != "interaction"}


def datadist(data: pd.DataFrame, terms: Mapping) -> dict[str, dict]:
    """rms ``datadist`` summaries of the model's predictors: adjust-to value, display range, values."""
    out: dict[str, dict] = {}
    for name, t in terms.items():
        col = data[name]
        if t.kind == "categorical":
            from myorisk.modeling.design import _labels

            lab = _labels(col.dropna())
            lab = lab[lab != ""]
            counts = lab.value_counts()
            levels = list(t.levels)
            # most frequent level; ties go to the first level in the model's (R's) order
            best = max(levels, key=lambda lv: (int(counts.get(lv, 0)), -levels.index(lv)))
            out[name] = {"kind": "categorical", "adjust": best, "values": levels}
            continue
        x = pd.to_numeric(col, errors="coerce").dropna().to_numpy(dtype=float)
        if x.size == 0:
            raise InputError(f"'{name}' has no numeric values to draw its effect over")
        q = 10.0 / max(x.size, 200)
        lo, med, hi = np.quantile(x, [q, 0.5, 1.0 - q], method="linear")
        uniq = np.unique(x)
        d = {"kind": "numeric", "adjust": float(med), "low": float(lo), "high": float(hi)}
        if uniq.size <= 10:
            d["values"] = [float(u) for u in uniq]
        out[name] = d
    return out


def effects(
    fit,  # noqa: ANN001 - LogisticFit
    data: pd.DataFrame,
    *,
    variables: Sequence[str] | None = None,
    at: Mapping[str, Sequence] | None = None,
    adjust: Mapping[str, object] | None = None,
    n: int = 200,
    level: float = 0.95,
) -> Effects:
    """Partial effect of each predictor, as rms ``Predict(fit, var)``.

    Parameters
    ----------
    fit : LogisticFit
    data : DataFrame
        The development data (for rms' ``datadist``: ranges and adjust-to values).
    variables : sequence of str, optional
        Predictors to show (default: every predictor of the model).
    at : mapping, optional
        Values to use for a predictor instead of its default grid.
    adjust : mapping, optional
        Adjust-to values overriding the defaults.
    n : int, default=200
        Points of a numeric predictor's grid.
    level : float, default=0.95

    Returns
    -------
    Effects
    """
    from scipy import stats

    from myorisk.modeling.design import encode_new

    mains = _main_terms(fit)
    names = list(variables) if variables else list(mains)
    unknown = [v for v in [*names, *(at or {}), *(adjust or {})] if v not in mains]
    if unknown:
        raise InputError(f"'{unknown[0]}' is not a predictor of the model ({', '.join(mains)})")
    dd = datadist(data, mains)
    adj = {k: v["adjust"] for k, v in dd.items()}
    for k, v in (adjust or {}).items():
        adj[k] = v if mains[k].kind == "categorical" else float(v)
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    beta = np.asarray(fit.coefficients, dtype=float)
    V = np.asarray(fit.cov, dtype=float)
    out = []
    for v in names:
        t = mains[v]
        if at and v in at:
            grid = [_at_value(v, t, a) for a in at[v]]
        elif t.kind == "categorical":
            grid = list(dd[v]["values"])
        elif "values" in dd[v]:
            grid = list(dd[v]["values"])
        else:
            grid = list(np.linspace(dd[v]["low"], dd[v]["high"], n))
        frame = pd.DataFrame({k: [adj[k]] * len(grid) for k in mains})
        frame[v] = grid
        ref = pd.DataFrame({k: [adj[k]] for k in mains})
        X = encode_new(fit.terms, frame, "effects")
        X0 = encode_new(fit.terms, ref, "effects")
        lp = X @ beta
        se = np.sqrt(np.einsum("ij,jk,ik->i", X, V, X))
        D = X - X0
        dlp = D @ beta
        dse = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", D, V, D), 0.0))
        out.append(Effect(
            variable=v, kind="categorical" if t.kind == "categorical" else "numeric", x=tuple(grid),
            linear_predictor=lp, lower=lp - z * se, upper=lp + z * se,
            odds_ratio=np.exp(dlp), or_lower=np.exp(dlp - z * dse), or_upper=np.exp(dlp + z * dse),
            reference=adj[v]))
    return Effects(effects=tuple(out), adjust=adj, level=level, outcome=fit.outcome)


def _at_value(name: str, term: Any, value: Any) -> Any:
    """One value asked for with ``at``: a number for a numeric predictor, a level of a categorical one."""
    if term.kind == "categorical":
        levels = [str(lv) for lv in term.levels]
        text = str(value)
        if isinstance(value, float) and value.is_integer() and text not in levels:
            text = str(int(value))  # 2.0 typed as 2
        if levels and text not in levels:
            raise InputError(f"--at {name}={text}: '{text}' is not a level of '{name}' ({', '.join(levels)})")
        return text if levels else value
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"--at {name}={value}: '{name}' is numeric; give numbers, e.g. --at {name}=1,2") from None
