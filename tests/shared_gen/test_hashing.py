"""Integer hashing and the counter-based PRNG (shared_gen/hashing.py)."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sg_support import PROPERTY

from shared_gen.constants import MASK32, SEED_MAX
from shared_gen.hashing import (
    NOISE_MULT,
    PRIME_X,
    PRIME_Y,
    PRIME_Z,
    SALT_CHUNK,
    SALT_PLANET,
    Rng,
    get_chunk_seed,
    get_planet_seed,
    hash_ints,
    noise_hash,
    pick_weighted,
)

seeds = st.integers(0, SEED_MAX)
words = st.lists(st.integers(-(2**40), 2**40), max_size=6)


def murmur3_x86_32(data: bytes, seed: int = 0) -> int:
    """Independent byte-oriented MurmurHash3_x86_32 (Appleby's reference, incl. tail)."""
    c1, c2, m = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF
    h = seed & m
    n = len(data) // 4
    for (k,) in struct.iter_unpack("<I", data[: 4 * n]):
        k = (k * c1) & m
        k = ((k << 15) | (k >> 17)) & m
        k = (k * c2) & m
        h ^= k
        h = ((h << 13) | (h >> 19)) & m
        h = (h * 5 + 0xE6546B64) & m
    tail = data[4 * n:]
    k = 0
    for i, b in enumerate(tail):
        k |= b << (8 * i)
    if tail:
        k = (k * c1) & m
        k = ((k << 15) | (k >> 17)) & m
        k = (k * c2) & m
        h ^= k
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & m
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & m
    h ^= h >> 16
    return h


def test_reference_murmur_known_answers() -> None:
    # Published MurmurHash3_x86_32 test vectors.
    assert murmur3_x86_32(b"", 0) == 0
    assert murmur3_x86_32(b"", 1) == 0x514E28B7
    assert murmur3_x86_32(b"", 0xFFFFFFFF) == 0x81F16F39
    assert murmur3_x86_32(b"\0\0\0\0", 0) == 0x2362F9DE
    assert murmur3_x86_32(b"hello", 0) == 0x248BFA47
    assert murmur3_x86_32(b"The quick brown fox jumps over the lazy dog", 0x9747B28C) == (
        0x2FA826CD)


@PROPERTY
@given(seeds, words)
def test_hash_ints_is_murmur3_of_le_words(seed: int, values: list[int]) -> None:
    ws = [seed & MASK32, seed >> 32, *(v & MASK32 for v in values)]
    data = struct.pack(f"<{len(ws)}I", *ws)
    assert hash_ints(seed, *values) == murmur3_x86_32(data, 0)


def test_hash_ints_fixed_values() -> None:
    # Frozen: a changed value changes every generated world (bump GENERATOR_VERSION).
    assert hash_ints(0) == murmur3_x86_32(bytes(8))
    assert [hash_ints(42, 1, 2, 3), hash_ints(SEED_MAX, -1)] == [
        murmur3_x86_32(struct.pack("<5I", 42, 0, 1, 2, 3)),
        murmur3_x86_32(struct.pack("<3I", MASK32, 0x7FFFFFFF, MASK32)),
    ]


@given(seeds, st.integers(-(2**31), 2**31 - 1))
def test_negative_values_are_twos_complement(seed: int, v: int) -> None:
    assert hash_ints(seed, v) == hash_ints(seed, v & MASK32)
    assert 0 <= hash_ints(seed, v) <= MASK32


def test_seed_words_both_matter() -> None:
    assert hash_ints(5) != hash_ints(5 + 2**32)
    assert hash_ints(2**32) != hash_ints(0)


def test_negative_seed_rejected() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        hash_ints(-1)


def test_derived_seeds() -> None:
    assert get_planet_seed(42, 3) == hash_ints(42, SALT_PLANET, 3)
    assert get_chunk_seed(99, (-1, 2, -3)) == hash_ints(99, SALT_CHUNK, -1, 2, -3)
    assert get_chunk_seed(99, (-1, 2, -3)) != get_chunk_seed(99, (2, -1, -3))


def test_hash_low_bits_uniform() -> None:
    # Statistical: 16 buckets of the low 4 bits over 32768 consecutive inputs; chi-square
    # with 15 degrees of freedom; tolerance 50 (p ~ 1e-5).
    n = 32768
    counts = np.bincount([hash_ints(7, i) & 15 for i in range(n)], minlength=16)
    chi2 = float(((counts - n / 16) ** 2 / (n / 16)).sum())
    assert chi2 < 50.0, counts


@given(st.integers(0, 2**32 - 1), st.lists(st.integers(-(2**40), 2**40), min_size=1,
                                          max_size=50))
def test_noise_hash_matches_scalar_formula(seed: int, ints: list[int]) -> None:
    ix = np.array(ints, dtype=np.int64)
    xp, yp, zp = ((ix * p) & MASK32 for p in (PRIME_X, PRIME_Y, PRIME_Z))
    got = noise_hash(seed, xp, yp, zp)
    for n, i in enumerate(ints):
        h = (seed ^ ((i * PRIME_X) & MASK32) ^ ((i * PRIME_Y) & MASK32)
             ^ ((i * PRIME_Z) & MASK32)) & MASK32
        h = (h * NOISE_MULT) & MASK32
        assert int(got[n]) == h ^ (h >> 15)


# ---- Rng ------------------------------------------------------------------------------


@PROPERTY
@given(seeds, st.lists(st.integers(-(2**31), 2**32), max_size=3))
def test_rng_is_counter_based(seed: int, key: list[int]) -> None:
    rng = Rng(seed, *key)
    got = [rng.next_u32() for _ in range(5)]
    assert got == [hash_ints(seed, *key, n) for n in range(5)]
    # independent of other streams drawn in between
    a, b = Rng(seed, *key), Rng(seed, *key, 1)
    first = a.next_u32()
    b.next_u32()
    assert first == got[0] and a.next_u32() == got[1]


@given(seeds, st.integers(1, 2**31 - 1))
def test_below_in_range_and_lemire(seed: int, n: int) -> None:
    rng = Rng(seed)
    v = rng.below(n)
    assert 0 <= v < n
    assert v == (hash_ints(seed, 0) * n) >> 32


@pytest.mark.parametrize("n", [0, -1, 2**31])
def test_below_rejects(n: int) -> None:
    with pytest.raises(ValueError, match="2\\*\\*31"):
        Rng(1).below(n)


@given(seeds, st.floats(-1e6, 1e6), st.floats(0.001, 1e6))
def test_floats_in_range(seed: int, lo: float, width: float) -> None:
    rng = Rng(seed, 3)
    f = rng.next_float()
    assert 0.0 <= f < 1.0 and f == hash_ints(seed, 3, 0) / 2**32
    u = rng.uniform(lo, lo + width)
    assert lo <= u <= lo + width


def _pick_reference(u: int, weights: list[int]) -> int:
    total = sum(weights)
    acc = 0
    for i, w in enumerate(weights):
        acc += w
        if u * total < acc << 32:  # u / 2**32 < acc / total, exactly
            return i
    raise AssertionError


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(0, 1000), min_size=1, max_size=12)
       .filter(lambda w: sum(w) > 0))
def test_pick_weighted(u: int, weights: list[int]) -> None:
    i = pick_weighted(u, weights)
    assert i == _pick_reference(u, weights)
    assert weights[i] > 0  # a zero weight is never picked
    assert pick_weighted(0, weights) == next(k for k, w in enumerate(weights) if w > 0)
    assert pick_weighted(MASK32, weights) == max(k for k, w in enumerate(weights) if w > 0)


@pytest.mark.parametrize("weights", [[], [0, 0], [-1, 1]])
def test_pick_weighted_rejects(weights: list[int]) -> None:
    with pytest.raises(ValueError, match="positive"):
        pick_weighted(5, weights)


def test_weighted_frequencies() -> None:
    # Statistical: 20000 draws of weights (1, 2, 7); each count within 5 binomial standard
    # deviations of its expectation.
    w = [1, 2, 7]
    rng = Rng(2024, 11)
    n = 20000
    counts = np.bincount([rng.weighted(w) for _ in range(n)], minlength=3)
    for c, wi in zip(counts, w, strict=True):
        p = wi / 10
        assert abs(c - n * p) <= 5 * (n * p * (1 - p)) ** 0.5
