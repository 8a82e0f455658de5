"""Study configuration ``missing: {method: mice}``: pooled models, validation within imputations,
methods text, TRIPOD item 11 and report tables."""

from __future__ import annotations

import shutil

import pytest

from myorisk.errors import InputError

from conftest import RESULTS

pytestmark = pytest.mark.slow

CONFIG = """
title: "Birth weight with missing values (public data, seeded MAR holes)"
data:
  sets:
    dev: {file: birthwt_miss.csv, label: "Development"}
outcome: {column: low, event: "1", label: "low birth weight"}
predictors:
  candidates: [age, lwt, race, smoke, ht, ui]
  categorical: [race]
  reference: {race: white}
selection: {method: pscreen, alpha: 0.2}
models:
  - {name: m1, label: Model 1}
bootstrap: {B: 30, seed: 1}
synthetic: false
"""


def _config(tmp_path, missing: str):
    from myorisk.study.config import load_config

    shutil.copy(RESULTS / "data" / "birthwt_miss.csv", tmp_path / "birthwt_miss.csv")
    p = tmp_path / "st.yaml"
    p.write_text(CONFIG + missing)
    return load_config(p)


@pytest.mark.slow
def test_study_with_mice(tmp_path):
    from myorisk.report.tables import study_tables
    from myorisk.study.pipeline import run

    cfg = _config(tmp_path, "missing: {method: mice, m: 3, seed: 3, maxit: 3}\n")
    res = run(cfg)
    imp = res.imputation
    assert imp is not None and imp.info["m"] == 3 and imp.n_rows == 189
    m = imp.models[0]
    assert m.predictors == res.models[0].predictors  # the complete-case model's predictors, refitted
    assert m.pooled.m == 3 and m.pooled.n == 189  # every patient, not the 107 complete cases
    assert res.models[0].fit.n < 189
    assert m.validation.corrected_low is not None and m.validation.m == 3
    assert "multiply imputed by chained equations (m = 3" in " ".join(res.methods)
    item11 = next(t for t in res.tripod if t["item"] == "11")
    assert "multiple imputation" in item11["where"]
    names = {t.name for t in study_tables(res)}
    assert {"imputation_variables", "pooled_m1", "validation_mi_m1"} <= names
    d = res.to_dict()
    assert d["imputation"]["models"][0]["validation"]["ci"]["method"].startswith("location-shifted")
    # a stored run with imputation reloads whole (Results.from_dict)
    import json

    from myorisk.study.results import Results

    stored = json.loads(json.dumps(d, allow_nan=False))
    assert json.loads(json.dumps(Results.from_dict(stored).to_dict(), allow_nan=False)) == stored


@pytest.mark.unit
def test_missing_config_default_and_errors(tmp_path):
    from myorisk.study.config import load_config

    cfg = _config(tmp_path, "")
    assert cfg.missing.method == "complete_case"
    p = tmp_path / "bad.yaml"
    p.write_text(CONFIG + "missing: {method: multiple}\n")
    with pytest.raises(InputError, match="missing.method"):
        load_config(p)
    p.write_text(CONFIG + "missing: {method: mice, m: 1}\n")
    with pytest.raises(InputError, match="missing.m"):
        load_config(p)
