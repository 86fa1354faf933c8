"""Dependency direction: shared_gen <- server.world <- server.persistence, and map
processes (server.mapproc) free of the database stack.

The world runs without the database stack (in-memory worlds, the Python client), and
neither package knows about the wire layer.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_after(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return {m.split(".")[0] if not m.startswith("server.") else ".".join(m.split(".")[:2])
            for m in out.split()}


@pytest.mark.parametrize(("module", "forbidden"), [
    ("server.world", {"sqlalchemy", "sqlmodel", "alembic", "server.persistence",
                      "server.net", "server.protocol", "websockets"}),
    ("server.persistence", {"server.net", "server.protocol", "websockets"}),
    # a map process never touches the database: only the orchestrator writes it (seed 004)
    ("server.mapproc.runtime", {"sqlalchemy", "sqlmodel", "alembic", "server.persistence",
                                "server.app", "server.store_writer"}),
    ("server.orchestrator.control", {"sqlalchemy", "sqlmodel", "alembic"}),
])
def test_import_direction(module, forbidden):
    assert not imported_after(module) & forbidden


def test_shared_gen_does_not_import_server():
    assert "server" not in imported_after("shared_gen")
