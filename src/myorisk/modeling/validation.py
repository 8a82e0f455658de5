"""Internal validation by the optimism bootstrap, as R rms 6.5 ``validate.lrm`` does it — batched.

Harrell's bootstrap (rms ``predab.resample``, method "boot"): the model is refitted on each of B
resamples drawn with replacement; every index is computed on the resample itself (training) and
on the original sample with the refitted coefficients frozen (test); optimism = mean(training) −
mean(test) and corrected = apparent − optimism. The 11 indexes and their 6.5 definitions are those
of ``validate.lrm`` (``docs/validation.md``). When the model came from a selection procedure the
selection is repeated inside every resample (:class:`SelectionSpec`).

All resamples of a chunk are fitted at once (:mod:`myorisk.modeling._batch`); the same engine
produces the calibration curves of :func:`myorisk.modeling.calibration.calibrate` and the
resampled AUCs of :func:`resampled_auc`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from myorisk._json import clean as _clean
from myorisk.errors import InputError, ModelError, Problem
from myorisk.modeling import _batch
from myorisk.modeling._compiled import kernels as _kernels
from myorisk.modeling._special import chdtrc, expit
from myorisk.modeling.design import Design

if TYPE_CHECKING:  # pandas loads in the methods that build frames
    import pandas as pd

__all__ = [
    "SelectionSpec",
    "Validation",
    "ResampledAUC",
    "validate",
    "resampled_auc",
    "draw_resamples",
    "resample_block",
    "concrete_seed",
    "normalize_resamples",
    "ResampleSelections",
    "resample_selections",
    "INDEXES",
]

INDEXES = ("Dxy", "R2", "Intercept", "Slope", "Emax", "D", "U", "Q", "B", "g", "gp")
_LOOP = ("Dxy", "R2", "Intercept", "Slope", "D", "U", "Q", "B", "g", "gp")

Progress = Callable[[int, int], None]


# ----------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class SelectionSpec:
    """A variable-selection procedure to repeat inside every bootstrap resample.

    Attributes
    ----------
    method : {"pscreen", "backward_aic"}
        ``"pscreen"``: keep terms whose univariable Wald p < ``screen_alpha``, fit them together,
        keep those with multivariable Wald p < ``alpha`` and refit (study A's rule).
        ``"backward_aic"``: R ``step(direction="backward")``: drop, one at a time, the term whose
        removal lowers AIC = deviance + k·(parameters) the most, while any removal lowers it.
    alpha : float, default=0.05
        Multivariable p-value threshold (``pscreen``).
    screen_alpha : float, optional
        Univariable threshold (``pscreen``); defaults to ``alpha``.
    k : float, default=2
        AIC penalty per parameter (``backward_aic``; ``log(n)`` gives BIC).
    force : tuple of str
        Terms always kept.
    lasso_alpha, folds, rule, seed
        ``"lasso"``: glmnet's LASSO (``lasso_alpha`` 1) or elastic net with λ chosen by ``folds``-fold
        cross-validation (``rule`` ``"min"`` or ``"1se"``); a term is kept when any of its columns has
        a non-zero coefficient, and the kept terms are refitted by maximum likelihood, as for the
        other procedures. The folds of each resample are drawn from ``seed`` and the resample's own
        counts, so they do not depend on how resamples are chunked.
    """

    method: str = "backward_aic"
    alpha: float = 0.05
    screen_alpha: float | None = None
    k: float = 2.0
    force: tuple[str, ...] = ()
    lasso_alpha: float = 1.0
    folds: int = 10
    rule: str = "min"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in ("pscreen", "backward_aic", "lasso"):
            raise InputError(f"selection method must be 'pscreen', 'backward_aic' or 'lasso', not {self.method!r}")
        if self.rule not in ("min", "1se"):
            raise InputError(f"the LASSO's λ rule must be 'min' or '1se', not {self.rule!r}")
        if not 0.0 < self.alpha < 1.0:
            raise InputError(f"selection alpha must be between 0 and 1, not {self.alpha}")


def concrete_seed(seed: int | None) -> int:
    """``seed``, or fresh entropy when None (so that every chunk draws from the same seed)."""
    if seed is None:
        return int(np.random.SeedSequence().entropy)
    if int(seed) != seed or seed < 0:
        raise InputError(f"seed must be a whole number >= 0, not {seed!r}")
    return int(seed)


def resample_block(n: int, seed: int, start: int, count: int) -> np.ndarray:
    """Resamples ``start … start+count−1`` (0-based row indexes), each from its own stream.

    Resample b is ``default_rng([seed, b]).integers(0, n, n)``: it depends on the seed and b
    alone, so any chunk — on any thread, process or machine — draws it identically.
    """
    out = np.empty((count, n), dtype=np.int64)
    for r in range(count):
        out[r] = np.random.default_rng([seed, start + r]).integers(0, n, n)
    return out


def draw_resamples(n: int, B: int, seed: int | None, chunk: int | None = None):
    """Yield bootstrap index matrices (0-based), ``chunk`` resamples at a time.

    Resample b comes from ``numpy.random.default_rng([seed, b])`` (:func:`resample_block`), so
    the resamples do not depend on the chunk size, the executor or the number of workers.
    """
    seed = concrete_seed(seed)
    chunk = chunk or B
    for s in range(0, B, chunk):
        yield resample_block(n, seed, s, min(chunk, B - s))


def _resamples_error(text: str, option: tuple[str, tuple[str, ...]] | None = None) -> InputError:
    return InputError(problems=[Problem("resamples", rule=text)], option=option)


def normalize_resamples(resamples: np.ndarray, n: int, base: str | int = "auto") -> np.ndarray:
    """Check a bootstrap index matrix (one row per resample) and return it 0-based.

    Parameters
    ----------
    resamples : array_like of int, shape (B, n)
        Row b lists the patients (by position) drawn in resample b, e.g. the ``sample(n,
        replace=TRUE)`` draws of an R run (1-based).
    n : int
        Number of patients.
    base : {"auto", 0, 1}
        Whether indexes start at 0 or 1. ``"auto"``: 1-based when the value ``n`` occurs, 0-based
        when 0 occurs; an error when neither or both occur.

    Raises
    ------
    InputError
        Wrong shape, non-integers, or indexes out of range.
    """
    r = np.asarray(resamples)
    if r.ndim != 2 or r.shape[1] != n:
        raise _resamples_error(
            f"expected one row of {n} indexes per resample, got shape {r.shape}"
        )
    if not np.issubdtype(r.dtype, np.integer):
        if not np.all(np.isfinite(r)) or np.any(r != np.round(r)):
            raise _resamples_error("indexes must be whole numbers")
        r = r.astype(np.int64)
    if base == "auto":
        has0, hasn = bool(np.any(r == 0)), bool(np.any(r == n))
        if has0 == hasn:
            raise _resamples_error(
                "cannot tell whether indexes are 0- or 1-based (state the base)",
                option=("base", ("1", "0"))
            )
        base = 0 if has0 else 1
    r = r.astype(np.int64) - int(base)
    if r.min() < 0 or r.max() >= n:
        raise _resamples_error(f"indexes must lie between {base} and {n - 1 + int(base)}")
    return r


# ----------------------------------------------------------------------------- the problem
@dataclass
class _Problem:
    X: np.ndarray
    y: np.ndarray
    names: tuple[str, ...]
    groups: list[np.ndarray]  # design columns of each term
    group_names: tuple[str, ...]
    gram: _batch.Gram = field(init=False)
    Xu: np.ndarray = field(init=False)
    inv: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.gram = _batch.Gram.of(self.X)
        self.Xu, self.inv = _batch.unique_lp(self.X)

    @property
    def n(self) -> int:
        return int(self.y.size)

    def lp(self, beta: np.ndarray) -> np.ndarray:
        """Linear predictors on the original sample; equal rows give bit-equal values."""
        return (beta @ self.Xu.T)[:, self.inv]


def _problem(design: Design | tuple[np.ndarray, np.ndarray]) -> _Problem:
    if isinstance(design, Design):
        X, y = np.asarray(design.X, float), np.asarray(design.y, float)
        groups = [np.arange(s.start, s.stop) for s in design.term_slices()]
        gnames = tuple(t.name for t in design.terms)
        names = tuple(design.columns)
    else:
        X, y = (np.asarray(a, dtype=float) for a in design)
        if X.ndim != 2 or X.shape[0] != y.size:
            raise InputError("validate: X must be an (n, p) matrix with one row per outcome")
        if X.shape[1] == 0 or not np.all(X[:, 0] == 1.0):
            X = np.column_stack([np.ones(y.size), X])
        groups = [np.array([j]) for j in range(1, X.shape[1])]
        names = ("Intercept",) + tuple(f"x{j}" for j in range(1, X.shape[1]))
        gnames = names[1:]
    if not np.all(np.isin(y, (0.0, 1.0))):
        raise InputError("validate: the outcome must be coded 0/1")
    if y.min() == y.max():
        raise InputError("validate: the outcome takes a single value")
    if y.size < 11:
        raise InputError(f"validate: needs more than 10 patients, got {y.size}")
    return _Problem(X=X, y=y, names=names, groups=groups, group_names=gnames)


# ----------------------------------------------------------------------------- selection
def _group_wald_p(beta: np.ndarray, cov: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Wald p-value of a term (joint test of its columns) per row."""
    b = beta[:, cols]
    if cols.size == 1:
        var = cov[:, cols[0], cols[0]]
        with np.errstate(invalid="ignore", divide="ignore"):
            chi = b[:, 0] ** 2 / var
        return chdtrc(1, chi)  # = scipy.stats.chi2.sf
    sub = cov[:, cols[:, None], cols[None, :]]
    try:
        chi = np.einsum("bi,bi->b", b, np.linalg.solve(sub, b[:, :, None])[:, :, 0])
    except np.linalg.LinAlgError:
        chi = np.array([bb @ np.linalg.pinv(s) @ bb for bb, s in zip(b, sub, strict=True)])
    return chdtrc(cols.size, chi)


def _lasso_keep(prob: _Problem, W: np.ndarray, spec: SelectionSpec) -> np.ndarray:
    """Terms with a non-zero cross-validated LASSO coefficient in each resample: bool (B, terms)."""
    import zlib

    from myorisk.modeling.lasso import lasso_cv

    G = len(prob.groups)
    keep = np.zeros((W.shape[0], G), dtype=bool)
    for b in range(W.shape[0]):
        counts = np.rint(W[b]).astype(np.int64)
        rows = np.repeat(np.arange(prob.n), counts)
        Xb, yb = prob.X[rows, 1:], prob.y[rows]
        if not 0 < yb.sum() < yb.size:
            continue
        varying = np.ptp(Xb, axis=0) > 0  # a column constant in the resample cannot enter
        if not varying.any():
            continue
        seed = np.random.SeedSequence([spec.seed, zlib.crc32(counts.astype(np.int32).tobytes())])
        cv = lasso_cv(Xb[:, varying], yb, [n for n, v in zip(prob.names[1:], varying, strict=True) if v],
                      alpha=spec.lasso_alpha, folds=min(spec.folds, yb.size), seed=seed)
        coefs = np.zeros(Xb.shape[1])
        coefs[varying] = list(cv.coefficients("lambda.min" if spec.rule == "min" else "lambda.1se").values())[1:]
        for j, cols in enumerate(prob.groups):
            keep[b, j] = bool(np.any(coefs[cols - 1] != 0))
    return keep


def _select(prob: _Problem, W: np.ndarray, spec: SelectionSpec) -> np.ndarray:
    """Columns kept by the selection procedure in every resample (rows of W): bool (B, p)."""
    B, p = W.shape[0], prob.X.shape[1]
    G = len(prob.groups)
    forced = np.array([g in spec.force for g in prob.group_names])

    def mask_of(term_mask: np.ndarray) -> np.ndarray:
        m = np.zeros((term_mask.shape[0], p), dtype=bool)
        m[:, 0] = True
        for j, cols in enumerate(prob.groups):
            m[:, cols] = term_mask[:, j : j + 1]
        return m

    if spec.method == "lasso":
        return mask_of(_lasso_keep(prob, W, spec) | forced)

    if spec.method == "pscreen":
        a1 = spec.alpha if spec.screen_alpha is None else spec.screen_alpha
        # univariable screen: one fit per (resample, term), batched
        Wr = np.repeat(W, G, axis=0)
        tm = np.zeros((B * G, G), dtype=bool)
        tm[np.arange(B * G), np.tile(np.arange(G), B)] = True
        m = mask_of(tm)
        fit = _batch.fit_full(prob.gram, prob.y, Wr, mask=m)
        cov = _batch.wald_inverse(prob.gram, prob.y, Wr, fit.beta, m)
        pu = np.ones((B, G))
        for j, cols in enumerate(prob.groups):
            rows = np.arange(B) * G + j
            pj = _group_wald_p(fit.beta[rows], cov[rows], cols)
            # As R's glm + Wald test, which the screen imitates: a fit that stops unconverged
            # (separation) is judged by its last iterate, whose huge SE gives p near 1; a term
            # that cannot be estimated in the resample (singular: e.g. never positive there)
            # has no p-value and does not enter.
            usable = fit.status[rows] != _batch.SINGULAR
            pu[:, j] = np.where(usable, np.nan_to_num(pj, nan=1.0), 1.0)
        screened = (pu < a1) | forced
        keep = screened.copy()
        todo = np.ones(B, dtype=bool)
        for _ in range(G + 1):
            rows = np.flatnonzero(todo)
            if rows.size == 0:
                break
            m = mask_of(keep[rows])
            fit = _batch.fit_full(prob.gram, prob.y, W[rows], mask=m)
            cov = _batch.wald_inverse(prob.gram, prob.y, W[rows], fit.beta, m)
            sing = fit.status == _batch.SINGULAR
            for j, cols in enumerate(prob.groups):
                pj = np.nan_to_num(_group_wald_p(fit.beta, cov, cols), nan=1.0)
                ok_rows = rows[~sing]
                keep[ok_rows, j] &= (pj[~sing] < spec.alpha) | forced[j]
            # singular multivariable design (aliased columns in the resample, as R's NA
            # coefficients): drop the screened term with the largest univariable p and refit
            todo[:] = False
            for r in rows[sing]:
                cand = np.flatnonzero(keep[r] & ~forced)
                if cand.size == 0:
                    continue
                keep[r, cand[np.argmax(pu[r, cand])]] = False
                todo[r] = True
        keep |= forced
        return mask_of(keep)

    # backward AIC, R step(): drop the term whose removal gives the lowest AIC while it is
    # lower than the current AIC (by more than 1e-7)
    cur = np.ones((B, G), dtype=bool)
    fit = _batch.fit_full(prob.gram, prob.y, W, mask=mask_of(cur))
    npar = np.array([c.size for c in prob.groups])
    aic = fit.deviance + spec.k * (1 + (cur * npar).sum(axis=1))
    beta = fit.beta
    active = np.ones(B, dtype=bool)
    while active.any():
        rows = np.flatnonzero(active)
        cand_r, cand_t = [], []
        for r in rows:
            for j in np.flatnonzero(cur[r] & ~forced):
                cand_r.append(r)
                cand_t.append(j)
        if not cand_r:
            break
        cr, ct = np.array(cand_r), np.array(cand_t)
        tm = cur[cr].copy()
        tm[np.arange(cr.size), ct] = False
        m = mask_of(tm)
        f2 = _batch.fit_full(prob.gram, prob.y, W[cr], mask=m, start=np.where(m, beta[cr], 0.0))
        a2 = f2.deviance + spec.k * (1 + (tm * npar).sum(axis=1))
        a2 = np.where(np.isfinite(a2), a2, np.inf)
        best = np.full(B, np.inf)
        np.minimum.at(best, cr, a2)
        improved = active & (best < aic - 1e-7)
        if not improved.any():
            break
        for r in np.flatnonzero(improved):
            sel = np.flatnonzero((cr == r) & (a2 == best[r]))[0]
            cur[r, ct[sel]] = False
            beta[r] = f2.beta[sel]
            aic[r] = best[r]
        active = improved
    return mask_of(cur)


# ----------------------------------------------------------------------------- measures
def _sorted_stats(lp: np.ndarray, y: np.ndarray) -> dict:
    """Sort each row of ``lp`` once (stable); Dxy and Gini then take several weightings."""
    o, vs = _batch.argsort_rows(lp)
    return {"o": o, "vs": vs, "ys": y[o]}


def _emax65(a: float, b: float) -> float:
    """rms 6.5 Emax: max |p − plogis(a + b·logit p)| over p = 0, .0005, …, 1."""
    if not (np.isfinite(a) and np.isfinite(b)):
        return float("nan")
    p = np.arange(2001) * 0.0005
    with np.errstate(divide="ignore"):
        L = np.log(p / (1.0 - p))
    P = expit(a + b * L)
    return float(np.nanmax(np.abs(p - P)))


@dataclass
class _Acc:
    """Running sums of the bootstrap."""

    train: list = field(default_factory=list)
    test: list = field(default_factory=list)
    auc_train: list = field(default_factory=list)
    auc_oob: list = field(default_factory=list)
    cal_train: list = field(default_factory=list)
    cal_test: list = field(default_factory=list)
    kept: list = field(default_factory=list)
    n_fail: int = 0
    n_separated: int = 0
    fail_reasons: dict = field(default_factory=dict)


def _chunk_size(n: int, p: int, chunk_size: int | None) -> int:
    if chunk_size:
        return int(chunk_size)
    per = 8.0 * n * (p * (p + 1) / 2 + 24)  # bytes per resample in the widest arrays
    return int(max(1, min(1000, 600e6 // per)))


def _apparent(prob: _Problem, selection: SelectionSpec | None) -> tuple[dict, float]:
    """The original model (after selection, if any) and its apparent indexes."""
    n, p = prob.X.shape
    y = prob.y
    if selection is not None:
        mask0 = _select(prob, np.ones((1, n)), selection)
    else:
        mask0 = np.ones((1, p), dtype=bool)
    fit0 = _batch.fit_rms65(prob.gram, y, np.ones((1, n)), mask=mask0, tol=1e-7)
    if not fit0.ok[0]:
        raise ModelError(
            "validate: the model cannot be fitted to the original data (separation or a "
            "singular design); bootstrap validation needs a fitted model"
        )
    lp0 = prob.lp(fit0.beta)[0]
    events = float(y.sum())
    ll0 = -2.0 * (events * np.log(events / n) + (n - events) * np.log(1.0 - events / n))
    lr0 = ll0 - fit0.deviance[0]
    app = {
        "beta": fit0.beta[0],
        "mask": mask0[0],
        "lp": lp0,
        "Dxy": float(_batch.weighted_dxy(*_row_sorted(lp0, y))[0]),
        "R2": float((1 - np.exp(-lr0 / n)) / (1 - np.exp(-ll0 / n))),
        "Intercept": 0.0,
        "Slope": 1.0,
        "D": float((lr0 - 1) / n),
        "U": -2.0 / n,
        "B": float(np.mean((y - expit(lp0)) ** 2)),
        "g": float(_batch.weighted_gini(np.sort(lp0)[None], np.ones((1, n)))[0]),
        "gp": float(_batch.weighted_gini(np.sort(expit(lp0))[None], np.ones((1, n)))[0]),
    }
    app["Q"] = app["D"] - app["U"]
    return app, float(ll0)


def _run(
    prob: _Problem,
    *,
    B: int,
    seed: int | None,
    resamples: np.ndarray | None,
    selection: SelectionSpec | None,
    policy: str,
    chunk_size: int | None,
    progress: Progress | None,
    want: set[str],
    predy: np.ndarray | None = None,
    executor: Any = None,
) -> tuple[_Acc, dict]:
    """Run the bootstrap; return accumulated per-resample measures and the apparent ones."""
    n, p = prob.X.shape
    app, ll0 = _apparent(prob, selection)
    if policy != "rms65":  # the policy that skips separated resamples refuses a separated model
        W1, m1 = np.ones((1, n)), app["mask"][None]
        f1 = _batch.fit_full(prob.gram, prob.y, W1, mask=m1)
        if not f1.ok[0] or _separated(prob, W1, f1, f1.ok.copy(), m1)[0]:
            raise ModelError(
                "validate: the maximum-likelihood estimate does not exist in the original data "
                "(complete or quasi-complete separation); merge sparse categories or drop the "
                "separating predictor (failure policy 'converge')"
            )
    acc = _Acc()
    if resamples is not None:
        r = normalize_resamples(resamples, n, base=0)
        B = r.shape[0]
    else:
        if B < 1:
            raise InputError(f"bootstrap: B must be at least 1, not {B}")
        seed = concrete_seed(seed)
    # the chunks depend on (n, p, B) only — never on the executor — so results are identical
    # on threads, one Dask worker or many
    chunk = int(chunk_size) if chunk_size else min(_chunk_size(n, p, None), max(25, -(-B // 8)))
    starts = list(range(0, B, chunk))
    tasks = [(seed if resamples is None else None, s, min(chunk, B - s),
              r[s : s + chunk] if resamples is not None else None) for s in starts]
    from myorisk.modeling.executor import ThreadExecutor

    ex = executor if executor is not None else ThreadExecutor(_workers(B, n, chunk_size))
    done = [0]

    def tick(i: int) -> None:
        done[0] += tasks[i][2]
        if progress is not None:
            progress(done[0], B)

    parts = ex.run(_chunk_task, tasks, shared=(prob, app, ll0, selection, policy, want, predy),
                   progress=tick)
    for part in parts:
        for name in ("train", "test", "auc_train", "auc_oob", "cal_train", "cal_test", "kept"):
            getattr(acc, name).extend(getattr(part, name))
        acc.n_fail += part.n_fail
        acc.n_separated += part.n_separated
        for k, v in part.fail_reasons.items():
            acc.fail_reasons[k] = acc.fail_reasons.get(k, 0) + v
    return acc, {"apparent": app, "B": B, "ll0": ll0}


def _workers(B: int, n: int, chunk_size: int | None) -> int:
    """Threads for the chunks (numpy releases the GIL in its kernels)."""
    import os

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus, 4, B // 100))


def _chunk_task(prob: _Problem, app: dict, ll0: float, selection: SelectionSpec | None, policy: str,
                want: set[str], predy: np.ndarray | None, seed: int | None, start: int, count: int,
                rows: np.ndarray | None) -> _Acc:
    """One chunk as a pure function (for any executor): its resamples' accumulated measures."""
    idx = rows if rows is not None else resample_block(prob.X.shape[0], seed, start, count)
    part = _Acc()
    _chunk(prob, idx, app, ll0, selection, policy, want, predy, part)
    return part


def _row_sorted(lp: np.ndarray, y: np.ndarray):
    o = np.argsort(lp, kind="stable")
    vs = lp[o][None]
    return vs, y[o][None], np.ones_like(vs)


def _chunk(
    prob: _Problem,
    idx: np.ndarray,
    app: dict,
    ll0: float,
    selection: SelectionSpec | None,
    policy: str,
    want: set[str],
    predy: np.ndarray | None,
    acc: _Acc,
) -> None:
    n, p = prob.X.shape
    y = prob.y
    c = idx.shape[0]
    W = np.bincount((idx + (np.arange(c) * n)[:, None]).ravel(), minlength=c * n)
    W = W.reshape(c, n).astype(float)
    mask = _select(prob, W, selection) if selection is not None else None
    if policy == "rms65":
        fit = _batch.fit_rms65(prob.gram, y, W, mask=mask, tol=1e-12)
        ok = fit.ok
    else:
        fit = _batch.fit_full(prob.gram, y, W, mask=mask)
        ok = fit.ok.copy()
        sep = _separated(prob, W, fit, ok, mask)
        acc.n_separated += int(sep.sum())
        ok &= ~sep
    failed = fit.status[~fit.ok]  # fits that failed as fits; separated ones are counted below
    for code in np.unique(failed):
        name = {2: "not converged", 3: "singular", 4: "constant outcome"}.get(int(code), "other")
        acc.fail_reasons[name] = acc.fail_reasons.get(name, 0) + int(np.sum(failed == code))
    if policy != "rms65":
        nsep = int(np.sum(fit.ok & ~ok))
        if nsep:
            acc.fail_reasons["separation"] = acc.fail_reasons.get("separation", 0) + nsep
    acc.n_fail += int(np.sum(~ok))
    if mask is not None:
        acc.kept.append(mask[ok])
    if not ok.any():
        return
    W, idx, beta, dev = W[ok], idx[ok], fit.beta[ok], fit.deviance[ok]
    m = W.shape[0]
    lp = prob.lp(beta)  # (m, n) on the original sample
    srt = _sorted_stats(lp, y)
    o, vs, ys = srt["o"], srt["vs"], srt["ys"]
    ws = np.take_along_axis(W, o, axis=1)
    if "validate" in want or "auc" in want:
        dxy_train = _batch.weighted_dxy(vs, ys, ws)
    if "auc" in want:
        oob = (ws == 0).astype(float)
        acc.auc_train.append((dxy_train + 1.0) / 2.0)
        acc.auc_oob.append((_batch.weighted_dxy(vs, ys, oob) + 1.0) / 2.0)
    # Brier scores, L01, Gini's mean differences and plogis(lp), one compiled pass; the test
    # recalibration line enters the test gp, so it is fitted first
    if "validate" in want:
        ref = _batch.refit_rms65(lp, y) if policy == "rms65" else _batch.refit_full(lp, y)
        a, b = np.ascontiguousarray(ref.beta[:, 0]), np.ascontiguousarray(ref.beta[:, 1])
    else:
        a = b = np.zeros(m)
    meas = _kernels.measures_rows(vs, ys, ws, a, b)
    pv = np.ascontiguousarray(meas[:, 7:])  # plogis(vs)
    if "validate" in want:
        # training: the resample's own fit statistics
        sw = W.sum(axis=1)
        swy = W @ y
        with np.errstate(divide="ignore", invalid="ignore"):
            lln = -2.0 * (swy * np.log(swy / sw) + (sw - swy) * np.log(1.0 - swy / sw))
        lr = lln - dev
        tr = {
            "Dxy": dxy_train,
            "R2": (1 - np.exp(-lr / sw)) / (1 - np.exp(-lln / sw)),
            "Intercept": np.zeros(m),
            "Slope": np.ones(m),
            "D": (lr - 1) / sw,
            "U": -2.0 / sw,
            "B": meas[:, 0],
            "g": meas[:, 3],
            "gp": meas[:, 4],
        }
        tr["Q"] = tr["D"] - tr["U"]
        # test: frozen predictions on the original sample, recalibrated by lrm.fit(x, y)
        bad = ref.status == _batch.SINGULAR
        lrr = ll0 - ref.deviance
        L01 = meas[:, 2]
        te = {
            "Dxy": _batch.weighted_dxy(vs, ys, np.ones_like(vs)),
            "R2": (1 - np.exp(-lrr / n)) / (1 - np.exp(-ll0 / n)),
            "Intercept": a,
            "Slope": b,
            "D": (lrr - 1) / n,
            "U": (L01 - ref.deviance - 2) / n,
            "B": meas[:, 1],
            "g": np.abs(b) * meas[:, 5],
            "gp": meas[:, 6],
        }
        te["Q"] = te["D"] - te["U"]
        for k in ("R2", "Intercept", "Slope", "D", "U", "Q", "g", "gp"):
            te[k] = np.where(bad, np.nan, te[k])
        acc.train.append(np.column_stack([tr[k] for k in _LOOP]))
        acc.test.append(np.column_stack([te[k] for k in _LOOP]))
    if "calibrate" in want:
        from myorisk.modeling.calibration import _cal_rows

        # training: the resample itself (each patient as often as drawn), sorted by prediction;
        # test: the original sample
        acc.cal_train.append(_cal_rows(pv, ys, predy, counts=ws.astype(np.int64)))
        acc.cal_test.append(_cal_rows(pv, ys, predy))


def _separated(prob: _Problem, W: np.ndarray, fit: _batch.BatchFit, ok: np.ndarray,
               mask: np.ndarray | None) -> np.ndarray:
    """Resamples whose MLE does not exist (checked by linear programming on suspects)."""
    from myorisk.modeling.logistic import detect_separation

    out = np.zeros(W.shape[0], dtype=bool)
    lp = fit.beta @ prob.X.T
    big = np.max(np.where(W > 0, np.abs(lp), 0.0), axis=1) > 15.0
    suspects = np.flatnonzero((fit.status == _batch.NOT_CONVERGED) | (ok & big))
    for r in suspects:
        rows = W[r] > 0
        cols = np.ones(prob.X.shape[1], dtype=bool) if mask is None else mask[r]
        kind, _ = detect_separation(prob.X[rows][:, cols], prob.y[rows])
        out[r] = kind is not None
    return out


def _summarise(
    app: dict, train: np.ndarray, test: np.ndarray
) -> tuple[dict, dict, dict, dict, dict, dict]:
    """Per-index means over usable replicates (rms: NA in training or test drops the replicate)."""
    na = np.isnan(train) | np.isnan(test)
    num = (~na).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        trm = np.where(na, 0.0, train).sum(axis=0) / num
        tem = np.where(na, 0.0, test).sum(axis=0) / num
    res_app, res_tr, res_te, res_opt, res_cor, res_n = {}, {}, {}, {}, {}, {}
    for j, k in enumerate(_LOOP):
        res_app[k] = app[k]
        res_tr[k] = float(trm[j])
        res_te[k] = float(tem[j])
        res_opt[k] = float(trm[j] - tem[j])
        res_cor[k] = float(app[k] - res_opt[k])
        res_n[k] = int(num[j])
    emax = _emax65(res_cor["Intercept"], res_cor["Slope"])
    res_app["Emax"], res_tr["Emax"], res_te["Emax"] = 0.0, 0.0, emax
    res_opt["Emax"], res_cor["Emax"], res_n["Emax"] = emax, emax, res_n["Dxy"]
    return res_app, res_tr, res_te, res_opt, res_cor, res_n


# ----------------------------------------------------------------------------- results
def _auc_summary(a: np.ndarray) -> dict:
    a = a[np.isfinite(a)]
    if a.size == 0:
        return {"n": 0}
    q = np.quantile(a, [0.025, 0.25, 0.5, 0.75, 0.975])
    return {
        "n": int(a.size), "mean": float(a.mean()), "sd": float(a.std(ddof=1)) if a.size > 1 else None,
        "q025": q[0], "q25": q[1], "median": q[2], "q75": q[3], "q975": q[4],
    }


@dataclass(frozen=True)
class ResampledAUC:
    """Discrimination in every bootstrap resample (study B, Fig. 2A).

    Attributes
    ----------
    B : int
        Resamples drawn.
    apparent : float
        AUC of the original model on the original sample.
    train : ndarray
        AUC of each resample's model on its own resample (training).
    oob : ndarray
        AUC of each resample's model on its out-of-bag patients (NaN if they hold one class).
    auc_632, auc_632plus : float
        Efron's .632 and .632+ estimates: ``0.368·apparent + 0.632·mean(oob)``, and with the
        weight ``0.632/(1 − 0.368·R)``, ``R = (apparent − oob)/(apparent − 0.5)`` clipped to [0, 1]
        (no-information AUC 0.5).
    seconds : float
        Time spent in the bootstrap.
    n_failed : int
        Resamples whose fit failed (excluded).
    """

    B: int
    apparent: float
    train: np.ndarray
    oob: np.ndarray
    auc_632: float
    auc_632plus: float
    seconds: float
    n_failed: int

    def summary(self, which: str) -> dict:
        """Summary of the ``"train"`` or ``"oob"`` AUCs: n, mean, sd, 2.5/25/50/75/97.5% quantiles
        (finite values; ``{"n": 0}`` when there are none)."""
        if which not in ("train", "oob"):
            raise InputError(f"summary: 'train' or 'oob', not {which!r}")
        return _auc_summary(np.asarray(getattr(self, which), float))

    def to_frame(self) -> pd.DataFrame:
        """One row per usable resample: ``resample, train, oob``."""
        import pandas as pd

        return pd.DataFrame(
            {"resample": np.arange(1, self.train.size + 1), "train": self.train, "oob": self.oob}
        )

    def to_dict(self) -> dict:
        """JSON-ready summaries (and the per-resample values)."""
        return _clean(
            {
                "B": self.B, "seconds": self.seconds, "n_failed": self.n_failed,
                "apparent": self.apparent, "train": _auc_summary(self.train),
                "oob": _auc_summary(self.oob), "auc_632": self.auc_632,
                "auc_632plus": self.auc_632plus,
                "values": {"train": self.train, "oob": self.oob},
            }
        )


def _auc_result(app: dict, acc: _Acc, B: int, seconds: float, y: np.ndarray) -> ResampledAUC:
    tr = np.concatenate(acc.auc_train) if acc.auc_train else np.array([])
    oob = np.concatenate(acc.auc_oob) if acc.auc_oob else np.array([])
    a_app = (app["Dxy"] + 1.0) / 2.0
    m_oob = float(np.nanmean(oob)) if np.isfinite(oob).any() else float("nan")
    a632 = 0.368 * a_app + 0.632 * m_oob
    m_oob_c = max(m_oob, 0.5) if np.isfinite(m_oob) else m_oob
    R = (a_app - m_oob_c) / (a_app - 0.5) if a_app > 0.5 and m_oob_c < a_app else 0.0
    R = float(np.clip(R, 0.0, 1.0))
    w = 0.632 / (1.0 - 0.368 * R)
    a632p = (1.0 - w) * a_app + w * m_oob_c
    return ResampledAUC(
        B=B, apparent=float(a_app), train=tr, oob=oob, auc_632=float(a632),
        auc_632plus=float(a632p), seconds=seconds, n_failed=acc.n_fail,
    )


@dataclass(frozen=True)
class Validation:
    """Bootstrap validation of a logistic model (rms ``validate.lrm``, 6.5 behaviour).

    Attributes
    ----------
    B : int
        Resamples drawn.
    seconds : float
        Time spent in the bootstrap (selection, refits and measures; not the original fit).
    apparent, training, test, optimism, corrected : dict
        Index name → value, for the 11 indexes in :data:`INDEXES`.
    n : dict
        Index name → replicates used.
    n_failed : int
        Resamples whose fit failed and were skipped (rms: "Divergence or singularity").
    failure_policy : str
        ``"rms65"`` (rms 6.5's stopping rule; a separated resample stops at a finite
        coefficient and is kept) or ``"converge"`` (full convergence; separated or
        non-converged resamples are skipped).
    failures : dict
        Reason → count.
    selection : SelectionSpec or None
        The selection repeated in every resample.
    selection_frequency : dict
        Term → share of usable resamples that kept it (with selection).
    selection_empty : float
        Share of usable resamples in which the selection kept no predictor (with selection).
    selected : tuple of str
        Terms of the apparent (original-sample) model.
    auc : ResampledAUC or None
        Resampled AUCs, when requested.
    """

    B: int
    seconds: float
    apparent: dict
    training: dict
    test: dict
    optimism: dict
    corrected: dict
    n: dict
    n_failed: int
    failure_policy: str
    failures: dict
    selection: SelectionSpec | None
    selection_frequency: dict
    selected: tuple[str, ...]
    auc: ResampledAUC | None = None
    selection_empty: float = float("nan")

    def to_columns(self) -> dict:
        """The columns of :meth:`to_frame`, as lists (no pandas needed)."""
        return {
            "index": list(INDEXES),
            "apparent": [self.apparent[k] for k in INDEXES],
            "training": [self.training[k] for k in INDEXES],
            "test": [self.test[k] for k in INDEXES],
            "optimism": [self.optimism[k] for k in INDEXES],
            "corrected": [self.corrected[k] for k in INDEXES],
            "n": [self.n[k] for k in INDEXES],
        }

    def to_frame(self) -> pd.DataFrame:
        """Rows in rms order; columns index, apparent, training, test, optimism, corrected, n."""
        import pandas as pd

        return pd.DataFrame(self.to_columns())

    def to_dict(self) -> dict:
        """The ``myorisk validate --json`` contract plus failure and selection details."""
        d = {
            "B": self.B,
            "seconds": self.seconds,
            "indexes": {
                k: {
                    "apparent": self.apparent[k], "training": self.training[k],
                    "test": self.test[k], "optimism": self.optimism[k],
                    "corrected": self.corrected[k], "n": self.n[k],
                }
                for k in INDEXES
            },
            "n_failed": self.n_failed,
            "failure_policy": self.failure_policy,
            "failures": self.failures,
            "rms_version": "6.5",
            "selected": list(self.selected),
        }
        if self.selection is not None:
            d["selection"] = {
                "method": self.selection.method, "alpha": self.selection.alpha,
                "screen_alpha": self.selection.screen_alpha, "k": self.selection.k,
                "force": list(self.selection.force),
            }
            d["selection_frequency"] = self.selection_frequency
            d["selection_empty"] = self.selection_empty
        if self.auc is not None:
            d["resampled_auc"] = {k: v for k, v in self.auc.to_dict().items() if k != "values"}
        return _clean(d)


def _check_common(B: int, policy: str, rms_version: str) -> None:
    if policy not in ("rms65", "converge"):
        raise InputError(f"failure policy must be 'rms65' or 'converge', not {policy!r}")
    if rms_version != "6.5":
        raise InputError(f"only rms_version='6.5' behaviour is implemented, not {rms_version!r}")
    if B < 1:
        raise InputError(f"--bootstrap must be at least 1, not {B}")


def _selection_frequency(prob: _Problem, acc: _Acc) -> dict:
    if not acc.kept:
        return {}
    kept = np.concatenate(acc.kept)
    if kept.shape[0] == 0:
        return {}
    return {
        name: float(np.mean(kept[:, cols[0]])) for name, cols in zip(prob.group_names, prob.groups,
                                                                       strict=True)
    }


def _selected(prob: _Problem, mask: np.ndarray) -> tuple[str, ...]:
    return tuple(g for g, cols in zip(prob.group_names, prob.groups, strict=True) if mask[cols[0]])


def validate(
    design: Design | tuple[np.ndarray, np.ndarray],
    *,
    B: int = 1000,
    seed: int | None = None,
    resamples: np.ndarray | None = None,
    selection: SelectionSpec | None = None,
    failure_policy: str = "rms65",
    rms_version: str = "6.5",
    auc: bool = False,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    executor: Any = None,
) -> Validation:
    """Bootstrap validation of a binary logistic model: rms 6.5 ``validate(fit, B=B)``.

    Parameters
    ----------
    design : Design or (X, y)
        The model's design (:func:`myorisk.modeling.design.build_design`), or a matrix ``X``
        (an intercept column is added when the first column is not constant 1) and 0/1 ``y``.
    B : int, default=1000
        Number of bootstrap resamples (ignored when ``resamples`` is given).
    seed : int, optional
        Seed of the resamples (resample b from ``numpy.random.default_rng([seed, b])``); the
        same seed gives the same result on any executor.
    resamples : ndarray of int, shape (B, n), optional
        Resamples to use instead of drawing them, **0-based** row positions (convert an R
        matrix with :func:`normalize_resamples`). Replaying the ``sample(n, replace=TRUE)`` draws
        of an R run reproduces rms to rounding error.
    selection : SelectionSpec, optional
        Variable selection to repeat inside every resample (and on the original data to get
        the apparent model). Without it the given model is validated as fixed.
    failure_policy : {"rms65", "converge"}, default="rms65"
        How resamples are fitted: rms 6.5's fitter (maxit 12, eps .025; the parity default), or
        full convergence with separated/non-converged resamples skipped and counted.
    rms_version : {"6.5"}
        Which rms definitions to follow (Emax from the corrected calibration line, Dxy by
        ``somers2``).
    auc : bool, default=False
        Also collect the resampled training and out-of-bag AUCs (:class:`ResampledAUC`).
    chunk_size : int, optional
        Resamples fitted at once (default: bounded so the work arrays stay near 600 MB, and
        at most B/8 so that up to 8 workers share the work).
    progress : callable(done, total), optional
        Called after every chunk.
    executor : myorisk.modeling.executor.Executor, optional
        Where the chunks run (default: threads in this process). The result does not depend
        on it.

    Returns
    -------
    Validation

    Raises
    ------
    InputError
        Bad arguments or a malformed ``resamples`` matrix.
    ModelError
        The model cannot be fitted to the original data.
    """
    _check_common(B, failure_policy, rms_version)
    prob = _problem(design)
    want = {"validate"} | ({"auc"} if auc else set())
    t0 = time.perf_counter()
    acc, info = _run(
        prob, B=B, seed=seed, resamples=resamples, selection=selection, policy=failure_policy,
        chunk_size=chunk_size, progress=progress, want=want, executor=executor,
    )
    seconds = time.perf_counter() - t0
    return _validation_result(prob, acc, info, seconds, selection, failure_policy, auc)


def _validation_result(prob, acc, info, seconds, selection, policy, auc) -> Validation:
    app = info["apparent"]
    k = len(_LOOP)
    train = np.concatenate(acc.train) if acc.train else np.zeros((0, k))
    test = np.concatenate(acc.test) if acc.test else np.zeros((0, k))
    a, tr, te, op, co, nn = _summarise(app, train, test)
    return Validation(
        B=info["B"], seconds=seconds, apparent=a, training=tr, test=te, optimism=op,
        corrected=co, n=nn, n_failed=acc.n_fail, failure_policy=policy,
        failures=dict(acc.fail_reasons), selection=selection,
        selection_frequency=_selection_frequency(prob, acc) if selection else {},
        selected=_selected(prob, app["mask"]),
        auc=_auc_result(app, acc, info["B"], seconds, prob.y) if auc else None,
        selection_empty=_selection_empty(acc) if selection else float("nan"),
    )


def _selection_empty(acc: _Acc) -> float:
    """Share of usable resamples in which the selection kept no predictor at all.

    With tiny data a p-value screen often screens in so many terms that the multivariable model
    is separated in the resample; its Wald p-values are then all near 1 (as in R) and nothing is
    kept: the intercept-only model is what the procedure delivers there.
    """
    if not acc.kept:
        return float("nan")
    kept = np.concatenate(acc.kept)
    return float(np.mean(~kept[:, 1:].any(axis=1))) if kept.shape[0] else float("nan")


def resampled_auc(
    design: Design | tuple[np.ndarray, np.ndarray],
    *,
    B: int = 1000,
    seed: int | None = None,
    resamples: np.ndarray | None = None,
    selection: SelectionSpec | None = None,
    failure_policy: str = "rms65",
    chunk_size: int | None = None,
    progress: Progress | None = None,
    executor: Any = None,
) -> ResampledAUC:
    """AUC of every resample's model on its resample and on its out-of-bag patients.

    Parameters are those of :func:`validate`. Returns :class:`ResampledAUC` (with the .632 and
    .632+ estimates).
    """
    _check_common(B, failure_policy, "6.5")
    prob = _problem(design)
    t0 = time.perf_counter()
    acc, info = _run(
        prob, B=B, seed=seed, resamples=resamples, selection=selection, policy=failure_policy,
        chunk_size=chunk_size, progress=progress, want={"auc"}, executor=executor,
    )
    return _auc_result(info["apparent"], acc, info["B"], time.perf_counter() - t0, prob.y)


@dataclass(frozen=True)
class ResampleSelections:
    """Which terms a selection procedure kept in each bootstrap resample.

    Attributes
    ----------
    terms : tuple of str
        Candidate terms (design order).
    kept : ndarray of bool, shape (B, len(terms))
        Row b: the terms kept in resample b.
    apparent : tuple of str
        Terms kept in the original data.
    """

    terms: tuple[str, ...]
    kept: np.ndarray = field(repr=False)
    apparent: tuple[str, ...] = ()

    @property
    def empty(self) -> float:
        """Share of resamples in which no term was kept."""
        return float(np.mean(~self.kept.any(axis=1))) if self.kept.size else float("nan")

    def to_frame(self) -> pd.DataFrame:
        """One row per resample, one boolean column per term."""
        import pandas as pd

        fr = pd.DataFrame(self.kept, columns=list(self.terms))
        fr.insert(0, "resample", np.arange(1, len(fr) + 1))
        return fr

    def to_dict(self) -> dict:
        """JSON-ready: terms, apparent selection, per-term frequency, share empty, the kept sets."""
        return _clean({
            "terms": list(self.terms), "apparent": list(self.apparent), "B": int(self.kept.shape[0]),
            "frequency": {t: float(v) for t, v in zip(self.terms, self.kept.mean(axis=0), strict=True)},
            "empty": self.empty,
            "kept": [[t for t, k in zip(self.terms, row, strict=True) if k] for row in self.kept],
        })


def resample_selections(
    design: Design | tuple[np.ndarray, np.ndarray],
    selection: SelectionSpec,
    *,
    B: int = 1000,
    seed: int | None = None,
    resamples: np.ndarray | None = None,
) -> ResampleSelections:
    """Run only the selection step of :func:`validate` in every resample and report what it kept.

    The same resamples as :func:`validate` with the same ``seed`` (or the given ``resamples``,
    0-based), the same procedure; used to compare the bootstrap's selection with an R loop
    (``glm`` + Wald tests) on identical resamples.

    Parameters
    ----------
    design : Design or (X, y)
    selection : SelectionSpec
    B, seed, resamples
        As in :func:`validate`.

    Returns
    -------
    ResampleSelections
    """
    prob = _problem(design)
    n = prob.n
    if resamples is not None:
        idx = normalize_resamples(resamples, n, base=0)
    else:
        if B < 1:
            raise InputError(f"bootstrap: B must be at least 1, not {B}")
        idx = np.concatenate(list(draw_resamples(n, B, seed)))
    c = idx.shape[0]
    W = np.bincount((idx + (np.arange(c) * n)[:, None]).ravel(), minlength=c * n)
    W = W.reshape(c, n).astype(float)
    mask = _select(prob, W, selection)
    kept = np.column_stack([mask[:, cols[0]] for cols in prob.groups]) if prob.groups else np.zeros((c, 0), bool)
    app = _select(prob, np.ones((1, n)), selection)[0]
    return ResampleSelections(terms=tuple(prob.group_names), kept=kept, apparent=_selected(prob, app))
