"""The fleet through nginx: the gateway's added latency, one and two replicas, cross-replica streams.

Starts the example fleet (``examples/fleet/trading.toml``: core + broker v1 x2 + broker v2 x N +
datafeed v1, under supervisord with nginx in front) on a PostgreSQL database of its own and free
loopback ports, once with broker v2 at 1 replica and once at 2, both running at the same time (one
port base each), then measures, rounds interleaved so that both fleets and both paths see the
same machine load:

- ``GET /api/v2/broker/account`` and ``POST /api/v2/broker/orders`` (each with its
  ``Idempotency-Key``): requests per second and p50/p99 latency with ``--clients`` concurrent
  keep-alive clients, through the gateway and against one broker v2 replica directly
  (``/v2/account``, ``/v2/orders``), and the gateway/direct ratio of the p50 (the hop's cost);
- stream delivery: a v2 WebSocket client on replica A subscribed to ``orders``; an order placed
  on replica B; the time from sending the POST to receiving its update on A (p50/p99), beside
  the POST's own latency (the part that is not delivery).

Needs nginx, supervisord (``trading-host[fleet]``) and a PostgreSQL server
(``$TRADING_TEST_POSTGRES_URL``, default the local one, user postgres).

    python benchmarks/bench_fleet.py            # full run
    python benchmarks/bench_fleet.py --quick    # smoke: one short round
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import platform
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "fleet" / "trading.toml"
POSTGRES = os.environ.get("TRADING_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PORTS = 13  # the gateway and 2 x (1 core + 2 + 2 + 1) replicas
BIN = Path(sys.executable).parent


def _admin(statement: str) -> None:
    import asyncpg  # type: ignore[import-untyped]  # installed with trading-broker; ships no types

    async def run() -> None:
        connection = await asyncpg.connect(POSTGRES, timeout=5)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


@contextmanager
def database() -> Iterator[str]:
    name = f"bench_fleet_{secrets.token_hex(4)}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://{POSTGRES.split('://', 1)[1].rsplit('/', 1)[0]}/{name}"
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_block(count: int, avoid: set[int]) -> int:
    """A base port whose next ``count`` ports are free (checked by binding each), from 12000 to
    24000: below the kernel's ephemeral range (32768 on Linux), which other programs' ``bind(0)``
    and outgoing connections take from, so none of them takes a replica's port between this check
    and the fleet's start; and below the block tests/test_fleet.py draws from, as both run at once
    under `nox`."""
    for _ in range(100):
        base = random.randrange(12000, 24000 - count)
        if any(base <= p < base + count for p in avoid):
            continue
        sockets = []
        try:
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
    replicas: int
    env: dict[str, str]
    folder: Path
    gateway: str
    token: str = ""

    def host(self, *args: str) -> str:
        result = subprocess.run(
            [str(BIN / "trading-host"), "fleet", *args, "--config", str(EXAMPLE)],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if result.returncode != 0:
            raise RuntimeError(f"fleet {args} failed: {result.stdout}\n{result.stderr}")
        return result.stdout

    def broker_v2(self) -> list[str]:
        report = json.loads(self.host("status", "--json"))
        return [p["url"] for p in report["processes"] if p["service"] == "broker_v2" and p["active"]]


def start_fleet(replicas: int, database_url: str, base: int, folder: Path) -> Fleet:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TRADING_")},
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "TRADING_FLEET__DATABASE_URL": database_url,
        "TRADING_FLEET__PORT_BASE": str(base),
        "TRADING_FLEET__RUN_DIR": str(folder / "run"),
        "TRADING_FLEET__SERVICES__BROKER_V2__REPLICAS": str(replicas),
    }
    fleet = Fleet(replicas, env, folder, f"http://127.0.0.1:{base}")
    fleet.host("up")
    key = subprocess.run(
        [str(BIN / "trading-broker"), "keys", "create", f"bench-{replicas}", "--json"],
        cwd=folder,
        env={**env, "TRADING_MODULES__BROKER__DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    fleet.token = json.loads(key.stdout)["token"]
    return fleet


# --- measurements --------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Load:
    rps: float
    p50: float
    p99: float
    errors: int


def load(base: str, path: str, token: str, method: str, clients: int, requests: int) -> Load:
    """``requests`` calls spread over ``clients`` keep-alive clients; latencies in ms."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {token}"}
    body = {"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT", "limit_price": 1.0}  # never fills

    def work(count: int) -> None:
        nonlocal errors
        mine: list[float] = []
        failed = 0
        with httpx.Client(base_url=base, timeout=10) as client:
            for _ in range(count):
                start = time.perf_counter()
                if method == "GET":
                    response = client.get(path, headers=headers)
                else:
                    response = client.post(path, json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
                mine.append((time.perf_counter() - start) * 1000)
                failed += response.status_code != 200
        with lock:
            latencies.extend(mine)
            errors += failed

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(work, [requests // clients] * clients))
    elapsed = time.perf_counter() - started
    return Load(len(latencies) / elapsed, percentile(latencies, 0.5), percentile(latencies, 0.99), errors)


def stream_delivery(fleet: Fleet, orders: int) -> tuple[list[float], list[float]]:
    """Per order placed on replica B: ms from the POST to its update on A's stream, and the POST's own ms."""
    from websockets.sync.client import connect

    a, b = fleet.broker_v2()[:2]
    headers = {"Authorization": f"Bearer {fleet.token}"}
    body = {"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT", "limit_price": 1.0}
    delivered: list[float] = []
    posts: list[float] = []
    url = a.replace("http://", "ws://") + f"/v2/ws?access_token={fleet.token}"
    with connect(url) as ws, httpx.Client(base_url=b, timeout=10) as client:
        ws.send(json.dumps({"type": "orders.subscribe", "payload": {}}))
        json.loads(ws.recv(timeout=10))
        for _ in range(orders):
            start = time.perf_counter()
            placed = client.post("/v2/orders", json=body, headers=headers)
            posts.append((time.perf_counter() - start) * 1000)
            placed.raise_for_status()
            order_id = placed.json()["id"]
            while True:
                message = json.loads(ws.recv(timeout=10))
                if message.get("type") == "orders.update" and message["payload"]["id"] == order_id:
                    break
            delivered.append((time.perf_counter() - start) * 1000)
            time.sleep(0.01)
    return delivered, posts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one short round: a smoke test")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=300, help="requests per measurement")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--orders", type=int, default=200, help="orders timed for stream delivery")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.requests, args.orders = 1, 40, 20
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        sys.exit("bench_fleet: nginx is not installed (apt-get install nginx)")
    started = time.time()
    results: dict[str, list[Load]] = {}
    delivered: list[float] = []
    posts: list[float] = []
    with database() as url, tempfile.TemporaryDirectory() as tmp:
        first = free_block(PORTS, set())
        second = free_block(PORTS, set(range(first, first + PORTS)))
        fleets: list[Fleet] = []
        try:
            for replicas, base in ((1, first), (2, second)):
                folder = Path(tmp) / f"fleet-{replicas}"
                folder.mkdir()
                fleets.append(start_fleet(replicas, url, base, folder))
            cases: list[tuple[str, Callable[[], Load]]] = []
            for fleet in fleets:
                direct = fleet.broker_v2()[0]
                for method in ("GET", "POST"):
                    # GET /account: a read whose size does not grow as the POSTs add working orders.
                    gateway_path = "/api/v2/broker/" + ("account" if method == "GET" else "orders")
                    direct_path = "/v2/" + ("account" if method == "GET" else "orders")
                    for label, target, route in (
                        ("gateway", fleet.gateway, gateway_path),
                        ("direct", direct, direct_path),
                    ):
                        case = functools.partial(load, target, route, fleet.token, method, args.clients, args.requests)
                        cases.append((f"{method} {label}, {fleet.replicas} replica(s)", case))
            for _, warm in cases:  # warm-up: connections, caches
                warm()
            for _ in range(args.rounds):
                random.shuffle(cases)
                for name, run in cases:
                    results.setdefault(name, []).append(run())
            delivered, posts = stream_delivery(fleets[1], args.orders)
        finally:
            for fleet in fleets:
                try:
                    fleet.host("down")
                except Exception as exc:
                    print(f"fleet down failed: {exc}", file=sys.stderr)

    print(
        f"# bench_fleet: python {platform.python_version()}, {os.cpu_count()} CPUs, {time.time() - started:.0f} s, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    print(
        f"# {args.rounds} round(s) x {args.requests} requests per case, {args.clients} clients, shuffled; "
        f"medians over rounds; ms"
    )
    print(f"# load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print()
    print("| case | req/s | p50 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|")
    for name in sorted(results):
        runs = results[name]
        print(
            f"| {name} | {statistics.median(r.rps for r in runs):.0f} | {statistics.median(r.p50 for r in runs):.2f} "
            f"| {statistics.median(r.p99 for r in runs):.2f} | {sum(r.errors for r in runs)} |"
        )
    print()
    for replicas in (1, 2):
        for method in ("GET", "POST"):
            via = results[f"{method} gateway, {replicas} replica(s)"]
            straight = results[f"{method} direct, {replicas} replica(s)"]
            ratio = statistics.median(g.p50 / d.p50 for g, d in zip(via, straight, strict=True))
            print(f"- {method}, {replicas} replica(s): gateway p50 / direct p50 = {ratio:.2f}x")
    print()
    print(
        f"- stream delivery, order placed on replica B, update on replica A's client ({len(delivered)} orders): "
        f"p50 {percentile(delivered, 0.5):.1f} ms, p99 {percentile(delivered, 0.99):.1f} ms "
        f"(of which the POST itself: p50 {percentile(posts, 0.5):.1f} ms, p99 {percentile(posts, 0.99):.1f} ms)"
    )
    if any(r.errors for runs in results.values() for r in runs):
        sys.exit("bench_fleet: some requests failed")


if __name__ == "__main__":
    main()
