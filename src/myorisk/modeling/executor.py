"""Where the chunks of a bootstrap or a simulation run: threads, or a Dask cluster.

A chunk is a call ``fn(*shared, *task)`` of a pure function that returns an accumulator; the
caller merges the accumulators in task order. The work a chunk does is defined by its task
alone (e.g. "resamples 200–299 of seed 7"), never by the worker it lands on, so a result is the
same whatever the executor and the number of workers.

* :class:`ThreadExecutor` (default): a thread pool in this process. The numba kernels release
  the GIL (``nogil=True``) and numpy's do too, so threads use every core without copying data.
* :class:`DaskExecutor`: ``workers=N`` starts a ``dask.distributed.LocalCluster`` of N worker
  processes (one thread each) for the duration of the call; ``scheduler="tcp://host:8786"``
  connects to an existing cluster. The shared arguments (the data) are scattered to the workers
  once; each task then ships only its small description.

Dask is imported only when a Dask executor is made.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from myorisk.errors import InputError

__all__ = ["Executor", "ThreadExecutor", "DaskExecutor", "executor", "default_threads"]

Progress = Callable[[int], None]


def default_threads() -> int:
    """CPUs this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)  # pragma: no cover - non-Linux


class Executor:
    """Runs ``fn(*shared, *task)`` for every task and returns the results in task order."""

    kind = "serial"
    workers = 1

    def run(self, fn: Callable[..., Any], tasks: Sequence[tuple], *, shared: tuple = (),
            progress: Progress | None = None) -> list[Any]:
        """Results of ``fn(*shared, *task)`` in task order; ``progress(i)`` after each task ends.

        Parameters
        ----------
        fn : callable
            A pure, picklable module-level function.
        tasks : sequence of tuple
            The per-chunk arguments.
        shared : tuple
            Arguments common to every task (sent to each worker once).
        progress : callable, optional
            Called with the index of each task as it completes.

        Returns
        -------
        list
        """
        out = []
        for i, t in enumerate(tasks):
            out.append(fn(*shared, *t))
            if progress is not None:
                progress(i)
        return out

    def describe(self) -> dict[str, Any]:
        """JSON-ready description (kind and workers)."""
        return {"kind": self.kind, "workers": self.workers}

    def close(self) -> None:
        """Release the workers."""


class ThreadExecutor(Executor):
    """A thread pool of ``workers`` threads (default: the CPUs available, at most 8)."""

    kind = "threads"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = int(workers) if workers else min(8, default_threads())

    def run(self, fn: Callable[..., Any], tasks: Sequence[tuple], *, shared: tuple = (),
            progress: Progress | None = None) -> list[Any]:
        if self.workers <= 1 or len(tasks) <= 1:
            return super().run(fn, tasks, shared=shared, progress=progress)
        from concurrent.futures import ThreadPoolExecutor, as_completed

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            futs = {pool.submit(fn, *shared, *t): i for i, t in enumerate(tasks)}
            out: list[Any] = [None] * len(tasks)
            for f in as_completed(futs):
                i = futs[f]
                out[i] = f.result()
                if progress is not None:
                    progress(i)
        return out


class DaskExecutor(Executor):
    """Tasks on a Dask cluster: a new local one of ``workers`` processes, or ``scheduler``'s."""

    kind = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as e:  # pragma: no cover - dask is a dependency
            raise InputError("--workers/--scheduler need dask[distributed] (pip install 'dask[distributed]')") from e
        self._cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout="10s")
            except (OSError, TimeoutError) as e:
                raise InputError(f"--scheduler {scheduler}: cannot connect to a Dask scheduler ({e})") from None
            self.workers = len(self.client.scheduler_info().get("workers", {})) or 1
        else:
            n = int(workers or 1)
            if n < 1:
                raise InputError(f"--workers must be at least 1, not {n}")
            self._cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                         dashboard_address=":0")
            self.client = Client(self._cluster)
            self.workers = n
        self.address = self.client.scheduler.address

    def run(self, fn: Callable[..., Any], tasks: Sequence[tuple], *, shared: tuple = (),
            progress: Progress | None = None) -> list[Any]:
        from dask.distributed import CancelledError, as_completed

        if not tasks:
            return []
        out: list[Any] = [None] * len(tasks)
        todo = list(range(len(tasks)))
        # A worker that misses its heartbeats on a loaded machine is declared dead and takes the
        # scattered data with it ("lost dependencies"): scatter again and resubmit what is left.
        # Tasks are pure functions of their arguments, so a rerun gives the same result.
        for attempt in range(3):
            # hash=False: a fresh key each time. With content-hashed keys, the same data scattered
            # again right after an earlier run released them can be freed under the new futures
            # (the release is still in flight): "lost dependencies" on a quick second run.
            shared_f = [self.client.scatter(s, broadcast=True, hash=False) for s in shared]
            futs = {self.client.submit(fn, *shared_f, *tasks[i], pure=False): i for i in todo}
            lost = False
            try:
                for f in as_completed(list(futs)):
                    i = futs[f]
                    try:
                        out[i] = f.result()
                    except CancelledError:
                        if attempt == 2:
                            raise
                        lost = True
                        continue
                    todo.remove(i)
                    if progress is not None:
                        progress(i)
            finally:
                for f in futs:
                    f.release()
                del shared_f  # the scattered data are released with their last reference
            if not lost:
                break
        return out

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "workers": self.workers, "scheduler": self.address}

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


@contextmanager
def executor(workers: int | None = None, scheduler: str | None = None,
             *, threads: int | None = None) -> Iterator[Executor]:
    """The executor for ``--workers N`` / ``--scheduler ADDRESS`` (threads when neither is given).

    Parameters
    ----------
    workers : int, optional
        Start a local Dask cluster of this many worker processes.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``).
    threads : int, optional
        Threads of the default thread executor.

    Yields
    ------
    Executor
    """
    if workers is not None and scheduler is not None:
        raise InputError("give --workers or --scheduler, not both")
    ex: Executor
    if workers is None and scheduler is None:
        ex = ThreadExecutor(threads)
    else:
        ex = DaskExecutor(workers=workers, scheduler=scheduler)
    try:
        yield ex
    finally:
        ex.close()
