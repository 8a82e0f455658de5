"""Latency of a single prediction while the calculator scores a large batch upload.

Starts the calculator under uvicorn in its own process (one worker), measures single-patient
``POST /api/models/redmi/predict`` latencies with the server idle, then again while a batch
upload of ``--rows`` patients (default 1,000,000: about 16 MB, under the 20 MB default limit)
is read, scored and written. Batch scoring runs in the thread pool, so the event loop keeps
answering; the remaining delay is the GIL shared with the batch thread.

Usage: python bench/web_latency.py [--rows 1000000] [--interval 0.05]
Prints one JSON object (latencies in milliseconds, batch seconds).
"""

from __future__ import annotations

import argparse
import json
import platform
import socket
import subprocess
import sys
import threading
import time

import httpx
import numpy as np
import pandas as pd

PATIENT = {"anti_tif1g": 1, "alopecia": 0, "gi_vas": 3.5}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _csv(n: int) -> bytes:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"patient_id": np.arange(n), "anti_tif1g": rng.integers(0, 2, n),
                         "alopecia": rng.integers(0, 2, n),
                         "gi_vas": np.round(rng.uniform(0, 10, n), 1)}).to_csv(
        index=False).encode()


def _stats(ms: list[float]) -> dict:
    a = np.asarray(ms)
    return {"n": int(a.size), "median": round(float(np.median(a)), 1),
            "p95": round(float(np.percentile(a, 95)), 1), "max": round(float(a.max()), 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--interval", type=float, default=0.05)
    args = ap.parse_args()
    port = _port()
    server = subprocess.Popen(
        [sys.executable, "-c", "import uvicorn; from myorisk.web import create_app; "
         f"uvicorn.run(create_app(), host='127.0.0.1', port={port}, log_level='warning', "
         "access_log=False)"])
    base = f"http://localhost:{port}"
    try:
        with httpx.Client(timeout=600) as h:
            for _ in range(300):
                try:
                    h.get(f"{base}/api/models")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)

            def single() -> float:
                t = time.perf_counter()
                r = h.post(f"{base}/api/models/redmi/predict", json=PATIENT)
                assert r.status_code == 200
                return 1000 * (time.perf_counter() - t)

            idle = []
            for _ in range(50):
                idle.append(single())
                time.sleep(args.interval)
            data = _csv(args.rows)
            done = threading.Event()
            out: dict = {}

            def upload() -> None:
                t = time.perf_counter()
                with httpx.Client(timeout=1200) as b:
                    r = b.post(f"{base}/models/redmi/batch",
                               files={"file": ("big.csv", data, "text/csv")})
                out["status"] = r.status_code
                out["bytes_out"] = len(r.content)
                out["seconds"] = time.perf_counter() - t
                done.set()

            t0 = time.perf_counter()
            threading.Thread(target=upload).start()
            busy, when = [], []
            while not done.is_set():
                when.append(time.perf_counter() - t0)
                busy.append(single())
                time.sleep(args.interval)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps({
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "rows": args.rows, "upload_mb": round(len(data) / 2**20, 1),
        "batch": {"status": out["status"], "seconds": round(out["seconds"], 1),
                  "download_mb": round(out["bytes_out"] / 2**20, 1)},
        "single_ms_idle": _stats(idle), "single_ms_during_batch": _stats(busy),
        "slowest_during_batch": [{"at_s": round(when[i], 1), "ms": round(busy[i], 1)}
                                 for i in np.argsort(busy)[::-1][:5]],
    }, indent=1))


if __name__ == "__main__":
    main()
