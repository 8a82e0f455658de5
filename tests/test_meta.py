"""myorisk.modeling.meta against metafor 3.8, glm and pROC 1.18 (tests/results/meta.R)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from myorisk.errors import InputError
from myorisk.modeling.meta import random_effects, site_performance

from conftest import RESULTS, load_r

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
    for b in d["calibration"]:
        assert b["n"] is None or b["n"] == 0 or b["n"] >= 5
    with pytest.raises(InputError, match="fewer than 5 events"):
        site_performance([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], np.full(10, 0.2), min_cell=5)
