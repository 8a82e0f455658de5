"""Load benchmark of the registry server (not a test): writes and reads per second and latency
percentiles on SQLite and PostgreSQL, through a real ``myorisk registry serve`` process.

Each backend: a fresh registry with 200 patients; ``--clients`` threads POST follow-up visits
(each with its Idempotency-Key) for ``--seconds``, then GET patient records for ``--seconds``.
PostgreSQL is a throw-away server from Debian started on a temporary directory (as in the tests;
fsync off there, so its numbers are an upper bound; SQLite runs with synchronous=FULL).

Usage: python bench/registry_bench.py [--seconds 10] [--clients 20] [--backends sqlite,postgresql]
Prints a Markdown table and writes bench/registry_results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from myorisk.registry.access import Principal  # noqa: E402
from myorisk.registry.service import Registry  # noqa: E402
from registry_support import free_port, new_pg_database, start_postgres  # noqa: E402


def _serve(db: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "myorisk", "registry", "serve", "--db", db,
                             "--port", str(port), "--log-level", "warning"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def _phase(port: int, token: str, pids: list[int], clients: int, seconds: float,
           write: bool) -> dict:
    lat: list[float] = []
    fails = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def run(n: int) -> None:
        nonlocal fails
        rng = random.Random(n)
        mine, bad = [], 0
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            i = 0
            while time.monotonic() < stop:
                pid = rng.choice(pids)
                t = time.perf_counter()
                if write:
                    r = http.post(f"/api/registry/patients/{pid}/visits",
                                  json={"kind": "later", "values": {"pga_fu": rng.randint(0, 10),
                                                                    "ptga_fu": rng.randint(0, 10)}},
                                  headers={**headers, "Idempotency-Key": f"b{n}-{i}-{write}"})
                    ok = r.status_code == 201
                else:
                    r = http.get(f"/api/registry/patients/{pid}", headers=headers)
                    ok = r.status_code == 200
                mine.append(time.perf_counter() - t)
                bad += not ok
                i += 1
        with lock:
            lat.extend(mine)
            fails += bad

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    a = np.array(lat) * 1000
    return {"requests": len(lat), "failed": fails, "per_second": len(lat) / wall,
            "p50_ms": float(np.percentile(a, 50)), "p99_ms": float(np.percentile(a, 99)),
            "max_ms": float(a.max())}


def bench(db: str, clients: int, seconds: float) -> dict:
    reg = Registry.open(db, create=True)
    reg.add_user("bench", "admin", "password-bench")
    token = reg.issue_token("bench")
    p = Principal.system()
    pids = [reg.create_patient(p, "S1", f"B{i}", {"pga_bl": 5, "ptga_bl": 5, "anti_tif1g": 1,
                                                   "alopecia": 0, "gi_vas": 2})[0]
            for i in range(200)]
    reg.close()
    port = free_port()
    proc = _serve(db, port)
    try:
        w = _phase(port, token, pids, clients, seconds, True)
        r = _phase(port, token, pids, clients, seconds, False)
    finally:
        proc.kill()
        proc.wait()
    return {"writes": w, "reads": r}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--backends", default="sqlite,postgresql")
    args = ap.parse_args()
    results = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                           "load_average": os.getloadavg()},
               "clients": args.clients, "seconds": args.seconds}
    tmp = Path(tempfile.mkdtemp(prefix="registry-bench-"))
    stop_pg = None
    try:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                db = str(tmp / "bench.db")
            else:
                root = Path(tempfile.mkdtemp(prefix="registry-bench-pg-"))  # postgres owns it
                server, stop_pg = start_postgres(root)
                db = new_pg_database(server)
            results[backend] = bench(db, args.clients, args.seconds)
    finally:
        if stop_pg:
            stop_pg()
        shutil.rmtree(tmp, ignore_errors=True)
    (HERE / "registry_results.json").write_text(json.dumps(results, indent=2) + "\n")
    print("| backend | operation | requests/s | p50 (ms) | p99 (ms) | failed |")
    print("|---|---|---:|---:|---:|---:|")
    for backend in args.backends.split(","):
        for op in ("writes", "reads"):
            x = results[backend][op]
            print(f"| {backend} | {op} | {x['per_second']:.0f} | {x['p50_ms']:.0f} | "
                  f"{x['p99_ms']:.0f} | {x['failed']} |")
    print(f"load average during the run: {results['machine']['load_average']}")


if __name__ == "__main__":
    main()
