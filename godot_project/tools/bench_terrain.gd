extends SceneTree
## Client terrain benchmark (headless): generation + surface nets meshing per chunk on one
## core and on the WorkerThreadPool, re-mesh after an edit, the main thread's time per
## frame while chunks stream in, then while the focus walks along the surface at 8 m/s.
## Driven by tools/bench_client_terrain.py.
##
## tools/godot --headless --xr-mode off --path godot_project -s res://tools/bench_terrain.gd \
##     -- [--seed S] [--planet P] [--chunks N] [--stream N] [--walk-seconds S]
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
	var t := Time.get_ticks_usec()
	_streamer.update_streaming()
	var dt := Time.get_ticks_usec() - t
	_frame_usec.append(dt)
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
