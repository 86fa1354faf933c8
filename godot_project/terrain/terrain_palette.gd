class_name PSTerrainPalette
extends RefCounted
## Vertex colour of each material id, from the biome palettes (shared_gen/biomes.py:
## [code]palette[/code] = surface, subsoil, rock colours of each biome).
##
## A material keeps the colour of the first biome (by id) that uses it, since the voxels
## carry only the material. Materials no biome names (strata rock, ores) get the fixed
## colours of [constant EXTRA]; unknown ids are magenta so they stand out.

## Colours (0-255) of materials that are in no biome palette.
const EXTRA := {
	PSGenConstants.STONE: [112, 110, 106],
	PSGenConstants.GRANITE: [124, 118, 114],
	PSGenConstants.MANTLE_ROCK: [92, 60, 48],
	PSGenConstants.ORE_IRON: [150, 90, 70],
	PSGenConstants.ORE_COPPER: [184, 115, 51],
	PSGenConstants.ORE_TITANIUM: [170, 176, 186],
	PSGenConstants.ORE_LITHIUM: [210, 200, 220],
	PSGenConstants.ORE_GOLD: [212, 175, 55],
	PSGenConstants.ORE_URANIUM: [110, 190, 80],
}
const UNKNOWN := Color(1.0, 0.0, 1.0)


## 256 colours indexed by material id.
static func build() -> PackedColorArray:
	var colors := PackedColorArray()
	colors.resize(256)
	colors.fill(UNKNOWN)
	var done := {}
	for biome: Dictionary in PSGenBiomes.BIOMES:
		var pal: Array = biome["palette"]
		var mats := [biome["surface"], biome["subsoil"], biome["rock"]]
		for k in 3:
			var m: int = mats[k]
			if done.has(m):
				continue
			done[m] = true
			colors[m] = _rgb(pal[k])
	for m: int in EXTRA:
		if not done.has(m):
			colors[m] = _rgb(EXTRA[m])
	colors[PSGenConstants.AIR] = Color(0, 0, 0, 0)
	return colors


static func _rgb(c: Array) -> Color:
	return Color8(int(c[0]), int(c[1]), int(c[2]))
