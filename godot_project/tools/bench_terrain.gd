extends SceneTree
## Client terrain benchmark (headless): generation + surface nets meshing per chunk on one
## core and on the WorkerThreadPool, re-mesh after an edit, the main thread's time per
## frame while chunks stream in, then while the focus walks along the surface at 8 m/s.
## During both, every --edit-interval seconds a 1.5 m sphere is carved or filled (in turn)
## at the ground under the focus, and the time until every chunk it touched in the
## collision range has its new mesh, then its new collision attached, is measured (and the
## frames in which such a chunk had no collision at all are counted).
## Driven by tools/bench_client_terrain.py.
##
## tools/godot --headless --xr-mode off --path godot_project -s res://tools/bench_terrain.gd \
##     -- [--seed S] [--planet P] [--chunks N] [--stream N] [--walk-seconds S]
##     [--edit-interval S] [--edit-radius M] [--fps N]
##
## --fps N caps the frame rate (Engine.max_fps) like a headset's refresh (90); 0 (default):
## frames back to back.
##
## Prints "BENCH key value" lines (milliseconds unless named otherwise), then "BENCH done".

var _seed := 42
var _planet := 0
var _chunks := 12
var _stream_target := 200
var _src: PSGenChunkSource
var _palette := PSTerrainPalette.build()
var _streamer: PSTerrainStreamer
var _focus: Node3D
var _frame_usec: PackedInt64Array = PackedInt64Array()
var _stream_start := 0
var _frames := 0
var _walk_seconds := 15.0
var _walk_speed := 8.0
var _walking := false
var _walked := 0.0
var _edit_interval := 1.0  # seconds between edits; 0 = none
var _edit_radius := 1.5  # metres
var _last_edit_usec := 0
var _edit_count := 0
var _edit: Dictionary = {}  # the edit being followed (see _edit_probe_start)
var _edit_apply_usec: Array[int] = []
var _edit_mesh_usec: Array[int] = []
var _edit_coll_usec: Array[int] = []
var _edit_coll_frames: Array[int] = []
var _edit_gap_usec: Array[int] = []  # new collision after the new mesh
var _edit_bare_frames := 0
var _edit_abandoned := 0
var _last_focus_chunk := Vector3i.ZERO
var _cross_frames := -1  # frames since the focus entered another chunk while walking


func _initialize() -> void:
	var args := OS.get_cmdline_user_args()
	for i in range(0, args.size() - 1):
		match args[i]:
			"--seed":
				_seed = args[i + 1].to_int()
			"--planet":
				_planet = args[i + 1].to_int()
			"--chunks":
				_chunks = args[i + 1].to_int()
			"--stream":
				_stream_target = args[i + 1].to_int()
			"--walk-seconds":
				_walk_seconds = args[i + 1].to_float()
			"--edit-interval":
				_edit_interval = args[i + 1].to_float()
			"--edit-radius":
				_edit_radius = args[i + 1].to_float()
			"--fps":
				Engine.max_fps = args[i + 1].to_int()
	_src = PSGenChunkSource.create(_seed, _planet)
	if _src == null:
		printerr("error: bad seed or planet")
		quit(2)
		return
	_out("processors", OS.get_processor_count())
	_bench_single_core()
	_bench_pool()
	_bench_remesh()
	_start_stream()


func _out(key: String, value: Variant) -> void:
	if value is float:
		print("BENCH %s %.3f" % [key, value])
	else:
		print("BENCH %s %s" % [key, value])


## Chunks that hold the terrain surface: near the direction (0.3, 1, 0.2), the chunk
## containing the terrain height under each of a grid of directions.
func _surface_coords() -> Array[Vector3i]:
	var p := _src.params
	var out: Array[Vector3i] = []
	var k := 0
	while out.size() < _chunks:
		var dir := Vector3(0.3 + 0.02 * (k % 4), 1.0, 0.2 + 0.02 * (k / 4)).normalized()
		var s := dir * p.radius
		var h := PSGenPlanet.terrain_height(p, s.x, s.y, s.z)
		var w := dir * (p.radius + h)
		var c := Vector3i((w / 16.0).floor())
		if not c in out:
			out.append(c)
		k += 1
	return out


func _bench_single_core() -> void:
	var coords := _surface_coords()
	var cache := {}
	var gen_usec := 0
	var gen_n := 0
	for c in coords:
		for dx in range(-1, 2):
			for dy in range(-1, 2):
				for dz in range(-1, 2):
					var n := c + Vector3i(dx, dy, dz)
					if cache.has(n):
						continue
					var t := Time.get_ticks_usec()
					cache[n] = _src.generate(n)
					var dt := Time.get_ticks_usec() - t
					if n in coords:
						gen_usec += dt
						gen_n += 1
	var mesh_usec := 0
	var verts := 0
	var tris := 0
	for c in coords:
		var block := _block(cache, c)
		var t := Time.get_ticks_usec()
		var m := PSSurfaceNets.mesh(block, _palette)
		mesh_usec += Time.get_ticks_usec() - t
		verts += m.vertices.size()
		tris += m.triangle_count()
	var gen_ms := gen_usec / 1000.0 / gen_n
	var mesh_ms := mesh_usec / 1000.0 / coords.size()
	_out("surface_chunks", coords.size())
	_out("mean_vertices_per_chunk", verts / coords.size())
	_out("mean_triangles_per_chunk", tris / coords.size())
	_out("one_core_generate_ms_per_chunk", gen_ms)
	_out("one_core_mesh_ms_per_chunk", mesh_ms)
	_out("one_core_generate_plus_mesh_ms_per_chunk", gen_ms + mesh_ms)


func _block(cache: Dictionary, c: Vector3i) -> Array:
	var block: Array = []
	for dx in range(-1, 2):
		for dy in range(-1, 2):
			for dz in range(-1, 2):
				block.append(PSSurfaceNets.block_entry(cache.get(c + Vector3i(dx, dy, dz))))
	return block


func _bench_pool() -> void:
	# generate + mesh each surface chunk as one task (neighbours from a pre-generated cache
	# so the task does one chunk's work, as the streamer does in steady state)
	var coords := _surface_coords()
	var cache := {}
	for c in coords:
		for n in PSChunkStore.neighbourhood(c):
			if not cache.has(n):
				cache[n] = _src.generate(n)
	var blocks := {}
	for c in coords:
		blocks[c] = _block(cache, c)
	var t := Time.get_ticks_usec()
	var ids: Array[int] = []
	for c in coords:
		ids.append(WorkerThreadPool.add_task(_pool_job.bind(c, blocks[c])))
	for id in ids:
		WorkerThreadPool.wait_for_task_completion(id)
	var wall := (Time.get_ticks_usec() - t) / 1000.0
	_out("pool_generate_plus_mesh_ms_per_chunk", wall / coords.size())


func _pool_job(c: Vector3i, block: Array) -> void:
	var chunk := _src.generate(c)
	block = block.duplicate()
	block[13] = PSSurfaceNets.block_entry(chunk)
	PSSurfaceNets.mesh(block, _palette)


func _bench_remesh() -> void:
	var c: Vector3i = _surface_coords()[1]
	var store := PSChunkStore.new()
	for n in PSChunkStore.neighbourhood(c):
		store.put_generated(n, _src.generate(n))
	# carve a 1.5 m sphere at the surface in the middle of the chunk
	var chunk := store.get_chunk(c)
	var target := -1
	for y in range(31, -1, -1):
		var idx := PSChunkData.index_of(16, y, 16)
		if chunk.density_at(idx) > 0:
			target = y
			break
	var indices := PackedInt32Array()
	var dens := PackedByteArray()
	var mats := PackedByteArray()
	for x in range(13, 20):
		for y in range(maxi(0, target - 3), mini(32, target + 4)):
			for z in range(13, 20):
				indices.append(PSChunkData.index_of(x, y, z))
				dens.append(0x81)
				mats.append(0)
	var t := Time.get_ticks_usec()
	var affected := store.apply_delta(c, indices, dens, mats)
	var apply_ms := (Time.get_ticks_usec() - t) / 1000.0
	var worst := 0.0
	var total := 0.0
	for a in affected:
		var block: Array = []
		for n in PSChunkStore.neighbourhood(a):
			block.append(PSSurfaceNets.block_entry(store.get_chunk(n)))
		var t1 := Time.get_ticks_usec()
		PSSurfaceNets.mesh(block, _palette, true)
		var ms := (Time.get_ticks_usec() - t1) / 1000.0
		worst = maxf(worst, ms)
		total += ms
	_out("edit_apply_delta_ms", apply_ms)
	_out("edit_remeshed_chunks", affected.size())
	_out("remesh_after_edit_ms_per_chunk", total / affected.size())
	_out("remesh_after_edit_ms_worst_chunk", worst)


func _start_stream() -> void:
	_focus = Node3D.new()
	root.add_child(_focus)
	_streamer = PSTerrainStreamer.new()
	_streamer.view_radius = 5
	root.add_child(_streamer)
	_streamer.set_process(false)  # driven (and timed) from _process below
	# start 2 m above the terrain near the +y pole
	var p := _src.params
	var dir := Vector3(0.3, 1.0, 0.2).normalized()
	var s := dir * p.radius
	var w := dir * (p.radius + PSGenPlanet.terrain_height(p, s.x, s.y, s.z) + 2.0)
	_streamer.origin.origin_chunk = Vector3i((w / 16.0).floor())
	_focus.position = _streamer.origin.world_to_scene(w)
	_streamer.configure(_src, _focus)
	_stream_start = Time.get_ticks_usec()


func _process(delta: float) -> bool:
	if _streamer == null:
		return false
	if _walking:
		_walk_step(delta)
	_edit_probe_start()
	var t := Time.get_ticks_usec()
	_streamer.update_streaming()
	var dt := Time.get_ticks_usec() - t
	_frame_usec.append(dt)
	_edit_probe_check()
	if dt > 3000 and OS.get_environment("PS_BENCH_VERBOSE") != "":
		print("slow frame %d us phases %s stats %s" % [dt, _streamer.last_frame_usec, _streamer.stats()])
	_frames += 1
	var s := _streamer.stats()
	var meshed: int = s["meshes"]
	var elapsed := (Time.get_ticks_usec() - _stream_start) / 1e6
	if _walking:
		if elapsed >= _walk_seconds:
			_report("walk")
			_out("walk_metres", _walked)
			_out("walk_meshes_now", meshed)
			_report_edits()
			print("BENCH done")
			_streamer.queue_free()
			_streamer = null
			quit(0)
		return false
	if meshed >= _stream_target or _streamer.is_idle() or elapsed > 300.0:
		_out("stream_meshes", meshed)
		_out("stream_chunks_loaded", s["chunks"])
		_out("stream_chunks_implicit", s["implicit"])
		_out("stream_seconds", elapsed)
		_report("main_thread")
		if _walk_seconds <= 0.0:
			_report_edits()
			print("BENCH done")
			_streamer.queue_free()
			_streamer = null
			quit(0)
			return false
		_walking = true
		_frame_usec.clear()
		_frames = 0
		_stream_start = Time.get_ticks_usec()
	return false


func _report(prefix: String) -> void:
	var sorted := _frame_usec.duplicate()
	sorted.sort()
	_out(prefix + "_frames", _frames)
	_out(prefix + "_ms_p50", sorted[sorted.size() / 2] / 1000.0)
	_out(prefix + "_ms_p99", sorted[mini(sorted.size() - 1, int(sorted.size() * 0.99))] / 1000.0)
	_out(prefix + "_ms_max", sorted[-1] / 1000.0)


## Move the focus along a great circle at [member _walk_speed], keeping its height.
func _walk_step(delta: float) -> void:
	var o := _streamer.origin
	var w := Vector3(o.origin_chunk) * PSFloatingOrigin.CHUNK_M + _focus.position
	var axis := Vector3(1, 0, 0).cross(w).normalized()
	var step := _walk_speed * delta
	var w2 := w.rotated(axis, step / w.length())
	_focus.position += w2 - w
	_walked += step


# ---- edit -> new collision --------------------------------------------------------------


## While streaming, every [member _edit_interval] s; while walking, 3 frames after the focus
## entered another chunk (the worst moment: the chunks that just came into the collision
## range are being re-meshed and their collision queued); once the previous edit is
## followed to its end: carve or fill a sphere of [member _edit_radius] at the ground under
## the focus (on the generator's terrain height), when the chunk there already has
## collision; follow the chunks it re-meshes.
func _edit_probe_start() -> void:
	var o := _streamer.origin
	var fc := o.scene_to_chunk(_focus.position)
	if fc != _last_focus_chunk:
		_last_focus_chunk = fc
		_cross_frames = 0
	elif _cross_frames >= 0:
		_cross_frames += 1
	if _edit_interval <= 0.0 or not _edit.is_empty():
		return
	var now := Time.get_ticks_usec()
	if _walking:
		if _cross_frames != 3:
			return
	elif now - _last_edit_usec < int(_edit_interval * 1e6):
		return
	var p := _src.params
	var w := Vector3(o.origin_chunk) * PSFloatingOrigin.CHUNK_M + _focus.position
	var dir := w.normalized()
	var s := dir * p.radius
	var ground := dir * (p.radius + PSGenPlanet.terrain_height(p, s.x, s.y, s.z))
	var centre := o.world_to_scene(ground)
	var c := o.scene_to_chunk(centre)
	if not _streamer.has_collision(c):
		return
	# the chunks whose mesh may change: the neighbourhood of every voxel chunk touched
	var serials := {}  # chunks that are up to date (meshed, collision attached) now
	for n in PSChunkStore.neighbourhood(c):
		if _streamer.is_mesh_current(n) and _streamer.is_collision_current(n):
			serials[n] = _streamer.mesh_serial(n)
	var t := Time.get_ticks_usec()
	_streamer.edit_sphere(centre, _edit_radius, _edit_count % 2 == 1)
	_edit_apply_usec.append(Time.get_ticks_usec() - t)
	var had := {}  # re-meshed chunk -> it had collision before the edit
	for n: Vector3i in serials:
		if _streamer.mesh_serial(n) != int(serials[n]):
			had[n] = _streamer.has_collision(n)
	_edit_count += 1
	_last_edit_usec = now
	_edit = {"t": t, "frames": 0, "had": had, "mesh_usec": -1}
	if OS.get_environment("PS_BENCH_VERBOSE") != "":
		print("edit %d at %s: re-meshes %s stats %s" % [_edit_count, c, had, _streamer.stats()])


func _edit_probe_check() -> void:
	if _edit.is_empty():
		return
	_edit["frames"] = int(_edit["frames"]) + 1
	var now := Time.get_ticks_usec()
	var had: Dictionary = _edit["had"]
	var meshes_done := true
	var coll_done := true
	var bare := false
	for n: Vector3i in had:
		if not _streamer.is_mesh_current(n):
			meshes_done = false
		if not _streamer.is_collision_current(n):
			coll_done = false
		if had[n] and not _streamer.has_collision(n) and _streamer.get_chunk_node(n) != null:
			bare = true
	if bare:
		_edit_bare_frames += 1
	var dt := now - int(_edit["t"])
	if meshes_done and int(_edit["mesh_usec"]) < 0:
		_edit["mesh_usec"] = dt
	if coll_done and meshes_done:
		_edit_mesh_usec.append(int(_edit["mesh_usec"]))
		_edit_coll_usec.append(dt)
		_edit_coll_frames.append(int(_edit["frames"]))
		_edit_gap_usec.append(dt - int(_edit["mesh_usec"]))
		if OS.get_environment("PS_BENCH_VERBOSE") != "":
			print("edit done in %d us, %d frames" % [dt, _edit["frames"]])
		_edit = {}
		_last_edit_usec = now
	elif dt > 10_000_000:
		_edit_abandoned += 1  # walked out of range or stuck: not counted
		_edit = {}


func _report_edits() -> void:
	_out("edit_probes", _edit_coll_usec.size())
	_out("edit_probes_abandoned", _edit_abandoned)
	if _edit_coll_usec.is_empty():
		return
	_out("edit_probe_apply_ms_p50", _pct(_edit_apply_usec, 0.5))
	_out("edit_to_mesh_ms_p50", _pct(_edit_mesh_usec, 0.5))
	_out("edit_to_mesh_ms_max", _pct(_edit_mesh_usec, 1.0))
	_out("edit_to_collision_ms_p50", _pct(_edit_coll_usec, 0.5))
	_out("edit_to_collision_ms_p90", _pct(_edit_coll_usec, 0.9))
	_out("edit_to_collision_ms_max", _pct(_edit_coll_usec, 1.0))
	_out("edit_to_collision_frames_p50", int(_pct(_edit_coll_frames, 0.5, 1.0)))
	_out("edit_to_collision_frames_max", int(_pct(_edit_coll_frames, 1.0, 1.0)))
	_out("edit_collision_after_mesh_ms_p50", _pct(_edit_gap_usec, 0.5))
	_out("edit_collision_after_mesh_ms_max", _pct(_edit_gap_usec, 1.0))
	_out("edit_frames_without_collision", _edit_bare_frames)


## The [param q] quantile of [param values] / [param scale] (default microseconds -> ms).
static func _pct(values: Array[int], q: float, scale: float = 1000.0) -> float:
	var sorted := values.duplicate()
	sorted.sort()
	return sorted[mini(sorted.size() - 1, int(sorted.size() * q))] / scale
