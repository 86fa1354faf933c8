"""The planet voxel field (shared_gen/planet.py): seams, order independence, zones,
materials, resources, quantization and interpolation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sg_support import PROPERTY, clear_caches, surface_chunks

from shared_gen import BIOMES, chunk_hash, generate_chunk, get_planet
from shared_gen import constants as c
from shared_gen.biomes import BIOME_NONE, ORE_BANDS
from shared_gen.planet import (
    DEPTH_MAX,
    DEPTH_MIN,
    RESOURCE_DEPTH_M,
    STRATA,
    compute_lattice,
    field_params,
    lattice_points,
    quantize_density,
    surface_chunk,
    upsample,
    voxel_materials,
)

FIELDS = ("density", "depth", "biome", "ore", "rock", "terrain_height")
ORES = {m for _, ws in ORE_BANDS for m, _ in ws}
offsets = st.tuples(st.integers(-1, 1), st.integers(-1, 1), st.integers(-1, 1)).filter(
    lambda o: o != (0, 0, 0))


def _shared(off: int) -> tuple[slice, slice]:
    """Index ranges (in A, in B) of the lattice points shared along one axis."""
    if off == 1:
        return slice(8, 9), slice(0, 1)
    if off == -1:
        return slice(0, 1), slice(8, 9)
    return slice(0, 9), slice(0, 9)


# ---- seams --------------------------------------------------------------------------------


@PROPERTY
@given(surface_chunks(), offsets)
def test_seams_shared_lattice_points_identical(
    case: tuple[int, int, tuple[int, int, int]], off: tuple[int, int, int]
) -> None:
    """Face, edge and corner neighbours agree bit for bit on every shared lattice point,
    for every lattice field (density[8, :, :] of A == density[0, :, :] of B, etc.)."""
    seed, idx, a = case
    p = field_params(seed, idx)
    b = tuple(v + o for v, o in zip(a, off, strict=True))
    if max(abs(v) for v in b) > p.grid_radius:
        b, a, off = a, tuple(v - o for v, o in zip(a, off, strict=True)), off
        if max(abs(v) for v in a) > p.grid_radius:
            return
    la, lb = compute_lattice(p, a), compute_lattice(p, b)  # type: ignore[arg-type]
    sa, sb = zip(*(_shared(o) for o in off), strict=True)
    for f in FIELDS:
        fa, fb = getattr(la, f)[sa], getattr(lb, f)[sb]
        assert np.array_equal(fa, fb, equal_nan=(f == "terrain_height")), f


@pytest.mark.parametrize(("seed", "idx", "a"), [(42, 0, (41, 12, 8)), (42, 1, (-15, -3, -23))])
def test_seams_face_neighbours_explicit(seed: int, idx: int, a: tuple[int, int, int]) -> None:
    """The six face neighbours of a surface chunk, written out:
    ``compute_lattice(p, A).<field>[8, :, :] == compute_lattice(p, A + x).<field>[0, :, :]``."""
    p = field_params(seed, idx)
    la = compute_lattice(p, a)
    x, y, z = a
    for f in FIELDS:
        nan = f == "terrain_height"
        fa = getattr(la, f)
        pairs = [
            (fa[8, :, :], getattr(compute_lattice(p, (x + 1, y, z)), f)[0, :, :]),
            (fa[0, :, :], getattr(compute_lattice(p, (x - 1, y, z)), f)[8, :, :]),
            (fa[:, 8, :], getattr(compute_lattice(p, (x, y + 1, z)), f)[:, 0, :]),
            (fa[:, 0, :], getattr(compute_lattice(p, (x, y - 1, z)), f)[:, 8, :]),
            (fa[:, :, 8], getattr(compute_lattice(p, (x, y, z + 1)), f)[:, :, 0]),
            (fa[:, :, 0], getattr(compute_lattice(p, (x, y, z - 1)), f)[:, :, 8]),
        ]
        for k, (u, v) in enumerate(pairs):
            assert np.array_equal(u, v, equal_nan=nan), (f, k)


@PROPERTY
@given(surface_chunks(), st.integers(0, 2))
def test_seam_voxels_follow_from_the_shared_face(
    case: tuple[int, int, tuple[int, int, int]], axis: int
) -> None:
    """B's first voxel plane along ``axis`` is a function of A's last lattice face only, so
    a mesher sees a continuous surface across the seam."""
    seed, idx, a = case
    g = field_params(seed, idx).grid_radius
    if a[axis] + 1 > g:
        return
    b = tuple(v + (k == axis) for k, v in enumerate(a))
    face = np.take(compute_lattice(field_params(seed, idx), a).density, [8], axis=axis)
    from_face = quantize_density(upsample(np.repeat(face, 9, axis=axis)))
    chunk_b = generate_chunk(seed, idx, b)  # type: ignore[arg-type]
    assert np.array_equal(np.take(chunk_b.density, 0, axis=axis),
                          np.take(from_face, 0, axis=axis))


# ---- order independence ---------------------------------------------------------------


@PROPERTY
@given(st.lists(surface_chunks(), min_size=2, max_size=3, unique=True), st.randoms())
def test_generation_independent_of_request_order(
    cases: list[tuple[int, int, tuple[int, int, int]]], rnd: object
) -> None:
    clear_caches()
    first = {case: chunk_hash(generate_chunk(*case)) for case in cases}
    order = list(cases) * 2
    rnd.shuffle(order)  # type: ignore[attr-defined]
    clear_caches()
    for case in order:
        assert chunk_hash(generate_chunk(*case)) == first[case]


def test_neighbour_order_grid() -> None:
    """A 3x3x3 block around a surface chunk: forward, reverse and interleaved with another
    planet give identical hashes."""
    seed, idx = 42, 1
    centre = surface_chunk(seed, idx, (0.3, 0.9, -0.2))
    block = [tuple(v + d for v, d in zip(centre, (dx, dy, dz), strict=True))
             for dx in (-1, 0, 1) for dy in (-1, 0, 1) for dz in (-1, 0, 1)]
    fwd = [chunk_hash(generate_chunk(seed, idx, b)) for b in block]  # type: ignore[arg-type]
    clear_caches()
    rev = []
    for b in reversed(block):
        generate_chunk(7, 0, (0, 0, 0))
        rev.append(chunk_hash(generate_chunk(seed, idx, b)))  # type: ignore[arg-type]
    assert rev[::-1] == fwd


# ---- zones ------------------------------------------------------------------------------


def test_core_chunk_is_solid_mantle() -> None:
    ch = generate_chunk(42, 0, (0, 0, 0))
    assert (ch.density == c.DENSITY_MAX_Q).all()
    assert set(np.unique(ch.material)) <= {c.MANTLE_ROCK, *ORES}  # deep ore veins
    assert (ch.material == c.MANTLE_ROCK).mean() > 0.5
    assert ch.resources == ()


def test_open_air_chunk() -> None:
    g = get_planet(42, 0).grid_radius_chunks
    for coord in ((0, g, 0), (g, g, g), (-g, 0, 0)):
        ch = generate_chunk(42, 0, coord)
        assert (ch.density == -c.DENSITY_MAX_Q).all() and (ch.material == c.AIR).all()
        assert ch.resources == ()


def test_strata_below_the_biome_layer() -> None:
    """Along a radial line: biome rock near the surface, then stone, granite, mantle."""
    seed, idx = 42, 0
    p = field_params(seed, idx)
    top = surface_chunk(seed, idx, (1.0, 0.0, 0.0))
    seen: set[int] = set()
    for cx in range(top[0], -1, -1):
        lat = compute_lattice(p, (cx, 0, 0))
        x, y, z = lattice_points((cx, 0, 0))
        radial = p.radius - np.sqrt(x * x + y * y + z * z)
        free = lat.biome == BIOME_NONE
        want = np.where(radial < STRATA[0][0], c.STONE,
                        np.where(radial < STRATA[1][0], c.GRANITE, c.MANTLE_ROCK))
        assert np.array_equal(lat.rock[free], want[free]), cx
        seen.update(int(v) for v in np.unique(lat.rock[free]))
    assert seen == {c.STONE, c.GRANITE, c.MANTLE_ROCK}


def test_cave_below_the_surface() -> None:
    from shared_gen.golden import find_cave_chunk

    ch = find_cave_chunk(42, 0)
    lat = compute_lattice(field_params(42, 0), ch)
    assert ((lat.depth >= 6.0) & (lat.density < 0.0)).any()


@PROPERTY
@given(surface_chunks())
def test_lattice_fields_in_range(case: tuple[int, int, tuple[int, int, int]]) -> None:
    seed, idx, ch = case
    p = field_params(seed, idx)
    lat = compute_lattice(p, ch)
    for f in FIELDS:
        assert getattr(lat, f).shape == (9, 9, 9)
    assert (np.abs(lat.density) <= c.DENSITY_CLAMP).all()
    assert ((lat.depth >= DEPTH_MIN) & (lat.depth <= DEPTH_MAX)).all()
    assert set(np.unique(lat.biome)) <= {*p.biome_ids, BIOME_NONE}
    assert set(np.unique(lat.ore)) <= {0, *ORES}
    assert (lat.depth[lat.ore != 0] > RESOURCE_DEPTH_M).all()
    h = lat.terrain_height[~np.isnan(lat.terrain_height)]
    assert (np.abs(h) <= p.amplitude).all()
    # rock: the biome's rock where a biome is set, else radial strata
    near = lat.biome != BIOME_NONE
    biome_rock = np.array([b.rock for b in BIOMES], np.uint8)
    assert np.array_equal(lat.rock[near], biome_rock[lat.biome[near]])
    assert set(np.unique(lat.rock[~near])) <= {c.STONE, c.GRANITE, c.MANTLE_ROCK}


@PROPERTY
@given(surface_chunks())
def test_chunk_materials_and_resources(case: tuple[int, int, tuple[int, int, int]]) -> None:
    seed, idx, coord = case
    p = field_params(seed, idx)
    ch = generate_chunk(seed, idx, coord)
    lat = compute_lattice(p, coord)
    depth = upsample(lat.depth)
    assert ch.density.shape == ch.material.shape == (32, 32, 32)
    assert ch.density.dtype == np.int8 and ch.material.dtype == np.uint8
    assert ((ch.material == c.AIR) == (ch.density <= 0)).all()
    assert set(np.unique(ch.material)) <= set(c.MATERIAL_NAMES)
    # the material rules, re-derived voxel by voxel on a sample of voxels
    rs = np.random.default_rng(abs(hash(case)) % 2**32)
    for i, j, k in rs.integers(0, 32, size=(60, 3)):
        n = ((i + 2) >> 2, (j + 2) >> 2, (k + 2) >> 2)
        b = int(lat.biome[n])
        if ch.density[i, j, k] <= 0:
            want = c.AIR
        elif b != BIOME_NONE and depth[i, j, k] < 1.0:
            want = BIOMES[b].surface
        elif b != BIOME_NONE and depth[i, j, k] < 4.0:
            want = BIOMES[b].subsoil
        elif lat.ore[n] != 0:
            want = int(lat.ore[n])
        else:
            want = int(lat.rock[n])
        assert ch.material[i, j, k] == want
    # resource nodes
    count = math.floor(p.richness * 16)
    idxs = [r.index for r in ch.resources]
    assert idxs == sorted(set(idxs)) and all(0 <= v < count for v in idxs)
    for r in ch.resources:
        i, j, k = r.voxel
        assert 20 <= r.quantity <= 100
        assert ch.density[i, j, k] > 0 and depth[i, j, k] < RESOURCE_DEPTH_M
        b = int(lat.biome[(i + 2) >> 2, (j + 2) >> 2, (k + 2) >> 2])
        assert b in p.biome_ids
        assert r.resource_type in dict(BIOMES[b].resource_weights)
        assert r.position_m == tuple((cc * 32 + v) * 0.5
                                     for cc, v in zip(coord, r.voxel, strict=True))


def test_voxel_materials_layers() -> None:
    """Hand-made lattice: the layer order surface < 1 m < subsoil < 4 m < ore / rock."""
    from shared_gen.planet import LatticeFields

    full = np.full((9, 9, 9), 1.0)
    lat = LatticeFields(full, full, np.full((9, 9, 9), 2, np.uint8),
                        np.zeros((9, 9, 9), np.uint8), np.full((9, 9, 9), c.STONE, np.uint8),
                        full)
    depth = np.zeros((32, 32, 32))
    depth[:, :, 8:16] = 2.0
    depth[:, :, 16:] = 10.0
    q = np.ones((32, 32, 32), np.int8)
    q[0] = 0
    mat = voxel_materials(lat, q, depth)
    grass = BIOMES[2]
    assert (mat[0] == c.AIR).all()
    assert (mat[1:, :, :8] == grass.surface).all()
    assert (mat[1:, :, 8:16] == grass.subsoil).all()
    assert (mat[1:, :, 16:] == c.STONE).all()
    ore = lat.ore.copy()
    ore[:] = c.ORE_GOLD
    lat2 = LatticeFields(full, full, np.full((9, 9, 9), BIOME_NONE, np.uint8), ore, lat.rock,
                         full)
    assert (voxel_materials(lat2, q, depth)[1:] == c.ORE_GOLD).all()


# ---- quantization and interpolation -----------------------------------------------------


@pytest.mark.parametrize(
    ("d", "q"),
    [(0.0, 0), (1 / 32, 1), (-1 / 32, -1), (1 / 64, 1), (-1 / 64, 0), (3 / 64, 2),
     (-3 / 64, -1), (0.999 / 64, 0), (4.0, 127), (-4.0, -127), (127 / 32, 127),
     (-127 / 32, -127), (1e9, 127), (-1e9, -127)],
)
def test_quantize_examples(d: float, q: int) -> None:
    """``floor(d * 32 + 0.5)``: half up (towards +inf), clamped to +-127 (never -128)."""
    assert int(quantize_density(np.array([d]))[0]) == q


@given(st.lists(st.floats(-10.0, 10.0, allow_nan=False), min_size=1, max_size=64))
def test_quantize_error_and_monotone(ds: list[float]) -> None:
    d = np.sort(np.array(ds))
    q = quantize_density(d)
    assert q.dtype == np.int8
    assert (np.diff(q.astype(int)) >= 0).all()
    inside = np.abs(d) <= 127 / 32
    assert (np.abs(q[inside] / 32 - d[inside]) <= 1 / 64 + 1e-12).all()
    assert (q != -128).all()


@given(st.integers(0, 2**32 - 1))
def test_upsample_hits_lattice_and_stays_in_hull(seed: int) -> None:
    lat = np.random.default_rng(seed).uniform(-4.0, 4.0, (9, 9, 9))
    up = upsample(lat)
    assert up.shape == (32, 32, 32)
    assert np.array_equal(up[::4, ::4, ::4], lat[:8, :8, :8])
    assert up.min() >= lat.min() and up.max() <= lat.max()


def test_upsample_reproduces_linear_fields_exactly() -> None:
    i = np.arange(9, dtype=np.float64) * 4
    x, y, z = np.meshgrid(i, i, i, indexing="ij")
    lat = 0.5 * x - 0.25 * y + 2.0 * z + 1.0
    v = np.arange(32, dtype=np.float64)
    xv, yv, zv = np.meshgrid(v, v, v, indexing="ij")
    assert np.array_equal(upsample(lat), 0.5 * xv - 0.25 * yv + 2.0 * zv + 1.0)


def test_upsample_is_separable_x_then_y_then_z() -> None:
    lat = np.random.default_rng(3).uniform(-4.0, 4.0, (9, 9, 9))
    up = upsample(lat)
    for i, j, k in ((5, 6, 7), (31, 31, 31), (1, 30, 2)):
        a, b, cc = i >> 2, j >> 2, k >> 2
        t, u, w = (i & 3) * 0.25, (j & 3) * 0.25, (k & 3) * 0.25

        def lx(y: int, z: int, a: int = a, t: float = t) -> float:
            return lat[a, y, z] + t * (lat[a + 1, y, z] - lat[a, y, z])

        def ly(z: int, b: int = b, u: float = u) -> float:
            lo = lx(b, z)
            return lo + u * (lx(b + 1, z) - lo)

        lo = ly(cc)
        assert up[i, j, k] == lo + w * (ly(cc + 1) - lo)


# ---- arguments ----------------------------------------------------------------------------


def test_chunk_outside_grid_rejected() -> None:
    g = get_planet(42, 0).grid_radius_chunks
    generate_chunk(42, 0, (g, -g, 0))
    for coord, axis in (((g + 1, 0, 0), "x"), ((0, -g - 1, 0), "y"), ((0, 0, 10**6), "z")):
        with pytest.raises(ValueError, match=rf"\|{axis}\| must be <= {g}"):
            generate_chunk(42, 0, coord)


@pytest.mark.parametrize("bad", [(1.0, 0, 0), (0, True, 0), (0, 0, "1")])
def test_non_integer_chunk_rejected(bad: tuple[object, object, object]) -> None:
    with pytest.raises(ValueError, match="integer"):
        generate_chunk(42, 0, bad)  # type: ignore[arg-type]


def test_unknown_planet_rejected() -> None:
    with pytest.raises(ValueError, match="does not exist"):
        generate_chunk(42, 3, (0, 0, 0))


@given(surface_chunks(max_offset=0))
def test_surface_chunk_contains_the_sphere_point(
    case: tuple[int, int, tuple[int, int, int]]
) -> None:
    seed, idx, ch = case
    g = field_params(seed, idx).grid_radius
    assert all(-g <= v <= g - 1 for v in ch)
    # the reference sphere passes through the chunk's box
    r = field_params(seed, idx).radius
    lo = [v * 16.0 for v in ch]
    hi = [v + 16.0 for v in lo]
    near = math.sqrt(sum(max(a, min(0.0, b)) ** 2 for a, b in zip(lo, hi, strict=True)))
    far = math.sqrt(sum(max(a * a, b * b) for a, b in zip(lo, hi, strict=True)))
    assert near <= r <= far
