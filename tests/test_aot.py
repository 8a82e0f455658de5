"""Ahead-of-time compiled kernels (``myorisk.modeling._aot``, ``_compiled``): same results as the
numba kernels, reached by every call site, never stale, never fatal when missing or corrupt.

The modules are built once per session into a temporary cache directory (``MYORISK_CACHE_DIR``):
~7 s for the bootstrap kernels; the simulation and LASSO kernels (~4 s each) only for the tests
marked slow.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit

from myorisk.modeling import _aot, _batch, _compiled
from myorisk.modeling import _kernels as jit

from conftest import RESULTS

pytestmark = pytest.mark.unit

SRC = str(Path(__file__).resolve().parents[1] / "src")


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def aot_build(tmp_path_factory):
    """``build(name)`` builds a kernel module once per session into one temporary cache."""
    import importlib.util

    if importlib.util.find_spec("numba.pycc") is None:  # a future numba without pycc: JIT only
        pytest.skip("this numba has no numba.pycc; the kernels run through the JIT path")
    root = tmp_path_factory.mktemp("aot-cache")
    done: set[str] = set()

    def build(name: str) -> Path:
        if name not in done:
            old = os.environ.get("MYORISK_CACHE_DIR")
            os.environ["MYORISK_CACHE_DIR"] = str(root)
            try:
                _aot.build((name,))
            finally:
                if old is None:
                    os.environ.pop("MYORISK_CACHE_DIR")
                else:
                    os.environ["MYORISK_CACHE_DIR"] = old
            done.add(name)
        return root

    return build


@pytest.fixture
def aot(aot_build, monkeypatch):
    """The bootstrap kernels built and in use (the facade forgets them afterwards)."""
    monkeypatch.setenv("MYORISK_CACHE_DIR", str(aot_build("_kernels")))
    monkeypatch.delenv("MYORISK_AOT", raising=False)
    _compiled.reset()
    assert _compiled.kernels.compiled, _compiled.kernels.note
    yield _compiled
    _compiled.reset()


def _jit_only(monkeypatch) -> None:
    monkeypatch.setenv("MYORISK_AOT", "0")
    _compiled.reset()


def _close(a, b, rtol=1e-13, atol=1e-13) -> None:
    """Equal arrays (or tuples of arrays), to rounding (fastmath reassoc may order sums otherwise)."""
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, z in zip(a, b, strict=True):
            _close(x, z, rtol, atol)
        return
    if a is None:
        assert b is None
        return
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    if a.dtype.kind in "biu":
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


# ----------------------------------------------------------------------------- inputs per kernel
def _sorted_rows(rng, B, n, ties):
    v = rng.normal(size=(B, n))
    if ties:
        v = np.round(v, 1)  # many ties
    return np.ascontiguousarray(np.sort(v, axis=1))


def _fit_args(rng, ties, masked):
    n, k, B = 90, 4, 30
    X = rng.normal(size=(n, k - 1))
    if ties:
        X = np.round(X)
    y = (rng.random(n) < expit(X @ np.array([1.0, -0.7, 0.4]))).astype(float)
    W = rng.multinomial(n, np.full(n, 1.0 / n), size=B).astype(float)
    beta, status = _batch._start(W, y, k)
    mask = np.zeros((0, k), dtype=bool)
    if masked:
        mask = rng.random((B, k)) < 0.7
        mask[:, 0] = True
    XT = np.ascontiguousarray(np.column_stack([np.ones(n), X]).T)
    return (XT, y, W, mask, beta, status, 12, 0.025, 1e-12)


def _refit_args(rng, ties):
    B, n = 40, 120
    lp = rng.normal(size=(B, n)) * rng.uniform(0.2, 3.0, size=(B, 1))
    if ties:
        lp = np.round(lp, 1)
    y = (rng.random(n) < 0.35).astype(float)
    beta = np.zeros((B, 2))
    beta[:, 0] = np.log(y.mean() / (1 - y.mean()))
    return (np.ascontiguousarray(lp), y, beta, np.zeros(B, dtype=np.int8), 12, 0.025, 1e-13)


def _cases(rng, name, ties):
    B, n = 25, 150
    vs = _sorted_rows(rng, B, n, ties)
    ys = (rng.random((B, n)) < 0.3).astype(float)
    ws = rng.integers(0, 4, size=(B, n)).astype(float)
    if name == "fit65_rows":
        return [_fit_args(rng, ties, False), _fit_args(rng, ties, True)]
    if name == "refit65_rows":
        return [_refit_args(rng, ties)]
    if name == "dxy_rows":
        return [(vs, ys, ws)]
    if name == "gini_rows":
        return [(vs, ws)]
    if name == "stable_ties":
        a = np.round(rng.normal(size=(B, n)), 0 if ties else 3)
        o = np.ascontiguousarray(np.argsort(a, axis=1, kind="quicksort"))
        return [(np.ascontiguousarray(np.take_along_axis(a, o, axis=1)), o)]
    if name == "lowess_rows":
        return [(expit(vs), ys, 2.0 / 3.0), (vs, ys, 0.3)]
    if name == "interp_rows":
        sm = np.ascontiguousarray(np.cumsum(rng.random((B, n)), axis=1))
        for r in range(B):  # tied x carry equal smoothed values, as lowess gives them
            for j in range(1, n):
                if vs[r, j] == vs[r, j - 1]:
                    sm[r, j] = sm[r, j - 1]
        return [(vs, sm, np.linspace(-2.5, 2.5, 50))]
    if name == "cal_rows":
        p = np.ascontiguousarray(expit(vs))
        grid = np.linspace(p.min() + 0.01, p.max() - 0.01, 50)
        counts = rng.integers(0, 3, size=(B, n)).astype(np.int64)
        return [(p, ys, np.zeros((0, 0), dtype=np.int64), grid, 2.0 / 3.0), (p, ys, counts, grid, 2.0 / 3.0)]
    if name == "measures_rows":
        return [(vs, ys, ws, rng.normal(size=B), rng.uniform(0.5, 1.5, size=B))]
    raise AssertionError(name)


def _copies(args):
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


@pytest.mark.parametrize("ties", [False, True], ids=["random", "ties"])
@pytest.mark.parametrize("name", list(_aot.KERNEL_MODULES["_kernels"].functions))
def test_compiled_kernel_equals_numba(aot, name, ties):
    """Each exported kernel: same return values and same in-place results as the numba kernel."""
    rng = np.random.default_rng([11, ties, len(name)])
    module = aot.kernels._aot()
    for args in _cases(rng, name, ties):
        assert getattr(aot.kernels, name).matches(args)  # the compiled function takes them as they are
        a_args, j_args = _copies(args), _copies(args)
        got = getattr(module, name)(*a_args)
        want = getattr(jit, name)(*j_args)
        _close(got, want)
        for x, z in zip(a_args, j_args, strict=True):  # written arguments (beta, status, sorted rows …)
            if isinstance(x, np.ndarray):
                _close(x, z)
        if name == "fit65_rows":
            assert (a_args[5] == 1).sum() > len(a_args[5]) // 2  # most resamples converge: a real check
        if name == "stable_ties":
            np.testing.assert_array_equal(a_args[1], np.argsort(
                np.take_along_axis(args[0], np.argsort(args[1], axis=1), axis=1), axis=1, kind="stable"))


def test_compiled_wrappers_release_the_gil(aot):
    """The build's Flags patch: the wrappers call PyEval_SaveThread (as nogil=True does), so the
    bootstrap's threads run in parallel. pycc's own wrapper holds the GIL and never references it
    (checked by hand on a plain pycc build; two threads ran 0.21 s vs 0.41 s serial with it)."""
    kernel = _aot.KERNEL_MODULES["_kernels"]
    data = _aot._ext_path(kernel, _aot.module_dir(kernel)).read_bytes()
    assert b"PyEval_SaveThread" in data and b"PyEval_RestoreThread" in data


# ----------------------------------------------------------------------------- argument checks
def test_mismatched_arguments_go_to_numba(aot):
    """A dtype, layout, dimension or writeability the compiled signature does not take: numba."""
    rng = np.random.default_rng(3)
    vs, ws = _sorted_rows(rng, 5, 40, True), rng.integers(1, 3, size=(5, 40)).astype(float)
    k = aot.kernels.gini_rows
    want = jit.gini_rows(vs, ws)
    aot.calls.clear()
    _close(k(vs, ws), want)
    assert aot.calls == {("gini_rows", "aot"): 1}
    for bad in (np.asfortranarray(vs), vs.astype(np.float32), vs[None], list(vs), np.asarray(vs, dtype=">f8")):
        assert not k.matches((bad, ws))
    # non-contiguous and float32 still work (numba compiles for them), through numba
    aot.calls.clear()
    _close(k(np.asfortranarray(vs), ws), want)
    assert aot.calls == {("gini_rows", "jit"): 1}
    # a read-only array the kernel writes into is not passed to the compiled function
    args = _copies(_fit_args(rng, False, False))
    args[4].setflags(write=False)
    assert not aot.kernels.fit65_rows.matches(args)
    args[4].setflags(write=True)
    assert aot.kernels.fit65_rows.matches(args)
    # scalars: a float where the signature says f8, an int where it says i8
    assert not aot.kernels.fit65_rows.matches(args[:6] + (12.0, 0.025, 1e-12))
    assert not aot.kernels.fit65_rows.matches(args[:6] + (12, 1, 1e-12))
    assert aot.kernels.fit65_rows.matches(args[:6] + (np.int64(12), np.float64(0.025), 1e-12))
    assert not aot.kernels.fit65_rows.matches(args[:5])


def test_signature_parsing():
    split = _compiled._split_args
    assert split("Tuple((f8[:], i8[:]))(f8[:,::1], f8[::1], i8, b1)") == ["f8[:,::1]", "f8[::1]", "i8", "b1"]
    assert split("void(f8[:,::1]!, i8[:,::1]!)") == ["f8[:,::1]!", "i8[:,::1]!"]
    c = _compiled._checker("f8[:,:]")
    assert c(np.zeros((2, 3), order="F")) and not c(np.zeros(3)) and not c(np.zeros((2, 2), dtype=int))


# ----------------------------------------------------------------------------- call sites
def _numbers(d, prefix=""):
    """Flatten a result's to_dict() to {path: number}, leaving out timings."""
    out = {}
    if isinstance(d, dict):
        for k, v in d.items():
            if "second" not in str(k):
                out.update(_numbers(v, f"{prefix}/{k}"))
    elif isinstance(d, list | tuple):
        for i, v in enumerate(d):
            out.update(_numbers(v, f"{prefix}/{i}"))
    elif isinstance(d, int | float) and not isinstance(d, bool):
        out[prefix] = float(d)
    return out


def _same_numbers(a: dict, b: dict) -> None:
    na, nb = _numbers(a), _numbers(b)
    assert na.keys() == nb.keys()
    for k in na:
        assert na[k] == pytest.approx(nb[k], rel=1e-11, abs=1e-12, nan_ok=True), k


def test_validate_and_calibrate_reach_compiled_kernels(aot, monkeypatch):
    """validate / calibrate (with and without selection) and calibration_curve call only the
    compiled functions, and give the numbers the numba kernels give."""
    from myorisk.modeling.calibration import calibration_curve, validate_and_calibrate
    from myorisk.modeling.design import build_design
    from myorisk.modeling.validation import SelectionSpec, validate

    from conftest import load_data

    d = load_data("birthwt")
    des = build_design(d, "low", ["age", "lwt", "smoke", "ht", "ui"])

    def run():
        v, c = validate_and_calibrate(des, B=40, seed=5, auc=True)
        s = validate(des, B=30, seed=6, selection=SelectionSpec("pscreen"))
        cc = calibration_curve(expit(des.X @ np.linspace(0.3, -0.2, des.X.shape[1])), des.y, B=30, seed=1)
        return [v.to_dict(), c.to_dict(), s.to_dict(), cc.to_dict()]

    aot.calls.clear()
    got = run()
    paths = {p for (_, p) in aot.calls}
    assert paths == {"aot"}, aot.calls
    used = {k for (k, _) in aot.calls}
    assert used == {"fit65_rows", "refit65_rows", "dxy_rows", "gini_rows", "stable_ties", "measures_rows",
                    "cal_rows"}, used
    # lowess_rows and interp_rows are only reached through these helpers
    from myorisk.modeling.calibration import _interp_rows

    xs = np.sort(np.random.default_rng(2).random((3, 30)), axis=1)
    lw = _batch.lowess_rows(xs, xs**2)
    ip = _interp_rows(xs, lw, np.linspace(0.2, 0.8, 7))
    assert aot.calls[("lowess_rows", "aot")] == 1 and aot.calls[("interp_rows", "aot")] == 1
    assert not any(p == "jit" for (_, p) in aot.calls)

    _jit_only(monkeypatch)
    want = run()
    for g, w in zip(got, want, strict=True):
        _same_numbers(g, w)
    np.testing.assert_allclose(lw, _batch.lowess_rows(xs, xs**2), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(ip, _interp_rows(xs, lw, np.linspace(0.2, 0.8, 7)), rtol=1e-13)
    assert {p for (_, p) in _compiled.calls} == {"jit"}


# ----------------------------------------------------------------------------- key, staleness
def test_key_changes_with_source_and_stale_module_is_not_loaded(aot, tmp_path, monkeypatch):
    kernel = _aot.KERNEL_MODULES["_kernels"]
    good = _aot.key(kernel)
    mod, note = _aot.load(kernel)
    assert mod is not None, note
    # the same sources elsewhere: same key
    here = Path(_aot.__file__).parent
    for s in ("_kernels", "_simkernels", "_lasso_kernel"):
        shutil.copy(here / f"{s}.py", tmp_path / f"{s}.py")
    monkeypatch.setattr(_aot, "_here", lambda: tmp_path)
    assert _aot.key(kernel) == good
    # one character of the kernel source changed: another key, nothing built for it
    src = tmp_path / "_kernels.py"
    src.write_text(src.read_text().replace("_BLOCK = 2048", "_BLOCK = 1024"))
    assert _aot.key(kernel) != good
    mod, note = _aot.load(kernel)
    assert mod is None and note == "not built"
    # the simulation kernels call _kernels._solve: their key follows _kernels.py too
    sim = _aot.KERNEL_MODULES["_simkernels"]
    monkeypatch.setattr(_aot, "_here", lambda: here)
    k_sim = _aot.key(sim)
    monkeypatch.setattr(_aot, "_here", lambda: tmp_path)
    assert _aot.key(sim) != k_sim
    # and the facade then runs numba, silently
    _compiled.reset()
    rng = np.random.default_rng(1)
    vs, ws = _sorted_rows(rng, 3, 20, False), np.ones((3, 20))
    _close(_compiled.kernels.gini_rows(vs, ws), jit.gini_rows(vs, ws))
    assert _compiled.calls == {("gini_rows", "jit"): 1}
    assert _compiled.kernels.note == "not built"


def test_key_depends_on_numba_and_python(aot, monkeypatch):
    kernel = _aot.KERNEL_MODULES["_kernels"]
    good = _aot.key(kernel)
    monkeypatch.setattr(_aot, "_numba_version_text", lambda: b'"version": "0.99.0"')
    assert _aot.key(kernel) != good
    monkeypatch.undo()
    monkeypatch.setattr(_aot.importlib.machinery, "EXTENSION_SUFFIXES", [".cpython-312-x86_64-linux-gnu.so"])
    assert _aot.key(kernel) != good


def test_corrupt_or_missing_module_falls_back(aot, tmp_path, monkeypatch):
    kernel = _aot.KERNEL_MODULES["_kernels"]
    src = _aot.module_dir(kernel)
    monkeypatch.setenv("MYORISK_CACHE_DIR", str(tmp_path))
    dst = _aot.module_dir(kernel)
    assert _aot.load(kernel) == (None, "not built")
    shutil.copytree(src, dst)
    so = _aot._ext_path(kernel, dst)
    good = so.read_bytes()
    so.write_bytes(good[:4096])  # truncated, as by a full disk (dlopen would die of SIGBUS)
    mod, note = _aot.load(kernel)
    assert mod is None and note == "unusable (checksum mismatch: damaged file)", note
    so.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))  # one bit flipped
    assert _aot.load(kernel)[0] is None
    so.write_bytes(b"not an ELF file")  # a file that does not load, with a matching checksum
    _aot._write_checksum(so)
    mod, note = _aot.load(kernel)
    assert mod is None and note.startswith("unusable (ImportError"), note
    _aot._checksum_path(so).unlink()
    assert _aot.load(kernel)[1].startswith("unusable (no checksum")
    assert _aot.status()["_kernels"]["state"].startswith("unusable")
    _compiled.reset()
    rng = np.random.default_rng(2)
    args = _refit_args(rng, False)
    a, b = _copies(args), _copies(args)
    _close(_compiled.kernels.refit65_rows(*a), jit.refit65_rows(*b))
    _close(a[2], b[2])
    assert _compiled.calls == {("refit65_rows", "jit"): 1}


def test_build_is_atomic_and_tolerates_a_concurrent_builder(aot, tmp_path, monkeypatch):
    """A builder that loses the race keeps the winner's module; no partial directory stays."""
    kernel = _aot.KERNEL_MODULES["_kernels"]
    built = _aot._ext_path(kernel, _aot.module_dir(kernel))
    monkeypatch.setenv("MYORISK_CACHE_DIR", str(tmp_path))
    final = _aot.module_dir(kernel)

    def fake_compile(k, out):  # stands in for pycc: copies a good module; meanwhile another wins
        shutil.copy(built, _aot._ext_path(k, out))
        if not final.exists():
            shutil.copytree(built.parent, final)
            (final / "winner").write_text("")

    monkeypatch.setattr(_aot, "_compile", fake_compile)
    paths = _aot.build(("_kernels",))
    assert paths["_kernels"] == str(_aot._ext_path(kernel, final))
    assert (final / "winner").exists()
    assert [p.name for p in final.parent.iterdir()] == [final.name]  # the temporary copy is gone
    assert _aot.load(kernel)[0] is not None
    # already built: nothing to do, even with a failing compiler
    monkeypatch.setattr(_aot, "_compile", lambda k, out: (_ for _ in ()).throw(RuntimeError("no")))
    assert _aot.build(("_kernels",)) == paths
    # a damaged module is rebuilt in place
    so = _aot._ext_path(kernel, final)
    cut = final / "cut"  # a new file, not the mapped one: truncating a loaded library kills us
    cut.write_bytes(so.read_bytes()[:1000])
    os.replace(cut, so)
    monkeypatch.setattr(_aot, "_compile", lambda k, out: shutil.copy(built, _aot._ext_path(k, out)))
    assert _aot.build(("_kernels",)) == paths
    assert not (final / "winner").exists() and _aot.load(kernel)[0] is not None
    assert [p.name for p in final.parent.iterdir()] == [final.name]
    # a failing compiler leaves nothing behind
    monkeypatch.setattr(_aot, "_compile", lambda k, out: (_ for _ in ()).throw(RuntimeError("no")))
    shutil.rmtree(final)
    with pytest.raises(RuntimeError):
        _aot.build(("_kernels",))
    assert list(final.parent.iterdir()) == []


def test_disabled_by_environment(aot, monkeypatch):
    _jit_only(monkeypatch)
    assert not _compiled.kernels.compiled
    assert _compiled.kernels.note == "disabled (MYORISK_AOT=0)"


# ----------------------------------------------------------------------------- whole process
_PROBE = """
import json, sys
from myorisk.cli import _run
code = _run(sys.argv[1:])
sys.stdout.flush()
print('\\n@@' + json.dumps({'code': code, 'numba': 'numba' in sys.modules,
      'llvmlite': 'llvmlite' in sys.modules}))
"""


def _probe(cache: Path, *args: str, **env: str) -> tuple[dict, str]:
    e = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
             MYORISK_CACHE_DIR=str(cache), **env)
    if "MYORISK_AOT" not in env:
        e.pop("MYORISK_AOT", None)
    r = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, env=e,
                       timeout=300)
    head, tail = r.stdout.rsplit("\n@@", 1)
    return json.loads(tail), head


@pytest.mark.cli
def test_validate_and_calibrate_run_without_numba_when_built(aot_build):
    cache = aot_build("_kernels")
    f = str(RESULTS / "data" / "birthwt.csv")
    opts = ["-y", "low", "-x", "age,lwt,smoke", "-B", "30", "--seed", "1", "--json"]
    st, out_aot = _probe(cache, "validate", f, *opts)
    assert st == {"code": 0, "numba": False, "llvmlite": False}
    st, out_jit = _probe(cache, "validate", f, *opts, MYORISK_AOT="0")
    assert st["code"] == 0 and st["numba"]
    _same_numbers(json.loads(out_aot), json.loads(out_jit))
    st, _ = _probe(cache, "calibrate", f, *opts)
    assert st == {"code": 0, "numba": False, "llvmlite": False}


@pytest.mark.cli
def test_kernels_command_reports_status(aot_build, tmp_path):
    cache = aot_build("_kernels")
    st, out = _probe(cache, "kernels", "--json")
    assert st["code"] == 0 and not st["numba"]
    mods = json.loads(out)["modules"]
    assert mods["_kernels"]["state"] == "built"
    st, out = _probe(tmp_path, "kernels", "--json")
    assert json.loads(out)["modules"]["_kernels"]["state"] == "not built"
    st, _ = _probe(tmp_path, "kernels", "--force")
    assert st["code"] == 2


def test_importing_validation_does_not_import_numba(aot_build):
    code = ("import sys, myorisk.modeling.validation, myorisk.modeling.calibration, myorisk.modeling.lasso,"
            " myorisk.modeling.sample_size_sim; print('numba' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=SRC, MYORISK_CACHE_DIR=str(aot_build("_kernels"))))
    assert r.stdout.strip() == "False", r.stderr


# ----------------------------------------------------------------------------- other kernel modules
@pytest.mark.slow
def test_simulation_kernels_compiled_equal_numba(aot_build, monkeypatch):
    from myorisk.modeling import sample_size_sim as sim

    monkeypatch.setenv("MYORISK_CACHE_DIR", str(aot_build("_simkernels")))
    _compiled.reset()
    assert _compiled.simkernels.compiled, _compiled.simkernels.note
    dgm = sim.DGM.make(0.2, 0.8, 5)
    got = sim._sim_chunk(dgm, 80, 0, 40, 7, 3000, True)  # n = 80: some separated sets
    assert set(_compiled.calls) == {("fit_rows", "aot"), ("validate_rows", "aot")}
    _jit_only(monkeypatch)
    want = sim._sim_chunk(dgm, 80, 0, 40, 7, 3000, True)
    assert set(_compiled.calls) == {("fit_rows", "jit"), ("validate_rows", "jit")}
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13, equal_nan=True)
    assert np.isfinite(got[:, 0]).sum() > 30
    _compiled.reset()


@pytest.mark.slow
def test_lasso_kernel_compiled_equal_numba(aot_build, monkeypatch):
    from myorisk.modeling.lasso import lasso_cv, lasso_path

    from conftest import load_data

    monkeypatch.setenv("MYORISK_CACHE_DIR", str(aot_build("_lasso_kernel")))
    _compiled.reset()
    d = load_data("birthwt")
    cols = ["age", "lwt", "smoke", "ht", "ui", "ptl"]
    X, y = d[cols].to_numpy(float), d["low"].to_numpy(float)

    def run():
        return (lasso_path(X, y, cols), lasso_path(X, y, cols, alpha=0.5, lambdas=[0.05, 0.01, 0.002]),
                lasso_cv(X, y, cols, folds=5, seed=3))

    got = run()
    assert set(_compiled.calls) == {("cd_path", "aot")}
    _jit_only(monkeypatch)
    want = run()
    assert set(_compiled.calls) == {("cd_path", "jit")}
    for g, w in zip(got, want, strict=True):
        _same_numbers(g.to_dict(), w.to_dict())
    _compiled.reset()
