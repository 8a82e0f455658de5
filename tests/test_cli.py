"""The command-line contract of ../shared/design.md: JSON keys, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from myorisk.cli import _run
from myorisk.modeling.logistic import fit_logistic
from myorisk.modeling.performance import val_prob
from myorisk.modeling.roc import roc_curve

from conftest import RESULTS, load_data

pytestmark = [pytest.mark.cli, pytest.mark.r_parity]

DATA = RESULTS / "data"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = _run([str(a) for a in args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def run_json(capsys, *args: str) -> dict:
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_fit_json_contract_and_values(capsys):
    res = run_json(capsys, "fit", DATA / "birthwt.csv", "-y", "low", "-x", "age,lwt,race,smoke",
                   "--reference", "race=white")
    assert {"n", "events", "terms", "loglik", "aic", "lr_chi2", "r2_nagelkerke", "c", "dxy", "brier"} <= set(res)
    assert [t["term"] for t in res["terms"]] == ["Intercept", "age", "lwt", "race=black", "race=other", "smoke"]
    direct = fit_logistic(load_data("birthwt"), "low", ["age", "lwt", "race", "smoke"], reference={"race": "white"})
    assert_allclose([t["coef"] for t in res["terms"]], direct.coefficients, rtol=1e-12)
    assert_allclose([t["or_high"] for t in res["terms"]], np.exp(direct.ci_high), rtol=1e-12)
    assert (res["n"], res["events"]) == (direct.n, direct.events)


def test_fit_profile_and_firth(capsys):
    res = run_json(capsys, "fit", DATA / "endometrial.csv", "-y", "HG", "-x", "NV,PI,EH", "--firth", "--ci", "profile")
    assert res["method"] == "firth" and res["ci"] == "profile"
    nv = res["terms"][1]
    assert nv["or_low"] < nv["or"] < nv["or_high"]


def test_univariate_json(capsys):
    res = run_json(capsys, "univariate", DATA / "birthwt.csv", "-y", "low", "-x", "lwt,smoke")
    assert [r["term"] for r in res["rows"]] == ["lwt", "smoke"]
    assert {"term", "or", "or_low", "or_high", "p"} <= set(res["rows"][0])


def test_evaluate_json_contract(capsys, tmp_path):
    d = load_data("birthwt")
    f = fit_logistic(d, "low", ["lwt", "smoke"])
    d["p"] = f.predict_proba(d)
    path = tmp_path / "scored.csv"
    d.to_csv(path, index=False)
    res = run_json(capsys, "evaluate", path, "-y", "low", "--prob", "p")
    for k in ("c", "brier", "intercept", "slope", "citl", "emax", "e90", "eavg"):
        assert k in res
    assert set(res["hosmer_lemeshow"]) >= {"chi2", "df", "p"}
    direct = val_prob(d["p"].to_numpy(), d["low"].to_numpy())
    assert_allclose(res["emax"], direct.emax, rtol=1e-12)
    assert_allclose(res["hosmer_lemeshow"]["chi2"], direct.hosmer_lemeshow.chi2, rtol=1e-12)


def test_roc_json_contract_with_delong(capsys):
    res = run_json(capsys, "roc", DATA / "asah.csv", "-y", "poor", "--score", "s100b", "--score", "wfns")
    assert [c["score"] for c in res["curves"]] == ["s100b", "wfns"]
    d = load_data("asah")
    r = roc_curve(d.poor.to_numpy(), d.s100b.to_numpy())
    assert_allclose(res["curves"][0]["auc"], r.auc, rtol=1e-12)
    assert {"z", "p"} <= set(res["delong"])


def test_dca_json_contract(capsys, tmp_path):
    d = load_data("birthwt")
    d["p"] = fit_logistic(d, "low", ["lwt", "smoke"]).predict_proba(d)
    path = tmp_path / "s.csv"
    d.to_csv(path, index=False)
    res = run_json(capsys, "dca", path, "-y", "low", "--score", "p", "--thresholds", "0.1:0.5:0.1")
    assert_allclose(res["thresholds"], [0.1, 0.2, 0.3, 0.4, 0.5])
    assert set(res["net_benefit"]) == {"p", "treat_all", "treat_none"}
    assert res["net_benefit"]["treat_none"] == [0.0] * 5


def _one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("myorisk: error: ")
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0]


@pytest.fixture()
def bad_files(tmp_path: Path) -> dict[str, Path]:
    d = load_data("birthwt").astype({"lwt": object})
    d.loc[4, "lwt"] = "abc"  # data row index 4 = file row 6 (header is row 1)
    text = tmp_path / "text.csv"
    d.to_csv(text, index=False)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    return {"text": text, "empty": empty, "binary": binary}


def test_bad_inputs_exit_2_with_one_line(capsys, bad_files):
    cases = [
        (("fit", bad_files["text"], "-y", "low", "-x", "age,lwt"), ("text.csv", "row 6", "'lwt'", "'abc'", "not a number")),
        (("fit", DATA / "asah.csv", "-y", "gos6", "-x", "s100b"), ("gos6", "distinct values")),
        (("fit", DATA / "endometrial.csv", "-y", "HG", "-x", "NV,PI,EH"), ("separation", "NV", "--firth")),
        (("fit", DATA / "birthwt.csv", "-y", "low", "-x", "nope"), ("'nope' not found",)),
        (("fit", bad_files["empty"], "-y", "low", "-x", "lwt"), ("empty.csv", "empty")),
        (("fit", bad_files["binary"], "-y", "low", "-x", "lwt"), ("binary.csv",)),
        (("fit", DATA / "birthwt.csv", "-y", "low"), ("--predictors",)),
        (("roc", DATA / "asah.csv", "-y", "poor", "-s", "s100b", "--direction", "up"), ("direction",)),
        (("dca", DATA / "asah.csv", "-y", "poor", "-s", "ndka"), ("outside [0, 1]",)),
    ]
    for args, needles in cases:
        code, _, err = run(capsys, *args)
        _one_line_error(code, err, *needles)


def test_all_zero_outcome(capsys, tmp_path):
    d = load_data("birthwt").assign(low=0)
    p = tmp_path / "zero.csv"
    d.to_csv(p, index=False)
    code, _, err = run(capsys, "fit", p, "-y", "low", "-x", "lwt")
    _one_line_error(code, err, "single value")


def test_missing_rows_reported_not_silent(capsys, tmp_path):
    d = load_data("birthwt")
    d.loc[[0, 1], "lwt"] = np.nan
    p = tmp_path / "m.csv"
    d.to_csv(p, index=False)
    code, out, err = run(capsys, "fit", p, "-y", "low", "-x", "lwt", "--json")
    assert code == 0
    assert json.loads(out)["n"] == 187
    assert "2 of 189 rows with missing values were excluded" in err


def test_help_and_version(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "fit" in out and "roc" in out
    code, out, _ = run(capsys, "--version")
    assert code == 0 and "myorisk" in out


HELP_PANELS = {
    "Models and performance": ["fit", "univariate", "select", "pentrace", "anova", "effects", "nomogram", "roc", "dca", "evaluate",
                               "impute", "table1", "sample-size"],
    "Internal validation": ["validate", "calibrate"],
    "Myositis instruments and cohort files": ["criteria", "tis", "check", "derive"],
    "Published models": ["models", "predict", "datasets"],
    "Multi-centre validation": ["site-summary", "meta"],
    "Studies and reports": ["study", "demo"],
    "Web": ["serve"],
    "Registry": ["registry"],
    "Set-up": ["kernels"],
}


@pytest.mark.parametrize("columns", ["80", "100"])
def test_top_level_help_lists_every_command_in_its_panel(capsys, monkeypatch, columns):
    """QA: every command on one line with its whole short help (no '...'), grouped in panels."""
    import typer

    from myorisk.cli import app

    monkeypatch.setenv("COLUMNS", columns)
    group = typer.main.get_command(app)
    names = group.list_commands(None)
    assert sorted(names) == sorted(c for cs in HELP_PANELS.values() for c in cs)
    commands = {n: group.get_command(None, n) for n in names}
    code, out, _ = run(capsys, "--help")
    assert code == 0
    lines = out.splitlines()
    assert "..." not in out.replace("COMMAND [ARGS]...", "")
    assert max(len(line) for line in lines) <= 80
    for title, names in HELP_PANELS.items():
        start = lines.index(f"{title}:")
        rows = lines[start + 1:start + 1 + len(names)]
        for name, row in zip(names, rows, strict=True):
            short = commands[name].short_help
            assert short and len(short) <= 55, name
            assert row.split() == [name, *short.split()], (title, row)
    # the full docstring still shows in the command's own help
    code, out, _ = run(capsys, "roc", "--help")
    assert code == 0 and "with --versus, the unpaired DeLong test" in " ".join(out.split())


def test_table1_and_sample_size(capsys, tmp_path):
    out_path = tmp_path / "t1.xlsx"
    code, _, err = run(capsys, "table1", DATA / "birthwt.csv", "-v", "age,lwt,race,smoke", "--by", "low", "-o", out_path)
    assert code == 0, err
    assert pd.read_excel(out_path).shape[0] > 4
    res = run_json(capsys, "sample-size", "--prevalence", "0.174", "--parameters", "24", "--csrsquared", "0.288")
    from myorisk.modeling.sample_size import riley_binary

    assert res["n"] == riley_binary(prevalence=0.174, parameters=24, csrsquared=0.288).n


def test_roc_versus_unpaired_matches_engine(capsys, tmp_path):
    from myorisk.modeling.roc import delong_test_unpaired

    d = load_data("asah")
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    d.iloc[:60].to_csv(a, index=False)
    d.iloc[60:].to_csv(b, index=False)
    res = run_json(capsys, "roc", a, "-y", "poor", "-s", "s100b", "--versus", b)
    t = delong_test_unpaired(d.poor[:60].to_numpy(), d.s100b[:60].to_numpy(), d.poor[60:].to_numpy(),
                             d.s100b[60:].to_numpy(), direction1="<", direction2="<")
    assert_allclose(res["delong_unpaired"]["p"], t.p, rtol=1e-12)
    assert len(res["curves"]) == 2


def test_validate_and_calibrate_replay_r_resamples_through_cli(capsys, tmp_path):
    from conftest import load_r

    r = load_r("validation")["birthwt"]
    idx = tmp_path / "idx.csv"
    # the index matrix R drew (1-based, one resample per line), exactly as a user would save it
    np.savetxt(idx, np.asarray(r["index"], dtype=int), fmt="%d", delimiter=",")
    args = ("-y", "low", "-x", "age,lwt,race,smoke,ptl,ht,ui", "--resamples", idx)
    val = run_json(capsys, "validate", DATA / "birthwt.csv", *args)
    assert set(val["indexes"]) == {"Dxy", "R2", "Intercept", "Slope", "Emax", "D", "U", "Q", "B", "g", "gp"}
    assert val["B"] == r["B"] and "seconds" in val
    corrected = [val["indexes"][k]["corrected"] for k in r["validate"]["rows"]]
    assert_allclose(corrected, r["validate"]["index.corrected"], rtol=1e-6, atol=1e-9)
    cal = run_json(capsys, "calibrate", DATA / "birthwt.csv", *args)
    assert {"B", "seconds", "mean_abs_error", "mean_sq_error", "e90", "curve"} <= set(cal)
    assert_allclose([c["corrected"] for c in cal["curve"]], r["calibrate"]["calibrated.corrected"], rtol=1e-6, atol=1e-9)


@pytest.mark.cli
def test_unknown_command_names_the_closest(capsys):
    from myorisk.cli import _run

    assert _run(["fti", "x.csv"]) == 2
    assert "did you mean 'fit'?" in capsys.readouterr().err
