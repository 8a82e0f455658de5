"""Start-up: a command imports only what it uses (checked in sys.modules of a fresh process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import RESULTS

SRC = str(Path(__file__).resolve().parents[1] / "src")
HEAVY = ("scipy", "matplotlib", "numba", "fastapi", "starlette", "uvicorn", "sqlalchemy", "dask",
         "distributed", "pandas", "pyarrow", "jinja2")

_PROBE = """
import json, sys
from myorisk.cli import _run
code = _run(sys.argv[1:])
sys.stdout.flush()
mods = sorted({m.split('.')[0] for m in sys.modules} | {m for m in sys.modules if m.startswith('scipy.')})
print('\\n@@' + json.dumps({'code': code, 'modules': mods}))
"""


def _modules(*args: str) -> tuple[int, set[str]]:
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, env=env,
                       timeout=300)
    d = json.loads(r.stdout.rsplit("\n@@", 1)[1])
    return d["code"], set(d["modules"])


@pytest.mark.cli
def test_help_imports_no_heavy_library():
    code, mods = _modules("--help")
    assert code == 0
    assert not mods & set(HEAVY), sorted(mods & set(HEAVY))
    assert "numpy" not in mods


@pytest.mark.cli
def test_fit_imports_only_what_it_uses():
    code, mods = _modules("fit", str(RESULTS / "data" / "birthwt.csv"), "-y", "low", "-x", "age,lwt,smoke",
                          "--json")
    assert code == 0
    assert {"numpy", "pandas"} <= mods  # the file read and the fit
    for heavy in ("matplotlib", "numba", "fastapi", "sqlalchemy", "dask", "scipy"):
        assert heavy not in mods, heavy


@pytest.mark.cli
def test_sample_size_formula_imports_no_simulation_machinery():
    code, mods = _modules("sample-size", "--prevalence", "0.174", "--parameters", "24", "--csrsquared", "0.288")
    assert code == 0
    for heavy in ("numba", "dask", "matplotlib", "fastapi", "scipy.stats"):
        assert heavy not in mods, heavy
