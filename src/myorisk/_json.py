"""One place that makes result structures JSON-ready."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

__all__ = ["clean", "records"]


def clean(obj: object) -> object:
    """Return ``obj`` with numpy scalars and arrays as Python values and NaN/±inf as None.

    Mappings keep their order (keys become strings); tuples become lists; pandas' missing
    markers (``pd.NA``, ``pd.NaT``) become None; other pandas objects are not handled here
    (convert with ``to_dict``/``tolist`` first).
    """
    if isinstance(obj, Mapping):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [clean(v) for v in obj.tolist()]
    if isinstance(obj, np.bool_ | bool):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        v = float(obj)
        return v if math.isfinite(v) else None
    if type(obj).__name__ in ("NAType", "NaTType"):  # pd.NA, pd.NaT (pandas not imported here)
        return None
    return obj


def records(columns: Mapping[str, object]) -> list[dict]:
    """Rows of a table given as columns (name → list or array), as ``DataFrame.to_dict("records")``
    gives them once :func:`clean` has run: one dict per row, in column order."""
    cols = {str(k): list(v) for k, v in columns.items()}  # type: ignore[call-overload]
    n = len(next(iter(cols.values()))) if cols else 0
    return [{k: v[i] for k, v in cols.items()} for i in range(n)]
