"""One client's session: its sans-I/O connection, its outgoing queue and its view state.

The session only moves bytes: frames produced by the :class:`~server.protocol.ServerConnection`
go into a bounded queue that a writer task drains into the WebSocket. A client that falls
``send_queue_frames`` frames behind is closed (code 4009 SLOW_CONSUMER) rather than letting
memory grow without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from websockets.asyncio.server import ServerConnection as WebSocket
from websockets.exceptions import ConnectionClosed

from server.logging import log
from server.protocol import ErrorCode, PoseSet, ServerConnection, SessionState

from .aoi import Coord, chunk_of
from .gateway import Admission, TransferOrder
from .ratelimit import TokenBucket

logger = logging.getLogger("server.net.session")

_CLOSE = object()
#: After TRANSFER_TO, how long the server waits for the client to close (seconds).
TRANSFER_CLOSE_GRACE_S = 2.0


def close_reason(reason: str) -> str:
    """``reason`` cut to fit a WebSocket close frame (123 bytes of UTF-8)."""
    return reason.encode("utf-8")[:123].decode("utf-8", errors="ignore")


@dataclass(slots=True)
class ViewState:
    """What a joined player holds and sees.

    Attributes:
        subscribed: chunks the client asked for (and may keep).
        held: subscribed chunks whose state was sent; their deltas are pushed.
        pending: subscribed chunks whose state is still to be sent (nearest first).
        versions: held chunk -> the version last sent to this client (the base an
            incremental delta must start from).
        visible_players: player ids whose poses this client currently receives.
    """

    subscribed: set[Coord] = field(default_factory=set)
    held: set[Coord] = field(default_factory=set)
    pending: set[Coord] = field(default_factory=set)
    versions: dict[Coord, int] = field(default_factory=dict)
    visible_players: set[int] = field(default_factory=set)


class Session:
    """A connected client.

    Args:
        ws: the accepted WebSocket.
        conn: its protocol state machine.
        session_id: server-unique number for logs.
        stream_bucket: byte budget for chunk states and deltas.
        message_bucket: inbound message rate limit.
        queue_frames: outgoing frames allowed to wait before the client is dropped.
    """

    def __init__(self, ws: WebSocket, conn: ServerConnection, session_id: int, *,
                 stream_bucket: TokenBucket, message_bucket: TokenBucket,
                 queue_frames: int, created: float) -> None:
        self.ws = ws
        self.conn = conn
        self.session_id = session_id
        self.stream_bucket = stream_bucket
        self.message_bucket = message_bucket
        self.created = created
        self.player_id: int | None = None
        self.character_id: int | None = None
        #: Map-process sessions: what the orchestrator admitted (None in --single mode).
        self.admission: Admission | None = None
        #: Set once a TRANSFER_TO was sent (the session is leaving for another map).
        self.transfer: TransferOrder | None = None
        self.poses: PoseSet | None = None
        self.pose_dirty = False
        self.chunk: Coord = (0, 0, 0)
        self.view = ViewState()
        self.bytes_in = 0
        self.bytes_out = 0
        self.frames_out = 0
        self.last_transform_error = 0.0
        self._queue: asyncio.Queue[bytes | object] = asyncio.Queue()
        self._queue_limit = queue_frames
        self._closing = False

    @property
    def joined(self) -> bool:
        """True once JOIN_ACCEPTED was sent and until the session closes."""
        return self.conn.state is SessionState.JOINED and self.player_id is not None

    def set_pose(self, poses: PoseSet) -> None:
        """Record the latest accepted poses (relayed at the next tick)."""
        self.poses = poses
        self.pose_dirty = True
        self.chunk = chunk_of(poses.body.position)

    def flush(self) -> None:
        """Move the connection's pending frames into the outgoing queue; schedule the close
        once the connection has a close code."""
        if self._closing:
            self.conn.data_to_send()
            return
        for frame in self.conn.data_to_send():
            if self._queue.qsize() >= self._queue_limit:
                self._drop_slow()
                return
            self._queue.put_nowait(frame)
            self.bytes_out += len(frame)
            self.frames_out += 1
        if self.conn.close_code is not None:
            self._closing = True
            self._queue.put_nowait(_CLOSE)

    def _drop_slow(self) -> None:
        log(logger, "slow_consumer", logging.WARNING, session=self.session_id,
            player=self.player_id, queued=self._queue.qsize())
        while not self._queue.empty():
            self._queue.get_nowait()
        self.conn.close_code = ErrorCode.SLOW_CONSUMER
        self.conn.close_reason = "client does not read its frames fast enough"
        self.conn.state = SessionState.CLOSED
        self._closing = True
        self._queue.put_nowait(_CLOSE)

    async def writer(self) -> None:
        """Drain the queue into the WebSocket until the close marker or a closed socket."""
        try:
            while True:
                item = await self._queue.get()
                if item is _CLOSE:
                    if self.transfer is not None:
                        # After TRANSFER_TO the client says GOODBYE and closes itself;
                        # closing first would race it, and some clients (Godot's
                        # WebSocketPeer) drop frames that arrive with the close.
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self.ws.wait_closed(),
                                                   TRANSFER_CLOSE_GRACE_S)
                    code = self.conn.close_code or ErrorCode.NORMAL
                    await self.ws.close(int(code), close_reason(self.conn.close_reason))
                    return
                assert isinstance(item, bytes)
                await self.ws.send(item)
        except ConnectionClosed:
            return

    async def close_now(self, code: int, reason: str) -> None:
        """Close the socket immediately (used when the writer is gone)."""
        with contextlib.suppress(Exception):
            await self.ws.close(code, close_reason(reason))
