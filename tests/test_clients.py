"""The generated clients (the wheels built from ``clients/``) against a live ``trading-host serve``:
broker v1 and v2 side by side, an order placed through v1 and read through v2, sync and async;
the core and datafeed clients on the same server."""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from broker_support import broker_env, configured_key, serve_command, sqlite_database
from harness import Server, start_server

# Its tests share the servers of module-scoped fixtures: one pytest-xdist process runs them all.
pytestmark = [pytest.mark.modules("broker"), pytest.mark.independent, pytest.mark.xdist_group("clients")]


def client_module(name: str) -> ModuleType:
    """A module of an installed client wheel; a missing wheel skips the test, except under CI."""
    try:
        return importlib.import_module(name)
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"{name.partition('.')[0]} is not installed: build and install the wheels of clients/")


class Broker:
    """The broker client's v1 and v2 packages, and the operations the tests use."""

    def __init__(self) -> None:
        self.v1 = client_module("trading_broker_client.v1")
        self.v2 = client_module("trading_broker_client.v2")
        self.place_v1 = client_module("trading_broker_client.v1.api.broker.place_order")
        self.get_v1 = client_module("trading_broker_client.v1.api.broker.get_order")
        self.get_v2 = client_module("trading_broker_client.v2.api.broker.get_order_v2")
        self.list_v2 = client_module("trading_broker_client.v2.api.broker.list_orders_v2")
        self.positions_v2 = client_module("trading_broker_client.v2.api.broker.list_positions_v2")
        self.models_v1 = client_module("trading_broker_client.v1.models")
        self.models_v2 = client_module("trading_broker_client.v2.models")

    def order(self, symbol: str, quantity: float) -> Any:
        return self.models_v1.PreOrder(symbol=symbol, quantity=quantity, order_type=self.models_v1.OrderType.MARKET)


@pytest.fixture
def broker() -> Broker:
    return Broker()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, Any]]]:
    """A server on a SQLite file, and a v2 key for the account v1 acts on (``default``)."""
    folder = tmp_path_factory.mktemp("clients")
    env = broker_env(sqlite_database(folder))
    key = configured_key("default", env)
    server = start_server(serve_command(), cwd=folder, env=env)
    yield server, key
    server.stop()


def test_both_versions_import_side_by_side(broker: Broker) -> None:
    assert broker.v1.Client is not broker.v2.Client
    assert broker.models_v1.PlacedOrder is not broker.models_v2.PlacedOrderV2
    assert {"sync", "sync_detailed", "asyncio", "asyncio_detailed"} <= set(dir(broker.place_v1))


def test_place_through_v1_and_read_through_v2_sync(broker: Broker, live: tuple[Server, dict[str, Any]]) -> None:
    server, key = live
    v1 = broker.v1.Client(base_url=f"{server.base_url}/api/v1/broker", raise_on_unexpected_status=True)
    v2 = broker.v2.AuthenticatedClient(
        base_url=f"{server.base_url}/api/v2/broker", token=key["token"], raise_on_unexpected_status=True
    )

    with v1, v2:
        placed = broker.place_v1.sync(client=v1, body=broker.order("AAPL", 10))
        assert isinstance(placed, broker.models_v1.PlacedOrder), placed
        again = broker.get_v1.sync(placed.id, client=v1)
        read = broker.get_v2.sync(placed.id, client=v2)
        listed = broker.list_v2.sync(client=v2)
        positions = broker.positions_v2.sync(client=v2)

    assert again.id == placed.id
    assert isinstance(read, broker.models_v2.PlacedOrderV2), read
    assert (read.id, read.symbol, read.quantity, read.account) == (placed.id, "AAPL", 10, "default")
    assert read.status == broker.models_v2.OrderStatus.FILLED
    assert placed.id in [order.id for order in listed]
    assert ("AAPL", 10) in [(p.symbol, p.quantity) for p in positions]  # only this test trades AAPL


def test_place_through_v1_and_read_through_v2_async(broker: Broker, live: tuple[Server, dict[str, Any]]) -> None:
    server, key = live

    async def run() -> tuple[Any, Any, Any]:
        v1 = broker.v1.Client(base_url=f"{server.base_url}/api/v1/broker", raise_on_unexpected_status=True)
        v2 = broker.v2.AuthenticatedClient(
            base_url=f"{server.base_url}/api/v2/broker", token=key["token"], raise_on_unexpected_status=True
        )
        async with v1, v2:
            placed = await broker.place_v1.asyncio(client=v1, body=broker.order("MSFT", 3))
            read = await broker.get_v2.asyncio(placed.id, client=v2)
            detailed = await broker.get_v2.asyncio_detailed(placed.id, client=v2)
        return placed, read, detailed

    placed, read, detailed = asyncio.run(run())

    assert isinstance(read, broker.models_v2.PlacedOrderV2), read
    assert (read.id, read.symbol, read.account) == (placed.id, "MSFT", "default")
    assert detailed.status_code == 200
    assert detailed.parsed.id == placed.id


def test_v2_without_a_valid_token_gets_the_documented_401(broker: Broker, live: tuple[Server, dict[str, Any]]) -> None:
    server, _ = live
    wrong = broker.v2.AuthenticatedClient(base_url=f"{server.base_url}/api/v2/broker", token="tb_not_a_key")

    with wrong:
        answer = broker.list_v2.sync_detailed(client=wrong)

    assert answer.status_code == 401
    assert isinstance(answer.parsed, broker.models_v2.ErrorMessage)


@pytest.mark.modules("datafeed")
def test_the_core_and_datafeed_clients_on_the_same_server(live: tuple[Server, dict[str, Any]]) -> None:
    server, _ = live
    core = client_module("trading_core_client.v1")
    health = client_module("trading_core_client.v1.api.core.get_health")
    versions = client_module("trading_core_client.v1.api.core.list_versions")
    datafeed = client_module("trading_datafeed_client.v1")
    config = client_module("trading_datafeed_client.v1.api.datafeed.get_config")
    quotes = client_module("trading_datafeed_client.v1.api.datafeed.get_quotes")

    with core.Client(base_url=f"{server.base_url}/api/v2/core", raise_on_unexpected_status=True) as client:
        status = health.sync(client=client)
        mounted = versions.sync(client=client)
    with datafeed.Client(base_url=f"{server.base_url}/api/v2/datafeed", raise_on_unexpected_status=True) as client:
        udf = config.sync(client=client)
        # UDF answers hold a property named "d", which the generator's own template mis-parses
        quoted = quotes.sync(client=client, symbols="AAPL,NOPE")

    assert status.status.value == "ok"
    assert {(m.module, m.version) for m in mounted} >= {("broker", "v2"), ("datafeed", "v1")}
    assert udf.supported_resolutions
    assert quoted.s == "ok"
    assert [(q.n, q.s) for q in quoted.d] == [("AAPL", "ok"), ("NOPE", "error")]
    assert quoted.d[0].v.lp > 0
