"""Canonical chunk encoding: round trip, byte layout, and frozen golden hashes."""

from __future__ import annotations

import hashlib
import struct

import numpy as np
import pytest
from hypothesis import given
from sg_support import PROPERTY, surface_chunks

from shared_gen import (
    CHUNK_SIZE,
    CHUNK_VOLUME,
    GENERATOR_VERSION,
    chunk_hash,
    decode_chunk,
    encode_chunk,
    generate_chunk,
)
from shared_gen.encoding import HEADER_SIZE, MAGIC
from shared_gen.planet import Chunk, ResourceNode

DENSITY_OFF = 36
MATERIAL_OFF = 36 + CHUNK_VOLUME  # 32804
COUNT_OFF = 36 + 2 * CHUNK_VOLUME  # 65572
NODES_OFF = COUNT_OFF + 2  # 65574

# ---------------------------------------------------------------------------------------
# FROZEN GOLDEN HASHES (generator version 1).
#
# These are chunk_hash() values computed once and pasted here. If one of them changes,
# generation output changed. That must be deliberate: bump GENERATOR_VERSION in
# shared_gen/constants.py (it is written into every encoding, so every hash changes),
# update docs/generation.md, regenerate the GDScript port's golden vectors
# (`python -m shared_gen golden --out ...`) and only then paste the new hashes below
# together with the new version number. Never "fix" this test by pasting new hashes alone.
# ---------------------------------------------------------------------------------------
GOLDEN_VERSION = 1
GOLDEN = [
    # (world seed, planet, chunk, sha-256 of the canonical encoding)  # kind
    (42, 0, (41, 12, 8),  # surface, resource nodes, README example
     "c1f9ea3a57271d271e22efae936e89db3d46dbc721b99566041b594ec635a223"),
    (42, 2, (0, 96, 0),  # surface at the north pole
     "84741475d272088d8f07dfe39939aefc7de0add6e62a43e2ac5227fd103f75da"),
    (42, 1, (-15, -3, -23),  # surface, all-negative coordinates
     "835a244d6c8e7348ba761c2fb77498f2e9b0e5021d1c5d3f42cb0485b0d28083"),
    (42, 0, (0, 0, 0),  # core: solid mantle rock
     "b23965bcff214dbfd6b34e0856e10957195a17309eccae6566e742adf371c574"),
    (42, 0, (0, 45, 0),  # open air at the grid's edge
     "994e45c7a22a6631f3b9e0a04fe6f26fc7b8e06e029db4f198577a4aef43a5ac"),
    (42, 0, (10, -18, 36),  # cave below the surface (golden.find_cave_chunk)
     "d49bb4c7535a18fc70f610ac5b900bfc858b2c289f4a9eaec77c5b4058da7da3"),
    (2**63 - 1, 0, (-5, 21, -10),  # largest seed (both 32-bit seed words set)
     "2c37f2e3a648fdaf94094ca994c0029a3f9211e368a33a12f03e87cc7fc6d61f"),
    (0, 4, (-43, -36, -43),  # seed 0, fifth planet, negative corner of the surface
     "87e611e060e7eddc9eecd413c245a5bfe4ec32ad35f22cea2a6c5b67dba27c08"),
]


def test_golden_version_matches() -> None:
    assert GENERATOR_VERSION == GOLDEN_VERSION, (
        "GENERATOR_VERSION changed: recompute and paste the GOLDEN hashes of this file"
    )


@pytest.mark.parametrize(("seed", "planet", "coord", "expected"), GOLDEN,
                         ids=[f"{s}-{p}-{c}" for s, p, c, _ in GOLDEN])
def test_golden_hash(seed: int, planet: int, coord: tuple[int, int, int], expected: str) -> None:
    got = chunk_hash(generate_chunk(seed, planet, coord))
    assert got == expected, (
        f"generation output of {seed}/{planet}/{coord} changed; if deliberate, bump "
        "GENERATOR_VERSION and refresh GOLDEN (see the comment above it)"
    )


def test_golden_chunks_are_the_kinds_they_claim() -> None:
    core = generate_chunk(42, 0, (0, 0, 0))
    assert (core.density == 127).all() and not core.resources
    air = generate_chunk(42, 0, (0, 45, 0))
    assert (air.density == -127).all() and (air.material == 0).all()
    surface = generate_chunk(42, 0, (41, 12, 8))
    assert (surface.density > 0).any() and (surface.density <= 0).any() and surface.resources
    cave = generate_chunk(42, 0, (10, -18, 36))
    assert (cave.density <= 0).any()


def test_chunk_hash_is_sha256_of_encoding() -> None:
    ch = generate_chunk(42, 0, (41, 12, 8))
    assert chunk_hash(ch) == hashlib.sha256(encode_chunk(ch)).hexdigest()
    assert chunk_hash(ch) == chunk_hash(ch).lower() and len(chunk_hash(ch)) == 64


def test_layout_offsets() -> None:
    seed, planet, coord = 2**63 - 1, 0, (-5, 21, -10)
    ch = generate_chunk(seed, planet, coord)
    data = encode_chunk(ch)
    n = len(ch.resources)
    assert HEADER_SIZE == 36
    assert len(data) == 65574 + 8 * n
    assert data[0:4] == MAGIC == b"PSCK"
    assert struct.unpack_from("<H", data, 4)[0] == GENERATOR_VERSION
    assert data[6] == CHUNK_SIZE and data[7] == 0
    assert struct.unpack_from("<Q", data, 8)[0] == seed
    assert struct.unpack_from("<H", data, 16)[0] == planet
    assert struct.unpack_from("<H", data, 18)[0] == 0
    assert struct.unpack_from("<I", data, 20)[0] == ch.planet_seed
    assert struct.unpack_from("<iii", data, 24) == coord
    # density / material: index (x * 32 + y) * 32 + z, x slowest
    for x, y, z in ((0, 0, 0), (31, 0, 0), (0, 31, 0), (0, 0, 31), (7, 19, 30), (31, 31, 31)):
        k = (x * 32 + y) * 32 + z
        assert struct.unpack_from("<b", data, DENSITY_OFF + k)[0] == ch.density[x, y, z]
        assert data[MATERIAL_OFF + k] == ch.material[x, y, z]
    assert struct.unpack_from("<H", data, COUNT_OFF)[0] == n
    for m, node in enumerate(ch.resources):
        t, i, j, k, qty, idx = struct.unpack_from("<BBBBHH", data, NODES_OFF + 8 * m)
        assert (t, (i, j, k), qty, idx) == (
            node.resource_type, node.voxel, node.quantity, node.index)


def test_round_trip_with_resources() -> None:
    ch = generate_chunk(42, 0, (41, 12, 8))
    assert ch.resources
    back = decode_chunk(encode_chunk(ch))
    assert (back.world_seed, back.planet_index, back.planet_seed, back.coord) == (
        ch.world_seed, ch.planet_index, ch.planet_seed, ch.coord)
    assert np.array_equal(back.density, ch.density) and back.density.dtype == np.int8
    assert np.array_equal(back.material, ch.material) and back.material.dtype == np.uint8
    assert back.resources == ch.resources  # includes position_m
    assert encode_chunk(back) == encode_chunk(ch)


@PROPERTY
@given(surface_chunks())
def test_round_trip_property(case: tuple[int, int, tuple[int, int, int]]) -> None:
    ch = generate_chunk(*case)
    data = encode_chunk(ch)
    back = decode_chunk(data)
    assert encode_chunk(back) == data
    assert back.resources == ch.resources


def _valid() -> bytes:
    return encode_chunk(generate_chunk(42, 0, (41, 12, 8)))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: b"XXXX" + d[4:], "magic"),
        (lambda d: d[:4] + struct.pack("<H", GENERATOR_VERSION + 1) + d[6:], "version"),
        (lambda d: d[:6] + bytes([16]) + d[7:], "size"),
        (lambda d: d[:100], "too short"),
        (lambda d: d + b"\0", "resource count"),
        (lambda d: d[:-1], "resource count"),
    ],
    ids=["magic", "version", "size", "short", "trailing", "truncated-node"],
)
def test_decode_rejects(mutate: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_chunk(mutate(_valid()))  # type: ignore[operator]


def test_encoding_of_handmade_chunk() -> None:
    dens = np.zeros((32, 32, 32), np.int8)
    dens[1, 2, 3] = -5
    mat = np.zeros((32, 32, 32), np.uint8)
    mat[31, 0, 1] = 200
    node = ResourceNode(513, 12, 100, (31, 30, 29), (0.0, 0.0, 0.0))
    ch = Chunk(7, 65535, 2**32 - 1, (-1, 2**31 - 1, -(2**31)), dens, mat, (node,))
    data = encode_chunk(ch)
    assert struct.unpack_from("<Q", data, 8)[0] == 7
    assert struct.unpack_from("<H", data, 16)[0] == 65535
    assert struct.unpack_from("<iii", data, 24) == (-1, 2**31 - 1, -(2**31))
    assert struct.unpack_from("<b", data, DENSITY_OFF + (1 * 32 + 2) * 32 + 3)[0] == -5
    assert data[MATERIAL_OFF + (31 * 32 + 0) * 32 + 1] == 200
    assert data[NODES_OFF:] == bytes([12, 31, 30, 29]) + struct.pack("<HH", 100, 513)
