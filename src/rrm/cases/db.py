"""The cases database: engine, schema migrations (Alembic) and transactions.

A SQLite file in the workspace by default; PostgreSQL when ``RRM_DATABASE_URL`` names one
(``postgresql+psycopg://user@host/db``). The schema is made and upgraded only by the migrations
in ``rrm/cases/migrations``, run by :func:`migrate` or ``rrm cases migrate``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from rrm.errors import ConflictError, InputError, StateError, WorkspaceError
from rrm.workspace import Workspace

__all__ = ["CasesDB", "MigrationResult", "head_revision", "migrate"]

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class MigrationResult:
    """What :func:`migrate` did: the revision before and after, and the migrations applied."""

    database: str  # the URL with any password hidden
    before: str | None
    after: str
    applied: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.applied)

    @property
    def message(self) -> str:
        if not self.applied:
            return f"the cases database {self.database} is already at the latest revision {self.after}: nothing to do"
        start = self.before or "an empty database"
        return (f"migrated the cases database {self.database} from {start} to {self.after} "
                f"({len(self.applied)} migration{'s' if len(self.applied) != 1 else ''}: {', '.join(self.applied)})")


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def head_revision() -> str:
    """The revision that this version of RRM needs."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _engine(url: str) -> Engine:
    try:
        engine = create_engine(url)
    except (ArgumentError, NoSuchModuleError, ValueError) as error:
        raise InputError(f"not a usable database URL: {error}", field="RRM_DATABASE_URL") from error
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as error:
        raise WorkspaceError(f"cannot open the cases database {_shown(str(engine.url))}: {error.orig}") from error


def migrate(url: str) -> MigrationResult:
    """Bring the database at ``url`` to the latest schema. Running it again is a no-op."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = _engine(url)
    try:
        before = _current_revision(engine)
        config = _alembic_config()
        script = ScriptDirectory.from_config(config)
        head = head_revision()
        if before == head:
            return MigrationResult(_shown(url), before, head, ())
        pending = [rev.revision for rev in script.iterate_revisions(head, before)]
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        return MigrationResult(_shown(url), before, head, tuple(reversed(pending)))
    finally:
        engine.dispose()


class CasesDB:
    """A connection pool to the cases database, checked to be at the schema this code needs."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        current = _current_revision(self.engine)
        if current != head_revision():
            self.engine.dispose()
            raise StateError(
                f"the cases database {_shown(url)} is at revision {current or 'none (empty)'}, "
                f"this RRM needs {head_revision()}: run 'rrm cases migrate'"
            )

    @classmethod
    def for_workspace(cls, workspace: Workspace) -> CasesDB:
        return cls(workspace.cases_database_url)

    @property
    def database(self) -> str:
        return _shown(self.url)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any error.

        A write that lost a race on an incident's version becomes :class:`ConflictError`.
        """
        with self._sessions() as session:
            try:
                with session.begin():
                    yield session
            except StaleDataError as error:
                raise ConflictError(
                    "the incident was changed by someone else while this change was being saved; "
                    "nothing was overwritten: reload it and apply your change again"
                ) from error

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> CasesDB:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
