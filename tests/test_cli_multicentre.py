"""site-summary → meta through the CLI: R parity end to end, no row-level data, refusals."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from myorisk.cli import _run

from conftest import RESULTS, load_r

R = load_r("meta")
pytestmark = pytest.mark.cli


def run(capsys, *args):
    code = _run([str(a) for a in args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def _spec(path, b0=-1.1, b1=0.8, b2=0.75):
    """The fixed model of tests/results/meta.R as a model spec file."""
    d = {"format": "myorisk-model/1", "name": "meta-test", "title": "test model",
         "outcome": {"name": "y", "event": "1"},
         "variables": [{"name": "x1", "kind": "numeric", "min": -10, "max": 10},
                       {"name": "x2", "kind": "binary"}],
         "coefficients": {"Intercept": b0, "x1": b1, "x2": b2},
         "provenance": {"status": "fitted", "source": "tests"}}
    path.write_text(json.dumps(d))
    return path


def _site_files(capsys, tmp_path, spec, min_cell="0"):
    d = pd.read_csv(RESULTS / "data" / "meta_sites.csv")
    files = []
    for site, g in d.groupby("site"):
        csv = tmp_path / f"{site}.csv"
        g.drop(columns="site").to_csv(csv, index=False)
        out = tmp_path / f"{site}.json"
        code, o, e = run(capsys, "site-summary", csv, "--model", spec, "--site", site, "--out", out,
                         "--min-cell", min_cell)
        assert code == 0, e
        assert "no patient-level value" in o and f"wrote {out}" in o
        files.append(out)
    return files


def test_site_summary_and_meta_equal_r(capsys, tmp_path):
    spec = _spec(tmp_path / "model.json")
    files = _site_files(capsys, tmp_path, spec)
    code, out, err = run(capsys, "meta", *files, "--json")
    assert code == 0, err
    res = json.loads(out)
    assert set(res) >= {"sites", "pooled"}
    keys = {"site", "n", "events", "c", "c_se_logit", "c_low", "c_high", "oe", "log_oe_se", "oe_low",
            "oe_high", "slope", "slope_se", "slope_low", "slope_high"}
    ref = {s["site"]: s for s in R["sites"]}
    for s in res["sites"]:
        assert keys <= set(s)
        r = ref[s["site"]]
        for k in ("n", "events", "c", "c_se_logit", "oe", "log_oe_se", "slope", "slope_se"):
            assert s[k] == pytest.approx(r[k], rel=1e-6, abs=1e-9), (s["site"], k)
        z = 1.959963984540054
        assert s["oe_low"] == pytest.approx(math.exp(math.log(r["oe"]) - z * r["log_oe_se"]), rel=1e-9)
        assert s["c_high"] == pytest.approx(1 / (1 + math.exp(-(r["c_logit"] + z * r["c_se_logit"]))), rel=1e-9)
    back = {"c": lambda v: 1 / (1 + math.exp(-v)), "oe": math.exp}
    for m in ("c", "oe", "slope", "citl"):
        p, r = res["pooled"][m], R["meta_sites"][m]
        f = back.get(m, lambda v: v)
        for k in ("estimate", "low", "high", "pi_low", "pi_high"):
            assert p[k] == pytest.approx(f(r[k]), rel=1e-6, abs=1e-9), (m, k)
        assert p["tau2"] == pytest.approx(r["tau2"], rel=1e-6, abs=1e-9)
        assert p["i2"] == pytest.approx(r["i2"], rel=1e-6, abs=1e-7)
    assert res["pooled"]["c"]["acceptable"]["probability"] == pytest.approx(R["meta_sites"]["c"]["prob"], rel=1e-6)
    assert res["pooled"]["oe"]["acceptable"]["probability"] == pytest.approx(R["meta_sites"]["oe"]["prob"], rel=1e-6)
    # readable output, a plot and a report from the same files
    code, out, err = run(capsys, "meta", *files, "--plot", tmp_path / "forest.svg", "--report", tmp_path / "rep")
    assert code == 0, err
    assert "Random-effects meta-analysis of 5 centres" in out
    assert (tmp_path / "forest.svg").read_text().startswith("<?xml")
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "Multi-centre external validation" in html and "meta-test" in html
    assert json.loads((tmp_path / "rep" / "results.json").read_text())["pooled"]["c"]["k"] == 5


def test_site_file_holds_no_patient_value(capsys, tmp_path):
    """A small cohort with distinctive values: none of them, nor any patient's risk, appears in the file."""
    rng = np.random.default_rng(2026)
    n = 60
    df = pd.DataFrame({
        "patient_id": [f"PT-{rng.integers(10**6, 10**7)}" for _ in range(n)],
        "age": np.round(rng.uniform(20, 80, n), 3),
        "anti_tif1g": rng.integers(0, 2, n),
        "alopecia": rng.integers(0, 2, n),
        "gi_vas": np.round(rng.uniform(0.01, 9.99, n), 4),
        "ck": np.round(rng.lognormal(6, 1, n), 2),
    })
    df["refractory"] = (rng.uniform(size=n) < 0.35).astype(int)
    data = tmp_path / "cohort.csv"
    df.to_csv(data, index=False)
    out = tmp_path / "site.json"
    code, o, e = run(capsys, "site-summary", data, "--model", "redmi", "--site", "X", "--out", out)
    assert code == 0, e
    text = out.read_text()
    doc = json.loads(text)
    numbers, strings = [], []

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                strings.append(k)
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, bool):
            pass
        elif isinstance(v, (int, float)):
            numbers.append(float(v))
        elif isinstance(v, str):
            strings.append(v)

    walk(doc)
    from myorisk.modeling.spec import load_spec, predict

    scored = predict(load_spec("redmi"), df, points=False)
    values = set()
    for c in ("age", "gi_vas", "ck"):
        values |= set(df[c].astype(float))
    values |= set(scored["probability"]) | set(scored["linear_predictor"])
    nums = np.array(numbers)
    for v in values:
        assert not np.any(np.isclose(nums, v, rtol=1e-9, atol=0)), v
    for pid in df["patient_id"]:
        assert pid not in text
    for c in ("age", "gi_vas", "ck"):  # as printed in the input file
        for v in df[c].astype(str):
            assert f": {v}," not in text and f": {v}\n" not in text, (c, v)
    assert doc["performance"]["n"] == n
    counts = [r.get(k) for r in doc["performance"]["net_benefit"] for k in ("tp", "fp")]
    counts += [r["n"] for r in doc["performance"]["calibration"]]
    assert all(c is None or c == 0 or c >= 5 for c in counts)


def test_meta_refuses_different_models_and_bad_input(capsys, tmp_path):
    a = _spec(tmp_path / "a.json")
    b = _spec(tmp_path / "b.json", b1=0.81)
    files_a = _site_files(capsys, tmp_path, a)
    d = pd.read_csv(RESULTS / "data" / "meta_sites.csv")
    d[d["site"] == "A"].drop(columns="site").to_csv(tmp_path / "other.csv", index=False)
    code, _, e = run(capsys, "site-summary", tmp_path / "other.csv", "--model", b, "--site", "F",
                     "--out", tmp_path / "F.json")
    assert code == 0, e
    code, out, err = run(capsys, "meta", files_a[0], files_a[1], tmp_path / "F.json")
    assert code == 2
    assert "different models" in err and "A.json, B.json" in err and "F.json" in err
    assert err.count("\n") == 1
    code, _, err = run(capsys, "meta", files_a[0])
    assert code == 2 and "at least 2" in err
    code, _, err = run(capsys, "meta", files_a[0], files_a[0])
    assert code == 2 and "given twice" in err
    (tmp_path / "junk.json").write_text('{"format": "x"}')
    code, _, err = run(capsys, "meta", files_a[0], tmp_path / "junk.json")
    assert code == 2 and "junk.json: not a site file" in err
    # too few events for the small-cell rule: nothing written
    small = d[d["site"] == "A"].drop(columns="site").copy()
    small["y"] = 0
    small.iloc[:3, small.columns.get_loc("y")] = 1
    small.to_csv(tmp_path / "small.csv", index=False)
    code, _, err = run(capsys, "site-summary", tmp_path / "small.csv", "--model", a, "--site", "S",
                       "--out", tmp_path / "S.json")
    assert code == 2 and "fewer than 5 events" in err
    assert not (tmp_path / "S.json").exists()
    # --dry-run writes nothing
    before = sorted(tmp_path.iterdir())
    code, out, _ = run(capsys, "site-summary", tmp_path / "other.csv", "--model", a, "--site", "Z",
                       "--dry-run")
    assert code == 0 and "would contain" in out and sorted(tmp_path.iterdir()) == before


def test_validate_by_centre_equals_r(capsys, tmp_path):
    """Internal–external cross-validation: glm on the other centres, validated on the one left out."""
    code, out, err = run(capsys, "validate", RESULTS / "data" / "meta_sites.csv", "-y", "y", "-x", "x1,x2",
                         "--by", "site", "--json", "--plot", tmp_path / "iecv.png")
    assert code == 0, err
    res = json.loads(out)
    assert res["kind"] == "internal-external" and res["by"] == "site"
    ref = {s["site"]: s for s in R["iecv"]["sites"]}
    for s in res["sites"]:
        r = ref[s["site"]]
        for k in ("n", "events", "oe", "log_oe_se", "citl", "citl_se", "slope", "slope_se", "c", "c_se_logit"):
            assert s[k] == pytest.approx(r[k], rel=1e-6, abs=1e-9), (s["site"], k)
    back = {"c": lambda v: 1 / (1 + math.exp(-v)), "oe": math.exp}
    for m in ("c", "oe", "slope", "citl"):
        f = back.get(m, lambda v: v)
        for k in ("estimate", "low", "high", "pi_low", "pi_high"):
            assert res["pooled"][m][k] == pytest.approx(f(R["iecv"][m][k]), rel=1e-6, abs=1e-9), (m, k)
        assert res["pooled"][m]["tau2"] == pytest.approx(R["iecv"][m]["tau2"], rel=1e-6, abs=1e-9)
    assert (tmp_path / "iecv.png").stat().st_size > 10_000
    code, _, err = run(capsys, "validate", RESULTS / "data" / "meta_sites.csv", "-y", "y", "-x", "x1,x2",
                       "--by", "site", "-B", "50")
    assert code == 2 and "--bootstrap" in err
    code, _, err = run(capsys, "validate", RESULTS / "data" / "meta_sites.csv", "-y", "y", "-x", "x1,x2",
                       "--by", "nosuch")
    assert code == 2 and "'nosuch' not found" in err


def test_sample_size_validation_cli(capsys):
    code, out, err = run(capsys, "sample-size", "--validation", "--prevalence", "0.018", "--cstatistic", "0.8",
                         "--lp-beta", "0.5,0.5", "--oe-ci-width", "1", "--simobs", "1000", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert [c["n"] for c in res["criteria"]] == [905, 1641, 4252] and res["n"] == 4252
    assert res["binding"] == "cstatistic"
    code, _, err = run(capsys, "sample-size", "--validation", "--prevalence", "0.018", "--cstatistic", "0.8",
                       "--lp-normal", "-5")
    assert code == 2 and "--lp-normal takes two numbers" in err
    code, _, err = run(capsys, "sample-size", "--validation", "--prevalence", "0.018", "--cstatistic", "0.8",
                       "--parameters", "5", "--lp-normal=-5,2.5")
    assert code == 2 and "--parameters" in err
    code, _, err = run(capsys, "sample-size", "--prevalence", "0.2", "--cstatistic", "0.8")
    assert code == 2 and "--parameters" in err


@pytest.mark.slow
def test_multicentre_demo_flow(tmp_path):
    """The demo's flow: synthetic centres → site files → pooled reports; the miscalibrated centre shows."""
    from myorisk.study.multicentre import run_multicentre_demo

    reports = run_multicentre_demo(tmp_path / "mc")
    assert [p.parent.name for p in reports] == ["redmi", "study-a"]
    sites = sorted((tmp_path / "mc" / "sites").glob("*.json"))
    assert len(sites) == 6
    docs = {json.loads(p.read_text())["site"]: json.loads(p.read_text()) for p in sites}
    assert all(d["synthetic"] for d in docs.values())
    assert all(d["model"]["hash"] == docs["North (synthetic)"]["model"]["hash"]
               for k, d in docs.items() if k in ("Coast (synthetic)", "Valley (synthetic)", "Highland (synthetic)"))
    oe = {k: d["performance"]["oe"] for k, d in docs.items()}
    assert oe["Highland (synthetic)"] > 1.25 > max(oe["North (synthetic)"], oe["Valley (synthetic)"])
    res = json.loads((tmp_path / "mc" / "redmi" / "results.json").read_text())
    assert res["synthetic"] is True and res["pooled"]["oe"]["i2"] > 50  # the miscalibrated centre shows
    html = reports[0].read_text()
    assert "SYNTHETIC DATA" in html and "Highland (synthetic)" in html
    df = pd.read_csv(tmp_path / "mc" / "data" / "redmi-highland.csv")
    assert (df["synthetic"] == 1).all() and df["patient_id"].str.startswith("SYN-BV").all()


@pytest.mark.unit
def test_study_config_sites_checked():
    from myorisk.study.config import SitesConfig

    assert SitesConfig(by="centre").files == []
    with pytest.raises(ValueError, match="at least 2 site files"):
        SitesConfig(files=["a.json"])
    with pytest.raises(ValueError, match="give 'files'"):
        SitesConfig()


@pytest.mark.slow
def test_study_config_with_site_files_writes_meta_report(capsys, tmp_path):
    from importlib import resources

    from myorisk.datasets.multicentre import generate_redmi_centres
    from myorisk.study.demo import DEMO_STUDIES

    for i, (name, df) in enumerate(list(generate_redmi_centres().items())[:3]):
        df.to_csv(tmp_path / f"c{i}.csv", index=False)
        code, _, e = run(capsys, "site-summary", tmp_path / f"c{i}.csv", "--model", "redmi", "--site", name,
                         "--out", tmp_path / f"c{i}.json")
        assert code == 0, e
    ref = resources.files("myorisk.study").joinpath("configs", DEMO_STUDIES["study-b"])
    with resources.as_file(ref) as cfg:
        text = cfg.read_text()
    (tmp_path / "b.yaml").write_text(text + "\nsites:\n  files: [c0.json, c1.json, c2.json]\n")
    code, out, err = run(capsys, "study", tmp_path / "b.yaml", "--out", tmp_path / "rep", "-B", "20", "-q")
    assert code == 0, err
    html = (tmp_path / "rep" / "meta-analysis" / "report.html").read_text()
    assert "redmi" in html and "SYNTHETIC DATA" in html
    (tmp_path / "b2.yaml").write_text(text + "\nsites:\n  files: [c0.json, missing.json]\n")
    code, _, err = run(capsys, "study", tmp_path / "b2.yaml", "--out", tmp_path / "rep2", "-B", "20", "-q")
    assert code == 2 and "missing.json: file not found" in err
    assert not (tmp_path / "rep2").exists()


@pytest.mark.browser
def test_meta_report_pdf(capsys, tmp_path):
    spec = _spec(tmp_path / "model.json")
    files = _site_files(capsys, tmp_path, spec)
    code, _, err = run(capsys, "meta", *files[:3], "--report", tmp_path / "rep", "--pdf")
    assert code == 0, err
    pdf = (tmp_path / "rep" / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000


def test_meta_of_identical_centres_says_why_there_is_no_probability(capsys, tmp_path):
    """The same centre under two names: zero-width HKSJ intervals (as metafor), 'NA' and a note
    instead of 'nan' without a word."""
    spec = _spec(tmp_path / "model.json")
    first = _site_files(capsys, tmp_path, spec)[0]
    twin = tmp_path / "twin.json"
    doc = json.loads(first.read_text())
    doc["site"] = doc["site"] + " copy"
    twin.write_text(json.dumps(doc))
    code, out, err = run(capsys, "meta", first, twin)
    assert code == 0, err
    assert "nan" not in out and "NA (> 0.7)" in out
    assert "C statistic: every centre has the same estimate" in err


def test_validate_by_centre_takes_spline_terms_and_prints_negative_limits_readably(capsys, tmp_path):
    """`validate --by` refused rcs()/interaction terms ("column 'rcs(x1, 3)' not found") that plain
    `validate` takes; a CI with a negative limit reads "-0.15 to 0.65", not "-0.15–0.65"."""
    code, out, err = run(capsys, "validate", RESULTS / "data" / "meta_sites.csv", "-y", "y",
                         "-x", "rcs(x1, 3), x2, x1*x2", "--by", "site")
    assert code == 0, err
    assert "Calibration-in-the-large" in out and "rcs(x1, 3)" in err
    assert not any(ch.isdigit() and nxt == "–" and "-" in tok
                   for tok in out.split() for ch, nxt in zip(tok, tok[1:], strict=False))
    code, out, err = run(capsys, "validate", RESULTS / "data" / "meta_sites.csv", "-y", "y",
                         "-x", "rcs(x1, 3), x2", "--by", "site", "--json")
    assert code == 0, err
    assert json.loads(out)["kind"] == "internal-external"
