"""`make bench`: myorisk and R rms 6.5 side by side, validate + calibrate, in one run.

Cases: (a) seed-sized cohort n=200, 6 predictors, B=1000; (b) n=100,000, 10 predictors, B=200.
Each engine runs in its own process so that its peak memory (max RSS) can be reported.

myorisk's kernels are compiled by numba on first use and cached on disk. The bench points
NUMBA_CACHE_DIR at a fresh directory, so the first myorisk process of the run compiles
everything ("cold, JIT": first validate + first calibrate in that process, compile included);
a second process for case (a) starts with the cache filled ("cold, cached": what a user sees in
a new session). "warm" is the best of 5 repeats in a process that has run once. Case (b) is run
once per function (its first call only loads the cache, a fraction of a second).
Usage: python bench/run_bench.py [--cases a,b]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
CASES = {"a": (200, 6, 1000), "b": (100_000, 10, 200)}


def make_data(n: int, p: int, seed: int = 1) -> pd.DataFrame:
    """Synthetic cohort: half continuous, half binary predictors, about 30% events."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    X[:, p // 2 :] = (X[:, p // 2 :] > 0.3).astype(float)
    beta = np.linspace(0.8, 0.1, p)
    lp = -1.2 + X @ beta
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    df = pd.DataFrame(X, columns=[f"x{j + 1}" for j in range(p)])
    df["y"] = y
    return df


def run_python(csv: str, B: int, out: str, reps: int) -> None:
    """Child process: myorisk validate then calibrate (separately, as R does), cold then warm."""
    t_import = time.perf_counter()
    from myorisk.modeling.calibration import calibrate, validate_and_calibrate
    from myorisk.modeling.design import build_design
    from myorisk.modeling.validation import validate

    d = pd.read_csv(csv)
    des = build_design(d, "y", [c for c in d.columns if c != "y"])
    import_s = time.perf_counter() - t_import
    v = validate(des, B=B, seed=1)  # first calls: numba compiles or loads its cache
    c = calibrate(des, B=B, seed=2)
    cold = (v.seconds, c.seconds)
    warm_v, warm_c, shared = [], [], []
    for _ in range(reps):
        warm_v.append(validate(des, B=B, seed=1).seconds)
        warm_c.append(calibrate(des, B=B, seed=2).seconds)
        t0 = time.perf_counter()
        validate_and_calibrate(des, B=B, seed=3)
        shared.append(time.perf_counter() - t0)
    if not reps:  # case (b): one shared run, no warm repeats
        t0 = time.perf_counter()
        validate_and_calibrate(des, B=B, seed=3)
        shared.append(time.perf_counter() - t0)
    res = {
        "import_seconds": import_s,
        "validate_cold": cold[0], "calibrate_cold": cold[1],
        "validate_seconds": min(warm_v) if warm_v else cold[0],
        "calibrate_seconds": min(warm_c) if warm_c else cold[1],
        "validate_all": warm_v, "calibrate_all": warm_c,
        "shared_seconds": min(shared), "dxy_corrected": v.corrected["Dxy"],
        "slope_corrected": v.corrected["Slope"], "mae": c.mean_abs_error,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    Path(out).write_text(json.dumps(res))


def child(cmd: list[str]) -> tuple[dict, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"wall": wall}, max(after, before) / 1024


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}; {os.cpu_count()} cores; {mem:.0f} GB RAM; {platform.system()} {platform.release()}"


def _run_py(csv: str, B: int, out: str, reps: int, env: dict) -> tuple[dict, float, float]:
    t0 = time.perf_counter()
    q = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, __file__, "--child",
                        csv, str(B), out, str(reps)], check=True, capture_output=True, text=True,
                       env=env)
    wall = time.perf_counter() - t0
    peak = float(q.stderr.strip().splitlines()[-1]) / 1024
    return json.loads(Path(out).read_text()), wall, peak


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default="a,b")
    ap.add_argument("--child", nargs=4, metavar=("CSV", "B", "OUT", "REPS"))
    args = ap.parse_args()
    if args.child:
        run_python(args.child[0], int(args.child[1]), args.child[2], int(args.child[3]))
        return
    print(f"machine: {machine()}")
    print(f"load average before: {os.getloadavg()}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, NUMBA_CACHE_DIR=str(Path(tmp) / "numba-cache"))  # empty: JIT
        for case in args.cases.split(","):
            n, p, B = CASES[case]
            csv = str(Path(tmp) / f"case_{case}.csv")
            make_data(n, p).to_csv(csv, index=False)
            rj = str(Path(tmp) / f"r_{case}.json")
            t0 = time.perf_counter()
            r = subprocess.run(["/usr/bin/time", "-f", "%M", "Rscript", "--vanilla",
                                str(HERE / "bench.R"), csv, str(B), rj],
                               check=True, capture_output=True, text=True)
            r_wall = time.perf_counter() - t0
            r_peak = float(r.stderr.strip().splitlines()[-1]) / 1024
            R = json.loads(Path(rj).read_text())
            reps = 5 if case == "a" else 0
            P, py_wall, py_peak = _run_py(csv, B, str(Path(tmp) / f"py_{case}.json"), reps, env)
            cached = None
            if case == "a":  # a new process with the compiled kernels on disk
                cached, _, _ = _run_py(csv, B, str(Path(tmp) / f"py_{case}_2.json"), reps, env)
            r_t = R["validate_seconds"] + R["calibrate_seconds"]
            p_t = P["validate_seconds"] + P["calibrate_seconds"]
            p_cold = P["validate_cold"] + P["calibrate_cold"]
            row = {
                "case": f"({case}) n={n:,}, p={p}, B={B}",
                "R validate+calibrate s": round(r_t, 2),
                "R validate / calibrate s": f"{R['validate_seconds']:.2f} / "
                                            f"{R['calibrate_seconds']:.2f}",
                "myorisk validate+calibrate s" + (" (warm, best of 5)" if reps else ""):
                    round(p_t, 3),
                "myorisk validate / calibrate s": f"{P['validate_seconds']:.3f} / "
                                                  f"{P['calibrate_seconds']:.3f}",
                "ratio R/myorisk": round(r_t / p_t, 1),
                "myorisk shared-bootstrap s": round(P["shared_seconds"], 3),
                "ratio (shared)": round(r_t / P["shared_seconds"], 1),
                "myorisk cold, empty JIT cache s" if case == "a" else "myorisk first call s":
                    round(p_cold, 3),
            }
            if cached is not None:
                row["myorisk cold, cached kernels s"] = round(
                    cached["validate_cold"] + cached["calibrate_cold"], 3)
                row["ratio R/myorisk cold-JIT / cold-cached"] = (
                    f"{r_t / p_cold:.1f} / "
                    f"{r_t / (cached['validate_cold'] + cached['calibrate_cold']):.1f}")
            row.update({
                "R peak MB": round(r_peak), "myorisk peak MB": round(py_peak),
                "myorisk import s": round(P["import_seconds"], 2),
                "Dxy corr R / py": f"{R['dxy_corrected']:.4f} / {P['dxy_corrected']:.4f}",
                "MAE R / py": f"{R['mae']:.4f} / {P['mae']:.4f}",
                "process wall R / py s": f"{r_wall:.1f} / {py_wall:.1f}",
            })
            rows.append(row)
            print(pd.DataFrame([rows[-1]]).T.to_string(header=False), flush=True)
    print(f"load average after: {os.getloadavg()}")
    print()
    print(pd.DataFrame(rows).to_markdown(index=False) if _has_tabulate() else pd.DataFrame(rows))


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
