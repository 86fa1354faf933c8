extends SceneTree
## Time the GDScript generator (driven by tools/bench_gdscript_gen.py).
##
## tools/godot --headless --xr-mode off --path godot_project -s res://tools/bench_gen.gd \
##     -- --in JOBS.json [--repeat R] [--threads N]
##
## JOBS.json as for res://tools/hash_batch.gd. After one warm-up chunk, generates every
## job R times on the main thread (per-chunk ms, and the lattice-stage time), then R
## rounds of N x (all jobs) as one WorkerThreadPool group task on N workers (default: all
## cores), each followed by the same on one worker (the scaling reference). Prints one
## JSON line: {"single_ms": [...per job, best of R...], "lattice_ms": [...],
## "chunks_per_s_pool": best round, "chunks_per_s_pool_1": best round on one worker,
## "pool_threads": n,
## "hashes": [...]}.

const ChunkHashTool := preload("res://tools/chunk_hash.gd")

var _params: Array = []
var _coords: Array = []
var _seeds := PackedInt64Array()
var _planets := PackedInt64Array()


func _initialize() -> void:
	var opts := ChunkHashTool.parse_options(
		OS.get_cmdline_user_args(), ["--in"], ["--repeat", "--threads"]
	)
	if opts.has("error"):
		printerr("error: " + str(opts["error"]))
		quit(2)
		return
	var repeat := int(opts.get("--repeat", "3"))
	var threads := int(opts.get("--threads", str(OS.get_processor_count())))
	var data: Dictionary = JSON.parse_string(FileAccess.get_file_as_string(opts["--in"]))
	var cache := {}
	for job: Dictionary in data["jobs"]:
		var seed := (job["seed"] as String).to_int()
		var planet := int(job["planet"])
		var key := "%d:%d" % [seed, planet]
		if not cache.has(key):
			cache[key] = PSGenPlanet.field_params(seed, planet)
		_params.append(cache[key])
		_seeds.append(seed)
		_planets.append(planet)
		var c: Array = job["chunk"]
		_coords.append(Vector3i(int(c[0]), int(c[1]), int(c[2])))
	_generate(0)  # warm-up
	var single: Array = []
	var lattice: Array = []
	var hashes: Array = []
	for n in _params.size():
		var best := INF
		var best_lat := INF
		for _r in repeat:
			var t0 := Time.get_ticks_usec()
			var chunk := _generate(n)
			best = minf(best, (Time.get_ticks_usec() - t0) / 1000.0)
			if _r == 0:
				hashes.append(PSGenEncoding.chunk_hash(chunk))
			var c: Vector3i = _coords[n]
			t0 = Time.get_ticks_usec()
			PSGenPlanet.compute_lattice(_params[n], c.x, c.y, c.z)
			best_lat = minf(best_lat, (Time.get_ticks_usec() - t0) / 1000.0)
		single.append(best)
		lattice.append(best_lat)
	# pool throughput with all N workers and with one worker, rounds interleaved
	var best_rate := 0.0
	var best_rate_1 := 0.0
	for _r in repeat:
		best_rate = maxf(best_rate, _pool_rate(threads))
		best_rate_1 = maxf(best_rate_1, _pool_rate(1))
	print(JSON.stringify({
		"single_ms": single,
		"lattice_ms": lattice,
		"chunks_per_s_pool": best_rate,
		"chunks_per_s_pool_1": best_rate_1,
		"pool_threads": threads,
		"hashes": hashes,
	}))
	quit(0)


## Chunks per second of one group task of (jobs x workers) chunks on [param workers].
func _pool_rate(workers: int) -> float:
	var total := _params.size() * workers
	var t0 := Time.get_ticks_usec()
	var task := WorkerThreadPool.add_group_task(
		func(i: int) -> void: _generate(i % _params.size()), total, workers, true
	)
	WorkerThreadPool.wait_for_group_task_completion(task)
	return total / ((Time.get_ticks_usec() - t0) / 1000000.0)


func _generate(n: int) -> PSGenPlanet.Chunk:
	var c: Vector3i = _coords[n]
	return PSGenPlanet.generate_chunk_with_params(
		_seeds[n], _planets[n], _params[n], c.x, c.y, c.z
	)
