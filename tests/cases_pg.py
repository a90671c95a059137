"""Fixtures for the cases tests: a throwaway PostgreSQL cluster, and cases databases on SQLite and PostgreSQL.

Import the fixtures into a test module (``from cases_pg import cases_db_fixture, ...``; the session's
PostgreSQL cluster, ``postgres``, is imported by ``conftest.py`` so that every module shares one); tests that take
``cases_url`` or ``cases`` run twice, once on each database. The PostgreSQL cluster is started once per
session from the Debian binaries (``initdb``, ``pg_ctl``) on a unix socket in a temporary folder, as the
``postgres`` user when the tests run as root; each test gets a fresh database copied from a migrated
template (SQLite) or the one test database emptied before each test (PostgreSQL, where creating a
database per test costs a second), so tests stay independent and fast.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from rrm.cases import CasesDB, Role, add_partner, add_user, migrate
from rrm.cases.models import Base

__all__ = [
    "Cast",
    "cases_db_fixture",
    "cases_url_fixture",
    "seeded_url_fixture",
    "sqlite_template_fixture",
]

TEST_DATABASE = "rrm_test"


class PostgresCluster:
    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.root}&port={self.port}"

    def execute(self, sql: str, database: str = "postgres") -> None:
        with psycopg.connect(host=str(self.root), port=self.port, user="postgres", dbname=database,
                             autocommit=True) as connection:
            connection.execute(sql)  # type: ignore[arg-type]

    def empty_test_database(self) -> str:
        """The URL of the test database, all its tables emptied (the audit log's guards set aside for it)."""
        deletes = "; ".join(f"DELETE FROM {t.name}" for t in reversed(Base.metadata.sorted_tables))
        self.execute(f"SET session_replication_role = replica; {deletes}", TEST_DATABASE)
        return self.url(TEST_DATABASE)


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="session", name="postgres")
def postgres_fixture() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster of its own for this test session, stopped and removed at the end."""
    binaries = _binaries()
    if binaries is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have PostgreSQL installed (/usr/lib/postgresql/*/bin)")
        pytest.skip("PostgreSQL is not installed (/usr/lib/postgresql/*/bin)")
    root = Path(tempfile.mkdtemp(prefix="rrm-pg-"))
    root.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    port = _free_port()
    subprocess.run(
        _as_postgres([str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                      "--no-sync", "--no-instructions"]),
        check=True, capture_output=True,
    )
    options = f"-k {root} -p {port} -c listen_addresses='' -c fsync=off -c synchronous_commit=off"
    subprocess.run(
        _as_postgres([str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w",
                      "start"]),
        check=True, capture_output=True,
    )
    cluster = PostgresCluster(root, port)
    try:
        cluster.execute(f"CREATE DATABASE {TEST_DATABASE}")
        migrate(cluster.url(TEST_DATABASE))
        yield cluster
    finally:
        subprocess.run(_as_postgres([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session", name="sqlite_template")
def sqlite_template_fixture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two migrated SQLite files to copy: one empty, one with the people of :class:`Cast`."""
    folder = tmp_path_factory.mktemp("cases-template")
    empty, seeded = folder / "empty.sqlite", folder / "seeded.sqlite"
    migrate(f"sqlite:///{empty}")
    shutil.copyfile(empty, seeded)
    with CasesDB(f"sqlite:///{seeded}") as db:
        _seed(db)
    return empty, seeded


@pytest.fixture(params=["sqlite", "postgresql"], name="cases_url")
def cases_url_fixture(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: tuple[Path, Path]) -> str:
    """The URL of a fresh, migrated, empty cases database, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "cases.sqlite"
        shutil.copyfile(sqlite_template[0], path)
        return f"sqlite:///{path}"
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return cluster.empty_test_database()


class Cast:
    """The people of the tests: partners CA and FR; a lead, two analysts and a viewer at CA; a lead at FR."""

    LEAD = "lea"
    ANALYST = "ana"
    ANALYST2 = "bob"
    VIEWER = "vic"
    LEAD_FR = "louise"


def _seed(db: CasesDB) -> None:
    add_partner(db, None, "CA", name="Canada", country="CA")
    add_user(db, None, Cast.LEAD, role=Role.LEAD, partner="CA")
    add_partner(db, Cast.LEAD, "FR", name="France", country="FR")
    add_user(db, Cast.LEAD, Cast.ANALYST, role=Role.ANALYST, partner="CA")
    add_user(db, Cast.LEAD, Cast.ANALYST2, role=Role.ANALYST, partner="CA")
    add_user(db, Cast.LEAD, Cast.VIEWER, role=Role.VIEWER, partner="CA")
    add_user(db, Cast.LEAD, Cast.LEAD_FR, role=Role.LEAD, partner="FR")


@pytest.fixture(params=["sqlite", "postgresql"], name="seeded_url")
def seeded_url_fixture(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: tuple[Path, Path]) -> str:
    """The URL of a fresh cases database with the people of :class:`Cast`, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "cases.sqlite"
        shutil.copyfile(sqlite_template[1], path)
        return f"sqlite:///{path}"
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    url = cluster.empty_test_database()
    with CasesDB(url) as db:
        _seed(db)
    return url


@pytest.fixture(name="cases")
def cases_db_fixture(seeded_url: str) -> Iterator[CasesDB]:
    """A migrated cases database with the people of :class:`Cast`, on SQLite and on PostgreSQL."""
    with CasesDB(seeded_url) as db:
        yield db
