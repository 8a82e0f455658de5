"""Splines, interactions and anova.rms against rms 6.5 (tests/results/terms.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from myorisk.errors import InputError
from myorisk.modeling.anova import anova
from myorisk.modeling.logistic import fit_logistic
from myorisk.modeling.terms import parse_terms, rcs_basis, split_terms

from conftest import RESULTS, load_r

pytestmark = pytest.mark.r_parity
R = load_r("terms")


def _list(v: str | list) -> list:
    return [v] if isinstance(v, str) else list(v)


def _data(dataset: str) -> pd.DataFrame:
    name, _, rows = dataset.partition("[")
    df = pd.read_csv(RESULTS / "data" / f"{name}.csv")
    if rows:
        a, b = rows.rstrip("]").split(":")
        df = df.iloc[int(a) - 1:int(b)]
    return df


@pytest.mark.parametrize("case", R["cases"], ids=lambda c: c["name"])
def test_fit_with_terms_equals_rms(case):
    df = _data(case["dataset"])
    fit = fit_logistic(df, case["outcome"], _list(case["predictors"]))
    assert list(fit.names) == case["names"]
    np.testing.assert_allclose(fit.coefficients, case["coef"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov)), case["se"], rtol=1e-6)
    assert fit.loglik == pytest.approx(case["loglik"], rel=1e-9)
    knots = {t.name: list(t.knots) for t in fit.terms if t.kind == "rcs"}
    for var, kn in case["knots"].items():
        if " * " not in var:
            np.testing.assert_allclose(knots[var], kn, rtol=1e-12)


@pytest.mark.parametrize("case", R["cases"], ids=lambda c: c["name"])
def test_anova_equals_rms(case):
    df = _data(case["dataset"])
    tab = anova(fit_logistic(df, case["outcome"], _list(case["predictors"])))
    labels = [r.label.strip() for r in tab.rows]
    assert labels == case["anova"]["factor"]
    np.testing.assert_allclose([r.chi2 for r in tab.rows], case["anova"]["chi2"], rtol=1e-6)
    assert [r.df for r in tab.rows] == case["anova"]["df"]
    np.testing.assert_allclose([r.p for r in tab.rows], case["anova"]["p"], rtol=1e-6, atol=1e-14)


def test_term_parsing_and_errors():
    assert split_terms("age, rcs(msuvmax, 4), sex*msuvmax") == ["age", "rcs(msuvmax, 4)", "sex*msuvmax"]
    t = parse_terms(["sex*msuvmax", "rcs(msuvmax, 4)"])
    assert [(e.kind, e.name) for e in t] == [("var", "sex"), ("rcs", "msuvmax"), ("interaction", "sex * msuvmax")]
    with pytest.raises(InputError, match="between 3 and 7"):
        parse_terms(["rcs(x, 9)"])
    with pytest.raises(InputError, match="strictly increasing"):
        parse_terms(["rcs(x, knots=[3, 2, 5])"])
    with pytest.raises(InputError, match="main effect"):
        parse_terms(["a:b"])
    with pytest.raises(InputError, match="two terms"):
        parse_terms(["a*b*c"])


def test_spline_is_linear_beyond_outer_knots():
    knots = [1.0, 2.0, 4.0, 7.0]
    x = np.array([8.0, 9.0, 10.0, 11.0])
    b = rcs_basis(x, knots)
    second = np.diff(b, n=2, axis=0)
    np.testing.assert_allclose(second, 0.0, atol=1e-9)


def test_spline_of_text_column_is_refused():
    df = pd.DataFrame({"y": [0, 1] * 10, "g": list("ab") * 10})
    with pytest.raises(InputError, match="numeric"):
        fit_logistic(df, "y", ["rcs(g, 3)"])


def test_new_data_is_encoded_with_development_knots():
    df = _data("pima_tr")
    fit = fit_logistic(df, "type", ["rcs(glu, 4)", "bmi"])
    new = df.iloc[:5]
    np.testing.assert_allclose(fit.predict_lp(new), fit.linear_predictor[:5], rtol=1e-12)


KNOTS = load_r("knots")


@pytest.mark.parametrize("case", KNOTS["cases"], ids=lambda c: f"{c['variable']}-{c['nk']}")
def test_default_knots_match_hmisc_with_ties_and_few_values(case):
    """Hmisc rcspline.eval (fractied = 0.05): interior values when there are at most nk + 2
    distinct values, the first/last knot moved off a pile of tied extreme values, and R's
    refusal when fewer than 3 knots remain."""
    from myorisk.modeling.terms import rcs_knots

    x = np.asarray(KNOTS["x"][case["variable"]], dtype=float)
    if case["knots"] is None:
        with pytest.raises(InputError, match="fewer than 3 distinct knots"):
            rcs_knots(x, case["nk"])
    else:
        np.testing.assert_allclose(rcs_knots(x, case["nk"]), case["knots"], rtol=1e-12)
