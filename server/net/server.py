"""The asyncio WebSocket game server: sessions, the tick loop, streaming and relay.

Concurrency and resources: :meth:`GameServer.run` owns everything. It opens the listening
socket (``websockets.asyncio.server.serve``, which runs one handler task per connection),
then an :class:`asyncio.TaskGroup` holding the tick loop; the group ends when
:meth:`GameServer.stop` is called (SIGINT/SIGTERM) or the tick loop fails. On the way out
it stops accepting, says GOODBYE (code 1001) to every session, waits briefly for their
handlers, force-closes the rest, and finally flushes and closes the world. A failure while
handling one client's message closes only that session (code 1011) and is logged; the
process and the other sessions carry on.

Per tick (``tick_rate_hz``, default 20 TPS): advance the world; push the chunks changed
since the last tick to every client holding them (one TERRAIN_DELTA per client per tick,
i.e. coalesced); stream pending subscribed chunk states nearest-first within each client's
byte budget; relay changed player poses to clients within ``player_aoi_m``. With
``delta_push = "immediate"`` changed chunks are instead pushed right after the messages
handled in one event-loop pass (lower edit -> peer latency, coalesced per pass).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import Server, serve
from websockets.asyncio.server import ServerConnection as WebSocket
from websockets.exceptions import ConnectionClosed

from server.config import Settings
from server.logging import log
from server.protocol import (
    ChunkSubscribe,
    ChunkUnsubscribe,
    EditRequest,
    EditResult,
    Error,
    ErrorCode,
    Join,
    JoinAccepted,
    JoinWithTicket,
    LeaveReason,
    Ping,
    PlayerLeft,
    PlayerTransform,
    Pong,
    Pose,
    PoseSet,
    ProtocolViolation,
    ServerConnection,
    SessionClosed,
    SessionState,
    TransferRequest,
    TransferTo,
)
from server.protocol.messages import MAX_CHUNKS_PER_MESSAGE, U32
from server.world import CharacterInUseError, RejectReason, World
from server.world import EditMode as WorldEditMode

from .aoi import Coord, chunk_distance2
from .broadcast import Broadcaster
from .gateway import MapGateway, TicketRefused, TransferRefused
from .ratelimit import TokenBucket
from .session import Session
from .stats import ServerStats

logger = logging.getLogger("server.net")

#: Ticks slower than this (seconds) are logged with a breakdown.
SLOW_TICK_S = 0.025


class GameServer:
    """Serves one world over WebSockets.

    Args:
        settings: see :class:`server.config.Settings`.
        world: the authoritative world (owned by the caller, closed by :meth:`run` on exit).
        clock: monotonic clock in seconds (tests may inject one).
        gateway: the orchestrator link of a map process (JOIN_WITH_TICKET, critical
            events, transfers; see :mod:`server.net.gateway`); None = ``--single``.
    """

    def __init__(self, settings: Settings, world: World,
                 clock: Callable[[], float] = time.monotonic,
                 gateway: MapGateway | None = None) -> None:
        self.settings = settings
        self.world = world
        self.gateway = gateway
        self.clock = clock
        self.sessions: dict[int, Session] = {}
        self.players: dict[int, Session] = {}
        self.port: int | None = None
        self._next_session = 0
        self._stop_event = asyncio.Event()
        self._stop_reason = "server shutting down"
        self._running = True
        self._grid = int(world_grid_radius(world))
        self._accept_r = settings.view_radius_chunks + 1
        self._drop_r = settings.view_radius_chunks + max(1, settings.subscribe_margin_chunks)
        self._immediate = settings.delta_push == "immediate"
        self._push_scheduled = False
        self.broadcast = Broadcaster(world, settings.player_aoi_m)
        self.stats = ServerStats(settings.stats_interval_s, clock())

    # ---- lifecycle ------------------------------------------------------------------------

    def stop(self, reason: str = "server shutting down") -> None:
        """Ask :meth:`run` to shut down cleanly (safe to call from a signal handler)."""
        self._stop_reason = reason
        self._stop_event.set()

    async def run(self, ready: Callable[[str, int], Any] | None = None) -> None:
        """Serve until :meth:`stop`; then close every session and flush the world.

        Args:
            ready: called with (host, port) once the socket accepts connections.

        Raises:
            OSError: the address cannot be bound.
        """
        st = self.settings
        async with serve(self._handler, st.host, st.port, max_size=st.max_frame_bytes,
                         compression=None, ping_interval=20, ping_timeout=20,
                         close_timeout=2, max_queue=64) as ws_server:
            self.port = int(ws_server.sockets[0].getsockname()[1])
            log(logger, "listening", host=st.host, port=self.port,
                world_seed=st.world_seed, planet=st.planet_index, tick_rate_hz=st.tick_rate_hz)
            if ready is not None:
                ready(st.host, self.port)
            try:
                async with asyncio.TaskGroup() as tg:
                    tg.create_task(self._tick_loop())
                    await self._stop_event.wait()
                    self._running = False
            finally:
                self._running = False
                await self._shutdown(ws_server)

    async def _shutdown(self, ws_server: Server) -> None:
        log(logger, "stopping", reason=self._stop_reason, sessions=len(self.sessions))
        ws_server.close(close_connections=False)  # stop accepting
        for s in list(self.sessions.values()):
            s.conn.close(ErrorCode.GOING_AWAY, self._stop_reason)
            s.flush()
        deadline = self.clock() + 3.0
        while self.sessions and self.clock() < deadline:
            await asyncio.sleep(0.02)
        ws_server.close(close_connections=True, code=1001, reason=self._stop_reason[:100])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ws_server.wait_closed(), 3.0)
        try:
            self.world.flush()
        finally:
            self.world.close()
        st = self.stats
        log(logger, "stopped", bytes_out=st.bytes_out_total, bytes_in=st.bytes_in_total,
            edits_accepted=st.edits_accepted, **st.tick_summary(list(st.tick_durations)))

    # ---- connections ----------------------------------------------------------------------

    async def _handler(self, ws: WebSocket) -> None:
        st = self.settings
        now = self.clock()
        self._next_session += 1
        sid = self._next_session
        conn = ServerConnection(tick_rate_hz=st.tick_rate_hz, server_name=st.server_name,
                                max_frame_bytes=st.max_frame_bytes)
        s = Session(ws, conn, sid,
                    stream_bucket=TokenBucket(st.stream_bytes_per_s, st.stream_burst_bytes, now),
                    message_bucket=TokenBucket(st.max_messages_per_s, st.message_burst, now),
                    queue_frames=st.send_queue_frames, created=now)
        self.sessions[sid] = s
        log(logger, "connected", session=sid, remote=str(ws.remote_address))
        writer = asyncio.create_task(s.writer(), name=f"writer-{sid}")
        close_code: int | None = None
        try:
            if not self._running:
                conn.close(ErrorCode.GOING_AWAY, self._stop_reason)
                s.flush()
            async for data in ws:
                if conn.state is SessionState.CLOSED:
                    break
                if isinstance(data, str):
                    s.bytes_in += len(data)
                    conn.receive_text(data)
                else:
                    s.bytes_in += len(data)
                    if s.message_bucket.try_take(1, self.clock()):
                        conn.receive_data(data)
                    else:
                        conn.fail(ErrorCode.RATE_LIMITED,
                                  f"more than {st.max_messages_per_s:g} messages per second")
                await self._process_events(s)
                s.flush()
                if self._immediate and self.broadcast.edits_pending and not self._push_scheduled:
                    self._push_scheduled = True
                    asyncio.get_running_loop().call_soon(self._push_now)
                if conn.close_code is not None:
                    break
        except ConnectionClosed as e:
            close_code = e.rcvd.code if e.rcvd else None
        except Exception:  # pragma: no cover - defensive: one session must not kill the server
            logger.exception("session handler failed", extra={"fields": {"session": sid}})
            if conn.state is not SessionState.CLOSED:
                conn.fail(ErrorCode.INTERNAL_ERROR, "internal server error")
                s.flush()
        finally:
            self._leave(s)
            if conn.close_code is None:
                writer.cancel()
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(writer, 5.0)
            self.stats.bytes_in_total += s.bytes_in
            self.stats.bytes_out_total += s.bytes_out
            log(logger, "disconnected", session=sid, player=s.player_id,
                code=conn.close_code if conn.close_code is not None else close_code,
                reason=conn.close_reason, bytes_in=s.bytes_in, bytes_out=s.bytes_out)

    def _leave(self, s: Session) -> None:
        self.sessions.pop(s.session_id, None)
        pid = s.player_id
        if pid is None or self.players.get(pid) is not s:
            return
        del self.players[pid]
        travelling = self.world.player_record(pid) if s.transfer is not None else None
        try:
            self.world.leave(pid)
        except Exception:  # pragma: no cover - defensive
            logger.exception("world.leave failed", extra={"fields": {"player": pid}})
        if self.gateway is not None and s.admission is not None:
            self.gateway.left(s.admission, transferring=s.transfer is not None,
                              record=travelling)
        for other in self.players.values():
            if pid in other.view.visible_players:
                other.view.visible_players.discard(pid)
                if other.joined:
                    other.conn.send(PlayerLeft(pid, LeaveReason.DISCONNECTED))
                    other.flush()

    # ---- message handlers -----------------------------------------------------------------

    def session_of_character(self, character_key: str) -> Session | None:
        """The joined session of a character (map processes), if any."""
        for s in self.players.values():
            if s.admission is not None and s.admission.character_key == character_key:
                return s
        return None

    def remove_session(self, s: Session, code: int, reason: str) -> None:
        """Say GOODBYE ``code`` to a session and take its player out of the world now
        (the orchestrator moved the character elsewhere)."""
        if s.conn.state is not SessionState.CLOSED:
            s.conn.close(code, reason)
            s.flush()
        self._leave(s)

    async def _process_events(self, s: Session) -> None:
        for ev in s.conn.events_received():
            try:
                if isinstance(ev, PlayerTransform):
                    self._on_transform(s, ev)
                elif isinstance(ev, EditRequest):
                    await self._on_edit(s, ev)
                elif isinstance(ev, ChunkSubscribe):
                    self._on_subscribe(s, ev)
                elif isinstance(ev, ChunkUnsubscribe):
                    self._on_unsubscribe(s, ev)
                elif isinstance(ev, Ping):
                    s.conn.send(Pong(ev.nonce, ev.client_time_s, time.time(),
                                     self.world.tick & U32))
                elif isinstance(ev, Join):
                    self._on_join(s, ev)
                elif isinstance(ev, JoinWithTicket):
                    await self._on_join_ticket(s, ev)
                elif isinstance(ev, TransferRequest):
                    await self._on_transfer_request(s, ev)
                elif isinstance(ev, ProtocolViolation):
                    log(logger, "protocol_violation", logging.WARNING, session=s.session_id,
                        player=s.player_id, code=int(ev.code), reason=ev.reason)
                elif isinstance(ev, SessionClosed):
                    log(logger, "goodbye", session=s.session_id, player=s.player_id,
                        code=ev.code, reason=ev.reason)
                # Hello is answered by the protocol core itself (WELCOME).
            except Exception:
                logger.exception("handler failed", extra={"fields": {
                    "session": s.session_id, "event": type(ev).__name__}})
                s.conn.fail(ErrorCode.INTERNAL_ERROR, "internal server error")
                return

    def _on_join(self, s: Session, msg: Join) -> None:
        if self.gateway is not None:
            s.conn.send(Error(ErrorCode.TICKET_DENIED, ticket_denied_reason(
                "TICKET_REQUIRED", "this map process admits JOIN_WITH_TICKET only")))
            return
        if self._refuse_if_full(s):
            return
        try:
            ps = self.world.join(msg.auth_key or None, self.clock())
        except (ValueError, CharacterInUseError) as e:
            s.conn.send(Error(ErrorCode.JOIN_REJECTED, f"join rejected: {e}"))
            return
        self._accept_join(s, ps, msg.display_name)

    def _refuse_if_full(self, s: Session) -> bool:
        """ERROR 4007 and True when ``max_players`` are in."""
        limit = self.settings.max_players
        if len(self.players) < limit:
            return False
        s.conn.send(Error(ErrorCode.SERVER_FULL, f"server full ({limit} players)"))
        return True

    async def _on_join_ticket(self, s: Session, msg: JoinWithTicket) -> None:
        gw = self.gateway
        if gw is None:
            s.conn.send(Error(ErrorCode.TICKET_DENIED, ticket_denied_reason(
                "NO_ORCHESTRATOR", "this server runs without an orchestrator; send JOIN")))
            return
        if self._refuse_if_full(s):
            return
        try:
            adm = await gw.admit(msg.ticket)
        except TicketRefused as e:
            s.conn.send(Error(ErrorCode.TICKET_DENIED, ticket_denied_reason(e.reason, e.detail)))
            return
        if adm.character_id is not None:
            old = self.session_of_character(adm.character_key)
            if old is not None:  # a reconnect before the old session noticed it was gone
                self.remove_session(old, ErrorCode.NORMAL, "replaced by a new session")
        try:
            ps = self.world.join_record(adm.record, adm.character_id,
                                        canister_id_base=adm.canister_id_base)
        except CharacterInUseError as e:
            s.conn.send(Error(ErrorCode.JOIN_REJECTED, f"join rejected: {e}"))
            return
        s.admission = adm
        try:
            await gw.admitted(adm, ps.player_id)
        except TicketRefused as e:
            s.admission = None
            self.world.leave(ps.player_id)
            s.conn.send(Error(ErrorCode.TICKET_DENIED, ticket_denied_reason(e.reason, e.detail)))
            return
        if s.conn.state is SessionState.CLOSED:  # the client gave up meanwhile
            self.players[ps.player_id] = s
            s.player_id = ps.player_id
            self._leave(s)
            return
        self._accept_join(s, ps, msg.display_name)

    async def _on_transfer_request(self, s: Session, msg: TransferRequest) -> None:
        gw = self.gateway
        if gw is None or s.admission is None:
            s.conn.send(Error(ErrorCode.TRANSFER_REFUSED,
                              "NO_ORCHESTRATOR: this server runs without an orchestrator"))
            return
        if s.transfer is not None:
            return  # already leaving
        try:
            order = await gw.request_transfer(s.admission, msg.to_map_id)
        except TransferRefused as e:
            s.conn.send(Error(ErrorCode.TRANSFER_REFUSED, str(e)))
            return
        if s.conn.state is SessionState.CLOSED:
            return
        s.transfer = order
        s.conn.send(TransferTo(to_map_id=order.to_map_id, endpoint=order.endpoint,
                               token=order.token, expires_in_ms=order.expires_in_ms))
        s.conn.close(ErrorCode.NORMAL, f"transferred to {order.to_map_id}")
        log(logger, "transfer_sent", session=s.session_id, player=s.player_id,
            to_map=order.to_map_id, transfer=order.transfer_id)

    def _accept_join(self, s: Session, ps: Any, display_name: str) -> None:
        st = self.settings
        s.player_id = ps.player_id
        s.character_id = ps.character_id
        self.players[ps.player_id] = s
        pos = (float(ps.position[0]), float(ps.position[1]), float(ps.position[2]))
        rot = tuple(float(v) for v in ps.rotation)
        s.set_pose(PoseSet(Pose(pos, rot)))  # type: ignore[arg-type]
        s.conn.send(JoinAccepted(
            player_id=ps.player_id, character_id=ps.character_id or 0,
            world_seed=st.world_seed, planet_index=st.planet_index,
            server_tick=self.world.tick & U32, position=pos, rotation=rot,  # type: ignore[arg-type]
            view_radius_chunks=st.view_radius_chunks,
            canisters=tuple(int(c) for c in ps.canisters)))
        log(logger, "joined", session=s.session_id, player=ps.player_id,
            character=ps.character_id, persistent=ps.character_id is not None,
            name=display_name)

    def _on_subscribe(self, s: Session, msg: ChunkSubscribe) -> None:
        st = self.settings
        refused: list[Coord] = []
        full = 0
        g = self._grid
        for c in msg.coords:
            if c in s.view.subscribed:
                continue
            if not all(-g <= v <= g for v in c) or chunk_distance2(c, s.chunk) > (
                self._accept_r * self._accept_r
            ):
                refused.append(c)
                continue
            if len(s.view.subscribed) >= st.max_subscriptions:
                full += 1
                continue
            s.view.subscribed.add(c)
            s.view.pending.add(c)
        if refused:
            c = refused[0]
            s.conn.send(Error(
                ErrorCode.CHUNK_OUT_OF_RANGE,
                f"{len(refused)} of {len(msg.coords)} chunks refused, e.g. {c}: more than "
                f"{self._accept_r} chunks from the player's chunk {s.chunk} or outside the "
                f"planet grid (|c| <= {g})", context=len(refused)))
        if full:
            s.conn.send(Error(ErrorCode.TOO_MANY_SUBSCRIPTIONS,
                              f"{full} chunks refused: limit of {st.max_subscriptions} "
                              "subscriptions reached", context=full))

    def _on_unsubscribe(self, s: Session, msg: ChunkUnsubscribe) -> None:
        v = s.view
        for c in msg.coords:
            v.subscribed.discard(c)
            v.pending.discard(c)
            v.held.discard(c)
            v.versions.pop(c, None)

    async def _on_edit(self, s: Session, msg: EditRequest) -> None:
        assert s.player_id is not None
        t0 = time.perf_counter()
        r = self.world.apply_edit(s.player_id, WorldEditMode(int(msg.mode)), msg.centre,
                                  msg.radius, msg.seq, self.clock())
        self.stats.record_edit(time.perf_counter() - t0, bool(r.accepted))
        if r.accepted:
            self.broadcast.note_edit(r.chunk_versions, t0)
            adm = s.admission
            if (self.gateway is not None and adm is not None and r.soil_delta != 0
                    and adm.character_id is not None):
                rec = self.world.character_record(s.player_id)
                assert rec is not None
                try:  # the soil move is durable before the client hears of it
                    await self.gateway.soil_changed(adm, rec)
                except Exception as e:
                    log(logger, "critical_event_failed", logging.ERROR, session=s.session_id,
                        player=s.player_id, error=repr(e))
                    s.conn.fail(ErrorCode.INTERNAL_ERROR,
                                "persistence unavailable; reconnect in a moment")
                    return
        versions = tuple(sorted(r.chunk_versions.items()))[:MAX_CHUNKS_PER_MESSAGE]
        s.conn.send(EditResult(seq=msg.seq, accepted=bool(r.accepted), reason=int(r.reason),
                               soil_delta=int(r.soil_delta), soil_total=int(r.soil_total),
                               chunk_versions=versions))

    def _on_transform(self, s: Session, msg: PlayerTransform) -> None:
        assert s.player_id is not None
        body = msg.poses.body
        reason = self.world.set_transform(s.player_id, body.position, body.rotation)
        if reason == RejectReason.NONE:
            old = s.chunk
            s.set_pose(msg.poses)
            if s.chunk != old:
                self._prune_subscriptions(s)
            return
        now = self.clock()
        if now - s.last_transform_error >= 1.0:
            s.last_transform_error = now
            s.conn.send(Error(ErrorCode.TRANSFORM_REJECTED,
                              f"transform rejected: {RejectReason(reason).name}",
                              context=int(reason)))

    def _prune_subscriptions(self, s: Session) -> None:
        r2 = self._drop_r * self._drop_r
        far = [c for c in s.view.subscribed if chunk_distance2(c, s.chunk) > r2]
        for c in far:
            s.view.subscribed.discard(c)
            s.view.pending.discard(c)
            s.view.held.discard(c)
            s.view.versions.pop(c, None)

    # ---- tick -----------------------------------------------------------------------------

    async def _tick_loop(self) -> None:
        period = 1.0 / self.settings.tick_rate_hz
        next_t = time.perf_counter()
        while self._running:
            t0 = time.perf_counter()
            try:
                self._tick()
            except Exception:
                logger.exception("tick failed")
            dt = time.perf_counter() - t0
            next_t += period
            delay = next_t - time.perf_counter()
            self.stats.record_tick(dt, delay < 0)
            if delay < 0:  # late: do not try to catch up, start the next tick now
                next_t = time.perf_counter()
                delay = 0.0
            self._log_stats()
            await asyncio.sleep(delay)

    def _log_stats(self) -> None:
        live = self.sessions.values()
        self.stats.maybe_log(
            self.clock(), sessions=len(self.sessions), players=len(self.players),
            bytes_out=self.stats.bytes_out_total + sum(s.bytes_out for s in live),
            bytes_in=self.stats.bytes_in_total + sum(s.bytes_in for s in live),
            push_latencies=self.broadcast.push_latencies)

    def _tick(self) -> None:
        now = self.clock()
        t0 = time.perf_counter()
        self.world.advance_tick()  # also runs the world's debounced write-behind flush
        t1 = time.perf_counter()
        tick = self.world.tick & U32
        joined = [s for s in self.sessions.values() if s.joined]
        changed = self.world.drain_changes()
        if changed:
            self.broadcast.push_deltas(joined, changed, tick)
        t2 = time.perf_counter()
        for s in joined:
            if s.view.pending:
                self.broadcast.stream(s, now)
        t3 = time.perf_counter()
        self.broadcast.relay_players(joined, tick)
        t4 = time.perf_counter()
        if t4 - t0 > SLOW_TICK_S:
            log(logger, "slow_tick", logging.WARNING, tick=tick,
                world_ms=round((t1 - t0) * 1000, 2), deltas_ms=round((t2 - t1) * 1000, 2),
                stream_ms=round((t3 - t2) * 1000, 2), relay_ms=round((t4 - t3) * 1000, 2),
                changed_chunks=len(changed), players=len(joined))
        timeout = self.settings.handshake_timeout_s
        for s in list(self.sessions.values()):
            if (not s.joined and s.conn.state is not SessionState.CLOSED
                    and now - s.created > timeout):
                s.conn.fail(ErrorCode.HANDSHAKE_TIMEOUT,
                            f"no JOIN within {timeout:g} s of connecting")
            s.flush()

    def _push_now(self) -> None:
        """``delta_push = "immediate"``: push the chunks changed by the edits handled in this
        event-loop pass (coalesced per pass instead of per tick)."""
        self._push_scheduled = False
        if not self._running:
            return
        changed = self.world.drain_changes()
        if not changed:
            return
        joined = [s for s in self.sessions.values() if s.joined]
        self.broadcast.push_deltas(joined, changed, self.world.tick & U32)
        for s in joined:
            s.flush()


def ticket_denied_reason(reason: str, detail: str) -> str:
    """ERROR 4010's reason text: ``"<REASON>: <detail>; re-bootstrap: POST
    /orch/bootstrap"`` (docs/protocol.md)."""
    return f"{reason}: {detail}; re-bootstrap: POST /orch/bootstrap"


def world_grid_radius(world: World) -> int:
    """Largest |chunk coordinate| of the world's planet."""
    from shared_gen.solar_system import get_planet

    cfg = world.config
    return int(get_planet(cfg.world_seed, cfg.planet_index).grid_radius_chunks)
