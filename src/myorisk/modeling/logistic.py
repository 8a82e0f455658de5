"""Binary logistic regression: maximum likelihood (rms ``lrm`` / R ``glm``) and Firth's penalised
likelihood (brglm2 ``type="AS_mean"``, logistf), with Wald or profile-likelihood intervals and the
model statistics rms prints.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"y": [0, 0, 1, 1, 0, 1, 0, 1], "x": [1, 2, 3, 4, 5, 6, 2.5, 3.5]})
>>> fit = fit_logistic(df, "y", ["x"])
>>> round(fit.coef["x"], 4)
0.6931
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from myorisk._json import clean as _clean
from myorisk.errors import ConvergenceWarning, InputError, ModelError, SmallSampleWarning
from myorisk.modeling._newton import CoreFit, loglik_logistic, newton_logistic
from myorisk.modeling._special import chdtrc, chi2_ppf, expit, ndtr, ndtri
from myorisk.modeling.concordance import concordance, concordance_rms65
from myorisk.modeling.design import Design, Term, build_design, encode_new

__all__ = [
    "LogisticFit",
    "fit_logistic",
    "fit_design",
    "gini_md",
    "detect_separation",
    "check_design",
]


def gini_md(x: np.ndarray) -> float:
    """Gini's mean difference: mean |x_i − x_j| over all pairs i ≠ j (Hmisc ``GiniMd``)."""
    x = np.sort(np.asarray(x, dtype=float))
    n = x.size
    if n < 2:
        return float("nan")
    i = np.arange(1, n + 1)
    return float(4.0 * np.sum((i - (n + 1) / 2.0) * x) / (n * (n - 1)))


def detect_separation(X: np.ndarray, y: np.ndarray) -> tuple[str | None, np.ndarray]:
    """Detect complete or quasi-complete separation by linear programming (Konis 2007).

    Looks for a direction β ≠ 0 with (2y−1)·Xβ ≥ 0 for every row; one exists exactly when the
    maximum-likelihood estimate is infinite.

    Returns
    -------
    kind : {"complete", "quasi-complete"} or None
    direction : ndarray
        The separating direction (zeros when there is no separation).
    """
    s = 2.0 * np.asarray(y, dtype=float) - 1.0
    A = X * s[:, None]
    k = X.shape[1]
    # scale columns so that the box |beta| <= 1 is meaningful
    sc = np.maximum(np.abs(X).max(axis=0), 1e-12)
    As = A / sc
    from scipy import optimize  # only when separation is suspected

    res = optimize.linprog(
        c=-As.sum(axis=0),
        A_ub=-As,
        b_ub=np.zeros(X.shape[0]),
        bounds=[(-1.0, 1.0)] * k,
        method="highs",
    )
    if res.status != 0 or -res.fun <= 1e-7 * X.shape[0]:
        return None, np.zeros(k)
    d = res.x / sc
    # complete separation: some direction gives every row a strictly positive margin.
    # Maximise the smallest margin t subject to s_i x_i'b >= t, |b| <= 1.
    n = X.shape[0]
    res2 = optimize.linprog(
        c=np.r_[np.zeros(k), -1.0],
        A_ub=np.hstack([-As, np.ones((n, 1))]),
        b_ub=np.zeros(n),
        bounds=[(-1.0, 1.0)] * k + [(None, 1.0)],
        method="highs",
    )
    complete = res2.status == 0 and -res2.fun > 1e-9
    if complete:
        d = res2.x[:k] / sc
    return ("complete" if complete else "quasi-complete"), d


def check_design(
    design: Design, *, firth: bool = False, source: str = "data", separation: bool = True
) -> list[str]:
    """Check a design before fitting; raise ModelError for what cannot be estimated.

    Checks constant predictors, collinear columns and (for maximum likelihood, when
    ``separation``) separation. Returns warnings (events per parameter below 10).
    """
    X, y = design.X, design.y
    names = design.columns
    for j in range(1, X.shape[1]):
        col = X[:, j]
        if np.all(col == col[0]):
            term = _term_of(design, j)
            raise ModelError(
                f"{source}: predictor '{names[j]}' is constant ({_fmt(col[0])}) in the "
                f"{X.shape[0]} rows used{term}; it cannot be estimated — remove it"
            )
    # collinearity: in column order, a column whose residual after projection on the previous
    # columns is (relative to its norm) below 1e-7 is a linear combination of them (R's lm/glm
    # QR tolerance). One QR decomposition serves every column.
    norms = np.linalg.norm(X, axis=0)
    r = np.linalg.qr(X / np.where(norms > 0, norms, 1.0), mode="r")
    for j in range(1, X.shape[1]):
        if abs(r[j, j]) < 1e-7:
            prev = list(range(j))
            coef, *_ = np.linalg.lstsq(X[:, prev], X[:, j], rcond=None)
            involved = [names[c] for c, b in zip(prev, coef, strict=True) if abs(b) > 1e-8 and c != 0]
            raise ModelError(
                f"{source}: predictor column '{names[j]}' is collinear with "
                f"{', '.join(repr(n) for n in involved) or 'the intercept'} (it is a linear "
                "combination of them); remove one of them"
            )
    if not firth and separation:
        _raise_if_separated(design, source)
    out = []
    events = float(min(y.sum(), y.size - y.sum()))
    npar = X.shape[1] - 1
    if npar and events / npar < 10:
        out.append(
            f"{events:.0f} events in the smaller outcome group for {npar} parameter"
            f"{'s' if npar > 1 else ''}: {events / npar:.1f} events per parameter, below 10; "
            "estimates may be overfitted"
        )
    return out


def _raise_if_separated(design: Design, source: str) -> None:
    """Raise ModelError naming the separating predictors, if the outcome is separated."""
    names = design.columns
    kind, d = detect_separation(design.X, design.y)
    if kind is None:
        return
    big = np.abs(d[1:]) > 1e-8 * max(np.abs(d).max(), 1e-300)
    who = [names[j + 1] for j in np.flatnonzero(big)]
    raise ModelError(
        f"{source}: {kind} separation — {', '.join(repr(w) for w in who) or 'the predictors'} "
        f"{'predicts' if len(who) == 1 else 'predict'} the outcome "
        f"{'perfectly' if kind == 'complete' else 'perfectly for some patients'}, so the "
        "maximum-likelihood odds ratio is infinite; use --firth (Firth's penalised likelihood)",
        reason="separation",
    )


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _term_of(design: Design, j: int) -> str:
    for t, sl in zip(design.terms, design.term_slices(), strict=True):
        if sl.start <= j < sl.stop and t.kind == "categorical":
            return f" (level '{design.columns[j].split('=', 1)[1]}' of '{t.name}')"
    return ""


@dataclass(frozen=True)
class LogisticFit:
    """A fitted binary logistic regression.

    Attributes
    ----------
    outcome : str
    event : str
        Outcome value modelled as the event (coded 1).
    terms : tuple of Term
        Predictors as they entered the design.
    names : tuple of str
        Coefficient names, ``"Intercept"`` first (rms naming: ``var=level`` for dummies).
    coefficients : ndarray
    cov : ndarray
        Covariance matrix (inverse information).
    method : {"ml", "firth"}
    ci_method : {"wald", "profile"}
    level : float
        Confidence level of ``ci_low``/``ci_high``.
    ci_low, ci_high : ndarray
        Confidence limits on the coefficient scale.
    n, events : int
        Rows used and events among them.
    loglik, loglik_null : float
        Log-likelihood of the model and of the intercept-only model (for Firth fits, the
        ordinary log-likelihood at the penalised estimates).
    loglik_penalized, loglik_null_penalized : float or None
        Firth fits only: the penalised log-likelihood ``loglik + ½·log|I(β)|`` that Firth's
        method maximises (logistf's ``loglik``), of the model and of the intercept-only Firth fit;
        ``None`` for maximum likelihood.
    lr_chi2, lr_df, lr_p : float, int, float
        Likelihood-ratio test of all predictors (for Firth, the penalised-likelihood ratio as logistf).
    aic : float
        −2·loglik + 2·(number of coefficients).
    r2_nagelkerke : float
        rms ``R2``.
    c, dxy : float
        Exact concordance index and Somers' Dxy of the fitted probabilities.
    c_rms65, dxy_rms65 : float
        The same as rms 6.5's ``lrm`` prints them (probabilities binned at 0.0002).
    brier, g, gp : float
        Brier score; Gini's mean difference of the linear predictor and of the probabilities.
    converged : bool
    n_iter : int
    warnings : tuple of str
        Everything the user should know (rows removed, few events per parameter, …).
    missing : dict
        Listwise-deletion report.
    linear_predictor : ndarray
        Fitted linear predictor of the rows used.
    y : ndarray
        Outcome (0/1) of the rows used.
    term_summary : dict
        Per predictor: min, max and distinct values (numeric) or levels (categorical), as rms
        ``datadist`` keeps them for nomograms and model specs.
    penalty : float
        Penalty λ of a penalised fit (rms ``lrm(penalty=λ)``; 0 for an ordinary fit).
    effective_df : float or None
        Effective degrees of freedom of a penalised fit, Σ diag(I(β) V) over the slopes (rms).
    shrinkage : dict or None
        ``{method, factor}`` when the slopes were shrunk after fitting (see
        :func:`myorisk.modeling.penalty.shrink`).
    """

    outcome: str
    event: str
    terms: tuple[Term, ...]
    names: tuple[str, ...]
    coefficients: np.ndarray
    cov: np.ndarray
    method: str
    ci_method: str
    level: float
    ci_low: np.ndarray
    ci_high: np.ndarray
    n: int
    events: int
    loglik: float
    loglik_null: float
    lr_chi2: float
    lr_df: int
    lr_p: float
    aic: float
    r2_nagelkerke: float
    c: float
    dxy: float
    c_rms65: float
    dxy_rms65: float
    brier: float
    g: float
    gp: float
    converged: bool
    n_iter: int
    warnings: tuple[str, ...] = ()
    missing: dict = field(default_factory=dict)
    linear_predictor: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    y: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    term_summary: dict = field(default_factory=dict, repr=False)
    penalty: float = 0.0
    effective_df: float | None = None
    shrinkage: dict | None = None
    loglik_penalized: float | None = None
    loglik_null_penalized: float | None = None

    # ------------------------------------------------------------------ derived views
    @property
    def coef(self) -> dict[str, float]:
        """Coefficients by name."""
        return dict(zip(self.names, map(float, self.coefficients), strict=True))

    @property
    def se(self) -> np.ndarray:
        """Standard errors (square root of the covariance diagonal)."""
        return np.sqrt(np.diag(self.cov))

    @property
    def z(self) -> np.ndarray:
        """Wald z statistics."""
        return self.coefficients / self.se

    @property
    def p(self) -> np.ndarray:
        """Two-sided Wald p-values."""
        return 2.0 * ndtr(-np.abs(self.z))  # = scipy.stats.norm.sf (same ufunc), without scipy.stats

    @property
    def probability(self) -> np.ndarray:
        """Fitted probabilities of the rows used."""
        return expit(self.linear_predictor)

    def predict_lp(self, data: pd.DataFrame, source: str = "data") -> np.ndarray:
        """Linear predictor for new data (same columns as the fit)."""
        return encode_new(self.terms, data, source) @ self.coefficients

    def predict_proba(self, data: pd.DataFrame, source: str = "data") -> np.ndarray:
        """Predicted probability of the event for new data."""
        return expit(self.predict_lp(data, source))

    def to_frame(self) -> pd.DataFrame:
        """One row per coefficient: term, coef, se, z, p, or, or_low, or_high."""
        return pd.DataFrame(
            {
                "term": list(self.names),
                "coef": self.coefficients,
                "se": self.se,
                "z": self.z,
                "p": self.p,
                "or": np.exp(self.coefficients),
                "or_low": np.exp(self.ci_low),
                "or_high": np.exp(self.ci_high),
            }
        )

    def to_dict(self) -> dict:
        """JSON-ready summary (the ``myorisk fit --json`` contract)."""
        rows = self.to_frame().to_dict(orient="records")
        return _clean(
            {
                "outcome": self.outcome,
                "event": self.event,
                "method": self.method,
                "ci": self.ci_method,
                "level": self.level,
                "n": self.n,
                "events": self.events,
                "terms": rows,
                "loglik": self.loglik,
                "loglik_null": self.loglik_null,
                "loglik_penalized": self.loglik_penalized,
                "loglik_null_penalized": self.loglik_null_penalized,
                "aic": self.aic,
                "lr_chi2": self.lr_chi2,
                "lr_df": self.lr_df,
                "lr_p": self.lr_p,
                "r2_nagelkerke": self.r2_nagelkerke,
                "c": self.c,
                "dxy": self.dxy,
                "c_rms65": self.c_rms65,
                "brier": self.brier,
                "g": self.g,
                "gp": self.gp,
                "converged": self.converged,
                "iterations": self.n_iter,
                "warnings": list(self.warnings),
                "missing": self.missing,
                "knots": {t.name: list(t.knots) for t in self.terms if t.kind == "rcs"},
                "penalty": self.penalty,
                "effective_df": self.effective_df,
                "shrinkage": self.shrinkage,
            }
        )


# ---------------------------------------------------------------------------- profile likelihood
def _constrained_firth(X: np.ndarray, y: np.ndarray, j: int, value: float, start: np.ndarray,
                       *, full: bool = False):  # noqa: ANN202
    """Maximum of the Firth-penalised log-likelihood with β_j fixed at ``value``.

    Newton steps on the free coefficients with step-halving; a step moving some linear
    predictor by more than 10 is shortened first (saturated probabilities make the information
    nearly singular). Returns the maximum (NaN when it is not reached), or with ``full`` the
    tuple ``(maximum, beta, converged)``.
    """
    free = np.array([k for k in range(X.shape[1]) if k != j])
    beta = np.asarray(start, dtype=float).copy()
    beta[j] = value

    def pen_ll(b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        lp = X @ b
        p = expit(lp)
        info = (X * (p * (1 - p))[:, None]).T @ X
        sign, logdet = np.linalg.slogdet(info)
        if sign <= 0:
            return -np.inf, np.zeros(X.shape[1]), info
        inv = np.linalg.inv(info)
        h = p * (1 - p) * np.einsum("ij,jk,ik->i", X, inv, X)
        score = X.T @ (y - p + h * (0.5 - p))
        return loglik_logistic(lp, y) + 0.5 * logdet, score, info

    obj, score, info = pen_ll(beta)
    converged = False
    if np.isfinite(obj):
        scale = max(1.0, float(y.size))
        for _ in range(200):
            sub = info[np.ix_(free, free)]
            try:
                step = np.linalg.solve(sub, score[free])
            except np.linalg.LinAlgError:
                step = np.linalg.lstsq(sub, score[free], rcond=None)[0]
            dlp = float(np.max(np.abs(X[:, free] @ step)))
            if np.isfinite(dlp) and dlp > 10.0:
                step = step * (10.0 / dlp)
            t = 1.0
            for _ in range(40):
                cand = beta.copy()
                cand[free] += t * step
                o2, s2, i2 = pen_ll(cand)
                if np.isfinite(o2) and o2 >= obj - 1e-12 * abs(obj):
                    break
                t *= 0.5
            else:  # no step length keeps the objective: converged only if the score is ~0
                converged = bool(np.max(np.abs(score[free])) < 1e-6 * scale)
                break
            beta, obj, score, info = cand, o2, s2, i2
            if np.max(np.abs(t * step)) < 1e-10 * max(1.0, float(np.max(np.abs(beta[free])))) and \
                    np.max(np.abs(score[free])) < 1e-6 * scale:
                converged = True
                break
    val = obj if converged else np.nan
    return (val, beta, converged) if full else val


def _finite(f):  # noqa: ANN001, ANN202 - a root finder must never see NaN
    def g(b: float) -> float:
        v = f(b)
        if not np.isfinite(v):
            raise ValueError("constrained fit failed")
        return v

    return g


def _profile_ci(
    X: np.ndarray,
    y: np.ndarray,
    core: CoreFit,
    *,
    firth: bool,
    level: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Profile-likelihood confidence limits for every coefficient (root of the LR statistic)."""
    crit = chi2_ppf(level)  # = scipy.stats.chi2.ppf(level, 1)
    top = core.penalized_loglik if firth else core.loglik
    se = np.sqrt(np.diag(core.cov))
    k = X.shape[1]
    lo, hi = np.full(k, np.nan), np.full(k, np.nan)
    for j in range(k):
        others = [c for c in range(k) if c != j]
        Xo = X[:, others]
        start_o = core.beta[others]

        warm = {"beta": start_o, "full": core.beta}

        def dev(b: float, _j: int = j, _Xo: np.ndarray = Xo, _s: np.ndarray = start_o,
                _warm: dict = warm) -> float:
            if firth:  # warm-started along the path too, else from the penalised MLE
                for st in (_warm["full"], core.beta):
                    val, beta_c, ok = _constrained_firth(X, y, _j, b, st, full=True)
                    if ok:
                        break
                else:
                    return np.nan
                _warm["full"] = beta_c
            else:
                # Warm-started from the last constrained solution on the way out (a continuation
                # path), then from the MLE of the other coefficients, then from the default start:
                # far from the MLE (large offsets) Newton may not get back from a poor start. An
                # unconverged fit is never taken for the constrained maximum (it would put a
                # false root in the bracket).
                off = b * X[:, _j]
                for st in (_warm["beta"], _s, None):
                    fit = newton_logistic(_Xo, y, offset=off, start=st, maxit=200)
                    if fit.converged:
                        break
                else:
                    return np.nan
                _warm["beta"] = fit.beta
                val = fit.loglik
            return 2.0 * (top - val) - crit

        for sign, out in ((-1.0, lo), (1.0, hi)):
            warm["beta"], warm["full"] = start_o, core.beta
            b0 = core.beta[j]
            width = max(se[j], 1e-3) if np.isfinite(se[j]) else 1.0
            a = b0
            found = False
            for _ in range(60):
                b1 = b0 + sign * width
                f1 = dev(b1)
                if np.isnan(f1):  # the constrained fit failed here: no limit can be trusted
                    break
                if f1 > 0:
                    found = True
                    break
                a = b1
                width *= 1.6
            if found:
                try:
                    from scipy import optimize

                    out[j] = optimize.brentq(_finite(dev), min(a, b1), max(a, b1), xtol=1e-10, rtol=1e-12)
                except ValueError:  # a failed constrained fit inside the bracket
                    out[j] = np.nan
            elif not np.isnan(f1):
                out[j] = sign * np.inf
    return lo, hi


# ---------------------------------------------------------------------------- fitting
def fit_design(
    design: Design,
    *,
    firth: bool = False,
    ci: str = "wald",
    level: float = 0.95,
    source: str = "data",
    check: bool = True,
    penalty: float = 0.0,
) -> LogisticFit:
    """Fit a logistic model to a prepared :class:`Design`. See :func:`fit_logistic`."""
    if penalty:
        if not np.isfinite(penalty) or penalty < 0:
            raise InputError(f"--penalty must be a number ≥ 0, not {penalty}")
        if firth:
            raise InputError("a fit is either Firth-penalised (--firth) or quadratically penalised "
                             "(--penalty), not both")
        if ci == "profile":
            raise InputError("profile-likelihood intervals are not defined for a penalised fit: use --ci wald")
    if ci not in ("wald", "profile"):
        raise InputError(f"--ci must be 'wald' or 'profile', not {ci!r}")
    if not 0.0 < level < 1.0:
        raise InputError(f"confidence level must be between 0 and 1, not {level}")
    notes: list[str] = []
    msg = design.missing.message()
    if msg:
        notes.append(msg)
    if check:
        notes.extend(check_design(design, firth=firth, source=source, separation=False))
    X, y = design.X, design.y
    pmat = None
    if penalty:
        from myorisk.modeling.design import penalty_matrix

        pmat = penalty * penalty_matrix(design)
    core = newton_logistic(X, y, firth=firth, penalty=pmat, maxit=100)
    if check and not firth and pmat is None:
        # Separation drives fitted probabilities to 0 or 1 and the fit to diverge; the linear
        # program (exact test) runs only then, so ordinary fits stay fast.
        p_hat = expit(X @ core.beta)
        if not core.converged or np.min(np.minimum(p_hat, 1.0 - p_hat)) < 1e-6:
            _raise_if_separated(design, source)
    if not core.converged:
        raise ModelError(
            f"{source}: the {'Firth' if firth else 'maximum-likelihood'} fit did not converge in "
            f"{core.n_iter} iterations (largest score {core.max_abs_score:.2g}); check for "
            "near-separation or extreme values" + ("" if firth else ", or use --firth")
        )
    n = int(y.size)
    events = int(y.sum())
    ybar = events / n
    ll0 = events * np.log(ybar) + (n - events) * np.log(1.0 - ybar)
    lp = X @ core.beta
    pen = pen0 = None
    if firth:
        null = newton_logistic(X[:, :1], y, firth=True)
        lr = 2.0 * (core.penalized_loglik - null.penalized_loglik)
        pen, pen0 = float(core.penalized_loglik), float(null.penalized_loglik)
    else:
        lr = 2.0 * (core.loglik - ll0)
    df = X.shape[1] - 1
    edf = None
    if pmat is not None:
        # rms: effective d.f. = Σ diag(I(β) V) over the slopes, V the penalised covariance
        pr = expit(lp)
        info = (X * (pr * (1.0 - pr))[:, None]).T @ X
        edf = float(np.sum(np.diag(info @ core.cov)[1:]))
    lr_p = float(chdtrc(edf if edf is not None else df, lr)) if df > 0 else float("nan")  # chi2.sf
    # Nagelkerke R2 from the ordinary likelihood ratio (rms R2)
    lr_ord = 2.0 * (core.loglik - ll0)
    r2 = (1.0 - np.exp(-lr_ord / n)) / (1.0 - np.exp(2.0 * ll0 / n))
    prob = expit(lp)
    conc = concordance(prob, y)
    conc65 = concordance_rms65(prob, y)
    se = np.sqrt(np.diag(core.cov))
    zq = ndtri(0.5 + level / 2.0)  # = scipy.stats.norm.ppf
    if ci == "wald":
        lo, hi = core.beta - zq * se, core.beta + zq * se
    else:
        lo, hi = _profile_ci(X, y, core, firth=firth, level=level)
        failed = [design.columns[j] for j in range(len(lo)) if np.isnan(lo[j]) or np.isnan(hi[j])]
        if failed:
            notes.append(f"{source}: the profile-likelihood limit of {', '.join(failed)} could not be "
                         "computed (the constrained fits did not converge); use --ci wald for those terms")
    return LogisticFit(
        outcome=design.outcome,
        event=design.event,
        terms=design.terms,
        names=design.columns,
        coefficients=core.beta,
        cov=core.cov,
        method="firth" if firth else "ml",
        ci_method=ci,
        level=level,
        ci_low=lo,
        ci_high=hi,
        n=n,
        events=events,
        loglik=core.loglik,
        loglik_null=float(ll0),
        lr_chi2=float(lr),
        lr_df=int(df) if edf is None else edf,
        lr_p=lr_p,
        aic=float(-2.0 * core.loglik + 2.0 * X.shape[1]),
        r2_nagelkerke=float(r2),
        c=conc.c,
        dxy=conc.dxy,
        c_rms65=conc65.c,
        dxy_rms65=conc65.dxy,
        brier=float(np.mean((prob - y) ** 2)),
        g=gini_md(lp),
        gp=gini_md(prob),
        converged=core.converged,
        n_iter=core.n_iter,
        warnings=tuple(notes),
        missing=design.missing.to_dict(),
        linear_predictor=lp,
        y=y,
        term_summary=_term_summaries(design),
        penalty=float(penalty),
        effective_df=edf,
        loglik_penalized=pen,
        loglik_null_penalized=pen0,
    )


def _term_summaries(design: Design) -> dict:
    """Per numeric predictor: min, max and (≤ 10 of them) distinct values — rms ``datadist``."""
    from myorisk.modeling.nomogram import term_summary

    out = {}
    for t, sl in zip(design.terms, design.term_slices(), strict=True):
        if t.kind in ("numeric", "rcs"):
            out[t.name] = term_summary(design.X[:, sl.start])  # a spline's first column is x itself
        elif t.kind == "categorical":
            out[t.name] = {"levels": list(t.levels)}
    return out


def _datadist_summaries(data: pd.DataFrame, design: Design) -> dict:
    """As :func:`_term_summaries`, from every non-missing value of each predictor in ``data``.

    rms takes nomogram axes from ``datadist(data)``: a row the model drops for a missing value
    in another column still widens the axis of the predictors it has.
    """
    from myorisk.modeling.nomogram import term_summary

    out = _term_summaries(design)
    for t in design.terms:
        if t.kind in ("numeric", "rcs"):
            col = data[t.name]
            x = col.astype(float) if pd.api.types.is_bool_dtype(col.dtype) else \
                pd.to_numeric(col.astype("string").str.strip() if not pd.api.types.is_numeric_dtype(col.dtype)
                              else col, errors="coerce")
            out[t.name] = term_summary(x.dropna().to_numpy(dtype=float))
    return out


def fit_logistic(
    data: pd.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    *,
    firth: bool = False,
    ci: str = "wald",
    level: float = 0.95,
    categorical: Sequence[str] | None = None,
    reference: Mapping[str, str] | None = None,
    event: str | None = None,
    source: str = "data",
    penalty: float = 0.0,
) -> LogisticFit:
    """Fit a binary logistic regression.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    outcome : str
        Binary outcome column (0/1, booleans, or two labels — the second in sorted order is the
        event unless ``event`` says otherwise).
    predictors : sequence of str
        Numeric, binary or categorical predictor columns.
    firth : bool, default=False
        Firth's penalised likelihood (brglm2 ``AS_mean`` / logistf) — finite estimates under
        separation and less small-sample bias.
    ci : {"wald", "profile"}, default="wald"
        Wald intervals, or profile-likelihood intervals (R ``confint`` on a glm; for Firth fits the
        profile penalised likelihood, as logistf).
    level : float, default=0.95
    categorical, reference, event, source
        See :func:`myorisk.modeling.design.build_design`.
    penalty : float, default=0
        Penalised maximum likelihood as rms ``lrm(penalty=)``: maximise log L − ½ λ β′Pβ with
        rms' default penalty matrix P (:func:`myorisk.modeling.design.penalty_matrix`). The
        covariance is the inverse of the penalised information, and ``effective_df`` replaces the
        number of slopes in the LR test.

    Returns
    -------
    LogisticFit

    Raises
    ------
    InputError
        Bad data (missing column, non-numeric value, outcome without two values).
    ModelError
        Separation (with maximum likelihood), constant or collinear predictors, non-convergence.

    Notes
    -----
    Coefficients, SEs, log-likelihoods, LR χ², Nagelkerke R², Brier score, g and gp equal rms 6.5
    ``lrm`` (and ``glm``); ``c`` is the exact concordance index, while rms 6.5 prints a binned
    approximation (``c_rms65``). Missing values are removed listwise and reported in ``warnings``.
    """
    design = build_design(
        data, outcome, predictors, categorical=categorical, reference=reference, event=event,
        source=source,
    )
    fit = fit_design(design, firth=firth, ci=ci, level=level, source=source, penalty=penalty)
    if design.notes:
        fit = replace(fit, warnings=(*design.notes, *fit.warnings))
    if design.missing.n_dropped:
        fit = replace(fit, term_summary=_datadist_summaries(data, design))
    for w in fit.warnings:
        if "events per parameter" in w:
            warnings.warn(w, SmallSampleWarning, stacklevel=2)
    if not fit.converged:  # pragma: no cover - fit_design raises first
        warnings.warn("fit did not converge", ConvergenceWarning, stacklevel=2)
    return fit
