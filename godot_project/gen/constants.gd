class_name PSGenConstants
extends RefCounted
## Constants shared by every port of the generator (port of shared_gen/constants.py).
##
## Every number here is part of the generation contract: changing one changes the bytes
## of generated chunks and requires bumping [constant GENERATOR_VERSION] on both sides.

## Version of the generation algorithm, written into every canonical chunk encoding.
const GENERATOR_VERSION := 1

## Edge length of a voxel in metres.
const VOXEL_SIZE := 0.5
## Voxels along each edge of a chunk (a chunk is CHUNK_SIZE**3 voxels, 16 m on a side).
const CHUNK_SIZE := 32
## Voxels per chunk.
const CHUNK_VOLUME := CHUNK_SIZE * CHUNK_SIZE * CHUNK_SIZE
## Spacing, in voxels, of the coarse lattice on which the expensive fields are sampled.
const LATTICE_STEP := 4
## Lattice points along each edge of a chunk (both faces included: 0, 4, ..., 32).
const LATTICE_POINTS := 9

## Quantized density units per metre: q = clamp(floor(d * 32 + 0.5), -127, 127).
const DENSITY_SCALE := 32
## Largest magnitude of quantized density.
const DENSITY_MAX_Q := 127
## Lattice density is clamped to +-DENSITY_CLAMP metres before interpolation.
const DENSITY_CLAMP := 4.0

## 32-bit mask used by all integer hashing (GDScript ints are int64 and wrap).
const MASK32 := 0xFFFFFFFF
## Largest accepted world seed, 2**63 - 1 (seeds are non-negative int64).
const SEED_MAX := 9223372036854775807

# ---- material ids (uint8) ------------------------------------------------------------
const AIR := 0
const REGOLITH := 1
const SOIL := 2
const SAND := 3
const SNOW := 4
const GRASS := 5
const ASH := 6
const TOXIC_SLUDGE := 7
const CRYSTAL_SHARD := 8
const ICE := 9
const MUD := 10
const STONE := 16
const BASALT := 17
const GRANITE := 18
const SANDSTONE := 19
const PERMAFROST := 20
const MANTLE_ROCK := 24
const ORE_IRON := 32
const ORE_COPPER := 33
const ORE_TITANIUM := 34
const ORE_LITHIUM := 35
const ORE_GOLD := 36
const ORE_URANIUM := 37

## Material id -> name, for documentation, tooling and the client palette.
const MATERIAL_NAMES := {
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
