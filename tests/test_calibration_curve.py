"""Calibration of fixed predictions in one set (item 8 of issue 11): lowess with a pointwise
bootstrap band, grouped proportions with exact CIs and the logistic recalibration line, all
against R (tests/results/calibration_curve.R, resamples replayed exactly)."""

from __future__ import annotations

import numpy as np
import pytest

from myorisk.errors import InputError
from myorisk.modeling.calibration import calibration_curve
from myorisk.modeling.validation import normalize_resamples

from conftest import load_r


def _arr(v):
    return np.array([np.nan if x is None else x for x in v], float)


@pytest.mark.r_parity
@pytest.mark.parametrize("name", ["asah", "birthwt"])
def test_calibration_curve_equals_r(name):
    r = load_r("calibration_curve")[name]
    p, y = np.array(r["p"], float), np.array(r["y"], float)
    idx = normalize_resamples(np.array(r["index"]), p.size, base=1)
    c = calibration_curve(p, y, resamples=idx, groups=r["g"], grid=np.array(r["grid"]))
    np.testing.assert_allclose(c.observed, _arr(r["observed"]), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(c.low, _arr(r["low"]), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(c.high, _arr(r["high"]), rtol=1e-9, atol=1e-12)
    # glm run to convergence (epsilon 1e-14); its SE comes from the last IRLS weights
    glm = dict(rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose([c.intercept, c.intercept_low, c.intercept_high],
                               [r["intercept"], *r["intercept_ci"]], **glm)
    np.testing.assert_allclose([c.slope, c.slope_low, c.slope_high],
                               [r["slope"], *r["slope_ci"]], **glm)
    np.testing.assert_allclose(c.logistic, r["logistic"], **glm)
    np.testing.assert_allclose(c.logistic_low, r["logistic_low"], **glm)
    np.testing.assert_allclose(c.logistic_high, r["logistic_high"], **glm)
    for col in ("n", "events", "predicted", "observed", "low", "high"):
        np.testing.assert_allclose(c.groups[col].to_numpy(float), r["groups"][col], rtol=1e-9,
                                   err_msg=col)


@pytest.mark.unit
def test_small_sets_are_flagged_and_large_ones_are_not():
    rng = np.random.default_rng(2)
    p = rng.uniform(0.1, 0.9, 20)
    y = (rng.uniform(size=20) < p).astype(float)
    small = calibration_curve(p, y, B=50, seed=1)
    assert not small.flexible and "too few for a flexible calibration curve" in small.note
    assert "Van Calster" in small.note
    p = rng.uniform(0.05, 0.95, 1000)
    y = (rng.uniform(size=1000) < p).astype(float)
    big = calibration_curve(p, y, B=50, seed=1)
    assert big.flexible and big.note == ""
    # a well-calibrated large set: slope and intercept near ideal, band covers the diagonal
    assert big.slope_low < 1 < big.slope_high and big.intercept_low < 0 < big.intercept_high
    inside = (big.low <= big.grid + 0.02) & (big.grid - 0.02 <= big.high)
    assert inside[np.isfinite(big.low)].mean() > 0.9


@pytest.mark.unit
def test_same_seed_same_band_and_bad_input():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.1, 0.9, 40)
    y = (rng.uniform(size=40) < p).astype(float)
    a = calibration_curve(p, y, B=30, seed=9)
    b = calibration_curve(p, y, B=30, seed=9)
    np.testing.assert_array_equal(a.low, b.low)
    with pytest.raises(InputError, match="strictly between 0 and 1"):
        calibration_curve(np.r_[p[:-1], 1.0], y)
    with pytest.raises(InputError, match="single value"):
        calibration_curve(p, np.zeros(40))
