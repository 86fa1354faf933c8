extends PSTestCase
## Streaming, merging server data, edits, collision and the floating origin, on an analytic
## 40 m sphere (fast to generate).

const RADIUS := 40.0

var _streamer: PSTerrainStreamer
var _focus: Node3D
var _meshed: Array[Vector3i] = []


func before_each() -> void:
	_meshed.clear()
	_focus = Node3D.new()
	add_child(_focus)
	_streamer = PSTerrainStreamer.new()
	_streamer.view_radius = 2
	_streamer.collision_radius = 1
	add_child(_streamer)
	_streamer.chunk_meshed.connect(func(c: Vector3i) -> void: _meshed.append(c))
	# focus 1 m above the sphere's +x point
	_streamer.origin.origin_chunk = Vector3i(2, 0, 0)
	_focus.position = _streamer.origin.world_to_scene(Vector3(RADIUS + 1.0, 0.3, 0.2))
	_streamer.configure(PSSphereChunkSource.create(RADIUS), _focus)


func after_each() -> void:
	_streamer.queue_free()
	_focus.queue_free()
	await get_tree().process_frame


func _wait_idle(max_frames: int = 3000) -> bool:
	for i in max_frames:
		await get_tree().process_frame
		if _streamer.is_idle():
			return true
	return fail("streamer not idle after %d frames: %s" % [max_frames, _streamer.stats()])


## One collision holder per chunk with collision, on the 16 m grid, none left over after
## re-meshes and origin shifts; and the ground is found under the focus.
func _check_colliders(expect_ground: bool = true) -> void:
	await get_tree().process_frame
	var holders: Node = _streamer.get_node("Colliders")
	var live := 0
	for h in holders.get_children():
		if h.is_queued_for_deletion():
			continue
		live += 1
		var p: Vector3 = (h as Node3D).position
		assert_eq(p, (p / 16.0).round() * 16.0, "collision holder %s on the chunk grid" % h.name)
	assert_eq(live, int(_streamer.stats()["colliders"]), "no stale collision bodies")
	await get_tree().physics_frame
	await get_tree().physics_frame
	var down := -_streamer.origin.up_at(_focus.position)
	var q := PhysicsRayQueryParameters3D.create(_focus.position, _focus.position + down * 50.0)
	var hit := _streamer.get_world_3d().direct_space_state.intersect_ray(q)
	if expect_ground:
		assert_false(hit.is_empty(), "ground under the focus")


func test_streams_nearest_first_with_collision_near_the_focus() -> void:
	if not await _wait_idle():
		return
	var s := _streamer.stats()
	assert_true(int(s["meshes"]) >= 6, "meshes: %s" % s)
	assert_true(int(s["colliders"]) >= 1, "collision near the focus: %s" % s)
	var fc := _streamer.origin.scene_to_chunk(_focus.position)
	assert_true(
		(_meshed[0] - fc).length_squared() <= 3, "first mesh near the focus: %s" % _meshed[0]
	)
	# a ray straight down from the focus hits the ground about 1 m below
	var space := _streamer.get_world_3d().direct_space_state
	var down := -_streamer.origin.up_at(_focus.position)
	var q := PhysicsRayQueryParameters3D.create(_focus.position, _focus.position + down * 5.0)
	await get_tree().physics_frame
	await get_tree().physics_frame
	var hit := space.intersect_ray(q)
	assert_false(hit.is_empty(), "collision under the focus")
	if not hit.is_empty():
		var d: float = (hit["position"] as Vector3).distance_to(_focus.position)
		assert_almost_eq(d, 1.0, 0.35, "ground distance")


func test_bodies_fall_towards_the_planet_centre_and_land() -> void:
	if not await _wait_idle():
		return
	var up := _streamer.origin.up_at(_focus.position)
	var body := RigidBody3D.new()
	var cs := CollisionShape3D.new()
	cs.shape = SphereShape3D.new()
	(cs.shape as SphereShape3D).radius = 0.25
	body.add_child(cs)
	add_child(body)
	body.global_position = _focus.position + up * 1.0
	for i in 5:
		await get_tree().physics_frame
	var g := body.get_gravity()
	assert_almost_eq(g.length(), 9.81, 0.01, "gravity strength")
	assert_true(g.normalized().dot(-up) > 0.99, "gravity points to the centre: %s" % g)
	for i in 120:
		await get_tree().physics_frame
	var r := (body.global_position - _streamer.origin.planet_centre()).length()
	assert_almost_eq(r, RADIUS + 0.25, 0.3, "resting on the ground, not fallen through")
	body.queue_free()


func test_chunk_nodes_sit_at_integer_chunk_positions() -> void:
	if not await _wait_idle():
		return
	for child in _streamer.get_children():
		if child is MeshInstance3D:
			var p: Vector3 = (child as Node3D).position
			assert_eq(p, (p / 16.0).round() * 16.0, "chunk node %s on the 16 m grid" % child.name)


func test_edit_remeshes_only_touched_chunks() -> void:
	if not await _wait_idle():
		return
	var o := _streamer.origin
	# on the surface inside one chunk: world (38.4, 8, 8), chunk (2, 0, 0), away from its faces
	_meshed.clear()
	var touched := _streamer.edit_sphere(o.world_to_scene(Vector3(38.4, 8.0, 8.0)), 1.5, false)
	assert_eq(touched, [Vector3i(2, 0, 0)] as Array[Vector3i])
	if not await _wait_idle():
		return
	assert_eq(_meshed, [Vector3i(2, 0, 0)] as Array[Vector3i], "only the edited chunk re-meshed")
	# on the seam y = 0 between chunks (2, -1, 0) and (2, 0, 0): both, and nothing else
	_meshed.clear()
	touched = _streamer.edit_sphere(o.world_to_scene(Vector3(39.2, 0.0, 8.0)), 1.5, false)
	assert_eq(touched.size(), 2, "voxels on both sides of the seam: %s" % [touched])
	if not await _wait_idle():
		return
	var got := {}
	for c in _meshed:
		got[c] = true
	assert_true(
		got.has(Vector3i(2, 0, 0)) and got.has(Vector3i(2, -1, 0)), "seam chunks: %s" % [_meshed]
	)
	for c: Vector3i in got:
		assert_true(c.x == 2 and c.z == 0 and (c.y == 0 or c.y == -1), "unexpected re-mesh %s" % c)
	await _check_colliders()


func test_server_state_and_delta_merge() -> void:
	if not await _wait_idle():
		return
	var c := Vector3i(2, 0, 0)
	var before := _streamer.store.get_chunk(c)
	var dens := before.density.duplicate()
	var mats := before.material.duplicate()
	# the server says the chunk is all air: its mesh goes away
	dens.fill(PSChunkData.AIR_BYTE)
	mats.fill(0)
	_streamer.apply_chunk_state(c, dens, mats)
	assert_true(_streamer.store.get_chunk(c).authoritative)
	if not await _wait_idle():
		return
	assert_eq(_streamer.store.get_chunk(c).uniform, PSChunkData.UNIFORM_AIR)
	# a delta adds one solid voxel back
	var idx := PSChunkData.index_of(10, 10, 10)
	_streamer.apply_delta(c, PackedInt32Array([idx]), PackedByteArray([100]), PackedByteArray([16]))
	assert_eq(_streamer.store.get_chunk(c).density_at(idx), 100)
	if not await _wait_idle():
		return
	assert_not_null(_streamer.get_chunk_node(c), "the lone voxel is meshed")


func test_server_entry_remeshes_only_its_chunk() -> void:
	if not await _wait_idle():
		return
	var c := Vector3i(2, 0, 0)
	var payload := PackedByteArray([0, 1, 0, 0, 0, 0x81, 0])
	payload.encode_u16(3, PSChunkData.index_of(10, 10, 10))
	_meshed.clear()
	assert_true(_streamer.apply_server_entry(c, 1, payload))
	if not await _wait_idle():
		return
	assert_eq(_meshed, [c] as Array[Vector3i])
	assert_false(_streamer.apply_server_entry(c, 2, PackedByteArray([9])), "bad payload")


func test_floating_origin_keeps_the_focus_near_zero() -> void:
	if not await _wait_idle():
		return
	var marker := Node3D.new()
	marker.add_to_group(PSTerrainStreamer.FLOATING_GROUP)
	add_child(marker)
	var o := _streamer.origin
	var world_focus := Vector3(o.origin_chunk) * 16.0 + _focus.position
	var world_marker := world_focus + Vector3(1, 2, 3)
	marker.position = o.world_to_scene(world_marker)
	# fly through the planet to the far side: 1 m above the -x point, 82 m away
	var jump := Vector3(-2.0 * (RADIUS + 1.0), 0, 0)
	_focus.position += jump
	world_focus += jump
	await get_tree().process_frame
	await get_tree().process_frame
	assert_true(_focus.position.length() <= o.threshold_m, "focus near zero: %s" % _focus.position)
	assert_ne(o.origin_chunk, Vector3i(2, 0, 0))
	assert_true(
		(Vector3(o.origin_chunk) * 16.0 + _focus.position).is_equal_approx(world_focus),
		"the focus did not move in world space"
	)
	assert_true(
		(Vector3(o.origin_chunk) * 16.0 + marker.position).is_equal_approx(world_marker),
		"floating nodes move with the origin"
	)
	marker.queue_free()
	if not await _wait_idle():
		return
	await _check_colliders()
	for child in _streamer.get_children():
		if child is MeshInstance3D:
			var p: Vector3 = (child as Node3D).position
			assert_true(p.length() < 16.0 * 6.0, "far chunks unloaded (%s at %s)" % [child.name, p])


func test_configuring_another_planet_drops_the_old_one() -> void:
	if not await _wait_idle():
		return
	var old_count: int = _streamer.stats()["meshes"]
	assert_true(old_count > 0)
	_streamer.configure(PSSphereChunkSource.create(RADIUS + 3.0), _focus)
	assert_eq(_streamer.store.size(), 0)
	if not await _wait_idle():
		return
	# the focus, 1 m above the old surface, is 2 m under the new one: voxel (82, 0, 0)
	var chunk := _streamer.store.get_chunk(Vector3i(2, 0, 0))
	assert_not_null(chunk)
	if chunk != null:
		assert_true(chunk.density_at(PSChunkData.index_of(18, 0, 0)) > 0, "new planet's voxels")
	assert_true(_streamer.stats()["meshes"] > 0)


func test_store_keeps_early_deltas_and_reports_seam_neighbours() -> void:
	var store := PSChunkStore.new()
	var c := Vector3i(5, -3, 7)
	var idx := PSChunkData.index_of(0, 31, 5)
	var early := store.apply_delta(
		c, PackedInt32Array([idx]), PackedByteArray([0x81]), PackedByteArray([0])
	)
	assert_eq(early, [] as Array[Vector3i], "nothing to re-mesh before the chunk arrives")
	var solid := PSSphereChunkSource.create(100000.0)
	var data := solid.generate(c)
	store.put_generated(c, data)
	assert_eq(store.get_chunk(c).density_at(idx), -127, "pending delta applied on arrival")
	var aff := PSChunkStore.affected_by(c, PackedInt32Array([PSChunkData.index_of(0, 31, 0)]))
	assert_eq(aff.size(), 8, "a corner voxel is in the apron of 7 neighbours")
	aff = PSChunkStore.affected_by(c, PackedInt32Array([PSChunkData.index_of(4, 5, 6)]))
	assert_eq(aff, [c] as Array[Vector3i])


func test_chunk_masks_follow_edits() -> void:
	var src := PSSphereChunkSource.create(20.0)
	var chunk := src.generate(Vector3i(0, 0, 0))
	var idx := PackedInt32Array()
	var d := PackedByteArray()
	var m := PackedByteArray()
	for k in 500:
		idx.append((k * 7919) % PSChunkData.VOLUME)
		d.append(0x81 if k % 2 == 0 else 0x20)
		m.append(0 if k % 2 == 0 else 16)
	chunk.apply_delta(idx, d, m)
	var rows := chunk.solid_rows.duplicate()
	chunk.update_masks()
	assert_eq(rows, chunk.solid_rows, "incremental masks equal recomputed ones")
