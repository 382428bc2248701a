"""Schema migrations, run by the broker itself at start-up (and by ``trading-broker db upgrade``).

The scripts ship inside the wheel (``trading_broker/_migrations``). Several worker processes may
start at once against one database: the upgrade runs in one transaction that first takes a lock
(a PostgreSQL advisory lock; SQLite's write lock, taken at ``BEGIN IMMEDIATE``), so one process
migrates and the others then find the schema current.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from ._database import WRITE_OPTION
from ._tables import VERSION_TABLE, metadata

SCRIPT_LOCATION = "trading_broker:_migrations"
# Any constant shared by every broker process; "trbroker" in ASCII.
_ADVISORY_LOCK_KEY = 0x7472_6272_6F6B_6572 & 0x7FFF_FFFF_FFFF_FFFF


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest schema revision this release ships."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None, "the broker ships at least one migration"
    return revision


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_revision()


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer trading-broker than the one running."""


def _upgrade(connection: Connection) -> None:
    found = _current(connection)
    newest = head()
    # Checked first so that a current schema costs one query and logs nothing.
    if found == newest:
        return
    known = {script.revision for script in ScriptDirectory.from_config(_config()).walk_revisions()}
    if found is not None and found not in known:
        raise SchemaTooNew(
            f"the broker database is at schema revision {found!r}, which this trading-broker release does not "
            f"know (its newest is {newest!r}): install the trading-broker release that created it, or newer"
        )
    command.upgrade(_config(connection), "head")


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database's schema to this release's newest revision; a no-op when it is there."""
    async with engine.connect() as connection:
        connection = await connection.execution_options(**{WRITE_OPTION: True})
        async with connection.begin():
            if connection.dialect.name == "postgresql":
                await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
            await connection.run_sync(_upgrade)


async def current(engine: AsyncEngine) -> str | None:
    """The database's schema revision, ``None`` for a database the broker has never used."""
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


async def missing_tables(engine: AsyncEngine) -> list[str]:
    """The broker's tables the database lacks (none once it is migrated)."""
    async with engine.connect() as connection:
        present = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    return sorted(set(metadata.tables) - present)
