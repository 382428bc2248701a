"""Helpers of the broker's integration tests: databases, the ``trading-broker`` command, snapshots.

PostgreSQL is reached at ``$TRADING_TEST_POSTGRES_URL`` (default: the local server, user
postgres); each test gets a database of its own, dropped afterwards. Without a server those tests
are skipped, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import forked
import pytest
from harness import BIN, Server, clean_env, ok

DATABASE_ENV = "TRADING_MODULES__BROKER__DATABASE_URL"
POSTGRES_SERVER = os.environ.get("TRADING_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin(statement: str) -> None:
    # Installed with trading-broker; imported here so that the other combinations collect.
    import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information

    async def run() -> None:
        connection = await asyncpg.connect(POSTGRES_SERVER, timeout=5)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


@contextmanager
def postgres_database() -> Iterator[str]:
    """The URL of a new PostgreSQL database for one test; dropped at the end."""
    try:
        _admin("SELECT 1")
    except Exception as exc:  # any failure to reach the server means "no server here"
        message = f"no PostgreSQL at {POSTGRES_SERVER} ({type(exc).__name__}: {exc}); set TRADING_TEST_POSTGRES_URL"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    name = f"broker_it_{secrets.token_hex(6)}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://{POSTGRES_SERVER.split('://', 1)[1].rsplit('/', 1)[0]}/{name}"
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlite_database(folder: Path) -> str:
    return f"sqlite+aiosqlite:///{folder / 'broker.db'}"


def broker_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a server (or a ``trading-broker`` command) on ``database_url``."""
    return clean_env(**{DATABASE_ENV: database_url}, **extra)


def broker_cli(*args: str, cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the installed ``trading-broker`` command."""
    return forked.run([str(BIN / "trading-broker"), *args], cwd=cwd, env=env)


API_KEYS_ENV = "TRADING_MODULES__BROKER__API_KEYS"


def configured_key(account: str, env: dict[str, str]) -> dict[str, Any]:
    """A key of the broker's settings (``api_keys``) for ``account``, added to ``env`` for the server
    started with it: for the tests where a key is only a means, it costs no process
    (``create_key`` runs the command in a process of its own)."""
    token = secrets.token_urlsafe(32)
    keys = json.loads(env.get(API_KEYS_ENV, "[]"))
    keys.append({"account": account, "sha256": hashlib.sha256(token.encode()).hexdigest()})
    env[API_KEYS_ENV] = json.dumps(keys)
    return {"account": account, "token": token}


def create_key(account: str, *, cwd: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """A new API key made with the command, as its ``--json`` output (with the token)."""
    result = broker_cli("keys", "create", account, "--json", cwd=cwd, env=env)
    assert result.returncode == 0, result.stderr
    key: dict[str, Any] = json.loads(result.stdout)
    return key


def bearer(key: Mapping[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {key['token']}"}


def serve_command() -> list[str]:
    return [str(BIN / "trading-host"), "serve", "--port", "{port}"]


def snapshot(server: Server, key: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the broker shows through v1 (the default account) and v2 (the key's account),
    minus what moves with the simulated market between two reads (valuations)."""

    def steady(position: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in position.items() if k not in {"unrealised_pnl", "last_price"}}

    def balance(account: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in account.items() if k not in {"equity", "unrealised_pnl"}}

    views: dict[str, Any] = {}
    for name, prefix, headers in (("v1", "/api/v1/broker", {}), ("v2", "/api/v2/broker", bearer(key))):
        views[name] = {
            "orders": ok(server.get(f"{prefix}/orders", headers=headers)),
            "executions": ok(server.get(f"{prefix}/executions", headers=headers)),
            "positions": [steady(p) for p in ok(server.get(f"{prefix}/positions", headers=headers))],
            "account": balance(ok(server.get(f"{prefix}/account", headers=headers))),
        }
    return views
