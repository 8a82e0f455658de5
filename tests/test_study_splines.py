"""A study whose model has a spline (``models[].predictors: ["rcs(age, 3)", …]``): the pipeline
fits it as fit_logistic does, draws its nomogram, and the report adds rms' Wald ANOVA."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from myorisk.datasets import load_dataset
from myorisk.errors import InputError
from myorisk.modeling.anova import anova
from myorisk.modeling.logistic import fit_logistic
from myorisk.study.config import ModelConfig
from myorisk.study.demo import demo_config
from myorisk.study.pipeline import run

PREDS = ["rcs(age, 3)", "anti_tif1g", "gi_vas"]


def _cfg(preds):
    cfg = demo_config("study-b", B=10)
    return cfg.model_copy(update={"selection": cfg.selection.model_copy(update={"method": "fixed"}),
                                  "models": [ModelConfig(name="spline", predictors=preds)],
                                  "index": None})


@pytest.fixture(scope="module")
def result():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run(_cfg(PREDS))


@pytest.mark.slow
def test_spline_model_is_fitted_as_fit_logistic(result):
    m = result.model("spline")
    df = load_dataset("redmi-cohort")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = fit_logistic(df, "refractory", PREDS, event="1")
    assert list(m.fit.names) == ["Intercept", "age", "age'", "anti_tif1g", "gi_vas"]
    assert_allclose([m.fit.coef[n] for n in m.fit.names], [direct.coef[n] for n in direct.names], rtol=1e-10)
    assert [a.name for a in m.nomogram.axes] == ["age", "anti_tif1g", "gi_vas"]
    assert m.spec.model_terms[0]["kind"] == "rcs"


@pytest.mark.slow
def test_report_has_the_wald_anova(result, tmp_path):
    from myorisk.report.write import write

    out = write(result, tmp_path / "rep")
    folder = out if out.is_dir() else out.parent
    tab = pd.read_csv(folder / "tables" / "anova_spline.csv", keep_default_na=False)
    exp = anova(result.model("spline").fit).to_frame()
    assert list(tab["factor"]) == list(exp["label"])
    assert " Nonlinear" in list(tab["factor"])
    assert_allclose(tab["chi2"], exp["chi2"], rtol=1e-12)
    assert (folder / "figures" / "anova_spline.png").exists()
    spec = json.loads((folder / "models" / "spline.json").read_text())
    assert spec["format"] == "myorisk-model/2" and spec["terms"][0]["variable"] == "age"
    # partial effects (rms Predict) computed by the pipeline, drawn by the report
    eff = result.model("spline").effects
    assert [e.variable for e in eff.effects] == ["age", "anti_tif1g", "gi_vas"]
    assert (folder / "figures" / "effects_spline.png").exists()


@pytest.mark.slow
def test_config_shrinkage_is_applied_and_reported():
    from myorisk.modeling.penalty import heuristic_shrinkage

    cfg = _cfg(PREDS)
    cfg = cfg.model_copy(update={"models": [ModelConfig(name="spline", predictors=PREDS, shrink="heuristic")]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run(cfg)
        df = load_dataset("redmi-cohort")
        direct = fit_logistic(df, "refractory", PREDS, event="1")
    m = res.model("spline")
    factor = heuristic_shrinkage(direct)
    assert m.fit.shrinkage == {"method": "heuristic", "factor": pytest.approx(factor)}
    assert_allclose(m.fit.coefficients[1:], factor * direct.coefficients[1:], rtol=1e-10)
    assert any("shrunk by a factor" in n for n in m.notes)
    assert m.spec.lineage[0]["shrinkage"]["method"] == "heuristic"


@pytest.mark.unit
def test_bad_term_in_config_is_named():
    with pytest.raises(InputError, match=r"models\[0\]\.predictors"):
        run(_cfg(["rcs(age, 3", "gi_vas"]))
    with pytest.raises(InputError, match="column 'agee' not found"):
        run(_cfg(["rcs(agee, 3)", "gi_vas"]))
