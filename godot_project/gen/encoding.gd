class_name PSGenEncoding
extends RefCounted
## Canonical chunk encoding and chunk_hash, the SHA-256 of the encoding (port of
## shared_gen/encoding.py).
##
## Layout (little-endian; offsets in bytes):
## [codeblock]
## 0     4 bytes magic "PSCK"
## 4     u16 generator version, 6 u8 chunk size (32), 7 u8 reserved (0)
## 8     u64 world seed, 16 u16 planet index, 18 u16 reserved (0), 20 u32 planet seed
## 24    i32 cx, 28 i32 cy, 32 i32 cz
## 36    int8[32768] density, index (x * 32 + y) * 32 + z
## 32804 uint8[32768] material, same order
## 65572 u16 resource node count n
## 65574 n x 8 bytes: u8 type, u8 i, u8 j, u8 k, u16 quantity, u16 candidate index
## [/codeblock]
## Total 65574 + 8 n bytes.

const C := preload("res://gen/constants.gd")
const MAGIC := "PSCK"
const HEADER_SIZE := 36
const NODE_SIZE := 8


## Canonical bytes of a chunk (layout in the class description).
static func encode_chunk(chunk: PSGenPlanet.Chunk) -> PackedByteArray:
	var head := PackedByteArray()
	head.resize(HEADER_SIZE)
	var magic := MAGIC.to_ascii_buffer()
	for b in 4:
		head[b] = magic[b]
	head.encode_u16(4, C.GENERATOR_VERSION)
	head.encode_u8(6, C.CHUNK_SIZE)
	head.encode_u8(7, 0)
	head.encode_s64(8, chunk.world_seed)
	head.encode_u16(16, chunk.planet_index)
	head.encode_u16(18, 0)
	head.encode_u32(20, chunk.planet_seed)
	head.encode_s32(24, chunk.coord.x)
	head.encode_s32(28, chunk.coord.y)
	head.encode_s32(32, chunk.coord.z)
	var tail := PackedByteArray()
	tail.resize(2 + NODE_SIZE * chunk.resources.size())
	tail.encode_u16(0, chunk.resources.size())
	var off := 2
	for n in chunk.resources:
		tail.encode_u8(off, n.resource_type)
		tail.encode_u8(off + 1, n.voxel.x)
		tail.encode_u8(off + 2, n.voxel.y)
		tail.encode_u8(off + 3, n.voxel.z)
		tail.encode_u16(off + 4, n.quantity)
		tail.encode_u16(off + 6, n.index)
		off += NODE_SIZE
	var out := head
	out.append_array(chunk.density)
	out.append_array(chunk.material)
	out.append_array(tail)
	return out


## Lower-case hex SHA-256 of [method encode_chunk].
static func chunk_hash(chunk: PSGenPlanet.Chunk) -> String:
	return sha256_hex(encode_chunk(chunk))


## Lower-case hex SHA-256 of [param data].
static func sha256_hex(data: PackedByteArray) -> String:
	var ctx := HashingContext.new()
	ctx.start(HashingContext.HASH_SHA256)
	ctx.update(data)
	return ctx.finish().hex_encode()


## Inverse of [method encode_chunk]; null (and an error) on a wrong magic, generator
## version, size or length. Resource positions are recomputed from the voxel indices.
static func decode_chunk(data: PackedByteArray) -> PSGenPlanet.Chunk:
	if data.size() < HEADER_SIZE + 2 * C.CHUNK_VOLUME + 2:
		push_error("chunk encoding too short: %d bytes" % data.size())
		return null
	if data.slice(0, 4).get_string_from_ascii() != MAGIC:
		push_error("bad magic")
		return null
	if data.decode_u16(4) != C.GENERATOR_VERSION:
		push_error("generator version %d != %d" % [data.decode_u16(4), C.GENERATOR_VERSION])
		return null
	if data.decode_u8(6) != C.CHUNK_SIZE:
		push_error("chunk size %d != %d" % [data.decode_u8(6), C.CHUNK_SIZE])
		return null
	var chunk := PSGenPlanet.Chunk.new()
	chunk.world_seed = data.decode_s64(8)
	chunk.planet_index = data.decode_u16(16)
	chunk.planet_seed = data.decode_u32(20)
	chunk.coord = Vector3i(data.decode_s32(24), data.decode_s32(28), data.decode_s32(32))
	var off := HEADER_SIZE
	chunk.density = data.slice(off, off + C.CHUNK_VOLUME)
	off += C.CHUNK_VOLUME
	chunk.material = data.slice(off, off + C.CHUNK_VOLUME)
	off += C.CHUNK_VOLUME
	var count := data.decode_u16(off)
	off += 2
	if data.size() != off + NODE_SIZE * count:
		push_error("chunk encoding length does not match its resource count")
		return null
	for _n in count:
		var node := PSGenPlanet.ResourceNode.new()
		node.resource_type = data.decode_u8(off)
		node.voxel = Vector3i(data.decode_u8(off + 1), data.decode_u8(off + 2), data.decode_u8(off + 3))
		node.quantity = data.decode_u16(off + 4)
		node.index = data.decode_u16(off + 6)
		node.position_m = PackedFloat64Array([
			(chunk.coord.x * C.CHUNK_SIZE + node.voxel.x) * C.VOXEL_SIZE,
			(chunk.coord.y * C.CHUNK_SIZE + node.voxel.y) * C.VOXEL_SIZE,
			(chunk.coord.z * C.CHUNK_SIZE + node.voxel.z) * C.VOXEL_SIZE,
		])
		off += NODE_SIZE
		chunk.resources.append(node)
	return chunk
