"""Issue 8, the broker's items, against real ``trading-host serve`` processes: numbers are bounded
on every version and strict on v2, an account has a buying power, one order the matcher cannot
fill stops no other account's, and a database that cannot serve gives 503 problems (not bare
500s), its tables come back, and the public health report names no database.

PostgreSQL is made to refuse connections by a TCP relay between the server and PostgreSQL that
the test switches off and on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from broker_support import (
    POSTGRES_SERVER,
    bearer,
    broker_env,
    configured_key,
    create_key,
    postgres_database,
    serve_command,
    sqlite_database,
)
from harness import Server, ok, start_server

pytestmark = [pytest.mark.modules("broker"), pytest.mark.independent]
V1 = "/api/v1/broker"
V2 = "/api/v2/broker"
HEALTH = "/api/v1/core/health"
PROBLEM = "application/problem+json"
UNAVAILABLE = "urn:trading-api:problem:database-unavailable"
SCHEMA_MISSING = "urn:trading-api:problem:database-schema-missing"


def rules(response: Any) -> list[tuple[str, str]]:
    assert response.status_code == 422, f"{response.status_code}: {response.text}"
    return [(e["loc"][-1], e["type"]) for e in response.json()["detail"]]


def broker_report(server: Server) -> dict[str, Any]:
    report: dict[str, Any] = server.get(HEALTH).json()["modules"]["broker"]
    return report


@pytest.fixture
def started(serve: Callable[..., Server], tmp_path: Path) -> tuple[Server, dict[str, Any]]:
    """A server of its own on a SQLite file, and an API key of account alice: for the tests that
    spend an account or count what it holds."""
    env = broker_env(sqlite_database(tmp_path))
    alice = configured_key("alice", env)
    return serve(serve_command(), env=env), alice


# The tests of refusals share one server (one pytest-xdist process runs them all): each uses an
# account of its own, and none of them changes what another one reads.
SHARED = pytest.mark.xdist_group("broker_hardening_shared")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, dict[str, Any]]]]:
    """One server on a SQLite file, and API keys of the accounts ``strict`` and ``modifier``."""
    folder = tmp_path_factory.mktemp("shared")
    env = broker_env(sqlite_database(folder))
    keys = {account: configured_key(account, env) for account in ("strict", "modifier")}
    server = start_server(serve_command(), cwd=folder, env=env)
    yield server, keys
    server.stop()


# -- 1: the +inf poisoning, bounds and buying power


def test_an_anonymous_client_cannot_make_a_position_infinite(started: tuple[Server, dict[str, Any]]) -> None:
    server, alice = started
    for _ in range(2):
        assert rules(server.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1e308})) == [
            ("quantity", "less_than_equal")
        ]
    assert ok(server.get(f"{V1}/positions")) == []
    assert ok(server.get(f"{V1}/account"))["equity"] == 100_000.0
    assert ok(server.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 100}))["status"] == "filled"
    assert ok(server.post(f"{V2}/orders", json={"symbol": "AAPL", "quantity": 100}, headers=bearer(alice)))
    report = ok(server.get(HEALTH))
    assert (report["status"], report["modules"]["broker"]["status"]) == ("ok", "ok")


@pytest.mark.parametrize("version", [V1, V2])
def test_limits_of_the_instrument_and_of_the_account_are_422_on_every_version(
    started: tuple[Server, dict[str, Any]], version: str
) -> None:
    server, alice = started
    headers = bearer(alice) if version == V2 else {}
    too_big = server.post(f"{version}/orders", json={"symbol": "AAPL", "quantity": 2_000_000}, headers=headers)
    assert rules(too_big) == [("quantity", "max_quantity")]
    assert "maximum 1000000 of one AAPL order" in too_big.json()["detail"][0]["msg"]
    priced = {"symbol": "EURUSD", "quantity": 1000, "order_type": "LIMIT", "limit_price": 5000}
    assert rules(server.post(f"{version}/orders", json=priced, headers=headers)) == [("limit_price", "max_price")]
    # Leverage 4 on 100,000: 400,000 of buying power; 5,000 AAPL (about 190 each) is past it.
    ok(server.post(f"{version}/orders", json={"symbol": "AAPL", "quantity": 1}, headers=headers))
    beyond = server.post(f"{version}/orders", json={"symbol": "AAPL", "quantity": 5000}, headers=headers)
    assert rules(beyond) == [("quantity", "buying_power")]
    assert "not enough buying power" in beyond.json()["detail"][0]["msg"]
    assert len(ok(server.get(f"{version}/orders", headers=headers))) == 1  # nothing refused was stored


def test_an_anonymous_client_spending_the_default_account_leaves_other_accounts_alone(
    started: tuple[Server, dict[str, Any]],
) -> None:
    server, alice = started
    placed = 0
    while server.post(f"{V1}/orders", json={"symbol": "SPY", "quantity": 100}).status_code == 200:
        placed += 1
        assert placed < 20, "the default account never ran out of buying power"
    assert rules(server.post(f"{V1}/orders", json={"symbol": "SPY", "quantity": 100})) == [("quantity", "buying_power")]
    assert ok(server.post(f"{V2}/orders", json={"symbol": "SPY", "quantity": 100}, headers=bearer(alice)))


def _poison(database: Path) -> None:
    """What a release without bounds let two v1 requests store: the default account's AAPL position
    at +inf; and every working order given a limit the market is below, so the next check fills it."""
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.execute("UPDATE broker_positions SET quantity = ? WHERE account = 'default'", (math.inf,))
        connection.execute("UPDATE broker_orders SET limit_price = 999999 WHERE status = 'working'")
    finally:
        connection.close()


def test_an_order_the_matcher_cannot_fill_does_not_stop_the_others(
    serve: Callable[..., Server], tmp_path: Path
) -> None:
    """Before: the matcher raised InvalidOperation on the poisoned order at every tick, every working
    order of every account behind it never filled, and /core/health said ok."""
    env = broker_env(sqlite_database(tmp_path))
    alice = configured_key("alice", env)
    first = serve(serve_command(), env=env)
    ok(first.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1}))
    far = {"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT", "limit_price": 1}
    poisoned = ok(first.post(f"{V1}/orders", json=far))
    theirs = [
        ok(first.post(f"{V2}/orders", json={**far, "symbol": s}, headers=bearer(alice))) for s in ("AAPL", "MSFT")
    ]
    first.stop()
    _poison(tmp_path / "broker.db")

    second = serve(serve_command(), env=env)  # its first check reads every working order
    deadline = time.monotonic() + 20
    while any(ok(second.get(f"{V2}/orders/{o['id']}", headers=bearer(alice)))["status"] != "filled" for o in theirs):
        assert time.monotonic() < deadline, "the other account's orders never filled"
        time.sleep(0.2)
    rejected = ok(second.get(f"{V1}/orders/{poisoned['id']}"))
    assert rejected["status"] == "rejected"
    assert "cannot add this fill to the account's AAPL position" in rejected["reason"]
    assert f"order {poisoned['id']} cannot be filled" in second.output()  # logged, with the order
    assert broker_report(second)["status"] == "ok"  # the failing order is dealt with


# -- 3 and 7: v2's validation


@pytest.mark.parametrize(
    "body",
    [
        {"symbol": "AAPL", "quantity": 1e29},
        {"symbol": "EURUSD", "quantity": 1e32},
        {"symbol": "BTCUSD", "quantity": 1e25},
        {"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT", "limit_price": 1e26},
        {"symbol": "EURUSD", "quantity": 1000, "order_type": "STOP", "stop_price": 1e26},
    ],
)
@SHARED
def test_v2_answers_422_for_huge_quantities_and_prices(
    shared: tuple[Server, dict[str, dict[str, Any]]], body: dict[str, Any]
) -> None:
    server, keys = shared
    assert [rule for _, rule in rules(server.post(f"{V2}/orders", json=body, headers=bearer(keys["strict"])))] == [
        "less_than_equal"
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"symbol": "AAPL", "quantity": True},
        {"symbol": "AAPL", "quantity": "1"},
        {"symbol": "AAPL", "quantity": " 2 "},
        {"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT", "limit_price": "1.00"},
    ],
)
@SHARED
def test_v2_takes_json_numbers_only(shared: tuple[Server, dict[str, dict[str, Any]]], body: dict[str, Any]) -> None:
    server, keys = shared
    strict = bearer(keys["strict"])
    assert [rule for _, rule in rules(server.post(f"{V2}/orders", json=body, headers=strict))] == ["float_type"]
    assert ok(server.get(f"{V2}/orders", headers=strict)) == []
    assert ok(server.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": "1"}))["quantity"] == 1  # v1: lenient


@SHARED
def test_an_empty_v2_modification_is_refused_as_the_served_schema_says(
    shared: tuple[Server, dict[str, dict[str, Any]]],
) -> None:
    server, keys = shared
    modifier = bearer(keys["modifier"])
    far = {"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT", "limit_price": 1}
    working = ok(server.post(f"{V2}/orders", json=far, headers=modifier))
    assert server.client.patch(f"{V2}/orders/{working['id']}", json={}, headers=modifier).status_code == 422
    schemas = ok(server.get("/api/v2/openapi.json"))["components"]["schemas"]
    assert schemas["OrderModificationV2"]["minProperties"] == 1


def test_no_body_makes_the_server_fail(started: tuple[Server, dict[str, Any]]) -> None:
    """Every fault is a status and a body, whatever JSON a client sends to the order endpoints."""
    from hypothesis import HealthCheck, example, given, settings
    from hypothesis import strategies as st

    server, alice = started
    working = ok(
        server.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT", "limit_price": 1})
    )
    numbers = st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(min_value=-(10**400), max_value=10**400),
        st.sampled_from([0, -1, 1, 1000, 0.5, 1e308, 5e-324, 1e29, 1e26, 10**30]),
    )
    scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=12))
    symbols = st.one_of(st.sampled_from(["AAPL", "EURUSD", "BTCUSD", "NOPE", "AA\x00PL", "\ud800", ""]), scalars)
    orders = st.fixed_dictionaries(
        {"symbol": symbols, "quantity": st.one_of(numbers, scalars)},
        optional={
            "order_type": st.one_of(st.sampled_from(["MARKET", "LIMIT", "STOP", "STOP_LIMIT", "limit"]), scalars),
            "side": st.one_of(st.sampled_from(["BUY", "SELL"]), scalars),
            "limit_price": st.one_of(numbers, scalars),
            "stop_price": st.one_of(numbers, scalars),
            "x\ud800": scalars,
        },
    )
    changes = st.fixed_dictionaries(
        {}, optional={"quantity": scalars, "limit_price": scalars, "stop_price": scalars, "\ud800": scalars}
    )
    bodies = st.one_of(orders, changes, scalars, st.lists(scalars, max_size=3))
    targets = [
        ("POST", f"{V1}/orders", {}),
        ("POST", f"{V2}/orders", bearer(alice)),
        ("PATCH", f"{V1}/orders/{working['id']}", {}),
        ("PATCH", f"{V2}/orders/{working['id']}", bearer(alice)),
    ]

    @settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(body=bodies, target=st.sampled_from(targets))
    def check(body: Any, target: tuple[str, str, dict[str, str]]) -> None:
        method, path, headers = target
        text = json.dumps(body, ensure_ascii=True)
        response = server.client.request(
            method, path, content=text, headers={**headers, "content-type": "application/json"}
        )
        assert response.status_code < 500, f"{method} {path} {text}: {response.status_code} {response.text}"
        response.json()  # a body, in JSON

    # What once answered 500, tried first on every run; then what hypothesis makes up.
    for body, target in (
        ({"symbol": "AAPL", "quantity": 1e29}, targets[1]),
        ({"symbol": "EURUSD", "quantity": 1000, "order_type": "LIMIT", "limit_price": 1e26}, targets[1]),
        ({"quantity": 10**30}, targets[3]),
        ({"symbol": "AAPL", "quantity": 1e308}, targets[0]),
        ({"symbol": "\ud800", "quantity": 1, "x\ud800": 1}, targets[1]),
    ):
        check = example(body=body, target=target)(check)
    check()


# -- 5: the database goes away


class Relay:
    """A TCP relay to PostgreSQL on a port of its own, switched off (connections refused, open
    ones cut) and on again, as a database server that goes away and comes back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        listener.settimeout(0.05)
        self._stop.clear()
        self._sockets.append(listener)
        self._spawn(self._accept, listener)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        for sock in self._sockets:
            sock.close()
        self._threads.clear()
        self._sockets.clear()

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self, listener: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            upstream = socket.create_connection(self.target)
            for sock in (client, upstream):
                sock.settimeout(0.05)
                self._sockets.append(sock)
            self._spawn(self._pump, client, upstream)
            self._spawn(self._pump, upstream, client)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                data = source.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            try:
                sink.sendall(data)
            except OSError:
                break
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _server_address() -> tuple[str, int]:
    netloc = POSTGRES_SERVER.split("://", 1)[1].rsplit("/", 1)[0].rsplit("@", 1)[-1]
    host, _, port = netloc.partition(":")
    return host or "127.0.0.1", int(port or 5432)


@pytest.fixture
def relayed(serve: Callable[..., Server], tmp_path: Path) -> Iterator[tuple[Server, Relay, str, dict[str, Any]]]:
    """A server whose PostgreSQL database is reached through a relay: (server, relay, database
    name, an API key of alice)."""
    with postgres_database() as url:
        relay = Relay(_server_address())
        relay.start()
        host, name = url.rsplit("/", 1)
        through = f"{host.rsplit(':', 1)[0]}:{relay.port}/{name}"
        try:
            env = broker_env(through)
            alice = create_key("alice", cwd=tmp_path, env=env)  # a key of the database: it fails with it
            yield serve(serve_command(), env=env), relay, name, alice
        finally:
            relay.stop()


def assert_unavailable(response: Any, problem_type: str = UNAVAILABLE) -> dict[str, Any]:
    assert response.status_code == 503, f"{response.status_code}: {response.text}"
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["retry-after"]) >= 1
    body: dict[str, Any] = response.json()
    assert (body["type"], body["status"]) == (problem_type, 503)
    return body


def wait_for_200(server: Server, path: str, headers: dict[str, str] | None = None, seconds: float = 15) -> float:
    started = time.monotonic()
    while (response := server.get(path, headers=headers)).status_code != 200:
        assert response.status_code == 503, f"{response.status_code}: {response.text}"
        assert time.monotonic() - started < seconds, response.text
        time.sleep(0.1)
    return time.monotonic() - started


def test_a_database_refusing_connections_gives_503_problems_and_recovers(relayed) -> None:
    server, relay, name, alice = relayed
    placed = ok(server.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1}))
    relay.stop()
    for method, path, headers in (
        ("POST", f"{V1}/orders", {}),
        ("GET", f"{V1}/orders", {}),
        ("GET", f"{V1}/positions", {}),
        ("GET", f"{V1}/account", {}),
        ("GET", f"{V2}/orders", bearer(alice)),
        ("POST", f"{V2}/orders", bearer(alice)),
    ):
        response = server.client.request(method, path, json={"symbol": "AAPL", "quantity": 1}, headers=headers)
        body = assert_unavailable(response)
        assert name not in json.dumps(body)
    health = server.get(HEALTH)
    assert health.status_code == 503
    report = health.json()["modules"]["broker"]
    assert report["status"] == "down"
    assert name not in health.text
    assert "Connect call failed" not in health.text
    relay.start()
    assert wait_for_200(server, f"{V1}/orders") < 5
    assert [o["id"] for o in ok(server.get(f"{V1}/orders"))] == [placed["id"]]
    assert ok(server.get(HEALTH))["status"] == "ok"


def _admin(statement: str) -> None:
    import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information

    async def run() -> None:
        connection = await asyncpg.connect(POSTGRES_SERVER, timeout=5)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


def test_a_database_dropped_and_created_again_is_migrated_again(relayed) -> None:
    server, _, name, alice = relayed
    ok(server.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1}))
    _admin(f'DROP DATABASE "{name}" WITH (FORCE)')
    assert_unavailable(server.get(f"{V1}/orders"))
    health = server.get(HEALTH)
    assert health.json()["modules"]["broker"]["status"] == "down"
    assert name not in health.text  # the driver says 'database "<name>" does not exist'
    _admin(f'CREATE DATABASE "{name}"')
    first = server.get(f"{V1}/orders")
    if first.status_code != 200:  # created again already, or being created
        assert_unavailable(first, SCHEMA_MISSING)
    wait_for_200(server, f"{V1}/orders")
    assert ok(server.get(f"{V1}/orders")) == []
    assert ok(server.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1}))["status"] == "filled"
    # Keys lived in the dropped database; the keys of the settings would still work.
    assert server.get(f"{V2}/orders", headers=bearer(alice)).status_code == 401
    assert "created again, empty" in server.output()
