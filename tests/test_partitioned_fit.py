"""``myorisk fit DATA`` on Parquet partitions: the same numbers as ``fit`` on the CSV and as R's glm/lrm
(tests/results/partitioned.R), on threads and on a real local Dask cluster; bad inputs named once."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from myorisk.cli import _run

from conftest import RESULTS, load_r

CSV = RESULTS / "data" / "partitioned_synthetic.csv"
X = "age,crp,score,flag,dose"
R = load_r("partitioned")


def run(capsys, *args) -> tuple[int, str, str]:
    code = _run([str(a) for a in args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def run_json(capsys, *args) -> dict:
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture()
def folder(tmp_path):
    """The synthetic CSV as 5 Parquet files of unequal sizes (flag stored as boolean, dose as int)."""
    d = pd.read_csv(CSV)
    d["flag"] = d["flag"].astype(bool)
    d["dose"] = d["dose"].astype("int64")
    cuts = [0, 400, 1100, 1200, 2300, len(d)]
    out = tmp_path / "parts"
    out.mkdir()
    for i in range(5):
        d.iloc[cuts[i]:cuts[i + 1]].to_parquet(out / f"part-{i}.parquet", index=False)
    (out / "_SUCCESS").write_text("")  # Spark's marker file is skipped
    return out


def _csv_and_parts(d: pd.DataFrame, tmp_path, k: int):
    """``d`` as one CSV (for ``fit``) and as ``k`` Parquet files of nearly equal size."""
    csv = tmp_path / "bw.csv"
    d.to_csv(csv, index=False)
    folder = tmp_path / "bw"
    folder.mkdir()
    for i, idx in enumerate(np.array_split(np.arange(len(d)), k)):
        d.iloc[idx].to_parquet(folder / f"p{i}.parquet", index=False)
    return csv, folder


def _close(a: dict, b: dict, keys=("coef", "se", "z")) -> None:
    for k in keys:
        np.testing.assert_allclose([t[k] for t in a["terms"]], [t[k] for t in b["terms"]], rtol=1e-10, atol=1e-13,
                                   err_msg=k)


@pytest.mark.cli
def test_parquet_folder_equals_fit_on_the_csv(capsys, folder, tmp_path):
    ref = run_json(capsys, "fit", CSV, "-y", "y", "-x", X)
    got = run_json(capsys, "fit", folder, "-y", "y", "-x", X)
    assert [t["term"] for t in got["terms"]] == ["Intercept", *X.split(",")]
    _close(got, ref, ("coef", "se", "z", "p", "or", "or_low", "or_high"))
    for k in ("loglik", "loglik_null", "aic", "lr_chi2", "r2_nagelkerke", "brier"):
        assert got[k] == pytest.approx(ref[k], rel=1e-10), k
    assert (got["n"], got["events"], got["lr_df"]) == (ref["n"], ref["events"], ref["lr_df"]) == (2904, 1056, 5)
    assert got["c_rms65"] == pytest.approx(ref["c_rms65"], abs=1e-12)
    bound = got["partitioned"]["c_error_bound"]
    assert 0 < bound < 1e-4 and abs(got["c"] - ref["c"]) <= bound
    assert got["dxy"] == pytest.approx(2 * got["c"] - 1)
    assert got["g"] is None and "sorted rows" in got["partitioned"]["not_computed"]["g"]
    assert got["partitioned"]["partitions"] == 5 and got["partitioned"]["executor"]["kind"] == "threads"
    m = got["missing"]
    assert (m["n_rows"], m["n_dropped"]) == (ref["missing"]["n_rows"], ref["missing"]["n_dropped"]) == (3000, 96)
    assert m["by_column"]["crp"] == ref["missing"]["by_column"]["crp"] == 66
    assert m["rows"][0] == "part-0.parquet:6" and m["rows_complete"] is False  # 10 listed per partition
    # a quoted glob, and one file whose row groups are the partitions, give the same fit
    g = run_json(capsys, "fit", f"{folder}/part-*.parquet", "-y", "y", "-x", X)
    _close(g, got)
    one = tmp_path / "all.parquet"
    pq.write_table(pa.Table.from_pandas(pd.read_csv(CSV), preserve_index=False), one, row_group_size=700)
    s = run_json(capsys, "fit", one, "-y", "y", "-x", X)
    assert s["partitioned"]["partitions"] == 5
    _close(s, got)
    assert s["missing"]["rows"][0] == "all.parquet:6"


@pytest.mark.cli
@pytest.mark.r_parity
def test_parquet_fit_equals_r_glm_and_lrm(capsys, folder):
    d = run_json(capsys, "fit", folder, "-y", "y", "-x", X)
    t = d["terms"]
    for k, rk in (("coef", "coef"), ("se", "se"), ("z", "z"), ("p", "p")):
        np.testing.assert_allclose([x[k] for x in t], R[rk], rtol=1e-8, err_msg=k)
    np.testing.assert_allclose([x["or_low"] for x in t], np.exp(R["wald_low"]), rtol=1e-8)
    assert d["loglik"] == pytest.approx(R["loglik"], rel=1e-10)
    assert d["aic"] == pytest.approx(R["aic"], rel=1e-10)
    assert d["lr_chi2"] == pytest.approx(R["lrm_chi2"], rel=1e-8)
    assert d["r2_nagelkerke"] == pytest.approx(R["lrm_r2"], rel=1e-8)
    assert d["brier"] == pytest.approx(R["brier"], rel=1e-10)
    assert d["c_rms65"] == pytest.approx(R["lrm_c"], abs=1e-12)  # rms 6.5's binned C, exactly
    assert abs(d["c"] - R["c_exact"]) <= d["partitioned"]["c_error_bound"]  # Hmisc somers2, within the bound
    assert (d["n"], d["events"], d["missing"]["n_dropped"]) == (R["n"], R["events"], R["n_dropped"])


@pytest.mark.cli
def test_parquet_text_output_and_notes(capsys, folder):
    code, out, err = run(capsys, "fit", folder, "-y", "y", "-x", X)
    assert code == 0, err
    assert "from 5 Parquet partitions" in out and "Brier 0.1950" in out
    assert "of the exact C" in out and "not computed" in out
    assert "96 of 3000 rows with missing values were excluded" in err and "part-0.parquet:6" in err
    assert err.count("\n") == 1


@pytest.mark.cli
def test_parquet_bad_inputs_named_once(capsys, folder, tmp_path):
    def err_of(*args) -> str:
        code, out, err = run(capsys, "fit", *args)
        assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err, (code, err)
        return err

    assert "part-0.parquet: column 'nope' not found" in err_of(folder, "-y", "y", "-x", "age,nope")
    assert "rcs(age, …) is a restricted cubic spline" in err_of(folder, "-y", "y", "-x", "rcs(age, 4),crp")
    assert "needs the main effect of 'flag'" in err_of(folder, "-y", "y", "-x", "age,flag:dose")
    assert "--firth, --ci profile are not available for Parquet data" in err_of(
        folder, "-y", "y", "-x", X, "--firth", "--ci", "profile")
    assert "--workers/--scheduler apply to Parquet data" in err_of(CSV, "-y", "y", "-x", X, "--workers", "2")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no *.parquet files in this folder" in err_of(empty, "-y", "y", "-x", X)
    assert "no file matches" in err_of(f"{empty}/*.parquet", "-y", "y", "-x", X)
    assert "missing.parquet: file not found" in err_of(tmp_path / "missing.parquet", "-y", "y", "-x", X)
    # a text column; then a file whose column type differs from the others
    d = pd.read_csv(CSV).iloc[:50].assign(flag=lambda x: x["flag"].astype(bool))
    d.assign(age=d["age"].astype(str)).to_parquet(folder / "part-9.parquet", index=False)
    e = err_of(folder, "-y", "y", "-x", X)
    assert "part-9.parquet: column 'age' is text, not numeric" in e
    d.assign(flag=d["flag"].astype(float)).to_parquet(folder / "part-9.parquet", index=False)
    e = err_of(folder, "-y", "y", "-x", X)
    assert "part-9.parquet: column 'flag' is numeric here but true/false in part-0.parquet" in e and "same schema" in e
    d.assign(y=d["y"] * 2).to_parquet(folder / "part-9.parquet", index=False)
    e = err_of(folder, "-y", "y", "-x", X)
    assert "part-9.parquet: row" in e and "column 'y': outcome must be 0 or 1, not 2" in e
    d.assign(crp=np.inf).to_parquet(folder / "part-9.parquet", index=False)
    assert "part-9.parquet: row 1, column 'crp': infinite value (50 such rows" in err_of(folder, "-y", "y", "-x", X)
    (folder / "part-9.parquet").unlink()
    (folder / "notes.txt").write_text("x")
    assert "holds the file 'notes.txt', which is not a Parquet file" in err_of(folder, "-y", "y", "-x", X)
    (folder / "notes.txt").unlink()
    (folder / "bad.parquet").write_text("not parquet at all")
    assert "bad.parquet: not a readable Parquet file" in err_of(folder, "-y", "y", "-x", X)
    (folder / "bad.parquet").unlink()
    d.assign(flag=True).to_parquet(folder / "part-9.parquet", index=False)
    for f in folder.glob("part-[0-4].parquet"):
        pd.read_parquet(f).assign(flag=True).to_parquet(f, index=False)
    assert "predictor 'flag' is constant (1)" in err_of(folder, "-y", "y", "-x", X)
    for f in folder.glob("part-*.parquet"):
        pd.read_parquet(f).assign(flag=lambda x: x["dose"] * 2.0).to_parquet(f, index=False)
    assert "predictor column 'flag' is collinear with 'dose'" in err_of(folder, "-y", "y", "-x", "age,dose,flag")
    for f in folder.glob("part-*.parquet"):  # the outcome separated by a predictor; then constant
        pd.read_parquet(f).assign(y=lambda x: (x["age"] > 50).astype(int)).to_parquet(f, index=False)
    e = err_of(folder, "-y", "y", "-x", "age,dose")
    assert "parts: " in e and "separat" in e and "--firth" in e
    for f in folder.glob("part-*.parquet"):
        pd.read_parquet(f).assign(y=0).to_parquet(f, index=False)
    assert "outcome 'y' takes a single value (0)" in err_of(folder, "-y", "y", "-x", "age,dose")


@pytest.mark.cli
def test_parquet_categories_equal_fit_on_the_csv(capsys, tmp_path):
    """Text columns are categories, --categorical makes a numeric one a category, --reference
    reorders; levels come from a first pass over the complete rows of every partition."""
    d = pd.read_csv(RESULTS / "data" / "birthwt.csv")
    d.loc[3, "race"] = np.nan  # the only missing value, in a text column
    d.loc[[0, 100], "race"] = [" black ", ""]  # padded text is trimmed, blank text is missing
    csv, folder = _csv_and_parts(d, tmp_path, 3)
    args = ["-y", "low", "-x", "age,race,ht,ptl", "--categorical", "ht", "--reference", "race=white"]
    ref = run_json(capsys, "fit", csv, *args)
    got = run_json(capsys, "fit", folder, *args)
    assert [t["term"] for t in got["terms"]] == [t["term"] for t in ref["terms"]]
    assert [t["term"] for t in got["terms"]][:4] == ["Intercept", "age", "race=black", "race=other"]
    assert "ht=1" in [t["term"] for t in got["terms"]]
    _close(got, ref, ("coef", "se", "p"))
    for k in ("loglik", "aic", "lr_chi2", "brier"):
        assert got[k] == pytest.approx(ref[k], rel=1e-10), k
    assert got["c_rms65"] == pytest.approx(ref["c_rms65"], abs=1e-12)
    assert abs(got["c"] - ref["c"]) <= got["partitioned"]["c_error_bound"] + 1e-15
    assert got["missing"]["n_dropped"] == ref["missing"]["n_dropped"] == 2
    assert got["missing"]["rows"] == ["p0.parquet:4", "p1.parquet:38"]
    # a true/false outcome: the event is 'True', as fit names it
    for f in folder.glob("*.parquet"):
        pd.read_parquet(f).assign(low=lambda x: x["low"].astype(bool)).to_parquet(f, index=False)
    d.assign(low=d["low"].astype(bool)).to_csv(csv, index=False)
    b1, b2 = run_json(capsys, "fit", csv, *args), run_json(capsys, "fit", folder, *args)
    assert b1["event"] == b2["event"] == "True"
    _close(b2, ref)
    # --save writes the spec fit --save writes from the CSV (ranges and levels from the scan)
    specs = []
    for src in (csv, folder):
        path = tmp_path / f"{src.name}.json"
        assert run(capsys, "fit", src, *args, "--save", path)[0] == 0
        specs.append(json.loads(path.read_text()))
    assert specs[0]["variables"] == specs[1]["variables"]
    assert [v["kind"] for v in specs[1]["variables"]] == ["numeric", "categorical", "categorical", "numeric"]
    assert specs[1]["variables"][0]["min"] == d["age"].min()
    for k, v in specs[0]["coefficients"].items():
        assert specs[1]["coefficients"][k] == pytest.approx(v, rel=1e-10)
    code, _, err = run(capsys, "fit", folder, *args, "--save", folder / "p0.parquet")
    assert code == 2 and "would overwrite the input file p0.parquet" in err
    code, _, err = run(capsys, "fit", folder, "-y", "low", "-x", "age,race", "--reference", "race=green")
    assert code == 2 and "reference level 'green' of 'race' does not occur (levels: black, other, white)" in err


@pytest.mark.cli
def test_parquet_interactions_equal_fit_on_the_csv(capsys, tmp_path):
    """a*b and a %ia% b: products of the parents' columns (dummies too), named as fit names them."""
    d = pd.read_csv(RESULTS / "data" / "birthwt.csv")
    csv, folder = _csv_and_parts(d, tmp_path, 4)
    args = ["-y", "low", "-x", "age*lwt, race*smoke, ht %ia% age"]
    specs, fits = [], []
    for src in (csv, folder):
        path = tmp_path / f"{src.name}.json"
        fits.append(run_json(capsys, "fit", src, *args, "--save", path))
        specs.append(json.loads(path.read_text()))
    ref, got = fits
    assert [t["term"] for t in got["terms"]] == [t["term"] for t in ref["terms"]]
    assert [t["term"] for t in got["terms"]][-4:] == ["age * lwt", "race=other * smoke", "race=white * smoke",
                                                       "ht * age"]
    _close(got, ref, ("coef", "se", "p"))
    assert got["loglik"] == pytest.approx(ref["loglik"], rel=1e-10)
    assert abs(got["c"] - ref["c"]) <= got["partitioned"]["c_error_bound"]
    assert specs[0]["variables"] == specs[1]["variables"]
    assert specs[0]["terms"] == specs[1]["terms"] and len(specs[1]["terms"]) == 3


@pytest.mark.cli
@pytest.mark.slow
def test_parquet_fit_on_a_local_dask_cluster(capsys, folder):
    """A real LocalCluster of two worker processes reads the files itself: the same fit as threads."""
    a = run_json(capsys, "fit", folder, "-y", "y", "-x", X)
    b = run_json(capsys, "fit", folder, "-y", "y", "-x", X, "--workers", "2")
    ex = b["partitioned"].pop("executor")
    a["partitioned"].pop("executor")
    assert ex["kind"] == "dask" and ex["workers"] == 2
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)  # same sums in the same order


@pytest.mark.cli
@pytest.mark.slow
def test_parquet_fit_on_an_existing_cluster(capsys, folder):
    """--scheduler ADDRESS: an already running cluster (here a LocalCluster of 2 worker processes)."""
    from dask.distributed import LocalCluster

    a = run_json(capsys, "fit", folder, "-y", "y", "-x", X)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        b = run_json(capsys, "fit", folder, "-y", "y", "-x", X, "--scheduler", cluster.scheduler_address)
        v = run_json(capsys, "validate", RESULTS / "data" / "birthwt_miss.csv", "-y", "low", "-x", "age,lwt,smoke",
                     "--impute", "2", "--seed", "4", "--maxit", "2", "-B", "20", "--scheduler",
                     cluster.scheduler_address)
    ex = b["partitioned"].pop("executor")
    a["partitioned"].pop("executor")
    assert ex["kind"] == "dask" and ex["scheduler"].startswith("tcp://")
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    w = run_json(capsys, "validate", RESULTS / "data" / "birthwt_miss.csv", "-y", "low", "-x", "age,lwt,smoke",
                 "--impute", "2", "--seed", "4", "--maxit", "2", "-B", "20")
    v.pop("seconds"), w.pop("seconds")
    assert v == w
