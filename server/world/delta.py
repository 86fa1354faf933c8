"""Chunk delta payloads: the voxels of a chunk that differ from generation, compressed.

Byte layout (little-endian) *before* compression; the payload is one standard zstd frame
(level 3, content size in the frame header) of::

    u8 format
    format 0 (sparse):  u16 count n, then n records sorted by ascending index:
                        u16 index (x * 32 + y) * 32 + z, i8 density, u8 material
                        -> 3 + 4 n bytes
    format 1 (full):    int8[32768] density then uint8[32768] material, index order
                        (x * 32 + y) * 32 + z -> 65537 bytes
    format 2 (diff):    u8[32768] density difference (density - generated) mod 256, then
                        u8[32768] material XOR generated material, same order
                        -> 65537 bytes

The encoder compresses the candidates (sparse when n <= 16383, diff, and full when
n > 16383) and keeps the smallest frame (ties: the lower format number). A decoder must
accept all three. ``generate_chunk(...)`` voxels + payload = server voxels.
Specification for the Godot client: ``docs/terrain.md``, "Delta payload".
"""

from __future__ import annotations

import struct
from typing import Final

import numpy as np
import numpy.typing as npt
import zstandard

from shared_gen.constants import CHUNK_SIZE, CHUNK_VOLUME

I8 = npt.NDArray[np.int8]
U8 = npt.NDArray[np.uint8]

FORMAT_SPARSE: Final = 0
FORMAT_FULL: Final = 1
FORMAT_DIFF: Final = 2
SPARSE_RECORD: Final = np.dtype([("index", "<u2"), ("density", "i1"), ("material", "u1")])
#: Largest sparse count the encoder emits (3 + 4 n <= 65537).
SPARSE_MAX: Final = (1 + 2 * CHUNK_VOLUME - 3) // 4
#: Largest decompressed payload (format 1); a safe output bound for decoders.
MAX_RAW_SIZE: Final = 1 + 2 * CHUNK_VOLUME
ZSTD_LEVEL: Final = 3
_SHAPE: Final = (CHUNK_SIZE, CHUNK_SIZE, CHUNK_SIZE)


class DeltaError(ValueError):
    """A payload that is not a valid chunk delta (remote error: the peer sent garbage)."""


def _changed(base_d: I8, base_m: U8, density: I8, material: U8) -> npt.NDArray[np.intp]:
    diff = (density.reshape(-1) != base_d.reshape(-1)) | (
        material.reshape(-1) != base_m.reshape(-1)
    )
    return np.flatnonzero(diff)


def encode_sparse(density: I8, material: U8, idx: npt.NDArray[np.intp]) -> bytes:
    """Raw format 0 of the voxels at flat indices ``idx`` (ascending, at most 16383)."""
    rec = np.empty(len(idx), dtype=SPARSE_RECORD)
    rec["index"] = idx
    rec["density"] = density.reshape(-1)[idx]
    rec["material"] = material.reshape(-1)[idx]
    return struct.pack("<BH", FORMAT_SPARSE, len(idx)) + rec.tobytes()


def encode_full(density: I8, material: U8) -> bytes:
    """Raw format 1."""
    return (
        bytes([FORMAT_FULL])
        + np.ascontiguousarray(density, dtype=np.int8).tobytes()
        + np.ascontiguousarray(material, dtype=np.uint8).tobytes()
    )


def encode_diff(base_d: I8, base_m: U8, density: I8, material: U8) -> bytes:
    """Raw format 2: byte-wise (density - base) mod 256 and material XOR base."""
    dd = np.ascontiguousarray(density).view(np.uint8) - np.ascontiguousarray(base_d).view(
        np.uint8)
    dm = np.ascontiguousarray(material) ^ np.ascontiguousarray(base_m)
    return bytes([FORMAT_DIFF]) + dd.tobytes() + dm.astype(np.uint8).tobytes()


def encode_raw(base_d: I8, base_m: U8, density: I8, material: U8) -> bytes:
    """Uncompressed sparse (format 0) delta if it fits, else full (format 1)."""
    idx = _changed(base_d, base_m, density, material)
    if len(idx) <= SPARSE_MAX:
        return encode_sparse(density, material, idx)
    return encode_full(density, material)


def _compress(raw: bytes) -> bytes:
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(raw)


def encode_delta(base_d: I8, base_m: U8, density: I8, material: U8) -> bytes:
    """The smallest zstd frame among the candidate formats (module docstring)."""
    idx = _changed(base_d, base_m, density, material)
    if len(idx) == 0:
        return _compress(encode_sparse(density, material, idx))
    candidates: list[bytes] = []
    if len(idx) <= SPARSE_MAX:
        candidates.append(_compress(encode_sparse(density, material, idx)))
    else:
        candidates.append(_compress(encode_full(density, material)))
    candidates.append(_compress(encode_diff(base_d, base_m, density, material)))
    return min(candidates, key=len)  # first wins a tie: formats are in ascending order


def decompress(payload: bytes) -> bytes:
    """The raw delta inside ``payload``. Raises :class:`DeltaError`."""
    try:
        raw = zstandard.ZstdDecompressor().decompress(payload, max_output_size=MAX_RAW_SIZE)
    except zstandard.ZstdError as e:
        raise DeltaError(f"bad zstd frame: {e}") from e
    if len(raw) > MAX_RAW_SIZE:
        raise DeltaError("delta larger than a full chunk")
    return raw


def apply_delta_payload(density: I8, material: U8, payload: bytes) -> tuple[I8, U8]:
    """Apply a delta payload to generated voxels; returns new (density, material) arrays.

    This is what a client does: ``generate_chunk`` voxels + payload = the server's voxels.
    The inputs are not modified.

    Raises:
        DeltaError: corrupt frame, unknown format, bad length or index out of range.
    """
    if np.size(density) != CHUNK_VOLUME or np.size(material) != CHUNK_VOLUME:
        raise ValueError("density and material must have 32768 voxels")
    density = np.asarray(density).reshape(_SHAPE)
    material = np.asarray(material).reshape(_SHAPE)
    raw = decompress(payload)
    if not raw:
        raise DeltaError("empty delta")
    fmt = raw[0]
    if fmt in (FORMAT_FULL, FORMAT_DIFF):
        if len(raw) != MAX_RAW_SIZE:
            raise DeltaError(f"format {fmt} delta has {len(raw)} bytes, want {MAX_RAW_SIZE}")
        a = np.frombuffer(raw, np.uint8, CHUNK_VOLUME, 1).reshape(_SHAPE)
        b = np.frombuffer(raw, np.uint8, CHUNK_VOLUME, 1 + CHUNK_VOLUME).reshape(_SHAPE)
        if fmt == FORMAT_FULL:
            return a.view(np.int8).copy(), b.copy()
        base_d = np.ascontiguousarray(density, dtype=np.int8).view(np.uint8)
        base_m = np.ascontiguousarray(material, dtype=np.uint8)
        return (base_d + a).view(np.int8), (base_m ^ b).astype(np.uint8)
    if fmt != FORMAT_SPARSE:
        raise DeltaError(f"unknown delta format {fmt}")
    if len(raw) < 3:
        raise DeltaError("sparse delta without a count")
    (n,) = struct.unpack_from("<H", raw, 1)
    if len(raw) != 3 + 4 * n:
        raise DeltaError(f"sparse delta of {n} records has {len(raw)} bytes")
    rec = np.frombuffer(raw, SPARSE_RECORD, n, 3)
    idx = rec["index"].astype(np.int64)
    if n and int(idx.max()) >= CHUNK_VOLUME:
        raise DeltaError("voxel index out of range")
    d = np.array(density, dtype=np.int8, copy=True, order="C").reshape(_SHAPE)
    m = np.array(material, dtype=np.uint8, copy=True, order="C").reshape(_SHAPE)
    d.reshape(-1)[idx] = rec["density"]
    m.reshape(-1)[idx] = rec["material"]
    return d, m


def sparse_records(payload: bytes) -> npt.NDArray[np.void]:
    """The records (:data:`SPARSE_RECORD`) of a format-0 payload, e.g. a protocol v2
    incremental chunk entry.

    Raises:
        DeltaError: corrupt frame, not format 0, bad length or index out of range.
    """
    raw = decompress(payload)
    if len(raw) < 3 or raw[0] != FORMAT_SPARSE:
        raise DeltaError("not a sparse (format 0) delta")
    (n,) = struct.unpack_from("<H", raw, 1)
    if len(raw) != 3 + 4 * n:
        raise DeltaError(f"sparse delta of {n} records has {len(raw)} bytes")
    rec = np.frombuffer(raw, SPARSE_RECORD, n, 3)
    if n and int(rec["index"].max()) >= CHUNK_VOLUME:
        raise DeltaError("voxel index out of range")
    return rec


def merge_records(older: npt.NDArray[np.void], newer: npt.NDArray[np.void]
                  ) -> npt.NDArray[np.void]:
    """Sparse records of ``older`` then ``newer`` applied in turn, one per index (ascending)."""
    both = np.concatenate([newer, older])  # newest first: np.unique keeps the first hit
    _, first = np.unique(both["index"], return_index=True)
    return both[first]


def payload_format(payload: bytes) -> int:
    """The format byte of a payload (0 sparse, 1 full, 2 diff)."""
    return decompress(payload)[0]


def changed_count(payload: bytes, base_d: I8 | None = None, base_m: U8 | None = None) -> int:
    """Voxels a payload changes, for metrics and tests. Formats 1 and 2 need the
    generated voxels to tell (without them: 32768 for format 1, nonzero diffs for 2)."""
    raw = decompress(payload)
    fmt = raw[0]
    if fmt == FORMAT_SPARSE:
        return int(struct.unpack_from("<H", raw, 1)[0])
    if base_d is not None and base_m is not None:
        d, m = apply_delta_payload(base_d, base_m, payload)
        return len(_changed(base_d, base_m, d, m))
    if fmt == FORMAT_FULL:
        return CHUNK_VOLUME
    a = np.frombuffer(raw, np.uint8, CHUNK_VOLUME, 1)
    b = np.frombuffer(raw, np.uint8, CHUNK_VOLUME, 1 + CHUNK_VOLUME)
    return int(np.count_nonzero(a | b))
