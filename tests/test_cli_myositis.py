"""Myositis commands through the CLI: check, derive, criteria, tis (issue 4's must-show file)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from myorisk.cli import _run

pytestmark = pytest.mark.cli

DATA = Path(__file__).parent / "data"


def run(capsys, *args):
    code = _run([str(a) for a in args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_bad_cohort_one_line_per_problem_and_nothing_written(capsys, tmp_path):
    out = tmp_path / "derived.csv"
    code, _, err = run(capsys, "derive", DATA / "cohort_bad.csv", "-o", out)
    assert code == 2
    assert not out.exists()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 5
    assert "row 3, column 'age'" in lines[0]
    assert "row 4, column 'sex'" in lines[1]
    assert "row 5, column 'pga_bl'" in lines[2]
    assert "row 6, column 'patient_id'" in lines[3] and "duplicate" in lines[3]
    assert "row 7, column 'biopsy_necrosis'" in lines[4] and "biopsy" in lines[4]
    assert "Traceback" not in err


def test_check_exit_codes(capsys):
    code, out, _ = run(capsys, "check", DATA / "cohort_bad.csv", "--json")
    assert code == 2
    rep = json.loads(out)
    assert rep["n_errors"] == 5
    code, out, _ = run(capsys, "check", DATA / "cohort_study.csv", "--json")
    assert code == 0 and json.loads(out)["ok"] is True


def test_derive_keeps_every_row(capsys, tmp_path):
    out = tmp_path / "derived.csv"
    code, _, err = run(capsys, "derive", DATA / "cohort_study.csv", "-o", out)
    assert code == 0, err
    src = pd.read_csv(DATA / "cohort_study.csv")
    res = pd.read_csv(out)
    assert len(res) == len(src)
    assert {"eular_score", "tis", "nonresponse"} <= set(res.columns)


def test_criteria_and_tis_json(capsys):
    code, out, err = run(capsys, "criteria", DATA / "cohort_study.csv", "--json")
    assert code == 0, err
    rows = json.loads(out)["rows"]
    assert {"patient_id", "score", "probability", "category", "subgroup", "biopsy"} <= set(rows[0])
    code, out, err = run(capsys, "tis", DATA / "cohort_study.csv", "--enzyme", "ck", "--allow-missing", "--json")
    assert code == 0, err
    rows = json.loads(out)["rows"]
    assert set(rows[0]["points"]) == {"pga", "ptga", "mmt8", "haq", "enzyme", "extramuscular"}
