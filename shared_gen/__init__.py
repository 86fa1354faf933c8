"""Deterministic world generation: seed -> solar system -> planet -> voxel chunk.

The reference implementation; the Godot client's ``godot_project/gen/`` is a bit-exact port.
numpy only, pure functions, no I/O, no global RNG. Specification: ``docs/generation.md``.

Public API::

    generate_solar_system(world_seed) -> SolarSystem
    get_planet(world_seed, planet_index) -> Planet
    generate_chunk(world_seed, planet_index, (cx, cy, cz)) -> Chunk
    encode_chunk(chunk) -> bytes;  chunk_hash(chunk) -> str (hex SHA-256)
    generate_biosphere(world_seed, planet_index) -> Biosphere
"""

from .biomes import BIOMES, RESOURCE_IDS, RESOURCE_NAMES, BiomeDef
from .biosphere import Biosphere, Species, generate_biosphere
from .constants import (
    CHUNK_SIZE,
    CHUNK_VOLUME,
    DENSITY_SCALE,
    GENERATOR_VERSION,
    MATERIAL_NAMES,
    VOXEL_SIZE,
)
from .encoding import chunk_hash, decode_chunk, encode_chunk
from .hashing import Rng, get_chunk_seed, get_planet_seed, hash_ints
from .planet import Chunk, FieldParams, ResourceNode, field_params, generate_chunk, surface_chunk
from .solar_system import Planet, SolarSystem, generate_solar_system, get_planet

__all__ = [
    "BIOMES",
    "CHUNK_SIZE",
    "CHUNK_VOLUME",
    "DENSITY_SCALE",
    "GENERATOR_VERSION",
    "MATERIAL_NAMES",
    "RESOURCE_IDS",
    "RESOURCE_NAMES",
    "VOXEL_SIZE",
    "BiomeDef",
    "Biosphere",
    "Chunk",
    "FieldParams",
    "Planet",
    "ResourceNode",
    "Rng",
    "SolarSystem",
    "Species",
    "chunk_hash",
    "decode_chunk",
    "encode_chunk",
    "field_params",
    "generate_biosphere",
    "generate_chunk",
    "generate_solar_system",
    "get_chunk_seed",
    "get_planet",
    "get_planet_seed",
    "hash_ints",
    "surface_chunk",
]
