"""The report's tables as tidy DataFrames (full precision) built from a study's Results."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Table", "study_tables"]


@dataclass(frozen=True)
class Table:
    """A table of the report.

    Attributes
    ----------
    name : str
        File stem (``tables/<name>.csv`` and ``.xlsx``).
    title : str
    frame : DataFrame
        Full-precision content (CSV/XLSX); the HTML rounds it.
    section : str
        Report section it belongs to.
    note : str
    display : DataFrame or None
        Pre-formatted version for the HTML (Table 1), else None.
    html : bool
        Shown in the HTML report (long tables are only written as files).
    """

    name: str
    title: str
    frame: pd.DataFrame
    section: str
    note: str = ""
    display: pd.DataFrame | None = None
    html: bool = True


def _coef_table(fit, cfg) -> pd.DataFrame:
    fr = fit.to_frame()
    fr.insert(1, "label", [("Intercept" if t == "Intercept" else _term_label(t, cfg)) for t in fr["term"]])
    return fr


def _term_label(term: str, cfg) -> str:
    if "=" in term:
        var, lev = term.split("=", 1)
        return f"{cfg.label(var)}: {lev}"
    return cfg.label(term)


def study_tables(res) -> list[Table]:
    """Every table of the report, in order.

    Parameters
    ----------
    res : Results

    Returns
    -------
    list of Table
    """
    cfg = res.config
    out: list[Table] = []
    miss = pd.DataFrame({"variable": res.sets[0].missing["variable"]})
    miss.insert(1, "label", [cfg.label(v) if v != cfg.outcome.column else "Outcome" for v in miss["variable"]])
    for s in res.sets:
        m = s.missing.set_index("variable")
        miss[f"{s.name}_n_missing"] = [int(m.loc[v, "n_missing"]) if v in m.index else None
                                       for v in miss["variable"]]
        miss[f"{s.name}_pct_missing"] = [float(m.loc[v, "pct_missing"]) if v in m.index else None
                                         for v in miss["variable"]]
    disp = miss[["variable", "label"]].copy()
    for s in res.sets:
        disp[f"{s.label} (n = {s.n})"] = [
            "–" if k is None else ("0" if k == 0 else f"{k} ({p:.0f}%)")
            for k, p in zip(miss[f"{s.name}_n_missing"], miss[f"{s.name}_pct_missing"], strict=True)]
    out.append(Table("missing_data", "Missing values per variable and set: n (%)", miss, "data",
                     "Analyses use complete cases; a model is not evaluated in a set where one of its "
                     "predictors was not recorded.", display=disp))
    out.append(Table("table1_by_outcome", f"Characteristics by outcome: {res.development.label}",
                     res.table1_outcome.to_frame(), "table1", "; ".join(res.table1_outcome.notes),
                     display=res.table1_outcome.to_display()))
    if res.table1_sets is not None:
        out.append(Table("table1_by_set", "Characteristics by set", res.table1_sets.to_frame(),
                         "table1", "; ".join(res.table1_sets.notes), display=res.table1_sets.to_display()))
    uv = res.univariate.copy()
    cols = [c for c in ["variable", "label", "term", "n", "events", "coef", "se", "or", "or_low",
                        "or_high", "p", "method"] if c in uv.columns]
    ci = "profile-likelihood" if cfg.selection.univariate_ci == "profile" else "Wald"
    out.append(Table("univariate", f"Univariable logistic regression ({res.development.label}; {ci} 95% CI)",
                     uv[cols], "univariate"))
    for m in res.models:
        if m.selection is not None:
            out.append(Table(f"selection_{m.name}", f"Selection steps: {m.label}", m.selection.steps,
                             "selection"))
        if m.method != "fixed":
            out.append(Table(f"multivariable_{m.name}",
                             f"Multivariable model before the final step: {m.label} "
                             f"(n = {m.multivariable.n}, {m.multivariable.events} events)",
                             _coef_table(m.multivariable, cfg), "selection"))
        out.append(Table(f"model_{m.name}", f"Final model: {m.label} (n = {m.fit.n}, {m.fit.events} events; "
                         f"AIC {m.fit.aic:.1f}, Nagelkerke R² {m.fit.r2_nagelkerke:.3f}, C {m.fit.c:.3f})",
                         _coef_table(m.fit, cfg), "models"))
    perf = res.performance_frame()
    if len(perf):
        perf.insert(1, "model_label", [res.model(m).label for m in perf["model"]])
        perf.insert(3, "set_label", [cfg.set_label(s) for s in perf["set"]])
    disp = None
    if len(perf):
        def ci(a, lo, hi):
            return f"{a:.3f} ({lo:.3f}–{hi:.3f})" if np.isfinite(lo) else f"{a:.3f}"

        disp = pd.DataFrame({
            "Model": perf["model_label"], "Set": perf["set_label"],
            "n (events)": [f"{n} ({e})" for n, e in zip(perf["n"], perf["events"], strict=True)],
            "AUC (95% CI)": [ci(a, lo, hi) for a, lo, hi in zip(perf["auc"], perf["auc_low"], perf["auc_high"], strict=True)],
            "Brier": perf["brier"].map(lambda v: f"{v:.3f}"),
            "Cal. intercept": perf["cal_intercept"].map(lambda v: f"{v:.2f}"),
            "Cal. slope": perf["cal_slope"].map(lambda v: f"{v:.2f}"),
            "CITL": perf["citl"].map(lambda v: f"{v:.2f}"),
            "Emax": perf["emax"].map(lambda v: f"{v:.3f}"),
            "HL χ² (df), p": [f"{c:.2f} ({int(d)}), {'<0.001' if p < 0.001 else f'{p:.3f}'}" if np.isfinite(c) else "–"
                              for c, d, p in zip(perf["hl_chi2"], perf["hl_df"], perf["hl_p"], strict=True)],
            "Apparent": perf["apparent"].map(lambda v: "yes" if v else "no"),
        })
    out.append(Table("performance", "Performance of each model in each set", perf, "discrimination",
                     "Development-set values are apparent (optimistic). AUC CI: DeLong. Calibration "
                     "intercept/slope: logistic recalibration (rms val.prob); citl: calibration-in-the-large. "
                     "HL: Hosmer–Lemeshow with 10 groups. Threshold: Youden-optimal (descriptive; in the CSV).",
                     display=disp))
    singles = []
    for e in res.evaluations:
        for s in e.singles:
            t = s.test
            singles.append({"model": e.model, "set": e.set, "variable": s.variable,
                            "label": cfg.label(s.variable), "direction": s.direction,
                            "auc": s.roc.auc, "auc_low": s.roc.ci_low, "auc_high": s.roc.ci_high,
                            "model_auc": e.roc.auc, "diff": t.diff, "diff_low": t.ci_low,
                            "diff_high": t.ci_high, "z": t.z, "p": t.p})
    if singles:
        out.append(Table("single_predictors", "Each model vs its continuous predictors alone (paired DeLong)",
                         pd.DataFrame(singles), "discrimination"))
    if res.comparisons:
        out.append(Table("delong_models", "Paired DeLong tests between models (same patients)",
                         pd.DataFrame([{"set": c.set, "model1": c.model1, "model2": c.model2, "n": c.n,
                                        "auc1": c.test.auc1, "auc2": c.test.auc2, "diff": c.test.diff,
                                        "diff_low": c.test.ci_low, "diff_high": c.test.ci_high,
                                        "z": c.test.z, "p": c.test.p} for c in res.comparisons]),
                         "discrimination"))
    if res.set_comparisons:
        out.append(Table("delong_sets", "Unpaired DeLong tests: development set vs each other set",
                         pd.DataFrame([{"model": c.model, "set1": c.set1, "set2": c.set2,
                                        "auc1": c.test.auc1, "auc2": c.test.auc2, "diff": c.test.diff,
                                        "D": c.test.statistic, "df": c.test.df, "p": c.test.p}
                                       for c in res.set_comparisons]), "discrimination"))
    val = res.validation_frame()
    if len(val):
        out.append(Table("bootstrap_validation",
                         f"Bootstrap internal validation (B = {cfg.bootstrap.B}"
                         + (", selection repeated in each resample" if any(m.method != "fixed" for m in res.models) else "")
                         + ")", val, "validation",
                         "rms validate: optimism = mean(training) − mean(test); corrected = apparent − optimism. "
                         "Dxy = 2(AUC − 0.5)."))
        aucs, freq = [], []
        for m in res.models:
            a = m.validation.auc
            if a is not None:
                aucs.append({"model": m.name, "B": a.B, "apparent": a.apparent,
                             "train_mean": float(np.nanmean(a.train)) if a.train.size else np.nan,
                             "oob_mean": float(np.nanmean(a.oob)) if a.oob.size else np.nan,
                             "oob_q025": float(np.nanquantile(a.oob, 0.025)) if a.oob.size else np.nan,
                             "oob_q975": float(np.nanquantile(a.oob, 0.975)) if a.oob.size else np.nan,
                             "auc_632": a.auc_632, "auc_632plus": a.auc_632plus,
                             "corrected_from_dxy": (m.validation.corrected["Dxy"] + 1) / 2,
                             "n_failed": a.n_failed})
            for term, f in (m.validation.selection_frequency or {}).items():
                freq.append({"model": m.name, "variable": term, "label": cfg.label(term), "frequency": f})
            empty = getattr(m.validation, "selection_empty", float("nan"))
            if m.validation.selection_frequency and np.isfinite(empty):
                freq.append({"model": m.name, "variable": "(no predictor kept)",
                             "label": "No predictor kept (separated or nothing significant)",
                             "frequency": empty})
        if aucs:
            out.append(Table("resampled_auc", "AUC in bootstrap resamples (training) and out-of-bag patients (test)",
                             pd.DataFrame(aucs), "validation"))
        if freq:
            ff = pd.DataFrame(freq)
            wide = ff.pivot_table(index=["variable", "label"], columns="model", values="frequency",
                                  sort=False).reset_index()
            wide = wide.loc[wide[[c for c in wide.columns if c not in ("variable", "label")]].fillna(0).max(axis=1) > 0]
            wide.columns.name = None
            out.append(Table("selection_frequency",
                             "How often each candidate was selected in the bootstrap resamples "
                             "(candidates never selected omitted)", ff, "validation",
                             display=wide.map(lambda v: f"{v:.2f}" if isinstance(v, float) else ("" if v is None else str(v)))))
        for m in res.models:
            if m.calibration is not None:
                out.append(Table(f"calibration_{m.name}", f"Bootstrap calibration curve: {m.label}",
                                 m.calibration.to_frame(), "validation", html=False))
    hl = []
    for e in res.evaluations:
        h = e.performance.hosmer_lemeshow
        if h is not None:
            fr = h.to_frame()
            fr.insert(0, "set", e.set)
            fr.insert(0, "model", e.model)
            hl.append(fr)
    if hl:
        out.append(Table("hosmer_lemeshow", "Hosmer–Lemeshow groups (observed and expected counts)",
                         pd.concat(hl, ignore_index=True), "calibration", html=False))
    for s, dc in res.decision.items():
        fr = dc.to_frame().pivot(index="threshold", columns="model", values="net_benefit").reset_index()
        fr = fr[["threshold", *dc.models]]
        out.append(Table(f"decision_{s}", f"Net benefit: {cfg.set_label(s)}", fr, "decision", html=False))
    if res.index is not None:
        d = res.index.to_dict()
        summ = pd.DataFrame([{k: d[k] for k in ("label", "model", "or_per_unit", "or_low", "or_high", "p",
                                                "lr_chi2", "lr_p", "index_min", "index_max",
                                                "prob_at_min", "prob_at_max")}])
        out.append(Table("index_model", f"{res.index.label} as a single predictor", summ, "index"))
        out.append(Table("index_curve", f"{res.index.label}: predicted probability with 95% CI",
                         res.index.to_frame(), "index", html=False))
    a = res.sample_size
    ss = a.requirement.to_frame() if a.requirement is not None else pd.DataFrame()
    out.append(Table("sample_size", "Minimum sample size (Riley et al. 2020, binary outcome)", ss,
                     "sample_size"))
    out.append(Table("tripod_ai", "TRIPOD+AI checklist (items the software can address)",
                     pd.DataFrame(list(res.tripod)), "tripod"))
    return out
