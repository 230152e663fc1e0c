"""A real, throwaway PostgreSQL server for the tests (Debian's package; nothing mocked).

``postgres_server`` (session scope) finds ``initdb``/``pg_ctl`` (on PATH or in
``/usr/lib/postgresql/<version>/bin``), initialises a cluster in a fresh temporary folder with trust
authentication, starts it listening only on a Unix socket in that folder (no TCP at all), and at the
end stops it and deletes the folder. PostgreSQL refuses to run as root: under root the server's
commands run as ``postgres`` (Debian's package creates that user) or else ``nobody``, via
``setpriv``, and the folder belongs to that user. Without PostgreSQL the tests marked ``postgres`` are
skipped locally and fail in CI (environment variable ``CI`` set): see conftest.py.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SUPERUSER = "grader"


def find_postgres_bin() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: PATH first, else the newest Debian install."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return Path(os.path.realpath(pg_ctl)).parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    """A running server: its folder, socket directory and port (the socket's name)."""

    bindir: Path
    base: Path
    socket_dir: Path
    port: int
    run_as: str | None  # the unprivileged user running the server when the tests run as root

    def url(self, database: str, driver: str | None = "psycopg2") -> str:
        """SQLAlchemy URL of ``database`` on this server, over the Unix socket; ``driver=None`` gives
        the plain ``postgresql://`` form (SQLAlchemy 2.1 maps it to psycopg 3, not installed here)."""
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return f"{scheme}://{SUPERUSER}@/{database}?host={self.socket_dir}&port={self.port}"

    def connect(self, database: str = "postgres"):  # -> psycopg2 connection
        """A psycopg2 connection to ``database`` (autocommit)."""
        import psycopg2

        conn = psycopg2.connect(dbname=database, user=SUPERUSER, host=str(self.socket_dir), port=self.port)
        conn.autocommit = True
        return conn

    def create_database(self, name: str) -> str:
        """Create an empty database and return its (psycopg2) URL."""
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return self.url(name)


def _run(cmd: list[str], run_as: str | None, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    """Run a server command, as ``run_as`` (via setpriv) when given."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C"}
    if run_as:
        user = pwd.getpwnam(run_as)
        env["HOME"] = str(cwd)
        cmd = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", *cmd]
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def _unprivileged_user() -> str:
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and neither user 'postgres' nor 'nobody' exists")


def start_server() -> PostgresServer:
    """initdb + pg_ctl start in a new temporary folder; raises with the server log if it fails."""
    bindir = find_postgres_bin()
    assert bindir is not None
    run_as = _unprivileged_user() if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="pg-"))  # short: a socket path has at most 107 bytes
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if run_as:
        user = pwd.getpwnam(run_as)
        for path in (base, sock):
            os.chown(path, user.pw_uid, user.pw_gid)
    try:
        _run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--no-locale",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            run_as,
            base,
        )
        port = _free_port()
        with open(data / "postgresql.conf", "a") as conf:  # the file keeps its owner and mode
            conf.write(
                f"\nlisten_addresses = ''\nport = {port}\nunix_socket_directories = '{sock}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n"
            )
        _run(
            [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-w", "-t", "60", "start"],
            run_as,
            base,
        )
    except Exception as exc:
        log = base / "server.log"
        text = log.read_text() if log.exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {exc}\n{text}") from exc
    return PostgresServer(bindir, base, sock, port, run_as)


def stop_server(server: PostgresServer) -> None:
    """Stop the server (fast shutdown: open sessions are ended) and delete its folder."""
    try:
        _run(
            [str(server.bindir / "pg_ctl"), "-D", str(server.base / "data"), "-m", "fast", "-w", "-t", "60", "stop"],
            server.run_as,
            server.base,
            check=False,
        )
    finally:
        shutil.rmtree(server.base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for this test session (see the module docstring)."""
    if find_postgres_bin() is None:  # tests marked `postgres` are skipped before (conftest.py), except in CI
        pytest.fail(
            "PostgreSQL is not installed (initdb/pg_ctl neither on PATH nor in /usr/lib/postgresql/*/bin); "
            "`make install-test` installs Debian's package when run as root"
        )
    server = start_server()
    try:
        yield server
    finally:
        stop_server(server)
