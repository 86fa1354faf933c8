extends PSTestCase
## PSGenSolarSystem against the reference (systems.json): the JSON text of every golden
## system, printed with JSON.stringify(d, "", true, true), equals the reference's
## json.dumps(d, sort_keys=True, separators=(",", ":")).

const Golden := preload("res://tests/test_gen_golden.gd")


func test_systems_json_text_matches() -> void:
	var text := Golden.golden_text("systems.json").strip_edges()
	var data: Dictionary = Golden.load_golden("systems.json")
	assert_true(data.size() >= 5, "golden systems present")
	var mine := {}
	for key: String in data:
		var system := PSGenSolarSystem.generate_solar_system(key.to_int())
		mine[key] = system.to_dict()
		var expected := _member_text(text, key)
		var got := JSON.stringify(system.to_dict(), "", true, true)
		if not assert_eq(got, expected, "system %s" % key):
			return
	assert_eq(JSON.stringify(mine, "", true, true), text)


func test_planet_lookup_and_limits() -> void:
	var system := PSGenSolarSystem.generate_solar_system(42)
	var n := system.planets.size()
	assert_true(n >= 3 and n <= 8)
	assert_eq(PSGenSolarSystem.check_planet_index(system, n - 1), "")
	assert_ne(PSGenSolarSystem.check_planet_index(system, n), "")
	assert_ne(PSGenSolarSystem.check_planet_index(system, -1), "")
	assert_ne(PSGenSolarSystem.check_seed(-1), "")
	assert_eq(PSGenSolarSystem.check_seed(9223372036854775807), "")


## The JSON text of the member [param key] of the top-level object [param text]
## (sorted keys, no spaces: the member ends where the next "\"<key>\":{" begins).
static func _member_text(text: String, key: String) -> String:
	var start := text.find("\"%s\":" % key)
	if start < 0:
		return ""
	start += key.length() + 3
	var depth := 0
	var in_string := false
	var i := start
	while i < text.length():
		var ch := text[i]
		if in_string:
			if ch == "\\":
				i += 1
			elif ch == "\"":
				in_string = false
		elif ch == "\"":
			in_string = true
		elif ch == "{" or ch == "[":
			depth += 1
		elif ch == "}" or ch == "]":
			depth -= 1
			if depth == 0:
				return text.substr(start, i + 1 - start)
		i += 1
	return ""
