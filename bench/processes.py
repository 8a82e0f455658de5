"""`make bench`, part 2: whole processes timed from outside, as a user runs them.

Each task is a fresh process (``python -m myorisk …`` or ``Rscript --vanilla bench/process.R …``)
timed by wall clock around ``subprocess.run``; the table gives the minimum of ``--reps`` runs
(and the CPU seconds, user + system, of that run). The kernels are compiled ahead of time
(`make bench` runs `python -m myorisk.modeling._aot` first; the run prints whether they are
built) and numba's JIT cache is filled once before timing.

Tasks: ``--help``; ``fit``, ``validate -B 1000`` and ``validate`` + ``calibrate`` on a seed-sized
cohort (n = 200, 6 predictors, synthetic); simulation-based sample size for samplesizedev's
README scenario (prevalence 0.2, C 0.85, 10 predictors; 1000 simulations, validation n 25,000);
a large bootstrap (``--big N``×20 predictors, B = 200) in one process (threads) and on a 2-worker
local Dask cluster, and R's ``validate`` of the same; a partitioned fit (``--partitioned N``×20
predictors in 10 Parquet files: ``fit DIR`` on threads and on a 2-worker local Dask cluster, the
in-memory ``fit`` of the same rows as one CSV, and R's ``glm`` on that CSV with its ``read.csv``
timed apart); predictions per second of the web API.
Usage: python bench/processes.py [--reps 5] [--big 100000] [--partitioned 1000000]
       [--skip r-big,web,partitioned,...] [--only partitioned]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from run_bench import machine, make_data  # noqa: E402

PY = [sys.executable, "-m", "myorisk"]
ENV = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))


def timed(cmd: list[str], reps: int, timeout: float = 3600) -> dict:
    """Minimum wall time of ``reps`` runs of ``cmd`` (and that run's CPU time)."""
    best = None
    for _ in range(reps):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=timeout)
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {p.stderr[-2000:]}")
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        if best is None or wall < best["wall"]:
            best = {"wall": wall, "cpu": cpu, "stdout": p.stdout}
    return best


def web_rate(seconds: float = 5.0) -> dict:
    """Predictions per second of POST /api/models/redmi/predict against `myorisk serve`."""
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = subprocess.Popen(PY + ["serve", "--port", str(port), "--no-access-log", "--log-level", "warning"],
                           env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/api/models/redmi/predict"
    patient = {"anti_tif1g": 1, "alopecia": 0, "gi_vas": 3.5}
    try:
        with httpx.Client(timeout=10) as c:
            for _ in range(300):
                try:
                    c.post(url, json=patient)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            out = {}
            for label, body in (("one patient per request", patient), ("100 patients per request", [patient] * 100)):
                n = 0
                lat = []
                t_end = time.perf_counter() + seconds
                while time.perf_counter() < t_end:
                    t0 = time.perf_counter()
                    r = c.post(url, json=body)
                    lat.append(time.perf_counter() - t0)
                    assert r.status_code == 200, r.text
                    n += 1 if isinstance(body, dict) else len(body)
                lat.sort()
                out[label] = {"predictions_per_s": n / seconds, "requests": len(lat),
                              "median_ms": 1000 * lat[len(lat) // 2]}
        return out
    finally:
        srv.send_signal(signal.SIGINT)
        try:
            srv.wait(10)
        except subprocess.TimeoutExpired:
            srv.kill()


def partitioned_rows(n: int, tmp: str, row, reps: int = 1) -> None:  # noqa: ANN001
    """``fit`` on n × 20 synthetic rows in 10 Parquet files: threads, 2 Dask workers, in memory, R glm."""

    folder = Path(tmp) / "parts"
    folder.mkdir()
    csv = Path(tmp) / "parts.csv"
    for k in range(10):  # each partition generated and written alone (never the whole set in memory)
        d = make_data(n // 10, 20, seed=100 + k)
        d.to_parquet(folder / f"part-{k:02d}.parquet", index=False)
        d.to_csv(csv, mode="a", header=k == 0, index=False)
        del d
    x = ",".join(f"x{j + 1}" for j in range(20))
    base = PY + ["fit", str(folder), "-y", "y", "-x", x, "--json"]
    thr = timed(base, reps)
    two = timed(base + ["--workers", "2"], reps)
    mem = timed(PY + ["fit", str(csv), "-y", "y", "-x", x, "--json"], reps)
    a, b, c = (json.loads(r["stdout"]) for r in (thr, two, mem))
    same = [t["coef"] for t in a["terms"]] == [t["coef"] for t in b["terms"]]
    diff = max(abs(t["coef"] - u["coef"]) for t, u in zip(a["terms"], c["terms"], strict=True))
    rglm = None
    note = ""
    if shutil.which("Rscript"):
        rglm = timed(["Rscript", "--vanilla", str(HERE / "process.R"), "glm", str(csv)], reps)
        note = "R: " + rglm["stdout"].strip().splitlines()[-1]
        rd = json.loads(rglm["stdout"].strip().splitlines()[-2])
        diff_r = max(abs(t["coef"] - r) for t, r in zip(a["terms"], rd["coef"], strict=True))
        note += f"; max |coef − R's| {diff_r:.1e}"
    row(f"fit DIR: {n:,} × 20 in 10 Parquet files, partitioned, threads "
        f"({a['iterations']} Newton iterations)", thr, rglm, note)
    row(f"  the same on a 2-worker local Dask cluster (--workers 2; identical coefficients: {same})", two, rglm)
    row(f"  fit of the same rows as one CSV, in memory (max |coef difference| {diff:.1e})", mem, rglm)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--big", type=int, default=100_000)
    ap.add_argument("--partitioned", type=int, default=1_000_000)
    ap.add_argument("--skip", default="")
    ap.add_argument("--only", default="", help="run only this part (partitioned)")
    args = ap.parse_args()
    skip = set(args.skip.split(","))
    print(f"machine: {machine()}")
    print(f"load average before: {os.getloadavg()}")
    # kernels compiled ahead of time (`make bench` builds them first; docs/engine.md)
    st = subprocess.run(PY + ["kernels"], env=ENV, capture_output=True, text=True)
    print("compiled kernels:", "; ".join(st.stdout.split("\n")).strip("; "))
    rows: list[tuple[str, str, str, str]] = []

    def row(task: str, py: dict | None, r: dict | None, note: str = "") -> None:
        def fmt(d: dict | None) -> str:
            return f"{d['wall']:.2f} (cpu {d['cpu']:.2f})" if d else "—"

        ratio = f"{r['wall'] / py['wall']:.1f}×" if (py and r) else "—"
        rows.append((task, fmt(py), fmt(r), ratio + (f" {note}" if note else "")))
        print(rows[-1], flush=True)

    if args.only == "partitioned":
        with tempfile.TemporaryDirectory() as tmp:
            partitioned_rows(args.partitioned, tmp, row)
        _print(rows)
        return
    with tempfile.TemporaryDirectory() as tmp:
        csv = str(Path(tmp) / "seed.csv")
        make_data(200, 6).to_csv(csv, index=False)
        x = ",".join(f"x{j + 1}" for j in range(6))
        # compile (or load) the kernels once, as a user's first command does
        subprocess.run(PY + ["validate", csv, "-y", "y", "-x", x, "-B", "50", "--seed", "1", "--json"], env=ENV,
                       check=True, capture_output=True)
        subprocess.run(PY + ["calibrate", csv, "-y", "y", "-x", x, "-B", "50", "--seed", "1", "--json"], env=ENV,
                       check=True, capture_output=True)
        subprocess.run(PY + ["sample-size", "--simulate", "--prevalence", "0.2", "--c", "0.85", "--parameters", "10",
                             "--n", "100", "--simulations", "20", "--validation-size", "1000"], env=ENV, check=True,
                       capture_output=True)
        reps = args.reps
        row("python -c pass (interpreter alone)", timed([sys.executable, "-c", "pass"], reps), None)
        row("python -c 'import numpy, pandas'", timed([sys.executable, "-c", "import numpy, pandas"], reps), None)
        row("myorisk --help", timed(PY + ["--help"], reps), None)
        rfit = timed(["Rscript", "--vanilla", str(HERE / "process.R"), "fit", csv], reps)
        row("fit (n = 200, 6 predictors)", timed(PY + ["fit", csv, "-y", "y", "-x", x], reps), rfit)
        rval = timed(["Rscript", "--vanilla", str(HERE / "process.R"), "validate", csv, "1000"], reps)
        pval = timed(PY + ["validate", csv, "-y", "y", "-x", x, "-B", "1000", "--seed", "1"], reps)
        row("validate -B 1000 (n = 200)", pval, rval)
        rvc = timed(["Rscript", "--vanilla", str(HERE / "process.R"), "valcal", csv, "1000"], reps)
        pcal = timed(PY + ["calibrate", csv, "-y", "y", "-x", x, "-B", "1000", "--seed", "1"], reps)
        both = {"wall": pval["wall"] + pcal["wall"], "cpu": pval["cpu"] + pcal["cpu"]}
        row("validate + calibrate -B 1000 (two myorisk processes; one R process)", both, rvc)
        if "samplesize" not in skip:
            base = PY + ["sample-size", "--simulate", "--prevalence", "0.2", "--c", "0.85", "--parameters", "10"]
            for label, extra, pub in (
                ("sample-size --simulate --n 309 (samplesizedev: 'a few seconds' to ~15 s)", ["--n", "309"], None),
                ("sample-size --simulate --target-slope 0.9 (samplesizedev: 'about a minute')",
                 ["--target-slope", "0.9"], None),
                ("sample-size --simulate --target-prob 0.8 (samplesizedev: up to ~3 minutes)",
                 ["--target-prob", "0.8"], None),
            ):
                res = timed(base + extra + ["--json"], 1)
                d = json.loads(res["stdout"])
                got = (f"n_required {d['n_required']} ({d['n_interval'][0]}–{d['n_interval'][1]})"
                       if "n_required" in d else
                       f"mean slope {d['slope']['mean']:.3f}, SD {d['slope']['sd']:.3f}, "
                       f"P(acceptable) {d['prob_acceptable']:.2f}")
                row(label, res, pub, got)
        if "big" not in skip:
            n = args.big
            big = str(Path(tmp) / "big.csv")
            make_data(n, 20).to_csv(big, index=False)
            xb = ",".join(f"x{j + 1}" for j in range(20))
            cmd = PY + ["validate", big, "-y", "y", "-x", xb, "-B", "200", "--seed", "1", "--json"]
            one = timed(cmd, 1)
            two = timed(cmd + ["--workers", "2"], 1)
            same = json.loads(one["stdout"])["indexes"] == json.loads(two["stdout"])["indexes"]
            rbig = None
            if "r-big" not in skip:
                rbig = timed(["Rscript", "--vanilla", str(HERE / "process.R"), "validate", big, "200"], 1)
            row(f"validate -B 200, n = {n:,} × 20 predictors, one process (threads)", one, rbig)
            row(f"  the same on a 2-worker local Dask cluster (--workers 2; identical indexes: {same})", two, rbig)
        if "partitioned" not in skip:
            partitioned_rows(args.partitioned, tmp, row)
        if "web" not in skip:
            for label, v in web_rate().items():
                rows.append((f"web API predict, {label}", f"{v['predictions_per_s']:.0f} predictions/s",
                             f"median latency {v['median_ms']:.1f} ms", f"{v['requests']} requests"))
                print(rows[-1], flush=True)
    _print(rows)


def _print(rows: list) -> None:
    print(f"load average after: {os.getloadavg()}")
    print()
    print("| task | myorisk wall s (cpu s) | R wall s (cpu s) | R / myorisk |")
    print("|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    if shutil.which("Rscript") is None:  # pragma: no cover
        print("Rscript not found")


if __name__ == "__main__":
    main()
