"""Issue 8, the host's part, on real uvicorn servers started as a user starts them (``trading-host
serve``, ``uvicorn trading_host.main:app``, a user's app that embeds the API): every fault answers
with a status and a body, bodies and WebSocket messages are bounded, credentials stay out of the log
however they are encoded, and a module that cannot start says so in one message.

Most tests serve ``echo``, a plugin written here (so they run with any combination of installed
packages); those marked with a module exercise the real broker and datafeed. Both kinds are
``independent`` (tests/conftest.py), but for the redaction test that serves every installed module.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import forked
import httpx
import pytest
from harness import BIN, Server, clean_env, free_port, start_server, with_pythonpath, write_distribution
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

ECHO_MODULE = """
import os
from contextlib import asynccontextmanager

from fastapi import WebSocket
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.responses import JSONResponse

from trading_core import Module, ModuleApi


class Thing(BaseModel):
    name: str
    size: float = 1.0


class EchoModule(Module):
    name = "echo"

    @asynccontextmanager
    async def lifespan(self):
        failure = os.environ.get("ECHO_FAIL")
        if failure == "typed":
            from trading_core import ModuleStartupError

            raise ModuleStartupError(
                "cannot reach the echo chamber at 127.0.0.1:5999 (connection refused)",
                "start the echo chamber, or point [modules.echo] at another one",
            )
        if failure == "untyped":
            raise ConnectionRefusedError(111, "Connection refused")
        yield


async def own_validation_errors(request, exc: RequestValidationError):
    # A version's own answer (as the datafeed's UDF errors), echoing the inputs it was given.
    return JSONResponse({"s": "error", "inputs": [e.get("input") for e in exc.errors()]}, status_code=422)


def routes(api):
    @api.post("/things", status_code=201)
    async def add(thing: Thing) -> Thing:
        return thing

    @api.get("/things/{key}")
    async def get(key: str) -> dict:
        return {"key": key}

    @api.patch("/things/{key}")
    async def modify(key: str, thing: Thing) -> Thing:
        return thing

    @api.delete("/things/{key}")
    async def remove(key: str) -> dict:
        return {"removed": key}

    @api.get("/bug")
    async def bug() -> dict:
        raise RuntimeError("a bug in the echo module")

    @api.websocket("/ws")
    async def lengths(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            text = await websocket.receive_text()
            await websocket.send_text(str(len(text)))
"""

ECHO_V1 = """
from trading_core import ModuleApi

from ..._module import EchoModule, routes


class EchoApi(ModuleApi):
    module = EchoModule
    version = "v1"

    def __init__(self, module):
        super().__init__(module)
        routes(self)
"""

ECHO_V2 = """
from fastapi.exceptions import RequestValidationError
from trading_core import ModuleApi

from ..._module import EchoModule, own_validation_errors, routes


class EchoApi(ModuleApi):
    module = EchoModule
    version = "v2"

    def __init__(self, module):
        super().__init__(module)
        self.add_exception_handler(RequestValidationError, own_validation_errors)
        routes(self)
"""

USER_APP = """
from fastapi import FastAPI
from trading_host import embed

app = FastAPI()
embed(app, prefix="/trading")
"""

JSON = {"content-type": "application/json"}
NON_FINITE = [(b"NaN", "NaN"), (b"Infinity", "Infinity"), (b"-Infinity", "-Infinity"), (b"1e400", "Infinity")]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for PYTHONPATH holding the echo plugin, installed (v1 and v2), and a user's app."""
    root = tmp_path_factory.mktemp("site")
    write_distribution(
        root,
        "echo-plugin",
        "1.0.0",
        entry_points={"echo.v1": "echo_plugin.api.v1:EchoApi", "echo.v2": "echo_plugin.api.v2:EchoApi"},
        files={
            "echo_plugin/__init__.py": "",
            "echo_plugin/_module.py": ECHO_MODULE,
            "echo_plugin/api/__init__.py": "",
            "echo_plugin/api/v1/__init__.py": ECHO_V1,
            "echo_plugin/api/v2/__init__.py": ECHO_V2,
        },
    )
    (root / "user_app.py").write_text(USER_APP)
    return root


def echo_env(site: Path, **extra: str) -> dict[str, str]:
    return with_pythonpath(site, ENABLED_MODULES="echo", **extra)


# The tests that only send requests to `trading-host serve` of the echo plugin share one server (one
# pytest-xdist process runs them); none of them changes what another one checks.
ECHO = pytest.mark.xdist_group("host_hardening_echo")


@pytest.fixture(scope="module")
def echo(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``trading-host serve``, global v1 (echo v1: no handlers of its own) and v2 (echo v2: its own)."""
    args = [str(BIN / "trading-host"), "serve", "--port", "{port}"]
    server = start_server(args, cwd=tmp_path_factory.mktemp("echo"), env=echo_env(site))
    yield server
    server.stop()


def logged(server: Server, text: str, since: int = 0) -> bool:
    """Whether the server's output after offset ``since`` says ``text``, waiting a little: an error is
    logged just after its answer is sent."""
    deadline = time.monotonic() + 10
    while text not in server.output()[since:]:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def rss(server: Server) -> int:
    """The server process's resident memory, in bytes."""
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def ws_url(server: Server, path: str) -> str:
    return server.base_url.replace("http://", "ws://") + path


def close_code(ws: Any, message: str) -> int | None:
    """Send ``message`` and return the code the server closed the connection with."""
    try:
        ws.send(message)
        ws.recv(timeout=20)
    except (ConnectionClosed, OSError):
        pass
    else:
        raise AssertionError("the server answered instead of closing")
    try:
        ws.recv(timeout=20)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None
    raise AssertionError("the connection stayed open")


# --- item 2: NaN, Infinity, -Infinity, 1e400 anywhere in a body --------------------------------


@ECHO
@pytest.mark.independent
def test_non_finite_numbers_get_a_readable_422_composed(echo: Server) -> None:
    server, since = echo, len(echo.output())
    for raw, shown in NON_FINITE:
        for method, path in (("POST", "/things"), ("PATCH", "/things/a")):
            invalid = b'{"name": %s}' % raw
            v1 = server.client.request(method, f"/api/v1/echo{path}", content=invalid, headers=JSON)
            v2 = server.client.request(method, f"/api/v2/echo{path}", content=invalid, headers=JSON)
            assert v1.status_code == 422, v1.text
            assert v1.json()["detail"][0]["input"] == shown
            # The version's own handler keeps precedence, and is given what it can render.
            assert (v2.status_code, v2.json()) == (422, {"s": "error", "inputs": [shown]})
        # Deep in the body, in a field the schema ignores: accepted.
        ignored = server.post("/api/v1/echo/things", content=b'{"name": "x", "x": [{"y": %s}]}' % raw, headers=JSON)
        assert ignored.status_code == 201, ignored.text
    assert "Traceback" not in server.output()[since:]


@pytest.mark.independent
def test_non_finite_numbers_get_a_readable_422_standalone_and_embedded(serve, site: Path) -> None:
    standalone = serve(
        [str(BIN / "uvicorn"), "trading_host.main:app", "--port", "{port}"],
        env=echo_env(site, MODULE_VERSION="v1"),
        ready_path="/core/v1/health",
    )
    embedded = serve(
        [str(BIN / "uvicorn"), "user_app:app", "--port", "{port}"],
        env=echo_env(site),
        ready_path="/trading/v1/core/health",
    )
    alone = standalone.post("/v1/things", content=b'{"name": NaN}', headers=JSON)
    inside = embedded.post("/trading/v1/echo/things", content=b'{"name": 1e400}', headers=JSON)
    own = embedded.post("/trading/v2/echo/things", content=b'{"name": -Infinity}', headers=JSON)
    assert (alone.status_code, alone.json()["detail"][0]["input"]) == (422, "NaN")
    assert (inside.status_code, inside.json()["detail"][0]["input"]) == (422, "Infinity")
    assert (own.status_code, own.json()) == (422, {"s": "error", "inputs": ["-Infinity"]})


@pytest.mark.modules("broker")
@pytest.mark.independent
def test_broker_v1_and_v2_answer_non_finite_numbers_with_422(serve, tmp_path: Path) -> None:
    from broker_support import bearer, broker_env, configured_key, serve_command, sqlite_database
    from harness import ok

    env = broker_env(sqlite_database(tmp_path))
    key = configured_key("default", env)
    server = serve(serve_command(), env=env)
    order = {"symbol": "MSFT", "quantity": 2, "order_type": "LIMIT", "limit_price": 1.5, "side": "BUY"}
    auth = {**bearer(key), **JSON}
    v1_id = ok(server.post("/api/v1/broker/orders", json=order))["id"]
    placed = server.post("/api/v2/broker/orders", json=order, headers=bearer(key))
    assert placed.status_code in (200, 201), placed.text
    v2_id = placed.json()["id"]
    answers = []
    for raw, _ in NON_FINITE:
        for field in ("quantity", "limit_price", "symbol"):
            body = json.dumps({**order, field: "@"}).replace('"@"', raw.decode()).encode()
            answers += [
                server.post("/api/v1/broker/orders", content=body, headers=JSON),
                server.post("/api/v2/broker/orders", content=body, headers=auth),
            ]
        patch = b'{"limit_price": %s}' % raw
        answers += [
            server.client.patch(f"/api/v1/broker/orders/{v1_id}", content=patch, headers=JSON),
            server.client.patch(f"/api/v2/broker/orders/{v2_id}", content=patch, headers=auth),
        ]
    assert [r.status_code for r in answers] == [422] * len(answers), [r.text for r in answers if r.status_code != 422]
    assert all(r.json()["detail"] for r in answers)
    assert len(ok(server.get("/api/v1/broker/orders"))) == 2  # the two placed above, nothing else


# --- item 11: a body that is not UTF-8; 405 names every method ---------------------------------


@ECHO
@pytest.mark.independent
def test_a_body_that_is_not_utf8_gets_a_422_and_405_names_every_method(echo: Server) -> None:
    server = echo
    v1 = server.post("/api/v1/echo/things", content=b'{"name": "\xff"}', headers=JSON)
    v2 = server.post("/api/v2/echo/things", content=b'{"name": "\xff"}', headers=JSON)
    put = server.client.put("/api/v1/echo/things/a", json={"name": "x"})
    post = server.post("/api/v2/echo/things/a", json={"name": "x"})
    assert v1.status_code == 422
    assert v1.json()["detail"][0]["type"] == "json_invalid"
    assert (v2.status_code, v2.json()["s"]) == (422, "error")
    assert (put.status_code, put.headers["allow"]) == (405, "DELETE, GET, PATCH")
    assert (post.status_code, post.headers["allow"]) == (405, "DELETE, GET, PATCH")


@pytest.mark.modules("broker")
@pytest.mark.independent
def test_broker_answers_a_body_that_is_not_utf8_with_422_and_405_with_every_method(serve, tmp_path: Path) -> None:
    from broker_support import broker_env, serve_command, sqlite_database

    server = serve(serve_command(), env=broker_env(sqlite_database(tmp_path)))
    undecodable = server.post("/api/v1/broker/orders", content=b'{"symbol": "\xffAAPL"}', headers=JSON)
    not_allowed = server.client.put("/api/v1/broker/orders/some-id", json={})
    assert undecodable.status_code == 422, undecodable.text
    assert undecodable.json()["detail"][0]["type"] == "json_invalid"
    assert set(not_allowed.headers["allow"].split(", ")) == {"GET", "PATCH", "DELETE"}


# --- every fault answers with a status and a body ----------------------------------------------


@ECHO
@pytest.mark.independent
def test_an_unhandled_error_is_a_500_problem_and_is_logged(echo: Server) -> None:
    server, since = echo, len(echo.output())
    response = server.get("/api/v1/echo/bug")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 500
    assert logged(server, "a bug in the echo module", since), server.output()[since:]


# --- item 6: the body limit ------------------------------------------------------------------


def raw_request(server: Server, head: str, body: bytes = b"", timeout: float = 10) -> bytes:
    """Send a request head (and maybe part of a body) on a plain socket; what the server answers."""
    port = int(server.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def chunks(total: int, size: int = 1 << 20) -> Iterator[bytes]:
    yield b'{"name": "'
    for _ in range(total // size):
        yield b"x" * size
    yield b'"}'


@ECHO
@pytest.mark.parametrize("form", ["serve", "uvicorn"])
@pytest.mark.independent
def test_a_content_length_over_the_limit_is_answered_413_before_the_body_is_sent(
    serve, site: Path, request: pytest.FixtureRequest, form: str
) -> None:
    if form == "serve":
        server: Server = request.getfixturevalue("echo")  # the default limit: 256 KiB
    else:
        server = serve([str(BIN / "uvicorn"), "trading_host.main:app", "--port", "{port}"], env=echo_env(site))
    head = "POST /api/v1/echo/things HTTP/1.1\nHost: test\nContent-Type: application/json\nContent-Length: 209715200\n"
    started = time.monotonic()
    answer = raw_request(server, head)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("form", ["serve", "uvicorn", "embedded"])
@pytest.mark.independent
def test_a_chunked_body_over_the_limit_is_refused_as_it_arrives_without_growing_memory(
    serve, site: Path, tmp_path: Path, form: str
) -> None:
    (tmp_path / "trading.toml").write_text("[server]\nmax_body_size = 100000\n")
    env = echo_env(site, TRADING_CONFIG=str(tmp_path / "trading.toml"))
    command = {
        "serve": ([str(BIN / "trading-host"), "serve", "--port", "{port}"], "/api/v1"),
        "uvicorn": ([str(BIN / "uvicorn"), "trading_host.main:app", "--port", "{port}"], "/api/v1"),
        "embedded": ([str(BIN / "uvicorn"), "user_app:app", "--port", "{port}"], "/trading/v1"),
    }
    args, base = command[form]
    server = serve(args, env=env, ready_path=f"{base}/core/health")
    fits = server.post(f"{base}/echo/things", json={"name": "x" * 90_000})
    before = rss(server)
    big = server.post(f"{base}/echo/things", content=chunks(64 << 20), headers=JSON, timeout=60)
    grown = rss(server) - before
    assert fits.status_code == 201
    assert big.status_code == 413, big.text
    assert "100000 bytes" in big.json()["detail"]
    assert grown < 8 << 20, f"the server grew by {grown >> 20} MiB reading a refused body"


@pytest.mark.modules("broker")
@pytest.mark.independent
def test_a_200_mb_order_is_refused_and_not_placed(serve, tmp_path: Path) -> None:
    from broker_support import broker_env, serve_command, sqlite_database
    from harness import ok

    server = serve(serve_command(), env=broker_env(sqlite_database(tmp_path)))
    before = rss(server)

    def order() -> Iterator[bytes]:
        yield b'{"symbol": "AAPL", "quantity": 1, "order_type": "MARKET", "padding": "'
        for _ in range(200):
            yield b" " * (1 << 20)
        yield b'"}'

    response = server.post("/api/v1/broker/orders", content=order(), headers=JSON, timeout=120)
    assert response.status_code == 413
    grown = rss(server) - before
    assert grown < 8 << 20, f"the server grew by {grown >> 20} MiB"
    assert ok(server.get("/api/v1/broker/orders")) == []


@ECHO
@pytest.mark.independent
def test_a_websocket_frame_over_the_limit_closes_with_1009_without_growing_memory(echo: Server) -> None:
    server = echo  # serve hands uvicorn the limit: it refuses the frame from its header
    with connect(ws_url(server, "/api/v1/echo/ws"), max_size=None) as ws:
        ws.send("x" * 1000)
        assert ws.recv(timeout=10) == "1000"
    before = rss(server)
    with connect(ws_url(server, "/api/v1/echo/ws"), max_size=None, close_timeout=5) as ws:
        assert close_code(ws, "x" * (64 << 20)) == 1009
    grown = rss(server) - before
    assert grown < 8 << 20, f"the server grew by {grown >> 20} MiB"
    assert server.get("/api/v1/core/health").status_code == 200


@pytest.mark.independent
def test_under_plain_uvicorn_the_host_closes_a_message_over_the_limit_with_1009(
    serve, site: Path, tmp_path: Path
) -> None:
    (tmp_path / "trading.toml").write_text("[server]\nmax_body_size = 100000\n")
    server = serve(
        [str(BIN / "uvicorn"), "trading_host.main:app", "--port", "{port}"],
        env=echo_env(site, TRADING_CONFIG=str(tmp_path / "trading.toml")),
    )
    with connect(ws_url(server, "/api/v2/echo/ws"), max_size=None) as ws:
        ws.send("x" * 99_000)
        assert ws.recv(timeout=10) == "99000"
        assert close_code(ws, "x" * 100_001) == 1009
    assert "Traceback" not in server.output()


# --- item 10: a deeply nested frame is malformed input, the socket stays open -------------------


@pytest.mark.modules("datafeed")
@pytest.mark.independent
def test_a_deeply_nested_stream_message_is_malformed_and_the_socket_stays_open(serve) -> None:
    server = serve([str(BIN / "trading-host"), "serve", "--port", "{port}"], env=clean_env(ENABLED_MODULES="datafeed"))
    with connect(ws_url(server, "/api/v1/datafeed/ws")) as ws:
        ws.send("[" * 5000 + "]" * 5000)
        error = json.loads(ws.recv(timeout=10))
        assert (error["type"], error["payload"]["code"]) == ("error", "malformed")
        ws.send(json.dumps({"type": "bars.subscribe", "id": 1, "payload": {"symbol": "AAPL", "resolution": "1"}}))
        assert json.loads(ws.recv(timeout=10))["type"] == "bars.subscribe.response"
    assert "RecursionError" not in server.output()


# --- item 8: credentials in query strings, however their names are encoded -----------------------


def test_percent_encoded_credential_names_are_redacted_from_the_log(serve) -> None:
    server = serve([str(BIN / "trading-host"), "serve", "--port", "{port}"])
    for name in ("%61ccess_token", "acc%65ss%5Ftoken", "api%5Fkey", "%74oken"):
        response = server.client.get(httpx.URL(f"/api/v1/core/health?{name}=tb_sekrit_value&x=1"))
        assert response.status_code == 200
    output = server.stop()
    assert "/api/v1/core/health?%61ccess_token=[redacted]&x=1" in output
    assert "tb_sekrit_value" not in output


@pytest.mark.modules("broker")
@pytest.mark.independent
def test_a_percent_encoded_access_token_on_a_stream_is_redacted(serve, tmp_path: Path) -> None:
    from broker_support import broker_env, configured_key, serve_command, sqlite_database

    env = broker_env(sqlite_database(tmp_path))
    token = configured_key("alice", env)["token"]
    server = serve(serve_command(), env=env)
    with connect(ws_url(server, f"/api/v2/broker/ws?%61ccess_token={token}")) as ws:
        ws.send(json.dumps({"type": "orders.subscribe", "payload": {}}))
        assert json.loads(ws.recv(timeout=10))["type"] == "orders.subscribe.response"
    output = server.stop()
    assert "%61ccess_token=[redacted]" in output
    assert token not in output


# --- item 9: a module that cannot start -----------------------------------------------------------


def start_failing(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    port = str(free_port())
    return forked.run([a.replace("{port}", port) for a in args], cwd=cwd, env=env, timeout=60)


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        ("typed", ["module 'echo' cannot start: cannot reach the echo chamber at 127.0.0.1:5999", "fix: start the"]),
        ("untyped", ["module 'echo' cannot start: ConnectionRefusedError: [Errno 111] Connection refused", "fix:"]),
    ],
)
@pytest.mark.parametrize("form", ["serve", "uvicorn"])
@pytest.mark.independent
def test_a_module_that_cannot_start_is_one_message_and_a_non_zero_exit(
    site: Path, tmp_path: Path, failure: str, expected: list[str], form: str
) -> None:
    args = {
        "serve": [str(BIN / "trading-host"), "serve", "--port", "{port}"],
        "uvicorn": [str(BIN / "uvicorn"), "trading_host.main:app", "--port", "{port}"],
    }[form]
    result = start_failing(args, echo_env(site, ECHO_FAIL=failure), tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for fragment in expected:
        assert fragment in output
    assert "Traceback" not in output
    assert len(output.splitlines()) <= 8, output


@pytest.mark.modules("broker")
@pytest.mark.independent
def test_an_unreachable_database_is_named_with_its_fix(tmp_path: Path) -> None:
    from broker_support import broker_env

    env = broker_env("postgresql+asyncpg://postgres@127.0.0.1:1/trading")
    result = start_failing([str(BIN / "trading-host"), "serve", "--port", "{port}"], env, tmp_path)
    check = forked.run([str(BIN / "trading-host"), "matrix", "--check", "--connect"], cwd=tmp_path, env=env)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in output
    assert "module 'broker' cannot start" in output
    assert "127.0.0.1:1" in output
    assert len(output.splitlines()) <= 8, output
    assert check.returncode == 2
    assert "127.0.0.1:1" in check.stderr
    assert "fix:" in check.stderr


@pytest.mark.modules("broker")
@pytest.mark.independent
def test_a_missing_database_is_one_message(tmp_path: Path) -> None:
    from broker_support import POSTGRES_SERVER, broker_env, postgres_database

    with postgres_database():  # skips without a server
        pass
    base = POSTGRES_SERVER.split("://", 1)[1].rsplit("/", 1)[0]
    env = broker_env(f"postgresql+asyncpg://{base}/no_such_database_for_trading")
    result = start_failing([str(BIN / "trading-host"), "serve", "--port", "{port}"], env, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert output.count("Traceback") == 0
    assert "no_such_database_for_trading" in output
    assert len(output.splitlines()) <= 8, output
