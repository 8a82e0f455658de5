"""The compiled kernels as callers use them: ahead-of-time built when possible, numba otherwise.

Callers import the kernel sets from here instead of the numba modules::

    from myorisk.modeling._compiled import kernels as _kernels
    _kernels.fit65_rows(...)

Nothing happens at import. On its first call a kernel set loads its ahead-of-time built
extension module (:mod:`myorisk.modeling._aot`; ~1 ms, numba is not imported). A call goes to
the compiled function when the module is there and every argument matches the exported
signature exactly (array type, dtype, dimensions, C-contiguity where the signature asks for it,
writeable where the kernel writes, scalar kinds); otherwise — module not built, stale, corrupt,
or arguments of another type — it goes to the numba function, which imports numba and its
cached kernels (the slower start of a process without a build) and compiles for whatever types
it gets, exactly as before. The fallback is silent; ``myorisk kernels --status`` says whether
the modules are built and usable. ``MYORISK_AOT=0`` forces the numba path (tests compare both).

``calls`` counts, per kernel, the calls that took each path ("aot" / "jit"), so tests can check
that a call site reaches the compiled function.
"""

from __future__ import annotations

import importlib
import os
import re
import threading
from collections import Counter
from typing import Any

import numpy as np

from myorisk.modeling._aot import KERNEL_MODULES, KernelModule, load

__all__ = ["KernelSet", "kernels", "simkernels", "lasso", "calls", "reset"]

_DTYPES = {
    "f8": np.dtype(np.float64), "f4": np.dtype(np.float32), "i8": np.dtype(np.int64),
    "i4": np.dtype(np.int32), "i1": np.dtype(np.int8), "b1": np.dtype(np.bool_),
}

calls: Counter[tuple[str, str]] = Counter()


def _split_args(sig: str) -> list[str]:
    """The argument types of ``"ret(a, b[:, ::1], …)"`` (commas inside brackets kept)."""
    depth, start = 0, None
    for i, ch in enumerate(sig):  # find the argument list: the last top-level parenthesis
        if ch in "([":
            if ch == "(" and depth == 0:
                start = i
            depth += 1
        elif ch in ")]":
            depth -= 1
    assert start is not None and sig.endswith(")"), sig
    body, parts, depth, cur = sig[start + 1 : -1], [], 0, ""
    for ch in body:
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
            continue
        depth += ch in "[("
        depth -= ch in "])"
        cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


_ARG = re.compile(r"^(\w+)(?:\[(.*)\])?(!?)$")


def _checker(arg: str):
    """A predicate telling whether a Python value can be passed to the compiled argument ``arg``."""
    m = _ARG.match(arg.replace(" ", ""))
    assert m is not None, arg
    code, dims, writes = m.group(1), m.group(2), bool(m.group(3))
    dtype = _DTYPES[code]
    if dims is None:  # scalar
        if code == "f8":  # a float (numpy's float64 is one); an int would compile another variant
            return lambda v: isinstance(v, float)
        if code in ("i8", "i4", "i1"):
            return lambda v: isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
        if code == "b1":
            return lambda v: isinstance(v, (bool, np.bool_))
        raise AssertionError(arg)
    axes = dims.split(",")
    ndim = len(axes)
    contiguous = axes[-1] == "::1"

    def check(v: Any) -> bool:
        return (type(v) is np.ndarray and v.dtype == dtype and v.ndim == ndim
                and (not contiguous or v.flags.c_contiguous)
                and (not writes or v.flags.writeable))

    return check


class _Kernel:
    """One exported kernel: the compiled function when the arguments fit, else numba's."""

    def __init__(self, owner: KernelSet, name: str, sig: str) -> None:
        self._owner = owner
        self._name = name
        self._checks = tuple(_checker(a) for a in _split_args(sig))
        self.__name__ = name

    def matches(self, args: tuple) -> bool:
        """Whether ``args`` fit the compiled signature exactly."""
        return len(args) == len(self._checks) and all(c(a) for c, a in zip(self._checks, args, strict=True))

    def __call__(self, *args: Any) -> Any:
        aot = self._owner._aot()
        if aot is not None and self.matches(args):
            calls[(self._name, "aot")] += 1
            return getattr(aot, self._name)(*args)
        calls[(self._name, "jit")] += 1
        return getattr(self._owner.jit(), self._name)(*args)


class KernelSet:
    """The exported kernels of one kernel module (attribute access by name)."""

    def __init__(self, kernel: KernelModule) -> None:
        self._kernel = kernel
        self._lock = threading.Lock()
        self._loaded = False
        self._module: Any = None
        self.note = "not loaded yet"
        for name, sig in kernel.functions.items():
            setattr(self, name, _Kernel(self, name, sig))

    def _aot(self) -> Any:
        if not self._loaded:
            with self._lock:
                if not self._loaded:
                    if os.environ.get("MYORISK_AOT", "1") == "0":
                        self._module, self.note = None, "disabled (MYORISK_AOT=0)"
                    else:
                        self._module, self.note = load(self._kernel)
                    self._loaded = True
        return self._module

    @property
    def compiled(self) -> bool:
        """Whether the ahead-of-time module is loaded and used."""
        return self._aot() is not None

    def jit(self) -> Any:
        """The numba module (imports numba)."""
        return importlib.import_module(f"myorisk.modeling.{self._kernel.name}")

    def reset(self) -> None:
        """Forget the loaded module (the next call looks again; tests)."""
        with self._lock:
            self._loaded, self._module, self.note = False, None, "not loaded yet"


kernels = KernelSet(KERNEL_MODULES["_kernels"])
simkernels = KernelSet(KERNEL_MODULES["_simkernels"])
lasso = KernelSet(KERNEL_MODULES["_lasso_kernel"])


def reset() -> None:
    """Forget every loaded module and the call counts (tests switch cache directories)."""
    for ks in (kernels, simkernels, lasso):
        ks.reset()
    calls.clear()
