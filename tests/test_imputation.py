"""Rubin's rules (mice 3.15 pool) and multiple imputation by chained equations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from myorisk.errors import InputError
from myorisk.modeling.imputation import default_m, fit_imputed, split_long
from myorisk.modeling.pooling import pool_scalar

from conftest import RESULTS, load_r

pytestmark = pytest.mark.r_parity

R = load_r("imputation")


def _long() -> pd.DataFrame:
    return pd.read_csv(RESULTS / "data" / f"{R['long']}.csv")


@pytest.mark.r_parity
def test_pool_equals_mice_pool():
    sets = split_long(_long().drop(columns=[".id"]), ".imp")
    res = fit_imputed(sets, R["outcome"], R["predictors"], reference=R["reference"])
    p = R["pooled"]
    assert res.m == p["m"] == 5
    assert res.pooled.dfcom == p["dfcom"][0]
    for key, mine in (("estimate", res.pooled.estimate), ("ubar", res.pooled.ubar), ("b", res.pooled.b),
                      ("t", res.pooled.t), ("df", res.pooled.df), ("riv", res.pooled.riv),
                      ("lambda", res.pooled.lambda_), ("fmi", res.pooled.fmi),
                      ("std_error", res.pooled.se), ("statistic", res.pooled.statistic),
                      ("p_value", res.pooled.p), ("ci_low", res.pooled.ci_low),
                      ("ci_high", res.pooled.ci_high)):
        np.testing.assert_allclose(mine, p[key], rtol=1e-8, atol=1e-10, err_msg=key)
    assert res.names[0] == "Intercept" and len(res.names) == len(p["term"])


@pytest.mark.r_parity
def test_pool_scalar_equals_mice():
    s = R["scalar"]
    res = pool_scalar(s["Q"], s["U"], n=s["n"], k=s["k"])
    for key, mine in (("qbar", res.estimate), ("ubar", res.ubar), ("b", res.b), ("t", res.t),
                      ("df", res.df), ("r", res.riv), ("fmi", res.fmi)):
        np.testing.assert_allclose(mine[0], s[key], rtol=1e-10, err_msg=key)


@pytest.mark.unit
def test_split_long_checks():
    lg = _long()
    with pytest.raises(InputError, match="imputation column '.imputation' not found"):
        split_long(lg, ".imputation")
    bad = lg.copy()
    bad[".imp"] = bad[".imp"].astype(float)
    bad.loc[3, ".imp"] = 1.5
    with pytest.raises(InputError, match="row 5, column '.imp'"):
        split_long(bad)
    one = lg[lg[".imp"] == 1]
    with pytest.raises(InputError, match="at least 2"):
        split_long(one)
    # .imp == 0 (mice include = TRUE) is the incomplete original: not an imputation
    orig = pd.read_csv(RESULTS / "data" / f"{R['data']}.csv").assign(**{".imp": 0, ".id": 0})
    sets = split_long(pd.concat([orig, lg]).reset_index(drop=True))
    assert len(sets) == 5 and all(len(s) == len(orig) for s in sets)


@pytest.mark.unit
def test_default_m():
    assert default_m(0.0) == 5
    assert default_m(0.434) == 44
    assert default_m(0.2) == 20
    assert default_m(1.0, maximum=100) == 100


# ----------------------------------------------------------------------------- MICE
def _miss() -> pd.DataFrame:
    return pd.read_csv(RESULTS / "data" / f"{R['data']}.csv")


@pytest.mark.r_parity
@pytest.mark.filterwarnings("ignore::myorisk.errors.SmallSampleWarning")
def test_mice_pooled_within_monte_carlo_error_of_r_mice():
    """myorisk's own imputations (same methods and maxit as mice's defaults) give pooled
    coefficients whose mean over seeds equals mice's mean over seeds within Monte-Carlo error."""
    from myorisk.modeling.mice import mice

    mc = R["mc"]
    d = _miss()
    est = []
    for k in range(8):
        imp = mice(d, m=mc["m"], maxit=mc["maxit"], seed=100 + k, outcome="low")
        assert imp.methods == {**{c: "" for c in d.columns}, **{"age": "pmm", "lwt": "pmm", "race": "polyreg",
                                                                   "smoke": "logreg"}}
        assert {k2: v for k2, v in mc["method"].items() if v} == {k2: v for k2, v in imp.methods.items() if v}
        f = fit_imputed(imp.completed(), "low", R["predictors"], reference=R["reference"])
        est.append(f.pooled.estimate)
    est = np.array(est)
    se = np.sqrt(est.var(axis=0, ddof=1) / len(est) + np.array(mc["sd"]) ** 2 / mc["K"])
    diff = est.mean(axis=0) - np.array(mc["mean"])
    assert np.all(np.abs(diff) <= 4.0 * se), (diff / se).round(2)
    # and the estimates are not simply the complete-case ones: imputation moved them
    from myorisk.modeling.logistic import fit_logistic

    cc = fit_logistic(d.dropna(), "low", R["predictors"], reference=R["reference"])
    assert np.max(np.abs(est.mean(axis=0) - cc.coefficients) / se) > 4.0


@pytest.mark.unit
def test_mice_reproducible_complete_and_long():
    from myorisk.modeling.mice import mice

    d = _miss()
    a = mice(d, m=3, maxit=3, seed=7, outcome="low")
    b = mice(d, m=3, maxit=3, seed=7, outcome="low", workers=2)
    for i in (1, 2, 3):
        pd.testing.assert_frame_equal(a.complete(i), b.complete(i))
        c = a.complete(i)
        assert not c.isna().any().any()
        obs = d.notna()
        pd.testing.assert_frame_equal(c[obs].astype(object), d[obs].astype(object))  # observed untouched
        assert set(c["race"]) <= {"white", "black", "other"} and set(c["smoke"]) <= {0.0, 1.0}
    assert not a.complete(1).equals(a.complete(2))
    lg = a.long()
    assert list(lg.columns[:2]) == [".imp", ".id"] and len(lg) == 3 * len(d)
    assert len(split_long(lg.drop(columns=[".id"]))) == 3
    assert a.chain_mean["age"].shape == (3, 3)
    assert a.info()["methods"] == {"age": "pmm", "lwt": "pmm", "race": "polyreg", "smoke": "logreg"}
    assert a.share_incomplete == pytest.approx(R["n_incomplete"] / len(d))
    # default m from the share of incomplete rows (White et al.: m >= % incomplete)
    assert mice(d, maxit=1, seed=1).m == default_m(R["n_incomplete"] / len(d)) == 44


@pytest.mark.unit
def test_mice_errors():
    from myorisk.modeling.mice import mice

    d = _miss()
    with pytest.raises(InputError, match="outcome 'low' has 1 missing"):
        mice(d.assign(low=d["low"].where(d.index != 3)), outcome="low", m=2)
    with pytest.raises(InputError, match="logreg needs two"):
        mice(d, m=2, method={"race": "logreg"})
    with pytest.raises(InputError, match="not one of"):
        mice(d, m=2, method={"age": "norm"})
    with pytest.raises(InputError, match="no observed value"):
        mice(d.assign(ptl=np.nan), m=2)


@pytest.mark.unit
def test_validate_imputed_independent_of_workers_and_single_set_equals_validate():
    from myorisk.modeling.design import build_design
    from myorisk.modeling.mi_validation import calibrate_imputed, validate_imputed
    from myorisk.modeling.mice import mice
    from myorisk.modeling.validation import validate

    d = _miss()
    preds = ["age", "lwt", "smoke", "ht"]
    designs = [build_design(s, "low", preds) for s in mice(d, m=3, maxit=3, seed=2, outcome="low").completed()]
    a = validate_imputed(designs, B=40, seed=9, ci=True, workers=1)
    b = validate_imputed(designs, B=40, seed=9, ci=True, workers=3)
    assert a.corrected == b.corrected and a.corrected_low == b.corrected_low
    assert a.corrected["Dxy"] == pytest.approx(np.mean([v.corrected["Dxy"] for v in a.each]))
    # per imputation, the run is an ordinary validate with the derived seed
    assert len({v.corrected["Dxy"] for v in a.each}) == 3
    one = validate_imputed(designs[:1], B=40, seed=9, ci=True)
    ref = validate(designs[0], B=40, seed=9)
    assert one.corrected == pytest.approx(ref.corrected, abs=1e-12)
    # location shift: the interval is the training percentile interval moved by the optimism
    for k in ("Dxy", "R2", "B"):
        assert one.corrected_high[k] - one.corrected_low[k] > 0
    pooled = validate_imputed(designs, B=40, seed=9, ci=True, combine="pooled")
    assert pooled.corrected == a.corrected and pooled.corrected_low != a.corrected_low
    for v in (a, pooled):
        assert v.corrected_low["Dxy"] < v.corrected["Dxy"] < v.corrected_high["Dxy"]
    # Rubin: the interval is at least as wide as the average per-imputation interval
    per = [validate_imputed([dd], B=40, seed=s, ci=True)
           for dd, s in zip(designs, [int(np.random.SeedSequence([9, i]).generate_state(1)[0] % 2**31)
                                      for i in range(3)], strict=True)]
    assert [p.corrected["Dxy"] for p in per] == [v.corrected["Dxy"] for v in a.each]
    avg_width = np.mean([p.corrected_high["Dxy"] - p.corrected_low["Dxy"] for p in per])
    assert a.corrected_high["Dxy"] - a.corrected_low["Dxy"] >= avg_width - 1e-12
    c = calibrate_imputed(designs, B=30, seed=9, ci=True)
    assert np.all(c.corrected_low[np.isfinite(c.corrected_low)] <= c.corrected_high[np.isfinite(c.corrected_high)])
    assert np.allclose(c.corrected, c.apparent - c.optimism)
