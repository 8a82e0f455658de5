"""fit_logistic against R rms 6.5 lrm / glm / MASS profile confint / brglm2 (tests/results/logistic.R)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from myorisk.errors import InputError, ModelError, SmallSampleWarning
from myorisk.modeling.concordance import concordance
from myorisk.modeling.logistic import detect_separation, fit_logistic, gini_md

from conftest import load_data, load_r

pytestmark = pytest.mark.r_parity

R = load_r("logistic")


def _ref(case: dict) -> dict:
    ref = case["reference"]
    return ref if isinstance(ref, dict) else {}


def _fit(case: dict, **kw):
    data = load_data(case["dataset"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        return fit_logistic(data, case["outcome"], case["predictors"], reference=_ref(case), **kw)


@pytest.fixture(scope="module", params=[c["name"] for c in R["fits"]])
def case(request):
    c = next(c for c in R["fits"] if c["name"] == request.param)
    return c, _fit(c), _fit(c, ci="profile")


def test_coefficient_names_follow_rms(case):
    c, fit, _ = case
    assert list(fit.names) == c["names"]


def test_coefficients_and_se_match_glm(case):
    c, fit, _ = case
    assert_allclose(fit.coefficients, c["coef"], rtol=1e-8)
    assert_allclose(fit.se, c["se"], rtol=1e-7)
    assert_allclose(fit.z, c["z"], rtol=1e-7)
    assert_allclose(fit.p, c["p"], rtol=1e-6)


def test_coefficients_match_lrm(case):
    # lrm 6.5 stops Newton-Raphson when -2LL changes by < 0.025: its estimates sit within ~1e-6
    # of the exact MLE that glm(epsilon=1e-14) and myorisk reach.
    c, fit, _ = case
    assert_allclose(fit.coefficients, c["lrm_coef"], rtol=1e-5)
    assert_allclose(fit.se, c["lrm_se"], rtol=1e-5)


def test_model_statistics_match_lrm(case):
    c, fit, _ = case
    s = c["lrm_stats"]
    assert fit.n == s["Obs"]
    assert fit.lr_df == s["d.f."]
    assert_allclose(fit.lr_chi2, s["Model L.R."], rtol=1e-6)
    assert_allclose(fit.lr_p, s["P"], rtol=1e-4)
    assert_allclose(fit.r2_nagelkerke, s["R2"], rtol=1e-6)
    assert_allclose(fit.brier, s["Brier"], rtol=1e-6)
    assert_allclose(fit.g, s["g"], rtol=1e-5)
    assert_allclose(fit.gp, s["gp"], rtol=1e-5)
    # rms 6.5 bins probabilities at 0.0002 to count pairs; c_rms65 reproduces that binning
    assert_allclose(fit.c_rms65, s["C"], rtol=1e-7)
    assert_allclose(fit.dxy_rms65, s["Dxy"], rtol=1e-7)
    # the exact C differs from the binned one by at most a few pairs out of n1*n0
    assert abs(fit.c - s["C"]) < 5e-3


def test_loglik_aic_match_glm(case):
    c, fit, _ = case
    assert_allclose(fit.loglik, c["loglik"], rtol=1e-9)
    assert_allclose(fit.aic, c["aic"], rtol=1e-9)
    assert_allclose(-2 * fit.loglik_null, c["null_deviance"], rtol=1e-9)


def test_wald_ci_matches_confint_default(case):
    c, fit, _ = case
    assert_allclose(fit.ci_low, c["wald_low"], rtol=1e-7, atol=1e-8)
    assert_allclose(fit.ci_high, c["wald_high"], rtol=1e-7, atol=1e-8)
    fr = fit.to_frame()
    assert_allclose(fr["or_low"], np.exp(c["wald_low"]), rtol=1e-7)


def test_profile_ci_matches_confint_glm(case):
    # MASS's confint.glm interpolates a profile traced on a grid with a spline; myorisk solves the
    # likelihood-ratio equation exactly, so agreement is to the spline's accuracy (1e-3).
    c, _, prof = case
    assert_allclose(prof.ci_low, c["profile_low"], rtol=1e-3, atol=1e-4)
    assert_allclose(prof.ci_high, c["profile_high"], rtol=1e-3, atol=1e-4)


def test_profile_limits_solve_the_likelihood_ratio_equation(case):
    c, fit, prof = case
    from scipy.stats import chi2

    from myorisk.modeling._newton import newton_logistic
    from myorisk.modeling.design import build_design

    d = build_design(load_data(c["dataset"]), c["outcome"], c["predictors"], reference=_ref(c))
    j = 1
    others = [k for k in range(d.X.shape[1]) if k != j]
    for b in (prof.ci_low[j], prof.ci_high[j]):
        ll = newton_logistic(d.X[:, others], d.y, offset=b * d.X[:, j], maxit=100).loglik
        assert_allclose(2 * (fit.loglik - ll), chi2.ppf(0.95, 1), rtol=1e-7)


@pytest.mark.parametrize("name", [c["name"] for c in R["firth"]])
def test_firth_matches_brglm2(name):
    c = next(c for c in R["firth"] if c["name"] == name)
    fit = _fit(c, firth=True)
    assert fit.method == "firth"
    assert_allclose(fit.coefficients, c["coef"], rtol=1e-7)
    assert_allclose(fit.se, c["se"], rtol=1e-6)
    assert_allclose(fit.p, c["p"], rtol=1e-5)
    assert_allclose(-2 * fit.loglik, c["deviance"], rtol=1e-8)
    # the penalised log-likelihood Firth maximises, beside the ordinary one (issue 11)
    assert_allclose(fit.loglik, c["loglik"], rtol=1e-8)
    assert_allclose(fit.loglik_penalized, c["loglik_penalized"], rtol=1e-8)
    assert_allclose(fit.loglik_null_penalized, c["loglik_null_penalized"], rtol=1e-8)
    d = fit.to_dict()
    assert d["loglik_penalized"] == fit.loglik_penalized and d["loglik"] == fit.loglik
    if c["name"] == "birthwt_firth":  # (endometrial is separated: no ML fit)
        assert _fit(c, firth=False).to_dict()["loglik_penalized"] is None


def test_separation_is_detected_and_firth_suggested():
    data = load_data("endometrial")
    with pytest.raises(ModelError, match=r"quasi-complete separation.*'NV'.*--firth"):
        fit_logistic(data, "HG", ["NV", "PI", "EH"])
    # R's glm "converges" to a huge NV estimate with an enormous SE: the symptom we refuse
    assert R["separation"]["glm_nv_se"] > 100


def test_complete_separation_toy():
    d = pd.DataFrame({"y": [0, 0, 0, 1, 1, 1], "x": [1, 2, 3, 4, 5, 6]})
    kind, direction = detect_separation(np.column_stack([np.ones(6), d.x]), d.y.to_numpy())
    assert kind == "complete"
    assert direction[1] > 0
    with pytest.raises(ModelError, match="complete separation"):
        fit_logistic(d, "y", ["x"])
    firth = fit_logistic(d, "y", ["x"], firth=True)
    assert np.isfinite(firth.coefficients).all() and firth.coefficients[1] > 0


def test_no_separation_in_overlapping_data():
    d = load_data("birthwt")
    X = np.column_stack([np.ones(len(d)), d.lwt, d.smoke])
    assert detect_separation(X, d.low.to_numpy())[0] is None


def test_exact_c_equals_brute_force():
    d = load_data("asah")
    fit = fit_logistic(d, "poor", ["s100b", "wfns"])
    p, y = fit.probability, fit.y
    cases, controls = p[y == 1], p[y == 0]
    diff = cases[:, None] - controls[None, :]
    brute = (np.sum(diff > 0) + 0.5 * np.sum(diff == 0)) / diff.size
    assert_allclose(fit.c, brute, rtol=1e-12)
    assert_allclose(concordance(p, y).c, brute, rtol=1e-12)


def test_gini_md_brute_force():
    x = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0])
    brute = np.mean([abs(a - b) for i, a in enumerate(x) for j, b in enumerate(x) if i != j])
    assert_allclose(gini_md(x), brute, rtol=1e-12)


def test_missing_values_are_removed_and_reported():
    d = load_data("birthwt")
    d.loc[[3, 10], "lwt"] = np.nan
    d.loc[5, "smoke"] = np.nan
    fit = fit_logistic(d, "low", ["lwt", "smoke"])
    assert fit.n == len(d) - 3
    assert fit.missing["n_dropped"] == 3
    assert fit.missing["by_column"] == {"lwt": 2, "smoke": 1}
    assert any("3 of 189 rows with missing values were excluded" in w for w in fit.warnings)


def test_text_in_numeric_column_names_row_and_column():
    d = load_data("birthwt")
    d["lwt"] = d["lwt"].astype(object)
    d.loc[7, "lwt"] = "abc"
    with pytest.raises(InputError, match=r"row 7, column 'lwt': 'abc' is not a number"):
        fit_logistic(d, "low", ["lwt"], source="birthwt.csv")


def test_outcome_with_three_levels_refused():
    d = load_data("asah")
    with pytest.raises(InputError, match=r"outcome 'gos6' has 4 distinct values \(1, 3, 4, 5\)"):
        fit_logistic(d, "gos6", ["s100b"])


def test_all_zero_outcome_refused():
    d = load_data("birthwt").assign(low=0)
    with pytest.raises(InputError, match="single value"):
        fit_logistic(d, "low", ["lwt"])


def test_missing_column_refused():
    with pytest.raises(InputError, match="'nope' not found"):
        fit_logistic(load_data("birthwt"), "low", ["nope"])


def test_constant_and_collinear_predictors_refused():
    d = load_data("birthwt").assign(k=1.0)
    with pytest.raises(ModelError, match="'k' is constant"):
        fit_logistic(d, "low", ["lwt", "k"])
    d = d.assign(lwt2=2 * d.lwt + 1)
    with pytest.raises(ModelError, match="'lwt2' is collinear with 'lwt'"):
        fit_logistic(d, "low", ["lwt", "lwt2"])


def test_few_events_per_parameter_warns():
    d = load_data("birthwt").sample(60, random_state=1)
    with pytest.warns(SmallSampleWarning, match="events per parameter, below 10"):
        fit_logistic(d, "low", ["age", "lwt", "smoke"])


def test_string_outcome_uses_second_level_as_event():
    d = load_data("asah")
    fit = fit_logistic(d, "outcome", ["s100b"])
    assert fit.event == "Poor"
    ref = fit_logistic(d, "poor", ["s100b"])
    assert_allclose(fit.coefficients, ref.coefficients, rtol=1e-12)


def test_prediction_on_new_data_matches_fitted():
    d = load_data("birthwt")
    fit = fit_logistic(d, "low", ["lwt", "race"], reference={"race": "white"})
    assert_allclose(fit.predict_lp(d), fit.linear_predictor, rtol=1e-12)
    with pytest.raises(InputError, match="level 'martian'"):
        fit.predict_lp(d.assign(race="martian"))


def test_to_dict_follows_cli_contract():
    fit = fit_logistic(load_data("birthwt"), "low", ["lwt", "smoke"])
    d = fit.to_dict()
    for key in ("n", "events", "terms", "loglik", "aic", "lr_chi2", "r2_nagelkerke", "c", "dxy", "brier"):
        assert key in d
    assert d["terms"][0]["term"] == "Intercept"
    assert set(d["terms"][1]) >= {"term", "coef", "se", "z", "p", "or", "or_low", "or_high"}


def test_firth_on_a_2x2_table_equals_adding_half_to_each_cell():
    # Firth's estimate for one binary predictor is the log odds ratio of the table with 1/2 added
    # to every cell. Cells here: x=1: 1 event, 0 non-events; x=0: 18 events, 45 non-events — a
    # quasi-separated, flat penalised likelihood on which plain Fisher scoring oscillates.
    x = [1] + [0] * 63
    y = [1] + [1] * 18 + [0] * 45
    fit = fit_logistic(pd.DataFrame({"x": x, "y": y}), "y", ["x"], firth=True)
    assert fit.converged
    assert_allclose(fit.coefficients[0], np.log(18.5 / 45.5), rtol=1e-9)
    assert_allclose(fit.coefficients[1], np.log(1.5 * 45.5 / (0.5 * 18.5)), rtol=1e-9)
