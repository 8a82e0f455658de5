"""Table 1 against R (tests/results/tableone.R) plus brute force and behaviour checks."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import special

from myorisk.errors import InputError
from myorisk.modeling import tableone as t1
from myorisk.modeling.tableone import (
    fisher_exact_rxc,
    table_one,
    to_html,
    wilcoxon_rank_sum,
    write_csv,
    write_xlsx,
)

from conftest import load_data, load_r

pytestmark = pytest.mark.r_parity

R = load_r("tableone")
RTOL = 1e-8  # deterministic statistics
PTOL = 1e-6  # p-values

BW_CAT = ["race", "smoke", "ht", "ui", "ftv"]


def _close(actual, expected, rtol=RTOL):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=0)


def _check_cells(tab, var, rc):
    """Descriptives (n, missing, mean, SD, quartiles) of one continuous variable."""
    v = tab.variable(var)
    cells = v.cells[""]
    for g, rg in list(rc["groups"].items()) + [("Overall", rc["overall"])]:
        c = cells[g]
        assert c.n == rg["n"] and c.missing == rg["missing"]
        _close(c.mean, rg["mean"])
        if rg["sd"] is not None:
            _close(c.sd, rg["sd"])
        _close([c.q1, c.median, c.q3], rg["q"])
        if g != "Overall" and isinstance(rg["shapiro"], dict):
            _close(v.normality_p[g], rg["shapiro"]["p.value"], PTOL)


def _check_test(res, rt, rtol_stat=RTOL):
    if rt["statistic"] is not None:
        _close(res.statistic, rt["statistic"], rtol_stat)
    if rt["parameter"] is not None:
        _close(res.df, np.atleast_1d(rt["parameter"]))
    _close(res.p_value, rt["p.value"], PTOL)


# ---- continuous variables -------------------------------------------------------------------
@pytest.mark.parametrize("dataset,by,key,variables", [
    ("birthwt", "low", ("birthwt", "by_low"), ["age", "lwt"]),
    ("birthwt", "race", ("birthwt", "by_race"), ["age", "lwt"]),
    ("asah", "outcome", ("asah", "by_outcome"), ["age", "s100b", "ndka", "wfns"]),
])
def test_continuous_against_r(dataset, by, key, variables):
    d = load_data(dataset)
    rr = R[key[0]][key[1]]["continuous"]
    normal = table_one(d, by=by, variables=variables, continuous=variables)
    ranks = table_one(d, by=by, variables=variables, nonnormal=variables)
    for var in variables:
        rc = rr[var]
        _check_cells(normal, var, rc)
        two = len(rc["groups"]) == 2
        _check_test(normal.variable(var).test, rc["welch"] if two else rc["anova"])
        _check_test(ranks.variable(var).test, rc["wilcox"] if two else rc["kruskal"])
        assert normal.variable(var).summary == "mean_sd"
        assert ranks.variable(var).summary == "median_iqr"
        if two:
            student = table_one(d, by=by, variables=[var], equal_var=True)
            _check_test(student.variable(var).test, rc["student"])
            assert student.variable(var).test.test == "Student t-test"


def test_auto_normality_follows_shapiro_in_r():
    d = load_data("birthwt")
    tab = table_one(d, by="low", variables=["age", "lwt"], nonnormal="auto")
    for var in ("age", "lwt"):
        rc = R["birthwt"]["by_low"]["continuous"][var]
        any_small = any(g["shapiro"]["p.value"] < 0.05 for g in rc["groups"].values())
        assert tab.variable(var).summary == ("median_iqr" if any_small else "mean_sd")
    disp = tab.to_display()
    assert "age, median (IQR)" in set(disp["Characteristic"])


# ---- categorical variables ------------------------------------------------------------------
@pytest.mark.parametrize("dataset,by,key,variables", [
    ("birthwt", "low", ("birthwt", "by_low"), BW_CAT),
    ("birthwt", "race", ("birthwt", "by_race"), ["smoke", "low"]),
    ("asah", "outcome", ("asah", "by_outcome"), ["wfns", "gender"]),
])
def test_categorical_against_r(dataset, by, key, variables):
    d = load_data(dataset)
    rr = R[key[0]][key[1]]["categorical"]
    auto = table_one(d, by=by, variables=variables, categorical=variables)
    chisq = table_one(d, by=by, variables=variables, categorical=variables, exact="never")
    fisher = table_one(d, by=by, variables=variables, categorical=variables, exact="always")
    for var in variables:
        rc = rr[var]
        v = auto.variable(var)
        assert list(v.levels) == [str(x) for x in rc["levels"]]
        assert list(auto.groups) == [str(x) for x in rc["groups"]]
        for lvl, row in zip(v.levels, rc["counts"], strict=True):
            assert [v.cells[lvl][g].count for g in auto.groups] == row
        _check_test(chisq.variable(var).test, rc["chisq"])
        _check_test(fisher.variable(var).test, rc["fisher"])
        if "fisher_or" in rc:
            # R's conditional MLE comes from uniroot(tol = eps^0.25); ours is solved to
            # machine precision, so only ~1e-4 relative agreement is possible.
            _close(fisher.variable(var).test.statistic, rc["fisher_or"]["estimate"], 1e-3)
        expected = rc["fisher"] if rc["expected_min"] < 5 else rc["chisq"]
        _close(v.test.p_value, expected["p.value"], PTOL)
        assert v.test.test.startswith("Fisher" if rc["expected_min"] < 5 else "Pearson")


def test_yates_only_for_2x2():
    d = load_data("birthwt")
    rc = R["birthwt"]["by_low"]["categorical"]["smoke"]
    tab = table_one(d, by="low", variables=["smoke"], categorical=["smoke"], yates=False)
    _check_test(tab.variable("smoke").test, rc["chisq_uncorrected"])
    tab = table_one(d, by="low", variables=["smoke"], categorical=["smoke"])
    assert "Yates" in tab.variable("smoke").test.test


@pytest.mark.parametrize("name", ["t22", "t23", "t33", "t22big"])
def test_fisher_tables_against_r(name):
    rt = R["tables"][name]
    res = fisher_exact_rxc(np.array(rt["table"]))
    _close(res.p_value, rt["fisher"]["p.value"], PTOL)
    if "fisher_or" in rt:  # uniroot tolerance in R, see above
        _close(res.statistic, rt["fisher_or"]["estimate"], 1e-3)


def _brute_fisher(table):
    """Independent check: every table with the observed margins, by itertools."""
    t = np.asarray(table)
    rows, cols = t.sum(1), t.sum(0)
    r, c = t.shape
    n = t.sum()

    def logp(m):
        return (special.gammaln(rows + 1).sum() + special.gammaln(cols + 1).sum()
                - special.gammaln(n + 1) - special.gammaln(m + 1).sum())

    lp_obs = logp(t)
    total = pval = 0.0
    ranges = [range(min(rows[i], cols[j]) + 1) for i in range(r - 1) for j in range(c - 1)]
    for free in itertools.product(*ranges):
        m = np.zeros((r, c), dtype=int)
        m[: r - 1, : c - 1] = np.array(free).reshape(r - 1, c - 1)
        m[: r - 1, c - 1] = rows[: r - 1] - m[: r - 1, : c - 1].sum(1)
        m[r - 1, :] = cols - m[: r - 1, :].sum(0)
        if (m < 0).any():
            continue
        p = math.exp(logp(m))
        total += p
        if logp(m) <= lp_obs + math.log(1 + 1e-7):
            pval += p
    return pval, total


@pytest.mark.parametrize("table", [
    [[2, 0, 4], [5, 3, 1]],
    [[1, 2, 0], [0, 1, 3], [2, 0, 1]],
    [[3, 1], [0, 2], [4, 0]],
    [[0, 1, 2, 1], [3, 0, 0, 2]],
])
def test_fisher_rxc_brute_force(table):
    p, total = _brute_fisher(table)
    assert total == pytest.approx(1.0, rel=1e-12)
    _close(fisher_exact_rxc(np.array(table)).p_value, p, 1e-10)
    # orientation does not matter
    _close(fisher_exact_rxc(np.array(table).T).p_value, p, 1e-10)


def test_fisher_monte_carlo_fallback_is_documented_and_close():
    table = np.array(R["tables"]["t33"]["table"])
    exact = fisher_exact_rxc(table).p_value
    mc = fisher_exact_rxc(table, max_tables=5)
    assert "Monte Carlo" in mc.test and "seed" in mc.note
    # B = 20000: binomial SE of the estimate ~ sqrt(p(1-p)/B) ≈ 5e-4
    assert abs(mc.p_value - exact) < 0.003
    assert fisher_exact_rxc(table, max_tables=5).p_value == mc.p_value  # fixed seed


# ---- Wilcoxon rules --------------------------------------------------------------------------
@pytest.mark.parametrize("name,kind", [("noties", "exact"), ("ties", "normal")])
def test_wilcoxon_small_samples(name, kind):
    s = R["small"][name]
    df = pd.DataFrame(s["data"])
    res = wilcoxon_rank_sum(df.x[df.g == "A"], df.x[df.g == "B"])
    _check_test(res, s["cont"]["wilcox"])
    assert ("exact" in s["cont"]["wilcox"]["method"]) == (kind == "exact")
    assert (res.note == "exact") == (kind == "exact")
    # swapping the groups: W' = nx*ny - W, same p-value
    sw = wilcoxon_rank_sum(df.x[df.g == "B"], df.x[df.g == "A"])
    nx, ny = (df.g == "A").sum(), (df.g == "B").sum()
    assert sw.statistic == nx * ny - res.statistic
    _close(sw.p_value, res.p_value, 1e-12)
    tab = table_one(df, by="g", variables=["x"], nonnormal=["x"])
    _check_test(tab.variable("x").test, s["cont"]["wilcox"])


# ---- missing values -------------------------------------------------------------------------
def test_missing_values_are_counted_not_dropped():
    s = R["small"]["withna"]
    df = pd.DataFrame(s["data"])
    tab = table_one(df, by="g", variables=["x", "k"], categorical=["k"], continuous=["x"])
    assert tab.n_missing_group == 1
    assert any("missing 'g'" in n for n in tab.notes)
    _check_cells(tab, "x", s["cont"])
    _check_test(tab.variable("x").test, s["cont"]["welch"])
    k = tab.variable("k")
    rc = s["cat"]
    assert [k.missing(g) for g in ("a", "b", "Overall")] == [0, 1, 1]
    assert k.cells["u"]["b"].n == 3 and k.cells["u"]["b"].percent == pytest.approx(100 / 3)
    for lvl, row in zip(k.levels, rc["counts"], strict=True):
        assert [k.cells[lvl][g].count for g in ("a", "b")] == row
    _close(k.test.p_value, rc["fisher"]["p.value"], PTOL)
    disp = tab.to_display()
    miss_rows = disp[disp["Characteristic"] == "  missing"]
    assert len(miss_rows) == 2
    assert list(miss_rows.iloc[0][["a", "b", "Overall"]]) == ["1", "0", "1"]


# ---- display, tidy, dict --------------------------------------------------------------------
def test_display_and_tidy_frames():
    d = load_data("birthwt")
    tab = table_one(d, by="low", variables=["age", "race", "smoke"],
                    categorical=["race", "smoke"], labels={"age": "Age (years)"})
    disp = tab.to_display()
    assert list(disp.columns) == ["Characteristic", "0", "1", "Overall", "p", "test", "statistic"]
    assert disp.iloc[0].tolist()[:4] == ["n", "130", "59", "189"]
    chars = disp["Characteristic"].tolist()
    assert "Age (years), mean ± SD" in chars
    assert "smoke = 1, n (%)" in chars and "race, n (%)" in chars and "  white" in chars
    row = disp[disp["Characteristic"] == "Age (years), mean ± SD"].iloc[0]
    assert row["test"] == "Welch t-test" and row["statistic"].startswith("t = ")
    assert "df = " in row["statistic"]
    smoke = disp[disp["Characteristic"] == "smoke = 1, n (%)"].iloc[0]
    assert smoke["0"] == "44 (33.8%)" and smoke["1"] == "30 (50.8%)"
    tidy = tab.to_frame()
    assert {"variable", "level", "group", "n", "missing", "mean", "sd", "median", "q1", "q3",
            "count", "percent", "text", "test", "statistic", "p_value"} <= set(tidy.columns)
    assert len(tidy[(tidy.variable == "smoke")]) == 2 * 3  # both levels kept in tidy form
    js = json.dumps(tab.to_dict(), allow_nan=False)
    assert "Welch" in js
    tf = tab.tests_frame()
    assert list(tf.variable) == ["age", "race", "smoke"]


def test_no_by_gives_overall_only():
    d = load_data("birthwt")
    tab = table_one(d, by=None, variables=["age", "race"], nonnormal="auto")
    assert tab.columns == ("Overall",)
    assert all(v.test is None for v in tab.variables)
    assert list(tab.to_display().columns) == ["Characteristic", "Overall"]


# ---- errors ---------------------------------------------------------------------------------
def test_errors():
    d = load_data("birthwt")
    with pytest.raises(InputError, match="unknown column.*'weight'"):
        table_one(d, by="low", variables=["weight"])
    with pytest.raises(InputError, match="unknown column.*'group'"):
        table_one(d, by="group", variables=["age"])
    one = d[d.low == 1]
    with pytest.raises(InputError, match="grouping column 'low' has 1 distinct"):
        table_one(one, by="low", variables=["age"])
    bad = d.copy()
    bad["age"] = bad["age"].astype(object)
    bad.loc[7, "age"] = "twenty"
    with pytest.raises(InputError, match=r"row 7, column 'age': 'twenty' is not a number"):
        table_one(bad, by="low", variables=["age"], continuous=["age"])
    with pytest.raises(InputError, match="row 7, column 'age'"):
        table_one(bad, by="low", variables=["age"], nonnormal=["age"])
    with pytest.raises(InputError, match="both categorical and continuous"):
        table_one(d, by="low", variables=["age"], categorical=["age"], continuous=["age"])


def test_blank_strings_in_continuous_column_are_missing():
    df = pd.DataFrame({"g": ["a", "a", "b", "b", "b"], "x": ["1.5", "", "2", " ", "3"]})
    tab = table_one(df, by="g", variables=["x"], continuous=["x"])
    v = tab.variable("x")
    assert [v.missing(g) for g in ("a", "b")] == [1, 1]
    assert v.cells[""]["b"].mean == 2.5


# ---- writers ---------------------------------------------------------------------------------
def test_writers(tmp_path):
    d = load_data("birthwt")
    tab = table_one(d, by="low", variables=["age", "race"], categorical=["race"])
    p = write_csv(tab, tmp_path / "t1.csv")
    back = pd.read_csv(p, dtype=str, keep_default_na=False)
    assert list(back.columns) == list(tab.to_display().columns)
    write_csv(tab, tmp_path / "tidy.csv", tidy=True)
    x = write_xlsx(tab, tmp_path / "t1.xlsx")
    sheets = pd.read_excel(x, sheet_name=None)
    assert set(sheets) == {"Table 1", "tidy", "tests", "notes"}
    h = to_html(tab)
    assert h.startswith("<table") and "Welch t-test" in h and "<tfoot>" in h
    assert sorted(f.name for f in tmp_path.iterdir()) == ["t1.csv", "t1.xlsx", "tidy.csv"]


def test_writers_are_atomic(tmp_path, monkeypatch):
    d = load_data("birthwt")
    tab = table_one(d, by="low", variables=["age"])
    target = tmp_path / "t1.xlsx"
    target.write_text("old")

    def boom(self, *a, **k):
        raise RuntimeError("disk full")

    # fails after the first sheet has been written into the temporary file
    monkeypatch.setattr(t1.TableOne, "tests_frame", boom)
    with pytest.raises(RuntimeError):
        write_xlsx(tab, target)
    assert target.read_text() == "old"
    assert [f.name for f in tmp_path.iterdir()] == ["t1.xlsx"]
    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(RuntimeError):
        write_csv(tab, tmp_path / "new.csv")
    assert [f.name for f in tmp_path.iterdir()] == ["t1.xlsx"]
    with pytest.raises(InputError, match="does not exist"):
        t1.write_csv(tab, tmp_path / "nodir" / "x.csv")
