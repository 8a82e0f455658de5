"""Analyses of multiply imputed data: fits pooled by Rubin's rules and pooled performance.

The imputations come from :func:`myorisk.modeling.mice.mice` or from elsewhere (a long frame with
an imputation-number column, as ``mice::complete(imp, "long")`` writes it: :func:`split_long`).
Each completed data set is analysed as if it were complete; coefficients are pooled by Rubin's
rules (:mod:`myorisk.modeling.pooling`, as mice ``pool``), the apparent C statistic on the logit
scale and the other performance measures by their mean (Marshall et al. 2009; Wood et al. 2015).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from myorisk._json import clean as _clean
from myorisk.errors import InputError
from myorisk.modeling.pooling import Pooled, pool, pool_logit

__all__ = ["PooledFit", "fit_imputed", "split_long", "default_m"]


def default_m(share_incomplete: float, *, minimum: int = 5, maximum: int = 100) -> int:
    """Number of imputations from the share of incomplete cases.

    White, Royston and Wood (2011) and von Hippel (2009): m at least the percentage of
    incomplete cases (100 × share); here at least ``minimum`` and at most ``maximum``.
    """
    if not 0.0 <= share_incomplete <= 1.0:
        raise InputError(f"share of incomplete cases must be in [0, 1], not {share_incomplete}")
    return int(min(maximum, max(minimum, int(np.ceil(100.0 * share_incomplete - 1e-9)))))


def split_long(frame: pd.DataFrame, column: str = ".imp", *, source: str = "imputations") -> list[pd.DataFrame]:
    """Completed data sets from a long frame with an imputation-number column.

    Rows with imputation number 0 (``mice::complete(imp, "long", include = TRUE)`` adds the
    incomplete original as ``.imp == 0``) are not an imputation and are left out. Every imputation
    must have the same number of rows and no missing value in the analysed columns (checked by the
    caller's fit).
    """
    if column not in frame.columns:
        raise InputError(f"{source}: imputation column '{column}' not found (columns are: "
                         f"{', '.join(map(str, frame.columns[:20]))}); give --imputation-column")
    raw = frame[column]
    num = pd.to_numeric(raw, errors="coerce")
    bad = num.isna() | (num != np.round(num))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"{source}: row {i + 2}, column '{column}': {raw.iloc[i]!r} is not a whole "
                         "imputation number")
    ids = sorted(int(v) for v in num.unique() if v != 0)
    if len(ids) < 2:
        raise InputError(f"{source}: column '{column}' holds {len(ids)} imputation(s); Rubin's rules "
                         "need at least 2")
    out = [frame.loc[(num == i).to_numpy()].drop(columns=[column]).reset_index(drop=True) for i in ids]
    sizes = {len(d) for d in out}
    if len(sizes) > 1:
        raise InputError(f"{source}: the imputations have different numbers of rows "
                         f"({', '.join(str(len(d)) for d in out[:10])}); each must hold every patient")
    return out


@dataclass(frozen=True)
class PooledFit:
    """A logistic model fitted to every imputed data set and pooled by Rubin's rules.

    Attributes
    ----------
    outcome, event : str
    names : tuple of str
        Coefficient names, ``"Intercept"`` first.
    pooled : Pooled
        Rubin's rules per coefficient (estimate, ubar, b, t, df, riv, lambda, fmi).
    n, events : int
        Patients and events per completed data set.
    m : int
    method : str
        How the imputations were made ("mice" or "given").
    seed : int or None
    c, brier, r2_nagelkerke, aic : float
        Apparent performance pooled across imputations: C on the logit scale, the others
        averaged.
    c_each, brier_each : tuple of float
        Per imputation.
    warnings : tuple of str
    imputation : dict
        What was imputed (``{m, method, seed, ...}``; the ``imputation`` key of ``--json``).
    """

    outcome: str
    event: str
    names: tuple[str, ...]
    pooled: Pooled
    n: int
    events: int
    m: int
    method: str
    seed: int | None
    c: float
    brier: float
    r2_nagelkerke: float
    aic: float
    c_each: tuple[float, ...]
    brier_each: tuple[float, ...]
    fits: tuple = field(default=(), repr=False)
    warnings: tuple[str, ...] = ()
    imputation: dict = field(default_factory=dict)

    @property
    def coefficients(self) -> np.ndarray:
        return self.pooled.estimate

    @property
    def cov(self) -> np.ndarray:
        """Total covariance T̄ = Ū + (1 + 1/m)·B (full matrix, for predictions and specs)."""
        m = len(self.fits)
        Q = np.array([f.coefficients for f in self.fits])
        U = np.mean([f.cov for f in self.fits], axis=0)
        B = np.cov(Q, rowvar=False, ddof=1)
        return U + (1.0 + 1.0 / m) * B

    def as_logistic_fit(self):  # noqa: ANN201 - a LogisticFit
        """The pooled model as a :class:`~myorisk.modeling.logistic.LogisticFit` (pooled
        coefficients, total covariance, pooled apparent performance) for specs and predictions.

        Per-fit quantities that have no pooled counterpart (log-likelihood, fitted values) are
        those of the first imputation.
        """
        from dataclasses import replace

        p = self.pooled
        note = (f"coefficients pooled over {self.m} imputations by Rubin's rules "
                f"({self.method}); covariance = total variance T")
        return replace(self.fits[0], coefficients=p.estimate, cov=self.cov, ci_method="wald",
                       ci_low=p.ci_low, ci_high=p.ci_high, c=self.c, brier=self.brier,
                       r2_nagelkerke=self.r2_nagelkerke, missing={},
                       warnings=(*self.warnings, note))

    def to_frame(self) -> pd.DataFrame:
        """term, coef, se, z (t), p, or, or_low, or_high, df, fmi, riv, lambda, ubar, b, t."""
        p = self.pooled
        return pd.DataFrame({
            "term": list(self.names), "coef": p.estimate, "se": p.se, "z": p.statistic, "p": p.p,
            "or": np.exp(p.estimate), "or_low": np.exp(p.ci_low), "or_high": np.exp(p.ci_high),
            "df": p.df, "fmi": p.fmi, "riv": p.riv, "lambda": p.lambda_, "ubar": p.ubar, "b": p.b,
            "t": p.t,
        })

    def to_dict(self) -> dict:
        """The ``myorisk fit --json`` contract plus ``imputation`` and Rubin's quantities per term."""
        return _clean({
            "outcome": self.outcome, "event": self.event, "method": "ml", "ci": "rubin",
            "level": self.pooled.level, "n": self.n, "events": self.events,
            "terms": self.to_frame().to_dict(orient="records"),
            "aic": self.aic, "r2_nagelkerke": self.r2_nagelkerke, "c": self.c, "dxy": 2.0 * self.c - 1.0,
            "brier": self.brier,
            "loglik": float(np.mean([f.loglik for f in self.fits])) if self.fits else None,
            "lr_chi2": float(np.mean([f.lr_chi2 for f in self.fits])) if self.fits else None,
            "lr_df": int(self.fits[0].lr_df) if self.fits else None,
            "summaries": "c pooled on the logit scale (dxy = 2c − 1); aic, loglik, lr_chi2, r2_nagelkerke, "
                         "brier: means over imputations (descriptive; no pooled likelihood-ratio test)",
            "c_each": list(self.c_each), "brier_each": list(self.brier_each),
            "dfcom": self.pooled.dfcom, "warnings": list(self.warnings),
            "imputation": self.imputation,
        })


def fit_imputed(
    datasets: Sequence[pd.DataFrame],
    outcome: str,
    predictors: Sequence[str],
    *,
    firth: bool = False,
    level: float = 0.95,
    categorical: Sequence[str] | None = None,
    reference: Mapping[str, str] | None = None,
    event: str | None = None,
    source: str = "data",
    method: str = "given",
    seed: int | None = None,
    imputation: Mapping | None = None,
) -> PooledFit:
    """Fit the same logistic model to every completed data set and pool by Rubin's rules.

    Parameters
    ----------
    datasets : sequence of DataFrame
        The m completed data sets (no missing value in ``outcome`` and ``predictors``).
    outcome, predictors, firth, level, categorical, reference, event, source
        As :func:`myorisk.modeling.logistic.fit_logistic`.
    method, seed, imputation
        Recorded in the result (``imputation`` adds details such as the imputation methods).

    Returns
    -------
    PooledFit

    Notes
    -----
    The complete-data degrees of freedom are n − p (p coefficients, intercept included), as mice
    takes ``df.residual`` of a glm; the coefficients, Ū, B, T, df, riv, λ and fmi equal mice 3.15's
    ``pool()`` (tests/results/imputation.R).
    """
    import warnings

    from myorisk.modeling.design import build_design
    from myorisk.modeling.logistic import fit_design

    if len(datasets) < 2:
        raise InputError(f"{source}: Rubin's rules need at least 2 imputed data sets, got {len(datasets)}")
    fits = []
    for i, d in enumerate(datasets, start=1):
        src = f"{source} (imputation {i})"
        design = build_design(d, outcome, predictors, categorical=categorical, reference=reference,
                              event=event, source=src)
        if design.missing.n_dropped:
            cols = ", ".join(f"'{c}' {k}" for c, k in design.missing.by_column.items() if k)
            raise InputError(f"{src}: {design.missing.n_dropped} rows still have a missing value "
                             f"({cols}); an imputed data set must be complete")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits.append(fit_design(design, firth=firth, level=level, source=src))
    names = fits[0].names
    for i, f in enumerate(fits[1:], start=2):
        if f.names != names:
            raise InputError(f"{source}: imputation {i} has coefficients {', '.join(f.names)} but imputation 1 "
                             f"has {', '.join(names)} (a category missing from one imputation?)")
    Q = np.array([f.coefficients for f in fits])
    U = np.array([np.diag(f.cov) for f in fits])
    n = fits[0].n
    pooled = pool(Q, U, names=names, dfcom=n - Q.shape[1], level=level)
    notes = sorted({w for f in fits for w in f.warnings})
    info = {"m": len(fits), "method": method, "seed": seed, **dict(imputation or {})}
    return PooledFit(
        outcome=outcome, event=fits[0].event, names=names, pooled=pooled, n=n,
        events=int(round(np.mean([f.events for f in fits]))), m=len(fits), method=method, seed=seed,
        c=pool_logit([f.c for f in fits]), brier=float(np.mean([f.brier for f in fits])),
        r2_nagelkerke=float(np.mean([f.r2_nagelkerke for f in fits])),
        aic=float(np.mean([f.aic for f in fits])),
        c_each=tuple(float(f.c) for f in fits), brier_each=tuple(float(f.brier) for f in fits),
        fits=tuple(fits), warnings=tuple(notes), imputation=_clean(info),
    )


def term_p_imputed(res: PooledFit) -> dict[str, float]:
    """p of each variable of a pooled fit: Rubin's t test for a one-column term, the D1 test
    (Li, Raghunathan and Rubin 1991) for a term with several columns."""
    from myorisk.modeling.pooling import d1_test

    design_terms = res.fits[0].terms
    out = {}
    col = 1
    for t in design_terms:
        width = max(1, len(t.columns))
        cols = list(range(col, col + width))
        if width == 1:
            out[t.name] = float(res.pooled.p[cols[0]])
        else:
            Q = np.array([f.coefficients[cols] for f in res.fits])
            U = np.array([f.cov[np.ix_(cols, cols)] for f in res.fits])
            out[t.name] = d1_test(Q, U)[3]
        col += width
    return out


def univariate_imputed(datasets: Sequence[pd.DataFrame], outcome: str, candidates: Sequence[str], *,
                       level: float = 0.95, categorical: Sequence[str] | None = None,
                       reference: Mapping[str, str] | None = None, event: str | None = None,
                       source: str = "data", imputation: Mapping | None = None):
    """Each candidate alone, fitted in every completed data set and pooled by Rubin's rules.

    Returns a :class:`~myorisk.modeling.selection.UnivariateTable` whose rows add ``df`` and
    ``fmi``; ``term_p`` is the pooled test of the whole variable (D1 for several columns).
    """
    from myorisk.modeling.selection import UnivariateTable

    rows, notes, ev = [], [], None
    for v in candidates:
        ref = {v: reference[v]} if reference and v in reference else None
        cat = [v] if categorical and v in categorical else None
        res = fit_imputed(datasets, outcome, [v], level=level, categorical=cat, reference=ref, event=event,
                          source=source)
        ev = res.event
        tp = term_p_imputed(res)[v]
        fr = res.to_frame().iloc[1:]
        for _, r in fr.iterrows():
            rows.append({"variable": v, "term": r["term"], "n": res.n, "events": res.events, "coef": r["coef"],
                         "se": r["se"], "or": r["or"], "or_low": r["or_low"], "or_high": r["or_high"],
                         "p": r["p"], "term_p": tp, "df": r["df"], "fmi": r["fmi"]})
        notes.extend(w for w in res.warnings if w not in notes)
    tab = UnivariateTable(rows=pd.DataFrame(rows), ci_method="rubin", level=level, outcome=outcome,
                          event=str(ev), warnings=tuple(notes))
    return tab


def select_pscreen_imputed(datasets: Sequence[pd.DataFrame], outcome: str, candidates: Sequence[str], *,
                           alpha: float = 0.05, categorical: Sequence[str] | None = None,
                           reference: Mapping[str, str] | None = None, event: str | None = None,
                           source: str = "data", imputation: Mapping | None = None):
    """Study A's p-value screen with pooled p-values (Wood, White and Royston 2008: selection on
    Rubin's-rules Wald tests): univariate pooled p < α → multivariable pooled model → keep pooled
    p < α there; the final model refitted and pooled.

    Returns
    -------
    (steps DataFrame, selected tuple, final PooledFit)
    """
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be between 0 and 1, not {alpha}")
    def kw(vs):
        return dict(categorical=[c for c in categorical or () if c in vs] or None,
                    reference={k: r for k, r in (reference or {}).items() if k in vs} or None,
                    event=event, source=source)

    from myorisk.modeling.selection import pscreen_steps

    def uni_p(v: str) -> float:
        return term_p_imputed(fit_imputed(datasets, outcome, [v], **kw([v])))[v]

    def multi_p(vs: list[str]) -> dict[str, float]:
        return term_p_imputed(fit_imputed(datasets, outcome, vs, **kw(vs)))

    steps, kept = pscreen_steps(candidates, alpha, uni_p, multi_p, what="pooled")
    final = fit_imputed(datasets, outcome, kept, **kw(kept), method="mice" if imputation else "given",
                        seed=(imputation or {}).get("seed"), imputation=imputation)
    return steps, tuple(kept), final
