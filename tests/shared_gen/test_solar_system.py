"""Solar system generation (shared_gen/solar_system.py, names.py, biomes.py)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from sg_support import PROPERTY, clear_caches, world_seeds

from shared_gen import BIOMES, RESOURCE_NAMES, generate_solar_system, get_planet
from shared_gen.constants import MATERIAL_NAMES, SEED_MAX
from shared_gen.hashing import Rng, get_planet_seed
from shared_gen.names import make_name
from shared_gen.planet import field_params
from shared_gen.solar_system import SPECTRAL_CLASSES, round_to


@PROPERTY
@given(world_seeds)
def test_system_invariants(seed: int) -> None:
    s = generate_solar_system(seed)
    assert s.seed == seed and s.name == f"{s.star.name} System"
    assert 3 <= len(s.planets) <= 8
    classes = {row[0]: row for row in SPECTRAL_CLASSES}
    _, _, m_lo, m_hi, t_lo, t_hi = classes[s.star.spectral_class]
    assert m_lo <= s.star.mass_solar <= m_hi and t_lo <= s.star.temperature_k <= t_hi
    m = s.star.mass_solar
    assert s.star.luminosity_solar == round_to(m * m * m * m, 10000.0)
    lo, hi = s.habitable_zone_au
    assert 0 < lo < hi
    dist = [p.orbital_distance_au for p in s.planets]
    assert dist == sorted(dist) and len(set(dist)) == len(dist) and dist[0] > 0
    assert len(s.asteroid_belts) == 1
    belt = s.asteroid_belts[0]
    assert 0 < belt.inner_au < belt.outer_au
    # the belt lies in a gap beyond the habitable zone or outside the last orbit
    assert not any(belt.inner_au < d < belt.outer_au for d in dist)
    for i, p in enumerate(s.planets):
        assert p.index == i and p.seed == get_planet_seed(seed, i)
        assert get_planet(seed, i) is p
        assert 320 <= p.radius_m <= 1600
        assert p.surface_gravity_ms2 > 0
        assert 0.5 <= p.resource_richness <= 2.0
        assert 12.0 <= p.terrain_amplitude_m <= 36.0
        assert p.temperature_min_c <= p.temperature_max_c
        assert 2 <= len(p.biome_ids) <= 5
        assert list(p.biome_ids) == sorted(set(p.biome_ids))
        for b in p.biomes:
            assert p.has_water or not b.needs_water
            assert p.atmosphere.pressure_atm >= 0.1 or not b.needs_atmosphere
        assert p.has_water == (p.atmosphere.pressure_atm >= 0.3 and p.temperature_min_c < 100
                               and p.temperature_max_c > 0)
        assert len(p.moons) <= (3 if p.radius_m > 900 else 1)
        for k, moon in enumerate(p.moons):
            assert moon.index == k and moon.name == f"{p.name} {'I' * (k + 1)}"
            assert 80 <= moon.radius_m <= 320 and moon.orbit_radius_planet_radii >= 3.0
        atmo = p.atmosphere
        if atmo.pressure_atm == 0.0:
            assert atmo.composition == {} and not atmo.breathable
        else:
            assert atmo.pressure_atm >= 0.01
            assert abs(sum(atmo.composition.values()) - 1.0) <= 0.0005 * 6
            assert all(0 < f <= 1 for f in atmo.composition.values())
        if atmo.breathable:
            o2 = atmo.composition.get("O2", 0.0)
            assert 0.5 <= atmo.pressure_atm <= 2.0 and 0.16 <= o2 * atmo.pressure_atm <= 0.5
        chunk_m = 16.0
        assert p.grid_radius_chunks == math.ceil(
            (p.radius_m + p.terrain_amplitude_m + chunk_m) / chunk_m)


@PROPERTY
@given(world_seeds)
def test_system_json_stable(seed: int) -> None:
    d = generate_solar_system(seed).to_dict()
    text = json.dumps(d, sort_keys=True)
    clear_caches()
    assert json.dumps(generate_solar_system(seed).to_dict(), sort_keys=True) == text
    assert json.loads(text) == d
    # every float shown is already rounded to its grid (round_to is idempotent on it)
    p = d["planets"][0]
    assert round_to(p["surface_gravity_ms2"], 100.0) == p["surface_gravity_ms2"]
    assert round_to(p["resource_richness"], 100.0) == p["resource_richness"]


def test_known_system() -> None:
    # README's example seed; frozen shape of its system (planet count, radii).
    s = generate_solar_system(42)
    assert [p.radius_m for p in s.planets] == [702, 433, 1538]
    assert [p.grid_radius_chunks for p in s.planets] == [46, 30, 99]


def test_seeds_give_different_systems() -> None:
    names = {generate_solar_system(s).star.name for s in range(40)}
    assert len(names) > 30


def test_round_to() -> None:
    assert round_to(1.25, 10.0) == 1.3
    assert round_to(-1.25, 10.0) == -1.2  # half up, not half away from zero
    assert round_to(2.0004, 1000.0) == 2.0


def test_names() -> None:
    rng = Rng(5, 77)
    for _ in range(50):
        n = make_name(rng, 2, 3)
        assert n[0].isupper() and n.isalpha() and len(n) >= 2
    assert make_name(Rng(5, 77)) == make_name(Rng(5, 77))


def test_biome_tables() -> None:
    assert [b.id for b in BIOMES] == list(range(len(BIOMES)))
    for b in BIOMES:
        assert {b.surface, b.subsoil, b.rock} <= set(MATERIAL_NAMES)
        assert b.resource_weights and all(w > 0 for _, w in b.resource_weights)
        assert {r for r, _ in b.resource_weights} <= set(RESOURCE_NAMES)
        assert len({r for r, _ in b.resource_weights}) == len(b.resource_weights)
    # biomes that need neither water nor air exist, so every planet can get two
    assert sum(1 for b in BIOMES if not b.needs_water and not b.needs_atmosphere) >= 2


@pytest.mark.parametrize(
    ("seed", "index", "match"),
    [
        (42, 3, r"planet index 3 does not exist: system 42 has 3 planets \(0\.\.2\)"),
        (42, -1, "does not exist"),
        (42, True, "integer"),
        (42, 1.0, "integer"),
        (-1, 0, rf"\[0, {SEED_MAX}\]"),
        (SEED_MAX + 1, 0, rf"\[0, {SEED_MAX}\]"),
        ("42", 0, "integer"),
    ],
)
def test_get_planet_rejects(seed: object, index: object, match: str) -> None:
    clear_caches()
    with pytest.raises(ValueError, match=match):
        get_planet(seed, index)  # type: ignore[arg-type]


def test_bool_seed_rejected_when_not_cached() -> None:
    clear_caches()
    with pytest.raises(ValueError, match="integer"):
        generate_solar_system(True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="integer"):
        field_params(True, 0)  # type: ignore[arg-type]


def test_bool_seed_rejected_even_when_cached() -> None:
    clear_caches()
    field_params(1, 0)
    with pytest.raises(ValueError, match="integer"):
        field_params(True, 0)  # type: ignore[arg-type]
