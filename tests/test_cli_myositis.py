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


def test_derive_reads_every_file_with_the_given_format(capsys, tmp_path):
    """``--sep/--decimal/--encoding`` apply to the readings files too, not only to the cohort: a
    European export (``;``, decimal commas, Windows-1252) derives exactly what the plain files do."""
    data = Path(__file__).parent / "data"
    euro = {}
    for name in ("cohort_study.csv", "pet_readings.csv", "mri_readings.csv", "emg_readings.csv"):
        df = pd.read_csv(data / name, dtype=str, keep_default_na=False)
        df = df.apply(lambda s: s.str.replace(".", ",", regex=False) if s.str.fullmatch(r"-?\d*\.\d+|").all() else s)
        euro[name] = tmp_path / name
        euro[name].write_bytes(df.to_csv(sep=";", index=False).encode("cp1252"))
    plain, european = tmp_path / "plain.csv", tmp_path / "euro.csv"
    assert _run(["derive", str(data / "cohort_study.csv"), "--pet", str(data / "pet_readings.csv"),
                 "--mri", str(data / "mri_readings.csv"), "--emg", str(data / "emg_readings.csv"),
                 "-o", str(plain)]) == 0
    assert _run(["derive", str(euro["cohort_study.csv"]), "--pet", str(euro["pet_readings.csv"]),
                 "--mri", str(euro["mri_readings.csv"]), "--emg", str(euro["emg_readings.csv"]),
                 "--sep", ";", "--decimal", ",", "--encoding", "cp1252", "-o", str(european)]) == 0
    a, b = pd.read_csv(plain), pd.read_csv(european)
    pd.testing.assert_frame_equal(a, b)
    assert a["msuvmax"].notna().any()
    # and the option reaches the readings file: a comma-separated readings file read with --sep ';'
    # is one column, so its columns are not found
    code = _run(["derive", str(euro["cohort_study.csv"]), "--pet", str(data / "pet_readings.csv"),
                 "--sep", ";", "--decimal", ",", "-o", str(tmp_path / "x.csv")])
    assert code == 2
    assert "pet_readings.csv" in capsys.readouterr().err
