"""Multi-centre external validation without pooling patient data.

Each centre runs :func:`site_summary` on its own patients and shares the resulting document (a
*site file*: aggregates only, small cells suppressed); a coordinator reads the site files
(:func:`read_site`) and pools them (:func:`pool_sites`). :func:`internal_external` does the same
with pooled data that carry a centre column: leave one centre out, develop on the rest, validate
on the one left out (internal–external cross-validation), then pool.

The statistics are the engine's (:mod:`myorisk.modeling.meta`); this module knows the site-file
format, the model hash and which measures are pooled on which scale.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from myorisk._json import clean
from myorisk.errors import InputError

__all__ = [
    "SITE_FORMAT",
    "MEASURES",
    "DEFAULT_ACCEPTABLE",
    "MultiCentre",
    "model_hash",
    "site_summary",
    "summarise_frame",
    "describe_site",
    "run_multicentre_demo",
    "read_site",
    "pool_sites",
    "internal_external",
]

SITE_FORMAT = "myorisk-site-summary/1"

#: Pooled measures: key in the site document, SE key, analysis scale.
MEASURES: dict[str, tuple[str, str, str]] = {
    "c": ("c_logit", "c_se_logit", "logit"),
    "oe": ("log_oe", "log_oe_se", "log"),
    "slope": ("slope", "slope_se", "identity"),
    "citl": ("citl", "citl_se", "identity"),
}
MEASURE_NAMES = {"c": "C statistic", "oe": "O/E ratio", "slope": "Calibration slope",
                 "citl": "Calibration-in-the-large"}

#: Acceptable performance in a new centre (natural scale; None = open side).
DEFAULT_ACCEPTABLE: dict[str, tuple[float | None, float | None]] = {
    "c": (0.7, None), "oe": (0.9, 1.1), "slope": (0.9, 1.1), "citl": (-0.1, 0.1),
}

_Z = 1.959963984540054


def model_hash(spec: Any) -> str:
    """SHA-256 of what determines a model's predictions: outcome, variables, coefficients.

    Provenance, performance notes and the writer's software version are left out, so the same
    model gives the same hash whether it is bundled, exported or re-saved.
    """
    d = spec.to_dict()
    core = {k: d[k] for k in ("outcome", "variables", "coefficients")}
    text = json.dumps(clean(core), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _model_block(spec: Any) -> dict[str, Any]:
    return {
        "name": spec.name,
        "title": spec.title,
        "status": spec.status,
        "hash": model_hash(spec),
        "version": str(spec.provenance.get("version") or (spec.software or {}).get("myorisk") or ""),
        "lineage_steps": len(spec.lineage),
    }


def site_summary(
    y: np.ndarray,
    prob: np.ndarray,
    lp: np.ndarray,
    *,
    site: str,
    spec: Any,
    outcome: str,
    event: str,
    min_cell: int = 5,
    thresholds: Sequence[float] = (0.1, 0.2, 0.3),
    excluded: Mapping[str, int] | None = None,
    synthetic: bool = False,
    label: str | None = None,
) -> dict[str, Any]:
    """The site document for one centre: aggregates of a fixed model, no row-level data.

    Parameters
    ----------
    y, prob, lp : numpy.ndarray
        Outcome (0/1), predicted risk and linear predictor of each patient.
    site : str
        Centre name (written into the file).
    spec : ModelSpec
        The model validated (its name, status, hash and version are recorded).
    outcome, event : str
        Outcome column and the value counted as the event.
    min_cell : int
        Small-cell limit (counts 1…min_cell − 1 are suppressed).
    thresholds : sequence of float
        Net-benefit thresholds.
    excluded : mapping of str to int, optional
        Rows excluded before scoring, by reason (suppressed when small).
    synthetic : bool
        The data are synthetic (recorded, and shown by every report made from the file).
    label : str, optional
        Name of the data in messages (default: the site name).

    Returns
    -------
    dict
        JSON-ready site document.
    """
    from myorisk import __version__
    from myorisk.modeling.meta import site_performance

    if not str(site).strip():
        raise InputError("--site: give the centre a name")
    perf = site_performance(y, prob, lp=lp, thresholds=thresholds, min_cell=min_cell, label=label or site)
    exc = {}
    for reason, k in (excluded or {}).items():
        exc[reason] = None if 0 < k < min_cell else int(k)
    return clean({
        "format": SITE_FORMAT,
        "site": str(site),
        "synthetic": bool(synthetic),
        "created": _dt.date.today().isoformat(),
        "software": {"name": "myorisk", "version": __version__},
        "model": _model_block(spec),
        "outcome": {"column": outcome, "event": str(event)},
        "min_cell": int(min_cell),
        "excluded_rows": exc,
        "performance": perf.to_dict(),
    })


def summarise_frame(
    df: pd.DataFrame,
    spec: Any,
    *,
    site: str,
    outcome: str | None = None,
    event: str | None = None,
    min_cell: int = 5,
    thresholds: Sequence[float] = (0.1, 0.2, 0.3),
    source: str = "data",
    extrapolate: bool | None = None,
    synthetic: bool = False,
) -> tuple[dict[str, Any], dict[str, int], Any]:
    """Score one centre's patients with ``spec`` and build its site document.

    Rows with a missing outcome or a missing model variable are excluded and counted.

    Returns
    -------
    doc : dict
        The site document (:func:`site_summary`).
    excluded : dict of str to int
        Excluded rows by reason (exact counts, for local messages only).
    scored : DataFrame
        The model's predictions (``attrs["extrapolated"]`` names rows scored out of range).
    """
    from myorisk.modeling.design import code_outcome
    from myorisk.modeling.spec import predict

    y_col = outcome or str(spec.outcome.get("name", ""))
    if y_col not in df.columns:
        raise InputError(f"{source}: outcome column '{y_col}' not found"
                         + ("" if outcome else " (the model's outcome; name yours with --outcome)"))
    sub = df.loc[~df[y_col].isna().to_numpy()]
    excluded = {"missing_outcome": int(len(df) - len(sub))}
    needed = [v.name for v in spec.variables]
    if all(c in sub.columns for c in needed):  # else predict names the missing column
        gone = sub[needed].isna().any(axis=1).to_numpy()
        excluded["missing_predictor"] = int(gone.sum())
        sub = sub.loc[~gone]
    scored = predict(spec, sub, source=source, points=False, extrapolate=extrapolate)
    ev_default = str(spec.outcome.get("event", "")) or None if outcome is None else None
    y, ev = code_outcome(sub[y_col], event=event or ev_default, name=y_col, source=source)
    doc = site_summary(y, scored["probability"].to_numpy(float), scored["linear_predictor"].to_numpy(float),
                       site=site, spec=spec, outcome=y_col, event=ev, min_cell=min_cell,
                       thresholds=thresholds, excluded=excluded, synthetic=synthetic,
                       label=f"{source} (site '{site}')")
    return doc, excluded, scored


def describe_site(doc: Mapping[str, Any]) -> list[str]:
    """Plain-language list of everything a site document contains (shown before writing)."""
    p = doc["performance"]
    nb = p.get("net_benefit", [])
    cal = p.get("calibration", [])
    sup_nb = sum(1 for r in nb if r.get("tp") is None)
    sup_cal = sum(1 for r in cal if r.get("n") is None)
    thr_text = ", ".join(format(r["threshold"], "g") for r in nb)
    lines = [
        ("SYNTHETIC data (flag recorded in the file)" if doc.get("synthetic") else "synthetic flag: no"),
        f"site name '{doc['site']}', file format {doc['format']}, creation date {doc['created']}",
        f"software {doc['software']['name']} {doc['software']['version']}",
        f"model '{doc['model']['name']}' ({doc['model']['status']}), hash {doc['model']['hash'][:16]}…, "
        f"version '{doc['model']['version']}'",
        f"outcome column '{doc['outcome']['column']}', event '{doc['outcome']['event']}'",
        f"counts: {p['n']} patients, {p['events']} events, expected events {p['expected']:.2f}",
        "excluded-row counts by reason: " + (", ".join(
            f"{k} {'<' + str(doc['min_cell']) if v is None else v}" for k, v in doc["excluded_rows"].items())
            or "none"),
        "O/E with SE of log O/E; calibration-in-the-large and slope with SEs; C with DeLong SE, "
        "on the logit scale too; Brier score",
        "case mix: mean and SD of the linear predictor",
        f"net benefit at {len(nb)} threshold(s) ({thr_text}) with "
        f"true/false-positive counts ({sup_nb} threshold(s) suppressed as small cells, net benefit "
        "included)",
        f"calibration table: {len(cal)} bins of predicted risk with n, observed proportion and mean "
        f"predicted risk ({sup_cal} bins suppressed as small cells)",
        f"small-cell rule: counts between 1 and {doc['min_cell'] - 1} are suppressed"
        if doc["min_cell"] > 1 else "small-cell rule: OFF (--min-cell 0 or 1)",
        "no patient-level value: no identifier, no predictor value, no individual risk or outcome",
    ]
    return lines


_REQUIRED_PERF = ("n", "events", "c", "c_se_logit", "oe", "log_oe_se", "slope", "slope_se",
                  "citl", "citl_se")


def read_site(path: str | Path) -> dict[str, Any]:
    """Read and check one site file.

    Raises
    ------
    InputError
        Missing file, not JSON, another format, or a missing or non-numeric statistic.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: file not found")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{p.name}: not a site file (not valid JSON: {e})") from None
    if not isinstance(doc, dict) or doc.get("format") != SITE_FORMAT:
        raise InputError(f"{p.name}: not a site file (format is not '{SITE_FORMAT}'; "
                         "write one with `myorisk site-summary`)")
    for key in ("site", "model", "performance"):
        if key not in doc:
            raise InputError(f"{p.name}: site file has no '{key}'")
    if not isinstance(doc["model"], dict) or not doc["model"].get("hash"):
        raise InputError(f"{p.name}: site file has no model hash")
    perf = doc["performance"]
    for key in _REQUIRED_PERF:
        v = perf.get(key)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
            raise InputError(f"{p.name}: performance '{key}' is missing or not a number")
    for key in ("c_se_logit", "log_oe_se", "slope_se", "citl_se"):
        if perf[key] <= 0:
            raise InputError(f"{p.name}: performance '{key}' must be positive, not {perf[key]}")
    if not 0 < perf["c"] < 1 or perf["oe"] <= 0:
        raise InputError(f"{p.name}: C must lie in (0, 1) and O/E be positive")
    doc["_file"] = p.name
    return doc


@dataclass(frozen=True)
class MultiCentre:
    """Pooled performance of one model over several centres.

    Attributes
    ----------
    sites : tuple of dict
        Per centre: ``site, n, events, c, c_se_logit, c_low, c_high, oe, log_oe_se, oe_low,
        oe_high, slope, slope_se, slope_low, slope_high, citl, citl_se, citl_low, citl_high``
        and, when known, ``brier, lp_mean, lp_sd, file``.
    pooled : dict of str to MetaAnalysis
        ``c`` (logit scale), ``oe`` (log scale), ``slope`` and ``citl``.
    acceptable : dict of str to (low, high)
        Ranges whose predictive probability is reported.
    model : dict
        Name, status, hash and version of the model (None for internal–external validation,
        where each centre's model differs).
    kind : str
        ``"external"`` (site files) or ``"internal-external"``.
    notes : tuple of str
    """

    sites: tuple[dict[str, Any], ...]
    pooled: dict[str, Any] = field(repr=False)
    acceptable: dict[str, tuple[float | None, float | None]]
    model: dict[str, Any] | None
    kind: str = "external"
    notes: tuple[str, ...] = ()
    synthetic: bool = False

    def probability(self, measure: str) -> float:
        """Predictive probability that ``measure`` is acceptable in a new centre."""
        lo, hi = self.acceptable[measure]
        return self.pooled[measure].predictive_probability(lo, hi)

    def to_dict(self) -> dict[str, Any]:
        """``{sites:[…], pooled:{c|oe|slope|citl:{estimate, low, high, pi_low, pi_high, tau2, i2,
        …, acceptable:{low, high, probability}}}, model, kind, notes}``."""
        pooled = {}
        for m, ma in self.pooled.items():
            d = ma.to_dict()
            lo, hi = self.acceptable[m]
            d["acceptable"] = {"low": lo, "high": hi, "probability": self.probability(m)}
            pooled[m] = d
        return clean({"kind": self.kind, "synthetic": self.synthetic, "model": self.model, "sites": [dict(s) for s in self.sites],
                      "pooled": pooled, "notes": list(self.notes)})

    def to_frame(self) -> pd.DataFrame:
        """One row per pooled measure (natural scale) with τ², I² and the probability acceptable."""
        rows = []
        for m, ma in self.pooled.items():
            d = ma.to_dict()
            rows.append({"measure": m, "estimate": d["estimate"], "low": d["low"], "high": d["high"],
                         "pi_low": d["pi_low"], "pi_high": d["pi_high"], "tau2": d["tau2"],
                         "i2": d["i2"], "k": d["k"], "p_acceptable": self.probability(m)})
        return pd.DataFrame(rows)

    def sites_frame(self) -> pd.DataFrame:
        """One row per centre."""
        return pd.DataFrame(list(self.sites))


def _site_row(site: str, perf: Mapping[str, Any], file: str | None = None) -> dict[str, Any]:
    c, sc = perf["c"], perf["c_se_logit"]
    cl = math.log(c / (1 - c))
    lo = math.log(perf["oe"])
    row = {
        "site": site, "n": perf["n"], "events": perf["events"],
        "c": c, "c_se_logit": sc,
        "c_low": 1 / (1 + math.exp(-(cl - _Z * sc))), "c_high": 1 / (1 + math.exp(-(cl + _Z * sc))),
        "oe": perf["oe"], "log_oe_se": perf["log_oe_se"],
        "oe_low": math.exp(lo - _Z * perf["log_oe_se"]), "oe_high": math.exp(lo + _Z * perf["log_oe_se"]),
        "slope": perf["slope"], "slope_se": perf["slope_se"],
        "slope_low": perf["slope"] - _Z * perf["slope_se"], "slope_high": perf["slope"] + _Z * perf["slope_se"],
        "citl": perf["citl"], "citl_se": perf["citl_se"],
        "citl_low": perf["citl"] - _Z * perf["citl_se"], "citl_high": perf["citl"] + _Z * perf["citl_se"],
        "brier": perf.get("brier"),
        "lp_mean": (perf.get("case_mix") or {}).get("lp_mean"),
        "lp_sd": (perf.get("case_mix") or {}).get("lp_sd"),
    }
    if file is not None:
        row["file"] = file
    return row


def pool_sites(
    sites: Sequence[Mapping[str, Any]],
    *,
    acceptable: Mapping[str, tuple[float | None, float | None]] | None = None,
    level: float = 0.95,
    check_model: bool = True,
    kind: str = "external",
) -> MultiCentre:
    """Random-effects meta-analysis of site documents (or of ``{site, performance}`` mappings).

    Parameters
    ----------
    sites : sequence of mapping
        Site documents as read by :func:`read_site` (``site``, ``model``, ``performance``).
    acceptable : mapping, optional
        Per measure (``c``, ``oe``, ``slope``, ``citl``) the (low, high) range on the natural
        scale counted as acceptable; defaults :data:`DEFAULT_ACCEPTABLE`.
    level : float
        Confidence level.
    check_model : bool
        Refuse sites whose model hashes differ (off for internal–external validation).
    kind : str
        Recorded in the result.

    Returns
    -------
    MultiCentre

    Raises
    ------
    InputError
        Fewer than two sites, the same site twice, or different models.
    """
    from myorisk.modeling.meta import random_effects

    if len(sites) < 2:
        raise InputError(f"a meta-analysis needs at least 2 sites, got {len(sites)}")
    names = [str(s["site"]) for s in sites]
    files = [s.get("_file") or s["site"] for s in sites]
    seen: dict[str, str] = {}
    for n, f in zip(names, files, strict=True):
        if n in seen:
            raise InputError(f"{seen[n]} and {f} are both site '{n}'; give each centre once")
        seen[n] = f
    model = None
    if check_model:
        groups: dict[str, list[str]] = {}
        for s, f in zip(sites, files, strict=True):
            groups.setdefault(s["model"]["hash"], []).append(f)
        if len(groups) > 1:
            parts = []
            for h, fs in groups.items():
                nm = next(s["model"].get("name", "?") for s in sites if s["model"]["hash"] == h)
                parts.append(f"{', '.join(fs)}: model '{nm}' (hash {h[:12]})")
            raise InputError("the site files validate different models (" + "; ".join(parts)
                             + "); pool one model at a time")
        model = {k: v for k, v in sites[0]["model"].items()}
    acc = dict(DEFAULT_ACCEPTABLE)
    acc.update(acceptable or {})
    rows = [_site_row(n, s["performance"], s.get("_file")) for n, s in zip(names, sites, strict=True)]
    pooled = {}
    for m, (_, se_key, tr) in MEASURES.items():
        if m == "c":
            yi = [math.log(r["c"] / (1 - r["c"])) for r in rows]
        elif m == "oe":
            yi = [math.log(r["oe"]) for r in rows]
        else:
            yi = [r[m] for r in rows]
        vi = [r[se_key] ** 2 for r in rows]
        pooled[m] = random_effects(yi, vi, labels=names, measure=m, transform=tr, level=level)
    notes = []
    names_m = {"c": "C statistic", "oe": "O/E", "slope": "calibration slope", "citl": "calibration-in-the-large"}
    for m, ma in pooled.items():
        notes.extend(f"{names_m.get(m, m)}: {n}" for n in ma.notes)
    if len(sites) < 5:
        notes.append(f"only {len(sites)} centres: τ² and the prediction intervals are imprecise "
                     "(the t distribution with k − 1 degrees of freedom widens them accordingly)")
    synthetic = any(bool(s.get("synthetic")) for s in sites)
    if synthetic:
        notes.append("SYNTHETIC data in " + ", ".join(n for n, s in zip(names, sites, strict=True)
                                                      if s.get("synthetic")))
    return MultiCentre(sites=tuple(rows), pooled=pooled, acceptable=acc, model=model, kind=kind,
                       notes=tuple(notes), synthetic=synthetic)


def internal_external(
    data: pd.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    centre: str,
    *,
    categorical: Sequence[str] | None = None,
    reference: Mapping[str, str] | None = None,
    event: str | None = None,
    firth: bool = False,
    thresholds: Sequence[float] = (0.1, 0.2, 0.3),
    acceptable: Mapping[str, tuple[float | None, float | None]] | None = None,
    source: str = "data",
    synthetic: bool = False,
) -> MultiCentre:
    """Internal–external cross-validation by centre, then random-effects pooling.

    For each centre, a logistic model with the same predictors is developed on every other
    centre and validated on the centre left out (Royston et al. 2004; Steyerberg & Harrell 2016;
    Debray et al. 2017). The per-centre O/E, calibration slope, CITL and C are pooled as for
    site files.

    Parameters
    ----------
    data : DataFrame
        Pooled data with a centre column.
    outcome, predictors, centre : str, sequence of str, str
        Outcome, predictor and centre columns.
    categorical, reference, event, firth
        As :func:`myorisk.modeling.logistic.fit_logistic`.
    thresholds : sequence of float
        Net-benefit thresholds kept per centre.
    acceptable : mapping, optional
        See :func:`pool_sites`.
    source : str
        Name of the data in messages.
    synthetic : bool
        The data are synthetic.

    Returns
    -------
    MultiCentre
        ``kind = "internal-external"``, ``model = None``.

    Raises
    ------
    InputError
        Missing centre column, fewer than 2 centres, a centre without events or non-events, or a
        development set that cannot be fitted.
    """
    from myorisk.modeling.design import code_outcome
    from myorisk.modeling.logistic import fit_logistic
    from myorisk.modeling.meta import site_performance

    if centre not in data.columns:
        raise InputError(f"{source}: column '{centre}' (--by) not found")
    if data[centre].isna().any():
        rows = data.index[data[centre].isna().to_numpy()][:5]
        raise InputError(f"{source}: column '{centre}' is missing in rows {', '.join(map(str, rows))}; "
                         "every patient needs a centre")
    labels = [str(c) for c in pd.unique(data[centre].astype(str))]
    if len(labels) < 2:
        raise InputError(f"{source}: column '{centre}' has {len(labels)} centre(s); leaving one out "
                         "needs at least 2")
    y_all, ev = code_outcome(data[outcome], event=event, name=outcome, source=source)
    cen = data[centre].astype(str).to_numpy()
    sites = []
    for lab in labels:
        test = cen == lab
        dev = data.loc[~test]
        val = data.loc[test]
        try:
            fit = fit_logistic(dev, outcome, list(predictors), firth=firth, categorical=categorical,
                               reference=reference, event=ev, source=f"{source} without centre {lab}")
        except InputError as e:
            raise InputError(f"developing without centre '{lab}': {e}") from None
        lp = fit.predict_lp(val, source=f"{source} centre {lab}")
        p = 1.0 / (1.0 + np.exp(-lp))
        p = np.clip(p, 1e-15, 1 - 1e-15)
        perf = site_performance(y_all[test], p, lp=lp, thresholds=thresholds, min_cell=0,
                                label=f"{source}: centre '{lab}'")
        sites.append({"site": lab, "performance": perf.to_dict(), "synthetic": synthetic})
    res = pool_sites(sites, acceptable=acceptable, check_model=False, kind="internal-external")
    return MultiCentre(sites=res.sites, pooled=res.pooled, acceptable=res.acceptable, model=None,
                       kind="internal-external", synthetic=res.synthetic,
                       notes=res.notes + (f"each centre validated a model developed on the other "
                                          f"{len(labels) - 1} centre(s) with predictors "
                                          f"{', '.join(predictors)}",))


def _write_json(path: Path, doc: Mapping[str, Any]) -> None:
    from myorisk.atomic import write_text_atomic

    write_text_atomic(path, json.dumps(doc, indent=2, allow_nan=False) + "\n")


def run_multicentre_demo(out_dir: str | Path) -> list[Path]:
    """The multi-centre flow on SYNTHETIC data: site files, then pooled reports.

    ReDMI is validated in four SYNTHETIC centres (:mod:`myorisk.datasets.multicentre`; different
    case mix, one miscalibrated), and study A's non-invasive model in its two SYNTHETIC centres
    (Qingdao = training + internal sets, Liaocheng = external set). Writes ``data/`` (the
    synthetic centre files), ``sites/`` (one site file per centre), ``redmi/`` and ``study-a/``
    (meta-analysis reports).

    Returns
    -------
    list of Path
        The two ``report.html`` files.
    """
    from myorisk.datasets import load_dataset
    from myorisk.datasets.multicentre import generate_redmi_centres
    from myorisk.published.files import load_spec
    from myorisk.report.meta import write_meta_report

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("data", "sites"):
        (out / sub).mkdir(exist_ok=True)
    reports = []
    a = pd.concat([load_dataset("pmdm-train"), load_dataset("pmdm-internal")], ignore_index=True)
    flows = {
        "redmi": ("redmi", generate_redmi_centres()),
        "study-a": ("pmdm-noninvasive", {"Qingdao (synthetic)": a,
                                         "Liaocheng (synthetic)": load_dataset("pmdm-external")}),
    }
    from myorisk.atomic import write_csv_atomic

    for folder, (model, centres) in flows.items():
        spec = load_spec(model)
        docs = []
        for name, df in centres.items():
            slug = name.split(" ")[0].lower()
            write_csv_atomic(df, out / "data" / f"{folder}-{slug}.csv")  # UTF-8 BOM, for Excel
            doc, _, _ = summarise_frame(df, spec, site=name, source=f"{folder}-{slug}.csv", synthetic=True)
            _write_json(out / "sites" / f"{folder}-{slug}.json", doc)
            docs.append({**doc, "_file": f"{folder}-{slug}.json"})
        reports.append(write_meta_report(pool_sites(docs), out / folder, formats=("svg",)))
    return reports
