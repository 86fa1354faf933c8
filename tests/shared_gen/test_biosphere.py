"""Biosphere: species traits and food web sanity (shared_gen/biosphere.py)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from sg_support import PROPERTY, clear_caches, planets

from shared_gen import BIOMES, generate_biosphere, get_planet
from shared_gen.biosphere import NICHES, PRODUCER_FORMS, size_class

FORMS = {f: (lo, hi) for f, lo, hi in PRODUCER_FORMS}
LEVEL = {"photosynthetic": 1, "herbivore": 2, "omnivore": 3, "scavenger": 3, "carnivore": 4}


@PROPERTY
@given(planets())
def test_food_web_sanity(planet: tuple[int, int]) -> None:
    seed, idx = planet
    bio = generate_biosphere(seed, idx)
    sp = bio.species
    assert [s.id for s in sp] == list(range(len(sp)))
    assert list(bio.food_web) == sorted(set(bio.food_web))
    for a, b in bio.food_web:
        assert a != b, "no species eats itself"
        assert sp[a].biome == sp[b].biome, "food webs stay within a biome"
        assert sp[a].kind == "fauna", "producers eat nothing"
    for s in sp:
        prey = [sp[i] for i in bio.prey_of(s.id)]
        fauna_prey = [o for o in prey if o.kind == "fauna"]
        if s.kind == "flora":
            assert prey == [] and s.diet == "photosynthetic"
        elif s.diet == "herbivore":
            assert prey and all(o.kind == "flora" for o in prey), "herbivores eat producers"
        elif s.diet == "carnivore":
            assert fauna_prey and len(fauna_prey) == len(prey), "every carnivore has prey"
            limit = 4.0 if s.niche == "pack_hunter" else 1.5
            for o in fauna_prey:
                assert o.mass_kg <= s.mass_kg * limit, "prey heavier than the predator limit"
                assert o.diet != "carnivore"
        elif s.diet == "omnivore":
            assert any(o.kind == "flora" for o in prey)
            if s.niche in ("pack_hunter", "ambush_predator"):
                # a predator without prey became an omnivore: plants only
                assert fauna_prey == []
            for o in fauna_prey:
                assert o.mass_kg < s.mass_kg * 0.5
        elif s.diet == "scavenger":
            assert all(o.kind == "flora" or o.diet == "carnivore" for o in prey)
            assert any(o.kind == "flora" for o in prey)
        else:
            pytest.fail(f"unknown diet {s.diet}")


@PROPERTY
@given(planets())
def test_every_biome_has_producers_and_its_niches(planet: tuple[int, int]) -> None:
    seed, idx = planet
    p = get_planet(seed, idx)
    bio = generate_biosphere(seed, idx)
    assert bio.planet_seed == p.seed
    biomes = {BIOMES[b].name: BIOMES[b] for b in p.biome_ids}
    assert {s.biome for s in bio.species} == set(biomes)
    niche_rows = {(n["biome"], n["niche"]): n["species"] for n in bio.niches}
    for name, b in biomes.items():
        producers = [s for s in bio.species if s.biome == name and s.kind == "flora"]
        assert 2 <= len(producers) <= 3
        assert niche_rows[(name, "producer")] == [s.id for s in producers]
        for niche in b.creature_niches:
            ids = niche_rows[(name, niche)]
            assert 1 <= len(ids) <= 2
            assert all(bio.species[i].niche == niche for i in ids)
    covered = sorted(i for ids in niche_rows.values() for i in ids)
    assert covered == list(range(len(bio.species)))


@PROPERTY
@given(planets())
def test_traits_in_ranges(planet: tuple[int, int]) -> None:
    bio = generate_biosphere(*planet)
    for s in bio.species:
        assert s.name and s.name[0].isupper()
        assert s.size == size_class(s.mass_kg)
        assert s.trophic_level == LEVEL[s.diet]
        if s.kind == "flora":
            lo, hi = FORMS[s.creature_form]
            assert lo <= s.mass_kg <= hi
            assert (s.niche, s.breeding, s.tameability, s.temperament) == (
                "producer", "seed", 0.0, "passive")
        else:
            diet, _, lo, hi, temps, t_lo, t_hi = NICHES[s.niche]
            assert s.diet in (diet, "omnivore")
            assert s.creature_form == s.niche
            assert lo <= s.mass_kg <= hi
            assert s.temperament in temps
            assert t_lo <= s.tameability <= t_hi and 0.0 <= s.tameability <= 1.0
            assert s.breeding in ("egg", "live")


@PROPERTY
@given(planets())
def test_biosphere_deterministic(planet: tuple[int, int]) -> None:
    a = json.dumps(generate_biosphere(*planet).to_dict(), sort_keys=True)
    clear_caches()
    assert json.dumps(generate_biosphere(*planet).to_dict(), sort_keys=True) == a


def test_carnivore_without_prey_becomes_omnivore() -> None:
    """Search a few planets for a predator that found no prey; it must eat plants only."""
    found = 0
    for seed in range(60):
        for idx in range(3):
            bio = generate_biosphere(seed, idx)
            for s in bio.species:
                if s.niche in ("pack_hunter", "ambush_predator") and s.diet == "omnivore":
                    found += 1
                    assert s.trophic_level == 3
                    assert all(bio.species[i].kind == "flora" for i in bio.prey_of(s.id))
    assert found > 0


def test_size_class_boundaries() -> None:
    assert [size_class(m) for m in (0.99, 1.0, 19.99, 20.0, 199.0, 200.0, 1499.0, 1500.0)] == [
        "tiny", "small", "small", "medium", "medium", "large", "large", "huge"]


def test_bad_planet_rejected() -> None:
    with pytest.raises(ValueError, match="does not exist"):
        generate_biosphere(42, 99)
