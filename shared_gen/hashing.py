"""Portable integer hashing and a counter-based PRNG.

Every operation is written with explicit 32-bit masking so that a port in a language with
wrapping signed 64-bit integers (GDScript) computes the same bits:

* a product of two values below 2**32 is reduced with ``& MASK32`` (in int64 the product may
  wrap, but its low 32 bits are the same as Python's exact product);
* right shifts are only applied to values already masked to ``[0, 2**32)``;
* negative inputs (chunk coordinates) are first reduced with ``& MASK32`` (two's complement).

Two hashes are defined:

``hash_ints(seed, *values)``
    MurmurHash3 x86_32 (Austin Appleby, public domain) over the 32-bit words
    ``[seed_lo, seed_hi, v0, v1, ...]`` with hash seed 0. Used for seeds, the PRNG and any
    per-object decision. Scalar Python ints.

``noise_hash(seed, xp, yp, zp)``
    The lattice hash of FastNoiseLite (Jordan Peck, MIT): ``(seed ^ xp ^ yp ^ zp) *
    0x27D4EB2D`` followed by ``h ^= h >> 15``, where ``xp = (ix * PRIME_X) & MASK32``.
    Vectorised over int64 numpy arrays; used by gradient noise.

The PRNG (:class:`Rng`) is counter based: draw ``n`` of the stream keyed by ``(seed, *key)``
is ``hash_ints(seed, *key, n)``, so a stream depends only on its seed and key, never on
what else was generated before.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from .constants import MASK32

C1: Final = 0xCC9E2D51
C2: Final = 0x1B873593
#: FastNoiseLite's lattice primes.
PRIME_X: Final = 501125321
PRIME_Y: Final = 1136930381
PRIME_Z: Final = 1720413743
NOISE_MULT: Final = 0x27D4EB2D

# Salts: the second word of a derived seed, one per purpose.
SALT_PLANET: Final = 0x504C4E54  # "PLNT"
SALT_CHUNK: Final = 0x43484E4B  # "CHNK"

I64Array = npt.NDArray[np.int64]


def _rotl32(x: int, r: int) -> int:
    """Rotate a 32-bit value left by ``r`` bits (0 < r < 32)."""
    return ((x << r) | (x >> (32 - r))) & MASK32


def fmix32(h: int) -> int:
    """MurmurHash3's 32-bit finalizer (avalanche). ``h`` must be in ``[0, 2**32)``."""
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & MASK32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & MASK32
    h ^= h >> 16
    return h


def hash_ints(seed: int, *values: int) -> int:
    """Hash a seed and any number of integers to an unsigned 32-bit int.

    Args:
        seed: non-negative int below 2**63; split into its low and high 32-bit words.
        values: any Python ints; each is reduced to its low 32 bits (two's complement).

    Returns:
        int in ``[0, 2**32)``: MurmurHash3_x86_32 (hash seed 0) of the little-endian words
        ``seed & M, (seed >> 32) & M, v0 & M, ...``.

    Raises:
        ValueError: if ``seed`` is negative.
    """
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    h = 0
    words = (seed & MASK32, (seed >> 32) & MASK32, *(v & MASK32 for v in values))
    for k in words:
        k = (k * C1) & MASK32
        k = _rotl32(k, 15)
        k = (k * C2) & MASK32
        h ^= k
        h = _rotl32(h, 13)
        h = (h * 5 + 0xE6546B64) & MASK32
    h ^= len(words) * 4
    return fmix32(h)


def get_planet_seed(system_seed: int, index: int) -> int:
    """Seed of planet ``index`` (0-based orbit order) of the system ``system_seed``: u32."""
    return hash_ints(system_seed, SALT_PLANET, index)


def get_chunk_seed(planet_seed: int, chunk: tuple[int, int, int]) -> int:
    """Seed of chunk ``(cx, cy, cz)`` (chunk coordinates, not metres) of a planet: u32."""
    cx, cy, cz = chunk
    return hash_ints(planet_seed, SALT_CHUNK, cx, cy, cz)


def noise_hash(seed: int, xp: I64Array, yp: I64Array, zp: I64Array) -> I64Array:
    """FastNoiseLite lattice hash, vectorised.

    Args:
        seed: u32 noise seed.
        xp, yp, zp: int64 arrays (same shape) of ``(i * PRIME_*) & MASK32`` for the lattice
            coordinates, each in ``[0, 2**32)``.

    Returns:
        int64 array in ``[0, 2**32)``.
    """
    h = (seed ^ xp ^ yp ^ zp) & MASK32
    h = (h * NOISE_MULT) & MASK32
    return h ^ (h >> 15)


class Rng:
    """Counter-based PRNG: draw ``n`` is ``hash_ints(seed, *key, n)``.

    The stream depends only on ``(seed, key)``. Not thread-safe per instance (the counter
    is mutable); create one per task.
    """

    __slots__ = ("counter", "key", "seed")

    def __init__(self, seed: int, *key: int) -> None:
        self.seed = seed
        self.key = key
        self.counter = 0

    def next_u32(self) -> int:
        """Next unsigned 32-bit value of the stream."""
        v = hash_ints(self.seed, *self.key, self.counter)
        self.counter += 1
        return v

    def next_float(self) -> float:
        """Uniform float64 in ``[0, 1)``: ``u32 / 2**32`` (exact)."""
        return self.next_u32() / 4294967296.0

    def uniform(self, lo: float, hi: float) -> float:
        """Uniform float64 in ``[lo, hi)``: ``lo + (hi - lo) * u``."""
        return lo + (hi - lo) * self.next_float()

    def below(self, n: int) -> int:
        """Integer in ``[0, n)`` for ``1 <= n < 2**31``: ``(u32 * n) >> 32`` (Lemire)."""
        if not 1 <= n < 2**31:
            raise ValueError(f"below() needs 1 <= n < 2**31, got {n}")
        return (self.next_u32() * n) >> 32

    def weighted(self, weights: tuple[int, ...] | list[int]) -> int:
        """Index picked with probability ``weights[i] / sum(weights)`` (positive ints)."""
        return pick_weighted(self.next_u32(), weights)


def pick_weighted(u32: int, weights: tuple[int, ...] | list[int]) -> int:
    """Map a u32 to an index with probability proportional to integer ``weights``.

    ``t = (u32 * total) >> 32``; the first index whose running sum exceeds ``t``.

    Raises:
        ValueError: if the weights are empty or do not sum to a positive value.
    """
    total = sum(weights)
    if total <= 0:
        raise ValueError("weights must sum to a positive value")
    t = (u32 * total) >> 32
    acc = 0
    for i, w in enumerate(weights):
        acc += w
        if t < acc:
            return i
    raise AssertionError("unreachable")  # pragma: no cover
