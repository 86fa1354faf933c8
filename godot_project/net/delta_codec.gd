class_name PSDeltaCodec
extends RefCounted
## Chunk delta payloads (docs/terrain.md section 4; reference server/world/delta.py,
## [code]apply_delta_payload[/code]): one zstd frame holding the chunk's voxels relative to
## its *generated* voxels, in one of three formats:
## [codeblock]
## u8 format
## 0 sparse: u16 n, n x (u16 index, i8 density, u8 material)  -> 3 + 4 n bytes
## 1 full:   int8[32768] density, uint8[32768] material          -> 65537 bytes
## 2 diff:   u8[32768] (density - generated) mod 256,
##           u8[32768] material XOR generated material           -> 65537 bytes
## [/codeblock]
## Index = (x * 32 + y) * 32 + z. Generated voxels + payload = the server's voxels.
## Pure and thread-safe (static functions on values).

const VOLUME := 32768
## Largest raw (decompressed) delta: format 1 or 2.
const MAX_RAW_SIZE := 1 + 2 * VOLUME
const FORMAT_SPARSE := 0
const FORMAT_FULL := 1
const FORMAT_DIFF := 2
const ROW := 32


## The raw delta inside [param payload] (a zstd frame), or an empty array when it does not
## decompress or is larger than a full chunk; then [param error] gets a [code]reason[/code].
static func decompress(payload: PackedByteArray, error: Dictionary = {}) -> PackedByteArray:
	if payload.size() < 4 or payload.decode_u32(0) != 0xFD2FB528:
		error["reason"] = "not a zstd frame"
		return PackedByteArray()
	var raw := payload.decompress(MAX_RAW_SIZE, FileAccess.COMPRESSION_ZSTD)
	if raw.is_empty():
		error["reason"] = "bad zstd frame"
	return raw


## Apply [param payload] to the generated voxels [param density] (int8 as bytes) and
## [param material] (32768 each; not modified). Returns [new density, new material], or an
## empty array for a payload to reject (bad frame, unknown format, wrong length, index out
## of range) with the reason in [param error].
static func apply(
	density: PackedByteArray,
	material: PackedByteArray,
	payload: PackedByteArray,
	error: Dictionary = {}
) -> Array:
	if density.size() != VOLUME or material.size() != VOLUME:
		error["reason"] = "density and material must have 32768 voxels"
		return []
	var raw := decompress(payload, error)
	if raw.is_empty():
		if not error.has("reason"):
			error["reason"] = "empty delta"
		return []
	return apply_raw(density, material, raw, error)


## "" if the decompressed delta [param raw] is well formed (format, length, indices),
## else the reason to reject it (the client then re-requests the chunk).
static func validate_raw(raw: PackedByteArray) -> String:
	if raw.is_empty():
		return "empty delta"
	var fmt: int = raw[0]
	if fmt == FORMAT_FULL or fmt == FORMAT_DIFF:
		if raw.size() != MAX_RAW_SIZE:
			return "format %d delta has %d bytes, want %d" % [fmt, raw.size(), MAX_RAW_SIZE]
		return ""
	if fmt != FORMAT_SPARSE:
		return "unknown delta format %d" % fmt
	if raw.size() < 3:
		return "sparse delta without a count"
	var n := raw.decode_u16(1)
	if raw.size() != 3 + 4 * n:
		return "sparse delta of %d records has %d bytes" % [n, raw.size()]
	for k in n:
		var idx := raw.decode_u16(3 + 4 * k)
		if idx >= VOLUME:
			return "voxel index %d out of range" % idx
	return ""


## [method apply] on an already decompressed delta.
static func apply_raw(
	density: PackedByteArray,
	material: PackedByteArray,
	raw: PackedByteArray,
	error: Dictionary = {}
) -> Array:
	var reason := validate_raw(raw)
	if reason != "":
		error["reason"] = reason
		return []
	var fmt: int = raw[0]
	if fmt == FORMAT_FULL or fmt == FORMAT_DIFF:
		var a := raw.slice(1, 1 + VOLUME)
		var b := raw.slice(1 + VOLUME)
		if fmt == FORMAT_FULL:
			return [a, b]
		return [_add_bytes(density, a), _xor_bytes(material, b)]
	var d := density.duplicate()
	var m := material.duplicate()
	for k in raw.decode_u16(1):
		var o := 3 + 4 * k
		var idx := raw.decode_u16(o)
		d[idx] = raw[o + 2]
		m[idx] = raw[o + 3]
	return [d, m]


## The voxels that differ between ([param d0], [param m0]) and ([param d1], [param m1]):
## [PackedInt32Array indices, PackedByteArray densities, PackedByteArray materials], the
## new values, ascending index (what [method PSChunkStore.apply_delta] takes).
static func diff(
	d0: PackedByteArray, m0: PackedByteArray, d1: PackedByteArray, m1: PackedByteArray
) -> Array:
	var idx := PackedInt32Array()
	var dd := PackedByteArray()
	var mm := PackedByteArray()
	if d0 == d1 and m0 == m1:
		return [idx, dd, mm]
	for r in VOLUME / ROW:
		var o := r * ROW
		if (
			d0.slice(o, o + ROW) == d1.slice(o, o + ROW)
			and m0.slice(o, o + ROW) == m1.slice(o, o + ROW)
		):
			continue
		for i in range(o, o + ROW):
			if d0[i] != d1[i] or m0[i] != m1[i]:
				idx.append(i)
				dd.append(d1[i])
				mm.append(m1[i])
	return [idx, dd, mm]


static func _add_bytes(base: PackedByteArray, add: PackedByteArray) -> PackedByteArray:
	var out := base.duplicate()
	for r in VOLUME / ROW:
		var o := r * ROW
		if add.slice(o, o + ROW).count(0) == ROW:
			continue
		for i in range(o, o + ROW):
			var a: int = add[i]
			if a != 0:
				out[i] = (out[i] + a) & 0xFF
	return out


static func _xor_bytes(base: PackedByteArray, x: PackedByteArray) -> PackedByteArray:
	var out := base.duplicate()
	for r in VOLUME / ROW:
		var o := r * ROW
		if x.slice(o, o + ROW).count(0) == ROW:
			continue
		for i in range(o, o + ROW):
			var b: int = x[i]
			if b != 0:
				out[i] = out[i] ^ b
	return out
