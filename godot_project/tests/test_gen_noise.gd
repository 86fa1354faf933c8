extends PSTestCase
## PSGenNoise against the reference's golden vectors (noise.json), bit for bit.

const Golden := preload("res://tests/test_gen_golden.gd")
const SEEDS: Array[int] = [0, 1337, 4294967295]

var _data: Dictionary
var _x := PackedFloat64Array()
var _y := PackedFloat64Array()
var _z := PackedFloat64Array()


func before_all() -> void:
	_data = Golden.load_golden("noise.json")
	var pts: Dictionary = _data["points"]
	for axis in ["x", "y", "z"]:
		var out := Golden.floats_from_bits(pts[axis])
		assert_eq(Golden.compare_bits(out, pts[axis], "points." + axis), "")
		if axis == "x":
			_x = out
		elif axis == "y":
			_y = out
		else:
			_z = out


func test_perlin3() -> void:
	for seed in SEEDS:
		var out := PackedFloat64Array()
		for i in _x.size():
			out.append(PSGenNoise.perlin3(seed, _x[i], _y[i], _z[i]))
		var key := "perlin3_%d" % seed
		assert_eq(Golden.compare_bits(out, _data[key], key), "")


func test_perlin2() -> void:
	for seed in SEEDS:
		var out := PackedFloat64Array()
		for i in _x.size():
			out.append(PSGenNoise.perlin2(seed, _x[i], _y[i]))
		var key := "perlin2_%d" % seed
		assert_eq(Golden.compare_bits(out, _data[key], key), "")


func test_fbm3() -> void:
	for seed in SEEDS:
		var out := PackedFloat64Array()
		for i in _x.size():
			out.append(PSGenNoise.fbm3(seed, _x[i] * 0.01, _y[i] * 0.01, _z[i] * 0.01, 5))
		var key := "fbm3_%d_5" % seed
		assert_eq(Golden.compare_bits(out, _data[key], key), "")


func test_fbm2() -> void:
	for seed in SEEDS:
		var out := PackedFloat64Array()
		for i in _x.size():
			out.append(PSGenNoise.fbm2(seed, _x[i] * 0.01, _y[i] * 0.01, 3, 2.0, 0.5))
		var key := "fbm2_%d_3" % seed
		assert_eq(Golden.compare_bits(out, _data[key], key), "")


func test_zero_at_integer_points() -> void:
	assert_eq(PSGenNoise.perlin3(7, 3.0, -4.0, 5.0), 0.0)
	assert_eq(PSGenNoise.perlin2(7, -3.0, 4.0), 0.0)
