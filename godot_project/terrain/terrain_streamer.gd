class_name PSTerrainStreamer
extends Node3D
## Streams the planet's terrain around a focus node (the player's head or the spectator's
## camera): generates chunks locally on WorkerThreadPool threads, merges the server's
## chunk states and deltas ([PSChunkStore]), meshes chunks on worker threads
## ([PSSurfaceNets]) and uploads finished meshes on the main thread within
## [member upload_budget_ms] per frame. Nearest chunks first; chunks beyond
## [member view_radius] + 2 are unloaded. Chunks within [member collision_radius] get
## collision shapes. A [PSFloatingOrigin] keeps the focus near the scene origin.
##
## Keep this node at the scene origin (identity transform under an un-moved parent): chunk
## meshes are placed at [code](coord - origin_chunk) * 16 m[/code]. On an origin shift the
## focus node and every node in group [constant FLOATING_GROUP] move by the same whole
## number of chunks.
##
## Gravity: a child Area3D ([member gravity_area]) replaces the space's gravity with point
## gravity towards the planet's centre (moved with the floating origin), so bodies and
## characters using [code]get_gravity()[/code] stand on the curved planet; "down" is
## [code]-origin.up_at(position)[/code].

## Emitted after the floating origin moved; [param offset_m] was added to every floating
## node's position.
signal origin_shifted(offset_m: Vector3)
## Emitted when a chunk's mesh (possibly empty) was uploaded.
signal chunk_meshed(coord: Vector3i)

## Nodes in this group are moved with the floating origin (players, markers, ...).
const FLOATING_GROUP := &"ps_floating"
const CHUNK_M := 16.0
## The 27 offsets of a chunk's neighbourhood (itself included).
const NEIGHBOURS: Array[Vector3i] = [
	Vector3i(-1, -1, -1), Vector3i(-1, -1, 0), Vector3i(-1, -1, 1),
	Vector3i(-1, 0, -1), Vector3i(-1, 0, 0), Vector3i(-1, 0, 1),
	Vector3i(-1, 1, -1), Vector3i(-1, 1, 0), Vector3i(-1, 1, 1),
	Vector3i(0, -1, -1), Vector3i(0, -1, 0), Vector3i(0, -1, 1),
	Vector3i(0, 0, -1), Vector3i(0, 0, 0), Vector3i(0, 0, 1),
	Vector3i(0, 1, -1), Vector3i(0, 1, 0), Vector3i(0, 1, 1),
	Vector3i(1, -1, -1), Vector3i(1, -1, 0), Vector3i(1, -1, 1),
	Vector3i(1, 0, -1), Vector3i(1, 0, 0), Vector3i(1, 0, 1),
	Vector3i(1, 1, -1), Vector3i(1, 1, 0), Vector3i(1, 1, 1),
]
## Plan entries examined per frame past the finished prefix (bounds main-thread time).
const MAX_WALK := 96
## Main-thread time per frame for scheduling (the plan walks stop when it is spent).
const DISPATCH_BUDGET_USEC := 800

## Chunks within this distance (in chunks, between chunk centres) of the focus chunk are
## meshed; their neighbours' voxels are loaded too (the apron).
@export_range(1, 16) var view_radius := 5
## Chunks within this Chebyshev distance of the focus chunk get collision shapes.
@export_range(0, 4) var collision_radius := 1
## Main-thread time per frame for uploading finished meshes (at least one per frame).
@export_range(0.1, 16.0, 0.1, "suffix:ms") var upload_budget_ms := 2.0
## Worker tasks in flight at once; 0 = one less than the number of processors (at least
## one), leaving a core to the main and render threads.
@export_range(0, 64) var max_tasks := 0
## The focus (head or camera); its position decides which chunks load.
@export var focus: Node3D

## Where generated chunks come from (set before the first frame, see [method configure]).
var source: PSChunkSource
var store := PSChunkStore.new()
var origin := PSFloatingOrigin.new()
var palette := PSTerrainPalette.build()
var terrain_material: StandardMaterial3D
## Point gravity towards the planet's centre (see the class description).
var gravity_area: Area3D
## Main-thread microseconds of the last [method update_streaming]: collect, replan,
## dispatch, upload (meshes and colliders), and of that the colliders.
var last_frame_usec := PackedInt64Array()

## Chunks known to be air (AIR) or buried (BURIED) without generating them.
var _implicit := {}
var _gen_tasks := {}  # Vector3i -> task id
var _mesh_tasks := {}  # Vector3i -> task id
var _mutex := Mutex.new()
var _done_gen: Array = []  # [coord, PSChunkData or null] from workers
var _done_mesh: Array = []  # MeshData from workers
var _ready_meshes: Array = []  # MeshData waiting for upload
var _mesh_serial := {}  # Vector3i -> int, bumped when a chunk must be re-meshed
var _meshed := {}  # Vector3i -> serial of the uploaded mesh
var _edits: Array[Vector3i] = []  # re-meshes after edits, before anything else
var _urgent: Array[Vector3i] = []  # re-meshes for collision faces, before the plan
var _edited := {}  # Vector3i -> true from an edit until its new mesh is uploaded
var _nodes := {}  # Vector3i -> MeshInstance3D
var _has_faces := {}  # Vector3i -> true when the uploaded mesh came with collision
var _colliders: PSChunkColliders
var _plan: Array[Vector3i] = []
var _plan_done := 0
var _gen_cursor := 0
var _voxel_count := {}  # Vector3i -> how many of its 27 neighbourhood chunks have voxels
var _focus_chunk := Vector3i(0x7FFFFFFF, 0, 0)
var _buried_entry: Array = []
var _max_tasks := 1
var _last_collider_usec := 0
var _offsets: Array[Vector3i] = []  # plan offsets, nearest first
var _offsets_radius := -1


func _ready() -> void:
	_colliders = PSChunkColliders.new()
	_colliders.name = "Colliders"
	add_child(_colliders)
	terrain_material = StandardMaterial3D.new()
	terrain_material.vertex_color_use_as_albedo = true
	terrain_material.vertex_color_is_srgb = true  # the biome palette is sRGB
	terrain_material.roughness = 0.95
	_max_tasks = max_tasks if max_tasks > 0 else maxi(1, OS.get_processor_count() - 1)
	var d := PackedByteArray()
	d.resize(PSChunkData.VOLUME)
	d.fill(PSChunkData.SOLID_BYTE)
	var m := PackedByteArray()
	m.resize(PSChunkData.VOLUME)
	m.fill(PSGenConstants.STONE)
	var rows := PackedInt64Array()
	rows.resize(PSChunkData.ROWS)
	rows.fill(PSChunkData.FULL_ROW)
	_buried_entry = [d, m, rows]


func _exit_tree() -> void:
	for id: int in _gen_tasks.values():
		WorkerThreadPool.wait_for_task_completion(id)
	for id: int in _mesh_tasks.values():
		WorkerThreadPool.wait_for_task_completion(id)
	_gen_tasks.clear()
	_mesh_tasks.clear()


## Use [param chunk_source] for local generation and start streaming around [param focus_node].
## Configuring again with another source (another planet) drops everything loaded.
func configure(chunk_source: PSChunkSource, focus_node: Node3D) -> void:
	if source != null and chunk_source != source:
		reset()
	source = chunk_source
	focus = focus_node
	_setup_gravity()


## Drop every chunk, mesh, collider and queued job (waits for running worker tasks).
func reset() -> void:
	_exit_tree()
	_mutex.lock()
	_done_gen.clear()
	_done_mesh.clear()
	_mutex.unlock()
	for n: Node in _nodes.values():
		n.queue_free()
	if _colliders != null:
		_colliders.clear()
	store = PSChunkStore.new()
	for d: Dictionary in [
		_implicit, _mesh_serial, _meshed, _nodes, _has_faces, _voxel_count
	]:
		d.clear()
	_ready_meshes.clear()
	_edits.clear()
	_urgent.clear()
	_edited.clear()
	_plan.clear()
	_plan_done = 0
	_gen_cursor = 0
	_focus_chunk = Vector3i(0x7FFFFFFF, 0, 0)


func _setup_gravity() -> void:
	if gravity_area == null:
		gravity_area = Area3D.new()
		gravity_area.name = "PlanetGravity"
		gravity_area.monitoring = false
		gravity_area.monitorable = false
		gravity_area.gravity_space_override = Area3D.SPACE_OVERRIDE_REPLACE
		gravity_area.gravity_point = true
		gravity_area.gravity_point_center = Vector3.ZERO
		var shape := CollisionShape3D.new()
		shape.shape = SphereShape3D.new()
		gravity_area.add_child(shape)
		add_child(gravity_area)
	gravity_area.gravity = source.surface_gravity()
	var sphere := (gravity_area.get_child(0) as CollisionShape3D).shape as SphereShape3D
	sphere.radius = source.planet_radius_m() * 2.0 + 1000.0
	gravity_area.position = origin.planet_centre()


func _process(_delta: float) -> void:
	if source == null or focus == null:
		return
	update_streaming()


## One streaming step (what [method _process] does each frame): floating origin, results,
## scheduling, uploads. Public so tests and benchmarks can drive it.
func update_streaming() -> void:
	var t0 := Time.get_ticks_usec()
	_update_origin()
	_collect()
	var t1 := Time.get_ticks_usec()
	var fc := origin.scene_to_chunk(focus.global_position - global_position)
	if fc != _focus_chunk:
		_focus_chunk = fc
		_replan()
	var t2 := Time.get_ticks_usec()
	_dispatch()
	var t3 := Time.get_ticks_usec()
	_upload(t0)
	var t4 := Time.get_ticks_usec()
	last_frame_usec = PackedInt64Array([t1 - t0, t2 - t1, t3 - t2, t4 - t3, _last_collider_usec])


## True when every chunk within [member view_radius] is meshed and nothing is queued.
func is_idle() -> bool:
	return (
		_gen_tasks.is_empty() and _mesh_tasks.is_empty() and _ready_meshes.is_empty()
		and _urgent.is_empty() and _edits.is_empty() and not _colliders.is_busy()
		and not _plan.is_empty()
		and _plan_done >= _plan.size() and _gen_cursor >= _plan.size()
	)


## Counters for the HUD and the benchmark.
func stats() -> Dictionary:
	return {
		"chunks": store.size(),
		"implicit": _implicit.size(),
		"meshes": _nodes.size(),
		"colliders": _colliders.count(),
		"collision_pieces_queued": _colliders.pending_pieces(),
		"urgent": _urgent.size() + _edits.size(),
		"generating": _gen_tasks.size(),
		"meshing": _mesh_tasks.size(),
		"to_upload": _ready_meshes.size(),
		"planned": _plan.size(),
		"planned_done": _plan_done,
	}


## True if chunk [param coord] has complete collision attached (possibly of an older mesh).
func has_collision(coord: Vector3i) -> bool:
	return _colliders.has_collision(coord)


## Chunk [param coord]'s mesh serial: bumped each time its voxels or apron change.
func mesh_serial(coord: Vector3i) -> int:
	return int(_mesh_serial.get(coord, 0))


## True if chunk [param coord]'s uploaded mesh is its newest (no re-mesh pending).
func is_mesh_current(coord: Vector3i) -> bool:
	return int(_meshed.get(coord, -1)) == int(_mesh_serial.get(coord, 0))


## True if chunk [param coord] needs no new collision: outside the collision range, or its
## newest mesh is uploaded and its collision (if the mesh has triangles) is that mesh's.
func is_collision_current(coord: Vector3i) -> bool:
	if not _in_collision(coord):
		return true
	if not is_mesh_current(coord):
		return false
	if not _nodes.has(coord):
		return true  # empty mesh: no collision wanted
	return _colliders.collision_serial(coord) == int(_meshed[coord])


## The MeshInstance3D of chunk [param coord], or null.
func get_chunk_node(coord: Vector3i) -> MeshInstance3D:
	return _nodes.get(coord)


# ---- server merge API -------------------------------------------------------------------


## The server's full state of chunk [param coord] (32^3 int8 densities as bytes and
## materials) replaces the local voxels; the chunk and its neighbours are re-meshed.
func apply_chunk_state(
	coord: Vector3i, densities: PackedByteArray, materials: PackedByteArray
) -> void:
	var had := _has_voxels(coord)
	_implicit.erase(coord)
	_remesh(store.set_chunk_state(coord, densities, materials))
	if not had:
		_count_voxels(coord, 1)


## A chunk entry from the server (CHUNK_STATE or TERRAIN_DELTA, docs/protocol.md):
## [param version] and the raw delta payload over generation (after
## [method PSDeltaCodec.decompress]; empty for GENERATED). Re-meshes only the chunks whose
## voxels or apron changed. Returns false for a malformed payload (re-request the chunk).
func apply_server_entry(coord: Vector3i, version: int, payload: PackedByteArray) -> bool:
	if _implicit.has(coord) and not payload.is_empty():
		# known without voxels (air / buried): generate it for real, then apply
		_implicit.erase(coord)
		_count_voxels(coord, -1)
		_plan_done = 0
		_gen_cursor = 0
	var result := store.apply_server_entry(coord, version, payload)
	_remesh(result[1])
	return result[0]


## Apply an edit to chunk [param coord] (see [method PSChunkStore.apply_delta]) and
## re-mesh only the chunks it touches (the chunk and the seam neighbours whose apron holds a
## changed voxel). A delta for a chunk that is not loaded waits for it.
func apply_delta(
	coord: Vector3i,
	indices: PackedInt32Array,
	densities: PackedByteArray,
	materials: PackedByteArray
) -> void:
	if _implicit.has(coord):
		# known without voxels (air / buried): generate it for real, then apply
		_implicit.erase(coord)
		_count_voxels(coord, -1)
		_plan_done = 0
		_gen_cursor = 0
	_remesh(store.apply_delta(coord, indices, densities, materials))


## Local helper (tools, benchmark, tests): carve ([param add] false) or fill a sphere of
## [param radius_m] metres at scene point [param centre] with [param material_id] in the
## loaded chunks ([method PSTerrainEdits.sphere]) and apply it like a server delta.
## Returns the chunks whose voxels changed.
func edit_sphere(
	centre: Vector3, radius_m: float, add: bool, material_id: int = PSGenConstants.STONE
) -> Array[Vector3i]:
	var world := centre + Vector3(origin.origin_chunk) * CHUNK_M
	var deltas := PSTerrainEdits.sphere(store, world, radius_m, add, material_id)
	var out: Array[Vector3i] = []
	for c: Vector3i in deltas:
		var e: Array = deltas[c]
		apply_delta(c, e[0], e[1], e[2])
		out.append(c)
	return out


# ---- internals --------------------------------------------------------------------------


## Chunks [param coords] must be re-meshed. [param edit]: their voxels changed (edits,
## server data): they go before every other job, those in the collision range first, and
## their meshes and collision pieces before the streaming ones.
func _remesh(coords: Array[Vector3i], edit: bool = true) -> void:
	for c in coords:
		_mesh_serial[c] = int(_mesh_serial.get(c, 0)) + 1
		if not _in_view(c):
			continue
		if not edit:
			if not _urgent.has(c) and not _edits.has(c):
				_urgent.append(c)
			continue
		_urgent.erase(c)
		_edited[c] = true
		if _edits.has(c):
			continue
		if _in_collision(c):
			var at := 0
			while at < _edits.size() and _in_collision(_edits[at]):
				at += 1
			_edits.insert(at, c)
		else:
			_edits.append(c)


func _in_view(c: Vector3i) -> bool:
	var d := c - _focus_chunk
	return d.x * d.x + d.y * d.y + d.z * d.z <= view_radius * view_radius


func _update_origin() -> void:
	var shift := origin.shift_for(focus.global_position - global_position)
	if shift == Vector3i.ZERO:
		return
	var offset := origin.apply_shift(shift)
	focus.global_position += offset
	for n in get_tree().get_nodes_in_group(FLOATING_GROUP):
		if n is Node3D and n != focus:
			(n as Node3D).global_position += offset
	for c: Vector3i in _nodes:
		(_nodes[c] as Node3D).position = origin.chunk_to_scene(c)
	_colliders.reposition(origin.chunk_to_scene)
	if gravity_area != null:
		gravity_area.position = origin.planet_centre()
	origin_shifted.emit(offset)


func _replan() -> void:
	if _offsets_radius != view_radius:
		_offsets = _sorted_offsets(view_radius)
		_offsets_radius = view_radius
	var coords: Array[Vector3i] = []
	coords.resize(_offsets.size())
	for i in _offsets.size():
		coords[i] = _focus_chunk + _offsets[i]
	_plan = coords
	_plan_done = 0
	_gen_cursor = 0
	_unload_far()
	# chunks that entered the collision range need a mesh with faces
	for c: Vector3i in _nodes:
		if _in_collision(c) and not _has_faces.has(c):
			_remesh([c], false)


## Offsets of the chunks within [param r] (chunk centres) and of all their neighbours
## (whose voxels their aprons need), nearest first.
static func _sorted_offsets(r: int) -> Array[Vector3i]:
	var seen := {}
	for dx in range(-r, r + 1):
		for dy in range(-r, r + 1):
			for dz in range(-r, r + 1):
				if dx * dx + dy * dy + dz * dz <= r * r:
					for o in NEIGHBOURS:
						seen[Vector3i(dx, dy, dz) + o] = true
	var out: Array[Vector3i] = []
	for o: Vector3i in seen:
		out.append(o)
	out.sort_custom(
		func(a: Vector3i, b: Vector3i) -> bool: return a.length_squared() < b.length_squared()
	)
	return out


func _in_collision(c: Vector3i) -> bool:
	var d := (c - _focus_chunk).abs()
	return maxi(d.x, maxi(d.y, d.z)) <= collision_radius


func _unload_far() -> void:
	var limit := (view_radius + 2) * (view_radius + 2)
	var far: Array[Vector3i] = []
	for c: Vector3i in _nodes:
		if (c - _focus_chunk).length_squared() > limit:
			far.append(c)
	for c in far:
		(_nodes[c] as Node).queue_free()
		_nodes.erase(c)
		_meshed.erase(c)
	far.clear()
	_colliders.drop_unless(_in_collision)
	for c: Vector3i in _has_faces:
		if not _in_collision(c):
			far.append(c)
	for c in far:
		_has_faces.erase(c)
	far.clear()
	for c: Vector3i in store.chunks:
		if (c - _focus_chunk).length_squared() > limit + 4 * view_radius:
			far.append(c)
	for c in far:
		if store.unload(c):
			_count_voxels(c, -1)
	far.clear()
	for c: Vector3i in _implicit:
		if (c - _focus_chunk).length_squared() > limit + 4 * view_radius:
			far.append(c)
	for c in far:
		_implicit.erase(c)
		_count_voxels(c, -1)
	far.clear()
	for c: Vector3i in _meshed:
		if (c - _focus_chunk).length_squared() > limit:
			far.append(c)
	for c in far:
		_meshed.erase(c)
		if not store.has_chunk(c):
			_mesh_serial.erase(c)
	far.clear()
	for c: Vector3i in _edited:
		if not _in_view(c):
			far.append(c)
	for c in far:
		_edited.erase(c)


func _has_voxels(c: Vector3i) -> bool:
	return store.has_chunk(c) or _implicit.has(c)


func _neighbourhood_ready(c: Vector3i) -> bool:
	return int(_voxel_count.get(c, 0)) == 27


## Chunk [param n]'s voxels became available (+1) or went away (-1): update the count of
## available voxels in the neighbourhood of each of its 27 neighbours.
func _count_voxels(n: Vector3i, step: int) -> void:
	for o in NEIGHBOURS:
		var c: Vector3i = n + o
		var k := int(_voxel_count.get(c, 0)) + step
		if k == 0:
			_voxel_count.erase(c)
		else:
			_voxel_count[c] = k


func _needs_mesh(c: Vector3i) -> bool:
	return _in_view(c) and int(_meshed.get(c, -1)) != int(_mesh_serial.get(c, 0))


func _slots() -> int:
	return _max_tasks - _gen_tasks.size() - _mesh_tasks.size()


func _dispatch() -> void:
	# edits may use one task beyond max_tasks: a re-mesh is short, waiting for a worker
	# busy with a generation is not
	_dispatch_list(_edits, 1)
	if _slots() <= 0:
		return
	_dispatch_list(_urgent, 0)
	# meshes, nearest first: _plan_done is the fully handled prefix of the plan
	var i := _plan_done
	var prefix := true
	var walk_end := mini(_plan.size(), _plan_done + MAX_WALK)
	var deadline := Time.get_ticks_usec() + DISPATCH_BUDGET_USEC
	while i < walk_end and _slots() > 0 and Time.get_ticks_usec() < deadline:
		var c := _plan[i]
		i += 1
		var complete := _advance_mesh(c)
		if prefix and complete:
			_plan_done = i
		else:
			prefix = false
	# voxels, nearest first (the neighbours of the next meshes come first in the plan)
	while _gen_cursor < _plan.size() and _slots() > 0 and Time.get_ticks_usec() < deadline:
		var c := _plan[_gen_cursor]
		if not _has_voxels(c) and not _gen_tasks.has(c) and not _try_implicit(c):
			_start_gen(c)
		_gen_cursor += 1


## Start the re-meshes of [param list] that can start (while slots + [param extra] remain).
func _dispatch_list(list: Array[Vector3i], extra: int) -> void:
	var k := 0
	while k < list.size() and _slots() + extra > 0:
		var c := list[k]
		if not _in_view(c):
			list.remove_at(k)
			continue
		if _mesh_tasks.has(c) or not _neighbourhood_ready(c):
			k += 1
			continue
		list.remove_at(k)
		if _needs_mesh(c):
			_start_mesh(c)


## Start meshing chunk [param c] if it can be; true when it needs nothing more.
func _advance_mesh(c: Vector3i) -> bool:
	if not _has_voxels(c):
		return false
	if not _in_view(c) or not _needs_mesh(c):
		return true
	if _mesh_tasks.has(c) or not _neighbourhood_ready(c):
		return false
	if _neighbourhood_empty(c):
		_meshed[c] = int(_mesh_serial.get(c, 0))
		return true
	_start_mesh(c)
	return false


## Record chunk [param c] as air / buried if the source knows it without generating.
func _try_implicit(c: Vector3i) -> bool:
	if _gen_tasks.has(c) or store.pending.has(c) or store.pending_entries.has(c):
		return false
	var kind := source.classify(c)
	if kind == PSChunkSource.UNKNOWN:
		return false
	_implicit[c] = kind
	_count_voxels(c, 1)
	return true


## True if all 27 chunks are uniformly air or uniformly solid (no surface can cross them).
func _neighbourhood_empty(c: Vector3i) -> bool:
	var kind := 0
	for dx in range(-1, 2):
		for dy in range(-1, 2):
			for dz in range(-1, 2):
				var n := c + Vector3i(dx, dy, dz)
				var k := 0
				if _implicit.has(n):
					k = PSChunkData.UNIFORM_AIR if _implicit[n] == PSChunkSource.AIR else PSChunkData.UNIFORM_SOLID
				else:
					k = store.get_chunk(n).uniform
				if k == PSChunkData.MIXED or (kind != 0 and k != kind):
					return false
				kind = k
	return true


func _start_gen(c: Vector3i) -> void:
	var src := source
	_gen_tasks[c] = WorkerThreadPool.add_task(_gen_job.bind(src, c), false, "terrain gen")


func _gen_job(src: PSChunkSource, c: Vector3i) -> void:
	var chunk := src.generate(c)
	_mutex.lock()
	_done_gen.append([c, chunk])
	_mutex.unlock()


func _start_mesh(c: Vector3i) -> void:
	var block: Array = []
	block.resize(27)
	for dx in range(-1, 2):
		for dy in range(-1, 2):
			for dz in range(-1, 2):
				var n := c + Vector3i(dx, dy, dz)
				var e: Variant = null
				if _implicit.has(n):
					e = _buried_entry if _implicit[n] == PSChunkSource.BURIED else null
				else:
					e = PSSurfaceNets.block_entry(store.get_chunk(n))
				block[(dx + 1) * 9 + (dy + 1) * 3 + (dz + 1)] = e
	var serial := int(_mesh_serial.get(c, 0))
	var faces := _in_collision(c)
	_mesh_tasks[c] = WorkerThreadPool.add_task(
		_mesh_job.bind(block, palette, c, serial, faces), false, "terrain mesh"
	)


func _mesh_job(
	block: Array, pal: PackedColorArray, c: Vector3i, serial: int, faces: bool
) -> void:
	var data := PSSurfaceNets.mesh(block, pal, faces)
	if faces and not data.faces.is_empty():
		data.set_meta(&"shapes", PSChunkColliders.build_pieces(data.faces))
	data.coord = c
	data.revision = serial
	_mutex.lock()
	_done_mesh.append(data)
	_mutex.unlock()


## Take finished results. A task is waited for only once the pool reports it completed:
## waiting for one that has published its result but not yet returned could block the main
## thread until the OS runs that worker again.
func _collect() -> void:
	_mutex.lock()
	var gens := _done_gen
	var meshes := _done_mesh
	_done_gen = []
	_done_mesh = []
	_mutex.unlock()
	var later_gens: Array = []
	var later_meshes: Array = []
	for g: Array in gens:
		var c: Vector3i = g[0]
		var id: int = _gen_tasks[c]
		if not WorkerThreadPool.is_task_completed(id):
			later_gens.append(g)
			continue
		WorkerThreadPool.wait_for_task_completion(id)
		_gen_tasks.erase(c)
		var had := _has_voxels(c)
		store.put_generated(c, g[1])
		if not had:
			_count_voxels(c, 1)
	for m: PSSurfaceNets.MeshData in meshes:
		var id: int = _mesh_tasks[m.coord]
		if not WorkerThreadPool.is_task_completed(id):
			later_meshes.append(m)
			continue
		WorkerThreadPool.wait_for_task_completion(id)
		_mesh_tasks.erase(m.coord)
		if _edited.has(m.coord):
			_ready_meshes.push_front(m)  # edits first
		else:
			_ready_meshes.append(m)
	if not later_gens.is_empty() or not later_meshes.is_empty():
		_mutex.lock()
		_done_gen.append_array(later_gens)
		_done_mesh.append_array(later_meshes)
		_mutex.unlock()


func _upload(t0: int) -> void:
	var budget := int(upload_budget_ms * 1000.0)
	var n := 0
	while not _ready_meshes.is_empty():
		if n > 0 and Time.get_ticks_usec() - t0 >= budget:
			break
		var m: PSSurfaceNets.MeshData = _ready_meshes.pop_front()
		if m.revision != int(_mesh_serial.get(m.coord, 0)):
			continue  # an edit superseded it; a newer job is queued
		_install(m)
		n += 1
	var tc := Time.get_ticks_usec()
	_colliders.attach_some(t0 + budget, _collider_current)
	_last_collider_usec = Time.get_ticks_usec() - tc


func _install(m: PSSurfaceNets.MeshData) -> void:
	var c := m.coord
	_meshed[c] = m.revision
	var edited := _edited.has(c)
	_edited.erase(c)
	var node: MeshInstance3D = _nodes.get(c)
	if m.is_empty():
		if node != null:
			node.queue_free()
			_nodes.erase(c)
		_drop_body(c)
		chunk_meshed.emit(c)
		return
	if not _in_view(c):
		return
	if node == null:
		node = MeshInstance3D.new()
		node.name = "chunk_%d_%d_%d" % [c.x, c.y, c.z]
		node.material_override = terrain_material
		add_child(node)
		_nodes[c] = node
	node.position = origin.chunk_to_scene(c)
	var mesh := ArrayMesh.new()
	mesh.add_surface_from_arrays(Mesh.PRIMITIVE_TRIANGLES, m.to_arrays())
	node.mesh = mesh
	if m.has_meta(&"shapes") and _in_collision(c):
		_colliders.enqueue(
			c,
			m.revision,
			m.get_meta(&"shapes"),
			origin.chunk_to_scene(c),
			edited or _colliders.has_collision(c)
		)
		_has_faces[c] = true
	else:
		_drop_body(c)
	chunk_meshed.emit(c)


## True if the collision of mesh [param serial] is still wanted for chunk [param c].
func _collider_current(c: Vector3i, serial: int) -> bool:
	return serial == int(_meshed.get(c, -1)) and _in_collision(c)


func _drop_body(c: Vector3i) -> void:
	_colliders.drop(c)
	_has_faces.erase(c)
