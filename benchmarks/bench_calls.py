"""Python function calls per request: the host against a hand-written FastAPI app, counted exactly.

Timings on a shared machine move by a few percent from run to run (see bench_dispatch.py's A/A
ratio); a count of the Python calls a request makes does not move at all, so it shows what the host
adds to a request with no noise. The variants are bench_dispatch.py's: (a) hand-written, (b0) the
host with metrics off, (b) the host as configured by default, at 1 and 100 mounted module versions,
for the last module version of the table. The calls the host adds are listed by function.

    python benchmarks/bench_calls.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

if __name__ == "__main__" and not __package__:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi import FastAPI

from benchmarks._items import Layout, hand_written_app
from benchmarks._synthetic import host_factory
from benchmarks.bench_dispatch import Request, call

Calls = Counter[tuple[str, str]]


def _where(frame: FrameType) -> tuple[str, str]:
    filename = frame.f_code.co_filename
    for marker in ("site-packages/", "/src/"):
        filename = filename.rpartition(marker)[2] or filename
    return filename, frame.f_code.co_name


async def count_calls(app: FastAPI, request: Request, status: int) -> Calls:
    """The calls one request makes, after warm-up requests (so that caches are filled)."""
    calls: Calls = Counter()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            calls[_where(frame)] += 1

    async with app.router.lifespan_context(app):
        for _ in range(3):
            exchange = await call(app, request)
            assert exchange.status == status, (exchange.status, exchange.body)
        sys.setprofile(profile)
        try:
            exchange = await call(app, request)
        finally:
            sys.setprofile(None)
    assert exchange.status == status
    return calls


async def run() -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-calls-"))
    requests = [
        ("GET", Request.make("GET", "/api/v1/mod000/items/3"), 200),
        ("POST", Request.make("POST", "/api/v1/mod000/items", {"name": "x", "price": 1.5}), 201),
    ]
    for label, request, status in requests:
        hand = await count_calls(hand_written_app(), request, status)
        print(f"## {label} {request.path}: (a) hand-written: {sum(hand.values())} calls")
        for count in (1, 100):
            layout = Layout.for_count(count, "modules")
            target = Request.make(request.method, request.path.replace("mod000", f"mod{count - 1:03d}"), None)
            target = Request(request.method, target.path, request.body, {**request.scope, "path": target.path})
            for name, metrics in (("(b0) host, metrics off", False), ("(b) host, default", True)):
                folder = root / f"{label}-{count}-{metrics}"
                folder.mkdir()
                app = host_factory(layout, folder, metrics=metrics).create_app()
                calls = await count_calls(app, target, status)
                total, base = sum(calls.values()), sum(hand.values())
                added = {k: v - hand.get(k, 0) for k, v in calls.items() if v != hand.get(k, 0)}
                print(f"   N={count:<3} {name:<24} {total} calls ({total / base:.3f}x): +{total - base}")
                for (filename, function), n in sorted(added.items(), key=lambda kv: (-kv[1], kv[0])):
                    print(f"        {n:+d}  {filename}:{function}")


if __name__ == "__main__":
    asyncio.run(run())
