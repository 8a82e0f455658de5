"""The registry's JSON API and pages in-process (FastAPI TestClient) on SQLite and PostgreSQL:
the contract, 401/403/cross-site rules, CSRF on forms, rate-limited logins, no patient value in
the server log, audit of reads, a hostile fuzz with no 5xx, and the OpenAPI document."""

from __future__ import annotations

import json
import logging
import random
import string

import pytest
from fastapi.testclient import TestClient

from myorisk.registry.service import Registry
from myorisk.web.registry_app import create_registry_app

pytestmark = [pytest.mark.db]

BASE = {"age": 57, "sex": "female", "anti_tif1g": 1, "alopecia": 1, "gi_vas": 6.25,
        "pga_bl": 7.5, "ptga_bl": 6.5, "mmt8_bl": 55, "haq_bl": 1.75, "extramuscular_bl": 4.5,
        "ck_bl": 4321, "date_bl": "2026-02-03"}
FU = {"pga_fu": 2.5, "ptga_fu": 2.5, "mmt8_fu": 71, "haq_fu": 0.75, "extramuscular_fu": 1.5,
      "ck_fu": 432, "date_fu": "2026-04-28"}
SECRET_VALUES = ("6.25", "4321", "Q-SECRET-77", "2026-02-03")


@pytest.fixture
def env(db_url: str):
    reg = Registry.open(db_url, create=True)
    reg.add_user("ann", "clinician", "password-ann", site="Qingdao")
    reg.add_user("bob", "clinician", "password-bob", site="Liaocheng")
    reg.add_user("rita", "researcher", "password-rita")
    reg.add_user("root", "admin", "password-root")
    tokens = {n: reg.issue_token(n) for n in ("ann", "bob", "rita", "root")}
    client = TestClient(create_registry_app(reg), raise_server_exceptions=False)
    yield reg, client, {n: {"Authorization": f"Bearer {t}"} for n, t in tokens.items()}
    reg.close()


def test_contract_and_access_rules(env, caplog: pytest.LogCaptureFixture) -> None:
    reg, c, h = env
    caplog.set_level(logging.DEBUG)
    body = {"site": "Qingdao", "patient_id": "Q-SECRET-77", "baseline": BASE}
    assert c.post("/api/registry/patients", json=body).status_code == 401
    assert c.post("/api/registry/patients", json=body,
                  headers={"Authorization": "Bearer nope"}).status_code == 401
    assert c.post("/api/registry/patients", json=body, headers=h["rita"]).status_code == 403
    assert c.post("/api/registry/patients", json=body, headers=h["bob"]).status_code == 403
    r = c.post("/api/registry/patients", json=body, headers={**h["ann"], "Idempotency-Key": "k-1"})
    assert r.status_code == 201 and r.json()["created"] is True
    pid = r.json()["id"]
    again = c.post("/api/registry/patients", json=body, headers={**h["ann"], "Idempotency-Key": "k-1"})
    assert again.status_code == 200 and again.json() == {"id": pid, "created": False}
    assert c.post("/api/registry/patients", json=body, headers=h["ann"]).status_code == 409
    r = c.post(f"/api/registry/patients/{pid}/visits", json={"kind": "week12", "values": FU},
               headers=h["ann"])
    assert r.status_code == 201
    rec = c.get(f"/api/registry/patients/{pid}", headers=h["ann"]).json()
    assert rec["visits"][1]["derived"]["tis"]["response"] == 1
    assert c.get(f"/api/registry/patients/{pid}", headers=h["bob"]).status_code == 403
    assert c.get(f"/api/registry/patients/{pid}", headers=h["rita"]).status_code == 403
    assert c.get(f"/api/registry/patients/{pid}").status_code == 401
    assert c.get(f"/api/registry/patients/{pid}", headers=h["root"]).status_code == 200
    assert c.get("/api/registry/patients/999999", headers=h["root"]).status_code == 404
    assert c.get("/api/registry/patients", headers=h["bob"]).json() == []
    assert c.post(f"/api/registry/patients/{pid}/visits", json={"values": FU},
                  headers=h["rita"]).status_code == 403
    r = c.patch(f"/api/registry/visits/{rec['visits'][0]['id']}",
                json={"values": {"gi_vas": 1}, "reason": "entry error"}, headers=h["ann"])
    assert r.status_code == 200 and r.json() == {"version": 2}
    exp = c.get("/api/registry/export", headers=h["rita"])
    assert exp.status_code == 200 and "Q-SECRET-77" not in exp.text and "P-" in exp.text
    r = c.post("/api/registry/patients", json={**body, "patient_id": "Q-2",
                                               "baseline": {**BASE, "age": 300}}, headers=h["ann"])
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "age"
    # every read of patient data by a person is in the audit trail
    audit = c.get("/api/registry/audit", headers=h["root"]).json()
    reads = [a for a in audit if a["action"] == "read" and a["entity"] == "patient"]
    assert {a["detail"]["by"] for a in reads} == {"ann", "root"}
    assert c.get("/api/registry/audit", headers=h["ann"]).status_code == 403
    # no patient value in the server's log
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not [v for v in SECRET_VALUES if v in logged]


def test_monitor_api_contract(env) -> None:
    reg, c, h = env
    rng = random.Random(3)
    for i in range(40):
        b = {"anti_tif1g": rng.randint(0, 1), "alopecia": rng.randint(0, 1),
             "gi_vas": round(rng.uniform(0, 10), 1), "date_bl": f"2026-0{1 + i % 6}-1{i % 9}"}
        pid = c.post("/api/registry/patients", json={"site": "Qingdao", "patient_id": f"M{i}",
                                                     "baseline": b}, headers=h["ann"]).json()["id"]
        c.post(f"/api/registry/patients/{pid}/visits",
               json={"values": {"refractory": int(rng.random() < 0.35)}}, headers=h["ann"])
    m = c.get("/api/registry/monitor", params={"model": "redmi"}, headers=h["rita"]).json()
    assert m["n"] == 40 and set(m) >= {"n", "events", "oe", "citl", "slope", "c"}
    assert m["oe"]["low"] < m["oe"]["estimate"] < m["oe"]["high"]
    assert all(d["time"].startswith("2026Q") for d in m["drift"])  # quarters, not dates
    assert c.get("/api/registry/monitor", params={"model": "nope"},
                 headers=h["rita"]).status_code == 422
    assert c.get("/api/registry/monitor", params={"model": "redmi"}).status_code == 401


def _login(c: TestClient, name: str, password: str):
    page = c.get("/registry/login")
    pre = page.text.split('name="csrf" value="')[1].split('"')[0]
    return c.post("/registry/login", data={"name": name, "password": password, "csrf": pre},
                  follow_redirects=False)


def test_pages_need_session_and_csrf(env) -> None:
    reg, c, h = env
    assert c.get("/registry/", follow_redirects=False).headers["location"] == "/registry/login"
    r = c.post("/registry/login", data={"name": "ann", "password": "password-ann", "csrf": "x"})
    assert r.status_code == 403  # login form without its token
    r = _login(c, "ann", "password-ann")
    assert r.status_code == 303 and "myorisk_session" in r.cookies
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    form = c.get("/registry/patients/new").text
    csrf = form.split('name="csrf" value="')[1].split('"')[0]
    data = {"patient_id": "Q-9", "anti_tif1g": "1", "alopecia": "0", "gi_vas": "3"}
    assert c.post("/registry/patients/new", data=data, follow_redirects=False).status_code == 403
    assert c.post("/registry/patients/new", data={**data, "csrf": "forged"},
                  follow_redirects=False).status_code == 403
    assert reg.list_patients(reg.principal_from_token(reg.issue_token("root"))) == []
    r = c.post("/registry/patients/new", data={**data, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    page = c.get(r.headers["location"]).text
    assert "redmi" in page and "Q-9" in page
    bad = c.post("/registry/patients/new", data={**data, "patient_id": "Q-10", "gi_vas": "11",
                                                 "csrf": csrf})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    # the API does not accept the cookie instead of a token
    assert c.get("/api/registry/patients").status_code == 401


def test_failed_logins_rate_limited(env) -> None:
    reg, c, h = env
    for _ in range(5):
        assert _login(c, "bob", "wrong-password").status_code == 401
    assert _login(c, "bob", "password-bob").status_code == 429


def test_openapi_documents_the_contract(env) -> None:
    reg, c, h = env
    doc = c.get("/openapi.json").json()
    paths = doc["paths"]
    assert {"/api/registry/patients", "/api/registry/patients/{patient_id}",
            "/api/registry/patients/{patient_id}/visits", "/api/registry/monitor"} <= set(paths)
    assert "post" in paths["/api/registry/patients"] and "Bearer" in doc["info"]["description"]


def _junk(rng: random.Random, depth: int = 0):
    kinds = ["str", "int", "float", "none", "bool", "list", "dict", "big", "uni"]
    k = rng.choice(kinds if depth < 2 else kinds[:5])
    if k == "str":
        return "".join(rng.choice(string.printable) for _ in range(rng.randint(0, 40)))
    if k == "int":
        return rng.choice([0, -1, 1, 2**31, -(2**63), 10**30])
    if k == "float":
        return rng.choice([0.5, -1e308, 1e308, 1e-320])
    if k == "none":
        return None
    if k == "bool":
        return rng.random() < 0.5
    if k == "list":
        return [_junk(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if k == "big":
        return "A" * rng.choice([200, 5000])
    if k == "uni":
        return rng.choice(["' OR 1=1 --", "<script>alert(1)</script>", "\u0000", "💥", "../../etc/passwd",
                           "%s%s%n", "{{7*7}}", "NaN", "Infinity", "1e999"])
    return {str(_junk(rng, depth + 1))[:20]: _junk(rng, depth + 1) for _ in range(rng.randint(0, 4))}


@pytest.mark.slow
def test_hostile_fuzz_never_5xx(env) -> None:
    """OWASP-style junk at every endpoint (injection strings, wrong types, huge and odd numbers,
    NUL bytes, wrong methods, bad ids, bad JSON): never a 5xx."""
    reg, c, h = env
    rng = random.Random(15)
    pid = c.post("/api/registry/patients", json={"site": "Qingdao", "patient_id": "F1",
                                                 "baseline": BASE}, headers=h["ann"]).json()["id"]
    names = list(BASE) + list(FU) + ["refractory", "nonresponse", "shoe", "' OR 1=1"]
    paths = ["/api/registry/patients", f"/api/registry/patients/{pid}",
             f"/api/registry/patients/{pid}/visits", "/api/registry/visits/1",
             "/api/registry/monitor", "/api/registry/export", "/api/registry/audit",
             "/api/registry/patients/-1", "/api/registry/patients/99999999999999999999",
             "/api/registry/patients/abc", "/registry/login", "/registry/patients/new",
             f"/registry/patients/{pid}/tis"]
    seen = set()
    for _i in range(400):
        who = rng.choice([None, "ann", "bob", "rita", "root"])
        headers = dict(h[who]) if who else {}
        if rng.random() < 0.2:
            headers["Idempotency-Key"] = str(_junk(rng))[:300]
        path = rng.choice(paths)
        method = rng.choice(["GET", "POST", "PATCH", "PUT", "DELETE"])
        if rng.random() < 0.5:
            body = {"site": _junk(rng), "patient_id": _junk(rng),
                    "baseline": {rng.choice(names): _junk(rng) for _ in range(rng.randint(0, 6))},
                    "values": {rng.choice(names): _junk(rng) for _ in range(rng.randint(0, 6))},
                    "kind": rng.choice(["week12", "later", "baseline", _junk(rng)]),
                    "reason": _junk(rng)}
            if rng.random() < 0.3:
                body = {k: v for k, v in body.items() if rng.random() < 0.5}
            content = json.dumps(body, default=str, allow_nan=True)
        else:
            content = rng.choice(["", "{", "null", "[]", "\x00", '{"site": NaN}', "a" * 300000])
        params = {"model": _junk(rng), "site": _junk(rng)} if rng.random() < 0.3 else None
        try:
            r = c.request(method, path, content=content, params=params,
                          headers={**headers, "Content-Type": "application/json"})
        except UnicodeError:
            continue
        seen.add(r.status_code)
        assert r.status_code < 500, (method, path, r.status_code, r.text[:300])
    assert {401, 403, 422} <= seen
