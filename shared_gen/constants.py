"""Constants shared by every port of the generator (Python reference, GDScript client).

Every number here is part of the generation contract: changing one changes the bytes of
generated chunks and therefore requires bumping :data:`GENERATOR_VERSION`
(see ``docs/generation.md``).
"""

from __future__ import annotations

from typing import Final

#: Version of the generation algorithm, written into every canonical chunk encoding.
GENERATOR_VERSION: Final = 1

#: Edge length of a voxel in metres.
VOXEL_SIZE: Final = 0.5
#: Voxels along each edge of a chunk (a chunk is CHUNK_SIZE**3 voxels, 16 m on a side).
CHUNK_SIZE: Final = 32
#: Voxels per chunk.
CHUNK_VOLUME: Final = CHUNK_SIZE * CHUNK_SIZE * CHUNK_SIZE
#: Spacing, in voxels, of the coarse lattice on which the expensive fields are sampled.
LATTICE_STEP: Final = 4
#: Lattice points along each edge of a chunk (both faces included: 0, 4, ..., 32).
LATTICE_POINTS: Final = CHUNK_SIZE // LATTICE_STEP + 1

#: Quantized density units per metre: int8 density q = clamp(floor(d * 32 + 0.5), -127, 127).
DENSITY_SCALE: Final = 32
#: Largest magnitude of quantized density.
DENSITY_MAX_Q: Final = 127
#: Lattice density is clamped to +-DENSITY_CLAMP metres before interpolation.
DENSITY_CLAMP: Final = 4.0

#: 32-bit mask used by all integer hashing (GDScript ints are int64 and wrap).
MASK32: Final = 0xFFFFFFFF
#: Largest accepted world seed (seeds are non-negative and fit in a signed 64-bit int).
SEED_MAX: Final = (1 << 63) - 1

# ---- material ids (uint8) ------------------------------------------------------------
AIR: Final = 0
REGOLITH: Final = 1
SOIL: Final = 2
SAND: Final = 3
SNOW: Final = 4
GRASS: Final = 5
ASH: Final = 6
TOXIC_SLUDGE: Final = 7
CRYSTAL_SHARD: Final = 8
ICE: Final = 9
MUD: Final = 10
STONE: Final = 16
BASALT: Final = 17
GRANITE: Final = 18
SANDSTONE: Final = 19
PERMAFROST: Final = 20
MANTLE_ROCK: Final = 24
ORE_IRON: Final = 32
ORE_COPPER: Final = 33
ORE_TITANIUM: Final = 34
ORE_LITHIUM: Final = 35
ORE_GOLD: Final = 36
ORE_URANIUM: Final = 37

#: Material id -> name, for documentation, tooling and the client palette.
MATERIAL_NAMES: Final[dict[int, str]] = {
    AIR: "air",
    REGOLITH: "regolith",
    SOIL: "soil",
    SAND: "sand",
    SNOW: "snow",
    GRASS: "grass",
    ASH: "ash",
    TOXIC_SLUDGE: "toxic_sludge",
    CRYSTAL_SHARD: "crystal_shard",
    ICE: "ice",
    MUD: "mud",
    STONE: "stone",
    BASALT: "basalt",
    GRANITE: "granite",
    SANDSTONE: "sandstone",
    PERMAFROST: "permafrost",
    MANTLE_ROCK: "mantle_rock",
    ORE_IRON: "ore_iron",
    ORE_COPPER: "ore_copper",
    ORE_TITANIUM: "ore_titanium",
    ORE_LITHIUM: "ore_lithium",
    ORE_GOLD: "ore_gold",
    ORE_URANIUM: "ore_uranium",
}
