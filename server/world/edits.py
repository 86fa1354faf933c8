"""One terrain tool edit on a region, with its soil accounting (pure, no world state).

:func:`plan_edit` turns the current voxels of an edit's box into the new voxels and the
soil moved, or a reject reason. The rules (``docs/terrain.md`` sections 2 and 3):
excavate removes only what fits in ``room`` (limited from the centre outward;
``CANISTERS_FULL`` when nothing fits), elevate needs all the soil it adds
(``NOT_ENOUGH_SOIL``), flatten is all or nothing on its net soil, and an edit that changes
no voxel is ``NO_EFFECT``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from shared_gen.constants import SOIL

from . import csg
from .soil import fill
from .types import EditMode, RejectReason, Vec3

I8 = npt.NDArray[np.int8]
U8 = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class EditPlan:
    """Outcome of :func:`plan_edit`.

    Attributes:
        reason: ``NONE`` when the edit applies.
        density, material: the region's new voxels (None when rejected).
        soil_delta: units moved into (+) or out of (-) the canisters; exactly
            ``sum(fill(old)) - sum(fill(new))``.
    """

    reason: RejectReason
    density: I8 | None = None
    material: U8 | None = None
    soil_delta: int = 0


def plan_edit(
    mode: EditMode,
    density: I8,
    material: U8,
    lo: tuple[int, int, int],
    center: Vec3,
    radius: float,
    *,
    room: int,
    held: int,
    flatten_step: int,
) -> EditPlan:
    """Plan an edit of the region starting at global voxel ``lo``.

    Args:
        density, material: current voxels of the edit's box (not modified).
        room: soil units that still fit in the player's canisters.
        held: soil units the player's canisters hold.
        flatten_step: largest density change of a flatten, units.
    """
    dist = csg.distance(lo, density.shape, center)
    if mode == EditMode.EXCAVATE:
        new_d = csg.excavate(density, dist, radius)
    elif mode == EditMode.ELEVATE:
        new_d = csg.elevate(density, dist, radius)
    else:
        new_d = csg.flatten(density, lo, center, dist, radius, flatten_step)
    before = _fill_sum(density)
    gained = before - _fill_sum(new_d)
    if gained > room:
        if mode != EditMode.EXCAVATE or room == 0:
            return EditPlan(RejectReason.CANISTERS_FULL)
        new_d = csg.limit_removal(density, new_d, dist, room)
        gained = before - _fill_sum(new_d)
    elif -gained > held:
        return EditPlan(RejectReason.NOT_ENOUGH_SOIL)
    new_m = csg.materials(density, new_d, material, SOIL)
    if np.array_equal(new_d, density) and np.array_equal(new_m, material):
        return EditPlan(RejectReason.NO_EFFECT)
    return EditPlan(RejectReason.NONE, new_d, new_m, gained)


def _fill_sum(q: I8) -> int:
    return int(fill(q).sum())
