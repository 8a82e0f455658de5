"""Compiled (numba) kernels of the bootstrap: R's lowess, rms 6.5's Newton fitter, rank statistics.

Hand-written (see ``docs/hand-written.md``). Each kernel works on one resample (one row) at a
time in plain loops, so nothing of size (resamples × points × window) is ever allocated, and
loops over the rows of a chunk. Kernels are compiled with ``cache=True`` (the first call in a
fresh environment compiles, later processes load the cache) and ``nogil=True``: the chunks of a
bootstrap run on several threads (:func:`myorisk.modeling.validation._run`) without the GIL.
They are serial on purpose (no ``parallel=True``): numba's default threading layer must not be
entered from several Python threads at once.

* :func:`lowess_rows` / :func:`cal_rows` are R's C routine ``clowess``
  (``src/library/stats/src/lowess.c``) with ``iter=0``: neighbourhood of
  ``ns = max(2, min(n, (int)(f·n + 1e-7)))`` points slid right while that shrinks the radius,
  tricube weights ``(1 − (r/h)³)³`` with weight 1 within 0.001·h and 0 beyond 0.999·h, ties to
  the right of the neighbourhood picked up (C's scan stops at the first point beyond 0.999·h),
  the weighted linear fit only when ``sqrt(Σ w (x − x̄)²) > 0.001·range(x)``, points within
  ``delta`` of the last fit skipped and linearly interpolated, tied x copied. The anchors
  depend on x only, so they are found first; each local fit is then one vectorised pass of
  weighted sums centred at the anchor (the C code normalises the weights and sums three more
  times): the result agrees with :func:`myorisk.modeling.smoothing.lowess` (the reference
  clone of R) to rounding, ≤ 1e-12 in the tests (typically 1e-15). A bootstrap resample is
  smoothed in compressed form: a patient drawn k times is one point of weight k (same sums).
  :func:`cal_rows` adds rms ``calibrate``'s ``approx(…, xout=predy, ties=first) − predy``.
* :func:`fit65_rows` is rms 6.5's Fortran ``lrmfit`` stopping rule (start logit(ȳ), linear
  predictor clamped to ±30, eps on the change in −2LL after the step, step-halving counted as an
  iteration, ``maxit − 1`` iterations, singular information ⇒ failure, rank test as
  :func:`myorisk.modeling._batch._solve`) for one weighted resample per row, over the patients
  the resample drew; :func:`refit65_rows` the same rule for the recalibration
  ``lrm.fit(x_b, y)``. Score and information sums are vectorised; −2LL multiplies
  probabilities and takes a log only when the product gets small. The decisions of the rule
  (eps .025 on −2LL) are far from rounding, so rms's iterates are reproduced.
* :func:`dxy_rows`, :func:`gini_rows`, :func:`measures_rows`: Somers' Dxy (``somers2``,
  midranks), Gini's mean difference (``GiniMd``) with frequency weights, and the Brier/L01/gp
  pieces of ``validate.lrm`` in one pass; :func:`stable_ties` makes a fast unstable argsort
  stable.

Reassociated sums (``fastmath={"reassoc"}``, no other fast-math flag) change results only at
rounding level; the rms replay tests agree with R to ~1e-14.
"""

from __future__ import annotations

import math

import numpy as np  # noqa: E402
from numba import njit  # noqa: E402

from myorisk.modeling import _numba_cache  # noqa: F401 - sets NUMBA_CACHE_DIR before numba loads

RUNNING, CONVERGED, NOT_CONVERGED, SINGULAR, DEGENERATE = 0, 1, 2, 3, 4

_OPTS = {"cache": True, "nogil": True, "error_model": "numpy"}


# ----------------------------------------------------------------------------- lowess
@njit(fastmath={"reassoc"}, **_OPTS)
def _lowest(xu, yu, cu, lo, hi, xs, h, rng):  # pragma: no cover - compiled
    """R ``lowest()`` at ``xs``: the local weighted line over the points ``lo..hi`` of the
    compressed sample (point ``u`` stands for ``cu[u]`` equal copies); NaN when every weight is 0.

    The weights are C's: tricube of r/h, 1 within 0.001·h, 0 beyond 0.999·h. The weighted mean
    and variance of x and the fitted line come from one pass of sums centred at ``xs``
    (|x − xs| ≤ h: no cancellation), reassociated (vectorised), and the tricube uses r·(1/h):
    the value differs from C's normalise-then-sum sequence by rounding only.
    """
    h9 = 0.999 * h
    h1 = 0.001 * h
    ih = 1.0 / h
    s0 = s1 = s2 = t0 = t1 = 0.0
    xv, yv, cv = xu[lo:hi + 1], yu[lo:hi + 1], cu[lo:hi + 1]  # views indexed from 0: no
    for u in range(hi + 1 - lo):  # negative-index handling, so the loop vectorises
        d = xv[u] - xs
        r = abs(d)
        q = r * ih
        q = 1.0 - q * q * q
        v = q * q * q
        v = 1.0 if r <= h1 else v
        v = 0.0 if r > h9 else v
        v *= cv[u]
        s0 += v
        vd = v * d
        s1 += vd
        s2 += vd * d
        t0 += v * yv[u]
        t1 += vd * yv[u]
    if not s0 > 0.0:
        return np.nan
    base = t0 / s0
    if h > 0.0:
        dbar = s1 / s0  # x̄ − xs
        c = s2 / s0 - dbar * dbar  # Σ w (x − x̄)² with Σ w = 1
        if math.sqrt(max(c, 0.0)) > 0.001 * rng:
            # Σ w (b (x − x̄) + 1) y with b = (xs − x̄)/c
            return base - dbar / c * (t1 / s0 - dbar * base)
    return base


@njit(**_OPTS)
def _clowess(x, y, n, f, delta, ys, xu, yu, cu, pos2u, ustart, anc, nl, nr,
             fitv):  # pragma: no cover - compiled
    """R ``clowess(x, y, n, f, nsteps=0, delta)`` on the first ``n`` entries of sorted ``x``.

    ``xu, yu, cu`` is the same sample compressed (point ``u`` = ``cu[u]`` adjacent equal copies,
    the first at position ``ustart[u]``; ``pos2u`` maps a position to its point): the local
    fits sum over it, which spares the work for bootstrap duplicates. The points where a local
    fit is made, and their neighbourhoods, depend on x only: they are found first (the C loop
    without the fits), then fitted, then the C loop is replayed to fill in skipped and tied
    points.
    """
    if n < 2:
        for i in range(n):
            ys[i] = y[i]
        return
    ns = max(2, min(n, int(f * n + 1e-7)))
    # ---- pass 1: the anchors and their neighbourhoods (C loop, fits left out)
    nleft = 0
    nright = ns - 1
    m = 0
    i = 0
    while True:
        if nright < n - 1:
            # move the neighbourhood right while that shrinks the radius
            d1 = x[i] - x[nleft]
            d2 = x[nright + 1] - x[i]
            if d1 > d2:
                nleft += 1
                nright += 1
                continue
        anc[m] = i
        nl[m] = nleft
        nr[m] = nright
        m += 1
        last = i
        cut = x[last] + delta
        i = last + 1
        while i < n:
            if x[i] > cut:
                break
            if x[i] == x[last]:
                last = i
            i += 1
        i = max(last + 1, i - 1)
        if last >= n - 1:
            break
    # ---- pass 2: the local fits
    rng = x[n - 1] - x[0]
    for t in range(m):
        i = anc[t]
        lo = nl[t]
        xs = x[i]
        h = max(xs - x[lo], x[nr[t]] - xs)
        h9 = 0.999 * h
        # C's scan stops at the first point right of xs farther than 0.999·h
        a, b = i + 1, n
        while a < b:
            mid = (a + b) // 2
            if abs(x[mid] - xs) <= h9:
                a = mid + 1
            else:
                b = mid
        hi = a - 1
        # positions lo..hi as compressed points; the end points may be partly inside
        ulo, uhi = pos2u[lo], pos2u[hi]
        c_lo, c_hi = cu[ulo], cu[uhi]
        if ulo == uhi:
            cu[ulo] = hi - lo + 1
        else:
            cu[ulo] = ustart[ulo] + c_lo - lo
            cu[uhi] = hi - ustart[uhi] + 1
        v = _lowest(xu, yu, cu, ulo, uhi, xs, h, rng)
        cu[ulo], cu[uhi] = c_lo, c_hi
        fitv[t] = y[i] if np.isnan(v) else v
    # ---- pass 3: the C loop again: fitted values, interpolation of skipped points, ties
    last = -1
    t = 0
    i = 0
    while True:
        ys[i] = fitv[t]
        t += 1
        if last < i - 1:
            denom = x[i] - x[last]
            for j in range(last + 1, i):
                alpha = (x[j] - x[last]) / denom
                ys[j] = alpha * ys[i] + (1.0 - alpha) * ys[last]
        last = i
        cut = x[last] + delta
        i = last + 1
        while i < n:
            if x[i] > cut:
                break
            if x[i] == x[last]:
                ys[i] = ys[last]
                last = i
            i += 1
        i = max(last + 1, i - 1)
        if last >= n - 1:
            break


@njit(**_OPTS)
def _scratch(n):  # pragma: no cover - compiled
    """Work arrays of :func:`_clowess` for up to ``n`` points, compressed form = identity."""
    cu = np.ones(n)
    pos2u = np.arange(n)
    ustart = np.arange(n)
    return cu, pos2u, ustart, np.empty(n, np.int64), np.empty(n, np.int64), \
        np.empty(n, np.int64), np.empty(n)


@njit(**_OPTS)
def lowess_rows(xs, ys, f):  # pragma: no cover - compiled
    """R ``lowess(x, y, f, iter=0)`` (default ``delta``) for every row of sorted ``xs``."""
    c, n = xs.shape
    out = np.empty((c, n))
    cu, pos2u, ustart, anc, nl, nr, fitv = _scratch(n)
    for r in range(c):
        delta = 0.01 * (xs[r, n - 1] - xs[r, 0]) if n > 0 else 0.0
        _clowess(xs[r], ys[r], n, f, delta, out[r], xs[r], ys[r], cu, pos2u, ustart,
                 anc, nl, nr, fitv)
    return out


@njit(**_OPTS)
def _approx_first(x, s, n, v):  # pragma: no cover - compiled
    """``approx(x, s, xout=v, ties=first)`` on sorted ``x[:n]`` whose tied x carry equal s."""
    if not (v >= x[0] and v <= x[n - 1]):
        return np.nan
    lo, hi = 0, n  # first index with x > v
    while lo < hi:
        mid = (lo + hi) // 2
        if x[mid] <= v:
            lo = mid + 1
        else:
            hi = mid
    j = lo
    i = max(j - 1, 0)
    if v == x[i] or j >= n:
        return s[i]
    return s[i] + (s[j] - s[i]) * ((v - x[i]) / (x[j] - x[i]))


@njit(**_OPTS)
def interp_rows(xs, sm, v):  # pragma: no cover - compiled
    """:func:`_approx_first` of every ``v`` against every row (NaN outside the row's range)."""
    c, n = xs.shape
    out = np.empty((c, v.size))
    for r in range(c):
        for k in range(v.size):
            out[r, k] = _approx_first(xs[r], sm[r], n, v[k])
    return out


@njit(**_OPTS)
def cal_rows(xs, ys, counts, predy, f):  # pragma: no cover - compiled
    """rms ``cal.error`` per row: ``approx(lowess(x, y, iter=0), xout=predy, ties=first) − predy``.

    Row ``r`` is the sample ``xs[r]`` (sorted) with outcomes ``ys[r]``; when ``counts`` has rows,
    point ``j`` enters ``counts[r, j]`` times (a bootstrap resample expanded in place, tied copies
    adjacent as after a stable sort).
    """
    c, n = xs.shape
    k = predy.size
    out = np.empty((c, k))
    expand = counts.shape[0] > 0
    size = n
    if expand:
        for r in range(c):
            t = 0
            for j in range(n):
                t += counts[r, j]
            size = max(size, t)
    xe = np.empty(size)
    ye = np.empty(size)
    sm = np.empty(size)
    xu = np.empty(n)
    yu = np.empty(n)
    cu, pos2u, ustart, anc, nl, nr, fitv = _scratch(size)
    for r in range(c):
        if expand:
            m = 0
            nu = 0
            for j in range(n):
                cj = counts[r, j]
                if cj <= 0:
                    continue
                xu[nu] = xs[r, j]
                yu[nu] = ys[r, j]
                cu[nu] = cj
                ustart[nu] = m
                for _ in range(cj):
                    xe[m] = xs[r, j]
                    ye[m] = ys[r, j]
                    pos2u[m] = nu
                    m += 1
                nu += 1
            if m == 0:
                out[r, :] = np.nan
                continue
            _clowess(xe, ye, m, f, 0.01 * (xe[m - 1] - xe[0]), sm, xu, yu, cu, pos2u, ustart,
                     anc, nl, nr, fitv)
            for q in range(k):
                out[r, q] = _approx_first(xe, sm, m, predy[q]) - predy[q]
        else:
            x = xs[r]
            _clowess(x, ys[r], n, f, 0.01 * (x[n - 1] - x[0]), sm, x, ys[r], cu, pos2u, ustart,
                     anc, nl, nr, fitv)
            for q in range(k):
                out[r, q] = _approx_first(x, sm, n, predy[q]) - predy[q]
    return out


# ----------------------------------------------------------------------------- rms 6.5 fitter
@njit(**_OPTS)
def _solve(V, U, tol, step, C, L, s):  # pragma: no cover - compiled
    """Newton step ``V⁻¹U``; True when V is (near-)singular (pivot of the unit-diagonal
    Cholesky factor below ``tol``), as :func:`myorisk.modeling._batch._solve`."""
    k = U.size
    for j in range(k):
        d = V[j, j]
        if not d > 0.0:
            return True
        s[j] = 1.0 / math.sqrt(d)
    for i in range(k):
        for j in range(k):
            C[i, j] = V[i, j] * s[i] * s[j]
    for j in range(k):
        acc = C[j, j]
        for q in range(j):
            acc -= L[j, q] * L[j, q]
        if not acc > 0.0:
            return True
        ljj = math.sqrt(acc)
        piv = ljj * ljj
        if piv < tol or not math.isfinite(piv):
            return True
        L[j, j] = ljj
        for i in range(j + 1, k):
            acc = C[i, j]
            for q in range(j):
                acc -= L[i, q] * L[j, q]
            L[i, j] = acc / ljj
    # L z = U s, then L' x = z; step = x s
    for i in range(k):
        acc = U[i] * s[i]
        for q in range(i):
            acc -= L[i, q] * step[q]
        step[i] = acc / L[i, i]
    for i in range(k - 1, -1, -1):
        acc = step[i]
        for q in range(i + 1, k):
            acc -= L[q, i] * step[q]
        step[i] = acc / L[i, i]
    for i in range(k):
        step[i] *= s[i]
    return False


@njit(fastmath={"reassoc"}, **_OPTS)
def _eval_block(XT, y, w, i0, i1, beta, U, V, e, wv, rr, tmp, lp):  # pragma: no cover
    """Add the points ``i0..i1−1`` to U and V; return (Σ w log q, Π q^w) — the product of the
    probabilities not yet logged — with ``lp`` carried in. Loops run over 1-D views indexed from 0
    (no negative-index handling), so they vectorise."""
    k = XT.shape[0]
    m = i1 - i0
    ll, prod = lp
    yb, wb = y[i0:i1], w[i0:i1]
    for i in range(m):
        e[i] = 0.0
    for j in range(k):
        bj = beta[j]
        xr = XT[j, i0:i1]
        for i in range(m):
            e[i] += xr[i] * bj
    for i in range(m):
        wi = wb[i]
        if wi == 0.0:
            rr[i] = 0.0
            wv[i] = 0.0
            continue
        ei = min(max(e[i], -30.0), 30.0)
        p = 1.0 / (1.0 + math.exp(-ei))
        pq = p if yb[i] == 1.0 else 1.0 - p
        iw = int(wi)
        if iw == wi and iw <= 7:
            # q^w for a count w <= 7 from its bits, without branches
            q2 = pq * pq
            f = (pq if iw & 1 else 1.0) * (q2 if iw & 2 else 1.0) * (q2 * q2 if iw & 4 else 1.0)
            prod *= f
            if prod < 1e-200:  # q^7 >= plogis(-30)^7 > 1e-91: the product stays normal
                ll += math.log(prod)
                prod = 1.0
        else:
            ll += wi * math.log(pq)
        rr[i] = (yb[i] - p) * wi
        wv[i] = ((1.0 - p) * p) * wi
    for j in range(k):
        xr = XT[j, i0:i1]
        acc = 0.0
        for i in range(m):
            acc += rr[i] * xr[i]
        U[j] += acc
        for i in range(m):
            tmp[i] = wv[i] * xr[i]
        for q in range(j, k):
            xq = XT[q, i0:i1]
            acc = 0.0
            for i in range(m):
                acc += tmp[i] * xq[i]
            V[j, q] += acc
    return ll, prod


_BLOCK = 2048  # points per block of the sums (the block's columns stay in cache)


@njit(**_OPTS)
def _eval_design(XT, y, w, active, beta, U, V, e, wv, rr, tmp):  # pragma: no cover - compiled
    """rms LLOGIT on a weighted resample: −2LL, score U and information V (lp clamped ±30).

    ``XT`` is the design transposed (p, n). Sums run over blocks of :data:`_BLOCK` points and
    may be reassociated (vectorised); −2LL multiplies q^w (counts w ≤ 7) and takes a log only
    when the product gets small. Both move the values by rounding only.
    """
    k, n = XT.shape
    for j in range(k):
        U[j] = 0.0
        for q in range(k):
            V[j, q] = 0.0
    lp = (0.0, 1.0)
    for i0 in range(0, n, _BLOCK):
        i1 = min(n, i0 + _BLOCK)
        lp = _eval_block(XT, y, w, i0, i1, beta, U, V, e, wv, rr, tmp, lp)
    ll = lp[0] + math.log(lp[1])
    for j in range(k):
        for q in range(j + 1, k):
            V[q, j] = V[j, q]
    for j in range(k):
        if not active[j]:
            U[j] = 0.0
            for q in range(k):
                V[j, q] = 0.0
                V[q, j] = 0.0
    for j in range(k):
        if not active[j]:
            V[j, j] = 1.0
    return -2.0 * ll


@njit(fastmath={"reassoc"}, **_OPTS)
def _eval_line(x, y, beta, U, V):  # pragma: no cover - compiled
    """LLOGIT of the recalibration model ``a + b·x`` on the original sample (lp clamped ±30).

    −2LL multiplies the probabilities and takes a log only when the product gets small
    (rounding-level difference)."""
    n = x.size
    ll = 0.0
    prod = 1.0
    u0 = u1 = s0 = s1 = s2 = 0.0
    a, b = beta[0], beta[1]
    for i in range(n):
        e = min(max(a + b * x[i], -30.0), 30.0)
        p = 1.0 / (1.0 + math.exp(-e))
        prod *= p if y[i] == 1.0 else 1.0 - p
        if prod < 1e-200:  # q >= plogis(-30) > 1e-14: the product stays normal
            ll += math.log(prod)
            prod = 1.0
        r = y[i] - p
        u0 += r
        u1 += r * x[i]
        v = p * (1.0 - p)
        vx = v * x[i]
        s0 += v
        s1 += vx
        s2 += vx * x[i]
    ll += math.log(prod)
    U[0], U[1] = u0, u1
    V[0, 0], V[0, 1], V[1, 0], V[1, 1] = s0, s1, s1, s2
    return -2.0 * ll


@njit(**_OPTS)
def _loop65(kind, XT, y, w, active, x, beta, maxit, eps, tol,
            U, V, C, L, s, step, deltab, e, wv, rr, tmp):  # pragma: no cover - compiled
    """One resample through rms 6.5's ``lrmfit`` loop; returns (deviance, status, iterations).

    ``kind`` 0: the model on a weighted resample (:func:`_eval_design`); 1: the recalibration
    line on ``x`` (:func:`_eval_line`). ``beta`` holds the start and receives the estimate.
    """
    k = beta.size
    oldl = 1e30
    curstp = 1.0
    for j in range(k):
        deltab[j] = 0.0
    last_ll = np.nan
    n_iter = 0
    status = RUNNING
    for it in range(1, maxit):
        if kind == 0:
            ll = _eval_design(XT, y, w, active, beta, U, V, e, wv, rr, tmp)
        else:
            ll = _eval_line(x, y, beta, U, V)
        last_ll = ll
        n_iter = it
        dmax = 0.0
        for j in range(k):
            dmax = max(dmax, abs(U[j]))
        if dmax < 1e-9 and abs(ll - oldl) < 0.1 * eps:
            status = CONVERGED
            break
        if ll > oldl or not math.isfinite(ll):
            if it == 1:
                status = NOT_CONVERGED
                break
            curstp /= 2.0
            for j in range(k):
                beta[j] -= curstp * deltab[j]
            continue
        curstp = 1.0
        if _solve(V, U, tol, step, C, L, s):
            status = SINGULAR
            break
        for j in range(k):
            deltab[j] = step[j]
            beta[j] += step[j]
        conv = abs(oldl - ll) <= eps
        oldl = ll
        if conv:
            status = CONVERGED
            break
    if status == RUNNING:
        status = NOT_CONVERGED if maxit > 2 else CONVERGED
    if status == CONVERGED:
        if kind == 0:
            dev = _eval_design(XT, y, w, active, beta, U, V, e, wv, rr, tmp)
        else:
            dev = _eval_line(x, y, beta, U, V)
    else:
        dev = last_ll
    return dev, status, n_iter


@njit(**_OPTS)
def fit65_rows(XT, y, W, mask, beta, status, maxit, eps, tol):  # pragma: no cover - compiled
    """rms 6.5 fit of the model for every row of ``W`` (bootstrap counts).

    ``XT`` is the design transposed (p, n). ``beta`` (B, p) holds the starts and receives the
    estimates; ``status`` (B,) is RUNNING for rows to fit (others are left alone) and receives
    the final status. ``mask`` (B, p) bool, or shape (0, p) for all columns active. Returns
    (deviance, iterations).
    """
    B = W.shape[0]
    k, n = XT.shape
    dev = np.full(B, np.nan)
    n_iter = np.zeros(B, np.int64)
    U = np.empty(k)
    V = np.empty((k, k))
    C = np.empty((k, k))
    L = np.zeros((k, k))
    s = np.empty(k)
    step = np.empty(k)
    deltab = np.empty(k)
    e = np.empty(_BLOCK)
    wv = np.empty(_BLOCK)
    rr = np.empty(_BLOCK)
    tmp = np.empty(_BLOCK)
    # the resample's patients only (weight > 0): a bootstrap leaves out about 37% of them
    buf = np.empty(k * n)
    yc = np.empty(n)
    wc = np.empty(n)
    ones = np.ones(k, dtype=np.bool_)
    dummy = np.empty(0)
    has_mask = mask.shape[0] > 0
    for b in range(B):
        if status[b] != RUNNING:
            continue
        active = mask[b] if has_mask else ones
        wb = W[b]
        m = 0
        for i in range(n):
            if wb[i] != 0.0:
                yc[m] = y[i]
                wc[m] = wb[i]
                m += 1
        XTc = buf[: k * m].reshape((k, m))  # contiguous
        for j in range(k):
            xr = XT[j]
            q = 0
            for i in range(n):
                if wb[i] != 0.0:
                    XTc[j, q] = xr[i]
                    q += 1
        d, st, it = _loop65(0, XTc, yc[:m], wc[:m], active, dummy, beta[b], maxit, eps,
                            tol, U, V, C, L, s, step, deltab, e, wv, rr, tmp)
        dev[b] = d
        status[b] = st
        n_iter[b] = it
    return dev, n_iter


@njit(**_OPTS)
def refit65_rows(lp, y, beta, status, maxit, eps, tol):  # pragma: no cover - compiled
    """rms 6.5 ``lrm.fit(lp_b, y)`` for every row of ``lp`` (intercept and slope).

    ``beta`` (B, 2) holds the starts and receives the estimates. Returns (deviance, iterations).
    """
    B = lp.shape[0]
    dev = np.full(B, np.nan)
    n_iter = np.zeros(B, np.int64)
    U = np.empty(2)
    V = np.empty((2, 2))
    C = np.empty((2, 2))
    L = np.zeros((2, 2))
    s = np.empty(2)
    step = np.empty(2)
    deltab = np.empty(2)
    e2 = np.empty((2, 0))
    e1 = np.empty(0)
    eb = np.ones(2, dtype=np.bool_)
    for b in range(B):
        if status[b] != RUNNING:
            continue
        d, st, it = _loop65(1, e2, y, e1, eb, lp[b], beta[b], maxit, eps, tol,
                            U, V, C, L, s, step, deltab, e1, e1, e1, e1)
        dev[b] = d
        status[b] = st
        n_iter[b] = it
    return dev, n_iter


# ----------------------------------------------------------------------------- rank statistics
@njit(**_OPTS)
def dxy_rows(vs, ys, ws):  # pragma: no cover - compiled
    """Somers' Dxy (Hmisc ``somers2``: midranks) per row of sorted ``vs`` with frequency weights.

    ``ys`` (0/1) and ``ws`` are in the order of ``vs``. NaN when a row has one outcome class.
    """
    c, n = vs.shape
    out = np.empty(c)
    for r in range(c):
        tot = 0.0
        n1 = 0.0
        rank1 = 0.0  # Σ w·y·midrank
        j = 0
        while j < n:
            k = j
            g = 0.0
            g1 = 0.0
            while k < n and vs[r, k] == vs[r, j]:
                g += ws[r, k]
                g1 += ws[r, k] * ys[r, k]
                k += 1
            rank1 += g1 * (tot + (g + 1.0) / 2.0)
            tot += g
            n1 += g1
            j = k
        n0 = tot - n1
        if n1 > 0.0 and n0 > 0.0:
            cc = (rank1 / n1 - (n1 + 1.0) / 2.0) / n0
            out[r] = 2.0 * (cc - 0.5)
        else:
            out[r] = np.nan
    return out


@njit(**_OPTS)
def gini_rows(vs, ws):  # pragma: no cover - compiled
    """Gini's mean difference (Hmisc ``GiniMd``) per row of sorted ``vs`` with frequency weights
    (the row expanded by its weights: Σ (4 (rank − (n + 1)/2) / (n (n − 1))) · value)."""
    c, n = vs.shape
    out = np.empty(c)
    for r in range(c):
        tot = 0.0
        for j in range(n):
            tot += ws[r, j]
        half = (tot + 1.0) / 2.0
        s = 0.0
        before = 0.0
        for j in range(n):
            w = ws[r, j]
            if w != 0.0:
                # Σ over the w copies of (rank − (n + 1)/2), ranks before+1 … before+w
                s += (w * before + w * (w + 1.0) / 2.0 - w * half) * vs[r, j]
                before += w
        out[r] = 4.0 * s / (tot * (tot - 1.0))
    return out


@njit(**_OPTS)
def _shellsort(a):  # pragma: no cover - compiled
    """Sort a 1-D integer array in place (Shell sort, Ciura's gaps; cheap to compile)."""
    n = a.size
    gaps = (701, 301, 132, 57, 23, 10, 4, 1)
    g = 1
    while g * 9 // 4 < n:  # extend the gap sequence for long runs
        g = g * 9 // 4 + 1
    while g > 701:
        _gap_pass(a, n, g)
        g = g * 4 // 9
    for g in gaps:
        _gap_pass(a, n, g)


@njit(**_OPTS)
def _gap_pass(a, n, g):  # pragma: no cover - compiled
    for i in range(g, n):
        t = a[i]
        j = i
        while j >= g and a[j - g] > t:
            a[j] = a[j - g]
            j -= g
        a[j] = t


@njit(**_OPTS)
def stable_ties(vs, o):  # pragma: no cover - compiled
    """Turn an unstable row-wise argsort ``o`` (with ``vs`` the sorted values) into the stable
    one: within every run of equal values (NaNs, sorted last, count as equal), the original
    positions in increasing order."""
    c, n = vs.shape
    for r in range(c):
        j = 0
        while j < n:
            k = j + 1
            nan = np.isnan(vs[r, j])
            while k < n and (vs[r, k] == vs[r, j] or (nan and np.isnan(vs[r, k]))):
                k += 1
            if k - j > 1:
                _shellsort(o[r, j:k])
            j = k


@njit(**_OPTS)
def _gini_terms(w, before, half):  # pragma: no cover - compiled
    """Σ over w copies of (rank − (n + 1)/2), the copies taking ranks before+1 … before+w."""
    return w * before + w * (w + 1.0) / 2.0 - w * half


@njit(**_OPTS)
def measures_rows(vs, ys, ws, a, b):  # pragma: no cover - compiled
    """Per-resample pieces of ``validate.lrm`` from the sorted linear predictors.

    Row r: ``vs`` the resample's model's linear predictors on the original sample (sorted),
    ``ys`` the outcomes and ``ws`` the resample counts in that order, ``a[r] + b[r]·lp`` the
    test recalibration line. Columns of the result: Brier score on the resample (training),
    Brier score on the original sample (test), L01 = −2 log-likelihood of the frozen
    predictions, GiniMd of lp and of plogis(lp) on the resample, GiniMd of lp on the original
    sample, GiniMd of plogis(a + b·lp) on the original sample, and plogis(lp) itself (the
    remaining ``n`` columns, for ``calibrate``).
    """
    c, n = vs.shape
    out = np.empty((c, 7 + n))
    half_o = (n + 1.0) / 2.0
    for r in range(c):
        sw = 0.0
        for j in range(n):
            sw += ws[r, j]
        half_w = (sw + 1.0) / 2.0
        br_tr = br_te = l01 = g_tr = gp_tr = g_te = gp_te = 0.0
        before = 0.0
        ar, br = a[r], b[r]
        for j in range(n):
            v = vs[r, j]
            yj = ys[r, j]
            w = ws[r, j]
            ex = math.exp(-abs(v))
            p = 1.0 / (1.0 + ex) if v >= 0.0 else ex / (1.0 + ex)
            out[r, 7 + j] = p
            d2 = (yj - p) * (yj - p)
            br_te += d2
            l01 += yj * v - (max(v, 0.0) + math.log1p(ex))
            cf = j + 1.0 - half_o  # rank − (n + 1)/2 on the original sample
            g_te += cf * v
            # plogis(a + b·lp), whose order is that of lp, reversed when b < 0
            u = ar + br * v
            pu = 1.0 / (1.0 + math.exp(-u))
            gp_te += (cf if br >= 0.0 else -cf) * pu
            if w != 0.0:
                br_tr += w * d2
                t = _gini_terms(w, before, half_w)
                g_tr += t * v
                gp_tr += t * p
                before += w
        scale_w = 4.0 / (sw * (sw - 1.0))
        scale_o = 4.0 / (n * (n - 1.0))
        out[r, 0] = br_tr / sw
        out[r, 1] = br_te / n
        out[r, 2] = -2.0 * l01
        out[r, 3] = g_tr * scale_w
        out[r, 4] = gp_tr * scale_w
        out[r, 5] = g_te * scale_o
        out[r, 6] = gp_te * scale_o
    return out
