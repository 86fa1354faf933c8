extends PSTestCase
## PSGenPlanet and PSGenEncoding against the reference's golden chunks (chunks.json):
## surface (equator, pole, negative coordinates), core, open air and a cave chunk. Each
## compares the lattice fields bit for bit, then the canonical encoding byte for byte
## (naming the first differing voxel), the resources and the hash.

const Golden := preload("res://tests/test_gen_golden.gd")
const HEADER := 36
const VOL := 32768

var _chunks: Array = []


func before_all() -> void:
	_chunks = Golden.load_golden("chunks.json")


func test_golden_labels_cover_the_cases() -> void:
	var labels := PackedStringArray()
	for v: Dictionary in _chunks:
		labels.append(v["label"])
	for want in ["surface", "surface_pole", "surface_negative", "core", "open_air", "cave"]:
		assert_true(want in labels, "golden chunk %s present" % want)


func test_lattice_fields() -> void:
	for v: Dictionary in _chunks:
		var c := Golden.as_ints(v["chunk"])
		var p := PSGenPlanet.field_params(Golden.as_int(v["world_seed"]), Golden.as_int(v["planet"]))
		var lat := PSGenPlanet.compute_lattice(p, c[0], c[1], c[2])
		var g: Dictionary = v["lattice"]
		var label: String = v["label"]
		assert_eq(Golden.compare_bits(lat.density, g["density"], label + " density"), "")
		assert_eq(Golden.compare_bits(lat.depth, g["depth"], label + " depth"), "")
		assert_eq(Array(lat.biome), _floats_to_ints(g["biome"]), label + " biome")
		assert_eq(Array(lat.ore), _floats_to_ints(g["ore"]), label + " ore")
		assert_eq(Array(lat.rock), _floats_to_ints(g["rock"]), label + " rock")


func test_encoding_and_hash() -> void:
	for v: Dictionary in _chunks:
		var chunk := _generate(v)
		var label: String = v["label"]
		var mine := PSGenEncoding.encode_chunk(chunk)
		var want := (v["encoding_hex"] as String).hex_decode()
		assert_eq(_first_difference(mine, want), "", label)
		assert_eq(PSGenEncoding.chunk_hash(chunk), v["hash"], label + " hash")


func test_resources() -> void:
	for v: Dictionary in _chunks:
		var chunk := _generate(v)
		var got: Array = []
		for n in chunk.resources:
			got.append(n.to_dict())
		var want: Array = []
		for n: Dictionary in v["resources"]:
			want.append({
				"index": int(n["index"]),
				"type": int(n["type"]),
				"quantity": int(n["quantity"]),
				"voxel": _floats_to_ints(n["voxel"]),
				"position_m": n["position_m"],
			})
		assert_eq(JSON.stringify(got, "", true, true), JSON.stringify(want, "", true, true),
			v["label"])


func test_fast_voxel_stage_matches_full_upsampling() -> void:
	# generate_chunk's z pass shortcut against the reference-shaped upsample().
	for v: Dictionary in _chunks:
		var chunk := _generate(v)
		var c := chunk.coord
		var p := PSGenPlanet.field_params(chunk.world_seed, chunk.planet_index)
		var lat := PSGenPlanet.compute_lattice(p, c.x, c.y, c.z)
		var d := PSGenPlanet.upsample(lat.density)
		var bad := -1
		for i in VOL:
			if PSGenPlanet.quantize_density(d[i]) != chunk.density_at(i):
				bad = i
				break
		assert_eq(bad, -1, "%s: first voxel whose density differs" % v["label"])


func test_decode_round_trip() -> void:
	var v: Dictionary = _chunks[0]
	var chunk := _generate(v)
	var bytes := PSGenEncoding.encode_chunk(chunk)
	var back := PSGenEncoding.decode_chunk(bytes)
	assert_not_null(back)
	assert_eq(PSGenEncoding.encode_chunk(back), bytes)


func test_chunk_independent_of_generation_order() -> void:
	var v: Dictionary = _chunks[0]
	var first := PSGenEncoding.chunk_hash(_generate(v))
	var c := Golden.as_ints(v["chunk"])
	PSGenPlanet.generate_chunk(
		Golden.as_int(v["world_seed"]), Golden.as_int(v["planet"]), c[0] + 1, c[1], c[2]
	)
	assert_eq(PSGenEncoding.chunk_hash(_generate(v)), first)


func _generate(v: Dictionary) -> PSGenPlanet.Chunk:
	var c := Golden.as_ints(v["chunk"])
	return PSGenPlanet.generate_chunk(
		Golden.as_int(v["world_seed"]), Golden.as_int(v["planet"]), c[0], c[1], c[2]
	)


static func _floats_to_ints(values: Array) -> Array:
	var out: Array = []
	for x: Variant in values:
		out.append(int(x))
	return out


## "" if equal, else where the encodings first differ (header, voxel or resources).
static func _first_difference(mine: PackedByteArray, want: PackedByteArray) -> String:
	var n := mini(mine.size(), want.size())
	for i in n:
		if mine[i] != want[i]:
			if i < HEADER:
				return "header byte %d: got %d, reference %d" % [i, mine[i], want[i]]
			var what := "density"
			var idx := i - HEADER
			if idx >= VOL:
				what = "material"
				idx -= VOL
			if idx >= VOL:
				return "resource bytes differ at offset %d" % i
			return (
				"%s of voxel %d (x=%d, y=%d, z=%d): got %d, reference %d"
				% [what, idx, idx >> 10, (idx >> 5) & 31, idx & 31, mine[i], want[i]]
			)
	if mine.size() != want.size():
		return "encoding length %d, reference %d" % [mine.size(), want.size()]
	return ""
