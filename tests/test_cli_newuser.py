"""A new user's walk through every command: bad input ends with exit code 2 and one clear line on
stderr (never a traceback or 'internal error'), outputs never overwrite inputs, and rows dropped
for missing values are always reported."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from myorisk.cli import _run
from myorisk.datasets import load_dataset

pytestmark = pytest.mark.cli

DATA = Path(__file__).parent / "data"


def run(capsys, *args: object) -> tuple[int, str, str]:
    code = _run([str(a) for a in args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def one_error(code: int, err: str) -> str:
    """Assert exit code 2 and exactly one 'myorisk: error:' line on stderr; return that line."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith("myorisk: error: "), err
    assert "Traceback" not in err and "internal error" not in err
    return lines[0]


@pytest.fixture()
def train(tmp_path) -> Path:
    df = load_dataset("pmdm-train").reset_index(drop=True)
    path = tmp_path / "train.csv"
    df.to_csv(path, index=False)
    return path


@pytest.fixture()
def scored(tmp_path) -> Path:
    df = load_dataset("pmdm-train").reset_index(drop=True)
    rng = np.random.default_rng(1)
    df["risk"] = np.clip(0.3 + 0.3 * (df["sex"] == "male") + rng.normal(0, 0.1, len(df)), 0.01, 0.99)
    df["risk2"] = rng.uniform(0, 1, len(df))
    df.loc[[2, 4], "risk"] = np.nan
    df.loc[6, "nonresponse"] = np.nan
    path = tmp_path / "scored.csv"
    df.to_csv(path, index=False)
    return path


@pytest.fixture()
def with_missing(tmp_path) -> Path:
    df = load_dataset("pmdm-train").reset_index(drop=True)
    df.loc[[1, 5], "ck"] = np.nan
    df.loc[7, "nonresponse"] = np.nan
    path = tmp_path / "missing.csv"
    df.to_csv(path, index=False)
    return path


# ----------------------------------------------------------------------------- outputs never overwrite inputs
def test_fit_save_refuses_to_overwrite_the_data(capsys, train):
    before = train.read_bytes()
    line = one_error(*run(capsys, "fit", train, "-y", "nonresponse", "-x", "age", "--save", train)[::2])
    assert "--save" in line and "overwrite" in line
    assert train.read_bytes() == before


def test_evaluate_save_refuses_data_or_model_file(capsys, train, tmp_path):
    model = tmp_path / "m.json"
    assert run(capsys, "fit", train, "-y", "nonresponse", "-x", "sex,msuvmax", "--save", model)[0] == 0
    for target in (train, model):
        before = target.read_bytes()
        code, _, err = run(capsys, "evaluate", train, "-y", "nonresponse", "--model", model,
                           "--recalibrate", "intercept", "--save", target)
        assert "overwrite" in one_error(code, err)
        assert target.read_bytes() == before


def test_table1_output_refuses_to_overwrite_the_data(capsys, train):
    before = train.read_bytes()
    code, _, err = run(capsys, "table1", train, "-v", "age", "--by", "nonresponse", "-o", train)
    assert "overwrite" in one_error(code, err)
    assert train.read_bytes() == before


# ----------------------------------------------------------------------------- duplicates, empties, typos
def test_duplicate_score_is_an_input_error_not_an_internal_error(capsys, scored):
    for cmd in ("roc", "dca"):
        code, _, err = run(capsys, cmd, scored, "-y", "nonresponse", "-s", "risk2", "-s", "risk2")
        assert "given twice" in one_error(code, err)


def test_univariate_rejects_a_predictor_given_twice(capsys, train):
    code, _, err = run(capsys, "univariate", train, "-y", "nonresponse", "-x", "age,age")
    assert "'age' is listed twice" in one_error(code, err)


def test_empty_predictor_list_is_an_error(capsys, train):
    code, _, err = run(capsys, "fit", train, "-y", "nonresponse", "-x", " , ")
    assert "--predictors" in one_error(code, err)


def test_categorical_typo_is_not_ignored(capsys, train):
    code, _, err = run(capsys, "fit", train, "-y", "nonresponse", "-x", "age", "--categorical", "sexx")
    line = one_error(code, err)
    assert "--categorical" in line and "'sexx'" in line


def test_all_missing_score_column_says_so(capsys, tmp_path):
    df = load_dataset("pmdm-train").reset_index(drop=True)
    df["empty"] = np.nan
    path = tmp_path / "allna.csv"
    df.to_csv(path, index=False)
    code, _, err = run(capsys, "roc", path, "-y", "nonresponse", "-s", "empty")
    assert "column 'empty' is 100% missing (no value in any of the 64 rows)" in one_error(code, err)


# ----------------------------------------------------------------------------- thresholds, bootstrap, seed
def test_threshold_text_is_printed_as_typed_not_as_emoji(capsys, scored):
    code, _, err = run(capsys, "dca", scored, "-y", "nonresponse", "-s", "risk2", "--thresholds", "a:b:c")
    assert "'a:b:c'" in one_error(code, err)


def test_huge_threshold_grid_is_refused_before_memory_runs_out(capsys, scored):
    code, _, err = run(capsys, "dca", scored, "-y", "nonresponse", "-s", "risk2", "--thresholds", "0:0.5:1e-9")
    assert "at most 100,000" in one_error(code, err)


@pytest.mark.parametrize("grid", ["0:1", "0.5:0.1:0.1", "0:1:0", "0:1.5:0.1"])
def test_malformed_threshold_grids(capsys, scored, grid):
    code, _, err = run(capsys, "dca", scored, "-y", "nonresponse", "-s", "risk2", "--thresholds", grid)
    assert "threshold grid" in one_error(code, err)


@pytest.mark.parametrize("cmd", ["validate", "calibrate"])
@pytest.mark.parametrize("b", ["0", "-5", "100000000", "abc"])
def test_bootstrap_out_of_range(capsys, train, cmd, b):
    code, _, err = run(capsys, cmd, train, "-y", "nonresponse", "-x", "sex,msuvmax", "-B", b)
    assert "--bootstrap" in one_error(code, err)


@pytest.mark.parametrize("seed", ["-1", "abc"])
def test_bad_seed_is_an_input_error(capsys, train, seed):
    code, _, err = run(capsys, "validate", train, "-y", "nonresponse", "-x", "sex,msuvmax", "-B", "10",
                       "--seed", seed)
    assert "--seed" in one_error(code, err)


def test_demo_rejects_too_few_resamples_without_creating_folders(capsys, tmp_path):
    target = tmp_path / "new" / "demo"
    code, _, err = run(capsys, "demo", "-B", "0", "-q", "-o", target)
    assert "--bootstrap" in one_error(code, err)
    assert not (tmp_path / "new").exists()


def test_study_bootstrap_option_is_named_as_typed(capsys):
    cfg = Path(__file__).parents[1] / "src" / "myorisk" / "study" / "configs" / "study-a.yaml"
    code, _, err = run(capsys, "study", cfg, "-B", "0", "--check")
    assert "'--bootstrap'" in one_error(code, err)


# ----------------------------------------------------------------------------- never silently dropped
def test_select_and_nomogram_report_rows_removed_for_missing_values(capsys, with_missing):
    for args in (("select", with_missing, "-y", "nonresponse", "-x", "age,ck,sex"),
                 ("nomogram", with_missing, "-y", "nonresponse", "-x", "age,ck")):
        code, _, err = run(capsys, *args)
        assert code == 0, err
        assert "3 of 64 rows with missing values were excluded" in err


def test_missing_outcome_rows_are_reported_with_their_rows(capsys, scored):
    code, _, err = run(capsys, "evaluate", scored, "-y", "nonresponse", "--prob", "risk")
    assert code == 0, err
    assert "missing outcome were excluded" in err and "rows 8" in err


def test_table1_reports_rows_without_a_group(capsys, with_missing):
    code, _, err = run(capsys, "table1", with_missing, "-v", "age", "--by", "nonresponse")
    assert code == 0, err
    assert "1 row(s) with a missing 'nonresponse' were excluded" in err


# ----------------------------------------------------------------------------- predict
def test_predict_set_missing_and_duplicate_values(capsys):
    code, _, err = run(capsys, "predict", "--model", "redmi", "--set", "gi_vas=3")
    line = one_error(code, err)
    assert "no value for 'anti_tif1g', 'alopecia'" in line and "--set" in line
    code, _, err = run(capsys, "predict", "--model", "redmi", "--set", "anti_tif1g=1", "--set", "alopecia=0",
                       "--set", "gi_vas=3", "--set", "gi_vas=4")
    assert "'gi_vas' is given twice" in one_error(code, err)


def test_predict_out_of_range_and_wrong_type_are_one_line(capsys):
    base = ["predict", "--model", "redmi", "--set", "anti_tif1g=1", "--set", "alopecia=0"]
    code, _, err = run(capsys, *base, "--set", "gi_vas=300")
    assert "'gi_vas'" in one_error(code, err) and "range" in err
    code, _, err = run(capsys, *base, "--set", "gi_vas=abc")
    assert "is not a number" in one_error(code, err)
    code, _, err = run(capsys, "predict", "--model", "redmi", "--set", "anti_tif1g=1", "--set", "alopecia=0",
                       "--set", "gi_vas=3", "--set", "foo=1")
    assert "'foo' is not a variable" in one_error(code, err)


def test_predict_empty_stdin(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, _, err = run(capsys, "predict", "--model", "redmi", "--json")
    assert "stdin is empty" in one_error(code, err)


def test_predict_file_without_output_shows_predictions_only(capsys, train):
    code, out, err = run(capsys, "predict", "--model", "pmdm-noninvasive", "--input", train)
    assert code == 0, err
    assert "probability" in out and "SYN-A-TR-001" in out
    assert "biopsy_fibrosis" not in out


def test_models_lists_the_variables_to_give(capsys):
    code, out, _ = run(capsys, "models")
    assert code == 0
    assert "anti_tif1g, alopecia, gi_vas" in out


# ----------------------------------------------------------------------------- other commands
def test_datasets_export_refuses_a_non_csv_name(capsys, tmp_path):
    code, _, err = run(capsys, "datasets", "export", "pmdm-train", tmp_path / "x.xlsx")
    assert "CSV" in one_error(code, err)
    assert not (tmp_path / "x.xlsx").exists()


def test_sample_size_names_options_not_python_arguments(capsys):
    code, _, err = run(capsys, "sample-size", "--prevalence", "0.3", "--parameters", "5")
    line = one_error(code, err)
    assert "--cstatistic" in line and "riley_binary" not in line
    code, _, err = run(capsys, "sample-size", "--prevalence", "1.3", "--parameters", "5", "--cstatistic", "0.8")
    assert "riley_binary" not in one_error(code, err)


def test_check_with_errors_says_so_on_stderr(capsys):
    code, _, err = run(capsys, "check", DATA / "cohort_bad.csv")
    assert "5 error(s)" in one_error(code, err)


def test_tis_missing_message_names_the_cli_option(capsys, tmp_path):
    df = pd.read_csv(DATA / "cohort_study.csv")
    df["ck_uln"] = 200
    path = tmp_path / "tis.csv"
    df.to_csv(path, index=False)
    code, _, err = run(capsys, "tis", path)
    line = one_error(code, err)
    assert "--allow-missing" in line and "missing='allow'" not in line


def test_serve_bad_models_folder_and_log_level(capsys, tmp_path):
    code, _, err = run(capsys, "serve", "--models", tmp_path / "nope")
    assert "must be a folder" in one_error(code, err)
    code, _, err = run(capsys, "serve", "--log-level", "loud")
    assert "--log-level" in one_error(code, err)


def test_very_long_error_lines_are_cut(capsys, train):
    code, _, err = run(capsys, "roc", train, "-y", "nonresponse", "-s", "sex")
    line = one_error(code, err)
    # a rule broken in all 64 rows is said once, with the count (issue 11), so the line is short
    assert len(line) < 300 and "is not a number — in 64 rows (row 2: 'male', row 3: 'female'" in line


def test_ctrl_c_is_reported(capsys, train, monkeypatch):
    import myorisk.modeling.logistic as lg

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(lg, "fit_logistic", interrupted)
    code, _, err = run(capsys, "fit", train, "-y", "nonresponse", "-x", "age")
    assert code == 130
    assert "interrupted" in err and "Traceback" not in err


def test_piped_tables_are_not_cut_to_80_columns(capsys, train):
    code, out, _ = run(capsys, "sample-size", "--prevalence", "0.3", "--parameters", "5", "--cstatistic", "0.8")
    assert code == 0
    assert "shrinkage" in out and "r2_nagelkerke" in out and "…" not in out


def test_json_outputs_parse_with_contract_keys(capsys, train, tmp_path):
    code, out, err = run(capsys, "validate", train, "-y", "nonresponse", "-x", "sex,msuvmax", "-B", "20",
                         "--seed", "1", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert {"B", "seconds", "indexes"} <= set(res)
    code, out, err = run(capsys, "calibrate", train, "-y", "nonresponse", "-x", "sex,msuvmax", "-B", "20",
                         "--seed", "1", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert {"B", "seconds", "mean_abs_error", "mean_sq_error", "e90", "curve"} <= set(res)
    assert {"predicted", "apparent", "corrected"} <= set(res["curve"][0])


def test_predict_published_model_outside_its_valid_range_needs_extrapolate(capsys):
    base = ["predict", "--model", "pmdm-noninvasive", "--set", "sex=male", "--set", "msuvmax=3.5", "--json"]
    code, _, err = run(capsys, *base)
    assert "outside the model's valid range" in one_error(code, err)
    code, out, err = run(capsys, *base, "--extrapolate")
    assert code == 0, err
    res = json.loads(out)
    assert res["extrapolated"] == ["msuvmax"]
    assert "extrapolates beyond the range" in err
    from myorisk.modeling.spec import load_spec

    spec = load_spec("pmdm-noninvasive")
    lp = spec.coefficients["Intercept"] + spec.coefficients["sex=male"] + 3.5 * spec.coefficients["msuvmax"]
    assert res["linear_predictor"] == pytest.approx(lp, rel=1e-12)


def test_evaluate_saved_model_on_data_beyond_its_development_range(capsys, train, tmp_path):
    model = tmp_path / "m.json"
    assert run(capsys, "fit", train, "-y", "nonresponse", "-x", "sex,msuvmax", "--save", model)[0] == 0
    df = pd.read_csv(train)
    df.loc[[0, 3], "msuvmax"] = df["msuvmax"].max() + 1.0
    ext = tmp_path / "ext.csv"
    df.to_csv(ext, index=False)
    code, out, err = run(capsys, "evaluate", ext, "-y", "nonresponse", "--model", model, "--json")
    assert code == 0, err
    assert json.loads(out)["n"] == len(df)  # no row dropped
    assert "'msuvmax' outside" in err and "in 2 row(s) (rows 2, 5)" in err  # file lines


# ----------------------------------------------------------------------------- validate / calibrate options
@pytest.fixture()
def idx_file(tmp_path, train) -> Path:
    n = len(pd.read_csv(train))
    rng = np.random.default_rng(5)
    path = tmp_path / "idx.csv"
    np.savetxt(path, rng.integers(1, n + 1, size=(30, n)), fmt="%d", delimiter=",")
    return path


def test_resamples_exclude_seed_and_a_different_b(capsys, train, idx_file):
    args = ("validate", train, "-y", "nonresponse", "-x", "sex,msuvmax", "--resamples", idx_file)
    code, _, err = run(capsys, *args, "--seed", "3")
    assert "--seed has no effect with --resamples" in one_error(code, err)
    code, _, err = run(capsys, *args, "-B", "500")
    assert "--bootstrap 500 does not match the 30 resamples" in one_error(code, err)
    code, out, err = run(capsys, *args, "-B", "30", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["B"] == 30 and res["seed"] is None and res["resamples"].endswith("idx.csv")


def test_resamples_base_can_be_stated(capsys, train, tmp_path):
    n = len(pd.read_csv(train))
    rows = np.tile(np.arange(2, n), (3, 1))[:, :n]  # neither 0 nor n occurs: base is ambiguous
    rows = np.column_stack([rows, np.full((3, n - rows.shape[1]), 5)])
    path = tmp_path / "few.csv"
    np.savetxt(path, rows, fmt="%d", delimiter=",")
    args = ("validate", train, "-y", "nonresponse", "-x", "sex,msuvmax", "--resamples", path, "--json")
    code, _, err = run(capsys, *args)
    assert "--resamples-base 1" in one_error(code, err)
    c1, out1, err1 = run(capsys, *args, "--resamples-base", "1")
    c0, out0, err0 = run(capsys, *args, "--resamples-base", "0")
    assert c1 == 0 and c0 == 0, err1 + err0
    assert json.loads(out1)["indexes"]["Dxy"]["training"] != json.loads(out0)["indexes"]["Dxy"]["training"]


def test_drawn_seed_is_reported_and_reproduces(capsys, train):
    args = ("validate", train, "-y", "nonresponse", "-x", "sex,msuvmax", "-B", "20", "--json")
    code, out, err = run(capsys, *args)
    assert code == 0, err
    first = json.loads(out)
    assert isinstance(first["seed"], int)
    code, out, _ = run(capsys, *args, "--seed", str(first["seed"]))
    again = json.loads(out)
    assert again["indexes"]["Dxy"]["corrected"] == first["indexes"]["Dxy"]["corrected"]


def test_screen_alpha_goes_with_pscreen(capsys, train):
    code, _, err = run(capsys, "validate", train, "-y", "nonresponse", "-x", "sex,msuvmax", "-B", "10",
                       "--screen-alpha", "0.2")
    assert "--screen-alpha goes with --select pscreen" in one_error(code, err)
    code, out, err = run(capsys, "validate", train, "-y", "nonresponse", "-x", "sex,msuvmax,age", "-B", "10",
                         "--seed", "1", "--select", "pscreen", "--screen-alpha", "0.2", "--json")
    assert code == 0, err
    assert json.loads(out)["selection"]["screen_alpha"] == 0.2


def test_none_and_dash_are_categories_not_missing(capsys, tmp_path):
    df = load_dataset("pmdm-train").reset_index(drop=True)
    df["airbags"] = np.where(np.arange(len(df)) % 3 == 0, "None", np.where(np.arange(len(df)) % 3 == 1, "-", "Driver"))
    path = tmp_path / "cats.csv"
    df.to_csv(path, index=False)
    code, out, err = run(capsys, "fit", path, "-y", "nonresponse", "-x", "airbags", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["n"] == len(df)  # nothing dropped
    assert {t["term"] for t in res["terms"]} == {"Intercept", "airbags=Driver", "airbags=None"}  # '-' first


def test_notes_are_dropped_when_the_command_then_fails(capsys, scored, tmp_path):
    df = pd.read_csv(scored)
    df.loc[3, "risk2"] = 1.7  # and row 8 has a missing outcome (a note on success)
    path = tmp_path / "bad_prob.csv"
    df.to_csv(path, index=False)
    code, _, err = run(capsys, "evaluate", path, "-y", "nonresponse", "--prob", "risk2")
    assert "outside [0, 1]" in one_error(code, err)  # one line: the note is not printed
    code, _, err = run(capsys, "evaluate", scored, "-y", "nonresponse", "--prob", "risk2")
    assert code == 0 and "missing outcome were excluded" in err  # on success it is


def test_table1_refuses_a_typo_in_a_numeric_column(capsys, tmp_path):
    df = load_dataset("pmdm-train").reset_index(drop=True)
    df["age"] = df["age"].astype(object)
    df.loc[4, "age"] = "6o"
    path = tmp_path / "typo.csv"
    df.to_csv(path, index=False)
    code, _, err = run(capsys, "table1", path, "-v", "age,sex", "--by", "nonresponse")
    line = one_error(code, err)
    assert "typo.csv: row 6, column 'age': '6o' is not a number" in line
    code, out, err = run(capsys, "table1", path, "-v", "age", "--by", "nonresponse", "--categorical", "age", "--json")
    assert code == 0, err  # declared categorical: every value a level, as asked


def test_univariate_flags_a_separating_candidate_and_goes_on(capsys, tmp_path):
    df = load_dataset("pmdm-train").reset_index(drop=True)
    df["sep"] = df["nonresponse"]
    path = tmp_path / "sep.csv"
    df.to_csv(path, index=False)
    code, out, err = run(capsys, "univariate", path, "-y", "nonresponse", "-x", "sex,sep", "--json")
    assert code == 0, err
    rows = {r["term"]: r for r in json.loads(out)["rows"]}
    assert rows["sex=male"]["or"] == pytest.approx(6.697, abs=1e-3)  # Table 2 of study A
    assert rows["sep"]["or"] is None and "separation" in rows["sep"]["problem"]
    assert "sep: " in err and "--firth" in err
    code, _, err = run(capsys, "univariate", path, "-y", "nonresponse", "-x", "sep")
    assert "complete separation" in one_error(code, err)  # nothing left to show: an error


def test_roc_lists_every_tied_youden_optimum_and_warns_on_opposite_directions(capsys, tmp_path):
    path = tmp_path / "tie.csv"
    pd.DataFrame({"y": [0, 0, 1, 1, 0, 0, 1, 1], "s": [1, 3, 2, 4, 1, 3, 2, 4],
                  "r": [8, 7, 2, 1, 6, 5, 4, 3]}).to_csv(path, index=False)
    code, out, err = run(capsys, "roc", path, "-y", "y", "-s", "s", "--json")
    assert code == 0, err
    best = json.loads(out)["curves"][0]["best_all"]
    assert [b["threshold"] for b in best] == [1.5, 3.5]  # pROC coords("best") returns both
    assert [b["sensitivity"] for b in best] == [1.0, 0.5]
    code, out, err = run(capsys, "roc", path, "-y", "y", "-s", "s", "-s", "r")
    assert code == 0 and "opposite directions" in err
