class_name PSGenBiomes
extends RefCounted
## Biome and resource tables (port of shared_gen/biomes.py; data, part of the contract).
##
## A biome is chosen per lattice point as the planet biome whose (temperature, moisture)
## centroid is nearest in ((T - Tc) / 25)^2 + ((M - Mc) / 0.35)^2 (ties: lower id).
## [code]resource_weights[/code] are [[resource id, integer weight], ...] in the
## reference's order, so every port picks identically.

const C := preload("res://gen/constants.gd")

# ---- resource types (uint8 ids) ----------------------------------------------------------
const IRON := 1
const COPPER := 2
const TITANIUM := 3
const LITHIUM := 4
const GOLD := 5
const URANIUM := 6
const QUARTZ := 7
const CARBON := 8
const WATER_ICE := 9
const SULFUR := 10
const CRYSTAL := 11
const ORGANIC_RESIN := 12

## Resource id -> name.
const RESOURCE_NAMES := {
	IRON: "iron",
	COPPER: "copper",
	TITANIUM: "titanium",
	LITHIUM: "lithium",
	GOLD: "gold",
	URANIUM: "uranium",
	QUARTZ: "quartz",
	CARBON: "carbon",
	WATER_ICE: "water_ice",
	SULFUR: "sulfur",
	CRYSTAL: "crystal",
	ORGANIC_RESIN: "organic_resin",
}

## Biome id meaning "not evaluated here" (lattice points far from the surface).
const BIOME_NONE := 255

## The biome table, indexed by id. Keys as the reference's BiomeDef fields: id, name,
## temperature_c, moisture, needs_water, needs_atmosphere, surface, subsoil, rock
## (material ids), resource_weights, creature_niches, hazards, palette ([r, g, b] 0-255 for
## surface, subsoil, rock), roughness.
const BIOMES: Array[Dictionary] = [
	{
		"id": 0,
		"name": "barren",
		"temperature_c": -20.0,
		"moisture": 0.0,
		"needs_water": false,
		"needs_atmosphere": false,
		"surface": C.REGOLITH,
		"subsoil": C.REGOLITH,
		"rock": C.STONE,
		"resource_weights": [[IRON, 30], [TITANIUM, 20], [QUARTZ, 30], [LITHIUM, 10], [URANIUM, 10]],
		"creature_niches": ["grazer", "burrower", "scavenger"],
		"hazards": ["radiation", "micrometeorites"],
		"palette": [[128, 124, 118], [104, 100, 96], [90, 88, 86]],
		"roughness": 0.6,
	},
	{
		"id": 1,
		"name": "desert",
		"temperature_c": 42.0,
		"moisture": 0.1,
		"needs_water": false,
		"needs_atmosphere": true,
		"surface": C.SAND,
		"subsoil": C.SAND,
		"rock": C.SANDSTONE,
		"resource_weights": [[QUARTZ, 35], [COPPER, 25], [IRON, 15], [GOLD, 10], [SULFUR, 15]],
		"creature_niches": ["burrower", "grazer", "ambush_predator", "scavenger"],
		"hazards": ["heat", "sandstorm"],
		"palette": [[222, 196, 132], [201, 172, 110], [176, 132, 90]],
		"roughness": 0.3,
	},
	{
		"id": 2,
		"name": "grassland",
		"temperature_c": 18.0,
		"moisture": 0.45,
		"needs_water": true,
		"needs_atmosphere": true,
		"surface": C.GRASS,
		"subsoil": C.SOIL,
		"rock": C.STONE,
		"resource_weights": [[CARBON, 30], [IRON, 25], [COPPER, 20], [ORGANIC_RESIN, 25]],
		"creature_niches": ["grazer", "pack_hunter", "pollinator", "scavenger"],
		"hazards": ["storms"],
		"palette": [[110, 160, 70], [120, 90, 60], [110, 108, 104]],
		"roughness": 0.2,
	},
	{
		"id": 3,
		"name": "forest",
		"temperature_c": 12.0,
		"moisture": 0.7,
		"needs_water": true,
		"needs_atmosphere": true,
		"surface": C.GRASS,
		"subsoil": C.SOIL,
		"rock": C.GRANITE,
		"resource_weights": [[CARBON, 35], [ORGANIC_RESIN, 35], [IRON, 15], [COPPER, 15]],
		"creature_niches": ["browser", "ambush_predator", "pollinator", "burrower"],
		"hazards": ["spores"],
		"palette": [[58, 110, 52], [96, 72, 50], [120, 116, 112]],
		"roughness": 0.5,
	},
	{
		"id": 4,
		"name": "jungle",
		"temperature_c": 30.0,
		"moisture": 0.9,
		"needs_water": true,
		"needs_atmosphere": true,
		"surface": C.GRASS,
		"subsoil": C.MUD,
		"rock": C.STONE,
		"resource_weights": [[ORGANIC_RESIN, 40], [CARBON, 30], [GOLD, 10], [COPPER, 20]],
		"creature_niches": ["browser", "ambush_predator", "pollinator", "pack_hunter"],
		"hazards": ["heat", "toxins"],
		"palette": [[40, 120, 40], [90, 70, 45], [100, 98, 92]],
		"roughness": 0.7,
	},
	{
		"id": 5,
		"name": "swamp",
		"temperature_c": 22.0,
		"moisture": 1.0,
		"needs_water": true,
		"needs_atmosphere": true,
		"surface": C.MUD,
		"subsoil": C.MUD,
		"rock": C.STONE,
		"resource_weights": [[CARBON, 40], [SULFUR, 20], [ORGANIC_RESIN, 25], [LITHIUM, 15]],
		"creature_niches": ["filter_feeder", "ambush_predator", "scavenger"],
		"hazards": ["toxins", "sinkholes"],
		"palette": [[84, 96, 58], [70, 62, 44], [92, 90, 84]],
		"roughness": 0.1,
	},
	{
		"id": 6,
		"name": "tundra",
		"temperature_c": -12.0,
		"moisture": 0.4,
		"needs_water": false,
		"needs_atmosphere": true,
		"surface": C.SNOW,
		"subsoil": C.PERMAFROST,
		"rock": C.PERMAFROST,
		"resource_weights": [[WATER_ICE, 40], [IRON, 20], [LITHIUM, 25], [TITANIUM, 15]],
		"creature_niches": ["grazer", "pack_hunter", "burrower"],
		"hazards": ["cold", "blizzard"],
		"palette": [[236, 240, 244], [150, 160, 170], [120, 126, 134]],
		"roughness": 0.3,
	},
	{
		"id": 7,
		"name": "glacier",
		"temperature_c": -45.0,
		"moisture": 0.65,
		"needs_water": false,
		"needs_atmosphere": false,
		"surface": C.ICE,
		"subsoil": C.ICE,
		"rock": C.PERMAFROST,
		"resource_weights": [[WATER_ICE, 60], [LITHIUM, 20], [CRYSTAL, 20]],
		"creature_niches": ["filter_feeder", "burrower"],
		"hazards": ["cold", "crevasses"],
		"palette": [[200, 226, 242], [170, 206, 232], [120, 126, 134]],
		"roughness": 0.4,
	},
	{
		"id": 8,
		"name": "volcanic",
		"temperature_c": 75.0,
		"moisture": 0.15,
		"needs_water": false,
		"needs_atmosphere": false,
		"surface": C.ASH,
		"subsoil": C.BASALT,
		"rock": C.BASALT,
		"resource_weights": [[SULFUR, 35], [IRON, 20], [TITANIUM, 20], [GOLD, 10], [URANIUM, 15]],
		"creature_niches": ["scavenger", "burrower", "ambush_predator"],
		"hazards": ["heat", "lava", "toxic_gas"],
		"palette": [[60, 56, 54], [44, 40, 40], [36, 34, 36]],
		"roughness": 0.9,
	},
	{
		"id": 9,
		"name": "toxic",
		"temperature_c": 35.0,
		"moisture": 0.6,
		"needs_water": false,
		"needs_atmosphere": true,
		"surface": C.TOXIC_SLUDGE,
		"subsoil": C.MUD,
		"rock": C.STONE,
		"resource_weights": [[SULFUR, 30], [URANIUM, 25], [LITHIUM, 25], [CRYSTAL, 20]],
		"creature_niches": ["filter_feeder", "scavenger", "ambush_predator"],
		"hazards": ["toxic_gas", "acid"],
		"palette": [[140, 170, 40], [96, 110, 40], [90, 96, 70]],
		"roughness": 0.5,
	},
	{
		"id": 10,
		"name": "crystal",
		"temperature_c": -5.0,
		"moisture": 0.2,
		"needs_water": false,
		"needs_atmosphere": false,
		"surface": C.CRYSTAL_SHARD,
		"subsoil": C.REGOLITH,
		"rock": C.GRANITE,
		"resource_weights": [[CRYSTAL, 50], [QUARTZ, 25], [TITANIUM, 15], [GOLD, 10]],
		"creature_niches": ["grazer", "ambush_predator"],
		"hazards": ["radiation", "shards"],
		"palette": [[170, 140, 220], [120, 110, 140], [100, 96, 110]],
		"roughness": 0.8,
	},
]

## Ore materials by depth band: [upper radial depth limit in metres, [[material, weight],
## ...]] per band, chosen per 16 m cell with [method PSGenHashing.pick_weighted].
const ORE_BANDS: Array = [
	[24.0, [[C.ORE_IRON, 50], [C.ORE_COPPER, 40], [C.ORE_LITHIUM, 10]]],
	[
		60.0,
		[[C.ORE_IRON, 25], [C.ORE_COPPER, 20], [C.ORE_TITANIUM, 30], [C.ORE_LITHIUM, 15],
			[C.ORE_GOLD, 10]],
	],
	[1.0e300, [[C.ORE_TITANIUM, 35], [C.ORE_GOLD, 25], [C.ORE_URANIUM, 40]]],
]
