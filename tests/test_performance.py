"""R parity, brute force and error paths for myorisk.modeling.performance.

References: rms 6.5 ``val.prob(p, y, pl = FALSE)`` and ResourceSelection 0.3-6 ``hoslem.test``
(re-implemented in base R), both run by ``tests/results/performance.R``.
"""

from __future__ import annotations

import json
from itertools import product

import numpy as np
import pandas as pd
import pytest

from myorisk.errors import InputError
from myorisk.modeling.performance import (
    HosmerLemeshow,
    Performance,
    hosmer_lemeshow,
    spiegelhalter_z,
    val_prob,
)

from conftest import load_r

pytestmark = pytest.mark.r_parity

R = load_r("performance")
VP = {c["name"]: c for c in R["val_prob"]}
VP_NONCONST = [c for c in R["val_prob"] if c["name"] != "constant"]

# R label -> (attribute, rtol, atol). Tolerances per quantity:
# - binned Dxy/C are ratios of integer pair counts: 1e-12;
# - R2, D, D:Chi-sq, Brier, Spiegelhalter, Emax/E90/Eavg are deterministic: 1e-10 (observed <1e-14);
# - U:Chi-sq is a difference of two deviances and is pure rounding noise (~1e-14) in R when the
#   predictions are the apparent fit, so it gets an absolute 1e-9 (U, Q, U:p likewise);
# - Intercept/Slope: rms 6.5's lrm.fit iteration is reproduced, so 1e-9 relative (observed
#   ~1e-13) with an absolute 1e-12 for intercepts that are ~1e-9.
STATS = {
    "Dxy": ("dxy_rms65", 1e-12, 0.0),
    "C (ROC)": ("c_rms65", 1e-12, 0.0),
    "R2": ("r2", 1e-10, 0.0),
    "D": ("d", 1e-10, 0.0),
    "D:Chi-sq": ("d_chi2", 1e-10, 0.0),
    "U": ("u", 1e-9, 1e-11),
    "U:Chi-sq": ("u_chi2", 1e-8, 1e-9),
    "U:p": ("u_p", 1e-8, 1e-10),
    "Q": ("q", 1e-9, 1e-11),
    "Brier": ("brier", 1e-12, 0.0),
    "Intercept": ("intercept", 1e-9, 1e-12),
    "Slope": ("slope", 1e-9, 0.0),
    "Emax": ("emax", 1e-10, 0.0),
    "E90": ("e90", 1e-10, 0.0),
    "Eavg": ("eavg", 1e-10, 0.0),
    "S:z": ("spiegelhalter_z", 1e-10, 0.0),
    "S:p": ("spiegelhalter_p", 1e-10, 0.0),
}


def _fit(case: dict) -> Performance:
    return val_prob(np.asarray(case["p"], dtype=float), np.asarray(case["y"], dtype=float))


@pytest.mark.parametrize("case", VP_NONCONST, ids=lambda c: c["name"])
@pytest.mark.parametrize("stat", list(STATS))
def test_val_prob_matches_rms65(case: dict, stat: str) -> None:
    attr, rtol, atol = STATS[stat]
    np.testing.assert_allclose(getattr(_fit(case), attr), case["stats"][stat], rtol=rtol,
                               atol=atol)


@pytest.mark.parametrize("case", VP_NONCONST, ids=lambda c: c["name"])
def test_val_prob_extras_match_r(case: dict) -> None:
    res = _fit(case)
    assert case["stats"]["D:p"] is None and np.isnan(res.d_p)  # NA in rms 6.5
    # exact C and Dxy: Hmisc somers2 on the observations of the logistic calibration
    np.testing.assert_allclose(res.c, case["c_exact"], rtol=1e-12)
    np.testing.assert_allclose(res.dxy, case["dxy_exact"], rtol=1e-12)
    # calibration-in-the-large: glm(y ~ 1, offset = qlogis(p)); R's glm stops at epsilon 1e-14
    np.testing.assert_allclose(res.citl, case["citl"], rtol=1e-8, atol=1e-11)
    # the recalibration agrees with a fully converged glm only to ~1e-8 (rms 6.5's eps = .025)
    np.testing.assert_allclose([res.intercept, res.slope], case["recal_glm"], rtol=1e-6,
                               atol=1e-7)
    assert list(res.warnings) == list(np.atleast_1d(case["warnings"]))
    assert res.n == len(case["p"])
    assert res.n_logistic == res.n - sum(p in (0.0, 1.0) for p in case["p"])


def test_val_prob_constant_p_matches_rms65_shortcut() -> None:
    case = VP["constant"]
    res = _fit(case)
    raw = case["raw"]  # rms 6.5 returns 19 values for 18 names in this branch
    got = [res.dxy_rms65, res.c_rms65, res.r2, res.d, res.d_chi2, res.d_p, res.u, res.u_chi2,
           res.u_p, res.q, res.brier, res.intercept, res.slope]
    np.testing.assert_allclose(got, raw[:13], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose([res.emax, res.e90, res.eavg], [raw[15]] * 3, rtol=1e-12)
    np.testing.assert_allclose([res.spiegelhalter_z, res.spiegelhalter_p], raw[17:19], rtol=1e-12)
    # offset model with constant p has the closed form qlogis(mean(y)) - qlogis(p)
    ybar = np.mean(case["y"])
    np.testing.assert_allclose(res.citl, np.log(ybar / (1 - ybar)) - np.log(0.3 / 0.7))
    assert res.hosmer_lemeshow is None


def test_exact_c_brute_force() -> None:
    case = VP["asah_rounded"]  # many tied probabilities
    p = np.asarray(case["p"])
    y = np.asarray(case["y"])
    conc = tied = pairs = 0.0
    for i, j in product(np.flatnonzero(y == 1), np.flatnonzero(y == 0)):
        pairs += 1
        conc += p[i] > p[j]
        tied += p[i] == p[j]
    res = val_prob(p, y)
    np.testing.assert_allclose(res.c, (conc + 0.5 * tied) / pairs, rtol=1e-14)
    assert tied > 0


def test_exact_01_are_dropped_with_warning() -> None:
    res = _fit(VP["birthwt_exact01"])
    assert res.n_logistic == res.n - 3
    assert "3 observations deleted from logistic calibration" in res.warnings[0]


def test_to_dict_contract_and_json() -> None:
    res = _fit(VP["birthwt"])
    d = res.to_dict()
    for key in ("c", "brier", "intercept", "slope", "citl", "emax", "e90", "eavg", "dxy", "r2",
                "d", "u", "q", "spiegelhalter_z", "spiegelhalter_p", "n", "events"):
        assert key in d, key
    assert set(d["hosmer_lemeshow"]) >= {"chi2", "df", "p"}
    assert d["d_p"] is None
    json.dumps(d, allow_nan=False)
    frame = res.to_frame()
    assert list(frame.columns) == ["statistic", "r_name", "value", "description"]
    assert frame.set_index("r_name").loc["C (ROC)", "value"] == res.c_rms65
    # the HL part equals the standalone function with g = 10
    hl = hosmer_lemeshow(VP["birthwt"]["y"], VP["birthwt"]["p"])
    assert d["hosmer_lemeshow"]["chi2"] == hl.chi2


def test_spiegelhalter_function() -> None:
    case = VP["birthwt_miscal"]
    z, p = spiegelhalter_z(case["p"], case["y"])
    np.testing.assert_allclose([z, p], [case["stats"]["S:z"], case["stats"]["S:p"]], rtol=1e-10)


# ------------------------------------------------------------------ Hosmer–Lemeshow ----------
@pytest.mark.parametrize("case", R["hosmer_lemeshow"], ids=lambda c: c["name"])
def test_hosmer_lemeshow_matches_r(case: dict) -> None:
    res = hosmer_lemeshow(np.asarray(case["y"]), np.asarray(case["prob"]), g=case["g"])
    np.testing.assert_allclose(res.chi2, case["chisq"], rtol=1e-10)
    assert res.df == case["df"]
    assert res.groups == case["groups"]
    np.testing.assert_allclose(res.p, case["p"], rtol=1e-8)
    breaks = np.asarray(case["breaks"])
    np.testing.assert_allclose(res.lower, breaks[:-1], rtol=1e-14)
    np.testing.assert_allclose(res.upper, breaks[1:], rtol=1e-14)
    np.testing.assert_array_equal(res.n, case["n"])
    np.testing.assert_array_equal(res.observed_0, case["observed0"])
    np.testing.assert_array_equal(res.observed_1, case["observed1"])
    np.testing.assert_allclose(res.expected_0, case["expected0"], rtol=1e-12)
    np.testing.assert_allclose(res.expected_1, case["expected1"], rtol=1e-12)
    assert bool(res.warnings) == case["warn"]


def test_hosmer_lemeshow_two_group_toy_by_hand() -> None:
    # p sorted (.2, .2, .6, .6); type-7 median = .2 + .5*(.6 - .2) = .4 -> breaks .2, .4, .6
    y = [0, 1, 0, 1]
    p = [0.2, 0.2, 0.6, 0.6]
    res = hosmer_lemeshow(y, p, g=2)
    # group 1: O0 = 1, O1 = 1, E0 = 1.6, E1 = 0.4; group 2: O0 = 1, O1 = 1, E0 = 0.8, E1 = 1.2
    by_hand = (1 - 1.6) ** 2 / 1.6 + (1 - 0.4) ** 2 / 0.4 + (1 - 0.8) ** 2 / 0.8 + (1 - 1.2) ** 2 / 1.2
    np.testing.assert_allclose(res.chi2, by_hand, rtol=1e-14)
    np.testing.assert_allclose(by_hand, 1.2083333333333333, rtol=1e-14)
    assert res.df == 0 and res.groups == 2
    assert res.p == 0.0  # R: 1 - pchisq(x, 0) = 0
    np.testing.assert_allclose(res.lower, [0.2, 0.4])
    np.testing.assert_allclose(res.upper, [0.4, 0.6])
    np.testing.assert_allclose(res.expected_0, [1.6, 0.8])
    assert res.warnings == ()
    frame = res.to_frame()
    assert list(frame.columns) == ["group", "lower", "upper", "n", "observed_0", "observed_1",
                                   "expected_0", "expected_1"]
    json.dumps(res.to_dict(), allow_nan=False)
    assert isinstance(res, HosmerLemeshow)


def test_hosmer_lemeshow_too_few_groups() -> None:
    with pytest.raises(InputError, match="at least 2"):
        hosmer_lemeshow([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3])
    with pytest.raises(InputError):
        hosmer_lemeshow([0, 1, 0, 1], [0.3, 0.4, 0.3, 0.4], g=1)


# ------------------------------------------------------------------ error paths --------------
@pytest.mark.parametrize(
    ("prob", "y", "match"),
    [
        ([0.1, 0.5, 0.9], [0, 2, 1], "not 0 or 1"),
        ([0.1, 1.5, 0.9], [0, 1, 1], r"outside \[0, 1\]"),
        ([0.1, -0.1, 0.9], [0, 1, 1], r"outside \[0, 1\]"),
        ([0.1, 0.5], [0, 1, 1], "lengths differ"),
        ([0.1, np.nan, 0.9], [0, 1, 1], "NaN"),
        ([0.1, 0.5, 0.9], [0, np.nan, 1], "NaN"),
        ([0.1, 0.5, 0.9], [1, 1, 1], "both 0 and 1"),
        ([0.1, 0.9], [0, 1], "at least 3"),
    ],
)
def test_val_prob_input_errors(prob: list, y: list, match: str) -> None:
    with pytest.raises(InputError, match=match):
        val_prob(prob, y)


def test_input_error_names_the_row_label() -> None:
    p = pd.Series([0.2, 0.4, 1.7], index=[2, 3, 4])
    with pytest.raises(InputError, match="row 4"):
        val_prob(p, pd.Series([0, 1, 1], index=[2, 3, 4]))
    with pytest.raises(InputError, match="not 0 or 1"):
        hosmer_lemeshow([0, 1, 3], [0.1, 0.2, 0.3])
    with pytest.raises(InputError, match="lengths differ"):
        spiegelhalter_z([0.1, 0.2], [0, 1, 1])


def test_unsupported_rms_version() -> None:
    with pytest.raises(InputError, match="rms_version"):
        val_prob([0.1, 0.5, 0.9], [0, 1, 1], rms_version="8.2")
