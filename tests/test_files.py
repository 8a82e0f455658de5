"""Issue 11, "Files and the command line": one reader (separator, decimal mark, encoding), one
vocabulary of accepted codes, structured problems, predict on incomplete rows, and the smaller
items (100%-missing column, 1/2 outcome, did-you-mean, criteria/tis wording)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from myorisk.cli import _run
from myorisk.codes import DEFAULT, harmonise
from myorisk.datasets import load_dataset
from myorisk.errors import InputError, Problem, word_problems
from myorisk.myositis import cohort
from myorisk.myositis.io import read_mapping, read_table, read_table_bytes, write_table

pytestmark = pytest.mark.unit

BOM = b"\xef\xbb\xbf"


def run(capsys, *args: object) -> tuple[int, str, str]:
    code = _run([str(a) for a in args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def one_error(code: int, err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith("myorisk: error: ") and "Traceback" not in err
    return lines[0]


@pytest.fixture()
def train() -> pd.DataFrame:
    return load_dataset("pmdm-train").reset_index(drop=True)


@pytest.fixture()
def files(tmp_path, train) -> dict[str, Path]:
    """The same cohort as plain CSV, European CSV, GBK CSV (Chinese sex words), M/F codes."""
    out = {"plain": tmp_path / "plain.csv", "eu": tmp_path / "eu.csv", "gbk": tmp_path / "gbk.csv",
           "mf": tmp_path / "mf.csv"}
    train.to_csv(out["plain"], index=False)
    train.to_csv(out["eu"], sep=";", decimal=",", index=False)
    g = train.assign(sex=train["sex"].map({"male": "男", "female": "女"}), centre="青岛")
    g.to_csv(out["gbk"], index=False, encoding="gbk")
    train.assign(sex=train["sex"].map({"male": "M", "female": "F"})).to_csv(out["mf"], index=False)
    return out


# --------------------------------------------------------------------------- separators, decimals
def test_european_csv_reads_as_numbers(files):
    plain, eu = read_table(files["plain"]), read_table(files["eu"])
    assert eu.attrs["read"] == {"sep": ";", "decimal": ",", "encoding": "utf-8"}
    assert list(eu.columns) == list(plain.columns)
    for c in ("ck", "msuvmax", "mri_score"):
        assert eu[c].dtype == float
        np.testing.assert_array_equal(eu[c].to_numpy(), plain[c].to_numpy())


@pytest.mark.cli
@pytest.mark.parametrize("args", [
    ("univariate", "-y", "nonresponse", "-x", "sex,age,ck,msuvmax"),
    ("table1", "--by", "nonresponse", "--variables", "sex,age,ck,msuvmax"),
    ("fit", "-y", "nonresponse", "-x", "sex,msuvmax,ck"),
])
def test_every_command_gives_the_same_answer_on_european_gbk_and_mf_files(capsys, files, args):
    cmd, *rest = args
    answers = {}
    for kind, path in files.items():
        code, out, err = run(capsys, cmd, path, *rest, "--json")
        assert code == 0, (kind, err)
        answers[kind] = json.loads(out)
    assert answers["eu"] == answers["plain"]
    assert answers["gbk"] == answers["plain"]
    assert answers["mf"] == answers["plain"]


@pytest.mark.cli
def test_check_notes_how_a_file_was_read(capsys, files):
    code, _, err = run(capsys, "check", files["eu"])
    assert code == 0
    assert "read as semicolon-separated, decimal comma" in err
    code, _, err = run(capsys, "check", files["gbk"])
    assert code == 0 and "encoding gb18030" in err


def test_semicolons_and_decimal_commas_vs_thousands(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("id;x;y\n1;1,5;2,3\n2;0,534;7\n")
    t = read_table(f)
    assert t["x"].tolist() == [1.5, 0.534] and t["y"].tolist() == [2.3, 7.0]
    # only '1,234'-like cells: decimal comma or US thousands? never guess
    f.write_text("id;x\n1;1,234\n2;2,500\n")
    with pytest.raises(InputError, match=r"'1,234' could be a decimal comma or a thousands "
                                         r"separator; give --decimal"):
        read_table(f)
    assert read_table(f, decimal=",")["x"].tolist() == [1.234, 2.5]
    # both marks in one file: refuse, naming both cells
    f.write_text("id;x;y\n1;1,5;2.5\n")
    with pytest.raises(InputError, match=r"decimal commas \(row 2, column 'x': '1,5'\) and with "
                                         r"decimal points \(row 2, column 'y': '2.5'\)"):
        read_table(f)
    # both marks in one cell are never ambiguous: 1.234,5 (European)
    f.write_text("id;x\n1;1.234,5\n2;3,5\n")
    assert read_table(f)["x"].tolist() == [1234.5, 3.5]


def test_comma_separated_file_whose_text_holds_semicolons(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text('id,note,x\n1,"a; b; c",1.5\n2,"d;e",2\n3,plain,3\n')
    t = read_table(f)
    assert t.attrs["read"]["sep"] == ","
    assert t["note"].tolist() == ["a; b; c", "d;e", "plain"]
    assert t["x"].tolist() == [1.5, 2.0, 3.0]


def test_numeric_looking_column_that_cannot_be_read_is_one_line(tmp_path, capsys):
    f = tmp_path / "c.csv"
    f.write_text('id,age,dose\n1,50,"2,5"\n2,60,3\n3,70,4\n')
    with pytest.raises(InputError) as e:
        read_table(f)
    msg = str(e.value)
    assert msg.startswith(f"{f}: column 'dose' looks like numbers") and "--decimal ','" in msg
    assert [(p.row, p.column, p.value) for p in e.value.problems] == [(2, "dose", "2,5")]
    line = one_error(*run(capsys, "fit", f, "-y", "age", "-x", "dose")[::2])
    assert "c.csv: column 'dose' looks like numbers" in line


def test_sep_and_decimal_options(tmp_path, capsys):
    f = tmp_path / "p.txt"
    f.write_text("a|b\n1|2,5\n2|3,5\n")
    t = read_table(f, sep="|", decimal="comma")
    assert t["b"].tolist() == [2.5, 3.5]
    assert one_error(*run(capsys, "univariate", f, "-y", "a", "-x", "b", "--sep", "x")[::2]) \
        .endswith("--sep must be one of , ; tab | (or auto), not 'x'")


# --------------------------------------------------------------------------- encodings
def test_gbk_file_is_read_as_chinese_not_latin1(files):
    t = read_table(files["gbk"])
    assert t.attrs["read"]["encoding"] == "gb18030"
    assert set(t["sex"]) == {"男", "女"} and set(t["centre"]) == {"青岛"}


@pytest.mark.parametrize(("encoding", "expected"), [
    ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("cp1252", "cp1252"),
    ("gb18030", "gb18030"), ("utf-8", "utf-8")])
def test_encodings_detected(tmp_path, encoding, expected):
    f = tmp_path / "e.csv"
    text = "patient_id,Âge,centre\nP1,50,Müller\nP2,60,Größe Straße\n"
    if encoding == "gb18030":
        text = "patient_id,年龄,中心\nP1,50,青岛\nP2,60,聊城\n"
    f.write_bytes(text.encode(encoding))
    t = read_table(f)
    assert t.attrs["read"]["encoding"] == expected
    assert list(t.columns)[1] in ("Âge", "年龄")
    assert t.iloc[:, 2].tolist() in (["Müller", "Größe Straße"], ["青岛", "聊城"])


def test_unclear_encoding_is_refused_not_guessed(tmp_path, capsys):
    f = tmp_path / "u.csv"
    # 'Größe' alone reads as Western text and as two Chinese characters alike
    f.write_bytes("id,x\nGröße,1\n".encode("cp1252"))
    with pytest.raises(InputError, match=r"cannot tell the text encoding.*give --encoding"):
        read_table(f)
    assert read_table(f, encoding="cp1252")["id"].tolist() == ["Größe"]
    line = one_error(*run(capsys, "fit", f, "-y", "x", "-x", "id", "--encoding", "klingon")[::2])
    assert "--encoding: unknown encoding 'klingon'" in line
    f.write_bytes("id,x\n青岛,1\n".encode("gbk"))
    line = one_error(*run(capsys, "fit", f, "-y", "x", "-x", "id", "--encoding", "utf-8")[::2])
    assert "line 2 is not valid utf-8-sig text" in line


def test_written_csvs_carry_a_utf8_bom(tmp_path, capsys, files, train):
    write_table(train.head(3), tmp_path / "w.csv")
    assert (tmp_path / "w.csv").read_bytes().startswith(BOM)
    assert run(capsys, "datasets", "export", "pmdm-train", tmp_path / "d.csv")[0] == 0
    assert (tmp_path / "d.csv").read_bytes().startswith(BOM)
    assert read_table(tmp_path / "d.csv").columns[0] == "patient_id"  # read back unchanged


# --------------------------------------------------------------------------- vocabulary
def test_vocabulary():
    assert [DEFAULT.binary(v) for v in ("pos", "NEG", " yes ", "是", "否", 1, 0.0, True)] == \
        [1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0]
    assert DEFAULT.binary("maybe") is None
    assert [DEFAULT.level(v, ("female", "male")) for v in ("M", "f", "Male", "男", "x")] == \
        ["male", "female", "male", "male", None]
    v = DEFAULT.extended({"yes": ["ja"], "male": ["Mann", "H"]})
    assert v.binary("JA") == 1.0 and v.level("h", ("female", "male")) == "male"
    with pytest.raises(InputError, match="cannot mean both yes and no"):
        DEFAULT.extended({"yes": ["no"]})
    df = pd.DataFrame({"s": ["M", "F", None], "b": ["阳性", "阴性", "阳性"], "t": ["a", "M", "F"],
                       "m": ["yes", "Y", "no"], "k": ["Pos", "neg", "Pos"]})
    h = harmonise(df)
    # 阳性 sorts before 阴性, so as text R would take 'negative' as the event: written 1/0
    assert h["s"].tolist()[:2] == ["male", "female"] and h["b"].tolist() == [1, 0, 1]
    assert h["m"].tolist() == [1, 1, 0]  # mixed spellings of yes: one level
    assert h["t"].tolist() == ["a", "M", "F"]  # not every value is a code: left alone
    assert h["k"].tolist() == ["Pos", "neg", "Pos"]  # neg < Pos: R's levels already right
    assert h.attrs["harmonised"] == ["s", "b", "m"]


@pytest.mark.cli
def test_sex_codes_accepted_by_check_and_derive(capsys, files, tmp_path):
    code, out, err = run(capsys, "check", files["mf"], "--json")
    assert code == 0, err
    assert json.loads(out)["n_errors"] == 0
    assert run(capsys, "derive", files["mf"], "-o", tmp_path / "d.csv")[0] == 0


@pytest.mark.cli
def test_repeated_error_is_one_line_with_count_rows_and_a_mapping_example(capsys, train, tmp_path):
    f = tmp_path / "hf.csv"
    train.assign(sex=train["sex"].map({"male": "H", "female": "Fe"})).to_csv(f, index=False)
    code, out, err = run(capsys, "check", f)
    assert code == 2
    lines = [ln for ln in out.splitlines() if ln.startswith("hf.csv:")]
    assert len(lines) == 1
    assert "column 'sex': 'H' is not a known category (expected female, male) — in 64 rows " \
           "(row 2: 'H', row 3: 'Fe', row 4: 'Fe', row 5: 'H', row 6: 'Fe' …)" in lines[0]
    assert "mapping file (--mapping FILE), e.g. 'codes: {male: [H]}'" in lines[0]
    m = tmp_path / "m.yaml"
    m.write_text("codes:\n  male: [H]\n  female: [Fe]\n")
    assert read_mapping(m).vocabulary.level("fe", ("female", "male")) == "female"
    code, out, err = run(capsys, "check", f, "--mapping", m, "--json")
    assert code == 0 and json.loads(out)["n_errors"] == 0
    with pytest.raises(InputError) as e:
        cohort.load(f)
    assert len(str(e.value).splitlines()) == 1 and len(e.value.problems) == 64


# --------------------------------------------------------------------------- predict
@pytest.mark.cli
def test_predict_scores_complete_rows_and_reports_the_others(capsys, tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("patient_id,anti_tif1g,alopecia,gi_vas\nA,pos,neg,3.5\nB,neg,,2\nC,1,0,\n"
                 "D,yes,no,1\n")
    out_csv = tmp_path / "scored.csv"
    code, out, err = run(capsys, "predict", "--model", "redmi", "--input", f, "--output", out_csv)
    assert code == 0, err
    assert "2 of 4 rows have a missing value" in err and "rows 3, 4" in err
    assert out_csv.read_bytes().startswith(BOM)
    res = pd.read_csv(out_csv, encoding="utf-8-sig")
    assert res["probability"].isna().tolist() == [False, True, True, False]
    assert res["alopecia"].isna().tolist() == [False, True, False, False]  # user's columns kept
    code, out, _ = run(capsys, "predict", "--model", "redmi", "--set", "anti_tif1g=1",
                       "--set", "alopecia=0", "--set", "gi_vas=3.5", "--json")
    assert res["probability"][0] == pytest.approx(json.loads(out)["probability"], rel=1e-12)
    line = one_error(*run(capsys, "predict", "--model", "redmi", "--input", f, "--strict")[::2])
    assert "row 3, column 'alopecia': value is missing" in line


# --------------------------------------------------------------------------- item 7
@pytest.mark.cli
def test_smaller_items(capsys, train, tmp_path):
    f = tmp_path / "t.csv"
    train.assign(empty=np.nan, y12=train["nonresponse"] + 1).to_csv(f, index=False)
    line = one_error(*run(capsys, "fit", f, "-y", "nonresponse", "-x", "age,empty")[::2])
    assert "column 'empty' is 100% missing (no value in any of the 64 rows)" in line
    line = one_error(*run(capsys, "fit", f, "-y", "nonresponse", "-x", "agee")[::2])
    assert "(did you mean 'age'?)" in line
    code, out, err = run(capsys, "fit", f, "-y", "y12", "-x", "msuvmax")
    assert code == 0 and "outcome 'y12' is coded 1/2: 2 counts as the event" in err
    assert "--event 1" in err
    code, out, err = run(capsys, "univariate", f, "-y", "y12", "-x", "msuvmax,age")
    assert code == 0 and err.count("outcome 'y12' is coded 1/2") == 1
    code, out, err = run(capsys, "fit", f, "-y", "y12", "-x", "msuvmax", "--event", "2")
    assert code == 0 and "coded 1/2" not in err
    p = tmp_path / "p.csv"
    pd.DataFrame({"anti_tif1g": [1], "alopecia": [0], "gi_vass": [3]}).to_csv(p, index=False)
    line = one_error(*run(capsys, "predict", "--model", "redmi", "--input", p)[::2])
    assert "'gi_vas' needed by model 'redmi' is missing" in line and "did you mean 'gi_vass'?" in line


@pytest.mark.cli
def test_criteria_speaks_options_and_warns_on_all_zero_biopsy(capsys, tmp_path):
    items = ["weak_prox_upper", "weak_prox_lower", "neck_flexor_weak", "leg_prox_weaker_distal",
             "heliotrope", "gottron_papules", "gottron_sign", "dysphagia", "anti_jo1",
             "enzymes_raised"]
    bx = ["bx_endomysial", "bx_perimysial", "bx_perifascicular_atrophy", "bx_rimmed_vacuoles"]
    rows = [{"patient_id": f"P{i}", "age_onset": 45, **dict.fromkeys(items, 1), **dict.fromkeys(bx, 0)}
            for i in range(3)]
    f = tmp_path / "c.csv"
    pd.DataFrame(rows).to_csv(f, index=False)
    code, out, err = run(capsys, "criteria", f, "--json")
    assert code == 0, err
    assert "biopsy items are 0 in every row and no biopsy_done column" in err
    pd.DataFrame(rows).assign(heliotrope=np.nan).to_csv(f, index=False)
    line = one_error(*run(capsys, "criteria", f)[::2])
    assert "column 'heliotrope': missing (EULAR/ACR 2017 item) — in 3 rows" in line
    assert "--missing absent or --missing skip" in line and "missing='" not in line


@pytest.mark.cli
def test_tis_uses_enzyme_bl_and_fu(capsys, tmp_path):
    row = {"patient_id": "P1", "pga_bl": 6, "pga_fu": 3, "ptga_bl": 6, "ptga_fu": 3,
           "mmt8_bl": 60, "mmt8_fu": 70, "haq_bl": 1.5, "haq_fu": 1.0, "extramuscular_bl": 4,
           "extramuscular_fu": 2, "enzyme_bl": 800, "enzyme_fu": 200}
    f = tmp_path / "t.csv"
    pd.DataFrame([row]).to_csv(f, index=False)
    code, out, err = run(capsys, "tis", f, "--json")
    assert code == 0, err
    assert json.loads(out)["rows"][0]["enzyme_used"] == "enzyme"


# --------------------------------------------------------------------------- the house
def test_problem_and_input_error():
    assert str(InputError("data.csv: file is empty")) == "data.csv: file is empty"
    e = InputError("x")
    assert e.problems == (Problem(rule="x"),)
    ps = [Problem("d.csv", r, "sex", "M", "is not a known category") for r in range(2, 10)]
    ps.append(Problem("d.csv", 4, "age", "abc", "is not a number"))
    text = word_problems(ps)
    assert text == ("d.csv: column 'sex': 'M' is not a known category — in 8 rows (rows 2, 3, 4, "
                    "5, 6 …); row 4, column 'age': 'abc' is not a number")
    err = InputError(problems=ps, hint="fix it")
    assert str(err) == text + " — fix it" and "\n" not in str(err)
    assert err.with_file("other.csv", replace=True).problems[0].file == "other.csv"
    assert Problem("f", 3, "c", 1.0, "r").to_dict() == {"file": "f", "row": 3, "column": "c",
                                                        "value": "1", "rule": "r"}


def test_web_upload_uses_the_one_reader(files):
    from myorisk.web.scoring import read_upload

    t = read_upload("anti_tif1g;alopecia;gi_vas\n1;0;3,5\n".encode("utf-8-sig"), "u.csv")
    assert t.to_dict("records") == [{"anti_tif1g": 1, "alopecia": 0, "gi_vas": 3.5}]
    assert list(t.index) == [2]
    t = read_table_bytes(b"a;b\n1;x\n", "u.csv", typed=False)
    assert t.to_dict("records") == [{"a": "1", "b": "x"}]
    with pytest.raises(InputError, match=r"^u\.csv: cannot tell the text encoding"):
        read_upload("id,x\nGröße,1\n".encode("cp1252"), "u.csv")
    same = read_table_bytes(files["gbk"].read_bytes(), "gbk.csv")
    assert set(same["sex"]) == {"男", "女"}


def test_web_batch_scores_a_european_csv():
    from fastapi.testclient import TestClient

    from myorisk.web.app import create_app

    client = TestClient(create_app(), base_url="http://localhost")
    body = "anti_tif1g;alopecia;gi_vas\nyes;no;3,5\n".encode("gbk")
    r = client.post("/models/redmi/batch", files={"file": ("eu.csv", body, "text/csv")})
    assert r.status_code == 200, r.text[:500]
    r2 = client.post("/api/models/redmi/predict", json={"anti_tif1g": 1, "alopecia": 0,
                                                         "gi_vas": 3.5})
    scored = pd.read_csv(__import__("io").StringIO(r.content.decode("utf-8-sig")))
    assert scored["probability"][0] == pytest.approx(r2.json()["probability"], rel=1e-12)
