"""The authoritative voxel field: a cache of chunks = generation + edits.

Each chunk in memory keeps its generated voxels (the base of its delta), its current
voxels, a version (0 = never modified; +1 per change, never decreasing, survives
restarts through the store) and an undo log of its last ``undo_depth`` changes.

Chunks that were never modified are regenerated on demand (``shared_gen`` is pure);
modified chunks are rebuilt from the store's delta (``loader``) after a restart or
eviction. Dirty chunks (changed since the last flush) are never evicted; without a
store, modified chunks are never evicted either. Not thread-safe: one owner (the world).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from shared_gen import generate_chunk, get_planet
from shared_gen.constants import CHUNK_SIZE

from .delta import apply_delta_payload, encode_delta
from .types import ChunkCoord

I8 = npt.NDArray[np.int8]
U8 = npt.NDArray[np.uint8]
U16 = npt.NDArray[np.uint16]
GVox = tuple[int, int, int]

#: ``loader(coord) -> (version, payload)`` of a stored chunk delta, or None.
DeltaLoader = Callable[[ChunkCoord], tuple[int, bytes] | None]


@dataclass(slots=True)
class UndoRecord:
    """One edit's change to one chunk: enough to restore the voxels before it.

    Attributes:
        edit_id: the world's edit id (server order). player_id: who made it.
        index: flat voxel indices ``(x * 32 + y) * 32 + z`` that changed.
        old_density, old_material: their values before the edit.
    """

    edit_id: int
    player_id: int
    index: U16
    old_density: I8
    old_material: U8


@dataclass(frozen=True, slots=True)
class ChunkChange:
    """How a chunk changed since the previous drain (:meth:`Terrain.drain_changes`).

    Attributes:
        version: its newest version. base_version: its version before the first change
            since the previous drain (what clients that got the last push hold).
        index: ascending unique flat voxel indices ``(x * 32 + y) * 32 + z`` written since
            ``base_version`` (some may hold their old value again).
    """

    version: int
    base_version: int
    index: U16


@dataclass(slots=True)
class ChunkState:
    """A chunk in memory. Arrays are (32, 32, 32) indexed [x, y, z]."""

    coord: ChunkCoord
    base_density: I8
    base_material: U8
    density: I8
    material: U8
    version: int
    undo: deque[UndoRecord] = field(default_factory=deque)


def chunk_range(lo: GVox, hi: GVox) -> Iterator[ChunkCoord]:
    """Chunk coordinates holding any voxel of the inclusive global box [lo, hi]."""
    c0 = [v // CHUNK_SIZE for v in lo]
    c1 = [v // CHUNK_SIZE for v in hi]
    for cx in range(c0[0], c1[0] + 1):
        for cy in range(c0[1], c1[1] + 1):
            for cz in range(c0[2], c1[2] + 1):
                yield (cx, cy, cz)


def _overlap(coord: ChunkCoord, lo: GVox, hi: GVox) -> tuple[tuple[slice, ...], tuple[slice, ...]]:
    """(region slices, chunk slices) of the part of chunk ``coord`` inside [lo, hi]."""
    reg: list[slice] = []
    chk: list[slice] = []
    for a in range(3):
        base = coord[a] * CHUNK_SIZE
        g0 = max(lo[a], base)
        g1 = min(hi[a], base + CHUNK_SIZE - 1)
        reg.append(slice(g0 - lo[a], g1 - lo[a] + 1))
        chk.append(slice(g0 - base, g1 - base + 1))
    return tuple(reg), tuple(chk)


class Terrain:
    """Chunk cache, versions, undo logs, dirty/changed tracking of one planet.

    Memory is bounded: at most ``max_cached_chunks`` clean chunk states (dirty ones and,
    without a loader, modified ones stay) and ``max_cached_payloads`` encoded delta
    payloads (LRU; an evicted payload is re-read from the loader or re-encoded).
    """

    def __init__(
        self,
        world_seed: int,
        planet_index: int,
        *,
        versions: dict[ChunkCoord, int] | None = None,
        loader: DeltaLoader | None = None,
        undo_depth: int = 16,
        max_cached_chunks: int = 2048,
        max_cached_payloads: int = 8192,
    ) -> None:
        self.world_seed = world_seed
        self.planet_index = planet_index
        self.grid_radius = get_planet(world_seed, planet_index).grid_radius_chunks
        self._versions: dict[ChunkCoord, int] = dict(versions or {})
        self._loader = loader
        self._undo_depth = undo_depth
        self._max_cached = max_cached_chunks
        self._cache: OrderedDict[ChunkCoord, ChunkState] = OrderedDict()
        self._payloads: OrderedDict[ChunkCoord, tuple[int, bytes]] = OrderedDict()
        self._max_payloads = max_cached_payloads
        self._dirty: set[ChunkCoord] = set()
        self._changed: dict[ChunkCoord, int] = {}
        self._changed_base: dict[ChunkCoord, int] = {}
        self._changed_idx: dict[ChunkCoord, list[npt.NDArray[np.intp]]] = {}

    # ---- lookup ------------------------------------------------------------------
    def in_grid(self, coord: ChunkCoord) -> bool:
        g = self.grid_radius
        return all(-g <= v <= g for v in coord)

    def version(self, coord: ChunkCoord) -> int:
        """Version of a chunk: 0 = unmodified since generation."""
        return self._versions.get(coord, 0)

    def modified_chunks(self) -> dict[ChunkCoord, int]:
        """Every chunk with version > 0 -> version (a copy)."""
        return dict(self._versions)

    @property
    def dirty_count(self) -> int:
        return len(self._dirty)

    def chunk(self, coord: ChunkCoord) -> ChunkState:
        """The chunk's state, generated / loaded on first use. Raises ValueError off-grid."""
        st = self._cache.get(coord)
        if st is not None:
            self._cache.move_to_end(coord)
            return st
        if not self.in_grid(coord):
            raise ValueError(f"chunk {coord} is outside the planet's grid (|c| <= "
                             f"{self.grid_radius})")
        gen = generate_chunk(self.world_seed, self.planet_index, coord)
        base_d = gen.density
        base_m = gen.material
        base_d.flags.writeable = False
        base_m.flags.writeable = False
        density, material = base_d.copy(), base_m.copy()
        version = self._versions.get(coord, 0)
        if version > 0:
            stored = self._payloads.get(coord)
            if stored is None or stored[0] != version:
                stored = self._loader(coord) if self._loader is not None else None
            if stored is None or stored[0] != version:
                raise RuntimeError(f"chunk {coord} version {version} has no stored delta")
            self._remember(coord, stored)
            density, material = apply_delta_payload(base_d, base_m, stored[1])
        st = ChunkState(coord, base_d, base_m, density, material, version,
                        deque(maxlen=self._undo_depth))
        self._cache[coord] = st
        self._evict()
        return st

    def _evict(self) -> None:
        """Drop least recently used clean chunks beyond ``max_cached_chunks``. Never the
        newest entry: the caller of :meth:`chunk` is about to use (and maybe modify) it;
        evicting it would lose the edit (the cache may exceed the bound while every other
        chunk is dirty, until the next flush)."""
        if len(self._cache) <= self._max_cached:
            return
        for coord in list(self._cache)[:-1]:
            if len(self._cache) <= self._max_cached:
                break
            st = self._cache[coord]
            if coord in self._dirty or (st.version > 0 and self._loader is None):
                continue
            del self._cache[coord]

    # ---- regions -----------------------------------------------------------------
    def read_region(self, lo: GVox, hi: GVox) -> tuple[I8, U8]:
        """Copies of the current (density, material) of the inclusive global box."""
        shape = tuple(h - lo_ + 1 for lo_, h in zip(lo, hi, strict=True))
        d = np.empty(shape, np.int8)
        m = np.empty(shape, np.uint8)
        for coord in chunk_range(lo, hi):
            st = self.chunk(coord)
            reg, chk = _overlap(coord, lo, hi)
            d[reg] = st.density[chk]
            m[reg] = st.material[chk]
        return d, m

    def write_region(
        self, lo: GVox, density: I8, material: U8, edit_id: int, player_id: int
    ) -> dict[ChunkCoord, int]:
        """Store a region's new voxels; returns ``{coord: new version}`` of changed chunks.

        Each changed chunk gets ``version + 1``, an undo record, and is marked dirty and
        changed (for :meth:`drain_changed`).
        """
        hi = tuple(lo[a] + density.shape[a] - 1 for a in range(3))
        out: dict[ChunkCoord, int] = {}
        for coord in chunk_range(lo, hi):
            st = self.chunk(coord)
            reg, chk = _overlap(coord, lo, hi)
            nd, nm = density[reg], material[reg]
            diff = (st.density[chk] != nd) | (st.material[chk] != nm)
            if not diff.any():
                continue
            mask = np.zeros(st.density.shape, dtype=bool)
            mask[chk] = diff
            idx = np.flatnonzero(mask)
            flat_d = st.density.reshape(-1)
            flat_m = st.material.reshape(-1)
            if self._undo_depth > 0:
                st.undo.append(UndoRecord(edit_id, player_id, idx.astype(np.uint16),
                                          flat_d[idx].copy(), flat_m[idx].copy()))
            st.density[chk] = nd
            st.material[chk] = nm
            out[coord] = self._bump(st, idx)
        return out

    def _bump(self, st: ChunkState, idx: npt.NDArray[np.integer[Any]]) -> int:
        self._changed_base.setdefault(st.coord, st.version)
        self._changed_idx.setdefault(st.coord, []).append(idx.astype(np.intp))
        st.version += 1
        self._versions[st.coord] = st.version
        self._dirty.add(st.coord)
        self._changed[st.coord] = st.version
        self._payloads.pop(st.coord, None)
        return st.version

    # ---- undo --------------------------------------------------------------------
    def undo_top(self, coord: ChunkCoord) -> UndoRecord | None:
        """The newest undo record of a cached chunk (None if none or not cached)."""
        st = self._cache.get(coord)
        if st is None or not st.undo:
            return None
        return st.undo[-1]

    def revert(self, coords: list[ChunkCoord], edit_id: int) -> dict[ChunkCoord, int]:
        """Undo edit ``edit_id`` on ``coords``; each must have it as its newest record.

        The voxels return to their values before the edit; versions still increase.
        Raises ValueError (changing nothing) if some chunk's newest record differs.
        """
        for coord in coords:
            top = self.undo_top(coord)
            if top is None or top.edit_id != edit_id:
                raise ValueError(f"edit {edit_id} is not the newest change of chunk {coord}")
        out: dict[ChunkCoord, int] = {}
        for coord in coords:
            st = self._cache[coord]
            rec = st.undo.pop()
            idx = rec.index.astype(np.int64)
            st.density.reshape(-1)[idx] = rec.old_density
            st.material.reshape(-1)[idx] = rec.old_material
            out[coord] = self._bump(st, idx)
        return out

    # ---- deltas, broadcast, flush ------------------------------------------------
    def payload(self, coord: ChunkCoord) -> tuple[int, bytes | None]:
        """(version, zstd delta over generation), or (0, None) for an unmodified chunk."""
        version = self._versions.get(coord, 0)
        if version == 0:
            return 0, None
        cached = self._payloads.get(coord)
        if cached is not None and cached[0] == version:
            self._payloads.move_to_end(coord)
            return cached
        if coord not in self._cache and self._loader is not None:
            stored = self._loader(coord)  # clean chunk: the store has this very version
            if stored is not None and stored[0] == version:
                self._remember(coord, stored)
                return stored
        st = self.chunk(coord)
        data = encode_delta(st.base_density, st.base_material, st.density, st.material)
        self._remember(coord, (version, data))
        return version, data

    def _remember(self, coord: ChunkCoord, payload: tuple[int, bytes]) -> None:
        """Cache an encoded payload, evicting the least recently used beyond the bound."""
        self._payloads[coord] = payload
        self._payloads.move_to_end(coord)
        while len(self._payloads) > self._max_payloads:
            self._payloads.popitem(last=False)

    @property
    def cached_payloads(self) -> int:
        """Encoded delta payloads held in memory (at most ``max_cached_payloads``)."""
        return len(self._payloads)

    def drain_changed(self) -> dict[ChunkCoord, int]:
        """Chunks changed since the previous call -> their newest version."""
        out, self._changed = self._changed, {}
        self._changed_base.clear()
        self._changed_idx.clear()
        return out

    def drain_changes(self) -> dict[ChunkCoord, ChunkChange]:
        """Like :meth:`drain_changed`, with each chunk's base version and changed voxels."""
        bases, idxs = self._changed_base, self._changed_idx
        self._changed_base, self._changed_idx = {}, {}
        out: dict[ChunkCoord, ChunkChange] = {}
        for coord, version in self.drain_changed().items():
            parts = idxs.get(coord, [])
            index = (np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.intp))
            out[coord] = ChunkChange(version, bases.get(coord, version),
                                     index.astype(np.uint16))
        return out

    def take_dirty(self) -> list[tuple[ChunkCoord, int, bytes]]:
        """(coord, version, payload) of every dirty chunk; clears the dirty set."""
        out: list[tuple[ChunkCoord, int, bytes]] = []
        for coord in sorted(self._dirty):
            version, data = self.payload(coord)
            assert data is not None
            out.append((coord, version, data))
        self._dirty.clear()
        return out

    def clear_dirty(self) -> None:
        """Forget the dirty set (a world without a store)."""
        self._dirty.clear()

    def restore_dirty(self, coords: list[ChunkCoord]) -> None:
        """Mark chunks dirty again (after a failed flush)."""
        self._dirty.update(coords)
