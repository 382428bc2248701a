"""Broker streams over real WebSockets: ``trading-host serve`` (and standalone uvicorn) on a SQLite
file, the ``websockets`` client, orders placed over HTTP, keys made with ``trading-broker keys``."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from broker_support import bearer, broker_env, create_key, serve_command, sqlite_database
from harness import BIN, Server, ok, start_server
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

# Its tests share the servers of module-scoped fixtures: one pytest-xdist process runs them all.
pytestmark = [pytest.mark.modules("broker"), pytest.mark.independent, pytest.mark.xdist_group("streams_broker")]

V1 = "/api/v1/broker"
V2 = "/api/v2/broker"
FAR_LIMIT = {"symbol": "AAPL", "quantity": 5, "order_type": "LIMIT", "limit_price": 1}  # never fills


class Deployment:
    """A running server, its folder and environment (for the ``trading-broker`` command)."""

    def __init__(self, server: Server, folder: Path, env: dict[str, str]) -> None:
        self.server = server
        self.folder = folder
        self.env = env

    def url(self, path: str) -> str:
        return self.server.base_url.replace("http://", "ws://") + path

    def key(self, account: str) -> dict[str, Any]:
        return create_key(account, cwd=self.folder, env=self.env)

    def streams(self, health: str = "/api/v1/core/health") -> dict[str, int]:
        report: dict[str, int] = ok(self.server.get(health))["modules"]["broker"]["streams"]
        return report


def _start(folder: Path, args: list[str], ready_path: str, **env: str) -> Deployment:
    environment = broker_env(sqlite_database(folder), **env)
    server = start_server(args, cwd=folder, env=environment, ready_path=ready_path)
    return Deployment(server, folder, environment)


@pytest.fixture(scope="module")
def composed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """``trading-host serve``: global v1 (broker v1) and v2 (broker v2) on one SQLite file."""
    deployment = _start(tmp_path_factory.mktemp("composed"), serve_command(), "/api/v1/core/health")
    yield deployment
    deployment.server.stop()


def send(ws: ClientConnection, message: dict[str, Any]) -> None:
    ws.send(json.dumps(message))


def receive(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(ws.recv(timeout=timeout))
    return message


def subscribe(ws: ClientConnection, route: str, params: dict[str, Any] | None = None) -> str:
    send(ws, {"type": f"{route}.subscribe", "id": route, "payload": params or {}})
    reply = receive(ws)
    assert (reply["type"], reply["id"]) == (f"{route}.subscribe.response", route), reply
    topic: str = reply["topic"]
    return topic


def pending(ws: ClientConnection, marker: str) -> list[dict[str, Any]]:
    """What arrives before the reply to a request sent now: the updates queued for ``ws`` (a
    change's events are published before its HTTP answer, so they are queued already)."""
    send(ws, {"type": "sync", "id": marker})
    received = []
    while (message := receive(ws)).get("id") != marker:
        received.append(message)
    assert message["payload"]["code"] == "unknown-type", message
    return received


def updates(ws: ClientConnection, route: str, count: int) -> list[dict[str, Any]]:
    """The payloads of the next ``count`` updates of ``route`` (updates of other routes skipped)."""
    found: list[dict[str, Any]] = []
    while len(found) < count:
        message = receive(ws)
        assert message["type"].endswith(".update"), message
        if message["type"] == f"{route}.update":
            found.append(message["payload"])
    return found


def wait_for(check: Callable[[], bool], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not {what} within {timeout} s"
        time.sleep(0.05)


def test_v1_pushes_orders_placed_modified_canceled_and_filled_over_http(composed: Deployment):
    server = composed.server
    with connect(composed.url(f"{V1}/ws")) as ws:
        assert subscribe(ws, "orders") == 'orders:{"symbol":null}'
        subscribe(ws, "executions")

        working = ok(server.post(f"{V1}/orders", json=FAR_LIMIT))
        assert updates(ws, "orders", 1) == [working]
        modified = ok(server.client.patch(f"{V1}/orders/{working['id']}", json={"quantity": 7}))
        assert updates(ws, "orders", 1) == [modified]
        canceled = ok(server.client.delete(f"{V1}/orders/{working['id']}"))
        assert (canceled["status"], updates(ws, "orders", 1)) == ("canceled", [canceled])

        # The seed's example fills at once: its order update, then its execution.
        filled = ok(server.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 100, "order_type": "MARKET"}))
        assert filled["status"] == "filled"
        assert updates(ws, "orders", 1) == [filled]
        [execution] = updates(ws, "executions", 1)
        assert execution == ok(server.get(f"{V1}/executions", params={"order_id": filled["id"]}))[0]
        assert pending(ws, "done") == []


def rest_body(update: dict[str, Any]) -> dict[str, Any]:
    """A v2 update's body without its ``sequence`` (an integer, which each stored event has)."""
    body = dict(update)
    assert isinstance(body.pop("sequence"), int), update
    return body


def test_v2_streams_carry_only_the_keys_own_account(composed: Deployment):
    server = composed.server
    alice, bob = composed.key("alice"), composed.key("bob")  # made while the server runs
    with (
        connect(composed.url(f"{V2}/ws"), additional_headers=bearer(alice)) as alice_ws,
        # A browser cannot set headers on a WebSocket: the token may come in the query instead.
        connect(composed.url(f"{V2}/ws?access_token={bob['token']}")) as bob_ws,
    ):
        for ws in (alice_ws, bob_ws):
            for route in ("orders", "positions", "executions", "equity"):
                subscribe(ws, route)
        first = ok(server.post(f"{V2}/orders", json={"symbol": "MSFT", "quantity": 1}, headers=bearer(alice)))
        theirs = ok(server.post(f"{V2}/orders", json={"symbol": "AAPL", "quantity": 2}, headers=bearer(bob)))
        second = ok(server.post(f"{V2}/orders", json=FAR_LIMIT, headers=bearer(alice)))

        alice_got = pending(alice_ws, "alice")
        assert {m["payload"]["account"] for m in alice_got} == {"alice"}
        assert [rest_body(m["payload"]) for m in alice_got if m["type"] == "orders.update"] == [first, second]
        assert [m["payload"]["order_id"] for m in alice_got if m["type"] == "executions.update"] == [first["id"]]
        assert [m["payload"]["symbol"] for m in alice_got if m["type"] == "positions.update"] == ["MSFT"]

        bob_got = pending(bob_ws, "bob")
        assert {m["payload"]["account"] for m in bob_got} == {"bob"}
        assert [rest_body(m["payload"]) for m in bob_got if m["type"] == "orders.update"] == [theirs]
        [position] = [m["payload"] for m in bob_got if m["type"] == "positions.update"]
        assert position["quantity"] == 2


@pytest.mark.parametrize(
    ("path", "headers", "status", "fragment"),
    [
        (f"{V2}/ws", {}, 422, "missing credentials"),
        (f"{V2}/ws", {"Authorization": "Bearer tb_0123456789ab_" + "x" * 43}, 401, "invalid bearer token"),
        (f"{V2}/ws?access_token=nope", {}, 401, "invalid bearer token"),
    ],
    ids=["missing", "unknown-header-token", "unknown-query-token"],
)
def test_v2_handshakes_without_a_valid_token_are_refused(composed: Deployment, path, headers, status, fragment):
    with pytest.raises(InvalidStatus) as refused, connect(composed.url(path), additional_headers=headers):
        pass
    response = refused.value.response
    assert response.status_code == status
    assert fragment in json.loads(response.body)["detail"]


def test_equal_subscriptions_share_a_feed_that_stops_when_the_last_client_vanishes(composed: Deployment):
    wait_for(lambda: composed.streams() == {"connections": 0, "feeds": 0}, "idle")
    with connect(composed.url(f"{V1}/ws")) as first, connect(composed.url(f"{V1}/ws")) as second:
        assert subscribe(first, "positions", {"symbol": "aapl"}) == subscribe(second, "positions", {"symbol": "AAPL"})
        assert composed.streams() == {"connections": 2, "feeds": 1}
        send(first, {"type": "positions.unsubscribe", "payload": {"symbol": "AAPL"}})
        assert receive(first)["type"] == "positions.unsubscribe.response"
        assert composed.streams() == {"connections": 2, "feeds": 1}
        # The last subscriber goes without a word (no unsubscribe, no close frame).
        second.socket.shutdown(socket.SHUT_RDWR)
        wait_for(lambda: composed.streams() == {"connections": 1, "feeds": 0}, "stopped")
    wait_for(lambda: composed.streams() == {"connections": 0, "feeds": 0}, "closed")


def test_only_v2_documents_declare_the_bearer_scheme(composed: Deployment):
    v2 = ok(composed.server.get("/api/v2/openapi.json"))
    assert v2["components"]["securitySchemes"]["BrokerBearer"]["scheme"] == "bearer"
    operations = [op for path, item in v2["paths"].items() if path.startswith(V2) for op in item.values()]
    assert operations
    assert all(op["security"] == [{"BrokerBearer": []}] for op in operations)
    v1 = ok(composed.server.get("/api/v1/openapi.json"))
    assert "securitySchemes" not in v1.get("components", {})
    assert all("security" not in op for item in v1["paths"].values() for op in item.values())


def test_standalone_broker_v2_streams_at_v2_ws(tmp_path: Path):
    deployment = _start(
        tmp_path,
        [str(BIN / "uvicorn"), "trading_host.main:app", "--port", "{port}"],
        "/core/v1/health",
        ENABLED_MODULES="broker",
        MODULE_VERSION="v2",
    )
    try:
        key = deployment.key("desk")
        with connect(deployment.url(f"/v2/ws?access_token={key['token']}")) as ws:
            subscribe(ws, "orders", {"symbol": "MSFT"})
            order = {"symbol": "MSFT", "quantity": 1}
            placed = ok(deployment.server.post("/v2/orders", json=order, headers=bearer(key)))
            assert [rest_body(u) for u in updates(ws, "orders", 1)] == [placed]
            assert placed["account"] == "desk"
    finally:
        deployment.server.stop()
