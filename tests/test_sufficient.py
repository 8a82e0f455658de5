"""Logistic fit from per-partition sufficient statistics over a multi-file Parquet data set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from myorisk.errors import InputError
from myorisk.modeling.executor import DaskExecutor, ThreadExecutor
from myorisk.modeling.logistic import fit_logistic
from myorisk.modeling.sufficient import fit_partitioned
from myorisk.partitions import parquet_partitions, scan_partitions

from conftest import load_data

PRED = ["age", "lwt", "smoke", "ptl", "ht"]


@pytest.fixture()
def parts(tmp_path):
    d = load_data("birthwt")[["low", *PRED]].astype(float)
    for i, idx in enumerate(np.array_split(np.arange(len(d)), 4)):  # 4 files of ~47 rows
        d.iloc[idx].to_parquet(tmp_path / f"part-{i}.parquet", index=False)
    return tmp_path, d


@pytest.mark.unit
def test_partitioned_fit_equals_in_memory_fit(parts):
    folder, d = parts
    ref = fit_logistic(d, "low", PRED)
    fit = fit_partitioned(parquet_partitions(folder, "low", PRED), names=["Intercept", *PRED],
                          executor=ThreadExecutor(2))
    np.testing.assert_allclose(fit.beta, ref.coefficients, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fit.se, ref.se, rtol=1e-10)
    assert fit.loglik == pytest.approx(ref.loglik, rel=1e-12)
    assert (fit.n, fit.events, fit.partitions) == (189, 59, 4)
    assert fit.to_frame()["term"].tolist() == ["Intercept", *PRED]


@pytest.mark.slow
def test_partitioned_fit_on_dask_workers(parts):
    folder, d = parts
    ref = fit_partitioned(parquet_partitions(folder, "low", PRED))
    ex = DaskExecutor(workers=2)
    try:
        fit = fit_partitioned(parquet_partitions(folder, "low", PRED), executor=ex)
    finally:
        ex.close()
    np.testing.assert_array_equal(fit.beta, ref.beta)  # same sums in the same order


@pytest.mark.unit
def test_missing_rows_excluded_and_bad_partition_named(parts, tmp_path):
    folder, d = parts
    bad = d.iloc[:10].copy()
    bad.loc[bad.index[3], "lwt"] = np.nan
    bad.to_parquet(folder / "part-9.parquet", index=False)
    fit = fit_partitioned(parquet_partitions(folder, "low", PRED))
    assert fit.n == 189 + 9  # the incomplete row of part-9 is excluded, the other nine count
    scan = scan_partitions(parquet_partitions(folder, "low", PRED))
    assert (scan.n_rows, scan.n_dropped, scan.by_column["lwt"]) == (199, 1, 1)
    assert scan.rows == ("part-9.parquet:4",)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no \\*.parquet"):
        parquet_partitions(tmp_path / "empty", "low", PRED)
    (tmp_path / "empty").rmdir()
    y2 = d.iloc[:5].assign(low=2.0)
    y2.to_parquet(folder / "part-9.parquet", index=False)
    with pytest.raises(InputError, match="part-9.parquet: row 1, column 'low': outcome must be 0 or 1, not 2"):
        fit_partitioned(parquet_partitions(folder, "low", PRED))
    assert isinstance(pd.read_parquet(folder / "part-0.parquet"), pd.DataFrame)
