"""Where numba keeps the compiled kernels: the user's cache directory, not site-packages.

Imported by the kernel modules before numba. Unless ``NUMBA_CACHE_DIR`` is already set, the
compiled kernels go to ``$XDG_CACHE_HOME/myorisk/numba`` (``~/.cache/myorisk/numba``), which a
read-only or reinstalled site-packages does not affect. Numba checks each cache entry against
the source file's time stamp, so after an upgrade each kernel is compiled once more, then
loaded (the first command after an install is slower by the compile time, later ones are not).
"""

from __future__ import annotations

import os
import sys

if "NUMBA_CACHE_DIR" not in os.environ and "numba" not in sys.modules:
    _base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    os.environ["NUMBA_CACHE_DIR"] = os.path.join(_base, "myorisk", "numba")
