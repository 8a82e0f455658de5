"""Speed: MICE (m = 20, maxit 10) + optimism bootstrap (B = 200) within each imputation on a cohort
of n = 200 with 5 predictors, 2 incomplete — myorisk vs R (mice 3.15 + rms 6.5 validate loop),
in one run. Usage: python bench/imputation_speed.py [--m 20] [--B 200] [--n 200]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.special import expit


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--m", type=int, default=20)
    ap.add_argument("--B", type=int, default=200)
    ap.add_argument("--n", type=int, default=200)
    a = ap.parse_args()
    import pandas as pd

    from myorisk.modeling.design import build_design
    from myorisk.modeling.mi_validation import validate_imputed
    from myorisk.modeling.mice import mice

    warnings.simplefilter("ignore")
    rng = np.random.default_rng(7)
    X = rng.normal(size=(a.n, 5))
    y = (rng.uniform(size=a.n) < expit(-1 + X @ np.array([0.8, 0.5, 0.4, -0.3, 0.0]))).astype(int)
    d = pd.DataFrame(X, columns=[f"x{j}" for j in range(1, 6)]).assign(y=y)
    d.loc[rng.uniform(size=a.n) < expit(-1.2 + 0.8 * d["x3"]), "x1"] = np.nan
    d.loc[rng.uniform(size=a.n) < 0.2, "x2"] = np.nan
    preds = [f"x{j}" for j in range(1, 6)]
    res = {}
    for label in ("first", "warm"):
        t0 = time.perf_counter()
        imp = mice(d, m=a.m, maxit=10, seed=1, outcome="y")
        t1 = time.perf_counter()
        v = validate_imputed([build_design(s, "y", preds) for s in imp.completed()], B=a.B, seed=2, ci=True)
        t2 = time.perf_counter()
        res[label] = {"mice": round(t1 - t0, 3), "validate": round(t2 - t1, 3), "total": round(t2 - t0, 3),
                      "dxy_corrected": round(v.corrected["Dxy"], 4)}
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "d.csv"
        d.to_csv(f, index=False, na_rep="NA")
        r = subprocess.run(["Rscript", "--vanilla", str(Path(__file__).with_name("imputation_speed.R")), str(f),
                            str(a.m), str(a.B)], capture_output=True, text=True, check=True)
        res["R"] = json.loads(r.stdout.strip().splitlines()[-1])
    res["setting"] = {"n": a.n, "m": a.m, "B": a.B, "maxit": 10}
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
