"""``myorisk kernels``: show or build the ahead-of-time compiled kernels (set-up, once)."""

from __future__ import annotations

from typing import Annotated

import typer

from myorisk.commands import _common as common
from myorisk.commands._common import JsonOpt, out


def kernels(
    build: Annotated[bool, typer.Option("--build", help="Compile the kernels that are not built yet "
                                        "(numba.pycc; ~15 s once per install).")] = False,
    force: Annotated[bool, typer.Option("--force", help="With --build: rebuild even when built.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show, or with --build compile, the kernels compiled ahead of time.

    Built once after installing (``make`` does it; after a plain ``pip install`` run
    ``myorisk kernels --build``), they go to the user cache (``~/.cache/myorisk/aot``, or
    ``$MYORISK_CACHE_DIR/aot``) under a key of the kernel sources, numba, numpy and Python, and let
    validate, calibrate, sample-size --simulate and the LASSO start without importing numba.
    Without them everything works the same through numba's JIT cache, only ~0.7 s slower to start.
    """
    from myorisk.errors import MyoriskError
    from myorisk.modeling import _aot

    if force and not build:
        raise MyoriskError("--force goes with --build")
    if build:
        try:
            _aot.build(force=force, log=None if as_json else lambda line: out.print(line, markup=False))
        except Exception as e:  # pycc missing or the C toolchain failing: the JIT path still works
            raise MyoriskError(f"the kernels could not be compiled ahead of time ({type(e).__name__}: "
                               f"{e}); myorisk keeps using numba's JIT kernels") from e
    st = _aot.status()
    if as_json:
        common.dump({"cache": str(_aot.cache_dir() / "aot"), "modules": st})
        return
    if not build:
        for name, s in st.items():
            out.print(f"{name}: {s['state']} ({s['path']})", markup=False)
    if any(s["state"] != "built" for s in st.values()):
        common.note("kernels not built ahead of time run through numba's JIT cache "
                    "(slower start); `myorisk kernels --build` compiles them")
