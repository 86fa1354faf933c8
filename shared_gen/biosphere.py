"""Biosphere: species, food web and niches of a planet, generated once per planet.

Seed 000 calls this the expensive step a planet registry caches ("biosphere (species, food
webs)"); seed 002's ``Creature``/``Biome.creature_types`` give the traits. Python only (the
client receives it from the server), but deterministic like the rest of ``shared_gen``.

Model:

* Every biome of the planet gets 2-3 **producers** (flora, trophic level 1) and one or two
  animal species for each niche the biome lists (:data:`NICHES`).
* A niche fixes the diet, size range, temperament and tameability range of its species
  (grazers are large, passive and tameable; ambush predators are solitary and hard to tame).
* **Food web**: herbivores eat the producers of their biome; omnivores eat producers and
  animals under half their mass; carnivores eat animals of their biome up to 1.5x their
  mass (pack hunters up to 4x); scavengers eat carrion of every carnivore of their biome.
  A carnivore left without prey becomes an omnivore, so the web never has a starving
  predator.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from .biomes import BIOMES
from .hashing import Rng
from .names import make_name
from .solar_system import get_planet

SALT_BIOSPHERE: Final = 0x42494F53  # "BIOS"

#: niche -> (diet, trophic level, mass range kg, temperaments, tameability range)
NICHES: Final[dict[str, tuple[str, int, float, float, tuple[str, ...], float, float]]] = {
    "grazer": ("herbivore", 2, 40.0, 900.0, ("passive", "skittish"), 0.5, 0.95),
    "browser": ("herbivore", 2, 200.0, 4000.0, ("passive", "territorial"), 0.3, 0.8),
    "burrower": ("omnivore", 3, 0.5, 30.0, ("skittish", "passive"), 0.2, 0.7),
    "pollinator": ("herbivore", 2, 0.01, 0.5, ("passive",), 0.1, 0.4),
    "filter_feeder": ("herbivore", 2, 5.0, 600.0, ("passive", "skittish"), 0.3, 0.7),
    "scavenger": ("scavenger", 3, 2.0, 80.0, ("skittish", "territorial"), 0.2, 0.6),
    "pack_hunter": ("carnivore", 4, 20.0, 150.0, ("aggressive", "territorial"), 0.15, 0.5),
    "ambush_predator": ("carnivore", 4, 30.0, 800.0, ("aggressive", "territorial"), 0.0, 0.25),
}
#: producer form -> mass range in kg
PRODUCER_FORMS: Final[tuple[tuple[str, float, float], ...]] = (
    ("shrub", 2.0, 60.0), ("tree", 300.0, 8000.0), ("moss", 0.01, 0.5),
    ("fungus", 0.05, 5.0), ("reed", 0.5, 10.0), ("lichen", 0.01, 0.2),
    ("succulent", 1.0, 80.0),
)
SIZE_CLASSES: Final = ((1.0, "tiny"), (20.0, "small"), (200.0, "medium"), (1500.0, "large"))


def size_class(mass_kg: float) -> str:
    """tiny < 1 kg <= small < 20 <= medium < 200 <= large < 1500 <= huge."""
    for limit, name in SIZE_CLASSES:
        if mass_kg < limit:
            return name
    return "huge"


@dataclass(frozen=True, slots=True)
class Species:
    """One species. Mass in kg; tameability in [0, 1]; breeding "egg" or "live"."""

    id: int
    name: str
    kind: str  # "flora" or "fauna"
    biome: str
    niche: str
    diet: str  # photosynthetic, herbivore, omnivore, carnivore, scavenger
    trophic_level: int
    mass_kg: float
    size: str
    temperament: str
    tameability: float
    breeding: str
    creature_form: str

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(frozen=True, slots=True)
class Biosphere:
    """Species, food web edges ``(predator id, prey id)`` and niches of a planet."""

    planet_seed: int
    species: tuple[Species, ...]
    food_web: tuple[tuple[int, int], ...]
    niches: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "planet_seed": self.planet_seed,
            "species": [s.to_dict() for s in self.species],
            "food_web": [list(e) for e in self.food_web],
            "niches": [dict(n) for n in self.niches],
        }

    def prey_of(self, species_id: int) -> list[int]:
        return [b for a, b in self.food_web if a == species_id]

    def predators_of(self, species_id: int) -> list[int]:
        return [a for a, b in self.food_web if b == species_id]


def _mass(rng: Rng, lo: float, hi: float) -> float:
    # geometric-looking spread without pow: interpolate on a squared uniform
    u = rng.next_float()
    return round(lo + (hi - lo) * u * u, 2)


@lru_cache(maxsize=32, typed=True)
def generate_biosphere(world_seed: int, planet_index: int) -> Biosphere:
    """Generate the biosphere of a planet (pure; cached per planet).

    Raises:
        ValueError: bad seed or planet index (see :func:`shared_gen.get_planet`).
    """
    planet = get_planet(world_seed, planet_index)
    rng = Rng(planet.seed, SALT_BIOSPHERE)
    species: list[Species] = []
    niches: list[dict[str, Any]] = []

    def add(**kw: Any) -> Species:
        s = Species(id=len(species), **kw)
        species.append(s)
        return s

    for bid in planet.biome_ids:
        biome = BIOMES[bid]
        ids: list[int] = []
        for _ in range(2 + rng.below(2)):
            form, m_lo, m_hi = PRODUCER_FORMS[rng.below(len(PRODUCER_FORMS))]
            m = _mass(rng, m_lo, m_hi)
            ids.append(add(name=f"{make_name(rng, 2, 3)} {form}", kind="flora", biome=biome.name,
                           niche="producer", diet="photosynthetic", trophic_level=1, mass_kg=m,
                           size=size_class(m), temperament="passive", tameability=0.0,
                           breeding="seed", creature_form=form).id)
        niches.append({"biome": biome.name, "niche": "producer", "species": ids})
        for niche in biome.creature_niches:
            diet, level, lo, hi, temps, t_lo, t_hi = NICHES[niche]
            ids = []
            for _ in range(1 + rng.below(2)):
                m = _mass(rng, lo, hi)
                temperament = temps[rng.below(len(temps))]
                tame = round(rng.uniform(t_lo, t_hi), 2)
                live = rng.below(100) < (70 if m > 50.0 else 30)
                ids.append(add(name=make_name(rng, 2, 3), kind="fauna", biome=biome.name,
                               niche=niche, diet=diet, trophic_level=level, mass_kg=m,
                               size=size_class(m), temperament=temperament, tameability=tame,
                               breeding="live" if live else "egg",
                               creature_form=niche).id)
            niches.append({"biome": biome.name, "niche": niche, "species": ids})

    edges: set[tuple[int, int]] = set()
    by_biome: dict[str, list[Species]] = {}
    for s in species:
        by_biome.setdefault(s.biome, []).append(s)
    final: list[Species] = list(species)
    for s in species:
        local = by_biome[s.biome]
        if s.diet == "herbivore":
            edges.update((s.id, o.id) for o in local if o.kind == "flora")
        elif s.diet == "omnivore":
            edges.update((s.id, o.id) for o in local if o.kind == "flora")
            edges.update((s.id, o.id) for o in local
                         if o.kind == "fauna" and o.id != s.id and o.mass_kg < s.mass_kg * 0.5)
        elif s.diet == "carnivore":
            limit = 4.0 if s.niche == "pack_hunter" else 1.5
            prey = [o for o in local if o.kind == "fauna" and o.id != s.id
                    and o.diet != "carnivore" and o.mass_kg <= s.mass_kg * limit]
            if prey:
                edges.update((s.id, o.id) for o in prey)
            else:  # no prey here: it survives as an omnivore
                final[s.id] = Species(**{**s.to_dict(), "diet": "omnivore", "trophic_level": 3})
                edges.update((s.id, o.id) for o in local if o.kind == "flora")
    for s in final:
        if s.diet == "scavenger":
            local = by_biome[s.biome]
            carrion = [o.id for o in local if final[o.id].diet == "carnivore"]
            edges.update((s.id, o) for o in carrion)
            edges.update((s.id, o.id) for o in local if o.kind == "flora")
    return Biosphere(planet.seed, tuple(final), tuple(sorted(edges)), tuple(niches))
