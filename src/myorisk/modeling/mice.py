"""Multiple imputation by chained equations (MICE), following R mice 3.15's default methods.

Every incomplete variable is imputed in turn from all the other variables (the outcome included:
it must be in every imputation model, Moons et al. 2006; White et al. 2011), for ``maxit``
iterations, in ``m`` independent chains started from random draws of the observed values
(mice ``initialize.imp``). Methods, as mice's defaults:

* ``pmm`` (numeric): predictive mean matching (mice ``mice.impute.pmm``, type-1 matching): a
  Bayesian linear-regression draw β* (``.norm.draw``: σ*² = RSS/χ²_{n_obs−p}, β* = β̂ + σ*·L·z
  with LL' = (X'X)⁻¹); predicted means of the observed cases with β̂, of the missing cases with
  β*; each missing case takes the observed value of one of its 5 nearest donors, at random.
* ``logreg`` (two values): logistic regression on the data augmented as mice's ``augment``
  (2·p·k pseudo-observations at mean ± sd/2 of each predictor, weight (p+1)/(2pk), against
  separation); β* drawn from N(β̂, (X'WX)⁻¹); the value drawn as Bernoulli(expit(x'β*)).
* ``polyreg`` (categorical, > 2 levels): multinomial logistic regression on the augmented data
  (as mice's ``nnet::multinom`` fit); the category drawn from the fitted probabilities (mice
  draws no parameters here either).

Chains are independent, each with its own stream of a :class:`numpy.random.SeedSequence` spawned
from ``seed``, so a result depends on the seed alone — not on how chains are spread over workers.
The random streams are numpy's, not R's: imputations agree with mice in distribution (checked
against mice's pooled estimates over seeds), not draw for draw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from myorisk._json import clean as _clean
from myorisk.errors import InputError

__all__ = ["MiceResult", "mice", "missing_summary"]

METHODS = ("pmm", "logreg", "polyreg")


# ----------------------------------------------------------------------------- variables
@dataclass(frozen=True)
class _Var:
    name: str
    kind: str  # "numeric" or "categorical"
    levels: tuple = ()  # categorical levels (sorted), as labels
    values: np.ndarray = field(default_factory=lambda: np.zeros(0))  # numeric values or level codes (float)
    miss: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


def _as_var(s: pd.Series, categorical: bool, source: str) -> _Var:
    miss = s.isna().to_numpy()
    if not categorical and pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return _Var(s.name, "numeric", (), s.to_numpy(dtype=float), miss)
    if not categorical:
        num = pd.to_numeric(s, errors="coerce")
        if (num.isna() == s.isna()).all():  # numbers stored as text
            return _Var(s.name, "numeric", (), num.to_numpy(dtype=float), miss)
    obs = s[~miss]
    labels = obs.map(lambda v: str(int(v)) if isinstance(v, float) and float(v).is_integer() else str(v))
    levels = tuple(sorted(labels.unique(), key=lambda v: (_num_key(v), v)))
    code = np.full(len(s), np.nan)
    code[~miss] = labels.map({lv: i for i, lv in enumerate(levels)}).to_numpy(dtype=float)
    return _Var(s.name, "categorical", levels, code, miss)


def _num_key(v: str) -> float:
    try:
        return float(v)
    except ValueError:
        return np.inf


def _default_method(v: _Var) -> str:
    if not v.miss.any():
        return ""
    if v.kind == "categorical":
        return "logreg" if len(v.levels) == 2 else "polyreg"
    if np.unique(v.values[~v.miss]).size == 2:
        return "logreg"
    return "pmm"


def missing_summary(data: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Per column: n, missing count and share (the table1 / report missing-data table)."""
    cols = list(columns) if columns is not None else list(data.columns)
    rows = [{"variable": c, "n": int(data[c].notna().sum()), "missing": int(data[c].isna().sum()),
             "share": float(data[c].isna().mean()) if len(data) else float("nan")} for c in cols]
    return pd.DataFrame(rows, columns=["variable", "n", "missing", "share"])


# ----------------------------------------------------------------------------- result
@dataclass(frozen=True)
class MiceResult:
    """m completed data sets and the diagnostics of their chains.

    Attributes
    ----------
    data : DataFrame
        The incomplete data as given (the imputation model's columns).
    m, maxit : int
    seed : int or None
    methods : dict
        Column → ``"pmm"``, ``"logreg"``, ``"polyreg"`` or ``""`` (complete, not imputed).
    imputed : dict
        Column → array (m, number missing) of imputed values (labels for categorical columns).
    chain_mean, chain_sd : dict
        Column → array (maxit, m): mean and SD of the imputed values after each iteration
        (categorical: of the level numbers 1, 2, …, as mice's ``chainMean``).
    missing : DataFrame
        Per column n, missing and share missing.
    share_incomplete : float
        Share of rows with at least one missing value.
    outcome : str or None
        The outcome column, if named (it is in every imputation model).
    auxiliary : tuple of str
        Columns used only to impute (not in the analysis model).
    """

    data: pd.DataFrame
    m: int
    maxit: int
    seed: int | None
    methods: dict
    imputed: dict
    chain_mean: dict
    chain_sd: dict
    missing: pd.DataFrame
    share_incomplete: float
    outcome: str | None = None
    auxiliary: tuple[str, ...] = ()
    donors: int = 5

    def complete(self, i: int) -> pd.DataFrame:
        """The i-th completed data set (1-based, as mice ``complete(imp, i)``)."""
        if not 1 <= i <= self.m:
            raise InputError(f"imputation {i} does not exist (1 to {self.m})")
        out = self.data.copy()
        for c, vals in self.imputed.items():
            miss = out[c].isna().to_numpy()
            col = out[c].astype(object) if vals.dtype == object else out[c].astype(float)
            col = col.copy()
            col[miss] = vals[i - 1]
            out[c] = col if vals.dtype == object else col.astype(float)
        return out

    def completed(self) -> list[pd.DataFrame]:
        """All m completed data sets."""
        return [self.complete(i) for i in range(1, self.m + 1)]

    def long(self) -> pd.DataFrame:
        """Long format with ``.imp`` and ``.id`` first (as ``mice::complete(imp, "long")``)."""
        parts = []
        for i in range(1, self.m + 1):
            d = self.complete(i)
            d.insert(0, ".id", np.arange(1, len(d) + 1))
            d.insert(0, ".imp", i)
            parts.append(d)
        return pd.concat(parts, ignore_index=True)

    def info(self) -> dict:
        """The ``imputation`` block of a command's ``--json``."""
        return _clean({
            "m": self.m, "method": "mice", "seed": self.seed, "maxit": self.maxit,
            "donors": self.donors,
            "methods": {k: v for k, v in self.methods.items() if v},
            "share_incomplete": self.share_incomplete,
            "missing": {r.variable: {"missing": r.missing, "share": r.share} for r in self.missing.itertuples()},
            "auxiliary": list(self.auxiliary),
        })

    def to_frame(self) -> pd.DataFrame:
        """Per column: method, n, missing, share, mean of observed and of imputed values (numeric)."""
        rows = []
        for r in self.missing.itertuples():
            c = r.variable
            vals = self.imputed.get(c)
            obs = self.data[c].dropna()
            num = vals is not None and vals.dtype != object
            rows.append({"variable": c, "method": self.methods.get(c, ""), "n": r.n, "missing": r.missing,
                         "share": r.share,
                         "observed_mean": float(pd.to_numeric(obs, errors="coerce").mean()) if vals is None or num else np.nan,
                         "imputed_mean": float(np.mean(vals)) if num and vals.size else np.nan})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        d = self.info()
        d["variables"] = self.to_frame().to_dict(orient="records")
        d["chain_mean"] = {k: v.tolist() for k, v in self.chain_mean.items()}
        d["chain_sd"] = {k: v.tolist() for k, v in self.chain_sd.items()}
        return _clean(d)


# ----------------------------------------------------------------------------- kernels
def _chol_draw(cov: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A draw L·z with LL' = cov (ridge-stabilised when cov is not positive definite)."""
    cov = (cov + cov.T) / 2.0
    try:
        L = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        L = np.linalg.cholesky(cov + np.eye(cov.shape[0]) * 1e-8 * max(1e-300, float(np.max(np.diag(cov)))))
    return L @ rng.standard_normal(cov.shape[0])


def _inv_xtx(xtx: np.ndarray, ridge: float = 1e-5) -> np.ndarray:
    try:
        np.linalg.cholesky(xtx)
        return np.linalg.inv(xtx)
    except np.linalg.LinAlgError:  # (near) collinear predictors: mice's ridge penalty
        return np.linalg.inv(xtx + np.diag(np.diag(xtx) * ridge + 1e-12))


def _norm_draw(y: np.ndarray, X: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """mice ``.norm.draw``: least-squares β̂ and a Bayesian draw β*."""
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    r = y - X @ coef
    df = max(len(y) - X.shape[1], 1)
    sigma = np.sqrt(np.sum(r * r) / rng.chisquare(df))
    v = _inv_xtx(X.T @ X)
    beta = coef + _chol_draw(v, rng) * sigma
    return coef, beta


def _pmm(y_obs: np.ndarray, X_obs: np.ndarray, X_mis: np.ndarray, rng: np.random.Generator,
         donors: int = 5) -> np.ndarray:
    """Predictive mean matching, type 1, ``donors`` nearest (mice ``mice.impute.pmm``)."""
    coef, beta = _norm_draw(y_obs, X_obs, rng)
    yo = X_obs @ coef
    ym = X_mis @ beta
    k = max(1, min(donors, yo.size))
    out = np.empty(ym.size)
    step = max(1, int(4e6 // max(yo.size, 1)))
    for s in range(0, ym.size, step):
        d = np.abs(ym[s:s + step, None] - yo[None, :])
        d = d + rng.uniform(0.0, 1e-10 * (np.min(d[d > 0]) if np.any(d > 0) else 1.0), d.shape)  # ties at random
        near = np.argpartition(d, k - 1, axis=1)[:, :k] if k < yo.size else np.tile(np.arange(yo.size), (d.shape[0], 1))
        pick = near[np.arange(near.shape[0]), rng.integers(0, near.shape[1], near.shape[0])]
        out[s:s + step] = y_obs[pick]
    return out


def _augment(y: np.ndarray, X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """mice ``augment``: 2·p·k pseudo-rows against separation; returns (y, X, w) of the added rows.

    ``X`` holds the predictors without the intercept; ``y`` codes categories 0..k−1.
    """
    p = X.shape[1]
    if p == 0:
        return np.zeros(0), np.zeros((0, 0)), np.zeros(0)
    nr = 2 * p * k
    mean = X.mean(axis=0)
    sd = X.std(axis=0, ddof=1) if X.shape[0] > 1 else np.zeros(p)
    v = np.concatenate([np.tile([0.5, -0.5], k), np.zeros(nr)])
    b = np.resize(v, nr * p).reshape(p, nr).T  # R fills column-major
    d = mean[None, :] + b * sd[None, :]
    d = np.clip(d, X.min(axis=0), X.max(axis=0))
    e = np.tile(np.repeat(np.arange(k), 2), p).astype(float)
    return e, d, np.full(nr, (p + 1) / nr)


def _logreg(y_obs: np.ndarray, X_obs: np.ndarray, X_mis: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """mice ``mice.impute.logreg`` (with augmentation); y coded 0/1; returns 0/1 draws."""
    from myorisk.modeling._newton import newton_logistic

    if np.sum(~np.isnan(y_obs)) and X_mis.shape[0] > 1:
        ya, xa, wa = _augment(y_obs, X_obs[:, 1:], 2)
    else:
        ya, xa, wa = np.zeros(0), np.zeros((0, X_obs.shape[1] - 1)), np.zeros(0)
    X = np.vstack([X_obs, np.column_stack([np.ones(len(ya)), xa])]) if len(ya) else X_obs
    y = np.concatenate([y_obs, ya])
    w = np.concatenate([np.ones(len(y_obs)), wa])
    fit = newton_logistic(X, y, weights=w, maxit=100)
    beta = fit.beta
    if not np.all(np.isfinite(beta)):
        beta = np.nan_to_num(beta)
    cov = fit.cov if np.all(np.isfinite(fit.cov)) else np.eye(len(beta)) * 1e-6
    bstar = beta + _chol_draw(cov, rng)
    p = 1.0 / (1.0 + np.exp(-(X_mis @ bstar)))
    return (rng.uniform(size=p.size) <= p).astype(float)


def _multinom(y: np.ndarray, X: np.ndarray, w: np.ndarray, k: int, maxit: int = 100) -> np.ndarray:
    """Weighted multinomial logistic regression by Newton (reference category 0); (p, k) coefs."""
    n, p = X.shape
    Y = np.zeros((n, k))
    Y[np.arange(n), y.astype(int)] = 1.0
    beta = np.zeros((p, k - 1))
    def loglik(b):
        eta = np.column_stack([np.zeros(n), X @ b])
        eta -= eta.max(axis=1, keepdims=True)
        lp = eta - np.log(np.exp(eta).sum(axis=1, keepdims=True))
        return float(np.sum(w[:, None] * Y * lp)), np.exp(lp)
    ll, P = loglik(beta)
    for _ in range(maxit):
        G = X.T @ (w[:, None] * (Y[:, 1:] - P[:, 1:]))  # p x (k-1)
        H = np.zeros((p * (k - 1), p * (k - 1)))
        for a in range(k - 1):
            for c in range(k - 1):
                wa = w * P[:, a + 1] * ((a == c) - P[:, c + 1])
                H[a * p:(a + 1) * p, c * p:(c + 1) * p] = (X * wa[:, None]).T @ X
        H += np.eye(H.shape[0]) * 1e-10
        try:
            step = np.linalg.solve(H, G.T.ravel())
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, G.T.ravel(), rcond=None)[0]
        step = step.reshape(k - 1, p).T
        t = 1.0
        for _ in range(30):
            nb = beta + t * step
            nll, nP = loglik(nb)
            if nll >= ll - 1e-12 * abs(ll):
                break
            t /= 2.0
        done = abs(nll - ll) < 1e-10 * (abs(ll) + 0.1)
        beta, ll, P = nb, nll, nP
        if done:
            break
    return np.column_stack([np.zeros(p), beta])


def _polyreg(y_obs: np.ndarray, X_obs: np.ndarray, X_mis: np.ndarray, k: int,
             rng: np.random.Generator) -> np.ndarray:
    """mice ``mice.impute.polyreg``: multinomial fit on augmented data, category drawn from its
    fitted probabilities; y coded 0..k−1."""
    ya, xa, wa = _augment(y_obs, X_obs[:, 1:], k)
    X = np.vstack([X_obs, np.column_stack([np.ones(len(ya)), xa])]) if len(ya) else X_obs
    y = np.concatenate([y_obs, ya])
    w = np.concatenate([np.ones(len(y_obs)), wa])
    B = _multinom(y, X, w, k)
    eta = X_mis @ B
    eta -= eta.max(axis=1, keepdims=True)
    P = np.exp(eta)
    P /= P.sum(axis=1, keepdims=True)
    u = rng.uniform(size=P.shape[0])
    return np.minimum((u[:, None] > np.cumsum(P, axis=1)).sum(axis=1), k - 1).astype(float)


# ----------------------------------------------------------------------------- chains
def _encode(vars_: list[_Var], cur: list[np.ndarray], skip: int, pred: np.ndarray) -> np.ndarray:
    """Intercept + predictors (dummies for categorical, first level as reference), without ``skip``."""
    cols = [np.ones(cur[0].size)]
    for j, (v, x) in enumerate(zip(vars_, cur, strict=True)):
        if j == skip or not pred[j]:
            continue
        if v.kind == "categorical":
            for lv in range(1, len(v.levels)):
                cols.append((x == lv).astype(float))
        else:
            cols.append(x)
    X = np.column_stack(cols)
    # drop constant columns (mice removes them before imputing)
    keep = np.r_[True, X[:, 1:].std(axis=0) > 0] if X.shape[1] > 1 else np.array([True])
    return X[:, keep]


def _chain(vars_: list[_Var], methods: list[str], maxit: int, donors: int,
           pred: np.ndarray, ss: np.random.SeedSequence) -> tuple[list, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(ss)
    cur = [v.values.copy() for v in vars_]
    todo = [j for j, meth in enumerate(methods) if meth]
    for j in todo:  # initial values: random draws of the observed values (mice initialize.imp)
        miss = vars_[j].miss
        cur[j][miss] = rng.choice(vars_[j].values[~miss], size=int(miss.sum()), replace=True)
    cm = np.full((maxit, len(todo)), np.nan)
    cs = np.full((maxit, len(todo)), np.nan)
    for it in range(maxit):
        for t, j in enumerate(todo):
            v = vars_[j]
            miss = v.miss
            X = _encode(vars_, cur, j, pred[j])
            Xo, Xm = X[~miss], X[miss]
            yo = v.values[~miss]
            meth = methods[j]
            if meth == "pmm":
                draw = _pmm(yo, Xo, Xm, rng, donors)
            elif meth == "logreg":
                if v.kind == "categorical":
                    draw = _logreg(yo, Xo, Xm, rng)
                else:  # numeric with two values: model the second (larger) one
                    lo, hi = np.unique(yo)
                    draw = np.where(_logreg((yo == hi).astype(float), Xo, Xm, rng) == 1.0, hi, lo)
            elif meth == "polyreg":
                draw = _polyreg(yo, Xo, Xm, len(v.levels), rng)
            else:  # pragma: no cover - checked before
                raise InputError(f"unknown imputation method {meth!r}")
            cur[j][miss] = draw
            val = draw + 1.0 if v.kind == "categorical" else draw
            cm[it, t] = float(np.mean(val))
            cs[it, t] = float(np.std(val, ddof=1)) if val.size > 1 else np.nan
    return [cur[j][vars_[j].miss].copy() for j in todo], cm, cs


def mice(
    data: pd.DataFrame,
    *,
    m: int | None = None,
    maxit: int = 10,
    seed: int | None = None,
    method: Mapping[str, str] | None = None,
    categorical: Sequence[str] | None = None,
    outcome: str | None = None,
    auxiliary: Sequence[str] = (),
    exclude_from: Mapping[str, Sequence[str]] | None = None,
    donors: int = 5,
    workers: int = 1,
    source: str = "data",
) -> MiceResult:
    """Multiple imputation by chained equations.

    Parameters
    ----------
    data : DataFrame
        The columns of the imputation model (analysis variables, the outcome, auxiliaries).
    m : int, optional
        Number of imputations; default from the share of incomplete rows
        (:func:`myorisk.modeling.imputation.default_m`: at least the percentage incomplete, ≥ 5).
    maxit : int, default 10
        Iterations of each chain (mice's default is 5; 10 is the common advice for convergence).
    seed : int, optional
        Seed of the chains (a result depends on it alone).
    method : dict, optional
        Column → ``"pmm"``, ``"logreg"``, ``"polyreg"`` (default by type: two values → logreg,
        categorical → polyreg, numeric → pmm).
    categorical : sequence of str, optional
        Numeric-coded columns to treat as categorical.
    outcome : str, optional
        The outcome column; it must be complete and is a predictor in every imputation model.
    auxiliary : sequence of str
        Columns used only in the imputation models (recorded).
    exclude_from : dict, optional
        Column → columns *not* used to impute it (default: every other column is a predictor).
    donors : int, default 5
        PMM donor pool.
    workers : int, default 1
        Threads over chains (results do not depend on it).
    source : str
        Name used in error messages.

    Returns
    -------
    MiceResult
    """
    if data.shape[1] < 2:
        raise InputError(f"{source}: imputation needs at least two columns (add auxiliary variables with --auxiliary)")
    if outcome is not None:
        if outcome not in data.columns:
            raise InputError(f"{source}: outcome column '{outcome}' not found")
        if data[outcome].isna().any():
            raise InputError(f"{source}: the outcome '{outcome}' has {int(data[outcome].isna().sum())} missing "
                             "values; rows without the outcome cannot be used for development (remove them first)")
    if maxit < 1:
        raise InputError(f"maxit must be at least 1, not {maxit}")
    if donors < 1:
        raise InputError(f"donors must be at least 1, not {donors}")
    cats = set(categorical or ())
    data = data.reset_index(drop=True)
    vars_ = [_as_var(data[c], c in cats, source) for c in data.columns]
    methods = [_default_method(v) for v in vars_]
    for c, meth in (method or {}).items():
        if c not in data.columns:
            raise InputError(f"{source}: imputation method given for '{c}', which is not a column")
        if meth not in METHODS:
            raise InputError(f"{source}: imputation method {meth!r} for '{c}' is not one of {', '.join(METHODS)}")
        j = list(data.columns).index(c)
        if vars_[j].miss.any():
            if meth == "pmm" and vars_[j].kind == "categorical":
                raise InputError(f"{source}: '{c}' is categorical; pmm imputes numbers (use logreg or polyreg)")
            methods[j] = meth
    for v, meth in zip(vars_, methods, strict=True):
        if v.miss.all():
            raise InputError(f"{source}: column '{v.name}' has no observed value; it cannot be imputed")
        if meth == "logreg" and v.kind == "categorical" and len(v.levels) != 2:
            raise InputError(f"{source}: '{v.name}' has {len(v.levels)} levels; logreg needs two (use polyreg)")
    share = float(data.isna().any(axis=1).mean()) if len(data) else 0.0
    if m is None:
        from myorisk.modeling.imputation import default_m

        m = default_m(share)
    if m < 2:
        raise InputError(f"--impute: m must be at least 2 imputations, not {m}")
    cols = list(data.columns)
    pred = np.ones((len(cols), len(cols)), dtype=bool)
    for c, excl in (exclude_from or {}).items():
        for e in excl:
            pred[cols.index(c), cols.index(e)] = False
    todo = [j for j, meth in enumerate(methods) if meth]
    seqs = np.random.SeedSequence(seed).spawn(m)
    if workers > 1 and m > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as ex:
            chains = list(ex.map(lambda s: _chain(vars_, methods, maxit, donors, pred, s), seqs))
    else:
        chains = [_chain(vars_, methods, maxit, donors, pred, s) for s in seqs]
    imputed, cmean, csd = {}, {}, {}
    for t, j in enumerate(todo):
        v = vars_[j]
        vals = np.array([ch[0][t] for ch in chains])
        if v.kind == "categorical":
            orig = data[v.name].dropna()
            back = {}
            for lv_i, lv in enumerate(v.levels):  # map back to the column's own values
                hit = orig[orig.map(lambda x: str(int(x)) if isinstance(x, float) and float(x).is_integer() else str(x)) == lv]
                back[lv_i] = hit.iloc[0]
            vals = np.array([[back[int(c)] for c in row] for row in vals], dtype=object)
            if pd.api.types.is_numeric_dtype(data[v.name].dtype):
                vals = vals.astype(float)
        imputed[v.name] = vals
        cmean[v.name] = np.array([ch[1][:, t] for ch in chains]).T
        csd[v.name] = np.array([ch[2][:, t] for ch in chains]).T
    return MiceResult(
        data=data, m=int(m), maxit=int(maxit), seed=seed,
        methods={c: meth for c, meth in zip(cols, methods, strict=True)}, imputed=imputed,
        chain_mean=cmean, chain_sd=csd, missing=missing_summary(data), share_incomplete=share,
        outcome=outcome, auxiliary=tuple(auxiliary), donors=donors,
    )
