"""Lossless JSON encoding of myorisk's frozen result objects (``Results.from_dict``).

:func:`encode` turns a result (frozen dataclasses of myorisk, numpy arrays, pandas frames,
tuples, dicts, pydantic configurations, NaN and ±inf) into plain JSON values; :func:`decode`
rebuilds the same objects. Only classes defined in ``myorisk`` modules are rebuilt, so a
crafted file cannot make :func:`decode` import or call anything else.

Hand-written (docs/hand-written.md): pickle is not JSON and runs arbitrary code on load;
jsonpickle also rebuilds arbitrary classes and writes NaN as invalid JSON.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
from typing import Any

import numpy as np
import pandas as pd

from myorisk.errors import InputError

__all__ = ["encode", "decode"]

_TAG = "$"  # dicts with this key are tagged values; plain dicts never have it (see _dict)


def _float(v: float) -> Any:
    if math.isfinite(v):
        return v
    return {_TAG: "f", "v": "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")}


def _class_name(obj: Any) -> str:
    t = type(obj)
    return f"{t.__module__}:{t.__qualname__}"


def _scalar_list(a: np.ndarray) -> list:
    if a.dtype.kind == "f":
        return [_float(float(v)) for v in a.ravel().tolist()]
    if a.dtype.kind in "iub":
        return a.ravel().tolist()
    return [encode(v) for v in a.ravel().tolist()]


def _column(s: pd.Series) -> dict:
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype):
        return {"kind": "category", "categories": encode(list(dt.categories)),
                "ordered": bool(dt.ordered), "codes": s.cat.codes.astype(int).tolist()}
    return {"kind": "values", "dtype": str(dt), "values": [encode(v) for v in s.tolist()]}


def _uncolumn(c: dict, index: pd.Index, name: Any) -> pd.Series:
    if c["kind"] == "category":
        cats = decode(c["categories"])
        values = pd.Categorical.from_codes(c["codes"], categories=cats, ordered=c["ordered"])
        return pd.Series(values, index=index, name=name)
    values = [decode(v) for v in c["values"]]
    dtype = c["dtype"]
    try:
        return pd.Series(values, index=index, name=name, dtype=dtype)
    except (TypeError, ValueError):
        return pd.Series(values, index=index, name=name, dtype=object)


def _index(ix: pd.Index) -> dict:
    if isinstance(ix, pd.RangeIndex):
        return {"range": [ix.start, ix.stop, ix.step], "name": encode(ix.name)}
    return {"values": [encode(v) for v in ix.tolist()], "dtype": str(ix.dtype), "name": encode(ix.name)}


def _unindex(d: dict) -> pd.Index:
    if "range" in d:
        a, b, c = d["range"]
        return pd.RangeIndex(a, b, c, name=decode(d["name"]))
    values = [decode(v) for v in d["values"]]
    try:
        return pd.Index(values, dtype=d["dtype"], name=decode(d["name"]))
    except (TypeError, ValueError):
        return pd.Index(values, dtype=object, name=decode(d["name"]))


def encode(obj: Any) -> Any:
    """``obj`` as plain JSON values (dict with str keys, list, str, int, finite float, bool, None).

    Raises
    ------
    TypeError
        An object of a kind not handled (a bug: every result type must encode).
    """
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return _float(float(obj))
    if obj is pd.NA:
        return {_TAG: "na"}
    if obj is pd.NaT:
        return {_TAG: "nat"}
    if isinstance(obj, tuple):
        return {_TAG: "tuple", "v": [encode(v) for v in obj]}
    if isinstance(obj, list):
        return [encode(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return {_TAG: "nd", "dtype": obj.dtype.str if obj.dtype.kind != "O" else "O",
                "shape": list(obj.shape), "v": _scalar_list(obj)}
    if isinstance(obj, pd.DataFrame):
        return {_TAG: "df", "index": _index(obj.index),
                "columns": _index(obj.columns),
                "data": [_column(obj.iloc[:, j]) for j in range(obj.shape[1])],
                "attrs": encode(dict(obj.attrs))}
    if isinstance(obj, pd.Series):
        return {_TAG: "series", "index": _index(obj.index), "name": encode(obj.name),
                "data": _column(obj)}
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj) and _TAG not in obj:
            return {k: encode(v) for k, v in obj.items()}
        return {_TAG: "dict", "items": [[encode(k), encode(v)] for k, v in obj.items()]}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        _check_module(type(obj).__module__)
        fields = {f.name: encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        return {_TAG: "dc", "cls": _class_name(obj), "f": fields}
    try:
        from pydantic import BaseModel
    except ImportError:  # pragma: no cover - pydantic is a dependency
        BaseModel = ()  # type: ignore[assignment]
    if isinstance(obj, BaseModel):
        _check_module(type(obj).__module__)
        return {_TAG: "pyd", "cls": _class_name(obj), "v": obj.model_dump(mode="json")}
    raise TypeError(f"cannot encode {type(obj).__name__} for results.json")


def _check_module(module: str) -> None:
    if module != "myorisk" and not module.startswith("myorisk."):
        raise InputError(f"results.json: class from module '{module}' is not a myorisk result")


def _resolve(name: str) -> type:
    module, _, qual = name.partition(":")
    _check_module(module)
    try:
        obj: Any = importlib.import_module(module)
        for part in qual.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        raise InputError(f"results.json: unknown result type '{name}' (written by another "
                         "myorisk version?)") from None
    return obj


def decode(obj: Any) -> Any:
    """Rebuild what :func:`encode` wrote.

    Raises
    ------
    InputError
        A class outside myorisk, an unknown type, or a malformed block.
    """
    if isinstance(obj, list):
        return [decode(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    tag = obj.get(_TAG)
    if tag is None:
        return {k: decode(v) for k, v in obj.items()}
    try:
        if tag == "f":
            return float(obj["v"])
        if tag == "na":
            return pd.NA
        if tag == "nat":
            return pd.NaT
        if tag == "tuple":
            return tuple(decode(v) for v in obj["v"])
        if tag == "dict":
            return {_hashable(decode(k)): decode(v) for k, v in obj["items"]}
        if tag == "nd":
            if obj["dtype"] == "O":
                arr = np.empty(len(obj["v"]), dtype=object)
                arr[:] = [decode(v) for v in obj["v"]]
                return arr.reshape(obj["shape"])
            vals = [decode(v) for v in obj["v"]]
            return np.array(vals, dtype=np.dtype(obj["dtype"])).reshape(obj["shape"])
        if tag == "df":
            index = _unindex(obj["index"])
            columns = _unindex(obj["columns"])
            data = {j: _uncolumn(c, index, columns[j]) for j, c in enumerate(obj["data"])}
            df = pd.DataFrame(data, index=index)
            df.columns = columns
            df.attrs.update(decode(obj.get("attrs", {})) or {})
            return df
        if tag == "series":
            return _uncolumn(obj["data"], _unindex(obj["index"]), decode(obj["name"]))
        if tag == "dc":
            cls = _resolve(obj["cls"])
            if not dataclasses.is_dataclass(cls):
                raise InputError(f"results.json: '{obj['cls']}' is not a result type")
            values = {k: decode(v) for k, v in obj["f"].items()}
            init = {f.name for f in dataclasses.fields(cls) if f.init}
            inst = cls(**{k: v for k, v in values.items() if k in init})
            for k, v in values.items():  # fields computed after __init__ (init=False)
                if k not in init:
                    object.__setattr__(inst, k, v)
            return inst
        if tag == "pyd":
            cls = _resolve(obj["cls"])
            return cls.model_validate(obj["v"])
    except InputError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"results.json: malformed '{tag}' block in 'reload' ({exc})") from None
    raise InputError(f"results.json: unknown block type '{tag}' in 'reload'")


def _hashable(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else v
