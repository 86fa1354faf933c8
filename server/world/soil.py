"""The integer soil model: voxel fill and canister arithmetic.

Fill of a voxel with quantized density ``q`` (16 units per voxel width)::

    fill(q) = clamp(q + 8, 0, 16)          # sixteenths of the voxel's volume

This is the exact fraction of the voxel cell below a plane that passes at signed
distance ``q / 32`` metres from the voxel centre (an axis-aligned plane; an estimate for
other surfaces). Soil *units* are sums of fill changes, so 1 unit = 1/16 voxel =
0.0078125 m^3, and conservation (Properties 1 and 2) is exact integer equality.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

FILL_OFFSET: Final = 8
FILL_MAX: Final = 16

I64 = npt.NDArray[np.int64]


def fill(q: npt.NDArray[np.integer]) -> I64:
    """Fill per voxel, int64 in 0..16, same shape as ``q`` (any integer dtype)."""
    return np.clip(q.astype(np.int64) + FILL_OFFSET, 0, FILL_MAX)


def soil_units(q: npt.NDArray[np.integer]) -> int:
    """Total fill of a density array: the soil it holds, in units."""
    return int(fill(q).sum())


def free_space(canisters: list[int], ids: list[int | None], capacity: int) -> int:
    """Units that still fit in the attached canisters (empty slots hold nothing)."""
    return sum(
        max(0, capacity - s) for s, i in zip(canisters, ids, strict=True) if i is not None
    )


def add_soil(canisters: list[int], ids: list[int | None], capacity: int, amount: int) -> int:
    """Add up to ``amount`` units, filling slot 0 first; returns the units added.

    Mutates ``canisters`` in place.
    """
    left = amount
    for slot, cid in enumerate(ids):
        if left <= 0:
            break
        if cid is None:
            continue
        take = min(capacity - canisters[slot], left)
        if take > 0:
            canisters[slot] += take
            left -= take
    return amount - left


def remove_soil(canisters: list[int], ids: list[int | None], amount: int) -> bool:
    """Remove exactly ``amount`` units, draining the highest slot first.

    Returns False (and changes nothing) when the canisters hold less than ``amount``.
    """
    have = sum(s for s, i in zip(canisters, ids, strict=True) if i is not None)
    if have < amount:
        return False
    left = amount
    for slot in range(len(ids) - 1, -1, -1):
        if left <= 0:
            break
        if ids[slot] is None:
            continue
        take = min(canisters[slot], left)
        canisters[slot] -= take
        left -= take
    return True
