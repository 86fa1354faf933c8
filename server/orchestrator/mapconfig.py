"""``MapConfig`` (seed 004, "MapConfig Contract"): the deterministic input of one map
instance, generated at runtime from (world seed, planet index) with shared_gen.

A map is one planet of the world's solar system (our maps are planets, streamed in
chunks; seed 004's "no chunking" decision does not apply to our voxel planets, see
docs/orchestrator.md). The client builds the same static geometry from
``(worldSeed, planetIndex)`` through its GDScript port of shared_gen, so two sides with
the same MapConfig agree bit for bit (acceptance criterion 9, checked by the golden
vectors of docs/generation.md). ``config_hash`` identifies a config in logs and in the
``map_instance`` table.

Shape (JSON, camelCase)::

    {"mapId": "planet-0", "instanceId": "planet-0.i0.<8 hex>", "worldSeed": 1,
     "planetIndex": 0, "seed": <u32 planet seed>, "generatorVersion": 1,
     "bounds": {"gridRadiusChunks": .., "chunkSizeM": 16.0, "radiusM": .., "amplitudeM": ..},
     "terrain": {"radiusM", "amplitudeM", "voxelSizeM", "chunkSize", "densityScale", "seeds"},
     "biome": {"biomeIds", "biomeNames", "temperatureMinC", "temperatureMaxC",
               "moistureBias", "hasWater"},
     "propSetIds": ["props.<biome name>", ...],
     "staticCollider": {"source": "voxel-density", "mesher": "surface-nets", ...},
     "generationRules": {"npcDensityPerKm2", "interactableDensityPerKm2",
                         "resourceRichness", "lootTier"}}
"""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from shared_gen import (
    CHUNK_SIZE,
    DENSITY_SCALE,
    GENERATOR_VERSION,
    VOXEL_SIZE,
    Rng,
    field_params,
    get_planet,
)

#: Salt of the generation-rule stream (distinct from shared_gen's field salts).
SALT_RULES = 0x4D415043  # "MAPC"


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True,
                              extra="forbid")


class Bounds(_Model):
    grid_radius_chunks: int
    chunk_size_m: float
    radius_m: float
    amplitude_m: float


class TerrainParams(_Model):
    radius_m: float
    amplitude_m: float
    voxel_size_m: float
    chunk_size: int
    density_scale: int
    seeds: dict[str, int]


class BiomeParams(_Model):
    biome_ids: tuple[int, ...]
    biome_names: tuple[str, ...]
    temperature_min_c: float
    temperature_max_c: float
    moisture_bias: float
    has_water: bool


class StaticColliderParams(_Model):
    source: str = "voxel-density"
    mesher: str = "surface-nets"
    iso_level: int = 0
    voxel_size_m: float = VOXEL_SIZE


class GenerationRules(_Model):
    npc_density_per_km2: float
    interactable_density_per_km2: float
    resource_richness: float
    loot_tier: int


class MapConfig(_Model):
    map_id: str
    instance_id: str
    world_seed: int
    planet_index: int
    seed: int
    generator_version: int
    bounds: Bounds
    terrain: TerrainParams
    biome: BiomeParams
    prop_set_ids: tuple[str, ...]
    static_collider: StaticColliderParams
    generation_rules: GenerationRules

    def to_json(self) -> str:
        """Canonical JSON (camelCase, sorted keys, no spaces)."""
        return json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True,
                          separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> MapConfig:
        return cls.model_validate_json(text)

    def config_hash(self) -> str:
        """SHA-256 hex of :meth:`to_json`."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()


def map_id_for(planet_index: int) -> str:
    return f"planet-{planet_index}"


def generate_map_config(world_seed: int, planet_index: int, instance: int = 0) -> MapConfig:
    """The MapConfig of planet ``planet_index`` (pure; same inputs, same config).

    Raises:
        ValueError: bad seed or no such planet (from ``shared_gen.get_planet``).
    """
    planet = get_planet(world_seed, planet_index)
    fp = field_params(world_seed, planet_index)
    rng = Rng(planet.seed, SALT_RULES, instance)
    map_id = map_id_for(planet_index)
    tag = f"{rng.next_u32():08x}"
    names = tuple(b.name for b in planet.biomes)
    seeds = {k: int(getattr(fp, f"seed_{k}")) for k in
             ("terrain", "overhang", "cave_a", "cave_b", "temperature", "moisture", "ore",
              "ore_type")}
    chunk_m = CHUNK_SIZE * VOXEL_SIZE
    return MapConfig(
        map_id=map_id,
        instance_id=f"{map_id}.i{instance}.{tag}",
        world_seed=world_seed,
        planet_index=planet_index,
        seed=planet.seed,
        generator_version=GENERATOR_VERSION,
        bounds=Bounds(grid_radius_chunks=planet.grid_radius_chunks, chunk_size_m=chunk_m,
                      radius_m=float(planet.radius_m), amplitude_m=planet.terrain_amplitude_m),
        terrain=TerrainParams(radius_m=float(planet.radius_m),
                              amplitude_m=planet.terrain_amplitude_m, voxel_size_m=VOXEL_SIZE,
                              chunk_size=CHUNK_SIZE, density_scale=DENSITY_SCALE, seeds=seeds),
        biome=BiomeParams(biome_ids=planet.biome_ids, biome_names=names,
                          temperature_min_c=planet.temperature_min_c,
                          temperature_max_c=planet.temperature_max_c,
                          moisture_bias=planet.moisture_bias, has_water=planet.has_water),
        prop_set_ids=tuple(f"props.{n}" for n in names),
        static_collider=StaticColliderParams(),
        generation_rules=GenerationRules(
            npc_density_per_km2=round(rng.uniform(2.0, 12.0), 3),
            interactable_density_per_km2=round(rng.uniform(5.0, 40.0), 3),
            resource_richness=planet.resource_richness,
            loot_tier=1 + rng.below(3),
        ),
    )
