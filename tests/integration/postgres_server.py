"""A throwaway PostgreSQL cluster for tests: initdb in a temporary directory, a free port.

`postgres_cluster` (one per test session) starts `postgres` on 127.0.0.1 with trust auth for
the user `kiosk`; `postgres_url` gives each test a fresh, empty database on it and drops it
after. As root, initdb refuses to run, so the cluster runs as `nobody` (through runuser). The
binaries come from the Debian package `postgresql` (scripts/setup.sh); without them the tests
fail with a message saying so, they are never skipped.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.integration.mosquitto import free_port

USER = "kiosk"


def bin_dir() -> Path:
    """The directory of initdb and pg_ctl: the newest /usr/lib/postgresql/*/bin, or pg_config's."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name) if Path(
                       p).parent.parent.name.isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                             check=False).stdout.strip()
        if out and (Path(out) / "initdb").exists():
            return Path(out)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian "
                "package `postgresql` (scripts/setup.sh does)", pytrace=False)


class PostgresCluster:
    """initdb + pg_ctl in `directory`; `admin_url` is a libpq URL of its `postgres` database."""

    def __init__(self, directory: Path) -> None:
        self.bin = bin_dir()
        self.dir = directory
        self.data = directory / "data"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: run the cluster as nobody
            self.as_user = ["runuser", "-u", "nobody", "--"]
            shutil.chown(directory, "nobody")
        self._names = itertools.count(1)

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self.as_user, *args], cwd=self.dir, capture_output=True,
                              text=True, timeout=60, check=False)
        if done.returncode != 0:
            log = self.dir / "postgres.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            pytest.fail(f"{Path(args[0]).name} failed ({done.returncode}): {done.stdout}"
                        f"{done.stderr}{tail}", pytrace=False)

    def start(self) -> PostgresCluster:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", USER, "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
                  "-l", str(self.dir / "postgres.log"), "-w", "-t", "30", "start")
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data),
                            "-m", "immediate", "-w", "stop"], cwd=self.dir,
                           capture_output=True, timeout=60, check=False)

    @property
    def admin_url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of a database on this cluster."""
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; its name."""
        name = f"kiosk_{next(self._names)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    # As root the cluster runs as nobody, who must reach the directory: /tmp, not $TMPDIR.
    directory = Path(tempfile.mkdtemp(prefix="kiosk-pg-",
                                      dir="/tmp" if os.geteuid() == 0 else None))
    cluster = PostgresCluster(directory)
    try:
        yield cluster.start()
    finally:
        cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_cluster) -> Iterator[str]:
    """The SQLAlchemy URL (`postgresql+psycopg://kiosk@127.0.0.1:PORT/NAME`) of a fresh database."""
    name = postgres_cluster.create_database()
    yield postgres_cluster.url(name)
    postgres_cluster.drop_database(name)
