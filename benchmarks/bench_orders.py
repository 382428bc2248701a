"""Order placements per second on SQLite and on PostgreSQL, durability on, side by side in one run,
with group commit (the default) and without it, against the floor the disk and the databases set.

Two ways to place, each against both databases:

    http      a real uvicorn process per database and path (``uvicorn trading_host.main:app``,
              broker only, one worker), and ``--concurrency`` httpx clients POSTing
              ``/api/v1/broker/orders`` over real HTTP; an order is counted when its 200 has
              arrived, that is after its commit (SQLite: WAL, synchronous=FULL, fsync per commit;
              PostgreSQL: synchronous_commit=on)
    service   the same ``BrokerService`` called in-process with the same concurrency: the
              storage cost without HTTP

Two paths: ``group`` (``group_commit = true``: concurrent placements share one transaction and
one commit) and ``single`` (``group_commit = false``: one transaction and one commit per order).
Two kinds of order: ``market`` (fills at once: the order, its execution, the position and the
account balance in one transaction) and ``limit`` (stays working: the order alone).

The floor, measured in every round beside the placements: the rate of ``fsync`` on the disk of
the SQLite file (and of PostgreSQL's data directory when it is that disk), and on each database,
through the broker's own engine and transaction, the rate of empty write transactions (the cost of
a transaction without a statement) and of durable one-row commits (one UPDATE each, committed to
disk): the most orders one writer committing each order alone could place.

Rounds run every (way, database, kind, path) and the floor once, in a shuffled order; the table
shows medians and the median of the same-round group/single and PostgreSQL/SQLite ratios. Every
stored order is counted at the end, so a fast but lossy variant would fail the run.

    python benchmarks/bench_orders.py             # full run
    python benchmarks/bench_orders.py --quick     # CI smoke: one small round, same table

PostgreSQL: ``--postgres URL`` names a server database to connect to (default the local server,
user postgres); the script creates fresh databases per run and drops them at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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

import h11
import httpx
from sqlalchemy.ext.asyncio import create_async_engine

from trading_broker import BrokerService, OrderRequest, OrderType, Strictness
from trading_broker._database import normalize_url
from trading_broker._store import BrokerStore

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


PATHS = ("group", "single")
DATABASES = ("sqlite", "postgresql")
KINDS = ("market", "limit")
# The goals of issue 11, checked against the group path: in-process orders a second by kind, and
# over HTTP market orders a second and their p99 in milliseconds.
SERVICE_GOALS = {"market": 2_000, "limit": 5_000}
HTTP_GOAL, HTTP_P99_GOAL_MS = 600, 100.0
# Seconds each floor measurement runs for (in every round).
FLOOR_SECONDS = 0.5


@dataclass
class Variant:
    way: str
    database: str
    kind: str
    path: str
    rates: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    """CPU seconds per order, per round: the server process's (http), this process's (service)."""
    commits: int = 0
    orders: int = 0

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.way, self.database, self.kind, self.path)


@dataclass
class Floor:
    """The floor's measurements, one per round: fsyncs a second, empty transactions and durable
    one-row commits a second by database."""

    fsync: list[float] = field(default_factory=list)
    empty: dict[str, list[float]] = field(default_factory=lambda: {db: [] for db in DATABASES})
    commit: dict[str, list[float]] = field(default_factory=lambda: {db: [] for db in DATABASES})


# -- databases


async def _admin(server_url: str, statement: str) -> None:
    # CREATE and DROP DATABASE cannot run inside a transaction.
    engine = create_async_engine(normalize_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql(statement)
    finally:
        await engine.dispose()


async def _scalar(server_url: str, statement: str) -> Any:
    engine = create_async_engine(normalize_url(server_url))
    try:
        async with engine.connect() as connection:
            return (await connection.exec_driver_sql(statement)).scalar()
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
            method = (await connection.exec_driver_sql("SHOW wal_sync_method")).scalar()
            return f"synchronous_commit={commit}, fsync={fsync}, wal_sync_method={method}"
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


# -- the floor


def fsync_rate(folder: Path, seconds: float = FLOOR_SECONDS) -> float:
    """``fsync`` calls a second on ``folder``'s disk, each after rewriting one 4 KiB page (what a
    commit of one small transaction asks of the disk at least)."""
    path = folder / "fsync-probe"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        page = b"\0" * 4096
        count = 0
        started = time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            os.pwrite(fd, page, 0)
            os.fsync(fd)
            count += 1
        return count / elapsed
    finally:
        os.close(fd)
        path.unlink()


async def transaction_rates(url: str, seconds: float = FLOOR_SECONDS) -> tuple[float, float]:
    """Through the broker's store (its engine, its write transaction): empty write transactions a
    second, and durable one-row commits a second (an UPDATE of one row of a scratch table, one
    writer, each committed before the next)."""
    store = BrokerStore(url)
    await store.open()
    try:
        async with store.engine.begin() as connection:
            await connection.exec_driver_sql(
                "CREATE TABLE IF NOT EXISTS bench_floor (id INTEGER PRIMARY KEY, n INTEGER)"
            )
            await connection.exec_driver_sql("DELETE FROM bench_floor")
            await connection.exec_driver_sql("INSERT INTO bench_floor VALUES (1, 0)")
        rates = []
        for statement in (None, "UPDATE bench_floor SET n = n + 1 WHERE id = 1"):
            count = 0
            started = time.perf_counter()
            while (elapsed := time.perf_counter() - started) < seconds:
                async with store.write() as tx:
                    if statement is not None:
                        await tx._connection.exec_driver_sql(statement)
                count += 1
            rates.append(count / elapsed)
        return rates[0], rates[1]
    finally:
        await store.close()


def same_disk(folder: Path, postgres_url: str) -> str:
    """Whether PostgreSQL's data directory is on the disk of ``folder`` (where the fsyncs are measured)."""
    try:
        data = asyncio.run(_scalar(postgres_url, "SHOW data_directory"))
        same = os.stat(str(data)).st_dev == os.stat(folder).st_dev
    except Exception as exc:  # a remote server, or a directory this user cannot see
        return f"PostgreSQL's data directory cannot be checked here ({type(exc).__name__})"
    where = "on the same disk" if same else "on another disk"
    return f"PostgreSQL's data directory {data} is {where}"


# -- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``uvicorn trading_host.main:app`` serving the broker alone on ``url``."""

    def __init__(self, url: str, folder: Path, *, group_commit: bool) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in HOST_VARIABLES and not k.startswith("TRADING_MODULES__")}
        env.update(
            ENABLED_MODULES="broker",
            GLOBAL_VERSION="v1",
            TRADING_MODULES__BROKER__DATABASE_URL=url,
            TRADING_MODULES__BROKER__GROUP_COMMIT="true" if group_commit else "false",
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


Round = tuple[float, list[float], int, float]
"""A round's orders a second, each placement's seconds, how many commits placed them, and the CPU
seconds the placing process spent per order (the server's over HTTP; NaN where it cannot be read)."""


def process_cpu(pid: int) -> float:
    """CPU seconds (user and system, every thread) process ``pid`` has used; NaN without /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _batches(client: httpx.AsyncClient) -> int:
    """The server's group-commit batches so far (from the broker's health report); 0 without."""
    health = (await client.get("/api/v1/core/health")).json()
    return int(health["modules"]["broker"].get("group_commit", {}).get("batches", 0))


class LeanConnection:
    """One keep-alive HTTP/1.1 connection, driven by h11: the load's client. httpx spends about as
    much CPU on a request as the server does (some 2 ms here), and the clients share the server's 2
    CPUs, so with it the benchmark measured the client as much as the server; this costs a
    fraction of that. Every answer is still read whole and its status checked."""

    def __init__(self, host: str, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.host, self.port = host, port
        self.reader, self.writer = reader, writer
        self.h11 = h11.Connection(h11.CLIENT)

    @classmethod
    async def open(cls, base_url: str) -> LeanConnection:
        host, port = base_url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        return cls(host, int(port), reader, writer)

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        headers = [("Host", f"{self.host}:{self.port}"), ("Content-Type", "application/json")]
        headers.append(("Content-Length", str(len(body))))
        data = self.h11.send(h11.Request(method="POST", target=path, headers=headers)) or b""
        data += (self.h11.send(h11.Data(data=body)) or b"") + (self.h11.send(h11.EndOfMessage()) or b"")
        self.writer.write(data)
        status, chunks = 0, []
        while True:
            event = self.h11.next_event()
            if event is h11.NEED_DATA:
                received = await self.reader.read(65536)
                if not received:
                    raise RuntimeError(f"{self.host}:{self.port} closed the connection")
                self.h11.receive_data(received)
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            else:
                raise RuntimeError(f"{self.host}:{self.port}: unexpected {event!r}")
        self.h11.start_next_cycle()
        return status, b"".join(chunks)

    def close(self) -> None:
        self.writer.close()


async def http_round(base_url: str, pid: int, kind: str, count: int, concurrency: int, *, group_commit: bool) -> Round:
    body = json.dumps(BODIES[kind]).encode()
    connections = [await LeanConnection.open(base_url) for _ in range(concurrency)]
    idle = list(connections)
    try:

        async def place() -> None:
            connection = idle.pop()
            try:
                status, answer = await connection.post(ORDERS_PATH, body)
            finally:
                idle.append(connection)
            if status != 200:
                raise RuntimeError(f"{base_url}: {status} {answer.decode(errors='replace')}")

        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            await place()  # the server's first order before the clock starts
            before = await _batches(client)
            cpu = process_cpu(pid)
            rate, latencies = await drive(count, concurrency, place)
            cpu = process_cpu(pid) - cpu
            commits = await _batches(client) - before if group_commit else count
        return rate, latencies, commits, cpu / count
    finally:
        for connection in connections:
            connection.close()


async def service_round(url: str, kind: str, count: int, concurrency: int, *, group_commit: bool) -> Round:
    service = BrokerService(database_url=url, leverage=LEVERAGE, group_commit=group_commit)
    await service.open()
    try:

        async def place() -> None:
            await service.place("bench", REQUESTS[kind], strictness=Strictness.BASIC)

        await place()
        before = (await service.health()).get("group_commit", {"batches": 0})
        cpu = time.process_time()
        rate, latencies = await drive(count, concurrency, place)
        cpu = time.process_time() - cpu
        after = (await service.health()).get("group_commit", {"batches": 0})
        commits = after["batches"] - before["batches"] if group_commit else count  # type: ignore[index]
        return rate, latencies, commits, cpu / count
    finally:
        await service.close()


# -- report


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _median_ratio(top: list[float], bottom: list[float]) -> str:
    return f"{statistics.median(t / b for t, b in zip(top, bottom, strict=True)):.2f}x"


def report(
    variants: list[Variant], floor: Floor, facts: dict[str, str], args: argparse.Namespace, seconds: float
) -> None:
    print(
        f"# bench_orders  (python {platform.python_version()}, {os.cpu_count()} CPUs, {seconds:.0f} s, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {os.getloadavg()[0]:.2f})"
    )
    print(
        f"# {args.repeats} rounds x {args.orders} orders per variant, {args.concurrency} concurrent placers, "
        "shuffled; medians"
    )
    for fact in facts.values():
        print(f"# {fact}")
    fsync = statistics.median(floor.fsync)
    print(f"# floor: fsync of the disk {fsync:,.0f}/s ({1000 / fsync:.2f} ms)")
    commit_floor = {db: statistics.median(floor.commit[db]) for db in DATABASES}
    for db in DATABASES:
        empty = statistics.median(floor.empty[db])
        print(
            f"#        {db}: empty write transaction {empty:,.0f}/s ({1000 / empty:.2f} ms), durable one-row commit "
            f"{commit_floor[db]:,.0f}/s ({1000 / commit_floor[db]:.2f} ms) = {commit_floor[db] / fsync:.2f}x fsync"
        )
    print()
    header = (
        f"{'way':<8} {'database':<11} {'kind':<7} {'path':<7} {'orders/s':>9} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'/commit':>8} {'commits/s':>9} {'of floor':>8} {'cpu us':>7} {'grp/single':>10} {'cpu':>6} {'pg/sqlite':>9}"
    )
    print(header)
    print("-" * len(header))
    by_key = {v.key: v for v in variants}
    for variant in variants:
        rate = statistics.median(variant.rates)
        per_commit = variant.orders / variant.commits if variant.commits else float("nan")
        commits = rate / per_commit
        single = by_key.get((variant.way, variant.database, variant.kind, "single"))
        vs_path = _median_ratio(variant.rates, single.rates) if variant.path == "group" and single else ""
        cpu_vs_path = _median_ratio(single.cpu, variant.cpu) if variant.path == "group" and single else ""
        sqlite = by_key.get((variant.way, "sqlite", variant.kind, variant.path))
        vs_db = _median_ratio(variant.rates, sqlite.rates) if variant.database == "postgresql" and sqlite else ""
        print(
            f"{variant.way:<8} {variant.database:<11} {variant.kind:<7} {variant.path:<7} {rate:>9.0f} "
            f"{percentile(variant.latencies, 0.5) * 1000:>7.1f} {percentile(variant.latencies, 0.99) * 1000:>7.1f} "
            f"{per_commit:>8.1f} {commits:>9.0f} {commits / commit_floor[variant.database]:>8.0%} "
            f"{statistics.median(variant.cpu) * 1e6:>7.0f} {vs_path:>10} {cpu_vs_path:>6} {vs_db:>9}"
        )
    print()
    print("/commit: orders per commit; of floor: commits a second over the durable one-row commit rate;")
    print("cpu us: CPU microseconds per order of the placing process (http: the server; service: this one);")
    print("grp/single: orders a second, group commit over one transaction per order;")
    print("cpu: CPU per order, one transaction per order over group commit")
    goals = []
    for variant in variants:
        if variant.path != "group":
            continue
        rate = statistics.median(variant.rates)
        if variant.way == "service":
            goal = SERVICE_GOALS[variant.kind]
            goals.append(
                (f"in-process {variant.kind} on {variant.database} >= {goal:,}/s", rate >= goal, f"{rate:,.0f}")
            )
        elif variant.kind == "market":
            p99 = percentile(variant.latencies, 0.99) * 1000
            met = rate >= HTTP_GOAL and p99 <= HTTP_P99_GOAL_MS
            goal_text = f"HTTP market on {variant.database} >= {HTTP_GOAL}/s, p99 <= {HTTP_P99_GOAL_MS:.0f} ms"
            goals.append((goal_text, met, f"{rate:,.0f}/s, p99 {p99:.0f} ms"))
    for text, met, measured in goals:
        print(f"{'PASS' if met else 'MISS'}  {text}: {measured}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=600, help="orders per variant per round")
    parser.add_argument("--repeats", type=int, default=5, help="rounds")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent placers")
    parser.add_argument("--ways", default="http,service", help="http, service or both")
    parser.add_argument("--paths", default=",".join(PATHS), help="group, single or both")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TRADING_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server database to create the benchmark's databases from",
    )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="CI smoke: one round of 40 orders")
    args = parser.parse_args(argv)
    floor_seconds = FLOOR_SECONDS
    if args.quick:
        args.orders, args.repeats, args.concurrency = 40, 1, 4
        floor_seconds = 0.05
    ways = [w.strip() for w in args.ways.split(",") if w.strip()]
    paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    unknown = sorted({*ways} - {"http", "service"}) + sorted({*paths} - {*PATHS})
    if unknown:
        parser.error(f"unknown way or path {unknown}: ways are http and service, paths group and single")
    rng = random.Random(args.seed)
    began = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="bench-orders-") as tmp:
        folder = Path(tmp)
        # One database per way and path, so no two variants share a growing table.
        urls: dict[tuple[str, str, str], str] = {}
        drops: list[Callable[[], None]] = []
        servers: dict[tuple[str, str], Server] = {}
        try:
            for way in ways:
                for path in paths:
                    urls[(way, "sqlite", path)] = f"sqlite+aiosqlite:///{folder / f'{way}-{path}.db'}"
                    pg_url, drop = create_postgres_database(args.postgres)
                    urls[(way, "postgresql", path)] = pg_url
                    drops.append(drop)
            floor_urls = {"sqlite": f"sqlite+aiosqlite:///{folder / 'floor.db'}"}
            floor_urls["postgresql"], drop = create_postgres_database(args.postgres)
            drops.append(drop)
            facts = {db: f"{db}: " + asyncio.run(durability_facts(floor_urls[db])) for db in DATABASES}
            facts["disk"] = same_disk(folder, args.postgres) + f"; the SQLite files are in {folder}"
            if "http" in ways:
                for db in DATABASES:
                    for path in paths:
                        servers[(db, path)] = Server(urls[("http", db, path)], folder, group_commit=path == "group")
            variants = [Variant(w, d, k, p) for w in ways for d in DATABASES for k in KINDS for p in paths]
            floor = Floor()
            placed = dict.fromkeys(urls, 0)
            for _ in range(args.repeats):
                order: list[Variant | None] = [*variants, None]  # None: the floor
                rng.shuffle(order)
                for variant in order:
                    if variant is None:
                        floor.fsync.append(fsync_rate(folder, floor_seconds))
                        for db in DATABASES:
                            empty, commit = asyncio.run(transaction_rates(floor_urls[db], floor_seconds))
                            floor.empty[db].append(empty)
                            floor.commit[db].append(commit)
                        continue
                    group = variant.path == "group"
                    url = urls[(variant.way, variant.database, variant.path)]
                    if variant.way == "http":
                        run: Coroutine[Any, Any, Round] = http_round(
                            servers[(variant.database, variant.path)].base_url,
                            servers[(variant.database, variant.path)].process.pid,
                            variant.kind,
                            args.orders,
                            args.concurrency,
                            group_commit=group,
                        )
                    else:
                        run = service_round(url, variant.kind, args.orders, args.concurrency, group_commit=group)
                    rate, latencies, commits, cpu = asyncio.run(run)
                    variant.rates.append(rate)
                    variant.cpu.append(cpu)
                    variant.latencies.extend(latencies)
                    variant.commits += commits
                    variant.orders += args.orders
                    placed[(variant.way, variant.database, variant.path)] += args.orders + 1
            for key, expected in placed.items():
                found = asyncio.run(stored_orders(urls[key]))
                if found != expected:
                    raise RuntimeError(f"{key}: {expected} orders acknowledged but {found} stored")
        finally:
            for server in servers.values():
                server.stop()
            for drop in drops:
                drop()
    report(variants, floor, facts, args, time.perf_counter() - began)
    return 0


if __name__ == "__main__":
    sys.exit(main())
