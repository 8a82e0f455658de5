"""LASSO / elastic net against glmnet 4.1 (tests/results/lasso.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from myorisk.modeling.design import build_design
from myorisk.modeling.lasso import lasso_cv, lasso_path

from conftest import RESULTS, load_r

pytestmark = pytest.mark.r_parity

R = load_r("lasso")


def _xy(case):
    df = pd.read_csv(RESULTS / "data" / f"{case['dataset']}.csv")
    d = build_design(df, case["outcome"], case["predictors"])
    assert list(d.columns[1:]) == [c.replace("race", "race=", 1) if c.startswith("race") else c
                                  for c in case["columns"]]
    return d.X[:, 1:], d.y, d.columns[1:]


@pytest.mark.r_parity
@pytest.mark.parametrize("case", R["cases"], ids=lambda c: c["name"])
def test_coefficients_at_given_lambdas_equal_glmnet(case):
    X, y, cols = _xy(case)
    fit = lasso_path(X, y, cols, alpha=case["alpha"], lambdas=case["lambdas"])
    np.testing.assert_allclose(fit.lambdas, case["lambdas"], rtol=1e-15)
    for k, ref in enumerate(case["coef"]):
        np.testing.assert_allclose(fit.coefficients[k], ref, rtol=1e-5, atol=1e-8)


@pytest.mark.r_parity
@pytest.mark.parametrize("case", R["cases"], ids=lambda c: c["name"])
def test_default_path_and_cv_equal_glmnet(case):
    X, y, cols = _xy(case)
    path = lasso_path(X, y, cols, alpha=case["alpha"])
    np.testing.assert_allclose(path.lambdas, case["path_lambda"], rtol=1e-10)
    assert list((path.coefficients[:, 1:] != 0).sum(axis=1)) == case["path_df"]
    cv = lasso_cv(X, y, cols, alpha=case["alpha"], foldid=case["foldid"])
    np.testing.assert_allclose(cv.cvm, case["cvm"], rtol=1e-5)
    np.testing.assert_allclose(cv.cvsd, case["cvsd"], rtol=1e-4)
    assert cv.lambda_min == pytest.approx(case["lambda_min"], rel=1e-10)
    assert cv.lambda_1se == pytest.approx(case["lambda_1se"], rel=1e-10)
    np.testing.assert_allclose(list(cv.coefficients("lambda.min").values()), case["coef_min"],
                               rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(list(cv.coefficients("lambda.1se").values()), case["coef_1se"],
                               rtol=1e-5, atol=1e-8)


@pytest.mark.unit
def test_seeded_folds_are_reproducible():
    case = R["cases"][0]
    X, y, cols = _xy(case)
    a = lasso_cv(X, y, cols, folds=5, seed=3)
    b = lasso_cv(X, y, cols, folds=5, seed=3)
    assert a.lambda_min == b.lambda_min and np.array_equal(a.foldid, b.foldid)
    assert sorted(np.bincount(a.foldid)[1:]) == [37, 38, 38, 38, 38]


@pytest.mark.cli
def test_cli_select_lasso_with_foldid_column_equals_cv_glmnet(tmp_path, capsys):
    import json

    from myorisk.cli import _run

    case = R["cases"][0]
    df = pd.read_csv(RESULTS / "data" / f"{case['dataset']}.csv")
    df["fold"] = case["foldid"]
    path = tmp_path / "bw.csv"
    df.to_csv(path, index=False)
    assert _run(["select", str(path), "-y", "low", "-x", ",".join(case["predictors"]), "--method", "lasso",
                 "--foldid", "fold", "--rule", "1se", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["lambda"] == pytest.approx(case["lambda_1se"], rel=1e-10)
    assert list(d["coefficients"].values()) == pytest.approx(case["coef_1se"], rel=1e-5, abs=1e-8)
    kept = {c.split("=")[0] for c, v in zip(d["coefficients"], case["coef_1se"], strict=True)
            if v != 0 and c != "Intercept"}
    assert set(d["selected"]) == kept
    assert _run(["select", str(path), "-y", "low", "-x", "age,lwt", "--lambda", "0.1"]) == 2


@pytest.mark.slow
def test_lasso_selection_inside_the_bootstrap_is_chunk_independent():
    from myorisk.modeling.validation import SelectionSpec, validate

    case = R["cases"][0]
    df = pd.read_csv(RESULTS / "data" / f"{case['dataset']}.csv")
    d = build_design(df, case["outcome"], case["predictors"])
    spec = SelectionSpec(method="lasso", seed=4)
    a = validate(d, B=12, seed=1, selection=spec, failure_policy="converge")
    b = validate(d, B=12, seed=1, selection=spec, failure_policy="converge", chunk_size=5)
    assert a.corrected == pytest.approx(b.corrected)
    fixed = validate(d, B=12, seed=1, failure_policy="converge")
    # the procedure (selection + refit) is more optimistic than the fixed full model or equal
    assert a.optimism["Dxy"] != fixed.optimism["Dxy"]
