class_name PSSurfaceNets
extends RefCounted
## Surface nets (S. Gibson, "Constrained elastic surface nets", 1998; the naive dual
## contouring variant) over a chunk's density field, with per-vertex material colours and
## normals from the density gradient.
##
## [b]Seams and the apron.[/b] Samples are the voxels themselves (voxel g at g * 0.5 m). A
## chunk owns the sample edges that start at its voxels 0..31 on every axis, so the edge
## from voxel 31 to voxel 0 of the next chunk belongs to the lower chunk. The quad of an
## edge joins the vertices of the four cells around it, which reach one sample further
## down (cell -1, between voxel 31 of the lower neighbour and voxel 0) and one further up
## (voxel 32 = voxel 0 of the upper neighbour). So the mesher works on a padded block of
## 34^3 samples: the chunk plus a one-voxel apron copied from its 26 neighbours
## ([method build_padded]; a missing neighbour counts as air). Two neighbouring chunks
## compute the same vertex for a shared cell from the same eight samples, every edge is
## meshed by exactly one chunk, so the meshes of neighbouring chunks meet without cracks or
## overlaps. The streamer therefore meshes a chunk only when its 26 neighbours are
## present, and re-meshes the neighbours whose apron an edit touched.
##
## [b]Speed.[/b] Solidity is kept as one bit per voxel in per-row masks
## ([member PSChunkData.solid_rows]); combining the four rows around a line of 33 cells
## with bit operations finds the cells the surface crosses, and only those are visited.
##
## Pure and thread-safe (no shared state): meshing runs on WorkerThreadPool tasks.

## Samples per padded axis: the chunk's 32 voxels plus one apron voxel on either side.
const P := 34
const P2 := P * P
## Cells per axis (between consecutive padded samples).
const CELLS := 33
const VOXEL_M := 0.5
const AIR_BYTE := 0x81
## Bits 0..32: the 33 cells of a padded row.
const CELL_BITS := (1 << 33) - 1


## Output of [method mesh_padded]: arrays for [code]ArrayMesh.add_surface_from_arrays[/code]
## in chunk-local metres (voxel 0 at the origin), and the triangle soup for a
## ConcavePolygonShape3D when asked for.
class MeshData:
	extends RefCounted
	var coord: Vector3i
	## The chunk revision (sum over the neighbourhood) this mesh was built from.
	var revision := 0
	var vertices := PackedVector3Array()
	var normals := PackedVector3Array()
	var colors := PackedColorArray()
	var indices := PackedInt32Array()
	## Triangle soup for collision (3 entries per triangle); empty unless requested.
	var faces := PackedVector3Array()
	## Microseconds spent building (apron + meshing), for the benchmark.
	var build_usec := 0

	func is_empty() -> bool:
		return indices.is_empty()

	func triangle_count() -> int:
		return indices.size() / 3

	## Mesh.ARRAY_MAX-sized surface arrays.
	func to_arrays() -> Array:
		var arrays := []
		arrays.resize(Mesh.ARRAY_MAX)
		arrays[Mesh.ARRAY_VERTEX] = vertices
		arrays[Mesh.ARRAY_NORMAL] = normals
		arrays[Mesh.ARRAY_COLOR] = colors
		arrays[Mesh.ARRAY_INDEX] = indices
		return arrays

	## Fill [member faces] from the indexed triangles.
	func build_faces() -> void:
		var f := PackedVector3Array()
		f.resize(indices.size())
		var v := vertices
		var ix := indices
		for k in ix.size():
			f[k] = v[ix[k]]
		faces = f


## The padded block (34^3) a chunk is meshed from.
class Padded:
	extends RefCounted
	## int8 densities as bytes, index (px * 34 + py) * 34 + pz, p = local voxel + 1.
	var density := PackedByteArray()
	var material := PackedByteArray()
	## Solid masks of the 34 * 34 padded rows (bit pz).
	var rows := PackedInt64Array()


## Index into a 27-entry neighbourhood of offset [param d] (each axis -1..1).
static func neighbour_index(d: Vector3i) -> int:
	return (d.x + 1) * 9 + (d.y + 1) * 3 + (d.z + 1)


## One neighbourhood entry: [density, material, solid_rows] of [param chunk] (copies of the
## copy-on-write arrays, safe to hand to another thread); null for air.
static func block_entry(chunk: PSChunkData) -> Variant:
	if chunk == null:
		return null
	return [chunk.density, chunk.material, chunk.solid_rows]


## Copy the chunk (entry 13 of [param block]) and a one-voxel apron from its neighbours
## into a 34^3 block. [param block] has 27 entries from [method block_entry], ordered by
## [method neighbour_index]; null entries are air.
static func build_padded(block: Array) -> Padded:
	var air_row := PackedByteArray()
	air_row.resize(32)
	air_row.fill(AIR_BYTE)
	var zero_row := PackedByteArray()
	zero_row.resize(32)
	var air_rows := PackedInt64Array()
	air_rows.resize(1024)
	var air_entry := [air_row.duplicate(), zero_row, air_rows]
	var air_density := PackedByteArray()
	air_density.resize(32768)
	air_density.fill(AIR_BYTE)
	air_entry[0] = air_density
	var zero_mat := PackedByteArray()
	zero_mat.resize(32768)
	air_entry[1] = zero_mat
	var e: Array = []
	e.resize(27)
	for k in 27:
		e[k] = block[k] if block[k] != null else air_entry
	var out := Padded.new()
	var dens := PackedByteArray()
	var mats := PackedByteArray()
	var rows := PackedInt64Array()
	rows.resize(P2)
	var ri := 0
	for px in P:
		var lx := px - 1
		var ox := 1
		if lx < 0:
			lx = 31
			ox = 0
		elif lx > 31:
			lx = 0
			ox = 2
		for py in P:
			var ly := py - 1
			var oy := 1
			if ly < 0:
				ly = 31
				oy = 0
			elif ly > 31:
				ly = 0
				oy = 2
			var n0 := ox * 9 + oy * 3
			var lo: Array = e[n0]
			var mid: Array = e[n0 + 1]
			var hi: Array = e[n0 + 2]
			var r := lx * 32 + ly
			var o := r * 32
			var lo_d: PackedByteArray = lo[0]
			var mid_d: PackedByteArray = mid[0]
			var hi_d: PackedByteArray = hi[0]
			var lo_m: PackedByteArray = lo[1]
			var mid_m: PackedByteArray = mid[1]
			var hi_m: PackedByteArray = hi[1]
			dens.append(lo_d[o + 31])
			dens.append_array(mid_d.slice(o, o + 32))
			dens.append(hi_d[o])
			mats.append(lo_m[o + 31])
			mats.append_array(mid_m.slice(o, o + 32))
			mats.append(hi_m[o])
			var lo_r: PackedInt64Array = lo[2]
			var mid_r: PackedInt64Array = mid[2]
			var hi_r: PackedInt64Array = hi[2]
			rows[ri] = ((lo_r[r] >> 31) & 1) | (mid_r[r] << 1) | ((hi_r[r] & 1) << 33)
			ri += 1
	out.density = dens
	out.material = mats
	out.rows = rows
	return out


## Mesh the chunk of [param block] (see [method build_padded]). [param palette] maps a
## material id (0..255) to its colour. With [param with_faces] the collision triangle soup
## is filled too.
static func mesh(block: Array, palette: PackedColorArray, with_faces: bool = false) -> MeshData:
	var t0 := Time.get_ticks_usec()
	var out := mesh_padded(build_padded(block), palette)
	if with_faces:
		out.build_faces()
	out.build_usec = Time.get_ticks_usec() - t0
	return out


## Surface nets over a padded block. Vertices in chunk-local metres.
static func mesh_padded(pad: Padded, palette: PackedColorArray) -> MeshData:
	var out := MeshData.new()
	var rows := pad.rows
	# quick exit: no row group has a sign change
	var any_solid := 0
	var all_solid := CELL_BITS | (1 << 33)
	for r in rows:
		any_solid |= r
		all_solid &= r
	if any_solid == 0 or all_solid == CELL_BITS | (1 << 33):
		return out
	var dens := pad.density
	var mats := pad.material
	# signed density of a byte, in density units
	var sv := PackedFloat32Array()
	sv.resize(256)
	for b in 256:
		sv[b] = float(b - 256 if b > 127 else b)
	var bit_index := {}
	for b in 34:
		bit_index[1 << b] = b
	var cell_vertex := PackedInt32Array()
	cell_vertex.resize(CELLS * CELLS * CELLS)
	var verts := PackedVector3Array()
	var norms := PackedVector3Array()
	var cols := PackedColorArray()
	var idx := PackedInt32Array()
	const C1 := CELLS
	const C2 := CELLS * CELLS
	for cx in CELLS:
		for cy in CELLS:
			var ra := cx * P + cy
			var a: int = rows[ra]
			var b: int = rows[ra + P]
			var c: int = rows[ra + 1]
			var d: int = rows[ra + P + 1]
			var all_b := a & b & c & d
			var any_b := a | b | c | d
			var active := ~((all_b & (all_b >> 1)) | (~any_b & ~(any_b >> 1))) & CELL_BITS
			if active == 0:
				continue
			var row_base := ra * P
			var cell_base := cx * C2 + cy * C1
			while active != 0:
				var low := active & -active
				active ^= low
				var z: int = bit_index[low]
				var i0 := row_base + z
				var d000: float = sv[dens[i0]]
				var d001: float = sv[dens[i0 + 1]]
				var d010: float = sv[dens[i0 + P]]
				var d011: float = sv[dens[i0 + P + 1]]
				var d100: float = sv[dens[i0 + P2]]
				var d101: float = sv[dens[i0 + P2 + 1]]
				var d110: float = sv[dens[i0 + P2 + P]]
				var d111: float = sv[dens[i0 + P2 + P + 1]]
				var s000 := d000 > 0.0
				var s001 := d001 > 0.0
				var s010 := d010 > 0.0
				var s011 := d011 > 0.0
				var s100 := d100 > 0.0
				var s101 := d101 > 0.0
				var s110 := d110 > 0.0
				var s111 := d111 > 0.0
				# vertex: mean of the edge crossings (cell-local 0..1)
				var ax := 0.0
				var ay := 0.0
				var az := 0.0
				var n := 0
				if s000 != s100:
					ax += d000 / (d000 - d100)
					n += 1
				if s010 != s110:
					ax += d010 / (d010 - d110)
					ay += 1.0
					n += 1
				if s001 != s101:
					ax += d001 / (d001 - d101)
					az += 1.0
					n += 1
				if s011 != s111:
					ax += d011 / (d011 - d111)
					ay += 1.0
					az += 1.0
					n += 1
				if s000 != s010:
					ay += d000 / (d000 - d010)
					n += 1
				if s100 != s110:
					ay += d100 / (d100 - d110)
					ax += 1.0
					n += 1
				if s001 != s011:
					ay += d001 / (d001 - d011)
					az += 1.0
					n += 1
				if s101 != s111:
					ay += d101 / (d101 - d111)
					ax += 1.0
					az += 1.0
					n += 1
				if s000 != s001:
					az += d000 / (d000 - d001)
					n += 1
				if s100 != s101:
					az += d100 / (d100 - d101)
					ax += 1.0
					n += 1
				if s010 != s011:
					az += d010 / (d010 - d011)
					ay += 1.0
					n += 1
				if s110 != s111:
					az += d110 / (d110 - d111)
					ax += 1.0
					ay += 1.0
					n += 1
				var inv := 1.0 / n
				var u := ax * inv
				var v := ay * inv
				var w := az * inv
				# density gradient at the vertex (trilinear); the outward normal is -gradient
				var u1 := 1.0 - u
				var v1 := 1.0 - v
				var w1 := 1.0 - w
				var gx := (
					v1 * w1 * (d100 - d000) + v * w1 * (d110 - d010)
					+ v1 * w * (d101 - d001) + v * w * (d111 - d011)
				)
				var gy := (
					u1 * w1 * (d010 - d000) + u * w1 * (d110 - d100)
					+ u1 * w * (d011 - d001) + u * w * (d111 - d101)
				)
				var gz := (
					u1 * v1 * (d001 - d000) + u * v1 * (d101 - d100)
					+ u1 * v * (d011 - d010) + u * v * (d111 - d110)
				)
				var normal := Vector3(-gx, -gy, -gz)
				if normal.length_squared() < 1e-12:
					normal = Vector3(
						(d000 + d001 + d010 + d011) - (d100 + d101 + d110 + d111),
						(d000 + d001 + d100 + d101) - (d010 + d011 + d110 + d111),
						(d000 + d010 + d100 + d110) - (d001 + d011 + d101 + d111)
					)
				# material: the first solid corner's
				var mi := i0
				if s000:
					mi = i0
				elif s001:
					mi = i0 + 1
				elif s010:
					mi = i0 + P
				elif s011:
					mi = i0 + P + 1
				elif s100:
					mi = i0 + P2
				elif s101:
					mi = i0 + P2 + 1
				elif s110:
					mi = i0 + P2 + P
				else:
					mi = i0 + P2 + P + 1
				var vi := verts.size()
				var ci := cell_base + z
				cell_vertex[ci] = vi
				verts.append(Vector3((cx - 1 + u) * VOXEL_M, (cy - 1 + v) * VOXEL_M, (z - 1 + w) * VOXEL_M))
				norms.append(normal.normalized())
				cols.append(palette[mats[mi]])
				# quads of the sign-changing edges that start at this cell's min corner
				# (owned by this chunk when that corner is one of its voxels, 1..32 padded);
				# the four cells around such an edge are this one and three visited earlier.
				if cx == 0 or cy == 0 or z == 0:
					continue
				if s000 != s100:
					# x edge: cells (cy-1, z-1) (cy, z-1) (cy, z) (cy-1, z), CCW about +x
					var q0 := cell_vertex[ci - C1 - 1]
					var q1 := cell_vertex[ci - 1]
					var q3 := cell_vertex[ci - C1]
					if s000:
						idx.append_array([q0, vi, q1, q0, q3, vi])
					else:
						idx.append_array([q0, q1, vi, q0, vi, q3])
				if s000 != s010:
					# y edge: cells (x-1, z-1) (x-1, z) (x, z) (x, z-1), CCW about +y
					var q0 := cell_vertex[ci - C2 - 1]
					var q1 := cell_vertex[ci - C2]
					var q3 := cell_vertex[ci - 1]
					if s000:
						idx.append_array([q0, vi, q1, q0, q3, vi])
					else:
						idx.append_array([q0, q1, vi, q0, vi, q3])
				if s000 != s001:
					# z edge: cells (x-1, y-1) (x, y-1) (x, y) (x-1, y), CCW about +z
					var q0 := cell_vertex[ci - C2 - C1]
					var q1 := cell_vertex[ci - C1]
					var q3 := cell_vertex[ci - C2]
					if s000:
						idx.append_array([q0, vi, q1, q0, q3, vi])
					else:
						idx.append_array([q0, q1, vi, q0, vi, q3])
	out.vertices = verts
	out.normals = norms
	out.colors = cols
	out.indices = idx
	return out
