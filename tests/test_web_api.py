"""Web calculator and JSON API (``myorisk.web``): routes, exact JSON, refusals, batch CSV, privacy.

Predictions are compared with :func:`myorisk.modeling.spec.predict` (the function behind
``myorisk predict``); the browser test checks the same number end to end.
"""

from __future__ import annotations

import json
import logging
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from myorisk.errors import InputError
from myorisk.modeling.spec import load_spec, predict
from myorisk.web import create_app
from myorisk.web.app import _NoValues, access_log_config
from myorisk.web.registry import BINARY_FALSE, BINARY_TRUE, DEFAULT_BANDS, band_of
from myorisk.web.svg import nomogram_svg

pytestmark = pytest.mark.unit

BUNDLED = ["pmdm-comprehensive", "pmdm-noninvasive", "redmi"]
PATIENT = {"anti_tif1g": 1, "alopecia": 0, "gi_vas": 3.5}


def _custom_spec(name: str = "my-model", **extra: object) -> dict:
    spec = {
        "format": "myorisk-model/1",
        "name": name,
        "title": "Local model",
        "outcome": {"name": "nonresponse", "event": "1", "description": "Non-response: TIS < 20."},
        "variables": [
            {"name": "age", "kind": "numeric", "label": "Age", "unit": "years", "min": 18,
             "max": 100},
            {"name": "subtype", "kind": "categorical", "label": "Subtype",
             "levels": ["DM", "PM", "IMNM"], "reference": "DM"},
        ],
        "coefficients": {"Intercept": -2.0, "age": 0.02, "subtype=PM": 0.5,
                         "subtype=IMNM": 1.0},
        "provenance": {"status": "fitted", "source": "fitted by myorisk to local.csv",
                       "published": [], "reconstructed": [], "errata": [],
                       "caveats": ["Apparent performance only."]},
    }
    spec.update(extra)
    return spec


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(), base_url="http://localhost")


def _expected(name: str, rows: list[dict]) -> pd.DataFrame:
    spec = load_spec(name)
    return predict(spec, pd.DataFrame(rows), source="test")


# ----------------------------------------------------------------------------- JSON API
def test_list_models(client: TestClient) -> None:
    r = client.get("/api/models")
    assert r.status_code == 200
    body = r.json()
    assert [m["name"] for m in body] == BUNDLED
    redmi = body[2]
    assert redmi == {
        "name": "redmi", "title": load_spec("redmi").title, "status": "reconstructed",
        "reconstructed": True, "origin": "bundled",
        "outcome": load_spec("redmi").outcome, "variables": ["anti_tif1g", "alopecia", "gi_vas"],
        "intended_use": redmi["intended_use"],
    }
    assert "escalation" in redmi["intended_use"]


def test_get_model(client: TestClient) -> None:
    r = client.get("/api/models/redmi")
    assert r.status_code == 200
    d = r.json()
    assert d["spec"] == json.loads(json.dumps(load_spec("redmi").to_dict()))
    assert d["notice"].startswith("RECONSTRUCTED")
    assert d["risk_bands"]["default"] is True
    # the ReDMI's lowest possible risk is 25% (intercept log(1/3)): 'low' (< 20%) can never occur
    assert d["risk_bands"]["bands"] == [b.to_dict() for b in DEFAULT_BANDS[1:]]
    assert d["risk_bands"]["unreachable"] == [DEFAULT_BANDS[0].to_dict()]
    assert d["risk_bands"]["attainable"]["min"] == pytest.approx(0.25, rel=1e-12)
    assert "never predicts below 25.0%" in d["risk_bands"]["rationale"]
    assert d["nomogram"] == json.loads(json.dumps(load_spec("redmi").nomogram().to_dict()))
    assert d["input_schema"]["properties"]["gi_vas"]["maximum"] == 10


def test_unknown_model_404(client: TestClient) -> None:
    r = client.get("/api/models/nope")
    assert r.status_code == 404
    assert r.json() == {"detail": "unknown model 'nope': served models are "
                                  "pmdm-comprehensive, pmdm-noninvasive, redmi"}
    assert client.post("/api/models/nope/predict", json=PATIENT).status_code == 404


def test_predict_one_patient_matches_engine(client: TestClient) -> None:
    r = client.post("/api/models/redmi/predict", json=PATIENT)
    assert r.status_code == 200
    body = r.json()
    # the keys of `myorisk predict --json`; the reconstructed-model caveat beside the result
    assert list(body) == ["probability", "linear_predictor", "points", "points_total", "model",
                          "notice"]
    assert body["model"] == "redmi"
    assert body["notice"] == load_spec("redmi").notice() and body["notice"].startswith(
        "RECONSTRUCTED")
    exp = _expected("redmi", [PATIENT]).iloc[0]
    np.testing.assert_allclose(body["probability"], exp["probability"], rtol=1e-15)
    np.testing.assert_allclose(body["linear_predictor"], exp["linear_predictor"], rtol=1e-15)
    np.testing.assert_allclose(body["points_total"], exp["points_total"], rtol=1e-15)
    assert body["points"] == {k: pytest.approx(exp[f"points_{k}"], rel=1e-15) for k in PATIENT}


def test_predict_list_and_extra_keys(client: TestClient) -> None:
    rows = [{"sex": "male", "msuvmax": 1.2, "patient_id": "A1"},
            {"sex": "female", "msuvmax": 0.4}]
    r = client.post("/api/models/pmdm-noninvasive/predict", json=rows)
    assert r.status_code == 200
    body = r.json()
    assert isinstance(body, list) and len(body) == 2
    exp = _expected("pmdm-noninvasive", [{k: v for k, v in x.items() if k != "patient_id"}
                                         for x in rows])
    np.testing.assert_allclose([b["probability"] for b in body], exp["probability"], rtol=1e-15)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"anti_tif1g": 1, "alopecia": 0, "gi_vas": 12},
         [{"loc": ["body", "gi_vas"], "type": "less_than_equal",
           "msg": "GI disease activity VAS: 12 is outside the allowed range (allowed: 0-10 cm)"}]),
        ({"anti_tif1g": 2, "alopecia": 0, "gi_vas": 1},
         [{"loc": ["body", "anti_tif1g"], "type": "less_than_equal",
           "msg": "Anti-TIF1-γ: 2 is not 0 or 1 (allowed: 0 or 1, no or yes, false or true)"}]),
        ({"anti_tif1g": 1, "gi_vas": "abc"},
         [{"loc": ["body", "alopecia"], "type": "missing",
           "msg": "Alopecia is required (allowed: 0 or 1, no or yes, false or true)"},
          {"loc": ["body", "gi_vas"], "type": "float_type",
           "msg": 'GI disease activity VAS: "abc" is not a number (allowed: 0-10 cm)'}]),
        # a number sent as a string: shown as JSON shows it, with what to send instead
        ({"anti_tif1g": 1, "alopecia": 0, "gi_vas": "3.5"},
         [{"loc": ["body", "gi_vas"], "type": "float_type",
           "msg": 'GI disease activity VAS: "3.5" is text, not a number: send 3.5 without '
                  "quotes (allowed: 0-10 cm)"}]),
        # JSON null and true are echoed as JSON, not as Python's None and True
        ({"anti_tif1g": None, "alopecia": 0, "gi_vas": True},
         [{"loc": ["body", "anti_tif1g"], "type": "int_type",
           "msg": "Anti-TIF1-γ: null is not 0 or 1 (allowed: 0 or 1, no or yes, false or true)"},
          {"loc": ["body", "gi_vas"], "type": "float_type",
           "msg": "GI disease activity VAS: true is not a number (allowed: 0-10 cm)"}]),
        ({"anti_tif1g": "maybe", "alopecia": 0.5, "gi_vas": None},
         [{"loc": ["body", "anti_tif1g"], "type": "binary_parsing",
           "msg": 'Anti-TIF1-γ: "maybe" is not 0 or 1 (allowed: 0 or 1, no or yes, false or '
                  "true)"},
          {"loc": ["body", "alopecia"], "type": "int_type",
           "msg": "Alopecia: 0.5 is not 0 or 1 (allowed: 0 or 1, no or yes, false or true)"},
          {"loc": ["body", "gi_vas"], "type": "float_type",
           "msg": "GI disease activity VAS: null is not a number (allowed: 0-10 cm)"}]),
        ([], [{"loc": ["body"], "type": "too_short", "msg": "the list of patients is empty"}]),
        ("x", [{"loc": ["body"], "type": "model_type",
                "msg": "each patient must be a JSON object whose keys are the model's variables"}]),
    ],
)
def test_predict_refuses_with_field_messages(client: TestClient, body: object,
                                             detail: list) -> None:
    r = client.post("/api/models/redmi/predict", json=body)
    assert r.status_code == 422
    assert r.json() == {"detail": detail}


def test_predict_refuses_list_items_by_position(client: TestClient) -> None:
    r = client.post("/api/models/pmdm-noninvasive/predict",
                    json=[{"sex": "male", "msuvmax": 1}, {"sex": "other", "msuvmax": 9}])
    assert r.status_code == 422
    assert r.json() == {"detail": [
        {"loc": ["body", 1, "sex"], "type": "literal_error",
         "msg": 'Sex: "other" is not one of the model\'s levels (allowed: female, male)'},
        {"loc": ["body", 1, "msuvmax"], "type": "less_than_equal",
         "msg": "mSUVmax: 9 is outside the allowed range (allowed: 0.1-3 ratio to mean liver SUV)"},
    ]}


@pytest.mark.parametrize(
    ("raw", "msg_start"),
    [(b'{"gi_vas": 1,', "malformed JSON"), (b"", "the request body is empty"),
     (b'{"anti_tif1g": 1, "alopecia": 0, "gi_vas": NaN}', "GI disease activity VAS: must be a finite")],
)
def test_predict_refuses_malformed_json(client: TestClient, raw: bytes, msg_start: str) -> None:
    r = client.post("/api/models/redmi/predict", content=raw,
                    headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["msg"].startswith(msg_start)


def test_openapi_document(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert sorted(doc["paths"]) == [
        "/api/models", "/api/models/pmdm-comprehensive/predict",
        "/api/models/pmdm-noninvasive/predict", "/api/models/redmi/predict",
        "/api/models/{name}",
    ]
    op = doc["paths"]["/api/models/redmi/predict"]["post"]
    assert op["operationId"] == "predict_redmi"
    assert set(op["responses"]) == {"200", "413", "415", "422"}
    assert op["requestBody"]["content"]["application/json"]["schema"]["oneOf"][0] == {
        "$ref": "#/components/schemas/RedmiInput"}
    schema = doc["components"]["schemas"]["RedmiInput"]
    assert schema["required"] == ["anti_tif1g", "alopecia", "gi_vas"]
    assert schema["properties"]["gi_vas"]["minimum"] == 0
    assert schema["properties"]["gi_vas"]["maximum"] == 10
    assert doc["components"]["schemas"]["PmdmNoninvasiveInput"]["properties"]["sex"]["enum"] == [
        "female", "male"]
    # Swagger UI and ReDoc load from a CDN: switched off so that everything works offline.
    assert client.get("/docs").status_code == 404


# ----------------------------------------------------------------------------- pages
def test_calculator_page_is_plain_html(client: TestClient) -> None:
    r = client.get("/models/redmi")
    assert r.status_code == 200
    html = r.text
    assert "<script" not in html
    assert not re.search(r'(src|href)="https?://', html)  # nothing from a CDN
    for v in ("anti_tif1g", "alopecia", "gi_vas"):
        assert f'name="{v}"' in html
    assert '<label for="f-gi_vas">' in html and 'max="10"' in html
    assert "RECONSTRUCTED" in html and "Risk bands" in html and "<svg" in html
    assert r.headers["cache-control"] == "no-store"
    assert "default-src 'self'" in r.headers["content-security-policy"]


def test_form_post_shows_probability(client: TestClient) -> None:
    r = client.post("/models/redmi", data={"anti_tif1g": "1", "alopecia": "0", "gi_vas": "3.5"})
    assert r.status_code == 200
    value = float(re.search(r'id="probability" data-value="([^"]+)"', r.text).group(1))
    exp = _expected("redmi", [PATIENT]).iloc[0]
    assert value == pytest.approx(exp["probability"], rel=1e-15)
    band = band_of(value, DEFAULT_BANDS)
    assert f"{100 * value:.1f}%" in r.text and f">{band.label} risk<" in r.text
    assert 'data-variable="gi_vas"' in r.text


def test_form_refuses_out_of_range_and_malformed(client: TestClient) -> None:
    r = client.post("/models/redmi", data={"anti_tif1g": "1", "alopecia": "", "gi_vas": "30"})
    assert r.status_code == 422
    assert 'id="probability"' not in r.text
    assert "Alopecia is required (allowed: 0 or 1, no or yes, false or true)" in r.text
    assert "GI disease activity VAS: 30 is outside the allowed range (allowed: 0-10 cm)" in r.text
    assert 'aria-invalid="true"' in r.text and 'href="#f-gi_vas"' in r.text
    r = client.post("/models/redmi", data={"anti_tif1g": "maybe", "alopecia": "0", "gi_vas": "1,5"})
    assert r.status_code == 422
    assert "Anti-TIF1-γ: &#34;maybe&#34; is not 0 or 1" in r.text
    assert "GI disease activity VAS: &#34;1,5&#34; is not a number (allowed: 0-10 cm)" in r.text


# ----------------------------------------------------------------------------- values as text
@pytest.mark.parametrize(("word", "value"), [
    *[(w, 1) for w in ("yes", "Yes", "TRUE", "1", "1.0", "present", "Positive", " y ", "t")],
    *[(w, 0) for w in ("no", "NO", "false", "0", "0.0", "absent", "negative", "n", "F")],
])
def test_binary_words_are_accepted_alike_by_api_form_and_batch(client: TestClient, word: str,
                                                                value: int) -> None:
    """yes/no, true/false, 0/1… (the engine's words, any case) mean the same on every face."""
    exp = _expected("redmi", [{"anti_tif1g": value, "alopecia": 0, "gi_vas": 3.5}]).iloc[0]
    r = client.post("/api/models/redmi/predict",
                    json={"anti_tif1g": word, "alopecia": 0, "gi_vas": 3.5})
    assert r.status_code == 200, r.text
    assert r.json()["probability"] == pytest.approx(exp["probability"], rel=1e-15)
    r = client.post("/models/redmi", data={"anti_tif1g": word, "alopecia": "no", "gi_vas": "3.5"})
    assert r.status_code == 200, r.text
    shown = float(re.search(r'id="probability" data-value="([^"]+)"', r.text).group(1))
    assert shown == pytest.approx(exp["probability"], rel=1e-15)
    # the form comes back with the matching radio button ticked
    assert re.search(rf'name="anti_tif1g" value="{value}"\s+checked', r.text)
    csv = f"anti_tif1g,alopecia,gi_vas\n{word},no,3.5\n"
    r = client.post("/models/redmi/batch", files={"file": ("c.csv", csv, "text/csv")})
    assert r.status_code == 200, r.text
    assert pd.read_csv(pd.io.common.StringIO(r.text))["probability"][0] == pytest.approx(
        exp["probability"], rel=1e-15)


def test_json_booleans_for_binary(client: TestClient) -> None:
    exp = _expected("redmi", [PATIENT]).iloc[0]
    r = client.post("/api/models/redmi/predict",
                    json={"anti_tif1g": True, "alopecia": False, "gi_vas": 3.5})
    assert r.status_code == 200
    assert r.json()["probability"] == pytest.approx(exp["probability"], rel=1e-15)


def test_form_reads_numbers_as_batch_csv_does(client: TestClient) -> None:
    exp = _expected("redmi", [PATIENT]).iloc[0]["probability"]
    for text in ("3.5", " 3.5 ", "3.5e0", "+3.50"):
        r = client.post("/models/redmi", data={"anti_tif1g": "1", "alopecia": "0", "gi_vas": text})
        assert r.status_code == 200, text
        assert float(re.search(r'id="probability" data-value="([^"]+)"', r.text).group(1)) == \
            pytest.approx(exp, rel=1e-15)
    for text in ("1,5", "nan", "3.5cm"):
        r = client.post("/models/redmi", data={"anti_tif1g": "1", "alopecia": "0", "gi_vas": text})
        assert r.status_code == 422
        assert f"GI disease activity VAS: &#34;{text}&#34; is not a number" in r.text
    # batch files go through the project's one tabular reader, as `myorisk predict --input`:
    # "nan" is a missing-value token there
    for text, msg in (("3.5cm", "is not a number"), ("nan", "value is missing")):
        csv = f"anti_tif1g,alopecia,gi_vas\n1,0,{text}\n"
        r = client.post("/models/redmi/batch", files={"file": ("c.csv", csv, "text/csv")})
        assert r.status_code == 422 and msg in r.text


def test_openapi_binary_schema_lists_the_accepted_forms(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    prop = doc["components"]["schemas"]["RedmiInput"]["properties"]["anti_tif1g"]
    kinds = {b["type"]: b for b in prop["anyOf"]}
    assert kinds["integer"] == {"type": "integer", "minimum": 0, "maximum": 1}
    assert kinds["boolean"] == {"type": "boolean"}
    pattern = re.compile(kinds["string"]["pattern"])
    for w in (*BINARY_TRUE, *BINARY_FALSE):
        assert pattern.search(w) and pattern.search(w.upper()) and pattern.search(f" {w}\t")
    for w in ("maybe", "2", "yess", "1.5", ""):
        assert not pattern.search(w)
    assert "yes/no" in prop["description"]


# ----------------------------------------------------------------------------- nomogram SVG
_NS = "{http://www.w3.org/2000/svg}"


def _extreme(name: str, high: bool) -> dict[str, str]:
    """Form values giving the model's lowest (or highest) possible total points."""
    spec = load_spec(name)
    out = {}
    for v in spec.variables:
        if v.kind == "categorical":
            eff = {lv: (0.0 if lv == v.reference else spec.coefficients[f"{v.name}={lv}"])
                   for lv in v.levels}
            out[v.name] = (max if high else min)(eff, key=eff.__getitem__)
            continue
        lo, hi = (0.0, 1.0) if v.kind == "binary" else (v.min, v.max)
        up = (spec.coefficients[v.name] > 0) == high
        out[v.name] = f"{hi if up else lo:g}"
    return out


def _svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r'<svg xmlns=.*?</svg>', html, re.S)]


def _geometry(svg: ET.Element) -> dict:
    """Axis lines (by y, top to bottom), marks (circles) and mark labels of a drawn nomogram."""
    axes = sorted((float(e.get("y1")), float(e.get("x1")), float(e.get("x2")))
                  for e in svg.iter(f"{_NS}line")
                  if e.get("stroke-width") == "1.2" and e.get("y1") == e.get("y2"))
    circles = [(float(e.get("cx")), float(e.get("cy"))) for e in svg.iter(f"{_NS}circle")]
    labels = [(float(e.get("x")), float(e.get("y")), e.get("text-anchor"), e.text)
              for e in svg.iter(f"{_NS}text") if e.get("fill") == "#b3261e"]
    ticks = {}
    for y, _, _ in axes:
        ticks[y] = [(float(e.get("x")), e.text) for e in svg.iter(f"{_NS}text")
                    if abs(float(e.get("y")) - (y + 19)) < 0.05 and e.get("fill") == "#1f2328"]
    return {"axes": axes, "circles": circles, "labels": labels, "ticks": ticks}


@pytest.mark.parametrize("high", [False, True], ids=["min", "max"])
@pytest.mark.parametrize("name", BUNDLED)
def test_nomogram_marks_lie_on_drawn_axes(client: TestClient, name: str, high: bool) -> None:
    """Lowest and highest possible patients: every mark sits on its axis line; the total-points,
    linear-predictor and probability axes span 0 to the maximum total; the marks are placed
    where the patient's linear predictor is on the LP ticks; mark labels clear the marks."""
    values = _extreme(name, high)
    api = client.post(f"/api/models/{name}/predict", json=values)  # numbers as text: refused
    assert api.status_code == 422
    r = client.post(f"/models/{name}", data=values)
    assert r.status_code == 200
    res = json.loads(json.dumps(_expected(name, [{
        k: (float(v) if load_spec(name).variable(k).kind != "categorical" else v)
        for k, v in values.items()}]).iloc[0].to_dict()))
    for svg in _svgs(r.text):  # desktop and phone layouts
        g = _geometry(svg)
        axes = g["axes"]
        n = len(load_spec(name).variables)
        assert len(axes) == 1 + n + 3
        by_y = {round(y, 1): (x1, x2) for y, x1, x2 in axes}
        for cx, cy in g["circles"]:
            x1, x2 = by_y[round(cy, 1)]  # every mark is on an axis ...
            assert x1 - 0.05 <= cx <= x2 + 0.05, (cx, x1, x2)  # ... and on its drawn line
        assert len(g["circles"]) == n + 2
        total, lp, prob = axes[-3:]
        ruler_x0 = axes[0][1]
        assert total[1:] == lp[1:] == prob[1:]  # the three lower axes share one span
        assert total[1] == pytest.approx(ruler_x0)
        # the marks of the total and of the probability sit at this patient's linear predictor
        lp_ticks = [(x, float(t)) for x, t in g["ticks"][lp[0]]]
        (xa, va), (xb, vb) = lp_ticks[0], lp_ticks[-1]
        x_lp = xa + (res["linear_predictor"] - va) * (xb - xa) / (vb - va)
        marks = {round(cy, 1): cx for cx, cy in g["circles"]}
        assert marks[round(total[0], 1)] == pytest.approx(x_lp, abs=0.2)
        assert marks[round(prob[0], 1)] == pytest.approx(x_lp, abs=0.2)
        if high:
            assert marks[round(total[0], 1)] == pytest.approx(total[2], abs=0.05)
        # mark labels: above their axis line and beside (not across) the mark's dashed line
        for x, y, anchor, text in g["labels"]:
            ax_y = min((a[0] for a in axes if a[0] > y), default=None)
            assert ax_y is not None and 0 < ax_y - y <= 8, text
            cx = marks[round(ax_y, 1)]
            assert (x >= cx + 5) if anchor == "start" else (anchor == "end" and x <= cx - 5), text
        assert any(t == f"{100 * res['probability']:.1f}%" for *_, t in g["labels"])


def test_nomogram_desc_reads_labels_values_and_points(client: TestClient) -> None:
    r = client.post("/models/redmi", data={"anti_tif1g": "1", "alopecia": "0", "gi_vas": "3.5"})
    desc = _svgs(r.text)[0].find(f"{_NS}desc").text
    assert desc == ("This patient: Anti-TIF1-γ: yes, 100 points; Alopecia: no, 0 points; "
                    "GI disease activity VAS: 3.5 cm, 27.6 points; total 127.6 points; "
                    "predicted probability 64.4%.")
    r = client.post("/models/pmdm-noninvasive", data={"sex": "male", "msuvmax": "1.2"})
    exp = _expected("pmdm-noninvasive", [{"sex": "male", "msuvmax": 1.2}]).iloc[0]
    # the mSUVmax axis starts at its lowest allowed value, 0.1 (0 points), and ends at 3.0 (100)
    assert (round(exp["points_sex"], 1), round(exp["points_msuvmax"], 1)) == (16.9, 37.9)
    desc = _svgs(r.text)[1].find(f"{_NS}desc").text  # the phone layout says the same
    assert desc == ("This patient: Sex: male, 16.9 points; mSUVmax: 1.2 ratio to mean liver "
                    "SUV, 37.9 points; total 54.8 points; predicted probability "
                    f"{100 * exp['probability']:.1f}%.")
    assert client.get("/models/redmi/nomogram.svg").text.count(
        "Empty nomogram: no patient entered.") == 1


def test_nomogram_svg_ticks_inside_span_when_few_given() -> None:
    """A nomogram whose given LP/probability ticks miss the span still gets labelled axes."""
    nomo = load_spec("redmi").nomogram().to_dict()
    nomo["linear_predictor"] = {"values": [-5.0], "points": [-300.0]}
    nomo["probability"] = {"values": [0.01], "points": [-300.0]}
    g = _geometry(ET.fromstring(nomogram_svg(nomo, [v.to_dict() for v in
                                                    load_spec("redmi").variables])))
    assert len(g["axes"]) == 1 + 3 + 3  # Points, three predictors, total, LP, probability
    lp, prob = g["axes"][-2:]
    assert len(g["ticks"][lp[0]]) >= 3 and len(g["ticks"][prob[0]]) >= 3
    for y, x1, x2 in (lp, prob):
        assert all(x1 - 0.05 <= x <= x2 + 0.05 for x, _ in g["ticks"][y])


def test_index_and_api_help(client: TestClient) -> None:
    html = client.get("/").text
    for name in BUNDLED:
        assert f'href="/models/{name}"' in html
    assert "curl -s -X POST" in client.get("/api").text
    assert client.get("/models/nope").status_code == 404


# ----------------------------------------------------------------------------- batch CSV
def test_batch_scores_csv(client: TestClient) -> None:
    csv = "patient_id,anti_tif1g,alopecia,gi_vas\nP1,1,0,3.5\n\nP2,0,1,0\n"
    r = client.post("/models/redmi/batch", files={"file": ("cohort.csv", csv, "text/csv")})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "cohort-redmi-scored.csv" in r.headers["content-disposition"]
    out = pd.read_csv(pd.io.common.StringIO(r.text))
    assert list(out.columns) == ["patient_id", "anti_tif1g", "alopecia", "gi_vas", "probability",
                                 "linear_predictor", "points_anti_tif1g", "points_alopecia",
                                 "points_gi_vas", "points_total", "risk_band"]
    exp = _expected("redmi", [PATIENT, {"anti_tif1g": 0, "alopecia": 1, "gi_vas": 0}])
    np.testing.assert_allclose(out["probability"], exp["probability"], rtol=1e-15)
    assert list(out["risk_band"]) == [band_of(p, DEFAULT_BANDS).label for p in exp["probability"]]


def test_batch_lists_every_error_by_row_and_column(client: TestClient) -> None:
    rows = ["anti_tif1g,alopecia,gi_vas"] + ["1,0,2"] * 40 + ["2,0,11", "1,,x"] + ["0,0,0"] * 30
    r = client.post("/models/redmi/batch",
                    files={"file": ("c.csv", "\n".join(rows) + "\n", "text/csv")})
    assert r.status_code == 422
    cells = re.findall(r"<tr><td>(\d+)</td><td>([a-z_0-9]+)</td><td>([^<]+)</td></tr>", r.text)
    assert cells == [
        ("42", "anti_tif1g", "&#39;2&#39; is not 0 or 1"),
        ("42", "gi_vas", "11 is outside the model&#39;s valid range 0-10 cm"),
        ("43", "alopecia", "value is missing (allowed: 0 or 1)"),
        ("43", "gi_vas", "&#39;x&#39; is not a number"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [("anti_tif1g,alopecia\n1,0\n", "column &#39;gi_vas&#39; is missing"),
     ("", "file is empty"),
     ("anti_tif1g,alopecia,gi_vas\n", "the file has a header but no rows")],
)
def test_batch_refuses_bad_files(client: TestClient, content: str, message: str) -> None:
    r = client.post("/models/redmi/batch", files={"file": ("c.csv", content, "text/csv")})
    assert r.status_code == 422
    assert message in r.text


def test_batch_template(client: TestClient) -> None:
    r = client.get("/models/redmi/template.csv")
    assert r.text == "patient_id,anti_tif1g,alopecia,gi_vas\n"


# ----------------------------------------------------------------------------- --models DIR
def test_models_dir_adds_user_models_with_their_bands(tmp_path) -> None:
    bands = {"bands": [{"label": "lower", "max": 0.3}, {"label": "higher", "max": 1.0}],
             "rationale": "Cut at the local non-response rate."}
    (tmp_path / "m.json").write_text(json.dumps(_custom_spec(risk_bands=bands)))
    (tmp_path / "notes.txt").write_text("ignored")
    c = TestClient(create_app(tmp_path), base_url="http://localhost")
    assert [m["name"] for m in c.get("/api/models").json()] == [*BUNDLED, "my-model"]
    d = c.get("/api/models/my-model").json()
    assert d["origin"] == "file" and d["risk_bands"]["default"] is False
    assert d["risk_bands"]["bands"] == [{"label": "lower", "min": 0.0, "max": 0.3},
                                        {"label": "higher", "min": 0.3, "max": 1.0}]
    r = c.post("/api/models/my-model/predict", json={"age": 50, "subtype": "IMNM"})
    exp = -2.0 + 0.02 * 50 + 1.0
    assert r.json()["linear_predictor"] == pytest.approx(exp, rel=1e-15)
    page = c.post("/models/my-model", data={"age": "50", "subtype": "IMNM"}).text
    assert ">higher risk<" in page and "Cut at the local non-response rate." in page


@pytest.mark.parametrize(
    ("files", "message"),
    [({"a.json": _custom_spec(name="redmi")}, "already used by a bundled model"),
     ({"a.json": _custom_spec(name="bad name")}, "must use only letters"),
     ({"a.json": _custom_spec(risk_bands=[{"label": "x", "max": 0.5}])}, "last band must end at 1"),
     ({"a.json": "{"}, "not valid JSON")],
)
def test_models_dir_refuses_bad_specs(tmp_path, files: dict, message: str) -> None:
    for name, content in files.items():
        (tmp_path / name).write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(InputError, match=message):
        create_app(tmp_path)


def test_models_dir_must_be_a_folder(tmp_path) -> None:
    with pytest.raises(InputError, match="must be a folder"):
        create_app(tmp_path / "missing")


# ----------------------------------------------------------------------------- privacy
def test_no_input_value_reaches_any_log(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app()

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret 7.654321")

    c = TestClient(app, raise_server_exceptions=False, base_url="http://localhost")
    with caplog.at_level(logging.DEBUG):
        c.post("/api/models/redmi/predict", json={**PATIENT, "gi_vas": 7.654321})
        c.post("/api/models/redmi/predict", json={**PATIENT, "gi_vas": 17.654321})
        c.post("/models/redmi", data={"anti_tif1g": "1", "alopecia": "0", "gi_vas": "7.654321"})
        r = c.get("/boom")
    # a bug is logged by type and route and answered 400 (never 500), without the value
    assert r.status_code == 400 and "7.654321" not in r.text
    assert "RuntimeError in GET /boom" in caplog.text
    assert "7.654321" not in caplog.text


def test_access_log_filter_drops_query_and_client() -> None:
    rec = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                            ("10.0.0.7:5555", "GET", "/models/redmi?gi_vas=3", "1.1", 200), None)
    assert _NoValues().filter(rec)
    assert rec.getMessage() == '- - "GET /models/redmi HTTP/1.1" 200'
    cfg = access_log_config()
    assert cfg["handlers"]["access"]["filters"] == ["no_values"]


def test_serve_refuses_bad_models_folder(tmp_path, capsys: pytest.CaptureFixture) -> None:
    from myorisk.cli import _run

    assert _run(["serve", "--models", str(tmp_path / "none")]) == 2
    assert "must be a folder" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["redmi", "pmdm-noninvasive", "pmdm-comprehensive"])
@pytest.mark.parametrize("size", [1, 3, 150])  # inline on the event loop, and in the thread pool
def test_api_scores_as_the_engine_does_for_any_batch(client: TestClient, name: str, size: int) -> None:
    """The API scores validated values without a data frame (``score_clean``); ``predict`` on a
    data frame validates first. Both must give the same numbers for every patient."""
    spec = load_spec(name)
    rng = np.random.default_rng(size)
    rows = []
    for _ in range(size):
        row = {}
        for v in spec.variables:
            if v.kind == "binary":
                row[v.name] = int(rng.integers(0, 2))
            elif v.kind == "categorical":
                row[v.name] = str(rng.choice(list(v.levels)))
            else:
                lo, hi = spec.ranges()[v.name]
                row[v.name] = round(float(rng.uniform(lo, hi)), 3)
        rows.append(row)
    r = client.post(f"/api/models/{name}/predict", json=rows if size > 1 else rows[0])
    assert r.status_code == 200, r.text
    got = r.json() if size > 1 else [r.json()]
    exp = predict(spec, pd.DataFrame(rows), source="test")
    assert len(got) == size
    for g, (_, e) in zip(got, exp.iterrows(), strict=True):
        assert g["probability"] == pytest.approx(e["probability"], rel=1e-13, abs=1e-15)
        assert g["linear_predictor"] == pytest.approx(e["linear_predictor"], rel=1e-13, abs=1e-15)
        assert g["points_total"] == pytest.approx(e["points_total"], rel=1e-13, abs=1e-13)
        assert set(g["points"]) == {c[len("points_"):] for c in exp.columns if c.startswith("points_")} - {"total"}
        for k, p in g["points"].items():
            assert p == pytest.approx(e[f"points_{k}"], rel=1e-13, abs=1e-13)


def test_api_reads_level_words_as_the_batch_upload_does(client: TestClient) -> None:
    """``M``, ``Male``, ``男`` name the level ``male`` in the JSON API as in a CSV upload or on the
    command line; an unknown word is refused with the allowed levels."""
    url = "/api/models/pmdm-noninvasive/predict"
    ref = client.post(url, json={"sex": "male", "msuvmax": 1.2}).json()["probability"]
    ref_f = client.post(url, json={"sex": "female", "msuvmax": 1.2}).json()["probability"]
    assert ref != ref_f
    for word in ("M", "Male", " MALE ", "男"):
        r = client.post(url, json={"sex": word, "msuvmax": 1.2})
        assert r.status_code == 200, (word, r.text)
        assert r.json()["probability"] == ref
    for word in ("F", "女", "Female"):
        assert client.post(url, json={"sex": word, "msuvmax": 1.2}).json()["probability"] == ref_f
    r = client.post(url, json={"sex": "x", "msuvmax": 1.2})
    assert r.status_code == 422 and "female, male" in r.text
