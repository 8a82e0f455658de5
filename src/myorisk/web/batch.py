"""Batch scoring off the event loop: small uploads in the thread pool, large ones in a process.

Reading, scoring and writing a file of a million patients takes seconds to minutes of CPU. Run
on the event loop, it would hold every other request (a clinician's single prediction) until it
ends. In the thread pool the loop stays free, but the batch thread still shares the GIL: a
single prediction then waits whenever the batch is inside a long C call (pandas writing 100 MB
of CSV). Uploads from ``process_above`` bytes (default 1 MB) are therefore scored in a separate
process (one per application, started on first use, ``spawn``ed so that no server thread is
forked), which shares nothing with the server; smaller ones, scored in well under a second, use
the thread pool and avoid the process's start-up. ``bench/web_latency.py`` measures the effect.

``app.state.batches_in_flight`` counts the uploads being scored (a monitoring figure; the tests
use it to see a batch under way).
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from starlette.concurrency import run_in_threadpool

from myorisk.web.scoring import BatchModel, score_upload

__all__ = ["run_batch", "shutdown_batch_pool", "DEFAULT_PROCESS_ABOVE"]

#: Uploads from this size (bytes) are scored in a separate process.
DEFAULT_PROCESS_ABOVE = 1024 * 1024
_LOCK = threading.Lock()


def _pool(state: Any) -> ProcessPoolExecutor:
    with _LOCK:
        pool = getattr(state, "batch_pool", None)
        if pool is None:
            import multiprocessing

            pool = ProcessPoolExecutor(max_workers=1,
                                       mp_context=multiprocessing.get_context("spawn"))
            state.batch_pool = pool
        return pool


def shutdown_batch_pool(state: Any) -> None:
    """Stop the application's scoring process, if it was started."""
    with _LOCK:
        pool = getattr(state, "batch_pool", None)
        state.batch_pool = None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


async def run_batch(app: Any, model: BatchModel, data: bytes, filename: str
                    ) -> list[dict] | tuple[bytes, dict[str, str]]:
    """:func:`~myorisk.web.scoring.score_upload` off the event loop (see the module docstring).

    Returns what ``score_upload`` returns; a scoring process that died (out of memory, killed)
    becomes a problem to list, and the next upload starts a new process.
    """
    state = app.state
    with _LOCK:
        state.batches_in_flight = getattr(state, "batches_in_flight", 0) + 1
    try:
        threshold = getattr(state, "process_batches_above", DEFAULT_PROCESS_ABOVE)
        if threshold is None or len(data) < threshold:
            return await run_in_threadpool(score_upload, model, data, filename)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(_pool(state), score_upload, model, data, filename)
        except BrokenProcessPool:
            shutdown_batch_pool(state)
            return [{"row": None, "column": None,
                     "message": f"{filename}: the scoring process stopped before the end (too "
                                "large for this server's memory?); try again, or split the file"}]
    finally:
        with _LOCK:
            state.batches_in_flight -= 1
