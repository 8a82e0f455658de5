"""Where numba keeps the compiled kernels: the user's cache directory, not site-packages.

Imported by the kernel modules before numba. Unless ``NUMBA_CACHE_DIR`` is already set, the
compiled kernels go to ``$MYORISK_CACHE_DIR/numba`` or ``$XDG_CACHE_HOME/myorisk/numba``
(``~/.cache/myorisk/numba``; the ahead-of-time built modules of :mod:`myorisk.modeling._aot`
go to ``…/myorisk/aot`` beside it), which a
read-only or reinstalled site-packages does not affect. Numba (0.68) keys each entry by the
install path and a SHA-256 of the source file's contents (not its time stamp; checked: touching
the file keeps the cache hit), so reinstalling the same version in the same place reuses the
compiled kernels; a new version (changed source) or a new environment compiles them once.
"""

from __future__ import annotations

import os
import sys

if "NUMBA_CACHE_DIR" not in os.environ and "numba" not in sys.modules:
    _base = os.environ.get("MYORISK_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "myorisk")
    os.environ["NUMBA_CACHE_DIR"] = os.path.join(_base, "numba")
