"""Penalised lrm, effective d.f. and pentrace against rms 6.5 (tests/results/penalty.R); shrinkage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from myorisk.errors import InputError
from myorisk.modeling.design import build_design, penalty_matrix
from myorisk.modeling.logistic import fit_logistic
from myorisk.modeling.penalty import heuristic_shrinkage, pentrace, shrink

from conftest import RESULTS, load_r

pytestmark = pytest.mark.r_parity

R = load_r("penalty")


def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(RESULTS / "data" / f"{name}.csv")


@pytest.mark.r_parity
@pytest.mark.parametrize("case", R["cases"], ids=lambda c: c["name"])
def test_penalised_fit_equals_rms(case):
    df = _data(case["dataset"])
    design = build_design(df, case["outcome"], case["predictors"])
    np.testing.assert_allclose(penalty_matrix(design)[1:, 1:], case["penalty_matrix"], rtol=1e-10, atol=1e-12)
    fit = fit_logistic(df, case["outcome"], case["predictors"], penalty=case["penalty"])
    assert list(fit.names) == case["names"]
    np.testing.assert_allclose(fit.coefficients, case["coef"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov)), case["se"], rtol=1e-6)
    assert fit.effective_df == pytest.approx(case["effective_df"], rel=1e-6)
    assert fit.lr_chi2 == pytest.approx(case["lr"], rel=1e-6)


@pytest.mark.r_parity
@pytest.mark.parametrize("case", R["cases"], ids=lambda c: c["name"])
def test_pentrace_equals_rms(case):
    df = _data(case["dataset"])
    design = build_design(df, case["outcome"], case["predictors"])
    pt = pentrace(design, case["pentrace"]["grid"])
    r = case["pentrace"]
    assert list(pt.penalties) == pytest.approx(r["grid"])
    np.testing.assert_allclose(pt.df, r["df"], rtol=1e-6)
    np.testing.assert_allclose(pt.aic, r["aic"], rtol=1e-6)
    np.testing.assert_allclose(pt.bic, r["bic"], rtol=1e-6)
    np.testing.assert_allclose(pt.aic_c, r["aic_c"], rtol=1e-6)
    assert pt.best == pytest.approx(r["best"])


@pytest.mark.unit
def test_shrinkage_keeps_mean_risk_and_scales_slopes():
    df = _data("birthwt")
    fit = fit_logistic(df, "low", ["age", "lwt", "smoke", "ht", "ui"])
    s = heuristic_shrinkage(fit)
    assert s == pytest.approx((fit.lr_chi2 - 5) / fit.lr_chi2)
    sh = shrink(fit, s, "heuristic")
    np.testing.assert_allclose(sh.coefficients[1:], s * fit.coefficients[1:], rtol=1e-14)
    p = 1.0 / (1.0 + np.exp(-sh.linear_predictor))
    assert p.mean() == pytest.approx(fit.y.mean(), abs=1e-10)
    assert sh.shrinkage == {"method": "heuristic", "factor": s}
    assert sh.c == pytest.approx(fit.c)  # a monotone transform keeps the ranking


@pytest.mark.unit
def test_penalty_refusals():
    df = _data("birthwt")
    with pytest.raises(InputError, match="not both"):
        fit_logistic(df, "low", ["age"], penalty=1.0, firth=True)
    with pytest.raises(InputError, match="≥ 0"):
        fit_logistic(df, "low", ["age"], penalty=-1.0)
    with pytest.raises(InputError, match="profile"):
        fit_logistic(df, "low", ["age"], penalty=1.0, ci="profile")


@pytest.mark.cli
def test_cli_fit_penalty_and_pentrace_json(capsys):
    import json

    from myorisk.cli import _run

    path = str(RESULTS / "data" / "birthwt.csv")
    case = R["cases"][0]
    x = ",".join(case["predictors"])
    assert _run(["fit", path, "-y", "low", "-x", x, "--penalty", str(case["penalty"]), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["penalty"] == case["penalty"]
    assert d["effective_df"] == pytest.approx(case["effective_df"], rel=1e-6)
    assert [t["coef"] for t in d["terms"]] == pytest.approx(case["coef"], rel=1e-6)
    assert _run(["pentrace", path, "-y", "low", "-x", x, "--penalties",
                 ",".join(str(v) for v in case["pentrace"]["grid"]), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["best"] == case["pentrace"]["best"]
    assert [r["aic_c"] for r in d["rows"]] == pytest.approx(case["pentrace"]["aic_c"], rel=1e-6)
    assert _run(["fit", path, "-y", "low", "-x", x, "--shrink", "heuristic", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["shrinkage"]["method"] == "heuristic" and 0 < d["shrinkage"]["factor"] < 1
