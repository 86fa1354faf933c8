"""Network terrain synchronization (seed 002 Property 37): clients that apply the
server's delta payloads to their own generated chunks hold the server's voxels."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.world import EditMode, World, apply_delta_payload
from shared_gen import generate_chunk

PROPS = settings(max_examples=100, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])
OFFSET = st.floats(-4.5, 4.5, allow_nan=False)
EDIT = st.tuples(
    st.integers(0, 2),  # player
    st.sampled_from(list(EditMode)),
    st.tuples(OFFSET, OFFSET, OFFSET),
    st.floats(0.5, 4.0, allow_nan=False),
    st.booleans(),  # end the tick after this edit
)

Voxels = tuple[np.ndarray, np.ndarray]


class Client:
    """What a game client keeps: per chunk the newest version and voxels it applied."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.chunks: dict[tuple[int, int, int], tuple[int, Voxels]] = {}

    def receive(self, coord: tuple[int, int, int], version: int, payload: bytes | None) -> None:
        have = self.chunks.get(coord)
        if have is not None and have[0] >= version:
            return
        gen = generate_chunk(self.world.config.world_seed, self.world.config.planet_index,
                             coord)
        vox = (gen.density, gen.material)
        if payload is not None:
            vox = apply_delta_payload(gen.density, gen.material, payload)
        self.chunks[coord] = (version, vox)


@PROPS
@given(edits=st.lists(EDIT, min_size=1, max_size=10), late=st.booleans())
def test_property_37_clients_converge_to_server_voxels(make_world, spawn, edits, late):
    """Property 37: edits from three players in server order; a client following the
    per-tick broadcasts and a late joiner both end with the server's voxels."""
    w, p0 = make_world(canister_capacity=4000)
    players = [p0, w.join(None, 0.0), w.join(None, 0.0)]
    for p in players:
        p.canisters[:] = [2000, 2000]
    follower = Client(w)
    for i, (who, mode, off, r, end_tick) in enumerate(edits):
        c = (spawn[0] + off[0], spawn[1] + off[1], spawn[2] + off[2])
        w.apply_edit(players[who].player_id, mode, c, r, i, float(i))
        if end_tick or i == len(edits) - 1:
            w.advance_tick()
            for coord, version in sorted(w.drain_changed().items()):
                v, payload = w.chunk_delta_payload(coord)
                assert v == version
                follower.receive(coord, v, payload)
    modified = w.terrain.modified_chunks()
    assert set(follower.chunks) == set(modified)
    clients = [follower]
    if late:
        joiner = Client(w)
        for coord in modified:
            joiner.receive(coord, *w.chunk_delta_payload(coord))
        clients.append(joiner)
    for client in clients:
        for coord, (version, (d, m)) in client.chunks.items():
            sd, sm = w.voxels(coord)
            assert version == w.chunk_version(coord)
            assert np.array_equal(d, sd) and np.array_equal(m, sm)
