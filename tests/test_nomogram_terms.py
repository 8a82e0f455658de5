"""Nomograms of spline and interaction models against rms 6.5 nomogram() (tests/results/nomogram_terms.R)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from myorisk.errors import InputError, SmallSampleWarning
from myorisk.modeling.logistic import fit_logistic
from myorisk.modeling.nomogram import build_nomogram, nomogram_from_fit

from conftest import RESULTS as RESULTS_DIR
from conftest import load_data, load_r

R = load_r("nomogram_terms")
warnings.filterwarnings("ignore", category=SmallSampleWarning)
CASES = {c["name"]: c for c in R["cases"]}


def _fit(c):
    ref = c["reference"] if isinstance(c["reference"], dict) else {}
    return fit_logistic(load_data(c["dataset"]), c["outcome"], c["predictors"], reference=ref)


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    c = CASES[request.param]
    return c, _fit(c)


def _txt(v):
    return v if isinstance(v, str) else f"{v:g}"


@pytest.mark.r_parity
def test_axes_points_and_scales_match_rms(case):
    c, fit = case
    # the fits agree with lrm's coefficients first (the nomogram is a function of them)
    assert list(fit.names) == c["coef_names"]
    assert_allclose([fit.coef[n] for n in fit.names], c["coef"], rtol=1e-6)
    nom = nomogram_from_fit(fit)
    assert [a.name for a in nom.axes] == [a["axis"] for a in c["axes"]]
    for ax in c["axes"]:
        mine = nom.axis(ax["axis"])
        assert mine.variable == ax["variable"]
        assert [_txt(v) for v in mine.values] == ax["values"]
        assert_allclose(mine.points, ax["points"], rtol=1e-6, atol=1e-6)
    assert_allclose(nom.scale, c["sc"], rtol=1e-6)
    assert_allclose(nom.intercept, c["intercept"], rtol=1e-6)
    for v, (lo, hi) in c["R"].items():
        assert_allclose(nom.term_minima[v], lo, rtol=1e-6)
        top = max(max(a.points) for a in nom.axes if a.variable == v)
        assert_allclose(top, (hi - lo) * c["sc"], rtol=1e-6)
    assert set(nom.point_variables) == set(c["R"])
    assert_allclose(nom.total_points, c["total_points"], rtol=1e-12)
    assert_allclose(nom.probability_at(np.asarray(nom.total_points)), c["total_probability"], rtol=1e-6)
    assert_allclose(nom.lp_values, c["lp_real"], rtol=1e-12)
    assert_allclose(nom.lp_positions, c["lp_x"], rtol=1e-6, atol=1e-6)
    assert_allclose(nom.prob_values, c["prob_real"], rtol=1e-12)
    assert_allclose(nom.prob_positions, c["prob_x"], rtol=1e-6, atol=1e-6)


@pytest.mark.r_parity
def test_patient_points_match_rms_and_add_up(case):
    c, fit = case
    nom = nomogram_from_fit(fit)
    rows = load_data(c["dataset"]).iloc[np.asarray(c["rows"]) - 1]
    pts = nom.points(rows)
    assert_allclose(pts["total"], c["row_total"], rtol=1e-6)
    assert_allclose(pts["linear_predictor"], c["row_lp"], rtol=1e-6)
    assert_allclose(pts["linear_predictor"], fit.predict_lp(rows), rtol=1e-10)
    assert list(pts.columns[:-3]) == list(nom.point_variables)
    assert (pts[list(nom.point_variables)] >= -1e-9).all().all()
    assert (pts[list(nom.point_variables)] <= 100 + 1e-9).all().all()


@pytest.mark.unit
def test_interacting_factor_is_absorbed_into_the_continuous_axes():
    fit = _fit(CASES["birthwt_rcs_x_race"])
    nom = nomogram_from_fit(fit)
    assert nom.point_variables == ("age", "lwt")
    black = nom.axis("age (race=black)")
    assert black.condition == (("race", "black"),)
    assert not black.monotone  # the spline bends: rms draws the scale non-monotone
    d = nom.to_dict()
    assert d["axes"][1]["condition"] == {"race": "black"}
    assert d["point_variables"] == ["age", "lwt"]
    # the same age on another race's axis differs by that race's effect and interaction
    a = pd.DataFrame({"age": [25.0, 25.0], "race": ["white", "other"], "lwt": [120.0, 120.0]})
    p = nom.points(a)
    w, o = nom.axis("age (race=white)"), nom.axis("age (race=other)")
    assert p["age"].iloc[0] == pytest.approx(w.points[w.values.index(25.0)])
    assert p["age"].iloc[1] == pytest.approx(o.points[o.values.index(25.0)])


@pytest.mark.unit
def test_two_continuous_interacting_are_refused():
    fit = fit_logistic(load_data("pima_tr"), "type", ["glu*bmi"])
    with pytest.raises(InputError, match="two continuous predictors"):
        nomogram_from_fit(fit)


@pytest.mark.unit
def test_by_hand_interaction_axes():
    # lp = -1 + 0.1 x + 1 [g=b] - 0.3 x [g=b], x on 0..10: a-axis 0..1, b-axis 1..-1
    from myorisk.modeling.design import Term

    x = Term("x", "numeric", columns=("x",))
    g = Term("g", "categorical", levels=("a", "b"), columns=("g=b",))
    ia = Term("x * g", "interaction", parents=(x, g), columns=("x * g=b",))
    coef = {"Intercept": -1.0, "x": 0.1, "g=b": 1.0, "x * g=b": -0.3}
    nom = build_nomogram([x, g, ia], coef, {"x": [0.0, 5.0, 10.0]}, (-2.0, 0.5))
    assert [a.name for a in nom.axes] == ["x (g=a)", "x (g=b)"]
    # range over both axes: -1 .. 1 -> sc = 50
    assert nom.scale == pytest.approx(50.0)
    assert nom.axis("x (g=a)").points == pytest.approx((50.0, 75.0, 100.0))
    assert nom.axis("x (g=b)").points == pytest.approx((100.0, 50.0, 0.0))
    assert nom.intercept == pytest.approx(-2.0)


@pytest.mark.unit
def test_saved_spec_draws_the_same_axes_and_points(tmp_path):
    from myorisk.modeling.spec import ModelSpec, load_spec, predict, save_spec

    c = CASES["birthwt_smoke_x_lwt"]
    data = load_data(c["dataset"])
    fit = _fit(c)
    spec = ModelSpec.from_fit(fit, data, "bw-ia")
    save_spec(spec, tmp_path / "m.json")
    spec = load_spec(str(tmp_path / "m.json"))
    nom = spec.nomogram()
    # smoke is 0/1 (binary in the spec): lwt gets one axis per smoke value, as rms draws it
    assert [a.name for a in nom.axes] == [a["axis"] for a in c["axes"]]
    # a spec's axes run over its allowed range (lowest to highest value, R pretty values between;
    # see docs/web.md), rms' over pretty(range): the points differ by the scale only
    lwt0 = nom.axis("lwt (smoke=0)")
    assert lwt0.values[0] == data["lwt"].min() and lwt0.values[-1] == data["lwt"].max()
    rows = data.iloc[np.asarray(c["rows"]) - 1]
    out = predict(spec, rows, source="test")
    assert list(c for c in out.columns if c.startswith("points_")) == ["points_lwt", "points_race",
                                                                       "points_total"]
    assert_allclose(out["linear_predictor"], c["row_lp"], rtol=1e-6)
    assert_allclose(nom.intercept + out["points_total"] / nom.scale, c["row_lp"], rtol=1e-6)
    assert_allclose(out["points_total"], out["points_lwt"] + out["points_race"], rtol=1e-12)


@pytest.mark.cli
def test_nomogram_command_draws_the_spline_model(capsys, tmp_path):
    import json

    from myorisk.cli import _run

    c = CASES["pima_rcs_x_agegrp"]
    args = ["nomogram", str(RESULTS_DIR / "data" / "pima_tr.csv"), "-y", "type", "-x", "rcs(bmi, 4)*agegrp, ped"]
    assert _run([*args, "--json", "--plot", str(tmp_path / "n.png")]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [a["name"] for a in d["axes"]] == [a["axis"] for a in c["axes"]]
    assert_allclose(d["scale"], c["sc"], rtol=1e-6)
    assert (tmp_path / "n.png").stat().st_size > 10_000
    # the refusal of two interacting continuous predictors is one line, exit 2
    assert _run(["nomogram", str(RESULTS_DIR / "data" / "pima_tr.csv"), "-y", "type", "-x", "glu*bmi"]) == 2
    err = capsys.readouterr().err
    assert "two continuous predictors" in err and "Traceback" not in err
