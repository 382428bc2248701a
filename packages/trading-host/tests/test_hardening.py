"""Issue 8, the host's part: every fault answers with a status and a body, bodies are bounded,
credentials stay out of the logs however they are encoded, and a module that cannot start says so
in one message.

Real uvicorn servers are covered by the repository's ``tests/test_host_hardening.py``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient
from host_fakes import FakeSite, factory_for, write_config
from host_plugins import AlphaModule, AlphaV1, AlphaV2, BetaV1, CoreApi
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message
from typer.testing import CliRunner

from trading_core import Module, ModuleApi, ModuleStartupError
from trading_host import AppFactory, Installed, embed
from trading_host._plan._config import DEFAULT_MAX_BODY_SIZE, load_config
from trading_host._serve._errors import encodable
from trading_host._serve._startup import StartupFailed
from trading_host._wrappers._redaction import REDACTED, redact
from trading_host.cli import cli

# Bodies JSON parsers accept and no JSON response may carry: Python reads them as nan and inf.
NON_FINITE = [
    (b'{"name": NaN}', "NaN"),
    (b'{"name": Infinity}', "Infinity"),
    (b'{"name": -Infinity}', "-Infinity"),
    (b'{"name": 1e400}', "Infinity"),
]
JSON = {"content-type": "application/json"}


class Thing(BaseModel):
    name: str
    size: float = 1.0


class DeltaModule(Module):
    name = "delta"


async def udf_like(_: Request, exc: RequestValidationError) -> JSONResponse:
    """A version's own answer to validation errors (as the datafeed's UDF errors): it echoes the inputs."""
    return JSONResponse({"s": "error", "inputs": [e.get("input") for e in exc.errors()]}, status_code=422)


class DeltaV1(ModuleApi):
    """A version with its own validation-error handler, several methods on one path, a 400 of its
    own and a bug."""

    module = DeltaModule
    version = "v1"

    def __init__(self, module: DeltaModule) -> None:
        super().__init__(module)
        self.add_exception_handler(RequestValidationError, udf_like)

        @self.post("/things", status_code=201)
        async def add(thing: Thing) -> Thing:
            return thing

        @self.get("/things/{key}")
        async def get(key: str) -> dict[str, str]:
            return {"key": key}

        @self.patch("/things/{key}")
        async def modify(key: str, thing: Thing) -> Thing:
            return thing

        @self.delete("/things/{key}")
        async def remove(key: str) -> dict[str, str]:
            return {"removed": key}

        @self.get("/refused")
        async def refused() -> None:
            raise HTTPException(400, "a 400 of the version's own")

        @self.get("/bug")
        async def bug() -> None:
            raise RuntimeError("a bug")


@pytest.fixture
def apis() -> Installed:
    return Installed.from_apis([CoreApi, AlphaV1, AlphaV2, BetaV1, DeltaV1])


def client(app: ASGIApp) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


# --- 2. NaN, Infinity, 1e400 in a body: 422, never 500 ----------------------------------------


@pytest.mark.parametrize(("body", "shown"), NON_FINITE)
def test_non_finite_numbers_in_a_body_get_a_readable_422(apis: Installed, body: bytes, shown: str) -> None:
    with client(factory_for(apis).create_app()) as http:
        for version in ("v1", "v2"):
            response = http.post(f"/api/{version}/alpha/items", content=body, headers=JSON)
            assert response.status_code == 422, response.text
            (error,) = response.json()["detail"]
            assert error["loc"] == ["body", "name"]
            assert error["input"] == shown


def test_non_finite_numbers_anywhere_in_the_body_are_made_encodable(apis: Installed) -> None:
    body = b'{"other": [1, {"deep": NaN}, -Infinity], "big": 1e999}'
    with client(factory_for(apis).create_app()) as http:
        response = http.post("/api/v1/alpha/items", content=body, headers=JSON)
    assert response.status_code == 422
    assert response.json()["detail"][0]["input"] == {"other": [1, {"deep": "NaN"}, "-Infinity"], "big": "Infinity"}


def test_a_versions_own_validation_handler_keeps_precedence_and_gets_encodable_input(apis: Installed) -> None:
    with client(factory_for(apis).create_app()) as http:
        posted = http.post("/api/v1/delta/things", content=b'{"name": NaN, "size": 2}', headers=JSON)
        patched = http.patch("/api/v1/delta/things/a", content=b'{"name": Infinity}', headers=JSON)
    assert posted.status_code == 422
    assert posted.json() == {"s": "error", "inputs": ["NaN"]}
    assert patched.json() == {"s": "error", "inputs": ["Infinity"]}


def test_standalone_answers_non_finite_numbers_with_422(apis: Installed) -> None:
    app = factory_for(apis, {"ENABLED_MODULES": "alpha", "MODULE_VERSION": "v1"}).create_app()
    with client(app) as http:
        response = http.post("/v1/items", content=b'{"name": NaN}', headers=JSON)
    assert response.status_code == 422
    assert response.json()["detail"][0]["input"] == "NaN"


def test_embedded_routes_get_the_users_handler_with_encodable_input(apis: Installed) -> None:
    app = FastAPI()

    @app.exception_handler(RequestValidationError)
    async def mine(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's documented recipe echoes the body too.
        return JSONResponse({"mine": exc.errors(), "body": exc.body}, status_code=400)

    @app.post("/own")
    async def own(thing: Thing) -> Thing:
        return thing

    embed(app, prefix="/trading", factory=factory_for(apis))
    with client(app) as http:
        hosted = http.post("/trading/v1/alpha/items", content=b'{"name": NaN}', headers=JSON)
        own_route = http.post("/own", content=b'{"name": NaN}', headers=JSON)

    assert hosted.status_code == 400  # the user's handler renders, with what the host made encodable
    assert hosted.json()["mine"][0]["input"] == "NaN"
    assert hosted.json()["body"] == {"name": "NaN"}
    assert own_route.status_code == 500  # the user's own routes are the user's business


def test_embedded_without_a_handler_of_its_own_gets_fastapis_422(apis: Installed) -> None:
    app = FastAPI()
    embed(app, prefix="/trading", factory=factory_for(apis))
    with client(app) as http:
        response = http.post("/trading/v2/alpha/items", content=b'{"name": 1e400}', headers=JSON)
    assert response.status_code == 422
    assert response.json()["detail"][0]["input"] == "Infinity"


def test_encodable_values() -> None:
    assert encodable({"a": [float("nan"), float("inf"), -float("inf"), 1.5]}) == {
        "a": ["NaN", "Infinity", "-Infinity", 1.5]
    }
    assert encodable(("body", "\ud800x")) == ("body", "\\ud800x")
    assert encodable(b"\xff{") == "\\xff{"
    deep: Any = "bottom"
    for _ in range(100):
        deep = [deep]
    json.dumps(encodable(deep))  # deeper than FastAPI's encoder may recurse: cut, not raised


# --- 11. a body that is not UTF-8: the 422 of any undecodable body; 405 names every method ---


def test_a_body_that_is_not_utf8_gets_the_422_of_an_undecodable_body(apis: Installed) -> None:
    with client(factory_for(apis).create_app()) as http:
        app_level = http.post("/api/v1/alpha/items", content=b'{"name": "\xff"}', headers=JSON)
        own_handler = http.post("/api/v1/delta/things", content=b'{"name": "\xfe"}', headers=JSON)
        other_400 = http.get("/api/v1/delta/refused")
    assert app_level.status_code == 422
    (error,) = app_level.json()["detail"]
    assert (error["type"], error["loc"]) == ("json_invalid", ["body", 10])
    assert "not UTF-8" in error["ctx"]["error"]
    assert own_handler.status_code == 422
    assert own_handler.json() == {"s": "error", "inputs": [{}]}
    assert (other_400.status_code, other_400.json()) == (400, {"detail": "a 400 of the version's own"})


def test_a_bytes_input_is_echoed_as_text(apis: Installed) -> None:
    with client(factory_for(apis).create_app()) as http:
        response = http.post("/api/v1/alpha/items", content=b"\xff\xfe", headers={"content-type": "text/plain"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["input"] == "\\xff\\xfe"


def test_405_lists_every_method_of_the_path(apis: Installed) -> None:
    with client(factory_for(apis).create_app()) as http:
        items = http.put("/api/v1/alpha/items")
        thing = http.put("/api/v1/delta/things/a")
        standalone = client(factory_for(apis, {"ENABLED_MODULES": "delta", "MODULE_VERSION": "v1"}).create_app())
        alone = standalone.post("/v1/things/a")
    assert (items.status_code, items.headers["allow"]) == (405, "GET, POST")
    assert (thing.status_code, thing.headers["allow"]) == (405, "DELETE, GET, PATCH")
    assert (alone.status_code, alone.headers["allow"]) == (405, "DELETE, GET, PATCH")


# --- every fault answers with a status and a body ---------------------------------------------


def test_an_unhandled_error_gets_a_500_problem_body(apis: Installed, caplog: pytest.LogCaptureFixture) -> None:
    with client(factory_for(apis).create_app()) as http:
        response = http.get("/api/v1/delta/bug")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 500
    assert response.json()["title"] == "Internal Server Error"


def test_embed_keeps_the_users_own_500_handler(apis: Installed) -> None:
    app = FastAPI()

    @app.exception_handler(Exception)
    async def mine(_: Request, exc: Exception) -> Response:
        return JSONResponse({"mine": str(exc)}, status_code=500)

    embed(app, prefix="/trading", factory=factory_for(apis))
    bare = FastAPI()
    embed(bare, prefix="/trading", factory=factory_for(apis))

    assert client(app).get("/trading/v1/delta/bug").json() == {"mine": "a bug"}
    assert client(bare).get("/trading/v1/delta/bug").headers["content-type"] == "application/problem+json"


# --- 6. the body limit --------------------------------------------------------------------------


def run_asgi(app: ASGIApp, scope: dict[str, Any], messages: list[Message]) -> tuple[list[Message], int]:
    """One request through ``app``: the messages it sent, and how many of ``messages`` it read."""
    sent: list[Message] = []
    read = 0

    async def receive() -> Message:
        nonlocal read
        if read < len(messages):
            read += 1
            return messages[read - 1]
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    async def main() -> None:
        await asyncio.wait_for(app(scope, receive, send), 5)

    asyncio.run(main())
    return sent, read


def http_scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"test"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
    }


def status_of(sent: list[Message]) -> int:
    return next(int(m["status"]) for m in sent if m["type"] == "http.response.start")


def body_of(sent: list[Message]) -> Any:
    return json.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))


@pytest.fixture
def limited(apis: Installed, config_file: Callable[..., Any]) -> FastAPI:
    config = config_file("[server]\nmax_body_size = 100\n")
    return factory_for(apis, config=config).create_app()


def test_a_content_length_over_the_limit_is_refused_before_the_body_is_read(limited: FastAPI) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"209715200")]
    sent, read = run_asgi(limited, http_scope("POST", "/api/v1/alpha/items", headers), [])
    assert status_of(sent) == 413
    assert "100 bytes" in body_of(sent)["detail"]
    assert read == 0


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(limited: FastAPI) -> None:
    headers = [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")]
    chunks: list[Message] = [{"type": "http.request", "body": b" " * 60, "more_body": True} for _ in range(1000)]
    sent, read = run_asgi(limited, http_scope("POST", "/api/v1/alpha/items", headers), chunks)
    assert status_of(sent) == 413
    assert read == 2  # 120 bytes: over the limit at the second chunk, the rest never read
    assert AlphaModule.instances <= 1


def test_bodies_within_the_limit_and_requests_without_one_pass(limited: FastAPI) -> None:
    body = b'{"name": "fine"}'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    chunked = [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")]
    message: Message = {"type": "http.request", "body": body, "more_body": False}
    posted, _ = run_asgi(limited, http_scope("POST", "/api/v1/alpha/items", headers), [message])
    streamed, _ = run_asgi(limited, http_scope("POST", "/api/v1/alpha/items", chunked), [message])
    listed, _ = run_asgi(limited, http_scope("GET", "/api/v1/alpha/items", []), [])
    assert (status_of(posted), status_of(streamed), status_of(listed)) == (201, 201, 200)


def test_the_limit_is_a_server_setting_with_a_default_checked_with_the_rest(config_file: Callable[..., Any]) -> None:
    assert load_config(environ={}).config.server.max_body_size == DEFAULT_MAX_BODY_SIZE
    loaded = load_config(config_file("[server]\nmax_body_size = 0\n"), environ={})
    (problem,) = loaded.problems
    assert problem.code == "config-invalid-value"
    assert "server.max_body_size" in problem.message


def test_a_websocket_message_over_the_limit_closes_with_1009(apis: Installed, config_file: Callable[..., Any]) -> None:
    app = factory_for(apis, config=config_file("[server]\nmax_body_size = 10\n")).create_app()
    scope = {**http_scope("GET", "/api/v1/beta/ws", []), "type": "websocket", "scheme": "ws", "subprotocols": []}
    small: list[Message] = [{"type": "websocket.connect"}, {"type": "websocket.receive", "text": "hi"}]
    big: list[Message] = [{"type": "websocket.connect"}, {"type": "websocket.receive", "text": "é" * 6}]
    echoed, _ = run_asgi(app, scope, small)
    refused, _ = run_asgi(app, scope, big)
    assert [m["type"] for m in echoed] == ["websocket.accept", "websocket.send", "websocket.close"]
    assert echoed[1]["text"] == "beta:hi"
    assert refused[0]["type"] == "websocket.accept"
    assert (refused[-1]["type"], refused[-1]["code"]) == ("websocket.close", 1009)
    assert all(m["type"] != "websocket.send" for m in refused)


# --- 8. credentials in query strings, however their names are encoded -----------------------


def test_percent_encoded_credential_names_are_redacted() -> None:
    assert redact("/api/v2/broker/ws?%61ccess_token=tb_1") == f"/api/v2/broker/ws?%61ccess_token={REDACTED}"
    assert redact("GET /x?a=1&acc%65ss%5Ftoken=s HTTP/1.1") == f"GET /x?a=1&acc%65ss%5Ftoken={REDACTED} HTTP/1.1"
    assert redact("/x?%74oken=s&api%5fkey=k") == f"/x?%74oken={REDACTED}&api%5fkey={REDACTED}"
    assert redact("/x?tok%65ns=1&b=%61ccess_token") == "/x?tok%65ns=1&b=%61ccess_token"


# --- 9. a module that cannot start ----------------------------------------------------------


class BrokenModule(Module):
    name = "broken"
    error: Exception = RuntimeError("first line\nsecond line")

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        raise type(self).error
        yield  # type: ignore[unreachable]  # makes this a generator, as @asynccontextmanager needs


class BrokenV1(ModuleApi):
    module = BrokenModule
    version = "v1"


def lifespan_messages(app: FastAPI) -> list[Message]:
    """What the app tells a server about its start-up (the ASGI lifespan protocol)."""
    sent: list[Message] = []
    incoming: list[Message] = [{"type": "lifespan.startup"}]

    async def receive() -> Message:
        if incoming:
            return incoming.pop(0)
        await asyncio.sleep(3600)  # no shutdown: the app must give up at start-up
        raise AssertionError("the app waited for a message after its start-up failed")

    async def send(message: Message) -> None:
        sent.append(message)

    async def main() -> None:
        with pytest.raises(StartupFailed):
            await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)

    asyncio.run(main())
    return sent


@pytest.mark.parametrize(
    ("error", "message", "fix"),
    [
        (
            ModuleStartupError("cannot reach PostgreSQL at 127.0.0.1:5999 (connection refused)", "start PostgreSQL"),
            "module 'broken' cannot start: cannot reach PostgreSQL at 127.0.0.1:5999 (connection refused)",
            "start PostgreSQL",
        ),
        (
            RuntimeError("first line\nsecond line"),
            "module 'broken' cannot start: RuntimeError: first line",
            "[modules.broken]",
        ),
    ],
)
def test_a_lifespan_that_raises_is_one_message_without_traceback(
    error: Exception, message: str, fix: str, caplog: pytest.LogCaptureFixture
) -> None:
    BrokenModule.error = error
    app = factory_for(Installed.from_apis([CoreApi, AlphaV1, BrokenV1])).create_app()

    with caplog.at_level(logging.ERROR, logger="trading_host"):
        sent = lifespan_messages(app)

    assert sent == [{"type": "lifespan.startup.failed", "message": ""}]  # Starlette's would be the traceback
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert message in record.getMessage()
    assert fix in record.getMessage()
    assert "Traceback" not in record.getMessage()
    assert (AlphaModule.started, AlphaModule.stopped) == (1, 1)  # started before it: stopped again


def test_an_embedding_apps_start_up_failure_is_reported_the_same_way() -> None:
    BrokenModule.error = ModuleStartupError("no disk", "add one")
    app = FastAPI()
    embed(app, factory=factory_for(Installed.from_apis([CoreApi, BrokenV1])))
    assert lifespan_messages(app) == [{"type": "lifespan.startup.failed", "message": ""}]


def test_a_test_client_sees_the_failure(apis: Installed) -> None:
    BrokenModule.error = OSError("no disk")
    app = factory_for(Installed.from_apis([CoreApi, BrokenV1])).create_app()
    with pytest.raises(StartupFailed, match="OSError: no disk") as raised, TestClient(app):
        pass
    assert isinstance(raised.value.__cause__, OSError)


CONNECTING = {
    "__init__.py": """
        from pydantic import BaseModel
        from trading_core import Module, ModuleStartupError

        class Settings(BaseModel):
            url: str = "db://127.0.0.1:5999"

        class LinkModule(Module[Settings]):
            name = "link"

            async def check_connection(self):
                if self.settings.url.endswith(":5999"):
                    return [ModuleStartupError(f"cannot reach the database at {self.settings.url}", "start it")]
                return []
        """,
    "api/__init__.py": "",
    "api/v1/__init__.py": """
        from trading_core import ModuleApi
        from ... import LinkModule

        class LinkApi(ModuleApi):
            module = LinkModule
            version = "v1"
        """,
}


def test_matrix_check_connect_reports_what_a_module_cannot_reach(site: FakeSite, tmp_path: Any) -> None:
    package = site.package("link", CONNECTING)
    site.distribution("trading-link", "1.0.0", {"link.v1": f"{package}.api.v1:LinkApi"})
    runner = CliRunner()

    failing = runner.invoke(cli, ["matrix", "--check", "--connect", "--enable", "link", "-g", "v1"])
    unchecked = runner.invoke(cli, ["matrix", "--check", "--enable", "link", "-g", "v1"])
    config = write_config(tmp_path / "ok.toml", '[modules.link]\nurl = "db://127.0.0.1:5432"\n')
    reachable = runner.invoke(cli, ["matrix", "--check", "--connect", "-c", str(config), "-e", "link", "-g", "v1"])

    assert failing.exit_code == 2, failing.output
    assert "[module-connection] module 'link': cannot reach the database at db://127.0.0.1:5999" in failing.stderr
    assert "fix: start it" in failing.stderr
    assert unchecked.exit_code == 0
    assert reachable.exit_code == 0, reachable.output


def test_a_module_checks_no_connection_by_default() -> None:
    app_factory = AppFactory(environ={}, installed=Installed.from_apis([CoreApi, AlphaV1]))
    app_factory.create_app()
    assert asyncio.run(app_factory.runtime.check_connections()) == {"core": [], "alpha": []}
