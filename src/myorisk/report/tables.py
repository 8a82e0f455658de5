"""The report's tables as tidy DataFrames (full precision) built from a study's Results."""

from __future__ import annotations

from dataclasses import dataclass, replace

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


DASH = "—"


def fmt_fixed(v, digits: int) -> str:
    """``v`` with ``digits`` decimals; values that round to zero print without a sign; NaN → "—"."""
    if v is None:
        return DASH
    f = float(v)
    if not np.isfinite(f):
        return DASH if np.isnan(f) else ("∞" if f > 0 else "−∞")
    txt = f"{f:.{digits}f}"
    if float(txt) == 0:
        txt = f"{0.0:.{digits}f}"
    return txt


def join_notes(notes) -> str:
    """Footnote sentences joined into one paragraph (no ".;" between sentences)."""
    out = []
    for n in notes:
        n = str(n).strip()
        if not n:
            continue
        if n[-1] not in ".!?":
            n += "."
        out.append(n)
    return " ".join(out)


def _table1_display(t1) -> tuple[pd.DataFrame, str]:
    """Table 1's display with cells of a set without any value shown as "—" and no test there.

    Returns the display frame and an extra footnote (empty when nothing was changed).
    """
    disp = t1.to_display().copy()
    cols = list(t1.columns)
    has_test = "p" in disp.columns
    i = 1  # row 0 is "n"
    changed = untested = False
    for v in t1.variables:
        if v.kind == "continuous":
            rows = [(i, "")]
            i += 1
        elif v.binary_one_row:
            rows = [(i, v.levels[-1])]
            i += 1
        else:
            rows = [(i + 1 + k, lvl) for k, lvl in enumerate(v.levels)]
            head = i
            i += 1 + len(v.levels)
        first = rows[0][0] if (v.kind == "continuous" or v.binary_one_row) else head
        for c in cols:
            cells = v.cells[next(iter(v.cells))]
            if cells[c].n == 0:  # no non-missing value in this group
                changed = True
                for r, _lvl in rows:
                    disp.at[r, c] = DASH
        t = v.test
        if has_test and t is not None and not np.isfinite(t.p_value):
            untested = True
            disp.at[first, "p"] = DASH
            disp.at[first, "test"] = "not done"
            if "statistic" in disp.columns:
                disp.at[first, "statistic"] = t.note or ""
        if any(v.missing(c) > 0 for c in cols):
            i += 1
    notes = []
    if changed:
        notes.append(f"{DASH}: not measured in that group (no non-missing value).")
    if untested:
        notes.append(f"Test “not done”: a group without any value (or with a single observed "
                     f"level) leaves too few groups or values to test; p is shown as {DASH}.")
    return disp, " ".join(notes)


EMAX_VALIDATE = "Emax (recalibration line)"
NO_PREDICTOR = "(no predictor kept)"


def in_sentence(label: str) -> str:
    """A display label inside a sentence: "Comprehensive model" → "comprehensive model", but
    acronyms and names with inner capitals ("ReDMI model", "CK") keep their case."""
    word = label.split(" ", 1)[0]
    if len(word) > 1 and word[0].isupper() and word[1:] == word[1:].lower():
        return label[0].lower() + label[1:]
    return label


def _formatted(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as display text (the HTML's rounding), NaN as "—"."""
    from myorisk.report.html import format_value

    out = frame.copy().astype(object)
    for c in out.columns:
        out[c] = [DASH if (isinstance(v, float | np.floating) and np.isnan(v)) else format_value(str(c), v)
                  for v in frame[c]]
    return out


#: Readable headers of the report's tables (the CSV/XLSX files keep the field names).
HEADERS = {
    "variable": "Variable", "label": "Label", "term": "Term", "n": "n", "events": "Events",
    "coef": "β", "se": "SE", "z": "z", "p": "p", "term_p": "p (variable)", "method": "Method",
    "model": "Model", "set": "Set", "model1": "Model 1", "model2": "Model 2", "set1": "Set 1",
    "set2": "Set 2", "auc1": "AUC 1", "auc2": "AUC 2", "D": "D", "df": "df", "direction": "Direction",
    "model_auc": "Model AUC", "B": "B", "apparent": "Apparent", "train_mean": "Training AUC (mean)",
    "oob_mean": "Out-of-bag AUC (mean)", "oob_q025": "Out-of-bag 2.5%", "oob_q975": "Out-of-bag 97.5%",
    "auc_632": "AUC .632", "auc_632plus": "AUC .632+", "corrected_from_dxy": "Corrected AUC (from Dxy)",
    "n_failed": "Failed resamples", "or_per_unit": "OR per unit", "lr_chi2": "LR χ²", "lr_p": "LR p",
    "index_min": "Index min", "index_max": "Index max", "prob_at_min": "Probability at min",
    "prob_at_max": "Probability at max", "threshold": "Threshold", "frequency": "Frequency",
    "auc": "AUC", "aic": "AIC", "selected": "Selected", "step": "Step", "removed": "Removed",
    "index": "Index", "training": "Training", "test": "Test", "optimism": "Optimism",
    "corrected": "Corrected", "diff": "Difference", "statistic": "Statistic", "criterion": "Criterion",
    "shrinkage": "Shrinkage", "parameters": "Parameters", "r2_cs": "R² (Cox–Snell)",
    "max_r2_cs": "Max R² (Cox–Snell)", "r2_nagelkerke": "R² (Nagelkerke)", "epp": "Events per parameter",
}

#: Estimate and confidence-limit columns shown as one "estimate (low–high)" column.
_CI_GROUPS = (
    ("or", "or_low", "or_high", "OR (95% CI)"),
    ("or_per_unit", "or_low", "or_high", "OR per unit (95% CI)"),
    ("auc", "auc_low", "auc_high", "AUC (95% CI)"),
    ("diff", "diff_low", "diff_high", "Difference (95% CI)"),
)


def header(col: str) -> str:
    """The readable header of a field name (``or_low`` → ``OR, lower limit``; unknown: words)."""
    if col in HEADERS:
        return HEADERS[col]
    text = str(col).replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else text


def _fmt_or(v) -> str:
    """An odds ratio or AUC with sensible decimals (3 significant figures, at least 2 decimals)."""
    if v is None:
        return DASH
    f = float(v)
    if not np.isfinite(f):
        return DASH if np.isnan(f) else ("∞" if f > 0 else "0")
    if f >= 100:
        return f"{f:.0f}"
    if f >= 10:
        return f"{f:.1f}"
    if f >= 0.01 or f == 0:
        return f"{f:.2f}"
    return f"{f:.1e}"


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """The report's display of a table: numbers rounded, estimate and CI in one column
    (``OR (95% CI)``), and readable headers instead of field names."""
    shown = _formatted(frame)
    cols = list(frame.columns)
    for est, lo, hi, name in _CI_GROUPS:
        if est in cols and lo in cols and hi in cols:
            fmt = _fmt_or if est.startswith("or") else (lambda v: fmt_fixed(v, 3))
            e_, a_, b_ = (pd.to_numeric(frame[c], errors="coerce").to_numpy(float) for c in (est, lo, hi))
            txt = [fmt(e) if not (np.isfinite(a) and np.isfinite(b)) else f"{fmt(e)} ({fmt(a)}–{fmt(b)})"
                   for e, a, b in zip(e_, a_, b_, strict=True)]
            shown.insert(cols.index(est), name, txt)
            shown = shown.drop(columns=[est, lo, hi])
            cols = [c for c in cols if c not in (lo, hi)]
            cols[cols.index(est)] = name
    return shown.rename(columns={c: header(c) for c in shown.columns if c not in [g[3] for g in _CI_GROUPS]})


def validation_n_notes(res) -> list[str]:
    """Footnotes explaining the ``n`` column of the bootstrap validation table."""
    empty_parts, other_parts, failed_parts, short_all = [], [], [], []
    for m in res.models:
        v = m.validation
        if v is None:
            continue
        n_all = int(v.n.get("Dxy", 0))
        short = [k for k in v.n if k != "Emax" and int(v.n[k]) < n_all]
        n_min = min((int(v.n[k]) for k in short), default=n_all)
        empty = getattr(v, "selection_empty", float("nan"))
        k_empty = int(round(empty * n_all)) if np.isfinite(empty) else 0
        name = in_sentence(m.label)
        if v.n_failed:
            failed_parts.append(f"{v.n_failed} for the {name}")
        if k_empty:
            empty_parts.append(f"{k_empty} of {n_all} resamples for the {name} (n = {n_min})")
        if n_all - n_min > k_empty:
            other_parts.append(f"{n_all - n_min - k_empty} for the {name}")
        short_all += [k for k in short if k not in short_all]
    if not (empty_parts or other_parts or failed_parts):
        return []
    notes = ["n: resamples in which the index is defined."]
    failed = (f"Failed fits (divergence or singularity; skipped): {_list_and(failed_parts)}."
              if failed_parts else "No resample failed to fit (n_failed = 0).")
    notes.append(failed)
    undefined = _list_and(short_all) if short_all else "R2, Intercept, Slope, D, U, Q, g and gp"
    if empty_parts:
        notes.append(
            "When the selection kept no predictor, the resample's model is intercept-only: every "
            "patient gets the same linear predictor, so the recalibration fit on the original "
            f"sample is singular and {undefined} are undefined there, while Dxy and Brier (B) "
            f"remain defined. This happened in {_list_and(empty_parts)}; see the “{NO_PREDICTOR}” "
            "row of the selection-frequency table. These resamples are kept, not failed.")
    if other_parts:
        notes.append(f"Other resamples with a singular recalibration fit: {_list_and(other_parts)}.")
    notes.append(f"{EMAX_VALIDATE} is computed from the corrected intercept and slope; its n "
                 "repeats Dxy's, as in rms.")
    return notes


def _list_and(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


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
            DASH if k is None else ("0" if k == 0 else f"{k} ({p:.0f}%)")
            for k, p in zip(miss[f"{s.name}_n_missing"], miss[f"{s.name}_pct_missing"], strict=True)]
    out.append(Table("missing_data", "Missing values per variable and set: n (%)", miss, "data",
                     "Analyses use complete cases; a model is not evaluated in a set where one of its "
                     "predictors was not recorded." + (" The development set was also multiply imputed (next "
                     "table; pooled models and validation within imputations in their sections)."
                     if getattr(res, "imputation", None) is not None else ""), display=disp))
    disp1, extra = _table1_display(res.table1_outcome)
    out.append(Table("table1_by_outcome", f"Characteristics by outcome: {res.development.label}",
                     res.table1_outcome.to_frame(), "table1",
                     join_notes([*res.table1_outcome.notes, extra]), display=disp1))
    if res.table1_sets is not None:
        disp1, extra = _table1_display(res.table1_sets)
        out.append(Table("table1_by_set", "Characteristics by set", res.table1_sets.to_frame(),
                         "table1", join_notes([*res.table1_sets.notes, extra]), display=disp1))
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
        if m.anova is not None:
            a = m.anova.to_frame()[["label", "chi2", "df", "p"]].rename(columns={"label": "factor"})
            out.append(Table(f"anova_{m.name}", f"Wald ANOVA of {m.label}: each factor with all its terms, "
                             "its nonlinear and interaction parts, and the totals (rms anova)",
                             a, "models"))
    perf = res.performance_frame()
    if len(perf):
        perf.insert(1, "model_label", [res.model(m).label for m in perf["model"]])
        perf.insert(3, "set_label", [cfg.set_label(s) for s in perf["set"]])
    disp = None
    if len(perf):
        def ci(a, lo, hi):
            return (f"{fmt_fixed(a, 3)} ({fmt_fixed(lo, 3)}–{fmt_fixed(hi, 3)})" if np.isfinite(lo)
                    else fmt_fixed(a, 3))

        disp = pd.DataFrame({
            "Model": perf["model_label"], "Set": perf["set_label"],
            "n (events)": [f"{n} ({e})" for n, e in zip(perf["n"], perf["events"], strict=True)],
            "AUC (95% CI)": [ci(a, lo, hi) for a, lo, hi in zip(perf["auc"], perf["auc_low"], perf["auc_high"], strict=True)],
            "Brier": perf["brier"].map(lambda v: fmt_fixed(v, 3)),
            "Cal. intercept": perf["cal_intercept"].map(lambda v: fmt_fixed(v, 2)),
            "Cal. slope": perf["cal_slope"].map(lambda v: fmt_fixed(v, 2)),
            "CITL": perf["citl"].map(lambda v: fmt_fixed(v, 2)),
            "Emax (loess curve)": perf["emax"].map(lambda v: fmt_fixed(v, 3)),
            "HL χ² (df), p": [f"{fmt_fixed(c, 2)} ({int(d)}), {'<0.001' if p < 0.001 else fmt_fixed(p, 3)}"
                              if np.isfinite(c) else DASH
                              for c, d, p in zip(perf["hl_chi2"], perf["hl_df"], perf["hl_p"], strict=True)],
            "Apparent": perf["apparent"].map(lambda v: "yes" if v else "no"),
        })
    out.append(Table("performance", "Performance of each model in each set", perf, "discrimination",
                     "Development-set values are apparent (optimistic). AUC CI: DeLong. Calibration "
                     "intercept/slope: logistic recalibration (rms val.prob); CITL: calibration-in-the-large. "
                     "Emax (loess curve): maximum absolute difference between the lowess-smoothed "
                     "calibration curve and the ideal line over the observed predictions (rms val.prob); "
                     "a different quantity from the Emax (recalibration line) of the bootstrap "
                     "validation table. HL: Hosmer–Lemeshow with 10 groups. Threshold: Youden-optimal "
                     "(descriptive; in the CSV).",
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
        vdisp = val.copy()
        vdisp.insert(1, "model_label", [res.model(m).label for m in vdisp["model"]])
        vdisp = vdisp.drop(columns=["model"]).rename(columns={"model_label": "model"})
        vdisp["index"] = vdisp["index"].replace({"Emax": EMAX_VALIDATE})
        out.append(Table("bootstrap_validation",
                         f"Bootstrap internal validation (B = {cfg.bootstrap.B}"
                         + (", selection repeated in each resample" if any(m.method != "fixed" for m in res.models) else "")
                         + ")", val, "validation",
                         join_notes(["rms validate: optimism = mean(training) − mean(test); corrected = "
                                     "apparent − optimism. Dxy = 2(AUC − 0.5).",
                                     f"{EMAX_VALIDATE}: maximum |recalibrated − predicted probability| "
                                     "implied by the corrected calibration intercept and slope (rms validate); "
                                     "its apparent value is 0 by construction. It is not the Emax (loess "
                                     "curve) of the performance table.",
                                     *validation_n_notes(res)]),
                         display=_formatted(vdisp)))
        aucs, freq = [], []
        for m in res.models:
            a = m.validation.auc
            if a is not None:
                tr, oob = a.summary("train"), a.summary("oob")  # statistics from the engine
                aucs.append({"model": m.name, "B": a.B, "apparent": a.apparent,
                             "train_mean": tr.get("mean", np.nan), "oob_mean": oob.get("mean", np.nan),
                             "oob_q025": oob.get("q025", np.nan), "oob_q975": oob.get("q975", np.nan),
                             "auc_632": a.auc_632, "auc_632plus": a.auc_632plus,
                             "corrected_from_dxy": (m.validation.corrected["Dxy"] + 1) / 2,
                             "n_failed": a.n_failed})
            for term, f in (m.validation.selection_frequency or {}).items():
                freq.append({"model": m.name, "variable": term, "label": cfg.label(term), "frequency": f})
            empty = getattr(m.validation, "selection_empty", float("nan"))
            if m.validation.selection_frequency and np.isfinite(empty):
                freq.append({"model": m.name, "variable": NO_PREDICTOR,
                             "label": "No predictor kept (intercept-only model)",
                             "frequency": empty})
        if aucs:
            out.append(Table("resampled_auc", "AUC in bootstrap resamples (training) and out-of-bag patients (test)",
                             pd.DataFrame(aucs), "validation",
                             "n_failed: resamples whose fit failed (divergence or singularity) and were "
                             "skipped. A resample in which the selection kept no predictor is not a "
                             "failure: its intercept-only model is kept (AUC 0.5)."))
        if freq:
            ff = pd.DataFrame(freq)
            wide = ff.pivot_table(index=["variable", "label"], columns="model", values="frequency",
                                  sort=False, dropna=False).reset_index()
            mcols = [c for c in wide.columns if c not in ("variable", "label")]
            wide = wide.loc[wide[mcols].fillna(0).max(axis=1) > 0]
            wide.columns.name = None
            absent = bool(wide[mcols].isna().to_numpy().any())
            wide[mcols] = wide[mcols].map(lambda v: DASH if v is None or not np.isfinite(v) else fmt_fixed(v, 2))
            wide = wide.rename(columns={m.name: m.label for m in res.models})
            note = [f"{DASH}: not a candidate for this model." if absent else "",
                    f"“{NO_PREDICTOR}”: share of resamples in which the selection kept no predictor; "
                    "the bootstrap validation table explains its effect on n."
                    if (ff["variable"] == NO_PREDICTOR).any() else ""]
            if any(m.method == "pscreen" and m.validation is not None
                   and np.nan_to_num(getattr(m.validation, "selection_empty", 0.0)) > 0 for m in res.models):
                note.append("An empty p-value selection is what R's glm gives too: in such resamples the "
                            "multivariable model is usually separated, so every Wald p is near 1 (the "
                            "screen matches R's glm resample by resample; docs/study.md).")
            out.append(Table("selection_frequency",
                             "How often each candidate was selected in the bootstrap resamples "
                             "(candidates never selected omitted)", ff, "validation", join_notes(note),
                             display=wide.reset_index(drop=True)))
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
    cal_rows = []
    for e in res.evaluations:
        c = e.calibration
        if c is None:
            continue
        cal_rows.append({"model": e.model, "set": e.set, "n": c.n, "events": c.events,
                         "intercept": c.intercept, "intercept_low": c.intercept_low,
                         "intercept_high": c.intercept_high, "slope": c.slope,
                         "slope_low": c.slope_low, "slope_high": c.slope_high,
                         "flexible_curve": c.flexible, "groups": len(c.groups), "B": c.B})
    if cal_rows:
        cf = pd.DataFrame(cal_rows)
        cdisp = pd.DataFrame({
            "Model": [res.model(m).label for m in cf["model"]],
            "Set": [cfg.set_label(x) for x in cf["set"]],
            "n (events)": [f"{n} ({k})" for n, k in zip(cf["n"], cf["events"], strict=True)],
            "Calibration-in-the-large (95% CI)": [_est_ci(a, b, c, 2) for a, b, c in
                                               zip(cf["intercept"], cf["intercept_low"], cf["intercept_high"], strict=True)],
            "Calibration slope (95% CI)": [_est_ci(a, b, c, 2) for a, b, c in
                                           zip(cf["slope"], cf["slope_low"], cf["slope_high"], strict=True)],
            "Flexible curve": ["shown" if f else "too few events" for f in cf["flexible_curve"]],
        })
        m_ev = min(c.calibration.min_events for c in res.evaluations if c.calibration is not None)
        out.append(Table("calibration_by_set", "Calibration in each set: logistic recalibration", cf,
                         "calibration",
                         join_notes(["Calibration-in-the-large: intercept of glm(y ~ 1, offset = logit(p)), ideal 0; "
                                     "slope: glm(y ~ logit(p)), ideal 1; Wald 95% CIs. In the development "
                                     "set both are ideal by construction (apparent).",
                                     f"A flexible (lowess) calibration curve needs at least {m_ev} events and "
                                     f"{m_ev} non-events (Van Calster et al., J Clin Epidemiol 2016;74:167-76); "
                                     "in smaller sets the figures show grouped observed proportions with exact "
                                     "95% CIs and the logistic recalibration line instead."]),
                         display=cdisp))
        groups = []
        for e in res.evaluations:
            if e.calibration is not None:
                g = e.calibration.groups.copy()
                g.insert(0, "set", e.set)
                g.insert(0, "model", e.model)
                groups.append(g)
        out.append(Table("calibration_groups", "Grouped calibration: observed and predicted risk per group",
                         pd.concat(groups, ignore_index=True), "calibration", html=False))
    pub = getattr(res, "published", None)
    if pub is not None and len(pub):
        out.append(published_table(res))
    a = res.sample_size
    ss = a.requirement.to_frame() if a.requirement is not None else pd.DataFrame()
    out.append(Table("sample_size", "Minimum sample size (Riley et al. 2020, binary outcome)", ss,
                     "sample_size"))
    from myorisk.report.imputation import imputation_tables

    out.extend(imputation_tables(res))
    # the HTML shows the checklist once, colour-coded, from the template; the table is a file only
    out.append(Table("tripod_ai", "TRIPOD+AI checklist (items the software can address)",
                     pd.DataFrame(list(res.tripod)), "tripod", html=False))
    # what a person reads: OR (95% CI), SE, p … instead of or, or_low, or_high (files keep field names)
    shown = []
    for t in out:
        if t.html and t.display is None and not t.frame.empty:
            t = replace(t, display=readable(t.frame))
        elif t.display is not None:
            t = replace(t, display=t.display.rename(columns={c: header(c) for c in t.display.columns
                                                              if isinstance(c, str) and c in HEADERS}))
        shown.append(t)
    return shown


def _est_ci(v, lo, hi, digits: int) -> str:
    """``v (lo–hi)`` with ``digits`` decimals; the CI part only when both limits are known."""
    if v is None or not np.isfinite(float(v)):
        return DASH
    txt = fmt_fixed(v, digits)
    if lo is not None and hi is not None and np.isfinite(float(lo)) and np.isfinite(float(hi)):
        txt += f" ({fmt_fixed(lo, digits)}–{fmt_fixed(hi, digits)})"
    elif hi is not None and np.isfinite(float(hi)) and lo is not None and np.isinf(float(lo)):
        txt += f" (−∞–{fmt_fixed(hi, digits)})"
    return txt


def _digits(key: str, v: float) -> int:
    if key.startswith("or:") or key == "index:or":
        a = abs(float(v)) if np.isfinite(float(v)) else 1.0
        return 3 if a < 0.1 else (2 if a < 100 else 1)
    return 3


def published_table(res) -> Table:
    """The "published vs reproduced" table of a study (readable headers; full precision in the CSV)."""
    from myorisk.study.published import reciprocal

    pub = res.published
    rows = []
    for _, r in pub.iterrows():
        if r.get("published_text"):
            rows.append({
                "Model": r["model_label"] + (" (sensitivity analysis)" if r["role"] == "sensitivity" and
                                             "sensitivity" not in r["model_label"] else ""),
                "Quantity": r["quantity"], "Published (95% CI)": r["published_text"],
                "Reproduced (95% CI)": r["reproduced_text"], "Why they differ": r["reason"]})
            continue
        d = _digits(r["key"], r["published"])
        ptxt = _est_ci(r["published"], r["published_low"], r["published_high"], d)
        if r["reversed"]:
            lo, hi = reciprocal(r["published_high"]), reciprocal(r["published_low"])
            inv = reciprocal(r["published"])
            hi_txt = "∞" if np.isinf(hi) else fmt_fixed(hi, 1 if hi >= 100 else 2)
            ptxt += (f"; as 1/OR: {fmt_fixed(inv, 1 if inv >= 100 else 2)}"
                     + (f" ({fmt_fixed(lo, 2)}–{hi_txt})" if np.isfinite(lo) else ""))
        rd = _digits(r["key"], r["reproduced"]) if np.isfinite(r["reproduced"]) else 3
        rows.append({
            "Model": r["model_label"] + (" (sensitivity analysis)" if r["role"] == "sensitivity" and
                                         "sensitivity" not in r["model_label"] else ""),
            "Quantity": r["quantity"],
            "Published (95% CI)": ptxt,
            "Reproduced (95% CI)": _est_ci(r["reproduced"], r["reproduced_low"], r["reproduced_high"], rd),
            "Why they differ": r["reason"],
        })
    sources = join_notes(dict.fromkeys(f"{lab}: {src}" for lab, src in
                                       zip(pub["model_label"], pub["source"], strict=True) if src))
    note = join_notes([
        "Published: as printed in the paper (errors included; the reason column names them). "
        "Reproduced: this run's estimate; ORs and AUCs with Wald and DeLong 95% CIs; calibration "
        "values bootstrap-corrected with this run's B.",
        f"Sources: {sources}" if sources else "",
        *dict.fromkeys(n for n in pub.get("note", pd.Series(dtype=str)).fillna("") if n),
    ])
    return Table("published_vs_reproduced", "Published vs reproduced", pub, "published", note,
                 display=pd.DataFrame(rows))
