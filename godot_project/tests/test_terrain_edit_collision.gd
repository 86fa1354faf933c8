extends PSTestCase
## Collision after terrain edits: an edited chunk near the player gets its new collision
## right after its new mesh, ahead of the collision of chunks still streaming in, and never
## has no collision in between (old pieces stay until the new ones are all attached).
## On the analytic 40 m sphere; the streamer is driven call by call with the smallest
## budget (one collision piece per call), so the order of the work shows in call counts.

const RADIUS := 40.0
## The edited chunk (holds the +x point of the sphere, where the focus stands).
const TARGET := Vector3i(2, 0, 0)
## Calls allowed between the new mesh's upload and its collision being complete.
const MAX_CALLS_AFTER_MESH := 12
const FRAME_S := 0.011

var _streamer: PSTerrainStreamer
var _focus: Node3D


func before_each() -> void:
	_focus = Node3D.new()
	add_child(_focus)
	_streamer = PSTerrainStreamer.new()
	_streamer.view_radius = 2
	_streamer.collision_radius = 2  # many chunks stream into the collision range
	_streamer.upload_budget_ms = 0.0  # one mesh and one collision piece per call
	add_child(_streamer)
	_streamer.set_process(false)  # driven by _step
	_streamer.origin.origin_chunk = Vector3i(2, 0, 0)
	_focus.position = _streamer.origin.world_to_scene(Vector3(RADIUS + 1.0, 0.3, 0.2))
	_streamer.configure(PSSphereChunkSource.create(RADIUS), _focus)


func after_each() -> void:
	_streamer.queue_free()
	_focus.queue_free()
	await get_tree().process_frame


## One frame of a 90 Hz headset (the workers get the time they would get in a game).
func _step() -> void:
	await get_tree().create_timer(FRAME_S).timeout
	_streamer.update_streaming()


## Stream until TARGET's mesh and collision are complete while at least [param min_backlog]
## collision pieces of other chunks are queued; false (and a failure) if that never happens.
func _until_target_ready(min_backlog: int) -> bool:
	for i in 1500:
		await _step()
		if not _streamer.is_collision_current(TARGET) or not _streamer.has_collision(TARGET):
			continue
		var queued: int = _streamer.stats()["collision_pieces_queued"]
		if queued >= min_backlog:
			print("  TARGET ready after %d calls, %d pieces queued" % [i + 1, queued])
			return true
	return fail("TARGET never ready with %d pieces queued: %s" % [min_backlog, _streamer.stats()])


## Follow TARGET after an edit until its collision is current; returns the number of calls
## from the new mesh's upload to the complete collision, or -1 (after a failure).
func _follow_edit(label: String) -> int:
	var after_mesh := -1
	for i in 2000:
		await _step()
		if not _streamer.has_collision(TARGET):
			fail("%s: TARGET had no collision after %d calls" % [label, i + 1])
			return -1
		if after_mesh < 0 and _streamer.is_mesh_current(TARGET):
			after_mesh = 0
		if _streamer.is_collision_current(TARGET):
			print("  %s: collision %d calls after the mesh, %d in all" % [label, after_mesh, i + 1])
			return after_mesh
		if after_mesh >= 0:
			after_mesh += 1
	fail("%s: the new collision never came: %s" % [label, _streamer.stats()])
	return -1


func test_edited_chunk_gets_its_collision_before_streaming_chunks() -> void:
	if not await _until_target_ready(20):
		return
	var serial := _streamer.mesh_serial(TARGET)
	var o := _streamer.origin
	var touched := _streamer.edit_sphere(o.world_to_scene(Vector3(38.4, 8.0, 8.0)), 1.5, false)
	assert_eq(touched, [TARGET] as Array[Vector3i])
	assert_true(_streamer.mesh_serial(TARGET) > serial, "the edit re-meshes TARGET")
	var calls := await _follow_edit("carve")
	if calls < 0:
		return
	assert_true(
		calls <= MAX_CALLS_AFTER_MESH,
		"collision %d calls after the mesh (at most %d)" % [calls, MAX_CALLS_AFTER_MESH]
	)
	assert_true(
		int(_streamer.stats()["collision_pieces_queued"]) > 0,
		"other chunks' collision still queued (the edit went first)"
	)
	# and a mound on the same spot
	touched = _streamer.edit_sphere(o.world_to_scene(Vector3(38.4, 8.0, 8.0)), 2.0, true)
	calls = await _follow_edit("fill")
	if calls >= 0:
		assert_true(calls <= MAX_CALLS_AFTER_MESH, "fill: collision %d calls after the mesh" % calls)


func test_repeated_edits_each_get_their_collision_soon() -> void:
	if not await _until_target_ready(0):
		return
	var o := _streamer.origin
	for k in 6:
		var x := 38.0 + 0.3 * k
		_streamer.edit_sphere(o.world_to_scene(Vector3(x, 8.0, 8.0)), 1.0, k % 2 == 1)
		var calls := await _follow_edit("edit %d" % k)
		if calls < 0:
			return
		assert_true(calls <= MAX_CALLS_AFTER_MESH, "edit %d: %d calls after the mesh" % [k, calls])


## A flat 16 x 16 m ground at height [param h] with a bump of [param bump] m in the cell
## around (6, 6) (two triangles per 1 m square).
static func _ground(h: float, bump: float) -> PackedVector3Array:
	var f := PackedVector3Array()
	for x in 16:
		for z in 16:
			var y := h + (bump if x == 6 and z == 6 else 0.0)
			var a := Vector3(x, y, z)
			var b := Vector3(x + 1, y, z)
			var c := Vector3(x + 1, y, z + 1)
			var d := Vector3(x, y, z + 1)
			f.append_array([a, c, b, a, d, c])
	return f


func test_colliders_reattach_only_changed_pieces_and_swap_atomically() -> void:
	var col: PSChunkColliders = _streamer.get_node("Colliders")
	var c := Vector3i(50, 50, 50)  # far from the streamed chunks
	var always := func(_c: Vector3i, _s: int) -> bool: return true
	var flat := PSChunkColliders.build_pieces(_ground(5.0, 0.0))
	assert_eq(flat.size(), 16, "one piece per 4 m cell the ground crosses")
	col.enqueue(c, 1, flat, Vector3.ZERO)
	while col.is_busy():
		assert_false(col.has_collision(c), "not complete before all pieces are attached")
		col.attach_some(0, always)
	assert_eq(col.collision_serial(c), 1)
	assert_eq(col.piece_count(c), 16)
	# an edit changes one cell: one piece to attach; the old collision stays until then
	var bumped := PSChunkColliders.build_pieces(_ground(5.0, 0.5))
	col.enqueue(c, 2, bumped, Vector3.ZERO, true)
	assert_eq(col.pending_pieces(), 1, "only the changed cell is re-attached")
	assert_true(col.has_collision(c))
	assert_eq(col.collision_serial(c), 1, "old collision until the new piece is in")
	# a newer mesh before that piece is attached: still one piece, then serial 3
	var bumped2 := PSChunkColliders.build_pieces(_ground(5.0, 0.75))
	col.enqueue(c, 3, bumped2, Vector3.ZERO, true)
	assert_eq(col.pending_pieces(), 1)
	assert_eq(col.attach_some(0, always), 1)
	assert_eq(col.collision_serial(c), 3)
	assert_eq(col.piece_count(c), 16)
	# priority entries go before first-time collision of other chunks
	var other := PSChunkColliders.build_pieces(_ground(2.0, 0.0))
	col.enqueue(Vector3i(60, 60, 60), 1, other, Vector3.ZERO)
	col.enqueue(c, 4, PSChunkColliders.build_pieces(_ground(5.0, 0.0)), Vector3.ZERO, true)
	assert_eq(col.attach_some(0, always), 1)
	assert_eq(col.collision_serial(c), 4, "the re-mesh went before the 16 queued pieces")
	assert_false(col.has_collision(Vector3i(60, 60, 60)))
	# a mesh identical to the attached one completes at once
	col.enqueue(c, 5, PSChunkColliders.build_pieces(_ground(5.0, 0.0)), Vector3.ZERO, true)
	assert_eq(col.collision_serial(c), 5)
	col.drop(c)
	col.drop(Vector3i(60, 60, 60))
	assert_false(col.has_collision(c))
