"""Odds ratios of a continuous predictor per a chosen unit (`fit/univariate --per VAR=UNIT`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from myorisk.errors import InputError

if TYPE_CHECKING:  # pandas loads in the methods that build frames
    import pandas as pd


def odds_ratios_per(rows: pd.DataFrame, units: Mapping[str, float], *, term: str = "term") -> pd.DataFrame:
    """Odds ratios of numeric terms per ``units[term]`` instead of per 1.

    Parameters
    ----------
    rows : DataFrame
        Columns ``term`` (named by ``term``), ``or``, ``or_low``, ``or_high`` (per 1 unit), e.g.
        ``LogisticFit.to_frame()`` or a univariate table.
    units : mapping
        Term → unit (finite, non-zero). A term not in ``rows`` is an error.

    Returns
    -------
    DataFrame
        A copy with ``or``, ``or_low``, ``or_high`` of those terms raised to the power ``unit``
        (``exp(unit·β)`` and ``exp(unit·limit)``; the limits swap for a negative unit) and a
        column ``per``: the unit of each row's odds ratio (1 for the others, None for
        categorical contrasts). ``coef`` and ``se`` stay per 1 unit.

    Notes
    -----
    The odds ratio for a change of ``u`` units is ``exp(u·β) = OR^u``; a Wald or profile interval
    for β maps to ``u`` times its limits, so the interval's coverage is unchanged.
    """
    out = rows.copy()
    names = [str(t) for t in out[term]]
    per = [1.0 if "=" not in n else None for n in names]
    for var, unit in units.items():
        u = float(unit)
        if not np.isfinite(u) or u == 0:
            raise InputError(f"--per {var}={unit}: the unit must be a finite number other than 0")
        if var not in names:
            cats = [n for n in names if n.startswith(f"{var}=")]
            if cats:
                raise InputError(f"--per {var}: '{var}' is categorical; odds ratios per unit apply to "
                                 "continuous predictors")
            raise InputError(f"--per {var}: '{var}' is not a term of the model "
                             f"({', '.join(n for n in names if n not in ('Intercept', '(Intercept)'))})")
        i = np.array([n == var for n in names])
        lo = np.log(out.loc[i, "or_low"].astype(float)) * u
        hi = np.log(out.loc[i, "or_high"].astype(float)) * u
        out.loc[i, "or"] = np.exp(np.log(out.loc[i, "or"].astype(float)) * u)
        out.loc[i, "or_low"] = np.exp(np.minimum(lo, hi))
        out.loc[i, "or_high"] = np.exp(np.maximum(lo, hi))
        for k in np.flatnonzero(i):
            per[k] = u
    out["per"] = per
    return out


def parse_units(items: list[str] | None) -> dict[str, float]:
    """``--per VAR=UNIT`` options (repeatable, or comma-separated) as ``{VAR: UNIT}``."""
    units: dict[str, float] = {}
    for item in items or ():
        for part in str(item).split(","):
            part = part.strip()
            if not part:
                continue
            if "=" not in part:
                raise InputError(f"--per must look like VAR=UNIT (e.g. msuvmax=0.1), not {part!r}")
            k, v = (x.strip() for x in part.split("=", 1))
            try:
                u = float(v)
            except ValueError:
                raise InputError(f"--per {part}: {v!r} is not a number") from None
            if not np.isfinite(u) or u == 0:
                raise InputError(f"--per {part}: the unit must be a finite number other than 0")
            if k in units:
                raise InputError(f"--per {k} is given twice")
            units[k] = u
    return units
