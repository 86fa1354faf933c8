"""Helpers shared by the orchestrator tests (a unique module name: no conftest import)."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


class FakeClock:
    """Integer milliseconds that only move when told."""

    def __init__(self, start: int = 1_700_000_000_000) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


# --- a private PostgreSQL cluster --------------------------------------------------------


class PostgresUnavailableError(RuntimeError):
    """PostgreSQL is not installed and cannot be, or the cluster did not start."""


def _pg_bindir() -> Path | None:
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        for v in sorted(root.iterdir(), key=lambda p: p.name, reverse=True):
            if (v / "bin" / "pg_ctl").exists():
                return v / "bin"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _try_install() -> str:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "not root or no apt-get"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    proc = subprocess.run(["apt-get", "install", "-y", "postgresql"], capture_output=True,
                          text=True, timeout=900, env=env)
    return proc.stderr[-500:] if proc.returncode else ""


@contextlib.contextmanager
def private_postgres() -> Iterator[str]:
    """Start PostgreSQL on a free loopback port and a temporary data directory; yield
    ``postgresql+psycopg://postgres@127.0.0.1:<port>/postgres``; stop and delete it.

    As root, ``initdb``/``pg_ctl`` run as the ``postgres`` user (they refuse root) on a
    directory that user owns; the Debian package is installed first if missing.

    Raises:
        PostgresUnavailableError: not installable, no postgres user, or start failed.
    """
    bindir = _pg_bindir()
    if bindir is None:
        problem = _try_install()
        bindir = _pg_bindir()
        if bindir is None:
            raise PostgresUnavailableError(problem or "not installed")
    as_root = os.geteuid() == 0
    prefix: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="planet-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if as_root:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError as e:
            shutil.rmtree(root, ignore_errors=True)
            raise PostgresUnavailableError("no postgres user") from e
        prefix = ["runuser", "-u", "postgres", "--"]
        os.chown(root, pw.pw_uid, pw.pw_gid)
        os.chown(sock, pw.pw_uid, pw.pw_gid)
    port = _free_port()

    def run(*args: str) -> None:
        try:
            subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
            detail = getattr(e, "stderr", b"") or b""
            raise PostgresUnavailableError(f"{args[0]}: {e} {detail[-300:]!r}") from e

    started = False
    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--no-sync")
        opts = (f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 "
                "-c shared_buffers=16MB -c max_connections=30")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w",
            "-t", "60", "-o", opts, "start")
        started = True
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast",
                            "-w", "stop"], capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)


def create_database(server_url: str, name: str) -> str:
    """CREATE DATABASE ``name`` on the cluster of ``server_url``; the new URL."""
    import psycopg

    dsn = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"
