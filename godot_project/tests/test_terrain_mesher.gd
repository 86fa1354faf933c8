extends PSTestCase
## Surface nets mesher: closed surfaces are watertight (also across chunk seams), normals
## and faces point out of the solid, and the same chunk always gives the same mesh.

var _palette := PSTerrainPalette.build()


## The 27-entry neighbourhood of chunk [param c] from [param src] (null = air).
func _block(src: PSChunkSource, c: Vector3i) -> Array:
	var block: Array = []
	for dx in range(-1, 2):
		for dy in range(-1, 2):
			for dz in range(-1, 2):
				block.append(PSSurfaceNets.block_entry(src.generate(c + Vector3i(dx, dy, dz))))
	return block


## Meshes of chunks lo..hi (inclusive) merged into world-space triangles, vertices welded
## by position (1 mm grid): [positions: PackedVector3Array, triangles: PackedInt32Array,
## normals by welded vertex].
func _merged(src: PSChunkSource, lo: Vector3i, hi: Vector3i) -> Array:
	var cache := {}
	var pos := PackedVector3Array()
	var nor := PackedVector3Array()
	var tris := PackedInt32Array()
	var weld := {}
	for x in range(lo.x, hi.x + 1):
		for y in range(lo.y, hi.y + 1):
			for z in range(lo.z, hi.z + 1):
				var c := Vector3i(x, y, z)
				var block: Array = []
				for dx in range(-1, 2):
					for dy in range(-1, 2):
						for dz in range(-1, 2):
							var n := c + Vector3i(dx, dy, dz)
							if not cache.has(n):
								cache[n] = PSSurfaceNets.block_entry(src.generate(n))
							block.append(cache[n])
				var m := PSSurfaceNets.mesh(block, _palette)
				var base := Vector3(c) * 16.0
				for i in m.indices:
					var p := m.vertices[i] + base
					var key := Vector3i((p * 1000.0).round())
					if not weld.has(key):
						weld[key] = pos.size()
						pos.append(p)
						nor.append(m.normals[i])
					tris.append(weld[key])
	return [pos, tris, nor]


## Each undirected edge in exactly two triangles, once in each direction.
func _check_closed(tris: PackedInt32Array) -> bool:
	var directed := {}
	for t in tris.size() / 3:
		for e in 3:
			var a := tris[t * 3 + e]
			var b := tris[t * 3 + (e + 1) % 3]
			if a == b:
				return fail("degenerate triangle %d" % t)
			var key := Vector2i(a, b)
			if directed.has(key):
				return fail("directed edge %s used twice (orientation or overlap)" % key)
			directed[key] = true
	for key: Vector2i in directed:
		if not directed.has(Vector2i(key.y, key.x)):
			return fail("edge %s has no opposite: the surface has a hole" % key)
	return true


func test_small_sphere_in_one_chunk_is_closed_genus_zero() -> void:
	var src := PSSphereChunkSource.new()
	src.radius_m = 5.0
	# a sphere centred in chunk 0's interior: shift by meshing a source offset
	var shifted := _OffsetSphere.new()
	shifted.radius_m = 5.0
	shifted.centre = Vector3(8.0, 8.0, 8.0)
	var m := _merged(shifted, Vector3i.ZERO, Vector3i.ZERO)
	var tris: PackedInt32Array = m[1]
	assert_true(tris.size() > 300, "enough triangles: %d" % tris.size())
	assert_true(_check_closed(tris))
	# Euler characteristic V - E + F = 2 for a sphere
	var faces := tris.size() / 3
	var edges := tris.size() / 2
	var verts: int = (m[0] as PackedVector3Array).size()
	assert_eq(verts - edges + faces, 2, "Euler characteristic")


func test_sphere_across_chunk_seams_is_watertight() -> void:
	var src := PSSphereChunkSource.create(20.0)
	var m := _merged(src, Vector3i(-2, -2, -2), Vector3i(1, 1, 1))
	var tris: PackedInt32Array = m[1]
	assert_true(tris.size() > 3000, "enough triangles: %d" % tris.size())
	assert_true(_check_closed(tris))
	var verts: int = (m[0] as PackedVector3Array).size()
	assert_eq(verts - tris.size() / 2 + tris.size() / 3, 2, "Euler characteristic")


func test_normals_and_faces_point_out_of_the_solid() -> void:
	var src := PSSphereChunkSource.create(20.0)
	var m := _merged(src, Vector3i(-2, -2, -2), Vector3i(1, 1, 1))
	var pos: PackedVector3Array = m[0]
	var tris: PackedInt32Array = m[1]
	var nor: PackedVector3Array = m[2]
	var worst_normal := 1.0
	for i in pos.size():
		worst_normal = minf(worst_normal, nor[i].dot(pos[i].normalized()))
		var r := pos[i].length()
		if absf(r - 20.0) > 0.3:
			fail("vertex %s off the sphere: r = %f" % [pos[i], r])
			break
	assert_true(worst_normal > 0.95, "vertex normals radial, worst cos %f" % worst_normal)
	var inward := 0
	for t in tris.size() / 3:
		var a := pos[tris[t * 3]]
		var b := pos[tris[t * 3 + 1]]
		var c := pos[tris[t * 3 + 2]]
		# Godot's front face is clockwise: its normal is Plane(a, b, c).normal
		var front := Plane(a, b, c).normal
		if front.dot((a + b + c) / 3.0) <= 0.0:
			inward += 1
	assert_eq(inward, 0, "triangles facing into the solid")


func test_same_chunk_gives_the_same_mesh() -> void:
	var src := PSSphereChunkSource.create(20.0)
	var block := _block(src, Vector3i(0, 1, 0))
	var a := PSSurfaceNets.mesh(block, _palette)
	var b := PSSurfaceNets.mesh(_block(src, Vector3i(0, 1, 0)), _palette)
	assert_true(a.vertices.size() > 100)
	assert_eq(a.vertices.size(), b.vertices.size(), "vertex count")
	assert_eq(a.indices, b.indices)
	assert_eq(a.vertices, b.vertices)


func test_generated_planet_chunk_meshes_stably_with_palette_colours() -> void:
	var src := PSGenChunkSource.create(42, 0)
	var sc := PSGenPlanet.surface_chunk(42, 0, 0.0, 1.0, 0.0)
	var block := _block(src, sc)
	var a := PSSurfaceNets.mesh(block, _palette)
	var b := PSSurfaceNets.mesh(block, _palette)
	assert_true(a.vertices.size() > 500, "surface chunk has a surface: %d" % a.vertices.size())
	assert_eq(a.vertices.size(), b.vertices.size())
	assert_eq(a.indices, b.indices)
	var magenta := 0
	for col in a.colors:
		if col == PSTerrainPalette.UNKNOWN:
			magenta += 1
	assert_eq(magenta, 0, "every material has a palette colour")
	# the ground faces up (+y) on this chunk at the planet's +y pole
	var up := 0
	for n in a.normals:
		if n.y > 0.0:
			up += 1
	assert_true(up > a.normals.size() * 0.5, "normals mostly up: %d/%d" % [up, a.normals.size()])


func test_all_air_and_all_solid_give_empty_meshes() -> void:
	var block: Array = []
	block.resize(27)
	assert_true(PSSurfaceNets.mesh(block, _palette).is_empty())
	var solid := PSSphereChunkSource.create(1000.0)
	assert_true(PSSurfaceNets.mesh(_block(solid, Vector3i.ZERO), _palette).is_empty())


func test_missing_neighbour_counts_as_air() -> void:
	# a solid chunk surrounded by air is a closed box
	var src := PSSphereChunkSource.create(1000.0)
	var block: Array = []
	block.resize(27)
	block[13] = PSSurfaceNets.block_entry(src.generate(Vector3i.ZERO))
	var m := PSSurfaceNets.mesh(block, _palette)
	assert_false(m.is_empty())
	for v in m.vertices:
		if v.x < -0.5 or v.x > 16.0 or v.y < -0.5 or v.y > 16.0:
			fail("vertex %s outside the chunk and its apron" % v)
			break


## A sphere at an arbitrary centre (for meshing inside one chunk).
class _OffsetSphere:
	extends PSChunkSource
	var radius_m := 5.0
	var centre := Vector3.ZERO

	func generate(coord: Vector3i) -> PSChunkData:
		var d := PackedByteArray()
		var m := PackedByteArray()
		d.resize(PSChunkData.VOLUME)
		m.resize(PSChunkData.VOLUME)
		var o := 0
		for x in 32:
			for y in 32:
				for z in 32:
					var p := Vector3(coord * 32 + Vector3i(x, y, z)) * 0.5
					var q := clampi(int(floorf((radius_m - p.distance_to(centre)) * 32.0 + 0.5)), -127, 127)
					d[o] = q & 0xFF
					m[o] = 16 if q > 0 else 0
					o += 1
		return PSChunkData.from_arrays(coord, d, m)
