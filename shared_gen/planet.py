"""The planet voxel field: density and material of every voxel of a chunk, resource nodes.

The world is an integer voxel grid centred on the planet's centre: global voxel ``g``
(an int per axis) is the point ``g * VOXEL_SIZE`` metres. Chunk ``c`` holds the voxels
``32 * c + i`` for ``i`` in ``0..31`` on each axis.

Generation has two stages (see ``docs/generation.md`` for every formula):

1. **Lattice stage.** The expensive fields are evaluated on the coarse lattice of global
   voxels that are multiples of ``LATTICE_STEP`` (4), 9 x 9 x 9 points per chunk (both faces
   included, so neighbouring chunks share their face points exactly): density ``d`` in
   metres (clamped to +-4 m), depth below the terrain surface (clamped to [-8, 16] m),
   biome id, ore material and rock material.
2. **Voxel stage.** Density and depth are interpolated to the 32^3 voxels (trilinear,
   separable: along x, then y, then z, ``a + t * (b - a)`` with ``t`` in {0, .25, .5, .75});
   density is quantized to int8; materials come from the depth, and the biome / ore / rock
   of the nearest lattice point (index ``(i + 2) >> 2``).

Every value depends only on global coordinates, never on which chunk asked, so chunks are
seamless and order-independent. All float math is float64 ``+ - * /``, ``floor``, ``sqrt``
(correctly rounded by IEEE 754) and comparisons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import numpy as np
import numpy.typing as npt

from . import constants as c
from .biomes import BIOME_NONE, BIOMES, ORE_BANDS
from .hashing import Rng, get_chunk_seed, hash_ints, pick_weighted
from .noise import fbm3, perlin3
from .solar_system import Planet, get_planet

F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]
I8 = npt.NDArray[np.int8]

# ---- field constants (part of the contract) ------------------------------------------
TERRAIN_FREQ: Final = 1.0 / 128.0  # per metre, on the reference sphere
TERRAIN_OCTAVES: Final = 4
OVERHANG_FREQ: Final = 1.0 / 16.0
OVERHANG_AMP: Final = 3.0  # metres
OVERHANG_BAND: Final = 6.0  # metres either side of the terrain surface
CAVE_FREQ: Final = 1.0 / 32.0
CAVE_THRESHOLD: Final = 0.1
CAVE_SCALE: Final = 24.0  # metres per noise unit
CAVE_MAX_DEPTH: Final = 96.0  # metres below the reference radius
CLIMATE_FREQ: Final = 1.0 / 256.0
TEMP_NOISE_C: Final = 8.0
LAPSE_C_PER_M: Final = 0.05
ORE_FREQ: Final = 1.0 / 8.0
ORE_THRESHOLD: Final = 0.45
DEPTH_MIN: Final = -8.0
DEPTH_MAX: Final = 16.0
AIR_MARGIN: Final = 8.0  # lattice points with r >= R + A + 8 are air
DEEP_MARGIN: Final = 16.0  # lattice points with r <= R - A - 16 are deep
BIOME_DEPTH_TOP: Final = 12.0
SURFACE_LAYER_M: Final = 1.0
SUBSOIL_LAYER_M: Final = 4.0
RESOURCE_DEPTH_M: Final = 2.0
RESOURCE_CANDIDATES_PER_RICHNESS: Final = 16
STRATA: Final = ((40.0, c.STONE), (100.0, c.GRANITE))  # radial depth limits; below: mantle

# ---- noise seed salts ----------------------------------------------------------------
SALT_TERRAIN: Final = 1
SALT_OVERHANG: Final = 2
SALT_CAVE_A: Final = 3
SALT_CAVE_B: Final = 4
SALT_TEMPERATURE: Final = 5
SALT_MOISTURE: Final = 6
SALT_ORE: Final = 7
SALT_ORE_TYPE: Final = 8
SALT_RESOURCES: Final = 9


@dataclass(frozen=True, slots=True)
class FieldParams:
    """Everything the voxel field of one planet depends on.

    Attributes:
        radius: reference sphere radius R, metres.
        amplitude: terrain height bound A, metres (``|h| <= A``).
        seeds: u32 noise seeds ``hash_ints(planet_seed, salt)`` by salt name.
    """

    planet_seed: int
    radius: float
    amplitude: float
    temperature_min_c: float
    temperature_max_c: float
    moisture_bias: float
    biome_ids: tuple[int, ...]
    richness: float
    grid_radius: int
    seed_terrain: int
    seed_overhang: int
    seed_cave_a: int
    seed_cave_b: int
    seed_temperature: int
    seed_moisture: int
    seed_ore: int
    seed_ore_type: int

    @classmethod
    def from_planet(cls, planet: Planet) -> FieldParams:
        s = planet.seed
        return cls(
            planet_seed=s,
            radius=float(planet.radius_m),
            amplitude=planet.terrain_amplitude_m,
            temperature_min_c=planet.temperature_min_c,
            temperature_max_c=planet.temperature_max_c,
            moisture_bias=planet.moisture_bias,
            biome_ids=planet.biome_ids,
            richness=planet.resource_richness,
            grid_radius=planet.grid_radius_chunks,
            seed_terrain=hash_ints(s, SALT_TERRAIN),
            seed_overhang=hash_ints(s, SALT_OVERHANG),
            seed_cave_a=hash_ints(s, SALT_CAVE_A),
            seed_cave_b=hash_ints(s, SALT_CAVE_B),
            seed_temperature=hash_ints(s, SALT_TEMPERATURE),
            seed_moisture=hash_ints(s, SALT_MOISTURE),
            seed_ore=hash_ints(s, SALT_ORE),
            seed_ore_type=hash_ints(s, SALT_ORE_TYPE),
        )


@lru_cache(maxsize=256, typed=True)
def field_params(world_seed: int, planet_index: int) -> FieldParams:
    """:class:`FieldParams` of a planet (cached). Raises ``ValueError`` like ``get_planet``."""
    return FieldParams.from_planet(get_planet(world_seed, planet_index))


@dataclass(frozen=True, slots=True)
class LatticeFields:
    """Lattice-stage output for one chunk; arrays are (9, 9, 9) indexed [x, y, z].

    Attributes:
        density: float64 metres, positive = solid, clamped to [-4, 4].
        depth: float64 metres below the terrain surface (negative above), clamped [-8, 16].
        biome: uint8 biome id, 255 where not evaluated (far from the surface).
        ore: uint8 ore material id, 0 = none.
        rock: uint8 rock material id.
        terrain_height: float64 metres (h, NaN where not evaluated), for diagnostics.
    """

    density: F64
    depth: F64
    biome: U8
    ore: U8
    rock: U8
    terrain_height: F64


def check_chunk(params: FieldParams, chunk: tuple[int, int, int]) -> None:
    """Raise ``ValueError`` unless every chunk coordinate is within ``+-grid_radius``."""
    g = params.grid_radius
    for axis, v in zip("xyz", chunk, strict=True):
        if isinstance(v, bool | np.bool_) or not isinstance(v, int | np.integer):
            raise ValueError(f"chunk {axis} coordinate must be an integer, got {v!r}")
        if not -g <= v <= g:
            raise ValueError(
                f"chunk {axis} coordinate {v} is outside the planet's grid: "
                f"|{axis}| must be <= {g}"
            )


def lattice_points(chunk: tuple[int, int, int]) -> tuple[F64, F64, F64]:
    """World positions in metres of the chunk's 9^3 lattice points, each (9, 9, 9) float64."""
    base = [v * c.CHUNK_SIZE for v in chunk]
    ax = [
        (b + np.arange(c.LATTICE_POINTS, dtype=np.int64) * c.LATTICE_STEP).astype(np.float64)
        * c.VOXEL_SIZE
        for b in base
    ]
    x, y, z = np.meshgrid(ax[0], ax[1], ax[2], indexing="ij")
    return x, y, z


def terrain_height(p: FieldParams, sx: F64, sy: F64, sz: F64) -> F64:
    """Terrain height h in metres at surface points S (metres, on the reference sphere).

    ``h = clamp(A * fbm3(seed_terrain, S * TERRAIN_FREQ, 4 octaves), -A, A)``.
    """
    f = TERRAIN_FREQ
    n = fbm3(p.seed_terrain, sx * f, sy * f, sz * f, TERRAIN_OCTAVES)
    return np.minimum(np.maximum(p.amplitude * n, -p.amplitude), p.amplitude)


def compute_lattice(p: FieldParams, chunk: tuple[int, int, int]) -> LatticeFields:
    """Lattice stage for one chunk (see the module docstring and docs/generation.md)."""
    x, y, z = lattice_points(chunk)
    shape = x.shape
    r = np.sqrt(x * x + y * y + z * z)
    big_r = p.radius
    amp = p.amplitude

    sd = np.empty(shape)  # surface distance R + h - r (sentinels outside the band)
    h_all = np.full(shape, np.nan)
    air = r >= big_r + amp + AIR_MARGIN
    deep = r <= big_r - amp - DEEP_MARGIN
    band = ~(air | deep)
    sd[air] = DEPTH_MIN
    sd[deep] = DEPTH_MAX
    if band.any():
        rb = r[band]
        k = big_r / rb
        sx, sy, sz = x[band] * k, y[band] * k, z[band] * k
        h = terrain_height(p, sx, sy, sz)
        h_all[band] = h
        sd[band] = (big_r + h) - rb

    # overhangs: 3D noise added within +-6 m of the terrain surface
    d1 = sd.copy()
    ov = (sd > -OVERHANG_BAND) & (sd < OVERHANG_BAND)
    if ov.any():
        f = OVERHANG_FREQ
        w = 1.0 - np.abs(sd[ov]) / OVERHANG_BAND
        n = perlin3(p.seed_overhang, x[ov] * f, y[ov] * f, z[ov] * f)
        d1[ov] = sd[ov] + OVERHANG_AMP * w * n

    # caves: spaghetti tunnels where two noise fields are both near zero
    d = d1.copy()
    cv = (d1 > -c.DENSITY_CLAMP) & (r > big_r - CAVE_MAX_DEPTH)
    if cv.any():
        f = CAVE_FREQ
        xc, yc, zc = x[cv] * f, y[cv] * f, z[cv] * f
        n1 = np.abs(perlin3(p.seed_cave_a, xc, yc, zc))
        n2 = np.abs(perlin3(p.seed_cave_b, xc, yc, zc))
        cave_d = (np.maximum(n1, n2) - CAVE_THRESHOLD) * CAVE_SCALE
        d[cv] = np.minimum(d1[cv], cave_d)

    density = np.minimum(np.maximum(d, -c.DENSITY_CLAMP), c.DENSITY_CLAMP)
    depth = np.minimum(np.maximum(sd, DEPTH_MIN), DEPTH_MAX)

    # biomes near the surface
    biome = np.full(shape, BIOME_NONE, dtype=np.uint8)
    bm = (depth > DEPTH_MIN) & (depth < BIOME_DEPTH_TOP)
    if bm.any():
        rb = r[bm]
        k = big_r / rb
        f = CLIMATE_FREQ
        sx, sy, sz = x[bm] * k * f, y[bm] * k * f, z[bm] * k * f
        lat = np.abs(y[bm]) / rb
        n_t = perlin3(p.seed_temperature, sx, sy, sz)
        n_m = perlin3(p.seed_moisture, sx, sy, sz)
        hb = h_all[bm]
        temp = (
            p.temperature_max_c
            + (p.temperature_min_c - p.temperature_max_c) * (lat * lat)
            + TEMP_NOISE_C * n_t
            - LAPSE_C_PER_M * hb
        )
        moist = (0.5 + p.moisture_bias) + 0.5 * n_m
        best = np.full(temp.shape, np.inf)
        chosen = np.zeros(temp.shape, dtype=np.uint8)
        for bid in p.biome_ids:
            bd = BIOMES[bid]
            e1 = (temp - bd.temperature_c) / 25.0
            e2 = (moist - bd.moisture) / 0.35
            dist = e1 * e1 + e2 * e2
            better = dist < best
            best = np.where(better, dist, best)
            chosen = np.where(better, np.uint8(bid), chosen)
        biome[bm] = chosen

    # rock: the biome's rock to 12 m deep, else radial strata
    radial = big_r - r
    rock = np.full(shape, c.MANTLE_ROCK, dtype=np.uint8)
    for limit, mat in reversed(STRATA):
        rock[radial < limit] = mat
    near = biome != BIOME_NONE
    if near.any():
        biome_rock = np.array([b.rock for b in BIOMES], dtype=np.uint8)
        rock[near] = biome_rock[biome[near]]

    # ore veins: a 3D noise threshold; the ore kind is fixed per 16 m cell and depth band
    ore = np.zeros(shape, dtype=np.uint8)
    om = (depth > RESOURCE_DEPTH_M) & (density > -c.DENSITY_CLAMP)
    if om.any():
        f = ORE_FREQ
        n_o = perlin3(p.seed_ore, x[om] * f, y[om] * f, z[om] * f)
        vein = n_o > ORE_THRESHOLD
        if vein.any():
            idx = np.argwhere(om)[vein]
            cx, cy, cz = chunk
            vals = np.zeros(len(idx), dtype=np.uint8)
            for m, (i, j, kk) in enumerate(idx):
                gx = cx * c.CHUNK_SIZE + int(i) * c.LATTICE_STEP
                gy = cy * c.CHUNK_SIZE + int(j) * c.LATTICE_STEP
                gz = cz * c.CHUNK_SIZE + int(kk) * c.LATTICE_STEP
                vals[m] = ore_kind(p, gx, gy, gz, float(radial[i, j, kk]))
            ore[tuple(idx.T)] = vals

    return LatticeFields(density, depth, biome, ore, rock, h_all)


def ore_kind(p: FieldParams, gx: int, gy: int, gz: int, radial_depth: float) -> int:
    """Ore material of a vein at lattice point (global voxel) ``g``.

    The 16 m cell is ``floor(g / 32)`` per axis (floor division: -1 // 32 == -1);
    ``pick_weighted(hash_ints(seed_ore_type, cell...), band weights)`` where the band is
    the first of :data:`ORE_BANDS` whose limit exceeds the radial depth ``R - r``.
    """
    weights = ORE_BANDS[-1][1]
    for limit, band in ORE_BANDS:
        if radial_depth < limit:
            weights = band
            break
    u = hash_ints(p.seed_ore_type, gx // c.CHUNK_SIZE, gy // c.CHUNK_SIZE, gz // c.CHUNK_SIZE)
    return weights[pick_weighted(u, [w for _, w in weights])][0]


# ---- voxel stage --------------------------------------------------------------------
_T: Final = (np.arange(c.CHUNK_SIZE) & (c.LATTICE_STEP - 1)).astype(np.float64) * 0.25
_A: Final = np.arange(c.CHUNK_SIZE) >> 2
_NEAR: Final = (np.arange(c.CHUNK_SIZE) + 2) >> 2


def upsample(lattice: F64) -> F64:
    """Trilinear interpolation of a (9, 9, 9) lattice field to (32, 32, 32), separable.

    Along x: ``v[a] + t * (v[a + 1] - v[a])`` with ``a = i >> 2``, ``t = (i & 3) * 0.25``;
    then along y on that result, then along z. Bit-identical to evaluating
    x-lerps, y-lerps, z-lerp per voxel.
    """
    t = _T
    a = _A
    lo = lattice[a]
    v = lo + t[:, None, None] * (lattice[a + 1] - lo)
    lo = v[:, a]
    v = lo + t[None, :, None] * (v[:, a + 1] - lo)
    lo = v[:, :, a]
    return lo + t[None, None, :] * (v[:, :, a + 1] - lo)  # type: ignore[no-any-return]


def quantize_density(d: F64) -> I8:
    """``clamp(floor(d * DENSITY_SCALE + 0.5), -127, 127)`` as int8 (d in metres)."""
    q = np.floor(d * c.DENSITY_SCALE + 0.5)
    return np.clip(q, -c.DENSITY_MAX_Q, c.DENSITY_MAX_Q).astype(np.int8)


_SURFACE_MAT: Final = np.array([b.surface for b in BIOMES] + [0] * (256 - len(BIOMES)), np.uint8)
_SUBSOIL_MAT: Final = np.array([b.subsoil for b in BIOMES] + [0] * (256 - len(BIOMES)), np.uint8)


def voxel_materials(lat: LatticeFields, q: I8, depth: F64) -> U8:
    """Material per voxel (uint8 (32, 32, 32)); rules in order:

    air where ``q <= 0``; the biome's surface material where depth < 1 m; its subsoil
    where depth < 4 m (both only if the nearest lattice point has a biome); the nearest
    lattice point's ore if any; else its rock.
    """
    n = _NEAR
    ix = n[:, None, None]
    iy = n[None, :, None]
    iz = n[None, None, :]
    b = lat.biome[ix, iy, iz]
    has_b = b != BIOME_NONE
    ore = lat.ore[ix, iy, iz]
    mat = np.where(ore != 0, ore, lat.rock[ix, iy, iz])
    mat = np.where(has_b & (depth < SUBSOIL_LAYER_M), _SUBSOIL_MAT[b], mat)
    mat = np.where(has_b & (depth < SURFACE_LAYER_M), _SURFACE_MAT[b], mat)
    return np.where(q > 0, mat, np.uint8(c.AIR)).astype(np.uint8)


@dataclass(frozen=True, slots=True)
class ResourceNode:
    """A surface resource deposit.

    Attributes:
        index: candidate index in the chunk's stream (stable id within the chunk).
        resource_type: resource id (see :data:`shared_gen.biomes.RESOURCE_NAMES`).
        quantity: units, 20-100.
        voxel: (i, j, k) voxel index within the chunk.
        position_m: world position in metres of that voxel.
    """

    index: int
    resource_type: int
    quantity: int
    voxel: tuple[int, int, int]
    position_m: tuple[float, float, float]


def place_resources(
    p: FieldParams, chunk: tuple[int, int, int], lat: LatticeFields, q: I8, depth: F64
) -> tuple[ResourceNode, ...]:
    """Resource nodes of a chunk, from the stream ``Rng(get_chunk_seed(...), SALT_RESOURCES)``.

    ``floor(richness * 16)`` candidates; each draws i, j, k (``below(32)``), a u32 for the
    type and ``20 + below(81)`` for the quantity (five draws, always). A candidate is kept
    when its voxel is solid, less than 2 m below the terrain surface and its nearest
    lattice point has a biome; its type is ``pick_weighted(u32, biome resource weights)``
    (Property 35).
    """
    rng = Rng(get_chunk_seed(p.planet_seed, chunk), SALT_RESOURCES)
    count = math.floor(p.richness * RESOURCE_CANDIDATES_PER_RICHNESS)
    nodes: list[ResourceNode] = []
    cx, cy, cz = chunk
    for k in range(count):
        i = rng.below(c.CHUNK_SIZE)
        j = rng.below(c.CHUNK_SIZE)
        m = rng.below(c.CHUNK_SIZE)
        u = rng.next_u32()
        qty = 20 + rng.below(81)
        if q[i, j, m] <= 0 or not depth[i, j, m] < RESOURCE_DEPTH_M:
            continue
        b = int(lat.biome[(i + 2) >> 2, (j + 2) >> 2, (m + 2) >> 2])
        if b == BIOME_NONE:
            continue
        weights = BIOMES[b].resource_weights
        rtype = weights[pick_weighted(u, [w for _, w in weights])][0]
        pos = (
            (cx * c.CHUNK_SIZE + i) * c.VOXEL_SIZE,
            (cy * c.CHUNK_SIZE + j) * c.VOXEL_SIZE,
            (cz * c.CHUNK_SIZE + m) * c.VOXEL_SIZE,
        )
        nodes.append(ResourceNode(k, rtype, qty, (i, j, m), pos))
    return tuple(nodes)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A generated chunk.

    Attributes:
        density: int8 (32, 32, 32) indexed [x, y, z]; solid > 0, 32 units per metre.
        material: uint8 (32, 32, 32) indexed [x, y, z]; 0 = air.
        resources: surface resource nodes.
    """

    world_seed: int
    planet_index: int
    planet_seed: int
    coord: tuple[int, int, int]
    density: I8
    material: U8
    resources: tuple[ResourceNode, ...]


def generate_chunk(world_seed: int, planet_index: int, chunk: tuple[int, int, int]) -> Chunk:
    """Generate chunk ``(cx, cy, cz)`` of planet ``planet_index`` of ``world_seed``.

    Pure and thread-safe (no shared mutable state besides read-only caches).

    Raises:
        ValueError: bad seed, unknown planet, or chunk coordinates outside the grid.
    """
    p = field_params(world_seed, planet_index)  # validates seed and planet (typed cache)
    check_chunk(p, chunk)
    chunk = (int(chunk[0]), int(chunk[1]), int(chunk[2]))
    lat = compute_lattice(p, chunk)
    d = upsample(lat.density)
    depth = upsample(lat.depth)
    q = quantize_density(d)
    mat = voxel_materials(lat, q, depth)
    res = place_resources(p, chunk, lat, q, depth)
    return Chunk(world_seed, planet_index, p.planet_seed, chunk, q, mat, res)


def surface_chunk(world_seed: int, planet_index: int, direction: tuple[float, float, float]
                  ) -> tuple[int, int, int]:
    """Chunk containing the reference-sphere point in ``direction`` (need not be unit)."""
    p = field_params(world_seed, planet_index)
    dx, dy, dz = direction
    n = math.sqrt(dx * dx + dy * dy + dz * dz)
    if not n > 0.0 or not math.isfinite(n):
        raise ValueError(f"direction must be a finite non-zero vector, got {direction!r}")
    chunk_m = c.CHUNK_SIZE * c.VOXEL_SIZE
    return tuple(  # type: ignore[return-value]
        math.floor(v / n * p.radius / chunk_m) for v in (dx, dy, dz)
    )
