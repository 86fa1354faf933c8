class_name PSGenNoise
extends RefCounted
## Gradient (Perlin) noise in 2D and 3D and fractal Brownian motion (port of
## shared_gen/noise.py), scalar float64.
##
## Ken Perlin's improved noise (quintic fade, the 12 cube-edge gradients padded to 16,
## blend along x, then y, then z with [code]lerp(a, b, t) = a + t * (b - a)[/code]); the
## permutation table is FastNoiseLite's lattice hash (inlined here from
## [method PSGenHashing.noise_hash]). Only + - * /, floor and comparisons, each in the
## reference's order, so IEEE-754 doubles give the reference's bits. The reference is
## vectorised over numpy arrays; this port evaluates one point per call.

const MASK32 := 0xFFFFFFFF
const PRIME_X := 501125321
const PRIME_Y := 1136930381
const PRIME_Z := 1720413743
const NOISE_MULT := 0x27D4EB2D

## Improved-Perlin gradients (12 cube edges + 4 repeats), indexed by hash & 15.
const GRAD3_X: PackedFloat64Array = [
	1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0,
	0.0, 0.0, 0.0, 0.0, 1.0, 0.0, -1.0, 0.0,
]
const GRAD3_Y: PackedFloat64Array = [
	1.0, 1.0, -1.0, -1.0, 0.0, 0.0, 0.0, 0.0,
	1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0,
]
const GRAD3_Z: PackedFloat64Array = [
	0.0, 0.0, 0.0, 0.0, 1.0, 1.0, -1.0, -1.0,
	1.0, 1.0, -1.0, -1.0, 0.0, 1.0, 0.0, -1.0,
]
## 2D gradients (the 8 compass directions, unnormalised), indexed by hash & 7.
const GRAD2_X: PackedFloat64Array = [1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 0.0, 0.0]
const GRAD2_Y: PackedFloat64Array = [1.0, 1.0, -1.0, -1.0, 0.0, 0.0, 1.0, -1.0]


## Perlin's quintic fade t * t * t * (t * (t * 6 - 15) + 10).
static func fade(t: float) -> float:
	return t * t * t * (t * (t * 6.0 - 15.0) + 10.0)


## a + t * (b - a) (this exact order is part of the contract).
static func lerp(a: float, b: float, t: float) -> float:
	return a + t * (b - a)


## Improved Perlin noise at (x, y, z) (one lattice cell = 1 unit); [param seed] is a u32.
## Returns roughly [-1, 1]; 0 at integer points.
static func perlin3(seed: int, x: float, y: float, z: float) -> float:
	var fx := floorf(x)
	var fy := floorf(y)
	var fz := floorf(z)
	var tx := x - fx
	var ty := y - fy
	var tz := z - fz
	var ix := int(fx)
	var iy := int(fy)
	var iz := int(fz)
	var x0: int = (ix * PRIME_X) & MASK32
	var y0: int = (iy * PRIME_Y) & MASK32
	var z0: int = (iz * PRIME_Z) & MASK32
	var x1: int = ((ix + 1) * PRIME_X) & MASK32
	var y1: int = ((iy + 1) * PRIME_Y) & MASK32
	var z1: int = ((iz + 1) * PRIME_Z) & MASK32
	var tx1 := tx - 1.0
	var ty1 := ty - 1.0
	var tz1 := tz - 1.0
	# FastNoiseLite hash (seed ^ xp ^ yp ^ zp) * NOISE_MULT, h ^ (h >> 15); the xor terms
	# are grouped (exact: xor is associative and every term is already below 2**32).
	var sx0: int = seed ^ x0
	var sx1: int = seed ^ x1
	var y0z0: int = y0 ^ z0
	var y1z0: int = y1 ^ z0
	var y0z1: int = y0 ^ z1
	var y1z1: int = y1 ^ z1
	var h: int
	var g: int
	h = (((sx0 ^ y0z0) & MASK32) * NOISE_MULT) & MASK32
	g = (h ^ (h >> 15)) & 15
	var d000: float = GRAD3_X[g] * tx + GRAD3_Y[g] * ty + GRAD3_Z[g] * tz
	h = (((sx1 ^ y0z0) & MASK32) * NOISE_MULT) & MASK32
	g = (h ^ (h >> 15)) & 15
	var d100: float = GRAD3_X[g] * tx1 + GRAD3_Y[g] * ty + GRAD3_Z[g] * tz
	h = (((sx0 ^ y1z0) & MASK32) * NOISE_MULT) & MASK32
	g = (h ^ (h >> 15)) & 15
	var d010: float = GRAD3_X[g] * tx + GRAD3_Y[g] * ty1 + GRAD3_Z[g] * tz
	h = (((sx1 ^ y1z0) & MASK32) * NOISE_MULT) & MASK32
	g = (h ^ (h >> 15)) & 15
	var d110: float = GRAD3_X[g] * tx1 + GRAD3_Y[g] * ty1 + GRAD3_Z[g] * tz
	h = (((sx0 ^ y0z1) & MASK32) * NOISE_MULT) & MASK32
	g = (h ^ (h >> 15)) & 15
	var d001: float = GRAD3_X[g] * tx + GRAD3_Y[g] * ty + GRAD3_Z[g] * tz1
	h = (((sx1 ^ y0z1) & MASK32) * NOISE_MULT) & MASK32
	g = (h ^ (h >> 15)) & 15
	var d101: float = GRAD3_X[g] * tx1 + GRAD3_Y[g] * ty + GRAD3_Z[g] * tz1
	h = (((sx0 ^ y1z1) & MASK32) * NOISE_MULT) & MASK32
	g = (h ^ (h >> 15)) & 15
	var d011: float = GRAD3_X[g] * tx + GRAD3_Y[g] * ty1 + GRAD3_Z[g] * tz1
	h = (((sx1 ^ y1z1) & MASK32) * NOISE_MULT) & MASK32
	g = (h ^ (h >> 15)) & 15
	var d111: float = GRAD3_X[g] * tx1 + GRAD3_Y[g] * ty1 + GRAD3_Z[g] * tz1
	var u: float = tx * tx * tx * (tx * (tx * 6.0 - 15.0) + 10.0)
	var v: float = ty * ty * ty * (ty * (ty * 6.0 - 15.0) + 10.0)
	var w: float = tz * tz * tz * (tz * (tz * 6.0 - 15.0) + 10.0)
	var n00: float = d000 + u * (d100 - d000)
	var n10: float = d010 + u * (d110 - d010)
	var n01: float = d001 + u * (d101 - d001)
	var n11: float = d011 + u * (d111 - d011)
	var n0: float = n00 + v * (n10 - n00)
	var n1: float = n01 + v * (n11 - n01)
	return n0 + w * (n1 - n0)


## 2D improved Perlin noise at (x, y); the lattice hash uses zp = 0.
static func perlin2(seed: int, x: float, y: float) -> float:
	var fx := floorf(x)
	var fy := floorf(y)
	var tx := x - fx
	var ty := y - fy
	var ix := int(fx)
	var iy := int(fy)
	var x0: int = (ix * PRIME_X) & MASK32
	var y0: int = (iy * PRIME_Y) & MASK32
	var x1: int = ((ix + 1) * PRIME_X) & MASK32
	var y1: int = ((iy + 1) * PRIME_Y) & MASK32
	var tx1 := tx - 1.0
	var ty1 := ty - 1.0
	var d00 := _grad2(PSGenHashing.noise_hash(seed, x0, y0, 0), tx, ty)
	var d10 := _grad2(PSGenHashing.noise_hash(seed, x1, y0, 0), tx1, ty)
	var d01 := _grad2(PSGenHashing.noise_hash(seed, x0, y1, 0), tx, ty1)
	var d11 := _grad2(PSGenHashing.noise_hash(seed, x1, y1, 0), tx1, ty1)
	var u := fade(tx)
	var v := fade(ty)
	return lerp(lerp(d00, d10, u), lerp(d01, d11, u), v)


static func _grad2(h: int, dx: float, dy: float) -> float:
	var k: int = h & 7
	return GRAD2_X[k] * dx + GRAD2_Y[k] * dy


## Sum of the octave amplitudes 1 + gain + gain*gain + ... (added in that order).
static func fbm_norm(octaves: int, gain: float) -> float:
	var amp := 1.0
	var norm := 0.0
	for _o in octaves:
		norm += amp
		amp *= gain
	return norm


## Fractal Brownian motion of [method perlin3], normalised by [method fbm_norm].
## Octave o uses seed (seed + o) & MASK32, frequency lacunarity**o and amplitude gain**o
## (built by repeated multiplication); the sum starts at 0.0 and adds octaves in order.
static func fbm3(
	seed: int,
	x: float,
	y: float,
	z: float,
	octaves: int,
	lacunarity: float = 2.0,
	gain: float = 0.5
) -> float:
	var total := 0.0
	var amp := 1.0
	var freq := 1.0
	var norm := 0.0  # fbm_norm(octaves, gain), accumulated in the same order
	for o in octaves:
		total = total + amp * perlin3((seed + o) & MASK32, x * freq, y * freq, z * freq)
		norm += amp
		amp *= gain
		freq *= lacunarity
	return total / norm


## Fractal Brownian motion of [method perlin2]; same conventions as [method fbm3].
static func fbm2(
	seed: int, x: float, y: float, octaves: int, lacunarity: float = 2.0, gain: float = 0.5
) -> float:
	var total := 0.0
	var amp := 1.0
	var freq := 1.0
	for o in octaves:
		total = total + amp * perlin2((seed + o) & MASK32, x * freq, y * freq)
		amp *= gain
		freq *= lacunarity
	return total / fbm_norm(octaves, gain)
