"""Univariate tables and variable selection against R glm / confint / step (tests/results/logistic.R)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from myorisk.errors import InputError, SmallSampleWarning
from myorisk.modeling.selection import backward_aic, select_pscreen, univariate

from conftest import load_data, load_r

pytestmark = pytest.mark.r_parity

R = load_r("logistic")
warnings.filterwarnings("ignore", category=SmallSampleWarning)


@pytest.fixture(scope="module")
def univ():
    d = load_data("birthwt")
    vs = [u["variable"] for u in R["univariate"]]
    return (
        univariate(d, "low", vs, reference={"race": "white"}),
        univariate(d, "low", vs, reference={"race": "white"}, ci="profile"),
    )


def test_univariate_matches_glm(univ):
    wald, prof = univ
    for u in R["univariate"]:
        rows = wald.rows[wald.rows.variable == u["variable"]]
        terms = u["terms"] if isinstance(u["terms"], list) else [u["terms"]]  # jsonlite unboxes length 1
        assert list(rows.term) == terms
        assert_allclose(rows.coef, u["coef"], rtol=1e-8)
        assert_allclose(rows.se, u["se"], rtol=1e-7)
        assert_allclose(rows.p, u["p"], rtol=1e-6)
        prows = prof.rows[prof.rows.variable == u["variable"]]
        assert_allclose(np.log(prows.or_low), u["profile_low"], rtol=1e-3, atol=1e-4)
        assert_allclose(np.log(prows.or_high), u["profile_high"], rtol=1e-3, atol=1e-4)


def test_univariate_to_dict_contract(univ):
    d = univ[0].to_dict()
    assert {"term", "or", "or_low", "or_high", "p"} <= set(d["rows"][0])


@pytest.mark.parametrize("i", [0, 1])
def test_backward_aic_matches_step(i):
    s = R["step"][i]
    ref = s["reference"] if isinstance(s["reference"], dict) else {}
    sel = backward_aic(load_data(s["dataset"]), s["outcome"], s["candidates"], reference=ref)
    assert list(sel.selected) == s["kept"]
    assert_allclose(sel.fit.aic, s["aic"], rtol=1e-9)
    dropped = [f"- {v}" for v in sel.steps.variable[1:]]
    assert dropped == [p for p in s["path"] if p]


def test_pscreen_by_hand():
    d = load_data("birthwt")
    sel = select_pscreen(d, "low", ["age", "lwt", "smoke", "ht", "ftv"], alpha=0.05)
    # univariate Wald p of each candidate, from the same R-checked univariate fits
    u = univariate(d, "low", ["age", "lwt", "smoke", "ht", "ftv"])
    entered = list(u.rows.variable[u.rows.p < 0.05])
    assert list(sel.steps.query("step == 'univariate' and action == 'enter'").variable) == entered
    multi = sel.steps.query("step == 'multivariable'")
    assert list(multi.variable) == entered
    assert list(sel.selected) == list(multi.variable[multi.p < 0.05])
    assert set(sel.selected) <= set(entered)


def test_pscreen_nothing_selected():
    d = load_data("birthwt")
    with pytest.raises(InputError, match="selects nothing"):
        select_pscreen(d, "low", ["ftv"], alpha=0.01)
