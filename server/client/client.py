"""Asyncio client SDK: connect, handshake, join, stream chunks, edit, move.

Used by tests, bots and tools. The protocol logic is the sans-I/O
:class:`~server.protocol.ClientConnection`; this module only moves bytes and keeps a local
mirror of what the server said: chunk versions and delta payloads (voxels are
``generate_chunk`` + delta, materialized on demand by :meth:`GameClient.voxels`), other
players' poses, errors.

Example (a ``--single`` server, direct JOIN)::

    client = await GameClient.connect("ws://127.0.0.1:7777")
    joined = await client.join(auth_key="secret")
    await client.subscribe_around()
    result = await client.edit(EditMode.EXCAVATE, centre, 1.5)
    await client.close()

Through an orchestrator (protocol v3, docs/protocol.md section 2.4): :func:`bootstrap`
(``POST /orch/bootstrap``) gives a :class:`JoinOffer`, the client connects to its endpoint
and sends JOIN_WITH_TICKET; a transfer to another map is TRANSFER_REQUEST -> TRANSFER_TO ->
reconnect::

    client, joined = await connect_via_orchestrator("http://127.0.0.1:7777", "secret")
    order = await client.request_transfer("planet-1")
    client, joined = await client.follow_transfer(order)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
from websockets.asyncio.client import ClientConnection as WebSocket
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from server.protocol import (
    ChunkData,
    ChunkState,
    ChunkSubscribe,
    ChunkUnsubscribe,
    ClientConnection,
    Coord,
    EditMode,
    EditRequest,
    EditResult,
    Error,
    ErrorCode,
    Join,
    JoinAccepted,
    JoinWithTicket,
    Opcode,
    Ping,
    PlayerLeft,
    PlayerStates,
    PlayerTransform,
    Pong,
    Pose,
    PoseSet,
    ProtocolViolation,
    Quat,
    SessionClosed,
    SessionState,
    TerrainDelta,
    TransferRequest,
    TransferTo,
    Vec3,
    Welcome,
)
from server.protocol.messages import U32
from server.protocol.opcodes import PROTOCOL_VERSION

I8 = npt.NDArray[np.int8]
U8 = npt.NDArray[np.uint8]


class ClientError(RuntimeError):
    """The session ended, a request was refused or timed out, or a bootstrap failed.

    Attributes:
        code: the server's error / close code (e.g. 4010 TICKET_DENIED, 4103
            TRANSFER_REFUSED), the HTTP status of a failed :func:`bootstrap`, or None (a
            timeout, a connection that dropped without a code).
        reason: the server's reason text ("" if none).
        retry_after_ms: a 503/429 bootstrap's ``retryAfterMs`` (milliseconds), else None.
    """

    def __init__(self, message: str, code: int | None = None, reason: str = "", *,
                 retry_after_ms: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.retry_after_ms = retry_after_ms


@dataclass(frozen=True, slots=True)
class JoinOffer:
    """The orchestrator's answer to ``POST /orch/bootstrap``: where to join and with what.

    Attributes:
        ticket: the join ticket for JOIN_WITH_TICKET (opaque printable ASCII, single use).
        map_id: the map the character is on, e.g. ``"planet-0"``.
        endpoint: WebSocket URL of that map process, e.g. ``"ws://127.0.0.1:7781"``.
        expires_at_ms: the ticket expires at this Unix time, milliseconds.
        character_id: the persistent character's id, None for a disposable session.
        disposable: True when no auth key was given (nothing is kept after leaving).
    """

    ticket: str
    map_id: str
    endpoint: str
    expires_at_ms: int
    character_id: int | None
    disposable: bool


def _join_offer(body: Any, auth_key: str | None) -> JoinOffer | None:
    """The :class:`JoinOffer` in a 200 bootstrap answer, None if a field is missing or of
    the wrong JSON type."""
    if not isinstance(body, dict):
        return None
    ticket, map_id, endpoint = body.get("ticket"), body.get("mapId"), body.get("endpoint")
    expires, cid = body.get("expiresAtMs"), body.get("characterId")
    disposable = body.get("disposable", not auth_key)
    if not (isinstance(ticket, str) and isinstance(map_id, str) and isinstance(endpoint, str)
            and isinstance(expires, int) and not isinstance(expires, bool)
            and (cid is None or (isinstance(cid, int) and not isinstance(cid, bool)))
            and isinstance(disposable, bool)):
        return None
    return JoinOffer(ticket=ticket, map_id=map_id, endpoint=endpoint, expires_at_ms=expires,
                     character_id=cid, disposable=disposable)


async def bootstrap(base_url: str, auth_key: str | None = None, *,
                    timeout: float = 10.0) -> JoinOffer:
    """Ask the orchestrator at ``base_url`` (``http(s)://host:port``) where to join:
    ``POST {base_url}/orch/bootstrap`` with ``{"authKey": auth_key}`` (None or "" = a
    disposable session).

    Args:
        timeout: seconds for the whole HTTP exchange.

    Raises:
        ClientError: a non-200 answer (``code`` = the HTTP status, ``reason`` = the JSON
            ``reason``, ``retry_after_ms`` from a 503 ``retryAfterMs``) or a 200 answer
            without the expected fields.
        httpx.TransportError: the orchestrator cannot be reached (refused, timed out).
    """
    url = f"{base_url.rstrip('/')}/orch/bootstrap"
    async with httpx.AsyncClient(timeout=timeout) as http:
        resp = await http.post(url, json={"authKey": auth_key or None})
    try:
        body: Any = resp.json()
    except ValueError:
        body = None
    if resp.status_code != 200:
        reason, retry = "", None
        if isinstance(body, dict):
            r = body.get("reason", body.get("detail", body.get("error", "")))
            reason = r if isinstance(r, str) else str(r)
            ra = body.get("retryAfterMs")
            retry = ra if isinstance(ra, int) and not isinstance(ra, bool) else None
        else:
            reason = resp.text[:512]
        raise ClientError(f"bootstrap at {url} failed: HTTP {resp.status_code}: {reason}",
                          resp.status_code, reason, retry_after_ms=retry)
    offer = _join_offer(body, auth_key)
    if offer is None:
        keys = sorted(body)[:10] if isinstance(body, dict) else type(body).__name__
        raise ClientError(f"bootstrap at {url}: malformed answer (fields {keys})",
                          resp.status_code, "malformed bootstrap answer")
    return offer


@dataclass(slots=True)
class LocalChunk:
    """What the client knows of a chunk: its version, the delta payload (None when the
    generated voxels are current) and the sparse records of the incremental entries
    received since (protocol v2; None when there were none), written over payload."""

    version: int
    payload: bytes | None
    patch: npt.NDArray[np.void] | None = None


DeltaListener = Callable[[Coord, int, float], None]

_generated_cache: OrderedDict[tuple[int, int, Coord], tuple[I8, U8]] = OrderedDict()


def generated_voxels(world_seed: int, planet_index: int, coord: Coord) -> tuple[I8, U8]:
    """``shared_gen.generate_chunk`` voxels (density, material), LRU-cached (256 chunks)."""
    key = (world_seed, planet_index, coord)
    hit = _generated_cache.get(key)
    if hit is not None:
        _generated_cache.move_to_end(key)
        return hit
    from shared_gen.planet import generate_chunk

    ch = generate_chunk(world_seed, planet_index, coord)
    _generated_cache[key] = (ch.density, ch.material)
    if len(_generated_cache) > 256:
        _generated_cache.popitem(last=False)
    return ch.density, ch.material


class GameClient:
    """One connection to a planet server. Create with :meth:`connect`.

    Attributes:
        joined: the JOIN_ACCEPTED message once joined.
        chunks: chunk -> :class:`LocalChunk` for every chunk state/delta received.
        players: other players' latest poses by player id (within the area of interest).
        errors: every ERROR frame received (non-fatal ones included, e.g. 4103
            TRANSFER_REFUSED).
        transfer_order: the TRANSFER_TO received (protocol v3), None before one arrives; the
            server closes the session right after it (:meth:`follow_transfer`).
        join_offer: the :class:`JoinOffer` this client joined with (set by
            :func:`connect_via_orchestrator`), else None.
        name, display_name: the HELLO client name and the name sent in the last join.
        close_code, close_reason: how the session ended (None while open).
        bytes_in, bytes_out, frames_in: traffic counters (WebSocket payload bytes);
            bytes_by_opcode: received bytes per opcode value.
        delta_listeners: called with (coord, version, receive time) for each delta entry.
    """

    def __init__(self, ws: WebSocket, conn: ClientConnection) -> None:
        self.ws = ws
        self.conn = conn
        self.welcome: Welcome | None = None
        self.joined: JoinAccepted | None = None
        self.chunks: dict[Coord, LocalChunk] = {}
        self.players: dict[int, PoseSet] = {}
        self.errors: list[Error] = []
        self.transfer_order: TransferTo | None = None
        self.join_offer: JoinOffer | None = None
        self.name = ""
        self.display_name = ""
        self.close_code: int | None = None
        self.close_reason = ""
        self.bytes_in = 0
        self.bytes_out = 0
        self.frames_in = 0
        #: bytes received per opcode value (first frame byte)
        self.bytes_by_opcode: dict[int, int] = {}
        self.chunk_states = 0
        #: chunks dropped and subscribed again after an incremental entry whose base
        #: version was not the one held (protocol v2)
        self.resubscribes = 0
        #: TERRAIN_DELTA entries received per chunk encoding value (1 whole, 2 incremental)
        self.delta_entries_by_encoding: dict[int, int] = {}
        self.deltas = 0
        self.player_frames = 0
        self.delta_listeners: list[DeltaListener] = []
        self.position: Vec3 = (0.0, 0.0, 0.0)
        self._seq = itertools.count(1)
        self._nonce = itertools.count(1)
        self._edits: dict[int, asyncio.Future[EditResult]] = {}
        self._pings: dict[int, asyncio.Future[Pong]] = {}
        self._cond = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None

    # ---- connection -----------------------------------------------------------------------

    @classmethod
    async def connect(cls, url: str, *, name: str = "python-client", open_timeout: float = 5.0,
                      max_frame_bytes: int = 1 << 24, hello: bool = True,
                      max_version: int = PROTOCOL_VERSION) -> GameClient:
        """Open the WebSocket and (unless ``hello=False``) send HELLO offering protocol
        versions ``MIN_PROTOCOL_VERSION..max_version`` (1 = no incremental deltas).

        Raises:
            OSError, TimeoutError, websockets.exceptions.InvalidHandshake: cannot connect.
        """
        ws = await connect(url, open_timeout=open_timeout, max_size=max_frame_bytes,
                           compression=None, ping_interval=None, close_timeout=2)
        self = cls(ws, ClientConnection(max_frame_bytes=max_frame_bytes,
                                           max_version=max_version))
        self.name = name
        self._reader = asyncio.create_task(self._read_loop(), name=f"client-reader-{name}")
        if hello:
            self.conn.hello(name)
            await self._flush()
        return self

    async def close(self, code: int = 1000, reason: str = "client leaving") -> None:
        """Say GOODBYE and close the socket (idempotent)."""
        with contextlib.suppress(Exception):
            if self.conn.state is not SessionState.CLOSED:
                self.conn.close(code, reason)
                await self._flush()
        with contextlib.suppress(Exception):
            await self.ws.close(code, reason)
        if self._reader is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._reader, 3.0)

    async def send_raw(self, frame: bytes | str) -> None:
        """Send arbitrary bytes (or text) bypassing the protocol: for tests of bad input."""
        self.bytes_out += len(frame)
        await self.ws.send(frame)

    async def _flush(self) -> None:
        for frame in self.conn.data_to_send():
            self.bytes_out += len(frame)
            await self.ws.send(frame)

    @property
    def closed(self) -> bool:
        """True once the session is over."""
        return self.close_code is not None

    # ---- requests -------------------------------------------------------------------------

    async def join(self, auth_key: str | None = None, display_name: str = "",
                   timeout: float = 10.0) -> JoinAccepted:
        """Send JOIN and wait for JOIN_ACCEPTED.

        Raises:
            ClientError: the server refused (ERROR + close) or did not answer in time.
        """
        self.display_name = display_name
        self.conn.send(Join(auth_key or "", display_name))
        await self._flush()
        await self._wait_joined(timeout)
        assert self.joined is not None
        self.position = self.joined.position
        return self.joined

    async def join_with_ticket(self, ticket: str, display_name: str = "",
                               timeout: float = 10.0) -> JoinAccepted:
        """Send JOIN_WITH_TICKET (protocol v3) with a bootstrap ticket or a transfer token
        and wait for JOIN_ACCEPTED (``timeout`` seconds).

        Raises:
            ValueError: ``ticket`` is not 1..2048 printable ASCII characters or
                ``display_name`` is longer than 32 UTF-8 bytes.
            ClientError: the server refused: ``code`` 4010 (TICKET_DENIED, ``reason``
                ``"<REASON>: <detail>; re-bootstrap: POST /orch/bootstrap"``) or another
                fatal code; 4003 when the server negotiated a version below 3; no answer in
                time.
        """
        msg = JoinWithTicket(ticket, display_name)
        if not self.conn.version_allows(Opcode.JOIN_WITH_TICKET):
            raise ClientError(f"the session speaks protocol version {self.conn.version}; "
                              "JOIN_WITH_TICKET needs version 3",
                              int(ErrorCode.UNSUPPORTED_VERSION))
        self.display_name = display_name
        self.conn.send(msg)
        await self._flush()
        await self._wait_joined(timeout)
        assert self.joined is not None
        self.position = self.joined.position
        return self.joined

    async def _wait_joined(self, timeout: float) -> None:
        """Wait for JOIN_ACCEPTED; a refusal raises ClientError with the server's code."""
        try:
            await self.wait_for(lambda: self.joined is not None, timeout)
        except ClientError as e:
            fatal = next((er for er in reversed(self.errors) if er.code < 4100), None)
            if e.code is None or fatal is None or fatal.code != e.code:
                raise
            try:
                name = ErrorCode(fatal.code).name
            except ValueError:
                name = "ERROR"
            raise ClientError(f"join refused ({fatal.code} {name}): {fatal.reason}",
                              fatal.code, fatal.reason) from None

    async def request_transfer(self, to_map_id: str, timeout: float = 10.0) -> TransferTo:
        """Ask to move the character to map ``to_map_id`` (TRANSFER_REQUEST, protocol v3) and
        wait up to ``timeout`` seconds for the TRANSFER_TO order (also kept in
        :attr:`transfer_order`). The server closes this session right after the order;
        :meth:`follow_transfer` joins the target map. One request at a time.

        Raises:
            ValueError: ``to_map_id`` is not 1..64 characters of ``[a-z0-9-]``.
            ClientError: ``code`` 4103 TRANSFER_REFUSED with the server's ``reason`` (e.g.
                ``"QUARANTINED: planet-1 (retry after 52000 ms)"``; the session stays open
                and usable); 4003 when the session's version is below 3; the session closed
                or no answer in time.
        """
        msg = TransferRequest(to_map_id)
        if not self.conn.version_allows(Opcode.TRANSFER_REQUEST):
            raise ClientError(f"the session speaks protocol version {self.conn.version}; "
                              "TRANSFER_REQUEST needs version 3",
                              int(ErrorCode.UNSUPPORTED_VERSION))
        self.transfer_order = None
        seen = len(self.errors)

        def refusal() -> Error | None:
            return next((e for e in self.errors[seen:]
                         if e.code == ErrorCode.TRANSFER_REFUSED), None)

        self.conn.send(msg)
        await self._flush()
        await self.wait_for(lambda: self.transfer_order is not None or refusal() is not None,
                            timeout)
        if self.transfer_order is not None:
            return self.transfer_order
        refused = refusal()
        assert refused is not None
        raise ClientError(f"transfer to {to_map_id} refused: {refused.reason}",
                          refused.code, refused.reason)

    async def follow_transfer(self, order: TransferTo, *, display_name: str | None = None,
                              timeout: float = 10.0,
                              open_timeout: float = 5.0) -> tuple[GameClient, JoinAccepted]:
        """Follow a TRANSFER_TO: close this session (GOODBYE 1000 if the server has not
        closed it yet), connect to ``order.endpoint`` with the same client name, version
        range and frame limit, and JOIN_WITH_TICKET with ``order.token`` (``display_name``
        defaults to the one of the last join). ``timeout`` and ``open_timeout`` are seconds
        for the join and the WebSocket opening. The new client starts empty (chunks must
        be subscribed again, docs/protocol.md 2.3).

        Returns:
            the new client and its JOIN_ACCEPTED.

        Raises:
            ClientError: the target map refused the token (4010 TICKET_DENIED, e.g.
                ``EXPIRED`` after ``order.expires_in_ms``) or did not answer in time; the
                new connection is closed then.
            OSError, TimeoutError, websockets.exceptions.InvalidHandshake: cannot connect.
        """
        await self.close(int(ErrorCode.NORMAL), f"following transfer to {order.to_map_id}")
        name = self.display_name if display_name is None else display_name
        new = await GameClient.connect(order.endpoint, name=self.name or "python-client",
                                       open_timeout=open_timeout,
                                       max_frame_bytes=self.conn.max_frame_bytes,
                                       max_version=self.conn.max_version)
        try:
            joined = await new.join_with_ticket(order.token, name, timeout)
        except BaseException:
            await new.close()
            raise
        return new, joined

    async def subscribe(self, coords: Iterable[Coord]) -> None:
        """Subscribe to chunks (in messages of at most 1024)."""
        cs = list(coords)
        for i in range(0, len(cs), 1024):
            self.conn.send(ChunkSubscribe(tuple(cs[i:i + 1024])))
        await self._flush()

    async def unsubscribe(self, coords: Iterable[Coord]) -> None:
        """Unsubscribe from chunks and forget them locally."""
        cs = list(coords)
        for c in cs:
            self.chunks.pop(c, None)
        for i in range(0, len(cs), 1024):
            self.conn.send(ChunkUnsubscribe(tuple(cs[i:i + 1024])))
        await self._flush()

    async def subscribe_around(self, radius_chunks: int | None = None) -> list[Coord]:
        """Subscribe to every chunk within ``radius_chunks`` (default: the server's view
        radius) of the current position, nearest first; returns them."""
        from server.net.aoi import chunk_of, chunks_in_radius
        from shared_gen.solar_system import get_planet

        assert self.joined is not None, "join first"
        r = self.joined.view_radius_chunks if radius_chunks is None else radius_chunks
        g = get_planet(self.joined.world_seed, self.joined.planet_index).grid_radius_chunks
        coords = [c for c in chunks_in_radius(chunk_of(self.position), r)
                  if all(-g <= v <= g for v in c)]
        await self.subscribe(coords)
        return coords

    def send_edit(self, mode: EditMode, centre: Vec3, radius: float) -> tuple[int,
                                                                            asyncio.Future[EditResult]]:
        """Queue an EDIT_REQUEST (call :meth:`pump` or await :meth:`edit`); returns
        (seq, future of its EDIT_RESULT)."""
        seq = next(self._seq) & U32
        fut: asyncio.Future[EditResult] = asyncio.get_running_loop().create_future()
        self._edits[seq] = fut
        self.conn.send(EditRequest(seq, mode, centre, radius))
        return seq, fut

    async def edit(self, mode: EditMode, centre: Vec3, radius: float,
                   timeout: float = 10.0) -> EditResult:
        """Send an edit and wait for its result.

        Raises:
            ClientError: no answer in time or the session closed.
        """
        _, fut = self.send_edit(mode, centre, radius)
        await self._flush()
        result: EditResult = await self._await(fut, timeout, "edit result")
        return result

    async def send_transform(self, position: Vec3, rotation: Quat = (0.0, 0.0, 0.0, 1.0), *,
                             head: Pose | None = None, left_hand: Pose | None = None,
                             right_hand: Pose | None = None) -> None:
        """Send a PLAYER_TRANSFORM (body pose in metres; VR poses relative to the body)."""
        self.conn.send(PlayerTransform(PoseSet(Pose(position, rotation), head, left_hand,
                                               right_hand)))
        self.position = position
        await self._flush()

    async def ping(self, timeout: float = 5.0) -> float:
        """Round-trip time in seconds."""
        nonce = next(self._nonce) & U32
        fut: asyncio.Future[Pong] = asyncio.get_running_loop().create_future()
        self._pings[nonce] = fut
        t0 = time.perf_counter()
        self.conn.send(Ping(nonce, t0))
        await self._flush()
        await self._await(fut, timeout, "pong")
        return time.perf_counter() - t0

    async def pump(self) -> None:
        """Write every queued frame."""
        await self._flush()

    # ---- waiting --------------------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` holds (checked after every received frame).

        Raises:
            ClientError: timeout, or the session closed before the predicate held.
        """
        async def waiter() -> None:
            async with self._cond:
                await self._cond.wait_for(lambda: predicate() or self.closed)

        try:
            await asyncio.wait_for(waiter(), timeout)
        except TimeoutError:
            raise ClientError(f"timed out after {timeout} s") from None
        if not predicate():
            raise ClientError(f"session closed ({self.close_code}: {self.close_reason})",
                              self.close_code, self.close_reason)

    async def wait_chunk(self, coord: Coord, min_version: int = 0,
                         timeout: float = 10.0) -> LocalChunk:
        """Wait until chunk ``coord`` is known at ``min_version`` or newer."""
        await self.wait_for(lambda: coord in self.chunks
                            and self.chunks[coord].version >= min_version, timeout)
        return self.chunks[coord]

    async def _await(self, fut: asyncio.Future[Any], timeout: float, what: str) -> Any:
        try:
            return await asyncio.wait_for(asyncio.shield(fut), timeout)
        except TimeoutError:
            raise ClientError(f"no {what} within {timeout} s") from None

    # ---- local voxels ---------------------------------------------------------------------

    def voxels(self, coord: Coord) -> tuple[I8, U8]:
        """Local (density, material) of a received chunk: generated + delta.

        Raises:
            KeyError: no state received for ``coord``.
        """
        from server.world.delta import apply_delta_payload

        assert self.joined is not None
        lc = self.chunks[coord]
        d, m = generated_voxels(self.joined.world_seed, self.joined.planet_index, coord)
        if lc.payload is None:
            d, m = d.copy(), m.copy()
        else:
            d, m = apply_delta_payload(d, m, lc.payload)
        if lc.patch is not None:
            idx = lc.patch["index"].astype(np.int64)
            d.reshape(-1)[idx] = lc.patch["density"]
            m.reshape(-1)[idx] = lc.patch["material"]
        return d, m

    # ---- receiving ------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        try:
            async for data in self.ws:
                if isinstance(data, str):
                    self.conn.receive_text(data)
                else:
                    self.bytes_in += len(data)
                    self.frames_in += 1
                    if data:
                        self.bytes_by_opcode[data[0]] = self.bytes_by_opcode.get(data[0],
                                                                                 0) + len(data)
                    self.conn.receive_data(data)
                self._handle(self.conn.events_received(), time.perf_counter())
                await self._flush()
                async with self._cond:
                    self._cond.notify_all()
        except ConnectionClosed as e:
            if self.close_code is None and e.rcvd is not None:
                self.close_code, self.close_reason = e.rcvd.code, e.rcvd.reason
        finally:
            if self.close_code is None:
                rc = self.ws.close_code
                self.close_code = rc if rc is not None else 1006
                self.close_reason = self.ws.close_reason or ""
            futures: list[asyncio.Future[Any]] = [*self._edits.values(), *self._pings.values()]
            for fut in futures:
                if not fut.done():
                    fut.set_exception(ClientError("session closed", self.close_code,
                                                  self.close_reason))
            async with self._cond:
                self._cond.notify_all()

    def _handle(self, events: list[Any], now: float) -> None:
        for ev in events:
            if isinstance(ev, TerrainDelta):
                self.deltas += 1
                for c in ev.chunks:
                    enc = int(c.encoding)
                    self.delta_entries_by_encoding[enc] = (
                        self.delta_entries_by_encoding.get(enc, 0) + 1)
                    self._store(c)
                    for fn in self.delta_listeners:
                        fn(c.coord, c.version, now)
            elif isinstance(ev, ChunkState):
                self.chunk_states += 1
                self._store(ev.chunk)
            elif isinstance(ev, PlayerStates):
                self.player_frames += 1
                for pid, poses in ev.players:
                    self.players[pid] = poses
            elif isinstance(ev, PlayerLeft):
                self.players.pop(ev.player_id, None)
            elif isinstance(ev, EditResult):
                fut = self._edits.pop(ev.seq, None)
                if fut is not None and not fut.done():
                    fut.set_result(ev)
            elif isinstance(ev, Pong):
                pf = self._pings.pop(ev.nonce, None)
                if pf is not None and not pf.done():
                    pf.set_result(ev)
            elif isinstance(ev, JoinAccepted):
                self.joined = ev
            elif isinstance(ev, Welcome):
                self.welcome = ev
            elif isinstance(ev, Error):
                self.errors.append(ev)
            elif isinstance(ev, TransferTo):
                self.transfer_order = ev
            elif isinstance(ev, (SessionClosed, ProtocolViolation)):
                self.close_code = int(ev.code)
                self.close_reason = ev.reason

    def _store(self, c: ChunkData) -> None:
        old = self.chunks.get(c.coord)
        if c.base_version is not None:
            self._apply_incremental(c, old)
        elif old is None or c.version >= old.version:
            self.chunks[c.coord] = LocalChunk(c.version, c.payload)

    def _apply_incremental(self, c: ChunkData, old: LocalChunk | None) -> None:
        """Protocol v2 INCREMENTAL_ZSTD entry: write its voxels over the copy held at exactly
        ``base_version``; otherwise drop the copy and resubscribe (UNSUBSCRIBE + SUBSCRIBE)
        for a full CHUNK_STATE."""
        from server.world.delta import DeltaError, merge_records, sparse_records

        assert c.payload is not None
        if old is not None and old.version == c.base_version:
            try:
                rec = sparse_records(c.payload)
            except DeltaError:
                rec = None
            if rec is not None:
                patch = rec.copy() if old.patch is None else merge_records(old.patch, rec)
                self.chunks[c.coord] = LocalChunk(c.version, old.payload, patch)
                return
        self.resubscribes += 1
        self.chunks.pop(c.coord, None)
        self.conn.send(ChunkUnsubscribe((c.coord,)))
        self.conn.send(ChunkSubscribe((c.coord,)))


async def connect_via_orchestrator(base_url: str, auth_key: str | None = None,
                                   name: str = "python-client", *, display_name: str = "",
                                   timeout: float = 10.0, open_timeout: float = 5.0,
                                   max_frame_bytes: int = 1 << 24
                                   ) -> tuple[GameClient, JoinAccepted]:
    """:func:`bootstrap` at ``base_url``, connect to the offered endpoint (HELLO as
    ``name``) and JOIN_WITH_TICKET: a joined client in one call. ``timeout`` (seconds)
    bounds the bootstrap and the join each, ``open_timeout`` the WebSocket opening. The
    offer is kept in :attr:`GameClient.join_offer`.

    Raises:
        ClientError: bootstrap refused (``code`` = HTTP status, e.g. 503 with
            ``retry_after_ms``) or the ticket denied (``code`` 4010); the connection is
            closed then.
        httpx.TransportError: the orchestrator cannot be reached.
        OSError, TimeoutError, websockets.exceptions.InvalidHandshake: the map endpoint
            cannot be reached.
    """
    offer = await bootstrap(base_url, auth_key, timeout=timeout)
    client = await GameClient.connect(offer.endpoint, name=name, open_timeout=open_timeout,
                                      max_frame_bytes=max_frame_bytes)
    client.join_offer = offer
    try:
        joined = await client.join_with_ticket(offer.ticket, display_name, timeout)
    except BaseException:
        await client.close()
        raise
    return client, joined
