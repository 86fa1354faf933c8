class_name PSTerrainEdits
extends RefCounted
## Local voxel edits as deltas ([code]indices, densities, materials[/code] per chunk, the
## shape [method PSChunkStore.apply_delta] takes). The server's edit rules (soil
## accounting, tool range) live in server/world; this is for tools, tests and benchmarks.


## Carve ([param add] false) or fill a sphere of [param radius_m] metres around world point
## [param centre] (metres from the planet's centre) in the chunks [param store] holds:
## each voxel's density becomes min(old, -s) (carve) or max(old, s) (fill), s the signed
## distance to the sphere's surface in density units (32 per metre), so the new surface is
## the sphere. Filled voxels that were air get [param material_id]; voxels that become air
## get 0. Returns Vector3i -> [PackedInt32Array, PackedByteArray, PackedByteArray] of the
## voxels that change.
static func sphere(
	store: PSChunkStore, centre: Vector3, radius_m: float, add: bool, material_id: int
) -> Dictionary:
	var lo := Vector3i(((centre - Vector3.ONE * radius_m) / 0.5).floor())
	var hi := Vector3i(((centre + Vector3.ONE * radius_m) / 0.5).ceil())
	var per_chunk := {}
	for gx in range(lo.x, hi.x + 1):
		for gy in range(lo.y, hi.y + 1):
			for gz in range(lo.z, hi.z + 1):
				var g := Vector3i(gx, gy, gz)
				var dist := radius_m - (Vector3(g) * 0.5).distance_to(centre)
				if dist < -2.0:
					continue
				var c := Vector3i(floori(gx / 32.0), floori(gy / 32.0), floori(gz / 32.0))
				var chunk := store.get_chunk(c)
				if chunk == null:
					continue
				var l := g - c * 32
				var idx := PSChunkData.index_of(l.x, l.y, l.z)
				var old := chunk.density_at(idx)
				var q := clampi(int(floorf(dist * 32.0 + 0.5)), -127, 127)
				var nd := maxi(old, q) if add else mini(old, -q)
				if nd == old:
					continue
				if not per_chunk.has(c):
					per_chunk[c] = [[], [], []]  # plain Arrays: appended in place
				var e: Array = per_chunk[c]
				(e[0] as Array).append(idx)
				(e[1] as Array).append(nd & 0xFF)
				var mat: int = chunk.material[idx]
				if nd <= 0:
					mat = 0
				elif add and old <= 0:
					mat = material_id
				(e[2] as Array).append(mat)
	var out := {}
	for c: Vector3i in per_chunk:
		var e: Array = per_chunk[c]
		out[c] = [PackedInt32Array(e[0]), PackedByteArray(e[1]), PackedByteArray(e[2])]
	return out
