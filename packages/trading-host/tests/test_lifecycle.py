"""Version lifecycles: configuration checks, the headers the host adds, 410 after sunset, the
OpenAPI marks, /core/versions, the CLI, the shipped default, and the modules' documents."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from host_fakes import FakeSite, plugin_package, write_config
from host_plugins import AlphaV1, AlphaV2, BetaV1, CoreApi
from starlette.testclient import WebSocketDenialResponse
from starlette.types import Message
from typer.testing import CliRunner

from trading_core import Lifecycle
from trading_host import AppFactory, ConfigError, Installed, ServedVersion
from trading_host._plan._lifecycle import add_months
from trading_host._wrappers._deprecation import DeprecatedVersion
from trading_host.cli import cli

ALPHA_V1 = """
[lifecycle.alpha.v1]
status = "deprecated"
deprecation = 2027-01-01
sunset = 2027-07-01
successor = "v2"
migration_guide = "https://example.org/guides/alpha-v1-to-v2"
"""
DEPRECATED_AT = 1798761600  # 2027-01-01T00:00:00Z
SUNSET_AT = 1814400000  # 2027-07-01T00:00:00Z
HEADERS = {
    "deprecation": "@1798761600",
    "sunset": "Thu, 01 Jul 2027 00:00:00 GMT",
    "link": (
        '<https://example.org/guides/alpha-v1-to-v2>; rel="deprecation", '
        '<https://example.org/guides/alpha-v1-to-v2>; rel="sunset", '
        '</api/v2/alpha>; rel="successor-version"'
    ),
    "x-api-deprecation": "Alpha API v1 is deprecated. Migrate to v2 by 2027-07-01",
    "x-api-sunset-date": "2027-07-01",
    "x-api-migration-guide": "https://example.org/guides/alpha-v1-to-v2",
}


class Clock:
    """A clock a test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def lifecycle_headers(response: Any) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k in HEADERS}


@pytest.fixture
def clock() -> Clock:
    return Clock(DEPRECATED_AT - 1)


@pytest.fixture
def factory(installed: Installed, config_file: Any, clock: Clock) -> AppFactory:
    """alpha v1 deprecated from 2027-01-01, sunset 2027-07-01; alpha v2 and beta v1 stable."""
    return AppFactory(config_file(ALPHA_V1), environ={}, installed=installed, clock=clock)


def problems_of(factory: AppFactory) -> dict[str, str]:
    return {p.code: p.message for p in factory.plan().problems}


def make_factory(installed: Installed, path: Path, text: str, **kwargs: Any) -> AppFactory:
    return AppFactory(write_config(path, text), environ={}, installed=installed, **kwargs)


# --- headers, by the clock ------------------------------------------------------------------------


def test_no_header_before_the_deprecation_date_then_every_header(factory: AppFactory, clock: Clock) -> None:
    with TestClient(factory.create_app()) as client:
        before = client.get("/api/v1/alpha/items")
        clock.now = DEPRECATED_AT
        during = client.get("/api/v1/alpha/items")
        created = client.post("/api/v1/alpha/items", json={"name": "x"})
        missing = client.get("/api/v1/alpha/items/nothing-here")
        wrong_method = client.delete("/api/v1/alpha/items")
        stable = client.get("/api/v2/alpha/items")

    assert before.status_code == 200
    assert lifecycle_headers(before) == {}
    assert during.status_code == 200
    assert lifecycle_headers(during) == HEADERS
    # Every response of the version, whatever its status, and never one of another version.
    assert created.status_code == 201
    assert lifecycle_headers(created) == HEADERS
    assert missing.status_code == 404
    assert lifecycle_headers(missing) == HEADERS
    assert wrong_method.status_code == 405
    assert lifecycle_headers(wrong_method) == HEADERS
    assert lifecycle_headers(stable) == {}


def test_the_deprecation_header_is_never_the_old_boolean_form(factory: AppFactory, clock: Clock) -> None:
    clock.now = DEPRECATED_AT + 86400
    with TestClient(factory.create_app()) as client:
        response = client.get("/api/v1/alpha/items")
    assert response.headers["deprecation"].startswith("@")
    assert int(response.headers["deprecation"][1:]) == DEPRECATED_AT
    assert response.headers["sunset"].endswith(" GMT")
    assert datetime.strptime(response.headers["sunset"], "%a, %d %b %Y %H:%M:%S GMT").replace(
        tzinfo=UTC
    ).timestamp() == pytest.approx(SUNSET_AT)


def test_410_gone_from_the_sunset_date(factory: AppFactory, clock: Clock) -> None:
    with TestClient(factory.create_app()) as client:
        clock.now = SUNSET_AT - 1
        last = client.get("/api/v1/alpha/items")
        clock.now = SUNSET_AT
        gone = client.get("/api/v1/alpha/items")
        posted = client.post("/api/v1/alpha/items", json={"name": "late"})
        successor = client.get("/api/v2/alpha/items")

    assert last.status_code == 200
    assert gone.status_code == 410
    assert gone.headers["content-type"] == "application/problem+json"
    assert lifecycle_headers(gone) == HEADERS
    body = gone.json()
    assert body["type"] == "urn:trading-api:problem:version-sunset"
    assert body["title"] == "API version sunset"
    assert body["status"] == 410
    assert "alpha v1 was sunset on 2027-07-01" in body["detail"]
    assert "alpha v2 at /api/v2/alpha" in body["detail"]
    assert "https://example.org/guides/alpha-v1-to-v2" in body["detail"]
    assert (body["successor"], body["successor_url"]) == ("v2", "/api/v2/alpha")
    assert posted.status_code == 410
    assert successor.status_code == 200
    assert successor.json() == []  # the refused POST reached nothing


def test_no_successor_link_when_the_successor_is_not_served(installed: Installed, config_file: Any) -> None:
    factory = AppFactory(
        config_file(ALPHA_V1), environ={"GLOBAL_VERSION": "v1"}, installed=installed, clock=Clock(DEPRECATED_AT)
    )
    with TestClient(factory.create_app()) as client:
        response = client.get("/api/v1/alpha/items")
    assert 'rel="successor-version"' not in response.headers["link"]
    assert response.headers["deprecation"] == "@1798761600"


def test_standalone_version_gets_the_headers_and_the_410(installed: Installed, config_file: Any) -> None:
    clock = Clock(DEPRECATED_AT)
    factory = AppFactory(
        config_file(ALPHA_V1),
        environ={"ENABLED_MODULES": "alpha", "MODULE_VERSION": "v1"},
        installed=installed,
        clock=clock,
    )
    with TestClient(factory.create_app()) as client:
        deprecated = client.get("/v1/items")
        clock.now = SUNSET_AT
        gone = client.get("/v1/items")
        core = client.get("/core/v1/health")
    assert deprecated.headers["deprecation"] == "@1798761600"
    assert 'rel="successor-version"' not in deprecated.headers["link"]
    assert gone.status_code == 410
    assert core.status_code == 200


# --- WebSocket ---------------------------------------------------------------------------------

BETA_V1 = """
[lifecycle.beta.v1]
status = "deprecated"
deprecation = 2027-01-01
sunset = 2027-01-02
short_notice = true
successor = "v2"
migration_guide = "https://example.org/beta"
"""


@pytest.fixture
def beta_factory(tmp_path: Path, clock: Clock) -> AppFactory:
    """beta v1 (which has a WebSocket) deprecated for one day in favour of a beta v2."""
    beta_v2 = type("BetaV2", (BetaV1,), {"version": "v2"})
    installed = Installed.from_apis([CoreApi, AlphaV1, AlphaV2, BetaV1, beta_v2])
    text = BETA_V1 + '[matrix.v1]\nbeta = "v1"\n[matrix.v2]\nbeta = "v2"\n'
    return make_factory(installed, tmp_path / "beta.toml", text, clock=clock)


def test_websocket_handshake_carries_the_headers_while_deprecated(beta_factory: AppFactory, clock: Clock) -> None:
    with TestClient(beta_factory.create_app()) as client:
        with client.websocket_connect("/api/v1/beta/ws") as ws:
            before: dict[bytes, bytes] = dict(ws.extra_headers or [])
            ws.send_text("hi")
            assert ws.receive_text() == "beta:hi"
        clock.now = DEPRECATED_AT
        with client.websocket_connect("/api/v1/beta/ws") as ws:
            headers: list[tuple[bytes, bytes]] = ws.extra_headers or []
            during = {k.decode(): v.decode() for k, v in headers}
            ws.send_text("hi")
            assert ws.receive_text() == "beta:hi"
    assert b"deprecation" not in before
    assert during["deprecation"] == "@1798761600"
    assert during["sunset"] == "Sat, 02 Jan 2027 00:00:00 GMT"
    assert '</api/v2/beta>; rel="successor-version"' in during["link"]
    assert during["x-api-migration-guide"] == "https://example.org/beta"


def test_websocket_handshake_refused_with_a_410_after_sunset(beta_factory: AppFactory, clock: Clock) -> None:
    clock.now = DEPRECATED_AT + 86400
    with TestClient(beta_factory.create_app()) as client:
        with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect("/api/v1/beta/ws"):
            pass
        with client.websocket_connect("/api/v2/beta/ws") as ws:  # the successor still answers
            ws.send_text("hi")
            assert ws.receive_text() == "beta:hi"
    response = denied.value
    assert response.status_code == 410
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["deprecation"] == "@1798761600"
    assert response.json()["successor"] == "v2"


def test_websocket_refused_with_a_close_reason_without_the_denial_extension() -> None:
    lifecycle = Lifecycle(date(2027, 1, 1), date(2027, 7, 1), "v2", "https://example.org/" + "g" * 200)
    reached: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append("app")

    wrapped = DeprecatedVersion(
        app, ServedVersion("v1", "beta", "v1", "/api/v1/beta"), lifecycle, lambda: SUNSET_AT, None
    )
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(wrapped({"type": "websocket", "path": "/api/v1/beta/ws", "headers": []}, receive, send))
    assert reached == []
    (close,) = sent
    assert close["type"] == "websocket.close"
    assert close["code"] == 1008
    assert close["reason"].startswith("beta v1 sunset 2027-07-01; use v2: https://example.org/ggg")
    assert len(close["reason"].encode()) <= 123


# --- OpenAPI and /core/versions ----------------------------------------------------------------


def operations(document: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [op for path, item in document["paths"].items() if path.startswith(prefix) for op in item.values()]


def test_openapi_marks_the_operations_once_deprecated(factory: AppFactory, clock: Clock) -> None:
    with TestClient(factory.create_app()) as client:
        before = client.get("/api/v1/openapi.json").json()
        clock.now = DEPRECATED_AT
        during = client.get("/api/v1/openapi.json").json()
        other = client.get("/api/v2/openapi.json").json()

    assert not any(op.get("deprecated") for op in operations(before, "/api/v1/alpha"))
    alpha = operations(during, "/api/v1/alpha")
    assert alpha
    assert all(op["deprecated"] is True and op["x-sunset"] == "2027-07-01" for op in alpha)
    assert not any(op.get("deprecated") for op in operations(during, "/api/v1/core"))
    assert not any(op.get("deprecated") for op in operations(other, "/api/v2/"))


def test_standalone_openapi_is_marked_too(installed: Installed, config_file: Any) -> None:
    factory = AppFactory(
        config_file(ALPHA_V1),
        environ={"ENABLED_MODULES": "alpha", "MODULE_VERSION": "v1"},
        installed=installed,
        clock=Clock(DEPRECATED_AT),
    )
    with TestClient(factory.create_app()) as client:
        document = client.get("/v1/openapi.json").json()
    assert all(op["deprecated"] is True for op in operations(document, "/"))


def test_core_versions_shows_status_and_dates(factory: AppFactory, clock: Clock) -> None:
    with TestClient(factory.create_app()) as client:
        statuses = []
        for moment in (DEPRECATED_AT - 1, DEPRECATED_AT, SUNSET_AT):
            clock.now = moment
            versions = {(v["module"], v["version"]): v for v in client.get("/api/v2/core/versions").json()}
            statuses.append(versions[("alpha", "v1")]["status"])
    assert statuses == ["stable", "deprecated", "sunset"]
    alpha_v1 = versions[("alpha", "v1")]
    assert (alpha_v1["deprecation"], alpha_v1["sunset"], alpha_v1["successor"]) == ("2027-01-01", "2027-07-01", "v2")
    assert alpha_v1["migration_guide"] == "https://example.org/guides/alpha-v1-to-v2"
    assert versions[("alpha", "v2")]["status"] == "stable"
    assert versions[("alpha", "v2")]["sunset"] is None


# --- configuration checks ----------------------------------------------------------------------


def test_six_month_minimum_notice(installed: Installed, tmp_path: Path) -> None:
    text = ALPHA_V1.replace("sunset = 2027-07-01", "sunset = 2027-06-30")
    problems = problems_of(make_factory(installed, tmp_path / "c.toml", text))
    assert "lifecycle-short-notice" in problems
    assert "sunset 2027-06-30 is less than 6 months after deprecation 2027-01-01" in problems["lifecycle-short-notice"]
    assert str(tmp_path / "c.toml") in problems["lifecycle-short-notice"]

    allowed = make_factory(installed, tmp_path / "d.toml", text + "short_notice = true\n")
    assert allowed.plan().problems == []


def test_sunset_before_deprecation_is_refused_even_with_short_notice(installed: Installed, tmp_path: Path) -> None:
    text = ALPHA_V1.replace("sunset = 2027-07-01", "sunset = 2026-12-31") + "short_notice = true\n"
    problems = problems_of(make_factory(installed, tmp_path / "c.toml", text))
    assert list(problems) == ["lifecycle-sunset-before-deprecation"]


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        (
            ('successor = "v2"', 'successor = "v3"'),
            "lifecycle-successor-missing",
            "successor alpha v3 is not installed",
        ),
        (('successor = "v2"', 'successor = "v1"'), "lifecycle-invalid", "successor v1 is not a later version"),
        (('successor = "v2"', 'successor = "two"'), "lifecycle-invalid", "'two' is not an API version"),
        (("sunset = 2027-07-01\n", ""), "lifecycle-incomplete", "does not set sunset"),
        (('status = "deprecated"', 'status = "stable"'), "lifecycle-invalid", "is stable but sets deprecation"),
        (("[lifecycle.alpha.v1]", "[lifecycle.alpha.v7]"), "lifecycle-unknown-version", "alpha v7"),
        (("[lifecycle.alpha.v1]", "[lifecycle.gizmo.v1]"), "lifecycle-unknown-version", "it is not installed"),
        (("https://example.org/guides/alpha-v1-to-v2", "my guide"), "lifecycle-guide-invalid", "is not a URL"),
        (('status = "deprecated"', 'status = "retired"'), "config-invalid-value", "lifecycle.alpha.v1.status"),
    ],
)
def test_each_lifecycle_mistake_is_a_problem_with_a_fix(
    installed: Installed, tmp_path: Path, change: tuple[str, str], code: str, words: str
) -> None:
    text = ALPHA_V1.replace(*change)
    plan = make_factory(installed, tmp_path / "c.toml", text).plan()
    found = {p.code: p for p in plan.problems}
    assert code in found, plan.problems
    assert words in found[code].message
    assert found[code].fix


def test_lifecycle_problems_are_reported_with_every_other_problem(installed: Installed, tmp_path: Path) -> None:
    text = 'serve = ["v1", "v8"]\n' + ALPHA_V1.replace('successor = "v2"', 'successor = "v9"')
    with pytest.raises(ConfigError) as caught:
        make_factory(installed, tmp_path / "c.toml", text).create_app()
    codes = [p.code for p in caught.value.problems]
    assert codes == ["unknown-global-version", "lifecycle-successor-missing"]


def test_after_sunset_refuse_stops_the_start(installed: Installed, tmp_path: Path) -> None:
    text = 'after_sunset = "refuse"\n' + ALPHA_V1
    refused = make_factory(installed, tmp_path / "c.toml", text, clock=Clock(SUNSET_AT))
    with pytest.raises(ConfigError) as caught:
        refused.create_app()
    (problem,) = caught.value.problems
    assert problem.code == "version-sunset"
    assert "alpha v1 was sunset on 2027-07-01" in problem.message
    assert "serve alpha v2 instead of v1" in problem.fix

    # Not sunset yet: it starts, and so does a deployment that does not serve alpha v1.
    assert make_factory(installed, tmp_path / "d.toml", text, clock=Clock(SUNSET_AT - 1)).plan().problems == []
    only_v2 = AppFactory(
        write_config(tmp_path / "e.toml", text),
        environ={"GLOBAL_VERSION": "v2"},
        installed=installed,
        clock=Clock(SUNSET_AT),
    )
    assert only_v2.plan().problems == []


def test_a_users_table_replaces_only_the_same_version_of_the_default(installed: Installed, tmp_path: Path) -> None:
    factory = make_factory(installed, tmp_path / "c.toml", ALPHA_V1)
    plan = factory.plan()
    assert set(plan.lifecycles) == {("alpha", "v1")}  # the shipped broker v1 table: broker is not installed here
    assert plan.lifecycles[("alpha", "v1")].sunset == date(2027, 7, 1)


def test_the_clock_from_the_environment(installed: Installed, config_file: Any) -> None:
    factory = AppFactory(config_file(ALPHA_V1), environ={"TRADING_NOW": "2027-03-01"}, installed=installed)
    with TestClient(factory.create_app()) as client:
        response = client.get("/api/v1/alpha/items")
    assert response.headers["deprecation"] == "@1798761600"

    bad = AppFactory(config_file(ALPHA_V1, "b.toml"), environ={"TRADING_NOW": "soon"}, installed=installed)
    (problem,) = bad.plan().problems
    assert problem.code == "config-invalid-value"
    assert "TRADING_NOW in the environment: " in problem.message


def test_add_months_clamps_to_the_months_last_day() -> None:
    assert add_months(date(2026, 11, 1), 6) == date(2027, 5, 1)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2026, 7, 15), 6) == date(2027, 1, 15)


# --- the shipped default --------------------------------------------------------------------------


def test_shipped_default_deprecates_broker_v1_with_six_months_notice() -> None:
    import tomllib
    from importlib import resources

    shipped = tomllib.loads(resources.files("trading_host").joinpath("default.toml").read_text())
    broker_v1 = shipped["lifecycle"]["broker"]["v1"]
    assert broker_v1["status"] == "deprecated"
    assert broker_v1["successor"] == "v2"
    assert broker_v1["sunset"] >= add_months(broker_v1["deprecation"], 6)
    assert "short_notice" not in broker_v1
    assert broker_v1["migration_guide"] == "/docs/broker/migration-v1-to-v2"


# --- module documents ----------------------------------------------------------------------------


@pytest.fixture
def documented(site: FakeSite) -> str:
    """trading-gizmo 2.0.0: gizmo v1 and v2, shipping docs/ with a CHANGELOG per version and a guide."""
    files = plugin_package("gizmo", ["v1", "v2"])
    files["docs/CHANGELOG-v1.md"] = "# gizmo v1\n"
    files["docs/CHANGELOG-v2.md"] = "# gizmo v2\n"
    files["docs/migration-v1-to-v2.md"] = "# From v1 to v2\n\nUse v2.\n"
    package = site.package("gizmo", files)
    site.distribution("trading-gizmo", "2.0.0", {f"gizmo.{v}": f"{package}.api.{v}:GizmoApi" for v in ("v1", "v2")})
    return package


GIZMO_V1 = """
[lifecycle.gizmo.v1]
status = "deprecated"
deprecation = 2027-01-01
sunset = 2027-07-01
successor = "v2"
migration_guide = "/docs/gizmo/migration-v1-to-v2"
"""


def test_module_documents_are_served_from_the_package(documented: str, tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.toml", GIZMO_V1)
    factory = AppFactory(config, environ={"ENABLED_MODULES": "gizmo"}, clock=Clock(DEPRECATED_AT))
    with TestClient(factory.create_app()) as client:
        guide = client.get("/docs/gizmo/migration-v1-to-v2")
        with_suffix = client.get("/docs/gizmo/CHANGELOG-v2.md")
        index = client.get("/docs/gizmo/")
        missing = client.get("/docs/gizmo/nothing")
        escape = client.get("/docs/gizmo/..%2F__init__.py")
        deeper = client.get("/docs/gizmo/a/b")
        other_module = client.get("/docs/nobody/CHANGELOG-v1")
        posted = client.post("/docs/gizmo/CHANGELOG-v1")
        response = client.get("/api/v1/gizmo/version")

    assert guide.status_code == 200
    assert guide.headers["content-type"] == "text/markdown; charset=utf-8"
    assert guide.text == "# From v1 to v2\n\nUse v2.\n"
    assert with_suffix.text == "# gizmo v2\n"
    assert index.json() == {
        "module": "gizmo",
        "documents": [
            {"name": n, "url": f"/docs/gizmo/{n}"} for n in ("CHANGELOG-v1", "CHANGELOG-v2", "migration-v1-to-v2")
        ],
    }
    assert missing.status_code == 404
    assert "CHANGELOG-v1, CHANGELOG-v2, migration-v1-to-v2" in missing.json()["detail"]
    assert escape.status_code == 404
    assert deeper.status_code == 404
    assert other_module.status_code == 404
    assert posted.status_code == 405
    assert response.headers["x-api-migration-guide"] == "/docs/gizmo/migration-v1-to-v2"


def test_local_links_honour_the_root_path(documented: str, tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.toml", GIZMO_V1)
    factory = AppFactory(config, environ={"ENABLED_MODULES": "gizmo"}, clock=Clock(DEPRECATED_AT))
    with TestClient(factory.create_app(), root_path="/trading") as client:
        # An ASGI path includes the root path.
        response = client.get("/trading/api/v1/gizmo/version")
        index = client.get("/trading/docs/gizmo/")
    assert response.status_code == 200
    assert response.headers["x-api-migration-guide"] == "/trading/docs/gizmo/migration-v1-to-v2"
    assert response.headers["link"].startswith('</trading/docs/gizmo/migration-v1-to-v2>; rel="deprecation"')
    assert '</trading/api/v2/gizmo>; rel="successor-version"' in response.headers["link"]
    assert index.json()["documents"][0]["url"] == "/trading/docs/gizmo/CHANGELOG-v1"


def test_a_guide_path_naming_no_shipped_document_is_a_problem(documented: str, tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.toml", GIZMO_V1.replace("migration-v1-to-v2", "migrate"))
    plan = AppFactory(config, environ={"ENABLED_MODULES": "gizmo"}).plan()
    (problem,) = plan.problems
    assert problem.code == "lifecycle-guide-not-found"
    assert "gizmo ships: CHANGELOG-v1, CHANGELOG-v2, migration-v1-to-v2" in problem.message
    assert "add migrate.md to the docs folder" in problem.fix


# --- the CLI ------------------------------------------------------------------------------------

runner = CliRunner()


def test_modules_and_matrix_show_the_lifecycle(
    documented: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path / "c.toml", GIZMO_V1)
    monkeypatch.setenv("TRADING_NOW", "2027-02-01T00:00:00Z")

    listed = json.loads(runner.invoke(cli, ["modules", "--json", "--config", str(config)]).stdout)
    text = runner.invoke(cli, ["modules", "--config", str(config)]).stdout
    matrix = json.loads(runner.invoke(cli, ["matrix", "--json", "-c", str(config), "-e", "gizmo"]).stdout)
    matrix_text = runner.invoke(cli, ["matrix", "-c", str(config), "-e", "gizmo"]).stdout

    expected = {
        "status": "deprecated",
        "deprecation": "2027-01-01",
        "sunset": "2027-07-01",
        "successor": "v2",
        "migration_guide": "/docs/gizmo/migration-v1-to-v2",
    }
    assert listed["lifecycle"]["gizmo"]["v1"] == expected
    assert listed["lifecycle"]["gizmo"]["v2"]["status"] == "stable"
    assert "v1: deprecated since 2027-01-01, sunset 2027-07-01, successor v2" in text
    assert matrix["global_versions"]["v1"]["gizmo"] == {
        "version": "v1",
        "distribution": "trading-gizmo",
        "distribution_version": "2.0.0",
        **expected,
    }
    assert matrix["global_versions"]["v2"]["gizmo"]["status"] == "stable"
    gizmo_v1 = next(line for line in matrix_text.splitlines() if line.strip().startswith("gizmo        v1"))
    assert "[deprecated since 2027-01-01, sunset 2027-07-01, successor v2" in gizmo_v1

    monkeypatch.setenv("TRADING_NOW", "2027-07-01T00:00:00Z")
    later = json.loads(runner.invoke(cli, ["matrix", "--json", "-c", str(config), "-e", "gizmo"]).stdout)
    assert later["global_versions"]["v1"]["gizmo"]["status"] == "sunset"
