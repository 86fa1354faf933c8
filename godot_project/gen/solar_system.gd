class_name PSGenSolarSystem
extends RefCounted
## Solar system generation: seed -> star, 3-8 planets, moons, asteroid belt, names
## (port of shared_gen/solar_system.py).
##
## No pow/exp/log: L = m * m * m * m, x^(1/4) = sqrt(sqrt(x)) (IEEE sqrt is correctly
## rounded). Every float written to JSON is rounded with [method round_to]. The draw order
## from each [PSGenHashing.Rng] is part of the contract. [method SolarSystem.to_dict]
## printed with [code]JSON.stringify(d, "", true, true)[/code] gives the text of the
## reference CLI's [code]json.dumps(d, sort_keys=True, separators=(",", ":"))[/code].

const C := preload("res://gen/constants.gd")
const B := preload("res://gen/biomes.gd")

const SALT_SYSTEM := 0x53595354  # "SYST"
const SALT_MOON := 0x4D4F4F4E  # "MOON"
const SALT_PLANET_PROPS := 0x50524F50  # "PROP"

## [class, weight, mass range in solar masses, surface temperature range in K].
const SPECTRAL_CLASSES: Array = [
	["M", 40, 0.30, 0.60, 2400.0, 3700.0],
	["K", 25, 0.60, 0.90, 3700.0, 5200.0],
	["G", 20, 0.90, 1.10, 5200.0, 6000.0],
	["F", 10, 1.10, 1.40, 6000.0, 7500.0],
	["A", 5, 1.40, 2.10, 7500.0, 10000.0],
]
const GASES: PackedStringArray = ["Ar", "CH4", "CO2", "N2", "O2", "SO2"]


## The system's star. Mass and luminosity in solar units, temperature in kelvin.
class Star:
	extends RefCounted
	var name: String
	var spectral_class: String
	var mass_solar: float
	var luminosity_solar: float
	var temperature_k: float

	func to_dict() -> Dictionary:
		return {
			"name": name,
			"spectral_class": spectral_class,
			"mass_solar": mass_solar,
			"luminosity_solar": luminosity_solar,
			"temperature_k": temperature_k,
		}


## Pressure in atm (0 = none); composition gas -> volume fraction (sums to ~1).
class Atmosphere:
	extends RefCounted
	var pressure_atm: float
	var composition: Dictionary
	var breathable: bool

	func _init(p_pressure: float, p_composition: Dictionary, p_breathable: bool) -> void:
		pressure_atm = p_pressure
		composition = p_composition
		breathable = p_breathable

	func to_dict() -> Dictionary:
		return {
			"pressure_atm": pressure_atm,
			"composition": composition.duplicate(),
			"breathable": breathable,
		}


## A moon: orbit radius in planet radii, radius in game metres, u32 seed.
class Moon:
	extends RefCounted
	var index: int
	var name: String
	var seed: int
	var orbit_radius_planet_radii: float
	var radius_m: int

	func to_dict() -> Dictionary:
		return {
			"index": index,
			"name": name,
			"seed": seed,
			"orbit_radius_planet_radii": orbit_radius_planet_radii,
			"radius_m": radius_m,
		}


## A landable planet and every parameter its voxel field needs (see the reference's
## Planet docstring for units). [member biome_ids] are sorted ids into
## [constant PSGenBiomes.BIOMES].
class Planet:
	extends RefCounted
	var index: int
	var name: String
	var seed: int
	var orbital_distance_au: float
	var radius_m: int
	var surface_gravity_ms2: float
	var atmosphere: Atmosphere
	var temperature_min_c: float
	var temperature_max_c: float
	var has_water: bool
	var biome_ids: PackedInt64Array
	var resource_richness: float
	var terrain_amplitude_m: float
	var moisture_bias: float
	var moons: Array[Moon] = []

	## Largest |chunk coordinate|: ceil((R + A + 16 m) / 16 m).
	func grid_radius_chunks() -> int:
		var chunk_m: float = C.CHUNK_SIZE * C.VOXEL_SIZE
		return ceili((radius_m + terrain_amplitude_m + chunk_m) / chunk_m)

	func to_dict() -> Dictionary:
		var biome_names: Array = []
		for i in biome_ids:
			biome_names.append(B.BIOMES[i]["name"])
		var moon_dicts: Array = []
		for m in moons:
			moon_dicts.append(m.to_dict())
		return {
			"index": index,
			"name": name,
			"seed": seed,
			"orbit_index": index,
			"orbital_distance_au": orbital_distance_au,
			"radius_m": radius_m,
			"surface_gravity_ms2": surface_gravity_ms2,
			"atmosphere": atmosphere.to_dict(),
			"temperature_range_c": [temperature_min_c, temperature_max_c],
			"has_water": has_water,
			"biomes": biome_names,
			"resource_richness": resource_richness,
			"terrain_amplitude_m": terrain_amplitude_m,
			"moisture_bias": moisture_bias,
			"grid_radius_chunks": grid_radius_chunks(),
			"moons": moon_dicts,
		}


## An asteroid belt between inner_au and outer_au.
class AsteroidBelt:
	extends RefCounted
	var name: String
	var inner_au: float
	var outer_au: float

	func to_dict() -> Dictionary:
		return {"name": name, "inner_au": inner_au, "outer_au": outer_au}


## A generated system. [member planets] are in orbit order.
class SolarSystem:
	extends RefCounted
	var seed: int
	var name: String
	var star: Star
	var habitable_zone_au: PackedFloat64Array
	var planets: Array[Planet] = []
	var asteroid_belts: Array[AsteroidBelt] = []

	## JSON-ready Dictionary (the reference's to_dict; print it with sorted keys).
	func to_dict() -> Dictionary:
		var planet_dicts: Array = []
		for p in planets:
			planet_dicts.append(p.to_dict())
		var belt_dicts: Array = []
		for b in asteroid_belts:
			belt_dicts.append(b.to_dict())
		return {
			"seed": seed,
			"name": name,
			"star": star.to_dict(),
			"habitable_zone_au": [habitable_zone_au[0], habitable_zone_au[1]],
			"planets": planet_dicts,
			"asteroid_belts": belt_dicts,
		}


## Round half up to a multiple of 1 / step_inv: floor(x * s + 0.5) / s.
static func round_to(x: float, step_inv: float) -> float:
	return floorf(x * step_inv + 0.5) / step_inv


static func _star(rng: PSGenHashing.Rng) -> Star:
	var star := Star.new()
	star.name = PSGenNames.make_name(rng, 2, 3)
	var weights := PackedInt64Array()
	for row: Array in SPECTRAL_CLASSES:
		weights.append(row[1])
	var row: Array = SPECTRAL_CLASSES[rng.weighted(weights)]
	var m_lo: float = row[2]
	var m_hi: float = row[3]
	var t_lo: float = row[4]
	var t_hi: float = row[5]
	var u := rng.next_float()
	var mass := round_to(m_lo + (m_hi - m_lo) * u, 1000.0)
	star.spectral_class = row[0]
	star.mass_solar = mass
	star.luminosity_solar = round_to(mass * mass * mass * mass, 10000.0)
	star.temperature_k = round_to(t_lo + (t_hi - t_lo) * u, 1.0)
	return star


static func _atmosphere(rng: PSGenHashing.Rng, gravity: float, in_hz: bool) -> Atmosphere:
	var u := rng.next_float()
	var pressure := round_to(u * u * 3.0 * gravity / 9.81, 1000.0)
	var kind := rng.below(100)
	var raw := PackedFloat64Array()
	for _g in GASES:  # always six draws, in GASES order
		raw.append(rng.next_float())
	if pressure < 0.01:
		return Atmosphere.new(0.0, {}, false)
	# weights per gas (Ar, CH4, CO2, N2, O2, SO2) for three atmosphere kinds
	var scale: PackedFloat64Array
	if in_hz and kind < 60:  # nitrogen-oxygen
		scale = [0.02, 0.002, 0.02, 1.0, 0.45, 0.0005]
	elif kind < 80:  # carbon dioxide
		scale = [0.05, 0.01, 1.0, 0.1, 0.01, 0.05]
	else:  # reducing / volcanic
		scale = [0.05, 0.6, 0.3, 0.4, 0.0, 0.4]
	var weights := PackedFloat64Array()
	for i in GASES.size():
		weights.append(0.25 * scale[i] + 0.75 * scale[i] * raw[i])
	var total := 0.0
	for w in weights:
		total += w
	var comp := {}
	for i in GASES.size():
		var frac := round_to(weights[i] / total, 10000.0)
		if frac > 0.0:
			comp[GASES[i]] = frac
	var o2: float = comp.get("O2", 0.0)
	# O2 partial pressure 0.16-0.5 atm, total 0.5-2 atm, little CO2 and SO2
	var breathable := (
		0.5 <= pressure and pressure <= 2.0
		and 0.16 <= o2 * pressure and o2 * pressure <= 0.5
		and float(comp.get("SO2", 0.0)) < 0.001
		and float(comp.get("CO2", 0.0)) < 0.02
	)
	return Atmosphere.new(pressure, comp, breathable)


static func _eligible_biome(b: Dictionary, water: bool, air: bool) -> bool:
	return (water or not b["needs_water"]) and (air or not b["needs_atmosphere"])


static func _choose_biomes(
	rng: PSGenHashing.Rng, tmin: float, tmax: float, water: bool, air: bool
) -> PackedInt64Array:
	var eligible := PackedInt64Array()
	for b: Dictionary in B.BIOMES:
		var tc: float = b["temperature_c"]
		if _eligible_biome(b, water, air) and tmin - 15.0 <= tc and tc <= tmax + 15.0:
			eligible.append(b["id"])
	if eligible.size() < 2:
		var mid := (tmin + tmax) * 0.5
		# add the biomes nearest in temperature until there are two (ties: lower id)
		var others: Array = []
		for b: Dictionary in B.BIOMES:
			if not eligible.has(b["id"]) and _eligible_biome(b, water, air):
				others.append([absf(float(b["temperature_c"]) - mid), b["id"]])
		others.sort_custom(_by_distance_then_id)
		var need := 2 - eligible.size()
		for n in mini(need, others.size()):
			eligible.append(others[n][1])
	# Fisher-Yates shuffle (from the end), then keep 2-5
	for i in range(eligible.size() - 1, 0, -1):
		var j := rng.below(i + 1)
		var tmp := eligible[i]
		eligible[i] = eligible[j]
		eligible[j] = tmp
	var keep := 2 + rng.below(4)
	var kept := eligible.slice(0, keep)
	kept.sort()
	return kept


static func _by_distance_then_id(a: Array, b: Array) -> bool:
	if a[0] != b[0]:
		return a[0] < b[0]
	return a[1] < b[1]


static func _planet(
	world_seed: int, index: int, distance: float, star: Star, hz: PackedFloat64Array
) -> Planet:
	var seed := PSGenHashing.get_planet_seed(world_seed, index)
	var rng := PSGenHashing.Rng.new(seed, PackedInt64Array([SALT_PLANET_PROPS]))
	var p := Planet.new()
	p.index = index
	p.seed = seed
	p.orbital_distance_au = distance
	p.name = PSGenNames.make_name(rng, 2, 3)
	var radius := 320 + rng.below(1281)
	p.radius_m = radius
	var gravity := round_to(
		9.81 * (0.45 + 0.75 * radius / 1600.0) * rng.uniform(0.8, 1.2), 100.0
	)
	p.surface_gravity_ms2 = gravity
	var albedo := rng.uniform(0.1, 0.5)
	var in_hz := hz[0] <= distance and distance <= hz[1]
	var atmo := _atmosphere(rng, gravity, in_hz)
	p.atmosphere = atmo
	var co2: float = atmo.composition.get("CO2", 0.0)
	var t_eq := (
		278.6 * sqrt(sqrt(star.luminosity_solar))
		* sqrt(sqrt(1.0 - albedo)) / sqrt(distance)
	)
	var t_mean := t_eq + 38.0 * atmo.pressure_atm * (0.2 + co2) - 273.15
	var swing := 15.0 + 40.0 / (1.0 + atmo.pressure_atm)
	var tmin := round_to(t_mean - swing, 10.0)
	var tmax := round_to(t_mean + swing, 10.0)
	p.temperature_min_c = tmin
	p.temperature_max_c = tmax
	p.has_water = atmo.pressure_atm >= 0.3 and tmin < 100.0 and tmax > 0.0
	p.biome_ids = _choose_biomes(rng, tmin, tmax, p.has_water, atmo.pressure_atm >= 0.1)
	p.resource_richness = round_to(rng.uniform(0.5, 2.0), 100.0)
	p.terrain_amplitude_m = (24 + rng.below(49)) * 0.5
	var bias := rng.uniform(-0.1, 0.2) if p.has_water else rng.uniform(-0.3, -0.1)
	p.moisture_bias = round_to(bias, 100.0)
	var moon_count := rng.below(4) if radius > 900 else rng.below(2)
	for k in moon_count:
		var mrng := PSGenHashing.Rng.new(seed, PackedInt64Array([SALT_MOON, k]))
		var moon := Moon.new()
		moon.index = k
		moon.name = "%s %s" % [p.name, PSGenNames.ROMAN[k]]
		moon.seed = PSGenHashing.hash_ints(seed, PackedInt64Array([SALT_MOON, k]))
		moon.orbit_radius_planet_radii = round_to(mrng.uniform(3.0, 20.0) + 6.0 * k, 100.0)
		moon.radius_m = 80 + mrng.below(241)
		p.moons.append(moon)
	return p


## "" if 0 <= world_seed <= SEED_MAX, else the reference's error message.
static func check_seed(world_seed: int) -> String:
	if world_seed < 0:
		return "world seed must be in [0, %d], got %d" % [C.SEED_MAX, world_seed]
	return ""


## Generate the solar system of [param world_seed] (pure; not cached). Returns null (and
## an error) if the seed is negative.
static func generate_solar_system(world_seed: int) -> SolarSystem:
	var err := check_seed(world_seed)
	if err != "":
		push_error(err)
		return null
	var rng := PSGenHashing.Rng.new(world_seed, PackedInt64Array([SALT_SYSTEM]))
	var star := _star(rng)
	var root_l := sqrt(star.luminosity_solar)
	var hz := PackedFloat64Array([
		round_to(sqrt(star.luminosity_solar / 1.1), 1000.0),
		round_to(sqrt(star.luminosity_solar / 0.53), 1000.0),
	])
	var count := 3 + rng.below(6)
	var distances := PackedFloat64Array()
	var d := rng.uniform(0.2, 0.5) * root_l
	for _i in count:
		distances.append(round_to(d, 1000.0))
		d = d * rng.uniform(1.4, 2.0)
	var system := SolarSystem.new()
	system.seed = world_seed
	system.name = "%s System" % star.name
	system.star = star
	system.habitable_zone_au = hz
	for i in count:
		system.planets.append(_planet(world_seed, i, distances[i], star, hz))
	# the belt sits in the widest orbital gap (by ratio) beyond the habitable zone
	var best := -1
	var best_ratio := 0.0
	for i in count - 1:
		var ratio := distances[i + 1] / distances[i]
		if distances[i] >= hz[1] and ratio > best_ratio:
			best = i
			best_ratio = ratio
	var inner: float
	var outer: float
	if best >= 0:
		inner = distances[best] * 1.15
		outer = distances[best + 1] * 0.85
	else:
		inner = distances[count - 1] * 1.3
		outer = distances[count - 1] * 1.8
	var belt := AsteroidBelt.new()
	belt.name = "%s Belt" % star.name
	belt.inner_au = round_to(inner, 1000.0)
	belt.outer_au = round_to(outer, 1000.0)
	system.asteroid_belts.append(belt)
	return system


## "" if [param planet_index] exists in [param system], else the reference's message.
static func check_planet_index(system: SolarSystem, planet_index: int) -> String:
	var n := system.planets.size()
	if planet_index < 0 or planet_index >= n:
		return (
			"planet index %d does not exist: system %d has %d planets (0..%d)"
			% [planet_index, system.seed, n, n - 1]
		)
	return ""


## Planet [param planet_index] of the system of [param world_seed], or null (and an
## error) for a bad seed or a missing planet.
static func get_planet(world_seed: int, planet_index: int) -> Planet:
	var system := generate_solar_system(world_seed)
	if system == null:
		return null
	var err := check_planet_index(system, planet_index)
	if err != "":
		push_error(err)
		return null
	return system.planets[planet_index]
