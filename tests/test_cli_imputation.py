"""CLI: fit/validate/calibrate with --impute, --imputations and --ci."""

from __future__ import annotations

import json

import numpy as np
import pytest

from myorisk.cli import _run

from conftest import RESULTS, load_r

pytestmark = pytest.mark.cli

DATA = RESULTS / "data"
R = load_r("imputation")
X = "age,lwt,race,smoke,ht,ui"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = _run([str(a) for a in args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def run_json(capsys, *args: str) -> dict:
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.mark.cli
@pytest.mark.r_parity
def test_fit_imputations_file_equals_mice_pool(capsys):
    d = run_json(capsys, "fit", DATA / "birthwt_miss.csv", "-y", "low", "-x", X, "--reference", "race=white",
                 "--imputations", DATA / "birthwt_mice_long.csv", "--imputation-column", ".imp")
    p = R["pooled"]
    terms = d["terms"]
    assert [t["term"] for t in terms][:3] == ["Intercept", "age", "lwt"]
    for key, rkey in (("coef", "estimate"), ("df", "df"), ("fmi", "fmi"), ("riv", "riv"), ("ubar", "ubar"),
                      ("b", "b"), ("t", "t"), ("p", "p_value")):
        np.testing.assert_allclose([t[key] for t in terms], p[rkey], rtol=1e-8, err_msg=key)
    np.testing.assert_allclose([t["or_low"] for t in terms], np.exp(p["ci_low"]), rtol=1e-8)
    assert d["imputation"]["m"] == 5 and d["imputation"]["method"] == "given"
    assert d["n"] == 189


@pytest.mark.cli
def test_fit_impute_seeded_and_saved(capsys, tmp_path):
    args = ["fit", DATA / "birthwt_miss.csv", "-y", "low", "-x", X, "--impute", "6", "--seed", "11", "--maxit", "5"]
    a = run_json(capsys, *args)
    b = run_json(capsys, *args)
    assert a == b  # the seed fixes every imputation
    assert a["imputation"]["m"] == 6 and a["imputation"]["seed"] == 11
    assert a["imputation"]["methods"] == {"age": "pmm", "lwt": "pmm", "race": "polyreg", "smoke": "logreg"}
    assert all(0 <= t["fmi"] <= 1 and t["df"] > 0 for t in a["terms"])
    c = run_json(capsys, *args[:-4], "--impute", "6", "--seed", "12", "--maxit", "5")
    assert c["terms"][1]["coef"] != a["terms"][1]["coef"]
    spec = tmp_path / "m.json"
    code, out, err = run(capsys, *args, "--save", spec)
    assert code == 0 and "Rubin" in out and "fmi" in out
    saved = json.loads(spec.read_text())
    assert saved["coefficients"]["age"] == pytest.approx(a["terms"][1]["coef"])


@pytest.mark.cli
def test_impute_errors(capsys):
    code, _, err = run(capsys, "fit", DATA / "birthwt_miss.csv", "-y", "low", "-x", X, "--impute", "5",
                       "--imputations", DATA / "birthwt_mice_long.csv")
    assert code == 2 and "exclude each other" in err and err.count("\n") == 1
    code, _, err = run(capsys, "fit", DATA / "birthwt_miss.csv", "-y", "low", "-x", X,
                       "--imputations", DATA / "birthwt_mice_long.csv", "--imputation-column", "imp")
    assert code == 2 and "imputation column 'imp' not found" in err
    code, _, err = run(capsys, "fit", DATA / "birthwt_miss.csv", "-y", "low", "-x", X + ",nope", "--impute", "5")
    assert code == 2 and "'nope' not found" in err
    code, _, err = run(capsys, "validate", DATA / "birthwt_miss.csv", "-y", "low", "-x", X, "--impute", "2",
                       "--resamples", DATA / "birthwt_miss.csv")
    assert code == 2 and "--resamples" in err


@pytest.mark.cli
def test_validate_impute_ci(capsys):
    d = run_json(capsys, "validate", DATA / "birthwt_miss.csv", "-y", "low", "-x", X, "--impute", "4",
                 "--seed", "3", "-B", "60", "--maxit", "5", "--ci")
    assert d["imputation"]["m"] == 4 and "Wahl" in d["imputation"]["combined"]
    assert d["ci"]["method"].startswith("location-shifted bootstrap (Noma")
    for k, e in d["indexes"].items():
        assert e["corrected_low"] <= e["corrected"] + 1e-12 or k in ("Emax",), k
        assert e["corrected_low"] < e["corrected_high"], k
        if k != "Emax":  # rms: Emax corrected = Emax of the corrected calibration line
            assert e["corrected"] == pytest.approx(e["apparent"] - e["optimism"]), k
    dxy = d["indexes"]["Dxy"]
    assert dxy["corrected_low"] < dxy["corrected"] < dxy["corrected_high"]


@pytest.mark.cli
def test_validate_ci_without_imputation_keeps_validate_values(capsys):
    base = ["validate", DATA / "birthwt.csv", "-y", "low", "-x", "age,lwt,smoke", "--seed", "5", "-B", "80"]
    a = run_json(capsys, *base)
    b = run_json(capsys, *base, "--ci")
    for k in a["indexes"]:
        for key in ("apparent", "optimism", "corrected"):
            assert b["indexes"][k][key] == pytest.approx(a["indexes"][k][key], abs=1e-12), (k, key)
        assert "corrected_low" in b["indexes"][k] and "corrected_low" not in a["indexes"][k]


@pytest.mark.cli
def test_calibrate_impute_ci(capsys):
    d = run_json(capsys, "calibrate", DATA / "birthwt_miss.csv", "-y", "low", "-x", X, "--impute", "3",
                 "--seed", "3", "-B", "40", "--maxit", "3", "--ci")
    assert len(d["curve"]) == 50 and d["imputation"]["m"] == 3
    lo = np.array([c["corrected_low"] for c in d["curve"]], dtype=float)
    hi = np.array([c["corrected_high"] for c in d["curve"]], dtype=float)
    assert np.all(lo < hi)


@pytest.mark.cli
def test_impute_command_writes_long_file_and_figures(capsys, tmp_path):
    long, trace, dens, miss = (tmp_path / n for n in ("long.csv", "trace.png", "dens.svg", "miss.pdf"))
    d = run_json(capsys, "impute", DATA / "birthwt_miss.csv", "-y", "low", "-x", X, "-m", "3", "--seed", "4",
                 "--maxit", "3", "-o", long, "--plot", trace, "--plot-densities", dens, "--plot-missing", miss)
    assert d["m"] == 3 and d["methods"]["race"] == "polyreg"
    assert d["missing"]["age"]["missing"] == R["nmis"]["age"]
    assert len(d["chain_mean"]["age"]) == 3  # maxit rows
    for f in (trace, dens, miss):
        assert f.stat().st_size > 1000
    # the long file pools with fit --imputations, and gives the same as fit --impute with that seed
    a = run_json(capsys, "fit", DATA / "birthwt_miss.csv", "-y", "low", "-x", X, "--imputations", long)
    b = run_json(capsys, "fit", DATA / "birthwt_miss.csv", "-y", "low", "-x", X, "--impute", "3", "--seed", "4",
                 "--maxit", "3")
    np.testing.assert_allclose([t["coef"] for t in a["terms"]], [t["coef"] for t in b["terms"]], rtol=1e-12)
    code, _, err = run(capsys, "impute", DATA / "birthwt_miss.csv", "-y", "low", "-x", X, "--plot", tmp_path / "x.gif")
    assert code == 2 and ".png, .svg or .pdf" in err


@pytest.mark.cli
def test_evaluate_model_imputes_predictors_without_outcome(capsys, tmp_path):
    spec = tmp_path / "bw.json"
    code, _, err = run(capsys, "fit", DATA / "birthwt.csv", "-y", "low", "-x", X, "--save", spec)
    assert code == 0, err
    cc = run_json(capsys, "evaluate", DATA / "birthwt_miss.csv", "-y", "low", "--model", spec)
    a = run_json(capsys, "evaluate", DATA / "birthwt_miss.csv", "-y", "low", "--model", spec, "--impute", "4",
                 "--seed", "2", "--maxit", "4")
    assert a["n"] == 189 and cc["n"] == 189 - R["n_incomplete"]
    im = a["imputation"]
    assert im["m"] == 4 and im["outcome_used"] is False and "low" not in im["methods"]
    assert len(im["c_each"]) == 4 and 0.5 < im["c"] < 1
    # the outcome is not in the imputation model: replacing it leaves every prediction unchanged
    import pandas as pd

    from myorisk.commands._impute_eval import predictions_by_imputation
    from myorisk.modeling.spec import load_spec

    d = pd.read_csv(DATA / "birthwt_miss.csv")
    sp = load_spec(spec)
    p1, each1, _ = predictions_by_imputation(sp, d, m=3, seed=5, maxit=3, auxiliary=None, extrapolate=None, source="d")
    p2, _, _ = predictions_by_imputation(sp, d.assign(low=1 - d["low"]), m=3, seed=5, maxit=3, auxiliary=None,
                                         extrapolate=None, source="d")
    np.testing.assert_array_equal(p1, p2)
    assert each1.shape == (3, len(d)) and not np.allclose(each1[0], each1[1])
    code, _, err = run(capsys, "evaluate", DATA / "birthwt_miss.csv", "-y", "low", "--prob", "lwt", "--impute", "2")
    assert code == 2 and "--impute goes with --model" in err


@pytest.mark.cli
def test_univariate_and_select_pooled(capsys):
    import pandas as pd

    from myorisk.modeling.imputation import fit_imputed, split_long

    u = run_json(capsys, "univariate", DATA / "birthwt_miss.csv", "-y", "low", "-x", "age,race",
                 "--reference", "race=white", "--imputations", DATA / "birthwt_mice_long.csv")
    sets = split_long(pd.read_csv(DATA / "birthwt_mice_long.csv"))
    age = fit_imputed(sets, "low", ["age"])
    row = u["rows"][0]
    assert row["term"] == "age" and row["p"] == pytest.approx(float(age.pooled.p[1]), rel=1e-12)
    assert row["fmi"] == pytest.approx(float(age.pooled.fmi[1]), rel=1e-12)
    race = [r for r in u["rows"] if r["variable"] == "race"]
    assert len(race) == 2 and race[0]["term_p"] == race[1]["term_p"] and 0 < race[0]["term_p"] < 1
    assert u["imputation"]["m"] == 5
    s = run_json(capsys, "select", DATA / "birthwt_miss.csv", "-y", "low", "-x", X, "--impute", "5", "--seed", "1",
                 "--maxit", "5")
    assert s["selected"] and all(st["p"] < 0.05 for st in s["steps"] if st["action"] == "keep")
    assert s["model"]["imputation"]["m"] == 5
    code, _, err = run(capsys, "select", DATA / "birthwt_miss.csv", "-y", "low", "-x", X, "--impute", "5",
                       "--method", "aic")
    assert code == 2 and "only --method pscreen" in err and "aic has no agreed pooled form" in err
    code, _, err = run(capsys, "select", DATA / "birthwt_miss.csv", "-y", "low", "-x", X, "--impute", "5",
                       "--method", "lasso")  # the message named AIC when LASSO was asked for
    assert code == 2 and "lasso has no agreed pooled form" in err


@pytest.mark.unit
def test_d1_reduces_to_rubin_for_one_column_when_no_between_variance():
    from myorisk.modeling.pooling import d1_test

    Q = np.array([[0.5], [0.5], [0.5]])
    U = np.array([[[0.04]], [[0.04]], [[0.04]]])
    d, k, nu, p = d1_test(Q, U)
    assert d == pytest.approx(0.25 / 0.04) and k == 1 and not np.isfinite(nu)
    from scipy import stats

    assert p == pytest.approx(stats.chi2.sf(0.25 / 0.04, 1))


@pytest.mark.cli
def test_fit_impute_with_spline_and_interaction_terms(capsys):
    d = run_json(capsys, "fit", DATA / "birthwt_miss.csv", "-y", "low", "-x", "rcs(lwt, 3), age*smoke, ht",
                 "--impute", "3", "--seed", "1", "--maxit", "3")
    assert [t["term"] for t in d["terms"]] == ["Intercept", "lwt", "lwt'", "age", "smoke", "ht", "age * smoke"]
    # the raw columns were imputed, not the spline or product columns
    assert d["imputation"]["methods"] == {"lwt": "pmm", "age": "pmm", "smoke": "logreg"}


@pytest.mark.cli
def test_fit_pooled_json_keeps_the_fit_contract(capsys):
    d = run_json(capsys, "fit", DATA / "birthwt_miss.csv", "-y", "low", "-x", X,
                 "--imputations", DATA / "birthwt_mice_long.csv")
    for key in ("n", "events", "terms", "loglik", "aic", "lr_chi2", "r2_nagelkerke", "c", "dxy", "brier",
                "imputation"):
        assert key in d, key
    for key in ("term", "coef", "se", "z", "p", "or", "or_low", "or_high", "df", "fmi", "riv", "ubar", "b", "t"):
        assert key in d["terms"][0], key
    assert d["dxy"] == pytest.approx(2 * d["c"] - 1)
