"""Model spec files: validation on load, round trip, predict (hand calculation, refusals),
from_fit and the three recalibration methods."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from myorisk.datasets import load_dataset
from myorisk.errors import InputError
from myorisk.modeling.logistic import fit_logistic
from myorisk.modeling.spec import (
    FORMAT,
    ModelSpec,
    load_spec,
    predict,
    predict_one,
    recalibrate,
    save_spec,
)

pytestmark = pytest.mark.unit


def _doc() -> dict:
    return {
        "format": FORMAT,
        "name": "toy",
        "title": "Toy model",
        "outcome": {"name": "y", "event": 1, "description": "toy"},
        "variables": [
            {"name": "sex", "kind": "categorical", "levels": ["female", "male"],
             "reference": "female"},
            {"name": "x", "kind": "numeric", "unit": "mg", "min": 0, "max": 10},
            {"name": "b", "kind": "binary"},
        ],
        "coefficients": {"Intercept": -1.0, "sex=male": 0.5, "x": 0.25, "b": -0.75},
        "provenance": {"status": "published", "source": "test"},
    }


def test_parse_and_round_trip(tmp_path):
    s = ModelSpec.from_dict(_doc())
    assert s.design_columns() == ("Intercept", "sex=male", "x", "b")
    assert s.variable("b").min == 0 and s.variable("b").max == 1
    assert [t.columns for t in s.terms()] == [("sex=male",), ("x",), ("b",)]
    p = save_spec(s, tmp_path / "toy.json")
    s2 = load_spec(p)
    assert s2.to_dict() == s.to_dict()
    assert not list(tmp_path.glob(".*.tmp"))  # atomic write leaves no temp file
    assert s.notice() is None


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.update(format="other/2"), "key 'format'"),
        (lambda d: d.pop("coefficients"), "key 'coefficients' is missing"),
        (lambda d: d["coefficients"].pop("x"), "key 'coefficients.x' is missing"),
        (lambda d: d["coefficients"].update(z=1.0), "key 'coefficients.z' matches no variable"),
        (lambda d: d["coefficients"].update(x="a"), "key 'coefficients.x'"),
        (lambda d: d["variables"][1].update(min=11), "key 'variables[1].min' (11) is above"),
        (lambda d: d["variables"][1].update(kind="spline"), "key 'variables[1].kind'"),
        (lambda d: d["variables"][0].update(reference="other"), "key 'variables[0].reference'"),
        (lambda d: d["provenance"].update(status="guessed"), "key 'provenance.status'"),
        (lambda d: d["outcome"].pop("name"), "key 'outcome.name' is missing"),
        (lambda d: d["variables"].append(dict(d["variables"][1])), "appears twice"),
        (lambda d: d["variables"][1].update(range="seen"), "key 'variables[1].range' is 'seen'"),
        (lambda d: d["variables"][2].update(range="observed"), "key 'variables[2].range'"),
    ],
)
def test_validation_names_the_key(edit, message):
    d = copy.deepcopy(_doc())
    edit(d)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        ModelSpec.from_dict(d, "m.json")


def test_load_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="not valid JSON"):
        load_spec(bad)
    with pytest.raises(InputError, match="unknown model 'nosuch'"):
        load_spec("nosuch")
    with pytest.raises(InputError, match="not found"):
        load_spec(tmp_path / "missing.json")


def test_predict_equals_hand_calculation():
    s = ModelSpec.from_dict(_doc())
    df = pd.DataFrame({"sex": ["male", "Female"], "x": [4.0, "10"], "b": ["yes", 0]})
    out = predict(s, df)
    lp0 = -1.0 + 0.5 + 0.25 * 4 - 0.75
    lp1 = -1.0 + 0.25 * 10
    np.testing.assert_allclose(out["linear_predictor"], [lp0, lp1], rtol=1e-14)
    np.testing.assert_allclose(out["probability"], expit([lp0, lp1]), rtol=1e-14)
    # points: per-variable, summing to the total, and mapping back to the linear predictor
    cols = ["points_sex", "points_x", "points_b"]
    np.testing.assert_allclose(out[cols].sum(axis=1), out["points_total"], rtol=1e-12)
    nomo = s.nomogram()
    np.testing.assert_allclose(nomo.intercept + out["points_total"] / nomo.scale,
                               out["linear_predictor"], rtol=1e-12)


def test_predict_refuses_bad_inputs():
    s = ModelSpec.from_dict(_doc())
    df = pd.DataFrame({"sex": ["male", "other", None], "x": [11, 1, 2], "b": [1, 2, 0]},
                      index=[2, 3, 4])
    with pytest.raises(InputError) as e:
        predict(s, df, "c.csv")
    msg = str(e.value)
    assert "c.csv: " in msg
    assert "row 4, column 'sex': value is missing (allowed: female, male)" in msg
    assert "row 3, column 'sex': 'other' is not one of the model's levels (female, male)" in msg
    assert "row 2, column 'x': 11 is outside the model's valid range 0-10 mg" in msg
    assert "row 3, column 'b': '2' is not 0 or 1" in msg
    with pytest.raises(InputError, match="column 'b' needed by model 'toy' is missing"):
        predict(s, df.drop(columns="b"))


def test_valid_and_observed_ranges():
    doc = _doc()
    df = pd.DataFrame({"sex": ["male", "female"], "x": [12.0, 4.0], "b": [0, 1]}, index=[7, 8])
    lp_hand = [-1.0 + 0.5 + 0.25 * 12, -1.0 + 0.25 * 4 - 0.75]
    valid = ModelSpec.from_dict(doc)
    with pytest.raises(InputError, match="row 7, column 'x': 12 is outside the model's valid range"):
        predict(valid, df)
    forced = predict(valid, df, extrapolate=True)  # --extrapolate
    np.testing.assert_allclose(forced["linear_predictor"], lp_hand, rtol=1e-14)
    assert forced.attrs["extrapolated"] == {"x": [7]}
    doc["variables"][1]["range"] = "observed"
    observed = ModelSpec.from_dict(doc)
    assert observed.to_dict()["variables"][1]["range"] == "observed"
    assert "range" not in valid.to_dict()["variables"][1]
    out = predict(observed, df)  # a development-data range: scored by extrapolation, reported
    np.testing.assert_allclose(out["linear_predictor"], lp_hand, rtol=1e-14)
    assert out.attrs["extrapolated"] == {"x": [7]}
    with pytest.raises(InputError, match="outside the model's development-data range 0-10 mg"):
        predict(observed, df, extrapolate=False)  # the web calculator
    one = predict_one(observed, {"sex": "male", "x": 12, "b": 0})
    assert one["extrapolated"] == ["x"]
    assert "extrapolated" not in predict_one(observed, {"sex": "male", "x": 2, "b": 0})


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    return load_dataset("pmdm-train")


@pytest.mark.filterwarnings("ignore::myorisk.errors.SmallSampleWarning")
def test_from_fit(train, tmp_path):
    fit = fit_logistic(train, "nonresponse", ["sex", "msuvmax", "biopsy_bundle_atrophy"],
                       reference={"sex": "female"})
    s = ModelSpec.from_fit(fit, train, "my-model", units={"msuvmax": "ratio"})
    assert s.status == "fitted"
    assert s.variable("msuvmax").min == train["msuvmax"].min()
    assert s.variable("msuvmax").max == train["msuvmax"].max()
    assert s.variable("msuvmax").range == "observed"
    assert s.variable("biopsy_bundle_atrophy").kind == "binary"
    assert s.variable("sex").reference == "female"
    assert s.covariance["order"] == list(fit.names)
    s2 = load_spec(save_spec(s, tmp_path / "m.json"))
    np.testing.assert_allclose(predict(s2, train)["probability"], fit.predict_proba(train),
                               rtol=1e-12)


@pytest.mark.filterwarnings("ignore::myorisk.errors.SmallSampleWarning")
def test_recalibrate_intercept_and_logistic(train):
    s = load_spec("pmdm-noninvasive")
    ext = load_dataset("pmdm-external")
    r = recalibrate(s, ext, "intercept", source="pmdm-external")
    p = predict(r, ext, points=False)["probability"]
    assert p.mean() == pytest.approx(ext["nonresponse"].mean(), abs=1e-8)  # score equation
    assert r.coefficients["msuvmax"] == s.coefficients["msuvmax"]
    assert r.status == "recalibrated" and r.name == "pmdm-noninvasive-intercept"
    assert r.lineage[-1]["parent"] == "pmdm-noninvasive"
    assert r.lineage[-1]["data"] == "pmdm-external" and r.lineage[-1]["n"] == 22
    assert r.lineage[-1]["parent_coefficients"]["Intercept"] == s.coefficients["Intercept"]
    assert len(r.lineage) == len(s.lineage) + 1
    g = recalibrate(s, ext, "logistic", source="pmdm-external")
    # after logistic recalibration, the calibration fit on the same data is the identity
    lp = predict(g, ext, points=False)["linear_predictor"]
    fit = fit_logistic(pd.DataFrame({"y": ext["nonresponse"], "lp": lp}), "y", ["lp"])
    assert fit.coef["Intercept"] == pytest.approx(0.0, abs=1e-7)
    assert fit.coef["lp"] == pytest.approx(1.0, abs=1e-7)
    b = g.lineage[-1]["parameters"]["calibration_slope"]
    assert g.coefficients["msuvmax"] == pytest.approx(b * s.coefficients["msuvmax"], rel=1e-12)


@pytest.mark.filterwarnings("ignore::myorisk.errors.SmallSampleWarning")
def test_recalibrate_refit_and_errors(train):
    s = load_spec("pmdm-noninvasive")
    r = recalibrate(s, train, "refit", source="pmdm-train")
    fit = fit_logistic(train, "nonresponse", ["sex", "msuvmax"], reference={"sex": "female"})
    for k, v in fit.coef.items():
        assert r.coefficients[k] == pytest.approx(v, rel=1e-10)
    assert r.status == "fitted" and r.covariance is not None
    assert json.loads(json.dumps(r.to_dict()))["lineage"][-1]["step"] == "recalibrate:refit"
    with pytest.raises(InputError, match="method must be one of"):
        recalibrate(s, train, "isotonic")
    with pytest.raises(InputError, match="outcome column 'nonresponse' not found"):
        recalibrate(s, train.drop(columns="nonresponse"))


def test_reconstructed_notice():
    s = load_spec("redmi")
    assert s.is_reconstructed
    assert s.notice().startswith("RECONSTRUCTED model 'redmi'")
    assert math.isfinite(s.lp_range()[0])


def test_predict_one():
    s = load_spec("pmdm-noninvasive")
    out = predict_one(s, {"sex": "male", "msuvmax": 1.1, "extra": 3})
    c = s.coefficients
    lp = c["Intercept"] + c["sex=male"] + 1.1 * c["msuvmax"]
    assert out["linear_predictor"] == pytest.approx(lp, rel=1e-14)
    assert set(out["points"]) == {"sex", "msuvmax"}
    assert out["points_total"] == pytest.approx(sum(out["points"].values()))
    assert out["notice"].startswith("RECONSTRUCTED")
    with pytest.raises(InputError, match="patient: row 1, column 'msuvmax': 4 is outside"):
        predict_one(s, {"sex": "male", "msuvmax": 4})
    with pytest.raises(InputError, match="column 'msuvmax' needed by model"):
        predict_one(s, {"sex": "male"})
    with pytest.raises(InputError, match="expected a JSON object"):
        predict_one(s, [1, 2])
