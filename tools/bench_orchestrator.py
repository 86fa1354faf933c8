#!/usr/bin/env python3
"""Benchmark of the orchestrator: critical-event ack latency and throughput (SQLite WAL
with synchronous=FULL, and PostgreSQL), token mint+verify rate, transfer latency.

Usage (from the repository root)::

    .venv/bin/python tools/bench_orchestrator.py [--events 2000] [--transfers 300]
        [--no-pg] [--pg-url postgresql+psycopg://...]

* "sequential": one event per commit, the next sent after the ack (a map process waiting
  for each ack). "group commit": ``--concurrency`` events in flight through AsyncLedger,
  which commits whatever is pending in one transaction.
* Transfer latency, in process: one whole transfer through the control RPC (ASGI, no
  sockets): request-transfer -> redeem-transfer-token (the source's release answered by
  a stub) -> transfer-result completed, with the ledger's commit point at every step.
  Excludes the client's reconnect.
* ``--processes N``: N transfers through real processes (``planet-server serve``, two
  map processes, a Python SDK client): from TRANSFER_REQUEST sent to JOIN_ACCEPTED from
  the destination (HTTP hops, the source's release, the WebSocket reconnect and HELLO),
  with the in-process figure as the baseline ratio. The destination is warm (spawned by
  a first transfer, not counted). Then N edits through a map process (each soil move a
  critical event acknowledged before EDIT_RESULT) against ``serve --single`` as baseline.
* Without ``--pg-url`` a private PostgreSQL cluster is started (tests/orchestrator
  orch_support.private_postgres) unless ``--no-pg``.
"""

from __future__ import annotations

# ruff: noqa: E402  (imports after the sys.path setup)
import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "orchestrator"))
sys.path.insert(0, str(ROOT / "tests"))

import httpx

from server.orchestrator.core import Orchestrator
from server.orchestrator.ledger import AsyncLedger, CriticalEventIn, InventoryOp, Ledger
from server.orchestrator.rpc import SECRET_HEADER, create_control_app, create_public_app
from server.orchestrator.settings import OrchestratorSettings
from server.orchestrator.tokens import TokenService


def pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))]


def event(i: int) -> CriticalEventIn:
    return CriticalEventIn(event_id=f"b{i}", instance_id="planet-0.i0.bench",
                           partition="character:bench", revision=i, kind="spend",
                           payload={"item": "ore", "n": i},
                           inventory_ops=(InventoryOp("bench", 0, "ore", 1),))


def bench_ledger(name: str, url: str, n: int, concurrency: int) -> None:
    led = Ledger(url)
    lat: list[float] = []
    t0 = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        led.append_critical(event(i))
        lat.append(time.perf_counter() - t)
    wall = time.perf_counter() - t0
    print(f"{name:10} sequential     ack p50 {pct(lat, .5) * 1e3:6.2f} ms  p99 "
          f"{pct(lat, .99) * 1e3:6.2f} ms  {n / wall:8.0f} events/s")

    async def grouped() -> tuple[list[float], float]:
        aled = AsyncLedger(led)
        lats: list[float] = []
        sem = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with sem:
                t = time.perf_counter()
                await aled.append_critical(event(n + i))
                lats.append(time.perf_counter() - t)

        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        wall = time.perf_counter() - t0
        await aled.close()
        return lats, wall

    lat2, wall2 = asyncio.run(grouped())
    print(f"{name:10} group commit   ack p50 {pct(lat2, .5) * 1e3:6.2f} ms  p99 "
          f"{pct(lat2, .99) * 1e3:6.2f} ms  {n / wall2:8.0f} events/s  "
          f"({concurrency} in flight)")


def bench_tokens(n: int) -> None:
    svc = TokenService(b"bench-secret")
    t0 = time.perf_counter()
    for i in range(n):
        _, tok = svc.mint_transfer(transfer_id=f"t{i}", auth_key_hash="a" * 64,
                                   character_id=i, from_map_id="planet-0",
                                   to_map_id="planet-1")
        svc.verify_transfer(tok, map_id="planet-1", character_id=i)
    wall = time.perf_counter() - t0
    print(f"tokens     mint+verify      {n / wall:8.0f} /s  ({wall / n * 1e6:.1f} us each)")


class _ReadySpawner:
    def __init__(self) -> None:
        self.orch: Orchestrator | None = None

    async def spawn(self, map_id: str, config: object) -> object:
        assert self.orch is not None
        asyncio.get_running_loop().call_soon(self.orch.supervisor.map_ready, map_id,
                                             "ws://127.0.0.1:0")

        class H:
            pid = 0
            returncode = None

            async def kill(self) -> None: ...

        return H()


async def bench_transfers(db: Path, n: int) -> tuple[float, float]:
    settings = OrchestratorSettings(internal_rpc_secret="bench")
    spawner = _ReadySpawner()
    aled = AsyncLedger(Ledger(f"sqlite:///{db}"))
    orch = Orchestrator(settings, aled, spawner)
    spawner.orch = orch

    async def release_stub(map_id: str, path: str, body: dict[str, object]) -> dict[str, object]:
        lease = orch.registry.holder(str(body["characterKey"]))
        assert lease is not None
        return {"epoch": lease.epoch, "snapshot": None}

    orch.map_call = release_stub  # type: ignore[method-assign]
    tr = httpx.ASGITransport(app=create_control_app(orch), client=("127.0.0.1", 1))
    pub = httpx.ASGITransport(app=create_public_app(orch), client=("127.0.0.1", 1))
    lat: list[float] = []
    async with httpx.AsyncClient(transport=tr, base_url="http://o",
                                 headers={SECRET_HEADER: "bench"}) as c, \
            httpx.AsyncClient(transport=pub, base_url="http://o") as p:
        offer = (await p.post("/orch/bootstrap", json={"authKey": "bench-key"})).json()
        j = (await c.post("/orch/redeem-join-ticket",
                          json={"mapId": offer["mapId"], "token": offer["ticket"]})).json()
        key, here = j["characterKey"], offer["mapId"]
        await orch.ensure_map("planet-1")
        for _ in range(n):
            there = "planet-1" if here == "planet-0" else "planet-0"
            t = time.perf_counter()
            r = (await c.post("/orch/request-transfer", json={
                "characterKey": key, "fromMapId": here, "toMapId": there})).json()
            await c.post("/orch/redeem-transfer-token",
                         json={"mapId": there, "token": r["token"]})
            done = (await c.post("/orch/transfer-result", json={
                "transferId": r["transferId"], "mapId": there, "phase": "completed"})).json()
            lat.append(time.perf_counter() - t)
            assert done["lease"]["mapId"] == there
            here = there
    await aled.close()
    print(f"transfer   in process, 3 RPCs + 4 commits p50 {pct(lat, .5) * 1e3:6.2f} ms  p99 "
          f"{pct(lat, .99) * 1e3:6.2f} ms  (n={n})")
    return pct(lat, .5), pct(lat, .99)


async def bench_process_transfers(data: Path, n: int, baseline: tuple[float, float]) -> None:
    """Transfers through real processes (module docstring)."""
    from process_support import orchestrator

    from server.client.client import connect_via_orchestrator

    total: list[float] = []
    server: list[float] = []
    with orchestrator(data) as orch:
        client, joined = await connect_via_orchestrator(orch.url, "bench-traveller")
        here = "planet-0"
        for i in range(n + 1):
            there = "planet-1" if here == "planet-0" else "planet-0"
            t0 = time.perf_counter()
            order = await client.request_transfer(there)
            t1 = time.perf_counter()
            client, joined = await client.follow_transfer(order)
            t2 = time.perf_counter()
            assert joined.planet_index == int(there.split("-")[1])
            if i > 0:  # the first one spawned planet-1
                total.append(t2 - t0)
                server.append(t1 - t0)
            here = there
        await client.close()
    p50, p99 = pct(total, .5), pct(total, .99)
    print(f"transfer   real processes, request -> JOIN_ACCEPTED p50 {p50 * 1e3:6.2f} ms  "
          f"p99 {p99 * 1e3:6.2f} ms  (n={n}, target p99 < 100 ms)")
    print(f"           of which request -> TRANSFER_TO p50 {pct(server, .5) * 1e3:6.2f} ms  "
          f"p99 {pct(server, .99) * 1e3:6.2f} ms")
    print(f"           ratio to in-process baseline: p50 x{p50 / baseline[0]:.1f}, "
          f"p99 x{p99 / baseline[1]:.1f}")


async def _edit_latencies(client: object, joined: object, n: int) -> list[float]:
    """``n`` edits (excavate / elevate alternately, 8 per second: the world's rate limit)
    below the spawn point; seconds from EDIT_REQUEST to EDIT_RESULT of each."""
    from process_support import below

    from server.protocol import EditMode

    lat: list[float] = []
    for i in range(n):
        mode = EditMode.EXCAVATE if i % 2 == 0 else EditMode.ELEVATE
        t = time.perf_counter()
        r = await client.edit(mode, below(joined.position, 1.5), 1.0)  # type: ignore[attr-defined]
        lat.append(time.perf_counter() - t)
        assert r.accepted, r
        await asyncio.sleep(max(0.0, 0.13 - (time.perf_counter() - t)))
    return lat


async def bench_edit_acks(data: Path, n: int) -> None:
    """EDIT_REQUEST -> EDIT_RESULT through a map process (each soil move a critical event
    acknowledged by the orchestrator first) vs ``serve --single`` (no wait) as baseline."""
    from process_support import orchestrator
    from server_process import ServerProcess, server_env

    from server.client.client import GameClient, connect_via_orchestrator

    single = ServerProcess(data / "single", server_env(), [])
    try:
        c = await GameClient.connect(single.url)
        j = await c.join(auth_key="bench-editor")
        base = await _edit_latencies(c, j, n)
        await c.close()
    finally:
        single.stop()
    with orchestrator(data / "orch") as orch:
        c, j = await connect_via_orchestrator(orch.url, "bench-editor")
        lat = await _edit_latencies(c, j, n)
        await c.close()
    print(f"edit ack   --single              p50 {pct(base, .5) * 1e3:6.2f} ms  p99 "
          f"{pct(base, .99) * 1e3:6.2f} ms  (n={n})")
    print(f"edit ack   map process + critical p50 {pct(lat, .5) * 1e3:6.2f} ms  p99 "
          f"{pct(lat, .99) * 1e3:6.2f} ms  (ratio p50 x{pct(lat, .5) / pct(base, .5):.1f}, "
          f"p99 x{pct(lat, .99) / pct(base, .99):.1f})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--tokens", type=int, default=20000)
    ap.add_argument("--transfers", type=int, default=300)
    ap.add_argument("--pg-url")
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--processes", type=int, default=0, metavar="N",
                    help="also N transfers through real orchestrator + map processes")
    ap.add_argument("--only-transfers", action="store_true",
                    help="skip the ledger and token benchmarks")
    a = ap.parse_args()
    if a.only_transfers:
        a.no_pg = True
    with tempfile.TemporaryDirectory() as tmp:
        if not a.only_transfers:
            bench_ledger("sqlite", f"sqlite:///{Path(tmp) / 'l.db'}", a.events,
                         a.concurrency)
        if a.pg_url:
            bench_ledger("postgresql", a.pg_url, a.events, a.concurrency)
        elif not a.no_pg:
            from orch_support import (
                PostgresUnavailableError,
                create_database,
                private_postgres,
            )

            try:
                with private_postgres() as server:
                    bench_ledger("postgresql", create_database(server, "bench"), a.events,
                                 a.concurrency)
            except PostgresUnavailableError as e:
                print(f"postgresql skipped: {e}")
        if not a.only_transfers:
            bench_tokens(a.tokens)
        baseline = asyncio.run(bench_transfers(Path(tmp) / "t.db", a.transfers))
        if a.processes:
            asyncio.run(bench_process_transfers(Path(tmp) / "proc", a.processes, baseline))
            asyncio.run(bench_edit_acks(Path(tmp) / "edits", a.processes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
