class_name PSChunkStore
extends RefCounted
## The client's voxels: chunks by integer coordinate, merging local generation with the
## server's chunk states and deltas.
##
## Rules (the server is the authority):
## * A generated chunk is stored unless the server's state for it arrived first.
## * [method apply_server_entry] takes a chunk entry of CHUNK_STATE / TERRAIN_DELTA
##   (docs/protocol.md): version + the chunk's whole delta over generation
##   ([PSDeltaCodec]); the newest version wins; for a chunk not generated yet it waits.
## * [method set_chunk_state] replaces a chunk's voxels outright (marks it authoritative).
## * [method apply_delta] edits a chunk's voxels (local prediction, tools); for a chunk not
##   stored yet the edit is kept and applied, in order, when the chunk arrives.
## Each returns the chunks whose meshes must be rebuilt: the chunk itself and the
## neighbours whose one-voxel apron (see [PSSurfaceNets]) contains a changed voxel.
## Main thread only; meshing jobs get copies of the arrays ([method PSSurfaceNets.block_entry]).

## Metres between voxel samples (global voxel g sits at g * 0.5 m from the planet's centre).
const VOXEL_M := 0.5

## Chunk data by Vector3i.
var chunks: Dictionary = {}
## Deltas waiting for their chunk: Vector3i -> Array of [indices, densities, materials].
var pending: Dictionary = {}
## Server entries waiting for their chunk to be generated: Vector3i -> [version, payload].
var pending_entries: Dictionary = {}
## The server entry applied to each loaded chunk: Vector3i -> [version, payload]; moved to
## [member pending_entries] when the chunk is unloaded, so regenerating it restores it.
var entries: Dictionary = {}


func has_chunk(coord: Vector3i) -> bool:
	return chunks.has(coord)


func get_chunk(coord: Vector3i) -> PSChunkData:
	return chunks.get(coord)


func size() -> int:
	return chunks.size()


## Signed density (-128..127; solid > 0, about 32 units per metre) of global voxel
## [param g] (chunk [code]g >> 5[/code], local [code]g & 31[/code] per axis), or
## [param missing] when its chunk is not stored.
func voxel_density(g: Vector3i, missing: float = NAN) -> float:
	var chunk: PSChunkData = chunks.get(Vector3i(g.x >> 5, g.y >> 5, g.z >> 5))
	if chunk == null:
		return missing
	return float(chunk.density_at(PSChunkData.index_of(g.x & 31, g.y & 31, g.z & 31)))


## The density field at point [param p] (metres, float) measured from the minimum corner of
## chunk [param base_chunk] (for a scene point pass [member PSFloatingOrigin.origin_chunk];
## the split keeps float32 precise on any planet): the trilinear interpolation of the 8
## voxels around it, in the voxels' units (solid > 0, about 32 per metre, so the value is
## roughly the signed distance to the surface times 32). Voxels of chunks not stored count
## as [param missing]; NAN (the default) makes the result NAN.
func sample_density(base_chunk: Vector3i, p: Vector3, missing: float = NAN) -> float:
	var f := p / VOXEL_M
	var g0 := Vector3i(f.floor())
	var t := f - Vector3(g0)
	g0 += base_chunk * PSChunkData.SIZE
	var c := PackedFloat64Array()
	c.resize(8)
	for k in 8:
		c[k] = voxel_density(g0 + Vector3i(k >> 2, (k >> 1) & 1, k & 1), missing)
	var x0 := lerpf(lerpf(c[0], c[1], t.z), lerpf(c[2], c[3], t.z), t.y)
	var x1 := lerpf(lerpf(c[4], c[5], t.z), lerpf(c[6], c[7], t.z), t.y)
	return lerpf(x0, x1, t.x)


## Store a locally generated chunk (null = air outside the grid: pass the coord).
## Returns the chunks to re-mesh (empty if the server's state was already there).
func put_generated(coord: Vector3i, chunk: PSChunkData) -> Array[Vector3i]:
	if chunks.has(coord) and (chunks[coord] as PSChunkData).authoritative:
		return []
	if chunk == null:
		chunk = PSChunkData.make_air(coord)
	chunks[coord] = chunk
	var entry: Array = pending_entries.get(coord, [])
	if not entry.is_empty():
		pending_entries.erase(coord)
		apply_server_entry(coord, entry[0], entry[1])
	_apply_pending(chunk)
	return neighbourhood(coord)


## A server chunk entry for chunk [param coord]: [param version] (u32) and its raw
## delta payload over generation ([method PSDeltaCodec.apply_raw]; empty = as generated).
## Older or equal versions are ignored. Returns [ok, chunks to re-mesh]; ok is false for a
## malformed payload (the caller re-requests the chunk). For a chunk not generated yet the
## newest entry waits.
func apply_server_entry(coord: Vector3i, version: int, payload: PackedByteArray) -> Array:
	var err := "" if payload.is_empty() else PSDeltaCodec.validate_raw(payload)
	if err != "":
		push_warning("chunk %s: bad delta payload: %s" % [coord, err])
		return [false, [] as Array[Vector3i]]
	var chunk: PSChunkData = chunks.get(coord)
	if chunk == null:
		var waiting: Array = pending_entries.get(coord, [-1])
		if version > int(waiting[0]):
			pending_entries[coord] = [version, payload]
		return [true, [] as Array[Vector3i]]
	if version <= chunk.version and version != 0:
		return [true, [] as Array[Vector3i]]
	var arrays: Array = [chunk.generated_density, chunk.generated_material]
	if not payload.is_empty():
		arrays = PSDeltaCodec.apply_raw(chunk.generated_density, chunk.generated_material, payload)
	chunk.version = version
	chunk.authoritative = version != 0
	entries[coord] = [version, payload]
	var changed := chunk.replace_voxels(arrays[0], arrays[1])
	return [true, affected_by(coord, changed)]


## Replace chunk [param coord] with the server's state (32^3 densities as int8 bytes and
## materials). Returns the chunks to re-mesh.
func set_chunk_state(
	coord: Vector3i, densities: PackedByteArray, materials: PackedByteArray
) -> Array[Vector3i]:
	var chunk := PSChunkData.from_arrays(coord, densities, materials)
	chunk.authoritative = true
	var old: PSChunkData = chunks.get(coord)
	if old != null:
		chunk.revision = old.revision + 1
	chunks[coord] = chunk
	_apply_pending(chunk)
	return neighbourhood(coord)


## Apply a server delta to chunk [param coord]: voxel [param indices] (0..32767, index
## (x * 32 + y) * 32 + z) get [param densities] (int8 as bytes) and [param materials].
## Returns the chunks to re-mesh: [param coord] and the seam neighbours that see a changed
## voxel in their apron (none if nothing changed or the chunk is not here yet).
func apply_delta(
	coord: Vector3i,
	indices: PackedInt32Array,
	densities: PackedByteArray,
	materials: PackedByteArray
) -> Array[Vector3i]:
	var chunk: PSChunkData = chunks.get(coord)
	if chunk == null:
		if not pending.has(coord):
			pending[coord] = []
		(pending[coord] as Array).append([indices, densities, materials])
		return []
	var changed := chunk.apply_delta(indices, densities, materials)
	return affected_by(coord, changed)


## Drop chunk [param coord] (keeps authoritative chunks unless [param force]).
## Server-versioned chunks are dropped too: regenerating + the server's payload rebuilds
## them (the net layer unsubscribes and subscribes again). Chunks set with
## [method set_chunk_state] are kept unless [param force].
func unload(coord: Vector3i, force: bool = false) -> bool:
	var chunk: PSChunkData = chunks.get(coord)
	if chunk == null or (chunk.authoritative and chunk.version == 0 and not force):
		return false
	chunks.erase(coord)
	if entries.has(coord):
		pending_entries[coord] = entries[coord]
		entries.erase(coord)
	return true


## The 27 chunks around and including [param coord].
static func neighbourhood(coord: Vector3i) -> Array[Vector3i]:
	var out: Array[Vector3i] = []
	for dx in range(-1, 2):
		for dy in range(-1, 2):
			for dz in range(-1, 2):
				out.append(coord + Vector3i(dx, dy, dz))
	return out


## Chunks whose mesh depends on the voxels [param changed] (indices) of chunk
## [param coord]: the chunk, plus on each axis the lower neighbour when a voxel is at 0 and
## the upper one when it is at 31 (and the combinations of those for edges and corners).
static func affected_by(coord: Vector3i, changed: PackedInt32Array) -> Array[Vector3i]:
	var seen := {}
	for idx in changed:
		var l := Vector3i(idx >> 10, (idx >> 5) & 31, idx & 31)
		var xs := _offsets(l.x)
		var ys := _offsets(l.y)
		var zs := _offsets(l.z)
		for dx: int in xs:
			for dy: int in ys:
				for dz: int in zs:
					seen[coord + Vector3i(dx, dy, dz)] = true
	var out: Array[Vector3i] = []
	for c: Vector3i in seen:
		out.append(c)
	return out


static func _offsets(l: int) -> Array:
	if l == 0:
		return [0, -1]
	if l == 31:
		return [0, 1]
	return [0]


func _apply_pending(chunk: PSChunkData) -> void:
	var deltas: Array = pending.get(chunk.coord, [])
	if deltas.is_empty():
		return
	pending.erase(chunk.coord)
	for d: Array in deltas:
		chunk.apply_delta(d[0], d[1], d[2])
