"""Logistic regression from per-partition sufficient statistics (data larger than one machine).

Each Newton iteration needs only sums over patients: the log-likelihood Σ ℓᵢ, the score
Σ xᵢ(yᵢ − pᵢ) and the information Σ pᵢ(1 − pᵢ)xᵢxᵢᵀ. A partition is any object with a
``load()`` method returning its design rows ``X`` (with the intercept column) and 0/1 outcomes
``y``; the sums of every partition are computed where the partition lives (an executor's
worker: a thread, or a Dask worker that reads its own file) and only the small sums —
k + k² + 2 numbers — travel back. The driver adds them in partition order and takes the
Newton step (with step-halving on the log-likelihood), so the fit equals the in-memory fit of
the stacked data to rounding (the test requires 1e-10), whatever the executor.

The engine knows nothing of files: :mod:`myorisk.partitions` provides Parquet partitions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from myorisk.errors import InputError, ModelError

__all__ = ["Partition", "PartitionedFit", "partition_sums", "partition_performance", "fit_partitioned", "C_WIDTH"]


class Partition(Protocol):
    """A block of patients: ``load()`` returns ``(X, y)`` (X with the intercept column)."""

    def load(self) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - protocol
        ...


def partition_sums(part: Partition, beta: np.ndarray | None) -> dict[str, Any]:
    """Sufficient statistics of one partition at ``beta`` (counts only when ``beta`` is None).

    Returns
    -------
    dict
        ``n``, ``events`` and, at ``beta``: ``loglik``, ``score`` (k,), ``info`` (k, k).
    """
    X, y = part.load()
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    out: dict[str, Any] = {"n": int(y.size), "events": float(y.sum()), "k": int(X.shape[1])}
    if beta is None:
        return out
    lp = X @ beta
    # log p = −log(1 + e^−lp), log(1 − p) = −log(1 + e^lp), computed stably
    out["loglik"] = float(-np.sum(y * np.logaddexp(0.0, -lp) + (1.0 - y) * np.logaddexp(0.0, lp)))
    p = 0.5 * (1.0 + np.tanh(0.5 * lp))
    out["score"] = X.T @ (y - p)
    out["info"] = (X * (p * (1.0 - p))[:, None]).T @ X
    return out


C_WIDTH = 1e-4  # width of the linear-predictor cells of the partitioned C statistic


def partition_performance(part: Partition, beta: np.ndarray) -> dict[str, Any]:
    """Second pass over one partition at the fitted ``beta``: Brier sum and outcome counts per cell.

    Returns
    -------
    dict
        ``brier`` (Σ (p − y)²), ``rms65`` (events and non-events per rms 6.5 probability cell
        ``floor(5000·p + 1)``, 2 × 5002 counts) and ``cells`` (the occupied linear-predictor cells
        ``floor(lp / C_WIDTH)``) with their ``counts`` of events and non-events and the smallest
        and largest linear predictor in each (``lo``, ``hi``: a cell holding one value only has
        true ties, counted exactly).
    """
    X, y = part.load()
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    lp = X @ beta
    p = 0.5 * (1.0 + np.tanh(0.5 * lp))
    ev = y == 1
    c65 = np.floor(5000.0 * p + 1.0).astype(np.int64)
    rms65 = np.vstack([np.bincount(c65[ev], minlength=5002), np.bincount(c65[~ev], minlength=5002)])
    cells, inv = np.unique(np.floor(lp / C_WIDTH).astype(np.int64), return_inverse=True)
    counts = np.vstack([np.bincount(inv[ev], minlength=cells.size), np.bincount(inv[~ev], minlength=cells.size)])
    lo = np.full(cells.size, np.inf)
    hi = np.full(cells.size, -np.inf)
    np.minimum.at(lo, inv, lp)
    np.maximum.at(hi, inv, lp)
    return {"brier": float(np.sum((p - y) ** 2)), "rms65": rms65, "cells": cells, "counts": counts,
            "lo": lo, "hi": hi}


def _cell_concordance(events: np.ndarray, nonevents: np.ndarray,
                      tied: np.ndarray | None = None) -> tuple[float, float]:
    """C from events and non-events per ordered cell (pairs in a cell count ½), and the largest
    error that counting can make against the exact C: ½ · (pairs sharing a cell whose values are
    not all equal) / all pairs; ``tied`` marks the cells holding a single value (exact ties)."""
    e = np.asarray(events, dtype=float)
    ne = np.asarray(nonevents, dtype=float)
    below = np.cumsum(ne) - ne  # non-events in lower cells
    pairs = e.sum() * ne.sum()
    within = e * ne
    same = float(np.sum(within))
    loose = float(np.sum(within[~tied])) if tied is not None else same
    return float((np.sum(e * below) + 0.5 * same) / pairs), 0.5 * loose / pairs


def _performance(ex: Any, tasks: list[tuple], beta: np.ndarray, n: int) -> dict[str, float]:
    """Brier score and C statistics from one pass of per-partition counts at ``beta``."""
    perf = ex.run(partition_performance, [t + (beta,) for t in tasks])
    brier = sum(r["brier"] for r in perf) / n
    r65 = sum(r["rms65"] for r in perf)
    c65, _ = _cell_concordance(r65[0], r65[1])
    cells = np.unique(np.concatenate([r["cells"] for r in perf]))
    counts = np.zeros((2, cells.size))
    lo = np.full(cells.size, np.inf)
    hi = np.full(cells.size, -np.inf)
    for r in perf:  # partition order
        at = np.searchsorted(cells, r["cells"])
        counts[:, at] += r["counts"]
        lo[at] = np.minimum(lo[at], r["lo"])
        hi[at] = np.maximum(hi[at], r["hi"])
    c, err = _cell_concordance(counts[0], counts[1], tied=lo == hi)
    return {"brier": float(brier), "c_rms65": c65, "c": c, "c_error": err, "dxy": 2.0 * c - 1.0}


@dataclass(frozen=True)
class PartitionedFit:
    """Maximum-likelihood logistic fit from partition sums.

    Attributes
    ----------
    names : tuple of str
        Column names of the design (intercept first).
    beta, se : ndarray
        Coefficients and Wald standard errors.
    cov : ndarray
        Inverse information.
    loglik : float
        Log-likelihood at ``beta``.
    n, events : int
        Patients and events over every partition.
    partitions : int
        Number of partitions.
    iterations : int
        Newton iterations.
    executor : dict
        Where the partition sums were computed.
    level : float
        Confidence level of the Wald intervals.
    loglik_null, lr_chi2, lr_df, lr_p, aic, r2_nagelkerke : float
        As :class:`myorisk.modeling.logistic.LogisticFit` (from n, events and the log-likelihood).
    brier : float
        Brier score (a second pass of per-partition sums: exact).
    c_rms65 : float
        C as rms 6.5 ``lrm`` prints it (probabilities in cells of 0.0002): exact, from per-cell counts.
    c, c_error : float
        C from linear-predictor cells of width ``C_WIDTH`` (pairs in a cell count ½) and the
        largest possible difference from the exact C (computed from the same counts).
    dxy : float
        2·C − 1.
    outcome, event : str
    missing : dict
        Listwise-deletion report (rows as ``file:row``).
    warnings : tuple of str
    """

    names: tuple[str, ...]
    beta: np.ndarray
    se: np.ndarray
    cov: np.ndarray
    loglik: float
    n: int
    events: int
    partitions: int
    iterations: int
    executor: dict
    level: float = 0.95
    loglik_null: float = float("nan")
    lr_chi2: float = float("nan")
    lr_df: int = 0
    lr_p: float = float("nan")
    aic: float = float("nan")
    r2_nagelkerke: float = float("nan")
    brier: float | None = None
    c: float | None = None
    c_error: float | None = None
    c_rms65: float | None = None
    dxy: float | None = None
    outcome: str = ""
    event: str = "1"
    missing: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def z(self) -> np.ndarray:
        """Wald z statistics."""
        return self.beta / self.se

    @property
    def p(self) -> np.ndarray:
        """Two-sided Wald p-values."""
        from myorisk.modeling._special import ndtr

        return 2.0 * ndtr(-np.abs(self.z))

    def ci(self) -> tuple[np.ndarray, np.ndarray]:
        """Wald limits on the coefficient scale."""
        from myorisk.modeling._special import ndtri

        q = ndtri(0.5 + self.level / 2.0)
        return self.beta - q * self.se, self.beta + q * self.se

    def to_frame(self):  # noqa: ANN201 - pandas imported lazily
        """One row per coefficient: term, coef, se, z, p, or, or_low, or_high (as ``myorisk fit``)."""
        import pandas as pd

        lo, hi = self.ci()
        return pd.DataFrame({"term": list(self.names), "coef": self.beta, "se": self.se, "z": self.z, "p": self.p,
                             "or": np.exp(self.beta), "or_low": np.exp(lo), "or_high": np.exp(hi)})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary: the ``myorisk fit --json`` keys, and how the partitions were read."""
        from myorisk._json import clean

        return clean({
            "outcome": self.outcome, "event": self.event, "method": "ml", "ci": "wald", "level": self.level,
            "n": self.n, "events": self.events, "terms": self.to_frame().to_dict(orient="records"),
            "loglik": self.loglik, "loglik_null": self.loglik_null, "loglik_penalized": None,
            "loglik_null_penalized": None, "aic": self.aic, "lr_chi2": self.lr_chi2, "lr_df": self.lr_df,
            "lr_p": self.lr_p, "r2_nagelkerke": self.r2_nagelkerke, "c": self.c, "dxy": self.dxy,
            "c_rms65": self.c_rms65, "brier": self.brier, "g": None, "gp": None, "converged": True,
            "iterations": self.iterations, "warnings": list(self.warnings), "missing": self.missing,
            "knots": {}, "penalty": 0.0, "effective_df": None, "shrinkage": None,
            "partitioned": {
                "partitions": self.partitions, "executor": self.executor,
                "c_method": f"linear-predictor cells of width {C_WIDTH:g}, pairs in a cell counted as ½",
                "c_error_bound": self.c_error,
                "not_computed": {"g": "Gini's mean difference needs the sorted rows",
                                 "gp": "Gini's mean difference needs the sorted rows"},
            },
        })


def fit_partitioned(parts: Sequence[Partition], *, names: Sequence[str] | None = None,
                    executor: Any = None, maxit: int = 50, tol: float = 1e-12, level: float = 0.95,
                    performance: bool = True, outcome: str = "", missing: dict | None = None,
                    warnings: Sequence[str] = (), counts: tuple[int, int] | None = None) -> PartitionedFit:
    """Fit a logistic regression over partitions by Newton–Raphson on summed statistics.

    Parameters
    ----------
    parts : sequence of Partition
        The blocks of data (each loaded where it is processed, once per iteration).
    names : sequence of str, optional
        Design column names.
    executor : myorisk.modeling.executor.Executor, optional
        Threads by default; a Dask executor computes each partition's sums on a worker.
    maxit : int, default=50
        Newton iterations at most.
    tol : float, default=1e-12
        Convergence: largest |step| < tol·max(1, |β|).
    level : float, default=0.95
        Confidence level of the Wald intervals.
    performance : bool, default=True
        A last pass at the fitted coefficients for the Brier score and the C statistics.
    outcome : str, optional
        Outcome name (recorded).
    missing : dict, optional
        Listwise-deletion report of the reader (recorded).
    warnings : sequence of str
        Notes to carry in the result.
    counts : (int, int), optional
        Rows and events over every partition when a first pass already counted them (with
        ``names``; saves the counting pass).

    Returns
    -------
    PartitionedFit
    """
    from myorisk.modeling._special import chdtrc
    from myorisk.modeling.executor import ThreadExecutor

    if not parts:
        raise InputError("no partitions to fit")
    if not 0.0 < level < 1.0:
        raise InputError(f"--level must be between 0 and 1, not {level}")
    ex = executor or ThreadExecutor()
    tasks = [(p,) for p in parts]

    def sums(beta: np.ndarray | None) -> dict[str, Any]:
        res = ex.run(partition_sums, [t + (beta,) for t in tasks])
        tot: dict[str, Any] = {"n": 0, "events": 0.0}
        for r in res:  # in partition order, whatever order they finished in
            tot["n"] += r["n"]
            tot["events"] += r["events"]
            tot["k"] = r["k"]
            if beta is not None:
                for key in ("loglik", "score", "info"):
                    tot[key] = tot[key] + r[key] if key in tot else r[key]
        return tot

    if counts is not None and names is not None:
        (n, events), k = counts, len(names)
    else:
        first = sums(None)
        n, events, k = first["n"], first["events"], first["k"]
    if n == 0:
        raise InputError("no complete row in any partition: nothing to fit")
    if events <= 0 or events >= n:
        raise ModelError("the outcome is constant over every partition: no model can be fitted")
    beta = np.zeros(k)
    beta[0] = math.log(events / (n - events))
    cur = sums(beta)
    it = 0
    converged = False
    for it in range(1, maxit + 1):  # noqa: B007 - reported
        try:
            step = np.linalg.solve(cur["info"], cur["score"])
        except np.linalg.LinAlgError:
            if it == 1:
                raise ModelError("the information matrix is singular (collinear predictors)") from None
            raise ModelError(f"the information matrix became singular after {it - 1} Newton iterations: fitted "
                             "probabilities reached 0 or 1, so the outcome is separated (complete or "
                             "quasi-complete separation) and the maximum-likelihood estimate does not exist") from None
        t = 1.0
        for _ in range(30):
            cand = beta + t * step
            new = sums(cand)
            if np.isfinite(new["loglik"]) and new["loglik"] >= cur["loglik"] - 1e-12 * abs(cur["loglik"]):
                break
            t *= 0.5
        else:
            converged = True  # no step improves: at the maximum
            break
        beta, cur = cand, new
        if np.max(np.abs(t * step)) < tol * max(1.0, float(np.max(np.abs(beta)))):
            converged = True
            break
    if not converged:
        raise ModelError(f"the fit did not converge in {maxit} iterations (separation?)")
    cov = np.linalg.inv(cur["info"])
    cols = tuple(names) if names is not None else tuple(f"x{j}" for j in range(k))
    ll = float(cur["loglik"])
    ybar = events / n
    ll0 = float(events * math.log(ybar) + (n - events) * math.log(1.0 - ybar))
    lr = 2.0 * (ll - ll0)
    df = k - 1
    extra = _performance(ex, tasks, beta, n) if performance else {}
    return PartitionedFit(names=cols, beta=beta, se=np.sqrt(np.diag(cov)), cov=cov,
                          loglik=ll, n=int(n), events=int(events),
                          partitions=len(parts), iterations=it, executor=ex.describe(), level=level,
                          loglik_null=ll0, lr_chi2=float(lr), lr_df=int(df),
                          lr_p=float(chdtrc(df, lr)) if df > 0 else float("nan"),
                          aic=float(-2.0 * ll + 2.0 * k),
                          r2_nagelkerke=float((1.0 - math.exp(-lr / n)) / (1.0 - math.exp(2.0 * ll0 / n))),
                          outcome=outcome, missing=dict(missing or {}), warnings=tuple(warnings), **extra)
