"""Compiled (numba) kernels of the simulation-based sample size (samplesizedev's method).

Hand-written (see ``docs/hand-written.md``): thousands of small, independent logistic fits
(one per simulated development set) and thousands of two-parameter recalibration fits on a
large validation set. Each kernel loops over the rows (simulations) of a chunk, one at a time
in plain loops, so no (simulations × validation size) temporary is ever allocated; kernels are
``nogil`` so the chunks run on threads, and ``cache=True``.

* :func:`fit_rows`: maximum-likelihood logistic regression (intercept + p predictors) of each
  simulated data set by Newton–Raphson from logit(ȳ), with step-halving on the deviance; the
  Newton step is :func:`myorisk.modeling._kernels._solve` (Cholesky with a pivot test).
  Convergence: max |step| < 1e-10·max(1, |β|). Status 1 converged, 2 not converged
  (separation: coefficients beyond 50, or the information turning singular after the first
  step), 3 singular design, 4 constant outcome.
* :func:`validate_rows`: for each fitted model, the linear predictor on the validation set, the
  calibration slope (logistic regression of the validation outcome on it, from (0, 1), to full
  convergence), MAPE = mean |p_true − p̂|, Brier = mean (y − p̂)² and mean p̂.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from myorisk.modeling import _numba_cache  # noqa: F401 - sets NUMBA_CACHE_DIR before numba loads
from myorisk.modeling._kernels import _solve

_OPTS = {"cache": True, "nogil": True, "error_model": "numpy"}


@njit(**_OPTS)
def _dev(X, y, n, k, beta, U, V):  # pragma: no cover - compiled
    """Deviance, score U and information V of the logistic model at ``beta`` (X without intercept)."""
    for j in range(k):
        U[j] = 0.0
        for q in range(k):
            V[j, q] = 0.0
    dev = 0.0
    for i in range(n):
        e = beta[0]
        for j in range(1, k):
            e += beta[j] * X[i, j - 1]
        if e >= 0:
            z = math.exp(-e)
            p = 1.0 / (1.0 + z)
            lq = -math.log1p(z) if y[i] == 1.0 else -e - math.log1p(z)
        else:
            z = math.exp(e)
            p = z / (1.0 + z)
            lq = e - math.log1p(z) if y[i] == 1.0 else -math.log1p(z)
        dev -= 2.0 * lq
        r = y[i] - p
        w = p * (1.0 - p)
        U[0] += r
        V[0, 0] += w
        for j in range(1, k):
            xj = X[i, j - 1]
            U[j] += r * xj
            wx = w * xj
            V[0, j] += wx
            for q in range(1, j + 1):
                V[q, j] += wx * X[i, q - 1]
    for j in range(k):
        for q in range(j + 1, k):
            V[q, j] = V[j, q]
    return dev


@njit(**_OPTS)
def fit_rows(X, y, beta, status, maxit):  # pragma: no cover - compiled
    """ML logistic fit of every simulated data set ``(X[r], y[r])``; writes ``beta``, ``status``.

    ``X`` is (S, n, p) without the intercept column, ``y`` (S, n) of 0/1, ``beta`` (S, p + 1).
    """
    S, n, p = X.shape
    k = p + 1
    U = np.empty(k)
    V = np.empty((k, k))
    C = np.empty((k, k))
    L = np.zeros((k, k))
    sc = np.empty(k)
    step = np.empty(k)
    cand = np.empty(k)
    for r in range(S):
        ybar = 0.0
        for i in range(n):
            ybar += y[r, i]
        ybar /= n
        for j in range(k):
            beta[r, j] = 0.0
        if ybar <= 0.0 or ybar >= 1.0:
            status[r] = 4
            continue
        beta[r, 0] = math.log(ybar / (1.0 - ybar))
        b = beta[r]
        dev = _dev(X[r], y[r], n, k, b, U, V)
        status[r] = 2
        for it in range(maxit):
            if _solve(V, U, 1e-12, step, C, L, sc):
                # singular at the start: a singular design; later: the information vanishing
                # as coefficients diverge (separation)
                status[r] = 3 if it == 0 else 2
                break
            t = 1.0
            moved = False
            for _h in range(30):
                for j in range(k):
                    cand[j] = b[j] + t * step[j]
                dc = _dev(X[r], y[r], n, k, cand, U, V)
                if math.isfinite(dc) and dc <= dev + 1e-9 * abs(dev):
                    moved = True
                    break
                t *= 0.5
            if not moved:  # no step lowers the deviance: at the maximum (to rounding)
                _dev(X[r], y[r], n, k, b, U, V)
                status[r] = 1
                break
            big = 1.0
            smax = 0.0
            for j in range(k):
                smax = max(smax, abs(cand[j] - b[j]))
                big = max(big, abs(cand[j]))
                b[j] = cand[j]
            dev = dc
            if smax < 1e-10 * big:
                status[r] = 1
                break
            if big > 50.0:  # coefficients running away: (quasi-)complete separation
                break
    return status


@njit(fastmath={"reassoc"}, **_OPTS)
def validate_rows(Xv, ptrue, Yv, beta, out):  # pragma: no cover - compiled
    """Validation measures of every fitted model (row of ``beta``) on ``(Xv, Yv[r])``.

    ``out[r]`` = (slope, intercept, MAPE, Brier, mean p̂, NaN, converged).
    """
    nv, p = Xv.shape
    S = beta.shape[0]
    eta = np.empty(nv)
    yf = np.empty(nv)
    for r in range(S):
        b = beta[r]
        if not math.isfinite(b[0]):
            for q in range(out.shape[1]):
                out[r, q] = np.nan
            continue
        yv = Yv[r]
        # first pass: linear predictor, p̂, MAPE, Brier, mean p̂
        mape = brier = mp = 0.0
        for i in range(nv):
            e = b[0]
            for j in range(p):
                e += b[j + 1] * Xv[i, j]
            eta[i] = e
            yi = 1.0 if yv[i] else 0.0
            yf[i] = yi
            pr = 1.0 / (1.0 + math.exp(-e))
            mape += abs(ptrue[i] - pr)
            res = yi - pr
            brier += res * res
            mp += pr
        # recalibration a + s·eta (R: fastLR(cbind(1, eta), yval)): Newton from (0, 1) to 1e-8,
        # each step shrunk to |Δslope| ≤ 0.5 and |Δintercept| ≤ 2 (a trust region: plain
        # Newton from slope 1 can overshoot and diverge when the true slope is far from 1;
        # the log-likelihood, and its extra log per point, is never needed)
        a, s = 0.0, 1.0
        conv = 0.0
        for _it in range(200):
            g0 = g1 = h00 = h01 = h11 = 0.0
            for i in range(nv):
                x = eta[i]
                pr = 1.0 / (1.0 + math.exp(-(a + s * x)))
                res = yf[i] - pr
                w = pr * (1.0 - pr)
                g0 += res
                g1 += res * x
                h00 += w
                wx = w * x
                h01 += wx
                h11 += wx * x
            det = h00 * h11 - h01 * h01
            if not det > 0.0:
                break
            da = (h11 * g0 - h01 * g1) / det
            ds = (h00 * g1 - h01 * g0) / det
            shrink = max(1.0, abs(ds) / 0.5, abs(da) / 2.0)
            a += da / shrink
            s += ds / shrink
            if shrink == 1.0 and abs(da) < 1e-8 * max(1.0, abs(a)) and abs(ds) < 1e-8 * max(1.0, abs(s)):
                conv = 1.0
                break
        out[r, 0] = s if conv else np.nan
        out[r, 1] = a if conv else np.nan
        out[r, 2] = mape / nv
        out[r, 3] = brier / nv
        out[r, 4] = mp / nv
        out[r, 5] = np.nan  # C: see myorisk.modeling.sample_size_sim._cstats (numpy's sort)
        out[r, 6] = conv
    return out
