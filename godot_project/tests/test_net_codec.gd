extends PSTestCase
## The wire codec (res://net/codec.gd) against the golden frames of the Python reference
## (tests/server/golden_frames.json, `python -m server.protocol.golden`): every frame decodes
## to the golden fields and re-encodes to the same bytes, and the golden fields encode to
## the same bytes. Malformed frames give null with the protocol's close code; random and
## mutated bytes never crash the decoder.

const P := preload("res://net/protocol.gd")
## Override with PS_GOLDEN_FRAMES=/abs/path.json.
const GOLDEN_REL := "../tests/server/golden_frames.json"

var _golden: Dictionary = {}


func before_all() -> void:
	var path := OS.get_environment("PS_GOLDEN_FRAMES")
	if path.is_empty():
		path = ProjectSettings.globalize_path("res://").path_join(GOLDEN_REL).simplify_path()
	var text := FileAccess.get_file_as_string(path)
	var parsed: Variant = JSON.parse_string(text)
	if parsed is Dictionary:
		_golden = parsed
	else:
		push_error("cannot read golden frames at %s" % path)


func _frames() -> Array:
	return _golden.get("frames", [])


func test_golden_file_is_present_and_versions_match() -> void:
	assert_true(_frames().size() >= 17, "golden frames loaded")
	assert_eq(int(_golden.get("protocol_version", -1)), P.PROTOCOL_VERSION)
	assert_eq(int(_golden.get("min_protocol_version", -1)), P.MIN_PROTOCOL_VERSION)


func test_every_opcode_has_a_golden_frame() -> void:
	var seen := {}
	for f: Dictionary in _frames():
		seen[int(f["opcode"])] = true
		assert_eq(P.opcode_name(int(f["opcode"])), str(f["opcode_name"]), str(f["name"]))
	for op: int in P.Opcode.values():
		assert_true(seen.has(op), "golden frame for %s" % P.opcode_name(op))


func test_golden_frames_decode_to_their_fields() -> void:
	for f: Dictionary in _frames():
		var name := str(f["name"])
		var bytes := (f["hex"] as String).hex_decode()
		var err := {}
		var m: Variant = PSCodec.decode(bytes, err)
		if not assert_not_null(m, "%s decodes (%s)" % [name, err]):
			continue
		assert_eq(int(m["opcode"]), int(f["opcode"]), name)
		var fields: Dictionary = f["fields"]
		for key: String in fields:
			assert_true(
				_same(_plain(m.get(key)), fields[key]),
				"%s.%s: golden %s, decoded %s" % [name, key, fields[key], _plain(m.get(key))]
			)


func test_golden_frames_reencode_to_the_same_bytes() -> void:
	for f: Dictionary in _frames():
		var bytes := (f["hex"] as String).hex_decode()
		var m: Variant = PSCodec.decode(bytes)
		if not assert_not_null(m, str(f["name"])):
			continue
		assert_eq(PSCodec.encode(m).hex_encode(), f["hex"], "%s re-encoded" % f["name"])


func test_golden_fields_encode_to_the_golden_bytes() -> void:
	for f: Dictionary in _frames():
		var msg: Dictionary = (f["fields"] as Dictionary).duplicate(true)
		msg["opcode"] = int(f["opcode"])
		var err := {}
		var out := PSCodec.encode(msg, err)
		assert_eq(out.hex_encode(), f["hex"], "%s from JSON fields (%s)" % [f["name"], err])


func test_client_constructors_match_golden_frames() -> void:
	var by_name := {}
	for f: Dictionary in _frames():
		by_name[f["name"]] = f["hex"]
	assert_eq(PSCodec.encode(PSCodec.hello("godot-client")).hex_encode(), by_name["hello"])
	assert_eq(PSCodec.encode(PSCodec.join("", "Ada")).hex_encode(), by_name["join_disposable"])
	var edit := PSCodec.edit_request(
		42, P.EditMode.EXCAVATE, PackedFloat64Array([966.5, -0.25, -117.0]), 1.5
	)
	assert_eq(PSCodec.encode(edit).hex_encode(), by_name["edit_request"])
	assert_eq(PSCodec.encode(PSCodec.ping(5, 12.5)).hex_encode(), by_name["ping"])
	var body := PSCodec.pose(Vector3(967.25, 1.5, -117.5), Quaternion(0.5, 0.5, 0.5, 0.5))
	var desktop := PSCodec.transform(PSCodec.pose_set(body))
	assert_eq(PSCodec.encode(desktop).hex_encode(), by_name["player_transform_desktop"])
	var vr := PSCodec.transform(
		PSCodec.pose_set(
			body,
			PSCodec.pose(Vector3(0.0, 1.625, 0.0)),
			PSCodec.pose(Vector3(-0.25, 1.25, -0.375)),
			PSCodec.pose(Vector3(0.25, 1.25, -0.375))
		)
	)
	assert_eq(PSCodec.encode(vr).hex_encode(), by_name["player_transform_vr"])


func test_v3_constructors_match_golden_frames() -> void:
	var by_name := {}
	for f: Dictionary in _frames():
		by_name[f["name"]] = f["hex"]
	var ticket := "v1.jt.eyJtYXBJZCI6InBsYW5ldC0wIn0.c2lnbmF0dXJl"
	assert_eq(
		PSCodec.encode(PSCodec.join_with_ticket(ticket, "Ada")).hex_encode(),
		by_name.get("join_with_ticket"),
		"JOIN_WITH_TICKET"
	)
	assert_eq(
		PSCodec.encode(PSCodec.transfer_request("planet-1")).hex_encode(),
		by_name.get("transfer_request"),
		"TRANSFER_REQUEST"
	)
	var to: Variant = PSCodec.decode(str(by_name.get("transfer_to", "")).hex_decode())
	if assert_not_null(to, "TRANSFER_TO decodes"):
		assert_eq(to["to_map_id"], "planet-1")
		assert_eq(to["endpoint"], "ws://127.0.0.1:7781")
		assert_eq(to["expires_in_ms"], 30000)
	var denied: Variant = PSCodec.decode(str(by_name.get("error_ticket_denied", "")).hex_decode())
	if assert_not_null(denied, "ERROR 4010 decodes"):
		assert_eq(int(denied["code"]), P.ErrorCode.TICKET_DENIED)
		assert_true(P.is_fatal(P.ErrorCode.TICKET_DENIED), "4010 is fatal")
		assert_false(P.is_fatal(P.ErrorCode.TRANSFER_REFUSED), "4103 is a notice")


## v3 string rules: tickets / tokens 1..2048 bytes of printable ASCII, map ids 1..64 bytes
## of [a-z0-9-], endpoints <= 256 bytes, display names <= 32 bytes. Values are checked
## after every field is read (as the Python decoder does): a truncated frame is 4000 even
## when an earlier value is out of range; trailing bytes after a bad value are 4004.
func test_v3_values_are_validated_like_python() -> void:
	var op_jwt := "1200"
	var op_req := "1300"
	var op_to := "1400"
	var cases := [
		[op_jwt + _s("") + _s("Ada"), P.ErrorCode.INVALID_VALUE],  # empty ticket
		[op_jwt + _s("a b") + _s(""), P.ErrorCode.INVALID_VALUE],  # a space
		[op_jwt + _s("tickét") + _s(""), P.ErrorCode.INVALID_VALUE],  # not ASCII
		[op_jwt + _s("t".repeat(2049)) + _s(""), P.ErrorCode.INVALID_VALUE],
		[op_jwt + _s("t".repeat(2048)) + _s("n".repeat(33)), P.ErrorCode.INVALID_VALUE],
		[op_jwt + _s("") + "0500414243", P.ErrorCode.MALFORMED_MESSAGE],  # truncated name
		[op_jwt + _s("") + _s("") + "00", P.ErrorCode.INVALID_VALUE],  # value before trailing
		[op_jwt + _s("ok") + _s("") + "00", P.ErrorCode.MALFORMED_MESSAGE],
		[op_jwt + "0100ff" + _s(""), P.ErrorCode.MALFORMED_MESSAGE],  # bad UTF-8
		[op_req + _s("Planet-1"), P.ErrorCode.INVALID_VALUE],
		[op_req + _s(""), P.ErrorCode.INVALID_VALUE],
		[op_req + _s("p".repeat(65)), P.ErrorCode.INVALID_VALUE],
		[op_req + _s("planet_1"), P.ErrorCode.INVALID_VALUE],
		[op_to + _s("planet-1") + _s("x".repeat(257)) + _s("t") + "00000000", 4004],
		[op_to + _s("planet-1") + _s("") + _s("") + "00000000", 4004],  # empty token
		[op_to + _s("planet 1") + _s("") + _s("t") + "000000", 4000],  # truncated u32
		[op_to + _s("planet-1") + _s("") + _s("t") + "00000000", 0],  # empty endpoint: ok
		[op_req + _s("planet-0123456789-abcdefghijklmnopqrstuvwxyz"), 0],
	]
	for c: Array in cases:
		var err := {}
		var m: Variant = PSCodec.decode((c[0] as String).hex_decode(), err)
		var code := 0 if m != null else int(err.get("code", -1))
		assert_eq(code, c[1], "frame %s (%s)" % [(c[0] as String).left(60), err.get("reason", "")])
	assert_true(PSCodec.encode(PSCodec.join_with_ticket("", "x")).is_empty(), "empty ticket")
	assert_true(PSCodec.encode(PSCodec.join_with_ticket("a b", "x")).is_empty(), "space")
	assert_true(PSCodec.encode(PSCodec.transfer_request("Planet-1")).is_empty(), "uppercase")
	assert_true(PSCodec.encode(PSCodec.transfer_request("")).is_empty(), "empty map id")
	var bad_to := {
		"opcode": P.Opcode.TRANSFER_TO,
		"to_map_id": "planet-1",
		"endpoint": "ws://x",
		"token": "t",
		"expires_in_ms": -1
	}
	assert_true(PSCodec.encode(bad_to).is_empty(), "negative expiry")
	assert_true(P.is_ticket("v1.jt.abc~!"))
	assert_false(P.is_ticket("t".repeat(P.MAX_TICKET_BYTES + 1)))
	assert_true(P.is_map_id("planet-12"))
	assert_false(P.is_map_id("planet-é"))


## A str field: u16 length + UTF-8, as hex.
static func _s(text: String) -> String:
	var b := text.to_utf8_buffer()
	var n := PackedByteArray([b.size() & 0xFF, b.size() >> 8])
	return (n + b).hex_encode()


func test_malformed_frames_give_null_and_the_close_code() -> void:
	var cases := [
		["", P.ErrorCode.MALFORMED_MESSAGE],
		["01", P.ErrorCode.MALFORMED_MESSAGE],
		["0000", P.ErrorCode.UNKNOWN_OPCODE],
		["1500", P.ErrorCode.UNKNOWN_OPCODE],
		["1200", P.ErrorCode.MALFORMED_MESSAGE],  # JOIN_WITH_TICKET without its body
		["ff00", P.ErrorCode.UNKNOWN_OPCODE],
		# PING with trailing byte / truncated
		["0e0005000000000000000000294000", P.ErrorCode.MALFORMED_MESSAGE],
		["0e000500000000000000000029", P.ErrorCode.MALFORMED_MESSAGE],
		# PING with NaN / +inf client time
		["0e0005000000000000000000f87f", P.ErrorCode.INVALID_VALUE],
		["0e0005000000000000000000f07f", P.ErrorCode.INVALID_VALUE],
		# GOODBYE with invalid UTF-8 (lone continuation byte, overlong, surrogate)
		["1100e8030100" + "80", P.ErrorCode.MALFORMED_MESSAGE],
		["1100e8030200" + "c0af", P.ErrorCode.MALFORMED_MESSAGE],
		["1100e8030300" + "eda080", P.ErrorCode.MALFORMED_MESSAGE],
		# CHUNK_STATE with an unknown encoding
		["07000100000002000000030000000700000002", P.ErrorCode.INVALID_VALUE],
		# CHUNK_SUBSCRIBE with n = 0
		["05000000", P.ErrorCode.INVALID_VALUE],
		# PLAYER_LEFT with reason 2
		["0d000800000002", P.ErrorCode.INVALID_VALUE],
		# EDIT_RESULT with accepted = 2
		["0a002b00000002000000000000000000000000", P.ErrorCode.INVALID_VALUE],
		# PLAYER_TRANSFORM with unknown pose flag 8
		[
			"0b0008" + "00".repeat(12) + "000000000000000000000000" + "0000803f",
			P.ErrorCode.INVALID_VALUE
		],
	]
	for c: Array in cases:
		var err := {}
		var m: Variant = PSCodec.decode((c[0] as String).hex_decode(), err)
		assert_null(m, "frame %s" % c[0])
		assert_eq(
			int(err.get("code", -1)), c[1], "code of frame %s (%s)" % [c[0], err.get("reason", "")]
		)


func test_truncated_and_extended_golden_frames_are_rejected() -> void:
	for f: Dictionary in _frames():
		var bytes := (f["hex"] as String).hex_decode()
		for cut in range(0, bytes.size()):
			var err := {}
			if PSCodec.decode(bytes.slice(0, cut), err) != null:
				fail("%s cut to %d bytes decoded" % [f["name"], cut])
		var longer := bytes.duplicate()
		longer.append(0)
		var err2 := {}
		assert_null(PSCodec.decode(longer, err2), "%s + 1 byte" % f["name"])
		assert_eq(
			int(err2.get("code", -1)), P.ErrorCode.MALFORMED_MESSAGE, "%s + 1 byte" % f["name"]
		)


func test_encoder_refuses_bad_values() -> void:
	var nan_edit := PSCodec.edit_request(1, 0, PackedFloat64Array([NAN, 0.0, 0.0]), 1.0)
	assert_true(PSCodec.encode(nan_edit).is_empty(), "NaN centre")
	var inf_edit := PSCodec.edit_request(1, 0, PackedFloat64Array([0.0, 0.0, 0.0]), INF)
	assert_true(PSCodec.encode(inf_edit).is_empty(), "infinite radius")
	assert_true(
		PSCodec.encode(PSCodec.edit_request(1, 3, PackedFloat64Array([0, 0, 0]), 1.0)).is_empty(),
		"mode 3"
	)
	assert_true(PSCodec.encode(PSCodec.join("k".repeat(129), "")).is_empty(), "auth key too long")
	assert_true(PSCodec.encode(PSCodec.subscribe([])).is_empty(), "no coords")
	assert_true(PSCodec.encode({"opcode": 99}).is_empty(), "unknown opcode")


func test_random_bytes_never_crash_the_decoder() -> void:
	var rng := RandomNumberGenerator.new()
	rng.seed = 20261124
	var decoded := 0
	for i in 4000:
		var n := rng.randi_range(0, 48)
		var b := PackedByteArray()
		b.resize(n)
		for k in n:
			b[k] = rng.randi() & 0xFF
		if n > 0 and i % 2 == 0:
			b[0] = rng.randi_range(1, 20)  # a valid opcode: exercise the bodies
		if _check_round_trip(b):
			decoded += 1
	assert_true(decoded > 0, "some random frames were valid")


func test_mutated_golden_frames_never_crash_the_decoder() -> void:
	var rng := RandomNumberGenerator.new()
	rng.seed = 42
	for f: Dictionary in _frames():
		var bytes := (f["hex"] as String).hex_decode()
		for i in 150:
			var b := bytes.duplicate()
			for k in rng.randi_range(1, 3):
				var at := rng.randi_range(1, b.size() - 1)
				b[at] = rng.randi() & 0xFF
			if rng.randf() < 0.3:
				b = b.slice(0, rng.randi_range(0, b.size()))
			_check_round_trip(b)


## Decoding must give null (with a code) or a message that re-encodes to the same body.
func _check_round_trip(b: PackedByteArray) -> bool:
	var err := {}
	var m: Variant = PSCodec.decode(b, err)
	if m == null:
		if not err.has("code"):
			fail("null without an error code for %s" % b.hex_encode())
		return false
	var again := PSCodec.encode(m)
	if var_to_str(m).contains(String.chr(0xFFFD)):
		return true  # a string held U+0000, which Godot strings cannot (PSCodec.utf8_text)
	if again.slice(2) != b.slice(2) or again[0] != b[0]:
		fail("%s re-encoded as %s" % [b.hex_encode(), again.hex_encode()])
	return true


# ---- helpers: decoded values in the golden JSON's shape ---------------------------------


func _plain(v: Variant) -> Variant:
	var out: Variant = v
	match typeof(v):
		TYPE_VECTOR3, TYPE_VECTOR3I:
			out = [v.x, v.y, v.z]
		TYPE_QUATERNION:
			out = [v.x, v.y, v.z, v.w]
		TYPE_PACKED_FLOAT64_ARRAY, TYPE_PACKED_INT64_ARRAY:
			out = Array(v)
		TYPE_PACKED_BYTE_ARRAY:
			out = (v as PackedByteArray).hex_encode()
		TYPE_ARRAY:
			var a: Array = []
			for x: Variant in v:
				a.append(_plain(x))
			out = a
		TYPE_DICTIONARY:
			var d := {}
			for k: Variant in v:
				d[k] = _plain(v[k])
			out = d
	return out


## Deep equality where numbers compare by value (JSON numbers are floats here).
func _same(a: Variant, b: Variant) -> bool:
	var na := typeof(a) in [TYPE_INT, TYPE_FLOAT]
	var nb := typeof(b) in [TYPE_INT, TYPE_FLOAT]
	if na or nb:
		return na and nb and float(a) == float(b)
	if typeof(a) != typeof(b):
		return false
	if a is Array:
		return _same_arrays(a, b)
	if a is Dictionary:
		return _same_dicts(a, b)
	return a == b


func _same_dicts(a: Dictionary, b: Dictionary) -> bool:
	if a.size() != b.size():
		return false
	for k: Variant in a:
		if not b.has(k) or not _same(a[k], b[k]):
			return false
	return true


func _same_arrays(a: Array, b: Array) -> bool:
	if a.size() != b.size():
		return false
	for i in a.size():
		if not _same(a[i], b[i]):
			return false
	return true


## Mutated golden frames with the Python decoder's verdict (tests/client/net_fixtures.py):
## the same frames decode, and the rejected ones give the same close code.
func test_decoder_agrees_with_python_on_mutated_frames() -> void:
	var doc: Variant = JSON.parse_string(
		FileAccess.get_file_as_string("res://tests/golden/net_deltas.json")
	)
	if not assert_true(doc is Dictionary, "res://tests/golden/net_deltas.json missing"):
		return
	var cases: Array = (doc as Dictionary).get("frames", [])
	assert_true(cases.size() > 500, "cases present")
	var mismatches := 0
	for c: Dictionary in cases:
		var err := {}
		var m: Variant = PSCodec.decode((c["hex"] as String).hex_decode(), err)
		var code := 0 if m != null else int(err.get("code", -1))
		if code != int(c["code"]):
			mismatches += 1
			if mismatches <= 10:
				fail("%s: Python %d, GDScript %d (%s)" % [c["hex"], c["code"], code, err])
	assert_eq(mismatches, 0, "frames where the decoders disagree")
