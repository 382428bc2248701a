"""A database that cannot serve: every endpoint answers 503 with a problem+json body and
``Retry-After`` (not a bare 500), tables that are gone are created again, recovery needs no
restart, and the public health report names no database and quotes no driver (issue 8).

PostgreSQL is made to refuse connections by a TCP relay between the broker and the server that
the test switches off and on; SQLite and PostgreSQL both lose their tables.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from broker_setup import NOW, SETTINGS, postgres_admin
from sqlalchemy.engine import make_url

from trading_broker import BrokerModule
from trading_broker.api._http import SCHEMA_MISSING_TYPE, UNAVAILABLE_TYPE
from trading_core import ModuleContext

V1 = "/api/v1/broker"
V2 = "/api/v2/broker"
DEFAULT = {"Authorization": "Bearer test_token"}
PROBLEM = "application/problem+json"
ENDPOINTS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", f"{V1}/orders", {"json": {"symbol": "AAPL", "quantity": 1}}),
    ("GET", f"{V1}/orders", {}),
    ("GET", f"{V1}/orders/some-id", {}),
    ("PATCH", f"{V1}/orders/some-id", {"json": {"quantity": 2}}),
    ("DELETE", f"{V1}/orders/some-id", {}),
    ("GET", f"{V1}/positions", {}),
    ("GET", f"{V1}/executions", {}),
    ("GET", f"{V1}/account", {}),
    ("POST", f"{V2}/orders", {"json": {"symbol": "AAPL", "quantity": 1}, "headers": DEFAULT}),
    ("GET", f"{V2}/orders", {"headers": DEFAULT}),
    ("GET", f"{V2}/account", {"headers": DEFAULT}),
]


class Relay:
    """A TCP relay to a server, on a port of its own, that can be switched off (connections
    refused, open ones cut) and on again, as a database server that goes away and comes back."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        listener.settimeout(0.05)
        self._listener = listener
        self._stop.clear()
        self._spawn(self._accept)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self._threads.clear()
        for sock in [*self._open, *([self._listener] if self._listener else [])]:
            sock.close()
        self._open.clear()
        self._listener = None

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            server = socket.create_connection(self.target)
            for sock in (client, server):
                sock.settimeout(0.05)
                self._open.append(sock)
            self._spawn(self._pump, client, server)
            self._spawn(self._pump, server, client)

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


@pytest.fixture
def relayed_postgres(fresh_postgres) -> Iterator[tuple[str, Relay, str]]:
    """A fresh PostgreSQL database reached through a relay: (URL through the relay, relay, database name)."""
    with fresh_postgres() as url:
        parsed = make_url(url)
        relay = Relay(parsed.host or "127.0.0.1", parsed.port or 5432)
        relay.start()
        try:
            yield parsed.set(port=relay.port).render_as_string(hide_password=False), relay, parsed.database or ""
        finally:
            relay.stop()


def module_on(url: str, **settings: object) -> BrokerModule:
    return BrokerModule(ModuleContext(settings={**SETTINGS, "database_url": url, **settings}), clock=lambda: NOW)


def assert_unavailable(response, problem_type: str = UNAVAILABLE_TYPE) -> dict[str, Any]:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["retry-after"]) >= 1
    body: dict[str, Any] = response.json()
    assert (body["type"], body["title"], body["status"]) == (problem_type, "Database unavailable", 503)
    return body


def wait_for_200(client, path: str, headers: dict[str, str] | None = None, seconds: float = 10) -> float:
    started = time.monotonic()
    while (response := client.get(path, headers=headers)).status_code != 200:
        assert response.status_code == 503, response.text
        assert time.monotonic() - started < seconds, response.text
        time.sleep(0.05)
    return time.monotonic() - started


def test_a_database_refusing_connections_gives_503_problems_then_recovers(relayed_postgres, serving):
    url, relay, name = relayed_postgres
    module = module_on(url)
    with serving(module) as client:
        placed = client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1}).json()
        relay.stop()
        for method, path, options in ENDPOINTS:
            body = assert_unavailable(client.request(method, path, **options))
            assert name not in json.dumps(body), body
            assert "Connect call failed" not in body["detail"]
        report = client.portal.call(module.health)
        assert (report["status"], report["database"]) == ("down", "postgresql")
        assert name not in json.dumps(report)
        assert "Errno" not in json.dumps(report)
        relay.start()
        assert wait_for_200(client, f"{V1}/orders") < 5
        assert [o["id"] for o in client.get(f"{V1}/orders").json()] == [placed["id"]]
        assert client.portal.call(module.health)["status"] == "ok"


def test_v2_streams_refuse_the_handshake_with_503_while_the_database_is_down(relayed_postgres, serving):
    from starlette.testclient import WebSocketDenialResponse

    url, relay, _ = relayed_postgres
    module = module_on(url)
    with serving(module) as client:
        _, token = client.portal.call(module.service.create_api_key, "alice")  # a key the database holds
        relay.stop()
        headers = {"Authorization": f"Bearer {token}"}
        with pytest.raises(WebSocketDenialResponse) as refused, client.websocket_connect(f"{V2}/ws", headers=headers):
            pass
        assert refused.value.status_code == 503
        assert "not available at the moment" in refused.value.json()["detail"]
        relay.start()
        with client.websocket_connect(f"{V2}/ws", headers=headers) as ws:
            ws.send_json({"type": "orders.subscribe"})
            assert ws.receive_json()["type"] == "orders.subscribe.response"


def test_health_details_are_behind_a_setting(relayed_postgres, serving):
    url, relay, _ = relayed_postgres
    module = module_on(url, health_details=True)
    with serving(module) as client:
        relay.stop()
        report = client.portal.call(module.health)
        assert report["status"] == "down"
        assert "ConnectionRefusedError" in report["error"]
        relay.start()


def test_a_database_dropped_and_created_again_gets_its_tables_back(fresh_postgres, serving, caplog):
    """The database is dropped (the health report then must not name it) and created again empty:
    503 with the schema problem while the broker runs its migrations again, then 200."""
    with fresh_postgres() as url:
        name = make_url(url).database or ""
        module = module_on(url)
        with serving(module) as client:
            client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1})
            postgres_admin(f'DROP DATABASE "{name}" WITH (FORCE)')
            body = assert_unavailable(client.get(f"{V1}/orders"))
            assert name not in json.dumps(body)
            report = client.portal.call(module.health)
            assert report["status"] == "down"
            assert name not in json.dumps(report), report
            postgres_admin(f'CREATE DATABASE "{name}"')
            with caplog.at_level(logging.WARNING, logger="trading_broker"):
                assert_unavailable(client.get(f"{V1}/orders"), SCHEMA_MISSING_TYPE)
                wait_for_200(client, f"{V1}/orders")
                # The tables serve as soon as they exist; the repair logs once it has checked them all.
                deadline = time.monotonic() + 10
                while "created again, empty" not in caplog.text and time.monotonic() < deadline:
                    time.sleep(0.05)
            assert "created again, empty" in caplog.text
            assert client.get(f"{V1}/orders").json() == []
            assert client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1}).json()["status"] == "filled"
            assert client.get(f"{V2}/orders", headers=DEFAULT).status_code == 200


def _drop_sqlite_tables(path: str, *, keep_version: bool = False) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        names = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        connection.execute("PRAGMA foreign_keys=OFF")
        for table in names:
            if table.startswith("broker_") and not (keep_version and table == "broker_alembic_version"):
                connection.execute(f'DROP TABLE "{table}"')
    finally:
        connection.close()


async def _drop_postgres_tables(url: str) -> None:
    import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information

    connection = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    try:
        tables = await connection.fetch("SELECT tablename FROM pg_tables WHERE tablename LIKE 'broker%'")
        await connection.execute("DROP TABLE " + ", ".join(f'"{t["tablename"]}"' for t in tables) + " CASCADE")
    finally:
        await connection.close()


def drop_tables(url: str) -> None:
    if url.startswith("sqlite"):
        _drop_sqlite_tables(make_url(url).database or "")
    else:
        asyncio.run(_drop_postgres_tables(url))


@pytest.fixture(params=["sqlite", "postgresql"])
def own_database(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[str]:
    """A database of this test's own, on each backend."""
    if request.param == "sqlite":
        yield sqlite_url
        return
    with request.getfixturevalue("fresh_postgres")() as url:
        yield url


def test_dropped_tables_are_created_again_on_each_database(own_database, serving):
    module = module_on(own_database)
    with serving(module) as client:
        client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1})
        drop_tables(own_database)
        for method, path, options in ENDPOINTS[:3]:
            response = client.request(method, path, **options)
            if response.status_code == 200:
                break  # already created again
            assert_unavailable(response, SCHEMA_MISSING_TYPE)
        wait_for_200(client, f"{V2}/orders", headers=DEFAULT)
        assert client.get(f"{V1}/orders").json() == []


def test_tables_gone_behind_a_current_version_table_say_what_to_run(sqlite_url, serving, caplog):
    module = module_on(sqlite_url)
    with serving(module) as client:
        with caplog.at_level(logging.ERROR, logger="trading_broker"):
            _drop_sqlite_tables(make_url(sqlite_url).database or "", keep_version=True)
            assert_unavailable(client.get(f"{V1}/orders"), SCHEMA_MISSING_TYPE)
            deadline = time.monotonic() + 5
            while "trading-broker db upgrade" not in caplog.text:
                assert time.monotonic() < deadline
                time.sleep(0.02)
        body = assert_unavailable(client.get(f"{V1}/orders"), SCHEMA_MISSING_TYPE)
        assert "the operator must repair the database" in body["detail"]
        assert "broker_orders" in caplog.text
        assert "drop every broker_* table" in caplog.text
