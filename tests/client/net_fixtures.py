"""Fixtures for the GDScript net tests, made with the server's own world code.

``write_net_fixtures(path)`` writes a JSON document read by
``godot_project/tests/test_net_delta.gd``:

* ``edits``: terrain tool edits applied to one generated surface chunk with
  ``server.world.csg`` (the server's formulas, no soil limit), each with the SHA-256 of the
  resulting ``density.tobytes() + material.tobytes()``: the client's prediction must give the
  same bytes.
* ``deltas``: payloads of every delta format (docs/terrain.md section 4) for that chunk,
  with the SHA-256 of generated + payload (``server.world.delta.apply_delta_payload``), and
  payloads that a client must reject.
* ``incremental``: a protocol v2 INCREMENTAL_ZSTD case: the whole delta after the first
  edit (``base_payload``, ``base_sha256``) and the sparse payload of the voxels changed from
  there to the final state (``payload``, ``sha256``).
* ``frames``: golden frames with random byte changes, cuts and extensions, each with the
  Python decoder's verdict (0 = decodes, else its close code), for the GDScript codec.

The file goes under ``godot_project/tests/golden/`` (gitignored); ``python -m
tests.client.net_fixtures`` writes it by hand.
"""

from __future__ import annotations

import hashlib
import json
import struct
import sys
from pathlib import Path
from typing import Any, Final

import numpy as np
import zstandard

from server.world import csg
from server.world.delta import (
    apply_delta_payload,
    encode_delta,
    encode_diff,
    encode_full,
    encode_sparse,
)
from shared_gen.constants import SOIL
from shared_gen.planet import generate_chunk, surface_chunk

ROOT: Final = Path(__file__).resolve().parents[2]
DEFAULT_PATH: Final = ROOT / "godot_project" / "tests" / "golden" / "net_deltas.json"
WORLD_SEED: Final = 42
PLANET: Final = 0
DIRECTION: Final = (0.3, 1.0, 0.2)

I8 = Any


def _sha(d: I8, m: I8) -> str:
    return hashlib.sha256(np.ascontiguousarray(d, np.int8).tobytes()
                          + np.ascontiguousarray(m, np.uint8).tobytes()).hexdigest()


def _zstd(raw: bytes) -> bytes:
    return zstandard.ZstdCompressor(level=3).compress(raw)


def _edit(d: I8, m: I8, coord: tuple[int, int, int], mode: int, centre: tuple[float, float, float],
          radius: float) -> tuple[I8, I8]:
    lo = (coord[0] * 32, coord[1] * 32, coord[2] * 32)
    dist = csg.distance(lo, d.shape, centre)
    if mode == 0:
        nd = csg.excavate(d, dist, radius)
    elif mode == 1:
        nd = csg.elevate(d, dist, radius)
    else:
        nd = csg.flatten(d, lo, centre, dist, radius, 16)
    return nd, csg.materials(d, nd, m, SOIL)


def build() -> dict[str, Any]:
    """The fixture document (see the module docstring)."""
    coord = surface_chunk(WORLD_SEED, PLANET, DIRECTION)
    ch = generate_chunk(WORLD_SEED, PLANET, coord)
    d0, m0 = ch.density.copy(), ch.material.copy()
    mid = tuple(c * 16.0 + 8.0 for c in coord)
    # radii as float32 values, like the wire
    edits_in = [
        (0, (mid[0], mid[1], mid[2]), 3.0),
        (1, (mid[0] + 2.25, mid[1] + 1.0, mid[2] - 0.75), 2.5),
        (2, (mid[0] - 3.0, mid[1] - 0.5, mid[2] + 2.0), 3.5),
        (0, (mid[0] + 6.1, mid[1] + 0.3, mid[2] + 6.7), 1.25),
    ]
    edits = []
    d, m = d0, m0
    states = []
    for mode, centre, radius in edits_in:
        d, m = _edit(d, m, coord, mode, centre, radius)
        states.append((d, m))
        edits.append({"mode": mode, "centre": list(centre), "radius": radius, "sha256": _sha(d, m)})
    idx = np.flatnonzero((d.reshape(-1) != d0.reshape(-1)) | (m.reshape(-1) != m0.reshape(-1)))
    expect = _sha(d, m)
    deltas: list[dict[str, Any]] = [
        {"name": "sparse", "format": 0, "payload": _zstd(encode_sparse(d, m, idx))},
        {"name": "full", "format": 1, "payload": _zstd(encode_full(d, m))},
        {"name": "diff", "format": 2, "payload": _zstd(encode_diff(d0, m0, d, m))},
        {"name": "server_choice", "format": -1, "payload": encode_delta(d0, m0, d, m)},
    ]
    for e in deltas:
        nd, nm = apply_delta_payload(d0, m0, e["payload"])
        assert _sha(nd, nm) == expect, e["name"]
        e["sha256"] = expect
    no_change = _zstd(encode_sparse(d0, m0, np.array([], dtype=np.intp)))
    deltas.append({"name": "no_change", "format": 0, "payload": no_change, "sha256": _sha(d0, m0)})
    bad = [
        ("not_zstd", b"\x00\x01\x02\x03\x04\x05\x06\x07\x08"),
        ("unknown_format", _zstd(b"\x03" + bytes(10))),
        ("sparse_bad_length", _zstd(struct.pack("<BH", 0, 2) + bytes(4))),
        ("sparse_index_out_of_range", _zstd(struct.pack("<BHHbB", 0, 1, 40000, 5, 2))),
        ("full_truncated", _zstd(encode_full(d, m)[:-1])),
        ("empty", _zstd(b"")),
        ("truncated_frame", encode_delta(d0, m0, d, m)[:-3]),
    ]
    for name, payload in bad:
        deltas.append({"name": name, "format": -1, "payload": payload, "reject": True})
    for e in deltas:
        e["payload"] = e["payload"].hex()
    # protocol v2 incremental entry: the voxels changed from the state after the first edit
    # (whole delta "base_payload") to the final state
    d1, m1 = states[0]
    inc_idx = np.flatnonzero((d.reshape(-1) != d1.reshape(-1)) | (m.reshape(-1) != m1.reshape(-1)))
    inc_raw = encode_sparse(d, m, inc_idx)
    incremental = {"base_payload": encode_delta(d0, m0, d1, m1).hex(), "base_sha256": _sha(d1, m1),
                   "payload": _zstd(inc_raw).hex(), "uncompressed_size": len(inc_raw),
                   "sha256": expect}
    return {
        "frames": _decoder_cases(),
        "note": "generated by tests/client/net_fixtures.py; gitignored",
        "world_seed": WORLD_SEED,
        "planet_index": PLANET,
        "coord": list(coord),
        "generated_sha256": _sha(d0, m0),
        "edits": edits,
        "deltas": deltas,
        "incremental": incremental,
    }


def _decoder_cases(per_frame: int = 60) -> list[dict[str, Any]]:
    """Golden frames with random byte changes / cuts / extensions (seeded), each with the
    Python decoder's verdict: ``code`` 0 if it decodes, else the close code it raises."""
    import random

    from server.protocol import RemoteProtocolError, decode
    from server.protocol.codec import encode
    from server.protocol.golden import examples

    rng = random.Random(20261124)
    out: list[dict[str, Any]] = []
    for _name, msg in examples():
        frame = encode(msg)
        for _ in range(per_frame):
            b = bytearray(frame)
            kind = rng.random()
            if kind < 0.6:
                for _k in range(rng.randint(1, 3)):
                    b[rng.randrange(len(b))] = rng.randrange(256)
            elif kind < 0.8:
                b = b[: rng.randrange(len(b) + 1)]
            else:
                b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
            try:
                decode(bytes(b))
                code = 0
            except RemoteProtocolError as e:
                code = int(e.code)
            out.append({"hex": bytes(b).hex(), "code": code})
    return out


def write_net_fixtures(path: Path = DEFAULT_PATH) -> Path:
    """Write :func:`build` as JSON to ``path``; returns it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(build(), indent=1) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_net_fixtures(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH))
