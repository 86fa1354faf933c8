"""Canonical chunk encoding and ``chunk_hash`` (SHA-256 of the encoding).

Layout (little-endian; offsets in bytes)::

    0   4   magic b"PSCK"
    4   u16 generator version (GENERATOR_VERSION)
    6   u8  chunk size (32)
    7   u8  reserved, 0
    8   u64 world seed
    16  u16 planet index
    18  u16 reserved, 0
    20  u32 planet seed
    24  i32 cx, 28 i32 cy, 32 i32 cz      (chunk coordinates)
    36  int8[32768]  density, index (x * 32 + y) * 32 + z  (x slowest, z fastest)
    32804 uint8[32768] material, same order
    65572 u16 resource node count n
    65574 n x 8 bytes: u8 type, u8 i, u8 j, u8 k, u16 quantity, u16 candidate index

Total ``65574 + 8 n`` bytes.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Final

import numpy as np

from .constants import CHUNK_SIZE, CHUNK_VOLUME, GENERATOR_VERSION
from .planet import Chunk, ResourceNode

MAGIC: Final = b"PSCK"
HEADER: Final = struct.Struct("<4sHBBQHHIiii")
NODE: Final = struct.Struct("<BBBBHH")
HEADER_SIZE: Final = HEADER.size  # 36


def encode_chunk(chunk: Chunk) -> bytes:
    """Canonical bytes of a chunk (layout in the module docstring)."""
    cx, cy, cz = chunk.coord
    head = HEADER.pack(MAGIC, GENERATOR_VERSION, CHUNK_SIZE, 0, chunk.world_seed,
                       chunk.planet_index, 0, chunk.planet_seed, cx, cy, cz)
    parts = [
        head,
        np.ascontiguousarray(chunk.density, dtype=np.int8).tobytes(order="C"),
        np.ascontiguousarray(chunk.material, dtype=np.uint8).tobytes(order="C"),
        struct.pack("<H", len(chunk.resources)),
    ]
    for n in chunk.resources:
        parts.append(NODE.pack(n.resource_type, *n.voxel, n.quantity, n.index))
    return b"".join(parts)


def chunk_hash(chunk: Chunk) -> str:
    """Lower-case hex SHA-256 of :func:`encode_chunk`."""
    return hashlib.sha256(encode_chunk(chunk)).hexdigest()


def decode_chunk(data: bytes) -> Chunk:
    """Inverse of :func:`encode_chunk`.

    Raises:
        ValueError: wrong magic, generator version, size, or length.
    """
    if len(data) < HEADER_SIZE + 2 * CHUNK_VOLUME + 2:
        raise ValueError(f"chunk encoding too short: {len(data)} bytes")
    magic, ver, size, _, wseed, pidx, _, pseed, cx, cy, cz = HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise ValueError(f"bad magic {magic!r}")
    if ver != GENERATOR_VERSION:
        raise ValueError(f"generator version {ver} != {GENERATOR_VERSION}")
    if size != CHUNK_SIZE:
        raise ValueError(f"chunk size {size} != {CHUNK_SIZE}")
    off = HEADER_SIZE
    shape = (CHUNK_SIZE,) * 3
    dens = np.frombuffer(data, np.int8, CHUNK_VOLUME, off).reshape(shape).copy()
    off += CHUNK_VOLUME
    mat = np.frombuffer(data, np.uint8, CHUNK_VOLUME, off).reshape(shape).copy()
    off += CHUNK_VOLUME
    (count,) = struct.unpack_from("<H", data, off)
    off += 2
    if len(data) != off + NODE.size * count:
        raise ValueError("chunk encoding length does not match its resource count")
    nodes = []
    for _ in range(count):
        t, i, j, k, qty, idx = NODE.unpack_from(data, off)
        off += NODE.size
        pos = tuple((cv * CHUNK_SIZE + v) * 0.5 for cv, v in zip((cx, cy, cz), (i, j, k),
                                                                 strict=True))
        nodes.append(ResourceNode(idx, t, qty, (i, j, k), (pos[0], pos[1], pos[2])))
    return Chunk(wseed, pidx, pseed, (cx, cy, cz), dens, mat, tuple(nodes))
