"""myorisk.modeling.meta against metafor 3.8, glm and pROC 1.18 (tests/results/meta.R)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from myorisk.errors import InputError
from myorisk.modeling.meta import random_effects, site_performance

from conftest import RESULTS, load_r

pytestmark = pytest.mark.r_parity

R = load_r("meta")
TOL = 1e-6  # the tolerance; observed agreement is ~1e-12
POOLED_KEYS = ("estimate", "se", "low", "high", "pi_low", "pi_high", "tau2", "i2", "h2", "q", "q_p", "s2w")
SITE_KEYS = ("n", "events", "expected", "oe", "log_oe_se", "citl", "citl_se", "slope", "slope_se",
             "c", "c_se", "c_logit", "c_se_logit", "brier", "lp_mean", "lp_sd")


def _close(a: float, b: float, tol: float = TOL) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(b))


@pytest.mark.r_parity
@pytest.mark.parametrize("case", sorted(R["cases"]))
def test_random_effects_equals_metafor(case):
    c = R["cases"][case]
    m = random_effects(c["yi"], c["vi"])
    for k in POOLED_KEYS:
        assert _close(getattr(m, k), c[k]), (case, k, getattr(m, k), c[k])
    p = m.predictive_probability(c["prob_lo"], c["prob_hi"])
    assert _close(p, c["prob"]), (case, p, c["prob"])


@pytest.mark.r_parity
def test_site_aggregates_equal_r():
    d = pd.read_csv(RESULTS / "data" / "meta_sites.csv")
    d["lp"] = -1.1 + 0.8 * d["x1"] + 0.75 * d["x2"]
    d["p"] = 1 / (1 + np.exp(-d["lp"]))
    for ref in R["sites"]:
        s = d[d["site"] == ref["site"]]
        got = site_performance(s["y"], s["p"], lp=s["lp"], thresholds=ref["thresholds"], min_cell=0)
        for k in SITE_KEYS:
            assert _close(getattr(got, k), ref[k]), (ref["site"], k, getattr(got, k), ref[k])
        assert np.allclose(got.net_benefit, ref["net_benefit"], atol=1e-12)


@pytest.mark.r_parity
@pytest.mark.parametrize("measure", ["c", "oe", "slope", "citl"])
def test_pooled_site_measures_equal_metafor(measure):
    d = pd.read_csv(RESULTS / "data" / "meta_sites.csv")
    d["lp"] = -1.1 + 0.8 * d["x1"] + 0.75 * d["x2"]
    d["p"] = 1 / (1 + np.exp(-d["lp"]))
    perf = [site_performance(g["y"], g["p"], lp=g["lp"]) for _, g in d.groupby("site")]
    yi = {"c": [s.c_logit for s in perf], "oe": [math.log(s.oe) for s in perf],
          "slope": [s.slope for s in perf], "citl": [s.citl for s in perf]}[measure]
    se = {"c": [s.c_se_logit for s in perf], "oe": [s.log_oe_se for s in perf],
          "slope": [s.slope_se for s in perf], "citl": [s.citl_se for s in perf]}[measure]
    tr = {"c": "logit", "oe": "log"}.get(measure, "identity")
    m = random_effects(yi, np.square(se), measure=measure, transform=tr)
    ref = R["meta_sites"][measure]
    for k in POOLED_KEYS:
        assert _close(getattr(m, k), ref[k]), (measure, k)
    lo, hi = ref["prob_lo"], ref["prob_hi"]
    back = {"logit": lambda v: 1 / (1 + math.exp(-v)), "log": math.exp}.get(tr, lambda v: v)
    p = m.predictive_probability(None if lo is None else back(lo), None if hi is None else back(hi))
    assert _close(p, ref["prob"])
    d_ = m.to_dict()  # natural scale
    if tr == "logit":
        assert _close(d_["estimate"], 1 / (1 + math.exp(-ref["estimate"])))
    if tr == "log":
        assert _close(d_["pi_high"], math.exp(ref["pi_high"]))


@pytest.mark.unit
def test_random_effects_refuses_bad_input():
    with pytest.raises(InputError, match="at least 2"):
        random_effects([0.1], [0.01])
    with pytest.raises(InputError, match="non-positive variance for b"):
        random_effects([0.1, 0.2], [0.01, 0.0], labels=["a", "b"])
    with pytest.raises(InputError, match="2 estimates but 3"):
        random_effects([0.1, 0.2], [0.01, 0.02, 0.03])


@pytest.mark.unit
def test_small_cells_are_never_stored():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.02, 0.6, 200)
    y = (rng.uniform(size=200) < p).astype(int)
    s = site_performance(y, p, thresholds=(0.05, 0.3, 0.59), min_cell=5)
    d = s.to_dict()
    for row in d["net_benefit"]:
        if row["tp"] is not None:
            fn = s.events - row["tp"]
            tn = (s.n - s.events) - row["fp"]
            assert min(row["tp"], row["fp"], fn, tn) == 0 or min(row["tp"], row["fp"], fn, tn) >= 5
    assert any(r["tp"] is None for r in d["net_benefit"])  # 0.59: few positives
    # the net benefit goes with its counts: n·NB = TP − FP·t/(1 − t) would reveal them
    for row in d["net_benefit"]:
        assert (row["net_benefit"] is None) == (row["tp"] is None)
        if row["tp"] is not None:
            w = row["threshold"] / (1 - row["threshold"])
            assert row["net_benefit"] == pytest.approx((row["tp"] - row["fp"] * w) / s.n, rel=1e-12)
    for b in d["calibration"]:
        assert b["n"] is None or b["n"] == 0 or b["n"] >= 5
    with pytest.raises(InputError, match="fewer than 5 events"):
        site_performance([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], np.full(10, 0.2), min_cell=5)


# ---- sample size for external validation (pmvalsampsize) ----------------------------------------
@pytest.mark.r_parity
def test_r_random_streams_replayed():
    from myorisk.modeling.sample_size import _r_mt_state, r_rbeta, r_rbinom1, r_rnorm

    s = R["streams"]
    assert np.allclose(r_rnorm(5, -5, 2.5, _r_mt_state(123456)), s["rnorm5"], rtol=0, atol=1e-13)
    rb = r_rbeta(2000, 0.5, 0.5, _r_mt_state(123456))  # algorithm BC
    assert np.allclose(rb[:20], s["rbeta_head"], rtol=0, atol=1e-14)
    assert _close(float(np.sum(np.log(rb))), s["rbeta_sum_log"], 1e-12)  # every draw, in order
    rb2 = r_rbeta(500, 2, 5, _r_mt_state(99))  # algorithm BB
    assert np.allclose(rb2[:10], s["rbeta25_head"], rtol=0, atol=1e-14)
    assert _close(float(rb2.sum()), s["rbeta25_sum"], 1e-12)
    bg = _r_mt_state(1234)
    assert r_rbinom1(0.018, 2000, bg).tolist() == s["rbinom_const"]
    p = 1 / (1 + np.exp(-np.linspace(-6, 6, 2000)))
    assert r_rbinom1(p, 2000, bg).tolist() == s["rbinom_vec"]


# The three worked examples of pmvalsampsize's help page (Riley et al. 2021, Stat Med, the
# mechanical heart valve example), with the per-criterion sizes its own tests/testthat/test_bin.R
# asserts (O/E, slope, C, final). Published numbers, not produced by an R script here: the
# package is not in Debian; its random stream is replayed exactly (test above), so they agree exactly.
PMVAL_EXAMPLES = [
    (dict(lpnormal=(-5, 2.5), simobs=1000), (905, 4501, 4252, 4501)),
    (dict(lpbeta=(0.5, 0.5), simobs=1000), (905, 1641, 4252, 4252)),
    (dict(lpcstat=-4.7, seed=1234, simobs=10000), (905, 16175, 4252, 16175)),
]


@pytest.mark.unit
@pytest.mark.parametrize(("kw", "expected"), PMVAL_EXAMPLES)
def test_pmvalsampsize_worked_examples(kw, expected):
    from myorisk.modeling.sample_size import riley_validation

    res = riley_validation(prevalence=0.018, cstatistic=0.8, oeciwidth=1, **kw)
    assert tuple(c.n for c in res.criteria) + (res.n,) == expected
    assert res.events == pytest.approx(res.n * 0.018)


@pytest.mark.unit
def test_validation_net_benefit_criterion():
    from myorisk.modeling.sample_size import riley_validation

    a = riley_validation(prevalence=0.018, cstatistic=0.8, oeciwidth=1, lpnormal=(-5, 2.5), simobs=1000,
                         sensitivity=0.7, specificity=0.8, threshold=0.02)
    nb = a.criteria[-1]
    assert nb.name == "net_benefit"
    t, phi = 0.02, 0.018
    assert nb.performance == pytest.approx((0.7 * phi - 0.2 * (1 - phi) * t / (1 - t)) / phi)
    b = riley_validation(prevalence=0.018, cstatistic=0.8, oeciwidth=1, lpnormal=(-5, 2.5), simobs=1000,
                         sensitivity=0.7, specificity=0.8, threshold=0.02, nbciwidth=0.1)
    assert 3.5 < b.criteria[-1].n / nb.n < 4.5  # half the width, about four times the patients
    c = riley_validation(prevalence=0.018, cstatistic=0.8, oeciwidth=1, lpnormal=(-5, 2.5), simobs=1000,
                         threshold=0.02)  # sensitivity/specificity from the simulated LP
    assert 0 < c.sensitivity < 1 and 0 < c.specificity < 1
    with pytest.raises(InputError, match="exactly one LP distribution"):
        riley_validation(prevalence=0.1, cstatistic=0.8)


@pytest.mark.unit
def test_separated_site_is_refused():
    p = np.r_[np.full(10, 0.1), np.full(10, 0.9)]
    y = np.r_[np.zeros(10), np.ones(10)]
    with pytest.raises(InputError, match="separate events from non-events completely"):
        site_performance(y, p, min_cell=5, label="x.csv")


@pytest.mark.r_parity
def test_random_effects_equals_metafor_on_150_random_cases():
    worst = {k: 0.0 for k in POOLED_KEYS}
    for c in R["random_cases"]:
        m = random_effects(c["yi"], c["vi"])
        for k in POOLED_KEYS:
            worst[k] = max(worst[k], abs(getattr(m, k) - c[k]) / max(1.0, abs(c[k])))
        assert _close(m.predictive_probability(0.0, None), c["prob"])
    assert max(worst.values()) <= TOL, worst
    assert sum(c["tau2"] == 0 for c in R["random_cases"]) >= 10  # the boundary is exercised


@pytest.mark.unit
def test_identical_centres_give_a_note_not_nan():
    """Two centres with the same estimate: HKSJ's interval has zero width (as metafor's); the
    predictive probability cannot be estimated, which is said (it printed 'nan' without a word)."""
    m = random_effects([0.8, 0.8], [0.04, 0.04], measure="slope")
    assert m.se == 0 and m.low == m.high == pytest.approx(0.8)
    assert math.isnan(m.predictive_probability(0.9, 1.1))
    assert any("same estimate" in n and "zero width" in n for n in m.notes)
    m = random_effects([0.8, 0.9], [0.04, 0.04], measure="slope")
    assert not any("same estimate" in n for n in m.notes)

