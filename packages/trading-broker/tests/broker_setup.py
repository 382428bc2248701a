"""What the broker's tests share besides fixtures: the frozen time, the module's settings (two API
keys), a settable price tape, and statements run on the PostgreSQL server.

Imported by name (``from broker_setup import NOW``), as pytest imports it: conftest.py puts this
folder on ``sys.path``.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime

from trading_broker import hash_api_key

NOW = datetime(2025, 3, 12, 15, 30, tzinfo=UTC)
DEFAULT_TOKEN = "test_token"
ALICE_TOKEN = "alice-secret-token"
SETTINGS = {
    "default_account": "default",
    "api_keys": [
        {"account": "default", "sha256": hash_api_key(DEFAULT_TOKEN)},
        {"account": "alice", "sha256": hash_api_key(ALICE_TOKEN)},
    ],
    # The tests drive fills themselves; the background check runs once at start-up only.
    "match_interval": 3600,
}
POSTGRES_SERVER = os.environ.get("TRADING_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


class Tape:
    """A price source whose prices the test sets, to walk orders through the fill rules."""

    def __init__(self, **prices: float) -> None:
        self.prices = prices

    def last_price(self, symbol: str, at: datetime) -> float | None:
        return self.prices.get(symbol)


def postgres_admin(statement: str) -> None:
    """Run ``statement`` on the PostgreSQL server (its ``postgres`` database)."""
    import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information

    async def run() -> None:
        connection = await asyncpg.connect(POSTGRES_SERVER, timeout=5)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())
