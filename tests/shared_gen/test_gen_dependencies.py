"""Dependency direction and purity of shared_gen, checked by scanning its source with ast.

* ``shared_gen`` never imports ``server`` (the server depends on the generator, not the
  reverse), statically or at run time.
* Generation modules use no global RNG, clock or I/O: no ``random``, ``time``, ``os``,
  ``open(`` ... Only ``golden.py`` (writes golden files) and ``__main__.py`` (the CLI) do
  I/O by design.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "shared_gen"
MODULES = sorted(PKG.glob("*.py"))
IO_MODULES = {"golden.py", "__main__.py"}

#: Modules a pure generation module may import (besides its own package).
ALLOWED = {"__future__", "math", "hashlib", "struct", "dataclasses", "functools", "typing",
           "collections", "numpy"}
#: Never allowed in a generation module: randomness, clocks, I/O, processes, dynamic import.
FORBIDDEN = {"random", "time", "datetime", "os", "sys", "io", "pathlib", "shutil", "socket",
             "subprocess", "threading", "multiprocessing", "secrets", "uuid", "tempfile",
             "json", "pickle", "importlib", "urllib", "http", "asyncio", "logging", "server"}
FORBIDDEN_CALLS = {"open", "print", "input", "exec", "eval", "__import__", "breakpoint"}


def _imports(path: Path) -> list[tuple[str, int]]:
    """(absolute top-level module, line) of every import; relative imports -> shared_gen."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.extend((a.name.split(".")[0], node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                assert node.level == 1, f"{path.name}:{node.lineno} imports outside the package"
                out.append(("shared_gen", node.lineno))
            else:
                out.append(((node.module or "").split(".")[0], node.lineno))
    return out


def test_modules_found() -> None:
    names = {p.name for p in MODULES}
    assert {"hashing.py", "noise.py", "names.py", "biomes.py", "solar_system.py", "planet.py",
            "encoding.py", "biosphere.py", "golden.py", "__main__.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_never_imports_server(path: Path) -> None:
    bad = [(m, line) for m, line in _imports(path) if m == "server"]
    assert not bad, f"{path.name} imports server at lines {[line for _, line in bad]}"
    assert "import_module" not in path.read_text()


@pytest.mark.parametrize("path", [p for p in MODULES if p.name not in IO_MODULES],
                         ids=lambda p: p.name)
def test_generation_modules_pure(path: Path) -> None:
    tree = ast.parse(path.read_text(), str(path))
    for mod, line in _imports(path):
        assert mod not in FORBIDDEN, f"{path.name}:{line} imports {mod}"
        assert mod in ALLOWED or mod == "shared_gen", f"{path.name}:{line} imports {mod}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in FORBIDDEN_CALLS, (
                f"{path.name}:{node.lineno} calls {node.func.id}()")
        if isinstance(node, ast.Attribute) and node.attr == "random":
            # np.random / numpy.random: a global (or unseeded) RNG
            pytest.fail(f"{path.name}:{node.lineno} uses .random")
        if isinstance(node, ast.Global):
            pytest.fail(f"{path.name}:{node.lineno} declares global {node.names}")


@pytest.mark.parametrize("path", sorted(IO_MODULES))
def test_io_modules_use_no_global_rng(path: str) -> None:
    """golden.py and __main__.py may do I/O but never use a global / unseeded RNG or clock."""
    for mod, line in _imports(PKG / path):
        assert mod not in {"random", "time", "datetime", "secrets", "uuid", "server"}, (
            f"{path}:{line} imports {mod}")
    src = (PKG / path).read_text()
    for node in ast.walk(ast.parse(src)):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
                and node.value.attr == "random"):
            assert node.attr == "default_rng", f"{path}:{node.lineno} uses random.{node.attr}"
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "default_rng":
            assert node.args and isinstance(node.args[0], ast.Constant), (
                f"{path}:{node.lineno} default_rng needs a constant seed")


def test_scanner_catches_violations(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import random\nfrom server.world import x\nfrom . import planet\n")
    assert _imports(bad) == [("random", 1), ("server", 2), ("shared_gen", 3)]


def test_runtime_never_loads_server() -> None:
    code = ("import sys, shared_gen, shared_gen.__main__, shared_gen.golden\n"
            "shared_gen.generate_chunk(42, 0, (41, 12, 8))\n"
            "shared_gen.generate_biosphere(42, 0)\n"
            "bad = sorted(m for m in sys.modules if m == 'server' or m.startswith('server.'))\n"
            "assert not bad, bad\n"
            "bad = [m for m in ('sqlalchemy', 'fastapi', 'websockets') if m in sys.modules]\n"
            "assert not bad, bad\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
