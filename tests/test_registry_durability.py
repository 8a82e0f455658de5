"""Durability of the registry server (a real ``myorisk registry serve`` process) on SQLite and
PostgreSQL: 50 concurrent clients write visits while the server is killed with SIGKILL and
restarted. Every acknowledged write must be present exactly once, no visit may be half-written
(each has its version and every value sent), and retrying an unacknowledged write with its
Idempotency-Key never creates a duplicate.

Bounded to about 25 s of writing per database; marked slow.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from myorisk.registry.access import Principal
from myorisk.registry.service import Registry
from registry_support import free_port

pytestmark = [pytest.mark.db, pytest.mark.slow]
SRC = str(Path(__file__).parents[1] / "src")
CLIENTS = 50
WRITE_SECONDS = 20
KILLS = 3


def _start(db: str, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.Popen(
        [sys.executable, "-m", "myorisk", "registry", "serve", "--db", db, "--port", str(port),
         "--log-level", "warning"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True)


def _wait_up(port: int, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
    raise AssertionError(f"registry server did not come up:\n{tail}")


def test_acknowledged_writes_survive_sigkill(db_url: str, tmp_path: Path) -> None:
    reg = Registry.open(db_url, create=True)
    reg.add_user("ann", "clinician", "password-ann", site="Qingdao")
    token = reg.issue_token("ann")
    admin = Principal.system()
    pids = [reg.create_patient(admin, "Qingdao", f"D{i:03d}", {"pga_bl": 5, "ptga_bl": 5})[0]
            for i in range(CLIENTS)]
    reg.close()

    port, log = free_port(), tmp_path / "server.log"
    proc = _start(db_url, port, log)
    _wait_up(port, log)
    acked: dict[str, tuple[int, int, dict]] = {}  # key -> (patient, visit id, values)
    unacked: dict[str, tuple[int, dict]] = {}
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[str] = []

    def client(n: int) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=15) as http:
            i = 0
            while not stop.is_set():
                key = f"c{n}-w{i}"
                values = {"pga_fu": round((n * 7 + i) % 100 / 10, 1), "ptga_fu": (i % 10),
                          "date_fu": "2026-06-01"}
                body = {"kind": "later", "values": values}
                while True:  # retry the same key until the write is acknowledged
                    try:
                        r = http.post(f"/api/registry/patients/{pids[n]}/visits", json=body,
                                      headers={**headers, "Idempotency-Key": key})
                    except httpx.TransportError:
                        if stop.is_set():
                            with lock:
                                unacked[key] = (pids[n], values)
                            return
                        time.sleep(0.2)
                        continue
                    if r.status_code in (200, 201):
                        with lock:
                            acked[key] = (pids[n], r.json()["id"], values)
                        break
                    if r.status_code == 503 and not stop.is_set():
                        time.sleep(0.2)
                        continue
                    with lock:
                        errors.append(f"{r.status_code} {r.text[:200]}")
                    return
                i += 1

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    try:
        for k in range(KILLS):
            time.sleep(max(0.0, t0 + (k + 1) * WRITE_SECONDS / (KILLS + 1) - time.monotonic()))
            os.killpg(proc.pid, signal.SIGKILL)  # no shutdown, no flush: a power cut for the app
            proc.wait(timeout=10)
            proc = _start(db_url, port, log)
            _wait_up(port, log)
        time.sleep(max(0.0, t0 + WRITE_SECONDS - time.monotonic()))
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    assert not errors, errors[:5]
    assert len(acked) > CLIENTS  # writes happened across the kills
    print(f"{len(acked)} writes acknowledged, {len(unacked)} unanswered at the end")

    reg = Registry.open(db_url)
    try:
        from sqlalchemy import func, select

        from myorisk.registry.models import Measurement, Visit, VisitVersion

        with reg.session() as s:
            rows = s.execute(select(Visit.idempotency_key, Visit.id, Visit.patient_id)
                             .where(Visit.kind == "later")).all()
            by_key = {}
            for key, vid, pid in rows:
                assert key not in by_key, f"duplicate visit for {key}"
                by_key[key] = (vid, pid)
            for key, (pid, vid, _values) in acked.items():  # every acknowledged write is there
                assert by_key.get(key) == (vid, pid), key
            # nothing half-written: every visit has exactly one version holding every value sent
            nver = dict(s.execute(select(VisitVersion.visit_id, func.count())
                                  .group_by(VisitVersion.visit_id)).all())
            nval = dict(s.execute(select(VisitVersion.visit_id, func.count(Measurement.id))
                                  .join(Measurement, Measurement.version_id == VisitVersion.id)
                                  .group_by(VisitVersion.visit_id)).all())
            for key, (vid, _) in by_key.items():
                assert nver.get(vid) == 1 and nval.get(vid) == 3, key
            for key, (_pid, vid, values) in list(acked.items())[:200]:
                got = {m.variable: m.value_num if m.value_num is not None else m.value_text
                       for m in s.scalars(select(Measurement).join(
                           VisitVersion, Measurement.version_id == VisitVersion.id)
                           .where(VisitVersion.visit_id == vid))}
                assert got == values, key
        # a write whose answer was lost is made at most once when retried with its key
        ann = reg.principal_from_token(token)
        for key, (pid, values) in unacked.items():
            vid, created = reg.add_visit(ann, pid, "later", values, idempotency_key=key)
            assert created == (key not in by_key)
    finally:
        reg.close()
    logged = log.read_text(errors="replace")
    assert "Traceback" not in logged and "Qingdao" not in logged
