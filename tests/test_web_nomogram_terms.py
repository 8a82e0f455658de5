"""Web calculator for a model with a spline and an interaction (``fit -x "rcs(age,4)*race, lwt"
--save``; ``serve --models DIR``): API JSON, the page, its SVG nomogram, and the page in Chromium.

The predictions and nomogram points are those of :func:`myorisk.modeling.spec.predict` and
:func:`myorisk.modeling.nomogram.nomogram_from_fit` (themselves matched to rms in
tests/test_nomogram_terms.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from myorisk.modeling.spec import load_spec, predict
from myorisk.web import create_app

from conftest import RESULTS

PATIENT = {"age": 23, "race": "black", "lwt": 120}


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("models")
    subprocess.run(
        [sys.executable, "-c", "from myorisk.cli import main; main()", "fit",
         str(RESULTS / "data" / "birthwt.csv"), "-y", "low", "-x", "rcs(age,4)*race, lwt",
         "--reference", "race=white", "--save", str(d / "bw.json"), "--name", "bw-spline"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    return d


@pytest.fixture(scope="module")
def client(models_dir: Path) -> TestClient:
    return TestClient(create_app(models_dir), base_url="http://localhost")


@pytest.mark.cli
def test_api_predicts_and_describes_the_spline_model(client: TestClient, models_dir: Path) -> None:
    spec = load_spec(str(models_dir / "bw.json"))
    exp = predict(spec, pd.DataFrame([PATIENT]), source="test").iloc[0]
    r = client.post("/api/models/bw-spline/predict", json=PATIENT)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["probability"] == pytest.approx(exp["probability"], rel=1e-12)
    # race interacts with age: it is read on age's axis for black patients, no points of its own
    assert set(got["points"]) == {"age", "lwt"}
    assert got["points"]["age"] == pytest.approx(exp["points_age"], rel=1e-12)
    assert got["points_total"] == pytest.approx(got["points"]["age"] + got["points"]["lwt"], rel=1e-12)
    nomo = client.get("/api/models/bw-spline").json()["nomogram"]
    assert [a["name"] for a in nomo["axes"]] == ["age (race=white)", "age (race=black)",
                                                  "age (race=other)", "lwt"]
    black = nomo["axes"][1]
    assert black["condition"] == {"race": "black"} and black["monotone"] is False
    # at a tick value, the patient's age points are the black axis's points there
    at = client.post("/api/models/bw-spline/predict", json={**PATIENT, "age": 25}).json()
    assert at["points"]["age"] == pytest.approx(black["points"][black["values"].index(25)], rel=1e-9)
    # an unknown level is refused, not a 500
    bad = client.post("/api/models/bw-spline/predict", json={**PATIENT, "race": "green"})
    assert bad.status_code == 422


@pytest.mark.cli
def test_page_marks_the_patient_on_their_levels_axis(client: TestClient) -> None:
    page = client.post("/models/bw-spline", data={k: str(v) for k, v in PATIENT.items()})
    assert page.status_code == 200
    svgs = [s for s in page.text.split("<svg ") if s.startswith('xmlns="http://www.w3.org/2000/svg"')
            and 'class="nomogram' in s]
    assert len(svgs) == 2  # wide and narrow drawings
    root = ET.fromstring("<svg " + svgs[0].split("</svg>")[0] + "</svg>")
    ns = "{http://www.w3.org/2000/svg}"
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert texts.count("age") == 3  # one axis per race, titled by the predictor's label
    assert {t for t in texts if (t or "").startswith("years") or (t or "").startswith("if ")} >= {
        "if race = white", "if race = black", "if race = other"}
    # the patient: one mark per point-carrying predictor (age on the black axis, lwt) + total + risk
    assert len(list(root.iter(f"{ns}circle"))) == 4
    desc = root.find(f"{ns}desc").text
    assert desc.startswith("This patient: age: 23") and "lwt: 120" in desc
    # the contributions table: race shown with age, whose points depend on it
    assert "age × race" in page.text and "23, black" in page.text


@pytest.mark.browser
@pytest.mark.slow
def test_spline_calculator_in_chromium(models_dir: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    import socket

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(models_dir), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        with sync_api.sync_playwright() as p:
            b = p.chromium.launch(executable_path="/usr/bin/chromium",
                                  args=["--headless", "--no-sandbox", "--disable-gpu"])
            for width, name in ((1280, "desktop"), (375, "375")):
                ctx = b.new_context(java_script_enabled=False, viewport={"width": width, "height": 900})
                page = ctx.new_page()
                page.goto(f"http://127.0.0.1:{port}/models/bw-spline")
                page.get_by_label("age").first.fill("23")
                page.get_by_label("lwt").first.fill("120")
                page.locator("select[name=race], input[name=race][value=black]").first.evaluate(
                    "e => { if (e.tagName === 'SELECT') e.value = 'black'; else e.checked = true; }")
                page.get_by_role("button", name="Calculate risk").click()
                page.wait_for_load_state("load")
                shown = float(page.locator("#probability").get_attribute("data-value"))
                exp = predict(load_spec(str(models_dir / "bw.json")), pd.DataFrame([PATIENT])).iloc[0]
                assert shown == pytest.approx(exp["probability"], rel=1e-12)
                folder = os.environ.get("MYORISK_SCREENSHOTS")
                if folder:
                    Path(folder).mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(Path(folder) / f"calculator-spline-{name}.png"), full_page=True)
                # no sideways scrolling, and the nomogram drawing fits the screen
                assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
                box = page.locator("svg.nomogram.stacked" if width < 500 else "svg.nomogram:not(.stacked)").first.bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1
                ctx.close()
            b.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert np.isfinite(shown)
