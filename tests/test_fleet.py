"""Issue 9: the example fleet (``examples/fleet/``: core + broker v1 x2 + broker v2 x2 + datafeed
v1, here with two core replicas set from the environment) run by ``trading-host fleet up`` under
supervisord with a real nginx in front, on a PostgreSQL database of its own, on free loopback
ports. One fleet for the module; every load is bounded in count and time; ``fleet down`` stops
everything, also when a test fails (and any pid still alive afterwards fails the last test).

Runs in ``nox -s fleet`` (the host's ``fleet`` extra installed); elsewhere, without supervisord,
the module is skipped.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
import xmlrpc.client
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import forked
import httpx
import pytest
from broker_support import broker_env, create_key, postgres_database
from harness import BIN, clean_env

if os.environ.get("TRADING_FLEET_TESTS") != "require":
    pytest.importorskip("supervisor", reason="the fleet tests run in `nox -s fleet` (trading-host[fleet])")
if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
    if os.environ.get("CI") or os.environ.get("TRADING_FLEET_TESTS") == "require":
        pytest.fail("nginx is not installed: apt-get install nginx", pytrace=False)
    pytest.skip("nginx is not installed", allow_module_level=True)

pytestmark = [pytest.mark.xdist_group("fleet")]

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "fleet" / "trading.toml"
FAIL_TIMEOUT = 2
PORTS = 15  # the gateway and 2 x (2 core + 2 + 2 + 1) replicas


def _free_block(count: int) -> int:
    """A base port whose next ``count`` ports are free on the loopback (checked by binding each),
    from 24000 to 32768: below the kernel's ephemeral range (from 32768 on Linux), which the servers
    of the sessions beside this one take their free ports from (``bind(0)``), so none of them can
    take a replica's port between this check and the fleet's start (which once failed a run: a
    replica found its port taken). benchmarks/bench_fleet.py draws from the block below this one."""
    for _ in range(100):
        base = random.randrange(24000, 32768 - count)
        try:
            sockets = []
            for port in range(base, base + count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
        return base
    raise RuntimeError("no block of free ports")


@dataclass
class Fleet:
    env: dict[str, str]
    folder: Path
    database_url: str
    gateway: str
    token: str = ""
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.gateway, timeout=10)

    def host(self, *args: str, check: bool = True, timeout: float = 90) -> subprocess.CompletedProcess[str]:
        command = [str(BIN / "trading-host"), "fleet", *args, "--config", str(EXAMPLE)]
        result = forked.run(command, cwd=self.folder, env=self.env, timeout=timeout)
        if check:
            assert result.returncode == 0, f"fleet {args}: {result.stdout}\n{result.stderr}\n{self.logs()}"
        return result

    def status(self) -> dict[str, Any]:
        report: dict[str, Any] = json.loads(self.host("status", "--json").stdout)
        return report

    def replicas(self, service: str) -> list[dict[str, Any]]:
        return [p for p in self.status()["processes"] if p["service"] == service and p["active"]]

    def logs(self) -> str:
        folder = self.folder / "run" / "logs"
        if not folder.is_dir():
            return ""
        return "\n".join(f"--- {f.name}\n{f.read_text()[-2000:]}" for f in sorted(folder.glob("*.log")))

    def process_info(self, name: str) -> dict[str, Any]:
        """supervisord's record of one process, asked over its socket (cheaper than `fleet status`)."""
        transport = importlib.import_module("supervisor.xmlrpc").SupervisorTransport(
            None, None, f"unix://{self.folder / 'run' / 'supervisor.sock'}"
        )
        proxy: Any = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)
        try:
            info: dict[str, Any] = proxy.supervisor.getProcessInfo(name)
        finally:
            transport.close()
        return info

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # A zombie is gone for our purposes: it holds no port and runs nothing.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _pids(report: dict[str, Any]) -> list[int]:
    pids = [report["supervisord_pid"], report["gateway"]["pid"], *(p["pid"] for p in report["processes"])]
    return [p for p in pids if p]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    folder = tmp_path_factory.mktemp("fleet")
    with postgres_database() as database_url:
        base = _free_block(PORTS)
        env = clean_env(
            TRADING_FLEET__DATABASE_URL=database_url,
            TRADING_FLEET__PORT_BASE=str(base),
            TRADING_FLEET__RUN_DIR=str(folder / "run"),
            TRADING_FLEET__FAIL_TIMEOUT=str(FAIL_TIMEOUT),
            TRADING_FLEET__DRAIN_TIMEOUT="10",
            TRADING_FLEET__SERVICES__CORE__REPLICAS="2",
        )
        running = Fleet(env, folder, database_url, f"http://127.0.0.1:{base}")
        pids: list[int] = []
        try:
            running.host("up")
            pids = _pids(running.status())
            running.token = create_key("fleet-test", cwd=folder, env=broker_env(database_url))["token"]
            yield running
        finally:
            running.client.close()
            down = running.host("down", check=False)
            for pid in pids:  # never leave a process behind, even when `fleet down` failed
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)
            assert down.returncode == 0, down.stderr


def test_the_seeds_urls_through_the_gateway(fleet: Fleet) -> None:
    client = fleet.client
    v1 = client.get("/api/v1/broker/orders")
    assert v1.status_code == 200
    assert v1.headers["x-api-sunset-date"] == "2027-06-01"
    assert client.get("/api/v2/broker/orders").status_code in (401, 422)  # v2 needs a key
    assert client.get("/api/v2/broker/orders", headers=fleet.auth).status_code == 200
    assert client.get("/api/v1/datafeed/config").json()["supports_search"] is True
    assert client.get("/api/v2/core/health").json()["status"] == "ok"
    document = client.get("/api/v2/openapi.json").json()
    assert "/api/v2/broker/orders" in document["paths"]
    assert document["info"]["version"] == "v2"
    assert client.get("/api/v1/docs").status_code == 200
    missing = client.get("/api/v9/broker/orders")
    assert missing.status_code == 404
    assert set(missing.json()["served"]["global_versions"]) == {"v1", "v2"}


def test_an_order_placed_through_one_replica_is_read_through_another(fleet: Fleet) -> None:
    first, second = (p["url"] for p in fleet.replicas("broker_v2"))
    body = {"symbol": "AAPL", "quantity": 1}
    placed = httpx.post(f"{first}/v2/orders", json=body, headers=fleet.auth, timeout=10)
    assert placed.status_code == 200, placed.text
    order_id = placed.json()["id"]
    read = httpx.get(f"{second}/v2/orders/{order_id}", headers=fleet.auth, timeout=10)
    assert read.status_code == 200
    assert read.json()["id"] == order_id
    assert fleet.client.get(f"/api/v2/broker/orders/{order_id}", headers=fleet.auth).json()["id"] == order_id


def test_rollout_gives_a_caller_one_global_version_whichever_replica_answers(fleet: Fleet) -> None:
    cores = [p["url"] for p in fleet.replicas("core")]
    assert len(cores) == 2
    for caller in ("alice", "bob", "carol", "dave", "erin", "frank"):
        headers = {"X-Client-Id": caller}
        through_gateway = {
            fleet.client.get("/api/latest/core/health", headers=headers).headers["x-api-global-version"]
            for _ in range(4)
        }
        direct = {
            httpx.get(f"{url}/api/latest/core/health", headers=headers).headers["x-api-global-version"] for url in cores
        }
        assert len(through_gateway) == 1, caller
        assert through_gateway == direct, caller


def test_a_stream_through_the_gateway_reaches_one_replica(fleet: Fleet) -> None:
    from websockets.sync.client import connect

    url = fleet.gateway.replace("http://", "ws://") + f"/api/v2/broker/ws?access_token={fleet.token}"
    with connect(url) as ws:
        ws.send(json.dumps({"type": "orders.subscribe", "id": "s", "payload": {"symbol": "NVDA"}}))
        reply = json.loads(ws.recv(timeout=10))
        assert reply["type"] == "orders.subscribe.response", reply
        # The stream's replica is one of the pool's: an order placed on each reaches it from its own.
        placed = []
        for replica in fleet.replicas("broker_v2"):
            response = httpx.post(
                f"{replica['url']}/v2/orders", json={"symbol": "NVDA", "quantity": 1}, headers=fleet.auth, timeout=10
            )
            assert response.status_code == 200, response.text
            placed.append(response.json())
        update = json.loads(ws.recv(timeout=10))
        assert update["type"] == "orders.update", update
        payload = dict(update["payload"])
        assert isinstance(payload.pop("sequence"), int)  # the stream's own field, beside the REST body
        assert payload in placed


def _ws(base: str, path: str, token: str) -> str:
    return base.replace("http://", "ws://") + f"{path}?access_token={token}"


def _subscribe(ws: Any, route: str, params: dict[str, Any] | None = None) -> None:
    ws.send(json.dumps({"type": f"{route}.subscribe", "id": route, "payload": params or {}}))
    reply = json.loads(ws.recv(timeout=10))
    assert reply["type"] == f"{route}.subscribe.response", reply


def _updates(ws: Any, count: int, *, quiet: float = 0.5) -> list[dict[str, Any]]:
    """``count`` updates (each within 10 s), then none for ``quiet`` seconds: no repeat follows."""
    from websockets.exceptions import ConnectionClosed

    got = [json.loads(ws.recv(timeout=10)) for _ in range(count)]
    try:
        extra = json.loads(ws.recv(timeout=quiet))
    except TimeoutError:
        return got
    except ConnectionClosed:
        raise
    raise AssertionError(f"one more message than expected: {extra}")


def test_a_stream_client_hears_the_orders_fills_positions_and_equity_of_every_replica(fleet: Fleet) -> None:
    from websockets.sync.client import connect

    token = create_key("fleet-streams", cwd=fleet.folder, env=broker_env(fleet.database_url))["token"]
    with connect(_ws(fleet.gateway, "/api/v2/broker/ws", token)) as ws:
        for route in ("orders", "executions", "positions", "equity"):
            _subscribe(ws, route)
        # Placed on each replica of the pool, so one of them is not the stream's; both fill at once.
        placed = []
        for replica in fleet.replicas("broker_v2"):
            response = httpx.post(
                f"{replica['url']}/v2/orders",
                json={"symbol": "AAPL", "quantity": 1},
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "filled"
            placed.append(response.json()["id"])
        by_route: dict[str, list[dict[str, Any]]] = {}
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not (
            len(by_route.get("orders", [])) == 2
            and len(by_route.get("executions", [])) == 2
            and len(by_route.get("positions", [])) == 2
            and any(u["sequence"] is not None for u in by_route.get("equity", []))
        ):
            message = json.loads(ws.recv(timeout=10))
            assert message["type"].endswith(".update"), message
            by_route.setdefault(message["type"].removesuffix(".update"), []).append(message["payload"])
    assert [o["id"] for o in by_route["orders"]] == placed  # in the order they were committed
    assert sorted(e["order_id"] for e in by_route["executions"]) == sorted(placed)
    assert [p["quantity"] for p in by_route["positions"]] == [1, 2]
    assert {u["account"] for updates in by_route.values() for u in updates} == {"fleet-streams"}
    sequences = [u["sequence"] for updates in by_route.values() for u in updates if u["sequence"] is not None]
    assert len(sequences) == len(set(sequences))  # nothing twice
    assert [o["sequence"] for o in by_route["orders"]] == sorted(o["sequence"] for o in by_route["orders"])


def test_resuming_on_another_replica_by_sequence_loses_and_repeats_nothing(fleet: Fleet) -> None:
    from websockets.sync.client import connect

    token = create_key("fleet-resume", cwd=fleet.folder, env=broker_env(fleet.database_url))["token"]
    first, second = (p["url"] for p in fleet.replicas("broker_v2"))
    working = {"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT", "limit_price": 1.0}  # never fills

    def place(replica: str) -> str:
        response = httpx.post(
            f"{replica}/v2/orders", json=working, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert response.status_code == 200, response.text
        order_id: str = response.json()["id"]
        return order_id

    with connect(_ws(first, "/v2/ws", token)) as ws:
        _subscribe(ws, "orders")
        before = [place(second), place(first), place(second)]
        heard = [m["payload"] for m in _updates(ws, 3)]
    assert [o["id"] for o in heard] == before
    last = heard[-1]["sequence"]
    missed = [place(first), place(second), place(first)]  # while no stream is open
    with connect(_ws(second, "/v2/ws", token)) as ws:
        _subscribe(ws, "orders", {"since": last})
        replayed = [json.loads(ws.recv(timeout=10))["payload"] for _ in range(3)]
        live = place(first)
        resumed = replayed + [m["payload"] for m in _updates(ws, 1)]
    assert [o["id"] for o in resumed] == [*missed, live]
    assert [o["sequence"] for o in resumed] == [last + 1, last + 2, last + 3, last + 4]


RETRIED = {502, 503, 504}


def _place(client: httpx.Client, auth: dict[str, str], key: str, tries: int = 20) -> dict[str, Any] | None:
    """One order with its Idempotency-Key, retried on a connection error or 502/503/504."""
    for _ in range(tries):
        try:
            response = client.post(
                "/api/v2/broker/orders",
                json={"symbol": "MSFT", "quantity": 1},
                headers={**auth, "Idempotency-Key": key},
            )
        except httpx.TransportError:
            time.sleep(0.05)
            continue
        if response.status_code in RETRIED:
            time.sleep(0.05)
            continue
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result
    return None


def test_kill_9_of_a_broker_replica_under_load_loses_and_repeats_no_order(fleet: Fleet) -> None:
    victim = fleet.replicas("broker_v2")[0]
    orders, clients = 300, 8
    keys = [f"load-{uuid.uuid4()}" for _ in range(orders)]
    acknowledged: dict[str, str] = {}
    lock = threading.Lock()
    done = threading.Event()

    def work(chunk: list[str]) -> None:
        with httpx.Client(base_url=fleet.gateway, timeout=10) as client:
            for key in chunk:
                placed = _place(client, fleet.auth, key)
                if placed is not None:
                    with lock:
                        acknowledged[key] = placed["id"]

    def killer() -> None:
        while len(acknowledged) < orders // 4 and not done.is_set():
            time.sleep(0.01)
        os.kill(victim["pid"], signal.SIGKILL)

    killing = threading.Thread(target=killer)
    killing.start()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(work, [keys[i::clients] for i in range(clients)]))
    done.set()
    killing.join(10)

    assert len(acknowledged) == orders  # every client got its answer, retrying with its key
    ids = list(acknowledged.values())
    assert len(set(ids)) == orders  # one order per key
    listed = [o["id"] for o in fleet.client.get("/api/v2/broker/orders", headers=fleet.auth).json()]
    assert all(listed.count(i) == 1 for i in ids)  # each acknowledged order stored exactly once
    assert sum(1 for i in listed if i in set(ids)) == orders

    # The gateway is back to no error within fail_timeout, and supervisord restarted the replica.
    time.sleep(FAIL_TIMEOUT)
    errors = sum(fleet.client.get("/api/v2/broker/orders", headers=fleet.auth).status_code != 200 for _ in range(20))
    assert errors == 0
    name = f"broker_v2_{victim['colour']}:broker_v2-{victim['colour']}-{victim['replica']}"  # group:program
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        again = fleet.process_info(name)
        if again["statename"] == "RUNNING" and again["pid"] != victim["pid"]:
            health = httpx.get(f"{victim['url']}/core/v1/health", timeout=5)
            if health.status_code == 200:
                break
        time.sleep(0.2)
    else:
        pytest.fail(f"supervisord did not restart {victim}: {fleet.logs()}")


def test_blue_green_switch_under_load_fails_no_request(fleet: Fleet) -> None:
    stop = threading.Event()
    results: list[int | str] = []
    lock = threading.Lock()

    def load(number: int) -> None:
        with httpx.Client(base_url=fleet.gateway, timeout=10) as client:
            for i in range(2000):  # bounded: the switch ends long before
                if stop.is_set():
                    return
                try:
                    if i % 4 == 0:
                        response = client.post(
                            "/api/v2/broker/orders",
                            json={"symbol": "AAPL", "quantity": 1},
                            headers={**fleet.auth, "Idempotency-Key": f"switch-{number}-{i}"},
                        )
                    else:
                        response = client.get("/api/v2/broker/orders?status=working", headers=fleet.auth)
                    outcome: int | str = response.status_code
                except httpx.TransportError as exc:
                    outcome = type(exc).__name__
                with lock:
                    results.append(outcome)

    threads = [threading.Thread(target=load, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.3)
        fleet.host("switch", "broker_v2", "green")
        time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    failed = [r for r in results if r != 200]
    assert results
    assert not failed, f"{len(failed)} of {len(results)} failed: {failed[:10]}"
    status = fleet.status()
    assert status["active"]["broker_v2"] == "green"
    pools = {(p["colour"], p["state"]) for p in status["processes"] if p["service"] == "broker_v2"}
    assert pools == {("green", "RUNNING"), ("blue", "STOPPED")}
    assert fleet.client.get("/api/v2/broker/orders", headers=fleet.auth).status_code == 200


def test_fleet_down_leaves_no_process_behind(fleet: Fleet) -> None:
    pids = _pids(fleet.status())
    assert len(pids) == 1 + 1 + 2 + 2 + 2 + 1  # supervisord, nginx and the active replicas
    fleet.host("down")
    assert [p for p in pids if _alive(p)] == []
