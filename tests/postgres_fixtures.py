"""Session fixture for a real PostgreSQL server: one throwaway cluster per test run.

Import as a pytest plugin (`pytest_plugins` in the root conftest). `make setup` installs
Debian's `postgresql` package; this starts its server from its own binaries
(`/usr/lib/postgresql/<version>/bin`) in a temporary directory, on a free loopback port,
with trust authentication for loopback only, and removes it all at the end. PostgreSQL
refuses to run as root: as root, the server runs as the `postgres` account the package
creates. Set `CONSOLE_TEST_DATABASE_URL` to use a server that is already running instead.

`postgres_url` yields a SQLAlchemy URL (`postgresql+psycopg://...`) of an empty database
the caller may use; `fresh_postgres_database` makes another empty one per test.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ports import free_port

READY_TIMEOUT_S = 30.0


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin directory, or None."""
    root = Path("/usr/lib/postgresql")
    versions = sorted(
        (p for p in root.glob("*/bin") if (p / "postgres").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return versions[-1] if versions else None


def _as_server_user(argv: list[str]) -> list[str]:
    """Run as the `postgres` account when we are root (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


class PostgresServer:
    """A PostgreSQL cluster in a temporary directory, started and stopped by `pg_ctl`."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="chat-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.log = self.root / "server.log"

    def start(self) -> None:
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self._as_server(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories="
            f"{self.root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._as_server(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            str(int(READY_TIMEOUT_S)),
            "start",
        )

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, FileNotFoundError):
            self._as_server("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop", timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)

    def _as_server(self, tool: str, *args: str, timeout: float | None = None) -> None:
        """Run one of the package's binaries, with fixed arguments, as the server's user."""
        subprocess.run(  # noqa: S603 - the package's own binaries, fixed arguments
            _as_server_user([str(self.bindir / tool), *args]),
            check=True,
            capture_output=True,
            timeout=timeout,
        )

    def create_database(self, name: str) -> str:
        """A new empty database; its SQLAlchemy URL."""
        subprocess.run(  # noqa: S603 - the package's own binary, a generated name
            [
                str(self.bindir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                name,
            ],
            check=True,
            capture_output=True,
        )
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | None]:
    """The session's server; None when `CONSOLE_TEST_DATABASE_URL` names one instead."""
    if os.environ.get("CONSOLE_TEST_DATABASE_URL"):
        yield None
        return
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries: `make setup` installs Debian's postgresql")
    server = PostgresServer(bindir)
    try:
        server.start()
    except subprocess.CalledProcessError as exc:
        server.stop()
        raise RuntimeError(
            f"PostgreSQL did not start: {exc.stderr.decode(errors='replace')[-2000:]}"
        ) from exc
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", server.port), 1):
            break
        time.sleep(0.1)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer | None) -> str:
    """One empty database for the session (or the one `CONSOLE_TEST_DATABASE_URL` names)."""
    if postgres_server is None:
        return os.environ["CONSOLE_TEST_DATABASE_URL"]
    return postgres_server.create_database("session")


@pytest.fixture
def fresh_postgres_database(postgres_server: PostgresServer | None) -> str:
    """A new empty database for one test."""
    if postgres_server is None:
        pytest.skip("CONSOLE_TEST_DATABASE_URL names one database: no fresh ones")
    return postgres_server.create_database(f"t_{uuid.uuid4().hex[:12]}")
