"""Univariate screening and variable selection for logistic models.

- :func:`univariate` — each candidate alone (OR, CI, p), as Table 2 of study A / study B.
- :func:`select_pscreen` — study A's rule: candidates with univariate p < α enter a multivariable
  model, and those with p < α there are kept.
- :func:`backward_aic` — backward stepwise selection by AIC, as R's ``step(direction="backward")``
  (study B).

Selection inflates apparent performance; validate a selected model with the selection repeated
inside every bootstrap resample (:mod:`myorisk.modeling.validation`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from myorisk._json import clean as _clean
from myorisk.errors import InputError, ModelError
from myorisk.modeling._newton import newton_logistic
from myorisk.modeling.design import Design, build_design
from myorisk.modeling.logistic import LogisticFit, fit_design

__all__ = [
    "UnivariateTable",
    "Selection",
    "pscreen_steps",
    "univariate",
    "select_pscreen",
    "backward_aic",
    "term_tests",
]


@dataclass(frozen=True)
class UnivariateTable:
    """Each candidate predictor fitted alone.

    Attributes
    ----------
    rows : DataFrame
        One row per coefficient: variable, term, n, events, coef, se, or, or_low, or_high, p,
        term_p (likelihood-ratio p of the whole variable; equals the LR test for one-column terms).
    ci_method : str
    level : float
    outcome, event : str
    warnings : tuple of str
    """

    rows: pd.DataFrame
    ci_method: str
    level: float
    outcome: str
    event: str
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The table (full precision)."""
        return self.rows.copy()

    def to_dict(self) -> dict:
        """``{rows:[{term, or, or_low, or_high, p, …}], …}`` (the CLI contract)."""
        return _clean(
            {
                "outcome": self.outcome,
                "event": self.event,
                "ci": self.ci_method,
                "level": self.level,
                "rows": self.rows.to_dict(orient="records"),
                "warnings": list(self.warnings),
            }
        )


@dataclass(frozen=True)
class Selection:
    """Result of a variable-selection procedure.

    Attributes
    ----------
    method : {"pscreen", "backward_aic", "fixed"}
    candidates : tuple of str
    selected : tuple of str
        Variables in the final model, in candidate order.
    steps : DataFrame
        What happened at each step (variable, action, statistic).
    fit : LogisticFit
        The final model refitted on the rows used for selection.
    alpha : float or None
    """

    method: str
    candidates: tuple[str, ...]
    selected: tuple[str, ...]
    steps: pd.DataFrame
    fit: LogisticFit
    alpha: float | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        """The selection steps."""
        return self.steps.copy()

    def to_dict(self) -> dict:
        """JSON-ready summary with the final model."""
        return _clean(
            {
                "method": self.method,
                "alpha": self.alpha,
                "candidates": list(self.candidates),
                "selected": list(self.selected),
                "steps": self.steps.to_dict(orient="records"),
                "model": self.fit.to_dict(),
                "warnings": list(self.warnings),
            }
        )


def _sub_design(design: Design, keep: Sequence[str]) -> Design:
    """The design restricted to the terms named in ``keep`` (same rows)."""
    cols = [0]
    terms = []
    for t, sl in zip(design.terms, design.term_slices(), strict=True):
        if t.name in keep:
            cols.extend(range(sl.start, sl.stop))
            terms.append(t)
    return Design(
        X=design.X[:, cols],
        y=design.y,
        columns=tuple(design.columns[c] for c in cols),
        terms=tuple(terms),
        outcome=design.outcome,
        event=design.event,
        rows=design.rows,
        missing=design.missing,
    )


def term_tests(fit: LogisticFit, design: Design) -> pd.DataFrame:
    """Per-variable tests in a fitted model: Wald χ² and likelihood-ratio χ² with their p-values.

    For a one-column term the Wald χ² is z²; for a categorical term with k levels it is the joint
    (k−1)-d.f. Wald test (rms ``anova``); the LR test refits without the term.
    """
    rows = []
    for t, sl in zip(design.terms, design.term_slices(), strict=True):
        b = fit.coefficients[sl]
        v = fit.cov[sl, sl]
        wald = float(b @ np.linalg.solve(v, b))
        df = sl.stop - sl.start
        keep = [c for c in range(design.X.shape[1]) if not sl.start <= c < sl.stop]
        reduced = newton_logistic(design.X[:, keep], design.y, firth=fit.method == "firth", maxit=100)
        if fit.method == "firth":
            full = newton_logistic(design.X, design.y, firth=True, maxit=100).penalized_loglik
            lr = 2.0 * (full - reduced.penalized_loglik)
        else:
            lr = 2.0 * (fit.loglik - reduced.loglik)
        rows.append(
            {
                "variable": t.name,
                "df": df,
                "wald_chi2": wald,
                "wald_p": float(stats.chi2.sf(wald, df)),
                "lr_chi2": lr,
                "lr_p": float(stats.chi2.sf(lr, df)),
            }
        )
    return pd.DataFrame(rows)


def univariate(
    data: pd.DataFrame,
    outcome: str,
    candidates: Sequence[str],
    *,
    ci: str = "wald",
    level: float = 0.95,
    firth: bool = False,
    categorical: Sequence[str] | None = None,
    reference: Mapping[str, str] | None = None,
    event: str | None = None,
    source: str = "data",
) -> UnivariateTable:
    """Fit each candidate alone and tabulate its odds ratios.

    Each model uses the rows where the outcome and that candidate are present (R's default
    ``na.omit``), so ``n`` can differ between rows; removed rows are reported in ``warnings``.

    Parameters
    ----------
    data, outcome, categorical, reference, event, source
        As :func:`myorisk.modeling.logistic.fit_logistic`.
    candidates : sequence of str
    ci : {"wald", "profile"}
        Study B's univariate intervals are profile-likelihood intervals.
    level : float
    firth : bool
        Use Firth's penalised likelihood (needed when a candidate separates the outcome).

    Returns
    -------
    UnivariateTable

    Notes
    -----
    Matches R ``glm(y ~ x, binomial)`` with ``exp(coef)``, ``exp(confint.default())`` (Wald) or
    ``exp(confint())`` (profile) and the Wald p of ``summary()``.
    """
    if not candidates:
        raise InputError("no candidate predictors given")
    rows = []
    notes = []
    failures: list[ModelError] = []
    ev = None
    for v in candidates:
        ref = {v: reference[v]} if reference and v in reference else None
        cat = [v] if categorical and v in categorical else None
        design = build_design(
            data, outcome, [v], categorical=cat, reference=ref, event=event, source=source
        )
        try:
            fit = fit_design(design, firth=firth, ci=ci, level=level, source=source)
        except ModelError as e:  # e.g. a candidate that separates the outcome: flag its row
            notes.append(f"{v}: {e}")
            failures.append(e)
            ev = design.event
            nan = float("nan")
            for col in design.columns[1:]:
                rows.append({"variable": v, "term": col, "n": int(design.y.size),
                             "events": int(design.y.sum()), "coef": nan, "se": nan, "or": nan,
                             "or_low": nan, "or_high": nan, "p": nan, "term_p": nan,
                             "problem": str(e)})
            continue
        ev = fit.event
        notes.extend(n for n in design.notes if n not in notes)  # e.g. a 1/2 outcome: said once
        msg = design.missing.message()
        if msg:
            notes.append(f"{v}: {msg}")
        tt = term_tests(fit, design)
        fr = fit.to_frame().iloc[1:]
        for _, r in fr.iterrows():
            rows.append(
                {
                    "variable": v,
                    "term": r["term"],
                    "n": fit.n,
                    "events": fit.events,
                    "coef": r["coef"],
                    "se": r["se"],
                    "or": r["or"],
                    "or_low": r["or_low"],
                    "or_high": r["or_high"],
                    "p": r["p"],
                    "term_p": float(tt["lr_p"].iloc[0]),
                }
            )
    if rows and all("problem" in r for r in rows):
        if len(failures) == 1:
            raise failures[0]
        reasons = {e.reason for e in failures}
        raise ModelError("no candidate could be fitted alone: " + "; ".join(notes),
                         reason=reasons.pop() if len(reasons) == 1 else None)
    return UnivariateTable(
        rows=pd.DataFrame(rows),
        ci_method=ci,
        level=level,
        outcome=outcome,
        event=str(ev),
        warnings=tuple(notes),
    )


def _term_p(fit: LogisticFit, design: Design) -> dict[str, float]:
    """Wald p per variable (z test for one column, joint Wald test for categorical terms)."""
    tt = term_tests(fit, design)
    return dict(zip(tt["variable"], tt["wald_p"], strict=True))


def pscreen_steps(
    candidates: Sequence[str],
    alpha: float,
    univariate_p: Callable[[str], float],
    multivariable_p: Callable[[list[str]], dict[str, float]],
    *,
    what: str = "",
) -> tuple[pd.DataFrame, list[str]]:
    """Study A's rule on given p-values: univariate p < α enters; in the model of the entered
    variables, p < α is kept.

    ``univariate_p(v)`` and ``multivariable_p(vs)`` supply the p-values (Wald, or pooled over
    imputations); ``what`` qualifies "p" in messages (e.g. "pooled").

    Returns
    -------
    steps : DataFrame
        One row per decision: step, variable, p, action.
    kept : list of str

    Raises
    ------
    InputError
        No candidate enters, or none is kept.
    """
    pw = f"{what} p" if what else "p"
    steps, screened = [], []
    for v in candidates:
        p = univariate_p(v)
        keep = p < alpha
        steps.append({"step": "univariate", "variable": v, "p": p, "action": "enter" if keep else "exclude"})
        if keep:
            screened.append(v)
    if not screened:
        raise InputError(f"no candidate has {what + ' ' if what else ''}univariate p < {alpha}: the "
                         "p-value screen selects nothing")
    pm = multivariable_p(screened)
    kept = []
    for v in screened:
        keep = pm[v] < alpha
        steps.append({"step": "multivariable", "variable": v, "p": pm[v], "action": "keep" if keep else "drop"})
        if keep:
            kept.append(v)
    if not kept:
        raise InputError(f"no variable keeps {pw} < {alpha} in the multivariable model")
    return pd.DataFrame(steps), kept


def select_pscreen(
    data: pd.DataFrame,
    outcome: str,
    candidates: Sequence[str],
    *,
    alpha: float = 0.05,
    categorical: Sequence[str] | None = None,
    reference: Mapping[str, str] | None = None,
    event: str | None = None,
    ci: str = "wald",
    source: str = "data",
) -> Selection:
    """Study A's selection: univariate p < α → multivariable model → keep p < α there.

    All steps use the rows complete for every candidate, so the models are nested; the final model
    is refitted with the kept variables. A variable's p is its Wald p (the joint Wald test for a
    categorical variable with several levels).
    """
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be between 0 and 1, not {alpha}")
    design = build_design(
        data, outcome, list(candidates), categorical=categorical, reference=reference, event=event,
        source=source,
    )
    def uni_p(v: str) -> float:
        sub = _sub_design(design, [v])
        return _term_p(fit_design(sub, source=source), sub)[v]

    def multi_p(vs: list[str]) -> dict[str, float]:
        sub = _sub_design(design, vs)
        return _term_p(fit_design(sub, source=source), sub)

    steps, kept = pscreen_steps(candidates, alpha, uni_p, multi_p)
    final = fit_design(_sub_design(design, kept), ci=ci, source=source)
    return Selection(
        method="pscreen",
        candidates=tuple(candidates),
        selected=tuple(kept),
        steps=steps,
        fit=final,
        alpha=alpha,
        warnings=final.warnings,
    )


def backward_aic(
    data: pd.DataFrame,
    outcome: str,
    candidates: Sequence[str],
    *,
    categorical: Sequence[str] | None = None,
    reference: Mapping[str, str] | None = None,
    event: str | None = None,
    ci: str = "wald",
    keep: Sequence[str] = (),
    source: str = "data",
) -> Selection:
    """Backward stepwise selection by AIC, as R ``step(glm(...), direction="backward")``.

    At each step every remaining variable (a categorical variable as a whole) is dropped in turn;
    the drop with the lowest AIC is made if it is strictly lower than the current AIC; otherwise
    selection stops. Variables in ``keep`` are never dropped.
    """
    design = build_design(
        data, outcome, list(candidates), categorical=categorical, reference=reference, event=event,
        source=source,
    )
    current = list(candidates)

    def aic(vs: Sequence[str]) -> float:
        sub = _sub_design(design, vs)
        core = newton_logistic(sub.X, sub.y, maxit=100)
        return -2.0 * core.loglik + 2.0 * sub.X.shape[1]

    cur_aic = aic(current)
    steps = [{"step": 0, "variable": "", "action": "start", "aic": cur_aic}]
    k = 0
    while True:
        options = [(aic([c for c in current if c != v]), v) for v in current if v not in keep]
        if not options:
            break
        best_aic, best = min(options, key=lambda t: t[0])
        if not best_aic < cur_aic:
            break
        k += 1
        current.remove(best)
        cur_aic = best_aic
        steps.append({"step": k, "variable": best, "action": "drop", "aic": best_aic})
    if not current:
        raise InputError("backward AIC selection removed every candidate: no model to report")
    final = fit_design(_sub_design(design, current), ci=ci, source=source)
    return Selection(
        method="backward_aic",
        candidates=tuple(candidates),
        selected=tuple(current),
        steps=pd.DataFrame(steps),
        fit=final,
        alpha=None,
        warnings=final.warnings,
    )
