"""R parity and invariances for myorisk.modeling.smoothing (R stats::lowess, stats::approx)."""

from __future__ import annotations

import numpy as np
import pytest

from myorisk.modeling.smoothing import approx, lowess

from conftest import load_r

pytestmark = pytest.mark.r_parity

R = load_r("performance")


def _arr(v) -> np.ndarray:
    return np.atleast_1d(np.asarray(v, dtype=float))


def _nan(v) -> np.ndarray:
    """JSON list with nulls -> float array with NaN."""
    return np.array([np.nan if e is None else e for e in np.atleast_1d(v)], dtype=float)


@pytest.mark.parametrize("case", R["lowess"], ids=lambda c: c["name"])
def test_lowess_matches_r(case: dict) -> None:
    data = R["lowess_data"][case["data"]]
    delta = case["delta"]
    xs, ys = lowess(_arr(data["x"]), _arr(data["y"]), f=case["f"], iter=case["iter"], delta=delta)
    np.testing.assert_array_equal(xs, _arr(case["out_x"]))
    # deterministic smoother, sums in the C loop order: agreement to rounding error
    np.testing.assert_allclose(ys, _arr(case["out_y"]), rtol=1e-12, atol=1e-13)


def test_lowess_covers_cases() -> None:
    names = {c["name"] for c in R["lowess"]}
    assert len(names) >= 70
    assert {"const_y", "two_points", "one_point", "unsorted_ties"} <= names


def test_lowess_linear_data_is_reproduced() -> None:
    x = np.linspace(0, 1, 40)
    y = 2.0 - 3.0 * x
    _, ys = lowess(x, y, f=0.3, iter=3)
    np.testing.assert_allclose(ys, y, atol=1e-12)


def test_lowess_errors() -> None:
    with pytest.raises(ValueError):
        lowess([1.0, 2.0], [1.0])
    with pytest.raises(ValueError):
        lowess([1.0, 2.0], [1.0, 2.0], f=0)
    with pytest.raises(ValueError):
        lowess([1.0, 2.0], [1.0, 2.0], iter=-1)
    with pytest.raises(ValueError):
        lowess([1.0, np.nan], [1.0, 2.0])


@pytest.mark.parametrize("case", R["approx"], ids=lambda c: c["name"])
def test_approx_matches_r(case: dict) -> None:
    out = approx(_nan(case["x"]), _nan(case["y"]), _nan(case["xout"]), rule=case["rule"],
                 ties=case["ties"])
    expected = _nan(case["out"])
    np.testing.assert_array_equal(np.isnan(out), np.isnan(expected))
    np.testing.assert_allclose(out, expected, rtol=1e-13, atol=1e-15)


def test_approx_toy() -> None:
    x = np.array([2.0, 0.0, 1.0, 1.0])
    y = np.array([4.0, 0.0, 1.0, 3.0])
    np.testing.assert_allclose(approx(x, y, [0.5, 1.0, 1.5, 3.0, -1.0]),
                               [1.0, 2.0, 3.0, np.nan, np.nan])
    np.testing.assert_allclose(approx(x, y, [0.5, 1.0], ties="first"), [0.5, 1.0])
    np.testing.assert_allclose(approx(x, y, [3.0, -1.0], rule=2), [4.0, 0.0])
    np.testing.assert_allclose(approx(x, y, [3.0, -1.0], rule=(1, 2)), [4.0, np.nan])


def test_approx_errors() -> None:
    with pytest.raises(ValueError):
        approx([1.0, 1.0], [1.0, 2.0], [1.0])
    with pytest.raises(ValueError):
        approx([1.0, 2.0], [1.0, 2.0], [1.0], rule=3)
    with pytest.raises(ValueError):
        approx([1.0, 2.0], [1.0, 2.0], [1.0], ties="median")
