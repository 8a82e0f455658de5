"""Property-based tests of the JSON API.

* schemathesis generates requests from the application's own OpenAPI document (valid and invalid
  bodies, path parameters) and checks every answer: no server error, status codes and bodies as
  documented, valid data accepted, invalid data refused.
* hypothesis checks the numbers: for any valid patient the API answers exactly what the engine's
  :func:`myorisk.modeling.spec.predict` gives, and any JSON at all gets 200 or 422, never 5xx.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

import numpy as np
import pandas as pd
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig

from myorisk.modeling.spec import ModelSpec, VariableSpec, load_spec, predict
from myorisk.web import create_app

pytestmark = pytest.mark.slow

# schemathesis calls the application as host "testserver"
APP = create_app(allowed_hosts=("localhost", "testserver"))
CLIENT = TestClient(APP, base_url="http://localhost")
# A body above the size limit (2 MB) is refused 413 whether or not it fits the schema (the
# fuzzer's lists of up to 10,000 patients with junk keys can pass it): 413 is a documented
# rejection of valid and of invalid data alike.
CONFIG = SchemathesisConfig.from_dict({"checks": {
    "negative_data_rejection": {"expected-statuses": ["400", "404", "405", "413", "415", "422"]},
    "positive_data_acceptance": {"expected-statuses": ["2xx", "404", "413"]},
}})
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)
NAMES = ["pmdm-comprehensive", "pmdm-noninvasive", "redmi"]
SPECS = {n: load_spec(n) for n in NAMES}
FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.function_scoped_fixture])


@SCHEMA.parametrize()
@FAST
def test_openapi_contract_holds(case: schemathesis.Case, caplog: pytest.LogCaptureFixture) -> None:
    """Every operation of the OpenAPI document, fuzzed: answers conform and never 5xx, and the
    last line of defence (which answers an unexpected exception 400 and logs its type) is never
    reached: every refusal comes from validation."""
    with caplog.at_level(logging.ERROR, logger="myorisk.web"):
        case.call_and_validate()
    assert not [r for r in caplog.records if r.name == "myorisk.web"], caplog.text


def _value(v: VariableSpec) -> st.SearchStrategy:
    if v.kind == "categorical":
        return st.sampled_from(list(v.levels))
    if v.kind == "binary":  # every form the API and batch CSV accept, as the engine reads them
        return st.sampled_from([0, 1, 0.0, 1.0, True, False, "yes", "No", "TRUE", "false",
                                "1", "0", "present", "Negative", " y "])
    return st.floats(min_value=v.min, max_value=v.max, allow_nan=False, allow_infinity=False)


def _patient(spec: ModelSpec) -> st.SearchStrategy:
    return st.fixed_dictionaries({v.name: _value(v) for v in spec.variables})


@st.composite
def _model_and_patients(draw: st.DrawFn) -> tuple[str, list[dict]]:
    name = draw(st.sampled_from(NAMES))
    return name, draw(st.lists(_patient(SPECS[name]), min_size=1, max_size=5))


@given(_model_and_patients())
@FAST
def test_valid_patients_get_the_engine_prediction(case: tuple[str, list[dict]]) -> None:
    name, patients = case
    r = CLIENT.post(f"/api/models/{name}/predict", json=patients)
    assert r.status_code == 200, r.text
    got = r.json()
    exp = predict(SPECS[name], pd.DataFrame(patients), source="test")
    np.testing.assert_allclose([g["probability"] for g in got], exp["probability"], rtol=1e-13,
                               atol=1e-300)
    np.testing.assert_allclose([g["points_total"] for g in got], exp["points_total"],
                               rtol=1e-12, atol=1e-9)
    assert all(0.0 <= g["probability"] <= 1.0 for g in got)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=12), kids,
                                                              max_size=5),
    max_leaves=12,
)


@st.composite
def _near_valid(draw: st.DrawFn) -> tuple[str, object]:
    """A model's variables with arbitrary values (often refused), sometimes in a list."""
    name = draw(st.sampled_from(NAMES))
    keys = [v.name for v in SPECS[name].variables]
    body = draw(st.dictionaries(st.sampled_from(keys), _json | st.floats(), max_size=len(keys)))
    return name, draw(st.sampled_from([body, [body], [body, body]]))


@given(st.one_of(_near_valid(), st.tuples(st.sampled_from(NAMES), _json)))
@FAST
def test_any_json_is_answered_200_or_422(case: tuple[str, object]) -> None:
    name, body = case
    raw = json.dumps(body, allow_nan=True).encode()
    r = CLIENT.post(f"/api/models/{name}/predict", content=raw,
                    headers={"content-type": "application/json"})
    assert r.status_code in (200, 422), r.text
    if r.status_code == 422:
        for item in r.json()["detail"]:
            assert item["loc"][0] == "body" and item["msg"] and item["type"]


@pytest.mark.parametrize("name", NAMES)
def test_every_refusal_names_the_field(name: str) -> None:
    spec = SPECS[name]
    body = {v.name: "?" for v in spec.variables}
    r = CLIENT.post(f"/api/models/{name}/predict", json=body)
    assert r.status_code == 422
    assert sorted(e["loc"][1] for e in r.json()["detail"]) == sorted(v.name
                                                                     for v in spec.variables)


# ----------------------------------------------------------------------------- the pages
# The HTML pages are not in the OpenAPI document; hypothesis fuzzes them here.
_cell = st.one_of(st.text(max_size=12), st.sampled_from(["=1+1", "-3.5", "1e400", "NA", "yes",
                                                          '"', "\r", "0", "1", "12", " "]))


@st.composite
def _upload(draw: st.DrawFn) -> bytes:
    """A CSV-like file: the model's header (sometimes mangled) and random cells, or raw bytes."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=3000))
    name = draw(st.sampled_from(NAMES))
    cols = [v.name for v in SPECS[name].variables] + draw(st.lists(st.text(max_size=6),
                                                                   max_size=3))
    sep = draw(st.sampled_from([",", ";", "\t"]))
    rows = draw(st.lists(st.lists(_cell, min_size=len(cols), max_size=len(cols) + 1),
                         max_size=6))
    text = "\n".join(sep.join(r) for r in [cols, *rows])
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    return text.encode(enc, errors="replace")


@given(st.sampled_from(NAMES), _upload(), st.text(max_size=20))
@FAST
def test_any_upload_is_answered_200_or_422(name: str, content: bytes, filename: str) -> None:
    with _no_catch_all():
        r = CLIENT.post(f"/models/{name}/batch",
                        files={"file": (filename or "x.csv", content, "text/csv")})
    assert r.status_code in (200, 422), r.text[:300]


@given(st.sampled_from(NAMES), st.dictionaries(st.text(max_size=12), st.text(max_size=30),
                                               max_size=6), st.booleans())
@FAST
def test_any_form_is_answered_200_or_422(name: str, fields: dict, with_model_keys: bool) -> None:
    if with_model_keys:
        fields = {**{v.name: fields.get(v.name, "1") for v in SPECS[name].variables}, **fields}
    with _no_catch_all():
        r = CLIENT.post(f"/models/{name}", data=fields)
    assert r.status_code in (200, 422), r.text[:300]
    assert r.headers["content-type"].startswith("text/html")


@given(st.text(max_size=30), st.sampled_from(["", "/batch", "/template.csv", "/nomogram.svg"]))
@FAST
def test_any_page_address_is_answered_without_error(name: str, tail: str) -> None:
    with _no_catch_all():
        r = CLIENT.get(f"/models/{quote(name, safe='')}{tail}")
    assert r.status_code in (200, 404, 405), r.status_code


class _no_catch_all:  # noqa: N801 - used as a context manager
    """Fail when the last line of defence logged anything inside the block."""

    def __enter__(self) -> None:
        self.records: list[logging.LogRecord] = []
        self.handler = logging.Handler(logging.ERROR)
        self.handler.emit = self.records.append  # type: ignore[method-assign]
        logging.getLogger("myorisk.web").addHandler(self.handler)

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("myorisk.web").removeHandler(self.handler)
        assert not self.records, [r.getMessage() for r in self.records]
