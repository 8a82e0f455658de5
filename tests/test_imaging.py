"""mSUVmax, MRI score and EMG summary: worked examples computed by hand (spec decisions 3-4)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from myorisk.errors import InputError
from myorisk.myositis.cohort import read_readings
from myorisk.myositis.imaging import (
    MRI_FEATURES,
    MRI_GROUPS,
    PET_MUSCLES,
    emg_abundant_sp,
    mri_score,
    msuvmax,
)

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data"


def pet_rows(pid="P1", drop=()):
    rows = []
    for m in PET_MUSCLES:
        for side in ("L", "R"):
            if (m, side) in drop:
                continue
            # 2 readers x 2 repeats: 1.0, 1.2, 1.4, 1.6 (mean 1.3); deltoid right 2.0 x 4
            vals = [2.0] * 4 if (m, side) == ("deltoid", "R") else [1.0, 1.2, 1.4, 1.6]
            for k, v in enumerate(vals):
                rows.append({"patient_id": pid, "site": m.replace("_", " ").title(),
                             "side": side, "reader": k // 2 + 1, "repeat": k % 2 + 1, "suv": v})
    for k, v in enumerate([2.0, 2.2, 2.4, 2.6]):  # liver mean 2.3
        rows.append({"patient_id": pid, "site": "liver", "side": None, "reader": k // 2 + 1,
                     "repeat": k % 2 + 1, "suv": v})
    return rows


def test_msuvmax_worked_example():
    # per-site means: 15 sites at 1.3, deltoid right 2.0 -> (15*1.3 + 2.0)/16 = 21.5/16 = 1.34375
    # liver 2.3 -> mSUVmax = 1.34375 / 2.3 = 0.584239130...
    r = msuvmax(pd.DataFrame(pet_rows())).table.iloc[0]
    assert r["muscle_suvmax_mean"] == pytest.approx(1.34375, rel=1e-12)
    assert r["liver_suv"] == pytest.approx(2.3, rel=1e-12)
    assert r["msuvmax"] == pytest.approx(1.34375 / 2.3, rel=1e-12)
    assert (r["n_sites"], r["n_readings"]) == (16, 64)


def test_msuvmax_missing_site():
    df = pd.DataFrame(pet_rows(drop={("psoas_major", "L")}))
    with pytest.raises(InputError, match="patient P1: no reading for psoas_major_left"):
        msuvmax(df)
    r = msuvmax(df, allow_missing=True).table.iloc[0]
    # 14 sites at 1.3 + 2.0 over 15 sites
    assert r["n_sites"] == 15 and r["missing_sites"] == "psoas_major_left"
    assert r["msuvmax"] == pytest.approx((14 * 1.3 + 2.0) / 15 / 2.3, rel=1e-12)


def test_msuvmax_bad_cells_name_rows():
    df = pd.DataFrame(pet_rows()[:3] + [{"patient_id": "P1", "site": "calf", "side": "L",
                                         "suv": 1.0}], index=[2, 3, 4, 5])
    df.loc[3, "suv"] = -1
    with pytest.raises(InputError) as exc:
        msuvmax(df, source="pet.csv")
    msg = str(exc.value)
    assert "row 3, column 'suv': -1 is out of range" in msg
    assert "row 5, column 'site': 'calf' is not one of" in msg


def mri_rows(pid="P1"):
    a = {"gluteal": [2, 0, 1, 0], "adductors": [1, 1, 0, 0], "hamstrings": [0, 0, 0, 0],
         "quadriceps": [3, 1, 2, 1]}
    b = {g: [1, 1, 1, 1] for g in MRI_GROUPS}
    b["quadriceps"] = [2, 1, 1, 1]
    rows = []
    for reader, grid in (("A", a), ("B", b)):
        for g, grades in grid.items():
            for f, x in zip(MRI_FEATURES, grades, strict=True):
                rows.append({"patient_id": pid, "reader": reader, "group": g, "feature": f,
                             "grade": x})
    return rows


@pytest.mark.parametrize(
    ("method", "expected", "per_reader"),
    [
        # group_max: A 2+1+0+3 = 6, B 1+1+1+2 = 5 -> 5.5
        ("group_max", 5.5, "6; 5"),
        # feature_max: A edema max(2,1,0,3)=3 + atrophy 1 + fascial 2 + subcut 1 = 7;
        # B 2+1+1+1 = 5 -> 6
        ("feature_max", 6.0, "7; 5"),
        # sum: A 3+2+0+7 = 12, B 17 -> 14.5
        ("sum", 14.5, "12; 17"),
    ],
)
def test_mri_score_worked_example(method, expected, per_reader):
    r = mri_score(pd.DataFrame(mri_rows()), method=method).table.iloc[0]
    assert r["mri_score"] == expected
    assert r["reader_scores"] == per_reader
    assert r["n_readers"] == 2


def test_mri_missing_cell_and_bad_grade():
    rows = mri_rows()[1:]
    with pytest.raises(InputError, match="reader A: gluteal/muscle_edema"):
        mri_score(pd.DataFrame(rows))
    r = mri_score(pd.DataFrame(rows), allow_missing=True).table.iloc[0]
    # A: gluteal max(0,1,0)=1 -> 1+1+0+3 = 5; B 5 -> 5
    assert r["mri_score"] == 5.0
    bad = pd.DataFrame(mri_rows(), index=range(2, 34)).astype({"grade": float})
    bad.loc[2, "grade"] = 4
    bad.loc[3, "grade"] = 1.5
    with pytest.raises(InputError) as exc:
        mri_score(bad, source="mri.csv")
    assert "row 2, column 'grade': 4 is out of range" in str(exc.value)
    assert "row 3, column 'grade': 1.5 is not a whole grade" in str(exc.value)


def test_emg_abundant_sp():
    df = pd.DataFrame([
        {"patient_id": "P1", "site": "deltoid", "rate": 2.0},  # exactly 2/s: abundant
        {"patient_id": "P1", "site": "biceps", "rate": 1.9},
        {"patient_id": "P1", "site": "quadriceps", "rate": 3.0},
        {"patient_id": "P2", "site": "deltoid", "rate": 2.5},
        {"patient_id": "P2", "site": "gastrocnemius", "rate": 1.5},  # two readers: mean 2.0
        {"patient_id": "P2", "site": "gastrocnemius", "rate": 2.5},
        {"patient_id": "P3", "site": "deltoid", "rate": 5.0},
    ])
    t = emg_abundant_sp(df).table.set_index("patient_id")
    assert t["emg_abundant_sp"].tolist() == [1, 1, 0]
    assert t.loc["P1", "n_abundant_sites"] == 2
    assert t.loc["P2", "n_sites"] == 2
    t3 = emg_abundant_sp(df, min_sites=3).table
    assert t3["emg_abundant_sp"].tolist() == [0, 0, 0]
    t1 = emg_abundant_sp(df, min_sites=1).table
    assert t1["emg_abundant_sp"].tolist() == [1, 1, 1]


def test_long_format_fixture_files():
    pet = read_readings(DATA / "pet_readings.csv")
    assert msuvmax(pet).table["patient_id"].tolist() == ["P001", "P002"]
    mri = read_readings(DATA / "mri_readings.csv")
    assert mri_score(mri).table["mri_score"].tolist() == [5.5, 0.0]
    emg = read_readings(DATA / "emg_readings.csv")
    assert emg_abundant_sp(emg).table["emg_abundant_sp"].tolist() == [1, 0]
