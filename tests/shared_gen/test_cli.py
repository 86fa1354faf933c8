"""``python -m shared_gen`` as a subprocess: outputs, cross-process determinism, and bad
input (exit code 2, one line on stderr naming the limit)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shared_gen import chunk_hash, generate_chunk, generate_solar_system, get_planet
from shared_gen.constants import SEED_MAX

ROOT = Path(__file__).resolve().parents[2]
README_HASH = "c1f9ea3a57271d271e22efae936e89db3d46dbc721b99566041b594ec635a223"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "shared_gen", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def run_many(argvs: list[list[str]]) -> list[tuple[int, str, str]]:
    """Run several CLI processes at once (the machine has two cores)."""
    procs = [subprocess.Popen([sys.executable, "-m", "shared_gen", *a], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for a in argvs]
    out = []
    for p in procs:
        so, se = p.communicate(timeout=120)
        out.append((p.returncode, so, se))
    return out


def test_chunk_hash_same_in_two_processes() -> None:
    argv = ["chunk-hash", "--seed", "42", "--planet", "0", "--chunk", "41,12,8"]
    (rc1, out1, err1), (rc2, out2, err2) = run_many([argv, argv])
    assert (rc1, rc2) == (0, 0), err1 + err2
    assert out1 == out2 == README_HASH + "\n"
    assert out1.strip() == chunk_hash(generate_chunk(42, 0, (41, 12, 8)))


def test_chunk_hash_negative_and_spaced_coordinates() -> None:
    r = run("chunk-hash", "--seed", str(SEED_MAX), "--planet", "0", "--chunk", "-5, 21,-10")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == chunk_hash(generate_chunk(SEED_MAX, 0, (-5, 21, -10)))


def test_system_json() -> None:
    r = run("system", "--seed", "42")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("\n") == 1
    assert json.loads(r.stdout) == json.loads(json.dumps(generate_solar_system(42).to_dict()))


def test_golden_writes_files(tmp_path: Path) -> None:
    r = run("golden", "--out", str(tmp_path / "g"))
    assert r.returncode == 0, r.stderr
    names = sorted(Path(line).name for line in r.stdout.split())
    assert names == ["chunks.json", "hashing.json", "noise.json", "systems.json"]
    chunks = json.loads((tmp_path / "g" / "chunks.json").read_text())
    for c in chunks:
        assert c["hash"] == chunk_hash(generate_chunk(c["world_seed"], c["planet"],
                                                      tuple(c["chunk"])))


G42 = get_planet(42, 0).grid_radius_chunks  # 46
BAD = [
    # (argv, text the one-line message must contain: the limit or the expected form)
    (["chunk-hash", "--seed", "abc", "--planet", "0", "--chunk", "0,0,0"],
     f"[0, {SEED_MAX}]"),
    (["chunk-hash", "--seed", "1.5", "--planet", "0", "--chunk", "0,0,0"], f"[0, {SEED_MAX}]"),
    (["chunk-hash", "--seed", "-1", "--planet", "0", "--chunk", "0,0,0"], f"[0, {SEED_MAX}]"),
    (["chunk-hash", "--seed", str(SEED_MAX + 1), "--planet", "0", "--chunk", "0,0,0"],
     f"[0, {SEED_MAX}]"),
    (["system", "--seed", "0x10"], f"[0, {SEED_MAX}]"),
    (["chunk-hash", "--seed", "42", "--planet", "3", "--chunk", "0,0,0"],
     "has 3 planets (0..2)"),
    (["chunk-hash", "--seed", "42", "--planet", "-1", "--chunk", "0,0,0"],
     "has 3 planets (0..2)"),
    (["chunk-hash", "--seed", "42", "--planet", "70000", "--chunk", "0,0,0"],
     "has 3 planets (0..2)"),
    (["chunk-hash", "--seed", "42", "--planet", "0", "--chunk", f"{G42 + 1},0,0"],
     f"|x| must be <= {G42}"),
    (["chunk-hash", "--seed", "42", "--planet", "0", "--chunk", f"0,-{G42 + 1},0"],
     f"|y| must be <= {G42}"),
    (["chunk-hash", "--seed", "42", "--planet", "0", "--chunk", "0,0,99999999999"],
     f"|z| must be <= {G42}"),
    (["chunk-hash", "--seed", "42", "--planet", "0", "--chunk", "1,2"], "three integers X,Y,Z"),
    (["chunk-hash", "--seed", "42", "--planet", "0", "--chunk", "1,2,3,4"],
     "three integers X,Y,Z"),
    (["chunk-hash", "--seed", "42", "--planet", "0", "--chunk", "a,b,c"],
     "three integers X,Y,Z"),
    (["chunk-hash", "--seed", "42", "--planet", "0", "--chunk", "1.0,2,3"],
     "three integers X,Y,Z"),
    (["chunk-hash", "--seed", "42", "--planet", "0", "--chunk", ""], "three integers X,Y,Z"),
    (["chunk-hash", "--seed", "42", "--planet", "x", "--chunk", "0,0,0"], "integer"),
    (["chunk-hash", "--seed", "42", "--planet", "0"], "--chunk"),
    (["teleport"], "invalid choice"),
    ([], "required"),
]


def test_bad_input_exits_2_with_one_line() -> None:
    results = run_many([argv for argv, _ in BAD])
    for (argv, needle), (rc, out, err) in zip(BAD, results, strict=True):
        assert rc == 2, (argv, rc, err)
        assert out == "", argv
        assert err.endswith("\n") and err.count("\n") == 1, (argv, err)
        assert err.startswith("error: "), (argv, err)
        assert needle in err, (argv, err)
        assert "Traceback" not in err


@pytest.mark.parametrize("argv", [["--help"], ["chunk-hash", "--help"]])
def test_help_exits_0(argv: list[str]) -> None:
    r = run(*argv)
    assert r.returncode == 0 and "usage" in r.stdout


def test_golden_unwritable_out_is_a_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run("golden", "--out", str(blocker / "sub"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
