"""myorisk.modeling.monitoring against R (tests/results/monitoring.R): O/E CI, Wald CIs of CITL and
slope (glm + confint.default), val.prob intercept/slope, pROC DeLong CI, cumulative O - E, CUSUM."""

from __future__ import annotations

import numpy as np
import pytest

from myorisk.errors import InputError
from myorisk.modeling.monitoring import monitor_predictions, observed_expected

from conftest import load_r

pytestmark = [pytest.mark.r_parity]
R = load_r("monitoring")


@pytest.mark.parametrize("case", R["cases"], ids=lambda c: c["name"])
def test_monitor_matches_r(case: dict) -> None:
    p, y = np.array(case["p"]), np.array(case["y"], float)
    res = monitor_predictions(p, y)
    assert res.n == case["n"] and res.events == case["events"]
    assert res.expected == pytest.approx(case["expected"], abs=1e-9)
    for key in ("estimate", "low", "high", "se"):
        assert getattr(res.oe, key) == pytest.approx(case["oe"][key], rel=1e-9)
        assert getattr(res.citl, key) == pytest.approx(case["citl"][key], abs=1e-7)
    # the slope estimate is val.prob's (rms 6.5 lrm.fit), its SE glm's
    assert res.slope.estimate == pytest.approx(case["valprob"]["slope"], abs=1e-6)
    assert res.slope.estimate == pytest.approx(case["slope_glm"]["estimate"], abs=1e-4)
    assert res.slope.se == pytest.approx(case["slope_glm"]["se"], rel=1e-7)
    assert res.intercept == pytest.approx(case["valprob"]["intercept"], abs=1e-6)
    assert res.brier == pytest.approx(case["valprob"]["brier"], abs=1e-12)
    for key in ("estimate", "low", "high"):
        assert getattr(res.c, key) == pytest.approx(case["c"][key], abs=1e-10)
    d = res.drift
    np.testing.assert_allclose(d["cum_o_minus_e"], case["cum_o_minus_e"], atol=1e-9)
    np.testing.assert_allclose(d["band"], case["band"], atol=1e-9)
    np.testing.assert_allclose(d["cusum_up"], case["cusum_up"], atol=1e-9)
    np.testing.assert_allclose(d["cusum_down"], case["cusum_down"], atol=1e-9)


def test_alert_only_when_miscalibrated() -> None:
    cal, mis = (monitor_predictions(np.array(c["p"]), np.array(c["y"], float)) for c in R["cases"])
    assert not cal.alert and "No evidence" in cal.message
    assert mis.alert and "beyond chance" in mis.message
    assert mis.to_dict()["oe"]["low"] > 1


def test_monitor_refuses_bad_input() -> None:
    with pytest.raises(InputError, match="at least one event"):
        monitor_predictions(np.array([0.2, 0.3]), np.array([0.0, 0.0]))
    with pytest.raises(InputError, match="strictly between"):
        monitor_predictions(np.array([0.0, 0.3]), np.array([0.0, 1.0]))
    oe = observed_expected(np.array([0.5, 0.5]), np.array([0.0, 0.0]))
    assert oe.estimate == 0 and np.isnan(oe.low)


def test_drift_outside_band_is_said() -> None:
    p = np.full(200, 0.3)
    y = np.zeros(200)
    y[:100:10] = 1  # 10 events in the first 100 (30 expected): fewer than predicted ...
    y[100::2] = 1  # ... then 50 in the next 100
    res = monitor_predictions(p, y)
    d = res.drift
    out = np.flatnonzero(np.abs(d["cum_o_minus_e"]) > d["band"])
    assert out.size and f"first at number {out[0] + 1}" in res.message
    assert "left its pointwise 95% band" in res.message
    # one risk for everybody: no slope and no smooth, said in words, never a number
    assert res.to_dict()["slope"]["estimate"] is None and res.calibration_curve == ()
    assert "slope not estimable" in res.message
