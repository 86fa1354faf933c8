extends SceneTree
## Print the canonical chunk hash, like [code]python -m shared_gen chunk-hash[/code].
##
## tools/godot --headless --xr-mode off --path godot_project -s res://tools/chunk_hash.gd \
##     -- --seed S --planet P --chunk X,Y,Z
##
## Prints the lower-case hex SHA-256 alone on a line. Exit codes as the Python CLI: 0 on
## success, 2 on bad arguments (one "error: ..." line on stderr naming the limit: integer
## seed in [0, 2**63 - 1], a planet index that exists, chunk coordinates within
## +-grid_radius_chunks, X,Y,Z three integers). The static parsing helpers are shared
## with res://tools/hash_batch.gd and res://tools/system.gd.

const EXIT_BAD_ARGS := 2
const SEED_MAX_TEXT := "9223372036854775807"


func _initialize() -> void:
	var opts := parse_options(OS.get_cmdline_user_args(), ["--seed", "--planet", "--chunk"])
	if opts.has("error"):
		return _fail(opts["error"])
	var seed := parse_seed(opts["--seed"])
	if seed.has("error"):
		return _fail("argument --seed: " + seed["error"])
	var planet := parse_int(opts["--planet"])
	if planet.has("error"):
		return _fail("argument --planet: " + planet["error"])
	var chunk := parse_chunk(opts["--chunk"])
	if chunk.has("error"):
		return _fail("argument --chunk: " + chunk["error"])
	var result := chunk_hash_checked(seed["value"], planet, chunk)
	if result.has("error"):
		return _fail(result["error"])
	print(result["hash"])
	quit(0)


func _fail(message: String) -> void:
	printerr("error: " + message)
	quit(EXIT_BAD_ARGS)


## Parse "--name value" (or "--name=value") pairs. Names must be in [param required] or
## [param optional]; every required name must be present. Returns the values by name, or
## {"error": message} (argparse's wording).
static func parse_options(
	args: PackedStringArray,
	required: PackedStringArray,
	optional: PackedStringArray = PackedStringArray()
) -> Dictionary:
	var out := {}
	var i := 0
	while i < args.size():
		var name := args[i]
		var value := ""
		if name.contains("="):
			value = name.get_slice("=", 1)
			name = name.get_slice("=", 0)
			i += 1
		elif i + 1 < args.size() and not _looks_like_option(args[i + 1]):
			value = args[i + 1]
			i += 2
		else:
			return {"error": "argument %s: expected one argument" % name}
		if not name in required and not name in optional:
			return {"error": "unrecognized arguments: %s" % name}
		out[name] = value
	var missing := PackedStringArray()
	for name in required:
		if not out.has(name):
			missing.append(name)
	if not missing.is_empty():
		return {"error": "the following arguments are required: %s" % ", ".join(missing)}
	return out


## argparse's rule: a word starting with "-" is an option unless it is a negative number.
static func _looks_like_option(word: String) -> bool:
	if not word.begins_with("-") or word.length() < 2:
		return false
	var negative_number := RegEx.create_from_string("^-[0-9]+$|^-[0-9]*\\.[0-9]+$")
	return negative_number.search(word) == null


## Parse a base-10 integer the way Python's int(text, 10) does (surrounding whitespace,
## a sign, digits with single underscores between them). Returns {"value": int} or, for
## values outside int64, {"overflow": true, "text": digits}; {"error": message} if it is
## not an integer.
static func parse_int(text: String) -> Dictionary:
	var t := text.strip_edges()
	var re := RegEx.create_from_string("^[+-]?[0-9]+(_[0-9]+)*$")
	if re.search(t) == null:
		return {"error": "expected an integer, got '%s'" % text}
	var negative := t.begins_with("-")
	var digits := t.trim_prefix("+").trim_prefix("-").replace("_", "")
	while digits.length() > 1 and digits.begins_with("0"):
		digits = digits.substr(1)
	var shown := ("-" if negative and digits != "0" else "") + digits
	if digits.length() > 19 or (digits.length() == 19 and digits > SEED_MAX_TEXT):
		return {"overflow": true, "text": shown}
	var v := digits.to_int()
	return {"value": -v if negative else v, "text": shown}


## Parse a world seed: an integer in [0, 2**63 - 1]. {"value": int} or {"error": message}.
static func parse_seed(text: String) -> Dictionary:
	var r := parse_int(text)
	if r.has("error"):
		return {"error": "seed must be an integer in [0, %s], got '%s'" % [SEED_MAX_TEXT, text]}
	if r.has("overflow") or int(r["value"]) < 0:
		return {"error": "seed must be in [0, %s], got %s" % [SEED_MAX_TEXT, r["text"]]}
	return r


## Parse "X,Y,Z" (three integers). {"value": Array of three parse_int results} or error.
static func parse_chunk(text: String) -> Dictionary:
	var parts := text.split(",")
	var err := {"error": "chunk must be three integers X,Y,Z, got '%s'" % text}
	if parts.size() != 3:
		return err
	var coords: Array = []
	for part in parts:
		var r := parse_int(part)
		if r.has("error"):
			return err
		coords.append(r)
	return {"value": coords}


## Validate (planet, chunk) for [param seed] (the Python CLI's limits) and generate the
## chunk. [param params_cache] maps "seed:planet" to FieldParams (optional, caller-owned).
## Returns {"chunk": Chunk, "hash": String} or {"error": message}.
static func chunk_hash_checked(
	seed: int, planet: Dictionary, chunk: Dictionary, params_cache: Variant = null
) -> Dictionary:
	var system := PSGenSolarSystem.generate_solar_system(seed)
	var n := system.planets.size()
	if planet.has("overflow") or int(planet["value"]) < 0 or int(planet["value"]) >= n:
		return {
			"error": (
				"planet index %s does not exist: system %d has %d planets (0..%d)"
				% [planet["text"], seed, n, n - 1]
			)
		}
	var pi: int = planet["value"]
	var p: PSGenPlanet.FieldParams = null
	var key := "%d:%d" % [seed, pi]
	if params_cache is Dictionary and params_cache.has(key):
		p = params_cache[key]
	else:
		p = PSGenPlanet.FieldParams.from_planet(system.planets[pi])
		if params_cache is Dictionary:
			params_cache[key] = p
	var coords: Array = chunk["value"]
	var axes := ["x", "y", "z"]
	var c := PackedInt64Array()
	for a in 3:
		var r: Dictionary = coords[a]
		if r.has("overflow") or absi(int(r["value"])) > p.grid_radius:
			return {
				"error": (
					"chunk %s coordinate %s is outside the planet's grid: |%s| must be <= %d"
					% [axes[a], r["text"], axes[a], p.grid_radius]
				)
			}
		c.append(r["value"])
	var ch := PSGenPlanet.generate_chunk_with_params(seed, pi, p, c[0], c[1], c[2])
	return {"chunk": ch, "hash": PSGenEncoding.chunk_hash(ch)}
