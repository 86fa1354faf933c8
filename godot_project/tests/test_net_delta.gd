extends PSTestCase
## Delta payloads (res://net/delta_codec.gd) and edit prediction formulas against the
## Python server: res://tests/golden/net_deltas.json is written by pytest
## (tests/client/net_fixtures.py, from server.world.delta and server.world.csg).

const FIXTURE := "res://tests/golden/net_deltas.json"

var _doc: Dictionary = {}
var _gen_d := PackedByteArray()
var _gen_m := PackedByteArray()
var _coord := Vector3i.ZERO


func before_all() -> void:
	var parsed: Variant = JSON.parse_string(FileAccess.get_file_as_string(FIXTURE))
	if not parsed is Dictionary:
		return
	_doc = parsed
	var c: Array = _doc["coord"]
	_coord = Vector3i(int(c[0]), int(c[1]), int(c[2]))
	var ch := PSGenPlanet.generate_chunk(
		int(_doc["world_seed"]), int(_doc["planet_index"]), _coord.x, _coord.y, _coord.z
	)
	if ch != null:
		_gen_d = ch.density
		_gen_m = ch.material


static func _sha(d: PackedByteArray, m: PackedByteArray) -> String:
	var ctx := HashingContext.new()
	ctx.start(HashingContext.HASH_SHA256)
	ctx.update(d)
	ctx.update(m)
	return ctx.finish().hex_encode()


func test_fixture_present_and_generation_matches() -> void:
	if not assert_false(
		_doc.is_empty(), "%s missing: run tests/client/test_net_gdscript.py" % FIXTURE
	):
		return
	assert_eq(_sha(_gen_d, _gen_m), _doc["generated_sha256"], "generated chunk %s" % _coord)


func test_every_delta_format_gives_the_servers_voxels() -> void:
	var formats := {}
	for e: Dictionary in _doc.get("deltas", []):
		if e.get("reject", false):
			continue
		var err := {}
		var out := PSDeltaCodec.apply(_gen_d, _gen_m, (e["payload"] as String).hex_decode(), err)
		if not assert_eq(out.size(), 2, "%s applies (%s)" % [e["name"], err]):
			continue
		assert_eq(_sha(out[0], out[1]), e["sha256"], "%s voxels" % e["name"])
		formats[int(e["format"])] = true
	for f in [0, 1, 2]:
		assert_true(formats.has(f), "format %d covered" % f)


func test_bad_payloads_are_rejected_without_crashing() -> void:
	var n := 0
	for e: Dictionary in _doc.get("deltas", []):
		if not e.get("reject", false):
			continue
		n += 1
		var err := {}
		var out := PSDeltaCodec.apply(_gen_d, _gen_m, (e["payload"] as String).hex_decode(), err)
		assert_eq(out, [], "%s rejected" % e["name"])
		assert_true(err.has("reason"), "%s has a reason" % e["name"])
	assert_true(n >= 5, "reject cases present")


func test_inputs_are_not_modified() -> void:
	var d := _gen_d.duplicate()
	var m := _gen_m.duplicate()
	for e: Dictionary in _doc.get("deltas", []):
		if not e.get("reject", false):
			PSDeltaCodec.apply(d, m, (e["payload"] as String).hex_decode())
	assert_eq(d, _gen_d)
	assert_eq(m, _gen_m)


func test_prediction_formulas_match_the_server_bit_for_bit() -> void:
	var d := _gen_d.duplicate()
	var m := _gen_m.duplicate()
	var edits: Array = _doc.get("edits", [])
	assert_true(edits.size() >= 3, "edit cases present")
	for e: Dictionary in edits:
		var c: Array = e["centre"]
		PSEditPredictor.apply_edit(
			d,
			m,
			_coord,
			int(e["mode"]),
			PackedFloat64Array([c[0], c[1], c[2]]),
			PSEditPredictor.f32(float(e["radius"]))
		)
		assert_eq(_sha(d, m), e["sha256"], "after edit %s" % e)


func test_diff_lists_exactly_the_changed_voxels() -> void:
	var d := _gen_d.duplicate()
	var m := _gen_m.duplicate()
	d[5] = (d[5] + 1) & 0xFF
	m[32767] = m[32767] ^ 3
	var delta := PSDeltaCodec.diff(_gen_d, _gen_m, d, m)
	assert_eq(delta[0], PackedInt32Array([5, 32767]))
	assert_eq(delta[1], PackedByteArray([d[5], d[32767]]))
	assert_eq(delta[2], PackedByteArray([m[5], m[32767]]))
