class_name PSChunkDelta
extends RefCounted
## The server's chunk delta payload (docs/terrain.md, section 4): a chunk's voxels relative
## to *generation*, so the newest payload alone, applied to the generated voxels, gives the
## server's voxels. Formats (after zstd decompression, little-endian):
## 0 sparse: [code]u8 0, u16 n, n x (u16 index, i8 density, u8 material)[/code];
## 1 full: [code]u8 1, int8[32768] density, uint8[32768] material[/code];
## 2 diff: [code]u8 2, u8[32768] (density - generated) mod 256, u8[32768] material XOR
## generated[/code]. Pure functions, safe on any thread.

const VOLUME := 32768
const FULL_SIZE := 1 + 2 * VOLUME
const FORMAT_SPARSE := 0
const FORMAT_FULL := 1
const FORMAT_DIFF := 2


## The raw payload of a DELTA_ZSTD chunk entry ([param frame] = one zstd frame), or an
## empty array if it does not decompress to [param uncompressed_size] bytes.
static func decompress(frame: PackedByteArray, uncompressed_size: int) -> PackedByteArray:
	if uncompressed_size < 1 or uncompressed_size > FULL_SIZE:
		return PackedByteArray()
	var raw := frame.decompress(uncompressed_size, FileAccess.COMPRESSION_ZSTD)
	if raw.size() != uncompressed_size:
		return PackedByteArray()
	return raw


## "" if [param payload] is well formed, else why not (the client then re-requests the chunk).
static func validate(payload: PackedByteArray) -> String:
	if payload.is_empty():
		return "empty payload"
	var fmt := payload[0]
	if fmt == FORMAT_SPARSE:
		if payload.size() < 3:
			return "sparse payload shorter than its header"
		var n := payload.decode_u16(1)
		if payload.size() != 3 + 4 * n:
			return "sparse payload of %d bytes for %d records" % [payload.size(), n]
		for k in n:
			if payload.decode_u16(3 + 4 * k) >= VOLUME:
				return "voxel index out of range"
		return ""
	if fmt == FORMAT_FULL or fmt == FORMAT_DIFF:
		if payload.size() != FULL_SIZE:
			return "payload of %d bytes, expected %d" % [payload.size(), FULL_SIZE]
		return ""
	return "unknown delta format %d" % fmt


## [density, material]: [param payload] applied to the generated [param gen_density] /
## [param gen_material] (32^3 each); null if the payload is malformed
## ([method validate]). An empty payload means "as generated".
static func apply(
	gen_density: PackedByteArray, gen_material: PackedByteArray, payload: PackedByteArray
) -> Variant:
	if payload.is_empty():
		return [gen_density, gen_material]
	if validate(payload) != "":
		return null
	var fmt := payload[0]
	if fmt == FORMAT_FULL:
		return [payload.slice(1, 1 + VOLUME), payload.slice(1 + VOLUME, FULL_SIZE)]
	var d := gen_density.duplicate()
	var m := gen_material.duplicate()
	if fmt == FORMAT_SPARSE:
		var n := payload.decode_u16(1)
		for k in n:
			var o := 3 + 4 * k
			var idx := payload.decode_u16(o)
			d[idx] = payload[o + 2]
			m[idx] = payload[o + 3]
		return [d, m]
	# diff: skip 32-byte rows that are all zero in both halves
	var zero := PackedByteArray()
	zero.resize(32)
	for r in 1024:
		var o := r * 32
		var dd := payload.slice(1 + o, 1 + o + 32)
		var dm := payload.slice(1 + VOLUME + o, 1 + VOLUME + o + 32)
		if dd == zero and dm == zero:
			continue
		for z in 32:
			if dd[z] != 0:
				d[o + z] = (gen_density[o + z] + dd[z]) & 0xFF
			if dm[z] != 0:
				m[o + z] = gen_material[o + z] ^ dm[z]
	return [d, m]


## Indices of the voxels that differ between two chunks' arrays (rows compared whole first).
static func changed_voxels(
	d0: PackedByteArray, m0: PackedByteArray, d1: PackedByteArray, m1: PackedByteArray
) -> PackedInt32Array:
	var out := PackedInt32Array()
	for r in 1024:
		var o := r * 32
		if d0.slice(o, o + 32) == d1.slice(o, o + 32) and m0.slice(o, o + 32) == m1.slice(o, o + 32):
			continue
		for z in 32:
			if d0[o + z] != d1[o + z] or m0[o + z] != m1[o + z]:
				out.append(o + z)
	return out
