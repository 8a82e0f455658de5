"""Bootstrap validation (rms 6.5 ``validate.lrm``): exact replay of R's resamples, Monte-Carlo
agreement with repeated rms runs, selection inside the bootstrap, the batched fitter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from myorisk.errors import InputError
from myorisk.modeling import _batch
from myorisk.modeling._newton import newton_logistic
from myorisk.modeling.design import build_design
from myorisk.modeling.validation import (
    INDEXES,
    SelectionSpec,
    draw_resamples,
    normalize_resamples,
    resampled_auc,
    validate,
)

from conftest import load_data, load_r

pytestmark = pytest.mark.r_parity

SETS = {
    "birthwt": ("low", ["age", "lwt", "race", "smoke", "ptl", "ht", "ui"]),
    "endometrial": ("HG", ["NV", "PI", "EH"]),  # separated: rms stops at eps, kept
    "asah": ("poor", ["age", "gender", "wfns", "s100b"]),
    "birthwt_rcs": ("low", ["rcs(age, 4)", "lwt", "smoke", "ht"]),
}
COLS = {"apparent": "index.orig", "training": "training", "test": "test",
        "optimism": "optimism", "corrected": "index.corrected", "n": "n"}


def _design(name: str):
    outcome, preds = SETS[name]
    return build_design(load_data(name.removesuffix("_rcs")), outcome, preds)


@pytest.fixture(scope="module")
def ref() -> dict:
    return load_r("validation")


@pytest.mark.parametrize("name", list(SETS))
def test_replay_matches_rms65_exactly(ref: dict, name: str) -> None:
    r = ref[name]
    idx = normalize_resamples(np.array(r["index"]), r["n"], base=1)
    v = validate(_design(name), resamples=idx)
    assert v.B == r["B"] and v.n_failed == 0
    fr = v.to_frame()
    assert list(fr["index"]) == list(INDEXES) == r["validate"]["rows"]
    for col, rcol in COLS.items():
        np.testing.assert_allclose(
            fr[col].to_numpy(float), np.array(r["validate"][rcol], float), rtol=1e-6, atol=1e-9,
            err_msg=f"{name} {col}",
        )


def test_replay_independent_of_chunking(ref: dict) -> None:
    r = ref["asah"]
    idx = normalize_resamples(np.array(r["index"]), r["n"], base=1)
    a = validate(_design("asah"), resamples=idx, chunk_size=7).to_frame()
    b = validate(_design("asah"), resamples=idx).to_frame()
    pd.testing.assert_frame_equal(a, b, rtol=1e-12)


def test_mc_agreement_with_repeated_rms_runs() -> None:
    mc = load_r("validation_mc")
    v = validate(_design("birthwt"), B=mc["B"], seed=123)
    for k in INDEXES:
        runs = np.array([run[k] for run in mc["validate"]], float)
        sd = max(runs.std(ddof=1), 1e-4)  # Emax/Slope SDs are small; floor for the 6-run SD
        assert abs(v.corrected[k] - runs.mean()) < 5 * sd, (k, v.corrected[k], runs)


def test_seed_reproducible_and_contract() -> None:
    d = _design("asah")
    a = validate(d, B=60, seed=5)
    b = validate(d, B=60, seed=5, chunk_size=13)
    fa, fb = a.to_frame(), b.to_frame()
    pd.testing.assert_frame_equal(fa, fb, rtol=1e-12)  # chunking changes only summation order
    js = a.to_dict()
    assert set(js) >= {"B", "seconds", "indexes", "n_failed", "failure_policy"}
    assert list(js["indexes"]) == list(INDEXES)
    assert set(js["indexes"]["Dxy"]) >= {"apparent", "training", "test", "optimism", "corrected"}
    # apparent intercept/slope 0/1; corrected slope = mean test slope
    assert js["indexes"]["Slope"]["apparent"] == 1.0
    assert js["indexes"]["Slope"]["corrected"] == pytest.approx(js["indexes"]["Slope"]["test"])


def test_draws_do_not_depend_on_chunks() -> None:
    a = np.vstack(list(draw_resamples(50, 10, 3, 3)))
    b = np.vstack(list(draw_resamples(50, 10, 3)))
    np.testing.assert_array_equal(a, b)


def test_normalize_resamples_rules() -> None:
    with pytest.raises(InputError):
        normalize_resamples(np.ones((3, 4), int), 5)
    with pytest.raises(InputError):
        normalize_resamples(np.array([[1, 2, 3], [1, 1, 2]]), 3, base=0)  # 3 out of range
    r = normalize_resamples(np.array([[1, 2, 3], [3, 3, 1]]), 3)  # contains n → 1-based
    assert r.min() == 0 and r.max() == 2


def test_progress_callback() -> None:
    seen: list[tuple[int, int]] = []
    validate(_design("asah"), B=30, seed=1, chunk_size=10, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (30, 30) and len(seen) == 3


def test_batched_fit_equals_single_fits() -> None:
    d = _design("birthwt")
    rng = np.random.default_rng(0)
    idx = rng.integers(0, d.y.size, (6, d.y.size))
    W = np.stack([np.bincount(i, minlength=d.y.size) for i in idx]).astype(float)
    g = _batch.Gram.of(d.X)
    full = _batch.fit_full(g, d.y, W)
    for b in range(6):
        one = newton_logistic(d.X, d.y, weights=W[b])
        np.testing.assert_allclose(full.beta[b], one.beta, rtol=1e-7, atol=1e-9)
    # rms rule: stops near the MLE on well-behaved data
    r65 = _batch.fit_rms65(g, d.y, W)
    assert r65.ok.all()
    np.testing.assert_allclose(r65.beta, full.beta, rtol=1e-3, atol=1e-4)
    # a mask gives the fit of the active columns only
    mask = np.ones_like(full.beta, dtype=bool)
    mask[:, 3:5] = False
    sub = _batch.fit_full(g, d.y, W, mask=mask)
    keep = np.flatnonzero(mask[0])
    one = newton_logistic(d.X[:, keep], d.y, weights=W[0])
    np.testing.assert_allclose(sub.beta[0, keep], one.beta, rtol=1e-7, atol=1e-9)
    assert np.all(sub.beta[:, 3:5] == 0)


def test_converge_policy_skips_separated_resamples() -> None:
    rng = np.random.default_rng(11)
    n = 120
    df = pd.DataFrame({"a": rng.normal(size=n), "rare": np.zeros(n)})
    df.loc[:5, "rare"] = 1.0
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-df["a"]))).astype(int)
    df.loc[:4, "y"] = 1  # 5 of the 6 'rare' patients are events: resamples often separate
    df.loc[5, "y"] = 0
    d = build_design(df, "y", ["a", "rare"])
    v = validate(d, B=60, seed=2, failure_policy="converge")
    assert v.n_failed > 0 and v.failures.get("separation", 0) > 0
    assert v.n["Dxy"] == 60 - v.n_failed
    assert all(np.isfinite(v.corrected[k]) for k in INDEXES)


def test_resampled_auc() -> None:
    d = _design("birthwt")
    a = resampled_auc(d, B=80, seed=4)
    assert a.train.size == 80 and a.oob.size == 80
    assert a.train.mean() > a.oob.mean()  # optimism
    assert a.oob.mean() < a.auc_632plus <= a.apparent
    js = a.to_dict()
    assert js["train"]["n"] == 80 and "median" in js["oob"]


def _seed_style(n: int = 150, seed: int = 1) -> pd.DataFrame:
    """Synthetic seed-style cohort: 3 real predictors and 9 noise candidates."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 12))
    X[:, 6:] = (X[:, 6:] > 0.5).astype(float)
    lp = -0.8 + 0.9 * X[:, 0] + 0.6 * X[:, 1] - 0.5 * X[:, 2]
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    return pd.DataFrame(X, columns=[f"v{j}" for j in range(12)]).assign(y=y)


@pytest.mark.parametrize("method", ["pscreen", "backward_aic"])
def test_selection_in_bootstrap_gives_larger_optimism(method: str) -> None:
    df = _seed_style()
    preds = [f"v{j}" for j in range(12)]
    spec = SelectionSpec(method=method, alpha=0.05 if method == "pscreen" else 0.05)
    full = build_design(df, "y", preds)
    honest = validate(full, B=120, seed=9, selection=spec)
    final = build_design(df, "y", list(honest.selected))
    naive = validate(final, B=120, seed=9)
    assert set(honest.selection_frequency) == set(preds)
    assert all(0.0 <= f <= 1.0 for f in honest.selection_frequency.values())
    assert honest.optimism["Dxy"] > naive.optimism["Dxy"]
    assert honest.corrected["Slope"] < naive.corrected["Slope"]
    assert honest.to_dict()["selection"]["method"] == method


def test_backward_aic_matches_single_step() -> None:
    """On the original data the batched backward AIC keeps what a direct search keeps."""
    df = _seed_style(seed=3)
    preds = [f"v{j}" for j in range(12)]
    d = build_design(df, "y", preds)
    v = validate(d, B=2, seed=1, selection=SelectionSpec("backward_aic"))
    cur = list(range(1, 13))

    def aic(cols: list[int]) -> float:
        f = newton_logistic(d.X[:, [0] + cols], d.y)
        return -2 * f.loglik + 2 * (len(cols) + 1)

    best = aic(cur)
    while cur:
        trials = [(aic([c for c in cur if c != j]), j) for j in cur]
        a, j = min(trials)
        if a >= best - 1e-7:
            break
        best = a
        cur.remove(j)
    assert set(v.selected) == {preds[c - 1] for c in cur}


def test_bad_arguments() -> None:
    d = _design("asah")
    with pytest.raises(InputError):
        validate(d, B=0)
    with pytest.raises(InputError):
        validate(d, B=10, failure_policy="other")
    with pytest.raises(InputError):
        SelectionSpec(method="forward")


def test_pscreen_in_bootstrap_does_not_screen_in_separated_terms():
    # A strong continuous predictor and a rare binary one that separates the outcome (its only
    # positive patient is an event). R's glm + Wald test gives the separated term p ~ 1, so the
    # screen must not let it in; the strong predictor must then be kept in nearly every resample.
    import pandas as pd

    from myorisk.modeling.design import build_design
    from myorisk.modeling.validation import SelectionSpec, validate

    rng = np.random.default_rng(3)
    n = 80
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-0.7 + 1.8 * x)))).astype(int)
    rare = np.zeros(n, dtype=int)
    rare[np.flatnonzero(y == 1)[0]] = 1
    d = pd.DataFrame({"y": y, "x": x, "rare": rare})
    design = build_design(d, "y", ["x", "rare"])
    v = validate(design, B=200, seed=1, selection=SelectionSpec(method="pscreen", alpha=0.05))
    freq = v.selection_frequency
    assert freq["rare"] < 0.02
    assert freq["x"] > 0.95
    assert v.selection_empty < 0.05
    assert v.selected == ("x",)
