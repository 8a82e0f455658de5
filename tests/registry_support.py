"""Fixtures of the registry tests: a real PostgreSQL server from Debian started on a temporary
directory and a free port (as the ``postgres`` user when the tests run as root, since initdb
refuses root), and ``db_url``: a fresh SQLite file or a fresh PostgreSQL database per test.

``make test`` runs ``scripts/ensure_postgres.sh`` first, which installs Debian's ``postgresql``
when it is missing.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as_owner(cmd: list[str], owner: str | None) -> subprocess.CompletedProcess:
    if owner:
        cmd = ["runuser", "-u", owner, "--", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def start_postgres(root: Path) -> tuple[str, object]:
    """Start a throw-away PostgreSQL server under ``root``; return ``(url, stop)``.

    Raises RuntimeError when PostgreSQL is missing or does not start (callers decide whether
    that skips or fails).
    """
    bindir = _pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed: run scripts/ensure_postgres.sh")
    owner = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
            owner = "postgres"
        except KeyError:
            raise RuntimeError("running as root and there is no 'postgres' user") from None
    if owner:
        shutil.chown(root, owner)
    data, port = root / "data", free_port()
    r = _run_as_owner([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                       "--no-sync", "-E", "UTF8", "--locale=C"], owner)
    if r.returncode:
        raise RuntimeError(f"initdb failed: {r.stderr[-500:]}")
    opts = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=200 -c shared_buffers=32MB")
    r = _run_as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l",
                       str(root / "log"), "-w", "-t", "60", "start"], owner)
    if r.returncode:
        raise RuntimeError(f"pg_ctl start failed: {r.stderr[-500:]}")

    def stop() -> None:
        _run_as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], owner)

    return f"postgresql://postgres@127.0.0.1:{port}", stop


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Start PostgreSQL on a temporary directory; yield ``postgresql://postgres@127.0.0.1:PORT``."""
    if _pg_bin() is None:
        pytest.skip("PostgreSQL is not installed: run scripts/ensure_postgres.sh (make test does)")
    root = Path(tempfile.mkdtemp(prefix="myorisk-pg-"))
    try:
        url, stop = start_postgres(root)
    except RuntimeError as e:
        pytest.fail(str(e))
    try:
        yield url
    finally:
        stop()
        shutil.rmtree(root, ignore_errors=True)


def new_pg_database(server: str) -> str:
    """Create an empty database on ``server``; return its URL."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL: a SQLite file, or a new database on the test PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "registry.db")
    return new_pg_database(request.getfixturevalue("postgres_server"))
