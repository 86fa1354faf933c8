class_name PSGenHashing
extends RefCounted
## Portable integer hashing and a counter-based PRNG (port of shared_gen/hashing.py).
##
## GDScript ints are int64 and wrap on overflow; every product is reduced with
## [code]& MASK32[/code] exactly where the reference reduces it, so the low 32 bits agree
## with Python's exact arithmetic. Right shifts are only applied to values already masked
## to [code][0, 2**32)[/code]; negative inputs are reduced with [code]& MASK32[/code] first.
##
## [method hash_ints] is MurmurHash3 x86_32 (hash seed 0) over the 32-bit words
## [code][seed_lo, seed_hi, v0, v1, ...][/code]; [method noise_hash] is FastNoiseLite's
## lattice hash. [PSGenHashing.Rng] is counter based: draw n of the stream keyed by
## (seed, key) is [code]hash_ints(seed, key + [n])[/code].

const MASK32 := 0xFFFFFFFF
const C1 := 0xCC9E2D51
const C2 := 0x1B873593
## FastNoiseLite's lattice primes.
const PRIME_X := 501125321
const PRIME_Y := 1136930381
const PRIME_Z := 1720413743
const NOISE_MULT := 0x27D4EB2D

## Salt of planet seeds ("PLNT").
const SALT_PLANET := 0x504C4E54
## Salt of chunk seeds ("CHNK").
const SALT_CHUNK := 0x43484E4B


## Counter-based PRNG: draw n is [code]hash_ints(seed, key + [n])[/code].
## The stream depends only on (seed, key). Not thread-safe per instance (the counter is
## mutable): create one per task.
class Rng:
	extends RefCounted

	var seed: int
	var key: PackedInt64Array
	var counter: int = 0
	var _words: PackedInt64Array

	func _init(p_seed: int, p_key: PackedInt64Array = PackedInt64Array()) -> void:
		seed = p_seed
		key = p_key
		_words = p_key.duplicate()
		_words.append(0)

	## Next unsigned 32-bit value of the stream.
	func next_u32() -> int:
		_words[_words.size() - 1] = counter
		var v: int = PSGenHashing.hash_ints(seed, _words)
		counter += 1
		return v

	## Uniform float in [0, 1): u32 / 2**32 (exact).
	func next_float() -> float:
		return next_u32() / 4294967296.0

	## Uniform float in [lo, hi): lo + (hi - lo) * u.
	func uniform(lo: float, hi: float) -> float:
		return lo + (hi - lo) * next_float()

	## Integer in [0, n) for 1 <= n < 2**31: (u32 * n) >> 32 (Lemire). -1 on a bad n.
	func below(n: int) -> int:
		if n < 1 or n >= 2147483648:
			push_error("below() needs 1 <= n < 2**31, got %d" % n)
			return -1
		return (next_u32() * n) >> 32

	## Index picked with probability weights[i] / sum(weights) (positive ints).
	func weighted(weights: PackedInt64Array) -> int:
		return PSGenHashing.pick_weighted(next_u32(), weights)


## Rotate a 32-bit value left by r bits (0 < r < 32).
static func rotl32(x: int, r: int) -> int:
	return ((x << r) | (x >> (32 - r))) & MASK32


## MurmurHash3's 32-bit finalizer (avalanche). h must be in [0, 2**32).
static func fmix32(h: int) -> int:
	h ^= h >> 16
	h = (h * 0x85EBCA6B) & MASK32
	h ^= h >> 13
	h = (h * 0xC2B2AE35) & MASK32
	h ^= h >> 16
	return h


## Hash a seed and any number of integers to an unsigned 32-bit int.
## [param seed]: non-negative int64, split into its low and high 32-bit words.
## [param values]: any ints, each reduced to its low 32 bits (two's complement).
## Returns MurmurHash3_x86_32 (hash seed 0) in [0, 2**32); -1 (and an error) if seed < 0.
static func hash_ints(seed: int, values: PackedInt64Array = PackedInt64Array()) -> int:
	if seed < 0:
		push_error("seed must be non-negative, got %d" % seed)
		return -1
	var h := _mix_word(0, seed & MASK32)
	h = _mix_word(h, (seed >> 32) & MASK32)
	for v in values:
		h = _mix_word(h, v & MASK32)
	h ^= (values.size() + 2) * 4
	return fmix32(h)


## One MurmurHash3 body step: mix word k (in [0, 2**32)) into the state h.
static func _mix_word(h: int, k: int) -> int:
	k = (k * C1) & MASK32
	k = ((k << 15) | (k >> 17)) & MASK32
	k = (k * C2) & MASK32
	h ^= k
	h = ((h << 13) | (h >> 19)) & MASK32
	return (h * 5 + 0xE6546B64) & MASK32


## Seed of planet [param index] (0-based orbit order) of the system [param system_seed]: u32.
static func get_planet_seed(system_seed: int, index: int) -> int:
	return hash_ints(system_seed, PackedInt64Array([SALT_PLANET, index]))


## Seed of chunk (cx, cy, cz) (chunk coordinates, not metres) of a planet: u32.
static func get_chunk_seed(planet_seed: int, cx: int, cy: int, cz: int) -> int:
	return hash_ints(planet_seed, PackedInt64Array([SALT_CHUNK, cx, cy, cz]))


## FastNoiseLite lattice hash of one lattice point. [param seed]: u32 noise seed;
## xp, yp, zp: (i * PRIME_*) & MASK32. Returns an int in [0, 2**32).
static func noise_hash(seed: int, xp: int, yp: int, zp: int) -> int:
	var h: int = (seed ^ xp ^ yp ^ zp) & MASK32
	h = (h * NOISE_MULT) & MASK32
	return h ^ (h >> 15)


## Map a u32 to an index with probability proportional to integer [param weights]:
## t = (u32 * total) >> 32, then the first index whose running sum exceeds t.
## Returns -1 (and an error) if the weights do not sum to a positive value.
static func pick_weighted(u32: int, weights: PackedInt64Array) -> int:
	var total := 0
	for w in weights:
		total += w
	if total <= 0:
		push_error("weights must sum to a positive value")
		return -1
	var t: int = (u32 * total) >> 32
	var acc := 0
	for i in weights.size():
		acc += weights[i]
		if t < acc:
			return i
	return -1
