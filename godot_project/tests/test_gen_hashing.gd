extends PSTestCase
## PSGenHashing and PSGenNames against the reference's golden vectors (hashing.json).

const Golden := preload("res://tests/test_gen_golden.gd")

var _data: Dictionary


func before_all() -> void:
	_data = Golden.load_golden("hashing.json")


func test_hash_ints() -> void:
	for case: Dictionary in _data["hash_ints"]:
		var seed := Golden.as_int(case["seed"])
		var values := Golden.as_ints(case["values"])
		assert_eq(
			PSGenHashing.hash_ints(seed, values), Golden.as_int(case["hash"]),
			"hash_ints(%d, %s)" % [seed, values]
		)


func test_planet_and_chunk_seeds() -> void:
	for case: Dictionary in _data["planet_seed"]:
		var s := Golden.as_int(case["system_seed"])
		var i := Golden.as_int(case["index"])
		assert_eq(PSGenHashing.get_planet_seed(s, i), Golden.as_int(case["seed"]), "planet %d" % s)
	for case: Dictionary in _data["chunk_seed"]:
		var c := Golden.as_ints(case["chunk"])
		var p := Golden.as_int(case["planet_seed"])
		assert_eq(
			PSGenHashing.get_chunk_seed(p, c[0], c[1], c[2]), Golden.as_int(case["seed"]),
			"chunk seed %d %s" % [p, c]
		)


func test_rng_streams() -> void:
	for s: Dictionary in _data["rng"]:
		var seed := Golden.as_int(s["seed"])
		var key := Golden.as_ints(s["key"])
		var rng := PSGenHashing.Rng.new(seed, key)
		var u32 := PackedInt64Array()
		for _n in 8:
			u32.append(rng.next_u32())
		assert_eq(u32, Golden.as_ints(s["u32"]), "u32 stream %d %s" % [seed, key])
		rng = PSGenHashing.Rng.new(seed, key)
		var below := PackedInt64Array()
		for n in Golden.as_ints(s["below_n"]):
			below.append(rng.below(n))
		assert_eq(below, Golden.as_ints(s["below"]), "below stream %d %s" % [seed, key])
		rng = PSGenHashing.Rng.new(seed, key)
		var floats := PackedFloat64Array()
		for _n in 4:
			floats.append(rng.next_float())
		assert_eq(Golden.compare_bits(floats, s["float"], "next_float"), "")


func test_pick_weighted_edges() -> void:
	assert_eq(PSGenHashing.pick_weighted(0, PackedInt64Array([1, 1])), 0)
	assert_eq(PSGenHashing.pick_weighted(0xFFFFFFFF, PackedInt64Array([1, 1])), 1)
	assert_eq(PSGenHashing.pick_weighted(0x80000000, PackedInt64Array([1, 1])), 1)
	assert_eq(PSGenHashing.pick_weighted(0x7FFFFFFF, PackedInt64Array([1, 1])), 0)


func test_names() -> void:
	for case: Dictionary in _data["names"]:
		var seed := Golden.as_int(case["seed"])
		var rng := PSGenHashing.Rng.new(seed, Golden.as_ints(case["key"]))
		var names := PackedStringArray()
		for _n in 5:
			names.append(PSGenNames.make_name(rng, 2, 3))
		assert_eq(names, PackedStringArray(case["names"]), "names of seed %d" % seed)
