"""Batched logistic fits and smoothing for the bootstrap: many resamples at once, in numpy.

Hand-written (see ``docs/hand-written.md``). A bootstrap resample is a row of a weight matrix
``W`` (how often each patient was drawn), so the B refits of a validation are one batched Newton
iteration over ``W``: the linear predictors are one matrix product, the scores another, and the
information matrices a single GEMM of ``W·p(1−p)`` against the precomputed products
``x_i x_j`` of the design columns. Two stopping rules are offered:

* :func:`fit_rms65` reproduces rms 6.5's Fortran fitter ``lrmfit`` (``src/lrmfit.f``) step for
  step: start at intercept = logit(ȳ) and slopes 0, probabilities from the linear predictor
  clamped to [−30, 30], stop when the change in −2LL is ≤ ``eps`` (.025) *after* taking the
  Newton step, halve the step when −2LL gets worse (a halving counts as an iteration), give up
  after ``maxit − 1`` iterations, fail on a singular information matrix. On a separated resample
  it therefore stops at a large but finite coefficient, as rms does.
* :func:`fit_full` iterates to full convergence (score and step criteria) and reports
  non-convergence, so that separated resamples can be detected and skipped.

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
from numpy.lib.stride_tricks import sliding_window_view
from scipy.special import expit, log_expit

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


def _loop65(
    evaluate: Evaluate,
    beta: np.ndarray,
    status: np.ndarray,
    *,
    maxit: int,
    eps: float,
    tol: float,
) -> BatchFit:
    """rms 6.5 ``lrmfit`` Newton loop for a batch (see the module docstring)."""
    B, k = beta.shape
    oldl = np.full(B, 1e30)
    curstp = np.ones(B)
    deltab = np.zeros((B, k))
    last_ll = np.full(B, np.nan)
    n_iter = np.zeros(B, dtype=np.int64)
    for it in range(1, maxit):
        act = np.flatnonzero(status == RUNNING)
        if act.size == 0:
            break
        ll, U, V = evaluate(act, beta[act])
        last_ll[act] = ll
        n_iter[act] = it
        ol = oldl[act]
        dmax = np.max(np.abs(U), axis=1)
        done = (dmax < 1e-9) & (np.abs(ll - ol) < 0.1 * eps)
        worse = ~done & ((ll > ol) | ~np.isfinite(ll))
        good = ~done & ~worse
        status[act[done]] = CONVERGED
        w = act[worse]
        if it == 1:
            status[w] = NOT_CONVERGED
        elif w.size:
            curstp[w] /= 2.0
            beta[w] -= curstp[w, None] * deltab[w]
        g = act[good]
        if g.size:
            curstp[g] = 1.0
            step, sing = _solve(V[good], U[good], tol)
            status[g[sing]] = SINGULAR
            ok = ~sing
            gk = g[ok]
            deltab[gk] = step[ok]
            beta[gk] += step[ok]
            llg = ll[good][ok]
            conv = np.abs(oldl[gk] - llg) <= eps
            status[gk[conv]] = CONVERGED
            oldl[gk] = llg
    if maxit > 2:
        status[status == RUNNING] = NOT_CONVERGED
    else:  # maxit <= 2: the Fortran evaluates once more and returns
        status[status == RUNNING] = CONVERGED
    conv = np.flatnonzero(status == CONVERGED)
    dev = last_ll.copy()
    if conv.size:
        dev[conv] = evaluate(conv, beta[conv])[0]
    return BatchFit(beta=beta, deviance=dev, status=status, n_iter=n_iter)


def _start(W: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    sw = W.sum(axis=1)
    ybar = (W @ y) / sw
    beta = np.zeros((W.shape[0], k))
    bad = ~((ybar > 0) & (ybar < 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        beta[:, 0] = np.where(bad, 0.0, np.log(ybar / (1.0 - ybar)))
    status = np.where(bad, DEGENERATE, RUNNING).astype(np.int8)
    return beta, status


def _eval_rms(
    gram: Gram, y: np.ndarray, W: np.ndarray, mask: np.ndarray | None
) -> Evaluate:
    """LLOGIT of rms: −2LL, score and information with the linear predictor clamped to ±30."""
    X = gram.X
    y1 = y == 1

    def evaluate(rows: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        Wr = W[rows]
        lp = b @ X.T
        np.clip(lp, -30.0, 30.0, out=lp)
        np.negative(lp, out=lp)
        np.exp(lp, out=lp)
        lp += 1.0
        p = np.divide(1.0, lp, out=lp)
        q = np.where(y1, p, 1.0 - p)
        with np.errstate(divide="ignore"):
            np.log(q, out=q)
        ll = -2.0 * np.einsum("bn,bn->b", Wr, q)
        r = y - p
        r *= Wr
        U = r @ X
        np.subtract(1.0, p, out=q)
        q *= p
        q *= Wr
        V = gram.info(q)
        _apply_mask(U, V, None if mask is None else mask[rows])
        return ll, U, V

    return evaluate


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
    W = np.asarray(W, dtype=float)
    beta, status = _start(W, y, gram.X.shape[1])
    return _loop65(_eval_rms(gram, y, W, mask), beta, status, maxit=maxit, eps=eps, tol=tol)


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


def _eval_refit(x: np.ndarray, y: np.ndarray, clamp: bool) -> Evaluate:
    """−2LL, score and information of the recalibration model ``a + b·x_b`` per row."""
    y1 = y == 1

    def evaluate(rows: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        xr = x[rows]
        lp = b[:, :1] + b[:, 1:2] * xr
        if clamp:
            lp = np.clip(lp, -30.0, 30.0)
            p = 1.0 / (1.0 + np.exp(-lp))
            with np.errstate(divide="ignore"):
                ll = -2.0 * np.sum(np.where(y1, np.log(p), np.log(1.0 - p)), axis=1)
        else:
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
    x = np.asarray(x, dtype=float)
    ybar = float(np.mean(y))
    beta = np.zeros((x.shape[0], 2))
    beta[:, 0] = np.log(ybar / (1.0 - ybar))
    status = np.zeros(x.shape[0], dtype=np.int8)
    return _loop65(_eval_refit(x, y, True), beta, status, maxit=maxit, eps=eps, tol=tol)


def refit_full(x: np.ndarray, y: np.ndarray, *, maxit: int = 30) -> BatchFit:
    """As :func:`refit_rms65`, iterated to full convergence."""
    x = np.asarray(x, dtype=float)
    ybar = float(np.mean(y))
    beta = np.zeros((x.shape[0], 2))
    beta[:, 0] = np.log(ybar / (1.0 - ybar))
    status = np.zeros(x.shape[0], dtype=np.int8)
    scale = np.full(x.shape[0], max(1.0, float(y.size)))
    return _loop_full(_eval_refit(x, y, False), beta, status, scale, maxit=maxit, tol=1e-9)


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


def _tie_groups(vs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last index of each element's run of equal values (rows sorted ascending)."""
    c, n = vs.shape
    ar = np.broadcast_to(np.arange(n), (c, n))
    new = np.ones((c, n), dtype=bool)
    new[:, 1:] = vs[:, 1:] != vs[:, :-1]
    first = np.maximum.accumulate(np.where(new, ar, 0), axis=1)
    end = np.ones((c, n), dtype=bool)
    end[:, :-1] = new[:, 1:]
    last = np.minimum.accumulate(np.where(end, ar, n - 1)[:, ::-1], axis=1)[:, ::-1]
    return first, last


def weighted_dxy(
    vs: np.ndarray, ys: np.ndarray, ws: np.ndarray, first: np.ndarray, last: np.ndarray
) -> np.ndarray:
    """Somers' Dxy (Hmisc ``somers2``, midranks) per row, with frequency weights.

    ``vs`` is sorted ascending per row; ``ys`` and ``ws`` are in the same order; ``first`` and
    ``last`` come from the tie runs of ``vs``. Equals ``somers2`` on the expanded sample.
    """
    cw = np.cumsum(ws, axis=1)
    before = np.take_along_axis(cw - ws, first, axis=1)
    group = np.take_along_axis(cw, last, axis=1) - before
    midrank = before + (group + 1.0) / 2.0
    n = cw[:, -1]
    wy = ws * ys
    n1 = wy.sum(axis=1)
    n0 = n - n1
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_rank = np.sum(wy * midrank, axis=1) / n1
        c = (mean_rank - (n1 + 1.0) / 2.0) / n0
    c = np.where((n1 > 0) & (n0 > 0), c, np.nan)
    return 2.0 * (c - 0.5)


def weighted_gini(vs: np.ndarray, ws: np.ndarray) -> np.ndarray:
    """Gini's mean difference (Hmisc ``GiniMd``) per row of sorted ``vs`` with frequency weights."""
    cw = np.cumsum(ws, axis=1)
    before = cw - ws
    n = cw[:, -1:]
    possum = ws * before + ws * (ws + 1.0) / 2.0
    coef = 4.0 * (possum - ws * (n + 1.0) / 2.0) / (n * (n - 1.0))
    return np.sum(coef * vs, axis=1)


# ----------------------------------------------------------------------------- batched lowess
def _first_greater(xs: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per row of sorted ``xs``: first index whose value exceeds ``target`` (shape (c, m))."""
    c, n = xs.shape
    lo = np.zeros(target.shape, dtype=np.int64)
    hi = np.full(target.shape, n, dtype=np.int64)
    rows = np.arange(c)[:, None]
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) // 2
        val = xs[rows, np.minimum(mid, n - 1)]
        go_right = active & (val <= target)
        lo = np.where(go_right, mid + 1, lo)
        hi = np.where(active & ~go_right, mid, hi)


def lowess_rows(
    xs: np.ndarray, ys: np.ndarray, f: float = 2.0 / 3.0, max_elements: int = 250_000
) -> np.ndarray:
    """R's ``lowess(x, y, f, iter=0)`` (default ``delta``) for every row of sorted ``xs``.

    Parameters
    ----------
    xs : ndarray of shape (c, n)
        Each row sorted ascending.
    ys : ndarray of shape (c, n)
        Responses in the same order.
    f : float, default=2/3
        Span.
    max_elements : int
        Bound on the size of the temporary (rows × fits × window) arrays.

    Returns
    -------
    ndarray of shape (c, n)
        Smoothed values at ``xs``.

    Notes
    -----
    Same algorithm as R's ``clowess`` without robustness iterations: the points where a local
    fit is computed depend only on x (each next fit is the last point within ``delta`` of the
    previous one; ties copy the fit), so they are found first for all rows, then all local fits
    are computed at once, then skipped points are linearly interpolated. Tricube weights are
    used up to 0.999·h; R's special case "weight 1 within 0.001·h" is not applied (it changes a
    weight by less than 3e-9).
    """
    xs = np.asarray(xs, dtype=float)
    ys = np.asarray(ys, dtype=float)
    c, n = xs.shape
    out = np.empty((c, n))
    if n < 2:
        out[:] = ys
        return out
    ns = max(2, min(n, int(f * n + 1e-7)))
    rng_x = xs[:, -1] - xs[:, 0]
    delta = 0.01 * rng_x
    rows = np.arange(c)
    first, last_tie = _tie_groups(xs)
    nxt = np.empty((c, n), dtype=np.int64)  # first index beyond each point's cut
    for r in range(c):
        nxt[r] = np.searchsorted(xs[r], xs[r] + delta[r], side="right")
    # ---- phase 1: where the fits are
    fits = []
    i = np.zeros(c, dtype=np.int64)
    done = np.zeros(c, dtype=bool)
    while not done.all():
        fits.append(np.where(done, -1, i))
        last = last_tie[rows, i]
        nx = nxt[rows, i]
        newi = np.maximum(last + 1, nx - 1)
        done = done | (last >= n - 1)
        i = np.where(done, i, newi)
    F = np.stack(fits, axis=1)  # (c, m), -1 padding
    valid = F >= 0
    Fi = np.where(valid, F, 0)
    m = F.shape[1]
    # ---- phase 2: the local fits
    xf = xs[rows[:, None], Fi]  # fit locations
    # window start: first l with x_i - x_l <= x_{l+ns} - x_i, capped at n - ns
    lo = np.zeros((c, m), dtype=np.int64)
    hi = np.full((c, m), n - ns, dtype=np.int64)
    r2 = rows[:, None]
    while True:
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi) // 2
        midc = np.minimum(mid, n - ns - 1) if n > ns else mid
        cond = (xf - xs[r2, midc]) > (xs[r2, np.minimum(midc + ns, n - 1)] - xf)
        move = active & cond
        lo = np.where(move, mid + 1, lo)
        hi = np.where(active & ~cond, mid, hi)
    nleft = lo
    nright = nleft + ns - 1
    h = np.maximum(xf - xs[r2, nleft], xs[r2, nright] - xf)
    yfit = np.empty((c, m))
    block = max(1, int(max_elements // max(1, m * ns)))
    csum_y = np.concatenate([np.zeros((c, 1)), np.cumsum(ys, axis=1)], axis=1)
    xwin = sliding_window_view(xs, ns, axis=1)
    ywin = sliding_window_view(ys, ns, axis=1)
    for s in range(0, c, block):
        e = min(c, s + block)
        rb = np.arange(s, e)[:, None]
        nl = nleft[s:e]
        d = xwin[rb, nl]
        yw = ywin[rb, nl]
        xb = xf[s:e, :, None]
        hb = h[s:e, :, None]
        np.subtract(d, xb, out=d)
        t = np.abs(d)
        keep = t <= 0.999 * hb
        with np.errstate(invalid="ignore", divide="ignore"):
            np.multiply(t, 1.0 / hb, out=t)
        w = t * t
        np.multiply(w, t, out=w)
        np.subtract(1.0, w, out=w)
        np.multiply(w, w, out=t)
        np.multiply(t, w, out=w)
        np.multiply(w, keep, out=w)
        s0 = w.sum(axis=2)
        s1 = np.einsum("ijk,ijk->ij", w, d)
        wd = np.multiply(w, d, out=t)
        s2 = np.einsum("ijk,ijk->ij", wd, d)
        t0 = np.einsum("ijk,ijk->ij", w, yw)
        t1 = np.einsum("ijk,ijk->ij", wd, yw)
        with np.errstate(invalid="ignore", divide="ignore"):
            dbar = s1 / s0
            cc = s2 / s0 - dbar * dbar
            base = t0 / s0
            slope = np.where(
                np.sqrt(np.maximum(cc, 0.0)) > 0.001 * rng_x[s:e, None],
                -dbar / cc * (t1 / s0 - dbar * base),
                0.0,
            )
        yfit[s:e] = base + slope
    # h == 0: every point of the window equals x_i; the fit is the mean y of its tie run
    zero = (h == 0) & valid
    if zero.any():
        zr, zc = np.nonzero(zero)
        a = nleft[zr, zc]
        b = last_tie[zr, Fi[zr, zc]]
        yfit[zr, zc] = (csum_y[zr, b + 1] - csum_y[zr, a]) / (b - a + 1)
    # ---- phase 3: ties copy, skipped points interpolate
    anchor = np.zeros((c, n), dtype=bool)
    val = np.zeros((c, n))
    vr, vc = np.nonzero(valid)
    fpos = F[vr, vc]
    tie_end = last_tie[vr, fpos]
    # every point from a fit to the end of its tie run takes the fitted value
    lengths = tie_end - fpos + 1
    rep_r = np.repeat(vr, lengths)
    rep_v = np.repeat(yfit[vr, vc], lengths)
    offs = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    rep_c = np.repeat(fpos, lengths) + offs
    anchor[rep_r, rep_c] = True
    val[rep_r, rep_c] = rep_v
    ar = np.broadcast_to(np.arange(n), (c, n))
    prev = np.maximum.accumulate(np.where(anchor, ar, 0), axis=1)
    nextp = np.minimum.accumulate(np.where(anchor, ar, n - 1)[:, ::-1], axis=1)[:, ::-1]
    xp, xn = xs[rows[:, None], prev], xs[rows[:, None], nextp]
    vp, vn = val[rows[:, None], prev], val[rows[:, None], nextp]
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = (xs - xp) / (xn - xp)
    interp = alpha * vn + (1.0 - alpha) * vp
    out[:] = np.where(anchor, val, interp)
    return out
