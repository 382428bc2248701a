"""Start-up time: from process start to the first successful HTTP response, side by side in one run.

Each variant is a fresh ``python -m uvicorn ...`` process on a free port, polled with httpx until
it answers 200; the time is from just before the process is spawned to that answer. Rounds run
every variant once each, in a shuffled order; the table shows medians and the median of the
same-round ratios.

    floor       a bare ASGI app: what Python + uvicorn cost before any framework
    hand-core   a hand-written FastAPI app with the core module's routes (/api/{v1,v2}/core/...)
    host-core   ENABLED_MODULES=core uvicorn trading_host.main:app: real discovery of every
                installed package, core alone enabled, so the same routes as hand-core
    host-all    uvicorn trading_host.main:app: every installed module enabled (listed in the
                report; the routes differ from hand-core's as soon as more than core is installed)
    hand-items  a hand-written FastAPI app with the item routes of N module versions
    host-items  the host composing N synthetic module versions (given directly: no discovery)

Then, in fresh processes (one per round), the phases of the host's start-up timed in-process:
imports, ``discover()``, plan resolution, ``create_app()``, lifespan and first request; and the
same warm (repeated in one process).

    python benchmarks/bench_startup.py             # full run
    python benchmarks/bench_startup.py --quick     # CI smoke: 1 round, same tables
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__" and not __package__:
    sys.path.insert(0, str(ROOT))

# Variables the host reads; unset so every variant starts from the same, default, configuration.
HOST_VARIABLES = ("TRADING_CONFIG", "GLOBAL_VERSION", "ENABLED_MODULES", "MODULE_VERSION", "TRADING_API_PREFIX")


@dataclass
class Variant:
    key: str
    description: str
    target: list[str]
    path: str
    env: dict[str, str] = field(default_factory=dict)
    optional: bool = False
    """Reported as not measured, rather than failing the run, if it does not start."""
    samples: list[float] = field(default_factory=list)
    failure: str | None = None


def variants(layout_path: str) -> list[Variant]:
    return [
        Variant("floor", "bare ASGI app (Python + uvicorn)", ["benchmarks._startup_apps:floor"], "/"),
        Variant(
            "hand-core",
            "hand-written FastAPI, core's routes",
            ["--factory", "benchmarks._startup_apps:hand_core"],
            "/api/v1/core/health",
        ),
        Variant(
            "host-core",
            "ENABLED_MODULES=core trading_host.main:app",
            ["trading_host.main:app"],
            "/api/v1/core/health",
            {"ENABLED_MODULES": "core"},
        ),
        Variant(
            "host-all",
            "trading_host.main:app, all installed",
            ["trading_host.main:app"],
            "/api/v1/core/health",
            optional=True,
        ),
        Variant(
            "hand-items",
            "hand-written FastAPI, N versions' routes",
            ["--factory", "benchmarks._startup_apps:hand_items"],
            layout_path,
        ),
        Variant(
            "host-items",
            "host over N synthetic versions",
            ["--factory", "benchmarks._startup_apps:host_items"],
            layout_path,
        ),
    ]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def child_environment(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in HOST_VARIABLES and not k.startswith("TRADING_MODULES__")}
    env.update(extra)
    return env


def time_to_first_response(variant: Variant, env: dict[str, str], cwd: str, timeout: float) -> float:
    """Seconds from spawning ``uvicorn`` to its first 200 on ``variant.path``."""
    import httpx

    port = free_port()
    command = [sys.executable, "-m", "uvicorn", *variant.target, "--app-dir", str(ROOT)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    url = f"http://127.0.0.1:{port}{variant.path}"
    with httpx.Client(timeout=2.0) as client:
        start = time.perf_counter()
        environment = {**env, **variant.env}
        process = subprocess.Popen(command, env=environment, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            while True:
                try:
                    response = client.get(url)
                except httpx.TransportError:
                    response = None
                if response is not None and response.status_code == 200:
                    return time.perf_counter() - start
                if response is not None:
                    raise RuntimeError(f"{variant.key}: {url} answered {response.status_code}: {response.text[:200]}")
                if process.poll() is not None:
                    stderr = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"{variant.key} exited with {process.returncode} before answering:\n{stderr}")
                if time.perf_counter() - start > timeout:
                    raise RuntimeError(f"{variant.key} did not answer within {timeout} s")
                time.sleep(0.002)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stderr:
                process.stderr.close()


# --- in-process phases (run in a fresh child process: ``--phases``) --------------------------------


def _ms(seconds: float) -> float:
    return seconds * 1000


def phases(count: int, shape: str, warm_repeats: int) -> dict[str, Any]:
    """Times of the host's start-up phases in this (fresh) process, in milliseconds."""
    import asyncio

    result: dict[str, Any] = {}
    t = time.perf_counter()
    import fastapi  # noqa: F401

    result["import fastapi"] = _ms(time.perf_counter() - t)
    t = time.perf_counter()
    import trading_host

    result["import trading_host (after fastapi)"] = _ms(time.perf_counter() - t)

    before = set(sys.modules)
    t = time.perf_counter()
    installed = trading_host.discover()
    result["discover()"] = _ms(time.perf_counter() - t)
    imported = sorted(set(sys.modules) - before)
    result["modules imported by discover()"] = imported
    result["providers found"] = sorted(installed.providers)

    # Core alone enabled, as host-core: the same routes as the hand-written core app.
    factory = trading_host.AppFactory(installed=installed, environ={})
    before = set(sys.modules)
    t = time.perf_counter()
    plan = factory.plan(["core"])
    result["plan(core) (loads the enabled entry point)"] = _ms(time.perf_counter() - t)
    result["modules imported by plan(core)"] = sorted(m for m in set(sys.modules) - before if m.startswith("trading"))
    plan.raise_for_problems()
    t = time.perf_counter()
    app = factory.create_app(["core"])
    result["create_app(core) (resolves the plan again, composes)"] = _ms(time.perf_counter() - t)

    from benchmarks.bench_dispatch import Lifespan, Request, call

    async def first_request() -> int:
        async with Lifespan(app):
            exchange = await call(app, Request.make("GET", "/api/v1/core/health"))
            return exchange.status

    t = time.perf_counter()
    status = asyncio.run(first_request())
    result["lifespan + first request (in-process ASGI)"] = _ms(time.perf_counter() - t)
    if status != 200:
        raise RuntimeError(f"first request answered {status}")

    # Every installed module enabled, as host-all; reported, not required (a plugin may be broken).
    everything = trading_host.AppFactory(installed=installed, environ={})
    t = time.perf_counter()
    plan_all = everything.plan()
    result["plan() all installed (loads their entry points)"] = _ms(time.perf_counter() - t)
    result["problems with all installed"] = [f"{p.code}: {p.message}" for p in plan_all.problems]
    if not plan_all.problems:
        t = time.perf_counter()
        everything.create_app()
        result["create_app() all installed"] = _ms(time.perf_counter() - t)

    def warm(fn: Any) -> float:
        samples = []
        for _ in range(warm_repeats):
            t = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t)
        return _ms(statistics.median(samples))

    result["warm discover()"] = warm(trading_host.discover)
    result["warm plan(core) with discovery"] = warm(lambda: trading_host.AppFactory(environ={}).plan(["core"]))
    result["warm create_app(core) with discovery"] = warm(
        lambda: trading_host.AppFactory(environ={}).create_app(["core"])
    )

    from benchmarks._items import Layout, hand_written_flat_app
    from benchmarks._synthetic import host_factory, synthetic_apis

    layout = Layout.for_count(count, shape)
    t = time.perf_counter()
    synthetic_apis(layout.modules, layout.versions)
    result[f"N={count}: make synthetic classes"] = _ms(time.perf_counter() - t)
    with tempfile.TemporaryDirectory() as tmp:
        synthetic = host_factory(layout, Path(tmp))
        t = time.perf_counter()
        synthetic.plan().raise_for_problems()
        result[f"N={count}: plan()"] = _ms(time.perf_counter() - t)
        t = time.perf_counter()
        synthetic.create_app()
        result[f"N={count}: create_app()"] = _ms(time.perf_counter() - t)
        t = time.perf_counter()
        hand_written_flat_app(layout, docs=True)
        result[f"N={count}: hand-written app construction"] = _ms(time.perf_counter() - t)
        result[f"N={count}: warm plan()"] = warm(lambda: host_factory(layout, Path(tmp)).plan())
        result[f"N={count}: warm create_app()"] = warm(lambda: host_factory(layout, Path(tmp)).create_app())
        result[f"N={count}: warm hand-written app construction"] = warm(
            lambda: hand_written_flat_app(layout, docs=True)
        )
    return result


def run_phases(count: int, shape: str, warm_repeats: int, cwd: str) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--phases", "--count", str(count), "--shape", shape]
    command += ["--warm-repeats", str(warm_repeats)]
    done = subprocess.run(command, env=child_environment({}), cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"--phases failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# --- the run ---------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    from benchmarks._items import Layout

    layout = Layout.for_count(args.count, args.shape)
    g, m, _ = layout.mounted()[-1]
    rng = random.Random(args.seed)
    all_phases: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as cwd:
        env = child_environment(
            {"BENCH_STARTUP_COUNT": str(args.count), "BENCH_STARTUP_SHAPE": args.shape, "BENCH_STARTUP_CONFIG_DIR": cwd}
        )
        chosen = variants(f"/api/{g}/{m}/items/1")
        for variant in chosen:  # warm the file-system caches, check each variant answers
            measure(variant, env, cwd, args.timeout, keep=False)
        print(f"bench_startup: {len(chosen)} variants x {args.repeats} rounds", file=sys.stderr)
        started = time.perf_counter()
        for round_ in range(args.repeats):
            order = [v for v in chosen if v.failure is None]
            rng.shuffle(order)
            for variant in order:
                measure(variant, env, cwd, args.timeout)
            all_phases.append(run_phases(args.count, args.shape, args.warm_repeats, cwd))
            print(f"  round {round_ + 1}/{args.repeats} done", file=sys.stderr)
        elapsed = time.perf_counter() - started
    report(args, layout, {v.key: v for v in chosen}, all_phases, elapsed)
    return 0


def measure(variant: Variant, env: dict[str, str], cwd: str, timeout: float, *, keep: bool = True) -> None:
    try:
        seconds = time_to_first_response(variant, env, cwd, timeout)
    except RuntimeError as error:
        if not variant.optional:
            raise
        variant.failure = str(error).strip().splitlines()[-1]
        return
    if keep:
        variant.samples.append(seconds)


def paired(num: Variant, den: Variant) -> float:
    return statistics.median(a / b for a, b in zip(num.samples, den.samples, strict=True))


def report(
    args: argparse.Namespace,
    layout: Any,
    by_key: dict[str, Variant],
    all_phases: list[dict[str, Any]],
    elapsed: float,
) -> None:
    print(f"# bench_startup  (python {platform.python_version()}, {os.cpu_count()} CPUs, {elapsed:.0f} s)")
    print(f"# {args.repeats} rounds, every variant once per round in a shuffled order; wall-clock medians")
    print(f"# N={args.count}: {layout.describe()} (+ core v1 in each global version)")
    print()
    print("## process start -> first 200 (uvicorn, one worker)")
    header = f"{'variant':<11} {'what':<42} {'median ms':>10} {'min ms':>8} {'max ms':>8}"
    print(header)
    print("-" * len(header))
    for variant in by_key.values():
        if variant.failure is not None:
            print(f"{variant.key:<11} {variant.description:<42} not measured: {variant.failure}")
            continue
        s = [x * 1000 for x in variant.samples]
        print(f"{variant.key:<11} {variant.description:<42} {statistics.median(s):10.0f} {min(s):8.0f} {max(s):8.0f}")
    print()
    print("ratios (median of same-round ratios):")
    pairs = [("host-core", "hand-core"), ("host-items", "hand-items"), ("host-all", "hand-core")]
    pairs.append(("hand-core", "floor"))
    for num, den in pairs:
        if by_key[num].failure is None and by_key[den].failure is None:
            print(f"  {num} / {den}: {paired(by_key[num], by_key[den]):.3f}")
    floor = by_key["floor"]
    for num, den in (("host-core", "hand-core"), ("host-items", "hand-items")):
        above = statistics.median(
            (a - f) / (b - f) for a, b, f in zip(by_key[num].samples, by_key[den].samples, floor.samples, strict=True)
        )
        print(f"  ({num} - floor) / ({den} - floor): {above:.3f}")

    print()
    print(f"## host start-up phases in-process (fresh process per round; medians of {len(all_phases)}; ms)")
    keys = dict.fromkeys(k for p in all_phases for k, v in p.items() if isinstance(v, float))
    for key in keys:
        values = [p[key] for p in all_phases if key in p]
        print(f"  {key:<52} {statistics.median(values):8.2f}")
    last = all_phases[-1]
    print(f"  providers found: {', '.join(last['providers found']) or 'none'}")
    imported = last["modules imported by discover()"]
    print(f"  modules imported by discover(): {len(imported)} {imported if len(imported) <= 12 else imported[:12]}")
    print(f"  trading modules imported by plan(core): {', '.join(last['modules imported by plan(core)'])}")
    for problem in dict.fromkeys(q for p in all_phases for q in p["problems with all installed"]):
        print(f"  all installed, problem: {problem}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=9, help="rounds over every variant (default 9)")
    parser.add_argument("--count", type=int, default=100, help="N, mounted synthetic module versions (default 100)")
    parser.add_argument("--shape", choices=["versions", "modules"], default="versions", help="see bench_dispatch")
    parser.add_argument("--warm-repeats", type=int, default=10, help="repeats of each warm in-process phase")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for a first response")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="CI smoke: 1 round, 2 warm repeats")
    parser.add_argument("--phases", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.warm_repeats = 1, 2
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.phases:
        print(json.dumps(phases(args.count, args.shape, args.warm_repeats)))
        return 0
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
