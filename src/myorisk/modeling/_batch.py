"""Batched logistic fits and smoothing for the bootstrap: many resamples at once.

Hand-written (see ``docs/hand-written.md``). A bootstrap resample is a row of a weight matrix
``W`` (how often each patient was drawn). Two stopping rules are offered:

* :func:`fit_rms65` reproduces rms 6.5's Fortran fitter ``lrmfit`` (``src/lrmfit.f``) step for
  step: start at intercept = logit(ȳ) and slopes 0, probabilities from the linear predictor
  clamped to [−30, 30], stop when the change in −2LL is ≤ ``eps`` (.025) *after* taking the
  Newton step, halve the step when −2LL gets worse (a halving counts as an iteration), give up
  after ``maxit − 1`` iterations, fail on a singular information matrix. On a separated resample
  it therefore stops at a large but finite coefficient, as rms does. It runs one resample at a
  time in a compiled kernel (:mod:`myorisk.modeling._kernels`), as does the recalibration refit
  :func:`refit_rms65`.
* :func:`fit_full` iterates to full convergence (score and step criteria) and reports
  non-convergence, so that separated resamples can be detected and skipped. It is one batched
  Newton iteration over ``W`` in numpy: the linear predictors are one matrix product, the scores
  another, and the information matrices a single GEMM of ``W·p(1−p)`` against the precomputed
  products ``x_i x_j`` of the design columns.

Columns can be switched off per resample (``mask``): an inactive column keeps a zero coefficient
and drops out of the Newton system, which makes a resample's fit identical to fitting only its
active columns. Selection inside the bootstrap uses this.

:func:`lowess_rows` is R's ``lowess(x, y, iter=0)`` for many rows at once (every row sorted),
checked against :func:`myorisk.modeling.smoothing.lowess` (the reference clone of R) in the tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from myorisk.modeling._compiled import kernels as _kernels
from myorisk.modeling._special import expit, log_expit

__all__ = [
    "Gram",
    "BatchFit",
    "fit_rms65",
    "fit_full",
    "refit_rms65",
    "refit_full",
    "wald_inverse",
    "lowess_rows",
    "weighted_dxy",
    "weighted_gini",
    "unique_lp",
    "argsort_rows",
]

# status codes of a batched fit
RUNNING, CONVERGED, NOT_CONVERGED, SINGULAR, DEGENERATE = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class Gram:
    """Design matrix with its column products, shared by every batched fit on it.

    Attributes
    ----------
    X : ndarray of shape (n, p)
        Design matrix, intercept first.
    XX : ndarray of shape (n, p(p+1)/2)
        Products ``x_i·x_j`` for the upper triangle ``i <= j``.
    iu : tuple of ndarray
        Row and column indices of that upper triangle.
    """

    X: np.ndarray
    XX: np.ndarray
    iu: tuple[np.ndarray, np.ndarray]

    @classmethod
    def of(cls, X: np.ndarray) -> Gram:
        """Precompute the column products of ``X``."""
        X = np.ascontiguousarray(X, dtype=float)
        iu = np.triu_indices(X.shape[1])
        return cls(X=X, XX=np.ascontiguousarray(X[:, iu[0]] * X[:, iu[1]]), iu=iu)

    def info(self, wv: np.ndarray) -> np.ndarray:
        """Information matrices ``X' diag(wv_b) X`` for every row ``b`` of ``wv``."""
        flat = wv @ self.XX
        p = self.X.shape[1]
        out = np.empty((wv.shape[0], p, p))
        out[:, self.iu[0], self.iu[1]] = flat
        out[:, self.iu[1], self.iu[0]] = flat
        return out


@dataclass(frozen=True)
class BatchFit:
    """Result of a batched fit (one row per resample).

    Attributes
    ----------
    beta : ndarray of shape (B, p)
        Coefficients (zero for masked columns).
    deviance : ndarray of shape (B,)
        −2 log-likelihood at ``beta`` (for a fit that stopped at ``maxit``, the last value the
        fitter computed, as rms returns it).
    status : ndarray of int8, shape (B,)
        1 converged, 2 not converged within ``maxit``, 3 singular information matrix,
        4 degenerate resample (outcome constant).
    n_iter : ndarray of shape (B,)
        Iterations used (step-halvings included).
    """

    beta: np.ndarray
    deviance: np.ndarray
    status: np.ndarray
    n_iter: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        """Rows that converged."""
        return self.status == CONVERGED


def _solve(V: np.ndarray, U: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Newton steps ``V⁻¹U`` for a batch, flagging (near-)singular information matrices.

    The rank test scales ``V`` to unit diagonal and calls it singular when a pivot of its
    Cholesky factor (the residual variance of a column given the previous ones) is below
    ``tol`` — the role of the QR rank test of rms's ``ainvb``.
    """
    d = np.einsum("bii->bi", V)
    sing = ~np.all(d > 0, axis=1)
    s = 1.0 / np.sqrt(np.where(d > 0, d, 1.0))
    C = V * s[:, :, None] * s[:, None, :]
    k = V.shape[1]
    C[sing] = np.eye(k)
    try:
        L = np.linalg.cholesky(C)
        piv = np.einsum("bii->bi", L) ** 2
        sing |= np.any(piv < tol, axis=1) | ~np.all(np.isfinite(piv), axis=1)
    except np.linalg.LinAlgError:
        for b in range(C.shape[0]):
            if sing[b]:
                continue
            try:
                piv = np.diag(np.linalg.cholesky(C[b])) ** 2
                sing[b] = bool(np.any(piv < tol))
            except np.linalg.LinAlgError:
                sing[b] = True
    C[sing] = np.eye(k)
    step = np.linalg.solve(C, (U * s)[:, :, None])[:, :, 0] * s
    step[sing] = 0.0
    return step, sing


def _apply_mask(U: np.ndarray, V: np.ndarray, mask: np.ndarray | None) -> None:
    """Remove inactive columns from the Newton system (zero score, identity block)."""
    if mask is None:
        return
    off = ~mask
    if not off.any():
        return
    U[off] = 0.0
    V[off[:, :, None] | off[:, None, :]] = 0.0
    idx = np.nonzero(off)
    V[idx[0], idx[1], idx[1]] = 1.0


Evaluate = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


def _start(W: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    sw = W.sum(axis=1)
    ybar = (W @ y) / sw
    beta = np.zeros((W.shape[0], k))
    bad = ~((ybar > 0) & (ybar < 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        beta[:, 0] = np.where(bad, 0.0, np.log(ybar / (1.0 - ybar)))
    status = np.where(bad, DEGENERATE, RUNNING).astype(np.int8)
    return beta, status


def fit_rms65(
    gram: Gram,
    y: np.ndarray,
    W: np.ndarray,
    *,
    mask: np.ndarray | None = None,
    maxit: int = 12,
    eps: float = 0.025,
    tol: float = 1e-12,
) -> BatchFit:
    """Fit one logistic model per row of ``W`` with rms 6.5's ``lrm.fit`` algorithm.

    Parameters
    ----------
    gram : Gram
        Design matrix (intercept first) with its column products.
    y : ndarray of shape (n,)
        Outcome 0/1.
    W : ndarray of shape (B, n)
        Case weights per resample (bootstrap counts).
    mask : ndarray of bool, shape (B, p), optional
        Active columns per resample (the intercept must be active).
    maxit, eps, tol : int, float, float
        rms's ``maxit`` (12), ``eps`` (.025, on the change in −2LL) and singularity ``tol``
        (predab.resample passes 1e-12 to bootstrap refits; ``lrm`` uses 1e-7).

    Returns
    -------
    BatchFit
    """
    W = np.ascontiguousarray(W, dtype=float)
    k = gram.X.shape[1]
    beta, status = _start(W, y, k)
    m = np.zeros((0, k), dtype=bool) if mask is None else np.ascontiguousarray(mask, dtype=bool)
    dev, n_iter = _kernels.fit65_rows(
        np.ascontiguousarray(gram.X.T), np.ascontiguousarray(y, dtype=float), W, m, beta,
        status, int(maxit), float(eps), float(tol),
    )
    return BatchFit(beta=beta, deviance=dev, status=status, n_iter=n_iter)


def _eval_full(
    gram: Gram, y: np.ndarray, W: np.ndarray, mask: np.ndarray | None
) -> Evaluate:
    X = gram.X

    def evaluate(rows: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        Wr = W[rows]
        lp = b @ X.T
        ll = -2.0 * np.sum(Wr * (y * log_expit(lp) + (1.0 - y) * log_expit(-lp)), axis=1)
        p = expit(lp)
        U = (Wr * (y - p)) @ X
        V = gram.info(Wr * (p * (1.0 - p)))
        _apply_mask(U, V, None if mask is None else mask[rows])
        return ll, U, V

    return evaluate


def _loop_full(
    evaluate: Evaluate,
    beta: np.ndarray,
    status: np.ndarray,
    scale: np.ndarray,
    *,
    maxit: int,
    tol: float,
) -> BatchFit:
    """Newton–Raphson with step-halving run to full convergence, batched."""
    B, k = beta.shape
    n_iter = np.zeros(B, dtype=np.int64)
    act = np.flatnonzero(status == RUNNING)
    dev = np.full(B, np.nan)
    if act.size:
        ll, U, V = evaluate(act, beta[act])
        dev[act] = ll
    cur_U = np.zeros((B, k))
    cur_V = np.zeros((B, k, k))
    if act.size:
        cur_U[act], cur_V[act] = U, V
    for it in range(1, maxit + 1):
        act = np.flatnonzero(status == RUNNING)
        if act.size == 0:
            break
        n_iter[act] = it
        step, sing = _solve(cur_V[act], cur_U[act], 1e-13)
        status[act[sing]] = SINGULAR
        act, step = act[~sing], step[~sing]
        t = np.ones(act.size)
        pending = np.ones(act.size, dtype=bool)
        new_ll = np.full(act.size, np.nan)
        new_U = np.zeros((act.size, k))
        new_V = np.zeros((act.size, k, k))
        for _ in range(30):
            idx = np.flatnonzero(pending)
            if idx.size == 0:
                break
            cand = beta[act[idx]] + t[idx, None] * step[idx]
            ll, U, V = evaluate(act[idx], cand)
            accept = np.isfinite(ll) & (ll <= dev[act[idx]] + 1e-12 * np.abs(dev[act[idx]]))
            a = idx[accept]
            new_ll[a], new_U[a], new_V[a] = ll[accept], U[accept], V[accept]
            beta[act[a]] = cand[accept]
            pending[a] = False
            t[idx[~accept]] *= 0.5
        moved = ~pending
        rows = act[moved]
        change = np.abs(dev[rows] - new_ll[moved])
        dev[rows] = new_ll[moved]
        cur_U[rows], cur_V[rows] = new_U[moved], new_V[moved]
        stepmax = np.max(np.abs(t[moved, None] * step[moved]), axis=1)
        bmax = np.maximum(1.0, np.max(np.abs(beta[rows]), axis=1))
        umax = np.max(np.abs(new_U[moved]), axis=1)
        conv = ((stepmax < tol * bmax) & (umax < 1e-8 * scale[rows])) | (
            (change < 1e-12 * np.maximum(1.0, dev[rows])) & (umax < 1e-6 * scale[rows])
        )
        status[rows[conv]] = CONVERGED
        status[act[pending]] = CONVERGED  # no improving step: at the maximum
    status[status == RUNNING] = NOT_CONVERGED
    return BatchFit(beta=beta, deviance=dev, status=status, n_iter=n_iter)


def fit_full(
    gram: Gram,
    y: np.ndarray,
    W: np.ndarray,
    *,
    mask: np.ndarray | None = None,
    start: np.ndarray | None = None,
    maxit: int = 30,
    tol: float = 1e-9,
) -> BatchFit:
    """Fit one logistic model per row of ``W`` to full convergence (R ``glm`` accuracy).

    Parameters
    ----------
    gram, y, W, mask
        As :func:`fit_rms65`.
    start : ndarray of shape (B, p), optional
        Warm starts (e.g. the larger model's coefficients during backward selection).
    maxit : int, default=30
        Newton iterations; a separated resample does not converge and is reported as status 2.
    tol : float, default=1e-9
        Relative step size for convergence.

    Returns
    -------
    BatchFit
    """
    W = np.asarray(W, dtype=float)
    beta, status = _start(W, y, gram.X.shape[1])
    if start is not None:
        beta = np.where(status[:, None] == RUNNING, np.asarray(start, dtype=float), beta)
    if mask is not None:
        beta = np.where(mask, beta, 0.0)
    return _loop_full(
        _eval_full(gram, y, W, mask), beta, status, np.maximum(1.0, W.sum(axis=1)),
        maxit=maxit, tol=tol,
    )


def _eval_refit(x: np.ndarray, y: np.ndarray) -> Evaluate:
    """−2LL, score and information of the recalibration model ``a + b·x_b`` per row."""

    def evaluate(rows: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        xr = x[rows]
        lp = b[:, :1] + b[:, 1:2] * xr
        p = expit(lp)
        ll = -2.0 * np.sum(y * log_expit(lp) + (1.0 - y) * log_expit(-lp), axis=1)
        r = y - p
        v = p * (1.0 - p)
        U = np.stack([r.sum(axis=1), (r * xr).sum(axis=1)], axis=1)
        vx = v * xr
        s0, s1, s2 = v.sum(axis=1), vx.sum(axis=1), (vx * xr).sum(axis=1)
        V = np.stack([np.stack([s0, s1], axis=1), np.stack([s1, s2], axis=1)], axis=1)
        return ll, U, V

    return evaluate


def refit_rms65(
    x: np.ndarray, y: np.ndarray, *, maxit: int = 12, eps: float = 0.025, tol: float = 1e-13
) -> BatchFit:
    """Logistic recalibration ``lrm.fit(x_b, y)`` for every row ``x_b`` of ``x`` (rms 6.5 rule).

    This is the refit inside ``validate.lrm``'s test measure: intercept and slope of the
    frozen linear predictor on the original outcome.
    """
    x = np.ascontiguousarray(x, dtype=float)
    ybar = float(np.mean(y))
    beta = np.zeros((x.shape[0], 2))
    beta[:, 0] = np.log(ybar / (1.0 - ybar))
    status = np.zeros(x.shape[0], dtype=np.int8)
    dev, n_iter = _kernels.refit65_rows(
        x, np.ascontiguousarray(y, dtype=float), beta, status, int(maxit), float(eps), float(tol)
    )
    return BatchFit(beta=beta, deviance=dev, status=status, n_iter=n_iter)


def refit_full(x: np.ndarray, y: np.ndarray, *, maxit: int = 30) -> BatchFit:
    """As :func:`refit_rms65`, iterated to full convergence."""
    x = np.asarray(x, dtype=float)
    ybar = float(np.mean(y))
    beta = np.zeros((x.shape[0], 2))
    beta[:, 0] = np.log(ybar / (1.0 - ybar))
    status = np.zeros(x.shape[0], dtype=np.int8)
    scale = np.full(x.shape[0], max(1.0, float(y.size)))
    return _loop_full(_eval_refit(x, y), beta, status, scale, maxit=maxit, tol=1e-9)


def wald_inverse(gram: Gram, y: np.ndarray, W: np.ndarray, beta: np.ndarray,
                 mask: np.ndarray | None) -> np.ndarray:
    """Inverse information (covariance) at ``beta`` per row; masked columns get zero variance."""
    p = expit(beta @ gram.X.T)
    V = gram.info(W * (p * (1.0 - p)))
    U = np.zeros(beta.shape)
    _apply_mask(U, V, mask)
    try:
        cov = np.linalg.inv(V)
    except np.linalg.LinAlgError:
        cov = np.stack([np.linalg.pinv(v) for v in V])
    if mask is not None:
        off = ~mask
        cov[off[:, :, None] | off[:, None, :]] = 0.0
    return cov


# ----------------------------------------------------------------------------- rank statistics
def unique_lp(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique rows of ``X`` and the map back, so that equal rows get bit-equal predictions."""
    Xu, inv = np.unique(X, axis=0, return_inverse=True)
    return np.ascontiguousarray(Xu), inv.ravel()


def argsort_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stable argsort of every row of ``a`` and the sorted rows.

    numpy's (SIMD) quicksort followed by putting equal values back in their original order
    (:func:`myorisk.modeling._kernels.stable_ties`): the result of ``kind="stable"``, faster.
    """
    a = np.ascontiguousarray(a, dtype=float)
    o = np.argsort(a, axis=1, kind="quicksort")
    vs = np.take_along_axis(a, o, axis=1)
    _kernels.stable_ties(vs, o)
    return o, vs


def weighted_dxy(vs: np.ndarray, ys: np.ndarray, ws: np.ndarray) -> np.ndarray:
    """Somers' Dxy (Hmisc ``somers2``, midranks) per row, with frequency weights.

    ``vs`` is sorted ascending per row; ``ys`` and ``ws`` are in the same order. Equals
    ``somers2`` on the expanded sample (compiled: :func:`myorisk.modeling._kernels.dxy_rows`).
    """
    return _kernels.dxy_rows(*(np.ascontiguousarray(a, dtype=float) for a in (vs, ys, ws)))


def weighted_gini(vs: np.ndarray, ws: np.ndarray) -> np.ndarray:
    """Gini's mean difference (Hmisc ``GiniMd``) per row of sorted ``vs`` with frequency weights."""
    return _kernels.gini_rows(*(np.ascontiguousarray(a, dtype=float) for a in (vs, ws)))


# ----------------------------------------------------------------------------- batched lowess
def lowess_rows(xs: np.ndarray, ys: np.ndarray, f: float = 2.0 / 3.0) -> np.ndarray:
    """R's ``lowess(x, y, f, iter=0)`` (default ``delta``) for every row of sorted ``xs``.

    Parameters
    ----------
    xs : ndarray of shape (c, n)
        Each row sorted ascending.
    ys : ndarray of shape (c, n)
        Responses in the same order.
    f : float, default=2/3
        Span.

    Returns
    -------
    ndarray of shape (c, n)
        Smoothed values at ``xs``.

    Notes
    -----
    A compiled port of R's C ``clowess`` (:func:`myorisk.modeling._kernels.lowess_rows`), one
    row at a time: same neighbourhoods, tricube weights (1 within 0.001·h, 0 beyond 0.999·h),
    ``delta`` skipping, tie copying and left-to-right sums.
    """
    xs = np.ascontiguousarray(xs, dtype=float)
    ys = np.ascontiguousarray(ys, dtype=float)
    return _kernels.lowess_rows(xs, ys, float(f))
