"""``planet-bot``: headless bots that join, walk, stream chunks, dig and build.

``planet-bot --url URL --count N --duration S`` runs N bots in this process
for S seconds and prints a summary: edits sent / accepted / rejected by reason, bytes in and
out (total and per client per second, also for the steady state after ``--warmup``),
edit round-trip latency and edit -> other clients latency (the time from a bot sending an
edit to another bot receiving the TERRAIN_DELTA with that chunk version), ping RTT.

``--url`` picks how bots join: a ``ws://`` / ``wss://`` URL is a game server taking JOIN
directly (``planet-server serve --single``); an ``http://`` / ``https://`` URL is an
orchestrator: each bot bootstraps (``POST /orch/bootstrap`` with its auth key, see
``--persistent``), connects to the map endpoint it is given and joins with
JOIN_WITH_TICKET (protocol v3, docs/protocol.md section 2.4).

Each bot scatters to a random point within ``--spread`` metres of the spawn (as if it had
walked there), subscribes to the chunks in its view radius, then walks on the terrain
surface sending transforms at ``--transform-hz`` and every ``--edit-interval`` seconds
alternately digs under its feet and builds next to itself. Bounded: every bot stops at the
deadline, and the process exits with status 0 (1 if no bot could join).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np

from server.client.client import ClientError, GameClient, JoinOffer, bootstrap
from server.net.aoi import chunk_of, chunks_in_radius
from server.protocol import EditMode, Opcode, Vec3


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


class Surface:
    """Terrain surface of a planet from ``shared_gen`` (the height field, no caves)."""

    def __init__(self, world_seed: int, planet_index: int) -> None:
        from shared_gen.planet import field_params

        self.params = field_params(world_seed, planet_index)
        self.grid = self.params.grid_radius

    def ground(self, direction: Vec3) -> Vec3:
        """Point on the terrain surface in ``direction`` (metres)."""
        from shared_gen.planet import terrain_height

        n = math.sqrt(sum(v * v for v in direction))
        u = [v / n for v in direction]
        r0 = self.params.radius
        h = float(terrain_height(self.params, *(np.array([r0 * v]) for v in u))[0])
        r = r0 + h
        return (u[0] * r, u[1] * r, u[2] * r)


def _offset(p: Vec3, heading: tuple[float, ...], metres: float) -> Vec3:
    """Direction of ``p`` moved ``metres`` along tangent ``heading`` (re-orthogonalised)."""
    n = math.sqrt(sum(v * v for v in p))
    u = [v / n for v in p]
    d = sum(h * x for h, x in zip(heading, u, strict=True))
    t = [h - d * x for h, x in zip(heading, u, strict=True)]
    tn = math.sqrt(sum(v * v for v in t)) or 1.0
    return (p[0] + t[0] / tn * metres, p[1] + t[1] / tn * metres, p[2] + t[2] / tn * metres)


@dataclass
class Shared:
    """Measurements shared by the bots of one process (wall-clock seconds)."""

    edit_sent: dict[tuple[tuple[int, int, int], int], tuple[float, int]] = field(
        default_factory=dict)
    receipts: list[tuple[tuple[int, int, int], int, float, int]] = field(default_factory=list)


@dataclass
class BotStats:
    """Per-bot counters."""

    joined: bool = False
    edits_sent: int = 0
    edits_accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    edit_rtt: list[float] = field(default_factory=list)
    ping_rtt: list[float] = field(default_factory=list)
    bytes_in: int = 0
    bytes_out: int = 0
    steady_in: int = 0
    steady_out: int = 0
    steady_s: float = 0.0
    chunk_states: int = 0
    deltas: int = 0
    player_frames: int = 0
    errors: Counter[int] = field(default_factory=Counter)
    bytes_by_opcode: dict[int, int] = field(default_factory=dict)
    close_code: int | None = None
    failure: str = ""


class Bot:
    """One headless player; see the module docstring for its behaviour."""

    def __init__(self, index: int, args: argparse.Namespace, shared: Shared) -> None:
        self.index = index
        self.args = args
        self.shared = shared
        self.rng = random.Random(args.seed * 1_000_003 + index)
        self.stats = BotStats()

    async def run(self, deadline: float, warmup_at: float) -> BotStats:
        """Play until ``deadline`` (``time.monotonic`` seconds); never raises."""
        st = self.stats
        client: GameClient | None = None
        try:
            await asyncio.sleep(self.rng.uniform(0, self.args.ramp))
            key = f"bot-{self.args.seed}-{self.index}" if self.args.persistent else None
            if uses_orchestrator(self.args.url):
                offer = await self._bootstrap(key, deadline)
                client = await self._connect(deadline, offer.endpoint)
                await client.join_with_ticket(offer.ticket, f"bot-{self.index}")
            else:
                client = await self._connect(deadline, self.args.url)
                await client.join(key, f"bot-{self.index}")
            st.joined = True
            client.delta_listeners.append(self._on_delta)
            await self._play(client, deadline, warmup_at)
        except (ClientError, OSError, TimeoutError) as e:
            st.failure = f"{type(e).__name__}: {e}"
        except Exception as e:  # a bot must not take the others down
            st.failure = f"{type(e).__name__}: {e}"
        finally:
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.close()
                st.close_code = client.close_code
                st.bytes_in, st.bytes_out = client.bytes_in, client.bytes_out
                st.chunk_states, st.deltas = client.chunk_states, client.deltas
                st.player_frames = client.player_frames
                st.bytes_by_opcode = dict(client.bytes_by_opcode)
                st.errors.update(e.code for e in client.errors)
        return st

    async def _connect(self, deadline: float, url: str) -> GameClient:
        """Connect to the WebSocket ``url``, retrying refused connections (a server still
        starting) until 10 s have passed or the deadline."""
        start = time.monotonic()
        give_up = min(deadline, start + 10.0)
        delay = 0.1
        while True:
            try:
                return await GameClient.connect(url, name=f"bot-{self.index}")
            except OSError:
                if time.monotonic() + delay > give_up:
                    raise
                await asyncio.sleep(delay)
                delay = min(1.0, delay * 2)

    async def _bootstrap(self, key: str | None, deadline: float) -> JoinOffer:
        """Ask the orchestrator at ``--url`` for a join ticket, retrying while it cannot be
        reached (still starting) or answers 503 (map unavailable) or 429 (too many
        bootstraps from this address), after its ``retryAfterMs``, until 10 s have passed
        (60 s for 429: many bots share one address) or the deadline.

        Raises:
            ClientError: another refusal, or a 503/429 whose retry would pass the give-up
                time.
            httpx.TransportError: still unreachable at the give-up time.
        """
        start = time.monotonic()
        give_up = min(deadline, start + 10.0)
        delay = 0.1
        while True:
            try:
                return await bootstrap(self.args.url, key, timeout=5.0)
            except httpx.TransportError:
                wait = delay
                if time.monotonic() + wait > give_up:
                    raise
            except ClientError as e:
                if e.code not in (503, 429):
                    raise
                if e.code == 429:
                    give_up = min(deadline, start + 60.0)
                wait = max(delay, (e.retry_after_ms or 0) / 1000.0)
                if time.monotonic() + wait > give_up:
                    raise
            await asyncio.sleep(wait)
            delay = min(1.0, delay * 2)

    def _on_delta(self, coord: tuple[int, int, int], version: int, _: float) -> None:
        self.shared.receipts.append((coord, version, time.time(), self.index))

    async def _play(self, c: GameClient, deadline: float, warmup_at: float) -> None:
        assert c.joined is not None
        a = self.args
        surface = Surface(c.joined.world_seed, c.joined.planet_index)
        heading = tuple(self.rng.uniform(-1, 1) for _ in range(3))
        pos = c.joined.position
        if a.spread > 0:
            pos = surface.ground(_offset(pos, heading, self.rng.uniform(0, a.spread)))
        await c.send_transform(pos)
        held: set[tuple[int, int, int]] = set()
        held = await self._resubscribe(c, surface, held)
        period = 1.0 / a.transform_hz
        next_edit = time.monotonic() + self.rng.uniform(0.5, a.edit_interval)
        next_ping = time.monotonic() + 1.0
        dig = True
        steady_mark: tuple[float, int, int] | None = None
        step = 0
        while time.monotonic() < deadline and not c.closed:
            now = time.monotonic()
            step += 1
            if steady_mark is None and now >= warmup_at:
                steady_mark = (now, c.bytes_in, c.bytes_out)
            if self.rng.random() < 0.02:
                heading = tuple(self.rng.uniform(-1, 1) for _ in range(3))
            old_chunk = chunk_of(pos)
            new = _offset(pos, heading, a.speed * period)
            if step % 5 == 0:  # the height field is costly: follow it every 5th step
                new = surface.ground(new)
            else:  # keep the radius meanwhile
                k = math.sqrt(sum(v * v for v in pos)) / math.sqrt(sum(v * v for v in new))
                new = (new[0] * k, new[1] * k, new[2] * k)
            pos = new
            await c.send_transform(self._lift(pos, 0.5))
            if chunk_of(pos) != old_chunk:
                held = await self._resubscribe(c, surface, held)
            if now >= next_edit:
                next_edit = now + a.edit_interval * self.rng.uniform(0.7, 1.3)
                await self._edit(c, pos, heading, dig)
                dig = not dig
            if now >= next_ping:
                next_ping = now + 2.0
                with contextlib.suppress(ClientError):
                    self.stats.ping_rtt.append(await c.ping(5.0))
            await asyncio.sleep(period)
        if steady_mark is not None:
            t, bi, bo = steady_mark
            self.stats.steady_s = time.monotonic() - t
            self.stats.steady_in = c.bytes_in - bi
            self.stats.steady_out = c.bytes_out - bo

    @staticmethod
    def _lift(p: Vec3, metres: float) -> Vec3:
        n = math.sqrt(sum(v * v for v in p))
        return (p[0] * (1 + metres / n), p[1] * (1 + metres / n), p[2] * (1 + metres / n))

    async def _resubscribe(self, c: GameClient, surface: Surface,
                           held: set[tuple[int, int, int]]) -> set[tuple[int, int, int]]:
        assert c.joined is not None
        g = surface.grid
        r = min(self.args.view_radius or c.joined.view_radius_chunks,
                c.joined.view_radius_chunks)
        want = [k for k in chunks_in_radius(chunk_of(c.position), r)
                if all(-g <= v <= g for v in k)]
        wanted = set(want)
        gone = held - wanted
        if gone:
            await c.unsubscribe(gone)
        new = [k for k in want if k not in held]
        if new:
            await c.subscribe(new)
        return wanted

    async def _edit(self, c: GameClient, pos: Vec3, heading: tuple[float, ...],
                    dig: bool) -> None:
        st = self.stats
        if dig:
            centre, mode = self._lift(pos, -1.0), EditMode.EXCAVATE
        else:
            centre, mode = self._lift(_offset(pos, heading, 2.0), 0.25), EditMode.ELEVATE
        t0 = time.time()
        st.edits_sent += 1
        try:
            res = await c.edit(mode, centre, self.args.radius, timeout=10.0)
        except ClientError:
            st.rejected["NO_ANSWER"] += 1
            return
        st.edit_rtt.append(time.time() - t0)
        if res.accepted:
            st.edits_accepted += 1
            for coord, version in res.chunk_versions:
                self.shared.edit_sent[(coord, version)] = (t0, self.index)
        else:
            from server.world import RejectReason

            try:
                st.rejected[RejectReason(res.reason).name] += 1
            except ValueError:
                st.rejected[str(res.reason)] += 1


def uses_orchestrator(url: str) -> bool:
    """True for an ``http://`` / ``https://`` URL (an orchestrator: bootstrap, then
    JOIN_WITH_TICKET), False for ``ws://`` / ``wss://`` (a game server taking JOIN).

    Raises:
        ValueError: any other scheme.
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in ("http", "https"):
        return True
    if scheme in ("ws", "wss"):
        return False
    raise ValueError(f"--url must start with ws://, wss://, http:// or https://, got {url!r}")


def peer_latencies(shared: Shared) -> list[float]:
    """Seconds from an edit being sent to each *other* bot receiving its delta."""
    out = []
    for coord, version, t_recv, who in shared.receipts:
        sent = shared.edit_sent.get((coord, version))
        if sent is not None and sent[1] != who:
            out.append(t_recv - sent[0])
    return out


def summarize(stats: list[BotStats], shared: Shared, duration: float) -> dict[str, Any]:
    """The summary dict printed by :func:`main` (latencies in milliseconds)."""
    joined = [s for s in stats if s.joined]
    n = max(1, len(joined))
    rejected: Counter[str] = Counter()
    errors: Counter[int] = Counter()
    for s in stats:
        rejected.update(s.rejected)
        errors.update(s.errors)
    rtt = [x for s in stats for x in s.edit_rtt]
    pings = [x for s in stats for x in s.ping_rtt]
    peer = peer_latencies(shared)
    steady = [s for s in joined if s.steady_s > 0]
    bytes_in = sum(s.bytes_in for s in stats)
    by_op: Counter[int] = Counter()
    for s in stats:
        by_op.update(s.bytes_by_opcode)
    valid_ops = {int(o) for o in Opcode}
    bytes_out = sum(s.bytes_out for s in stats)

    def ms(v: float) -> float | None:
        return None if math.isnan(v) else round(v * 1000, 2)

    return {
        "bots": len(stats),
        "joined": len(joined),
        "failures": [s.failure for s in stats if s.failure][:5],
        "duration_s": round(duration, 2),
        "edits_sent": sum(s.edits_sent for s in stats),
        "edits_accepted": sum(s.edits_accepted for s in stats),
        "edits_rejected": dict(rejected),
        "edit_rtt_ms_p50": ms(_pct(rtt, 0.5)),
        "edit_rtt_ms_p99": ms(_pct(rtt, 0.99)),
        "edit_to_peer_samples": len(peer),
        "edit_to_peer_ms_p50": ms(_pct(peer, 0.5)),
        "edit_to_peer_ms_p99": ms(_pct(peer, 0.99)),
        "ping_ms_p50": ms(_pct(pings, 0.5)),
        "ping_ms_p99": ms(_pct(pings, 0.99)),
        "bytes_in": bytes_in,
        "bytes_out": bytes_out,
        "bytes_in_per_client_per_s": round(bytes_in / n / max(duration, 1e-9)),
        "bytes_out_per_client_per_s": round(bytes_out / n / max(duration, 1e-9)),
        "steady_bytes_in_per_client_per_s": round(
            sum(s.steady_in / s.steady_s for s in steady) / max(1, len(steady))),
        "steady_bytes_out_per_client_per_s": round(
            sum(s.steady_out / s.steady_s for s in steady) / max(1, len(steady))),
        "chunk_states": sum(s.chunk_states for s in stats),
        "delta_frames": sum(s.deltas for s in stats),
        "player_state_frames": sum(s.player_frames for s in stats),
        "bytes_in_share_by_message": {
            Opcode(op).name: round(v / max(1, bytes_in), 3)
            for op, v in sorted(by_op.items(), key=lambda kv: -kv[1]) if op in valid_ops},
        "errors_by_code": {str(k): v for k, v in errors.items()},
        "close_codes": dict(Counter(str(s.close_code) for s in stats)),
    }


async def play(args: argparse.Namespace) -> tuple[list[BotStats], Shared, float]:
    """Run ``args.count`` bots in this process for ``args.duration`` seconds; returns
    (per-bot stats, shared measurements, elapsed seconds)."""
    shared = Shared()
    bots = [Bot(i + args.index_offset, args, shared) for i in range(args.count)]
    t0 = time.monotonic()
    deadline = t0 + args.duration
    warmup_at = t0 + min(args.warmup, args.duration / 2)
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(b.run(deadline, warmup_at)) for b in bots]
    return [t.result() for t in tasks], shared, time.monotonic() - t0


async def run_bots(args: argparse.Namespace) -> dict[str, Any]:
    """Run the bots (in ``args.procs`` processes) and return the summary."""
    if args.procs <= 1:
        stats, shared, elapsed = await play(args)
        return summarize(stats, shared, elapsed)
    return await run_in_processes(args)


def raw_dump(stats: list[BotStats], shared: Shared, elapsed: float) -> dict[str, Any]:
    """Everything :func:`summarize` needs, as JSON (for ``--procs`` children)."""
    return {
        "elapsed": elapsed,
        "stats": [{**dataclasses.asdict(s), "rejected": dict(s.rejected),
                   "errors": dict(s.errors)} for s in stats],
        "edit_sent": [[list(c), v, t, who] for (c, v), (t, who) in shared.edit_sent.items()],
        "receipts": [[list(c), v, t, who] for c, v, t, who in shared.receipts],
    }


async def run_in_processes(args: argparse.Namespace) -> dict[str, Any]:
    """Split the bots over ``args.procs`` child processes and merge their raw results
    (latencies join on wall-clock times, valid on one machine)."""
    per = [args.count // args.procs + (1 if i < args.count % args.procs else 0)
           for i in range(args.procs)]
    base = ["--url", args.url, "--duration", str(args.duration), "--seed", str(args.seed),
            "--spread", str(args.spread), "--speed", str(args.speed), "--transform-hz",
            str(args.transform_hz), "--edit-interval", str(args.edit_interval), "--radius",
            str(args.radius), "--view-radius", str(args.view_radius), "--ramp", str(args.ramp),
            "--warmup", str(args.warmup), *(["--persistent"] if args.persistent else [])]
    children = []
    offset = 0
    for n in per:
        if n == 0:
            continue
        cmd = [sys.executable, "-m", "server.client.bot", *base, "--procs", "1", "--count",
               str(n), "--index-offset", str(offset), "--raw"]
        offset += n
        children.append(await asyncio.create_subprocess_exec(
            *cmd, stdout=asyncio.subprocess.PIPE))
    outs = await asyncio.gather(*(c.communicate() for c in children))
    stats: list[BotStats] = []
    shared = Shared()
    elapsed = 0.0
    for out, _ in outs:
        raw = json.loads(out.decode().strip().splitlines()[-1])
        elapsed = max(elapsed, raw["elapsed"])
        for d in raw["stats"]:
            d["rejected"] = Counter(d["rejected"])
            d["errors"] = Counter({int(k): v for k, v in d["errors"].items()})
            d["bytes_by_opcode"] = {int(k): v for k, v in d["bytes_by_opcode"].items()}
            stats.append(BotStats(**d))
        for c, v, t, who in raw["edit_sent"]:
            shared.edit_sent[(tuple(c), v)] = (t, who)
        for c, v, t, who in raw["receipts"]:
            shared.receipts.append((tuple(c), v, t, who))
    return summarize(stats, shared, elapsed)


def build_parser() -> argparse.ArgumentParser:
    """Command-line flags of ``planet-bot``."""
    p = argparse.ArgumentParser(prog="planet-bot", description=__doc__.split("\n")[0])
    p.add_argument("--url", default="ws://127.0.0.1:7777",
                   help="ws(s)://host:port of a game server (JOIN) or http(s)://host:port "
                        "of an orchestrator (bootstrap + JOIN_WITH_TICKET)")
    p.add_argument("--count", type=int, default=4, help="bots (1..1000)")
    p.add_argument("--duration", type=float, default=30.0, help="seconds (<= 3600)")
    p.add_argument("--seed", type=int, default=1, help="random seed of the bots")
    p.add_argument("--spread", type=float, default=300.0,
                   help="bots scatter up to this many metres from the spawn")
    p.add_argument("--speed", type=float, default=1.5, help="walking speed, m/s")
    p.add_argument("--transform-hz", type=float, default=10.0)
    p.add_argument("--edit-interval", type=float, default=2.0, help="seconds between edits")
    p.add_argument("--radius", type=float, default=1.0, help="tool radius, metres")
    p.add_argument("--view-radius", type=int, default=0,
                   help="subscription radius in chunks (0 = the server's view radius)")
    p.add_argument("--ramp", type=float, default=2.0, help="joins spread over this many s")
    p.add_argument("--warmup", type=float, default=8.0,
                   help="steady-state byte rates are measured after this many seconds")
    p.add_argument("--persistent", action="store_true",
                   help="join (or bootstrap) with per-bot auth keys")
    p.add_argument("--procs", type=int, default=1,
                   help="split the bots over this many processes (results are merged)")
    p.add_argument("--index-offset", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--raw", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    return p


def main(argv: list[str] | None = None) -> int:
    """Console entry point; prints the summary, returns 0 if any bot joined."""
    args = build_parser().parse_args(argv)
    if not 1 <= args.count <= 1000 or not 0 < args.duration <= 3600:
        print("planet-bot: --count must be 1..1000 and --duration 0..3600 s", file=sys.stderr)
        return 2
    try:
        uses_orchestrator(args.url)
    except ValueError as e:
        print(f"planet-bot: {e}", file=sys.stderr)
        return 2
    if args.raw:
        stats, shared, elapsed = asyncio.run(play(args))
        print(json.dumps(raw_dump(stats, shared, elapsed)))
        return 0
    summary = asyncio.run(run_bots(args))
    if args.json:
        print(json.dumps(summary))
    else:
        for k, v in summary.items():
            print(f"{k:36s} {v}")
    return 0 if summary["joined"] else 1


if __name__ == "__main__":
    sys.exit(main())
