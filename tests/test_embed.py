"""The composed API inside a user's own FastAPI app: their routes, middleware and lifespan and ours."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_plugins import plugin
from harness import BIN, Serve, with_pythonpath

USER_APP = """
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from trading_host import embed


def record(event):
    with open(os.environ["LIFESPAN_LOG"], "a") as f:
        f.write(event + "\\n")


@asynccontextmanager
async def lifespan(app):
    record("start user")
    yield {"greeting": "hello"}
    record("stop user")


app = FastAPI(lifespan=lifespan)


@app.middleware("http")
async def stamp(request: Request, call_next):
    response = await call_next(request)
    response.headers["X-User-Middleware"] = "yes"
    return response


@app.get("/hello")
async def hello(request: Request) -> dict[str, str]:
    return {"greeting": request.state.greeting}


embed(app, prefix="/trading")
"""

# Only core and the gadget plugin are enabled: no installed module takes part.
pytestmark = pytest.mark.independent


def test_embedded_under_a_prefix(serve: Serve, tmp_path: Path) -> None:
    site = tmp_path / "site"
    plugin(site, "gadget", ["v1"])
    (site / "user_app.py").write_text(USER_APP)
    log = tmp_path / "lifespan.log"
    server = serve(
        [str(BIN / "uvicorn"), "user_app:app", "--port", "{port}"],
        env=with_pythonpath(site, LIFESPAN_LOG=str(log), ENABLED_MODULES="gadget"),
        ready_path="/trading/v1/core/health",
    )
    hello = server.get("/hello")
    assert hello.json() == {"greeting": "hello"}  # the user's lifespan state still reaches their routes
    assert hello.headers["X-User-Middleware"] == "yes"
    ping = server.get("/trading/v1/gadget/ping")
    assert ping.status_code == 200
    assert ping.headers["X-User-Middleware"] == "yes"
    assert server.get("/trading/v2/gadget/ping").json()["module"] == "gadget"
    assert server.get("/trading/api/v1/gadget/ping").status_code == 404  # no doubled prefix
    assert server.get("/api/v1/gadget/ping").status_code == 404
    assert server.get("/trading/v1/docs").status_code == 200
    spec = server.get("/trading/v1/openapi.json").json()
    assert "/trading/v1/gadget/ping" in spec["paths"]
    not_served = server.get("/trading/v9/gadget/ping")
    assert not_served.status_code == 404
    assert set(not_served.json()["served"]["global_versions"]) == {"v1", "v2"}
    server.stop()
    events = [" ".join(line.split()[:2]) for line in log.read_text().splitlines()]
    assert events == ["start gadget", "start user", "stop user", "stop gadget"]
