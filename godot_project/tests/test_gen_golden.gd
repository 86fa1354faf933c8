extends PSTestCase
## Golden vectors of the Python reference for the generator port's tests (test_gen_*.gd).
##
## The vectors are [code]python -m shared_gen golden --out DIR[/code] output: DIR is
## $PS_GOLDEN_DIR if set, else res://tests/golden/ (generated, not in git; pytest's
## tests/gen_port writes it, and the first test that needs it writes it with the
## project's Python when it is missing or older than shared_gen/*.py). Integer literals
## of 16+ digits are read as exact ints (Godot's JSON parser turns every number into a
## float), and floats from their bit patterns (its decimal parsing can be 1 ulp off).

const FILES: PackedStringArray = ["hashing.json", "noise.json", "systems.json", "chunks.json"]


## Folder holding the golden files (absolute path).
static func golden_dir() -> String:
	var env := OS.get_environment("PS_GOLDEN_DIR")
	if env != "":
		return env
	return ProjectSettings.globalize_path("res://tests/golden")


## Write the golden files with the reference if any is missing or older than a source
## file of shared_gen/ (so a changed reference is never compared with stale vectors).
## "" or an error message.
static func ensure_golden() -> String:
	var dir := golden_dir()
	var repo := ProjectSettings.globalize_path("res://").path_join("..").simplify_path()
	var newest_source := 0
	var sources := repo.path_join("shared_gen")
	for f in DirAccess.get_files_at(sources):
		if f.ends_with(".py"):
			newest_source = maxi(newest_source, FileAccess.get_modified_time(sources.path_join(f)))
	var stale := false
	for f in FILES:
		var path := dir.path_join(f)
		if not FileAccess.file_exists(path) or FileAccess.get_modified_time(path) < newest_source:
			stale = true
	if not stale:
		return ""
	var python := repo.path_join(".venv/bin/python")
	if not FileAccess.file_exists(python):
		python = "python3"
	var output: Array = []
	var code := OS.execute(
		"env",
		["PYTHONPATH=" + repo, python, "-m", "shared_gen", "golden", "--out", dir],
		output,
		true
	)
	if code != 0:
		return "could not write golden vectors with %s (exit %d): %s" % [python, code, output]
	return ""


## Raw text of golden file [param name] ("" if missing).
static func golden_text(name: String) -> String:
	if ensure_golden() != "":
		return ""
	return FileAccess.get_file_as_string(golden_dir().path_join(name))


## Parsed golden file [param name]; integers of 16+ digits become decimal strings.
static func load_golden(name: String) -> Variant:
	var text := golden_text(name)
	var re := RegEx.create_from_string("(?<=[\\[:,])(-?[0-9]{16,})(?=[,\\]}])")
	return JSON.parse_string(re.sub(text, "\"$1\"", true))


## An int from a golden value (a float, or a decimal string for big ints).
static func as_int(v: Variant) -> int:
	if v is String:
		return (v as String).to_int()
	return int(v)


## PackedInt64Array of golden ints.
static func as_ints(values: Array) -> PackedInt64Array:
	var out := PackedInt64Array()
	for v: Variant in values:
		out.append(as_int(v))
	return out


## Big-endian hex of the float64 bit pattern (the golden files' "bits").
static func f64_hex(v: float) -> String:
	var b := PackedFloat64Array([v]).to_byte_array()
	b.reverse()
	return b.hex_encode()


## The floats of a golden {"values", "bits"} entry, read from the bits: Godot's JSON
## parser does not round decimal text correctly (it can be one ulp off).
static func floats_from_bits(golden: Dictionary) -> PackedFloat64Array:
	var out := PackedFloat64Array()
	for hex: String in golden["bits"]:
		var b := hex.hex_decode()
		b.reverse()
		out.append(b.decode_double(0))
	return out


## Compare [param values] with the golden {"values", "bits"} by bit pattern; returns ""
## or a message naming the first differing index and both values.
static func compare_bits(values: PackedFloat64Array, golden: Dictionary, label: String) -> String:
	var bits: Array = golden["bits"]
	if values.size() != bits.size():
		return "%s: %d values, golden has %d" % [label, values.size(), bits.size()]
	for i in values.size():
		if f64_hex(values[i]) != bits[i]:
			return (
				"%s[%d]: got %s (%s), golden %s (%s)"
				% [label, i, String.num(values[i], 17), f64_hex(values[i]),
					String.num(float(golden["values"][i]), 17), bits[i]]
			)
	return ""


func test_golden_files_present() -> void:
	assert_eq(ensure_golden(), "")
	for f in FILES:
		assert_true(FileAccess.file_exists(golden_dir().path_join(f)), f)


func test_json_text_floats_are_not_trusted() -> void:
	# Documents why floats are read from their bits (see floats_from_bits).
	var data: Dictionary = load_golden("noise.json")
	var pts: Dictionary = data["points"]["x"]
	var exact := floats_from_bits(pts)
	assert_eq(exact.size(), (pts["values"] as Array).size())
	assert_eq(compare_bits(exact, pts, "points.x"), "")


func test_big_integers_stay_exact() -> void:
	var data: Variant = load_golden("hashing.json")
	var found := false
	for case: Dictionary in data["hash_ints"]:
		if case["seed"] is String:
			found = true
			assert_eq(as_int(case["seed"]), 9223372036854775807)
	assert_true(found, "the golden hash_ints cases include seed 2**63 - 1")
