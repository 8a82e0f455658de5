"""Write a study's output folder: HTML report, figures, tables, results.json and model specs.

:func:`write` builds everything in a temporary folder beside ``out_dir`` and renames it into
place at the end, so an interrupted run never leaves half an output. An existing ``out_dir`` is
replaced only when it is empty or holds an earlier myorisk report (``results.json``).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from myorisk.errors import InputError
from myorisk.report.tables import in_sentence

__all__ = ["Figure", "in_sentence", "study_figures", "write"]


@dataclass(frozen=True)
class Figure:
    """One figure of the report.

    Attributes
    ----------
    name : str
        File stem (``figures/<name>.png`` and ``.svg``).
    title, caption, section : str
    fig : matplotlib Figure
    """

    name: str
    title: str
    caption: str
    section: str
    fig: object


def study_figures(res) -> list[Figure]:
    """Draw every figure of a study's report.

    Parameters
    ----------
    res : Results

    Returns
    -------
    list of Figure
    """
    import pandas as pd

    from myorisk.report import figures as F

    cfg = res.config
    wm = "SYNTHETIC DATA" if res.synthetic else None
    out: list[Figure] = []
    dev = res.development
    # forest: univariate
    uv = res.univariate.copy()
    if "or" not in uv.columns:
        uv["or"] = np.nan
    rows = pd.DataFrame({
        "label": [(_lab(cfg, t)) for t in uv["term"]],
        "or": uv["or"].astype(float), "or_low": uv.get("or_low", np.nan), "or_high": uv.get("or_high", np.nan),
        "p": uv.get("p", np.nan),
    })
    out.append(Figure("forest_univariate", "Univariable odds ratios",
                      f"Each candidate fitted alone in the {dev.label} set; squares: odds ratio, lines: 95% CI "
                      f"({_forest_scale(F, rows)}).", "univariate",
                      F.forest_plot(rows, title="Univariable odds ratios", watermark=wm)))
    for m in res.models:
        fr = m.fit.to_frame().iloc[1:]
        rows = pd.DataFrame({"label": [_lab(cfg, t) for t in fr["term"]], "or": fr["or"],
                             "or_low": fr["or_low"], "or_high": fr["or_high"], "p": fr["p"]})
        out.append(Figure(f"forest_{m.name}", f"{m.label}: odds ratios",
                          f"Multivariable odds ratios of the final {in_sentence(m.label)} with Wald 95% CI "
                          f"(n = {m.fit.n}, {m.fit.events} events; {_forest_scale(F, rows)}).", "models",
                          F.forest_plot(rows, title=f"{m.label}: adjusted odds ratios", watermark=wm)))
        if m.anova is not None:
            # splines or interactions: rms' Wald ANOVA (each factor with its nonlinear and
            # interaction terms, the nonlinearity tests) says what the coefficients cannot
            out.append(Figure(f"anova_{m.name}", f"{m.label}: Wald ANOVA",
                              f"Wald χ² minus degrees of freedom of each factor of the final "
                              f"{in_sentence(m.label)} (all its terms: linear, nonlinear and interaction), as rms "
                              "plot(anova()) (Harrell 2015, §9.8); the table gives the tests of "
                              "nonlinearity and interaction.", "models",
                              F.anova_chart(m.anova, title=f"{m.label}: Wald χ² − d.f.", watermark=wm)))
        if m.effects is not None:
            adj = ", ".join(f"{_lab(cfg, k)} {v:g}" if isinstance(v, float) else f"{_lab(cfg, k)} {v}"
                            for k, v in m.effects.adjust.items())
            out.append(Figure(f"effects_{m.name}", f"{m.label}: partial effects",
                              f"Log odds of {cfg.outcome.label} across each predictor of the final "
                              f"{in_sentence(m.label)}, with pointwise 95% confidence bands, the other "
                              f"predictors held at their adjust-to values ({adj}), as rms Predict "
                              "(Harrell 2015, §10.5).", "models",
                              F.effects_plot(m.effects, title=f"{m.label}: partial effects", watermark=wm,
                                             labels=cfg.predictors.labels)))
        out.append(Figure(f"nomogram_{m.name}", f"{m.label}: nomogram",
                          "Read each predictor's points on the top axis, add them, and read the predicted "
                          f"probability of {cfg.outcome.label} under the total.", "nomograms",
                          F.nomogram_plot(m.nomogram, labels=cfg.predictors.labels,
                                          title=f"Nomogram: {m.label}",
                                          outcome_label="Predicted probability",
                                          watermark=wm)))
    for s in cfg.sets_to_validate:
        evs = [e for e in res.evaluations if e.set == s]
        if evs:
            tag = " (apparent)" if s == dev.name else ""
            out.append(Figure(f"roc_{s}", f"ROC curves: {cfg.set_label(s)}",
                              f"ROC curves of the models in the {cfg.set_label(s)} set{tag}; AUC with DeLong 95% CI.",
                              "discrimination",
                              F.roc_plot([(res.model(e.model).label, e.roc) for e in evs],
                                         title=f"{cfg.set_label(s)}{tag}", watermark=wm)))
    for e in res.evaluations:
        if e.singles:
            m = res.model(e.model)
            curves = [(m.label, e.roc)] + [(cfg.label(x.variable) + (" (reversed)" if x.direction == ">" else ""),
                                            x.roc) for x in e.singles]
            out.append(Figure(f"roc_{m.name}_vs_predictors_{e.set}",
                              f"{m.label} vs its predictors: {cfg.set_label(e.set)}",
                              "The model and each of its continuous predictors used alone as a score "
                              "(paired DeLong tests in the table).", "discrimination",
                              F.roc_plot(curves, title=f"{m.label} vs single predictors\n{cfg.set_label(e.set)}",
                                         watermark=wm)))
    for m in res.models:
        if m.calibration is not None:
            e = res.evaluation(m.name, dev.name)
            out.append(Figure(f"calibration_{m.name}", f"{m.label}: bootstrap calibration",
                              f"Apparent (dotted), bias-corrected (solid) and ideal (dashed) calibration of the "
                              f"{in_sentence(m.label)} in the {dev.label} set, rms calibrate with B = {m.calibration.B}; "
                              "grey bars: distribution of predicted risks; orange ticks at the top: patients "
                              "with the outcome." + _few_events_note(e),
                              "validation",
                              F.calibration_plot(m.calibration, m.fit.probability, y=m.fit.y,
                                                 title=f"{m.label}: calibration", watermark=wm)))
        cal = [(res.set_info(e.set).label, e.calibration) for e in res.evaluations
               if e.model == m.name and e.calibration is not None]
        if len(cal) > 1 or (cal and m.calibration is None):
            small = [lab for lab, c in cal if not c.flexible]
            ev = cal[0][1].min_events
            out.append(Figure(f"calibration_sets_{m.name}", f"{m.label}: calibration in each set",
                              "Grouped observed proportions (points, exact 95% CI) and the logistic "
                              "recalibration line (dash-dot, 95% CI band) in each set"
                              + ("; lowess curve with pointwise 95% bootstrap band where the set has "
                                 f"at least {ev} events and {ev} non-events"
                                 if len(small) < len(cal) else "")
                              + (f". {', '.join(small)}: too few events for a flexible calibration "
                                 f"curve (Van Calster et al. 2016 suggest at least {ev} events and {ev} "
                                 "non-events), so no lowess curve is drawn" if small else "") + ".",
                              "calibration",
                              F.calibration_panels(cal, title=f"{m.label}: calibration by set",
                                                   watermark=wm)))
    items = [(m.label, m.validation.auc) for m in res.models
             if m.validation is not None and m.validation.auc is not None]
    if items:
        out.append(Figure("bootstrap_auc", "Bootstrap AUCs",
                          "AUC of each resample's model in its own resample (training) and in the patients "
                          "it left out (out-of-bag); dotted line: apparent AUC.", "validation",
                          F.auc_boxplot(items, title="AUC in bootstrap resamples", watermark=wm)))
    labels = {m.name: m.label for m in res.models}
    for s, dc in res.decision.items():
        out.append(Figure(f"decision_{s}", f"Decision curves: {cfg.set_label(s)}",
                          "Net benefit of deciding by each model, treating everyone and treating no one, "
                          "over threshold probabilities" + (" (apparent)." if s == dev.name else "."),
                          "decision",
                          F.decision_plot(dc, labels=labels, title=f"Decision curves: {cfg.set_label(s)}",
                                          watermark=wm)))
    if res.index is not None:
        out.append(Figure("index_curve", f"{res.index.label}: probability by index",
                          f"Predicted probability of {cfg.outcome.label} against {res.index.label} with 95% "
                          "confidence band; ticks: patients with (top) and without (bottom) the outcome.",
                          "index",
                          F.index_plot(res.index, watermark=wm,
                                       outcome_label="Predicted probability")))
    from myorisk.report.imputation import imputation_figures

    out.extend(imputation_figures(res, wm))
    return out


def _few_events_note(e) -> str:
    """Caption warning for a lowess-based curve drawn from too few events."""
    c = None if e is None else e.calibration
    if c is None or c.flexible:
        return ""
    return (f" With {min(c.events, c.n - c.events)} patients in the smaller outcome group this smoothed "
            f"curve is imprecise (Van Calster et al. 2016 suggest at least {c.min_events} events and "
            f"{c.min_events} non-events for a flexible curve); the grouped and logistic calibration "
            "(section “Calibration in each set”) overclaim less.")


def _forest_scale(F, rows) -> str:
    return "log scale; arrows: interval beyond the axis" if F.forest_clipped(rows) else "log scale"


def _lab(cfg, term: str) -> str:
    if "=" in str(term):
        var, lev = str(term).split("=", 1)
        return f"{cfg.label(var)}: {lev}"
    return cfg.label(str(term))


def _is_previous_output(p: Path) -> bool:
    if not p.exists():
        return True
    if not p.is_dir():
        return False
    names = {c.name for c in p.iterdir()}
    return not names or "results.json" in names or "report.html" in names


def check_output_folder(out_dir: str | os.PathLike[str]) -> Path:
    """The absolute output folder, if a report can be written there; else ``InputError``.

    Its parent must exist, and it must be absent, empty or an earlier myorisk report (which is
    replaced). ``myorisk study`` calls this before any work, :func:`write` again before writing.
    """
    out = Path(out_dir).absolute()
    if not out.parent.exists():
        raise InputError(f"{out}: folder '{out.parent}' does not exist")
    if not _is_previous_output(out):
        raise InputError(f"{out}: exists and is not an earlier myorisk report (no results.json); "
                         "choose another --out folder")
    return out


def _write_tables(tables, folder: Path) -> None:
    import pandas as pd

    from myorisk.atomic import CSV_ENCODING

    folder.mkdir()
    for t in tables:
        # inside the report's temporary folder (renamed into place whole): UTF-8 with BOM for Excel
        t.frame.to_csv(folder / f"{t.name}.csv", index=False, encoding=CSV_ENCODING)
        with pd.ExcelWriter(folder / f"{t.name}.xlsx", engine="openpyxl") as xw:
            sheet = t.name[:31]
            if t.display is not None:
                t.display.to_excel(xw, sheet_name="table", index=False)
                t.frame.to_excel(xw, sheet_name="tidy", index=False)
            else:
                t.frame.to_excel(xw, sheet_name=sheet, index=False)
            if t.note:
                pd.DataFrame({"note": [t.note]}).to_excel(xw, sheet_name="notes", index=False)


def write(results, out_dir: str | os.PathLike[str], *, pdf: bool = False,
          formats: tuple[str, ...] = ("png", "svg"), dpi: int = 300) -> Path:
    """Write the whole output folder of a study run.

    Parameters
    ----------
    results : Results
    out_dir : path
        Output folder (created; replaced when it holds an earlier report).
    pdf : bool
        Also render ``report.pdf`` with headless Chromium.
    formats : tuple of str
        Figure formats.
    dpi : int
        Resolution of PNG figures.

    Returns
    -------
    pathlib.Path
        The HTML report, ``<out_dir>/report.html``.

    Raises
    ------
    InputError
        ``out_dir`` is a file or a non-empty folder that is not a myorisk report; the parent
        folder does not exist; PDF asked but Chromium missing.
    """
    from myorisk.report import figures as F
    from myorisk.report.html import render
    from myorisk.report.tables import study_tables

    out = check_output_folder(out_dir)
    if pdf:
        from myorisk.report.pdf import find_chromium

        find_chromium()  # fail before any work
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    plt = F._plt()
    try:
        figs = study_figures(results)
        fig_dir = tmp / "figures"
        fig_dir.mkdir()
        inline = {}
        for f in figs:
            paths = F.save(f.fig, fig_dir / f.name, formats=formats, dpi=dpi)
            plt.close(f.fig)
            svg = next((p for p in paths if p.suffix == ".svg"), None)
            inline[f.name] = ("svg", svg.read_bytes()) if svg is not None else ("png", paths[0].read_bytes())
        tables = study_tables(results)
        _write_tables(tables, tmp / "tables")
        (tmp / "results.json").write_text(
            json.dumps(results.to_dict(), indent=1, allow_nan=False, ensure_ascii=False) + "\n",
            encoding="utf-8")
        model_files = []
        mdir = tmp / "models"
        mdir.mkdir()
        for m in results.models:
            if m.spec is not None:
                from myorisk.published.files import save_spec

                save_spec(m.spec, mdir / f"{m.name}.json")
                model_files.append(f"models/{m.name}.json")
        html = render(results, figs, tables, inline, model_files=model_files)
        (tmp / "report.html").write_text(html, encoding="utf-8")
        if pdf:
            from myorisk.report.pdf import html_to_pdf

            html_to_pdf(tmp / "report.html", tmp / "report.pdf")
        from myorisk.atomic import replace_folder

        replace_folder(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out / "report.html"
