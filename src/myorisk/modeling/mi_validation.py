"""Optimism bootstrap after multiple imputation, and intervals for optimism-corrected indexes.

**Impute, then bootstrap** (Wahl et al. 2016; rms ``processMI``): Harrell's optimism bootstrap
(:mod:`myorisk.modeling.validation`, selection repeated inside every resample) runs within each of
the m completed data sets; apparent, training, test, optimism and corrected indexes, and the
apparent and corrected calibration curves, are then averaged across the imputations.

**Location-shifted bootstrap intervals** (Noma et al. 2021, Stat Med 40:5876; R package
``predboot``): the 95% interval of an optimism-corrected index is the percentile interval of the
index in the bootstrap samples (each resample's *training* value, i.e. the apparent performance of
the model refitted in that resample) shifted by the optimism estimate:
``[q_{2.5%}(θ*_train) − Ô, q_{97.5%}(θ*_train) − Ô]``. After imputation the training values of
all m·B resamples form one distribution (so between-imputation variation widens it) and Ô is the
pooled optimism. The same shift gives a pointwise interval for the corrected calibration curve.

Where the apparent value is fixed by construction — the calibration intercept (0), slope (1),
Emax (0) and U (−2/n) of a maximum-likelihood fit in its own data — the training distribution has
no spread and the location shift would give a zero-width interval. For those the interval is the
percentile interval of the out-of-sample (test) values, shifted to centre on the corrected value
(Emax: the percentiles of each resample's Emax from its test intercept and slope). This is this
tool's extension of Noma et al., stated as such in every output.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from myorisk._json import clean as _clean
from myorisk.errors import InputError
from myorisk.modeling.design import Design

__all__ = ["ImputedValidation", "ImputedCalibration", "validate_imputed", "calibrate_imputed", "CI_METHOD"]

CI_METHOD = "location-shifted bootstrap (Noma et al. 2021)"
_FIXED = ("Intercept", "Slope", "U")


def _seed_of(seed: int | None, i: int, m: int) -> int | None:
    """Bootstrap seed of imputation i: the seed itself when there is one data set (plain validate)."""
    if seed is None or m == 1:
        return seed
    return int(np.random.SeedSequence([int(seed), i]).generate_state(1)[0] % (2**31))


def _run_all(designs, *, B, seed, selection, policy, want, predy, workers, executor=None):
    from myorisk.modeling.validation import _check_common, _problem, _run

    _check_common(B, policy, "6.5")
    probs = [_problem(d) for d in designs]
    m = len(probs)

    def one(i: int):
        # the chunks of imputation i depend on (n, p, B) and its seed only, so a result is the
        # same on this process's threads, one Dask worker or many
        acc, info = _run(probs[i], B=B, seed=_seed_of(seed, i, m), resamples=None, selection=selection,
                         policy=policy, chunk_size=None, progress=None, want=want, predy=predy,
                         executor=executor)
        info["y"] = probs[i].y
        return acc, info

    # with an executor, a few driver threads keep the chunks of several imputations on the
    # workers at once (the apparent fits run here; the resamples run on the executor)
    n_drivers = min(m, 4) if executor is not None else (workers or 1)
    if n_drivers > 1 and m > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=n_drivers) as ex:
            runs = list(ex.map(one, range(m)))
    else:
        runs = [one(i) for i in range(m)]
    return probs, runs


def _default_workers(m: int) -> int:
    import os

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus, m))


@dataclass(frozen=True)
class ImputedValidation:
    """Bootstrap validation combined across imputations (m = 1: a single complete data set).

    Attributes
    ----------
    m, B : int
    seconds : float
    apparent, training, test, optimism, corrected : dict
        Index → mean over imputations.
    corrected_low, corrected_high : dict or None
        Index → location-shifted bootstrap interval of the corrected value (with ``ci``).
    ci_method, level
        How the intervals were made.
    each : tuple of Validation
        Per imputation.
    imputation : dict
    """

    m: int
    B: int
    seconds: float
    apparent: dict
    training: dict
    test: dict
    optimism: dict
    corrected: dict
    n_failed: int
    failure_policy: str
    corrected_low: dict | None = None
    corrected_high: dict | None = None
    interval_kind: dict = field(default_factory=dict)
    level: float = 0.95
    each: tuple = field(default=(), repr=False)
    imputation: dict = field(default_factory=dict)
    selection_frequency: dict = field(default_factory=dict)
    combine: str = "rubin"

    def to_frame(self) -> pd.DataFrame:
        from myorisk.modeling.validation import INDEXES

        d = {"index": list(INDEXES),
             "apparent": [self.apparent[k] for k in INDEXES],
             "training": [self.training[k] for k in INDEXES],
             "test": [self.test[k] for k in INDEXES],
             "optimism": [self.optimism[k] for k in INDEXES],
             "corrected": [self.corrected[k] for k in INDEXES]}
        if self.corrected_low is not None:
            d["corrected_low"] = [self.corrected_low[k] for k in INDEXES]
            d["corrected_high"] = [self.corrected_high[k] for k in INDEXES]
        return pd.DataFrame(d)

    def to_dict(self) -> dict:
        from myorisk.modeling.validation import INDEXES

        idx = {}
        for k in INDEXES:
            e = {"apparent": self.apparent[k], "training": self.training[k], "test": self.test[k],
                 "optimism": self.optimism[k], "corrected": self.corrected[k],
                 "n": int(min(v.n[k] for v in self.each)) if self.each else None}
            if self.corrected_low is not None:
                e["corrected_low"] = self.corrected_low[k]
                e["corrected_high"] = self.corrected_high[k]
            idx[k] = e
        d = {"B": self.B, "seconds": self.seconds, "indexes": idx, "n_failed": self.n_failed,
             "failure_policy": self.failure_policy, "rms_version": "6.5"}
        if self.corrected_low is not None:
            d["ci"] = {"method": CI_METHOD, "level": self.level, "kind": self.interval_kind}
            if self.m > 1:
                d["ci"]["combined"] = ("per-imputation intervals combined by Rubin's rules" if self.combine == "rubin"
                                       else "one percentile interval of the pooled m·B resamples")
        if self.m > 1:
            d["imputation"] = {**self.imputation, "m": self.m, "combined": "mean over imputations (impute, then "
                               "bootstrap within each: Wahl et al. 2016, rms processMI)"}
        if self.selection_frequency:
            d["selection_frequency"] = self.selection_frequency
        return _clean(d)


def _emax_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from myorisk.modeling.validation import _emax65

    return np.array([_emax65(x, y) for x, y in zip(a, b, strict=True)])


def _intervals(train: np.ndarray, test: np.ndarray, op: dict, co: dict, level: float) -> tuple[dict, dict, dict]:
    """Location-shifted intervals from one set of resamples (training/test arrays in _LOOP order)."""
    from myorisk.modeling.validation import _LOOP

    a2 = (1.0 - level) / 2.0
    ok = ~(np.isnan(train) | np.isnan(test))
    lo, hi, kind = {}, {}, {}
    for j, name in enumerate(_LOOP):
        t = train[ok[:, j], j]
        s = test[ok[:, j], j]
        if t.size < 2:
            lo[name] = hi[name] = float("nan")
            continue
        if name in _FIXED or np.ptp(t) <= 1e-12 * max(1.0, abs(float(np.mean(t)))):
            q = np.quantile(s, [a2, 1 - a2])
            shift = co[name] - float(np.mean(s))
            kind[name] = "test-percentile, centred on corrected"
        else:
            q = np.quantile(t, [a2, 1 - a2])
            shift = -op[name]
            kind[name] = "location-shifted"
        lo[name], hi[name] = float(q[0] + shift), float(q[1] + shift)
    iI, iS = _LOOP.index("Intercept"), _LOOP.index("Slope")
    both = ok[:, iI] & ok[:, iS]
    em = _emax_rows(test[both, iI], test[both, iS])
    em = em[np.isfinite(em)]
    if em.size >= 2:
        q = np.quantile(em, [a2, 1 - a2])
        lo["Emax"], hi["Emax"] = float(q[0]), float(q[1])
    else:
        lo["Emax"] = hi["Emax"] = float("nan")
    kind["Emax"] = "percentile of resample Emax from test intercept and slope"
    return lo, hi, kind


def _rubin_intervals(arrays, each, level: float) -> tuple[dict, dict, dict]:
    """Per-imputation intervals combined by Rubin's rules.

    Each imputation's interval gives a within variance w_i = (width_i / (2·z))²; with B the
    between-imputation variance of the corrected values, T = w̄ + (1 + 1/m)·B on Barnard–Rubin df
    (complete-data df infinite). The interval keeps the average asymmetry of the per-imputation
    intervals around the pooled corrected value, scaled to t_ν·√T (it reduces to the average
    per-imputation interval when B = 0).
    """
    from scipy import stats

    from myorisk.modeling.pooling import barnard_rubin
    from myorisk.modeling.validation import INDEXES

    z = stats.norm.ppf(0.5 + level / 2.0)
    per = [_intervals(tr, te, v.optimism, v.corrected, level) for (tr, te), v in zip(arrays, each, strict=True)]
    lo, hi, kind = {}, {}, {}
    for name in INDEXES:
        c = np.array([v.corrected[name] for v in each], dtype=float)
        l_ = np.array([p[0].get(name, np.nan) for p in per], dtype=float)
        h_ = np.array([p[1].get(name, np.nan) for p in per], dtype=float)
        good = np.isfinite(c) & np.isfinite(l_) & np.isfinite(h_)
        kind[name] = (per[0][2].get(name, "") + ", combined by Rubin's rules").strip(", ")
        if good.sum() < 2:
            lo[name] = hi[name] = float("nan")
            continue
        c, l_, h_ = c[good], l_[good], h_[good]
        cbar = float(np.mean(c))
        w = float(np.mean(((h_ - l_) / (2.0 * z)) ** 2))
        b = float(np.var(c, ddof=1))
        t = w + (1.0 + 1.0 / len(c)) * b
        nu = float(barnard_rubin(len(c), np.array([b]), np.array([t]))[0]) if t > 0 else np.inf
        q = stats.t.ppf(0.5 + level / 2.0, nu) if np.isfinite(nu) else z
        scale = q * np.sqrt(t) / (z * np.sqrt(w)) if w > 0 else 1.0
        lo[name] = cbar - float(np.mean(c - l_)) * scale
        hi[name] = cbar + float(np.mean(h_ - c)) * scale
    return lo, hi, kind


def validate_imputed(
    designs: Sequence[Design],
    *,
    B: int = 200,
    seed: int | None = None,
    selection=None,  # noqa: ANN001 - SelectionSpec
    failure_policy: str = "rms65",
    ci: bool = False,
    level: float = 0.95,
    workers: int | None = None,
    imputation: dict | None = None,
    combine: str = "rubin",
    executor=None,  # noqa: ANN001 - myorisk.modeling.executor.Executor
) -> ImputedValidation:
    """Optimism bootstrap within each completed data set, combined across imputations.

    Parameters
    ----------
    designs : sequence of Design
        One design per completed data set (one: no imputation).
    B, seed, selection, failure_policy
        As :func:`myorisk.modeling.validation.validate` (imputation i uses a seed derived from
        ``seed`` and i; with one design, ``seed`` itself, so results equal ``validate``'s).
    ci : bool
        Add location-shifted bootstrap intervals for every corrected index.
    level : float
    workers : int, optional
        Threads over imputations (results do not depend on it).
    imputation : dict, optional
        Recorded in the result.
    executor : myorisk.modeling.executor.Executor, optional
        Where the resamples run (threads by default, or a Dask cluster); the result does not
        depend on it.
    combine : {"rubin", "pooled"}
        How intervals are combined across imputations: per-imputation location-shifted intervals
        combined by Rubin's rules (default), or one percentile interval of the m·B training values
        pooled (under-covers in the simulation, ``docs/benchmarks.md``).

    Returns
    -------
    ImputedValidation
    """
    if combine not in ("rubin", "pooled"):
        raise InputError(f"combine must be 'rubin' or 'pooled', not {combine!r}")
    from myorisk.modeling.validation import _LOOP, INDEXES, _selection_frequency, _validation_result

    if not designs:
        raise InputError("validate: no data set to validate")
    if not 0.0 < level < 1.0:
        raise InputError(f"--level must be between 0 and 1, not {level}")
    t0 = time.perf_counter()
    probs, runs = _run_all(designs, B=B, seed=seed, selection=selection, policy=failure_policy,
                           want={"validate"}, predy=None, workers=workers or _default_workers(len(designs)),
                           executor=executor)
    seconds = time.perf_counter() - t0
    each = tuple(_validation_result(p, acc, info, seconds, selection, failure_policy, False)
                 for p, (acc, info) in zip(probs, runs, strict=True))

    def avg(attr: str) -> dict:
        return {k: float(np.nanmean([getattr(v, attr)[k] for v in each])) for k in INDEXES}

    app, tr, te, op, co = (avg(a) for a in ("apparent", "training", "test", "optimism", "corrected"))
    lo = hi = None
    kind: dict = {}
    if ci:
        k = len(_LOOP)
        arrays = [(np.concatenate(acc.train) if acc.train else np.zeros((0, k)),
                   np.concatenate(acc.test) if acc.test else np.zeros((0, k))) for acc, _ in runs]
        if combine == "pooled" or len(designs) == 1:
            train = np.concatenate([t for t, _ in arrays])
            test = np.concatenate([t for _, t in arrays])
            lo, hi, kind = _intervals(train, test, op, co, level)
        else:
            lo, hi, kind = _rubin_intervals(arrays, each, level)
    freq = {}
    if selection is not None:
        fs = [_selection_frequency(p, acc) for p, (acc, _) in zip(probs, runs, strict=True)]
        freq = {g: float(np.mean([f.get(g, np.nan) for f in fs])) for g in fs[0]} if fs and fs[0] else {}
    return ImputedValidation(
        m=len(designs), B=B, seconds=seconds, apparent=app, training=tr, test=te, optimism=op, corrected=co,
        n_failed=int(sum(v.n_failed for v in each)), failure_policy=failure_policy, corrected_low=lo,
        corrected_high=hi, interval_kind=kind, level=level, each=each, imputation=dict(imputation or {}),
        selection_frequency=freq, combine=combine,
    )


@dataclass(frozen=True)
class ImputedCalibration:
    """Bootstrap calibration curve combined across imputations (with optional pointwise intervals)."""

    m: int
    B: int
    seconds: float
    predicted: np.ndarray
    apparent: np.ndarray
    corrected: np.ndarray
    optimism: np.ndarray
    mean_abs_error: float
    mean_sq_error: float
    e90: float
    n_failed: int
    failure_policy: str
    corrected_low: np.ndarray | None = None
    corrected_high: np.ndarray | None = None
    level: float = 0.95
    each: tuple = field(default=(), repr=False)
    imputation: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        d = {"predicted": self.predicted, "apparent": self.apparent, "corrected": self.corrected,
             "optimism": self.optimism}
        if self.corrected_low is not None:
            d["corrected_low"] = self.corrected_low
            d["corrected_high"] = self.corrected_high
        return pd.DataFrame(d)

    def to_dict(self) -> dict:
        curve = self.to_frame().to_dict(orient="records")
        d = {"B": self.B, "seconds": self.seconds, "mean_abs_error": self.mean_abs_error,
             "mean_sq_error": self.mean_sq_error, "e90": self.e90, "curve": curve,
             "n_failed": self.n_failed, "failure_policy": self.failure_policy, "rms_version": "6.5"}
        if self.corrected_low is not None:
            d["ci"] = {"method": CI_METHOD + ", pointwise", "level": self.level}
        if self.m > 1:
            d["imputation"] = {**self.imputation, "m": self.m, "combined": "mean over imputations"}
        return _clean(d)


def calibrate_imputed(
    designs: Sequence[Design],
    *,
    B: int = 200,
    seed: int | None = None,
    selection=None,  # noqa: ANN001
    failure_policy: str = "rms65",
    predy: np.ndarray | None = None,
    ci: bool = False,
    level: float = 0.95,
    workers: int | None = None,
    imputation: dict | None = None,
    executor=None,  # noqa: ANN001 - myorisk.modeling.executor.Executor
) -> ImputedCalibration:
    """Bias-corrected calibration curve within each completed data set, averaged across imputations.

    The grid of predicted risks is common to all imputations: rms's default grid on the
    apparent predictions averaged over the imputations, unless ``predy`` is given. With ``ci``,
    pointwise location-shifted intervals: percentiles of the resamples' training curves (all
    imputations) minus the pooled optimism. ``executor`` (threads by default, or a Dask cluster)
    runs the resamples; the result does not depend on it.
    """
    from scipy.special import expit

    from myorisk.modeling.calibration import _calibration_result, default_grid
    from myorisk.modeling.validation import _apparent, _problem

    if not designs:
        raise InputError("calibrate: no data set")
    if predy is None:
        lps = [_apparent(_problem(d), selection)[0]["lp"] for d in designs]
        grid = default_grid(np.mean([expit(lp) for lp in lps], axis=0))
    else:
        grid = np.asarray(predy, dtype=float).ravel()
    t0 = time.perf_counter()
    probs, runs = _run_all(designs, B=B, seed=seed, selection=selection, policy=failure_policy,
                           want={"calibrate"}, predy=grid, workers=workers or _default_workers(len(designs)),
                           executor=executor)
    seconds = time.perf_counter() - t0
    each = tuple(_calibration_result(acc, info, grid, seconds, failure_policy) for acc, info in runs)
    app = np.mean([c.apparent for c in each], axis=0)
    opt = np.nanmean([c.optimism for c in each], axis=0)
    cor = app - opt
    lo = hi = None
    if ci:
        a2 = (1.0 - level) / 2.0
        tr = np.concatenate([np.concatenate(acc.cal_train) for acc, _ in runs if acc.cal_train]) + grid[None, :]
        with np.errstate(all="ignore"):
            q_lo = np.nanquantile(tr, a2, axis=0)
            q_hi = np.nanquantile(tr, 1 - a2, axis=0)
        lo, hi = q_lo - opt, q_hi - opt
    return ImputedCalibration(
        m=len(designs), B=B, seconds=seconds, predicted=grid, apparent=app, corrected=cor, optimism=opt,
        mean_abs_error=float(np.nanmean([c.mean_abs_error for c in each])),
        mean_sq_error=float(np.nanmean([c.mean_sq_error for c in each])),
        e90=float(np.nanmean([c.e90 for c in each])), n_failed=int(sum(c.n_failed for c in each)),
        failure_policy=failure_policy, corrected_low=lo, corrected_high=hi, level=level, each=each,
        imputation=dict(imputation or {}),
    )
