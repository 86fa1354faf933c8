class_name PSFrameWriter
extends RefCounted
## Builds one frame for [PSCodec]: appends little-endian values to [member buf], checking
## ranges, finiteness and string limits; the first failure is recorded ([member ok] false,
## [member reason]). Takes Godot values (Vector3, Quaternion, PackedFloat64Array, ...) or
## JSON-shaped ones (Arrays, floats for integers, hex strings for payloads).

const P := preload("res://net/protocol.gd")
const I32_MIN := -0x80000000
const I32_MAX := 0x7FFFFFFF

var buf := PackedByteArray()
var ok := true
var reason := ""


func fail(why: String) -> void:
	if ok:
		ok = false
		reason = why


func _grow(n: int) -> int:
	var at := buf.size()
	buf.resize(at + n)
	return at


func uint(v: Variant, bits: int, field: String) -> void:
	var x := as_int(v)
	var hi := (1 << bits) - 1 if bits < 64 else -1
	if typeof(v) not in [TYPE_INT, TYPE_FLOAT, TYPE_BOOL] or (bits < 64 and (x < 0 or x > hi)):
		fail("%s=%s is not a u%d" % [field, v, bits])
		return
	match bits:
		8:
			buf.append(x)
		16:
			buf.encode_u16(_grow(2), x)
		32:
			buf.encode_u32(_grow(4), x)
		_:
			buf.encode_u64(_grow(8), x)


func i32(v: Variant, field: String) -> void:
	var x := as_int(v)
	if typeof(v) not in [TYPE_INT, TYPE_FLOAT] or x < I32_MIN or x > I32_MAX:
		fail("%s=%s is not an i32" % [field, v])
		return
	buf.encode_s32(_grow(4), x)


func real(v: Variant, double: bool, limit: float, field: String) -> void:
	if typeof(v) not in [TYPE_INT, TYPE_FLOAT]:
		fail("%s is not a number" % field)
		return
	var x: float = v
	if not is_finite(x) or absf(x) > limit:
		fail("%s=%s must be finite and within +-%s" % [field, x, limit])
		return
	if double:
		buf.encode_double(_grow(8), x)
	else:
		buf.encode_float(_grow(4), x)


func string(v: Variant, limit: int, field: String) -> void:
	if typeof(v) not in [TYPE_STRING, TYPE_STRING_NAME]:
		fail("%s is not a string" % field)
		return
	var b := str(v).to_utf8_buffer()
	if b.size() > limit:
		fail("%s is %d bytes, the limit is %d" % [field, b.size(), limit])
		return
	uint(b.size(), 16, field)
	buf.append_array(b)


## A join ticket or transfer token: 1..2048 bytes of printable ASCII.
func ticket(v: Variant, field: String) -> void:
	if typeof(v) in [TYPE_STRING, TYPE_STRING_NAME] and not P.is_ticket(str(v)):
		fail("%s must be 1..%d bytes of printable ASCII" % [field, P.MAX_TICKET_BYTES])
		return
	string(v, P.MAX_TICKET_BYTES, field)


## A map id: 1..64 bytes of [code][a-z0-9-][/code].
func map_id(v: Variant, field: String) -> void:
	if typeof(v) in [TYPE_STRING, TYPE_STRING_NAME] and not P.is_map_id(str(v)):
		fail("%s must be 1..%d bytes of [a-z0-9-]" % [field, P.MAX_MAP_ID_BYTES])
		return
	string(v, P.MAX_MAP_ID_BYTES, field)


func coord(v: Variant, field: String) -> void:
	var a := components(v, 3)
	if a.size() != 3:
		fail("%s is not a coord" % field)
		return
	for x: Variant in a:
		i32(x, field)


func vec(v: Variant, n: int, double: bool, limit: float, field: String) -> void:
	var a := components(v, n)
	if a.size() != n:
		fail("%s needs %d numbers" % [field, n])
		return
	for x: Variant in a:
		real(x, double, limit, field)


func pose(v: Variant, field: String) -> void:
	if typeof(v) != TYPE_DICTIONARY:
		fail("%s is not a pose" % field)
		return
	var d: Dictionary = v
	vec(d.get("position"), 3, false, P.MAX_ABS_POSITION_M, field + ".position")
	vec(d.get("rotation", Quaternion.IDENTITY), 4, false, P.MAX_ABS_QUAT, field + ".rotation")


func pose_set(v: Variant, field: String) -> void:
	if typeof(v) != TYPE_DICTIONARY:
		fail("%s is not a pose set" % field)
		return
	var d: Dictionary = v
	var flags := 0
	var bits := {
		"head": P.POSE_HEAD, "left_hand": P.POSE_LEFT_HAND, "right_hand": P.POSE_RIGHT_HAND
	}
	for k: String in bits:
		if d.get(k) != null:
			flags |= bits[k]
	uint(flags, 8, field)
	pose(d.get("body"), field + ".body")
	for k: String in bits:
		if d.get(k) != null:
			pose(d[k], field + "." + k)


func chunk(v: Variant, field: String) -> void:
	if typeof(v) != TYPE_DICTIONARY:
		fail("%s is not a chunk" % field)
		return
	var d: Dictionary = v
	coord(d.get("coord"), field + ".coord")
	uint(d.get("version"), 32, field + ".version")
	var payload: Variant = d.get("payload")
	if payload == null:
		if as_int(d.get("uncompressed_size", 0)) != 0:
			fail("%s: uncompressed_size must be 0 without a payload" % field)
		uint(P.ChunkEncoding.GENERATED, 8, field)
		return
	var bytes := as_bytes(payload)
	if bytes.size() > P.MAX_PAYLOAD_BYTES:
		fail("%s payload exceeds %d bytes" % [field, P.MAX_PAYLOAD_BYTES])
		return
	var size := as_int(d.get("uncompressed_size", 0))
	if size < 0 or size > P.MAX_UNCOMPRESSED_BYTES:
		fail("%s uncompressed_size=%d out of range" % [field, size])
		return
	var base: Variant = d.get("base_version")
	if base == null:
		uint(P.ChunkEncoding.DELTA_ZSTD, 8, field)
	else:
		if as_int(base) < 0 or as_int(base) >= as_int(d.get("version")):
			fail("%s: base_version must be below version" % field)
			return
		uint(P.ChunkEncoding.INCREMENTAL_ZSTD, 8, field)
		uint(base, 32, field + ".base_version")
	uint(size, 32, field)
	uint(bytes.size(), 32, field)
	buf.append_array(bytes)


func items(v: Variant, lo: int, hi: int, field: String) -> Array:
	if typeof(v) != TYPE_ARRAY or (v as Array).size() < lo or (v as Array).size() > hi:
		fail("%s must hold %d..%d entries" % [field, lo, hi])
		return []
	return v


## [param v] as an int (floats from JSON are truncated; anything else is 0).
static func as_int(v: Variant) -> int:
	match typeof(v):
		TYPE_INT:
			return v
		TYPE_FLOAT:
			return int(v)
		TYPE_BOOL:
			return 1 if v else 0
	return 0


## The components of a vector-like value (Array, packed array, Vector3/3i, Quaternion);
## empty if [param v] is none of them or has not [param n] components ([param n] < 0: any).
static func components(v: Variant, n: int) -> Array:
	var out: Array = []
	match typeof(v):
		TYPE_VECTOR3, TYPE_VECTOR3I:
			out = [v.x, v.y, v.z]
		TYPE_QUATERNION:
			out = [v.x, v.y, v.z, v.w]
		TYPE_ARRAY, TYPE_PACKED_FLOAT64_ARRAY, TYPE_PACKED_FLOAT32_ARRAY:
			out = Array(v)
		TYPE_PACKED_INT32_ARRAY, TYPE_PACKED_INT64_ARRAY:
			out = Array(v)
		_:
			return []
	if n >= 0 and out.size() != n:
		return []
	return out


## Bytes of a payload given as bytes or as a hex string (JSON fixtures).
static func as_bytes(v: Variant) -> PackedByteArray:
	if typeof(v) == TYPE_PACKED_BYTE_ARRAY:
		return v
	if typeof(v) == TYPE_STRING:
		return (v as String).hex_decode()
	return PackedByteArray()
