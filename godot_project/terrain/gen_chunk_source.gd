class_name PSGenChunkSource
extends PSChunkSource
## Chunks of a generated planet from the GDScript port of shared_gen (res://gen/,
## [code]PSGenPlanet.generate_chunk_with_params[/code]); bit-identical to the server's
## generated chunks, so the server only needs to send what players changed.

## Radius beyond which the generator's lattice is pure air: R + amplitude + 8 m
## (docs/generation.md section 5.1).
const AIR_MARGIN_M := 8.0
## Caves reach 96 m below the reference radius; below that everything is solid. A chunk
## whose farthest point is one chunk diagonal (28 m) deeper still has only solid
## neighbours, so it can never be on a surface.
const BURIED_DEPTH_M := 96.0 + 32.0

var world_seed: int
var planet_index: int
var params: PSGenPlanet.FieldParams
var gravity_ms2 := 9.81


## Null (and an error) when the seed or planet is not valid.
static func create(seed_value: int, planet: int) -> PSGenChunkSource:
	var p := PSGenPlanet.field_params(seed_value, planet)
	if p == null:
		return null
	var s := PSGenChunkSource.new()
	s.world_seed = seed_value
	s.planet_index = planet
	s.params = p
	var planet_info := PSGenSolarSystem.get_planet(seed_value, planet)
	if planet_info != null:
		s.gravity_ms2 = planet_info.surface_gravity_ms2
	return s


func planet_radius_m() -> float:
	return params.radius


func surface_gravity() -> float:
	return gravity_ms2


func classify(coord: Vector3i) -> int:
	var g := params.grid_radius
	if absi(coord.x) > g or absi(coord.y) > g or absi(coord.z) > g:
		return AIR
	var rr := chunk_radius_range(coord)
	if rr.x >= params.radius + params.amplitude + AIR_MARGIN_M:
		return AIR
	if rr.y <= params.radius - BURIED_DEPTH_M:
		return BURIED
	return UNKNOWN


func generate(coord: Vector3i) -> PSChunkData:
	var g := params.grid_radius
	if absi(coord.x) > g or absi(coord.y) > g or absi(coord.z) > g:
		return null
	var c := PSGenPlanet.generate_chunk_with_params(
		world_seed, planet_index, params, coord.x, coord.y, coord.z
	)
	if c == null:
		return null
	return PSChunkData.from_arrays(coord, c.density, c.material)
