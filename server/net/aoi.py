"""Area of interest: which chunks a player may hold and which players it sees.

Chunk coordinates are integers; chunk ``c`` spans ``[16 c, 16 (c + 1))`` metres on each axis
(32 voxels of 0.5 m, ``shared_gen.constants``). Distances between chunks are Euclidean in
chunk units between chunk coordinates.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Final

import numpy as np
import numpy.typing as npt

from shared_gen.constants import CHUNK_SIZE, VOXEL_SIZE

Coord = tuple[int, int, int]
Vec3 = tuple[float, float, float]

#: Edge of a chunk in metres.
CHUNK_EDGE_M: Final = CHUNK_SIZE * VOXEL_SIZE


def chunk_of(position: Vec3) -> Coord:
    """Chunk containing ``position`` (metres, planet frame)."""
    return (math.floor(position[0] / CHUNK_EDGE_M), math.floor(position[1] / CHUNK_EDGE_M),
            math.floor(position[2] / CHUNK_EDGE_M))


def chunk_distance2(a: Coord, b: Coord) -> int:
    """Squared Euclidean distance between two chunk coordinates, chunk units."""
    dx, dy, dz = a[0] - b[0], a[1] - b[1], a[2] - b[2]
    return dx * dx + dy * dy + dz * dz


def within(a: Coord, b: Coord, radius_chunks: int) -> bool:
    """True if ``b`` is within ``radius_chunks`` of ``a``."""
    return chunk_distance2(a, b) <= radius_chunks * radius_chunks


def chunks_in_radius(centre: Coord, radius_chunks: int) -> list[Coord]:
    """All chunks within ``radius_chunks`` of ``centre``, nearest first (ties by coord)."""
    r = radius_chunks
    out = [
        (centre[0] + dx, centre[1] + dy, centre[2] + dz)
        for dx in range(-r, r + 1)
        for dy in range(-r, r + 1)
        for dz in range(-r, r + 1)
        if dx * dx + dy * dy + dz * dz <= r * r
    ]
    out.sort(key=lambda c: (chunk_distance2(c, centre), c))
    return out


def nearest_first(coords: Iterable[Coord], centre: Coord) -> list[Coord]:
    """``coords`` sorted by distance to ``centre`` (ties broken by coordinate)."""
    return sorted(coords, key=lambda c: (chunk_distance2(c, centre), c))


def neighbours_within(positions: npt.NDArray[np.float64], radius_m: float) -> list[list[int]]:
    """For each row of ``positions`` (N, 3) metres, the indices of the *other* rows within
    ``radius_m``. O(N^2) with numpy, fine for a few hundred players per map."""
    n = len(positions)
    if n == 0:
        return []
    diff = positions[:, None, :] - positions[None, :, :]
    near = np.einsum("ijk,ijk->ij", diff, diff) <= radius_m * radius_m
    np.fill_diagonal(near, False)
    return [np.flatnonzero(row).tolist() for row in near]
