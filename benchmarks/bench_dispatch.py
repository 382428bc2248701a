"""Per-request cost through the host, side by side with a hand-written FastAPI app, in one run.

Variants, all driven in-process by the same minimal ASGI call loop (no server, no sockets):

(a) hand   one plain FastAPI app with the item routes written directly on it (@app.get/@app.post);
           built twice, so the ratio of the two identical apps, (a2)/(a), shows the noise floor
(b) host   the host (``AppFactory.create_app``) composing core v1 and N synthetic module versions,
           configured as by default (so with usage metrics on)
(b0)       the same host with ``[metrics] enabled = false``: what dispatch alone costs
(c) flat   one FastAPI app with every module version's router added by ``include_router(prefix=)``
(d) mounts one FastAPI app with ``app.mount(prefix, router)`` per module version

Each of (b), (b0), (c), (d) is built at N = 1, 10 and 100 mounted module versions and asked for the
first, a middle and the last synthetic module version of its table, so a list scan cannot hide.
Every variant's lifespan is run (and the host's is checked to have started the modules).

Blocks of ``--iterations`` requests are timed per variant; ``--repeats`` rounds run every variant
once each, in a shuffled order, so drift on a shared machine hits all variants alike. The table
shows each variant's median microseconds per request; a ratio is the median over rounds of the
ratio of the two variants' blocks in the same round, where (a)'s block in a round is the mean of
the two identical hand-written apps' blocks.

    python benchmarks/bench_dispatch.py            # full run
    python benchmarks/bench_dispatch.py --quick    # CI smoke: few iterations, same table
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

if __name__ == "__main__" and not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from benchmarks._items import Layout, hand_written_app
from benchmarks._synthetic import flat_app, host_factory, mounts_app

GOAL_HOST_VS_HAND = 1.05
GOAL_HOST_SCALING = 1.10

# --- the driver: one ASGI http call per request, the same for every variant ---------------------


class Exchange:
    """One request's receive/send pair: hands over the body once, keeps the status and body."""

    __slots__ = ("body", "received", "response_body", "status")

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.received = False
        self.status = 0
        self.response_body = b""

    async def receive(self) -> Message:
        if self.received:
            return {"type": "http.disconnect"}
        self.received = True
        return {"type": "http.request", "body": self.body, "more_body": False}

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body":
            self.response_body += message.get("body", b"")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes = b""
    scope: Scope = field(default_factory=dict, compare=False)

    @classmethod
    def make(cls, method: str, path: str, json_body: Any = None) -> Request:
        body = b"" if json_body is None else json.dumps(json_body).encode()
        headers = [(b"host", b"bench"), (b"user-agent", b"bench-dispatch"), (b"accept", b"*/*")]
        if json_body is not None:
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        return cls(method, path, body, scope)


async def call(app: ASGIApp, request: Request) -> Exchange:
    exchange = Exchange(request.body)
    await app({**request.scope, "state": {}}, exchange.receive, exchange.send)
    return exchange


CLOCKS = {"cpu": time.thread_time_ns, "wall": time.perf_counter_ns}


async def timed_block(
    app: ASGIApp, request: Request, status: int, iterations: int, clock: Callable[[], int] = time.thread_time_ns
) -> tuple[float, int]:
    """Nanoseconds per request over ``iterations`` requests, and how many got another status."""
    scope, body = request.scope, request.body
    bad = 0
    start = clock()
    for _ in range(iterations):
        exchange = Exchange(body)
        await app({**scope, "state": {}}, exchange.receive, exchange.send)
        if exchange.status != status:
            bad += 1
    elapsed = clock() - start
    return elapsed / iterations, bad


class Lifespan:
    """Runs an ASGI app's lifespan protocol: startup on enter, shutdown on exit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.to_app: asyncio.Queue[Message] = asyncio.Queue()
        self.from_app: asyncio.Queue[Message] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def _send(self, message: Message) -> None:
        await self.from_app.put(message)

    async def _run(self, scope: Scope) -> None:
        await self.app(scope, self.to_app.get, self._send)

    async def __aenter__(self) -> Lifespan:
        scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        self.task = asyncio.create_task(self._run(scope))
        await self.to_app.put({"type": "lifespan.startup"})
        message = await self.from_app.get()
        if message["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"lifespan startup failed: {message}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.to_app.put({"type": "lifespan.shutdown"})
        message = await self.from_app.get()
        if message["type"] != "lifespan.shutdown.complete":
            raise RuntimeError(f"lifespan shutdown failed: {message}")
        assert self.task is not None
        await self.task


async def null_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The driver's own cost: an ASGI app that answers without routing or validation."""
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


# --- the variants ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    method: str
    status: int

    def request(self, g: str, m: str) -> Request:
        if self.method == "GET":
            return Request.make("GET", f"/api/{g}/{m}/items/42")
        return Request.make("POST", f"/api/{g}/{m}/items", {"name": "widget", "price": 12.5})

    def expected(self, m: str, v: str) -> dict[str, Any]:
        if self.method == "GET":
            return {"id": 42, "name": "item 42", "price": 9.5, "module": m, "version": v}
        return {"id": 1, "name": "widget", "price": 12.5, "module": m, "version": v}


ENDPOINTS = (
    Endpoint("get", "GET /api/{g}/{module}/items/{item_id}", "GET", 200),
    Endpoint("post", "POST /api/{g}/{module}/items (JSON body)", "POST", 201),
)
KINDS = ("host", "host0", "flat", "mounts")
HEADINGS = {"host": "(b) host", "host0": "(b0) -metrics", "flat": "(c) flat", "mounts": "(d) mounts"}
SHORT = {"host": "b", "host0": "b0", "flat": "c", "mounts": "d"}


@dataclass
class Variant:
    kind: str
    n: int
    position: str
    target: tuple[str, str, str]
    endpoint: Endpoint
    app: ASGIApp
    request: Request
    samples: list[float] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, int, str, str]:
        return (self.kind, self.n, self.position, self.endpoint.key)


def positions(layout: Layout) -> list[tuple[str, tuple[str, str, str]]]:
    mounted = layout.mounted()
    if len(mounted) == 1:
        return [("first", mounted[0])]
    return [("first", mounted[0]), ("middle", mounted[len(mounted) // 2]), ("last", mounted[-1])]


async def check_response(variant: Variant) -> None:
    exchange = await call(variant.app, variant.request)
    _, m, v = variant.target
    if exchange.status != variant.endpoint.status:
        raise RuntimeError(f"{variant.key}: status {exchange.status}: {exchange.response_body!r}")
    body = json.loads(exchange.response_body)
    if body != variant.endpoint.expected(m, v):
        raise RuntimeError(f"{variant.key}: unexpected body {body}")


def median_ratio(num: Variant, den: Variant) -> float:
    return statistics.median(a / b for a, b in zip(num.samples, den.samples, strict=True))


def fmt_us(ns: float) -> str:
    return f"{ns / 1000:8.1f}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


async def run(args: argparse.Namespace) -> int:
    sizes: list[int] = args.sizes
    layouts = {n: Layout.for_count(n, args.shape) for n in sizes}
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="bench-dispatch-") as tmp:
        # (a) twice: two identical apps, so (a2)/(a) shows what ratio noise alone gives (an A/A test).
        apps: dict[tuple[str, int], ASGIApp] = {("hand", 0): hand_written_app(), ("hand2", 0): hand_written_app()}
        hosts = {n: host_factory(layout, Path(tmp)) for n, layout in layouts.items()}
        for n, layout in layouts.items():
            apps[("host", n)] = hosts[n].create_app()
            apps[("host0", n)] = host_factory(layout, Path(tmp), metrics=False).create_app()
            apps[("flat", n)] = flat_app(layout)
            apps[("mounts", n)] = mounts_app(layout)

        variants: list[Variant] = []
        for endpoint in ENDPOINTS:
            first = ("v1", "mod000", "v1")
            for hand in ("hand", "hand2"):
                req = endpoint.request("v1", "mod000")
                variants.append(Variant(hand, 0, "first", first, endpoint, apps[(hand, 0)], req))
            for n, layout in layouts.items():
                for kind in KINDS:
                    for position, target in positions(layout):
                        g, m, _ = target
                        req = endpoint.request(g, m)
                        variants.append(Variant(kind, n, position, target, endpoint, apps[(kind, n)], req))
        null = Variant("null", 0, "-", ("v1", "mod000", "v1"), ENDPOINTS[0], null_app, ENDPOINTS[0].request("v1", "x"))

        lifespans = [Lifespan(app) for app in apps.values()]
        for lifespan in lifespans:
            await lifespan.__aenter__()
        try:
            for n, factory in hosts.items():  # the host ran every synthetic module's lifespan
                modules = factory.runtime.modules.values()
                running = [m for m in modules if getattr(m, "running", None) is True]
                if len(running) != layouts[n].modules:
                    raise RuntimeError(f"host at N={n}: {len(running)} of {layouts[n].modules} modules started")
            for variant in variants:
                await check_response(variant)
                for _ in range(args.warmup):
                    await call(variant.app, variant.request)
            # Everything built so far lives for the whole run: keep it out of the collector's scans,
            # so a collection in a timed block costs the same whatever apps exist (as in a server).
            gc.collect()
            gc.freeze()

            print(
                f"bench_dispatch: {len(variants)} variants, {args.repeats} rounds x {args.iterations} requests "
                f"per variant (warm-up {args.warmup}), shape '{args.shape}'",
                file=sys.stderr,
            )
            started = time.perf_counter()
            bad_total = 0
            order = [*variants, null]
            for round_ in range(args.repeats):
                rng.shuffle(order)
                for variant in order:
                    gc.collect()
                    ns, bad = await timed_block(
                        variant.app, variant.request, variant.endpoint.status, args.iterations, CLOCKS[args.clock]
                    )
                    variant.samples.append(ns)
                    bad_total += bad
                print(f"  round {round_ + 1}/{args.repeats} done", file=sys.stderr)
            elapsed = time.perf_counter() - started
        finally:
            for lifespan in reversed(lifespans):
                await lifespan.__aexit__(None, None, None)
    if bad_total:
        print(f"ERROR: {bad_total} requests got an unexpected status", file=sys.stderr)
        return 1

    report(args, layouts, variants, null, elapsed)
    return 0


def report(
    args: argparse.Namespace, layouts: dict[int, Layout], variants: list[Variant], null: Variant, elapsed: float
) -> None:
    by_key = {v.key: v for v in variants}
    sizes = list(layouts)
    n1, n_max = sizes[0], sizes[-1]
    print(f"# bench_dispatch  (python {platform.python_version()}, {os.cpu_count()} CPUs, {elapsed:.0f} s of timing)")
    print(f"# {args.repeats} rounds x {args.iterations} requests per variant, shuffled round-robin; median us/request")
    print("# a ratio is the median over rounds of the two variants' same-round ratio")
    for n, layout in layouts.items():
        print(f"# N={n}: {layout.describe()} (+ core v1 in each global version)")
    print(f"# driver overhead (null ASGI app): {statistics.median(null.samples) / 1000:.1f} us/request")

    failures: list[str] = []
    vs_hand: dict[str, list[float]] = {"host": [], "host0": []}
    scaling: dict[str, list[float]] = {"host": [], "host0": []}
    for endpoint in ENDPOINTS:
        hand1 = by_key[("hand", 0, "first", endpoint.key)]
        hand2 = by_key[("hand2", 0, "first", endpoint.key)]
        # The baseline of a round is the mean of the two identical hand-written apps' blocks.
        hand = replace(hand1, samples=[(x + y) / 2 for x, y in zip(hand1.samples, hand2.samples, strict=True)])
        print()
        print(f"## {endpoint.label}")
        print(
            f"(a) hand-written: {statistics.median(hand.samples) / 1000:.1f} us/request (per round, the mean of two "
            f"identical apps); A/A noise floor: (a2)/(a1) = {median_ratio(hand2, hand1):.3f}"
        )
        print()
        header = f"{'N':>4} {'position':<8} {'target':<16} " + " ".join(f"{HEADINGS[k]:>13}" for k in KINDS)
        header += " " + " ".join(f"{SHORT[k] + '/a':>6}" for k in KINDS)
        print(header)
        print("-" * len(header))
        for n, layout in layouts.items():
            for position, (g, m, v) in positions(layout):
                row = {kind: by_key[(kind, n, position, endpoint.key)] for kind in KINDS}
                ratios = {kind: median_ratio(row[kind], hand) for kind in KINDS}
                for kind in ("host", "host0"):
                    vs_hand[kind].append(ratios[kind])
                    if kind == "host" and ratios[kind] > GOAL_HOST_VS_HAND:
                        failures.append(f"(b)/(a) = {ratios[kind]:.3f} at N={n} {position} ({endpoint.key})")
                line = f"{n:>4} {position:<8} {g + '/' + m + ' ' + v:<16} "
                line += " ".join(f"{fmt_us(statistics.median(row[k].samples)):>13}" for k in KINDS)
                line += " " + " ".join(f"{ratios[k]:6.3f}" for k in KINDS)
                print(line)
        print()
        print(f"scaling, N={n_max} against N={n1} (first): " + " ".join(f"{HEADINGS[k]:>13}" for k in KINDS))
        for position, _ in positions(layouts[n_max]):
            ratios = {
                kind: median_ratio(
                    by_key[(kind, n_max, position, endpoint.key)], by_key[(kind, n1, "first", endpoint.key)]
                )
                for kind in KINDS
            }
            for kind in ("host", "host0"):
                scaling[kind].append(ratios[kind])
            if ratios["host"] > GOAL_HOST_SCALING:
                failures.append(f"(b@{n_max})/(b@{n1}) = {ratios['host']:.3f} at {position} ({endpoint.key})")
            print(f"  {position:<33} " + " ".join(f"{ratios[k]:12.3f}x" for k in KINDS))

    print()
    print("## goals (for (b), the host as configured by default; (b0), metrics off, for reference)")
    worst = {kind: max(vs_hand[kind]) for kind in vs_hand}
    worst_scaling = {kind: max(scaling[kind]) for kind in scaling}
    print(
        f"{verdict(worst['host'] <= GOAL_HOST_VS_HAND)}  (b) <= {GOAL_HOST_VS_HAND}x (a) at every N: "
        f"worst (b)/(a) = {worst['host']:.3f}, median {statistics.median(vs_hand['host']):.3f} "
        f"[(b0)/(a): worst {worst['host0']:.3f}, median {statistics.median(vs_hand['host0']):.3f}]"
    )
    print(
        f"{verdict(worst_scaling['host'] <= GOAL_HOST_SCALING)}  (b@{n_max}) <= {GOAL_HOST_SCALING}x (b@{n1}): "
        f"worst = {worst_scaling['host']:.3f} [(b0): worst {worst_scaling['host0']:.3f}]"
    )
    for failure in failures:
        print(f"  missed: {failure}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=200, help="requests per timed block (default 200)")
    parser.add_argument("--repeats", type=int, default=61, help="rounds over every variant (default 61)")
    parser.add_argument("--warmup", type=int, default=200, help="untimed requests per variant first (default 200)")
    parser.add_argument(
        "--sizes",
        type=lambda s: sorted({int(x) for x in s.split(",")}),
        default=[1, 10, 100],
        help="mounted module versions, comma-separated (default 1,10,100)",
    )
    parser.add_argument(
        "--shape",
        choices=["versions", "modules"],
        default="versions",
        help="'versions': N/2 modules x 2 versions over global v1, v2 (default); 'modules': N modules at v1",
    )
    parser.add_argument(
        "--clock",
        choices=list(CLOCKS),
        default="cpu",
        help="'cpu': this thread's CPU time, blind to other processes on a shared machine (default); 'wall'",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the shuffled order (default 1)")
    parser.add_argument("--quick", action="store_true", help="CI smoke: 3 rounds x 50 requests, warm-up 20")
    args = parser.parse_args(argv)
    if args.quick:
        args.iterations, args.repeats, args.warmup = 50, 3, 20
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
