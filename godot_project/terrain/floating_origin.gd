class_name PSFloatingOrigin
extends RefCounted
## A floating origin: scene space is the world shifted by a whole number of chunks,
## [member origin_chunk], so the focus (head or camera) stays within
## [member threshold_m] of (0, 0, 0) and float32 positions keep millimetre precision on
## any planet. World positions are never stored as floats: chunks are named by integer
## coordinates and placed at [code](coord - origin_chunk) * 16 m[/code], exact in float32.
##
## World space: metres from the planet's centre. Scene space: world minus
## [code]origin_chunk * 16[/code]. "Down" is towards the planet's centre.

const CHUNK_M := 16.0

## The chunk whose minimum corner is the scene origin.
var origin_chunk := Vector3i.ZERO
## Re-centre when the focus is farther than this from the scene origin.
var threshold_m := 64.0


## Scene position of chunk [param coord]'s minimum corner (voxel 0).
func chunk_to_scene(coord: Vector3i) -> Vector3:
	return Vector3(coord - origin_chunk) * CHUNK_M


## Chunk containing scene point [param p].
func scene_to_chunk(p: Vector3) -> Vector3i:
	return origin_chunk + Vector3i(floori(p.x / CHUNK_M), floori(p.y / CHUNK_M), floori(p.z / CHUNK_M))


## World position (float64 components, metres from the planet's centre) of scene point
## [param p], as [x, y, z].
func scene_to_world(p: Vector3) -> PackedFloat64Array:
	return PackedFloat64Array([
		origin_chunk.x * CHUNK_M + p.x, origin_chunk.y * CHUNK_M + p.y, origin_chunk.z * CHUNK_M + p.z
	])


## Scene position of world point [param w] (metres from the planet's centre).
func world_to_scene(w: Vector3) -> Vector3:
	return w - Vector3(origin_chunk) * CHUNK_M


## Scene position of the planet's centre.
func planet_centre() -> Vector3:
	return -Vector3(origin_chunk) * CHUNK_M


## Unit "up" (away from the planet's centre) at scene point [param p]; +Y at the centre.
func up_at(p: Vector3) -> Vector3:
	var r := p - planet_centre()
	if r.length_squared() < 1e-6:
		return Vector3.UP
	return r.normalized()


## The whole-chunk shift that would bring [param focus] (scene) back near the origin, or
## ZERO if it is within [member threshold_m].
func shift_for(focus: Vector3) -> Vector3i:
	if absf(focus.x) <= threshold_m and absf(focus.y) <= threshold_m and absf(focus.z) <= threshold_m:
		return Vector3i.ZERO
	return Vector3i(roundi(focus.x / CHUNK_M), roundi(focus.y / CHUNK_M), roundi(focus.z / CHUNK_M))


## Move the origin by [param shift] chunks; scene positions of everything must then move by
## [code]-shift * 16 m[/code] (returned).
func apply_shift(shift: Vector3i) -> Vector3:
	origin_chunk += shift
	return -Vector3(shift) * CHUNK_M
