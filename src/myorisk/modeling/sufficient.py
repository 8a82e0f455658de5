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
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from myorisk.errors import InputError, ModelError

__all__ = ["Partition", "PartitionedFit", "partition_sums", "fit_partitioned"]


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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        from myorisk._json import clean

        return clean({
            "n": self.n, "events": self.events, "partitions": self.partitions,
            "iterations": self.iterations, "loglik": self.loglik,
            "terms": [{"term": t, "coef": b, "se": s} for t, b, s in zip(self.names, self.beta, self.se, strict=True)],
            "executor": self.executor,
        })

    def to_frame(self):  # noqa: ANN201 - pandas imported lazily
        """``term, coef, se`` per column."""
        import pandas as pd

        return pd.DataFrame({"term": self.names, "coef": self.beta, "se": self.se})


def fit_partitioned(parts: Sequence[Partition], *, names: Sequence[str] | None = None,
                    executor: Any = None, maxit: int = 50, tol: float = 1e-12) -> PartitionedFit:
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

    Returns
    -------
    PartitionedFit
    """
    from myorisk.modeling.executor import ThreadExecutor

    if not parts:
        raise InputError("no partitions to fit")
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

    first = sums(None)
    n, events, k = first["n"], first["events"], first["k"]
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
            raise ModelError("the information matrix is singular (collinear predictors)") from None
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
    return PartitionedFit(names=cols, beta=beta, se=np.sqrt(np.diag(cov)), cov=cov,
                          loglik=float(cur["loglik"]), n=int(n), events=int(events),
                          partitions=len(parts), iterations=it, executor=ex.describe())
