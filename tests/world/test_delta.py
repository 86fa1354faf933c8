"""The chunk delta payload codec (docs/terrain.md, "Delta payload")."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from server.world import DeltaError, apply_delta_payload, encode_delta
from server.world.delta import (
    FORMAT_DIFF,
    FORMAT_FULL,
    FORMAT_SPARSE,
    SPARSE_MAX,
    changed_count,
    decompress,
    encode_diff,
    encode_full,
    encode_sparse,
)

SHAPE = (32, 32, 32)


def base(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    d = rng.integers(-127, 128, SHAPE).astype(np.int8)
    m = np.where(d > 0, rng.integers(1, 40, SHAPE), 0).astype(np.uint8)
    return d, m


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.sampled_from([0, 1, 7, 500, SPARSE_MAX,
                                                         SPARSE_MAX + 1, 32768]))
def test_roundtrip_generated_plus_payload_equals_voxels(seed, n):
    d0, m0 = base(seed)
    rng = np.random.default_rng(seed + 1)
    d, m = d0.copy(), m0.copy()
    idx = rng.choice(32768, size=n, replace=False)
    old = d.reshape(-1)[idx].astype(np.int16)
    d.reshape(-1)[idx] = np.where(old == 127, 126, old + 1)
    m.reshape(-1)[idx] ^= 1
    payload = encode_delta(d0, m0, d, m)
    raw = decompress(payload)
    changed_mask = (d != d0) | (m != m0)
    changed = int(changed_mask.sum())
    idx = np.flatnonzero(changed_mask)
    z = zstandard.ZstdCompressor(level=3)
    candidates = {FORMAT_DIFF: z.compress(encode_diff(d0, m0, d, m))}
    if changed <= SPARSE_MAX:
        candidates[FORMAT_SPARSE] = z.compress(encode_sparse(d, m, idx))
    else:
        candidates[FORMAT_FULL] = z.compress(encode_full(d, m))
    if changed == 0:
        assert raw == b"\x00\x00\x00"
    else:
        assert raw[0] in candidates  # the smallest candidate frame
        assert len(payload) == min(len(c) for c in candidates.values())
    assert changed_count(payload, d0, m0) == changed
    for frame in [payload, *candidates.values()]:  # every format decodes to the voxels
        d2, m2 = apply_delta_payload(d0, m0, frame)
        assert np.array_equal(d2, d) and np.array_equal(m2, m)
        assert d2.dtype == np.int8 and m2.dtype == np.uint8 and d2.shape == SHAPE


def test_sparse_layout_is_little_endian_and_sorted():
    d0 = np.zeros(SHAPE, np.int8)
    m0 = np.zeros(SHAPE, np.uint8)
    d, m = d0.copy(), m0.copy()
    d[31, 0, 1], m[31, 0, 1] = -5, 0
    d[0, 1, 2], m[0, 1, 2] = 16, 2
    raw = decompress(encode_delta(d0, m0, d, m))
    assert raw == struct.pack("<BH", 0, 2) + struct.pack("<HbB", 34, 16, 2) + struct.pack(
        "<HbB", 31 * 1024 + 1, -5, 0)


def test_diff_layout_wraps_modulo_256():
    d0 = np.zeros(SHAPE, np.int8)
    m0 = np.zeros(SHAPE, np.uint8)
    d0[0, 0, 0], d0[0, 0, 1] = 127, -127
    d, m = d0.copy(), m0.copy()
    d[0, 0, 0], d[0, 0, 1], m[0, 0, 1] = -127, 127, 5
    raw = encode_diff(d0, m0, d, m)
    assert raw[0] == FORMAT_DIFF and len(raw) == 65537
    assert raw[1:3] == bytes([(-127 - 127) % 256, (127 + 127) % 256])  # 2, 254
    assert raw[1 + 32768 + 1] == 5
    d2, m2 = apply_delta_payload(d0, m0, zstandard.ZstdCompressor().compress(raw))
    assert np.array_equal(d2, d) and np.array_equal(m2, m)


@pytest.mark.parametrize("raw", [b"", b"\x03", b"\x00\x01\x00", b"\x00\x01\x00\x00\x80\x00\x00",
                                 b"\x01" + bytes(100), b"\x02" + bytes(65535)])
def test_malformed_payloads_raise(raw):
    d, m = base(1)
    with pytest.raises(DeltaError):
        apply_delta_payload(d, m, zstandard.ZstdCompressor().compress(raw))


def test_not_zstd_raises():
    d, m = base(1)
    with pytest.raises(DeltaError):
        apply_delta_payload(d, m, b"not a zstd frame")
