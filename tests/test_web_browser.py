"""End to end in a real browser: Debian's Chromium driven by Playwright, JavaScript switched off.

Starts ``myorisk.web`` under uvicorn on a free local port, opens the ReDMI calculator, fills the
form, submits it and reads back the probability, which must equal ``myorisk predict --json``
(run as a separate process). Also: an out-of-range value is refused on the page, and the page
fits a phone-sized screen without sideways scrolling.

``make test`` runs ``scripts/ensure_browser.sh`` first (installs Debian's ``chromium``). Set
``MYORISK_SCREENSHOTS=DIR`` to save the desktop and phone screenshots of the result page there
(``docs/img`` holds the committed ones).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from myorisk.web.app import create_app

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PATIENT = {"anti_tif1g": 1, "alopecia": 0, "gi_vas": 3.5}

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (test extra)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:  # pragma: no cover
            pytest.fail("the calculator server did not start within 15 s")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: run `bash scripts/ensure_browser.sh` (make test does)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _cli_prediction() -> dict:
    """``myorisk predict --model redmi --json`` in its own process, the patient on stdin."""
    out = subprocess.run(
        [sys.executable, "-c", "from myorisk.cli import main; main()", "predict", "--model",
         "redmi", "--json"],
        input=json.dumps(PATIENT), capture_output=True, text=True, timeout=60, check=True,
    )
    return json.loads(out.stdout)


def _fill_and_submit(page: object) -> None:
    page.get_by_role("group", name="Anti-TIF1-γ").get_by_label("Yes").check()
    page.get_by_role("group", name="Alopecia").get_by_label("No").check()
    page.get_by_role("spinbutton", name="GI disease activity VAS").fill(str(PATIENT["gi_vas"]))
    page.get_by_role("button", name="Calculate risk").click()
    page.wait_for_load_state("load")


def _shot(page: object, name: str) -> None:
    folder = os.environ.get("MYORISK_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"calculator-{name}.png"), full_page=True)


def test_redmi_page_gives_the_cli_probability(browser: object, base_url: str) -> None:
    ctx = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.goto(f"{base_url}/models/redmi")
    assert "ReDMI" in page.title()
    _fill_and_submit(page)
    out = page.locator("#probability")
    shown = float(out.get_attribute("data-value"))
    cli = _cli_prediction()
    assert shown == pytest.approx(cli["probability"], rel=1e-15)
    assert out.inner_text() == f"{100 * cli['probability']:.1f}%"
    assert float(page.locator("#points-total").get_attribute("data-value")) == pytest.approx(
        cli["points_total"], rel=1e-15)
    assert page.locator("#risk-band").inner_text().lower().startswith("high risk")
    # the nomogram marks this patient, and provenance and caveats are on the same page
    assert "This patient" in page.locator("svg.nomogram desc").first.text_content()
    assert page.get_by_role("heading", name="Provenance and caveats").is_visible()
    assert page.get_by_text("Reconstructed model.").first.is_visible()
    _shot(page, "desktop")
    ctx.close()


def test_out_of_range_is_refused_on_the_page(browser: object, base_url: str) -> None:
    ctx = browser.new_context(java_script_enabled=False)
    page = ctx.new_page()
    page.goto(f"{base_url}/models/redmi")
    gi = page.get_by_role("spinbutton", name="GI disease activity VAS")
    gi.fill("12")
    # the browser itself blocks the submission (min/max on the field) ...
    page.get_by_role("button", name="Calculate risk").click()
    assert gi.evaluate("el => el.validity.rangeOverflow") is True
    assert page.locator("#probability").count() == 0
    ctx.close()
    # ... and the server refuses it too when the browser does not check (novalidate, set from
    # the test: the page itself has no JavaScript)
    ctx = browser.new_context(java_script_enabled=True)
    page = ctx.new_page()
    page.goto(f"{base_url}/models/redmi")
    page.locator("form#calc-form").evaluate("f => { f.noValidate = true; }")
    page.get_by_role("group", name="Anti-TIF1-γ").get_by_label("Yes").check()
    page.get_by_role("spinbutton", name="GI disease activity VAS").fill("12")
    page.get_by_role("button", name="Calculate risk").click()
    page.wait_for_load_state("load")
    summary = page.get_by_role("alert")
    assert "GI disease activity VAS: 12 is outside the allowed range (allowed: 0-10 cm)" in \
        summary.inner_text()
    assert "Alopecia is required" in summary.inner_text()
    assert page.get_by_role("spinbutton", name="GI disease activity VAS").get_attribute("aria-invalid") == "true"
    assert page.locator("#probability").count() == 0
    ctx.close()


def test_phone_sized_screen(browser: object, base_url: str) -> None:
    ctx = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844},
                              device_scale_factor=2, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    page.goto(f"{base_url}/models/redmi")
    _fill_and_submit(page)
    assert page.locator("#probability").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px screen"
    box = page.get_by_role("button", name="Calculate risk").bounding_box()
    assert box["height"] >= 44  # touch target
    _shot(page, "phone")
    ctx.close()


PAGES = ["/", "/api", "/models/redmi", "/models/pmdm-noninvasive", "/models/pmdm-comprehensive",
         "/models/redmi/batch", "/models/nope"]


@pytest.mark.parametrize("width", [320, 375])
def test_every_page_reflows_on_a_narrow_phone(browser: object, base_url: str, width: int) -> None:
    """WCAG 1.4.10 (reflow at 320 CSS px): no page, result included, scrolls sideways (code
    examples in <pre> blocks scroll inside their box, as WCAG allows)."""
    ctx = browser.new_context(java_script_enabled=False, viewport={"width": width, "height": 800},
                              device_scale_factor=2, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    for path in PAGES:
        page.goto(f"{base_url}{path}")
        if path == "/models/redmi":
            _fill_and_submit(page)
            assert page.locator("#result-notice").is_visible()  # the caveat beside the result
        sizes = page.evaluate("[document.documentElement.scrollWidth, "
                              "document.documentElement.clientWidth]")
        assert sizes[0] <= sizes[1], f"{path} is {sizes[0]}px wide on a {width}px screen"
        wide = page.evaluate(f"""[...document.querySelectorAll('main *')].filter(e => {{
            const r = e.getBoundingClientRect(); return r.width > 0 && r.right > {width} + 0.5
              && !e.closest('.scroll, pre'); }}).map(e => e.tagName + '.' + e.className).slice(0, 5)""")
        assert wide == [], f"{path}: elements beyond the {width}px screen: {wide}"
        if path == "/models/redmi":
            _shot(page, f"phone-{width}")
    ctx.close()
