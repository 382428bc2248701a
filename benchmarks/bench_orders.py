"""Order placements per second on SQLite and on PostgreSQL, durability on, side by side in one run.

Two ways to place, each against both databases:

    http      a real uvicorn process per database (``uvicorn trading_host.main:app``, broker only,
              one worker), and ``--concurrency`` httpx clients POSTing ``/api/v1/broker/orders``
              over real HTTP; an order is counted when its 200 has arrived, that is after its
              commit (SQLite: WAL, synchronous=FULL, fsync per commit; PostgreSQL:
              synchronous_commit=on)
    service   the same ``BrokerService`` called in-process with the same concurrency: the
              storage cost without HTTP

Two kinds of order: ``market`` (fills at once: the order, its execution, the position and the
account balance in one transaction) and ``limit`` (stays working: the order alone). Rounds run
every (way, database, kind) once, in a shuffled order; the table shows medians and the median of
the same-round PostgreSQL/SQLite ratios. Every stored order is counted at the end, so a fast but
lossy variant would fail the run.

    python benchmarks/bench_orders.py             # full run
    python benchmarks/bench_orders.py --quick     # CI smoke: one small round, same table

PostgreSQL: ``--postgres URL`` names a server database to connect to (default the local server,
user postgres); the script creates a fresh database per run and drops it at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import create_async_engine

from trading_broker import BrokerService, OrderRequest, OrderType, Strictness
from trading_broker._database import normalize_url

HOST_VARIABLES = ("TRADING_CONFIG", "GLOBAL_VERSION", "ENABLED_MODULES", "MODULE_VERSION", "TRADING_API_PREFIX")
ORDERS_PATH = "/api/v1/broker/orders"
BODIES = {
    "market": {"symbol": "AAPL", "quantity": 1},
    "limit": {"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT", "limit_price": 1.0},
}
# The largest leverage the broker takes: 100 x 100,000 of buying power, far above the orders placed.
LEVERAGE = 100
REQUESTS = {
    "market": OrderRequest("AAPL", 1),
    "limit": OrderRequest("AAPL", 1, order_type=OrderType.LIMIT, limit_price=1.0),
}


@dataclass
class Variant:
    way: str
    database: str
    kind: str
    rates: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.way, self.database, self.kind)


# -- databases


async def _admin(server_url: str, statement: str) -> None:
    # CREATE and DROP DATABASE cannot run inside a transaction.
    engine = create_async_engine(normalize_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql(statement)
    finally:
        await engine.dispose()


def create_postgres_database(server_url: str) -> tuple[str, Callable[[], None]]:
    """A fresh database on the server, and a function that drops it."""
    name = f"bench_orders_{secrets.token_hex(4)}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    host = server_url.split("://", 1)[1].rsplit("/", 1)[0]

    def drop() -> None:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return f"postgresql+asyncpg://{host}/{name}", drop


async def durability_facts(url: str) -> str:
    """What the database says about durability, read through the broker's own engine."""
    service = BrokerService(database_url=url)
    await service.open()
    try:
        async with service.store.engine.connect() as connection:
            if service.store.backend == "sqlite":
                mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
                sync = (await connection.exec_driver_sql("PRAGMA synchronous")).scalar()
                names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
                return f"journal_mode={mode}, synchronous={names.get(int(sync or 0), sync)}"
            commit = (await connection.exec_driver_sql("SHOW synchronous_commit")).scalar()
            fsync = (await connection.exec_driver_sql("SHOW fsync")).scalar()
            return f"synchronous_commit={commit}, fsync={fsync}"
    finally:
        await service.close()


async def stored_orders(url: str) -> int:
    service = BrokerService(database_url=url)
    await service.open()
    try:
        async with service.store.read() as tx:
            return await tx.count_orders()
    finally:
        await service.close()


# -- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``uvicorn trading_host.main:app`` serving the broker alone on ``url``."""

    def __init__(self, url: str, folder: Path) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in HOST_VARIABLES and not k.startswith("TRADING_MODULES__")}
        env.update(
            ENABLED_MODULES="broker",
            GLOBAL_VERSION="v1",
            TRADING_MODULES__BROKER__DATABASE_URL=url,
            # The matcher re-checks working orders; the limit orders of this benchmark pile up,
            # so it would compete with the placements it is not measuring.
            TRADING_MODULES__BROKER__MATCH_INTERVAL="3600",
            # Thousands of orders of one account: buying power must not be what stops them.
            TRADING_MODULES__BROKER__LEVERAGE=str(LEVERAGE),
        )
        self.log = (folder / f"server-{self.port}.log").open("w")
        command = [sys.executable, "-m", "uvicorn", "trading_host.main:app", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, "--log-level", "warning", "--no-access-log"],
            cwd=folder,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.base_url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server on {url} exited with {self.process.returncode}; see {self.log.name}")
            try:
                if httpx.get(f"{self.base_url}/api/v1/core/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server on {url} did not start within 120 s; see {self.log.name}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


# -- load


async def drive(count: int, concurrency: int, place: Callable[[], Awaitable[None]]) -> tuple[float, list[float]]:
    """Place ``count`` orders with ``concurrency`` placers; the rate and each placement's seconds."""
    latencies: list[float] = []
    remaining = count

    async def placer() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            await place()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(placer() for _ in range(concurrency)))
    return count / (time.perf_counter() - started), latencies


async def http_round(base_url: str, kind: str, count: int, concurrency: int) -> tuple[float, list[float]]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:

        async def place() -> None:
            response = await client.post(ORDERS_PATH, json=BODIES[kind])
            if response.status_code != 200:
                raise RuntimeError(f"{base_url}: {response.status_code} {response.text}")

        await place()  # a connection opened before the clock starts
        return await drive(count, concurrency, place)


async def service_round(url: str, kind: str, count: int, concurrency: int) -> tuple[float, list[float]]:
    service = BrokerService(database_url=url, leverage=LEVERAGE)
    await service.open()
    try:

        async def place() -> None:
            await service.place("bench", REQUESTS[kind], strictness=Strictness.BASIC)

        await place()
        return await drive(count, concurrency, place)
    finally:
        await service.close()


# -- report


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(variants: list[Variant], facts: dict[str, str], args: argparse.Namespace, seconds: float) -> None:
    print(
        f"# bench_orders  (python {platform.python_version()}, {os.cpu_count()} CPUs, {seconds:.0f} s, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})"
    )
    print(
        f"# {args.repeats} rounds x {args.orders} orders per variant, {args.concurrency} concurrent placers, "
        "shuffled; medians"
    )
    for database, fact in facts.items():
        print(f"# {database}: {fact}")
    print()
    header = f"{'way':<8} {'database':<11} {'kind':<7} {'orders/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'pg/sqlite':>10}"
    print(header)
    print("-" * len(header))
    by_key = {v.key: v for v in variants}
    for variant in variants:
        ratio = ""
        if variant.database == "postgresql":
            sqlite = by_key[(variant.way, "sqlite", variant.kind)]
            ratios = [p / s for p, s in zip(variant.rates, sqlite.rates, strict=True)]
            ratio = f"{statistics.median(ratios):.2f}x"
        print(
            f"{variant.way:<8} {variant.database:<11} {variant.kind:<7} {statistics.median(variant.rates):>9.0f} "
            f"{percentile(variant.latencies, 0.5) * 1000:>8.1f} {percentile(variant.latencies, 0.99) * 1000:>8.1f} "
            f"{ratio:>10}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=400, help="orders per variant per round")
    parser.add_argument("--repeats", type=int, default=5, help="rounds")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent placers")
    parser.add_argument("--ways", default="http,service", help="http, service or both")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TRADING_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server database to create the benchmark's database from",
    )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="CI smoke: one round of 40 orders")
    args = parser.parse_args(argv)
    if args.quick:
        args.orders, args.repeats, args.concurrency = 40, 1, 4
    ways = [w.strip() for w in args.ways.split(",") if w.strip()]
    rng = random.Random(args.seed)
    began = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="bench-orders-") as tmp:
        folder = Path(tmp)
        # One database per way, so the http and service figures do not share a growing table.
        urls: dict[tuple[str, str], str] = {}
        drops: list[Callable[[], None]] = []
        for way in ways:
            urls[(way, "sqlite")] = f"sqlite+aiosqlite:///{folder / f'{way}.db'}"
            pg_url, drop = create_postgres_database(args.postgres)
            urls[(way, "postgresql")] = pg_url
            drops.append(drop)
        servers: dict[str, Server] = {}
        try:
            facts = {db: asyncio.run(durability_facts(urls[(ways[0], db)])) for db in ("sqlite", "postgresql")}
            if "http" in ways:
                for db in ("sqlite", "postgresql"):
                    servers[db] = Server(urls[("http", db)], folder)
            variants = [Variant(w, d, k) for w in ways for d in ("sqlite", "postgresql") for k in ("market", "limit")]
            placed = dict.fromkeys(urls, 0)
            for _ in range(args.repeats):
                order = variants[:]
                rng.shuffle(order)
                for variant in order:
                    url = urls[(variant.way, variant.database)]
                    if variant.way == "http":
                        run: Coroutine[Any, Any, tuple[float, list[float]]] = http_round(
                            servers[variant.database].base_url, variant.kind, args.orders, args.concurrency
                        )
                    else:
                        run = service_round(url, variant.kind, args.orders, args.concurrency)
                    rate, latencies = asyncio.run(run)
                    variant.rates.append(rate)
                    variant.latencies.extend(latencies)
                    placed[(variant.way, variant.database)] += args.orders + 1
            for key, expected in placed.items():
                found = asyncio.run(stored_orders(urls[key]))
                if found != expected:
                    raise RuntimeError(f"{key}: {expected} orders acknowledged but {found} stored")
        finally:
            for server in servers.values():
                server.stop()
            for drop in drops:
                drop()
    report(variants, facts, args, time.perf_counter() - began)
    return 0


if __name__ == "__main__":
    sys.exit(main())
