"""Cohort files: readers, mapping, checks, derive, atomic writing, CSV/XLSX/SAV/DTA round trip."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from openpyxl import Workbook

from myorisk.errors import InputError
from myorisk.myositis import cohort
from myorisk.myositis.io import (
    coerce_numeric,
    read_data,
    read_mapping,
    read_redcap,
    read_table,
    write_table,
)

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data"


# --------------------------------------------------------------------------- the bad file
def test_bad_file_one_line_per_problem():
    path = DATA / "cohort_bad.csv"
    report = cohort.check(read_table(path), "cohort_bad.csv")
    assert report.lines() == [
        "cohort_bad.csv: row 3, column 'age': 'abc' is not a number",
        "cohort_bad.csv: row 4, column 'sex': 'unknown' is not a known category "
        "(expected female, male)",
        "cohort_bad.csv: row 5, column 'pga_bl': '12' is out of range 0-10",
        "cohort_bad.csv: row 6, column 'patient_id': 'P01' is a duplicate patient_id "
        "(first at row 2)",
        "cohort_bad.csv: row 7, column 'biopsy_necrosis': '1' is a biopsy finding but "
        "biopsy_done is 0 (no biopsy)",
    ]
    assert not report.ok
    assert [(p.row, p.column) for p in report.errors] == [
        (3, "age"), (4, "sex"), (5, "pga_bl"), (6, "patient_id"), (7, "biopsy_necrosis")]
    frame = report.to_frame()
    assert list(frame.columns) == ["row", "column", "value", "rule", "severity"]
    d = report.to_dict()
    assert d["n_errors"] == 5 and d["n_rows"] == 6


def test_load_raises_all_errors_and_nothing_is_written(tmp_path):
    out = tmp_path / "out.csv"
    with pytest.raises(InputError) as exc:
        data = cohort.load(DATA / "cohort_bad.csv").data  # what `derive` runs first
        write_table(cohort.derive(data), out)
    lines = str(exc.value).splitlines()
    assert len(lines) == 5
    assert all(line.startswith(str(DATA / "cohort_bad.csv") + ": row ") for line in lines)
    assert not out.exists()


def test_missing_data_report():
    report = cohort.check(read_table(DATA / "cohort_bad.csv"), "c.csv")
    m = report.missing.set_index("variable")
    assert m.loc["biopsy_necrosis", "n_missing"] == 1
    assert m.loc["biopsy_necrosis", "pct_missing"] == pytest.approx(100 / 6)
    assert m.loc["age", "n_missing"] == 0  # 'abc' is present, just wrong


def test_cross_field_dates_and_missing_id(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("patient_id,date_bl,date_fu,biopsy_done,bx_endomysial\n"
                 "A,2021-03-01,2021-02-01,,1\n"
                 ",2021-03-01,2021-04-01,1,0\n"
                 "C,2021-03-01,03/04/2021x,1,1\n")
    report = cohort.check(read_table(p), "d.csv")
    assert report.lines() == [
        "d.csv: row 2, column 'date_fu': '2021-02-01' is before date_bl (2021-03-01): "
        "follow-up cannot precede baseline",
        "d.csv: row 2, column 'bx_endomysial': warning: '1' is a biopsy finding but "
        "biopsy_done is missing",
        "d.csv: row 3, column 'patient_id': missing (every row needs a patient_id)",
        "d.csv: row 4, column 'date_fu': '03/04/2021x' is not a date (use YYYY-MM-DD)",
    ]
    assert len(report.errors) == 3


def test_mmt8_range_follows_declared_scale(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("patient_id,mmt8_bl,mmt8_max\nA,120,150\nB,120,\n")
    lines = cohort.check(read_table(p), "m.csv").lines()
    assert lines == ["m.csv: row 3, column 'mmt8_bl': '120' is out of range 0-80 "
                     "(declare mmt8_max = 150 for the 0-150 scale)"]
    ok = cohort.check(read_table(p), "m.csv", mapping={"options": {"mmt8_max": 150},
                                                       "columns": {}})
    assert ok.ok


# --------------------------------------------------------------------------- mapping
@pytest.mark.parametrize("mapping", ["mapping.yaml", "mapping.csv"])
def test_mapping_file_renames_recodes_and_reports(mapping):
    c = cohort.load(DATA / "cohort_user.csv", mapping=DATA / mapping)
    d = c.data
    assert d["patient_id"].tolist() == ["007", "008", "009"]  # leading zeros kept
    assert d["sex"].tolist() == ["female", "male", "female"]
    assert d["heliotrope"].tolist() == [1, 0, 1]  # yes/no accepted for 0/1
    assert d["biopsy_done"].tolist() == [1, 0, 0]  # "Biopsy done" matched automatically
    assert d["ck"].iloc[2] == 345.5 and np.isnan(d["ck"].iloc[1])
    mapped = {m.canonical: (m.user_column, m.how) for m in c.report.mapped}
    assert mapped["patient_id"] == ("Study ID", "mapping")
    assert mapped["age"] == ("Age", "auto")
    assert mapped["biopsy_done"] == ("Biopsy done", "auto")
    assert [m.recoded for m in c.report.mapped if m.canonical == "sex"] == [3]
    assert c.report.unmapped == ("Notes",)
    assert list(d.index) == [2, 3, 4]


def test_mapping_errors():
    df = read_table(DATA / "cohort_user.csv")
    with pytest.raises(InputError, match="columns not found in c.csv: 'Sex' \\(for sex\\)"):
        cohort.check(df, "c.csv", mapping={"sex": "Sex"})
    with pytest.raises(InputError, match="not canonical variable names: gender"):
        cohort.check(df, "c.csv", mapping={"gender": "Gender"})
    with pytest.raises(InputError, match="mapped to more than one"):
        cohort.check(df, "c.csv", mapping={"age": "Age", "age_onset": "Age"})
    m = read_mapping(DATA / "mapping.yaml")
    assert m.columns["ck"] == "CK (IU/L)" and m.recodes["sex"] == {"F": "female", "M": "male"}


# --------------------------------------------------------------------------- readers
def test_redcap_export_with_dictionary():
    df = read_redcap(DATA / "redcap_data.csv", DATA / "redcap_dictionary.csv")
    assert df["sex"].tolist() == ["female", "male", "3"]  # unknown code kept for the check
    assert df["subtype"].iloc[:2].tolist() == ["DM", "PM"] and pd.isna(df["subtype"].iloc[2])
    assert df["heliotrope"].tolist() == [1, 0, 0]
    c = cohort.check(df, "redcap.csv", mapping={"patient_id": "record_id"})
    assert c.lines() == ["redcap.csv: row 4, column 'sex': '3' is not a known category "
                         "(expected female, male)"]


def test_csv_row_numbers_skip_blank_lines_and_semicolons(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("patient_id;age\n\nA;50\n\nB;x\n")
    df = read_table(p)
    assert list(df.index) == [3, 5]
    with pytest.raises(InputError, match=r"^.*s\.csv: row 5, column 'age': 'x' is not a number$"):
        coerce_numeric(df, ["age"], str(p))


def test_coerce_numeric_lists_every_bad_cell():
    df = pd.DataFrame({"age": ["50", "abc", "61", "?"], "x": [1, 2, 3, 4]},
                      index=[2, 3, 4, 5])
    with pytest.raises(InputError) as exc:
        coerce_numeric(df, ["age", "x"], "cohort.csv")
    # one rule broken in several rows: one line with the count and each row's value
    assert str(exc.value) == ("cohort.csv: column 'age': 'abc' is not a number — in 2 rows "
                              "(row 3: 'abc', row 5: '?')")
    assert [(p.row, p.column, p.value) for p in exc.value.problems] == [(3, "age", "abc"),
                                                                         (5, "age", "?")]
    with pytest.raises(InputError, match="column 'nope' not found"):
        coerce_numeric(df, ["nope"], "cohort.csv")
    ok = coerce_numeric(df.loc[[2, 4]], ["age"], "cohort.csv")
    assert ok["age"].dtype == float and ok["age"].tolist() == [50.0, 61.0]


def test_xlsx_index_is_the_sheet_row(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append([])  # sheet row 1 empty
    ws.append(["patient_id", "age"])  # header on row 2
    ws.append(["A", 50])
    ws.append([])
    ws.append(["B", "abc"])
    wb.save(tmp_path / "x.xlsx")
    df = read_data(tmp_path / "x.xlsx")
    assert list(df.index) == [3, 5]
    report = cohort.check(df, "x.xlsx")
    assert report.lines() == ["x.xlsx: row 5, column 'age': 'abc' is not a number"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("none.csv", None, "file not found"),
        ("empty.csv", b"", "file is empty"),
        ("blank.csv", b"\n\n  \n", "file is empty"),
        ("paper.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "is a PDF document, not a table"),
        ("noise.csv", bytes(range(256)) * 4, "is a binary file, not a text table"),
        ("book.csv", b"PK\x03\x04" + b"\x14" * 40, "is a ZIP/XLSX file"),
        ("data.json", b"{}", "unsupported file type '.json'"),
        ("dup.csv", b"a,b,a\n1,2,3\n", "duplicate column name 'a' \\(columns 1 and 3\\)"),
        ("long.csv", b"a,b\n1,2,3\n", "row 2 has 3 cells but the header has 2 columns"),
        ("fake.xlsx", b"not a workbook", "is not an XLSX workbook"),
        ("fake.sav", b"not spss at all", "is not a readable SPSS .sav file"),
        ("fake.dta", b"not stata at all", "is not a readable Stata .dta file"),
    ],
)
def test_unreadable_files_name_the_file(tmp_path, name, content, message):
    p = tmp_path / name
    if content is not None:
        p.write_bytes(content)
    with pytest.raises(InputError, match=message) as exc:
        read_table(p)
    assert str(exc.value).startswith(str(p))


# --------------------------------------------------------------------------- round trip
def _reference() -> pd.DataFrame:
    return pd.DataFrame({
        "patient_id": ["P1", "P2", "P3", "P4"],
        "sex": ["female", "male", "male", None],
        "age": [54, 61, 47, 70],
        "ck": [1200.5, np.nan, 345.0, 80.25],
        "heliotrope": [1.0, 0.0, np.nan, 1.0],
        "date_bl": ["2021-03-04", "2021-05-10", None, "2022-01-31"],
    })


def test_round_trip_csv_xlsx_sav_dta_identical(tmp_path):
    ref = _reference()
    write_table(ref, tmp_path / "c.csv")
    write_table(ref, tmp_path / "c.xlsx")
    sav = ref.assign(sex=ref["sex"].map({"female": 1, "male": 2}))
    pyreadstat.write_sav(sav, tmp_path / "c.sav",
                         variable_value_labels={"sex": {1: "female", 2: "male"}})
    pyreadstat.write_dta(ref.assign(sex=ref["sex"].fillna(""),
                                    date_bl=ref["date_bl"].fillna("")), tmp_path / "c.dta")
    frames = {ext: read_table(tmp_path / f"c.{ext}") for ext in ("csv", "xlsx", "sav", "dta")}
    assert list(frames["csv"].index) == [2, 3, 4, 5]   # header = line 1
    assert list(frames["xlsx"].index) == [2, 3, 4, 5]  # sheet rows
    assert list(frames["sav"].index) == [1, 2, 3, 4]   # case numbers
    assert list(frames["dta"].index) == [1, 2, 3, 4]
    base = frames["csv"].reset_index(drop=True)
    assert base["age"].dtype == np.int64 and base["heliotrope"].dtype == float
    for ext, df in frames.items():
        pd.testing.assert_frame_equal(df.reset_index(drop=True), base, check_exact=True,
                                      obj=ext)
    # and the checked cohorts are identical too
    loaded = [cohort.load(tmp_path / f"c.{ext}").data.reset_index(drop=True) for ext in frames]
    for other in loaded[1:]:
        pd.testing.assert_frame_equal(other, loaded[0], check_exact=True)


# --------------------------------------------------------------------------- derive
def test_derive_adds_instruments_and_keeps_every_row():
    c = cohort.load(DATA / "cohort_study.csv")
    pet = cohort.read_readings(DATA / "pet_readings.csv")
    mri = cohort.read_readings(DATA / "mri_readings.csv")
    emg = cohort.read_readings(DATA / "emg_readings.csv")
    out = cohort.derive(c.data, pet=pet, mri=mri, emg=emg, source=c.source)
    assert list(out.index) == list(c.data.index) == [2, 3, 4]
    assert out.columns[: len(c.data.columns)].tolist() == c.data.columns.tolist()
    d = out.set_index("patient_id")
    # P001: 2.1+3.1+0.7+0.8+1.3 = 8.0 definite DM; TIS pga 10->5 (20) + ptga 10->5 (10) = 30
    assert (d.loc["P001", "eular_score"], d.loc["P001", "eular_subgroup"]) == (8.0, "DM")
    assert (d.loc["P001", "tis"], d.loc["P001", "nonresponse"]) == (30.0, 0)
    # P002 (biopsy): 2.2+3.8+1.4+0.5+1.9 = 9.8 definite PM; TIS pga 10->9 (10%: 7.5)
    assert (d.loc["P002", "eular_score"], d.loc["P002", "eular_variant"]) == (9.8, "with biopsy")
    assert d.loc["P002", "eular_subgroup"] == "PM"
    assert (d.loc["P002", "tis"], d.loc["P002", "nonresponse"]) == (7.5, 1)
    # P003: haq_fu missing -> incomplete, 0 + at most 10 < 20 -> non-response still certain
    assert not d.loc["P003", "tis_complete"] and d.loc["P003", "nonresponse"] == 1
    # 2.1 + 1.9 + 1.3 = 5.3: possible, biopsy recommended (no rash, no biopsy)
    assert d.loc["P003", "eular_category"] == "possible IIM"
    assert d.loc["P003", "biopsy_recommended"]
    assert d.loc["P001", "msuvmax"] == pytest.approx(1.34375 / 2.3)
    assert pd.isna(d.loc["P003", "msuvmax"])  # no PET readings: missing, row kept
    assert d.loc["P001", "mri_score"] == 5.5 and d.loc["P001", "emg_abundant_sp"] == 1
    assert "TIS: no enzyme ULN columns, so CK is the enzyme measure (study A)" in (
        out.attrs["derived"]["notes"])


def test_derive_never_overwrites_and_writes_atomically(tmp_path):
    data = cohort.load(DATA / "cohort_study.csv").data.assign(nonresponse=[1, 1, 1])
    out = cohort.derive(data)
    assert out["nonresponse"].tolist() == [1, 1, 1]
    assert any("'nonresponse' is already in the data" in n for n in out.attrs["derived"]["notes"])
    for ext in ("csv", "xlsx"):
        target = tmp_path / f"derived.{ext}"
        write_table(out, target)
        back = read_table(target)
        assert len(back) == 3 and "tis" in back.columns
    assert sorted(p.name for p in tmp_path.iterdir()) == ["derived.csv", "derived.xlsx"]
    with pytest.raises(InputError, match="can only write"):
        write_table(out, tmp_path / "x.sav")
    with pytest.raises(InputError, match="does not exist"):
        write_table(out, tmp_path / "nope" / "x.csv")


def test_derive_leaves_a_cohort_without_instrument_columns_unchanged(tmp_path):
    shutil.copy(DATA / "cohort_user.csv", tmp_path / "u.csv")
    c = cohort.load(tmp_path / "u.csv", mapping=DATA / "mapping.yaml")
    out = cohort.derive(c.data)
    pd.testing.assert_frame_equal(out, c.data)
    assert out.attrs["derived"]["added"] == []


def test_reports_are_json_ready():
    import json

    report = cohort.check(read_table(DATA / "cohort_bad.csv"), "c.csv")
    d = json.loads(json.dumps(report.to_dict()))
    assert d["problems"][0] == {"row": 3, "column": "age", "value": "abc",
                                "rule": "is not a number", "severity": "error"}
