class_name PSChunkSource
extends RefCounted
## Where the streamer gets a chunk's generated voxels. Subclasses override
## [method generate] and may override [method classify] so the streamer can skip chunks
## that are known to be all air or buried without generating them.
##
## Implementations must be pure and thread-safe: [method generate] runs on
## WorkerThreadPool threads, several at once.

## classify(): nothing known; generate the chunk.
const UNKNOWN := 0
## classify(): certainly deep air (density -127 everywhere, material 0).
const AIR := 1
## classify(): certainly buried: solid, and so are all 26 neighbours, so no surface can
## touch it (its materials are never shown until it is generated for an edit).
const BURIED := 2


## Planet radius in metres (the reference sphere); the centre is the origin.
func planet_radius_m() -> float:
	return 0.0


## Surface gravity in m/s^2 (points to the planet's centre).
func surface_gravity() -> float:
	return 9.81


## The generated voxels of chunk [param coord], or null if the chunk lies outside the
## planet's grid (the caller treats it as air).
func generate(_coord: Vector3i) -> PSChunkData:
	return null


## UNKNOWN, AIR or BURIED for chunk [param coord] (cheap; no generation).
func classify(_coord: Vector3i) -> int:
	return UNKNOWN


## Smallest and largest distance (m) from the planet centre of the points of the chunk's
## box, voxel 0 .. voxel 32 on each axis (the lattice the generator samples).
static func chunk_radius_range(coord: Vector3i) -> Vector2:
	var lo := Vector3(coord) * 16.0
	var hi := lo + Vector3(16.0, 16.0, 16.0)
	var near := Vector3(
		clampf(0.0, lo.x, hi.x), clampf(0.0, lo.y, hi.y), clampf(0.0, lo.z, hi.z)
	)
	var far := Vector3(
		maxf(absf(lo.x), absf(hi.x)), maxf(absf(lo.y), absf(hi.y)), maxf(absf(lo.z), absf(hi.z))
	)
	return Vector2(near.length(), far.length())
