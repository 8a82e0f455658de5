"""Ahead-of-time compiled kernels: build, locate and load them without importing numba.

Hand-written (see ``docs/hand-written.md`` and ``docs/engine.md``, "Compiled kernels"). The
numba kernels (:mod:`myorisk.modeling._kernels`, ``_simkernels``, ``_lasso_kernel``) are
compiled with ``cache=True``, but a process still pays for importing numba (~0.25 s) and for
loading the cached kernels (~0.45 s) before the first bootstrap. :func:`build` compiles the
public kernels of a kernel module once, with ``numba.pycc``, into a plain CPython extension
module in the user's cache directory; :func:`load` finds it by a key and imports it by path
(~1 ms, numba not imported). :mod:`myorisk.modeling._compiled` calls the compiled functions
when they are present and the arguments match their signatures, and the numba functions
otherwise.

* **Where**: ``<cache>/aot/<module>-<key>/<extension>``, ``<cache>`` being
  ``$MYORISK_CACHE_DIR`` or ``$XDG_CACHE_HOME/myorisk`` (``~/.cache/myorisk``), next to
  numba's own cache (``<cache>/numba``).
* **Key**: SHA-256 of the kernel module's source (and of the kernel modules it calls into),
  of this file (signatures, build flags), of numba's ``_version.py``, numpy's version and the
  interpreter's extension suffix (``.cpython-311-x86_64-linux-gnu.so``: Python version and ABI).
  An edited kernel, another numba, numpy or Python therefore never loads a stale module; it
  finds no module and uses the JIT path until rebuilt. Computing the key costs < 1 ms.
* **Atomic**: built in a temporary directory next to the target and renamed into place; a
  concurrent builder that loses the race discards its copy. A directory under its final name
  is therefore always complete. The library's SHA-256 and size are stored beside it and checked
  before loading (~1 ms): a damaged file (truncated by a full disk, say) would otherwise crash
  the process inside ``dlopen`` instead of falling back.
* **Flags**: each function is compiled with the options of its ``@njit`` (``error_model``,
  ``fastmath``), and the wrapper releases the GIL as ``nogil=True`` does (pycc's own wrapper
  would hold it, serialising the bootstrap's threads).
* **Generic CPU**: pycc's default target (``x86-64`` baseline), so a cache shared by several
  machines (an NFS home) cannot hold code that a CPU lacks instructions for.

``numba.pycc`` is deprecated in numba (still shipped and working in 0.68). If a future numba
drops it, :func:`build` reports that it is unavailable and everything keeps running on the JIT
path (numba's ``cache=True``), only with the slower start.

Run ``python -m myorisk.modeling._aot`` (or ``myorisk kernels --build``) to build,
``--status`` to show what is built.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["KERNEL_MODULES", "KernelModule", "cache_dir", "key", "module_dir", "load", "build",
           "status"]

_FORMAT = "1"  # bump to invalidate every built module


@dataclass(frozen=True)
class KernelModule:
    """One kernel module and what of it is compiled ahead of time.

    Attributes
    ----------
    name : str
        Module name under ``myorisk.modeling`` (``"_kernels"``).
    extension : str
        Name of the built extension module (its ``PyInit_`` symbol).
    sources : tuple of str
        Module names whose source text enters the key (the module itself and the kernel
        modules whose functions it calls).
    functions : dict
        Exported function → signature, in numba's notation. An argument type ending in ``!``
        is written by the kernel (the argument must be a writeable array); the ``!`` is not
        part of the numba signature.
    """

    name: str
    extension: str
    sources: tuple[str, ...]
    functions: dict[str, str]


KERNEL_MODULES: dict[str, KernelModule] = {
    m.name: m
    for m in (
        KernelModule(
            "_kernels", "_myorisk_aot_kernels", ("_kernels",),
            {
                "fit65_rows": "Tuple((f8[:], i8[:]))(f8[:,::1], f8[::1], f8[:,::1], b1[:,::1],"
                              " f8[:,::1]!, i1[::1]!, i8, f8, f8)",
                "refit65_rows": "Tuple((f8[:], i8[:]))(f8[:,::1], f8[::1], f8[:,::1]!, i1[::1]!,"
                                " i8, f8, f8)",
                "dxy_rows": "f8[:](f8[:,::1], f8[:,::1], f8[:,::1])",
                "gini_rows": "f8[:](f8[:,::1], f8[:,::1])",
                "stable_ties": "void(f8[:,::1]!, i8[:,::1]!)",
                "lowess_rows": "f8[:,:](f8[:,::1], f8[:,::1], f8)",
                "interp_rows": "f8[:,:](f8[:,::1], f8[:,::1], f8[::1])",
                "cal_rows": "f8[:,:](f8[:,::1], f8[:,::1], i8[:,::1], f8[::1], f8)",
                "measures_rows": "f8[:,:](f8[:,::1], f8[:,::1], f8[:,::1], f8[::1], f8[::1])",
            },
        ),
        KernelModule(
            "_simkernels", "_myorisk_aot_simkernels", ("_simkernels", "_kernels"),
            {
                "fit_rows": "i1[:](f8[:,:,::1], f8[:,::1], f8[:,::1]!, i1[::1]!, i8)",
                "validate_rows": "f8[:,:](f8[:,::1], f8[::1], b1[:,::1], f8[:,::1], f8[:,::1]!)",
            },
        ),
        KernelModule(
            "_lasso_kernel", "_myorisk_aot_lasso", ("_lasso_kernel",),
            {
                "cd_path": "Tuple((f8[:,:], f8[:]))(f8[:,::1], f8[:], f8[:], f8, f8[:], b1, i8)",
            },
        ),
    )
}


# ----------------------------------------------------------------------------- where and which
def cache_dir() -> Path:
    """``$MYORISK_CACHE_DIR`` or ``$XDG_CACHE_HOME/myorisk`` (``~/.cache/myorisk``)."""
    base = os.environ.get("MYORISK_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "myorisk"


def _here() -> Path:
    return Path(__file__).resolve().parent


def _numba_version_text() -> bytes:
    """The text of numba's ``_version.py`` (its version and git revision), without importing it."""
    mod = sys.modules.get("numba")
    origin = getattr(mod, "__file__", None) if mod is not None else None
    if origin is None:
        spec = importlib.util.find_spec("numba")
        origin = spec.origin if spec is not None else None
    if origin is None:
        return b"no numba"
    try:
        return (Path(origin).parent / "_version.py").read_bytes()
    except OSError:
        return b"numba " + str(origin).encode()


def key(kernel: KernelModule) -> str:
    """Hash of everything the compiled module depends on (see the module notes), 16 hex digits."""
    import numpy as np

    h = hashlib.sha256()
    for part in (
        _FORMAT.encode(),
        importlib.machinery.EXTENSION_SUFFIXES[0].encode(),
        np.__version__.encode(),
        _numba_version_text(),
        Path(__file__).read_bytes(),
        *((_here() / f"{s}.py").read_bytes() for s in kernel.sources),
    ):
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:16]


def module_dir(kernel: KernelModule) -> Path:
    """Directory of the built module for the current sources and environment."""
    return cache_dir() / "aot" / f"{kernel.name}-{key(kernel)}"


def _ext_path(kernel: KernelModule, directory: Path) -> Path:
    return directory / (kernel.extension + importlib.machinery.EXTENSION_SUFFIXES[0])


def _checksum_path(ext: Path) -> Path:
    return ext.with_name(ext.name + ".sha256")


def _damaged(ext: Path) -> str:
    """Why the library at ``ext`` does not match its stored checksum ("" when it does)."""
    try:
        want = _checksum_path(ext).read_text().split()
        data = ext.read_bytes()
    except OSError as e:
        return f"no checksum: {e}"
    if want != [hashlib.sha256(data).hexdigest(), str(len(data))]:
        return "checksum mismatch: damaged file"
    return ""


def _write_checksum(ext: Path) -> None:
    data = ext.read_bytes()
    _checksum_path(ext).write_text(f"{hashlib.sha256(data).hexdigest()} {len(data)}\n")


# ----------------------------------------------------------------------------- load
def load(kernel: KernelModule) -> tuple[Any | None, str]:
    """The built extension module for ``kernel`` and a note, or ``(None, reason)``.

    Never raises: a missing, unreadable or incomplete module gives ``None`` (the caller then
    uses numba). Numba is not imported.
    """
    try:
        path = _ext_path(kernel, module_dir(kernel))
    except OSError as e:  # a kernel source unreadable: nothing to match against
        return None, f"cannot compute the key: {e}"
    if not path.is_file():
        return None, "not built"
    # a truncated library can crash the process in dlopen (SIGBUS), so check it first (~1 ms)
    bad = _damaged(path)
    if bad:
        return None, f"unusable ({bad})"
    try:
        spec = importlib.util.spec_from_file_location(kernel.extension, path)
        if spec is None or spec.loader is None:
            return None, f"cannot load {path}"
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    except Exception as e:  # corrupt or foreign file: fall back to numba
        return None, f"unusable ({type(e).__name__}: {e})"
    missing = [f for f in kernel.functions if not callable(getattr(mod, f, None))]
    if missing:
        return None, f"incomplete (missing {', '.join(missing)})"
    return mod, str(path)


# ----------------------------------------------------------------------------- build
def _numba_signature(sig: str) -> str:
    return sig.replace("!", "")


def _compile(kernel: KernelModule, out: Path) -> None:
    """Compile ``kernel``'s exported functions into ``out`` with numba.pycc."""
    import importlib
    import warnings

    from myorisk.modeling import _numba_cache  # noqa: F401 - numba's cache dir before numba loads

    try:
        with warnings.catch_warnings():  # pycc is "pending deprecation": see the module notes
            warnings.simplefilter("ignore")
            import numba.pycc.compiler as pcc
            from numba.core.cpu import CPUTargetOptions
            from numba.pycc import CC
    except ImportError as e:  # pragma: no cover - a numba without pycc
        raise RuntimeError(f"numba.pycc cannot be imported ({e}); it needs setuptools and a C "
                           "compiler, and a numba that still ships it") from e

    mod = importlib.import_module(f"myorisk.modeling.{kernel.name}")
    options = {}
    cc = CC(kernel.extension)
    cc.output_dir = str(out)
    cc.verbose = False
    for name, sig in kernel.functions.items():
        dispatcher = getattr(mod, name)
        options[dispatcher.py_func] = dict(dispatcher.targetoptions)
        cc.export(name, _numba_signature(sig))(dispatcher.py_func)

    # pycc compiles every export with one default Flags(): give each function its own @njit
    # options (error_model, fastmath) and release the GIL in the wrapper, as nogil=True does
    base = pcc.compile_extra

    def compile_extra(typingctx, targetctx, func, args, return_type, flags, locals, library):
        flags = flags.copy()
        CPUTargetOptions.parse_as_flags(flags, options.get(func, {}))
        flags.release_gil = True
        return base(typingctx, targetctx, func, args, return_type, flags, locals=locals,
                    library=library)

    pcc.compile_extra = compile_extra
    try:
        cc.compile()
    finally:
        pcc.compile_extra = base


def build(names: tuple[str, ...] | None = None, *, force: bool = False,
          log: Any = None) -> dict[str, str]:
    """Build the compiled modules (all, or ``names``) that are not built yet.

    Parameters
    ----------
    names : tuple of str, optional
        Kernel modules (keys of :data:`KERNEL_MODULES`); default all.
    force : bool, default=False
        Rebuild even when a module for the current key exists (a damaged one, whose checksum
        does not match, is always rebuilt).
    log : callable, optional
        Called with one line per module.

    Returns
    -------
    dict
        Module name → path of the built extension.
    """
    import shutil
    import tempfile

    out: dict[str, str] = {}
    for name in names or tuple(KERNEL_MODULES):
        kernel = KERNEL_MODULES[name]
        final = module_dir(kernel)
        path = _ext_path(kernel, final)
        if path.is_file() and not force and not _damaged(path):
            if log:
                log(f"{name}: already built ({final})")
            out[name] = str(path)
            continue
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
        try:
            t0 = time.perf_counter()
            _compile(kernel, tmp)
            if not _ext_path(kernel, tmp).is_file():
                raise RuntimeError(f"pycc produced no {_ext_path(kernel, tmp).name}")
            _write_checksum(_ext_path(kernel, tmp))
            (tmp / "manifest.txt").write_text(_manifest(kernel, time.perf_counter() - t0))
            if final.exists() and (force or _damaged(path)):  # move the old one aside (a
                # running process keeps its mapped copy), then put the new one in place
                old = final.with_name(f".{final.name}.old-{os.getpid()}")
                try:
                    os.rename(final, old)
                except OSError:  # another builder moved it first
                    pass
                shutil.rmtree(old, ignore_errors=True)
            try:
                os.rename(tmp, final)
            except OSError:  # another builder finished first: its module is as good
                if not path.is_file():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if log:
            log(f"{name}: built in {time.perf_counter() - t0:.1f} s ({final})")
        out[name] = str(path)
    return out


def _manifest(kernel: KernelModule, seconds: float) -> str:
    import numba
    import numpy as np

    lines = [
        f"module myorisk.modeling.{kernel.name}",
        f"built {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} in {seconds:.1f} s",
        f"python {sys.version.split()[0]} {importlib.machinery.EXTENSION_SUFFIXES[0]}",
        f"numba {numba.__version__}, numpy {np.__version__}",
        *(f"{f} :: {s}" for f, s in kernel.functions.items()),
    ]
    return "\n".join(lines) + "\n"


def status() -> dict[str, dict[str, str]]:
    """Per kernel module: ``state`` (built / not built / unusable …), ``path`` and ``key``."""
    out = {}
    for name, kernel in KERNEL_MODULES.items():
        mod, note = load(kernel)
        out[name] = {
            "state": "built" if mod is not None else note,
            "path": str(module_dir(kernel)),
            "key": key(kernel),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m myorisk.modeling._aot [--status] [--force] [module …]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--status" in args:
        for name, st in status().items():
            print(f"{name}: {st['state']} ({st['path']})")
        return 0
    force = "--force" in args
    names = tuple(a for a in args if not a.startswith("--")) or None
    unknown = [n for n in names or () if n not in KERNEL_MODULES]
    if unknown:
        print(f"unknown kernel module {', '.join(unknown)}; known: {', '.join(KERNEL_MODULES)}",
              file=sys.stderr)
        return 2
    try:
        build(names, force=force, log=print)
    except Exception as e:  # the JIT path still works: say so, do not fail the install
        print(f"compiled kernels not built ({type(e).__name__}: {e}); numba JIT is used instead",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
