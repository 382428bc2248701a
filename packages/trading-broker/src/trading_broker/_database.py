"""The database engine: one SQLAlchemy async engine for SQLite (aiosqlite) or PostgreSQL (asyncpg).

Durability is on for both: an order acknowledged to a client has been committed to disk. SQLite
runs in WAL mode (set by :func:`prepare`) with ``synchronous=FULL`` (every commit is fsynced);
PostgreSQL sessions run with ``synchronous_commit=on`` whatever the server's default.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from pydantic_core import from_json
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ._rows import json_text

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./trading-broker.db"
# The async driver each database is reached with; a URL naming the database alone gets it.
_ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}
_ALIASES = {"postgres": "postgresql"}
# How long a SQLite connection waits for another process's write lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Seconds to wait for a PostgreSQL connection to be made.
CONNECT_TIMEOUT = 10.0
# Every engine reads and writes JSON columns with pydantic-core (same documents, less CPU).
_JSON = {"json_serializer": json_text, "json_deserializer": from_json}

WRITE_OPTION = "trading_broker_write"
"""Execution option marking a connection that will write: on SQLite its transaction takes the
write lock at BEGIN, so a read-then-write cannot interleave with another writer."""


def normalize_url(url: str) -> URL:
    """``url`` as an async SQLAlchemy URL; ``ValueError`` naming the fix for one we cannot serve.

    ``sqlite:///x.db`` and ``postgresql://...`` are accepted and given their async driver.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ValueError(
            f"{url!r} is not a database URL; write for example "
            f"'sqlite+aiosqlite:///./trading-broker.db' or 'postgresql+asyncpg://user@host:5432/dbname'"
        ) from exc
    backend = _ALIASES.get(parsed.get_backend_name(), parsed.get_backend_name())
    driver = _ASYNC_DRIVERS.get(backend)
    if driver is None:
        raise ValueError(
            f"database {backend!r} is not supported; use SQLite ('sqlite+aiosqlite:///path.db') or "
            f"PostgreSQL ('postgresql+asyncpg://user@host:5432/dbname')"
        )
    given = parsed.get_driver_name() if "+" in parsed.drivername else driver
    if given != driver:
        raise ValueError(
            f"driver {given!r} is not asynchronous; write '{backend}+{driver}://...' instead of '{parsed.drivername}://...'"
        )
    if backend == "sqlite" and (not parsed.database or parsed.database == ":memory:" or "mode=memory" in url):
        raise ValueError(
            f"{url!r} is an in-memory SQLite database, which is gone at exit; give a file, "
            "for example 'sqlite+aiosqlite:///./trading-broker.db'"
        )
    return parsed.set(drivername=f"{backend}+{driver}")


SETTING = "[modules.broker] database_url (or TRADING_MODULES__BROKER__DATABASE_URL)"
"""The setting that says where the database is, as an operator writes it."""


def sqlite_file_problem(url: URL) -> tuple[str, str] | None:
    """Why the SQLite file of ``url`` cannot be opened for writing from this working directory
    (naming the file), and the fix; ``None`` when it can, and for PostgreSQL. Reads the file system
    only, so the configuration check reports it before anything is served: SQLite's own error,
    "unable to open database file", names neither the file nor the folder."""
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    given = Path(url.database)
    path = given.resolve()
    folder = path.parent
    where = f"the SQLite database {path}"
    if not given.is_absolute():
        where += f" ({url.database!r} in database_url is relative to the working directory {Path.cwd()})"
    if not folder.is_dir():
        return f"{where} cannot be created: the folder {folder} does not exist", f"create it, or set {SETTING}"
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return f"{where} is not writable", f"give this user write access to it, or set {SETTING}"
    # WAL journaling keeps two files beside the database (-wal, -shm), made when it is opened: the
    # folder must be writable unless they are there and writable already.
    companions = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    if all(os.access(p, os.R_OK | os.W_OK) for p in companions) or os.access(folder, os.W_OK | os.X_OK):
        return None
    made = "its journal files cannot be made" if path.exists() else "it cannot be created"
    return (
        f"{where}: {made} because the folder {folder} is not writable",
        f"run from a folder you can write to, or set {SETTING} to a file in one",
    )


def describe(url: URL) -> str:
    """``url`` with any password hidden, for logs and health reports."""
    return url.render_as_string(hide_password=True)


def create_engine(url: str | URL) -> AsyncEngine:
    """An engine for ``url`` with the broker's durability and locking settings."""
    parsed = url if isinstance(url, URL) else normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    # A server that drops packets instead of refusing: give up after CONNECT_TIMEOUT (asyncpg waits
    # 60 s), so that requests get their 503 and the matcher its next tick in good time.
    connect_args: dict[str, Any] = {"server_settings": {"synchronous_commit": "on"}, "timeout": CONNECT_TIMEOUT}
    return create_async_engine(parsed, connect_args=connect_args, pool_pre_ping=True, **_JSON)


def _sqlite_engine(url: URL) -> AsyncEngine:
    engine = create_async_engine(url, **_JSON)
    _configure_sqlite(engine.sync_engine)
    return engine


def create_sync_sqlite_engine(url: URL) -> Engine:
    """A synchronous engine on the SQLite file of ``url`` (the standard ``sqlite3`` module), with
    the same durability and locking settings: for the group commit's writer thread, which runs a
    whole batch of statements in one trip instead of crossing threads for each."""
    # check_same_thread off: the store's writer thread alone uses its connections, but one that the
    # garbage collector closes elsewhere must not raise; the store's write lock keeps uses apart.
    sync_url = url.set(drivername="sqlite+pysqlite")
    engine = sa_create_engine(sync_url, connect_args={"check_same_thread": False}, **_JSON)
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def configure(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy's documented recipe: take BEGIN away from the sqlite3 module, which would
        # otherwise start transactions late (at the first write) and commit before DDL.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin(connection: Any) -> None:
        writing = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


async def prepare(url: URL) -> None:
    """Make the database ready for engines: for SQLite, check the folder and switch the file to
    WAL journaling (it stays so). Call it before the first engine on ``url`` connects."""
    if url.get_backend_name() == "sqlite":
        await asyncio.to_thread(_prepare_sqlite_file, url.database or "")


def _prepare_sqlite_file(path: str) -> None:
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise FileNotFoundError(
            f"the folder {folder} of the SQLite database {path!r} does not exist: create it, or change database_url"
        )
    # The switch needs the file to itself. Waiting for it inside SQLite would hold a shared lock
    # while another process, committing in the old journal mode, waits for that lock to go: both
    # would wait out the busy timeout (worker processes opening a new file at once did). So each
    # try gives up at once, releasing its locks, and the next comes a moment later.
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        connection = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            mode = str(connection.execute("PRAGMA journal_mode=WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        else:
            if mode.lower() != "wal":
                raise RuntimeError(f"the SQLite database {path!r} cannot use WAL journaling (it stays {mode!r})")
            return
        finally:
            connection.close()
        time.sleep(0.02)


def open_failure(url: URL, exc: BaseException) -> tuple[str, str]:
    """What failed when the database at ``url`` could not be opened, naming it (never the
    password) with the driver's words, and the fix: for a module that cannot start, and for
    ``trading-host matrix --check --connect``."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    innermost = chain[-1]
    words = next((line.strip() for line in str(innermost).splitlines() if line.strip()), type(innermost).__name__)
    setting = f"set {SETTING}"
    if url.get_backend_name() == "sqlite":
        local = sqlite_file_problem(url)
        if local is not None:
            return f"cannot open {local[0]}", local[1]
        return f"cannot open the SQLite database {url.database}: {words}", f"check the file, or {setting}"
    address, name = f"{url.host or 'localhost'}:{url.port or 5432}", url.database or ""
    kinds = {type(e).__name__ for e in chain}
    if "InvalidCatalogNameError" in kinds:
        fix = f"create it (createdb -h {url.host or 'localhost'} -p {url.port or 5432} {name}), or {setting}"
    elif kinds & {"InvalidPasswordError", "InvalidAuthorizationSpecificationError"}:
        fix = f"check the user and password, or {setting}"
    elif any(isinstance(e, OSError) for e in chain):
        fix = f"start PostgreSQL at {address} (or open the network to it), or {setting}"
    else:
        fix = f"check the database server's log, or {setting}"
    return f"cannot open the PostgreSQL database {name!r} at {address}: {words}", fix
