"""Event-loop responsiveness of the datafeed under hostile but bounded loads, before and after.

Issue 8, item 4: CPU-bound datafeed work ran on the event loop, so an unrelated request waited
behind it. This script measures an unrelated ``GET /api/v1/datafeed/time`` (the probe: one
client, one keep-alive connection, one request at a time) on a real uvicorn server, idle and then
under each load, for two variants side by side in one run:

    before    the datafeed as it was before item 4 (``--before-ref``, default ``BEFORE_REF``:
              its algorithms are those of release ffc8f74): ``git archive`` of
              ``packages/trading-datafeed/src`` at that commit, with a ``.dist-info`` carrying its
              entry points, first on the server's ``PYTHONPATH``; everything else (Python,
              trading-core, trading-host, FastAPI, uvicorn) is the one installed, so only the
              datafeed differs
    after     the datafeed installed in this environment

The loads (item 4's, each bounded in time and in count):

    marks        2 clients looping a wide ``/marks`` (AAPL, daily, from 0 to now)
    history      2 clients looping ``/history`` AAPL, resolution 1, ``countback=5000``
    quotes       40 WebSocket clients x 100 distinct ``quotes`` topics (each a different set of
                 the 12 symbols: 4,000 feeds), reading every update
    history-new  (not one of item 4's; shown for honesty) 2 clients looping ``/history``
                 countback 5000 at resolution 1, each request a range never asked before, so no
                 kept answer helps: the worst case, where the work is computed every time

For each (variant, load): a fresh measure of the idle probe, then the load starts, warms up, and
the probe runs again while it goes on. The table gives the probe's p50 and p99 idle and under
load, their ratios (the goal: p99 under load at most 10x idle, for item 4's loads), what the load
got done meanwhile (requests or updates per second, and refusals, so a variant cannot look
responsive by refusing the load) and the server's CPU. Rounds run every variant and load once, in
a shuffled order; figures are medians over rounds, a ratio the median of same-round ratios.

    python benchmarks/bench_responsiveness.py            # full run (3 rounds)
    python benchmarks/bench_responsiveness.py --quick    # CI smoke: small loads, short windows
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import multiprocessing
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BEFORE_REF = "fabe10a"
"""The last commit before item 4 touched the datafeed."""
HEALTH = "/api/v1/core/health"
DATAFEED = "/api/v1/datafeed"
PROBE = f"{DATAFEED}/time"
TICKERS = ("AAPL", "MSFT", "GOOGL", "AMZN", "TSLA", "NVDA", "SPY", "EURUSD", "GBPUSD", "USDJPY", "BTCUSD", "ETHUSD")
HOST_VARIABLES = ("TRADING_CONFIG", "GLOBAL_VERSION", "ENABLED_MODULES", "MODULE_VERSION", "TRADING_API_PREFIX")
GOAL = 10.0
"""Item 4's goal: the unrelated request's p99 under load at most this many times its idle p99."""
MINUTE = 60


# --- the two variants ----------------------------------------------------------------------------


def before_site(ref: str, folder: Path) -> Path:
    """A folder to put first on ``PYTHONPATH`` that holds the datafeed of ``ref``, installed."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", ref, "packages/trading-datafeed"],
        check=True,
        capture_output=True,
    ).stdout
    source = folder / "source"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(source, filter="data")
    package = source / "packages" / "trading-datafeed"
    site = folder / "site"
    (site / "trading_datafeed").parent.mkdir(parents=True)
    (package / "src" / "trading_datafeed").rename(site / "trading_datafeed")
    project = tomllib.loads((package / "pyproject.toml").read_text())
    version = "0"
    for line in (site / "trading_datafeed" / "_version.py").read_text().splitlines():
        if line.startswith("__version__"):
            version = line.split("=", 1)[1].strip().strip("\"'")
    info = site / f"trading_datafeed-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: trading-datafeed\nVersion: {version}\n")
    groups = project["project"].get("entry-points", {})
    lines = []
    for group, points in groups.items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {target}" for name, target in points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return site


@dataclass
class Variant:
    name: str
    pythonpath: Path | None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    variant: Variant
    process: subprocess.Popen[bytes]
    port: int
    folder: tempfile.TemporaryDirectory[str]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def datafeed(self) -> dict[str, Any]:
        report: dict[str, Any] = httpx.get(self.base + HEALTH, timeout=30).json()["modules"]["datafeed"]
        return report

    def wait_idle(self, timeout: float = 120) -> None:
        """Wait for every stream connection and feed to be gone; fail if they are not."""
        deadline = time.monotonic() + timeout
        while (state := self.datafeed()["streams"]) != {"connections": 0, "feeds": 0}:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.variant.name}: the server still holds {state} after the load")
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.folder.cleanup()


def start_server(variant: Variant) -> Server:
    folder = tempfile.TemporaryDirectory()
    env = {k: v for k, v in os.environ.items() if k not in HOST_VARIABLES and not k.startswith("TRADING_")}
    env["ENABLED_MODULES"] = "datafeed"  # every setting at its default: no config file
    if variant.pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(variant.pythonpath), env.get("PYTHONPATH", "")]))
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "trading_host.main:app", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, cwd=folder.name, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = Server(variant, process, port, folder)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"{variant.name}: the server exited with {process.returncode}:\n{stderr}")
        try:
            report = server.datafeed()
        except (httpx.TransportError, KeyError):
            time.sleep(0.1)
            continue
        # The new datafeed reports its compute threads; the old one does not: proof of which is served.
        if ("computing" in report) != (variant.name == "after"):
            server.stop()
            raise RuntimeError(f"{variant.name}: the server runs the wrong datafeed (health: {report})")
        return server
    server.stop()
    raise RuntimeError(f"{variant.name}: the server did not answer within 60 s")


# --- the probe -----------------------------------------------------------------------------------


def probe(base: str, count: int, gap: float, seconds: float) -> list[float]:
    """Milliseconds of ``count`` sequential ``GET /time``, ``gap`` seconds apart, or as many as
    ``seconds`` allow (a stalled server answers a few a second)."""
    times: list[float] = []
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=base, timeout=60) as client:
        client.get(PROBE).raise_for_status()  # the connection, opened before timing
        while len(times) < count and (time.monotonic() < deadline or len(times) < 5):
            start = time.perf_counter()
            response = client.get(PROBE)
            times.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200 or not isinstance(response.json(), int):
                raise RuntimeError(f"/time answered {response.status_code}: {response.text[:200]}")
            time.sleep(gap)
    return times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# --- the loads -----------------------------------------------------------------------------------


def http_path(load: str, client: int, request: int, now: int, most: int, size: int) -> str:
    """The ``request``-th path of a load client; ``size`` bars (or days of marks) per answer."""
    if load == "marks":
        start = 0 if size >= 5_000 else now - size * 86_400  # 0: from the first day (the latest 5000 are marked)
        return f"{DATAFEED}/marks?symbol=AAPL&resolution=1D&from={start}&to={now}"
    if load == "history":
        return f"{DATAFEED}/history?symbol=AAPL&resolution=1&countback={size}&to={now}"
    # history-new: each request ends where the previous one began, each client in its own years.
    end = now - (client * (most + 1) + request) * size * MINUTE
    return f"{DATAFEED}/history?symbol=AAPL&resolution=1&countback={size}&to={end}"


def http_client(
    base: str, load: str, client: int, now: int, most: int, size: int, deadline: float, pipe: Connection
) -> None:
    """Loop requests until told to stop, ``most`` requests or the deadline; report what was answered."""
    statuses: dict[int, int] = {}
    counted = [0, 0]  # requests answered during the measured window, and refused among them
    window = False
    stopped = False
    with httpx.Client(base_url=base, timeout=120) as http:
        pipe.send("ready")
        for request in range(most):
            if pipe.poll():
                stopped = pipe.recv() == "stop"
                if stopped:
                    break
                window = True
            if time.monotonic() > deadline:
                break
            status = http.get(http_path(load, client, request, now, most, size)).status_code
            statuses[status] = statuses.get(status, 0) + 1
            if window:
                counted[0] += 1
                counted[1] += status != 200
    while not stopped:  # done early (the bounds): wait to be told, then report
        stopped = pipe.recv() == "stop"
    pipe.send((counted[0], counted[1], statuses))


class StreamClient(asyncio.Protocol):
    """A lean WebSocket client: sends its subscriptions and counts the frames it gets back by type
    without decoding them (a library client would cost the machine about what the server spends
    sending, see bench_streams.py); answers pings."""

    def __init__(self, request: bytes, tally: dict[str, int]) -> None:
        self.request = request
        self.tally = tally
        self.upgraded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.tally["closed"] += 1
        if not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError(f"the server closed the connection ({exc})"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[:end]).split(b"\r\n", 1)[0]
            del self.buffer[: end + 4]
            if b" 101 " not in status:
                self.upgraded.set_exception(RuntimeError(f"the handshake was refused: {status!r}"))
                return
            self.upgraded.set_result(None)
        buffer, size, pos = self.buffer, len(self.buffer), 0
        while size - pos >= 2:
            length, head = buffer[pos + 1] & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = int.from_bytes(buffer[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buffer[pos + 2 : pos + 10], "big"), 10
            end = pos + head + length
            if end > size:
                break
            opcode, start = buffer[pos] & 0x0F, pos + head
            if opcode == 1:
                kind = bytes(buffer[start : start + 40])
                if kind.startswith(b'{"type":"quotes.update"'):
                    self.tally["updates"] += 1
                elif kind.startswith(b'{"type":"quotes.subscribe.response"'):
                    self.tally["subscribed"] += 1
                else:
                    self.tally["errors"] += 1
            elif opcode == 9:
                self.send(0xA, bytes(buffer[start:end]))
            pos = end
        del buffer[:pos]

    def send(self, opcode: int, payload: bytes) -> None:
        assert self.transport is not None
        mask = os.urandom(4)
        size = len(payload)
        length = bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + size.to_bytes(2, "big")
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.transport.write(bytes([0x80 | opcode]) + length + mask + masked)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.send(0x8, (1000).to_bytes(2, "big"))
            self.transport.close()


def topics(first: int, count: int) -> list[list[str]]:
    """Sets of symbols numbered ``first`` to ``first + count - 1`` (bit i: ``TICKERS[i]``)."""
    return [[t for i, t in enumerate(TICKERS) if number >> i & 1] for number in range(first, first + count)]


async def _stream_clients(base: str, first: int, connections: int, per: int, deadline: float, pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    host, port = base.removeprefix("http://").split(":")
    tally = {"updates": 0, "subscribed": 0, "errors": 0, "closed": 0}
    clients: list[StreamClient] = []
    for _ in range(connections):
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {DATAFEED}/ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        _, client = await loop.create_connection(lambda r=request: StreamClient(r, tally), host, int(port))  # type: ignore[misc]
        await client.upgraded
        clients.append(client)
    for index, client in enumerate(clients):
        for symbols in topics(first + index * per, per):
            client.send(0x1, json.dumps({"type": "quotes.subscribe", "payload": {"symbols": symbols}}).encode())
    # The counts move in the protocols' callbacks; polling them is simpler than an event per count.
    while tally["subscribed"] + tally["errors"] < connections * per and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    pipe.send(("ready", dict(tally)))
    marks = []
    for _ in range(2):  # "start", then "stop"
        await loop.run_in_executor(None, pipe.recv)
        marks.append(dict(tally))
    pipe.send((marks[1]["updates"] - marks[0]["updates"], marks[1]["errors"], marks[1]["closed"]))
    for client in clients:
        client.close()
    await asyncio.sleep(0.1)


def stream_clients(base: str, first: int, connections: int, per: int, deadline: float, pipe: Connection) -> None:
    asyncio.run(_stream_clients(base, first, connections, per, deadline, pipe))


# --- one measurement -----------------------------------------------------------------------------


@dataclass
class Sample:
    idle: list[float]
    loaded: list[float]
    done: float
    """Load requests answered, or stream updates received, per second during the probe."""
    refused: int
    cpu: float
    """The server's CPU time over wall time during the probe (1.0: one core)."""


@dataclass
class Settings:
    probes: int
    window: float
    size: int
    gap: float
    warmup: float
    clients: int
    most: int
    connections: int
    per_connection: int
    processes: int
    timeout: float


def measure(server: Server, load: str, s: Settings) -> Sample:
    idle = probe(server.base, s.probes, s.gap, s.window)
    context = multiprocessing.get_context("spawn")
    deadline = time.monotonic() + s.timeout
    workers: list[tuple[Any, Connection]] = []
    now = int(time.time())
    try:
        if load == "quotes":
            shares = [s.connections // s.processes + (i < s.connections % s.processes) for i in range(s.processes)]
            first = 1
            for share in (n for n in shares if n):
                ours, theirs = context.Pipe()
                worker = context.Process(
                    target=stream_clients,
                    args=(server.base, first, share, s.per_connection, deadline, theirs),
                    daemon=True,
                )
                worker.start()
                workers.append((worker, ours))
                first += share * s.per_connection
            for _, pipe in workers:
                if not pipe.poll(s.timeout):
                    raise RuntimeError(f"{server.variant.name}: the stream clients did not subscribe in time")
                _, tally = pipe.recv()
                if tally["errors"] or tally["subscribed"] == 0:
                    raise RuntimeError(f"{server.variant.name}: subscriptions refused: {tally}")
            feeds = server.datafeed()["streams"]["feeds"]
            if feeds != s.connections * s.per_connection:
                raise RuntimeError(f"{server.variant.name}: {feeds} feeds, {s.connections * s.per_connection} asked")
        else:
            for client in range(s.clients):
                ours, theirs = context.Pipe()
                worker = context.Process(
                    target=http_client,
                    args=(server.base, load, client, now, s.most, s.size, deadline, theirs),
                    daemon=True,
                )
                worker.start()
                workers.append((worker, ours))
            for _, pipe in workers:
                if not pipe.poll(60) or pipe.recv() != "ready":
                    raise RuntimeError(f"{server.variant.name}: a load client did not start")
        time.sleep(s.warmup)
        for _, pipe in workers:
            pipe.send("start")
        cpu0, wall0 = server.cpu_seconds(), time.monotonic()
        loaded = probe(server.base, s.probes, s.gap, s.window)
        cpu1, wall1 = server.cpu_seconds(), time.monotonic()
        for _, pipe in workers:
            pipe.send("stop")
        done = refused = 0
        for _, pipe in workers:
            if not pipe.poll(s.timeout):
                raise RuntimeError(f"{server.variant.name}: a load client did not report")
            got, errors, *_ = pipe.recv()
            done += got
            refused += errors
    finally:
        for worker, _ in workers:
            worker.join(timeout=s.timeout)
            if worker.is_alive():
                worker.kill()
    if load == "quotes":
        server.wait_idle()
    wall = wall1 - wall0
    return Sample(idle, loaded, done / wall, refused, (cpu1 - cpu0) / wall)


# --- the run -------------------------------------------------------------------------------------

LOADS = {
    "marks": "2 clients looping a wide /marks",
    "history": "2 clients looping /history countback 5000 res. 1",
    "quotes": "40 WS clients x 100 quote topics",
    "history-new": "history, each request a new range",
}
ITEM_4 = ("marks", "history", "quotes")


@dataclass
class Results:
    samples: dict[tuple[str, str], list[Sample]] = field(default_factory=dict)


def report(results: Results, variants: list[str], loads: list[str], facts: dict[str, str]) -> bool:
    for key, value in facts.items():
        print(f"# {key}: {value}")
    print("# probe: GET /api/v1/datafeed/time, one keep-alive connection, sequential; milliseconds")
    print("# p50 x, p99 x: the median over rounds of the same-round ratio, loaded / idle; probes: under load")
    header = (
        f"{'load':<62} {'variant':<7} {'idle p50':>8} {'idle p99':>8} {'load p50':>8} {'load p99':>8} "
        f"{'p50 x':>7} {'p99 x':>7} {'probes':>6} {'load done/s':>11} {'refused':>7} {'CPU':>5}"
    )
    print(header)
    print("-" * len(header))
    met = True
    for load in loads:
        for variant in variants:
            found = results.samples.get((variant, load), [])
            if not found:
                continue
            idle50 = statistics.median(percentile(x.idle, 0.5) for x in found)
            idle99 = statistics.median(percentile(x.idle, 0.99) for x in found)
            load50 = statistics.median(percentile(x.loaded, 0.5) for x in found)
            load99 = statistics.median(percentile(x.loaded, 0.99) for x in found)
            r50 = statistics.median(percentile(x.loaded, 0.5) / percentile(x.idle, 0.5) for x in found)
            r99 = statistics.median(percentile(x.loaded, 0.99) / percentile(x.idle, 0.99) for x in found)
            done = statistics.median(x.done for x in found)
            refused = max(x.refused for x in found)
            cpu = statistics.median(x.cpu for x in found)
            probes = round(statistics.median(len(x.loaded) for x in found))
            unit = "upd" if load == "quotes" else "req"
            label = f"{load}: {LOADS[load]}" if variant == variants[0] else ""
            print(
                f"{label:<62} {variant:<7} {idle50:>8.1f} {idle99:>8.1f} {load50:>8.1f} {load99:>8.1f} "
                f"{r50:>6.1f}x {r99:>6.1f}x {probes:>6} {done:>7,.0f} {unit} {refused:>7} {cpu:>4.0%}"
            )
            if variant == "after" and load in ITEM_4:
                met = met and r99 <= GOAL
    if "after" in variants:
        verdict = "PASS" if met else "MISS"
        print(f"\ngoal (item 4): under marks, history and quotes, p99 of /time <= {GOAL:g}x idle: {verdict}")
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="CI smoke: small loads, short windows, one round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--probes", type=int, default=300, help="probe requests per window")
    parser.add_argument("--gap", type=float, default=0.01, help="seconds between two probe requests")
    parser.add_argument("--window", type=float, default=20.0, help="most seconds of probing per window")
    parser.add_argument("--loads", default=",".join(LOADS), help=f"comma-separated, of {', '.join(LOADS)}")
    parser.add_argument("--before-ref", default=BEFORE_REF, help="git commit of the 'before' datafeed")
    parser.add_argument("--no-before", action="store_true", help="measure the installed datafeed only")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    loads = [name.strip() for name in args.loads.split(",") if name.strip()]
    unknown = [name for name in loads if name not in LOADS]
    if unknown:
        parser.error(f"unknown loads {unknown}; choose among {', '.join(LOADS)}")
    if args.quick:
        s = Settings(
            probes=15,
            window=2.0,
            size=300,
            gap=0.01,
            warmup=0.2,
            clients=2,
            most=1_000,
            connections=2,
            per_connection=10,
            processes=1,
            timeout=60,
        )
        args.rounds = 1
        loads = [load for load in loads if load != "history-new"]
    else:
        s = Settings(
            probes=args.probes,
            window=args.window,
            size=5_000,
            gap=args.gap,
            warmup=3.0,
            clients=2,
            most=2_000,
            connections=40,
            per_connection=100,
            processes=4,
            timeout=300,
        )
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        variants = [Variant("after", None)]
        if not args.no_before:
            try:
                variants.insert(0, Variant("before", before_site(args.before_ref, Path(folder))))
            except (OSError, subprocess.CalledProcessError) as exc:
                if not args.quick:
                    raise
                print(f"# no 'before' variant: cannot take the datafeed of {args.before_ref} from git ({exc})")
        names = [v.name for v in variants]
        with ThreadPoolExecutor(len(variants)) as pool:  # start-ups overlap: a quick run stays quick
            servers = dict(zip(names, pool.map(start_server, variants), strict=True))
        results = Results()
        try:
            for round_number in range(args.rounds):
                order = [(v, load) for v in names for load in loads]
                random.Random(seed + round_number).shuffle(order)
                for variant, load in order:
                    sample = measure(servers[variant], load, s)
                    results.samples.setdefault((variant, load), []).append(sample)
                    print(
                        f"  round {round_number + 1}/{args.rounds} {variant:<6} {load:<11} "
                        f"idle p99 {percentile(sample.idle, 0.99):7.1f} ms, loaded p99 "
                        f"{percentile(sample.loaded, 0.99):8.1f} ms, load {sample.done:,.0f}/s",
                        flush=True,
                    )
        finally:
            for server in servers.values():
                server.stop()
    load_average = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    facts = {
        "bench_responsiveness": (
            f"python {platform.python_version()}, {os.cpu_count()} CPUs, {time.monotonic() - started:.0f} s, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, seed {seed}"
        ),
        "rounds": (
            f"{args.rounds}, {s.probes} probes {s.gap:g} s apart per window (at most {s.window:g} s), "
            f"after {s.warmup:g} s of warm-up"
        ),
        "before": f"trading-datafeed of {args.before_ref} on PYTHONPATH" if "before" in names else "not measured",
        "after": "the installed trading-datafeed",
        "load average at the end": load_average,
    }
    if args.quick:
        facts["quick"] = (
            f"small loads ({s.size} bars or days per request, {s.connections} WS clients x {s.per_connection} "
            "topics): a smoke test, the figures mean little"
        )
    report(results, names, loads, facts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
