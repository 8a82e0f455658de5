"""myorisk.modeling.roc against R pROC 1.18 (tests/results/roc.R) and independent checks."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from myorisk.errors import InputError
from myorisk.modeling.roc import (
    BestThreshold,
    RocResult,
    best_threshold,
    delong_placements,
    delong_test,
    delong_test_unpaired,
    roc_curve,
)

from conftest import load_data, load_r

pytestmark = pytest.mark.r_parity

R = load_r("roc")
DATA = {"asah": load_data("asah"), "birthwt": load_data("birthwt")}
RTOL = 1e-10  # deterministic: pROC's numbers reach us with 15 significant digits
RTOL_P = 1e-8  # p-values: scipy vs R's pnorm/pt


def _nan(v):
    return np.nan if v is None else v


def _vec(v):
    return np.atleast_1d(np.array([_nan(x) for x in np.atleast_1d(v)], dtype=float))


# --------------------------------------------------------------------------------------------
# R parity
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "case", R["curves"], ids=lambda c: f"{c['data']}-{c['predictor']}-{c['direction']}"
)
def test_roc_matches_pROC(case):
    d = DATA[case["data"]]
    r = roc_curve(d[case["outcome"]], d[case["predictor"]], direction=case["direction"])
    assert r.direction == case["direction_used"]
    assert (r.n_cases, r.n_controls) == (case["n_cases"], case["n_controls"])
    np.testing.assert_allclose(r.auc, case["auc"], rtol=RTOL)
    np.testing.assert_allclose(r.variance, case["var"], rtol=RTOL)
    np.testing.assert_allclose(r.se, np.sqrt(case["var"]), rtol=RTOL)
    np.testing.assert_allclose([r.ci_low, r.auc, r.ci_high], case["ci"], rtol=RTOL)
    r90 = roc_curve(
        d[case["outcome"]], d[case["predictor"]], direction=case["direction"], level=0.9
    )
    np.testing.assert_allclose([r90.ci_low, r90.ci_high], np.array(case["ci90"])[[0, 2]], rtol=RTOL)

    for key, method in (("best_youden", "youden"), ("best_topleft", "closest.topleft")):
        b = best_threshold(r, method=method)
        exp = case[key]
        got = b.to_frame()
        np.testing.assert_allclose(got["threshold"], _vec(exp["threshold"]), rtol=RTOL)
        np.testing.assert_allclose(got["sensitivity"], _vec(exp["sensitivity"]), rtol=RTOL)
        np.testing.assert_allclose(got["specificity"], _vec(exp["specificity"]), rtol=RTOL)
        np.testing.assert_allclose(got["ppv"], _vec(exp["ppv"]), rtol=RTOL)
        np.testing.assert_allclose(got["npv"], _vec(exp["npv"]), rtol=RTOL)
        # pROC's "youden" column is Se + Sp (best.weights = c(1, 0.5)); ours is J = Se + Sp - 1
        np.testing.assert_allclose(got["youden"] + 1.0, _vec(exp["youden"]), rtol=RTOL)
        np.testing.assert_allclose(got["closest_topleft"], _vec(exp["closest.topleft"]), rtol=RTOL)


def _r_thresholds(pts):
    thr = _vec(pts["threshold"])
    inf = np.array(pts["threshold_inf"], dtype=float)
    thr[inf != 0] = inf[inf != 0] * np.inf
    return thr


@pytest.mark.parametrize(
    "key,data,outcome,predictor",
    [("asah_s100b", "asah", "poor", "s100b"), ("birthwt_lwt", "birthwt", "low", "lwt")],
)
def test_curve_points_match_pROC(key, data, outcome, predictor):
    pts = R["points"][key]
    d = DATA[data]
    r = roc_curve(d[outcome], d[predictor])
    np.testing.assert_allclose(r.thresholds, _r_thresholds(pts), rtol=RTOL)
    np.testing.assert_allclose(r.sensitivities, pts["sensitivity"], rtol=RTOL)
    np.testing.assert_allclose(r.specificities, pts["specificity"], rtol=RTOL)
    f = r.to_frame()
    assert list(f.columns) == ["threshold", "sensitivity", "specificity"]
    assert len(f) == len(pts["sensitivity"])


def test_placements_match_pROC():
    pl = R["points"]["asah_s100b_placements"]
    d = DATA["asah"]
    r = roc_curve(d["poor"], d["s100b"])
    np.testing.assert_allclose(r.case_placements, pl["X"], rtol=RTOL)
    np.testing.assert_allclose(r.control_placements, pl["Y"], rtol=RTOL)
    np.testing.assert_allclose(r.auc, pl["theta"], rtol=RTOL)


@pytest.mark.parametrize("i", [0, 1])
def test_near_tie_threshold_guard_matches_pROC(i):
    nt = R["near_tie"]
    exp = nt["curves"][i]
    pred = np.array([1.0, 1.0 + 2.0**-52, 2.0, 3.0, 1.0 + 2.0**-52, 2.5])  # as in roc.R
    np.testing.assert_allclose(pred, nt["predictor"], rtol=1e-15)
    r = roc_curve(nt["response"], pred, direction=exp["direction"])
    np.testing.assert_allclose(r.thresholds, _r_thresholds(exp), rtol=RTOL)
    np.testing.assert_allclose(r.sensitivities, exp["sensitivity"], rtol=RTOL)
    np.testing.assert_allclose(r.specificities, exp["specificity"], rtol=RTOL)
    np.testing.assert_allclose(r.auc, exp["auc"], rtol=RTOL)
    # the midpoint of 1 and 1+2^-52 rounds onto 1; pROC moves it so the curve stays correct
    if exp["direction"] == "<":
        assert 1.0 + 2.0**-52 in r.thresholds and 1.0 not in r.thresholds
    else:
        assert 1.0 in r.thresholds and 1.0 + 2.0**-52 not in r.thresholds
    # every point's Se/Sp is what the threshold rule actually gives
    cases, controls = pred[np.array(nt["response"]) == 1], pred[np.array(nt["response"]) == 0]
    for t, se, sp in zip(r.thresholds, r.sensitivities, r.specificities, strict=True):
        pos = (lambda v: v >= t) if exp["direction"] == "<" else (lambda v: v <= t)  # noqa: B023
        assert se == np.mean(pos(cases)) and sp == np.mean(~pos(controls))


def test_tied_optima_all_returned_like_pROC():
    s = R["small"]["tie"]
    r = roc_curve(s["response"], s["predictor"], direction="<")
    np.testing.assert_allclose(r.auc, s["auc"], rtol=RTOL)
    for key, method in (("best_youden", "youden"), ("best_topleft", "closest.topleft")):
        b = best_threshold(r, s["response"], s["predictor"], method=method)
        exp = s[key]
        assert len(b.rows) == len(exp["threshold"]) == 2
        np.testing.assert_allclose(b.to_frame()["threshold"], exp["threshold"], rtol=RTOL)
        np.testing.assert_allclose(b.to_frame()["ppv"], exp["ppv"], rtol=RTOL)
        np.testing.assert_allclose(b.to_frame()["npv"], exp["npv"], rtol=RTOL)
        assert b.threshold == b.rows[0]["threshold"] == exp["threshold"][0]
        d = b.to_dict()
        assert d["threshold"] == exp["threshold"][0] and len(d["all"]) == 2


def test_single_case_gives_nan_ci_like_pROC():
    s = R["small"]["one_case"]
    assert s["var"] is None and s["ci"] == [None, None, None]
    r = roc_curve(s["response"], s["predictor"])
    np.testing.assert_allclose(r.auc, s["auc"], rtol=RTOL)
    assert np.isnan(r.se) and np.isnan(r.ci_low) and np.isnan(r.ci_high) and np.isnan(r.variance)
    assert "at least 2" in r.note
    d = r.to_dict()
    assert d["se"] is None and d["ci_low"] is None and d["auc"] == pytest.approx(2 / 3)
    t = delong_test(s["response"], s["predictor"], np.array(s["predictor"]) ** 2)
    assert np.isnan(t.z) and np.isnan(t.p) and "at least 2" in t.note
    u = delong_test_unpaired(s["response"], s["predictor"], [0, 1, 0, 1], [1, 2, 3, 4])
    assert np.isnan(u.statistic) and np.isnan(u.p) and "sample 1" in u.note


@pytest.mark.parametrize("case", R["paired"], ids=lambda c: f"{c['data']}-{c['p1']}-{c['p2']}")
def test_paired_delong_matches_pROC(case):
    d = DATA[case["data"]]
    t = delong_test(d[case["outcome"]], d[case["p1"]], d[case["p2"]])
    assert (t.direction1, t.direction2) == (case["direction1"], case["direction2"])
    np.testing.assert_allclose([t.auc1, t.auc2], case["estimate"], rtol=RTOL)
    np.testing.assert_allclose(t.z, case["z"], rtol=RTOL)
    np.testing.assert_allclose(t.p, case["p"], rtol=RTOL_P)
    np.testing.assert_allclose([t.ci_low, t.ci_high], case["conf_int"], rtol=RTOL)
    t90 = delong_test(d[case["outcome"]], d[case["p1"]], d[case["p2"]], level=0.9)
    np.testing.assert_allclose([t90.ci_low, t90.ci_high], case["conf_int90"], rtol=RTOL)
    assert t.to_dict()["z"] == t.z and len(t.to_frame()) == 1


def test_unpaired_delong_matches_pROC():
    a, b = DATA["asah"], DATA["birthwt"]
    fem = a["gender"] == "Female"
    calls = [
        (a["poor"], a["wfns"], a["poor"], a["s100b"]),
        (a["poor"], a["wfns"], a["poor"], a["ndka"]),
        (a["poor"][fem], a["s100b"][fem], a["poor"][~fem], a["s100b"][~fem]),
        (b["low"], b["lwt"], a["poor"], a["s100b"]),
    ]
    for args, exp in zip(calls, R["unpaired"], strict=True):
        u = delong_test_unpaired(*args)
        assert (u.direction1, u.direction2) == (exp["direction1"], exp["direction2"])
        np.testing.assert_allclose([u.auc1, u.auc2], exp["estimate"], rtol=RTOL)
        np.testing.assert_allclose(u.statistic, exp["statistic"], rtol=RTOL)
        np.testing.assert_allclose(u.df, exp["df"], rtol=RTOL)
        np.testing.assert_allclose(u.p, exp["p"], rtol=RTOL_P)
        assert len(u.to_frame()) == 1 and u.to_dict()["df"] == u.df
    # different directions are allowed (pROC warns) and recorded
    assert "different directions" in delong_test_unpaired(*calls[3]).note


def test_versions_recorded():
    assert R["versions"]["pROC"].startswith("1.18")


# --------------------------------------------------------------------------------------------
# independent checks
# --------------------------------------------------------------------------------------------
def _brute_auc(y, s):
    y = np.asarray(y).astype(bool)
    cases, controls = s[y], s[~y]
    diff = cases[:, None] - controls[None, :]
    return float(np.mean((diff > 0) + 0.5 * (diff == 0)))


def _brute_placements(y, s):
    y = np.asarray(y).astype(bool)
    cases, controls = s[y], s[~y]
    k = (cases[:, None] > controls[None, :]) + 0.5 * (cases[:, None] == controls[None, :])
    return k.mean(axis=1), k.mean(axis=0)


@pytest.mark.parametrize(
    "data,outcome,predictor",
    [
        ("asah", "poor", "s100b"),
        ("asah", "poor", "wfns"),
        ("birthwt", "low", "lwt"),
        ("birthwt", "low", "age"),
    ],
)
def test_auc_is_pairwise_concordance_and_placements_brute_force(data, outcome, predictor):
    d = DATA[data]
    s = d[predictor].to_numpy(float)
    r = roc_curve(d[outcome], s, direction="<")
    assert r.auc == pytest.approx(_brute_auc(d[outcome], s), rel=1e-14)
    v10, v01 = _brute_placements(d[outcome], s)
    np.testing.assert_allclose(r.case_placements, v10, rtol=1e-14)
    np.testing.assert_allclose(r.control_placements, v01, rtol=1e-14)
    # trapezoidal area under the stored curve equals the Mann-Whitney AUC
    fpr = 1 - r.specificities
    trap = -np.sum(np.diff(fpr) * (r.sensitivities[1:] + r.sensitivities[:-1]) / 2)
    assert abs(trap) == pytest.approx(r.auc, rel=1e-12)


def test_negated_score_with_fixed_direction_is_complement():
    d = DATA["birthwt"]
    r = roc_curve(d["low"], d["lwt"], direction="<")
    rn = roc_curve(d["low"], -d["lwt"], direction="<")
    assert rn.auc == pytest.approx(1 - r.auc, rel=1e-14)
    assert rn.variance == pytest.approx(r.variance, rel=1e-10)
    # ">" on the score equals "<" on its negation
    rg = roc_curve(d["low"], d["lwt"], direction=">")
    assert rg.auc == pytest.approx(rn.auc, rel=1e-14)
    assert rg.variance == pytest.approx(rn.variance, rel=1e-10)
    # auto picks the direction with AUC >= 0.5 here
    assert roc_curve(d["low"], d["lwt"]).direction == ">"


def test_invariance_to_row_permutation_and_monotone_transform():
    d = DATA["asah"]
    y, s = d["poor"].to_numpy(), d["s100b"].to_numpy()
    r = roc_curve(y, s)
    perm = np.random.default_rng(1).permutation(y.size)
    rp = roc_curve(y[perm], s[perm])
    rt = roc_curve(y, np.log(s) * 3 + 7)
    for other in (rp, rt):
        assert other.auc == pytest.approx(r.auc, rel=1e-14)
        assert other.variance == pytest.approx(r.variance, rel=1e-12)
        np.testing.assert_allclose(other.sensitivities, r.sensitivities)
        np.testing.assert_allclose(other.specificities, r.specificities)
    tp = delong_test(y[perm], s[perm], d["wfns"].to_numpy()[perm])
    t = delong_test(y, s, d["wfns"])
    assert tp.z == pytest.approx(t.z, rel=1e-12)


def test_hand_computed_toy_case():
    # controls 1, 2, 3; cases 2, 4: pairs (2>1, 2=2, 2<3, 4>1, 4>2, 4>3) -> (1+.5+0+3)/6 = .75
    y = [0, 0, 0, 1, 1]
    s = [1.0, 2.0, 3.0, 2.0, 4.0]
    r = roc_curve(y, s)
    assert r.auc == 0.75
    np.testing.assert_array_equal(r.case_placements, [1.5 / 3, 1.0])
    np.testing.assert_array_equal(r.control_placements, [1.0, 0.75, 0.5])
    # S10 = var(0.5, 1) = 0.125, S01 = var(1, .75, .5) = 0.0625; Var = .125/2 + .0625/3
    assert r.variance == pytest.approx(0.125 / 2 + 0.0625 / 3, rel=1e-14)
    np.testing.assert_array_equal(r.thresholds, [-np.inf, 1.5, 2.5, 3.5, np.inf])
    np.testing.assert_allclose(r.sensitivities, [1, 1, 0.5, 0.5, 0])
    np.testing.assert_allclose(r.specificities, [0, 1 / 3, 2 / 3, 1, 1])
    b = best_threshold(r)
    # Se + Sp over the points: 1, 4/3, 7/6, 3/2, 1 -> best at 3.5 (score 4 positive only)
    assert (b.threshold, b.sensitivity, b.specificity, b.ppv, b.npv) == (3.5, 0.5, 1.0, 1.0, 0.75)
    assert b.youden == 0.5 and b.closest_topleft == 0.25 and len(b.rows) == 1


def test_delong_paired_identical_scores_and_bool_outcome():
    d = DATA["asah"]
    t = delong_test(d["poor"].astype(bool), d["s100b"], d["s100b"])
    assert t.diff == 0 and t.z == 0 and t.p == 1.0
    r = roc_curve(d["poor"].astype(bool), d["s100b"])
    assert r.auc == roc_curve(d["poor"], d["s100b"]).auc


def test_delong_placements_direct_and_to_dict():
    theta, v10, v01 = delong_placements(np.array([1.0, 2.0]), np.array([2.0, 3.0]), "<")
    assert theta == (0.5 + 1 + 1 + 1) / 4
    np.testing.assert_array_equal(v10, [0.75, 1.0])
    np.testing.assert_array_equal(v01, [1.0, 0.75])
    r = roc_curve([0, 0, 1, 1], [1.0, 2.0, 2.0, 3.0])
    d = r.to_dict()
    assert set(d) >= {
        "auc",
        "ci_low",
        "ci_high",
        "se",
        "direction",
        "n_cases",
        "n_controls",
        "level",
        "points",
    }
    assert d["points"]["threshold"][0] is None and d["points"]["threshold"][-1] is None
    assert isinstance(r, RocResult)


def test_perfect_separation():
    r = roc_curve([0, 0, 1, 1], [1, 2, 3, 4])
    assert r.auc == 1.0 and r.variance == 0.0 and r.ci_low == 1.0 and r.ci_high == 1.0
    b = best_threshold(r, method="closest.topleft")
    assert isinstance(b, BestThreshold) and b.threshold == 2.5 and b.closest_topleft == 0


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------
def test_error_outcome_not_binary():
    with pytest.raises(InputError, match="not 0/1"):
        roc_curve([0, 1, 2], [1, 2, 3])
    with pytest.raises(InputError, match="column 'grp'.*value 'a' is not 0/1"):
        roc_curve(pd.Series(["a", "b", "a"], name="grp"), [1, 2, 3])
    with pytest.raises(InputError, match="missing"):
        roc_curve([0, 1, np.nan], [1, 2, 3])
    with pytest.raises(InputError, match="one-dimensional"):
        roc_curve(np.zeros((2, 2)), [1, 2])


def test_error_group_empty():
    with pytest.raises(InputError, match="no cases"):
        roc_curve([0, 0, 0], [1, 2, 3])
    with pytest.raises(InputError, match="no controls"):
        delong_test([1, 1], [1, 2], [2, 3])
    with pytest.raises(InputError, match="AUC is undefined"):
        delong_test_unpaired([0, 1], [1, 2], [1, 1], [1, 2])


def test_error_nan_and_infinite_scores_name_rows():
    s = pd.Series([0.1, np.nan, 0.3, np.nan], index=[2, 3, 4, 5], name="s100b")
    with pytest.raises(InputError, match=r"column 's100b': 2 missing value\(s\) at rows 3, 5"):
        roc_curve(pd.Series([0, 1, 0, 1], index=[2, 3, 4, 5]), s)
    with pytest.raises(InputError, match=r"1 missing value\(s\) at position \(0-based\) 1"):
        roc_curve([0, 1, 1], [0.1, np.nan, 0.2])
    with pytest.raises(InputError, match="infinite"):
        roc_curve([0, 1, 1], [0.1, np.inf, 0.2])
    with pytest.raises(InputError, match="score2.*missing"):
        delong_test([0, 1, 1], [1, 2, 3], [1, np.nan, 3])
    with pytest.raises(InputError, match="numeric"):
        roc_curve([0, 1], ["a", "b"])


def test_error_lengths_differ():
    with pytest.raises(InputError, match="lengths differ"):
        roc_curve([0, 1, 1], [1, 2])
    with pytest.raises(InputError, match="lengths differ"):
        delong_test([0, 1, 1], [1, 2, 3], [1, 2])
    with pytest.raises(InputError, match="lengths differ"):
        delong_test_unpaired([0, 1], [1, 2], [0, 1, 0], [1, 2])


def test_error_bad_options():
    with pytest.raises(InputError, match="direction"):
        roc_curve([0, 1], [1, 2], direction="up")
    with pytest.raises(InputError, match="level"):
        roc_curve([0, 1], [1, 2], level=1.5)
    with pytest.raises(InputError, match="level"):
        delong_test([0, 1], [1, 2], [2, 1], level=0)
    r = roc_curve([0, 1, 0, 1], [1, 2, 3, 4])
    with pytest.raises(InputError, match="method"):
        best_threshold(r, method="max")
    with pytest.raises(InputError, match="both"):
        best_threshold(r, [0, 1, 0, 1])
    with pytest.raises(InputError, match="do not match"):
        best_threshold(r, [0, 1, 0, 1], [4, 3, 2, 1])
    with pytest.raises(InputError, match="RocResult"):
        best_threshold("roc")  # type: ignore[arg-type]


def test_all_pairs_of_small_grid_brute_force():
    # exhaustive small cases with ties: AUC and variance against brute force
    for y in itertools.product([0, 1], repeat=5):
        if 1 < sum(y) < 4:
            for s in ([1, 1, 2, 2, 3], [3, 1, 2, 1, 3]):
                s = np.array(s, float)
                r = roc_curve(list(y), s, direction="<")
                assert r.auc == pytest.approx(_brute_auc(y, s), abs=1e-15)
                v10, v01 = _brute_placements(y, s)
                var = np.var(v10, ddof=1) / v10.size + np.var(v01, ddof=1) / v01.size
                assert r.variance == pytest.approx(var, abs=1e-15)
