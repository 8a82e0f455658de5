"""Issue 11, items 4, 6 and 7 on the command line: --plot on every figure-producing command, roc with
any number of scores (paired DeLong of every pair, Holm), numbers as a person reads them, --per units,
table1's rule, missing-data blocks, No/Yes nomogram axes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from myorisk.cli import _run

from conftest import RESULTS, load_r

DATA = RESULTS / "data"
pytestmark = pytest.mark.cli

MAGIC = {".png": b"\x89PNG", ".pdf": b"%PDF", ".svg": b"<?xml"}


def run(capsys, *args) -> tuple[int, str, str]:
    code = _run([str(a) for a in args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def run_json(capsys, *args) -> dict:
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    """A small synthetic cohort with a predicted-risk column, a 0/1 predictor and missing values."""
    rng = np.random.default_rng(11)
    n = 120
    x = rng.normal(1.0, 0.4, n)
    b = rng.integers(0, 2, n)
    lp = -2 + 1.8 * x + 0.9 * b
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    df = pd.DataFrame({"y": y, "msuv": np.round(x, 2), "flag": b, "age": rng.integers(20, 80, n),
                       "risk": np.round(1 / (1 + np.exp(-lp)), 4)})
    df.loc[[3, 17], "age"] = np.nan
    path = tmp_path_factory.mktemp("cohort") / "cohort.csv"
    df.to_csv(path, index=False)
    return path


# ----------------------------------------------------------------------------- --plot
@pytest.mark.slow
@pytest.mark.parametrize(("command", "ext"), [("roc", ".png"), ("dca", ".svg"), ("evaluate", ".pdf"),
                                             ("calibrate", ".png"), ("nomogram", ".pdf"), ("validate", ".svg"),
                                             ("anova", ".png"), ("effects", ".pdf")])
def test_plot_writes_the_figure_in_the_format_of_its_extension(capsys, tmp_path, cohort, command, ext):
    out = tmp_path / f"fig{ext}"
    args = {
        "roc": ["roc", cohort, "-y", "y", "-s", "msuv", "-s", "age"],
        "dca": ["dca", cohort, "-y", "y", "-s", "risk", "--thresholds", "0.05:0.6:0.05"],
        "evaluate": ["evaluate", cohort, "-y", "y", "--prob", "risk"],
        "calibrate": ["calibrate", cohort, "-y", "y", "-x", "msuv,flag", "-B", "20", "--seed", "1"],
        "nomogram": ["nomogram", cohort, "-y", "y", "-x", "msuv,flag"],
        "validate": ["validate", cohort, "-y", "y", "-x", "msuv,flag", "-B", "20", "--seed", "1", "--auc"],
        "anova": ["anova", cohort, "-y", "y", "-x", "msuv,flag,age"],
        "effects": ["effects", cohort, "-y", "y", "-x", "msuv,flag"],
    }[command]
    code, stdout, err = run(capsys, *args, "--plot", out)
    assert code == 0, err
    assert out.read_bytes()[:5].startswith(MAGIC[ext])
    assert f"figure written to {out}" in stdout
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left
    # with --json stdout stays pure JSON
    out2 = tmp_path / f"again{ext}"
    code, stdout, err = run(capsys, *args, "--plot", out2, "--json")
    assert code == 0 and json.loads(stdout) and out2.exists()


@pytest.mark.parametrize("command", ["roc", "dca", "evaluate", "calibrate", "nomogram", "anova", "effects"])
def test_plot_with_an_unknown_extension_is_refused_before_any_work(capsys, tmp_path, command):
    missing = tmp_path / "no-such-file.csv"  # never read: the --plot check comes first
    args = {
        "roc": ["roc", missing, "-y", "y", "-s", "a"],
        "dca": ["dca", missing, "-y", "y", "-s", "a"],
        "evaluate": ["evaluate", missing, "-y", "y", "--prob", "a"],
        "calibrate": ["calibrate", missing, "-y", "y", "-x", "a"],
        "nomogram": ["nomogram", missing, "-y", "y", "-x", "a"],
        "anova": ["anova", missing, "-y", "y", "-x", "a"],
        "effects": ["effects", missing, "-y", "y", "-x", "a"],
    }[command]
    code, out, err = run(capsys, *args, "--plot", tmp_path / "figure.jpg")
    assert code == 2
    assert err.strip().count("\n") == 0 and "--plot" in err and ".png, .svg or .pdf" in err and ".jpg" in err
    assert not (tmp_path / "figure.jpg").exists()
    code, out, err = run(capsys, *args, "--plot", tmp_path / "nofolder" / "f.png")
    assert code == 2 and "does not exist" in err


def test_validate_plot_needs_auc(capsys, cohort, tmp_path):
    code, _, err = run(capsys, "validate", cohort, "-y", "y", "-x", "msuv", "-B", "5", "--plot", tmp_path / "a.png")
    assert code == 2 and "--auc" in err


def test_synthetic_export_is_watermarked(capsys, tmp_path):
    from myorisk.commands._common import watermark

    assert watermark(pd.DataFrame({"synthetic": [1, 1], "x": [1, 2]})) == "SYNTHETIC DATA"
    assert watermark(pd.DataFrame({"synthetic": [1, 0]})) is None
    assert watermark(pd.DataFrame({"x": [1]})) is None


# ----------------------------------------------------------------------------- roc: many scores
R = load_r("roc")


def test_roc_with_three_scores_tests_every_pair_against_pROC_and_holm(capsys, tmp_path):
    ref = R["all_pairs"]
    args = ["roc", DATA / "asah.csv", "-y", ref["outcome"]]
    for s in ref["scores"]:
        args += ["-s", s]
    res = run_json(capsys, *args)
    assert [c["score"] for c in res["curves"]] == ref["scores"]
    assert "delong" not in res  # the two-score key keeps its meaning
    got = res["delong_pairs"]
    assert [(p["score1"], p["score2"]) for p in got] == [(p["score1"], p["score2"]) for p in ref["pairs"]]
    for g, r in zip(got, ref["pairs"], strict=True):
        assert_allclose([g["z"], g["diff"], g["ci_low"], g["ci_high"]], [r["z"], r["diff"], *r["conf_int"]], rtol=1e-6)
        assert_allclose([g["p"], g["p_holm"]], [r["p"], r["p_holm"]], rtol=1e-5)
    assert "Holm" in res["multiplicity"] and "3 pairwise" in res["multiplicity"]
    code, out, err = run(capsys, *args)
    assert code == 0 and "p (Holm)" in out and "multiplicity" in out


def test_roc_with_two_scores_keeps_delong_and_adds_delong_pairs(capsys):
    res = run_json(capsys, "roc", DATA / "asah.csv", "-y", "poor", "-s", "wfns", "-s", "s100b")
    assert set(res["delong"]) == {"z", "p", "diff", "ci_low", "ci_high"}
    (pair,) = res["delong_pairs"]
    assert pair["p_holm"] == pair["p"] == res["delong"]["p"]
    ref = next(p for p in R["paired"] if (p["p1"], p["p2"]) == ("wfns", "s100b"))
    assert_allclose(res["delong"]["z"], ref["z"], rtol=1e-6)


def test_roc_same_score_twice_is_refused(capsys):
    code, _, err = run(capsys, "roc", DATA / "asah.csv", "-y", "poor", "-s", "wfns", "-s", "s100b", "-s", "wfns")
    assert code == 2 and "'wfns' is given twice" in err


def test_holm_matches_definition():
    from myorisk.modeling.multiplicity import holm_adjust

    p = np.array([0.01, 0.04, 0.03, np.nan, 0.5])
    # m = 4 non-missing: sorted 0.01, 0.03, 0.04, 0.5 -> 0.04, 0.09, 0.09 (monotone), 0.5
    assert_allclose(holm_adjust(p), [0.04, 0.09, 0.09, np.nan, 0.5])
    assert holm_adjust([]).size == 0


# ----------------------------------------------------------------------------- numbers people read
def test_thresholds_print_as_typed_in_table_and_json(capsys, cohort):
    res = run_json(capsys, "dca", cohort, "-y", "y", "-s", "risk", "--thresholds", "0.8:0.9:0.01")
    assert res["thresholds"][2] == 0.82 and "0.8200000000000001" not in json.dumps(res)
    code, out, _ = run(capsys, "dca", cohort, "-y", "y", "-s", "risk", "--thresholds", "0.8:0.9:0.01")
    assert " 0.82 " in out and "0.8200000000000001" not in out
    # treat none is exactly 0 in every row: printed 0, not 0.0000 or -0.000e+00
    rows = [ln.split("│") for ln in out.splitlines() if "│" in ln]
    assert {r[-1].strip() for r in rows} == {"0"}


def test_youden_threshold_without_float_noise(capsys, tmp_path):
    # scores 0.81 and 0.83 around the optimum: the midpoint is 0.82, not 0.8200000000000001
    d = pd.DataFrame({"y": [0, 0, 0, 1, 1, 1], "s": [0.5, 0.7, 0.81, 0.83, 0.9, 0.95]})
    p = tmp_path / "d.csv"
    d.to_csv(p, index=False)
    res = run_json(capsys, "roc", p, "-y", "y", "-s", "s")
    assert res["curves"][0]["best"]["threshold"] == 0.82
    code, out, _ = run(capsys, "roc", p, "-y", "y", "-s", "s")
    assert "threshold 0.82 " in out


def test_column_formatter_rules():
    from myorisk.commands._common import column_formatter, fmt, fmt_value, pct

    f = column_formatter([3.0, 12.0, 7.0])  # whole numbers stored as floats
    assert [f(v) for v in (3.0, 12.0)] == ["3", "12"]
    f = column_formatter([0.05, 0.1, 0.15])  # a grid keeps its decimals
    assert [f(v) for v in (0.05, 0.1)] == ["0.05", "0.10"]
    f = column_formatter([0.123456, -1.4e-17, 2.5])  # machine noise is 0, decimals line up
    assert [f(v) for v in (0.123456, -1.4e-17, 2.5)] == ["0.1235", "0.0000", "2.5000"]
    f = column_formatter([0.00012, 0.5])  # the smallest value keeps two significant digits
    assert f(0.00012) == "0.00012" and f(0.5) == "0.50000"
    f = column_formatter([1.5e-9, 0.5])  # beyond 8 decimals: scientific for the whole column
    assert f(1.5e-9) == "1.500e-09" and f(0.5) == "5.000e-01"
    f = column_formatter([3e-12, 1.0e10])  # 3e-12 is noise beside 1e10
    assert f(3e-12) == "0"
    # odds ratios of an unstable spline fit span 1e-48 … 4e195: 0.25 is a real value, not noise,
    # and a huge value is never written out in 200 digits
    f = column_formatter([383.7, 0.2521, 5.8e-5, 5.39e13, 2.4e-48])
    assert f(0.2521) == "2.521e-01" and f(383.7) == "3.837e+02"
    f = column_formatter([26176.1, 1.2e65, 3.986e195])
    assert f(3.986e195) == "3.986e+195" and f(26176.1) == "2.618e+04"
    assert fmt(-1.4e-17) == "0" and fmt(5) == "5" and fmt(0.25) == "0.2500"
    assert fmt_value(0.8200000000000001) == "0.82" and fmt_value(0.123456) == "0.1235"
    assert pct(0.95) == "95%" and pct(0.975) == "97.5%"


def test_wide_tables_are_split_to_the_terminal_width(capsys, monkeypatch):
    import io

    from rich.console import Console

    from myorisk.commands._common import table

    frame = pd.DataFrame({"name": ["alpha", "beta"], **{f"column_{i}": [1.5 * i, 2.25 * i] for i in range(12)}})
    con = Console(file=io.StringIO(), width=200, record=True, highlight=False)
    con.print(table(frame, title="wide", width=60))
    text = con.export_text()
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 60
    assert text.count("alpha") >= 2  # the first column repeated in every block
    assert "column_11" in text and "--json gives it whole" in text
    # piped (not a terminal), even with $COLUMNS set: one table at full width
    monkeypatch.setenv("COLUMNS", "70")
    con = Console(file=io.StringIO(), width=400, record=True)
    con.print(table(frame))
    assert con.export_text().count("alpha") == 1
    # on a terminal: the terminal's width
    import myorisk.commands._common as common

    class Terminal:
        def isatty(self) -> bool:
            return True

        def write(self, text: str) -> int:
            return len(text)

    monkeypatch.setattr(common.sys, "stdout", Terminal())
    monkeypatch.setattr(common, "out", Console(width=64))
    con = Console(file=io.StringIO(), width=400, record=True)
    con.print(table(frame))
    text = con.export_text()
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 64 and text.count("alpha") >= 2


# ----------------------------------------------------------------------------- item 7
def test_per_unit_odds_ratios_in_table_and_json(capsys, cohort):
    plain = run_json(capsys, "fit", cohort, "-y", "y", "-x", "msuv,flag")
    per = run_json(capsys, "fit", cohort, "-y", "y", "-x", "msuv,flag", "--per", "msuv=0.1")
    a = next(t for t in plain["terms"] if t["term"] == "msuv")
    b = next(t for t in per["terms"] if t["term"] == "msuv")
    assert_allclose([b["or"], b["or_low"], b["or_high"]], np.array([a["or"], a["or_low"], a["or_high"]]) ** 0.1,
                    rtol=1e-12)
    assert b["coef"] == a["coef"] and b["per"] == 0.1 and per["per"] == {"msuv": 0.1}
    flag = next(t for t in per["terms"] if t["term"] == "flag")
    assert flag["per"] == 1.0 and flag["or"] == next(t for t in plain["terms"] if t["term"] == "flag")["or"]
    # a negative unit swaps the limits
    neg = run_json(capsys, "univariate", cohort, "-y", "y", "-x", "msuv", "--per", "msuv=-1")
    r = neg["rows"][0]
    assert r["or_low"] < r["or"] < r["or_high"] and r["per"] == -1.0
    code, out, _ = run(capsys, "univariate", cohort, "-y", "y", "-x", "msuv,age", "--per", "msuv=0.1", "--per", "age=10")
    assert code == 0 and "OR per" in out
    for bad, msg in (("msuv", "VAR=UNIT"), ("msuv=0", "other than 0"), ("nope=1", "not one of the predictors"),
                     ("msuv=x", "not a number")):
        code, _, err = run(capsys, "fit", cohort, "-y", "y", "-x", "msuv,flag", "--per", bad)
        assert code == 2 and msg in err, err


def test_per_unit_of_a_spline_or_interaction_variable_is_refused_clearly(capsys, cohort):
    """It said "'msuv' is not one of the predictors (rcs(msuv, 3), flag)"; and with msuv listed beside
    an interaction it silently gave the OR at the reference level of the other factor."""
    for x, through in (("rcs(msuv, 3),flag", "rcs(msuv)"), ("msuv,flag,msuv:flag", "msuv * flag"),
                       ("msuv*flag", "msuv * flag")):
        code, _, err = run(capsys, "fit", cohort, "-y", "y", "-x", x, "--per", "msuv=0.1")
        assert code == 2 and f"enters the model through '{through}'" in err and "effects --or" in err, err


def test_validate_and_calibrate_json_have_the_missing_block_of_fit(capsys, cohort):
    fit = run_json(capsys, "fit", cohort, "-y", "y", "-x", "msuv,age")
    for cmd in ("validate", "calibrate"):
        res = run_json(capsys, cmd, cohort, "-y", "y", "-x", "msuv,age", "-B", "10", "--seed", "3")
        assert res["missing"] == fit["missing"]
        assert res["missing"]["n_dropped"] == 2 and res["missing"]["by_column"]["age"] == 2


def test_firth_fit_json_has_the_penalised_loglik(capsys):
    res = run_json(capsys, "fit", DATA / "endometrial.csv", "-y", "HG", "-x", "NV,PI,EH", "--firth")
    ref = next(c for c in load_r("logistic")["firth"] if c["name"] == "endometrial")
    assert_allclose([res["loglik"], res["loglik_penalized"], res["loglik_null_penalized"]],
                    [ref["loglik"], ref["loglik_penalized"], ref["loglik_null_penalized"]], rtol=1e-8)
    code, out, _ = run(capsys, "fit", DATA / "endometrial.csv", "-y", "HG", "-x", "NV,PI,EH", "--firth")
    assert "penalised -24.0373" in out


def test_nomogram_binary_axes_read_no_yes(capsys, cohort):
    res = run_json(capsys, "nomogram", cohort, "-y", "y", "-x", "msuv,flag")
    flag = next(a for a in res["axes"] if a["variable"] == "flag")
    assert flag["labels"] == ["0", "1"] and flag["display_labels"] == ["No", "Yes"]  # rms labels kept
    msuv = next(a for a in res["axes"] if a["variable"] == "msuv")
    assert msuv["display_labels"] == msuv["labels"]
    code, out, _ = run(capsys, "nomogram", cohort, "-y", "y", "-x", "msuv,flag")
    block = out[out.index("\nflag"):]
    assert " No " in block and " Yes " in block


def test_table1_chooses_median_iqr_as_study_does(capsys, tmp_path):
    rng = np.random.default_rng(5)
    n = 80
    d = pd.DataFrame({"g": np.repeat([0, 1], n // 2), "skewed": np.round(rng.lognormal(5, 1.2, n), 1),
                      "normal": np.round(rng.normal(50, 8, n), 1)})
    p = tmp_path / "t.csv"
    d.to_csv(p, index=False)
    code, out, err = run(capsys, "table1", p, "-v", "skewed,normal", "--by", "g")
    assert code == 0, err
    assert "skewed, median" in out and "normal, mean ± SD" in out
    code, out, _ = run(capsys, "table1", p, "-v", "skewed,normal", "--by", "g", "--nonnormal", "none")
    assert "skewed, mean ± SD" in out
    # the same rule as the study pipeline's Table 1 (nonnormal = "auto")
    from myorisk._json import clean
    from myorisk.modeling.tableone import table_one
    from myorisk.study.config import Table1Config

    study_rule = table_one(d, by="g", variables=["skewed", "normal"], nonnormal=Table1Config().nonnormal)
    res = run_json(capsys, "table1", p, "-v", "skewed,normal", "--by", "g")
    assert res == json.loads(json.dumps(clean(study_rule.to_dict())))


# ----------------------------------------------------------------------------- report figures and tables
@pytest.mark.unit
def test_roc_legend_moves_off_a_curve_in_its_usual_corner():
    from myorisk.modeling.roc import roc_curve
    from myorisk.report.figures import _occupied, roc_plot

    rng = np.random.default_rng(2)
    y = np.repeat([0, 1], 60)
    bad = roc_curve(y, -y + rng.normal(0, 0.6, 120), direction="<")  # AUC ≈ 0.1: runs through lower right
    good = roc_curve(y, y + rng.normal(0, 0.8, 120), direction="<")
    fig = roc_plot([("bad score", bad), ("good score", good)])
    ax = fig.axes[0]
    r = fig.canvas.get_renderer()
    bb = ax.get_legend().get_window_extent(r)
    pts, boxes = _occupied(ax, r)
    inside = (pts[:, 0] >= bb.x0) & (pts[:, 0] <= bb.x1) & (pts[:, 1] >= bb.y0) & (pts[:, 1] <= bb.y1)
    assert bad.auc < 0.2 and not inside.any()
    assert not any(bb.overlaps(b) for b in boxes)


@pytest.mark.unit
def test_report_tables_have_readable_headers():
    from myorisk.report.html import frame_html
    from myorisk.report.tables import readable

    fr = pd.DataFrame({"term": ["age", "sex=male"], "coef": [0.0123, 1.2], "se": [0.01, 0.4],
                       "p": [0.2, 0.0004], "or": [1.0124, 3.32], "or_low": [0.99, 1.51], "or_high": [1.03, 7.3]})
    d = readable(fr)
    assert list(d.columns) == ["Term", "β", "SE", "p", "OR (95% CI)"]
    assert d["OR (95% CI)"].tolist() == ["1.01 (0.99–1.03)", "3.32 (1.51–7.30)"]
    html = frame_html(d, preformatted=True)
    assert "<th>OR (95% CI)</th>" in html and "or_low" not in html


@pytest.mark.slow
def test_report_html_shows_no_field_names_as_headers(tmp_path):
    import re
    import warnings

    from myorisk.report.write import write
    from myorisk.study.demo import demo_config
    from myorisk.study.pipeline import run as run_study

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_study(demo_config("study-a", B=10))
    write(res, tmp_path / "rep")
    html = (tmp_path / "rep" / "report.html").read_text(encoding="utf-8")
    heads = set(re.findall(r"<th>([^<]*)</th>", html))
    assert {"OR (95% CI)", "AUC (95% CI)", "β", "SE"} <= heads
    field_names = {"or", "or_low", "or_high", "coef", "se", "variable", "label", "apparent", "optimism",
                   "corrected", "index", "model", "test", "statistic", "auc", "diff"}
    assert not heads & field_names, heads & field_names
    # the study's decision thresholds are the configured grid as written (0.35, not 0.35000000000000003)
    stored = json.loads((tmp_path / "rep" / "results.json").read_text(encoding="utf-8"))
    for dc in stored["decision_curves"].values():  # (a computed net benefit may be 0.35000000000000003)
        assert 0.35 in dc["thresholds"] and 0.35000000000000003 not in dc["thresholds"]
        assert "0.35000000000000003" not in json.dumps(dc["thresholds"])
    # the files keep the field names for programs
    assert "or_low" in (tmp_path / "rep" / "tables" / "univariate.csv").read_text(encoding="utf-8-sig")
