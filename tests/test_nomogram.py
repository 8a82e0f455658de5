"""Nomogram against rms 6.5 nomogram(fun=plogis) (tests/results/nomogram.R), R pretty(), hand checks."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from myorisk.errors import SmallSampleWarning
from myorisk.modeling.logistic import fit_logistic
from myorisk.modeling.nomogram import (
    axis_values_from_summary,
    build_nomogram,
    nomogram_from_fit,
    pretty,
)

from conftest import load_data, load_r

pytestmark = pytest.mark.r_parity

R = load_r("nomogram")
warnings.filterwarnings("ignore", category=SmallSampleWarning)


def _listify(x):
    return x if isinstance(x, list) else [x]


@pytest.mark.parametrize("i", range(len(R["pretty"])))
def test_pretty_matches_r(i):
    p = R["pretty"][i]
    assert_allclose(pretty(p["lo"], p["hi"], n=10), _listify(p["pretty"]), rtol=1e-12, atol=1e-15)
    assert_allclose(pretty(p["lo"], p["hi"]), _listify(p["pretty5"]), rtol=1e-12, atol=1e-15)


@pytest.fixture(scope="module", params=[c["name"] for c in R["cases"]])
def case(request):
    c = next(c for c in R["cases"] if c["name"] == request.param)
    ref = c["reference"] if isinstance(c["reference"], dict) else {}
    fit = fit_logistic(load_data(c["dataset"]), c["outcome"], c["predictors"], reference=ref)
    return c, fit


def _check(nom, c, rtol):
    assert_allclose(nom.scale, c["sc"], rtol=rtol)
    assert_allclose(nom.intercept, c["intercept"], rtol=rtol)
    for ax in c["axes"]:
        mine = nom.axis(ax["variable"])
        assert [str(v) if isinstance(v, str) else f"{v:g}" for v in mine.values] == ax["values"]
        assert_allclose(mine.points, _listify(ax["points"]), rtol=rtol, atol=1e-9)
    assert_allclose(nom.total_points, c["total_points"], rtol=1e-12)
    assert_allclose(nom.lp_values, c["lp_real"], rtol=1e-12)
    assert_allclose(nom.lp_positions, c["lp_x"], rtol=rtol)
    assert_allclose(nom.prob_values, c["prob_real"], rtol=1e-12)
    assert_allclose(nom.prob_positions, c["prob_x"], rtol=rtol)


def test_nomogram_with_r_coefficients_is_exact(case):
    c, fit = case
    # same coefficients as R's lrm and the same linear-predictor range: agreement to rounding
    coef = dict(zip(fit.names, c["coef"], strict=True))
    from myorisk.modeling.design import build_design

    ref = c["reference"] if isinstance(c["reference"], dict) else {}
    d = build_design(load_data(c["dataset"]), c["outcome"], c["predictors"], reference=ref)
    lp = d.X @ np.asarray(c["coef"])
    values = {
        t.name: axis_values_from_summary(fit.term_summary[t.name]) for t in fit.terms if t.kind == "numeric"
    }
    fun_at = c["fun_at"] if isinstance(c["fun_at"], list) else None  # R NULL -> {}
    nom = build_nomogram(fit.terms, coef, values, (lp.min(), lp.max()), fun_at=fun_at)
    _check(nom, c, rtol=1e-9)


def test_nomogram_from_fit_matches_rms(case):
    # myorisk's fit converges fully; lrm 6.5 stops slightly earlier (≈1e-7 relative)
    c, fit = case
    fun_at = c["fun_at"] if isinstance(c["fun_at"], list) else None
    _check(nomogram_from_fit(fit, fun_at=fun_at), c, rtol=1e-5)


def test_patient_points_add_up_to_the_linear_predictor(case):
    c, fit = case
    nom = nomogram_from_fit(fit)
    data = load_data(c["dataset"])
    pts = nom.points(data.iloc[:25])
    assert_allclose(pts["linear_predictor"], fit.predict_lp(data.iloc[:25]), rtol=1e-10)
    assert_allclose(pts["total"], pts[[t.name for t in fit.terms]].sum(axis=1), rtol=1e-12)
    # every per-variable point lies within 0..100
    assert (pts[[t.name for t in fit.terms]] >= -1e-9).all().all()
    assert (pts[[t.name for t in fit.terms]] <= 100 + 1e-9).all().all()


def test_widest_predictor_gets_100_points_by_hand():
    # y ~ x1 + x2, b1 = 2 over [0, 1] (range 2), b2 = -0.5 over [0, 10] (range 5): sc = 100/5 = 20
    from myorisk.modeling.design import Term

    terms = [Term("x1", "numeric", columns=("x1",)), Term("x2", "numeric", columns=("x2",))]
    coef = {"Intercept": -1.0, "x1": 2.0, "x2": -0.5}
    nom = build_nomogram(terms, coef, {"x1": [0, 1], "x2": [0, 5, 10]}, (-6.0, 1.0))
    assert nom.scale == pytest.approx(20.0)
    assert nom.axis("x2").points == pytest.approx((100.0, 50.0, 0.0))
    assert nom.axis("x1").points == pytest.approx((0.0, 40.0))
    # intercept' = -1 + 0 + (-5) ; patient x1=1, x2=0: points 40 + 100 = 140 -> lp = -6 + 140/20 = 1
    assert nom.intercept == pytest.approx(-6.0)
    p = nom.points(pd.DataFrame({"x1": [1.0], "x2": [0.0]}))
    assert p["total"].iloc[0] == pytest.approx(140.0)
    assert p["linear_predictor"].iloc[0] == pytest.approx(1.0)


def test_to_dict_and_frame():
    fit = fit_logistic(load_data("birthwt"), "low", ["lwt", "smoke"])
    nom = nomogram_from_fit(fit)
    d = nom.to_dict()
    assert d["axes"][0]["variable"] == "lwt"
    assert set(nom.to_frame().axis) == {"lwt", "smoke", "linear_predictor", "probability"}
