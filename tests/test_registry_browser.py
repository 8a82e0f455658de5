"""The registry end to end in Debian's Chromium (Playwright): sign in, enter a patient at
baseline, see the ReDMI risk, record the week-12 follow-up and watch the TIS appear live, save it,
see the TIS and the response on the timeline, open the monitoring dashboard. Every page also
fits a 375-px phone screen without sideways scrolling.

Set ``MYORISK_SCREENSHOTS=DIR`` to save desktop and phone screenshots of each page.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import uvicorn

from myorisk.myositis.tis import total_improvement_score
from myorisk.registry.service import Registry
from myorisk.registry.transfer import import_cohort
from myorisk.web.registry_app import create_registry_app
from registry_support import free_port

pytestmark = [pytest.mark.browser, pytest.mark.db]
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (test extra)")
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DATASETS = Path(__file__).parents[1] / "src" / "myorisk" / "datasets"
BL = {"pga_bl": "6", "ptga_bl": "5", "mmt8_bl": "60", "haq_bl": "1.5", "extramuscular_bl": "4",
      "ck_bl": "3000"}
FU = {"pga_fu": "2", "ptga_fu": "3", "mmt8_fu": "70", "haq_fu": "1", "extramuscular_fu": "1",
      "ck_fu": "500"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("registry")
    reg = Registry.open(str(tmp / "r.db"), create=True)
    reg.add_user("ann", "clinician", "password-ann", site="Qingdao")
    lines = (DATASETS / "redmi-cohort.csv").read_text().splitlines()[:61]
    (tmp / "c.csv").write_text("\n".join(lines) + "\n")
    import_cohort(reg, tmp / "c.csv", "Qingdao")
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(create_registry_app(reg), host="127.0.0.1", port=port,
                                        log_level="warning", access_log=False))
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "registry server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    th.join(timeout=10)
    reg.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: run `bash scripts/ensure_browser.sh` (make test does)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _shot(page: object, name: str) -> None:
    folder = os.environ.get("MYORISK_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"registry-{name}.png"), full_page=True)


def _fits_phone(page: object) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_enter_patient_followup_and_monitor(browser: object, server: str) -> None:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.goto(f"{server}/registry/")
    page.get_by_label("User name").fill("ann")
    page.get_by_label("Password").fill("password-ann")
    page.get_by_role("button", name="Sign in").click()
    sync_api.expect(page.get_by_role("heading", name="Patients at Qingdao")).to_be_visible()
    _shot(page, "patients-desktop")
    page.get_by_role("link", name="Enter a new patient").click()
    page.get_by_label("Site-local patient ID").fill("QD-BROWSER-1")
    page.get_by_role("group", name="Anti-TIF1-γ antibody").get_by_label("Yes", exact=True).check()
    page.get_by_role("group", name="Alopecia").get_by_label("No", exact=True).check()
    page.get_by_label("Gastrointestinal activity VAS (MDAAT)").fill("3.5")
    page.get_by_label("Sex").select_option("female")
    for k, v in BL.items():
        page.locator(f"#f-{k}").fill(v)
    page.get_by_role("button", name="Save baseline and score").click()
    page.wait_for_url(re.compile(r"/registry/patients/\d+$"))
    sync_api.expect(page.get_by_role("heading", name="Patient QD-BROWSER-1")).to_be_visible()
    risk = page.locator('td[data-model="redmi"]').inner_text()
    assert risk.endswith("%") and 0 < float(risk[:-1]) < 100
    page.get_by_role("link", name="Record the week-12 follow-up").click()
    page.wait_for_url("**/followup")
    for k, v in FU.items():
        page.locator(f"#f-{k}").fill(v)
    want = total_improvement_score(pd.DataFrame([{**{k: float(v) for k, v in BL.items()},
                                                  **{k: float(v) for k, v in FU.items()}}]),
                                   enzyme="ck").table.iloc[0]
    tis = page.locator("output#tis")
    sync_api.expect(tis).to_have_text(f"{want['tis']:g}", timeout=15000)  # live, before saving
    assert "response" in page.locator("#tis-text").inner_text()
    _shot(page, "followup-desktop")
    page.get_by_role("button", name="Save follow-up").press("Enter")  # (a click after a
    # full-page screenshot can miss in headless Chromium; the keyboard does not)
    page.wait_for_url(re.compile(r"/registry/patients/\d+$"))
    page.wait_for_load_state("load")
    assert page.locator("[id^=tis-]").first.inner_text() == f"{want['tis']:g}"
    assert page.locator("[id^=response-]").first.inner_text() == "response"
    _shot(page, "timeline-desktop")
    page.get_by_role("link", name="Monitoring").click()
    page.wait_for_url("**/monitor")
    page.wait_for_load_state("load")
    assert page.locator("#verdict").is_visible()
    assert page.locator("#c-stat").inner_text()[:1] in "01"
    charts = page.locator("img.chart")
    assert charts.count() == 2  # calibration and drift, drawn by the server (SVG)
    for k in range(2):
        assert charts.nth(k).evaluate("i => i.complete && i.naturalWidth > 0")
    _shot(page, "monitor-desktop")
    page.goto(f"{server}/registry/patients/new")
    _shot(page, "baseline-desktop")  # (a full-page shot before a click upsets the click)
    # the same pages on a phone
    phone = browser.new_context(viewport={"width": 375, "height": 800}, device_scale_factor=2,
                                is_mobile=True, has_touch=True,
                                storage_state=ctx.storage_state())
    pp = phone.new_page()
    pid = page.url  # any page; the patient's id from the list
    for name, url in (("patients", "/registry/"), ("baseline", "/registry/patients/new"),
                      ("monitor", "/registry/monitor")):
        pp.goto(f"{server}{url}")
        assert _fits_phone(pp), name
        _shot(pp, f"{name}-phone")
    pp.goto(f"{server}/registry/")
    pp.get_by_role("link", name="QD-BROWSER-1").click()
    pp.wait_for_url(re.compile(r"/registry/patients/\d+$"))
    pp.wait_for_load_state("load")
    assert _fits_phone(pp)
    _shot(pp, "timeline-phone")
    assert pid
    phone.close()
    ctx.close()
