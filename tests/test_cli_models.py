"""datasets, models, predict and fit --save → evaluate --model through the CLI."""

from __future__ import annotations

import io
import json
import math

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from myorisk.cli import _run
from myorisk.modeling.spec import load_spec

from conftest import RESULTS

pytestmark = pytest.mark.cli


def run(capsys, *args):
    code = _run([str(a) for a in args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_datasets_list_and_export_are_labelled_synthetic(capsys, tmp_path):
    code, out, err = run(capsys, "datasets", "list", "--json")
    assert code == 0
    res = json.loads(out)
    assert {d["name"] for d in res["datasets"]} == {"pmdm-train", "pmdm-internal", "pmdm-external", "redmi-cohort"}
    assert "SYNTHETIC" in res["notice"]
    code, out, err = run(capsys, "datasets", "export", "pmdm-train", tmp_path / "train.csv")
    assert code == 0 and "SYNTHETIC" in err
    df = pd.read_csv(tmp_path / "train.csv")
    assert len(df) == 64 and (df["synthetic"] == 1).all()


def test_predict_one_patient_equals_hand_calculation(capsys, monkeypatch):
    spec = load_spec("redmi")
    b = spec.coefficients
    patient = {"anti_tif1g": 1, "alopecia": 1, "gi_vas": 4}
    lp = b["Intercept"] + b["anti_tif1g"] * 1 + b["alopecia"] * 1 + b["gi_vas"] * 4
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(patient)))
    code, out, err = run(capsys, "predict", "--model", "redmi", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert_allclose(res["linear_predictor"], lp, rtol=1e-12)
    assert_allclose(res["probability"], 1 / (1 + math.exp(-lp)), rtol=1e-12)
    assert_allclose(res["points_total"], sum(res["points"].values()), rtol=1e-12)
    assert "RECONSTRUCTED" in err
    code, out2, _ = run(capsys, "predict", "--model", "redmi", "--set", "anti_tif1g=1", "--set", "alopecia=1",
                        "--set", "gi_vas=4", "--json")
    assert json.loads(out2)["probability"] == res["probability"]


def test_predict_refuses_out_of_range(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO('{"anti_tif1g": 1, "alopecia": 0, "gi_vas": 30}'))
    code, _, err = run(capsys, "predict", "--model", "redmi", "--json")
    assert code == 2 and "'gi_vas'" in err and "outside" in err
    monkeypatch.setattr("sys.stdin", io.StringIO('{"anti_tif1g": 1, "alopecia": 0}'))
    code, _, err = run(capsys, "predict", "--model", "redmi", "--json")
    assert code == 2 and "gi_vas" in err
    monkeypatch.setattr("sys.stdin", io.StringIO('not json'))
    code, _, err = run(capsys, "predict", "--model", "redmi", "--json")
    assert code == 2 and "not valid JSON" in err


def test_predict_batch_writes_scored_file(capsys, tmp_path):
    run(capsys, "datasets", "export", "redmi-cohort", tmp_path / "c.csv")
    out = tmp_path / "scored.csv"
    code, _, err = run(capsys, "predict", "--model", "redmi", "--input", tmp_path / "c.csv", "--output", out)
    assert code == 0, err
    scored = pd.read_csv(out)
    assert len(scored) == 168
    spec = load_spec("redmi")
    b = spec.coefficients
    lp = b["Intercept"] + b["anti_tif1g"] * scored.anti_tif1g + b["alopecia"] * scored.alopecia + b["gi_vas"] * scored.gi_vas
    assert_allclose(scored["linear_predictor"], lp, rtol=1e-10)
    assert {"probability", "points_total"} <= set(scored.columns)


def test_fit_save_then_evaluate_model(capsys, tmp_path):
    spec_path = tmp_path / "m.json"
    code, out, err = run(capsys, "fit", RESULTS / "data" / "birthwt.csv", "-y", "low", "-x", "lwt,race,smoke",
                         "--save", spec_path, "--json")
    assert code == 0, err
    fit = json.loads(out)
    code, out, err = run(capsys, "evaluate", RESULTS / "data" / "birthwt.csv", "-y", "low", "--model", spec_path, "--json")
    assert code == 0, err
    ev = json.loads(out)
    # evaluated on its own development data: apparent C and Brier equal the fit's, recalibration is ideal
    assert_allclose(ev["c"], fit["c"], rtol=1e-10)
    assert_allclose(ev["brier"], fit["brier"], rtol=1e-8)
    assert_allclose(ev["slope"], 1.0, atol=1e-6)


@pytest.mark.parametrize("method", ["intercept", "logistic", "refit"])
def test_evaluate_published_model_with_recalibration(capsys, tmp_path, method):
    run(capsys, "datasets", "export", "pmdm-external", tmp_path / "ext.csv")
    new = tmp_path / f"recal-{method}.json"
    code, out, err = run(capsys, "evaluate", tmp_path / "ext.csv", "-y", "nonresponse", "--model", "pmdm-noninvasive",
                         "--recalibrate", method, "--save", new, "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["model"]["status"] == "reconstructed"
    spec = load_spec(new)
    assert spec.lineage[-1]["step"] == f"recalibrate:{method}"
    assert spec.lineage[-1]["parent"] == "pmdm-noninvasive" or "pmdm-noninvasive" in json.dumps(spec.lineage[-1])
    # after intercept updating, calibration-in-the-large on the same data is 0
    if method == "intercept":
        code, out, _ = run(capsys, "evaluate", tmp_path / "ext.csv", "-y", "nonresponse", "--model", new, "--json")
        assert abs(json.loads(out)["citl"]) < 1e-6


def test_models_list(capsys):
    code, out, _ = run(capsys, "models", "--json")
    assert code == 0
    assert {m["name"] for m in json.loads(out)["models"]} == {"redmi", "pmdm-noninvasive", "pmdm-comprehensive"}


@pytest.mark.parametrize("ext", [".csv", ".xlsx"])
def test_predict_output_neutralises_formulas_but_keeps_numbers(capsys, tmp_path, ext):
    """A text cell of the input that a spreadsheet would run (``=HYPERLINK(…)``) is written with a
    leading quote, in CSV and in XLSX (openpyxl stores ``=…`` text as a formula); numbers, negative
    ones included, are written unchanged."""
    src = tmp_path / "c.csv"
    src.write_text("id,note,anti_tif1g,alopecia,gi_vas,delta\n"
                   'p1,"=HYPERLINK(""http://x"",""y"")",1,0,3.5,-2.5\n'
                   "p2,@SUM(A1),0,1,0,-0.5\n"
                   "p3,-3,0,0,1.25,1\n", encoding="utf-8")
    out = tmp_path / f"scored{ext}"
    code, _, err = run(capsys, "predict", "--model", "redmi", "--input", src, "--output", out)
    assert code == 0, err
    scored = pd.read_csv(out, dtype={"note": str}) if ext == ".csv" else pd.read_excel(out, dtype={"note": str})
    assert scored["note"].tolist() == ["'=HYPERLINK(\"http://x\",\"y\")", "'@SUM(A1)", "-3"]
    assert scored["delta"].tolist() == [-2.5, -0.5, 1.0]
    assert scored["gi_vas"].tolist() == [3.5, 0.0, 1.25]
    if ext == ".xlsx":
        import openpyxl

        ws = openpyxl.load_workbook(out).active
        assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
