"""The GDScript port (godot_project/gen/) against the Python reference (shared_gen/).

1. Golden vectors (hashing, Rng streams, names, noise, fbm, solar systems, six full
   chunks incl. a cave and surface chunks) pass in the headless GDScript runner.
2. A randomized cross-check of 1000 (world seed, planet, chunk) triples (fixed seed, so
   deterministic) in one Godot process; a mismatch names the triple, the first differing
   stage and its first differing lattice point or voxel with both values.
3. res://tools/chunk_hash.gd and res://tools/system.gd print what ``python -m shared_gen``
   prints, and reject bad arguments with the same exit code and message.
4. Thread safety: several WorkerThreadPool workers generate chunks (each its own solar
   system and parameters) at once; the hashes equal the reference's.

Other triples: ``PS_CROSSCHECK_SEED=7 PS_CROSSCHECK_COUNT=5000
PS_CROSSCHECK_WORLD_SEEDS=0:100 pytest tests/gen_port -k cross``, or
``python -m gen_port.crosscheck`` (see docs/gdscript_port.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from godot_support import HEADLESS, PROJECT_DIR, Godot, import_project

from gen_port.crosscheck import (
    STAGES,
    Triple,
    build_triples,
    diagnose,
    python_digests,
    python_hashes,
    python_stage_arrays,
    system_seeds,
    system_text,
    write_jobs,
)
from shared_gen.golden import write_golden
from shared_gen.planet import compute_lattice, field_params

REPO = PROJECT_DIR.parent
GOLDEN_DIR = PROJECT_DIR / "tests" / "golden"
CROSSCHECK_SEED = int(os.environ.get("PS_CROSSCHECK_SEED", "20261124"))
CROSSCHECK_COUNT = int(os.environ.get("PS_CROSSCHECK_COUNT", "1000"))
_WORLD = os.environ.get("PS_CROSSCHECK_WORLD_SEEDS", "")
CROSSCHECK_WORLD_SEEDS = range(*map(int, _WORLD.split(":"))) if _WORLD else None
GOLDEN_TESTS = 20  # GDScript test_gen_* methods, at least


def _explain(proc: subprocess.CompletedProcess[str]) -> str:
    return (f"exit {proc.returncode}\n--- stdout\n{proc.stdout[-6000:]}\n"
            f"--- stderr\n{proc.stderr[-4000:]}")


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


@pytest.fixture(scope="module")
def gd(godot: Godot) -> Godot:
    """Godot with the project imported (class_name cache) and fresh golden vectors."""
    write_golden(GOLDEN_DIR)
    import_project()
    return godot


def _tool(gd: Godot, script: str, args: list[str],
          timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return gd.run([*HEADLESS, "--path", str(PROJECT_DIR), "-s", f"res://tools/{script}",
                   "--", *args], timeout=timeout)


def _batch(gd: Godot, tmp: Path, triples: list[Triple], *extra: str, dump: bool = False,
           timeout: float = 600, systems: list[int] | None = None
           ) -> tuple[dict[str, Any], float]:
    jobs, out = tmp / "jobs.json", tmp / "results.json"
    write_jobs(jobs, triples, dump=dump, systems=systems or [])
    t0 = time.perf_counter()
    proc = _tool(gd, "hash_batch.gd", ["--in", str(jobs), "--out", str(out), *extra],
                 timeout=timeout)
    wall = time.perf_counter() - t0
    assert proc.returncode == 0, _explain(proc)
    data = json.loads(out.read_text())
    assert len(data["results"]) == len(triples)
    return data, wall


# ---- 1. golden vectors in the GDScript runner -----------------------------------------


def test_golden_vectors_pass_in_gdscript(gd: Godot) -> None:
    proc = gd.run_tests("--filter", "test_gen_", timeout=600)
    assert proc.returncode == 0, _explain(proc)
    assert "\nFAIL " not in "\n" + proc.stdout, _explain(proc)
    for name in ("test_gen_hashing.test_rng_streams", "test_gen_noise.test_fbm3",
                 "test_gen_system.test_systems_json_text_matches",
                 "test_gen_chunks.test_encoding_and_hash"):
        assert f"PASS {name}" in proc.stdout, _explain(proc)
    passed = int(_last_line(proc.stdout).split()[0])
    assert passed >= GOLDEN_TESTS, _explain(proc)


# ---- 2. randomized cross-check ------------------------------------------------------------


def test_triples_cover_the_chunk_kinds() -> None:
    triples = build_triples(CROSSCHECK_COUNT, CROSSCHECK_SEED, CROSSCHECK_WORLD_SEEDS)
    assert len(triples) >= CROSSCHECK_COUNT >= 1
    # deterministic
    assert build_triples(CROSSCHECK_COUNT, CROSSCHECK_SEED, CROSSCHECK_WORLD_SEEDS) == triples
    kinds = {t.kind for t in triples}
    assert kinds >= {"surface", "neighbour", "pole", "equator", "negative", "cave", "deep",
                     "air"}
    assert any(all(c < 0 for c in t.chunk) for t in triples)
    # the "cave" triples do reach caves: solid-depth lattice points with negative density
    caves = 0
    for t in triples:
        if t.kind == "cave":
            lat = compute_lattice(field_params(t.seed, t.planet), t.chunk)
            caves += bool(((lat.depth >= 6.0) & (lat.density < 0.0)).any())
    assert caves >= 5


@pytest.mark.timeout(900)
def test_randomized_cross_check(gd: Godot, tmp_path: Path) -> None:
    triples = build_triples(CROSSCHECK_COUNT, CROSSCHECK_SEED, CROSSCHECK_WORLD_SEEDS)
    t0 = time.perf_counter()
    want = python_hashes(triples)
    py_s = time.perf_counter() - t0
    seeds = system_seeds(200, CROSSCHECK_SEED)
    data, wall = _batch(gd, tmp_path, triples, timeout=1800, systems=seeds)
    bad_systems = [s for s in seeds if data["systems"].get(str(s)) != system_text(s)]
    assert not bad_systems, f"solar system JSON differs for seeds {bad_systems[:10]}"
    got = [r["hash"] for r in data["results"]]
    bad = [i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b]
    print(f"cross-check: {len(triples)} chunks; GDScript {data['elapsed_ms'] / 1000:.1f} s "
          f"generating ({wall:.1f} s wall incl. start-up), Python {py_s:.1f} s",
          file=sys.stderr)
    if bad:
        # Re-generate the first few mismatches with every stage dumped and diagnose them.
        sample = [triples[i] for i in bad[:3]]
        dumped, _ = _batch(gd, tmp_path, sample, dump=True)
        lines = [diagnose(t, r) for t, r in zip(sample, dumped["results"], strict=True)]
        for t, r in zip(sample, dumped["results"], strict=True):
            pd = python_digests(t)
            stages = [k for k in pd if pd[k] != r["digests"].get(k)]
            lines.append(f"{t.label()}: differing stage digests {stages}")
        pytest.fail(f"{len(bad)} of {len(triples)} chunks differ:\n" + "\n".join(lines),
                    pytrace=False)


def test_batch_stage_dumps_equal_the_reference_and_diagnose(gd: Godot, tmp_path: Path) -> None:
    """The per-stage output the cross-check diagnoses with is the reference's, and a
    corrupted stage is named with its first differing element."""
    t = Triple(42, 0, (41, 12, 8), "surface")
    data, _ = _batch(gd, tmp_path, [t], dump=True)
    r = data["results"][0]
    py, res = python_stage_arrays(t)
    for stage, _meaning in STAGES:
        assert bytes.fromhex(r["dump"][stage]) == py[stage], stage
    assert r["digests"] == python_digests(t)
    assert r["resources"] == res
    assert res, "this surface chunk has resource nodes"
    mat = bytearray(py["material"])
    idx = next(i for i, m in enumerate(mat) if m)
    mat[idx] ^= 1
    msg = diagnose(t, {**r, "dump": {**r["dump"], "material": mat.hex()}})
    assert "first differing stage material" in msg and f"voxel {idx} " in msg, msg
    depth = bytearray(py["lattice_depth"])
    depth[8 * 100] ^= 1
    msg = diagnose(t, {**r, "dump": {**r["dump"], "lattice_depth": depth.hex()}})
    assert "first differing stage lattice_depth" in msg and "lattice point 100 " in msg, msg


# ---- 3. the command-line tools ---------------------------------------------------------

CHUNK_ARGS = (
    ["--seed", "42", "--planet", "0", "--chunk", "41,12,8"],
    ["--seed", "9223372036854775807", "--planet", "2", "--chunk=-3,-70,-20"],
    ["--seed", "4294967303", "--planet", "1", "--chunk", "0,0,0"],
)
BAD_CHUNK_ARGS = (
    ["--seed", "-1", "--planet", "0", "--chunk", "0,0,0"],
    ["--seed", "9223372036854775808", "--planet", "0", "--chunk", "0,0,0"],
    ["--seed", "abc", "--planet", "0", "--chunk", "0,0,0"],
    ["--seed", "42", "--planet", "3", "--chunk", "0,0,0"],
    ["--seed", "42", "--planet", "-1", "--chunk", "0,0,0"],
    ["--seed", "42", "--planet", "0", "--chunk", "0,0,47"],
    ["--seed", "42", "--planet", "0", "--chunk=-47,0,0"],
    ["--seed", "42", "--planet", "0", "--chunk", "-4,0,0"],  # argparse: an option
    ["--seed", "42", "--planet", "0", "--chunk", "1,2"],
    ["--seed", "42", "--planet", "0", "--chunk", "1,x,2"],
    ["--seed", "42", "--planet", "0"],
)


def _python_cli(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "shared_gen", *args], capture_output=True,
                          text=True, timeout=120, cwd=REPO, check=False)


def test_chunk_hash_tool_matches_python_cli(gd: Godot) -> None:
    for args in CHUNK_ARGS:
        py = _python_cli(["chunk-hash", *args])
        assert py.returncode == 0, py.stderr
        proc = _tool(gd, "chunk_hash.gd", args)
        assert proc.returncode == 0, _explain(proc)
        assert _last_line(proc.stdout) == py.stdout.strip(), (args, _explain(proc))


def test_system_tool_matches_python_cli(gd: Godot) -> None:
    for seed in ("0", "42", "123456789", "9223372036854775807"):
        py = _python_cli(["system", "--seed", seed])
        assert py.returncode == 0, py.stderr
        proc = _tool(gd, "system.gd", ["--seed", seed])
        assert proc.returncode == 0, _explain(proc)
        assert _last_line(proc.stdout) == py.stdout.strip(), (seed, _explain(proc))


def test_tools_reject_bad_arguments_like_python(gd: Godot) -> None:
    for args in BAD_CHUNK_ARGS:
        py = _python_cli(["chunk-hash", *args])
        proc = _tool(gd, "chunk_hash.gd", args)
        assert py.returncode == 2
        assert proc.returncode == 2, (args, _explain(proc))
        assert _last_line(proc.stderr) == _last_line(py.stderr), (args, _explain(proc))
    for seed in ("-5", "1.5", "99999999999999999999"):
        py = _python_cli(["system", "--seed", seed])
        proc = _tool(gd, "system.gd", ["--seed", seed])
        assert (py.returncode, proc.returncode) == (2, 2), (seed, _explain(proc))
        assert _last_line(proc.stderr) == _last_line(py.stderr), (seed, _explain(proc))


def test_hash_batch_rejects_bad_jobs(gd: Godot, tmp_path: Path) -> None:
    jobs = tmp_path / "bad.json"
    cases = (
        {"seed": "-1", "planet": 0, "chunk": [0, 0, 0]},
        {"seed": "42", "planet": 9, "chunk": [0, 0, 0]},
        {"seed": "42", "planet": 0, "chunk": [0, 99, 0]},
        {"seed": "42", "planet": 0, "chunk": [0, 0]},
    )
    for case in cases:
        jobs.write_text(json.dumps({"jobs": [{"seed": "1", "planet": 0, "chunk": [0, 0, 0]},
                                             case]}))
        proc = _tool(gd, "hash_batch.gd", ["--in", str(jobs), "--out", str(tmp_path / "o")])
        assert proc.returncode == 2, (case, _explain(proc))
        assert "job 1" in proc.stderr, (case, _explain(proc))
    proc = _tool(gd, "hash_batch.gd", ["--in", str(jobs)])
    assert proc.returncode == 2, _explain(proc)


# ---- 4. thread safety ------------------------------------------------------------------------


@pytest.mark.timeout(600)
def test_worker_threads_generate_identical_chunks(gd: Godot, tmp_path: Path) -> None:
    triples = build_triples(48, seed=99)
    want = python_hashes(triples)
    # every job builds its own solar system and FieldParams: the whole pipeline runs
    # concurrently on the pool's workers
    data, _ = _batch(gd, tmp_path, triples, "--threads", "4", "--no-cache")
    got = [r["hash"] for r in data["results"]]
    assert data["threads"] == 4
    assert data["worker_threads_used"] >= 2, data["worker_threads_used"]
    mismatched = [t.label() for t, a, b in zip(triples, got, want, strict=True) if a != b]
    assert not mismatched, mismatched
