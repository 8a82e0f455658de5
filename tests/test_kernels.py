"""Compiled bootstrap kernels (``myorisk.modeling._kernels``) against reference implementations:
R's lowess clone, a per-resample transcription of rms 6.5's ``lrmfit`` loop, brute-force Dxy and
GiniMd, numpy's stable argsort."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from myorisk.modeling import _batch, _kernels
from myorisk.modeling.calibration import _cal_rows
from myorisk.modeling.design import build_design
from myorisk.modeling.smoothing import approx, lowess

from conftest import load_data

pytestmark = pytest.mark.unit


# ----------------------------------------------------------------------------- lowess
def _random_sample(rng: np.random.Generator, n: int, kind: int) -> tuple[np.ndarray, np.ndarray]:
    x = rng.random(n)
    if kind == 1:
        x = np.round(x, 2)  # many ties
    elif kind == 2:
        x = np.round(x, 1)  # heavy ties
    elif kind == 3:
        x = 1e3 + 50.0 * rng.normal(size=n)  # other location and scale
    elif kind == 4:
        x = expit(rng.normal(-1.0, 1.5, n))  # predicted risks
    x = x[rng.integers(0, n, n)]  # bootstrap duplicates
    if kind == 3:
        y = rng.normal(size=n) + 0.01 * x
    else:
        y = (rng.random(n) < (x - x.min()) / max(np.ptp(x), 1e-12)).astype(float)
    return x, y


@pytest.mark.parametrize("kind", range(5))
def test_lowess_kernel_matches_r_clone(kind: int) -> None:
    rng = np.random.default_rng(100 + kind)
    for _ in range(60):
        n = int(rng.integers(2, 400))
        x, y = _random_sample(rng, n, kind)
        o = np.argsort(x, kind="stable")
        got = _batch.lowess_rows(x[o][None], y[o][None])[0]
        ref_x, ref_y = lowess(x, y, iter=0)
        np.testing.assert_array_equal(x[o], ref_x)
        scale = max(1.0, float(np.max(np.abs(ref_y))))
        np.testing.assert_allclose(got, ref_y, rtol=0, atol=1e-12 * scale)


@pytest.mark.parametrize("f", [0.1, 0.3, 2.0 / 3.0, 1.0, 1.5])
def test_lowess_kernel_span(f: float) -> None:
    rng = np.random.default_rng(7)
    x, y = _random_sample(rng, 150, 1)
    o = np.argsort(x, kind="stable")
    got = _batch.lowess_rows(x[o][None], y[o][None], f=f)[0]
    np.testing.assert_allclose(got, lowess(x, y, f=f, iter=0)[1], rtol=0, atol=1e-12)


def test_lowess_kernel_large_sample() -> None:
    """Case (b) size class: ~100 anchors over a 2/3 window of many thousand points."""
    rng = np.random.default_rng(3)
    n = 20_000
    x = np.round(expit(rng.normal(-1.0, 1.0, n)), 4)  # ties
    y = (rng.random(n) < x).astype(float)
    o = np.argsort(x, kind="stable")
    got = _batch.lowess_rows(x[o][None], y[o][None])[0]
    np.testing.assert_allclose(got, lowess(x, y, iter=0)[1], rtol=0, atol=1e-12)


def test_lowess_kernel_degenerate_rows() -> None:
    x = np.array([[0.3, 0.3, 0.3, 0.3], [0.0, 1.0, 1.0, 2.0]])
    y = np.array([[0.0, 1.0, 1.0, 0.0], [1.0, 0.0, 1.0, 1.0]])
    got = _batch.lowess_rows(x, y)
    for b in range(2):
        np.testing.assert_allclose(got[b], lowess(x[b], y[b], iter=0)[1], atol=1e-15)
    one = _batch.lowess_rows(np.array([[0.5]]), np.array([[1.0]]))
    assert one[0, 0] == 1.0


def test_cal_rows_compressed_resample_equals_expanded() -> None:
    """A resample given as counts (patient drawn k times = one point of weight k) gives the
    curve of the expanded resample, which is approx(lowess(...), ties=first) as in rms."""
    rng = np.random.default_rng(11)
    n, c = 180, 25
    p = np.sort(expit(rng.normal(-0.8, 1.2, (c, n))), axis=1)
    p[:, 40:44] = p[:, 40:41]  # tied predictions
    yv = (rng.random((c, n)) < p).astype(float)
    counts = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(c)])
    grid = np.linspace(0.05, 0.7, 50)
    got = _cal_rows(p, yv, grid, counts=counts)
    for r in range(c):
        xe, ye = np.repeat(p[r], counts[r]), np.repeat(yv[r], counts[r])
        expanded = _cal_rows(xe[None], ye[None], grid)[0]
        np.testing.assert_allclose(got[r], expanded, rtol=0, atol=1e-12)
        sx, sy = lowess(xe, ye, iter=0)
        ref = approx(sx, sy, grid, ties="first") - grid
        np.testing.assert_allclose(got[r], ref, rtol=0, atol=1e-12)
    # the original sample (no counts) against the clone as well
    plain = _cal_rows(p, yv, grid)
    for r in range(c):
        sx, sy = lowess(p[r], yv[r], iter=0)
        np.testing.assert_allclose(plain[r], approx(sx, sy, grid, ties="first") - grid,
                                   rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- rms 6.5 fitter
def _ref_fit65(X: np.ndarray, y: np.ndarray, w: np.ndarray, start: np.ndarray, *,
               maxit: int = 12, eps: float = 0.025, tol: float = 1e-12):
    """One resample through rms 6.5 ``lrmfit`` (Fortran), transcribed plainly in numpy."""

    def evaluate(b: np.ndarray):
        lp = np.clip(X @ b, -30.0, 30.0)
        p = 1.0 / (1.0 + np.exp(-lp))
        ll = -2.0 * np.sum(w * np.where(y == 1, np.log(p), np.log(1.0 - p)))
        U = X.T @ (w * (y - p))
        V = (X * (w * p * (1.0 - p))[:, None]).T @ X
        return ll, U, V

    def singular(V: np.ndarray) -> bool:
        d = np.diag(V)
        if not np.all(d > 0):
            return True
        C = V / np.sqrt(np.outer(d, d))
        try:
            L = np.linalg.cholesky(C)
        except np.linalg.LinAlgError:
            return True
        return bool(np.any(np.diag(L) ** 2 < tol))

    beta = start.astype(float).copy()
    oldl, curstp, deltab = 1e30, 1.0, np.zeros_like(beta)
    status, last, n_iter = "running", np.nan, 0
    for it in range(1, maxit):
        ll, U, V = evaluate(beta)
        last, n_iter = ll, it
        if np.max(np.abs(U)) < 1e-9 and abs(ll - oldl) < 0.1 * eps:
            status = "converged"
            break
        if ll > oldl or not np.isfinite(ll):
            if it == 1:
                status = "not converged"
                break
            curstp /= 2.0
            beta -= curstp * deltab
            continue
        curstp = 1.0
        if singular(V):
            status = "singular"
            break
        deltab = np.linalg.solve(V, U)
        beta += deltab
        conv = abs(oldl - ll) <= eps
        oldl = ll
        if conv:
            status = "converged"
            break
    if status == "running":
        status = "not converged"
    dev = evaluate(beta)[0] if status == "converged" else last
    return beta, dev, status, n_iter


_CODES = {"converged": 1, "not converged": 2, "singular": 3}


@pytest.mark.parametrize("name,outcome,preds", [
    ("birthwt", "low", ["age", "lwt", "race", "smoke", "ptl", "ht", "ui"]),
    ("asah", "poor", ["age", "gender", "wfns", "s100b"]),
    ("endometrial", "HG", ["NV", "PI", "EH"]),  # separated: stops at eps with a large slope
])
def test_fit65_kernel_matches_transcription(name: str, outcome: str, preds: list[str]) -> None:
    d = build_design(load_data(name), outcome, preds)
    X, y = np.asarray(d.X, float), np.asarray(d.y, float)
    n = y.size
    rng = np.random.default_rng(5)
    W = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(40)]).astype(float)
    fit = _batch.fit_rms65(_batch.Gram.of(X), y, W)
    for b in range(W.shape[0]):
        start = np.zeros(X.shape[1])
        ybar = W[b] @ y / W[b].sum()
        start[0] = np.log(ybar / (1 - ybar))
        beta, dev, status, n_iter = _ref_fit65(X, y, W[b], start)
        assert fit.status[b] == _CODES[status], b
        assert fit.n_iter[b] == n_iter
        np.testing.assert_allclose(fit.beta[b], beta, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(fit.deviance[b], dev, rtol=1e-12)


def test_fit65_kernel_singular_and_masked() -> None:
    d = build_design(load_data("birthwt"), "low", ["age", "lwt", "race", "smoke", "ht"])
    X, y = np.asarray(d.X, float), np.asarray(d.y, float)
    n = y.size
    ht = list(d.columns).index("ht")
    W = np.ones((3, n))
    W[0, X[:, ht] == 1] = 0.0  # 'ht' constant (0) in this resample: singular information
    W[2, : n // 2] = 2.0
    mask = np.ones((3, X.shape[1]), dtype=bool)
    mask[2, ht] = False
    fit = _batch.fit_rms65(_batch.Gram.of(X), y, W, mask=mask)
    assert fit.status[0] == _batch.SINGULAR
    assert fit.status[1] == _batch.CONVERGED and fit.status[2] == _batch.CONVERGED
    keep = np.flatnonzero(mask[2])
    sub = _batch.fit_rms65(_batch.Gram.of(X[:, keep]), y, W[2:3])
    np.testing.assert_allclose(fit.beta[2, keep], sub.beta[0], rtol=1e-10, atol=1e-12)
    assert fit.beta[2, ht] == 0.0
    # a constant outcome is not fitted
    deg = _batch.fit_rms65(_batch.Gram.of(X), y, np.where(y == 1, 1.0, 0.0)[None])
    assert deg.status[0] == _batch.DEGENERATE


def test_refit65_kernel_matches_transcription() -> None:
    d = build_design(load_data("birthwt"), "low", ["age", "lwt", "race", "smoke", "ptl", "ht", "ui"])
    X, y = np.asarray(d.X, float), np.asarray(d.y, float)
    rng = np.random.default_rng(9)
    B = rng.normal(size=(30, X.shape[1])) * 0.3
    B[:5] *= 20.0  # far-off predictions: step-halving and large recalibration slopes
    lp = B @ X.T
    ref = _batch.refit_rms65(lp, y)
    ybar = y.mean()
    for b in range(lp.shape[0]):
        Xb = np.column_stack([np.ones_like(y), lp[b]])
        beta, dev, status, n_iter = _ref_fit65(Xb, y, np.ones_like(y),
                                                np.array([np.log(ybar / (1 - ybar)), 0.0]),
                                                tol=1e-13)
        assert ref.status[b] == _CODES[status] and ref.n_iter[b] == n_iter
        np.testing.assert_allclose(ref.beta[b], beta, rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(ref.deviance[b], dev, rtol=1e-12)


# ----------------------------------------------------------------------------- rank statistics
def _expand(v: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.repeat(v, w.astype(int))


def test_dxy_and_gini_equal_brute_force() -> None:
    rng = np.random.default_rng(2)
    c, n = 15, 60
    vs = np.sort(np.round(rng.normal(size=(c, n)), 1), axis=1)  # ties
    ys = (rng.random((c, n)) < 0.4).astype(float)
    ws = rng.integers(0, 4, (c, n)).astype(float)
    dxy = _batch.weighted_dxy(vs, ys, ws)
    gini = _batch.weighted_gini(vs, ws)
    for r in range(c):
        x, yy = _expand(vs[r], ws[r]), _expand(ys[r], ws[r])
        ev, ne = x[yy == 1], x[yy == 0]
        conc = (ev[:, None] > ne[None, :]).sum() + 0.5 * (ev[:, None] == ne[None, :]).sum()
        np.testing.assert_allclose(dxy[r], 2.0 * conc / (ev.size * ne.size) - 1.0, rtol=1e-12)
        m = x.size
        gmd = np.abs(x[:, None] - x[None, :]).sum() / (m * (m - 1))
        np.testing.assert_allclose(gini[r], gmd, rtol=1e-12)
    one_class = _batch.weighted_dxy(vs[:1], np.ones((1, n)), ws[:1])
    assert np.isnan(one_class[0])


def test_measures_rows_equal_numpy() -> None:
    rng = np.random.default_rng(4)
    c, n = 12, 80
    vs = np.sort(rng.normal(-0.5, 1.5, (c, n)), axis=1)
    ys = (rng.random((c, n)) < expit(vs)).astype(float)
    ws = rng.integers(0, 4, (c, n)).astype(float)
    a, b = rng.normal(size=c) * 0.2, rng.normal(1.0, 0.5, c)
    b[:3] = -b[:3]  # reversed order of the recalibrated risks
    got = _kernels.measures_rows(vs, ys, ws, a, b)
    p = expit(vs)
    ones = np.ones_like(vs)
    np.testing.assert_allclose(got[:, 0], (ws * (ys - p) ** 2).sum(1) / ws.sum(1), rtol=1e-12)
    np.testing.assert_allclose(got[:, 1], ((ys - p) ** 2).mean(1), rtol=1e-12)
    np.testing.assert_allclose(got[:, 2], -2.0 * (ys * vs - np.logaddexp(0.0, vs)).sum(1),
                               rtol=1e-12)
    np.testing.assert_allclose(got[:, 3], _batch.weighted_gini(vs, ws), rtol=1e-12)
    np.testing.assert_allclose(got[:, 4], _batch.weighted_gini(p, ws), rtol=1e-12)
    np.testing.assert_allclose(got[:, 5], _batch.weighted_gini(vs, ones), rtol=1e-12)
    pv = np.sort(expit(a[:, None] + b[:, None] * vs), axis=1)
    np.testing.assert_allclose(got[:, 6], _batch.weighted_gini(pv, ones), rtol=1e-12)
    np.testing.assert_allclose(got[:, 7:], p, rtol=1e-15)


def test_argsort_rows_is_stable() -> None:
    rng = np.random.default_rng(6)
    a = np.round(rng.normal(size=(50, 300)), 1)
    a[:, :5] = np.nan
    o, vs = _batch.argsort_rows(a)
    ref = np.argsort(a, axis=1, kind="stable")
    np.testing.assert_array_equal(o, ref)
    np.testing.assert_array_equal(vs, np.take_along_axis(a, ref, axis=1))


def test_fit65_kernel_fractional_weights() -> None:
    """Non-count weights take the per-point log path; same iterates as the transcription."""
    d = build_design(load_data("asah"), "poor", ["age", "gender", "wfns", "s100b"])
    X, y = np.asarray(d.X, float), np.asarray(d.y, float)
    rng = np.random.default_rng(12)
    W = rng.random((8, y.size)) * 3.0
    W[:, ::7] = 9.0  # counts above 7 as well
    fit = _batch.fit_rms65(_batch.Gram.of(X), y, W)
    for b in range(W.shape[0]):
        start = np.zeros(X.shape[1])
        ybar = W[b] @ y / W[b].sum()
        start[0] = np.log(ybar / (1 - ybar))
        beta, dev, status, n_iter = _ref_fit65(X, y, W[b], start)
        assert fit.status[b] == _CODES[status] and fit.n_iter[b] == n_iter
        np.testing.assert_allclose(fit.beta[b], beta, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(fit.deviance[b], dev, rtol=1e-12)
