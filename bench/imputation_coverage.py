"""Coverage of the location-shifted bootstrap intervals (Noma et al. 2021) for optimism-corrected
indexes, with and without multiple imputation. A simulation, not a test: run it by hand.

Truth: each replicate develops a logistic model on n patients drawn from a known population; the
model's *true* performance is measured on 100,000 fresh patients (C, calibration slope and
intercept, Brier). An interval covers when it contains that replicate's true value.
Scenario "complete": no missing data (m = 1). Scenario "mice": 30% of x1 and 20% of x2 missing at
random (depending on x3 and the outcome), m imputations by myorisk's MICE, validation within each
imputation combined across them; the model whose truth is measured has the pooled coefficients.

Usage: python bench/imputation_coverage.py [--reps 100] [--n 200] [--B 100] [--m 5]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd
from scipy.special import expit

BETA = np.array([-1.0, 0.8, 0.5, 0.4, -0.3, 0.0])  # intercept, x1..x5 (x5 noise)


def population(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    cov = 0.3 * np.ones((5, 5)) + 0.7 * np.eye(5)
    X = rng.multivariate_normal(np.zeros(5), cov, size=n)
    y = (rng.uniform(size=n) < expit(BETA[0] + X @ BETA[1:])).astype(int)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(1, 6)])
    df.insert(0, "y", y)
    return df, y


def truth(beta: np.ndarray, pop: pd.DataFrame) -> dict:
    from myorisk.modeling._newton import newton_logistic
    from myorisk.modeling.concordance import concordance

    X = pop[[f"x{j}" for j in range(1, 6)]].to_numpy()
    y = pop["y"].to_numpy(dtype=float)
    lp = beta[0] + X @ beta[1:]
    p = expit(lp)
    fit = newton_logistic(np.column_stack([np.ones_like(lp), lp]), y)
    icpt = newton_logistic(np.ones((len(y), 1)), y, offset=lp)
    return {"Dxy": 2 * concordance(p, y).c - 1, "Slope": fit.beta[1], "Intercept": icpt.beta[0],
            "B": float(np.mean((p - y) ** 2))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--B", type=int, default=100)
    ap.add_argument("--m", type=int, default=5)
    ap.add_argument("--scenarios", default="complete,mice")
    ap.add_argument("--combine", default="rubin", help="rubin or pooled (intervals across imputations)")
    a = ap.parse_args()
    from myorisk.modeling.design import build_design
    from myorisk.modeling.imputation import fit_imputed
    from myorisk.modeling.mi_validation import validate_imputed
    from myorisk.modeling.mice import mice

    warnings.simplefilter("ignore")
    rng = np.random.default_rng(20261204)
    pop, _ = population(100_000, rng)
    preds = [f"x{j}" for j in range(1, 6)]
    keys = ("Dxy", "Slope", "Intercept", "B")
    out = {}
    for scen in a.scenarios.split(","):
        cover = {k: [] for k in keys}
        width = {k: [] for k in keys}
        bias = {k: [] for k in keys}
        t0 = time.perf_counter()
        for r in range(a.reps):
            d, y = population(a.n, rng)
            if scen == "mice":
                p1 = expit(-1.2 + 0.8 * d["x3"] + 0.6 * d["y"])
                p2 = expit(-1.6 + 0.6 * d["x4"])
                d.loc[rng.uniform(size=a.n) < p1, "x1"] = np.nan
                d.loc[rng.uniform(size=a.n) < p2, "x2"] = np.nan
                imp = mice(d, m=a.m, maxit=5, seed=r, outcome="y")
                sets = imp.completed()
                beta = fit_imputed(sets, "y", preds).pooled.estimate
            else:
                sets = [d]
                beta = fit_imputed([d, d], "y", preds).pooled.estimate
            designs = [build_design(s, "y", preds) for s in sets]
            v = validate_imputed(designs, B=a.B, seed=1000 + r, ci=True, combine=a.combine)
            tr = truth(beta, pop)
            for k in keys:
                cover[k].append(v.corrected_low[k] <= tr[k] <= v.corrected_high[k])
                width[k].append(v.corrected_high[k] - v.corrected_low[k])
                bias[k].append(v.corrected[k] - tr[k])
        secs = time.perf_counter() - t0
        out[scen] = {"combine": a.combine, "reps": a.reps, "n": a.n, "B": a.B, "m": a.m if scen == "mice" else 1, "seconds": round(secs, 1),
                     "coverage": {k: float(np.mean(cover[k])) for k in keys},
                     "mc_se": {k: float(np.sqrt(np.mean(cover[k]) * (1 - np.mean(cover[k])) / a.reps)) for k in keys},
                     "mean_width": {k: float(np.mean(width[k])) for k in keys},
                     "mean_corrected_minus_true": {k: float(np.mean(bias[k])) for k in keys},
                     "sd_corrected_minus_true": {k: float(np.std(bias[k], ddof=1)) for k in keys}}
        print(json.dumps({scen: out[scen]}, indent=1), flush=True)


if __name__ == "__main__":
    main()
