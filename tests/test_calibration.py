"""Bootstrap calibration (rms 6.5 ``calibrate``): exact replay, Monte-Carlo agreement, the
batched lowess against the reference clone of R's lowess."""

from __future__ import annotations

import numpy as np
import pytest

from myorisk.modeling import _batch
from myorisk.modeling.calibration import calibrate, default_grid, validate_and_calibrate
from myorisk.modeling.design import build_design
from myorisk.modeling.smoothing import approx, lowess
from myorisk.modeling.validation import normalize_resamples

from conftest import load_data, load_r

pytestmark = pytest.mark.r_parity

SETS = {
    "birthwt": ("low", ["age", "lwt", "race", "smoke", "ptl", "ht", "ui"]),
    "endometrial": ("HG", ["NV", "PI", "EH"]),
    "asah": ("poor", ["age", "gender", "wfns", "s100b"]),
    "birthwt_rcs": ("low", ["rcs(age, 4)", "lwt", "smoke", "ht"]),
}


def _design(name: str):
    outcome, preds = SETS[name]
    return build_design(load_data(name.removesuffix("_rcs")), outcome, preds)


def _arr(v: list) -> np.ndarray:
    return np.array([np.nan if x is None else x for x in v], float)


@pytest.mark.parametrize("name", list(SETS))
def test_replay_matches_rms65_exactly(name: str) -> None:
    r = load_r("validation")[name]
    idx = normalize_resamples(np.array(r["index"]), r["n"], base=1)
    c = calibrate(_design(name), resamples=idx)
    rc = r["calibrate"]
    np.testing.assert_allclose(c.predicted, _arr(rc["predy"]), rtol=1e-12)
    np.testing.assert_allclose(c.apparent, _arr(rc["calibrated.orig"]), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(c.corrected, _arr(rc["calibrated.corrected"]), rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(c.n, _arr(rc["n"]))
    for k in ("mean_abs_error", "mean_sq_error", "e90"):
        np.testing.assert_allclose(getattr(c, k), rc[k], rtol=1e-6, err_msg=k)
    assert c.n_predictions == rc["n_err"]


def test_mc_agreement_with_repeated_rms_runs() -> None:
    mc = load_r("validation_mc")
    c = calibrate(_design("birthwt"), B=mc["B"], seed=321)
    for k in ("mean_abs_error", "mean_sq_error", "e90"):
        runs = np.array([run[k] for run in mc["calibrate"]], float)
        sd = max(runs.std(ddof=1), 1e-4 * runs.mean())
        assert abs(getattr(c, k) - runs.mean()) < 5 * sd, (k, getattr(c, k), runs)


def test_shared_bootstrap_equals_separate_runs() -> None:
    d = _design("asah")
    v, c = validate_and_calibrate(d, B=40, seed=8)
    c2 = calibrate(d, B=40, seed=8)
    np.testing.assert_allclose(c.corrected, c2.corrected, rtol=1e-12)
    js = c.to_dict()
    assert set(js) >= {"B", "seconds", "mean_abs_error", "mean_sq_error", "e90", "curve"}
    assert set(js["curve"][0]) >= {"predicted", "apparent", "corrected", "n"}
    assert len(js["curve"]) == 50 and v.B == 40


@pytest.mark.parametrize("ties", [None, 2, 1])
def test_batched_lowess_equals_r_clone(ties: int | None) -> None:
    rng = np.random.default_rng(ties or 0)
    n = 97
    x = rng.random((12, n))
    if ties is not None:
        x = np.round(x, ties)
    x = np.take_along_axis(x, rng.integers(0, n, (12, n)), axis=1)  # bootstrap duplicates
    y = (rng.random((12, n)) < x).astype(float)
    o = np.argsort(x, axis=1, kind="stable")
    xs, ys = np.take_along_axis(x, o, 1), np.take_along_axis(y, o, 1)
    got = _batch.lowess_rows(xs, ys)
    for b in range(12):
        ref_x, ref_y = lowess(x[b], y[b], iter=0)
        np.testing.assert_allclose(got[b], ref_y, rtol=1e-9, atol=1e-9)
        grid = np.linspace(ref_x[3], ref_x[-4], 11)
        from myorisk.modeling.calibration import _interp_rows

        np.testing.assert_allclose(
            _interp_rows(xs[b : b + 1], got[b : b + 1], grid)[0],
            approx(ref_x, ref_y, grid, ties="first"), rtol=1e-9, atol=1e-9,
        )


def test_default_grid() -> None:
    p = np.linspace(0.01, 0.99, 30)
    g = default_grid(p[::-1])
    assert g[0] == p[4] and g[-1] == p[-5] and g.size == 50
