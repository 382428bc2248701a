"""The broker's commands: API keys of broker API v2, and the broker's database schema.

They run inside the host, ``trading-host broker keys create alice`` (registered in the
``trading_api.commands`` group), on the module the host builds from the server's own
configuration, so a key created here is accepted by a running server at once, and a revoked one
refused at once. ``trading-broker`` is an alias of ``trading-host broker``.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from sqlalchemy.exc import DBAPIError, OperationalError

from trading_core import CommandContext, run_host_command

from . import _keys, _migrate
from ._auth import StoredKey
from ._database import SETTING, create_engine, describe, normalize_url, sqlite_file_problem
from ._errors import DatabaseUnavailable, UnknownApiKey
from ._module import BrokerModule
from ._store import BrokerStore

T = TypeVar("T")

cli = typer.Typer(
    help="Manage the broker module's database: API keys of broker API v2, and its schema.",
    no_args_is_help=True,
    add_completion=False,
)
keys_cli = typer.Typer(help="API keys: each acts for one account; only its SHA-256 is stored.", no_args_is_help=True)
db_cli = typer.Typer(help="The broker's database: where it is, and its schema.", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")
cli.add_typer(db_cli, name="db")

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="Use this database instead of the configured one (the broker's database_url setting, "
        "from the config file or $TRADING_MODULES__BROKER__DATABASE_URL).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@dataclass(frozen=True)
class Database:
    """The broker's database a command works on, and where its URL came from."""

    url: str
    source: str
    store: BrokerStore


def _database(ctx: typer.Context, database_url: str | None) -> Database:
    """``--database-url``, else the database of the module the host built from the configuration."""
    if database_url is not None:
        try:
            url = normalize_url(database_url)
        except ValueError as exc:
            _fail(f"--database-url: {exc}", 2)
        local = sqlite_file_problem(url)
        if local is not None:
            fix = (
                local[1]
                .replace(f"set {SETTING} to", "give --database-url")
                .replace(f"set {SETTING}", "give --database-url")
                .replace(SETTING, "--database-url")
            )
            _fail(f"--database-url: {local[0]}; {fix}", 2)
        return Database(database_url, "--database-url", BrokerStore(database_url))
    try:
        context = CommandContext.of(ctx)
    except RuntimeError as exc:
        _fail(str(exc), 2)
    module = context.module(BrokerModule)
    source = context.setting_source("database_url") or "the default"
    return Database(module.settings.database_url, source, module.service.store)


def _run(database: Database, work: Callable[[BrokerStore], Awaitable[T]]) -> T:
    """Open the database (migrating it if needed), run ``work``, close it; errors become messages."""

    async def main() -> T:
        store = database.store
        await store.open()
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(main())
    except UnknownApiKey as exc:
        _fail(str(exc))
    except (OSError, sqlite3.Error, OperationalError, DBAPIError, DatabaseUnavailable) as exc:
        # An operator runs the command: the driver's own words, which the HTTP answers leave out.
        cause = exc.__cause__ if isinstance(exc, DatabaseUnavailable) and exc.__cause__ is not None else exc
        where = describe(normalize_url(database.url))
        _fail(f"cannot use the database {where} (from {database.source}): {cause}")


def _key_json(key: StoredKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "account": key.account,
        "label": key.label,
        "created_at": key.created_at.isoformat(),
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
        "active": key.active,
    }


def _now() -> datetime:
    return datetime.now(UTC)


@keys_cli.command("create")
def create(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(help="The account the key acts for.")],
    label: Annotated[str | None, typer.Option(help="A note to tell keys apart, e.g. who holds it.")] = None,
    database_url: DatabaseOption = None,
    json_output: JsonOption = False,
) -> None:
    """Create a key and print its token once: only the token's hash is stored."""
    if not account.strip() or len(account.strip()) > 128:
        _fail("the account must be 1 to 128 characters", 2)
    database = _database(ctx, database_url)
    key, token = _run(database, lambda store: _keys.create_key(store, account, now=_now(), label=label))
    where = describe(normalize_url(database.url))
    if json_output:
        typer.echo(json.dumps({**_key_json(key), "token": token, "database": where}))
        return
    typer.echo(f"Created API key {key.id} for account {key.account!r} in {where}.")
    typer.echo("Its token, shown this once (only its hash is stored):")
    typer.echo("")
    typer.echo(f"    {token}")
    typer.echo("")
    typer.echo("Clients send it as:  Authorization: Bearer <token>")


@keys_cli.command("list")
def list_(
    ctx: typer.Context,
    account: Annotated[str | None, typer.Option(help="Only the keys of this account.")] = None,
    database_url: DatabaseOption = None,
    json_output: JsonOption = False,
) -> None:
    """List the keys (never their tokens), oldest first."""
    database = _database(ctx, database_url)
    found = _run(database, lambda store: _keys.list_keys(store, account))
    if json_output:
        typer.echo(json.dumps([_key_json(k) for k in found]))
        return
    if not found:
        typer.echo("no API keys" + (f" for account {account!r}" if account else ""))
        return
    typer.echo(f"{'id':<14}{'account':<20}{'created':<22}{'status':<10}label")
    for key in found:
        status = "active" if key.active else "revoked"
        created = key.created_at.strftime("%Y-%m-%d %H:%M:%S")
        typer.echo(f"{key.id:<14}{key.account:<20}{created:<22}{status:<10}{key.label or ''}")


@keys_cli.command("revoke")
def revoke(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(help="The key's id, as `keys list` shows it.")],
    database_url: DatabaseOption = None,
    json_output: JsonOption = False,
) -> None:
    """Revoke a key: its token is refused (401) from now on."""
    database = _database(ctx, database_url)
    key = _run(database, lambda store: _keys.revoke_key(store, key_id, now=_now()))
    if json_output:
        typer.echo(json.dumps(_key_json(key)))
        return
    typer.echo(f"Revoked API key {key.id} of account {key.account!r}.")


@db_cli.command("upgrade")
def upgrade(ctx: typer.Context, database_url: DatabaseOption = None) -> None:
    """Bring the schema to this release's revision (the server also does it when it starts)."""
    database = _database(ctx, database_url)

    async def nothing(_: BrokerStore) -> None:
        return None

    _run(database, nothing)
    typer.echo(f"{describe(normalize_url(database.url))} is at schema revision {_migrate.head()}.")


@db_cli.command("info")
def info(ctx: typer.Context, database_url: DatabaseOption = None, json_output: JsonOption = False) -> None:
    """Show which database the command (and a server started here) uses, and its schema revision."""
    database = _database(ctx, database_url)

    url = normalize_url(database.url)
    missing = url.get_backend_name() == "sqlite" and not Path(url.database or "").exists()

    async def revision() -> str | None:
        if missing:
            return None  # connecting would create the file
        engine = create_engine(url)
        try:
            return await _migrate.current(engine)
        finally:
            await engine.dispose()

    try:
        current = asyncio.run(revision())
    except (OSError, OperationalError, DBAPIError) as exc:
        _fail(f"cannot read the database: {exc}")
    facts = {
        "database": describe(normalize_url(database.url)),
        "source": database.source,
        "revision": current,
        "head": _migrate.head(),
    }
    if json_output:
        typer.echo(json.dumps(facts))
        return
    for name, value in facts.items():
        typer.echo(f"{name}: {value if value is not None else 'none (never used)'}")


def main() -> None:
    """``trading-broker``: an alias of ``trading-host broker``."""
    run_host_command("broker")
