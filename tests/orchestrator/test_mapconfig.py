"""MapConfig: deterministic from (world seed, planet index), the seed's fields, JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from server.orchestrator.mapconfig import MapConfig, generate_map_config
from shared_gen import field_params, generate_solar_system, get_planet

SEED_FIELDS = {"mapId", "instanceId", "seed", "bounds", "terrain", "biome", "propSetIds",
               "staticCollider", "generationRules"}


def test_has_the_seeds_fields_and_round_trips():
    cfg = generate_map_config(1, 0)
    doc = json.loads(cfg.to_json())
    assert set(doc) >= SEED_FIELDS
    assert MapConfig.from_json(cfg.to_json()) == cfg
    assert MapConfig.from_json(cfg.to_json()).config_hash() == cfg.config_hash()


def test_matches_shared_gen():
    for idx in range(len(generate_solar_system(7).planets)):
        cfg = generate_map_config(7, idx)
        planet, fp = get_planet(7, idx), field_params(7, idx)
        assert cfg.seed == planet.seed
        assert cfg.bounds.grid_radius_chunks == planet.grid_radius_chunks
        assert cfg.terrain.seeds["terrain"] == fp.seed_terrain
        assert cfg.biome.biome_ids == planet.biome_ids
        assert cfg.map_id == f"planet-{idx}"


def test_deterministic_and_distinct():
    a, b = generate_map_config(42, 1), generate_map_config(42, 1)
    assert a.to_json() == b.to_json()
    assert generate_map_config(42, 0).config_hash() != a.config_hash()
    assert generate_map_config(43, 1).config_hash() != a.config_hash()
    assert generate_map_config(42, 1, instance=1).instance_id != a.instance_id


def test_same_json_in_another_process():
    code = ("from server.orchestrator.mapconfig import generate_map_config as g;"
            "print(g(42, 1).to_json())")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True, timeout=60).stdout.strip()
    assert out == generate_map_config(42, 1).to_json()


def test_unknown_planet():
    with pytest.raises(ValueError):
        generate_map_config(1, 99)


def test_rejects_unknown_fields():
    doc = json.loads(generate_map_config(1, 0).to_json())
    doc["extra"] = 1
    with pytest.raises(ValueError):
        MapConfig.from_json(json.dumps(doc))
