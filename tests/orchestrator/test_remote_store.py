"""RemoteStore (a map process's persistence) against a fake orchestrator (httpx
MockTransport): reads from the rehydrate answer, pushes in order with retries, critical
events retried with the same event id, released characters no longer pushed."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import pytest

from server.mapproc.remote_store import (
    DISPOSABLE_CANISTER_BASE,
    CharacterLink,
    PersistenceUnavailableError,
    RemoteStore,
    record_from_state,
)
from server.orchestrator.control import ControlClient
from server.world.records import CanisterRecord, CharacterRecord, FlushBatch


class FakeOrchestrator:
    """Records every POST; fails the first ``fail`` calls of each path with 503."""

    def __init__(self, fail: int = 0) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail = fail
        self.failed: dict[str, int] = {}

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        path = request.url.path
        if self.failed.get(path, 0) < self.fail:
            self.failed[path] = self.failed.get(path, 0) + 1
            return httpx.Response(503, json={"error": "busy"})
        self.calls.append((path, body))
        if path == "/orch/persist-critical-event":
            return httpx.Response(200, json={"eventId": body["eventId"], "seq": len(self.calls),
                                             "duplicate": False})
        return httpx.Response(200, json={"results": ["accepted"] * len(body.get("items", []))})


def store_with(fake: FakeOrchestrator, rehydrated: dict[str, Any] | None = None) -> RemoteStore:
    rpc = ControlClient("http://orch", "s", transport=httpx.MockTransport(fake.handler))
    return RemoteStore(rpc, map_id="planet-2", instance_id="planet-2.i0.x", world_seed=1,
                       planet_index=2, rehydrated=rehydrated or {}, retry_max_s=0.01)


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def test_reads_come_from_the_rehydrate_answer() -> None:
    store = store_with(FakeOrchestrator(), {"snapshots": [
        {"partition": "chunk:1,-2,3", "revision": 7, "payloadB64": b64(b"delta")},
        {"partition": "loose", "revision": 9, "payloadB64": b64(b"[[5, 40]]")}]})
    assert store.load_chunk_versions(0) == {(1, -2, 3): 7}
    assert store.load_chunk_delta(0, (1, -2, 3)) == (7, b"delta")
    assert store.load_chunk_delta(0, (0, 0, 0)) is None
    assert [(c.id, c.soil) for c in store.load_loose_canisters(0)] == [(5, 40)]
    assert store.max_canister_id() == DISPOSABLE_CANISTER_BASE + (2 << 32)
    with pytest.raises(RuntimeError):
        store.find_character(0, "k")


async def test_pushes_in_order_with_retries_and_fenced_characters() -> None:
    fake = FakeOrchestrator(fail=2)
    store = store_with(fake)
    pusher = asyncio.create_task(store.run_pusher())
    store.register(CharacterLink(3, "key3", epoch=11, state={"poses": {"planet-0": [1] * 7}}))
    rec = CharacterRecord(3, (1.0, 2.0, 3.0), (0.0, 0.0, 0.0, 1.0),
                          [CanisterRecord(192, 50, 3, 0)])
    store.save_batch(0, FlushBatch(chunks=[((0, 0, 1), 4, b"p4")], characters=[rec]))
    store.save_batch(0, FlushBatch(chunks=[((0, 0, 1), 5, b"p5")], characters=[rec]))
    store.release(3)  # the lease moved away: no more character pushes
    store.save_batch(0, FlushBatch(chunks=[((0, 0, 1), 6, b"p6")], characters=[rec]))
    assert await store.drain(5.0)
    await store.aclose(pusher)
    batches = [b for p, b in fake.calls if p == "/orch/persist-snapshots"]
    assert [it["revision"] for b in batches for it in b["items"]
            if it["partition"] == "chunk:0,0,1"] == [4, 5, 6]  # in order despite 503s
    chars = [it for b in batches for it in b["items"] if it["partition"] == "character:key3"]
    assert len(chars) == 2 and all(it["epoch"] == 11 for it in chars)
    assert chars[0]["revision"] < chars[1]["revision"]
    state = json.loads(base64.b64decode(chars[1]["payloadB64"]))
    assert state["poses"]["planet-0"] == [1] * 7  # other maps' poses are kept
    assert state["poses"]["planet-2"] == [1.0, 2.0, 3.0, 0.0, 0.0, 0.0, 1.0]
    assert state["canisters"] == [[192, 50, 0]] and state["mapId"] == "planet-2"
    # loose canisters are pushed only when they change
    assert sum(1 for b in batches for it in b["items"] if it["partition"] == "loose") == 0
    back, at_spawn = record_from_state(state, 3, "planet-2")
    assert back is not None and not at_spawn and back.position == (1.0, 2.0, 3.0)
    assert record_from_state(state, 3, "planet-5")[1]  # never there: spawn


async def test_critical_events_retry_with_the_same_id_then_give_up() -> None:
    fake = FakeOrchestrator(fail=2)
    store = store_with(fake)
    link = CharacterLink(3, "key3", epoch=1)
    seq = await store.critical(link, "soil", {"canisters": [[192, 10, 0]]})
    assert seq == 1 and fake.failed["/orch/persist-critical-event"] == 2
    (_, body), = fake.calls
    assert body["partition"] == "character:key3" and body["kind"] == "soil"
    store.observe_revision(1 << 62)  # a revision from a map whose clock is ahead
    await store.critical(link, "soil", {})
    assert fake.calls[-1][1]["revision"] > 1 << 62
    dead = store_with(FakeOrchestrator(fail=99))
    with pytest.raises(PersistenceUnavailableError):
        await dead.critical(link, "soil", {}, attempts=3)
