extends SceneTree
## Generate many chunks in one Godot process and write their hashes and per-stage digests.
##
## tools/godot --headless --xr-mode off --path godot_project -s res://tools/hash_batch.gd \
##     -- --in JOBS.json --out RESULTS.json [--threads N] [--no-cache]
##
## JOBS.json: {"jobs": [{"seed": "S", "planet": P, "chunk": [X, Y, Z], "dump": false}, ...]}
## (seed as a decimal string so that seeds above 2**53 stay exact; Godot's JSON parser
## reads every number as a float), optionally "systems": ["S", ...]: the JSON text of
## those solar systems is returned in "systems" (seed -> text).
## RESULTS.json: {"results": [...], "elapsed_ms": ms, "threads": N, "chunks": count,
## "worker_threads_used": distinct threads, "systems": {...}}, one result per job, in order:
## [codeblock]
## {"hash": hex, "digests": {"lattice_depth", "lattice_density", "lattice_biome",
##  "lattice_rock", "lattice_ore", "density", "material": hex SHA-256},
##  "resources": [[index, type, quantity, i, j, k], ...],
##  "dump": {...}}   # only with "dump": true; every array as hex of its bytes
## [/codeblock]
## Lattice floats are digested as little-endian float64 of v + 0.0 (so -0.0 reads +0.0).
## --threads N (N >= 1) generates the chunks in WorkerThreadPool group tasks on N workers;
## without it, one at a time on the main thread. --no-cache makes every job generate its
## solar system and FieldParams itself (for the thread-safety test). Exit 2 with an
## "error: ..." line on stderr on bad arguments or an invalid job (same limits as the
## Python CLI, naming the job index).

const ChunkHashTool := preload("res://tools/chunk_hash.gd")

var _jobs: Array = []
var _results: Array = []
var _mutex := Mutex.new()
var _no_cache := false
var _thread_ids := {}


func _initialize() -> void:
	var args := OS.get_cmdline_user_args()
	var rest := PackedStringArray()
	for a in args:
		if a == "--no-cache":
			_no_cache = true
		else:
			rest.append(a)
	var opts := ChunkHashTool.parse_options(rest, ["--in", "--out"], ["--threads"])
	var data: Dictionary = {} if opts.has("error") else _load(opts)
	if opts.has("error") or data.has("error"):
		return _fail(opts.get("error", data.get("error")))
	var threads: int = data["threads"]
	_results.resize(_jobs.size())
	var t0 := Time.get_ticks_usec()
	if threads >= 1:
		var task := WorkerThreadPool.add_group_task(_run_job, _jobs.size(), threads, true)
		WorkerThreadPool.wait_for_group_task_completion(task)
	else:
		for i in _jobs.size():
			_run_job(i)
	var elapsed_ms := (Time.get_ticks_usec() - t0) / 1000.0
	var out := {
		"results": _results,
		"elapsed_ms": elapsed_ms,
		"threads": threads,
		"chunks": _jobs.size(),
		"worker_threads_used": _thread_ids.size(),
		"systems": data["systems"],
	}
	var f := FileAccess.open(opts["--out"], FileAccess.WRITE)
	if f == null:
		return _fail("cannot write %s" % opts["--out"])
	f.store_string(JSON.stringify(out))
	f.close()
	print("%d chunks in %.1f ms" % [_jobs.size(), elapsed_ms])
	quit(0)


## Read and check the options and the jobs file (fills _jobs); returns {"threads": N,
## "systems": {seed: JSON text}} or {"error": message}.
func _load(opts: Dictionary) -> Dictionary:
	var threads := 0
	if opts.has("--threads"):
		var t := ChunkHashTool.parse_int(opts["--threads"])
		if t.has("error") or t.has("overflow") or int(t["value"]) < 1:
			return {"error": "argument --threads: expected a positive integer"}
		threads = t["value"]
	var data: Variant = JSON.parse_string(FileAccess.get_file_as_string(opts["--in"]))
	if not data is Dictionary or not data.get("jobs") is Array:
		return {"error": "%s: cannot read {\"jobs\": [...]}" % opts["--in"]}
	var err := _validate(data["jobs"])
	if err != "":
		return {"error": err}
	var systems := {}
	for seed_text: Variant in data.get("systems", []):
		var seed := ChunkHashTool.parse_seed(_int_text(seed_text))
		if seed.has("error"):
			return {"error": "systems: " + str(seed["error"])}
		var system := PSGenSolarSystem.generate_solar_system(seed["value"])
		systems[str(seed["value"])] = JSON.stringify(system.to_dict(), "", true, true)
	return {"threads": threads, "systems": systems}


func _fail(message: String) -> void:
	printerr("error: " + message)
	quit(ChunkHashTool.EXIT_BAD_ARGS)


## Check every job with the Python CLI's limits; fills _jobs with
## {"seed", "planet", "chunk": PackedInt64Array, "dump", "params"}. "" or a message.
func _validate(jobs: Array) -> String:
	var cache := {}
	for n in jobs.size():
		var parsed := _parse_job(jobs[n])
		if not parsed.has("error"):
			parsed = _check_limits(parsed, cache)
		if parsed.has("error"):
			return "job %d: %s" % [n, parsed["error"]]
		_jobs.append(parsed)
	return ""


## Parse one job's fields: {"seed": int, "planet": parse_int result, "chunk": parse_chunk
## result, "dump": bool} or {"error": message}.
static func _parse_job(job: Variant) -> Dictionary:
	if not job is Dictionary:
		return {"error": "expected an object"}
	var seed := ChunkHashTool.parse_seed(_int_text(job.get("seed")))
	var planet := ChunkHashTool.parse_int(_int_text(job.get("planet")))
	var ch: Variant = job.get("chunk")
	var parts := PackedStringArray()
	if ch is Array:
		for v: Variant in ch:
			parts.append(_int_text(v))
	var chunk := ChunkHashTool.parse_chunk(",".join(parts))
	for r: Dictionary in [seed, planet, chunk]:
		if r.has("error"):
			return r
	return {
		"seed": seed["value"],
		"planet": planet,
		"chunk": chunk,
		"dump": bool(job.get("dump", false)),
	}


## Check a parsed job against its system (planet exists, chunk within the grid); returns
## the job ready to run or {"error": message}. [param cache] keeps systems and params.
func _check_limits(job: Dictionary, cache: Dictionary) -> Dictionary:
	var seed: int = job["seed"]
	var planet: Dictionary = job["planet"]
	var system: PSGenSolarSystem.SolarSystem = cache.get("sys:%d" % seed)
	if system == null:
		system = PSGenSolarSystem.generate_solar_system(seed)
		cache["sys:%d" % seed] = system
	var count := system.planets.size()
	if planet.has("overflow") or int(planet["value"]) < 0 or int(planet["value"]) >= count:
		return {
			"error": (
				"planet index %s does not exist: system %d has %d planets (0..%d)"
				% [planet["text"], seed, count, count - 1]
			)
		}
	var key := "%d:%d" % [seed, planet["value"]]
	var p: PSGenPlanet.FieldParams = cache.get(key)
	if p == null:
		p = PSGenPlanet.FieldParams.from_planet(system.planets[planet["value"]])
		cache[key] = p
	var c := PackedInt64Array()
	for a in 3:
		var r: Dictionary = job["chunk"]["value"][a]
		if r.has("overflow") or absi(int(r["value"])) > p.grid_radius:
			return {
				"error": (
					"chunk %s coordinate %s is outside the planet's grid: |%s| must be <= %d"
					% ["xyz"[a], r["text"], "xyz"[a], p.grid_radius]
				)
			}
		c.append(r["value"])
	return {
		"seed": seed,
		"planet": planet["value"],
		"chunk": c,
		"dump": job["dump"],
		"params": null if _no_cache else p,
	}


## Decimal text of a JSON value that should be an integer (string or integral float).
static func _int_text(v: Variant) -> String:
	if v is String:
		return v
	if v is float and is_equal_approx(v, roundf(v)) and absf(v) < 9007199254740992.0:
		return str(int(v))
	if v is int:
		return str(v)
	return str(v) + "?"


## Generate job [param n] (called on the main thread or a WorkerThreadPool worker).
func _run_job(n: int) -> void:
	var job: Dictionary = _jobs[n]
	var seed: int = job["seed"]
	var pi: int = job["planet"]
	var c: PackedInt64Array = job["chunk"]
	var p: PSGenPlanet.FieldParams = job["params"]
	if p == null:
		p = PSGenPlanet.field_params(seed, pi)
	var chunk := PSGenPlanet.generate_chunk_with_params(seed, pi, p, c[0], c[1], c[2], true)
	var result := describe(chunk, job["dump"])
	_mutex.lock()
	_results[n] = result
	_thread_ids[OS.get_thread_caller_id()] = true
	_mutex.unlock()


## Hash, per-stage digests, resources and (if [param dump]) every array of a chunk that
## was generated with keep_lattice.
static func describe(chunk: PSGenPlanet.Chunk, dump: bool) -> Dictionary:
	var lat := chunk.lattice
	var arrays := {
		"lattice_depth": _f64_bytes(lat.depth),
		"lattice_density": _f64_bytes(lat.density),
		"lattice_biome": lat.biome,
		"lattice_rock": lat.rock,
		"lattice_ore": lat.ore,
		"density": chunk.density,
		"material": chunk.material,
	}
	var digests := {}
	for name: String in arrays:
		digests[name] = PSGenEncoding.sha256_hex(arrays[name])
	var resources: Array = []
	for node in chunk.resources:
		resources.append([
			node.index, node.resource_type, node.quantity, node.voxel.x, node.voxel.y,
			node.voxel.z,
		])
	var result := {
		"hash": PSGenEncoding.chunk_hash(chunk),
		"digests": digests,
		"resources": resources,
	}
	if dump:
		var hexes := {}
		for name: String in arrays:
			hexes[name] = (arrays[name] as PackedByteArray).hex_encode()
		result["dump"] = hexes
	return result


## Little-endian float64 bytes of v + 0.0 for every v (folds -0.0 into +0.0).
static func _f64_bytes(values: PackedFloat64Array) -> PackedByteArray:
	var folded := PackedFloat64Array()
	folded.resize(values.size())
	for i in values.size():
		folded[i] = values[i] + 0.0
	return folded.to_byte_array()
