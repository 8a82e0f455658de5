"""The executor: the same seed gives the same bootstrap and simulation results with threads,
one Dask worker and two (a real dask.distributed LocalCluster of worker processes)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from myorisk.cli import _run
from myorisk.modeling import sample_size_sim as sim
from myorisk.modeling.calibration import validate_and_calibrate
from myorisk.modeling.design import build_design
from myorisk.modeling.executor import DaskExecutor, ThreadExecutor, executor
from myorisk.modeling.validation import resampled_auc, validate

from conftest import RESULTS, load_data


def _strip(d):
    """The result without wall times and the executor's description."""
    if isinstance(d, dict):
        return {k: _strip(v) for k, v in d.items() if k not in ("seconds", "executor")}
    if isinstance(d, list):
        return [_strip(v) for v in d]
    return d


def _same(a: dict, b: dict) -> None:
    assert json.dumps(_strip(a), sort_keys=True) == json.dumps(_strip(b), sort_keys=True)


@pytest.fixture(scope="module")
def design():
    return build_design(load_data("birthwt"), "low", ["age", "lwt", "smoke", "ptl", "ht"])


@pytest.fixture(scope="module")
def dask1():
    ex = DaskExecutor(workers=1)
    yield ex
    ex.close()


@pytest.fixture(scope="module")
def dask2():
    ex = DaskExecutor(workers=2)
    yield ex
    ex.close()


@pytest.mark.slow
def test_validate_identical_on_threads_and_dask(design, dask1, dask2):
    ref = validate(design, B=100, seed=11, auc=True)
    one = validate(design, B=100, seed=11, auc=True, executor=ThreadExecutor(1))
    d1 = validate(design, B=100, seed=11, auc=True, executor=dask1)
    d2 = validate(design, B=100, seed=11, auc=True, executor=dask2)
    for other in (one, d1, d2):
        _same(ref.to_dict(), other.to_dict())
    assert ref.corrected["Dxy"] < ref.apparent["Dxy"]  # a real bootstrap ran
    v, c = validate_and_calibrate(design, B=50, seed=3)
    v2, c2 = validate_and_calibrate(design, B=50, seed=3, executor=dask2)
    _same(v.to_dict(), v2.to_dict())
    _same(c.to_dict(), c2.to_dict())
    a = resampled_auc(design, B=40, seed=5, executor=dask2)
    _same(a.to_dict(), resampled_auc(design, B=40, seed=5).to_dict())
    assert dask2.describe()["workers"] == 2


@pytest.mark.slow
def test_simulation_identical_on_dask(dask2):
    kw = dict(simulations=120, nval=2000, seed=4)
    a = sim.expected_performance(150, 0.2, 0.8, 6, **kw)
    b = sim.expected_performance(150, 0.2, 0.8, 6, executor=dask2, **kw)
    _same(a.to_dict(), b.to_dict())


@pytest.mark.unit
def test_executor_choice_and_errors():
    from myorisk.errors import InputError

    with executor() as ex:
        assert ex.kind == "threads"
        assert ex.run(pow, [(2, 3), (3, 2)]) == [8, 9]
        assert ex.run(pow, [(3,), (4,)], shared=(2,)) == [8, 16]
    with pytest.raises(InputError):
        with executor(workers=2, scheduler="tcp://127.0.0.1:1"):
            pass
    with pytest.raises(InputError, match="scheduler"):
        DaskExecutor(scheduler="tcp://127.0.0.1:9")


@pytest.mark.cli
@pytest.mark.slow
def test_cli_validate_workers_same_json(capsys):
    args = ["validate", str(RESULTS / "data" / "birthwt.csv"), "-y", "low", "-x", "age,lwt,smoke",
            "-B", "60", "--seed", "9", "--json"]
    assert _run(args) == 0
    a = json.loads(capsys.readouterr().out)
    assert _run(args + ["--workers", "2"]) == 0
    b = json.loads(capsys.readouterr().out)
    _same(a, b)
    assert np.isfinite(a["indexes"]["Dxy"]["corrected"])


@pytest.mark.cli
@pytest.mark.slow
def test_cli_validate_calibrate_impute_workers_same_json(capsys):
    """validate/calibrate --impute (and --ci): threads, one Dask worker and two give the same JSON."""
    data = str(RESULTS / "data" / "birthwt_miss.csv")
    x = "age,lwt,race,smoke,ht,ui"
    for command, extra in (("validate", ["--ci"]), ("calibrate", [])):
        args = [command, data, "-y", "low", "-x", x, "--impute", "3", "--seed", "3", "--maxit", "3",
                "-B", "30", "--json", *extra]
        runs = []
        for more in ([], ["--workers", "1"], ["--workers", "2"]):
            assert _run(args + more) == 0
            runs.append(json.loads(capsys.readouterr().out))
        for other in runs[1:]:
            _same(runs[0], other)
        assert runs[0]["imputation"]["m"] == 3
        if command == "validate":
            dxy = runs[0]["indexes"]["Dxy"]
            assert dxy["corrected"] < dxy["apparent"] and dxy["corrected_low"] < dxy["corrected_high"]
        else:
            assert len(runs[0]["curve"]) == 50 and np.isfinite(runs[0]["mean_abs_error"])
    # --ci without --impute goes through the executor too
    args = ["validate", str(RESULTS / "data" / "birthwt.csv"), "-y", "low", "-x", "age,lwt,smoke",
            "-B", "40", "--seed", "9", "--ci", "--json"]
    assert _run(args) == 0
    a = json.loads(capsys.readouterr().out)
    assert _run(args + ["--workers", "2"]) == 0
    _same(a, json.loads(capsys.readouterr().out))
