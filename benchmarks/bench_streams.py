"""WebSocket update fan-out: one feed to 1, 100 and 1000 subscribers, side by side in one run.

A real server (``python -m uvicorn trading_host.main:app``, the datafeed module alone) streams the
``quotes`` of one symbol every ``stream_interval`` seconds; N clients (``websockets``, spread over
``--client-processes`` processes) all subscribe to that same topic, so one feed fans out to N
sockets. Each round runs every N once, in a shuffled order; per N the table shows the medians over
rounds of:

- delivered: update messages received per second by all clients together;
- per client: the same divided by N (with no loss, the feed's own rate);
- of feed: per-client rate over the rate one lone subscriber gets in the same round, so 100 %
  means every subscriber got every update the feed made;
- dropped: updates the server dropped under its overflow policy (from the clients' overflow
  notices), per second;
- server CPU: the server process's CPU time over the wall time, and its CPU microseconds per
  delivered message (the fan-out cost: flat when the cost is linear in subscribers).

It runs once per ``--intervals`` value, each on its own server: a paced feed (0.02 s, 50 updates a
second, which 1000 subscribers can still take) and a flat-out one (0.001 s) that saturates the
server, showing its ceiling in messages per second. After each N the server's health must show no
connection and no feed left, or the run fails: the benchmark checks that nothing leaks too.

Clients do not ask for compression (permessage-deflate), so the figures are the framework's cost,
not zlib's; ``--compression`` turns it on.

    python benchmarks/bench_streams.py            # full run
    python benchmarks/bench_streams.py --quick    # CI smoke: 1 and 10 subscribers, short windows
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

import httpx

HEALTH = "/api/v1/core/health"
STREAM = "/api/v1/datafeed/ws"
SUBSCRIBE = json.dumps({"type": "quotes.subscribe", "payload": {"symbols": ["AAPL"]}})
OVERFLOW_PREFIX = '{"type":"error"'


# --- the server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    folder: tempfile.TemporaryDirectory[str]

    @property
    def base(self) -> str:
        return f"127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the server process so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def streams(self) -> dict[str, int]:
        report: dict[str, int] = httpx.get(f"http://{self.base}{HEALTH}", timeout=5).json()["modules"]["datafeed"][
            "streams"
        ]
        return report

    def wait_idle(self, timeout: float = 30) -> None:
        """Wait for every connection and feed to be gone; fail if they are not."""
        deadline = time.monotonic() + timeout
        while (state := self.streams()) != {"connections": 0, "feeds": 0}:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server still holds {state} {timeout} s after every client left")
            time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.folder.cleanup()


def start_server(interval: float, queue_size: int) -> Server:
    folder = tempfile.TemporaryDirectory()
    config = Path(folder.name) / "trading.toml"
    # Never close a lagging client during the benchmark: count its drops instead.
    config.write_text(
        f"[modules.datafeed]\nstream_interval = {interval}\nstream_queue_size = {queue_size}\n"
        "stream_max_dropped = 1000000\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADING_") and k != "GLOBAL_VERSION"}
    env.update(ENABLED_MODULES="datafeed", TRADING_CONFIG=str(config))
    env.pop("MODULE_VERSION", None)
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "trading_host.main:app", "--port", str(port), "--log-level", "warning"]
    # No keepalive pings: a client lagging behind its updates would miss a pong and be cut off,
    # and the benchmark is about fan-out.
    command += ["--ws-ping-interval", "0"]
    process = subprocess.Popen(command, env=env, cwd=folder.name, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = Server(process, port, folder)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"the server exited with {process.returncode}:\n{stderr}")
        try:
            server.streams()
            return server
        except httpx.TransportError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError("the server did not answer within 30 s")


# --- client processes ----------------------------------------------------------------------------


@dataclass
class Tally:
    """What the clients of one process received."""

    received: int = 0
    dropped: int = 0


def _masked_frame(opcode: int, payload: bytes) -> bytes:
    """One client frame (RFC 6455 requires a client to mask what it sends)."""
    mask = os.urandom(4)
    size = len(payload)
    length = bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + size.to_bytes(2, "big")
    return bytes([0x80 | opcode]) + length + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class FrameCounter(asyncio.Protocol):
    """A WebSocket client that counts the frames it receives without decoding them.

    Written here rather than taken from a library on purpose: a client library parses, decodes and
    queues every message for ``recv()``, which costs about what the server spends sending it, so
    library clients sharing the machine would measure themselves, not the server's fan-out
    (``--client websockets`` shows that). The server sends unmasked, unfragmented text frames.
    """

    def __init__(self, tally: Tally, request: bytes) -> None:
        loop = asyncio.get_running_loop()
        self.tally = tally
        self.request = request
        self.upgraded: asyncio.Future[None] = loop.create_future()
        self.first: asyncio.Future[bytes] = loop.create_future()
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        for waiter in (self.upgraded, self.first):
            if not waiter.done():
                waiter.set_exception(ConnectionError(f"the server closed the connection ({exc})"))

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
        self._count()

    def _count(self) -> None:
        buffer, size, pos = self.buffer, len(self.buffer), 0
        overflow = OVERFLOW_PREFIX.encode()
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
            if buffer[pos] & 0x0F == 1:  # a text frame
                start = pos + head
                if not self.first.done():
                    self.first.set_result(bytes(buffer[start:end]))
                elif buffer[start : start + len(overflow)] == overflow:
                    self.tally.dropped += json.loads(bytes(buffer[start:end]))["payload"].get("dropped", 0)
                else:
                    self.tally.received += 1
            pos = end
        del buffer[:pos]

    def send_text(self, text: str) -> None:
        assert self.transport is not None
        self.transport.write(_masked_frame(0x1, text.encode()))

    def close(self) -> None:
        assert self.transport is not None
        self.transport.write(_masked_frame(0x8, (1000).to_bytes(2, "big")))
        self.transport.close()


async def _lean_clients(url: str, count: int, tally: Tally) -> Callable[[], Awaitable[None]]:
    loop = asyncio.get_running_loop()
    host, _, rest = url.removeprefix("ws://").partition(":")
    port, path = rest.split("/", 1)

    async def open_one() -> FrameCounter:
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /{path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        _, client = await loop.create_connection(lambda: FrameCounter(tally, request), host, int(port))
        await client.upgraded
        return client

    async def subscribe(client: FrameCounter) -> None:
        client.send_text(SUBSCRIBE)
        reply = json.loads(await client.first)
        if reply.get("type") != "quotes.subscribe.response":
            raise RuntimeError(f"unexpected reply to a subscription: {reply}")

    clients: list[FrameCounter] = []
    for first in range(0, count, 50):  # a burst of 1000 handshakes would overflow the listen backlog
        clients += await asyncio.gather(*(open_one() for _ in range(first, min(count, first + 50))))
    # Connect everyone first, then subscribe: the feed's fan-out would slow the handshakes down.
    await asyncio.gather(*(subscribe(client) for client in clients))

    async def close() -> None:
        for client in clients:
            client.close()

    return close


async def _library_clients(url: str, count: int, compression: bool, tally: Tally) -> Callable[[], Awaitable[None]]:
    from websockets.asyncio.client import ClientConnection, connect

    async def open_one() -> ClientConnection:
        return await connect(url, compression="deflate" if compression else None, ping_interval=None, open_timeout=120)

    async def subscribe(ws: ClientConnection) -> None:
        await ws.send(SUBSCRIBE)
        reply = json.loads(await ws.recv())
        if reply.get("type") != "quotes.subscribe.response":
            raise RuntimeError(f"unexpected reply to a subscription: {reply}")

    async def read(ws: ClientConnection) -> None:
        async for message in ws:
            assert isinstance(message, str)
            if message.startswith(OVERFLOW_PREFIX):
                tally.dropped += json.loads(message)["payload"].get("dropped", 0)
            else:
                tally.received += 1

    sockets: list[ClientConnection] = []
    for first in range(0, count, 50):
        sockets += await asyncio.gather(*(open_one() for _ in range(first, min(count, first + 50))))
    await asyncio.gather(*(subscribe(ws) for ws in sockets))
    readers = [asyncio.create_task(read(ws)) for ws in sockets]

    async def close() -> None:
        await asyncio.gather(*(ws.close() for ws in sockets))
        await asyncio.gather(*readers, return_exceptions=True)

    return close


async def _clients(kind: str, url: str, count: int, compression: bool, pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    tally = Tally()
    if kind == "lean":
        close = await _lean_clients(url, count, tally)
    else:
        close = await _library_clients(url, count, compression, tally)
    pipe.send("ready")
    marks: list[tuple[int, int, float]] = []
    for _ in range(2):  # "start", then "stop"
        await loop.run_in_executor(None, pipe.recv)
        marks.append((tally.received, tally.dropped, time.monotonic()))
    (r0, d0, t0), (r1, d1, t1) = marks
    pipe.send((r1 - r0, d1 - d0, t1 - t0))
    await close()


def client_process(kind: str, url: str, count: int, compression: bool, pipe: Connection) -> None:
    asyncio.run(_clients(kind, url, count, compression, pipe))


# --- measurement ---------------------------------------------------------------------------------


@dataclass
class Sample:
    delivered: float
    dropped: float
    server_cpu: float
    wall: float

    @property
    def cpu_per_message_us(self) -> float:
        return self.server_cpu / (self.delivered * self.wall) * 1e6 if self.delivered else float("nan")


@dataclass
class Results:
    samples: dict[int, list[Sample]] = field(default_factory=dict)
    fraction: dict[int, list[float]] = field(default_factory=dict)
    load: tuple[str, str] = ("", "")


def measure(server: Server, subscribers: int, seconds: float, processes: int, args: argparse.Namespace) -> Sample:
    url = f"ws://{server.base}{STREAM}"
    context = multiprocessing.get_context("spawn")
    shares = [subscribers // processes + (i < subscribers % processes) for i in range(processes)]
    workers = []
    for share in (s for s in shares if s):
        ours, theirs = context.Pipe()
        worker = context.Process(
            target=client_process, args=(args.client, url, share, args.compression, theirs), daemon=True
        )
        worker.start()
        workers.append((worker, ours))
    try:
        for _worker, pipe in workers:
            if not pipe.poll(120):
                raise RuntimeError(f"a client process did not connect its {subscribers} subscribers in time")
            if pipe.recv() != "ready":
                raise RuntimeError("a client process failed")
        state = server.streams()
        if state != {"connections": subscribers, "feeds": 1}:
            raise RuntimeError(f"expected {subscribers} connections sharing one feed, the server reports {state}")
        time.sleep(min(1.0, seconds / 2))  # warm-up
        cpu0, wall0 = server.cpu_seconds(), time.monotonic()
        for _, pipe in workers:
            pipe.send("start")
        time.sleep(seconds)
        for _, pipe in workers:
            pipe.send("stop")
        cpu1, wall1 = server.cpu_seconds(), time.monotonic()
        received = dropped = 0
        for _, pipe in workers:
            got, lost, _elapsed = pipe.recv()
            received += got
            dropped += lost
    finally:
        for worker, _ in workers:
            worker.join(timeout=60)
            if worker.is_alive():
                worker.kill()
    server.wait_idle()
    wall = wall1 - wall0
    return Sample(delivered=received / wall, dropped=dropped / wall, server_cpu=cpu1 - cpu0, wall=wall)


def run_interval(args: argparse.Namespace, interval: float, sizes: list[int]) -> Results:
    server = start_server(interval, args.queue_size)
    results = Results()
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    try:
        for round_number in range(args.rounds):
            order = sizes[:]
            random.Random(args.seed + round_number).shuffle(order)
            round_samples = {}
            for n in order:
                processes = 1 if n < 50 else args.client_processes
                sample = measure(server, n, args.seconds, processes, args)
                round_samples[n] = sample
                results.samples.setdefault(n, []).append(sample)
                print(
                    f"  interval {interval:g} s, round {round_number + 1}, {n:>5} subscribers: "
                    f"{sample.delivered:>10,.0f} msg/s delivered, {sample.dropped:,.0f} dropped/s",
                    flush=True,
                )
            lone = round_samples[min(sizes)].delivered / min(sizes)
            for n, sample in round_samples.items():
                results.fraction.setdefault(n, []).append(sample.delivered / n / lone if lone else float("nan"))
    finally:
        server.stop()
    results.load = (" ".join(load_before), " ".join(Path("/proc/loadavg").read_text().split()[:3]))
    return results


COLUMNS = (
    ("subscribers", 11),
    ("delivered msg/s", 15),
    ("per client/s", 12),
    ("of feed", 7),
    ("dropped/s", 9),
    ("server CPU", 10),
    ("CPU us/msg", 10),
    ("x msg/s vs first", 16),
    ("x us/msg vs prev", 16),
)


def report(interval: float, sizes: list[int], results: Results) -> None:
    rounds = len(results.fraction[sizes[0]])
    print(f"\nfeed every {interval:g} s ({1 / interval:,.0f} updates/s asked), medians of {rounds} rounds")
    print(f"load average before and after: {results.load[0]} / {results.load[1]}")
    header = " | ".join(f"{name:>{width}}" for name, width in COLUMNS)
    print(header)
    print("-" * len(header))
    base_delivered = statistics.median(s.delivered for s in results.samples[sizes[0]])
    previous_cost = float("nan")
    for n in sizes:
        samples = results.samples[n]
        delivered = statistics.median(s.delivered for s in samples)
        cost = statistics.median(s.cpu_per_message_us for s in samples)
        cells = (
            f"{n}",
            f"{delivered:,.0f}",
            f"{delivered / n:,.1f}",
            f"{statistics.median(results.fraction[n]):.1%}",
            f"{statistics.median(s.dropped for s in samples):,.0f}",
            f"{statistics.median(s.server_cpu / s.wall for s in samples):.0%}",
            f"{cost:.1f}",
            f"{delivered / base_delivered:.1f}" if base_delivered else "-",
            # A short window can measure no server CPU at all (quick mode): no ratio to show then.
            "-" if n == sizes[0] or previous_cost == 0 else f"{cost / previous_cost:.2f}",
        )
        previous_cost = cost
        print(" | ".join(f"{cell:>{width}}" for cell, (_, width) in zip(cells, COLUMNS, strict=True)))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,100,1000", help="subscriber counts, comma-separated")
    parser.add_argument("--intervals", default="0.02,0.001", help="the feed's stream_interval values (s)")
    parser.add_argument("--seconds", type=float, default=3.0, help="measured window per size")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--client-processes", type=int, default=2, help="processes sharing the clients (N >= 50)")
    parser.add_argument("--queue-size", type=int, default=256, help="the server's stream_queue_size")
    parser.add_argument(
        "--client",
        choices=["lean", "websockets"],
        default="lean",
        help="frame-counting clients, or the websockets library",
    )
    parser.add_argument("--compression", action="store_true", help="websockets clients ask for permessage-deflate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="CI smoke: 1 and 10 subscribers, 1 round, short windows")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.intervals, args.seconds, args.rounds = "1,10", "0.02", 0.5, 1
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",")})
    intervals = [float(i) for i in args.intervals.split(",")]
    compression = "on" if args.compression else "off"
    print(
        f"bench_streams: {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"sizes {sizes}, {args.seconds:g} s windows, {args.rounds} rounds, {args.client} clients, "
        f"compression {compression}"
    )
    for interval in intervals:
        results = run_interval(args, interval, sizes)
        report(interval, sizes, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
