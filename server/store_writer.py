"""Write-behind flushes on a writer thread, so database I/O never stalls the tick loop.

:class:`ThreadedStore` wraps a :class:`~server.persistence.WorldStore` for the
:class:`~server.world.World`. ``save_batch`` (the world's periodic write-behind flush,
called from ``World.advance_tick`` inside the tick) only queues the batch and returns; one
writer thread commits the queued batches in order, each in its own transaction, exactly
as ``WorldStore.save_batch`` would have. Every other store call (reads such as
``load_chunk_delta`` after an eviction or ``find_character`` on join, and the synchronous
character writes on join/leave) first waits until the queue is empty, so the world always
reads its own writes and writes stay in order.

Why: on this machine a flush of a few dozen dirty chunks takes 30-300 ms of mostly disk
wait (SQLite commits and checkpoints); run in the event loop it stalled whole ticks
(tick p99 > 100 ms, < 20 TPS at 100 clients, see docs/performance.md).

Failures: a batch that fails with an operational error (database locked, disk full) is
retried with back-off (0.1 s doubling to 5 s) and logged; batches behind it wait, so order
is kept and nothing is skipped. A ``StoreError`` (a stored chunk version newer than the
batch: a second writer) is logged and the batch dropped, since retrying cannot help.

Crash loss window: a batch still queued when the process is killed is lost, so the window
of ``docs/persistence.md`` (``flush_debounce_s`` + one flush) grows by at most the time the
writer is behind, normally one flush duration. :meth:`ThreadedStore.close` (clean
shutdown) commits everything queued first.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from server.logging import log
from server.persistence import FlushBatch, StoreError, WorldStore

logger = logging.getLogger("server.store_writer")

#: Store calls made from the tick loop that take longer than this (s) are logged.
SLOW_CALL_S = 0.02


class ThreadedStore:
    """A WorldStore whose ``save_batch`` runs on a writer thread (see the module docstring).

    Args:
        store: the store to wrap; closed by :meth:`close`.
        close_timeout_s: longest wait for queued batches at :meth:`close`.
    """

    def __init__(self, store: WorldStore, *, close_timeout_s: float = 30.0) -> None:
        self.store = store
        self.close_timeout_s = close_timeout_s
        self._queue: queue.Queue[tuple[int, FlushBatch] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._pending = 0
        self._idle = threading.Event()
        self._idle.set()
        self._closed = False
        #: Seconds taken by the last committed batch, and batches committed so far.
        self.last_commit_s = 0.0
        self.commits = 0
        self.failures = 0
        self._thread = threading.Thread(target=self._run, name="world-store-writer",
                                        daemon=True)
        self._thread.start()

    # ---- the queued write -------------------------------------------------------------

    def save_batch(self, planet_id: int, batch: FlushBatch) -> None:
        """Queue ``batch`` for the writer thread and return at once.

        Raises:
            RuntimeError: the store is closed.
        """
        if self._closed:
            raise RuntimeError("store is closed")
        with self._lock:
            self._pending += 1
            self._idle.clear()
        self._queue.put((planet_id, batch))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:  # close() asked the writer to stop
                return
            planet_id, batch = item
            self._commit(planet_id, batch)
            with self._lock:
                self._pending -= 1
                if self._pending == 0:
                    self._idle.set()

    def _commit(self, planet_id: int, batch: FlushBatch) -> None:
        delay = 0.1
        while True:
            t0 = time.perf_counter()
            try:
                self.store.save_batch(planet_id, batch)
            except StoreError as e:
                self.failures += 1
                log(logger, "flush_dropped", logging.ERROR, error=str(e),
                    chunks=len(batch.chunks))
                return
            except Exception as e:
                self.failures += 1
                log(logger, "flush_failed", logging.ERROR, error=repr(e), retry_in_s=delay,
                    chunks=len(batch.chunks))
                if self._closed and delay >= 5.0:
                    log(logger, "flush_abandoned", logging.ERROR, chunks=len(batch.chunks))
                    return
                time.sleep(delay)
                delay = min(5.0, delay * 2)
                continue
            self.last_commit_s = time.perf_counter() - t0
            self.commits += 1
            return

    # ---- everything else: wait for the queue, then call through ------------------------

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every queued batch is committed; False on timeout."""
        return self._idle.wait(timeout)

    @property
    def pending(self) -> int:
        """Batches queued or being written."""
        return self._pending

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.store, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            self.drain()
            t1 = time.perf_counter()
            out = attr(*args, **kwargs)
            t2 = time.perf_counter()
            if t2 - t0 > SLOW_CALL_S:
                log(logger, "slow_store_call", logging.WARNING, call=name,
                    wait_ms=round((t1 - t0) * 1000, 2), call_ms=round((t2 - t1) * 1000, 2))
            return out

        return call

    def close(self) -> None:
        """Commit everything queued (up to ``close_timeout_s``), stop the writer, close the
        wrapped store. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if not self.drain(self.close_timeout_s):
            log(logger, "flush_incomplete_at_close", logging.ERROR, pending=self._pending)
        self._queue.put(None)
        self._thread.join(self.close_timeout_s)
        self.store.close()

