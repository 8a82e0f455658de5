"""Published model spec files: provenance, published and reconstructed numbers, and predictions
equal to the hand calculation from the file's coefficients."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

import myorisk.published as published
from myorisk.datasets import generate, load_dataset
from myorisk.modeling.spec import _clean, load_spec, predict
from myorisk.published import build

pytestmark = pytest.mark.unit

TARGETS = generate.load_targets()
DIR = Path(published.__file__).parent


def _raw(name: str) -> dict:
    return json.loads((DIR / f"{name}.json").read_text(encoding="utf-8"))


def test_list_models():
    models = published.list_models()
    assert [m["name"] for m in models] == ["pmdm-comprehensive", "pmdm-noninvasive", "redmi"]
    for m in models:
        assert m["status"] == "reconstructed"
        assert m["notice"].startswith("RECONSTRUCTED")


def test_files_are_what_build_writes():
    for name, spec in build.build_specs().items():
        assert json.loads(json.dumps(_clean(spec.to_dict()))) == _raw(name), name


def test_published_coefficients_and_direction():
    mv = TARGETS["pmdm"]["multivariable"]
    for form in ("noninvasive", "comprehensive"):
        c = _raw(f"pmdm-{form}")["coefficients"]
        assert list(c)[0] == "Intercept"
        assert c["sex=male"] == pytest.approx(math.log(mv[form]["sex=male"][0]), rel=1e-12)
        assert c["msuvmax"] == pytest.approx(-math.log(mv[form]["msuvmax"][0]), rel=1e-12)
        assert c["msuvmax"] > 0  # the corrected direction
    assert _raw("pmdm-comprehensive")["coefficients"]["biopsy_bundle_atrophy"] == \
        pytest.approx(math.log(24.52), rel=1e-12)
    r = _raw("redmi")["coefficients"]
    assert r["anti_tif1g"] == pytest.approx(math.log(3.76))
    assert r["alopecia"] == pytest.approx(math.log(2.50))
    assert r["gi_vas"] == pytest.approx(math.log(1.11))


def test_reconstructed_intercepts():
    # ReDMI: probability 0.25 at the lowest index
    s = load_spec("redmi")
    assert s.coefficients["Intercept"] == pytest.approx(logit(0.25), rel=1e-12)
    p = predict(s, pd.DataFrame({"anti_tif1g": [0], "alopecia": [0], "gi_vas": [0.0]}))
    assert p["probability"].iloc[0] == pytest.approx(0.25, rel=1e-12)
    # study A: the score equation over the published summaries gives 19 expected events
    for form in ("noninvasive", "comprehensive"):
        b0 = load_spec(f"pmdm-{form}").coefficients["Intercept"]
        assert b0 == pytest.approx(build.pmdm_intercept(form), rel=1e-9)
        prov = _raw(f"pmdm-{form}")["provenance"]
        rec = {r["what"]: r for r in prov["reconstructed"]}
        assert rec["Intercept"]["value"] == b0
        # close to the same equation solved on the synthetic training cohort
        chk = rec["Intercept"]["check"]["synthetic_training_cohort_intercept"]
        assert abs(chk - b0) < 0.3
        assert any("reversed" in e for e in prov["errata"])


@pytest.mark.parametrize("name", ["pmdm-noninvasive", "pmdm-comprehensive", "redmi"])
def test_predict_equals_hand_calculation(name):
    raw = _raw(name)
    c = raw["coefficients"]
    if name == "redmi":
        patient = {"anti_tif1g": 1, "alopecia": 0, "gi_vas": 3.5}
        lp = c["Intercept"] + c["anti_tif1g"] + 3.5 * c["gi_vas"]
    else:
        patient = {"sex": "male", "msuvmax": 1.05, "biopsy_bundle_atrophy": 1}
        lp = c["Intercept"] + c["sex=male"] + 1.05 * c["msuvmax"]
        if name == "pmdm-comprehensive":
            lp += c["biopsy_bundle_atrophy"]
    out = predict(load_spec(name), pd.DataFrame([patient]))
    assert out["linear_predictor"].iloc[0] == pytest.approx(lp, rel=1e-14)
    assert out["probability"].iloc[0] == pytest.approx(1 / (1 + math.exp(-lp)), rel=1e-14)
    assert out["points_total"].iloc[0] > 0


def test_provenance_complete():
    for name in published.MODEL_NAMES:
        raw = _raw(name)
        prov = raw["provenance"]
        assert prov["status"] == "reconstructed"
        for key in ("source", "published", "reconstructed", "errata", "caveats"):
            assert prov[key], (name, key)
        assert raw["software"]["myorisk"]
        for v in raw["variables"]:
            assert v["kind"] in ("numeric", "binary", "categorical")
            if v["kind"] != "categorical":
                assert v["min"] is not None and v["max"] is not None


def test_published_models_on_synthetic_cohorts():
    """Sanity: the reconstructed models are roughly calibrated on the synthetic cohorts."""
    tr = load_dataset("pmdm-train")
    p = predict(load_spec("pmdm-noninvasive"), tr, points=False)["probability"]
    assert p.mean() == pytest.approx(19 / 64, abs=0.03)
    rb = load_dataset("redmi-cohort")
    p = predict(load_spec("redmi"), rb, points=False)["probability"]
    assert abs(p.mean() - 57 / 168) < 0.08
    assert np.all(expit(-10) < p)
