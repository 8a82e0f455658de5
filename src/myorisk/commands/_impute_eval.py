"""``myorisk evaluate --model M --impute K``: missing predictors of a validation cohort imputed
*without the outcome* (a prediction must not use the outcome it predicts; Hoogland et al. 2020),
the model applied to every completed data set."""

from __future__ import annotations

import numpy as np
import pandas as pd

from myorisk.commands import _common as common
from myorisk.errors import InputError


def predictions_by_imputation(spec, sub: pd.DataFrame, *, m: int | None, seed: int, maxit: int,
                              auxiliary: str | None, extrapolate: bool | None, source: str):
    """Per patient the probability from the linear predictor averaged over imputations, the
    per-imputation probabilities (m, n), and the imputation's info block."""
    from scipy.special import expit

    from myorisk.modeling.mice import mice
    from myorisk.modeling.spec import predict

    needed = [v.name for v in spec.variables]
    aux = [a for a in common.split(auxiliary) if a not in needed]
    cols = needed + aux
    absent = [c for c in cols if c not in sub.columns]
    if absent:
        raise InputError(f"{source}: column '{absent[0]}' not found (the model needs {', '.join(needed)})")
    frame = sub[cols]
    if not frame.isna().any().any():
        common.note(f"{source}: no predictor value is missing; --impute changes nothing")
    cats = [v.name for v in spec.variables if v.kind == "categorical"]
    imp = mice(frame, m=m, maxit=maxit, seed=seed, categorical=cats, outcome=None, auxiliary=aux, source=source)
    lps, probs = [], []
    for i, d in enumerate(imp.completed(), start=1):
        d.index = sub.index
        scored = predict(spec, d, source=f"{source} (imputation {i})", points=False, extrapolate=extrapolate)
        lps.append(scored["linear_predictor"].to_numpy(float))
        probs.append(scored["probability"].to_numpy(float))
    p = expit(np.mean(lps, axis=0))
    info = {**imp.info(), "outcome_used": False,
            "prediction": "probability from the linear predictor averaged over imputations"}
    return p, np.array(probs), info


def pooled_performance(probs: np.ndarray, y: np.ndarray) -> dict:
    """C (pooled on the logit scale) and Brier (mean) over the imputations' predictions."""
    from myorisk.modeling.concordance import concordance
    from myorisk.modeling.pooling import pool_logit

    cs = [concordance(p, y).c for p in probs]
    br = [float(np.mean((p - y) ** 2)) for p in probs]
    return {"c": pool_logit(cs), "brier": float(np.mean(br)), "c_each": cs, "brier_each": br}

