"""Light path: a plain numeric CSV/TSV reaches fit/validate/calibrate as numpy columns, without pandas.

Every case runs twice in this process: through the light path (``Columns``) and through the
DataFrame path (the reader's ``DELIMITED`` emptied, so ``common.read`` reads with ``read_data`` as
before), and the printed output (text and ``--json``, stdout and stderr) must be byte-identical,
bootstrap timings masked.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from myorisk.cli import _run
from myorisk.commands import _common as common
from myorisk.errors import InputError
from myorisk.modeling.columns import Columns
from myorisk.modeling.design import build_design, code_outcome, outcome_coding_note
from myorisk.myositis import io

pytestmark = [pytest.mark.cli]

DATASETS = Path(__file__).resolve().parents[1] / "src" / "myorisk" / "datasets"
X = "x1,x2,x3,x4,x5,x6"


def _frame(n: int = 120, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X_ = rng.normal(size=(n, 6))
    X_[:, 3:] = (X_[:, 3:] > 0.3).astype(float)
    lp = -1.0 + X_ @ np.linspace(0.8, 0.1, 6)
    df = pd.DataFrame(X_, columns=[f"x{j + 1}" for j in range(6)])
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    return df


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, tuple[Path, list[str]]]:
    d = tmp_path_factory.mktemp("light")
    df = _frame()
    out: dict[str, tuple[Path, list[str]]] = {}

    def put(name: str, frame: pd.DataFrame, args: list[str], **kw) -> None:
        frame.to_csv(d / name, index=False, **kw)
        out[name] = (d / name, args)

    put("plain.csv", df, ["-y", "y", "-x", X])
    put("spline.csv", df, ["-y", "y", "-x", "x1,rcs(x2,4),x3,x4"])
    put("european.csv", df, ["-y", "y", "-x", X], sep=";", decimal=",")
    put("plain.tsv", df, ["-y", "y", "-x", X], sep="\t")
    g = df.rename(columns={"x1": "年龄", "x2": "肌酸激酶"}).assign(备注=["无" if i % 3 else "有肌炎" for i in range(len(df))])
    put("gbk.csv", g, ["-y", "y", "-x", "年龄,肌酸激酶,x3,x4"], encoding="gbk")
    m = df.astype(object)
    m.loc[[3, 10, 50], "x1"] = ""
    m.loc[[7], "y"] = "NA"
    m.loc[[20], "x5"] = "."
    put("missing.csv", m, ["-y", "y", "-x", X])
    put("coded12.csv", df.assign(y=df["y"] + 1), ["-y", "y", "-x", X])
    put("synthetic.csv", df.assign(synthetic=1), ["-y", "y", "-x", X])
    out["pmdm-train.csv"] = (DATASETS / "pmdm-train.csv", ["-y", "nonresponse", "-x", "age,ck,mri_score,msuvmax,anti_mda5"])
    out["redmi-cohort.csv"] = (DATASETS / "redmi-cohort.csv", ["-y", "refractory", "-x", "age,ck,aldolase,dysphagia"])
    return out


COMMANDS = [["fit"], ["fit", "--json"], ["fit", "--event", "1"],
            ["validate", "-B", "20", "--seed", "3"], ["validate", "-B", "20", "--seed", "3", "--json"],
            ["calibrate", "-B", "20", "--seed", "3"], ["calibrate", "-B", "20", "--seed", "3", "--json"]]


def _output(capsys, args: list[str]) -> str:
    code = _run(args)
    cap = capsys.readouterr()
    text = f"{code}\n{cap.out}\n--stderr--\n{cap.err}"
    return re.sub(r'"seconds": [0-9.e-]+|\d+\.\d\d s\)', "<seconds>", text)


@pytest.mark.parametrize("name", ["plain.csv", "spline.csv", "european.csv", "plain.tsv", "gbk.csv", "missing.csv",
                                  "coded12.csv", "synthetic.csv", "pmdm-train.csv", "redmi-cohort.csv"])
def test_light_and_dataframe_paths_print_the_same(files, capsys, monkeypatch, name):
    path, args = files[name]
    light = common.read(path, light=True)
    assert isinstance(light, Columns)  # these files do take the light path
    capsys.readouterr()
    outputs = []
    for dataframe_path in (False, True):
        if dataframe_path:
            monkeypatch.setattr(io, "DELIMITED", ())
            assert isinstance(common.read(path, light=True), pd.DataFrame)
            capsys.readouterr()
        outputs.append([_output(capsys, [*cmd, str(path), *args]) for cmd in COMMANDS])
    for cmd, a, b in zip(COMMANDS, *outputs, strict=True):
        assert a == b, cmd
        assert a.startswith("0\n"), a
    notes = "".join(outputs[0])
    expected = {"missing.csv": "5 of 120 rows with missing values were excluded",
                "coded12.csv": "outcome 'y' is coded 1/2: 2 counts as the event",
                "european.csv": "read as semicolon-separated, decimal comma",
                "gbk.csv": "read as encoding gb18030"}.get(name)
    if expected:
        assert expected in notes


@pytest.mark.parametrize("name", ["plain.csv", "european.csv", "plain.tsv", "gbk.csv", "missing.csv", "pmdm-train.csv"])
def test_columns_to_pandas_is_read_table(files, name):
    path, _ = files[name]
    cols = io.read_columns(path)
    df = io.read_table(path)
    pd.testing.assert_frame_equal(cols.to_pandas(), df)
    assert cols.to_pandas().attrs == df.attrs == cols.attrs
    assert list(cols.rows) == list(df.index)


def test_design_from_columns_equals_design_from_frame(files):
    path, _ = files["missing.csv"]
    cols = io.read_columns(path)
    for preds in (["x1", "x2", "x5"], ["x1", "rcs(x2, 4)", "x3"], ["x1", "x4 * x2"]):
        a = build_design(cols, "y", preds)
        b = build_design(cols.to_pandas(), "y", preds)
        assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
        assert (a.columns, a.terms, a.event, a.missing, a.notes) == (b.columns, b.terms, b.event, b.missing, b.notes)
        assert list(a.rows) == list(b.rows) and a.missing.n_dropped == (5 if "x5" in preds else 4)


def test_design_from_columns_with_text_or_categorical_takes_the_frame_path(files):
    path, _ = files["gbk.csv"]
    cols = io.read_columns(path, encoding="gbk")
    a = build_design(cols, "y", ["年龄", "x4"], categorical=["x4"])
    b = build_design(cols.to_pandas(), "y", ["年龄", "x4"], categorical=["x4"])
    assert a.columns == b.columns == ("Intercept", "年龄", "x4=1") and np.array_equal(a.X, b.X)
    a = build_design(cols, "y", ["年龄", "备注"])
    assert a.columns[-1].startswith("备注=")


@pytest.mark.parametrize("values", [[0, 1, 1, 0], [1.0, 2.0, 2.0, 1.0], [3, 7, 7, 7], [0, 1, 2, 1, 1], [5, 5, 5]])
def test_outcome_coding_is_one_rule_for_arrays_and_series(values):
    arr = np.asarray(values)
    rows = np.arange(2, 2 + len(values))
    series = pd.Series(values, index=rows)
    try:
        expected = code_outcome(series, name="y", source="f.csv")
    except InputError as e:
        with pytest.raises(InputError) as got:
            code_outcome(arr, name="y", source="f.csv", rows=rows)
        assert str(got.value) == str(e)
        return
    y, ev = code_outcome(arr, name="y", source="f.csv", rows=rows)
    assert np.array_equal(y, expected[0]) and ev == expected[1]
    assert outcome_coding_note(arr, None, ev, "y") == outcome_coding_note(series, None, ev, "y")


def test_table_of_columns_prints_as_the_frame():
    cols = {"term": ["Intercept", "x"], "coef": np.array([-1.25, 1e-14]), "p": np.array([0.5, 1e-6]),
            "n": [10, 20]}
    console_a, console_b = common.Console(width=200, record=True), common.Console(width=200, record=True)
    console_a.print(common.table(cols, title="t", formats={"p": common.fmt_p}))
    console_b.print(common.table(pd.DataFrame(cols), title="t", formats={"p": common.fmt_p}))
    assert console_a.export_text() == console_b.export_text()


def test_watermark_on_columns(files):
    path, _ = files["synthetic.csv"]
    assert common.watermark(io.read_columns(path)) == common.watermark(io.read_table(path)) == "SYNTHETIC DATA"
    path, _ = files["plain.csv"]
    assert common.watermark(io.read_columns(path)) is None


def test_outcome_coding_of_an_array_leaves_missing_values_out_as_a_series_does():
    values = [1.0, np.nan, 2.0, 2.0, np.nan, 1.0]
    rows = np.arange(2, 8)
    a = code_outcome(np.array(values), name="y", rows=rows)
    b = code_outcome(pd.Series(values, index=rows), name="y")
    assert np.array_equal(a[0], b[0]) and a[1] == b[1] == "2"
    assert outcome_coding_note(np.array(values), None, "2", "y") == outcome_coding_note(pd.Series(values), None, "2", "y")
