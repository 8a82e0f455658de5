"""myorisk.modeling.decision against dcurves' algorithm in base R (tests/results/decision.R)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from myorisk.errors import InputError
from myorisk.modeling.decision import (
    EPS,
    DecisionCurve,
    decision_curve,
    parse_threshold_grid,
    threshold_grid,
)

from conftest import load_data, load_r

pytestmark = pytest.mark.r_parity

R = load_r("decision")
ASAH = load_data("asah")
RTOL = 1e-10  # R's numbers reach us with 15 significant digits
ATOL = 1e-14  # net benefits that are 0 up to rounding (e.g. 5.6e-17 in R)

FIELDS = ["net_benefit", "tp_rate", "fp_rate", "standardized_net_benefit"]


def _vec(v):
    return np.array([np.nan if x is None else x for x in v], dtype=float)


def _compare(dc: DecisionCurve, ref: dict) -> None:
    np.testing.assert_allclose(dc.thresholds, ref["thresholds"], rtol=1e-15)
    np.testing.assert_allclose(dc.prevalence, ref["pos_rate"], rtol=RTOL)
    assert set(dc.models) == set(ref["curves"])
    for m, exp in ref["curves"].items():
        for f in FIELDS:
            np.testing.assert_allclose(
                getattr(dc, f)[m], _vec(exp[f]), rtol=RTOL, atol=ATOL, err_msg=f"{m} {f}"
            )
        nia = dc.net_intervention_avoided[m]
        exp_nia = _vec(exp["net_intervention_avoided"])
        inf = _vec(exp["nia_inf"])
        finite = np.isfinite(exp_nia)
        np.testing.assert_allclose(nia[finite], exp_nia[finite], rtol=RTOL, atol=ATOL)
        # where R divided by t/(1-t) = 0: +-Inf (sign given) or NaN (nia_inf null)
        for i in np.flatnonzero(~finite):
            if np.isnan(inf[i]):
                assert np.isnan(nia[i]), (m, i)
            else:
                assert nia[i] == inf[i] * np.inf, (m, i)


def _asah_risks():
    ref = R["asah"]
    s = ASAH["s100b"].to_numpy(float)
    # same IEEE operations as decision.R, so ties with thresholds are reproduced exactly
    resc = (s - s.min()) / (s.max() - s.min())
    return {"glm": np.array(ref["risk_glm"]), "s100b_rescaled": resc}


def test_r_grid_equals_python_grid():
    grid = threshold_grid(0, 0.99, 0.01)
    np.testing.assert_allclose(grid, R["asah"]["thresholds"], rtol=1e-15)
    np.testing.assert_array_equal(grid, np.arange(0, 1, 0.01))
    # the parsed grid is R's seq() rounded to the decimals typed (0.35, not 0.35000000000000003)
    np.testing.assert_allclose(parse_threshold_grid("0:0.99:0.01"), grid, rtol=1e-15, atol=0)
    np.testing.assert_array_equal(parse_threshold_grid("0:0.99:0.01"), np.round(grid, 2))


@pytest.mark.unit
def test_parsed_grid_holds_the_thresholds_as_typed():
    g = parse_threshold_grid("0.8:0.9:0.01")
    assert g[2] == 0.82 and repr(float(g[2])) == "0.82"  # seq() gives 0.8200000000000001
    assert [float(v) for v in parse_threshold_grid("0.1:0.9:0.07")][2:4] == [0.24, 0.31]
    assert list(parse_threshold_grid("0.05:0.2:0.05")) == [0.05, 0.1, 0.15, 0.2]
    assert [float(v) for v in parse_threshold_grid("1e-3:3e-3:1e-3")] == [0.001, 0.002, 0.003]


def test_asah_matches_r():
    ref = R["asah"]
    # risks came through JSON rounded to 15 digits: none is that close to a threshold
    assert ref["min_gap"] > 1e-9
    risks = _asah_risks()
    assert risks["s100b_rescaled"].min() == 0 and risks["s100b_rescaled"].max() == 1
    dc = decision_curve(ASAH["poor"], risks)  # default grid = seq(0, 0.99, by = 0.01)
    _compare(dc, ref)
    assert dc.models == ("glm", "s100b_rescaled", "treat_all", "treat_none")


def test_asah_harm_and_prevalence_match_r():
    ref = R["asah_harm_prev"]
    dc = decision_curve(
        ASAH["poor"],
        _asah_risks(),
        threshold_grid(0, 0.99, 0.01),
        harm=ref["harm"],
        prevalence=ref["prevalence"],
    )
    _compare(dc, ref)
    assert dc.harm["glm"] == 0.05 and dc.harm["s100b_rescaled"] == 0.0
    assert np.all(np.isnan(dc.standardized_net_benefit["glm"])) and "glm" in dc.note


def test_toy_with_zero_one_risks_and_ties_at_thresholds_matches_r():
    ref = R["toy"]
    risks = {k: np.array(v) for k, v in ref["risks"].items()}
    dc = decision_curve(ref["y"], risks, ref["thresholds"])
    _compare(dc, ref)


# --------------------------------------------------------------------------------------------
# independent checks
# --------------------------------------------------------------------------------------------
def test_hand_computed_toy():
    # y = 1,1,0,0; risks .8,.3,.3,.1; n = 4, prevalence .5
    y = [1, 1, 0, 0]
    r = [0.8, 0.3, 0.3, 0.1]
    dc = decision_curve(y, {"m": r}, [0.0, 0.3, 0.5])
    # t = .3: tp = 2/4, fp = 1/4 (0.3 >= 0.3 counts) -> NB = .5 - (.3/.7)(.25)
    # t = .5: tp = 1/4, fp = 0 -> NB = .25; t = 0: everyone positive -> NB = .5
    np.testing.assert_allclose(dc.net_benefit["m"], [0.5, 0.5 - 0.3 / 0.7 * 0.25, 0.25])
    np.testing.assert_allclose(dc.net_benefit["treat_all"], [0.5, 0.5 - 0.3 / 0.7 * 0.5, 0.0])
    np.testing.assert_array_equal(dc.net_benefit["treat_none"], 0.0)
    # NIA at .5: (.25 - 0)/1 = .25; at .3: (.25 * 3/7)/(3/7) = .25
    np.testing.assert_allclose(dc.net_intervention_avoided["m"][1:], [0.25, 0.25])
    assert np.isnan(dc.net_intervention_avoided["m"][0])  # 0/0 at t = 0, as in R
    np.testing.assert_allclose(dc.standardized_net_benefit["m"], dc.net_benefit["m"] / 0.5)


def test_treat_none_zero_and_treat_all_formula():
    dc = decision_curve(ASAH["poor"], {"s": _asah_risks()["glm"]})
    np.testing.assert_array_equal(dc.net_benefit["treat_none"], 0.0)
    p = ASAH["poor"].mean()
    t = dc.thresholds
    np.testing.assert_allclose(dc.net_benefit["treat_all"], p - t / (1 - t) * (1 - p), rtol=1e-14)
    assert np.all(dc.net_intervention_avoided["treat_all"][1:] == 0)


def test_zero_and_one_risks_are_nudged():
    # a risk of exactly 0 is negative even at t = 0; a risk of 1 always positive
    y = [1, 0, 1, 0]
    dc = decision_curve(y, {"m": [0.0, 0.0, 1.0, 1.0]}, [0.0, 0.5, 0.99])
    np.testing.assert_allclose(dc.tp_rate["m"], [0.25, 0.25, 0.25])
    np.testing.assert_allclose(dc.fp_rate["m"], [0.25, 0.25, 0.25])
    assert EPS == np.finfo(float).eps


def test_permutation_invariance_and_frames():
    risks = _asah_risks()
    perm = np.random.default_rng(3).permutation(len(ASAH))
    a = decision_curve(ASAH["poor"], risks)
    b = decision_curve(ASAH["poor"].to_numpy()[perm], {k: v[perm] for k, v in risks.items()})
    for m in a.models:
        np.testing.assert_allclose(a.net_benefit[m], b.net_benefit[m], rtol=1e-14)
    f = a.to_frame()
    assert list(f.columns) == [
        "model",
        "threshold",
        "net_benefit",
        "net_intervention_avoided",
        "standardized_net_benefit",
        "tp_rate",
        "fp_rate",
    ]
    assert len(f) == 4 * 100
    d = a.to_dict()
    assert set(d["net_benefit"]) == {"glm", "s100b_rescaled", "treat_all", "treat_none"}
    assert len(d["thresholds"]) == 100 and d["net_intervention_avoided"]["glm"][0] is None
    assert set(d["net_intervention_avoided"]) == set(d["net_benefit"])
    json.dumps(d)  # JSON-ready


def test_threshold_grid_parsing():
    np.testing.assert_allclose(parse_threshold_grid("0.05:0.5:0.05"), np.arange(1, 11) * 0.05)
    g = parse_threshold_grid(" 0.1 : 0.3 : 0.1 ")
    assert len(g) == 3 and g[-1] == 0.3  # TO included despite 0.1 + 2*0.1 = 0.30000000000000004
    np.testing.assert_array_equal(parse_threshold_grid("0.2:0.2:0.1"), [0.2])
    assert len(parse_threshold_grid("0:0.95:0.1")) == 10  # TO not on the grid: stops below
    dc = decision_curve([0, 1, 1, 0], {"m": [0.1, 0.9, 0.6, 0.4]}, "0.1:0.5:0.1")
    assert dc.thresholds.size == 5


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "spec,msg",
    [
        ("0:1:0.1", "t = 1 is undefined"),
        ("0:0.5", "FROM:TO:STEP"),
        ("a:0.5:0.1", "not a number"),
        ("0:0.5:0", "step"),
        ("0.5:0.1:0.1", "below start"),
        ("-0.1:0.5:0.1", r"outside \[0, 1\)"),
        ("0:0.5:inf", "not finite"),
    ],
)
def test_error_bad_grid(spec, msg):
    with pytest.raises(InputError, match=msg):
        parse_threshold_grid(spec)


def test_error_thresholds():
    y, r = [0, 1], {"m": [0.2, 0.8]}
    with pytest.raises(InputError, match="t = 1 is undefined"):
        decision_curve(y, r, [0.1, 1.0])
    with pytest.raises(InputError, match=r"outside \[0, 1\)"):
        decision_curve(y, r, [-0.01])
    with pytest.raises(InputError, match=r"outside \[0, 1\)"):
        decision_curve(y, r, [np.nan])
    with pytest.raises(InputError, match="at least one"):
        decision_curve(y, r, [])
    with pytest.raises(InputError, match="numbers"):
        decision_curve(y, r, ["x"])


def test_error_outcome_and_risks():
    with pytest.raises(InputError, match="not 0/1"):
        decision_curve([0, 2], {"m": [0.1, 0.2]})
    with pytest.raises(InputError, match="no events"):
        decision_curve([0, 0], {"m": [0.1, 0.2]})
    with pytest.raises(InputError, match="no non-events"):
        decision_curve([1, 1], {"m": [0.1, 0.2]})
    with pytest.raises(InputError, match="lengths differ"):
        decision_curve([0, 1, 1], {"m": [0.1, 0.2]})
    with pytest.raises(InputError, match=r"risk 'm': 1 missing value\(s\) at position"):
        decision_curve([0, 1], {"m": [0.1, np.nan]})
    s = pd.Series([0.1, 1.2], index=[7, 8], name="p_hat")
    with pytest.raises(InputError, match=r"column 'p_hat': row 8: value 1.2 is not a probability"):
        decision_curve(pd.Series([0, 1], index=[7, 8]), {"m": s})
    with pytest.raises(InputError, match="numeric"):
        decision_curve([0, 1], {"m": ["a", "b"]})
    with pytest.raises(InputError, match="reserved"):
        decision_curve([0, 1], {"treat_all": [0.1, 0.2]})
    with pytest.raises(InputError, match="mapping"):
        decision_curve([0, 1], [0.1, 0.2])  # type: ignore[arg-type]
    with pytest.raises(InputError, match="one-dimensional"):
        decision_curve([0, 1], {"m": [[0.1, 0.2]]})


def test_error_harm_and_prevalence():
    y, r = [0, 1], {"m": [0.2, 0.8]}
    with pytest.raises(InputError, match="not a model"):
        decision_curve(y, r, harm={"other": 0.1})
    with pytest.raises(InputError, match="not a number"):
        decision_curve(y, r, harm="x")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="not finite"):
        decision_curve(y, r, harm=np.inf)
    with pytest.raises(InputError, match="strictly between"):
        decision_curve(y, r, prevalence=1.0)
    with pytest.raises(InputError, match="not a number"):
        decision_curve(y, r, prevalence="a")  # type: ignore[arg-type]
    dc = decision_curve(y, r, [0.5], harm=0.1)
    assert dc.net_benefit["m"][0] == pytest.approx(0.5 - 0.1)
    assert dc.harm["treat_all"] == 0.0
