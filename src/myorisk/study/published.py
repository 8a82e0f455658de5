"""The "published vs reproduced" table: each value a paper reported beside the one this run
reproduced, with the reason they differ (from the configuration's ``models[].published``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["COLUMNS", "published_vs_reproduced"]

#: Columns of the table (one row per published value).
COLUMNS = ["model", "model_label", "role", "quantity", "key", "set", "published", "published_low",
           "published_high", "reversed", "reproduced", "reproduced_low", "reproduced_high",
           "published_text", "reproduced_text", "reason", "source", "note"]

_NAN = float("nan")

_CAL = {
    "slope": ("Calibration slope (bootstrap-corrected)", "Slope"),
    "intercept": ("Calibration intercept (bootstrap-corrected)", "Intercept"),
    "emax": ("Emax (bootstrap-corrected)", "Emax"),
    "mae": ("Mean absolute calibration error (bootstrap)", None),
    "mse": ("Mean squared calibration error (bootstrap)", None),
}
_INDEX = {
    "or": "Index as single predictor: OR per unit",
    "prob_min": "Predicted probability at the lowest index",
    "prob_max": "Predicted probability at the highest index",
}


def _term_label(cfg, term: str) -> str:
    if "=" in term:
        var, lev = term.split("=", 1)
        return f"{cfg.label(var)}: {lev}"
    return cfg.label(term)


def _reason(pub, pv, keys: list[str], default: str) -> str:
    if pv is not None and pv.reason:
        return " ".join(pv.reason.split())
    for k in keys:
        if k in pub.reasons:
            return " ".join(pub.reasons[k].split())
    if "default" in pub.reasons:
        return " ".join(pub.reasons["default"].split())
    return default


def published_vs_reproduced(cfg, models, evaluations, index, *, synthetic: bool) -> pd.DataFrame:
    """One row per published value of every model that has ``published`` in the configuration.

    Parameters
    ----------
    cfg : StudyConfig
    models : sequence of ModelResult
        Fitted and bootstrap-validated models.
    evaluations : sequence of Evaluation
    index : IndexCurve or None
    synthetic : bool
        The data are synthetic (the default reason then says so).

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`; ``reproduced`` is NaN where the run has no counterpart (the
        reason then says why).
    """
    default = ("synthetic data: generated from the paper's summary statistics, so estimates "
               "differ by sampling error" if synthetic else "different data")
    rows: list[dict] = []
    by_name = {m.name: m for m in models}
    for mcfg in cfg.models:
        pub = mcfg.published
        if pub is None or mcfg.name not in by_name:
            continue
        m = by_name[mcfg.name]
        base = {"model": m.name, "model_label": m.label, "role": m.role, "source": pub.source,
                "note": " ".join(pub.note.split())}

        if pub.predictors:
            names = lambda cols: ", ".join(cfg.label(c) for c in cols) or "none"  # noqa: E731
            same = set(pub.predictors) == set(m.predictors)
            why = _reason(pub, None, ["predictors"], default)
            if m.validation is not None and m.validation.selection_frequency:
                freq = m.validation.selection_frequency
                shown = [c for c in dict.fromkeys([*pub.predictors, *m.predictors]) if c in freq]
                why += ("; bootstrap selection frequency: "
                        + ", ".join(f"{cfg.label(c)} {freq[c]:.2f}" for c in shown))
                empty = getattr(m.validation, "selection_empty", _NAN)
                if np.isfinite(empty) and empty > 0:
                    why += f", no predictor {empty:.2f}"
            rows.append({**base, "quantity": "Predictors kept", "key": "predictors", "set": "",
                         "published": _NAN, "published_low": _NAN, "published_high": _NAN,
                         "reversed": False, "reproduced": _NAN, "reproduced_low": _NAN,
                         "reproduced_high": _NAN, "published_text": names(pub.predictors),
                         "reproduced_text": names(m.predictors) + (" (the same)" if same else ""),
                         "reason": why})

        def add(quantity, key, pv, rep, lo, hi, keys, set_name="", why=None, base=base, pub=pub):
            rows.append({**base, "quantity": quantity, "key": key, "set": set_name,
                         "published_text": "", "reproduced_text": "",
                         "published": pv.value,
                         "published_low": _NAN if pv.low is None else pv.low,
                         "published_high": _NAN if pv.high is None else pv.high,
                         "reversed": bool(pv.reversed), "reproduced": rep, "reproduced_low": lo,
                         "reproduced_high": hi,
                         "reason": why or _reason(pub, pv, keys, default)})

        coefs = m.fit.to_frame().set_index("term")
        for term, pv in pub.odds_ratios.items():
            if term in coefs.index:
                r = coefs.loc[term]
                add(f"OR: {_term_label(cfg, term)}", f"or:{term}", pv, float(r["or"]),
                    float(r["or_low"]), float(r["or_high"]), [f"or:{term}", "or"])
            else:
                add(f"OR: {_term_label(cfg, term)}", f"or:{term}", pv, _NAN, _NAN, _NAN, [],
                    why=f"'{term}' is not a term of this model (terms: "
                        f"{', '.join(t for t in coefs.index if t != 'Intercept')})")
        for s, pv in pub.auc.items():
            e = next((e for e in evaluations if e.model == m.name and e.set == s), None)
            label = f"AUC: {cfg.set_label(s)}"
            if e is None:
                add(label, f"auc:{s}", pv, _NAN, _NAN, _NAN, [], set_name=s,
                    why=f"the model was not evaluated in {cfg.set_label(s)} (see the warnings)")
            else:
                add(label, f"auc:{s}", pv, float(e.roc.auc), float(e.roc.ci_low),
                    float(e.roc.ci_high), [f"auc:{s}", "auc"], set_name=s)
        if pub.r2 is not None:
            add("Nagelkerke R² (apparent)", "r2", pub.r2, float(m.fit.r2_nagelkerke), _NAN, _NAN, ["r2"])
        if pub.dxy is not None:
            add("Somers' Dxy (apparent)", "dxy", pub.dxy, float(m.fit.dxy), _NAN, _NAN, ["dxy"])
        for k, pv in pub.calibration.items():
            label, vkey = _CAL[k]
            if vkey is not None:
                rep = _NAN if m.validation is None else float(m.validation.corrected[vkey])
            elif m.calibration is None:
                rep = _NAN
            else:
                rep = float(m.calibration.mean_abs_error if k == "mae" else m.calibration.mean_sq_error)
            add(label, f"calibration:{k}", pv, rep, _NAN, _NAN, [f"calibration:{k}", "calibration"])
        if pub.index and index is not None and index.model == m.name:
            d = index.to_dict()
            for k, pv in pub.index.items():
                if k == "or":
                    add(_INDEX[k], "index:or", pv, float(d["or_per_unit"]), float(d["or_low"]),
                        float(d["or_high"]), ["index:or", "index"])
                else:
                    v = float(d["prob_at_min"] if k == "prob_min" else d["prob_at_max"])
                    add(_INDEX[k], f"index:{k}", pv, v, _NAN, _NAN, [f"index:{k}", "index"])
    return pd.DataFrame(rows, columns=COLUMNS)


def reciprocal(v: float) -> float:
    """1/v with 1/0 = inf (the direction-corrected value of a reversed odds ratio)."""
    v = float(v)
    if not np.isfinite(v):
        return _NAN
    return float("inf") if v == 0 else 1.0 / v
