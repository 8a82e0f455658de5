"""Bootstrap bias-corrected calibration curves, as R rms 6.5 ``calibrate`` (``calibrate.default``).

For a grid of 50 predicted risks (from the 5th smallest to the 5th largest prediction), the
apparent curve is ``lowess(p̂, y, iter=0)`` interpolated at the grid; each bootstrap resample
gives the same curve on its own data (training) and on the original data with its coefficients
frozen (test); the bias-corrected curve is apparent − (mean training − mean test). The summary
errors compare every original prediction with the corrected curve (``print.calibrate``).
The resamples and refits are shared with :mod:`myorisk.modeling.validation`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit

from myorisk.errors import InputError
from myorisk.modeling import _kernels
from myorisk.modeling.design import Design
from myorisk.modeling.smoothing import approx
from myorisk.modeling.validation import (
    Progress,
    SelectionSpec,
    Validation,
    _apparent,
    _check_common,
    _clean,
    _problem,
    _run,
    _validation_result,
)

__all__ = ["Calibration", "calibrate", "validate_and_calibrate", "default_grid"]


def default_grid(predicted: np.ndarray) -> np.ndarray:
    """rms's grid: 50 equally spaced risks from the 5th smallest to the 5th largest prediction."""
    p = np.sort(np.asarray(predicted, dtype=float))
    n = p.size
    if n < 11:
        raise InputError(f"calibrate: needs more than 10 patients, got {n}")
    return np.linspace(p[4], p[n - 5], 50)


def _interp_rows(xs: np.ndarray, ys: np.ndarray, predy: np.ndarray) -> np.ndarray:
    """``approx(x, y, xout=predy, ties=first)`` per row of sorted ``xs`` (rule 1: NaN outside).

    Tied x carry equal smoothed values (lowess copies them), so any tie rule gives the same.
    """
    return _kernels.interp_rows(
        np.ascontiguousarray(xs, dtype=float), np.ascontiguousarray(ys, dtype=float),
        np.ascontiguousarray(predy, dtype=float).ravel(),
    )


_NO_COUNTS = np.zeros((0, 0), dtype=np.int64)


def _cal_rows(
    xs: np.ndarray, ys: np.ndarray, predy: np.ndarray, counts: np.ndarray | None = None
) -> np.ndarray:
    """rms ``cal.error``: lowess calibration curve at ``predy`` minus ``predy`` (rows sorted).

    With ``counts`` (same shape as ``xs``), point ``j`` of row ``r`` enters ``counts[r, j]``
    times: the bootstrap resample itself, duplicates included.
    """
    return _kernels.cal_rows(
        np.ascontiguousarray(xs, dtype=float), np.ascontiguousarray(ys, dtype=float),
        _NO_COUNTS if counts is None else np.ascontiguousarray(counts, dtype=np.int64),
        np.ascontiguousarray(predy, dtype=float).ravel(), 2.0 / 3.0,
    )


@dataclass(frozen=True)
class Calibration:
    """Bootstrap bias-corrected calibration curve (rms ``calibrate``, method "boot").

    Attributes
    ----------
    B : int
        Resamples drawn.
    seconds : float
        Time spent in the bootstrap.
    predicted : ndarray
        Grid of predicted risks (``predy``).
    apparent : ndarray
        Apparent lowess calibration curve at the grid (``calibrated.orig``).
    corrected : ndarray
        Bias-corrected curve (``calibrated.corrected``).
    optimism : ndarray
        Mean training − mean test (cal − predy) per grid point.
    n : ndarray
        Replicates used per grid point (fewer where a resample's curve does not reach).
    mean_abs_error, mean_sq_error, e90 : float
        Mean |error|, mean squared error and 0.9 quantile of |error| of the original
        predictions against the corrected curve (rms ``print.calibrate``).
    n_predictions : int
        Number of predictions behind those errors (rms prints ``n=``).
    n_failed : int
        Resamples whose fit failed and were skipped.
    failure_policy : str
        See :class:`myorisk.modeling.validation.Validation`.
    predictions, y : ndarray
        The original model's predicted risks and the outcomes, per patient (what a calibration
        figure shows as a histogram and ticks); not in ``to_dict`` (row-level).
    """

    B: int
    seconds: float
    predicted: np.ndarray
    apparent: np.ndarray
    corrected: np.ndarray
    optimism: np.ndarray
    n: np.ndarray
    mean_abs_error: float
    mean_sq_error: float
    e90: float
    n_predictions: int
    n_failed: int
    failure_policy: str
    predictions: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    y: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per grid point: predicted, apparent, corrected, optimism, n."""
        return pd.DataFrame(
            {
                "predicted": self.predicted, "apparent": self.apparent,
                "corrected": self.corrected, "optimism": self.optimism, "n": self.n,
            }
        )

    def to_dict(self) -> dict:
        """The ``myorisk calibrate --json`` contract plus ``n`` per grid point."""
        return _clean(
            {
                "B": self.B,
                "seconds": self.seconds,
                "mean_abs_error": self.mean_abs_error,
                "mean_sq_error": self.mean_sq_error,
                "e90": self.e90,
                "curve": [
                    {"predicted": p, "apparent": a, "corrected": c, "n": int(k)}
                    for p, a, c, k in zip(
                        self.predicted, self.apparent, self.corrected, self.n, strict=True
                    )
                ],
                "n_predictions": self.n_predictions,
                "n_failed": self.n_failed,
                "failure_policy": self.failure_policy,
                "rms_version": "6.5",
            }
        )


def _calibration_result(acc, info, predy, seconds, policy) -> Calibration:
    app = info["apparent"]
    predicted = expit(app["lp"])
    o = np.argsort(predicted, kind="stable")
    orig = _cal_rows(predicted[o][None], info["y"][o][None], predy)[0] + predy
    k = predy.size
    tr = np.concatenate(acc.cal_train) if acc.cal_train else np.zeros((0, k))
    te = np.concatenate(acc.cal_test) if acc.cal_test else np.zeros((0, k))
    na = np.isnan(tr) | np.isnan(te)
    num = (~na).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        opt = (np.where(na, 0, tr).sum(axis=0) - np.where(na, 0, te).sum(axis=0)) / num
    corrected = orig - opt
    s = ~np.isnan(predy + corrected)
    if s.sum() >= 2:
        err = predicted - approx(predy[s], corrected[s], predicted, ties="mean")
    else:
        err = np.full(predicted.size, np.nan)
    ae = np.abs(err)
    fin = np.isfinite(ae)
    return Calibration(
        B=info["B"], seconds=seconds, predicted=predy, apparent=orig, corrected=corrected,
        optimism=opt, n=num, mean_abs_error=float(np.mean(ae[fin])) if fin.any() else np.nan,
        mean_sq_error=float(np.mean(err[fin] ** 2)) if fin.any() else np.nan,
        e90=float(np.quantile(ae[fin], 0.9)) if fin.any() else np.nan,
        n_predictions=int(err.size), n_failed=acc.n_fail, failure_policy=policy,
        predictions=predicted, y=np.asarray(info["y"]),
    )


def calibrate(
    design: Design | tuple[np.ndarray, np.ndarray],
    *,
    B: int = 1000,
    seed: int | None = None,
    resamples: np.ndarray | None = None,
    selection: SelectionSpec | None = None,
    failure_policy: str = "rms65",
    predy: np.ndarray | None = None,
    rms_version: str = "6.5",
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> Calibration:
    """Bootstrap bias-corrected calibration curve: rms 6.5 ``calibrate(fit, B=B)``.

    Parameters
    ----------
    design, B, seed, resamples, selection, failure_policy, rms_version, chunk_size, progress
        As :func:`myorisk.modeling.validation.validate`.
    predy : array_like, optional
        Grid of predicted risks; default rms's 50 points between the 5th smallest and 5th
        largest prediction.

    Returns
    -------
    Calibration
    """
    cal, _ = _both(design, B=B, seed=seed, resamples=resamples, selection=selection,
                   failure_policy=failure_policy, predy=predy, rms_version=rms_version,
                   chunk_size=chunk_size, progress=progress, with_validate=False)
    return cal


def validate_and_calibrate(
    design: Design | tuple[np.ndarray, np.ndarray],
    *,
    B: int = 1000,
    seed: int | None = None,
    resamples: np.ndarray | None = None,
    selection: SelectionSpec | None = None,
    failure_policy: str = "rms65",
    predy: np.ndarray | None = None,
    auc: bool = False,
    rms_version: str = "6.5",
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> tuple[Validation, Calibration]:
    """:func:`validate` and :func:`calibrate` from one set of resamples and refits.

    Parameters are those of :func:`calibrate` (and ``auc`` of ``validate``). Both results
    report the same ``seconds`` (the shared bootstrap).
    """
    cal, val = _both(design, B=B, seed=seed, resamples=resamples, selection=selection,
                     failure_policy=failure_policy, predy=predy, rms_version=rms_version,
                     chunk_size=chunk_size, progress=progress, with_validate=True, auc=auc)
    assert val is not None
    return val, cal


def _both(design, *, B, seed, resamples, selection, failure_policy, predy, rms_version,
          chunk_size, progress, with_validate, auc=False):
    _check_common(B, failure_policy, rms_version)
    prob = _problem(design)
    t0 = time.perf_counter()
    if predy is None:
        grid = default_grid(expit(_apparent(prob, selection)[0]["lp"]))
    else:
        grid = np.asarray(predy, dtype=float).ravel()
        if grid.size < 2 or not np.all(np.isfinite(grid)):
            raise InputError("calibrate: predy must hold at least two finite risks")
    want = {"calibrate"} | ({"validate"} if with_validate else set()) | ({"auc"} if auc else set())
    t0 = time.perf_counter()
    acc, info = _run(
        prob, B=B, seed=seed, resamples=resamples, selection=selection, policy=failure_policy,
        chunk_size=chunk_size, progress=progress, want=want, predy=grid,
    )
    seconds = time.perf_counter() - t0
    info["y"] = prob.y
    cal = _calibration_result(acc, info, grid, seconds, failure_policy)
    val = (
        _validation_result(prob, acc, info, seconds, selection, failure_policy, auc)
        if with_validate else None
    )
    return cal, val
