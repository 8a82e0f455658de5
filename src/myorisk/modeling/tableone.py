"""Baseline table ("Table 1"): descriptive statistics by group and between-group tests.

Every test reproduces the R function named beside it (``tests/results/tableone.R`` holds the
reference values):

========================================  ===============================================
variable                                  test (R function)
========================================  ===============================================
continuous, normal, 2 groups              Welch t (``t.test``); Student with ``equal_var``
continuous, normal, > 2 groups            one-way ANOVA (``oneway.test(var.equal=TRUE)``)
continuous, non-normal, 2 groups          Wilcoxon rank-sum / Mann–Whitney (``wilcox.test``)
continuous, non-normal, > 2 groups        Kruskal–Wallis (``kruskal.test``)
categorical, all expected counts ≥ 5      Pearson χ² (``chisq.test``; Yates for 2×2)
categorical, any expected count < 5       Fisher's exact test (``fisher.test``)
========================================  ===============================================

Conventions
-----------
* Groups are the sorted distinct non-missing values of ``by`` (the category order for a pandas
  ``Categorical``). For two groups the first one is R's ``x`` and the second ``y``: this fixes
  the sign of *t* and which rank-sum *W* is reported (W = Σ ranks of group 1 − n₁(n₁+1)/2).
* Rows whose ``by`` value is missing are excluded from every column (as R's tableone does);
  their number is kept in :attr:`TableOne.n_missing_group` and stated in the notes.
* Missing values of a variable are counted per group (``missing``) and never silently
  dropped; percentages of categorical levels use the non-missing count as denominator.
* Quantiles are R's default type 7 (numpy's ``linear``); SD has n − 1 in the denominator.
* ``nonnormal="auto"``: a continuous variable is summarised as median (IQR) and tested with a
  rank test when the Shapiro–Wilk test (R ``shapiro.test``; groups with 3 ≤ n ≤ 5000) gives
  p < ``normality_alpha`` in **any** group (in the whole sample when ``by`` is None). If no
  group can be tested the variable stays mean ± SD. The row label always says which was used.
* Wilcoxon follows R exactly: the exact null distribution when both groups have fewer than 50
  values and there are no ties; otherwise the normal approximation with continuity correction
  and tie correction.
* Fisher's exact test: 2×2 tables use the hypergeometric distribution with R's two-sided rule
  (tables with probability ≤ p_obs·(1 + 10⁻⁷)); the conditional maximum-likelihood odds ratio
  is shown as the statistic. Larger tables are enumerated exactly (all tables with the observed
  margins); if that would need more than ``fisher_max_tables`` tables the p-value is
  estimated by Monte Carlo as R's ``simulate.p.value=TRUE`` does (B = 20 000 tables drawn
  with fixed margins, seed 20240501; (1 + #{P ≤ P_obs}) / (B + 1)), and the test name says so.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from myorisk.errors import InputError
from myorisk.modeling._collate import r_sorted

__all__ = [
    "CellStats",
    "TableOne",
    "TestResult",
    "VariableSummary",
    "fisher_exact_rxc",
    "table_one",
    "to_html",
    "wilcoxon_rank_sum",
]

OVERALL = "Overall"
_REL_ERR = 1.0 + 1e-7  # R fisher.test: relErr
_MC_B = 20_000
_MC_SEED = 20240501


# ---------------------------------------------------------------------------------------------
# result objects
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CellStats:
    """Statistics of one variable (and level) in one group.

    Attributes
    ----------
    n : int
        Non-missing values in the group (denominator of ``percent``).
    missing : int
        Missing values in the group.
    mean, sd : float
        Mean and SD (n − 1), continuous variables only (NaN otherwise).
    median, q1, q3 : float
        Median and quartiles (R quantile type 7), continuous variables only.
    count : float
        Count of the level, categorical variables only.
    percent : float
        ``100 * count / n``, categorical variables only.
    """

    n: int
    missing: int
    mean: float = math.nan
    sd: float = math.nan
    median: float = math.nan
    q1: float = math.nan
    q3: float = math.nan
    count: float = math.nan
    percent: float = math.nan


@dataclass(frozen=True)
class TestResult:
    """A between-group test of one variable.

    Attributes
    ----------
    test : str
        Name of the test as shown in the table (e.g. ``"Welch t-test"``).
    statistic_name : str
        Symbol of the statistic (``"t"``, ``"F"``, ``"W"``, ``"chi2"``, ``"OR"``) or ``""``.
    statistic : float
        Value of the statistic (NaN when the test has none, e.g. Fisher r×c).
    df : tuple of float
        Degrees of freedom (empty when not applicable; two values for ANOVA).
    p_value : float
        Two-sided p-value.
    r_function : str
        The R call this reproduces.
    note : str
        Extra information (exact / approximation, tables enumerated, why no test was done).
    """

    test: str
    statistic_name: str
    statistic: float
    df: tuple[float, ...]
    p_value: float
    r_function: str = ""
    note: str = ""

    def statistic_text(self, digits: int = 2) -> str:
        """Human-readable statistic, e.g. ``"t = -2.53, df = 5.92"``."""
        if not np.isfinite(self.statistic):
            return self.note or ""
        name = {"chi2": "χ²"}.get(self.statistic_name, self.statistic_name)
        if self.statistic_name == "W":  # a (half-)integer rank sum: shown as R prints it
            txt = f"W = {self.statistic:g}"
        else:
            txt = f"{name} = {_fmt_num(self.statistic, digits)}"
        if self.df:
            txt += ", df = " + ", ".join(_fmt_df(d) for d in self.df)
        return txt


@dataclass(frozen=True)
class VariableSummary:
    """Everything the table holds about one variable.

    Attributes
    ----------
    variable : str
        Column name.
    label : str
        Display label (``labels`` argument, else the column name).
    kind : {"continuous", "categorical"}
        How the variable was summarised.
    summary : {"mean_sd", "median_iqr", "n_pct"}
        Which summary the cells show.
    levels : tuple of str
        Categorical levels (as text), in display order; empty for continuous variables.
    binary_one_row : bool
        True when the display shows only the ``1``/``True`` level of a 0/1 variable.
    cells : dict
        ``{level or "": {group: CellStats}}``; groups include ``"Overall"`` when requested.
    test : TestResult or None
        Between-group test (None without ``by``).
    normality_p : dict
        Shapiro–Wilk p-value per group (continuous variables; NaN if not testable).
    digits : int
        Decimals of the continuous summaries in renderers.
    """

    variable: str
    label: str
    kind: str
    summary: str
    levels: tuple[str, ...]
    binary_one_row: bool
    cells: dict[str, dict[str, CellStats]]
    test: TestResult | None
    normality_p: dict[str, float] = field(default_factory=dict)
    digits: int = 1

    def missing(self, group: str) -> int:
        """Missing values of this variable in ``group``."""
        first = next(iter(self.cells.values()))
        return first[group].missing


@dataclass(frozen=True)
class TableOne:
    """A baseline ("Table 1") table.

    Attributes
    ----------
    by : str or None
        Grouping column.
    groups : tuple of str
        Group labels (as text) in column order, without ``"Overall"``.
    group_sizes : dict
        Rows per group (and ``"Overall"``).
    overall : bool
        Whether an ``"Overall"`` column is shown.
    variables : tuple of VariableSummary
        One entry per variable, in the order requested.
    n_missing_group : int
        Rows excluded because the grouping value was missing.
    notes : tuple of str
        Footnotes stating the rules used.
    """

    by: str | None
    groups: tuple[str, ...]
    group_sizes: dict[str, int]
    overall: bool
    variables: tuple[VariableSummary, ...]
    n_missing_group: int
    notes: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """Display columns: the groups, then ``"Overall"`` when requested."""
        cols = tuple(self.groups)
        if self.overall or self.by is None:
            cols = cols + (OVERALL,)
        return cols

    def variable(self, name: str) -> VariableSummary:
        """The summary of column ``name``."""
        for v in self.variables:
            if v.variable == name:
                return v
        raise KeyError(name)

    # -- tidy ------------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: one row per variable × level × group.

        Columns: ``variable, label, kind, summary, level, group, n, missing, mean, sd, median,
        q1, q3, count, percent, text, test, statistic_name, statistic, df, p_value``.
        """
        rows = []
        for v in self.variables:
            t = v.test
            for level, by_group in v.cells.items():
                for g in self.columns:
                    c = by_group[g]
                    rows.append(
                        {
                            "variable": v.variable,
                            "label": v.label,
                            "kind": v.kind,
                            "summary": v.summary,
                            "level": level if v.kind == "categorical" else None,
                            "group": g,
                            "n": c.n,
                            "missing": c.missing,
                            "mean": c.mean,
                            "sd": c.sd,
                            "median": c.median,
                            "q1": c.q1,
                            "q3": c.q3,
                            "count": c.count,
                            "percent": c.percent,
                            "text": _cell_text(v.summary, c, v.digits),
                            "test": t.test if t else None,
                            "statistic_name": t.statistic_name if t else None,
                            "statistic": t.statistic if t else math.nan,
                            "df": ", ".join(_fmt_df(d) for d in t.df) if t else None,
                            "p_value": t.p_value if t else math.nan,
                        }
                    )
        return pd.DataFrame(rows)

    def tests_frame(self) -> pd.DataFrame:
        """One row per variable: test, statistic, df (``df1``, ``df2``), p-value, note."""
        rows = []
        for v in self.variables:
            t = v.test
            if t is None:
                continue
            rows.append(
                {
                    "variable": v.variable,
                    "test": t.test,
                    "statistic_name": t.statistic_name,
                    "statistic": t.statistic,
                    "df1": t.df[0] if len(t.df) > 0 else math.nan,
                    "df2": t.df[1] if len(t.df) > 1 else math.nan,
                    "p_value": t.p_value,
                    "r_function": t.r_function,
                    "note": t.note,
                }
            )
        return pd.DataFrame(
            rows,
            columns=["variable", "test", "statistic_name", "statistic", "df1", "df2",
                     "p_value", "r_function", "note"],
        )

    # -- wide ------------------------------------------------------------------------------
    def to_display(self, *, p_digits: int = 3, stat_digits: int = 2) -> pd.DataFrame:
        """Wide display frame: one column per group (+ Overall), then p, test, statistic.

        The first column ``Characteristic`` holds the row labels; level rows and the
        ``missing`` rows are indented by two spaces.
        """
        cols = list(self.columns)
        has_test = self.by is not None
        out: list[dict[str, Any]] = []

        def blank() -> dict[str, Any]:
            d: dict[str, Any] = {"Characteristic": ""}
            d.update({c: "" for c in cols})
            if has_test:
                d.update({"p": "", "test": "", "statistic": ""})
            return d

        first = blank()
        first["Characteristic"] = "n"
        for c in cols:
            first[c] = str(self.group_sizes[c])
        out.append(first)
        for v in self.variables:
            t = v.test
            test_cells = {}
            if has_test and t is not None:
                test_cells = {
                    "p": format_p(t.p_value, p_digits),
                    "test": t.test,
                    "statistic": t.statistic_text(stat_digits),
                }
            if v.kind == "continuous":
                row = blank()
                row["Characteristic"] = f"{v.label}, {_SUMMARY_LABEL[v.summary]}"
                cells = v.cells[""]
                for c in cols:
                    row[c] = _cell_text(v.summary, cells[c], v.digits)
                row.update(test_cells)
                out.append(row)
            elif v.binary_one_row:
                lvl = v.levels[-1]
                row = blank()
                row["Characteristic"] = f"{v.label} = {lvl}, n (%)"
                for c in cols:
                    row[c] = _cell_text("n_pct", v.cells[lvl][c], v.digits)
                row.update(test_cells)
                out.append(row)
            else:
                head = blank()
                head["Characteristic"] = f"{v.label}, n (%)"
                head.update(test_cells)
                out.append(head)
                for lvl in v.levels:
                    row = blank()
                    row["Characteristic"] = f"  {lvl}"
                    for c in cols:
                        row[c] = _cell_text("n_pct", v.cells[lvl][c], v.digits)
                    out.append(row)
            if any(v.missing(c) > 0 for c in cols):
                row = blank()
                row["Characteristic"] = "  missing"
                for c in cols:
                    row[c] = str(v.missing(c))
                out.append(row)
        return pd.DataFrame(out)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (plain floats and lists, NaN → None)."""
        def cell(c: CellStats) -> dict[str, Any]:
            return {k: _json(getattr(c, k)) for k in c.__dataclass_fields__}

        def test(t: TestResult | None) -> dict[str, Any] | None:
            if t is None:
                return None
            return {
                "test": t.test,
                "statistic_name": t.statistic_name,
                "statistic": _json(t.statistic),
                "df": [_json(d) for d in t.df],
                "p_value": _json(t.p_value),
                "r_function": t.r_function,
                "note": t.note,
            }

        return {
            "by": self.by,
            "groups": list(self.groups),
            "columns": list(self.columns),
            "group_sizes": {k: int(v) for k, v in self.group_sizes.items()},
            "overall": self.overall,
            "n_missing_group": int(self.n_missing_group),
            "notes": list(self.notes),
            "variables": [
                {
                    "variable": v.variable,
                    "label": v.label,
                    "kind": v.kind,
                    "summary": v.summary,
                    "levels": list(v.levels),
                    "binary_one_row": v.binary_one_row,
                    "cells": {
                        lvl: {g: cell(c) for g, c in d.items()} for lvl, d in v.cells.items()
                    },
                    "test": test(v.test),
                    "normality_p": {g: _json(p) for g, p in v.normality_p.items()},
                }
                for v in self.variables
            ],
        }


_SUMMARY_LABEL = {"mean_sd": "mean ± SD", "median_iqr": "median (IQR)", "n_pct": "n (%)"}


# ---------------------------------------------------------------------------------------------
# formatting helpers (renderers only)
# ---------------------------------------------------------------------------------------------
def _json(x: Any) -> Any:
    if isinstance(x, (float, np.floating)):
        return None if not np.isfinite(x) else float(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    return x


def _fmt_num(x: float, digits: int) -> str:
    if not np.isfinite(x):
        return "NA"
    if x != 0 and abs(x) < 10 ** (-digits):
        return f"{x:.{digits}e}"
    return f"{x:.{digits}f}"


def _fmt_df(d: float) -> str:
    return str(int(d)) if float(d).is_integer() else f"{d:.2f}"


def format_p(p: float, digits: int = 3) -> str:
    """Format a p-value: ``"<0.001"`` below 10^-digits, else ``digits`` decimals."""
    if p is None or not np.isfinite(p):
        return ""
    if p < 10 ** (-digits):
        return "<" + f"{10 ** (-digits):.{digits}f}"
    return f"{p:.{digits}f}"


def _cell_text(summary: str, c: CellStats, digits: int) -> str:
    if summary == "mean_sd":
        if c.n == 0:
            return ""
        if c.n == 1:
            return _fmt_num(c.mean, digits)
        return f"{_fmt_num(c.mean, digits)} ± {_fmt_num(c.sd, digits)}"
    if summary == "median_iqr":
        if c.n == 0:
            return ""
        return (f"{_fmt_num(c.median, digits)} ({_fmt_num(c.q1, digits)}–"
                f"{_fmt_num(c.q3, digits)})")
    if c.n == 0:
        return "0"
    return f"{int(c.count)} ({c.percent:.1f}%)"


# ---------------------------------------------------------------------------------------------
# tests (pure functions on arrays)
# ---------------------------------------------------------------------------------------------
def wilcoxon_rank_sum(x: np.ndarray, y: np.ndarray) -> TestResult:
    """Two-sample Wilcoxon rank-sum test exactly as R's ``wilcox.test(x, y)``.

    W = Σ ranks of ``x`` − n_x(n_x+1)/2. Exact p-value when n_x < 50, n_y < 50 and no ties;
    otherwise the normal approximation with continuity correction and tie correction.

    Parameters
    ----------
    x, y : array_like
        The two samples (no missing values).

    Returns
    -------
    TestResult
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    nx, ny = x.size, y.size
    if nx == 0 or ny == 0:
        return _no_test("Wilcoxon rank-sum test", "a group has no values")
    r = stats.rankdata(np.concatenate([x, y]))
    w = float(r[:nx].sum() - nx * (nx + 1) / 2.0)
    ties = np.unique(r).size != r.size
    if nx < 50 and ny < 50 and not ties:
        # exact null distribution of W (scipy's Mann–Whitney exact distribution), R's rule
        p = stats.mannwhitneyu(x, y, method="exact", alternative="two-sided").pvalue
        return TestResult("Wilcoxon rank-sum test", "W", w, (), float(min(p, 1.0)),
                          "wilcox.test", "exact")
    z = w - nx * ny / 2.0
    _, nties = np.unique(r, return_counts=True)
    sigma = math.sqrt(
        (nx * ny / 12.0)
        * ((nx + ny + 1) - float(np.sum(nties**3 - nties)) / ((nx + ny) * (nx + ny - 1)))
    )
    if sigma == 0:
        return TestResult("Wilcoxon rank-sum test", "W", w, (), math.nan, "wilcox.test",
                          "all values tied")
    z = (z - math.copysign(0.5, z) * (z != 0)) / sigma
    p = 2.0 * min(stats.norm.cdf(z), stats.norm.sf(z))
    note = "normal approximation, continuity and tie correction"
    return TestResult("Wilcoxon rank-sum test", "W", w, (), float(min(p, 1.0)),
                      "wilcox.test", note)


def _fisher_2x2(table: np.ndarray) -> tuple[float, float]:
    """R ``fisher.test`` for a 2×2 table: (two-sided p, conditional MLE odds ratio)."""
    m = int(table[:, 0].sum())
    n = int(table[:, 1].sum())
    k = int(table[0, :].sum())
    x = int(table[0, 0])
    lo, hi = max(0, k - n), min(k, m)
    support = np.arange(lo, hi + 1)
    logdc = stats.hypergeom.logpmf(support, m + n, m, k)

    def dnhyper(ncp: float) -> np.ndarray:
        d = logdc + math.log(ncp) * support
        d = np.exp(d - d.max())
        return d / d.sum()

    d1 = dnhyper(1.0)
    p = float(np.sum(d1[d1 <= d1[x - lo] * _REL_ERR]))

    def mnhyper(ncp: float) -> float:
        return float(np.sum(support * dnhyper(ncp)))

    if x == lo:
        est = 0.0
    elif x == hi:
        est = math.inf
    else:
        mu = mnhyper(1.0)
        if mu > x:
            est = optimize.brentq(lambda t: mnhyper(t) - x, 1e-300, 1.0, xtol=1e-300,
                                  rtol=4 * np.finfo(float).eps, maxiter=1000)
        elif mu < x:
            est = 1.0 / optimize.brentq(lambda t: mnhyper(1.0 / t) - x, np.finfo(float).eps,
                                        1.0, xtol=1e-300, rtol=4 * np.finfo(float).eps,
                                        maxiter=1000)
        else:
            est = 1.0
    return min(p, 1.0), float(est)


def _log_table_prob_const(rows: np.ndarray, cols: np.ndarray) -> float:
    n = rows.sum()
    return float(special.gammaln(rows + 1).sum() + special.gammaln(cols + 1).sum()
                 - special.gammaln(n + 1))


def _compositions(total: int, caps: np.ndarray) -> np.ndarray:
    """All integer vectors v with 0 ≤ v ≤ caps and sum(v) = total (one per row)."""
    r = caps.size
    cur = np.zeros((1, 0), dtype=np.int64)
    partial = np.zeros(1, dtype=np.int64)
    for i in range(r - 1):
        # remaining capacity of the later coordinates bounds how little this one may take
        rest_cap = int(caps[i + 1:].sum())
        lo = np.maximum(0, total - partial - rest_cap)
        hi = np.minimum(int(caps[i]), total - partial)
        counts = np.maximum(hi - lo + 1, 0)
        idx = np.repeat(np.arange(cur.shape[0]), counts)
        offs = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        vals = lo[idx] + offs
        cur = np.column_stack([cur[idx], vals])
        partial = partial[idx] + vals
    last = total - partial
    ok = (last >= 0) & (last <= caps[-1])
    return np.column_stack([cur[ok], last[ok]])


def fisher_exact_rxc(
    table: np.ndarray, *, max_tables: int = 2_000_000, seed: int = _MC_SEED, n_sim: int = _MC_B
) -> TestResult:
    """Fisher's exact test for an r × c table (R ``fisher.test``).

    The p-value is the total probability (multivariate hypergeometric, margins fixed) of the
    tables whose probability is ≤ the observed one × (1 + 10⁻⁷), R's tolerance. 2×2 tables
    also report the conditional maximum-likelihood odds ratio, as R does.

    Tables are enumerated column by column (rows/columns oriented so the enumeration is
    smallest). When more than ``max_tables`` partial tables would be needed, the p-value is
    estimated by Monte Carlo with ``n_sim`` tables drawn by ``scipy.stats.random_table`` with a
    fixed ``seed``, as R's ``fisher.test(simulate.p.value=TRUE, B=n_sim)``:
    (1 + #{sim P ≤ P_obs}) / (n_sim + 1).

    Parameters
    ----------
    table : array_like of int
        Contingency table (rows and columns with zero totals are dropped).
    max_tables : int
        Enumeration limit.
    seed, n_sim : int
        Monte Carlo settings when the limit is exceeded.

    Returns
    -------
    TestResult
    """
    t = np.asarray(table, dtype=np.int64)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    name = "Fisher's exact test"
    if t.shape[0] < 2 or t.shape[1] < 2:
        return _no_test(name, "fewer than 2 non-empty rows or columns")
    if t.shape == (2, 2):
        p, est = _fisher_2x2(t)
        return TestResult(name, "OR", est, (), p, "fisher.test",
                          "odds ratio = conditional MLE")
    if t.shape[0] > t.shape[1]:
        t = t.T
    # enumerate columns, largest column last (it is determined by the others)
    t = t[:, np.argsort(t.sum(axis=0), kind="stable")]
    rows = t.sum(axis=1)
    cols = t.sum(axis=0)
    const = _log_table_prob_const(rows, cols)
    lp_obs = const - float(special.gammaln(t + 1).sum())
    states = rows[None, :].copy()
    logw = np.zeros(1)
    for j in range(cols.size - 1):
        comps = _compositions(int(cols[j]), rows)
        lg = special.gammaln(comps + 1).sum(axis=1)
        new_states, new_logw = [], []
        total = 0
        # chunk over states to bound memory
        step = max(1, 2_000_000 // max(1, comps.shape[0]))
        for s0 in range(0, states.shape[0], step):
            st = states[s0:s0 + step]
            ok = np.all(comps[None, :, :] <= st[:, None, :], axis=2)
            si, ci = np.nonzero(ok)
            total += si.size
            if total > max_tables:
                return _fisher_mc(t, lp_obs, seed, n_sim, max_tables)
            new_states.append(st[si] - comps[ci])
            new_logw.append(logw[s0:s0 + step][si] - lg[ci])
        states = np.concatenate(new_states)
        logw = np.concatenate(new_logw)
    lp = const + logw - special.gammaln(states + 1).sum(axis=1)
    probs = np.exp(lp)
    p = float(probs[lp <= lp_obs + math.log(_REL_ERR)].sum() / probs.sum())
    return TestResult(name, "", math.nan, (), min(p, 1.0), "fisher.test",
                      f"exact, {lp.size} tables enumerated")


def _fisher_mc(t: np.ndarray, lp_obs: float, seed: int, n_sim: int, limit: int) -> TestResult:
    rows = t.sum(axis=1)
    cols = t.sum(axis=0)
    sims = stats.random_table(rows, cols).rvs(n_sim, random_state=np.random.default_rng(seed))
    stat_sim = -special.gammaln(sims + 1).sum(axis=(1, 2))
    stat_obs = -float(special.gammaln(t + 1).sum())
    almost_one = 1.0 + 64.0 * np.finfo(float).eps
    p = (1.0 + float(np.sum(stat_sim <= stat_obs / almost_one))) / (n_sim + 1.0)
    return TestResult(
        f"Fisher's exact test (Monte Carlo, B={n_sim})", "", math.nan, (), p,
        "fisher.test(simulate.p.value=TRUE)",
        f"more than {limit} tables to enumerate; simulated with seed {seed}",
    )


def _no_test(name: str, why: str) -> TestResult:
    return TestResult(name, "", math.nan, (), math.nan, "", f"not done: {why}")


def _continuous_test(samples: list[np.ndarray], nonnormal: bool, equal_var: bool) -> TestResult:
    k = len(samples)
    sizes = [s.size for s in samples]
    if nonnormal:
        if k == 2:
            return wilcoxon_rank_sum(samples[0], samples[1])
        if any(n == 0 for n in sizes) or sum(sizes) < 2:
            return _no_test("Kruskal–Wallis test", "a group has no values")
        allv = np.concatenate(samples)
        if np.all(allv == allv[0]):
            return _no_test("Kruskal–Wallis test", "all values tied")
        r = stats.kruskal(*samples)
        return TestResult("Kruskal–Wallis test", "chi2", float(r.statistic), (float(k - 1),),
                          float(r.pvalue), "kruskal.test")
    if k == 2:
        name = "Student t-test" if equal_var else "Welch t-test"
        rfun = "t.test(var.equal=TRUE)" if equal_var else "t.test"
        if min(sizes) < 2 and not (equal_var and sum(sizes) > 2 and min(sizes) >= 1):
            return _no_test(name, "fewer than 2 values in a group")
        a, b = samples
        va, vb = np.var(a, ddof=1) if a.size > 1 else 0.0, np.var(b, ddof=1) if b.size > 1 else 0.0
        if (equal_var and va + vb == 0) or (not equal_var and (va == 0 and vb == 0)):
            return _no_test(name, "no variation")
        r = stats.ttest_ind(a, b, equal_var=equal_var)
        return TestResult(name, "t", float(r.statistic), (float(r.df),), float(r.pvalue), rfun)
    name = "One-way ANOVA"
    if any(n == 0 for n in sizes) or sum(sizes) - k < 1:
        return _no_test(name, "too few values")
    if all(np.var(s) == 0 for s in samples):
        return _no_test(name, "no variation within groups")
    r = stats.f_oneway(*samples)
    return TestResult(name, "F", float(r.statistic), (float(k - 1), float(sum(sizes) - k)),
                      float(r.pvalue), "oneway.test(var.equal=TRUE)")


def _categorical_test(
    counts: np.ndarray, exact: str, yates: bool, max_tables: int
) -> TestResult:
    t = counts[counts.sum(axis=1) > 0][:, counts.sum(axis=0) > 0]
    if t.shape[0] < 2 or t.shape[1] < 2:
        return _no_test("Pearson χ² test", "fewer than 2 observed levels or groups")
    expected = stats.contingency.expected_freq(t)
    use_fisher = exact == "always" or (exact == "auto" and bool(np.any(expected < 5)))
    if use_fisher:
        res = fisher_exact_rxc(t, max_tables=max_tables)
        if exact == "auto":
            note = f"chosen because the smallest expected count is {expected.min():.2f} < 5"
            res = TestResult(res.test, res.statistic_name, res.statistic, res.df, res.p_value,
                             res.r_function, "; ".join(x for x in (res.note, note) if x))
        return res
    correct = yates and t.shape == (2, 2)
    r = stats.chi2_contingency(t, correction=correct)
    name = "Pearson χ² test" + (" (Yates)" if correct else "")
    note = "" if expected.min() >= 5 else "some expected counts < 5"
    return TestResult(name, "chi2", float(r.statistic), (float(r.dof),), float(r.pvalue),
                      "chisq.test" if yates else "chisq.test(correct=FALSE)", note)


# ---------------------------------------------------------------------------------------------
# input handling
# ---------------------------------------------------------------------------------------------
def _is_missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return v.strip() == ""
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _numbers_as_text(s: pd.Series, col: str) -> bool:
    """Whether a text column holds numbers only; a column of numbers with a few texts is refused.

    Most non-missing values (at least 80%, and at least 5 of them) numbers but some not is a
    typo, not a categorical variable: the texts are listed by row, and declaring the column
    categorical (or fixing the cells) decides.
    """
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s) or \
            isinstance(s.dtype, pd.CategoricalDtype):
        return False
    vals = [(i, v) for i, v in s.items() if not _is_missing(v)]
    bad = []
    for i, v in vals:
        try:
            float(v)
        except (TypeError, ValueError):
            bad.append((i, v))
    n_num = len(vals) - len(bad)
    if bad and n_num >= 5 and n_num >= 0.8 * len(vals):
        shown = "; ".join(f"row {i}, column '{col}': {str(v)!r} is not a number" for i, v in bad[:5])
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        raise InputError(f"{shown}{more}; the other {n_num} values of '{col}' are numbers: fix the "
                         f"cell(s), or declare '{col}' categorical to tabulate every value as a level")
    return bool(vals) and not bad and not all(isinstance(v, bool) for _, v in vals)


def _as_numeric(data: pd.DataFrame, col: str) -> np.ndarray:
    s = data[col]
    if pd.api.types.is_bool_dtype(s):
        return s.astype(float).to_numpy()
    if pd.api.types.is_numeric_dtype(s):
        return s.astype(float).to_numpy()
    out = np.empty(len(s))
    for i, (idx, v) in enumerate(s.items()):
        if _is_missing(v):
            out[i] = np.nan
            continue
        try:
            out[i] = float(v)
        except (TypeError, ValueError):
            raise InputError(
                f"row {idx}, column '{col}': {v!r} is not a number, but '{col}' is declared "
                "continuous"
            ) from None
        if not np.isfinite(out[i]):
            raise InputError(f"row {idx}, column '{col}': {v!r} is not a finite number")
    return out


def _level_text(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _ordered_levels(s: pd.Series) -> list[Any]:
    """Distinct non-missing values: category order for Categoricals, else sorted."""
    present = [v for v in pd.unique(s) if not _is_missing(v)]
    if isinstance(s.dtype, pd.CategoricalDtype):
        return [c for c in s.cat.categories if c in set(present)]
    if present and all(isinstance(v, str) for v in present):
        return r_sorted(present)  # as R's factor(): locale (ICU) collation
    try:
        return sorted(present)
    except TypeError:
        return sorted(present, key=lambda v: (str(type(v)), str(v)))


def _is_binary01(levels: list[Any]) -> bool:
    vals = set()
    for v in levels:
        if isinstance(v, (bool, np.bool_)):
            vals.add(int(v))
        elif isinstance(v, (int, float, np.integer, np.floating)) and float(v) in (0.0, 1.0):
            vals.add(int(v))
        else:
            return False
    return vals == {0, 1}


def _cont_cell(x: np.ndarray) -> CellStats:
    ok = x[~np.isnan(x)]
    n, miss = int(ok.size), int(x.size - ok.size)
    if n == 0:
        return CellStats(n=0, missing=miss)
    q1, med, q3 = np.quantile(ok, [0.25, 0.5, 0.75], method="linear")
    return CellStats(
        n=n, missing=miss, mean=float(ok.mean()),
        sd=float(ok.std(ddof=1)) if n > 1 else math.nan,
        median=float(med), q1=float(q1), q3=float(q3),
    )


def _shapiro_p(x: np.ndarray) -> float:
    ok = x[~np.isnan(x)]
    if ok.size < 3 or ok.size > 5000 or np.all(ok == ok[0]):
        return math.nan
    return float(stats.shapiro(ok).pvalue)


def _digits(digits: int | Mapping[str, int], var: str) -> int:
    if isinstance(digits, Mapping):
        return int(digits.get(var, 1))
    return int(digits)


# ---------------------------------------------------------------------------------------------
# main entry point
# ---------------------------------------------------------------------------------------------
def table_one(
    data: pd.DataFrame,
    *,
    by: str | None,
    variables: Sequence[str],
    categorical: Sequence[str] | None = None,
    nonnormal: Sequence[str] | Literal["auto"] | None = None,
    normality_alpha: float = 0.05,
    overall: bool = True,
    labels: Mapping[str, str] | None = None,
    continuous: Sequence[str] | None = None,
    equal_var: bool = False,
    exact: Literal["auto", "always", "never"] = "auto",
    yates: bool = True,
    binary_one_row: bool | Sequence[str] = True,
    fisher_max_tables: int = 2_000_000,
    digits: int | Mapping[str, int] = 1,
) -> TableOne:
    """Build a baseline table ("Table 1") with between-group tests matching R.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient; the index identifies rows in error messages.
    by : str or None
        Grouping column (≥ 2 distinct non-missing values), or None for a single column.
    variables : sequence of str
        Columns to describe, in display order.
    categorical : sequence of str, optional
        Columns to treat as categorical. Non-numeric (string, bool, category) columns are
        categorical automatically.
    nonnormal : sequence of str, "auto" or None
        Continuous columns summarised as median (IQR) with rank tests; ``"auto"`` decides per
        variable by Shapiro–Wilk (p < ``normality_alpha`` in any group → non-normal).
    normality_alpha : float
        Threshold of the automatic rule.
    overall : bool
        Add an ``Overall`` column (always present when ``by`` is None).
    labels : mapping, optional
        Display label per column.
    continuous : sequence of str, optional
        Columns declared continuous: every non-missing value must be a number (an
        :class:`~myorisk.errors.InputError` names the first row that is not). Columns listed in
        ``nonnormal`` are declared continuous too.
    equal_var : bool
        Two groups, normal variables: Student's t (pooled variance) instead of Welch's.
    exact : {"auto", "always", "never"}
        Fisher's exact test when any expected count is < 5 (``"auto"``), always, or never.
    yates : bool
        Yates' continuity correction of χ² for 2×2 tables (R's default).
    binary_one_row : bool or sequence of str
        Show only the ``1``/``True`` row of 0/1 (or boolean) categorical variables in the
        display (all of them, or the listed columns). The tidy frame always holds both levels.
    fisher_max_tables : int
        Enumeration limit for r × c Fisher tests before switching to Monte Carlo.
    digits : int or mapping
        Decimals of continuous summaries in renderers (one value, or per column with 1 for
        the others); results keep full precision.

    Returns
    -------
    TableOne

    Raises
    ------
    InputError
        Unknown column, fewer than 2 groups in ``by``, a non-numeric value in a continuous
        column, or inconsistent options.
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError("table_one: data must be a pandas DataFrame")
    variables = list(variables)
    if not variables:
        raise InputError("table_one: no variables to describe")
    categorical = list(categorical or [])
    continuous = list(continuous or [])
    auto = isinstance(nonnormal, str)
    if auto and nonnormal != "auto":
        raise InputError(f"table_one: nonnormal must be a list of columns or 'auto', not {nonnormal!r}")
    nonnormal_list = [] if (auto or nonnormal is None) else list(nonnormal)
    if exact not in ("auto", "always", "never"):
        raise InputError(f"table_one: exact must be 'auto', 'always' or 'never', not {exact!r}")
    if not 0 < normality_alpha < 1:
        raise InputError(f"table_one: normality_alpha {normality_alpha} is not in (0, 1)")
    labels = dict(labels or {})

    wanted = ([by] if by is not None else []) + variables + categorical + continuous + nonnormal_list
    unknown = [c for c in dict.fromkeys(wanted) if c not in data.columns]
    if unknown:
        raise InputError(
            f"unknown column(s) {', '.join(repr(c) for c in unknown)}; the data have "
            f"{', '.join(repr(str(c)) for c in data.columns)}"
        )
    if by is not None and by in variables:
        raise InputError(f"column '{by}' is the grouping column and cannot also be a variable")
    clash = (set(categorical) & (set(continuous) | set(nonnormal_list)))
    if clash:
        raise InputError(
            f"column(s) {', '.join(sorted(map(repr, clash)))} declared both categorical and continuous"
        )
    dup = [v for v in variables if variables.count(v) > 1]
    if dup:
        raise InputError(f"column '{dup[0]}' is listed twice in variables")

    # groups
    n_missing_group = 0
    if by is not None:
        gser = data[by]
        gmiss = gser.map(_is_missing).to_numpy(dtype=bool)
        n_missing_group = int(gmiss.sum())
        d = data.loc[~gmiss]
        glevels = _ordered_levels(d[by])
        if len(glevels) < 2:
            found = ", ".join(repr(_level_text(g)) for g in glevels) or "none"
            raise InputError(
                f"grouping column '{by}' has {len(glevels)} distinct non-missing value(s) "
                f"({found}); at least 2 groups are needed"
            )
        gnames = [_level_text(g) for g in glevels]
        if len(set(gnames)) != len(gnames) or OVERALL in gnames:
            raise InputError(f"grouping column '{by}': group labels {gnames} are ambiguous")
        masks = {name: (d[by] == g).to_numpy() for name, g in zip(gnames, glevels, strict=True)}
    else:
        d = data
        gnames = []
        masks = {}
    show_overall = overall or by is None
    columns = list(gnames) + ([OVERALL] if show_overall else [])
    all_mask = np.ones(len(d), dtype=bool)

    def mask_of(g: str) -> np.ndarray:
        return all_mask if g == OVERALL else masks[g]

    group_sizes = {g: int(mask_of(g).sum()) for g in columns}
    one_row = set(variables) if binary_one_row is True else set(binary_one_row or [])

    summaries: list[VariableSummary] = []
    for var in variables:
        label = str(labels.get(var, var))
        s = d[var]
        declared_cont = var in continuous or var in nonnormal_list
        is_cat = var in categorical or (
            not declared_cont
            and (not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s))
        )
        if is_cat and var not in categorical and not declared_cont:
            # numbers stored as text (a column with a typo somewhere, even in a row without a
            # group) are numbers: a typo is refused, an all-numeric text column is continuous
            is_cat = not _numbers_as_text(data[var], var)
        if not is_cat:
            x = _as_numeric(d, var)
            cells = {g: _cont_cell(x[mask_of(g)]) for g in columns}
            test_groups = gnames if by is not None else [OVERALL]
            norm_p = {g: _shapiro_p(x[mask_of(g)]) for g in test_groups}
            if var in nonnormal_list:
                is_nonnormal = True
            elif auto:
                is_nonnormal = any(np.isfinite(p) and p < normality_alpha for p in norm_p.values())
            else:
                is_nonnormal = False
            test = None
            if by is not None:
                samples = [x[masks[g] & ~np.isnan(x)] for g in gnames]
                test = _continuous_test(samples, is_nonnormal, equal_var)
            summaries.append(VariableSummary(
                variable=var, label=label, kind="continuous",
                summary="median_iqr" if is_nonnormal else "mean_sd", levels=(),
                binary_one_row=False, cells={"": cells}, test=test, normality_p=norm_p,
                digits=_digits(digits, var),
            ))
            continue
        # categorical
        miss = s.map(_is_missing).to_numpy(dtype=bool)
        levels = _ordered_levels(s[~miss])
        lnames = [_level_text(v) for v in levels]
        if len(set(lnames)) != len(lnames):
            raise InputError(f"column '{var}': levels {lnames} are ambiguous as text")
        lvl_masks = [(~miss) & (s == v).to_numpy() for v in levels]
        cells_c: dict[str, dict[str, CellStats]] = {}
        for name, lm in zip(lnames, lvl_masks, strict=True):
            cells_c[name] = {}
            for g in columns:
                gm = mask_of(g)
                n_ok = int((gm & ~miss).sum())
                cnt = int((gm & lm).sum())
                cells_c[name][g] = CellStats(
                    n=n_ok, missing=int((gm & miss).sum()), count=float(cnt),
                    percent=100.0 * cnt / n_ok if n_ok else math.nan,
                )
        if not levels:
            cells_c[""] = {g: CellStats(n=0, missing=int((mask_of(g) & miss).sum()))
                           for g in columns}
        test = None
        if by is not None:
            counts = np.array([[int((masks[g] & lm).sum()) for g in gnames] for lm in lvl_masks],
                              dtype=np.int64).reshape(len(levels), len(gnames))
            test = _categorical_test(counts, exact, yates, fisher_max_tables)
        summaries.append(VariableSummary(
            variable=var, label=label, kind="categorical", summary="n_pct",
            levels=tuple(lnames), binary_one_row=var in one_row and _is_binary01(levels),
            cells=cells_c, test=test, digits=_digits(digits, var),
        ))

    notes = [
        "Continuous variables: mean ± SD, or median (IQR; quartiles by R's type-7 rule) where "
        "marked; categorical variables: n (% of non-missing values).",
    ]
    if auto:
        notes.append(
            f"Median (IQR) and rank tests were chosen where the Shapiro–Wilk test gave p < "
            f"{normality_alpha:g} in any group."
        )
    if by is not None:
        notes.append(
            "Tests: " + ("Student" if equal_var else "Welch") + " t-test (2 groups) or one-way "
            "ANOVA for mean ± SD; Wilcoxon rank-sum (exact when both groups < 50 and no ties) "
            "or Kruskal–Wallis for median (IQR); Pearson χ² "
            + ("with Yates' correction for 2×2 tables " if yates else "")
            + {"auto": "or Fisher's exact test when any expected count is < 5.",
               "always": "not used: Fisher's exact test throughout.",
               "never": "for every categorical variable (no Fisher's exact test)."}[exact]
        )
    if n_missing_group:
        notes.append(f"{n_missing_group} row(s) with missing '{by}' were excluded.")
    return TableOne(
        by=by, groups=tuple(gnames), group_sizes=group_sizes, overall=show_overall,
        variables=tuple(summaries), n_missing_group=n_missing_group, notes=tuple(notes),
    )


# ---------------------------------------------------------------------------------------------
# writers (atomic: temp file in the target directory, then os.replace)
# ---------------------------------------------------------------------------------------------
# write_csv and write_xlsx live in myorisk.report.files (the engine writes no files); the names
# stay importable from here.
_MOVED = ("write_csv", "write_xlsx")


def __getattr__(name: str) -> object:
    if name in _MOVED:
        from myorisk.report import files

        return getattr(files, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def to_html(table: TableOne, *, caption: str | None = "Table 1. Baseline characteristics") -> str:
    """Render the display table as an HTML ``<table>`` with the notes as footnotes."""
    disp = table.to_display()
    esc = html.escape
    parts = ['<table class="myorisk-tableone">']
    if caption:
        parts.append(f"<caption>{esc(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f"<th>{esc(str(c))}</th>" for c in disp.columns)
                 + "</tr></thead><tbody>")
    for _, row in disp.iterrows():
        cells = []
        for c in disp.columns:
            val = str(row[c])
            if c == "Characteristic" and val.startswith("  "):
                cells.append(f'<td class="level">{esc(val.strip())}</td>')
            else:
                cells.append(f"<td>{esc(val)}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody>")
    if table.notes:
        span = len(disp.columns)
        parts.append("<tfoot>" + "".join(
            f'<tr><td colspan="{span}">{esc(n)}</td></tr>' for n in table.notes) + "</tfoot>")
    parts.append("</table>")
    return "\n".join(parts)
