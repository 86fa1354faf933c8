"""Biome and resource tables (data, part of the generation contract).

A biome is chosen per lattice point as the planet biome whose (temperature, moisture)
centroid is nearest in the scaled distance ``((T - Tc) / 25)^2 + ((M - Mc) / 0.35)^2``
(ties go to the lower biome id), a Whittaker-diagram style classification
(R. H. Whittaker, *Communities and Ecosystems*, 1975) reduced to centroids.

``resource_weights`` are the seed's ``Biome.resource_distribution`` (resource type ->
spawn weight), as integer weights so that every port picks identically.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from . import constants as c

# ---- resource types (uint8 ids) ----------------------------------------------------------
RESOURCE_NAMES: Final[dict[int, str]] = {
    1: "iron",
    2: "copper",
    3: "titanium",
    4: "lithium",
    5: "gold",
    6: "uranium",
    7: "quartz",
    8: "carbon",
    9: "water_ice",
    10: "sulfur",
    11: "crystal",
    12: "organic_resin",
}
RESOURCE_IDS: Final[dict[str, int]] = {v: k for k, v in RESOURCE_NAMES.items()}


@dataclass(frozen=True, slots=True)
class BiomeDef:
    """One biome type.

    Attributes:
        id: uint8 biome id (index in :data:`BIOMES`).
        name: the seed's ``biome_type`` (desert, tundra, forest, toxic, volcanic, ...).
        temperature_c: centroid temperature in degrees Celsius.
        moisture: centroid moisture in [0, 1].
        needs_water: only on planets with liquid water.
        needs_atmosphere: only on planets with an atmosphere (pressure >= 0.1 atm).
        surface: material id of the top metre.
        subsoil: material id from 1 m to 4 m deep.
        rock: material id of the biome's rock to 12 m deep (below: radial strata).
        resource_weights: ((resource id, integer weight), ...) for surface resource nodes.
        creature_niches: niche names the biosphere fills in this biome.
        hazards: environmental hazards (seed's ``Biome.hazards``).
        palette: RGB colours 0-255 (surface, subsoil, rock) for clients.
        roughness: terrain roughness hint in [0, 1] (seed's ``terrain_roughness``).
    """

    id: int
    name: str
    temperature_c: float
    moisture: float
    needs_water: bool
    needs_atmosphere: bool
    surface: int
    subsoil: int
    rock: int
    resource_weights: tuple[tuple[int, int], ...]
    creature_niches: tuple[str, ...]
    hazards: tuple[str, ...]
    palette: tuple[tuple[int, int, int], ...]
    roughness: float


def _w(**kw: int) -> tuple[tuple[int, int], ...]:
    return tuple((RESOURCE_IDS[k], v) for k, v in kw.items())


BIOMES: Final[tuple[BiomeDef, ...]] = (
    BiomeDef(0, "barren", -20.0, 0.0, False, False, c.REGOLITH, c.REGOLITH, c.STONE,
             _w(iron=30, titanium=20, quartz=30, lithium=10, uranium=10),
             ("grazer", "burrower", "scavenger"), ("radiation", "micrometeorites"),
             ((128, 124, 118), (104, 100, 96), (90, 88, 86)), 0.6),
    BiomeDef(1, "desert", 42.0, 0.1, False, True, c.SAND, c.SAND, c.SANDSTONE,
             _w(quartz=35, copper=25, iron=15, gold=10, sulfur=15),
             ("burrower", "grazer", "ambush_predator", "scavenger"), ("heat", "sandstorm"),
             ((222, 196, 132), (201, 172, 110), (176, 132, 90)), 0.3),
    BiomeDef(2, "grassland", 18.0, 0.45, True, True, c.GRASS, c.SOIL, c.STONE,
             _w(carbon=30, iron=25, copper=20, organic_resin=25),
             ("grazer", "pack_hunter", "pollinator", "scavenger"), ("storms",),
             ((110, 160, 70), (120, 90, 60), (110, 108, 104)), 0.2),
    BiomeDef(3, "forest", 12.0, 0.7, True, True, c.GRASS, c.SOIL, c.GRANITE,
             _w(carbon=35, organic_resin=35, iron=15, copper=15),
             ("browser", "ambush_predator", "pollinator", "burrower"), ("spores",),
             ((58, 110, 52), (96, 72, 50), (120, 116, 112)), 0.5),
    BiomeDef(4, "jungle", 30.0, 0.9, True, True, c.GRASS, c.MUD, c.STONE,
             _w(organic_resin=40, carbon=30, gold=10, copper=20),
             ("browser", "ambush_predator", "pollinator", "pack_hunter"), ("heat", "toxins"),
             ((40, 120, 40), (90, 70, 45), (100, 98, 92)), 0.7),
    BiomeDef(5, "swamp", 22.0, 1.0, True, True, c.MUD, c.MUD, c.STONE,
             _w(carbon=40, sulfur=20, organic_resin=25, lithium=15),
             ("filter_feeder", "ambush_predator", "scavenger"), ("toxins", "sinkholes"),
             ((84, 96, 58), (70, 62, 44), (92, 90, 84)), 0.1),
    BiomeDef(6, "tundra", -12.0, 0.4, False, True, c.SNOW, c.PERMAFROST, c.PERMAFROST,
             _w(water_ice=40, iron=20, lithium=25, titanium=15),
             ("grazer", "pack_hunter", "burrower"), ("cold", "blizzard"),
             ((236, 240, 244), (150, 160, 170), (120, 126, 134)), 0.3),
    BiomeDef(7, "glacier", -45.0, 0.65, False, False, c.ICE, c.ICE, c.PERMAFROST,
             _w(water_ice=60, lithium=20, crystal=20),
             ("filter_feeder", "burrower"), ("cold", "crevasses"),
             ((200, 226, 242), (170, 206, 232), (120, 126, 134)), 0.4),
    BiomeDef(8, "volcanic", 75.0, 0.15, False, False, c.ASH, c.BASALT, c.BASALT,
             _w(sulfur=35, iron=20, titanium=20, gold=10, uranium=15),
             ("scavenger", "burrower", "ambush_predator"), ("heat", "lava", "toxic_gas"),
             ((60, 56, 54), (44, 40, 40), (36, 34, 36)), 0.9),
    BiomeDef(9, "toxic", 35.0, 0.6, False, True, c.TOXIC_SLUDGE, c.MUD, c.STONE,
             _w(sulfur=30, uranium=25, lithium=25, crystal=20),
             ("filter_feeder", "scavenger", "ambush_predator"), ("toxic_gas", "acid"),
             ((140, 170, 40), (96, 110, 40), (90, 96, 70)), 0.5),
    BiomeDef(10, "crystal", -5.0, 0.2, False, False, c.CRYSTAL_SHARD, c.REGOLITH, c.GRANITE,
             _w(crystal=50, quartz=25, titanium=15, gold=10),
             ("grazer", "ambush_predator"), ("radiation", "shards"),
             ((170, 140, 220), (120, 110, 140), (100, 96, 110)), 0.8),
)

#: Biome id meaning "not evaluated here" (lattice points far from the surface).
BIOME_NONE: Final = 255

#: Ore materials by depth band: ((material id, weight), ...) per band, chosen per
#: 16 m cell with :func:`shared_gen.hashing.pick_weighted`.
ORE_BANDS: Final[tuple[tuple[float, tuple[tuple[int, int], ...]], ...]] = (
    # (upper radial depth limit in metres, weights)
    (24.0, ((c.ORE_IRON, 50), (c.ORE_COPPER, 40), (c.ORE_LITHIUM, 10))),
    (60.0, ((c.ORE_IRON, 25), (c.ORE_COPPER, 20), (c.ORE_TITANIUM, 30), (c.ORE_LITHIUM, 15),
            (c.ORE_GOLD, 10))),
    (1.0e300, ((c.ORE_TITANIUM, 35), (c.ORE_GOLD, 25), (c.ORE_URANIUM, 40))),
)
