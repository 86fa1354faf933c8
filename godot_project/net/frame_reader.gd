class_name PSFrameReader
extends RefCounted
## Cursor over one received frame for [PSCodec]: little-endian reads that never go past the
## end. The first failure is recorded ([member ok] false, [member code] = the close code:
## 4000 truncated / bad UTF-8, 4004 a value out of range, NaN or infinite) and every later
## read returns 0, so a decoder reads on and checks [member ok] once.

const P := preload("res://net/protocol.gd")
const MALFORMED := P.ErrorCode.MALFORMED_MESSAGE
const INVALID := P.ErrorCode.INVALID_VALUE

var data: PackedByteArray
var pos := 0
var ok := true
var code := 0
var reason := ""


func _init(frame: PackedByteArray, start: int) -> void:
	data = frame
	pos = start


func fail(error_code: int, why: String) -> void:
	if ok:
		ok = false
		code = error_code
		reason = why


func _need(n: int) -> bool:
	if not ok:
		return false
	if n < 0 or pos + n > data.size():
		fail(MALFORMED, "frame truncated at byte %d (need %d more)" % [pos, n])
		return false
	return true


func u8() -> int:
	if not _need(1):
		return 0
	pos += 1
	return data[pos - 1]


func u16() -> int:
	if not _need(2):
		return 0
	pos += 2
	return data.decode_u16(pos - 2)


func u32() -> int:
	if not _need(4):
		return 0
	pos += 4
	return data.decode_u32(pos - 4)


func i32() -> int:
	if not _need(4):
		return 0
	pos += 4
	return data.decode_s32(pos - 4)


func u64() -> int:
	if not _need(8):
		return 0
	pos += 8
	return data.decode_u64(pos - 8)


func f32() -> float:
	if not _need(4):
		return 0.0
	pos += 4
	return data.decode_float(pos - 4)


func f64() -> float:
	if not _need(8):
		return 0.0
	pos += 8
	return data.decode_double(pos - 8)


func raw(n: int) -> PackedByteArray:
	if not _need(n):
		return PackedByteArray()
	pos += n
	return data.slice(pos - n, pos)


func string(limit: int, field: String) -> String:
	var n := u16()
	if not _need(n):
		return ""
	var start := pos
	pos += n
	if not valid_utf8(data, start, n):
		fail(MALFORMED, "invalid UTF-8 in string at byte %d" % start)
		return ""
	if n > limit:
		fail(INVALID, "%s is %d bytes, the limit is %d" % [field, n, limit])
		return ""
	return utf8_text(data.slice(start, pos))


## A finite float with |v| <= limit, else an INVALID_VALUE error.
func check(v: float, limit: float, field: String) -> float:
	if ok and (not is_finite(v) or absf(v) > limit):
		fail(INVALID, "%s=%s must be finite and within +-%s" % [field, v, limit])
	return v


func range_check(v: int, lo: int, hi: int, field: String) -> int:
	if ok and (v < lo or v > hi):
		fail(INVALID, "%s=%d outside [%d, %d]" % [field, v, lo, hi])
	return v


func coord() -> Vector3i:
	var x := i32()
	var y := i32()
	return Vector3i(x, y, i32())


func vec3d(limit: float, field: String) -> PackedFloat64Array:
	var out := PackedFloat64Array([f64(), f64(), f64()])
	for v in out:
		check(v, limit, field)
	return out


func vec3f(limit: float, field: String) -> Vector3:
	var x := check(f32(), limit, field)
	var y := check(f32(), limit, field)
	return Vector3(x, y, check(f32(), limit, field))


func quat(field: String) -> Quaternion:
	var x := check(f32(), P.MAX_ABS_QUAT, field)
	var y := check(f32(), P.MAX_ABS_QUAT, field)
	var z := check(f32(), P.MAX_ABS_QUAT, field)
	return Quaternion(x, y, z, check(f32(), P.MAX_ABS_QUAT, field))


func pose() -> Dictionary:
	var p := vec3f(P.MAX_ABS_POSITION_M, "position")
	return {"position": p, "rotation": quat("rotation")}


func pose_set() -> Dictionary:
	var flags := u8()
	if ok and flags & ~7:
		fail(INVALID, "unknown pose flags %d" % flags)
	var out := {"body": pose(), "head": null, "left_hand": null, "right_hand": null}
	if flags & P.POSE_HEAD:
		out["head"] = pose()
	if flags & P.POSE_LEFT_HAND:
		out["left_hand"] = pose()
	if flags & P.POSE_RIGHT_HAND:
		out["right_hand"] = pose()
	return out


## One chunk entry; [param incremental]: encoding 2 (INCREMENTAL_ZSTD, TERRAIN_DELTA only)
## is allowed, and its entry gets a [code]"base_version"[/code] key.
func chunk(incremental := false) -> Dictionary:
	var c := coord()
	var version := u32()
	var enc := u8()
	var out := {"coord": c, "version": version, "payload": null, "uncompressed_size": 0}
	if not ok or enc == P.ChunkEncoding.GENERATED:
		return out
	var base := -1
	if enc == P.ChunkEncoding.INCREMENTAL_ZSTD and incremental:
		base = u32()
	elif enc != P.ChunkEncoding.DELTA_ZSTD:
		fail(INVALID, "unknown chunk encoding %d" % enc)
		return out
	var size := u32()
	var n := u32()
	var payload := raw(n)
	if ok and n > P.MAX_PAYLOAD_BYTES:
		fail(INVALID, "payload of %d bytes exceeds %d" % [n, P.MAX_PAYLOAD_BYTES])
	range_check(size, 0, P.MAX_UNCOMPRESSED_BYTES, "uncompressed_size")
	out["payload"] = payload
	out["uncompressed_size"] = size
	if base >= 0:
		if ok and base >= version:
			fail(INVALID, "base_version %d must be below version %d" % [base, version])
		out["base_version"] = base
	return out


func end() -> void:
	if ok and pos != data.size():
		fail(MALFORMED, "%d trailing bytes" % (data.size() - pos))


## UTF-8 [param bytes] as text; Godot strings cannot hold U+0000, which becomes U+FFFD
## (the only lossy case: such a string does not re-encode to the same bytes).
static func utf8_text(bytes: PackedByteArray) -> String:
	if not bytes.has(0):
		return bytes.get_string_from_utf8()
	var parts := PackedStringArray()
	var start := 0
	for i in bytes.size() + 1:
		if i == bytes.size() or bytes[i] == 0:
			parts.append(bytes.slice(start, i).get_string_from_utf8())
			start = i + 1
	return String.chr(0xFFFD).join(parts)


## True if [param n] bytes of [param data] from [param start] are strict UTF-8 (no overlong
## forms, no surrogates, nothing above U+10FFFF), as Python's decoder requires.
static func valid_utf8(data: PackedByteArray, start: int, n: int) -> bool:
	var i := start
	var end := start + n
	while i < end:
		var b: int = data[i]
		if b < 0x80:
			i += 1
			continue
		var extra := 0
		var lo := 0x80
		var hi := 0xBF
		if b >= 0xC2 and b <= 0xDF:
			extra = 1
		elif b >= 0xE0 and b <= 0xEF:
			extra = 2
			if b == 0xE0:
				lo = 0xA0
			elif b == 0xED:
				hi = 0x9F
		elif b >= 0xF0 and b <= 0xF4:
			extra = 3
			if b == 0xF0:
				lo = 0x90
			elif b == 0xF4:
				hi = 0x8F
		else:
			return false
		if i + extra > end - 1:
			return false
		for k in extra:
			var c: int = data[i + 1 + k]
			var l := lo if k == 0 else 0x80
			var h := hi if k == 0 else 0xBF
			if c < l or c > h:
				return false
		i += 1 + extra
	return true
