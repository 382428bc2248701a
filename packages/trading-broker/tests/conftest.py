"""Fixtures: databases (a SQLite file, and a fresh PostgreSQL database per run), a broker module
(frozen clock) served as v1 and v2 by a plain FastAPI app, and a settable price tape.

PostgreSQL is reached at ``$TRADING_TEST_POSTGRES_URL`` (default: the local server, user postgres);
each run creates its own database and drops it at the end. Without a server the PostgreSQL cases
are skipped, except under CI (``CI`` set), where they fail.

The tests marked ``needs_host`` run the broker's commands inside trading-host, which the broker does
not depend on: they are skipped where it is not installed. nox's ``unit(broker)`` runs the others
first without the host, then installs it and runs these.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

# The helper module beside this file is imported by name, whatever pytest's import mode.
_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from broker_setup import NOW, POSTGRES_SERVER, SETTINGS, Tape, postgres_admin  # noqa: E402

from trading_broker import BrokerModule, BrokerService  # noqa: E402
from trading_broker.api.v1 import BrokerApi as BrokerApiV1  # noqa: E402
from trading_broker.api.v2 import BrokerApi as BrokerApiV2  # noqa: E402
from trading_core import ModuleContext  # noqa: E402
from trading_core.testing import include_api  # noqa: E402

V1 = "/api/v1/broker"
V2 = "/api/v2/broker"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs_host: runs inside trading-host; skipped where it is not installed")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("needs_host") and importlib.util.find_spec("trading_host") is None:
        pytest.skip("needs trading-host, which is not installed")


# -- PostgreSQL


def _postgres_available() -> str | None:
    try:
        postgres_admin("SELECT 1")
    except Exception as exc:  # any failure to reach the server means "no server here"
        return f"{type(exc).__name__}: {exc}"
    return None


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for the broker; dropped afterwards."""
    name = f"broker_test_{secrets.token_hex(6)}"
    postgres_admin(f'CREATE DATABASE "{name}"')
    try:
        server = POSTGRES_SERVER.split("://", 1)[1].rsplit("/", 1)[0]
        yield f"postgresql+asyncpg://{server}/{name}"
    finally:
        postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server() -> None:
    """Skips (fails under CI) when there is no PostgreSQL server to test against."""
    problem = _postgres_available()
    if problem is not None:
        message = f"no PostgreSQL at {POSTGRES_SERVER} ({problem}); set TRADING_TEST_POSTGRES_URL"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: None) -> Iterator[str]:
    """One fresh PostgreSQL database for this test run."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def fresh_postgres(postgres_server: None):
    """``with fresh_postgres() as url``: a database of its own, for tests of empty databases."""
    return fresh_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The broker's database, once per backend. Tests that use it start from an empty state."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'broker.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'broker.db'}"


# -- prices and services


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def tape() -> Tape:
    return Tape(AAPL=100.0, MSFT=400.0)


@pytest.fixture
async def service(database_url: str, tape: Tape) -> AsyncIterator[BrokerService]:
    """A broker service on an empty database, the tape as its market, the clock frozen at NOW."""
    broker = BrokerService(database_url=database_url, prices=tape, clock=lambda: NOW)
    await broker.open()
    await broker.store.reset()
    try:
        yield broker
    finally:
        await broker.close()


# -- the HTTP API


@pytest.fixture
def now() -> datetime:
    """The frozen time of the module's clock."""
    return NOW


@pytest.fixture
def module(sqlite_url: str) -> BrokerModule:
    return BrokerModule(ModuleContext(settings={**SETTINGS, "database_url": sqlite_url}), clock=lambda: NOW)


@pytest.fixture
def last(module: BrokerModule):
    """The simulated last price of a symbol at the frozen time."""

    def price(symbol: str) -> float:
        value = module.service.prices.last_price(symbol, NOW)
        assert value is not None
        return value

    return price


@contextmanager
def _serving(module: BrokerModule) -> Iterator[TestClient]:
    """A client of an app serving ``module`` as v1 and v2, its lifespan running."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with module.lifespan():
            yield

    app = FastAPI(lifespan=lifespan)
    include_api(app, BrokerApiV1(module), prefix=V1)
    include_api(app, BrokerApiV2(module), prefix=V2)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def serving() -> Callable[[BrokerModule], AbstractContextManager[TestClient]]:
    """``with serving(module) as client``: an app serving ``module`` as v1 and v2, running."""
    return _serving


@pytest.fixture
def client(module: BrokerModule) -> Iterator[TestClient]:
    with _serving(module) as client:
        yield client


@pytest.fixture
def stream_module(sqlite_url: str, tape: Tape) -> BrokerModule:
    """A module priced by the tape, streaming every equity change at once."""
    settings = {**SETTINGS, "database_url": sqlite_url, "equity_interval": 0}
    return BrokerModule(ModuleContext(settings=settings), prices=tape, clock=lambda: NOW)


@pytest.fixture
def stream_client(stream_module: BrokerModule) -> Iterator[TestClient]:
    """A client of ``stream_module`` whose background matcher is stopped, so that no check races
    the test's: ``client.portal.call(stream_module.matcher.tick)`` runs one."""
    with _serving(stream_module) as client:
        assert client.portal is not None  # set while the client runs the app
        client.portal.call(stream_module.matcher.stop)
        yield client


# -- streams


class StreamTools:
    """Reading a stream over Starlette's test client without ever waiting for a message that may
    not come: :meth:`sync` sends a request and returns what arrived before its reply (updates the
    server had queued already, since a change's events are published before its HTTP answer)."""

    def __init__(self, module: BrokerModule) -> None:
        self.module = module
        self._syncs = 0

    def subscribe(self, ws: Any, route: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Subscribe; the ``subscribe.response``."""
        ws.send_json({"type": f"{route}.subscribe", "id": f"sub-{route}", "payload": params or {}})
        reply: dict[str, Any] = ws.receive_json()
        assert reply["type"] == f"{route}.subscribe.response", reply
        return reply

    def sync(self, ws: Any) -> list[dict[str, Any]]:
        """Every message that arrives before the reply to a request sent now."""
        self._syncs += 1
        marker = f"sync-{self._syncs}"
        ws.send_json({"type": "sync", "id": marker})
        received = []
        while (message := ws.receive_json()).get("id") != marker:
            received.append(message)
        assert message["payload"]["code"] == "unknown-type", message
        return received

    def updates(self, ws: Any, route: str | None = None) -> list[dict[str, Any]]:
        """The payloads of the updates queued for ``ws`` (of ``route``), in order."""
        found = []
        for message in self.sync(ws):
            assert message["type"].endswith(".update"), message
            if route is None or message["type"] == f"{route}.update":
                found.append(message["payload"])
        return found

    def running(self, client: TestClient) -> dict[str, int]:
        """The module's stream connections and feeds, and the open event subscriptions under them."""
        assert client.portal is not None  # set while the client runs the app
        streams: dict[str, int] = client.portal.call(self.module.health)["streams"]
        return {**streams, "event_subscriptions": self.module.service.events.subscribers}

    def wait_until(self, client: TestClient, expected: dict[str, int]) -> None:
        """Wait (a few seconds at most) for the server to notice connections closing."""
        deadline = time.monotonic() + 5
        while (now := self.running(client)) != expected:
            assert time.monotonic() < deadline, now
            time.sleep(0.01)


@pytest.fixture
def streams(stream_module: BrokerModule) -> StreamTools:
    return StreamTools(stream_module)
