"""Wald tests per factor, as rms ``anova.rms``: the chunk tests a reviewer asks for.

For every predictor (factor) the test of all its parameters — main effect, nonlinear terms and every
interaction it enters ("Factor+Higher Order Factors") —, the pooled test of its interactions, the test
of nonlinearity; for every interaction its nonlinear parts; then ``TOTAL NONLINEAR``, ``TOTAL
INTERACTION``, ``TOTAL NONLINEAR + INTERACTION`` and ``TOTAL``, each shown under the same conditions
as rms 6.5 prints them. A Wald χ² for a set S of coefficients is ``b_S' V_SS⁻¹ b_S`` with ``V`` the
fit's covariance matrix (the penalised one for a penalised fit, as rms).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from myorisk._json import clean as _clean

__all__ = ["AnovaRow", "Anova", "anova"]


@dataclass(frozen=True)
class AnovaRow:
    """One line of the table.

    Attributes
    ----------
    factor : str
        Readable name: ``"age"``, ``"age (nonlinear)"``, ``"age (interaction)"``, ``"age * sex"``,
        ``"age * sex (nonlinear)"``, ``"TOTAL"`` …
    label : str
        The row's label as rms prints it (``" Nonlinear (Factor+Higher Order Factors)"`` …).
    chi2, df, p : float, int, float
    columns : tuple of str
        The coefficients tested.
    """

    factor: str
    label: str
    chi2: float
    df: int
    p: float
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Anova:
    """Wald statistics of a fitted model (rms ``anova``)."""

    rows: tuple[AnovaRow, ...]
    outcome: str

    def to_frame(self) -> pd.DataFrame:
        """One row per test: factor, chi2, df, p, label."""
        return pd.DataFrame([{"factor": r.factor, "chi2": r.chi2, "df": r.df, "p": r.p,
                              "label": r.label} for r in self.rows])

    def to_dict(self) -> dict:
        """JSON-ready: ``{rows: [{factor, chi2, df, p, label, columns}], outcome}``."""
        return _clean({"outcome": self.outcome,
                       "rows": [{"factor": r.factor, "chi2": r.chi2, "df": r.df, "p": r.p,
                                 "label": r.label, "columns": list(r.columns)} for r in self.rows]})


def _wald(beta: np.ndarray, cov: np.ndarray, idx: Sequence[int]) -> float:
    ix = np.asarray(idx, dtype=int)
    b = beta[ix]
    return float(b @ np.linalg.solve(cov[np.ix_(ix, ix)], b))


def anova(fit) -> Anova:  # noqa: ANN001 - LogisticFit (import kept light)
    """Wald χ² tests per factor, nonlinear and interaction components, as ``rms::anova.rms``.

    Parameters
    ----------
    fit : LogisticFit
        A fitted model (maximum likelihood, Firth or penalised).

    Returns
    -------
    Anova
    """
    from scipy import stats

    terms = list(fit.terms)
    beta = np.asarray(fit.coefficients, dtype=float)[1:]
    cov = np.asarray(fit.cov, dtype=float)[1:, 1:]
    names = list(fit.names)[1:]
    # column indices (without the intercept) of each term
    index: list[list[int]] = []
    start = 0
    for t in terms:
        index.append(list(range(start, start + len(t.columns))))
        start += len(t.columns)
    nc = start
    inter = [k for k, t in enumerate(terms) if t.kind == "interaction"]

    raw: list[tuple[str, str, list[int]]] = []  # (readable, rms label, indices)
    all_slopes = np.zeros(nc, bool)
    all_ia = np.zeros(nc, bool)
    all_nonlin = np.zeros(nc, bool)
    num_ia = num_nonlin = 0

    def add(readable: str, label: str, idx: Sequence[int]) -> None:
        raw.append((readable, label, list(idx)))

    for i, t in enumerate(terms):
        main = index[i]
        all_slopes[main] = True
        nl = np.array(t.nonlinear, bool)
        if t.kind == "interaction":
            add(t.name, f"{t.name}  (Factor+Higher Order Factors)", main)
            nonlin_ia: list[int] = []
        else:
            holders = [k for k in inter if t.name in terms[k].variables]
            nonlin_ia = []
            if not holders:
                add(t.name, t.name, main)
            else:
                ia_index: list[int] = []
                for k in holders:
                    it = terms[k]
                    pos = list(it.variables).index(t.name)
                    flags = _component_flags(it)[pos]
                    ia_index += index[k]
                    nonlin_ia += [c for c, f in zip(index[k], flags, strict=True) if f]
                nonlin_ia = list(dict.fromkeys(nonlin_ia))
                idx = main + ia_index
                all_slopes[idx] = True
                add(t.name, f"{t.name}  (Factor+Higher Order Factors)", idx)
                add(f"{t.name} (interaction)", " All Interactions", ia_index)
        if nl.any() and (~nl).any():
            idx = [c for c, f in zip(main, nl, strict=True) if f] + nonlin_ia
            num_nonlin += 1
            all_nonlin[idx] = True
            add(f"{t.name} (nonlinear)",
                " Nonlinear" if not nonlin_ia else " Nonlinear (Factor+Higher Order Factors)", idx)
        if t.kind == "interaction":
            num_ia += 1
            all_ia[main] = True
            fx, fy = (np.array(f, bool) for f in _component_flags(t))
            fxy, fxandy = fx | fy, fx & fy
            idx = [c for c, f in zip(main, fxy, strict=True) if f]
            if idx:
                num_nonlin += 1
                all_nonlin[idx] = True
                add(f"{t.name} (nonlinear interaction)", " Nonlinear Interaction : f(A,B) vs. AB", idx)
                dbl = [c for c, f in zip(main, fxandy, strict=True) if f]
                if dbl:
                    add(f"{t.name} (doubly nonlinear interaction)", " f(A,B) vs. Af(B) + Bg(A)", dbl)
                a, b = t.variables
                ix = [c for c, f in zip(main, fx, strict=True) if f]
                if ix and (fx != fxy).any():
                    add(f"{t.name} (nonlinear interaction in {a})",
                        f" Nonlinear Interaction in {a} vs. Af(B)", ix)
                iy = [c for c, f in zip(main, fy, strict=True) if f]
                if iy and (fy != fxy).any():
                    add(f"{t.name} (nonlinear interaction in {b})",
                        f" Nonlinear Interaction in {b} vs. Bg(A)", iy)
    if raw and all("(Factor+Higher Order Factors)" in lab for _, lab, _ in raw):
        raw = [(r, lab.replace("(Factor+Higher Order Factors)", ""), idx) for r, lab, idx in raw]
    cols = np.arange(nc)
    if num_nonlin > 1:
        add("TOTAL NONLINEAR", "TOTAL NONLINEAR", cols[all_nonlin])
    if num_ia > 1:
        add("TOTAL INTERACTION", "TOTAL INTERACTION", cols[all_ia])
    if num_nonlin > 0 and num_ia > 0:
        add("TOTAL NONLINEAR + INTERACTION", "TOTAL NONLINEAR + INTERACTION", cols[all_nonlin | all_ia])
    add("TOTAL", "TOTAL", cols[all_slopes | all_ia])

    rows = []
    for readable, label, idx in raw:
        chi2 = _wald(beta, cov, idx)
        df = len(idx)
        rows.append(AnovaRow(factor=readable, label=label.rstrip(), chi2=chi2, df=df,
                             p=float(stats.chi2.sf(chi2, df)),
                             columns=tuple(names[j] for j in idx)))
    return Anova(rows=tuple(rows), outcome=fit.outcome)


def _component_flags(t) -> tuple[tuple[bool, ...], tuple[bool, ...]]:  # noqa: ANN001
    """Per column of interaction ``t``: does it involve a nonlinear term of its first / second parent?"""
    from myorisk.modeling.design import _pair_index

    a, b = t.parents
    idx = _pair_index(a.nonlinear, b.nonlinear, restricted=t.restricted)
    return (tuple(a.nonlinear[i] for i, _ in idx), tuple(b.nonlinear[j] for _, j in idx))
