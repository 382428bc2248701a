"""The broker's state survives the server: a clean restart, a kill -9 under load, two workers on
one database. Real ``trading-host serve`` processes on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from broker_support import (
    bearer,
    broker_env,
    configured_key,
    create_key,
    postgres_database,
    serve_command,
    snapshot,
    sqlite_database,
)
from harness import BIN, Serve, clean_env, ok

pytestmark = [pytest.mark.modules("broker"), pytest.mark.independent]
V1 = "/api/v1/broker"
V2 = "/api/v2/broker"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_database(tmp_path)
        return
    with postgres_database() as url:
        yield url


def test_everything_is_there_after_a_restart(serve: Serve, tmp_path: Path, database_url: str) -> None:
    env = broker_env(database_url)
    alice = create_key("alice", cwd=tmp_path, env=env)
    first = serve(serve_command(), env=env)
    ok(first.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 100, "order_type": "MARKET"}))
    ok(first.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 40, "side": "SELL"}))
    ok(first.post(f"{V1}/orders", json={"symbol": "MSFT", "quantity": 5, "order_type": "LIMIT", "limit_price": 1}))
    canceled = ok(
        first.post(f"{V1}/orders", json={"symbol": "TSLA", "quantity": 1, "order_type": "STOP", "stop_price": 99999})
    )
    ok(first.client.delete(f"{V1}/orders/{canceled['id']}"))
    ok(first.post(f"{V1}/orders", json={"symbol": "NOPE", "quantity": 1}))  # stored as rejected
    retry = {**bearer(alice), "Idempotency-Key": "restart-1"}
    eurusd = {"symbol": "EURUSD", "quantity": 3000, "side": "SELL"}
    placed_v2 = ok(first.post(f"{V2}/orders", json=eurusd, headers=retry))
    before = snapshot(first, alice)
    assert [o["status"] for o in before["v1"]["orders"]] == ["filled", "filled", "working", "canceled", "rejected"]
    assert [(p["symbol"], p["side"], p["quantity"]) for p in before["v1"]["positions"]] == [("AAPL", "BUY", 60)]
    assert [(p["symbol"], p["side"], p["quantity"]) for p in before["v2"]["positions"]] == [("EURUSD", "SELL", 3000)]
    first.stop()

    second = serve(serve_command(), env=env)
    assert snapshot(second, alice) == before
    replay = second.post(f"{V2}/orders", json=eurusd, headers=retry)
    assert ok(replay) == placed_v2
    assert replay.headers["idempotent-replayed"] == "true"
    # The restarted server goes on where the first stopped: the working order can still be canceled.
    working = before["v1"]["orders"][2]
    assert ok(second.client.delete(f"{V1}/orders/{working['id']}"))["status"] == "canceled"
    assert second.client.delete(f"{V1}/orders/{canceled['id']}").status_code == 409


def test_every_acknowledged_order_survives_a_kill_9(serve: Serve, tmp_path: Path, database_url: str) -> None:
    env = broker_env(database_url)
    server = serve(serve_command(), env=env)
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def place_orders() -> None:
        with httpx.Client(base_url=server.base_url, timeout=5) as client:
            while not stop.is_set():
                try:
                    response = client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1})
                except httpx.TransportError:
                    return  # the server is gone
                if response.status_code == 200:
                    with lock:
                        acknowledged.append(response.json()["id"])

    clients = [threading.Thread(target=place_orders) for _ in range(8)]
    for thread in clients:
        thread.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 150 and time.monotonic() < deadline:
        time.sleep(0.02)
    server.process.kill()  # SIGKILL in the middle of the load: no shutdown, no flush
    server.process.wait()
    stop.set()
    for thread in clients:
        thread.join()
    assert len(acknowledged) >= 150, "the load did not get going before the deadline"

    restarted = serve(serve_command(), env=env)
    orders = ok(restarted.get(f"{V1}/orders"))
    stored = {o["id"] for o in orders}
    missing = [i for i in acknowledged if i not in stored]
    assert missing == [], f"{len(missing)} of {len(acknowledged)} acknowledged orders lost"
    # Each stored order was committed whole: its fill, the position and the executions agree.
    assert all(o["status"] == "filled" for o in orders)
    [position] = ok(restarted.get(f"{V1}/positions"))
    assert position["quantity"] == len(orders)
    assert len(ok(restarted.get(f"{V1}/executions"))) == len(orders)


def test_a_kill_9_in_the_middle_of_a_batch_loses_no_acknowledged_order_and_half_applies_none(
    serve: Serve, tmp_path: Path, database_url: str
) -> None:
    """Group commit (the default): 16 clients of two accounts keep batches of placements in flight,
    buys and sells that fill (moving the position and, past the first, the balance) and limit
    orders that keep working; the server is killed while they are being batched and committed.
    Every acknowledged order is stored, and every stored order is whole: a filled order has its one
    execution, a working one none, and the position and the balance are exactly what the stored
    executions add up to, so no order of a batch cut short left anything behind."""
    env = broker_env(database_url)
    alice = configured_key("alice", env)
    server = serve(serve_command(), env=env)
    bodies = [
        {"symbol": "AAPL", "quantity": 3},
        {"symbol": "AAPL", "quantity": 2, "side": "SELL"},
        {"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT", "limit_price": 1},
    ]
    accounts = {"default": (V1, {}), "alice": (V2, bearer(alice))}
    acknowledged: dict[str, list[str]] = {name: [] for name in accounts}
    lock = threading.Lock()
    stop = threading.Event()

    def place_orders(account: str, first: int) -> None:
        prefix, headers = accounts[account]
        with httpx.Client(base_url=server.base_url, timeout=10, headers=headers) as client:
            turn = first
            while not stop.is_set():
                try:
                    response = client.post(f"{prefix}/orders", json=bodies[turn % len(bodies)])
                except httpx.TransportError:
                    return  # the server is gone
                turn += 1
                if response.status_code == 200:
                    with lock:
                        acknowledged[account].append(response.json()["id"])

    clients = [threading.Thread(target=place_orders, args=(name, i)) for i in range(8) for name in accounts]
    for thread in clients:
        thread.start()
    deadline = time.monotonic() + 60
    batched = 0
    while time.monotonic() < deadline and (sum(map(len, acknowledged.values())) < 300 or batched < 2):
        health = server.get("/api/v1/core/health").json()["modules"]["broker"]
        batched = health["group_commit"]["largest_batch"]
        time.sleep(0.05)
    server.process.kill()  # SIGKILL with batches in flight: no shutdown, no flush
    server.process.wait()
    stop.set()
    for thread in clients:
        thread.join()
    assert sum(map(len, acknowledged.values())) >= 300, "the load did not get going before the deadline"
    assert batched >= 2, "the placements were never batched"

    restarted = serve(serve_command(), env=env)
    for name, (prefix, headers) in accounts.items():
        orders = ok(restarted.get(f"{prefix}/orders", headers=headers))
        stored = {o["id"]: o for o in orders}
        missing = [i for i in acknowledged[name] if i not in stored]
        assert missing == [], f"{name}: {len(missing)} of {len(acknowledged[name])} acknowledged orders lost"
        executions = ok(restarted.get(f"{prefix}/executions", headers=headers))
        by_order = {e["order_id"]: e for e in executions}
        assert len(by_order) == len(executions), "one execution per order"
        assert set(by_order) <= set(stored), "an execution of an order that is not stored"
        for order in orders:
            if order["order_type"] == "LIMIT":
                assert (order["status"], order["id"] in by_order) == ("working", False), order
            else:
                assert order["status"] == "filled", order
                assert by_order[order["id"]]["quantity"] == order["quantity"], order
        signed = sum(e["quantity"] if e["side"] == "BUY" else -e["quantity"] for e in executions)
        positions = ok(restarted.get(f"{prefix}/positions", headers=headers))
        held = sum(p["quantity"] if p["side"] == "BUY" else -p["quantity"] for p in positions)
        assert held == signed
    account = ok(restarted.get(f"{V2}/account", headers=bearer(alice)))
    realised = sum(e["realised_pnl"] for e in ok(restarted.get(f"{V2}/executions", headers=bearer(alice))))
    assert account["realised_pnl"] == pytest.approx(realised)
    assert account["balance"] == pytest.approx(100_000 + realised)


def test_two_servers_on_one_database_lose_no_fill(serve: Serve, tmp_path: Path, database_url: str) -> None:
    """Two server processes share one database, as replicas or uvicorn workers do: market orders
    from many clients to both at once all reach the one position, and each is stored once.

    (Two servers rather than ``--workers 2``, whose supervisor restarts a worker that takes over
    5 s to start, as one may in a virtualenv installed without bytecode on a busy machine.)
    """
    env = broker_env(database_url)
    servers = [serve(serve_command(), env=env), serve(serve_command(), env=env)]
    results: list[int] = []

    def place_orders(base_url: str) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            for _ in range(20):
                response = client.post(f"{V1}/orders", json={"symbol": "MSFT", "quantity": 2})
                results.append(response.status_code)

    clients = [threading.Thread(target=place_orders, args=(servers[i % 2].base_url,)) for i in range(6)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    assert results == [200] * 120
    for server in servers:
        [position] = ok(server.get(f"{V1}/positions"))
        assert (position["symbol"], position["quantity"]) == ("MSFT", 240)
        orders = ok(server.get(f"{V1}/orders"))
        assert len(orders) == len({o["id"] for o in orders}) == 120
        assert len(ok(server.get(f"{V1}/executions"))) == 120


def test_the_default_database_is_a_file_in_the_working_directory(serve: Serve, tmp_path: Path) -> None:
    server = serve(serve_command(), env=clean_env())
    ok(server.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1}))
    server.stop()
    assert (tmp_path / "trading-broker.db").is_file()
    assert (BIN / "trading-broker").is_file()
