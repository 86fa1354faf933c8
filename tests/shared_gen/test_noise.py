"""Gradient noise (shared_gen/noise.py) against a scalar re-implementation of the spec."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from sg_support import PROPERTY

from shared_gen.constants import MASK32
from shared_gen.hashing import NOISE_MULT, PRIME_X, PRIME_Y, PRIME_Z
from shared_gen.noise import fbm2, fbm3, fbm_norm, perlin2, perlin3

G3 = ((1, 1, 0), (-1, 1, 0), (1, -1, 0), (-1, -1, 0), (1, 0, 1), (-1, 0, 1), (1, 0, -1),
      (-1, 0, -1), (0, 1, 1), (0, -1, 1), (0, 1, -1), (0, -1, -1), (1, 1, 0), (0, -1, 1),
      (-1, 1, 0), (0, -1, -1))
G2 = ((1, 1), (-1, 1), (1, -1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1))

coords = st.floats(-1.0e4, 1.0e4, allow_nan=False, allow_infinity=False)
u32 = st.integers(0, MASK32)


def _h(seed: int, ix: int, iy: int, iz: int) -> int:
    h = (seed ^ ((ix * PRIME_X) & MASK32) ^ ((iy * PRIME_Y) & MASK32)
         ^ ((iz * PRIME_Z) & MASK32)) & MASK32
    h = (h * NOISE_MULT) & MASK32
    return h ^ (h >> 15)


def _fade(t: float) -> float:
    return t * t * t * (t * (t * 6.0 - 15.0) + 10.0)


def _lerp(a: float, b: float, t: float) -> float:
    return a + t * (b - a)


def perlin3_scalar(seed: int, x: float, y: float, z: float) -> float:
    """Spec of docs/generation.md, one point at a time, in plain Python floats."""
    fx, fy, fz = math.floor(x), math.floor(y), math.floor(z)
    tx, ty, tz = x - fx, y - fy, z - fz

    def d(i: int, j: int, k: int) -> float:
        gx, gy, gz = G3[_h(seed, fx + i, fy + j, fz + k) & 15]
        return gx * (tx - i) + gy * (ty - j) + gz * (tz - k)

    u, v, w = _fade(tx), _fade(ty), _fade(tz)
    n00 = _lerp(d(0, 0, 0), d(1, 0, 0), u)
    n10 = _lerp(d(0, 1, 0), d(1, 1, 0), u)
    n01 = _lerp(d(0, 0, 1), d(1, 0, 1), u)
    n11 = _lerp(d(0, 1, 1), d(1, 1, 1), u)
    return _lerp(_lerp(n00, n10, v), _lerp(n01, n11, v), w)


def perlin2_scalar(seed: int, x: float, y: float) -> float:
    fx, fy = math.floor(x), math.floor(y)
    tx, ty = x - fx, y - fy

    def d(i: int, j: int) -> float:
        gx, gy = G2[_h(seed, fx + i, fy + j, 0) & 7]
        return gx * (tx - i) + gy * (ty - j)

    u, v = _fade(tx), _fade(ty)
    return _lerp(_lerp(d(0, 0), d(1, 0), u), _lerp(d(0, 1), d(1, 1), u), v)


def _arr(*vals: float) -> np.ndarray:
    return np.array(vals, dtype=np.float64)


@PROPERTY
@given(u32, st.lists(st.tuples(coords, coords, coords), min_size=1, max_size=8))
def test_perlin3_bit_exact_with_scalar_spec(seed: int, pts: list[tuple[float, ...]]) -> None:
    x, y, z = (np.array(c, dtype=np.float64) for c in zip(*pts, strict=True))
    got = perlin3(seed, x, y, z)
    for n, (a, b, c) in enumerate(pts):
        assert got[n] == perlin3_scalar(seed, a, b, c)  # bitwise: == on floats


@PROPERTY
@given(u32, st.lists(st.tuples(coords, coords), min_size=1, max_size=8))
def test_perlin2_bit_exact_with_scalar_spec(seed: int, pts: list[tuple[float, ...]]) -> None:
    x, y = (np.array(c, dtype=np.float64) for c in zip(*pts, strict=True))
    got = perlin2(seed, x, y)
    for n, (a, b) in enumerate(pts):
        assert got[n] == perlin2_scalar(seed, a, b)


@given(u32, st.integers(-1000, 1000), st.integers(-1000, 1000), st.integers(-1000, 1000))
def test_zero_at_lattice_points(seed: int, i: int, j: int, k: int) -> None:
    assert perlin3(seed, _arr(i), _arr(j), _arr(k))[0] == 0.0
    assert perlin2(seed, _arr(i), _arr(j))[0] == 0.0


def test_range_and_spread() -> None:
    rs = np.random.default_rng(7)
    x, y, z = rs.uniform(-500.0, 500.0, size=(3, 200_000))
    n3 = perlin3(12345, x, y, z)
    n2 = perlin2(12345, x, y)
    assert np.abs(n3).max() <= 1.0 and np.abs(n2).max() <= 1.0
    assert np.abs(n3).max() > 0.7 and n3.std() > 0.15  # not degenerate
    assert abs(float(np.mean(n3))) < 0.01


@given(u32, coords, coords, coords)
def test_continuity(seed: int, x: float, y: float, z: float) -> None:
    # The gradient of improved Perlin noise is bounded (|grad| < 4 per axis is generous).
    eps = 1e-4
    a = perlin3(seed, _arr(x), _arr(y), _arr(z))[0]
    b = perlin3(seed, _arr(x + eps), _arr(y - eps), _arr(z + eps))[0]
    assert abs(a - b) <= 12 * eps


def test_seed_matters_and_shape_kept() -> None:
    x = np.linspace(-3.3, 7.7, 60).reshape(3, 4, 5)
    a, b = perlin3(1, x, x * 0.5, -x), perlin3(2, x, x * 0.5, -x)
    assert a.shape == x.shape and a.dtype == np.float64
    assert not np.array_equal(a, b)
    assert np.array_equal(a, perlin3(1, x, x * 0.5, -x))


def test_fbm_norm() -> None:
    assert fbm_norm(1, 0.5) == 1.0
    assert fbm_norm(4, 0.5) == 1.875
    assert fbm_norm(3, 0.25) == 1.3125


@PROPERTY
@given(u32, st.integers(1, 6), st.lists(st.tuples(coords, coords, coords), min_size=1,
                                        max_size=6))
def test_fbm3_is_sum_of_octaves(seed: int, octaves: int, pts: list[tuple[float, ...]]) -> None:
    x, y, z = (np.array(c, dtype=np.float64) * 0.01 for c in zip(*pts, strict=True))
    total = np.zeros_like(x)
    amp, freq = 1.0, 1.0
    for o in range(octaves):
        total = total + amp * perlin3((seed + o) & MASK32, x * freq, y * freq, z * freq)
        amp *= 0.5
        freq *= 2.0
    assert np.array_equal(fbm3(seed, x, y, z, octaves), total / fbm_norm(octaves, 0.5))
    assert np.array_equal(fbm3(seed, x, y, z, 1), perlin3(seed, x, y, z))
    assert np.abs(fbm3(seed, x, y, z, octaves)).max() <= 1.0


@given(u32, st.lists(st.tuples(coords, coords), min_size=1, max_size=6))
def test_fbm2_octave_seeds_wrap(seed: int, pts: list[tuple[float, ...]]) -> None:
    x, y = (np.array(c, dtype=np.float64) for c in zip(*pts, strict=True))
    two = fbm2(seed, x, y, 2, 2.0, 0.5)
    want = (perlin2(seed, x, y) + 0.5 * perlin2((seed + 1) & MASK32, x * 2.0, y * 2.0)) / 1.5
    assert np.array_equal(two, want)
