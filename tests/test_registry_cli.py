"""``myorisk registry`` on SQLite and PostgreSQL: init, users (password on stdin), tokens, import of
a cohort file and of a REDCap export, export that gives back every value, monitor --json equal to
``myorisk evaluate`` on the export, backup and restore."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from myorisk.myositis.cohort import load

pytestmark = [pytest.mark.cli, pytest.mark.db]
DATASETS = Path(__file__).parents[1] / "src" / "myorisk" / "datasets"
SRC = str(Path(__file__).parents[1] / "src")


def run(*args: str, stdin: str | None = None, ok: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC}
    r = subprocess.run([sys.executable, "-m", "myorisk", *args], input=stdin, capture_output=True,
                       text=True, env=env, timeout=300)
    if ok:
        assert r.returncode == 0, r.stderr
    return r


@pytest.fixture
def cohort(tmp_path: Path) -> Path:
    """The first 80 patients of the synthetic ReDMI cohort (keeps the test quick)."""
    path = tmp_path / "redmi-80.csv"
    lines = (DATASETS / "redmi-cohort.csv").read_text().splitlines()[:81]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def filled(db_url: str, tmp_path: Path, cohort: Path) -> tuple[str, Path]:
    run("registry", "init", "--db", db_url)
    run("registry", "user", "add", "root", "--role", "admin", "--db", db_url, stdin="pw-admin-123\n")
    r = run("registry", "import", str(cohort), "--site", "INCMNSZ", "--db", db_url, "--json")
    assert json.loads(r.stdout)["created"] == 80
    r = run("registry", "import", str(cohort), "--site", "INCMNSZ", "--db", db_url,
            "--json")  # again: nothing twice
    assert json.loads(r.stdout) == {"source": "redmi-80.csv", "site": "INCMNSZ", "rows": 80,
                                    "created": 0, "already_present": 80, "followups": 0}
    return db_url, tmp_path


@pytest.mark.slow
def test_round_trip_and_monitor_equals_evaluate(filled: tuple[str, Path], cohort: Path) -> None:
    db, tmp = filled
    out = tmp / "export.csv"
    run("registry", "export", "--out", str(out), "--db", db)
    src = load(cohort).data.set_index("patient_id")
    back = load(out).data.set_index("patient_id")
    assert set(back.index) == set(src.index)
    for col in src.columns:  # every value comes back
        a, b = src[col], back.loc[src.index, col]
        if pd.api.types.is_numeric_dtype(a):
            np.testing.assert_allclose(a.astype(float), b.astype(float), rtol=0, atol=0,
                                       err_msg=col)
        else:
            assert a.astype(str).tolist() == b.astype(str).tolist(), col
    plot = tmp / "monitor.png"
    mon = json.loads(run("registry", "monitor", "--model", "redmi", "--db", db, "--json",
                         "--plot", str(plot)).stdout)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ev = json.loads(run("evaluate", str(out), "--outcome", "refractory", "--prob", "prob_redmi",
                        "--json").stdout)
    evm = json.loads(run("evaluate", str(out), "--outcome", "refractory", "--model", "redmi",
                         "--json").stdout)
    assert mon["n"] == ev["n"] == evm["n"] == 80 and mon["events"] == ev["events"]
    assert mon["c"]["estimate"] == ev["auc"]["auc"] == evm["auc"]["auc"]
    assert (mon["c"]["low"], mon["c"]["high"]) == (ev["auc"]["ci_low"], ev["auc"]["ci_high"])
    assert mon["citl"]["estimate"] == ev["citl"] and mon["slope"]["estimate"] == ev["slope"]
    assert mon["intercept"] == ev["intercept"] and mon["brier"] == ev["brier"]
    assert mon["oe"]["estimate"] == pytest.approx(ev["events"] / sum(
        pd.read_csv(out)["prob_redmi"]), rel=1e-12)
    assert set(mon) >= {"n", "events", "oe", "citl", "slope", "c"}
    assert all(set(mon[k]) >= {"estimate", "low", "high"} for k in ("oe", "citl", "slope", "c"))


@pytest.mark.slow
def test_backup_and_restore(filled: tuple[str, Path]) -> None:
    db, tmp = filled
    bk = tmp / "registry.backup"
    run("registry", "backup", "--out", str(bk), "--db", db)
    before = tmp / "before.csv"
    run("registry", "export", "--out", str(before), "--db", db)
    if db.startswith("postgresql"):
        from registry_support import new_pg_database

        target = new_pg_database(db.rsplit("/", 1)[0])
    else:
        target = str(tmp / "restored.db")
    run("registry", "restore", str(bk), "--db", target)
    r = run("registry", "restore", str(bk), "--db", target, ok=False)
    assert r.returncode == 2 and "--force" in r.stderr and "Traceback" not in r.stderr
    run("registry", "restore", str(bk), "--db", target, "--force")
    after = tmp / "after.csv"
    run("registry", "export", "--out", str(after), "--db", target)
    assert before.read_text() == after.read_text()


def test_users_tokens_and_errors(tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    r = run("registry", "token", "root", "--db", db, ok=False)
    assert r.returncode == 2 and "registry init" in r.stderr
    run("registry", "init", "--db", db)
    r = run("registry", "user", "add", "ann", "--role", "clinician", "--db", db,
            stdin="pw-ann-1234\n", ok=False)
    assert r.returncode == 2 and "--site" in r.stderr
    run("registry", "user", "add", "ann", "--role", "clinician", "--site", "Qingdao", "--db", db,
        stdin="pw-ann-1234\n")
    r = run("registry", "user", "add", "x", "--role", "boss", "--db", db, stdin="pw-long-123\n",
            ok=False)
    assert r.returncode == 2 and "admin, clinician, researcher" in r.stderr
    token = run("registry", "token", "ann", "--db", db).stdout.strip()
    assert token.startswith("myo_") and len(token) > 40
    users = json.loads(run("registry", "user", "list", "--db", db, "--json").stdout)["users"]
    assert users == [{"name": "ann", "role": "clinician", "site": "Qingdao", "active": True}]
    assert "pw-ann-1234" not in Path(db).read_bytes().decode("latin-1")  # only the Argon2 hash


def test_import_redcap_export(tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    run("registry", "init", "--db", db)
    dd = tmp_path / "dict.csv"
    dd.write_text(
        "Variable / Field Name,Form Name,Field Type,Field Label,\"Choices, Calculations, OR Slider Labels\"\n"
        "record_id,base,text,ID,\n"
        "sex,base,radio,Sex,\"1, female | 2, male\"\n"
        "anti_tif1g,base,yesno,TIF1g,\n"
        "alopecia,base,yesno,Alopecia,\n"
        "gi_vas,base,text,GI VAS,\n"
        "refractory,fu,yesno,Refractory,\n")
    data = tmp_path / "export.csv"
    data.write_text("record_id,sex,anti_tif1g,alopecia,gi_vas,refractory\n"
                    "R1,1,1,0,3.5,1\nR2,2,0,1,0,0\nR3,1,0,0,1.5,\n")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  patient_id: record_id\n")
    r = run("registry", "import", str(data), "--redcap-dictionary", str(dd), "--mapping",
            str(mapping), "--site", "S1", "--db", db, "--json")
    assert json.loads(r.stdout)["created"] == 3 and json.loads(r.stdout)["followups"] == 2
    out = tmp_path / "out.csv"
    run("registry", "export", "--out", str(out), "--db", db)
    back = pd.read_csv(out).set_index("patient_id")
    assert back.loc["R1", "sex"] == "female" and back.loc["R2", "sex"] == "male"
    assert back.loc["R1", "refractory"] == 1 and np.isnan(back.loc["R3", "refractory"])
    assert back["prob_redmi"].notna().all()
