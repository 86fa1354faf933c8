extends PSTestCase
## Merging the server's chunk entries (docs/protocol.md chunk entry, docs/terrain.md
## section 4 payloads): sparse, full and diff payloads over the generated voxels, newest
## version wins, reverting to generation, waiting for generation, rejecting bad payloads.

const C := Vector3i(1, 0, 0)

var _src := PSSphereChunkSource.create(20.0)


func _store() -> PSChunkStore:
	var store := PSChunkStore.new()
	store.put_generated(C, _src.generate(C))
	return store


static func _sparse(records: Array) -> PackedByteArray:
	var p := PackedByteArray([0, 0, 0])
	p.encode_u16(1, records.size())
	for r: Array in records:
		var o := p.size()
		p.resize(o + 4)
		p.encode_u16(o, r[0])
		p.encode_s8(o + 2, r[1])
		p[o + 3] = r[2]
	return p


func test_sparse_payload_applies_over_generation_and_reverts() -> void:
	var store := _store()
	var gen := store.get_chunk(C).density.duplicate()
	var idx := PSChunkData.index_of(5, 6, 7)
	var res := store.apply_server_entry(C, 1, _sparse([[idx, -100, 0]]))
	assert_true(res[0])
	assert_eq(store.get_chunk(C).density_at(idx), -100)
	assert_eq(res[1], [C] as Array[Vector3i], "an interior voxel touches one chunk")
	# version 2 lists another voxel only: the first goes back to its generated value
	var idx2 := PSChunkData.index_of(0, 6, 7)
	res = store.apply_server_entry(C, 2, _sparse([[idx2, 50, 16]]))
	assert_eq(store.get_chunk(C).density[idx], gen[idx], "payloads are relative to generation")
	assert_eq(store.get_chunk(C).density_at(idx2), 50)
	var touched: Array = res[1]
	assert_true(touched.has(C + Vector3i(-1, 0, 0)), "x = 0 voxel: the lower neighbour re-meshes")
	# an older version is ignored
	res = store.apply_server_entry(C, 1, _sparse([[idx, -100, 0]]))
	assert_eq(res[1], [] as Array[Vector3i])
	assert_eq(store.get_chunk(C).density[idx], gen[idx])
	# "no change" payload (00 00 00): back to generation
	store.apply_server_entry(C, 3, _sparse([]))
	assert_eq(store.get_chunk(C).density, gen)


func test_full_and_diff_payloads() -> void:
	var store := _store()
	var chunk := store.get_chunk(C)
	var gd := chunk.generated_density
	var gm := chunk.generated_material
	var want_d := gd.duplicate()
	var want_m := gm.duplicate()
	for k in 200:
		var i := (k * 4099) % 32768
		want_d[i] = (want_d[i] + 37 * k) & 0xFF
		want_m[i] = k & 0xFF
	var full := PackedByteArray([1])
	full.append_array(want_d)
	full.append_array(want_m)
	assert_true(store.apply_server_entry(C, 1, full)[0])
	assert_eq(store.get_chunk(C).density, want_d)
	assert_eq(store.get_chunk(C).material, want_m)
	var diff := PackedByteArray([2])
	diff.resize(1 + 65536)
	for i in 32768:
		diff[1 + i] = (want_d[i] - gd[i]) & 0xFF
		diff[1 + 32768 + i] = want_m[i] ^ gm[i]
	store.apply_server_entry(C, 2, _sparse([]))
	assert_eq(store.get_chunk(C).density, gd)
	assert_true(store.apply_server_entry(C, 3, diff)[0])
	assert_eq(store.get_chunk(C).density, want_d)
	assert_eq(store.get_chunk(C).material, want_m)
	var rows := store.get_chunk(C).solid_rows.duplicate()
	store.get_chunk(C).update_masks()
	assert_eq(rows, store.get_chunk(C).solid_rows, "masks follow the payload")


func test_entry_before_generation_waits_and_survives_unloading() -> void:
	var store := PSChunkStore.new()
	var idx := PSChunkData.index_of(3, 3, 3)
	assert_true(store.apply_server_entry(C, 4, _sparse([[idx, 99, 16]]))[0])
	assert_false(store.has_chunk(C))
	store.put_generated(C, _src.generate(C))
	assert_eq(store.get_chunk(C).density_at(idx), 99)
	assert_eq(store.get_chunk(C).version, 4)
	assert_true(store.unload(C))
	store.put_generated(C, _src.generate(C))
	assert_eq(store.get_chunk(C).density_at(idx), 99, "the payload is re-applied after reloading")


func test_malformed_payloads_are_rejected() -> void:
	var store := _store()
	var gen := store.get_chunk(C).density.duplicate()
	var bad_index := _sparse([[0, 1, 1]])
	bad_index.encode_u16(3, 40000)
	for p: PackedByteArray in [
		PackedByteArray([7]), PackedByteArray([0, 2, 0, 1]), PackedByteArray([1, 2, 3]), bad_index
	]:
		assert_ne(PSDeltaCodec.validate_raw(p), "", "rejects %s" % [p.slice(0, 8)])
		assert_false(store.apply_server_entry(C, 9, p)[0])
	assert_eq(store.get_chunk(C).density, gen, "nothing applied")
	assert_eq(store.get_chunk(C).version, 0)


func test_zstd_frames_decompress() -> void:
	var raw := _sparse([[1, 2, 3], [4, 5, 6]])
	var frame := raw.compress(FileAccess.COMPRESSION_ZSTD)
	assert_eq(PSDeltaCodec.decompress(frame), raw)
	assert_eq(PSDeltaCodec.decompress(raw), PackedByteArray(), "not a zstd frame")
