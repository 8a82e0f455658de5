"""The calculator under attack: hostile requests and hostile files get 4xx, never 5xx (issue 11).

* Spreadsheet formulas in batch output are neutralised (OWASP), numbers untouched (item 9).
* Lone surrogates, integers beyond Python's digit limit, deep JSON, non-Latin upload names,
  malformed multipart, wrong types: 4xx with a message (item 10).
* Request bodies are limited before they are read (413), non-JSON bodies refused (415), HEAD
  answered, unknown hosts refused, batch scoring off the event loop (item 11).
* User columns renamed not overwritten, the reconstructed caveat beside each result, risk bands
  a model can reach, nomogram axes from the lowest allowed value (item 12).

Every test here failed on the code before issue 11. The last line of defence (an unexpected
exception is logged by type and answered 400) must never be reached: the ``no_bug`` fixture
fails a test that triggers it.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from myorisk.modeling.spec import load_spec, predict
from myorisk.web import create_app
from myorisk.web.scoring import content_disposition, csv_bytes, neutralise_formulas

pytestmark = pytest.mark.unit

PATIENT = {"anti_tif1g": 1, "alopecia": 0, "gi_vas": 3.5}
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(), base_url="http://localhost")


@pytest.fixture(autouse=True)
def no_bug(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail when the catch-all was reached: every refusal must come from validation."""
    with caplog.at_level(logging.ERROR, logger="myorisk.web"):
        yield
    bugs = [r.getMessage() for r in caplog.records if r.name == "myorisk.web"]
    assert not bugs, bugs


def _scored(r) -> pd.DataFrame:  # noqa: ANN001 - httpx.Response
    assert r.status_code == 200, r.text[:500]
    assert r.content.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark: Excel reads UTF-8
    return pd.read_csv(io.BytesIO(r.content), encoding="utf-8-sig", dtype=str,
                       keep_default_na=False)


def _upload(client: TestClient, content: str | bytes, name: str = "c.csv",
            model: str = "redmi"):  # noqa: ANN202
    return client.post(f"/models/{model}/batch", files={"file": (name, content, "text/csv")})


# ----------------------------------------------------------------------------- item 9
def test_batch_output_neutralises_formulas_and_keeps_numbers(client: TestClient) -> None:
    csv = ("id,note,delta,anti_tif1g,alopecia,gi_vas\n"
           "=HYPERLINK(\"http://x\"),+1+1,-2.5,1,0,3.5\n"
           "@SUM(A1),-cmd,-1e3,0,1,0\n"
           "-2+3,-3.5,7,0,0,1\n")
    r = _upload(client, csv)
    raw = r.content.decode("utf-8-sig").splitlines()
    out = _scored(r)
    # (cells are trimmed by the reader, so a leading tab or CR cannot survive it; the rule
    # for them is checked on the writer below)
    assert list(out["id"]) == ["'=HYPERLINK(\"http://x\")", "'@SUM(A1)", "'-2+3"]
    # a text cell that is a plain number stays as it is (a spreadsheet reads it as a number)
    assert list(out["note"]) == ["'+1+1", "'-cmd", "-3.5"]
    # a numeric column is never touched: negative numbers stay numbers
    assert list(out["delta"]) == ["-2.5", "-1000.0", "7.0"]
    assert raw[1].startswith('"\'=HYPERLINK(""http://x"")"')
    assert all(re.match(r"^[0-9.e-]+$", p) for p in out["linear_predictor"])


def test_neutralise_formulas_rules() -> None:
    df = pd.DataFrame({"=evil": ["=1+1", "+A1", "-A1", "@A1", "\rX", "\tX", "-3", "+4.5", "a=b",
                                 None],
                       "n": [-1.0, -2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, np.nan]})
    out = neutralise_formulas(df)
    assert list(out.columns) == ["'=evil", "n"]
    assert list(out["'=evil"][:9]) == ["'=1+1", "'+A1", "'-A1", "'@A1", "'\rX", "'\tX", "-3",
                                       "+4.5", "a=b"]
    assert out["'=evil"].isna().iloc[9]
    assert out["n"].equals(df["n"])
    assert list(df["=evil"][:1]) == ["=1+1"]  # the input is not changed
    assert csv_bytes(df).startswith(b"\xef\xbb\xbf'=evil,n\n'=1+1,-1.0\n")


# ----------------------------------------------------------------------------- item 10
@pytest.mark.parametrize(("body", "message"), [
    (b'{"anti_tif1g": "\\ud800", "alopecia": 0, "gi_vas": 1}', "lone UTF-16 surrogate"),
    (b'{"\\udfff": 1, "anti_tif1g": 1, "alopecia": 0, "gi_vas": 1}', "lone UTF-16 surrogate"),
    (b'{"anti_tif1g": 1, "alopecia": 0, "gi_vas": ' + b"9" * 5000 + b"}", "too many digits"),
    (b"[" * 100_000 + b"]" * 100_000, "nested more than 32 levels"),
    (b'{"a":' * 40 + b"1" + b"}" * 40, "nested more than 32 levels"),
    (b'{"anti_tif1g": "\xff"}', "not UTF-8"),
    (b'{"anti_tif1g": 1, "alopecia": 0, "gi_vas": 1e999}', "finite number"),
])
def test_hostile_json_is_422(client: TestClient, body: bytes, message: str) -> None:
    r = client.post("/api/models/redmi/predict", content=body, headers=JSON)
    assert r.status_code == 422, r.text[:300]
    assert message in json.dumps(r.json(), ensure_ascii=False)


def test_huge_integer_is_out_of_range_not_a_crash(client: TestClient) -> None:
    r = client.post("/api/models/redmi/predict", headers=JSON,
                    content=b'{"anti_tif1g": 1, "alopecia": 0, "gi_vas": 1' + b"0" * 4000 + b"}")
    assert r.status_code == 422
    assert "is outside the allowed range (allowed: 0-10 cm)" in r.json()["detail"][0]["msg"]


@pytest.mark.parametrize("value", [None, [], {}, [1], {"a": 1}, "x", True, -1, 1.5, "1e3",
                                   "\u0000", "\ud800", 2**70, "3.5"])
def test_wrong_types_everywhere_are_422(client: TestClient, value: object) -> None:
    valid = {"anti_tif1g": (True,), "alopecia": (True,), "gi_vas": (1.5,)}
    for key in PATIENT:
        if value in valid[key] and type(value) is type(valid[key][0]):
            continue
        body = json.dumps({**PATIENT, key: value}).encode()
        r = client.post("/api/models/redmi/predict", content=body, headers=JSON)
        assert r.status_code == 422, (key, value, r.text[:300])
        assert r.json()["detail"][0]["loc"][:2] in (["body", key], ["body"])


def test_non_latin_upload_name_downloads_with_rfc6266_filename(client: TestClient) -> None:
    r = _upload(client, "anti_tif1g,alopecia,gi_vas\n1,0,3.5\n", name="患者 données.csv")
    assert r.status_code == 200
    cd = r.headers["content-disposition"]
    assert cd == ('attachment; filename="__ donn_es-redmi-scored.csv"; '
                  "filename*=UTF-8''%E6%82%A3%E8%80%85%20donn%C3%A9es-redmi-scored.csv")
    # and a name that is all path, quotes and control characters
    r = _upload(client, "anti_tif1g,alopecia,gi_vas\n1,0,3.5\n", name='..\\"a";\r\nb.csv')
    assert r.status_code == 200
    assert "\r" not in r.headers["content-disposition"]
    assert content_disposition("a\ud800b.csv").endswith("filename*=UTF-8''ab.csv")


@pytest.mark.parametrize(("content", "ctype"), [
    (b"abc", "multipart/form-data"),  # no boundary
    (b'--xx\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nabc',
     "multipart/form-data; boundary=xx"),  # never closed
    (b"--xx--\r\n", "multipart/form-data; boundary=xx"),  # no parts
    (b'{"file": 1}', "application/json"),
    (b"file=abc", "application/x-www-form-urlencoded"),
    (b"\x00\xff" * 100, "multipart/form-data; boundary=\x7f"),
])
def test_malformed_uploads_are_4xx_pages(client: TestClient, content: bytes, ctype: str) -> None:
    r = client.post("/models/redmi/batch", content=content, headers={"content-type": ctype})
    assert 400 <= r.status_code < 500, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    assert "Not scored" in r.text


def test_calculator_form_refuses_files_and_garbage(client: TestClient) -> None:
    r = client.post("/models/redmi", files={"gi_vas": ("x.csv", b"1", "text/csv")},
                    data={"anti_tif1g": "1", "alopecia": "0"})
    assert r.status_code == 400 and "the form could not be read" in r.text
    r = client.post("/models/redmi", content=b"\xff\xfe\x00=%ED%A0%80&gi_vas=" + b"9" * 5000,
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 422


def test_catch_all_answers_400_without_values(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app()

    @app.get("/boom")
    async def boom() -> None:
        raise KeyError("secret 7.654321")

    c = TestClient(app, raise_server_exceptions=False, base_url="http://localhost")
    r = c.get("/boom")
    assert r.status_code == 400 and "7.654321" not in r.text
    assert "unexpected problem" in r.text
    assert [m.getMessage() for m in caplog.records if m.name == "myorisk.web"] == [
        "KeyError in GET /boom"]
    caplog.clear()  # (this test reaches the catch-all on purpose)


# ----------------------------------------------------------------------------- item 11
def test_content_length_over_the_limit_is_413_before_reading() -> None:
    app = create_app(max_body_bytes=1000, max_upload_bytes=5000)

    async def call(path: str, length: int, ctype: bytes = b"application/json") -> list[dict]:
        sent: list[dict] = []

        async def receive() -> dict:
            raise AssertionError("the body was read")

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(),
                 "root_path": "", "query_string": b"", "scheme": "http", "http_version": "1.1",
                 "headers": [(b"host", b"localhost"), (b"content-type", ctype),
                             (b"content-length", str(length).encode())],
                 "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
        await app(scope, receive, send)
        return sent

    sent = asyncio.run(call("/api/models/redmi/predict", 10**12))
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["detail"] == (
        "a request body may hold at most 1000 bytes (myorisk serve --max-body-mb sets it); "
        "this one has 9.54e+05 MB")
    sent = asyncio.run(call("/models/redmi/batch", 6000, b"multipart/form-data; boundary=x"))
    assert sent[0]["status"] == 413 and b"an upload may hold at most 4.88 kB" in sent[1]["body"]


def test_streamed_body_is_counted_and_stopped() -> None:
    c = TestClient(create_app(max_body_bytes=1000, max_upload_bytes=5000),
                   base_url="http://localhost")
    chunks = iter([b"[" + b" " * 600, b" " * 600, b"]"])
    r = c.post("/api/models/redmi/predict", content=chunks, headers=JSON)  # chunked: no length
    assert r.status_code == 413
    assert r.json() == {"detail": "a request body may hold at most 1000 bytes (myorisk serve "
                                  "--max-body-mb sets it)"}
    body = (b'--xx\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
            + b"anti_tif1g,alopecia,gi_vas\n" + b"1,0,3.5\n" * 1000 + b"\r\n--xx--\r\n")
    r = c.post("/models/redmi/batch", content=iter([body[i:i + 512]
                                                    for i in range(0, len(body), 512)]),
               headers={"content-type": "multipart/form-data; boundary=xx"})
    assert r.status_code == 413 and "an upload may hold at most 4.88 kB" in r.text
    assert r.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("ctype", ["text/plain", "", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x",
                                   "application/json; charset=latin-1"])
def test_json_endpoint_refuses_other_content_types(client: TestClient, ctype: str) -> None:
    headers = {"content-type": ctype} if ctype else {}
    r = client.post("/api/models/redmi/predict", content=json.dumps(PATIENT).encode(),
                    headers=headers)
    assert r.status_code == 415
    assert "Content-Type: application/json" in r.json()["detail"]
    for ok in ("application/json; charset=UTF-8", "application/problem+json"):
        r = client.post("/api/models/redmi/predict", content=json.dumps(PATIENT).encode(),
                        headers={"content-type": ok})
        assert r.status_code == 200, ok


def test_head_is_answered_on_every_get_route(client: TestClient) -> None:
    paths = ["/", "/api", "/api/models", "/api/models/redmi", "/openapi.json", "/models/redmi",
             "/models/redmi/batch", "/models/redmi/template.csv", "/models/redmi/nomogram.svg",
             "/static/style.css", "/static/favicon.svg"]
    for path in paths:
        g, h = client.get(path), client.head(path)
        assert (h.status_code, g.status_code) == (200, 200), path
        assert h.content == b"" and h.headers["content-type"] == g.headers["content-type"]
        assert h.headers.get("content-length") == g.headers.get("content-length"), path
        assert h.headers["cache-control"] in ("no-store", "max-age=3600")


def test_trusted_hosts() -> None:
    c = TestClient(create_app(), base_url="http://localhost")
    for host in ("localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST."):
        assert c.get("/api/models", headers={"host": host}).status_code == 200, host
    for host in ("evil.example", "localhost.evil.example", "127.0.0.2", "", "[::2]:80"):
        r = c.get("/api/models", headers={"host": host})
        assert r.status_code == 400, host
        assert "is not served here" in r.json()["detail"]
        assert "--allowed-host" in r.json()["detail"]
    r = c.get("/", headers={"host": "evil.example"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    c = TestClient(create_app(allowed_hosts=["*.ward.example", "calc.example"]),
                   base_url="http://calc.example")
    assert c.get("/").status_code == 200
    assert c.get("/", headers={"host": "a.ward.example:443"}).status_code == 200
    assert c.get("/", headers={"host": "localhost"}).status_code == 400


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[str, object]]:
    import uvicorn

    app = create_app()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:  # pragma: no cover
            pytest.fail("the calculator server did not start within 30 s")
        time.sleep(0.05)
    yield f"http://localhost:{port}", app
    server.should_exit = True
    thread.join(timeout=10)


def _big_csv(n: int, seed: int = 1) -> bytes:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"patient_id": np.arange(n), "anti_tif1g": rng.integers(0, 2, n),
                       "alopecia": rng.integers(0, 2, n),
                       "gi_vas": np.round(rng.uniform(0, 10, n), 1)})
    return df.to_csv(index=False).encode()


def _prediction_during_batch(base: str, app: object, rows: int) -> tuple[pd.DataFrame, bytes]:
    """Upload ``rows`` patients; while the server scores them, ask for one prediction.

    Ordering, not timing: the single prediction must be answered while the batch is still in
    flight (``app.state.batches_in_flight`` is 1 before and after it). When batch scoring ran
    on the event loop, no other request was answered until the batch was done.
    """
    import httpx

    data = _big_csv(rows)
    result: dict[str, object] = {}

    def upload() -> None:
        with httpx.Client(timeout=600) as h:
            result["r"] = h.post(f"{base}/models/redmi/batch",
                                 files={"file": ("big.csv", data, "text/csv")})

    t = threading.Thread(target=upload)
    t.start()
    deadline = time.monotonic() + 300
    while app.state.batches_in_flight == 0:  # type: ignore[attr-defined]
        assert t.is_alive() and time.monotonic() < deadline, "the batch never started"
        time.sleep(0.005)
    with httpx.Client(timeout=600) as h:
        single = h.post(f"{base}/api/models/redmi/predict", json=PATIENT)
    in_flight_after = app.state.batches_in_flight  # type: ignore[attr-defined]
    t.join()
    assert single.status_code == 200
    assert in_flight_after == 1, "the single prediction waited for the batch"
    r = result["r"]
    assert r.status_code == 200, r.text[:300]  # type: ignore[attr-defined]
    return pd.read_csv(io.BytesIO(r.content), encoding="utf-8-sig"), data  # type: ignore[attr-defined]


def test_single_prediction_is_answered_while_a_batch_is_scored(live: tuple) -> None:
    base, app = live
    out, data = _prediction_during_batch(base, app, 50_000)
    assert len(out) == 50_000
    src = pd.read_csv(io.BytesIO(data))
    exp = predict(load_spec("redmi"), src, source="t")
    np.testing.assert_allclose(out["probability"], exp["probability"], rtol=1e-15)


@pytest.mark.slow
def test_one_million_rows(live: tuple) -> None:
    """A 1,000,000-row upload (16 MB: under the 20 MB default) is scored in full, and a single
    prediction is answered meanwhile."""
    base, app = live
    out, _ = _prediction_during_batch(base, app, 1_000_000)
    assert len(out) == 1_000_000
    assert out["patient_id"].tolist() == list(range(1_000_000))
    assert out["probability"].between(0.25, 0.9).all()


# ----------------------------------------------------------------------------- hostile files
def test_hostile_files(client: TestClient) -> None:
    rng = np.random.default_rng(7)
    good = "patient_id,anti_tif1g,alopecia,gi_vas\nMüller,1,0,3.5\n"
    cases = {
        "binary": (rng.integers(0, 256, 50_000, dtype=np.uint8).tobytes(), 422,
                   "is not a CSV text file"),
        "zip": (b"PK\x03\x04" + b"\x00" * 100, 422, "save the sheet as CSV"),
        "pdf": (b"%PDF-1.7\n...", 422, "is not a CSV text file"),
        "empty": (b"", 422, "file is empty"),
        "blank": (b"\n\n \n", 422, "file is empty"),
        "header only": (b"anti_tif1g,alopecia,gi_vas\n", 422, "has a header but no rows"),
        # UTF-16 with a byte-order mark (Excel's "Unicode text") is read, as on the command line
        "utf-16": (good.encode("utf-16"), 200, "Müller"),
        "long cell": (b"anti_tif1g,alopecia,gi_vas\n1,0," + b"9" * 400_000 + b"\n", 422, "c.csv"),
        "quote never closed": (b'anti_tif1g,alopecia,gi_vas\n1,0,"3.5\n' + b"x\n" * 1000, 422,
                               "c.csv"),
        "ragged": (b"anti_tif1g,alopecia,gi_vas\n1,0,3.5,9,9\n", 422,
                   "row 2 has 5 cells but the header has 3 columns"),
        "many columns": ((",".join(f"c{i}" for i in range(20_000)) + ",anti_tif1g,alopecia,gi_vas"
                          "\n" + "," * 20_000 + "1,0,3.5\n").encode(), 422,
                         "the header has about 20,003 columns; the calculator reads at most 1,000"),
        "1,000 columns": ((",".join(f"c{i}" for i in range(997)) + ",anti_tif1g,alopecia,gi_vas"
                           "\n" + "," * 997 + "1,0,3.5\n").encode(), 200, ""),
        "nul in text": (b"anti_tif1g,alopecia,gi_vas\n1,0,3.5\x00\n", 422, ""),
    }
    for what, (content, status, message) in cases.items():
        r = _upload(client, content)
        assert r.status_code == status, (what, r.status_code, r.text[:300])
        assert message in r.text, what


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp1252", "gb18030"])
def test_encodings_are_read_or_refused_never_a_crash(client: TestClient, encoding: str) -> None:
    text = "patient_id;anti_tif1g;alopecia;gi_vas\nMüller-张;1;0;3.5\n"
    if encoding == "cp1252":
        text = text.replace("-张", "")
    content = text.encode(encoding)
    r = _upload(client, content)
    assert r.status_code in (200, 422)
    if encoding != "cp1252":  # the one reader reads these (docs/cohort-files.md)
        assert r.status_code == 200, r.text[:300]
    if r.status_code == 200:
        out = _scored(r)
        assert list(out.columns[:4]) == ["patient_id", "anti_tif1g", "alopecia", "gi_vas"]
        if encoding.startswith("utf-8") or encoding == "gb18030":
            assert out["patient_id"][0] == "Müller-张"


def test_upload_over_the_limit_is_413_page() -> None:
    c = TestClient(create_app(max_upload_bytes=2**20), base_url="http://localhost")
    r = _upload(c, b"anti_tif1g,alopecia,gi_vas\n" + b"1,0,3.5\n" * 200_000)
    assert r.status_code == 413
    assert "an upload may hold at most 1 MB (myorisk serve --max-upload-mb sets it)" in r.text


# ----------------------------------------------------------------------------- item 12
def test_user_columns_are_renamed_and_reported_never_overwritten(client: TestClient) -> None:
    csv = ("probability,risk_band,probability_1,points_gi_vas,anti_tif1g,alopecia,gi_vas\n"
           "mine,my band,taken,7,1,0,3.5\n")
    r = _upload(client, csv)
    out = _scored(r)
    assert list(out.columns) == [
        "probability_2", "risk_band_1", "probability_1", "points_gi_vas_1", "anti_tif1g",
        "alopecia", "gi_vas", "probability", "linear_predictor", "points_anti_tif1g",
        "points_alopecia", "points_gi_vas", "points_total", "risk_band"]
    assert out.loc[0, ["probability_2", "risk_band_1", "probability_1", "points_gi_vas_1"]
                   ].tolist() == ["mine", "my band", "taken", "7"]
    exp = predict(load_spec("redmi"), pd.DataFrame([PATIENT])).iloc[0]
    assert float(out["probability"][0]) == pytest.approx(exp["probability"], rel=1e-15)
    assert json.loads(r.headers["x-myorisk-renamed-columns"]) == {
        "probability": "probability_2", "risk_band": "risk_band_1",
        "points_gi_vas": "points_gi_vas_1"}
    assert json.loads(r.headers["x-myorisk-notice"]).startswith("RECONSTRUCTED")
    page = client.get("/models/redmi/batch").text
    assert "yours is kept and renamed" in page


def test_reconstructed_caveat_beside_each_result(client: TestClient, tmp_path) -> None:
    page = client.post("/models/redmi", data={"anti_tif1g": "1", "alopecia": "0",
                                              "gi_vas": "3.5"}).text
    result = page[page.index('id="result"'):page.index('id="nomo-h"')]
    assert 'id="result-notice"' in result and "RECONSTRUCTED model &#39;redmi&#39;" in result
    body = client.post("/api/models/redmi/predict", json=[PATIENT, PATIENT]).json()
    assert all(b["notice"].startswith("RECONSTRUCTED model 'redmi'") for b in body)
    spec = load_spec("redmi").to_dict()
    spec.update(name="local", provenance={"status": "fitted", "source": "local.csv"})
    (tmp_path / "local.json").write_text(json.dumps(spec))
    c = TestClient(create_app(tmp_path), base_url="http://localhost")
    assert c.post("/api/models/local/predict", json=PATIENT).json()["notice"] is None
    page = c.post("/models/local", data={"anti_tif1g": "1", "alopecia": "0", "gi_vas": "3.5"}).text
    assert 'id="result-notice"' not in page


def test_risk_bands_a_model_can_reach(client: TestClient) -> None:
    page = client.get("/models/redmi").text
    bands = " ".join(page[page.index('id="bands-h"'):page.index('id="prov-h"')].split())
    assert ">low<" not in bands and ">intermediate<" in bands and ">high<" in bands
    assert "range from 25.0% to 89.9%" in bands
    assert "never predicts below 25.0%" in bands
    # the lowest possible ReDMI patient is in the intermediate band, drawn in its own colour
    r = client.post("/models/redmi", data={"anti_tif1g": "0", "alopecia": "0", "gi_vas": "0"})
    assert 'class="band band-1-of-3"' in r.text and "25.0%" in r.text
    page = client.get("/models/pmdm-noninvasive").text
    assert ">low<" in page  # reachable there (lowest 1.0%)


def test_nomogram_axes_start_at_the_lowest_allowed_value(client: TestClient) -> None:
    nomo = load_spec("pmdm-noninvasive").nomogram()
    assert nomo.axis("msuvmax").values[0] == 0.1 and nomo.axis("msuvmax").values[-1] == 3.0
    assert nomo.axis("msuvmax").points[0] == 0.0
    svg = client.get("/models/pmdm-noninvasive/nomogram.svg").text
    labels = re.findall(r">([^<>]+)</text>", svg)
    i = labels.index("mSUVmax")
    assert labels[i + 2] == "0.1"  # title, unit, then the first tick
    assert "0" not in labels[i + 2:i + 9]
    d = client.get("/api/models/pmdm-noninvasive").json()["nomogram"]
    assert d["span"]["total"]["values"][0] == 0
    assert d["span"]["total_max"] == pytest.approx(sum(max(a["points"]) for a in d["axes"]))


# ----------------------------------------------------------------------------- myorisk serve
@pytest.mark.cli
def test_serve_options_reach_uvicorn_and_the_app(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture) -> None:
    import uvicorn

    from myorisk.cli import _run
    from myorisk.web.app import CONFIG_ENV, app_from_env

    calls: list[tuple] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    port = str(_free_port())
    assert _run(["serve", "--port", port, "--workers", "3", "--root-path", "/calc",
                 "--allowed-host", "calc.example", "--max-upload-mb", "0.5",
                 "--max-body-mb", "0.25"]) == 0
    app, kw = calls[0]
    assert app == "myorisk.web.app:app_from_env"
    assert (kw["factory"], kw["workers"], kw["root_path"], kw["port"]) == (True, 3, "/calc",
                                                                          int(port))
    built = app_from_env()  # what each worker process builds
    assert built.state.allowed_hosts == ("localhost", "127.0.0.1", "::1", "calc.example")
    assert (built.state.max_upload_bytes, built.state.max_body_bytes) == (2**19, 2**18)
    assert "3 workers" in capsys.readouterr().err
    c = TestClient(built, base_url="http://calc.example", root_path="/calc")
    page = c.get("/models/redmi").text
    assert 'href="/calc/static/style.css"' in page and 'action="/calc/models/redmi#result"' in page
    assert c.get("/openapi.json").json()["servers"] == [{"url": "/calc"}]
    r = c.post("/api/models/redmi/predict", content=b"[" + b" " * 2**18 + b"]", headers=JSON)
    assert r.status_code == 413 and "at most 256 kB" in r.json()["detail"]
    assert _run(["serve", "--root-path", "calc/", "--port", port]) == 2
    assert "--root-path must look like /prefix" in capsys.readouterr().err


def test_large_uploads_are_scored_in_a_separate_process() -> None:
    """Uploads above ``process_batches_above`` bytes go to the scoring process: same bytes out
    as the thread pool gives, and the process is there afterwards (then stopped)."""
    from myorisk.web.batch import shutdown_batch_pool

    csv = _big_csv(2000)
    outs = []
    for above in (0, None):
        app = create_app(process_batches_above=above)
        c = TestClient(app, base_url="http://localhost")
        r = _upload(c, csv)
        assert r.status_code == 200
        outs.append(r.content)
        assert (app.state.batch_pool is not None) == (above == 0)
        assert app.state.batches_in_flight == 0
        shutdown_batch_pool(app.state)
    assert outs[0] == outs[1]
