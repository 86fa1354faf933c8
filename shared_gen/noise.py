"""Gradient (Perlin) noise in 2D and 3D and fractal Brownian motion, float64, vectorised.

Design: Ken Perlin's *improved noise* (SIGGRAPH 2002): quintic fade ``6t^5 - 15t^4 + 10t^3``,
the 12 cube-edge gradients padded to 16, trilinear blend of the corner dot products. The
permutation table is replaced by FastNoiseLite's lattice hash
(:func:`shared_gen.hashing.noise_hash`), so any seed works without a table.

Only ``+ - * /``, ``floor`` and comparisons are used, each in the order written here, so
IEEE-754 float64 gives the same bits in every language (see ``docs/generation.md``).
Blend order: along x first, then y, then z; ``lerp(a, b, t) = a + t * (b - a)``.

All functions take float64 numpy arrays of one shape and return a float64 array of that
shape. Output range is roughly ``[-1, 1]``.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from .constants import MASK32
from .hashing import PRIME_X, PRIME_Y, PRIME_Z, noise_hash

F64Array = npt.NDArray[np.float64]

#: Improved-Perlin gradients (12 cube edges + 4 repeats), indexed by ``hash & 15``.
GRAD3_X: Final = np.array([1, -1, 1, -1, 1, -1, 1, -1, 0, 0, 0, 0, 1, 0, -1, 0], dtype=np.float64)
GRAD3_Y: Final = np.array([1, 1, -1, -1, 0, 0, 0, 0, 1, -1, 1, -1, 1, -1, 1, -1], dtype=np.float64)
GRAD3_Z: Final = np.array([0, 0, 0, 0, 1, 1, -1, -1, 1, 1, -1, -1, 0, 1, 0, -1], dtype=np.float64)
#: 2D gradients (the 8 compass directions, unnormalised), indexed by ``hash & 7``.
GRAD2_X: Final = np.array([1, -1, 1, -1, 1, -1, 0, 0], dtype=np.float64)
GRAD2_Y: Final = np.array([1, 1, -1, -1, 0, 0, 1, -1], dtype=np.float64)


def fade(t: F64Array) -> F64Array:
    """Perlin's quintic fade ``t * t * t * (t * (t * 6 - 15) + 10)``."""
    return t * t * t * (t * (t * 6.0 - 15.0) + 10.0)


def lerp(a: F64Array, b: F64Array, t: F64Array) -> F64Array:
    """``a + t * (b - a)`` (this exact order is part of the contract)."""
    return a + t * (b - a)


def _grad3(h: npt.NDArray[np.int64], dx: F64Array, dy: F64Array, dz: F64Array) -> F64Array:
    g = h & 15
    out: F64Array = GRAD3_X[g] * dx + GRAD3_Y[g] * dy + GRAD3_Z[g] * dz
    return out


def perlin3(seed: int, x: F64Array, y: F64Array, z: F64Array) -> F64Array:
    """Improved Perlin noise at points ``(x, y, z)`` (noise units: one lattice cell = 1).

    Args:
        seed: u32 noise seed.
        x, y, z: float64 arrays of one shape.

    Returns:
        float64 array of that shape, roughly in ``[-1, 1]``; 0 at integer points.
    """
    fx = np.floor(x)
    fy = np.floor(y)
    fz = np.floor(z)
    tx = x - fx
    ty = y - fy
    tz = z - fz
    ix = fx.astype(np.int64)
    iy = fy.astype(np.int64)
    iz = fz.astype(np.int64)
    x0 = (ix * PRIME_X) & MASK32
    y0 = (iy * PRIME_Y) & MASK32
    z0 = (iz * PRIME_Z) & MASK32
    x1 = ((ix + 1) * PRIME_X) & MASK32
    y1 = ((iy + 1) * PRIME_Y) & MASK32
    z1 = ((iz + 1) * PRIME_Z) & MASK32
    tx1 = tx - 1.0
    ty1 = ty - 1.0
    tz1 = tz - 1.0
    d000 = _grad3(noise_hash(seed, x0, y0, z0), tx, ty, tz)
    d100 = _grad3(noise_hash(seed, x1, y0, z0), tx1, ty, tz)
    d010 = _grad3(noise_hash(seed, x0, y1, z0), tx, ty1, tz)
    d110 = _grad3(noise_hash(seed, x1, y1, z0), tx1, ty1, tz)
    d001 = _grad3(noise_hash(seed, x0, y0, z1), tx, ty, tz1)
    d101 = _grad3(noise_hash(seed, x1, y0, z1), tx1, ty, tz1)
    d011 = _grad3(noise_hash(seed, x0, y1, z1), tx, ty1, tz1)
    d111 = _grad3(noise_hash(seed, x1, y1, z1), tx1, ty1, tz1)
    u = fade(tx)
    v = fade(ty)
    w = fade(tz)
    n00 = lerp(d000, d100, u)
    n10 = lerp(d010, d110, u)
    n01 = lerp(d001, d101, u)
    n11 = lerp(d011, d111, u)
    n0 = lerp(n00, n10, v)
    n1 = lerp(n01, n11, v)
    out: F64Array = lerp(n0, n1, w)
    return out


def perlin2(seed: int, x: F64Array, y: F64Array) -> F64Array:
    """2D improved Perlin noise at ``(x, y)``; the 2D lattice hash uses ``zp = 0``.

    Returns:
        float64 array of the inputs' shape, roughly in ``[-1, 1]``.
    """
    fx = np.floor(x)
    fy = np.floor(y)
    tx = x - fx
    ty = y - fy
    ix = fx.astype(np.int64)
    iy = fy.astype(np.int64)
    x0 = (ix * PRIME_X) & MASK32
    y0 = (iy * PRIME_Y) & MASK32
    x1 = ((ix + 1) * PRIME_X) & MASK32
    y1 = ((iy + 1) * PRIME_Y) & MASK32
    zero = np.zeros_like(ix)
    tx1 = tx - 1.0
    ty1 = ty - 1.0

    def g(h: npt.NDArray[np.int64], dx: F64Array, dy: F64Array) -> F64Array:
        k = h & 7
        out: F64Array = GRAD2_X[k] * dx + GRAD2_Y[k] * dy
        return out

    d00 = g(noise_hash(seed, x0, y0, zero), tx, ty)
    d10 = g(noise_hash(seed, x1, y0, zero), tx1, ty)
    d01 = g(noise_hash(seed, x0, y1, zero), tx, ty1)
    d11 = g(noise_hash(seed, x1, y1, zero), tx1, ty1)
    u = fade(tx)
    v = fade(ty)
    out: F64Array = lerp(lerp(d00, d10, u), lerp(d01, d11, u), v)
    return out


def fbm_norm(octaves: int, gain: float) -> float:
    """Sum of the octave amplitudes ``1 + gain + gain*gain + ...`` (added in that order)."""
    amp = 1.0
    norm = 0.0
    for _ in range(octaves):
        norm += amp
        amp *= gain
    return norm


def fbm3(
    seed: int,
    x: F64Array,
    y: F64Array,
    z: F64Array,
    octaves: int,
    lacunarity: float = 2.0,
    gain: float = 0.5,
) -> F64Array:
    """Fractal Brownian motion of :func:`perlin3`, normalised by :func:`fbm_norm`.

    Octave ``o`` uses seed ``(seed + o) & MASK32``, frequency ``lacunarity**o`` and amplitude
    ``gain**o`` (both built by repeated multiplication, never ``pow``). The sum starts at 0.0
    and adds the octaves in order; the total is divided by the norm at the end.

    Returns:
        float64 array of the inputs' shape, roughly in ``[-1, 1]``.
    """
    total = np.zeros_like(x)
    amp = 1.0
    freq = 1.0
    for o in range(octaves):
        total = total + amp * perlin3((seed + o) & MASK32, x * freq, y * freq, z * freq)
        amp *= gain
        freq *= lacunarity
    return total / fbm_norm(octaves, gain)


def fbm2(
    seed: int,
    x: F64Array,
    y: F64Array,
    octaves: int,
    lacunarity: float = 2.0,
    gain: float = 0.5,
) -> F64Array:
    """Fractal Brownian motion of :func:`perlin2`; same conventions as :func:`fbm3`."""
    total = np.zeros_like(x)
    amp = 1.0
    freq = 1.0
    for o in range(octaves):
        total = total + amp * perlin2((seed + o) & MASK32, x * freq, y * freq)
        amp *= gain
        freq *= lacunarity
    return total / fbm_norm(octaves, gain)
