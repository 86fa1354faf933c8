"""Terrain tool operations on a box of voxels: signed-distance CSG, pure numpy.

Every function works on a *region*: a box of global voxels starting at ``lo`` (inclusive,
global voxel indices) with arrays indexed [x, y, z]. Densities are the quantized int8
field of ``shared_gen`` (positive = solid, 32 units per metre, 16 per voxel width).

Formulas (``docs/terrain.md``, "Edits"), with ``s = |p - c|`` the distance in metres of a
voxel centre ``p = g * 0.5`` from the edit centre ``c`` and
``Q(x) = clamp(floor(x * 32 + 0.5), -127, 127)`` the generator's quantization:

* excavate: ``q' = min(q, Q(s - r))`` for voxels with ``s <= r + BAND_M``
* elevate:  ``q' = max(q, Q(r - s))`` for voxels with ``s <= r + BAND_M``
* flatten:  ``q' = q + clamp(Q(-h) - q, -step, step)`` for voxels with ``s <= r``, where
  ``h = (p - c) . up`` is the height above the plane through ``c`` perpendicular to
  the radial direction ``up = c / |c|``.

Materials: a voxel whose density becomes ``<= 0`` becomes air (0); a voxel that turns
from air to solid gets the fill material (SOIL); other voxels keep their material.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

from shared_gen.constants import AIR, DENSITY_MAX_Q, DENSITY_SCALE, VOXEL_SIZE

from .soil import FILL_OFFSET, fill

I8 = npt.NDArray[np.int8]
U8 = npt.NDArray[np.uint8]
I16 = npt.NDArray[np.int16]
F64 = npt.NDArray[np.float64]
Vec3 = tuple[float, float, float]
GVox = tuple[int, int, int]

#: Excavate/elevate also rewrite voxels up to this far (metres) outside the sphere, so the
#: densities next to the new surface are its true signed distance (clean isosurface).
BAND_M: Final = 1.0


def sphere_box(center: Vec3, reach_m: float) -> tuple[GVox, GVox]:
    """Inclusive global voxel bounds ``(lo, hi)`` of voxels within ``reach_m`` of ``center``."""
    lo = tuple(math.ceil((c - reach_m) / VOXEL_SIZE) for c in center)
    hi = tuple(math.floor((c + reach_m) / VOXEL_SIZE) for c in center)
    return lo, hi  # type: ignore[return-value]


def offsets(lo: GVox, shape: tuple[int, int, int], center: Vec3) -> tuple[F64, F64, F64]:
    """Voxel centre minus ``center`` in metres, three broadcastable float64 arrays."""
    ax = [
        (lo[i] + np.arange(shape[i], dtype=np.int64)).astype(np.float64) * VOXEL_SIZE
        - center[i]
        for i in range(3)
    ]
    return ax[0][:, None, None], ax[1][None, :, None], ax[2][None, None, :]


def distance(lo: GVox, shape: tuple[int, int, int], center: Vec3) -> F64:
    """Distance in metres of each voxel centre of the region from ``center``."""
    dx, dy, dz = offsets(lo, shape, center)
    return np.sqrt(dx * dx + dy * dy + dz * dz)


def quantize(d_m: F64) -> I16:
    """``clamp(floor(d * 32 + 0.5), -127, 127)`` as int16 (same rule as the generator)."""
    q = np.floor(d_m * DENSITY_SCALE + 0.5)
    return np.clip(q, -DENSITY_MAX_Q, DENSITY_MAX_Q).astype(np.int16)


def excavate(q: I8, dist: F64, radius: float) -> I8:
    """Density after removing a sphere of ``radius`` metres (``dist`` from :func:`distance`)."""
    band = dist <= radius + BAND_M
    qs = quantize(dist - radius)
    return np.where(band, np.minimum(q.astype(np.int16), qs), q).astype(np.int8)


def elevate(q: I8, dist: F64, radius: float) -> I8:
    """Density after adding a solid sphere of ``radius`` metres."""
    band = dist <= radius + BAND_M
    qs = quantize(radius - dist)
    return np.where(band, np.maximum(q.astype(np.int16), qs), q).astype(np.int8)


def radial_up(center: Vec3) -> Vec3:
    """Unit vector from the planet centre through ``center`` (+y at the very centre)."""
    n = math.sqrt(center[0] ** 2 + center[1] ** 2 + center[2] ** 2)
    if n < 1e-9:
        return (0.0, 1.0, 0.0)
    return (center[0] / n, center[1] / n, center[2] / n)


def flatten(
    q: I8, lo: GVox, center: Vec3, dist: F64, radius: float, step: int
) -> I8:
    """Density moved by at most ``step`` units toward the plane through ``center``."""
    ux, uy, uz = radial_up(center)
    dx, dy, dz = offsets(lo, q.shape, center)
    h = dx * ux + dy * uy + dz * uz
    target = quantize(-h)
    q16 = q.astype(np.int16)
    moved = q16 + np.clip(target - q16, -step, step)
    return np.where(dist <= radius, moved, q16).astype(np.int8)


def materials(old_q: I8, new_q: I8, old_m: U8, fill_material: int) -> U8:
    """Materials after a density change (air where not solid; new solid gets the fill)."""
    m = np.where(new_q > 0, old_m, np.uint8(AIR))
    m = np.where((new_q > 0) & (old_q <= 0), np.uint8(fill_material), m)
    return m.astype(np.uint8)


def limit_removal(old_q: I8, new_q: I8, dist: F64, budget: int) -> I8:
    """Apply only the part of an excavation whose removed soil fits in ``budget`` units.

    Changed voxels are taken in order of increasing distance from the centre (ties: flat
    region index); whole voxels are applied while the running total of removed fill stays
    within the budget, the first voxel that does not fit is applied partially so the
    total is exactly ``budget``, the rest are left unchanged. Requires ``new_q <= old_q``.
    """
    changed = np.flatnonzero(new_q != old_q)
    d_flat = dist.reshape(-1)[changed]
    order = changed[np.lexsort((changed, d_flat))]
    old_f = old_q.reshape(-1)
    new_f = new_q.reshape(-1)
    removed = fill(old_f[order]) - fill(new_f[order])
    cum = np.cumsum(removed)
    k = int(np.searchsorted(cum, budget, side="right"))  # first voxel that overflows
    out = old_f.copy()
    out[order[:k]] = new_f[order[:k]]
    if k < len(order):
        used = int(cum[k - 1]) if k > 0 else 0
        remaining = budget - used
        if remaining > 0:
            i = order[k]
            target_fill = int(fill(old_f[i : i + 1])[0]) - remaining
            out[i] = np.int8(target_fill - FILL_OFFSET)
    return out.reshape(old_q.shape)
