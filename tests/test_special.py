"""The scipy-free special functions of a fit (`modeling/_special.py`) against scipy."""

import math

import numpy as np
import pytest
from scipy import special

from myorisk.modeling import _special as S

pytestmark = pytest.mark.unit

X = np.r_[np.linspace(-750, 750, 3001), np.linspace(-40, 40, 8001), -1e-300, 0.0, 1e-300, 36.7, -36.7]


def test_expit_and_log_expit_equal_scipy():
    assert np.allclose(S.expit(X), special.expit(X), rtol=1e-15, atol=1e-300)  # scipy flushes subnormals
    lx = special.log_expit(X)
    assert np.allclose(S.log_expit(X), lx, rtol=1e-14, atol=1e-300)
    assert S.expit(0.0) == 0.5 and isinstance(S.expit(2.0), float)
    assert S.expit(-800.0) == 0.0 and S.expit(800.0) == 1.0


def test_ndtr_and_ndtri_equal_scipy():
    z = np.r_[np.linspace(-38, 9, 4701), np.nan]
    got, ref = S.ndtr(z), special.ndtr(z)
    assert np.isnan(got[-1])
    body = z[:-1] > -10  # p-values down to 1e-23: a few ulps
    assert np.allclose(got[:-1][body], ref[:-1][body], rtol=1e-14, atol=0)
    # the far tail (1e-23 … 1e-316): libm's erfc and Cephes differ by up to ~6e-14 relative
    assert np.allclose(got[:-1], ref[:-1], rtol=1e-13, atol=1e-300)
    for p in np.r_[1e-300, 1e-20, 1e-10, np.linspace(1e-6, 1 - 1e-6, 2001), 1 - 1e-12]:
        assert S.ndtri(p) == pytest.approx(float(special.ndtri(p)), rel=1e-14, abs=1e-15)
    assert S.ndtri(0.0) == -math.inf and S.ndtri(1.0) == math.inf and math.isnan(S.ndtri(1.5))
    assert S.chi2_ppf(0.95) == pytest.approx(float(special.chdtri(1, 0.05)), rel=1e-14)


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 6, 7, 10, 11, 25, 50, 101, 400])
def test_chdtrc_whole_degrees_of_freedom_equal_scipy(df):
    for x in np.r_[1e-12, 1e-6, np.linspace(0.01, 5 * df + 60, 997), 2000.0, 1400.0]:
        ref = float(special.chdtrc(df, x))
        got = S.chdtrc(df, x)
        assert got == pytest.approx(ref, rel=1e-12, abs=1e-300), (df, x)
    assert S.chdtrc(df, 0.0) == 1.0 and S.chdtrc(df, math.inf) == 0.0


def test_chdtrc_other_degrees_of_freedom_and_arrays_go_to_scipy():
    assert S.chdtrc(2.7, 3.1) == float(special.chdtrc(2.7, 3.1))
    x = np.array([0.5, 3.84, 10.0])
    assert np.array_equal(S.chdtrc(1, x), special.chdtrc(1, x))
    assert math.isnan(S.chdtrc(0, 1.0)) and math.isnan(S.chdtrc(3, math.nan))
