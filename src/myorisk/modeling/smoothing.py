"""Scatterplot smoothing and interpolation exactly as R's ``stats::lowess`` and ``stats::approx``.

Hand-written (see ``docs/hand-written.md``): rms builds its calibration curves (``val.prob``
Emax/E90/Eavg, ``calibrate``) from R's ``lowess`` followed by ``approx``. statsmodels' lowess uses
other defaults (``it=3``, ``delta=0``), a different neighbourhood and tie rule, and scipy's
``interp1d`` collapses no ties, so neither reproduces R's numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np

from myorisk.errors import InputError

__all__ = ["lowess", "approx"]


def _seqsum(v: np.ndarray) -> float:
    """Left-to-right sum (the order of R's C loops), not numpy's pairwise sum."""
    if v.size == 0:
        return 0.0
    return float(np.cumsum(v)[-1])


def _local_fit(
    x: np.ndarray,
    y: np.ndarray,
    xs: float,
    nleft: int,
    nright: int,
    rw: np.ndarray | None,
) -> float | None:
    """Locally weighted linear fit at ``xs`` over the neighbourhood ``nleft..nright`` (0-based).

    Tricube weights on distance / h, where h is the largest distance to the neighbourhood ends;
    points with distance <= 0.001·h get weight 1, points beyond 0.999·h weight 0, and ties to
    the right of the neighbourhood are picked up. Returns None when all weights are zero.
    """
    n = x.size
    rng = x[n - 1] - x[0]
    h = max(xs - x[nleft], x[nright] - xs)
    h9 = 0.999 * h
    h1 = 0.001 * h
    # candidate points: from nleft up to a bit past xs + h (rounding margin); the scan stops at
    # the first point right of xs whose distance exceeds 0.999·h
    stop = int(np.searchsorted(x, xs + 2.0 * h, side="right")) + 1
    stop = min(max(stop, nright + 1), n)
    xj = x[nleft:stop]
    r = np.abs(xj - xs)
    beyond = (r > h9) & (xj > xs)
    last = int(np.argmax(beyond)) if beyond.any() else xj.size  # first index that breaks
    xj = xj[:last]
    r = r[:last]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = r / h
        t = 1.0 - t * t * t
        w = np.where(r <= h1, 1.0, t * t * t)
    w = np.where(r <= h9, w, 0.0)
    if rw is not None:
        w = w * rw[nleft : nleft + last]
    a = _seqsum(w)
    if a <= 0.0:
        return None
    w = w / a
    if h > 0.0:
        xbar = _seqsum(w * xj)
        b = xs - xbar
        dev = xj - xbar
        c = _seqsum(w * (dev * dev))
        if np.sqrt(c) > 0.001 * rng:
            b = b / c
            w = w * (b * (xj - xbar) + 1.0)
    return _seqsum(w * y[nleft : nleft + last])


def _clowess(
    x: np.ndarray, y: np.ndarray, f: float, nsteps: int, delta: float
) -> np.ndarray:
    """Cleveland's lowess on x sorted ascending (R's C routine ``clowess``)."""
    n = x.size
    ys = np.empty(n)
    if n < 2:
        ys[:] = y
        return ys
    ns = max(2, min(n, int(f * n + 1e-7)))
    rw: np.ndarray | None = None
    for iteration in range(nsteps + 1):
        nleft, nright = 0, ns - 1
        last = -1  # index of the previous point actually fitted
        i = 0
        while True:
            if nright < n - 1:
                # slide the window right while that shrinks the radius
                if x[i] - x[nleft] > x[nright + 1] - x[i]:
                    nleft += 1
                    nright += 1
                    continue
            fit = _local_fit(x, y, x[i], nleft, nright, rw)
            ys[i] = y[i] if fit is None else fit
            if last < i - 1:
                # points skipped because within delta: linear interpolation
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
        res = y - ys
        if iteration >= nsteps:
            break
        sc = _seqsum(np.abs(res)) / n
        ares = np.sort(np.abs(res))
        m1 = n // 2
        if n % 2 == 0:
            cmad = 3.0 * (ares[m1] + ares[n - m1 - 1])
        else:
            cmad = 6.0 * ares[m1]
        if cmad < 1e-7 * sc:
            break
        c9 = 0.999 * cmad
        c1 = 0.001 * cmad
        r = np.abs(res)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = r / cmad
            t = 1.0 - t * t
        rw = np.where(r <= c1, 1.0, np.where(r <= c9, t * t, 0.0))
    return ys


def lowess(
    x: np.ndarray,
    y: np.ndarray,
    f: float = 2.0 / 3.0,
    iter: int = 3,
    delta: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Locally weighted scatterplot smoothing, identical to R's ``stats::lowess``.

    Parameters
    ----------
    x, y : array_like of shape (n,)
        Coordinates; must be finite.
    f : float, default=2/3
        Smoother span: the proportion of points that influence each fitted value.
    iter : int, default=3
        Number of robustifying iterations (rms uses ``iter=0``).
    delta : float, optional
        Points closer than ``delta`` to the last fitted point are interpolated rather than
        fitted. Default ``0.01 * (max(x) - min(x))`` as in R.

    Returns
    -------
    x_sorted : ndarray
        ``x`` sorted ascending (stable order, as R's ``order``).
    y_smoothed : ndarray
        The smoothed values at ``x_sorted``.

    Raises
    ------
    InputError
        If ``f`` is not positive and finite, ``iter`` is negative, ``delta`` is negative or the
        inputs are empty, non-finite or of different lengths.

    Notes
    -----
    Reproduces R's ``stats::lowess`` (C routine ``clowess``, Cleveland 1979/1981): neighbourhood
    of ``ns = max(2, min(n, floor(f·n + 1e-7)))`` points, tricube weights, local linear fit
    unless the weighted x spread is below 0.001·range(x), skipping within ``delta`` with linear
    interpolation, ties copied, and bisquare robustness weights from 6·median|residual|.
    Sums run left to right as in the C code, so results agree with R to about 1e-15.
    """
    xa = np.asarray(x, dtype=float).ravel()
    ya = np.asarray(y, dtype=float).ravel()
    if xa.size != ya.size:
        raise InputError("lowess: x and y lengths differ")
    if xa.size == 0:
        raise InputError("lowess: invalid input (no points)")
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(ya))):
        raise InputError("lowess: x and y must be finite")
    if not np.isfinite(f) or f <= 0:
        raise InputError("lowess: 'f' must be finite and > 0")
    if iter < 0:
        raise InputError("lowess: 'iter' must be finite and >= 0")
    if delta is None:
        delta = 0.01 * (float(np.max(xa)) - float(np.min(xa)))
    if not np.isfinite(delta) or delta < 0:
        raise InputError("lowess: 'delta' must be finite and >= 0")
    o = np.argsort(xa, kind="stable")
    xs = xa[o]
    return xs, _clowess(xs, ya[o], float(f), int(iter), float(delta))


def _r_mean(v: np.ndarray) -> float:
    """R's ``mean`` of doubles: long-double sum / n, then one refinement pass."""
    ld = np.asarray(v, dtype=np.longdouble)
    n = ld.size
    s = np.cumsum(ld)[-1] / n
    if np.isfinite(s):
        s = s + np.cumsum(ld - s)[-1] / n
    return float(s)


def _regularize(
    x: np.ndarray, y: np.ndarray, ties: str | Callable[[np.ndarray], float]
) -> tuple[np.ndarray, np.ndarray]:
    """R's ``regularize.values``: drop NA pairs, sort by x, collapse tied x with ``ties``."""
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y = x[ok], y[ok]
    if isinstance(ties, str) and ties == "ordered":
        return x, y
    if ties == "mean":
        fun: Callable[[np.ndarray], float] = _r_mean
    elif ties == "first":
        def fun(v: np.ndarray) -> float:
            return float(v[0])
    elif callable(ties):
        fun = ties
    else:
        raise InputError("approx: ties must be 'mean', 'first', 'ordered' or a function")
    if np.any(np.diff(x) < 0):
        o = np.argsort(x, kind="stable")
        x, y = x[o], y[o]
    ux, start = np.unique(x, return_index=True)
    if ux.size < x.size:
        bounds = np.append(start, x.size)
        y = np.array([fun(y[bounds[k] : bounds[k + 1]]) for k in range(ux.size)], dtype=float)
        x = ux
    return x, y


def approx(
    x: np.ndarray,
    y: np.ndarray,
    xout: np.ndarray,
    rule: int | tuple[int, int] = 1,
    ties: Literal["mean", "first", "ordered"] | Callable[[np.ndarray], float] = "mean",
) -> np.ndarray:
    """Linear interpolation, identical to R's ``stats::approx(x, y, xout, rule, ties)$y``.

    Parameters
    ----------
    x, y : array_like of shape (n,)
        Points to interpolate; pairs with NaN are dropped (R's ``na.rm=TRUE``).
    xout : array_like
        Where to interpolate.
    rule : int or (int, int), default=1
        1: NaN outside ``[min(x), max(x)]``; 2: the value at the closest end. A pair gives the
        left and right rule.
    ties : {"mean", "first", "ordered"} or callable, default="mean"
        How tied x values are collapsed: their mean (R's ``ties=mean``), the first in the input
        order (``ties=function(x) x[1]``, used by rms ``calibrate``), or ``"ordered"``: x is
        taken as already sorted and nothing is collapsed. A callable receives the tied y values.

    Returns
    -------
    ndarray
        Interpolated values at ``xout`` (NaN where R gives NA).

    Raises
    ------
    InputError
        Fewer than two usable points, lengths differ, or an invalid ``rule``/``ties``.

    Notes
    -----
    Reproduces R's ``stats::approx`` with ``method="linear"``: ``regularize.values`` (stable
    sort, ties collapsed), then the C routine ``approx1`` (bisection; exact hits return the
    node value; otherwise ``y[i] + (y[j]-y[i]) * ((v-x[i]) / (x[j]-x[i]))``). The bisection is
    reproduced step by step, so ``ties="ordered"`` with duplicated x also matches R.
    """
    xa = np.asarray(x, dtype=float).ravel()
    ya = np.asarray(y, dtype=float).ravel()
    if xa.size != ya.size:
        raise InputError("approx: x and y lengths differ")
    rules = (rule, rule) if np.isscalar(rule) else tuple(rule)  # type: ignore[arg-type]
    if len(rules) != 2 or any(r not in (1, 2) for r in rules):
        raise InputError("approx: rule must be 1, 2 or a pair of them")
    xr, yr = _regularize(xa, ya, ties)
    if xr.size <= 1:
        raise InputError("approx: need at least two non-NA values to interpolate")
    ylow = np.nan if rules[0] == 1 else yr[0]
    yhigh = np.nan if rules[1] == 1 else yr[-1]
    v = np.atleast_1d(np.asarray(xout, dtype=float)).ravel()
    out = np.full(v.shape, np.nan)
    n = xr.size
    inside = ~np.isnan(v) & (v >= xr[0]) & (v <= xr[n - 1])
    out[~np.isnan(v) & (v < xr[0])] = ylow
    out[~np.isnan(v) & (v > xr[n - 1])] = yhigh
    vv = v[inside]
    i = np.zeros(vv.size, dtype=np.int64)
    j = np.full(vv.size, n - 1, dtype=np.int64)
    active = i < j - 1
    while active.any():
        ij = (i + j) // 2
        left = vv < xr[ij]
        j = np.where(active & left, ij, j)
        i = np.where(active & ~left, ij, i)
        active = i < j - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        res = yr[i] + (yr[j] - yr[i]) * ((vv - xr[i]) / (xr[j] - xr[i]))
    res = np.where(vv == xr[i], yr[i], res)
    res = np.where(vv == xr[j], yr[j], res)
    out[inside] = res
    return out
