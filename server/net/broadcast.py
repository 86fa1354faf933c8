"""What the server sends each tick: terrain deltas, chunk states, player poses.

:class:`Broadcaster` turns world changes into frames on the sessions' connections. Encoded
chunk entries are cached per (chunk, version) and shared by every session, and so are the
encoded pose entries of one tick, so the cost per client is a concatenation.

Protocol version 2 (docs/protocol.md 2.3): a session that holds exactly the version a
chunk had before this push's changes gets an INCREMENTAL_ZSTD entry (only the voxels
written since, from the world's :class:`~server.world.ChunkChange`) when it is smaller than
the whole delta; every other session gets the whole delta (encoding 1), as in version 1.
The version each session holds per chunk is tracked in its view (``ViewState.versions``).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Final

import numpy as np
import zstandard

from server.protocol import ChunkData, LeaveReason, PlayerLeft
from server.protocol.codec import (
    encode_chunk_entry,
    encode_player_entry,
    frame_chunk_state,
    frame_player_states,
    frame_terrain_delta,
)
from server.protocol.messages import MAX_CHUNKS_PER_MESSAGE, MAX_PLAYERS_PER_MESSAGE
from server.world import ChunkChange, World
from server.world.delta import SPARSE_MAX, ZSTD_LEVEL, encode_sparse

from .aoi import Coord, nearest_first, neighbours_within
from .session import Session

#: Encoded chunk entries kept (LRU), one per chunk at its latest version.
ENTRY_CACHE_SIZE: Final = 4096
#: Largest decompressed delta accepted when a payload lacks its content size, bytes.
MAX_DELTA_RAW: Final = 1 << 22
#: First protocol version with INCREMENTAL_ZSTD chunk entries.
INCREMENTAL_VERSION: Final = 2


class Broadcaster:
    """Builds and queues the per-tick frames of every joined session.

    Args:
        world: the authoritative world (read only here).
        player_aoi_m: players within this distance (metres) are relayed to each other.

    Attributes:
        push_latencies: seconds from an edit being applied to its delta being queued for a
            peer, one sample per (edit chunk, receiving session); drained by the stats.
    """

    def __init__(self, world: World, player_aoi_m: float) -> None:
        self.world = world
        self.player_aoi_m = player_aoi_m
        self.push_latencies: list[float] = []
        self._entries: OrderedDict[Coord, tuple[int, bytes]] = OrderedDict()
        self._edit_times: dict[Coord, float] = {}
        self._zstd = zstandard.ZstdCompressor(level=ZSTD_LEVEL)

    @property
    def edits_pending(self) -> bool:
        """True when an accepted edit has not been pushed yet."""
        return bool(self._edit_times)

    def note_edit(self, chunks: Iterable[Coord], applied_at: float) -> None:
        """Remember when (``time.perf_counter`` seconds) chunks were first changed since
        their last push, for the edit -> push latency statistic."""
        for c in chunks:
            self._edit_times.setdefault(c, applied_at)

    def entry(self, c: Coord) -> bytes:
        """Encoded chunk entry of ``c`` at its current version (cached per version)."""
        return self.versioned_entry(c)[1]

    def versioned_entry(self, c: Coord) -> tuple[int, bytes]:
        """(current version, its encoded whole-delta chunk entry), cached per version."""
        v = self.world.chunk_version(c)
        if v == 0:
            return 0, encode_chunk_entry(ChunkData(c, 0))
        hit = self._entries.get(c)
        if hit is not None and hit[0] == v:
            self._entries.move_to_end(c)
            return hit
        version, payload = self.world.chunk_delta_payload(c)
        if payload is None:
            data = ChunkData(c, version)
        else:
            size = zstandard.frame_content_size(payload)
            if size < 0:  # the frame does not state its size: measure it once
                size = len(zstandard.ZstdDecompressor().decompress(
                    payload, max_output_size=MAX_DELTA_RAW))
            data = ChunkData(c, version, payload, size)
        entry = encode_chunk_entry(data)
        self._entries[c] = (version, entry)
        if len(self._entries) > ENTRY_CACHE_SIZE:
            self._entries.popitem(last=False)
        return version, entry

    def incremental_entry(self, c: Coord, change: ChunkChange) -> bytes | None:
        """INCREMENTAL_ZSTD entry of ``change`` (the current voxels at its indices), or
        None when there is none to send (nothing listed, too many voxels, stale change)."""
        n = len(change.index)
        if n == 0 or n > SPARSE_MAX or change.base_version >= change.version:
            return None
        if self.world.chunk_version(c) != change.version:
            return None
        d, m = self.world.voxels(c)
        raw = encode_sparse(d, m, change.index.astype(np.intp))
        payload = self._zstd.compress(raw)
        return encode_chunk_entry(ChunkData(c, change.version, payload, len(raw),
                                            base_version=change.base_version))

    def push_deltas(self, joined: list[Session], changed: Mapping[Coord, ChunkChange | int],
                    tick: int) -> None:
        """Queue one TERRAIN_DELTA per session with the changed chunks it holds (split at
        1024 entries); the bytes count against each session's stream budget.

        ``changed`` maps chunks to their :class:`ChunkChange` (or just the new version: then
        every session gets whole deltas). A version-2 session holding a chunk at exactly
        the change's base version gets the incremental entry when it is the smaller one.
        """
        entries: dict[Coord, tuple[int, bytes]] = {}
        incremental: dict[Coord, bytes | None] = {}
        for s in joined:
            held = s.view.held
            mine = [c for c in changed if c in held]
            if not mine:
                continue
            v2 = (s.conn.version or 1) >= INCREMENTAL_VERSION
            versions = s.view.versions
            parts = []
            for c in mine:
                ve = entries.get(c)
                if ve is None:
                    ve = entries[c] = self.versioned_entry(c)
                version, e = ve
                ch = changed[c]
                if v2 and isinstance(ch, ChunkChange) and versions.get(c) == ch.base_version:
                    if c not in incremental:
                        inc = self.incremental_entry(c, ch)
                        incremental[c] = inc if inc is not None and len(inc) < len(e) else None
                    inc = incremental[c]
                    if inc is not None:
                        e = inc
                versions[c] = version
                parts.append(e)
            for i in range(0, len(parts), MAX_CHUNKS_PER_MESSAGE):
                frame = frame_terrain_delta(tick, parts[i:i + MAX_CHUNKS_PER_MESSAGE])
                s.conn.send_frame(frame, "TERRAIN_DELTA")
                s.stream_bucket.charge(len(frame))
            now = time.perf_counter()
            for c in mine:
                t_edit = self._edit_times.get(c)
                if t_edit is not None:
                    self.push_latencies.append(now - t_edit)
        for c in changed:
            self._edit_times.pop(c, None)

    def stream(self, s: Session, now: float) -> None:
        """Queue CHUNK_STATEs of ``s``'s pending subscriptions, nearest to its player
        first, while its byte budget (token bucket, ``now`` in seconds) is positive."""
        b = s.stream_bucket
        if b.refill(now) <= 0:
            return
        for c in nearest_first(s.view.pending, s.chunk):
            if b.tokens <= 0:
                break
            version, entry = self.versioned_entry(c)
            frame = frame_chunk_state(entry)
            s.conn.send_frame(frame, "CHUNK_STATE")
            b.charge(len(frame))
            s.view.pending.discard(c)
            s.view.held.add(c)
            s.view.versions[c] = version

    def relay_players(self, joined: list[Session], tick: int) -> None:
        """Queue PLAYER_STATES with the poses of players within ``player_aoi_m`` that
        changed this tick or just came into range, and PLAYER_LEFT for those that left."""
        active = [s for s in joined if s.poses is not None]
        if not active:
            return
        positions = np.array([s.poses.body.position for s in active  # type: ignore[union-attr]
                              ], dtype=np.float64)
        near = neighbours_within(positions, self.player_aoi_m)
        cache: dict[int, bytes] = {}
        for i, r in enumerate(active):
            seen = r.view.visible_players
            now_visible: set[int] = set()
            parts: list[bytes] = []
            for j in near[i]:
                o = active[j]
                pid = o.player_id
                assert pid is not None and o.poses is not None
                now_visible.add(pid)
                if o.pose_dirty or pid not in seen:
                    e = cache.get(j)
                    if e is None:
                        e = cache[j] = encode_player_entry(pid, o.poses)
                    parts.append(e)
            for pid in seen - now_visible:
                r.conn.send(PlayerLeft(pid, LeaveReason.OUT_OF_AREA))
            r.view.visible_players = now_visible
            for k in range(0, len(parts), MAX_PLAYERS_PER_MESSAGE):
                r.conn.send_frame(frame_player_states(tick, parts[k:k + MAX_PLAYERS_PER_MESSAGE]),
                                  "PLAYER_STATES")
        for s in active:
            s.pose_dirty = False
