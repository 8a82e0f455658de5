"""The few special functions a fit needs, without importing scipy.

Importing ``scipy.special`` costs ~0.1 s and ``scipy.linalg`` more of every ``fit`` (scipy builds
its array-API wrappers and docstrings at import), while a logistic fit needs only the logistic
function, the normal distribution function and its inverse, and χ² tail probabilities. Each is
written here from its textbook form (see ``docs/hand-written.md``); ``tests/test_special.py``
checks every one against scipy (to a few ulps, 1e-14 relative) over wide grids, including the
tails.

* :func:`expit`, :func:`log_expit`: the branches scipy uses (``1/(1+e^{-x})`` for x ≥ 0,
  ``e^x/(1+e^x)`` below; ``−log1p(e^{−x})`` / ``x − log1p(e^x)``), so no overflow and the same
  rounding.
* :func:`ndtr`: Φ(x) = ½·erfc(−x/√2) with the C library's ``erfc`` (``math.erfc``).
* :func:`ndtri`: Φ⁻¹ by Wichura's AS 241 (``statistics.NormalDist.inv_cdf``, accurate to about
  1e-16).
* :func:`chdtrc`: the χ² upper tail Q(k/2, x/2). For whole-number degrees of freedom the
  closed forms (Poisson sum for even k; erfc plus a half-integer series for odd k), summed in
  log space so that neither large x nor large k under- or overflows; other degrees of freedom
  (a penalised fit's effective d.f.), and arrays of x, use ``scipy.special.chdtrc``, imported
  only then.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

__all__ = ["expit", "log_expit", "ndtr", "ndtri", "chdtrc", "chi2_ppf"]

_SQRT_HALF = math.sqrt(0.5)
_NORMAL = NormalDist()


def expit(x: np.ndarray | float) -> np.ndarray | float:
    """Logistic function 1 / (1 + e^−x), elementwise, without overflow."""
    a = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(a))
    out = np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return float(out) if out.ndim == 0 else out


def log_expit(x: np.ndarray | float) -> np.ndarray | float:
    """log(expit(x)), elementwise, accurate in both tails."""
    a = np.asarray(x, dtype=float)
    out = np.where(a >= 0, -np.log1p(np.exp(-np.abs(a))), a - np.log1p(np.exp(-np.abs(a))))
    return float(out) if out.ndim == 0 else out


def ndtr(x: np.ndarray | float) -> np.ndarray | float:
    """Standard normal distribution function Φ(x), elementwise."""
    a = np.asarray(x, dtype=float)
    out = np.array([0.5 * math.erfc(-v * _SQRT_HALF) if not math.isnan(v) else math.nan
                    for v in a.ravel()], dtype=float).reshape(a.shape)
    return float(out) if out.ndim == 0 else out


def ndtri(p: float) -> float:
    """Standard normal quantile Φ⁻¹(p) for 0 < p < 1 (−inf/inf at 0/1, NaN outside)."""
    p = float(p)
    if p == 0.0:
        return -math.inf
    if p == 1.0:
        return math.inf
    if not 0.0 < p < 1.0:
        return math.nan
    return _NORMAL.inv_cdf(p)


def _logsumexp(terms: list[float]) -> float:
    m = max(terms)
    if m == -math.inf:
        return -math.inf
    return m + math.log(math.fsum(math.exp(t - m) for t in terms))


def chdtrc(df: float, x: np.ndarray | float) -> np.ndarray | float:
    """χ² upper tail probability P(X > x) for ``df`` degrees of freedom (scipy's ``chdtrc``).

    An array ``x`` (the bootstrap's per-resample Wald tests) goes to scipy's vectorised ufunc.
    """
    if np.ndim(x) > 0:
        from scipy.special import chdtrc as _scipy_chdtrc

        return _scipy_chdtrc(df, x)
    df, x = float(df), float(x)
    if math.isnan(df) or math.isnan(x) or df <= 0:
        return math.nan
    if x <= 0:
        return 1.0
    if math.isinf(x):
        return 0.0
    if not df.is_integer() or df > 1e5:
        from scipy.special import chdtrc as _scipy_chdtrc

        return float(_scipy_chdtrc(df, x))
    k = int(df)
    h = 0.5 * x
    log_h = math.log(h)
    if k % 2 == 0:
        # Q(m, h) = e^−h Σ_{i<m} h^i / i!
        terms = [-h + i * log_h - math.lgamma(i + 1.0) for i in range(k // 2)]
        return min(1.0, math.exp(_logsumexp(terms)))
    # Q(½ + m, h) = erfc(√h) + e^−h Σ_{i=1..m} h^{i−½} / Γ(i + ½)
    terms = [-h + (i - 0.5) * log_h - math.lgamma(i + 0.5) for i in range(1, (k - 1) // 2 + 1)]
    head = math.erfc(math.sqrt(h))
    if not terms:
        return head
    return min(1.0, head + math.exp(_logsumexp(terms)))


def chi2_ppf(level: float, df: int = 1) -> float:
    """χ² quantile for one degree of freedom (the square of a normal quantile)."""
    if df != 1:
        raise ValueError("chi2_ppf is written for one degree of freedom")
    return ndtri(0.5 + level / 2.0) ** 2
