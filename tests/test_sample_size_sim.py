"""Simulation-based sample size (samplesizedev's method): the data-generating mechanism, the
published samplesizedev results within Monte-Carlo error, seed-only determinism, the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from myorisk.cli import _run
from myorisk.errors import InputError
from myorisk.modeling import sample_size_sim as sim
from myorisk.modeling.executor import ThreadExecutor
from myorisk.modeling.sample_size import cstat_to_r2cs, riley_binary

from conftest import RESULTS

PUB = json.loads((RESULTS / "samplesizedev_published.json").read_text())


@pytest.mark.unit
@pytest.mark.parametrize(("prev", "c"), [(0.2, 0.85), (0.05, 0.7), (0.4, 0.9), (0.1, 0.6)])
def test_lp_distribution_hits_prevalence_and_c(prev, c):
    mu, s2 = sim.lp_distribution(prev, c)
    assert sim.prevalence_of(mu, s2) == pytest.approx(prev, abs=1e-9)
    assert sim.cstat_of(mu, s2) == pytest.approx(c, abs=1e-9)
    # and by brute force: 400,000 simulated patients
    rng = np.random.default_rng(11)
    eta = mu + math.sqrt(s2) * rng.standard_normal(400_000)
    y = rng.random(eta.size) < 1 / (1 + np.exp(-eta))
    assert y.mean() == pytest.approx(prev, abs=4 * math.sqrt(prev * (1 - prev) / eta.size))
    r = np.argsort(np.argsort(eta)) + 1.0
    n1 = y.sum()
    auc = (r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * (y.size - n1))
    assert auc == pytest.approx(c, abs=0.004)


@pytest.mark.unit
def test_r2_from_c_is_the_limit_of_the_simulation():
    # pmsampsize's simulated value (10^6 draws) lies within its Monte-Carlo error of the limit
    exact = sim.r2cs_from_c(0.85, 0.2)
    simulated = cstat_to_r2cs(0.85, 0.2, rng="numpy", seed=1)
    assert simulated == pytest.approx(exact, abs=0.003)
    assert exact == pytest.approx(0.2505, abs=5e-4)


@pytest.mark.unit
def test_closed_forms_against_samplesizedev():
    s = PUB["sizes"]
    n1, r2 = sim.criterion1(0.2, 0.85, 10)
    assert n1 == s["rvs"] == riley_binary(prevalence=0.2, parameters=10, cstatistic=0.85).criteria[0].n
    cadj = sim.adjusted_c(0.2, 0.85, 10)
    # samplesizedev estimates c_adj from 10^6 simulated patients (0.788); the exact moments give
    # 0.7888, which rounds to 0.789
    assert abs(cadj - s["c_adjusted"]) <= 0.0015
    n_corr, _ = sim.criterion1(0.2, cadj, 10)
    assert abs(n_corr - s["analytical_corrected"]) / s["analytical_corrected"] < 0.015
    # n_pap_s_analytical's normal approximation: at its n the approximate PrAP is the target
    n_prob = sim.analytical_prob_n(0.2, 0.85, 10, 0.8, r2=r2)
    assert 300 < n_prob < 2000


@pytest.mark.unit
def test_bad_inputs_are_input_errors():
    for kw in ({"prevalence": 0.0}, {"cstatistic": 0.5}, {"parameters": 0}):
        args = {"prevalence": 0.2, "cstatistic": 0.85, "parameters": 10} | kw
        with pytest.raises(InputError):
            sim.expected_performance(100, args["prevalence"], args["cstatistic"], args["parameters"],
                                     simulations=10, nval=1000)
    with pytest.raises(InputError):
        sim.simulated_size(0.2, 0.85, 10, simulations=20)


def test_published_expected_performance_n309():
    """samplesizedev README, n = 309: mean slope 0.837, SD 0.1229, P(0.85 < slope < 1.15) 0.43."""
    ref = PUB["n309"]
    e = sim.expected_performance(309, 0.2, 0.85, 10, simulations=1000, seed=2022)
    m = e.mcse
    k = 3 * math.sqrt(2)  # both numbers are Monte-Carlo estimates with (about) the same MCSE
    assert abs(e.slope_mean - ref["slope_mean"]) < k * m["slope_mean"]
    assert abs(e.slope_median - ref["slope_median"]) < k * m["slope_median"]
    assert abs(e.slope_sd - ref["slope_sd"]) < k * e.slope_sd / math.sqrt(2 * 1000)
    assert abs(e.prob_acceptable - ref["prob_acceptable"]) < k * m["prob_acceptable"] + 0.005  # R rounds to 2 d.p.
    assert abs(e.mape_sd - ref["mape_sd"]) < k * e.mape_sd / math.sqrt(2 * 1000)
    assert abs(e.mape_median - ref["mape_median"]) < k * 1.2533 * m["mape_mean"]
    assert abs(e.brier_mean - ref["brier_mean"]) < 0.001 + k * m["brier_mean"]  # R: 3 d.p.
    assert abs(e.mean_risk_sd - ref["mean_risk_sd"]) < 0.0005 + k * e.mean_risk_sd / math.sqrt(2000)
    # C: samplesizedev's quickcstat pairs each case with one random control (unbiased, noisier)
    assert abs(e.c_mean - ref["c_mean"]) < 0.003
    assert e.failed == 0


@pytest.mark.unit
def test_result_depends_on_the_seed_alone():
    a = sim.expected_performance(120, 0.2, 0.8, 5, simulations=60, nval=2000, seed=7,
                                 executor=ThreadExecutor(1))
    b = sim.expected_performance(120, 0.2, 0.8, 5, simulations=60, nval=2000, seed=7,
                                 executor=ThreadExecutor(2))
    c = sim.expected_performance(120, 0.2, 0.8, 5, simulations=60, nval=2000, seed=8)
    da, db = a.to_dict(), b.to_dict()
    for d in (da, db):
        d.pop("seconds"), d.pop("executor")
    assert da == db
    assert c.slope_mean != a.slope_mean
    # common random numbers: the first simulations are the same at any simulation count
    r60 = sim._simulate(sim.DGM.make(0.2, 0.8, 5), 120, 60, 7, 2000, True, None, None)
    r20 = sim._simulate(sim.DGM.make(0.2, 0.8, 5), 120, 20, 7, 2000, True, None, None)
    np.testing.assert_array_equal(r60[:20], r20)


@pytest.mark.slow
def test_published_required_sizes():
    """samplesizedev README: median slope 0.9 needs n = 535 (517–553 within 1 MCSE); PrAP 0.8 needs 701."""
    s = PUB["sizes"]
    r = sim.simulated_size(0.2, 0.85, 10, target_slope=0.9, simulations=1000, seed=2022)
    half = (r.n_interval[1] - r.n_interval[0]) / 2
    r_half = (s["sim_median_slope_0.9_mcse_interval"][1] - s["sim_median_slope_0.9_mcse_interval"][0]) / 2
    assert abs(r.n_required - s["sim_median_slope_0.9"]) < 3 * math.hypot(half, r_half)
    assert abs(r.performance.slope_median - 0.9) < 3 * r.performance.mcse["slope_median"]
    assert r.rvs == s["rvs"]
    p = sim.simulated_size(0.2, 0.85, 10, target_prob=0.8, simulations=1000, seed=2022)
    half = (p.n_interval[1] - p.n_interval[0]) / 2
    assert abs(p.n_required - s["sim_prob_0.8"]) < 3 * math.hypot(half, half)
    assert abs(p.performance.prob_acceptable - 0.8) < 3 * p.performance.mcse["prob_acceptable"]


def _cli(capsys, *args):
    code = _run([str(a) for a in args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


@pytest.mark.cli
def test_cli_simulate_json_contract(capsys):
    code, out, err = _cli(capsys, "sample-size", "--simulate", "--prevalence", "0.2", "--c", "0.85",
                          "--parameters", "10", "--n", "200", "--simulations", "40",
                          "--validation-size", "2000", "--seed", "3", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert {"n", "slope", "prob_acceptable", "mape", "c", "brier", "mcse"} <= set(d)
    assert set(d["slope"]) == {"mean", "median", "sd"}
    assert d["n"] == 200 and 0.5 < d["slope"]["median"] < 1.0
    direct = sim.expected_performance(200, 0.2, 0.85, 10, simulations=40, nval=2000, seed=3)
    assert d["slope"]["mean"] == pytest.approx(direct.slope_mean, rel=1e-12)
    code, out, err = _cli(capsys, "sample-size", "--simulate", "--prevalence", "0.2", "--c", "0.75",
                          "--parameters", "4", "--target-slope", "0.9", "--simulations", "60",
                          "--validation-size", "2000", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["n_required"] == d["n"] and d["n_interval"][0] <= d["n_required"] <= d["n_interval"][1]


@pytest.mark.cli
@pytest.mark.parametrize("args", [
    ["--simulate", "--prevalence", "0.2", "--parameters", "10", "--n", "300"],  # no --c
    ["--simulate", "--prevalence", "0.2", "--c", "0.8", "--parameters", "10"],  # no n/target
    ["--simulate", "--prevalence", "0.2", "--c", "0.8", "--parameters", "10", "--n", "300", "--target-slope", "0.9"],
    ["--prevalence", "0.2", "--c", "0.8", "--parameters", "10", "--n", "300"],  # --n without --simulate
    ["--simulate", "--prevalence", "1.2", "--c", "0.8", "--parameters", "10", "--n", "300"],
    ["--simulate", "--prevalence", "0.2", "--c", "0.8", "--parameters", "10", "--n", "300", "--workers", "1", "--scheduler", "tcp://x:1"],
])
def test_cli_simulate_errors(capsys, args):
    code, out, err = _cli(capsys, "sample-size", *args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
