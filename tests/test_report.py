"""The report's numbers equal the engine's, computed separately on the same data; files are complete."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from myorisk.datasets import load_dataset
from myorisk.errors import InputError
from myorisk.study.demo import demo_config
from myorisk.study.pipeline import run

pytestmark = pytest.mark.slow

B = 30


@pytest.fixture(scope="module")
def study_a():
    return run(demo_config("study-a", B=B))


@pytest.fixture(scope="module")
def written(study_a, tmp_path_factory):
    from myorisk.report.write import write

    out = tmp_path_factory.mktemp("rep") / "study-a"
    return write(study_a, out)


def _kw(cfg, preds):
    return dict(categorical=[c for c in cfg.predictors.categorical if c in preds],
                reference={k: v for k, v in cfg.predictors.reference.items() if k in preds}, event="1")


def test_selected_models_equal_engine_selection(study_a):
    from myorisk.modeling.selection import select_pscreen

    cfg = study_a.config
    train = load_dataset("pmdm-train")
    m = study_a.model("non-invasive-selected")  # the sensitivity analysis: the paper's selection
    cands = cfg.model_candidates(cfg.models[3])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sel = select_pscreen(train, "nonresponse", cands, alpha=0.05, **_kw(cfg, cands))
    assert sel.selected == m.predictors
    np.testing.assert_allclose(m.fit.coefficients, sel.fit.coefficients, rtol=1e-12)


def test_final_model_equals_fit_logistic(study_a, written):
    from myorisk.modeling.logistic import fit_logistic

    cfg = study_a.config
    train = load_dataset("pmdm-train")
    for m in study_a.models:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = fit_logistic(train, "nonresponse", list(m.predictors), **_kw(cfg, m.predictors))
        np.testing.assert_allclose(m.fit.coefficients, f.coefficients, rtol=1e-9)
        tab = pd.read_csv(written.parent / "tables" / f"model_{m.name}.csv")
        np.testing.assert_allclose(tab["or"], np.exp(f.coefficients), rtol=1e-12)
        np.testing.assert_allclose(tab["or_low"], np.exp(f.ci_low), rtol=1e-12)


def test_univariate_table_equals_engine(study_a, written):
    from myorisk.modeling.selection import univariate

    tab = pd.read_csv(written.parent / "tables" / "univariate.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        u = univariate(load_dataset("pmdm-train"), "nonresponse", ["sex", "msuvmax", "ck"],
                       categorical=["sex"], reference={"sex": "female"}, event="1")
    for _, r in u.rows.iterrows():
        row = tab.loc[tab["term"] == r["term"]].iloc[0]
        np.testing.assert_allclose([row["or"], row["or_low"], row["or_high"], row["p"]],
                                   [r["or"], r["or_low"], r["or_high"], r["p"]], rtol=1e-9)


def test_external_roc_and_val_prob_equal_engine(study_a, written):
    from myorisk.modeling.performance import val_prob
    from myorisk.modeling.roc import roc_curve

    m = study_a.model("non-invasive")
    ext = load_dataset("pmdm-external")
    X = ext[list(m.predictors)].copy()
    p = m.fit.predict_proba(X)
    y = ext["nonresponse"].to_numpy(float)
    r = roc_curve(y, p, direction="<")
    perf = pd.read_csv(written.parent / "tables" / "performance.csv")
    row = perf.loc[(perf["model"] == "non-invasive") & (perf["set"] == "external")].iloc[0]
    np.testing.assert_allclose([row["auc"], row["auc_low"], row["auc_high"]], [r.auc, r.ci_low, r.ci_high],
                               rtol=1e-12)
    v = val_prob(p, y)
    np.testing.assert_allclose([row["brier"], row["cal_slope"], row["cal_intercept"], row["emax"]],
                               [v.brier, v.slope, v.intercept, v.emax], rtol=1e-9)
    hl = v.hosmer_lemeshow
    np.testing.assert_allclose([row["hl_chi2"], row["hl_p"]], [hl.chi2, hl.p], rtol=1e-9)


def test_delong_comparison_equals_engine(study_a):
    from myorisk.modeling.roc import delong_test

    c = next(c for c in study_a.comparisons if c.set == "training")
    e1 = study_a.evaluation(c.model1, "training")
    e2 = study_a.evaluation(c.model2, "training")
    t = delong_test(e1.y, e1.prob, e2.prob)
    np.testing.assert_allclose([c.test.z, c.test.p], [t.z, t.p], rtol=1e-12)
    np.testing.assert_allclose(e1.prob, expit(study_a.model(c.model1).fit.linear_predictor), rtol=1e-12)


def test_bootstrap_equals_engine_with_same_seed(study_a, written):
    from myorisk.modeling.calibration import validate_and_calibrate
    from myorisk.modeling.design import build_design
    from myorisk.modeling.validation import SelectionSpec

    cfg = study_a.config
    m = study_a.model("comprehensive-selected")  # selection repeated in every resample
    d = build_design(load_dataset("pmdm-train"), "nonresponse", list(m.candidates), **_kw(cfg, m.candidates))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        val, cal = validate_and_calibrate(d, B=B, seed=cfg.bootstrap.seed, selection=SelectionSpec("pscreen"),
                                          auc=True)
    tab = pd.read_csv(written.parent / "tables" / "bootstrap_validation.csv")
    tab = tab.loc[tab["model"] == "comprehensive-selected"].set_index("index")
    for k, v in val.corrected.items():
        np.testing.assert_allclose(tab.loc[k, "corrected"], v, rtol=1e-12)
    np.testing.assert_allclose(m.calibration.corrected, cal.corrected, rtol=1e-12, equal_nan=True)
    assert m.calibration.mean_abs_error == pytest.approx(cal.mean_abs_error, rel=1e-12)


def test_decision_curve_equals_engine(study_a, written):
    from myorisk.modeling.decision import decision_curve, threshold_grid

    e = study_a.evaluation("non-invasive", "external")
    g = threshold_grid(0.0, 0.9, 0.01)
    dc = decision_curve(e.y, {"non-invasive": e.prob}, g)
    tab = pd.read_csv(written.parent / "tables" / "decision_external.csv")
    np.testing.assert_allclose(tab["non-invasive"], dc.net_benefit["non-invasive"], rtol=1e-12)


def test_table_one_equals_engine(study_a):
    t = study_a.table1_outcome
    v = t.variable("msuvmax")
    from myorisk.modeling.tableone import wilcoxon_rank_sum

    tr = load_dataset("pmdm-train")
    w = wilcoxon_rank_sum(tr.loc[tr["nonresponse"] == 0, "msuvmax"].to_numpy(float),
                          tr.loc[tr["nonresponse"] == 1, "msuvmax"].to_numpy(float))
    assert v.test.p_value == pytest.approx(w.p_value, rel=1e-12)


def test_output_folder_is_complete(study_a, written):
    out = written.parent
    figs = {p.stem for p in (out / "figures").glob("*.png")}
    for stem in ("forest_univariate", "forest_comprehensive", "nomogram_comprehensive", "nomogram_non-invasive",
                 "roc_training", "roc_external", "calibration_comprehensive", "decision_training",
                 "bootstrap_auc"):
        assert stem in figs
        assert (out / "figures" / f"{stem}.svg").stat().st_size > 1000
    from PIL import Image

    with Image.open(out / "figures" / "roc_training.png") as im:
        assert round(im.info["dpi"][0]) == 300
    for t in ("table1_by_outcome", "univariate", "performance", "bootstrap_validation", "tripod_ai"):
        assert (out / "tables" / f"{t}.csv").exists() and (out / "tables" / f"{t}.xlsx").exists()
    spec = json.loads((out / "models" / "comprehensive.json").read_text())
    assert spec
    res = json.loads((out / "results.json").read_text())
    assert res["synthetic"] is True
    html = written.read_text()
    assert "SYNTHETIC DATA" in html and "data:image/svg+xml;base64," in html
    assert "<link" not in html and "<script src" not in html  # self-contained
    assert "discouraged by TRIPOD" in html and "B = 30" in html
    assert "Sample size too small" in html  # plain-language warning


def test_every_figure_carries_the_synthetic_mark(study_a):
    from myorisk.report.figures import _plt
    from myorisk.report.write import study_figures

    figs = study_figures(study_a)
    try:
        for f in figs:
            assert any(t.get_text() == "SYNTHETIC DATA" for t in f.fig.texts), f.name
    finally:
        for f in figs:
            _plt().close(f.fig)


def test_index_curve_study_b():
    from myorisk.modeling.logistic import fit_logistic

    res = run(demo_config("study-b", B=20))
    ic = res.index
    m = res.model("redmi")
    f = fit_logistic(pd.DataFrame({"i": m.fit.linear_predictor, "y": m.fit.y}), "y", ["i"])
    np.testing.assert_allclose(ic.fit.coefficients, f.coefficients, rtol=1e-9)
    assert ic.fit.coefficients[1] == pytest.approx(1.0, abs=1e-6)  # refit of the lp: slope 1
    assert np.all(ic.low <= ic.prob) and np.all(ic.prob <= ic.high)
    assert not res.sample_size.adequate


def test_write_refuses_foreign_folder_and_is_atomic(study_a, tmp_path, monkeypatch):
    from myorisk.report import html as html_mod
    from myorisk.report.write import write

    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.docx").write_text("x")
    with pytest.raises(InputError, match="not an earlier myorisk report"):
        write(study_a, foreign)

    def boom(*a, **k):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(html_mod, "render", boom)
    with pytest.raises(RuntimeError):
        write(study_a, tmp_path / "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # nothing half-written


def test_primary_models_are_the_published_forms_and_selection_is_a_sensitivity_analysis(study_a, written):
    roles = {m.name: (m.role, m.method, m.predictors) for m in study_a.models}
    assert roles["comprehensive"] == ("primary", "fixed", ("sex", "msuvmax", "biopsy_bundle_atrophy"))
    assert roles["non-invasive"] == ("primary", "fixed", ("sex", "msuvmax"))
    assert roles["non-invasive-selected"][:2] == ("sensitivity", "pscreen")
    html = written.read_text(encoding="utf-8")
    assert "Primary and sensitivity analyses" in html and "(sensitivity analysis)" in html


def test_published_vs_reproduced_table(study_a, written):
    tab = pd.read_csv(written.parent / "tables" / "published_vs_reproduced.csv")
    assert set(tab["model"]) == {"comprehensive", "non-invasive", "comprehensive-selected",
                                 "non-invasive-selected"}
    assert tab["reason"].notna().all() and (tab["reason"].str.len() > 10).all()
    m = study_a.model("non-invasive")
    fr = m.fit.to_frame().set_index("term")
    row = tab.loc[(tab["model"] == "non-invasive") & (tab["key"] == "or:msuvmax")].iloc[0]
    assert row["published"] == 0.016 and bool(row["reversed"]) and "erratum" in row["reason"]
    assert row["reproduced"] == pytest.approx(fr.loc["msuvmax", "or"], rel=1e-12)
    auc = tab.loc[(tab["model"] == "non-invasive") & (tab["key"] == "auc:external")].iloc[0]
    assert auc["reproduced"] == pytest.approx(study_a.evaluation("non-invasive", "external").roc.auc)
    sel = tab.loc[(tab["model"] == "non-invasive-selected") & (tab["key"] == "predictors")].iloc[0]
    assert sel["published_text"] == "Sex, mSUVmax (PET/CT)"
    assert "bootstrap selection frequency" in sel["reason"]
    html = written.read_text(encoding="utf-8")
    assert "Published vs reproduced" in html and "as 1/OR" in html and "Why they differ" in html


def test_small_sets_get_grouped_and_logistic_calibration_not_a_lowess_curve(study_a):
    from myorisk.modeling.calibration import calibration_curve
    from myorisk.report.write import study_figures

    e = study_a.evaluation("non-invasive", "internal")
    assert e.n == 20 and not e.calibration.flexible
    ref = calibration_curve(e.prob, e.y, B=B, seed=study_a.config.bootstrap.seed)
    assert e.calibration.slope == pytest.approx(ref.slope, rel=1e-12)
    np.testing.assert_array_equal(e.calibration.low, ref.low)
    figs = {f.name: f for f in study_figures(study_a)}
    f = figs["calibration_sets_non-invasive"]
    assert "too few events for a flexible calibration curve" in f.caption
    labels = [ln.get_label() for ax in f.fig.axes for ln in ax.get_lines()]
    assert not any("Lowess" in lab for lab in labels)
    assert any("Logistic recalibration" in lab for lab in labels)
    bootstrap_cal = figs["calibration_non-invasive"]
    assert "Van Calster" in bootstrap_cal.caption
