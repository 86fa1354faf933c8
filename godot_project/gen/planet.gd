class_name PSGenPlanet
extends RefCounted
## The planet voxel field: density and material of every voxel of a chunk, resource nodes
## (port of shared_gen/planet.py).
##
## Global voxel g (an int per axis) is the point g * VOXEL_SIZE metres from the planet's
## centre; chunk c holds the voxels 32 * c + i, i in 0..31 on each axis.
##
## 1. Lattice stage ([method compute_lattice]): the expensive fields on the 9^3 lattice of
##    global voxels that are multiples of 4 (both faces included). One point at a time; a
##    point evaluates exactly the noises the reference's masks select for it.
## 2. Voxel stage: density and depth interpolated to 32^3 voxels, separable (along x,
##    then y, then z, [code]a + t * (b - a)[/code]); density quantized to int8; materials
##    from the depth and the nearest lattice point's biome / ore / rock (index
##    [code](i + 2) >> 2[/code]). [method generate_chunk] runs the x and y passes in full
##    and the z pass only where a value is used (a z segment whose two ends are equal
##    interpolates to that value), which gives the reference's bytes.
##
## Pure and thread-safe: no shared mutable state (the tables are constants), so chunks can
## be generated in WorkerThreadPool tasks. All float math is float64 + - * /, floor, sqrt.

const C := preload("res://gen/constants.gd")
const B := preload("res://gen/biomes.gd")
const MASK32 := 0xFFFFFFFF

# ---- field constants (part of the contract) ------------------------------------------
const TERRAIN_FREQ := 1.0 / 128.0  # per metre, on the reference sphere
const TERRAIN_OCTAVES := 4
const OVERHANG_FREQ := 1.0 / 16.0
const OVERHANG_AMP := 3.0  # metres
const OVERHANG_BAND := 6.0  # metres either side of the terrain surface
const CAVE_FREQ := 1.0 / 32.0
const CAVE_THRESHOLD := 0.1
const CAVE_SCALE := 24.0  # metres per noise unit
const CAVE_MAX_DEPTH := 96.0  # metres below the reference radius
const CLIMATE_FREQ := 1.0 / 256.0
const TEMP_NOISE_C := 8.0
const LAPSE_C_PER_M := 0.05
const ORE_FREQ := 1.0 / 8.0
const ORE_THRESHOLD := 0.45
const DEPTH_MIN := -8.0
const DEPTH_MAX := 16.0
const AIR_MARGIN := 8.0  # lattice points with r >= R + A + 8 are air
const DEEP_MARGIN := 16.0  # lattice points with r <= R - A - 16 are deep
const BIOME_DEPTH_TOP := 12.0
const SURFACE_LAYER_M := 1.0
const SUBSOIL_LAYER_M := 4.0
const RESOURCE_DEPTH_M := 2.0
const RESOURCE_CANDIDATES_PER_RICHNESS := 16
## Radial depth limits of the strata: [[limit m, material], ...]; below: mantle rock.
const STRATA: Array = [[40.0, C.STONE], [100.0, C.GRANITE]]

# ---- noise seed salts ----------------------------------------------------------------
const SALT_TERRAIN := 1
const SALT_OVERHANG := 2
const SALT_CAVE_A := 3
const SALT_CAVE_B := 4
const SALT_TEMPERATURE := 5
const SALT_MOISTURE := 6
const SALT_ORE := 7
const SALT_ORE_TYPE := 8
const SALT_RESOURCES := 9

const _N := 9  # lattice points per axis
const _N2 := 81
const _LATTICE_SIZE := 729
const _S := 32  # voxels per axis
## Interpolation weight of voxel index i: (i & 3) * 0.25.
const _T: PackedFloat64Array = [
	0.0, 0.25, 0.5, 0.75, 0.0, 0.25, 0.5, 0.75, 0.0, 0.25, 0.5, 0.75, 0.0, 0.25, 0.5, 0.75,
	0.0, 0.25, 0.5, 0.75, 0.0, 0.25, 0.5, 0.75, 0.0, 0.25, 0.5, 0.75, 0.0, 0.25, 0.5, 0.75,
]


## Everything the voxel field of one planet depends on (immutable once built; share it
## between threads freely). Beside the reference's fields it holds per-planet tables
## derived from [constant PSGenBiomes.BIOMES] (read-only).
class FieldParams:
	extends RefCounted
	var planet_seed: int
	var radius: float
	var amplitude: float
	var temperature_min_c: float
	var temperature_max_c: float
	var moisture_bias: float
	var biome_ids: PackedInt64Array
	var richness: float
	var grid_radius: int
	var seed_terrain: int
	var seed_overhang: int
	var seed_cave_a: int
	var seed_cave_b: int
	var seed_temperature: int
	var seed_moisture: int
	var seed_ore: int
	var seed_ore_type: int
	## Centroid temperature / moisture of each of [member biome_ids], in that order.
	var biome_temperature: PackedFloat64Array
	var biome_moisture: PackedFloat64Array
	## Material by biome id (256 entries, 0 past the table).
	var surface_mat: PackedByteArray
	var subsoil_mat: PackedByteArray
	var rock_mat: PackedByteArray
	## Resource weights by biome id: [PackedInt64Array ids, PackedInt64Array weights].
	var resource_weights: Array = []

	static func from_planet(planet: PSGenSolarSystem.Planet) -> FieldParams:
		var p := FieldParams.new()
		var s := planet.seed
		p.planet_seed = s
		p.radius = float(planet.radius_m)
		p.amplitude = planet.terrain_amplitude_m
		p.temperature_min_c = planet.temperature_min_c
		p.temperature_max_c = planet.temperature_max_c
		p.moisture_bias = planet.moisture_bias
		p.biome_ids = planet.biome_ids
		p.richness = planet.resource_richness
		p.grid_radius = planet.grid_radius_chunks()
		p.seed_terrain = PSGenHashing.hash_ints(s, PackedInt64Array([SALT_TERRAIN]))
		p.seed_overhang = PSGenHashing.hash_ints(s, PackedInt64Array([SALT_OVERHANG]))
		p.seed_cave_a = PSGenHashing.hash_ints(s, PackedInt64Array([SALT_CAVE_A]))
		p.seed_cave_b = PSGenHashing.hash_ints(s, PackedInt64Array([SALT_CAVE_B]))
		p.seed_temperature = PSGenHashing.hash_ints(s, PackedInt64Array([SALT_TEMPERATURE]))
		p.seed_moisture = PSGenHashing.hash_ints(s, PackedInt64Array([SALT_MOISTURE]))
		p.seed_ore = PSGenHashing.hash_ints(s, PackedInt64Array([SALT_ORE]))
		p.seed_ore_type = PSGenHashing.hash_ints(s, PackedInt64Array([SALT_ORE_TYPE]))
		for bid in p.biome_ids:
			p.biome_temperature.append(B.BIOMES[bid]["temperature_c"])
			p.biome_moisture.append(B.BIOMES[bid]["moisture"])
		p.surface_mat.resize(256)
		p.subsoil_mat.resize(256)
		p.rock_mat.resize(256)
		for b: Dictionary in B.BIOMES:
			var id: int = b["id"]
			p.surface_mat[id] = b["surface"]
			p.subsoil_mat[id] = b["subsoil"]
			p.rock_mat[id] = b["rock"]
			var ids := PackedInt64Array()
			var weights := PackedInt64Array()
			for pair: Array in b["resource_weights"]:
				ids.append(pair[0])
				weights.append(pair[1])
			p.resource_weights.append([ids, weights])
		return p


## Lattice-stage output for one chunk; arrays of 729 values indexed (i * 9 + j) * 9 + k
## ([x, y, z], z fastest) like the reference's (9, 9, 9) arrays raveled.
class LatticeFields:
	extends RefCounted
	## Metres, positive = solid, clamped to [-4, 4].
	var density := PackedFloat64Array()
	## Metres below the terrain surface (negative above), clamped to [-8, 16].
	var depth := PackedFloat64Array()
	## Biome id, 255 where not evaluated (far from the surface).
	var biome := PackedByteArray()
	## Ore material id, 0 = none.
	var ore := PackedByteArray()
	## Rock material id.
	var rock := PackedByteArray()
	## Terrain height h in metres, NaN where not evaluated (diagnostics).
	var terrain_height := PackedFloat64Array()


## A surface resource deposit: candidate index in the chunk's stream, resource id,
## quantity (20-100), voxel index within the chunk and world position in metres.
class ResourceNode:
	extends RefCounted
	var index: int
	var resource_type: int
	var quantity: int
	var voxel: Vector3i
	var position_m: PackedFloat64Array

	func to_dict() -> Dictionary:
		return {
			"index": index,
			"type": resource_type,
			"quantity": quantity,
			"voxel": [voxel.x, voxel.y, voxel.z],
			"position_m": [position_m[0], position_m[1], position_m[2]],
		}


## A generated chunk. [member density] holds int8 values as bytes (two's complement;
## solid > 0, 32 units per metre), [member material] uint8 ids (0 = air); both 32^3,
## index (x * 32 + y) * 32 + z.
class Chunk:
	extends RefCounted
	var world_seed: int
	var planet_index: int
	var planet_seed: int
	var coord: Vector3i
	var density: PackedByteArray
	var material: PackedByteArray
	var resources: Array[ResourceNode] = []
	## The lattice-stage fields, kept only when asked for (diagnostics), else null.
	var lattice: LatticeFields = null

	## Signed density of voxel index [param idx].
	func density_at(idx: int) -> int:
		var v: int = density[idx]
		return v - 256 if v > 127 else v


## [FieldParams] of a planet, or null (and an error) like [method PSGenSolarSystem.get_planet].
## Not cached: callers that generate many chunks keep the result (it is immutable).
static func field_params(world_seed: int, planet_index: int) -> FieldParams:
	var planet := PSGenSolarSystem.get_planet(world_seed, planet_index)
	if planet == null:
		return null
	return FieldParams.from_planet(planet)


## "" if every chunk coordinate is within +-grid_radius, else the reference's message.
static func check_chunk(params: FieldParams, cx: int, cy: int, cz: int) -> String:
	var g := params.grid_radius
	var coords := [cx, cy, cz]
	var axes := ["x", "y", "z"]
	for a in 3:
		var v: int = coords[a]
		if v < -g or v > g:
			return (
				"chunk %s coordinate %d is outside the planet's grid: |%s| must be <= %d"
				% [axes[a], v, axes[a], g]
			)
	return ""


## World position in metres of lattice index n (0..8) along an axis of chunk coord c.
static func lattice_coord(c: int, n: int) -> float:
	return float(c * C.CHUNK_SIZE + n * C.LATTICE_STEP) * C.VOXEL_SIZE


## Terrain height h in metres at a surface point S (metres, on the reference sphere):
## clamp(A * fbm3(seed_terrain, S * TERRAIN_FREQ, 4 octaves), -A, A).
static func terrain_height(p: FieldParams, sx: float, sy: float, sz: float) -> float:
	var f := TERRAIN_FREQ
	var n := PSGenNoise.fbm3(p.seed_terrain, sx * f, sy * f, sz * f, TERRAIN_OCTAVES)
	return minf(maxf(p.amplitude * n, -p.amplitude), p.amplitude)


## Lattice stage for chunk (cx, cy, cz) (see the reference and docs/generation.md).
static func compute_lattice(p: FieldParams, cx: int, cy: int, cz: int) -> LatticeFields:
	var lat := LatticeFields.new()
	var dens := PackedFloat64Array()
	var depth := PackedFloat64Array()
	var hts := PackedFloat64Array()
	var biome := PackedByteArray()
	var ore := PackedByteArray()
	var rock := PackedByteArray()
	dens.resize(_LATTICE_SIZE)
	depth.resize(_LATTICE_SIZE)
	hts.resize(_LATTICE_SIZE)
	biome.resize(_LATTICE_SIZE)
	ore.resize(_LATTICE_SIZE)
	rock.resize(_LATTICE_SIZE)
	var big_r := p.radius
	var amp := p.amplitude
	var air_r := big_r + amp + AIR_MARGIN
	var deep_r := big_r - amp - DEEP_MARGIN
	var cave_r := big_r - CAVE_MAX_DEPTH
	var tmax := p.temperature_max_c
	var t_span := p.temperature_min_c - p.temperature_max_c
	var moist0 := 0.5 + p.moisture_bias
	var nb := p.biome_ids.size()
	var b_ids := p.biome_ids
	var b_t := p.biome_temperature
	var b_m := p.biome_moisture
	var rock_mat := p.rock_mat
	var s_ov := p.seed_overhang
	var s_ca := p.seed_cave_a
	var s_cb := p.seed_cave_b
	var s_ore := p.seed_ore
	var strata0_limit: float = STRATA[0][0]
	var strata0_mat: int = STRATA[0][1]
	var strata1_limit: float = STRATA[1][0]
	var strata1_mat: int = STRATA[1][1]
	var ax := PackedFloat64Array()
	var ay := PackedFloat64Array()
	var az := PackedFloat64Array()
	for n in _N:
		ax.append(lattice_coord(cx, n))
		ay.append(lattice_coord(cy, n))
		az.append(lattice_coord(cz, n))
	var idx := 0
	for i in _N:
		var x: float = ax[i]
		for j in _N:
			var y: float = ay[j]
			for k in _N:
				var z: float = az[k]
				var r := sqrt(x * x + y * y + z * z)
				var sd: float
				var h := NAN
				if r >= air_r:
					sd = DEPTH_MIN
				elif r <= deep_r:
					sd = DEPTH_MAX
				else:
					var kr := big_r / r
					h = terrain_height(p, x * kr, y * kr, z * kr)
					sd = (big_r + h) - r
				hts[idx] = h
				# overhangs: 3D noise added within +-6 m of the terrain surface
				var d1 := sd
				if sd > -OVERHANG_BAND and sd < OVERHANG_BAND:
					var w := 1.0 - absf(sd) / OVERHANG_BAND
					var f := OVERHANG_FREQ
					var n_ov := PSGenNoise.perlin3(s_ov, x * f, y * f, z * f)
					d1 = sd + OVERHANG_AMP * w * n_ov
				# caves: spaghetti tunnels where two noise fields are both near zero
				var d := d1
				if d1 > -C.DENSITY_CLAMP and r > cave_r:
					var f := CAVE_FREQ
					var xc := x * f
					var yc := y * f
					var zc := z * f
					var n1 := absf(PSGenNoise.perlin3(s_ca, xc, yc, zc))
					var n2 := absf(PSGenNoise.perlin3(s_cb, xc, yc, zc))
					var cave_d := (maxf(n1, n2) - CAVE_THRESHOLD) * CAVE_SCALE
					d = minf(d1, cave_d)
				var den := minf(maxf(d, -C.DENSITY_CLAMP), C.DENSITY_CLAMP)
				var dep := minf(maxf(sd, DEPTH_MIN), DEPTH_MAX)
				dens[idx] = den
				depth[idx] = dep
				# biomes near the surface
				var bid := B.BIOME_NONE
				if dep > DEPTH_MIN and dep < BIOME_DEPTH_TOP:
					var kr := big_r / r
					var f := CLIMATE_FREQ
					var sx := x * kr * f
					var sy := y * kr * f
					var sz := z * kr * f
					var la := absf(y) / r
					var n_t := PSGenNoise.perlin3(p.seed_temperature, sx, sy, sz)
					var n_m := PSGenNoise.perlin3(p.seed_moisture, sx, sy, sz)
					var temp := tmax + t_span * (la * la) + TEMP_NOISE_C * n_t - LAPSE_C_PER_M * h
					var moist := moist0 + 0.5 * n_m
					var best := INF
					bid = 0
					for bi in nb:
						var e1 := (temp - b_t[bi]) / 25.0
						var e2 := (moist - b_m[bi]) / 0.35
						var dist := e1 * e1 + e2 * e2
						if dist < best:
							best = dist
							bid = b_ids[bi]
				biome[idx] = bid
				# rock: the biome's rock to 12 m deep, else radial strata
				var radial := big_r - r
				if bid != B.BIOME_NONE:
					rock[idx] = rock_mat[bid]
				elif radial < strata0_limit:
					rock[idx] = strata0_mat
				elif radial < strata1_limit:
					rock[idx] = strata1_mat
				else:
					rock[idx] = C.MANTLE_ROCK
				# ore veins: a 3D noise threshold; the kind is fixed per 16 m cell and band
				if dep > RESOURCE_DEPTH_M and den > -C.DENSITY_CLAMP:
					var f := ORE_FREQ
					var n_o := PSGenNoise.perlin3(s_ore, x * f, y * f, z * f)
					if n_o > ORE_THRESHOLD:
						ore[idx] = ore_kind(
							p,
							cx * C.CHUNK_SIZE + i * C.LATTICE_STEP,
							cy * C.CHUNK_SIZE + j * C.LATTICE_STEP,
							cz * C.CHUNK_SIZE + k * C.LATTICE_STEP,
							radial
						)
				idx += 1
	lat.density = dens
	lat.depth = depth
	lat.biome = biome
	lat.ore = ore
	lat.rock = rock
	lat.terrain_height = hts
	return lat


## Ore material of a vein at lattice point (global voxel) g: the 16 m cell is
## floor(g / 32) per axis (floor division); pick_weighted(hash_ints(seed_ore_type, cell),
## band weights) with the first band of [constant PSGenBiomes.ORE_BANDS] whose limit
## exceeds the radial depth R - r.
static func ore_kind(p: FieldParams, gx: int, gy: int, gz: int, radial_depth: float) -> int:
	var band: Array = B.ORE_BANDS[B.ORE_BANDS.size() - 1]
	for candidate: Array in B.ORE_BANDS:
		if radial_depth < float(candidate[0]):
			band = candidate
			break
	var mats := PackedInt64Array()
	var weights := PackedInt64Array()
	for pair: Array in band[1]:
		mats.append(pair[0])
		weights.append(pair[1])
	var cell := PackedInt64Array([
		floori(gx / float(C.CHUNK_SIZE)),
		floori(gy / float(C.CHUNK_SIZE)),
		floori(gz / float(C.CHUNK_SIZE)),
	])
	var u := PSGenHashing.hash_ints(p.seed_ore_type, cell)
	return mats[PSGenHashing.pick_weighted(u, weights)]


# ---- voxel stage --------------------------------------------------------------------


## The x and y passes of the separable upsampling of a 729-value lattice field: returns
## 32 * 32 * 9 values indexed (x * 32 + y) * 9 + k (k = lattice index along z).
static func upsample_xy(lattice: PackedFloat64Array) -> PackedFloat64Array:
	var tt := _T
	var s1 := PackedFloat64Array()
	s1.resize(_S * _N2)
	var o := 0
	for i in _S:
		var t: float = tt[i]
		var lo_base: int = (i >> 2) * _N2
		var hi_base: int = lo_base + _N2
		for jk in _N2:
			var lo: float = lattice[lo_base + jk]
			s1[o] = lo + t * (lattice[hi_base + jk] - lo)
			o += 1
	var s2 := PackedFloat64Array()
	s2.resize(_S * _S * _N)
	o = 0
	for i in _S:
		var row: int = i * _N2
		for j in _S:
			var t: float = tt[j]
			var lo_base: int = row + (j >> 2) * _N
			var hi_base: int = lo_base + _N
			for k in _N:
				var lo: float = s1[lo_base + k]
				s2[o] = lo + t * (s1[hi_base + k] - lo)
				o += 1
	return s2


## Trilinear interpolation of a 729-value lattice field to 32^3 (index (x*32+y)*32+z),
## separable: along x ([code]v[a] + t * (v[a + 1] - v[a])[/code], a = i >> 2,
## t = (i & 3) * 0.25), then along y, then along z, as the reference's upsample().
static func upsample(lattice: PackedFloat64Array) -> PackedFloat64Array:
	var tt := _T
	var s2 := upsample_xy(lattice)
	var out := PackedFloat64Array()
	out.resize(C.CHUNK_VOLUME)
	var o := 0
	for row in _S * _S:
		var base: int = row * _N
		for z in _S:
			var lo: float = s2[base + (z >> 2)]
			out[o] = lo + tt[z] * (s2[base + (z >> 2) + 1] - lo)
			o += 1
	return out


## clamp(floor(d * DENSITY_SCALE + 0.5), -127, 127) of density d in metres.
static func quantize_density(d: float) -> int:
	var q := floorf(d * C.DENSITY_SCALE + 0.5)
	return int(clampf(q, -C.DENSITY_MAX_Q, C.DENSITY_MAX_Q))


## Material of a solid voxel (q > 0) whose nearest lattice point has index li and whose
## interpolated depth is [param depth] (only read when that point has a biome). Rules in
## the reference's order: the biome's surface material where depth < 1 m, its subsoil
## where depth < 4 m, else the lattice point's ore if any, else its rock.
static func solid_material(p: FieldParams, lat: LatticeFields, li: int, depth: float) -> int:
	var b: int = lat.biome[li]
	if b != B.BIOME_NONE:
		if depth < SURFACE_LAYER_M:
			return p.surface_mat[b]
		if depth < SUBSOIL_LAYER_M:
			return p.subsoil_mat[b]
	var o: int = lat.ore[li]
	return o if o != 0 else lat.rock[li]


## Resource nodes of a chunk from the stream Rng(get_chunk_seed(...), SALT_RESOURCES):
## floor(richness * 16) candidates; each draws i, j, k (below(32)), a u32 for the type and
## 20 + below(81) for the quantity (five draws, always). A candidate is kept when its
## voxel is solid, less than 2 m below the terrain surface and its nearest lattice point
## has a biome. [param depth_xy] is [method upsample_xy] of the lattice depth.
static func place_resources(
	p: FieldParams,
	cx: int,
	cy: int,
	cz: int,
	lat: LatticeFields,
	density: PackedByteArray,
	depth_xy: PackedFloat64Array
) -> Array[ResourceNode]:
	var rng := PSGenHashing.Rng.new(
		PSGenHashing.get_chunk_seed(p.planet_seed, cx, cy, cz), PackedInt64Array([SALT_RESOURCES])
	)
	var count := floori(p.richness * RESOURCE_CANDIDATES_PER_RICHNESS)
	var nodes: Array[ResourceNode] = []
	for n in count:
		var i := rng.below(_S)
		var j := rng.below(_S)
		var m := rng.below(_S)
		var u := rng.next_u32()
		var qty := 20 + rng.below(81)
		var q: int = density[(i * _S + j) * _S + m]
		if q == 0 or q > 127:
			continue
		var base := (i * _S + j) * _N + (m >> 2)
		var lo: float = depth_xy[base]
		var dep: float = lo + _T[m] * (depth_xy[base + 1] - lo)
		if not dep < RESOURCE_DEPTH_M:
			continue
		var b: int = lat.biome[(((i + 2) >> 2) * _N + ((j + 2) >> 2)) * _N + ((m + 2) >> 2)]
		if b == B.BIOME_NONE:
			continue
		var wt: Array = p.resource_weights[b]
		var ids: PackedInt64Array = wt[0]
		var node := ResourceNode.new()
		node.index = n
		node.resource_type = ids[PSGenHashing.pick_weighted(u, wt[1])]
		node.quantity = qty
		node.voxel = Vector3i(i, j, m)
		node.position_m = PackedFloat64Array([
			(cx * C.CHUNK_SIZE + i) * C.VOXEL_SIZE,
			(cy * C.CHUNK_SIZE + j) * C.VOXEL_SIZE,
			(cz * C.CHUNK_SIZE + m) * C.VOXEL_SIZE,
		])
		nodes.append(node)
	return nodes


## Voxel stage: fills [param chunk]'s density and material from the lattice fields.
## Bit-identical to the reference's upsample + quantize_density + voxel_materials:
## [param dens_xy] and [param depth_xy] are the x and y passes ([method upsample_xy]); the
## z pass runs per 4-voxel segment between lattice values lo and hi with the reference's
## [code]lo + t * (hi - lo)[/code] for t = 0.25, 0.5, 0.75 (t = 0 gives lo itself, up to
## the sign of zero, which quantization and the depth comparisons do not see). A segment
## with lo == hi has one density; if it is air (q <= 0) or solid with no biome at its two
## nearest lattice points, it is written without per-voxel work. [param depth_xy] may be
## empty when no lattice point has a biome (depth is then never read).
static func voxel_stage(
	p: FieldParams,
	lat: LatticeFields,
	dens_xy: PackedFloat64Array,
	depth_xy: PackedFloat64Array,
	chunk: Chunk
) -> void:
	var density := PackedByteArray()
	var material := PackedByteArray()
	density.resize(C.CHUNK_VOLUME)
	material.resize(C.CHUNK_VOLUME)
	var biome := lat.biome
	var surface_mat := p.surface_mat
	var subsoil_mat := p.subsoil_mat
	# solid material of each lattice point when no biome applies: ore, else rock
	var base_mat := PackedByteArray()
	base_mat.resize(_LATTICE_SIZE)
	for li in _LATTICE_SIZE:
		var ore: int = lat.ore[li]
		base_mat[li] = ore if ore != 0 else lat.rock[li]
	var has_depth := not depth_xy.is_empty()
	var q: float
	var dep: float
	var o := 0
	for i in _S:
		var lx: int = ((i + 2) >> 2) * _N2
		for j in _S:
			var row: int = (i * _S + j) * _N
			var lxy: int = lx + ((j + 2) >> 2) * _N
			for c in 8:
				var lo: float = dens_xy[row + c]
				var hi: float = dens_xy[row + c + 1]
				var li: int = lxy + c
				var b0: int = biome[li]
				var b1: int = biome[li + 1]
				var m0: int = base_mat[li]
				var m1: int = base_mat[li + 1]
				if lo == hi:
					q = floorf(lo * 32.0 + 0.5)
					if q < 1.0:
						if q <= -1.0:
							var qb := int(maxf(q, -127.0)) & 0xFF
							density[o] = qb
							density[o + 1] = qb
							density[o + 2] = qb
							density[o + 3] = qb
						o += 4
						continue
					if b0 == B.BIOME_NONE and b1 == B.BIOME_NONE:
						var qs := int(minf(q, 127.0))
						density[o] = qs
						density[o + 1] = qs
						density[o + 2] = qs
						density[o + 3] = qs
						material[o] = m0
						material[o + 1] = m0
						material[o + 2] = m1
						material[o + 3] = m1
						o += 4
						continue
				var dd := hi - lo
				var dlo := 0.0
				var ddep := 0.0
				if has_depth:
					dlo = depth_xy[row + c]
					ddep = depth_xy[row + c + 1] - dlo
				q = floorf((lo) * 32.0 + 0.5)
				if q >= 1.0:
					density[o] = int(minf(q, 127.0))
					if b0 == B.BIOME_NONE:
						material[o] = m0
					else:
						dep = dlo
						if dep < SURFACE_LAYER_M:
							material[o] = surface_mat[b0]
						elif dep < SUBSOIL_LAYER_M:
							material[o] = subsoil_mat[b0]
						else:
							material[o] = m0
				elif q <= -1.0:
					density[o] = int(maxf(q, -127.0)) & 0xFF
				q = floorf((lo + 0.25 * dd) * 32.0 + 0.5)
				if q >= 1.0:
					density[o + 1] = int(minf(q, 127.0))
					if b0 == B.BIOME_NONE:
						material[o + 1] = m0
					else:
						dep = dlo + 0.25 * ddep
						if dep < SURFACE_LAYER_M:
							material[o + 1] = surface_mat[b0]
						elif dep < SUBSOIL_LAYER_M:
							material[o + 1] = subsoil_mat[b0]
						else:
							material[o + 1] = m0
				elif q <= -1.0:
					density[o + 1] = int(maxf(q, -127.0)) & 0xFF
				q = floorf((lo + 0.5 * dd) * 32.0 + 0.5)
				if q >= 1.0:
					density[o + 2] = int(minf(q, 127.0))
					if b1 == B.BIOME_NONE:
						material[o + 2] = m1
					else:
						dep = dlo + 0.5 * ddep
						if dep < SURFACE_LAYER_M:
							material[o + 2] = surface_mat[b1]
						elif dep < SUBSOIL_LAYER_M:
							material[o + 2] = subsoil_mat[b1]
						else:
							material[o + 2] = m1
				elif q <= -1.0:
					density[o + 2] = int(maxf(q, -127.0)) & 0xFF
				q = floorf((lo + 0.75 * dd) * 32.0 + 0.5)
				if q >= 1.0:
					density[o + 3] = int(minf(q, 127.0))
					if b1 == B.BIOME_NONE:
						material[o + 3] = m1
					else:
						dep = dlo + 0.75 * ddep
						if dep < SURFACE_LAYER_M:
							material[o + 3] = surface_mat[b1]
						elif dep < SUBSOIL_LAYER_M:
							material[o + 3] = subsoil_mat[b1]
						else:
							material[o + 3] = m1
				elif q <= -1.0:
					density[o + 3] = int(maxf(q, -127.0)) & 0xFF
				o += 4
	chunk.density = density
	chunk.material = material


## Voxel stage of a chunk whose lattice density is one value everywhere and which has no
## biome (open air, deep rock): every interpolated density is that value (a + t * 0 == a
## up to the sign of zero), and a solid voxel takes its nearest lattice point's ore or
## rock. Same bytes as [method voxel_stage], without per-voxel arithmetic.
static func uniform_voxel_stage(lat: LatticeFields, chunk: Chunk) -> void:
	var q := quantize_density(lat.density[0])
	var density := PackedByteArray()
	density.resize(C.CHUNK_VOLUME)
	density.fill(q & 0xFF)
	var material := PackedByteArray()
	if q <= 0:
		material.resize(C.CHUNK_VOLUME)
	else:
		var rows: Array[PackedByteArray] = []
		for lxy in _N2:  # one 32-voxel z row per nearest (x, y) lattice column
			var r := PackedByteArray()
			r.resize(_S)
			for z in _S:
				var li: int = lxy * _N + ((z + 2) >> 2)
				var ore: int = lat.ore[li]
				r[z] = ore if ore != 0 else lat.rock[li]
			rows.append(r)
		for i in _S:
			var lx: int = ((i + 2) >> 2) * _N
			for j in _S:
				material.append_array(rows[lx + ((j + 2) >> 2)])
	chunk.density = density
	chunk.material = material


## Generate chunk (cx, cy, cz) with the planet's [param p] (from [method field_params]);
## [param keep_lattice] keeps the lattice fields in [member Chunk.lattice] for diagnosis.
## Returns null (and an error) if the chunk is outside the planet's grid.
static func generate_chunk_with_params(
	world_seed: int,
	planet_index: int,
	p: FieldParams,
	cx: int,
	cy: int,
	cz: int,
	keep_lattice: bool = false
) -> Chunk:
	var err := check_chunk(p, cx, cy, cz)
	if err != "":
		push_error(err)
		return null
	var lat := compute_lattice(p, cx, cy, cz)
	var chunk := Chunk.new()
	chunk.world_seed = world_seed
	chunk.planet_index = planet_index
	chunk.planet_seed = p.planet_seed
	chunk.coord = Vector3i(cx, cy, cz)
	# Depth is only read at voxels whose nearest lattice point has a biome, and a resource
	# node needs a biome: without any biome neither is computed (the reference's resource
	# candidates would all be rejected; its draws have no other effect).
	var any_biome := lat.biome.count(B.BIOME_NONE) != _LATTICE_SIZE
	if not any_biome and lat.density.count(lat.density[0]) == _LATTICE_SIZE:
		uniform_voxel_stage(lat, chunk)
	else:
		var depth_xy := upsample_xy(lat.depth) if any_biome else PackedFloat64Array()
		voxel_stage(p, lat, upsample_xy(lat.density), depth_xy, chunk)
		if any_biome:
			chunk.resources = place_resources(p, cx, cy, cz, lat, chunk.density, depth_xy)
	if keep_lattice:
		chunk.lattice = lat
	return chunk


## Generate chunk (cx, cy, cz) of planet [param planet_index] of [param world_seed].
## Pure and thread-safe. Returns null (and an error) for a bad seed, an unknown planet or
## chunk coordinates outside the grid.
static func generate_chunk(world_seed: int, planet_index: int, cx: int, cy: int, cz: int) -> Chunk:
	var p := field_params(world_seed, planet_index)
	if p == null:
		return null
	return generate_chunk_with_params(world_seed, planet_index, p, cx, cy, cz)


## Chunk containing the reference-sphere point in direction (dx, dy, dz) (need not be
## unit); (0, 0, 0) (and an error) for a bad seed or planet.
static func surface_chunk(
	world_seed: int, planet_index: int, dx: float, dy: float, dz: float
) -> Vector3i:
	var p := field_params(world_seed, planet_index)
	if p == null:
		return Vector3i.ZERO
	var n := sqrt(dx * dx + dy * dy + dz * dz)
	var chunk_m: float = C.CHUNK_SIZE * C.VOXEL_SIZE
	return Vector3i(
		floori(dx / n * p.radius / chunk_m),
		floori(dy / n * p.radius / chunk_m),
		floori(dz / n * p.radius / chunk_m)
	)
