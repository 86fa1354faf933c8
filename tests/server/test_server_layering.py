"""Dependency direction: protocol <- net/client; nothing in shared_gen imports server."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imports_of(package: str) -> dict[str, set[str]]:
    """Module path -> absolute names it imports (relative imports resolved)."""
    out: dict[str, set[str]] = {}
    for path in (ROOT / package.replace(".", "/")).rglob("*.py"):
        names: set[str] = set()
        mod = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        pkg = mod.rsplit(".", 1)[0] if path.name != "__init__.py" else mod
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg.split(".")
                    base = base[: len(base) - node.level + 1]
                    names.add(".".join([*base, node.module] if node.module else base))
                elif node.module:
                    names.add(node.module)
        out[str(path.relative_to(ROOT))] = names
    return out


def test_protocol_is_sans_io_and_self_contained() -> None:
    for path, names in imports_of("server.protocol").items():
        bad = {n for n in names if n.split(".")[0] in {"asyncio", "websockets", "socket",
                                                       "sqlmodel", "sqlalchemy"}
               or (n.startswith("server.") and not n.startswith("server.protocol"))}
        assert not bad, f"{path} imports {bad}"


def test_shared_gen_never_imports_server() -> None:
    for path, names in imports_of("shared_gen").items():
        assert not {n for n in names if n.split(".")[0] == "server"}, path


def test_client_sdk_does_not_depend_on_the_server_process() -> None:
    for path, names in imports_of("server.client").items():
        bad = {n for n in names if n.startswith(("server.net.server", "server.net.session",
                                                 "server.app", "server.persistence"))}
        assert not bad, f"{path} imports {bad}"
