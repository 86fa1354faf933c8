"""Solar system generation: seed -> star, 3-8 planets, moons, asteroid belt, names.

Source: seed 002 "Solar System Generator" and "Single Solar System Scope" (one star,
3-8 planets, select planets with 1-3 moons, an asteroid belt between planets). Physical
relations, all without ``pow``/``exp``/``log`` so every port agrees bit for bit:

* main-sequence mass-luminosity relation ``L = M^4`` (solar units; Eddington), computed
  as ``m * m * m * m``;
* habitable zone ``[sqrt(L / 1.1), sqrt(L / 0.53)]`` AU (Kasting et al. 1993 flux limits);
* equilibrium temperature ``T = 278.6 K * L^(1/4) * (1 - albedo)^(1/4) / sqrt(d)``, with
  ``x^(1/4) = sqrt(sqrt(x))`` (IEEE ``sqrt`` is correctly rounded everywhere);
* a greenhouse term ``+ 38 K * pressure * (0.2 + co2 fraction)`` (tuned, game scale).

Planet radii are in game metres (320-1600 m: small walkable worlds), orbits in AU.
Every float written to JSON is rounded with :func:`round_to` so that it prints the same
everywhere. Draw order from each :class:`~shared_gen.hashing.Rng` is part of the contract.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

from .biomes import BIOMES, BiomeDef
from .constants import CHUNK_SIZE, SEED_MAX, VOXEL_SIZE
from .hashing import Rng, get_planet_seed, hash_ints
from .names import ROMAN, make_name

SALT_SYSTEM: Final = 0x53595354  # "SYST"
SALT_MOON: Final = 0x4D4F4F4E  # "MOON"
SALT_PLANET_PROPS: Final = 0x50524F50  # "PROP"

#: (class, weight, mass range in solar masses, surface temperature range in K)
SPECTRAL_CLASSES: Final = (
    ("M", 40, 0.30, 0.60, 2400.0, 3700.0),
    ("K", 25, 0.60, 0.90, 3700.0, 5200.0),
    ("G", 20, 0.90, 1.10, 5200.0, 6000.0),
    ("F", 10, 1.10, 1.40, 6000.0, 7500.0),
    ("A", 5, 1.40, 2.10, 7500.0, 10000.0),
)
GASES: Final = ("Ar", "CH4", "CO2", "N2", "O2", "SO2")


def round_to(x: float, step_inv: float) -> float:
    """Round half up to a multiple of ``1 / step_inv``: ``floor(x * s + 0.5) / s``."""
    return math.floor(x * step_inv + 0.5) / step_inv


@dataclass(frozen=True, slots=True)
class Star:
    """The system's star. Mass and luminosity in solar units, temperature in kelvin."""

    name: str
    spectral_class: str
    mass_solar: float
    luminosity_solar: float
    temperature_k: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "spectral_class": self.spectral_class,
            "mass_solar": self.mass_solar,
            "luminosity_solar": self.luminosity_solar,
            "temperature_k": self.temperature_k,
        }


@dataclass(frozen=True, slots=True)
class Atmosphere:
    """Pressure in atm (0 = none); composition gas -> volume fraction (sums to ~1)."""

    pressure_atm: float
    composition: dict[str, float]
    breathable: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "pressure_atm": self.pressure_atm,
            "composition": dict(self.composition),
            "breathable": self.breathable,
        }


@dataclass(frozen=True, slots=True)
class Moon:
    """A moon: orbit radius in planet radii, radius in game metres, u32 seed."""

    index: int
    name: str
    seed: int
    orbit_radius_planet_radii: float
    radius_m: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "seed": self.seed,
            "orbit_radius_planet_radii": self.orbit_radius_planet_radii,
            "radius_m": self.radius_m,
        }


@dataclass(frozen=True, slots=True)
class Planet:
    """A landable planet and every parameter its voxel field needs.

    Attributes:
        index: 0-based orbit index (also the ``--planet`` argument).
        seed: u32 planet seed, ``get_planet_seed(world_seed, index)``.
        orbital_distance_au: semi-major axis in AU.
        radius_m: reference sphere radius in metres (integer).
        surface_gravity_ms2: m/s^2.
        temperature_min_c, temperature_max_c: pole / equator temperatures, Celsius.
        biome_ids: sorted ids into :data:`shared_gen.biomes.BIOMES`.
        resource_richness: multiplier of resource node candidates per chunk (0.5-2.0).
        terrain_amplitude_m: bound of the terrain height ``|h|`` in metres.
        moisture_bias: added to the moisture field.
        grid_radius_chunks: valid chunk coordinates satisfy ``|c| <= grid_radius_chunks``
            on every axis.
    """

    index: int
    name: str
    seed: int
    orbital_distance_au: float
    radius_m: int
    surface_gravity_ms2: float
    atmosphere: Atmosphere
    temperature_min_c: float
    temperature_max_c: float
    has_water: bool
    biome_ids: tuple[int, ...]
    resource_richness: float
    terrain_amplitude_m: float
    moisture_bias: float
    moons: tuple[Moon, ...] = field(default=())

    @property
    def biomes(self) -> tuple[BiomeDef, ...]:
        return tuple(BIOMES[i] for i in self.biome_ids)

    @property
    def grid_radius_chunks(self) -> int:
        """Largest |chunk coordinate|: ``ceil((R + A + 16 m) / 16 m)``."""
        chunk_m = CHUNK_SIZE * VOXEL_SIZE
        return math.ceil((self.radius_m + self.terrain_amplitude_m + chunk_m) / chunk_m)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "seed": self.seed,
            "orbit_index": self.index,
            "orbital_distance_au": self.orbital_distance_au,
            "radius_m": self.radius_m,
            "surface_gravity_ms2": self.surface_gravity_ms2,
            "atmosphere": self.atmosphere.to_dict(),
            "temperature_range_c": [self.temperature_min_c, self.temperature_max_c],
            "has_water": self.has_water,
            "biomes": [BIOMES[i].name for i in self.biome_ids],
            "resource_richness": self.resource_richness,
            "terrain_amplitude_m": self.terrain_amplitude_m,
            "moisture_bias": self.moisture_bias,
            "grid_radius_chunks": self.grid_radius_chunks,
            "moons": [m.to_dict() for m in self.moons],
        }


@dataclass(frozen=True, slots=True)
class AsteroidBelt:
    """An asteroid belt between ``inner_au`` and ``outer_au``."""

    name: str
    inner_au: float
    outer_au: float

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "inner_au": self.inner_au, "outer_au": self.outer_au}


@dataclass(frozen=True, slots=True)
class SolarSystem:
    """A generated system. ``planets`` are in orbit order."""

    seed: int
    name: str
    star: Star
    habitable_zone_au: tuple[float, float]
    planets: tuple[Planet, ...]
    asteroid_belts: tuple[AsteroidBelt, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; the CLI prints it with sorted keys."""
        return {
            "seed": self.seed,
            "name": self.name,
            "star": self.star.to_dict(),
            "habitable_zone_au": list(self.habitable_zone_au),
            "planets": [p.to_dict() for p in self.planets],
            "asteroid_belts": [b.to_dict() for b in self.asteroid_belts],
        }


def _star(rng: Rng) -> Star:
    name = make_name(rng, 2, 3)
    k = rng.weighted([row[1] for row in SPECTRAL_CLASSES])
    cls, _, m_lo, m_hi, t_lo, t_hi = SPECTRAL_CLASSES[k]
    u = rng.next_float()
    mass = round_to(m_lo + (m_hi - m_lo) * u, 1000.0)
    lum = round_to(mass * mass * mass * mass, 10000.0)
    temp = round_to(t_lo + (t_hi - t_lo) * u, 1.0)
    return Star(name, cls, mass, lum, temp)


def _atmosphere(rng: Rng, gravity: float, in_hz: bool) -> Atmosphere:
    u = rng.next_float()
    pressure = round_to(u * u * 3.0 * gravity / 9.81, 1000.0)
    kind = rng.below(100)
    raw = [rng.next_float() for _ in GASES]  # always six draws, in GASES order
    if pressure < 0.01:
        return Atmosphere(0.0, {}, False)
    # weights per gas (Ar, CH4, CO2, N2, O2, SO2) for three atmosphere kinds
    if in_hz and kind < 60:  # nitrogen-oxygen
        scale = (0.02, 0.002, 0.02, 1.0, 0.45, 0.0005)
    elif kind < 80:  # carbon dioxide
        scale = (0.05, 0.01, 1.0, 0.1, 0.01, 0.05)
    else:  # reducing / volcanic
        scale = (0.05, 0.6, 0.3, 0.4, 0.0, 0.4)
    weights = [0.25 * s + 0.75 * s * r for s, r in zip(scale, raw, strict=True)]
    total = 0.0
    for w in weights:
        total += w
    comp: dict[str, float] = {}
    for gas, w in zip(GASES, weights, strict=True):
        frac = round_to(w / total, 10000.0)
        if frac > 0.0:
            comp[gas] = frac
    o2 = comp.get("O2", 0.0)
    # O2 partial pressure 0.16-0.5 atm, total 0.5-2 atm, little CO2 and SO2
    breathable = (
        0.5 <= pressure <= 2.0
        and 0.16 <= o2 * pressure <= 0.5
        and comp.get("SO2", 0.0) < 0.001
        and comp.get("CO2", 0.0) < 0.02
    )
    return Atmosphere(pressure, comp, breathable)


def _choose_biomes(rng: Rng, tmin: float, tmax: float, water: bool, air: bool) -> tuple[int, ...]:
    eligible = [
        b.id
        for b in BIOMES
        if (water or not b.needs_water)
        and (air or not b.needs_atmosphere)
        and tmin - 15.0 <= b.temperature_c <= tmax + 15.0
    ]
    if len(eligible) < 2:
        mid = (tmin + tmax) * 0.5
        # add the biomes nearest in temperature until there are two (ties: lower id)
        others = sorted(
            (b for b in BIOMES if b.id not in eligible
             and (water or not b.needs_water) and (air or not b.needs_atmosphere)),
            key=lambda b: (abs(b.temperature_c - mid), b.id),
        )
        for b in others[: 2 - len(eligible)]:
            eligible.append(b.id)
    # Fisher-Yates shuffle (from the end), then keep 2-5
    for i in range(len(eligible) - 1, 0, -1):
        j = rng.below(i + 1)
        eligible[i], eligible[j] = eligible[j], eligible[i]
    keep = 2 + rng.below(4)
    return tuple(sorted(eligible[:keep]))


def _planet(world_seed: int, index: int, distance: float, star: Star,
            hz: tuple[float, float]) -> Planet:
    seed = get_planet_seed(world_seed, index)
    rng = Rng(seed, SALT_PLANET_PROPS)
    name = make_name(rng, 2, 3)
    radius = 320 + rng.below(1281)
    gravity = round_to(9.81 * (0.45 + 0.75 * radius / 1600.0) * rng.uniform(0.8, 1.2), 100.0)
    albedo = rng.uniform(0.1, 0.5)
    in_hz = hz[0] <= distance <= hz[1]
    atmo = _atmosphere(rng, gravity, in_hz)
    co2 = atmo.composition.get("CO2", 0.0)
    t_eq = (278.6 * math.sqrt(math.sqrt(star.luminosity_solar))
            * math.sqrt(math.sqrt(1.0 - albedo)) / math.sqrt(distance))
    t_mean = t_eq + 38.0 * atmo.pressure_atm * (0.2 + co2) - 273.15
    swing = 15.0 + 40.0 / (1.0 + atmo.pressure_atm)
    tmin = round_to(t_mean - swing, 10.0)
    tmax = round_to(t_mean + swing, 10.0)
    has_water = atmo.pressure_atm >= 0.3 and tmin < 100.0 and tmax > 0.0
    biome_ids = _choose_biomes(rng, tmin, tmax, has_water, atmo.pressure_atm >= 0.1)
    richness = round_to(rng.uniform(0.5, 2.0), 100.0)
    amplitude = (24 + rng.below(49)) * 0.5
    bias = round_to(rng.uniform(-0.1, 0.2) if has_water else rng.uniform(-0.3, -0.1), 100.0)
    moon_count = rng.below(4) if radius > 900 else rng.below(2)
    moons = []
    for k in range(moon_count):
        mrng = Rng(seed, SALT_MOON, k)
        moons.append(Moon(
            index=k,
            name=f"{name} {ROMAN[k]}",
            seed=hash_ints(seed, SALT_MOON, k),
            orbit_radius_planet_radii=round_to(mrng.uniform(3.0, 20.0) + 6.0 * k, 100.0),
            radius_m=80 + mrng.below(241),
        ))
    return Planet(
        index=index, name=name, seed=seed, orbital_distance_au=distance, radius_m=radius,
        surface_gravity_ms2=gravity, atmosphere=atmo, temperature_min_c=tmin,
        temperature_max_c=tmax, has_water=has_water, biome_ids=biome_ids,
        resource_richness=richness, terrain_amplitude_m=amplitude, moisture_bias=bias,
        moons=tuple(moons),
    )


def check_seed(world_seed: int) -> None:
    """Raise ``ValueError`` unless ``0 <= world_seed <= SEED_MAX`` (a non-bool int)."""
    if isinstance(world_seed, bool) or not isinstance(world_seed, int):
        raise ValueError(f"world seed must be an integer, got {world_seed!r}")
    if not 0 <= world_seed <= SEED_MAX:
        raise ValueError(f"world seed must be in [0, {SEED_MAX}], got {world_seed}")


@lru_cache(maxsize=64, typed=True)
def generate_solar_system(world_seed: int) -> SolarSystem:
    """Generate the solar system of ``world_seed`` (pure; cached).

    Raises:
        ValueError: if the seed is not an integer in ``[0, 2**63 - 1]``.
    """
    check_seed(world_seed)
    rng = Rng(world_seed, SALT_SYSTEM)
    star = _star(rng)
    root_l = math.sqrt(star.luminosity_solar)
    hz = (round_to(math.sqrt(star.luminosity_solar / 1.1), 1000.0),
          round_to(math.sqrt(star.luminosity_solar / 0.53), 1000.0))
    count = 3 + rng.below(6)
    distances: list[float] = []
    d = rng.uniform(0.2, 0.5) * root_l
    for _ in range(count):
        distances.append(round_to(d, 1000.0))
        d = d * rng.uniform(1.4, 2.0)
    planets = tuple(_planet(world_seed, i, distances[i], star, hz) for i in range(count))
    # the belt sits in the widest orbital gap (by ratio) beyond the habitable zone
    best = -1
    best_ratio = 0.0
    for i in range(count - 1):
        ratio = distances[i + 1] / distances[i]
        if distances[i] >= hz[1] and ratio > best_ratio:
            best, best_ratio = i, ratio
    if best >= 0:
        inner, outer = distances[best] * 1.15, distances[best + 1] * 0.85
    else:
        inner, outer = distances[-1] * 1.3, distances[-1] * 1.8
    belt = AsteroidBelt(f"{star.name} Belt", round_to(inner, 1000.0), round_to(outer, 1000.0))
    return SolarSystem(world_seed, f"{star.name} System", star, hz, planets, (belt,))


def get_planet(world_seed: int, planet_index: int) -> Planet:
    """Planet ``planet_index`` of the system of ``world_seed``.

    Raises:
        ValueError: bad seed, or no planet with that index (message names the count).
    """
    system = generate_solar_system(world_seed)
    if isinstance(planet_index, bool) or not isinstance(planet_index, int):
        raise ValueError(f"planet index must be an integer, got {planet_index!r}")
    if not 0 <= planet_index < len(system.planets):
        raise ValueError(
            f"planet index {planet_index} does not exist: system {world_seed} has "
            f"{len(system.planets)} planets (0..{len(system.planets) - 1})"
        )
    return system.planets[planet_index]
