"""ThreadedStore: flushes leave the caller at once, commit in order, reads wait for them."""

from __future__ import annotations

import time
from typing import Any, cast

from server.persistence import FlushBatch, StoreError, WorldStore
from server.store_writer import ThreadedStore


class FakeStore:
    """Records calls; ``save_batch`` is slow and can be told to fail."""

    def __init__(self, fail: list[BaseException] | None = None) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.fail = list(fail or [])
        self.closed = False

    def save_batch(self, planet_id: int, batch: FlushBatch) -> None:
        time.sleep(0.1)
        if self.fail:
            raise self.fail.pop(0)
        self.calls.append(("save", batch.chunks[0][1]))

    def find_character(self, planet_id: int, key_hash: str) -> None:
        self.calls.append(("find", key_hash))

    def close(self) -> None:
        self.closed = True


def batch(version: int) -> FlushBatch:
    return FlushBatch(chunks=[((0, 0, 0), version, b"x")], characters=[],
                      loose_canisters=[], deleted_canisters=[])


def test_save_returns_at_once_and_reads_wait_for_queued_writes() -> None:
    fake = FakeStore()
    ts = ThreadedStore(cast(WorldStore, fake))
    t0 = time.perf_counter()
    ts.save_batch(1, batch(1))
    ts.save_batch(1, batch(2))
    assert time.perf_counter() - t0 < 0.05
    assert ts.pending == 2
    ts.find_character(1, "h")  # drains first
    assert fake.calls == [("save", 1), ("save", 2), ("find", "h")]
    ts.close()
    assert fake.closed


def test_failed_batches_are_retried_in_order_and_store_errors_dropped() -> None:
    fake = FakeStore(fail=[OSError("disk busy"), StoreError("older version")])
    ts = ThreadedStore(cast(WorldStore, fake))
    ts.save_batch(1, batch(1))  # OSError (retried), then StoreError (dropped)
    ts.save_batch(1, batch(2))
    assert ts.drain(10)
    # batch 1: OSError then StoreError on retry -> dropped; batch 2 committed
    assert fake.calls == [("save", 2)]
    assert ts.failures == 2 and ts.commits == 1
    ts.close()


def test_close_commits_everything_queued() -> None:
    fake = FakeStore()
    ts = ThreadedStore(cast(WorldStore, fake))
    for v in range(1, 4):
        ts.save_batch(1, batch(v))
    ts.close()
    assert [v for _, v in fake.calls] == [1, 2, 3] and fake.closed
