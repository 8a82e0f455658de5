"""Adjusting p-values for multiple comparisons (R ``p.adjust``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def holm_adjust(p: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (R ``p.adjust(p, method = "holm")``).

    Parameters
    ----------
    p : array-like of float
        Raw p-values; NaN values are kept as NaN and do not count as tests (as R's default
        ``n = length(p[!is.na(p)])``).

    Returns
    -------
    numpy.ndarray
        Adjusted p-values in the input order: for the i-th smallest of m p-values,
        ``max_{j <= i} min(1, (m - j + 1) p_(j))``.

    References
    ----------
    Holm S. A simple sequentially rejective multiple test procedure. Scand J Stat 1979;6:65-70.
    """
    arr = np.asarray(p, dtype=float)
    out = np.full(arr.shape, np.nan)
    ok = np.isfinite(arr)
    vals = arr[ok]
    m = vals.size
    if m == 0:
        return out
    order = np.argsort(vals, kind="stable")
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * vals[order]))
    res = np.empty(m)
    res[order] = adj
    out[ok] = res
    return out
