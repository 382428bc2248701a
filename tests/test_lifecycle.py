"""Version lifecycles against the installed wheels and real uvicorn processes: the headers, the 410
after sunset, WebSocket handshakes, crossing the dates while the server runs (its clock started by
TRADING_NOW), the shipped default (broker v1 deprecated for v2), documents, the CLI, and the
start-up refusal of a sunset version."""

from __future__ import annotations

import json
import time
from pathlib import Path

import forked
import httpx
import pytest
from harness import BIN, Serve, Server, clean_env, cli_json, run_cli, with_pythonpath
from lifecycle_support import GUIDE, iso, midnight, relay_lifecycle, relay_plugin, ws_connect
from websockets.exceptions import InvalidStatus

LIFECYCLE_HEADERS = ("deprecation", "sunset", "link", "x-api-deprecation", "x-api-sunset-date", "x-api-migration-guide")
RELAY_HEADERS = {
    "deprecation": "@1798761600",
    "sunset": "Thu, 01 Jul 2027 00:00:00 GMT",
    "link": (
        '</docs/relay/migration-v1-to-v2>; rel="deprecation", </docs/relay/migration-v1-to-v2>; rel="sunset", '
        '</api/v2/relay>; rel="successor-version"'
    ),
    "x-api-deprecation": "Relay API v1 is deprecated. Migrate to v2 by 2027-07-01",
    "x-api-sunset-date": "2027-07-01",
    "x-api-migration-guide": "/docs/relay/migration-v1-to-v2",
}


def lifecycle_of(headers: httpx.Headers | dict[str, str]) -> dict[str, str]:
    return {name: headers[name] for name in LIFECYCLE_HEADERS if name in headers}


def start_relay(serve: Serve, tmp_path: Path, name: str, config: str, now: float) -> Server:
    """A server of relay (and core) under ``config`` whose clock starts at ``now``."""
    folder = tmp_path / name
    site = folder / "site"
    relay_plugin(site)
    (folder / "trading.toml").write_text(config)
    env = with_pythonpath(
        site, TRADING_NOW=iso(now), TRADING_CONFIG=str(folder / "trading.toml"), ENABLED_MODULES="relay"
    )
    return serve([str(BIN / "trading-host"), "serve", "--port", "{port}"], env=env)


def relay_v1_status(server: Server) -> str:
    """relay v1's status by the server's own clock, from /core/versions."""
    versions = server.get("/api/v2/core/versions").json()
    return str(next(v["status"] for v in versions if (v["module"], v["version"]) == ("relay", "v1")))


def wait_for_status(server: Server, status: str, margin: float) -> None:
    """Wait until the server's clock, started ``margin`` seconds before a date, has crossed it."""
    # Its clock starts before it first answers, so it crosses the date within ``margin`` of that;
    # the minute beyond is only there to end a test that would otherwise hang.
    deadline = server.ready + margin + 60
    while relay_v1_status(server) != status:
        assert time.monotonic() < deadline, f"relay v1 never became {status}"
        time.sleep(0.1)


def handshake_headers(base_url: str, path: str) -> dict[str, str]:
    with ws_connect(base_url, path) as ws:
        assert ws.response is not None
        headers = {k.lower(): v for k, v in ws.response.headers.raw_items()}
        ws.send("hi")
        assert ws.recv(timeout=10) == f"{path.split('/')[2]}:hi"
    return headers


def observe(server: Server) -> tuple[httpx.Response, dict[str, str], str]:
    """relay v1 over HTTP and over a WebSocket handshake, then its status by the server's clock.

    The server's clock only moves forward: the status it reports after the calls held for them."""
    return (
        server.get("/api/v1/relay/ping"),
        handshake_headers(server.base_url, "/api/v1/relay/ws"),
        relay_v1_status(server),
    )


def start_before(
    serve: Serve, tmp_path: Path, name: str, config: str, date: str, status: str, margin: float
) -> tuple[Server, httpx.Response, dict[str, str], float]:
    """A relay server whose clock starts ``margin`` seconds before ``date``, observed while relay v1
    is still ``status``, and the margin it took.

    Should the machine have been slower than measured, so that the server's clock passed the date
    before the calls were answered, the server is started again with a margin of at least three
    times what starting and asking it took (three attempts at most, each with a larger margin)."""
    for attempt in range(3):
        server = start_relay(serve, tmp_path, f"{name}{attempt}", config, midnight(date) - margin)
        http, handshake, seen = observe(server)
        if seen == status:
            return server, http, handshake, margin
        margin = max(2 * margin, 3 * (time.monotonic() - server.launched))
        server.stop()
    raise AssertionError(f"relay v1 was no longer {status} when the calls were answered, three times")


@pytest.mark.independent
def test_crossing_the_deprecation_and_sunset_dates_over_http_and_websocket(serve: Serve, tmp_path: Path) -> None:
    config = relay_lifecycle("2027-01-01", "2027-07-01")
    # Each crossing server's clock starts a margin before a date: long enough for it to be started
    # and asked before it reaches the date, measured here on one that is never near a date.
    probe = start_relay(serve, tmp_path, "probe", config, midnight("2026-06-01"))
    assert observe(probe)[2] == "stable"
    margin = 2 * (time.monotonic() - probe.launched) + 1
    probe.stop()

    first, stable, stable_ws, first_margin = start_before(serve, tmp_path, "a", config, "2027-01-01", "stable", margin)
    second, deprecated, deprecated_ws, second_margin = start_before(
        serve, tmp_path, "b", config, "2027-07-01", "deprecated", margin
    )

    # The same servers once their clocks have crossed the dates.
    wait_for_status(first, "deprecated", first_margin)
    now_deprecated = first.get("/api/v1/relay/ping")
    now_deprecated_ws = handshake_headers(first.base_url, "/api/v1/relay/ws")
    openapi = first.get("/api/v1/openapi.json").json()
    wait_for_status(second, "sunset", second_margin)
    gone = second.get("/api/v1/relay/ping")
    with pytest.raises(InvalidStatus) as refused, ws_connect(second.base_url, "/api/v1/relay/ws"):
        pass
    successor = second.get("/api/v2/relay/ping")
    successor_ws = handshake_headers(second.base_url, "/api/v2/relay/ws")

    assert stable.status_code == 200
    assert lifecycle_of(stable.headers) == {}
    assert lifecycle_of(stable_ws) == {}

    assert now_deprecated.status_code == 200
    assert lifecycle_of(now_deprecated.headers) == RELAY_HEADERS
    assert lifecycle_of(now_deprecated_ws) == RELAY_HEADERS
    assert openapi["paths"]["/api/v1/relay/ping"]["get"]["deprecated"] is True
    assert lifecycle_of(deprecated.headers) == RELAY_HEADERS
    assert lifecycle_of(deprecated_ws) == RELAY_HEADERS

    assert gone.status_code == 410
    assert gone.headers["content-type"] == "application/problem+json"
    assert lifecycle_of(gone.headers) == RELAY_HEADERS
    problem = gone.json()
    assert {k: problem[k] for k in ("type", "title", "status")} == {
        "type": "urn:trading-api:problem:version-sunset",
        "title": "API version sunset",
        "status": 410,
    }
    assert "Use relay v2 at /api/v2/relay" in problem["detail"]
    assert "/docs/relay/migration-v1-to-v2" in problem["detail"]
    response = refused.value.response
    assert response.status_code == 410
    assert json.loads(response.body or b"{}")["successor"] == "v2"
    assert response.headers["Deprecation"] == "@1798761600"
    assert successor.status_code == 200
    assert lifecycle_of(successor.headers) == {}
    assert lifecycle_of(successor_ws) == {}


@pytest.mark.independent
def test_the_links_lead_to_the_guide_and_the_successor(serve: Serve, tmp_path: Path) -> None:
    config = relay_lifecycle("2027-01-01", "2027-07-01")
    server = start_relay(serve, tmp_path, "a", config, midnight("2027-02-01"))
    response = server.get("/api/v1/relay/ping")
    links = httpx.Response(200, headers={"link": response.headers["link"]}).links
    guide = server.get(links["deprecation"]["url"])
    successor = server.get(links["successor-version"]["url"] + "/ping")
    changelogs = [server.get(f"/docs/relay/CHANGELOG-{v}").text for v in ("v1", "v2")]
    core_changelog = server.get("/docs/core/CHANGELOG-v1")  # shipped in the trading-core wheel
    openapi = server.get("/api/v1/openapi.json").json()

    assert guide.status_code == 200
    assert guide.headers["content-type"] == "text/markdown; charset=utf-8"
    assert guide.text == GUIDE
    assert links["sunset"]["url"] == links["deprecation"]["url"]
    assert successor.json()["version"] == "v2"
    assert changelogs == ["# relay v1\n", "# relay v2\n"]
    assert core_changelog.status_code == 200
    assert core_changelog.text.startswith("# Core API v1: changelog")
    ping = openapi["paths"]["/api/v1/relay/ping"]["get"]
    assert (ping["deprecated"], ping["x-sunset"]) == (True, "2027-07-01")
    assert "deprecated" not in openapi["paths"]["/api/v1/core/health"]["get"]


@pytest.mark.independent
def test_refusing_to_start_a_sunset_version_is_a_config_switch(tmp_path: Path) -> None:
    site = tmp_path / "site"
    relay_plugin(site)
    (tmp_path / "trading.toml").write_text('after_sunset = "refuse"\n' + relay_lifecycle("2027-01-01", "2027-07-01"))
    # Only relay: the shipped broker v1 is sunset on 2027-06-01 and would be refused too.
    env = with_pythonpath(site, TRADING_NOW="2027-07-02T00:00:00Z", ENABLED_MODULES="relay")

    served = run_cli("serve", "--port", "0", cwd=tmp_path, env=env)
    checked = run_cli("matrix", "--check", cwd=tmp_path, env=env)
    uvicorn = forked.run(
        [str(BIN / "uvicorn"), "trading_host.main:app", "--port", "0"], cwd=tmp_path, env=env, timeout=60
    )
    before_sunset = run_cli("matrix", "--check", cwd=tmp_path, env={**env, "TRADING_NOW": "2027-06-30T00:00:00Z"})

    for result in (served, checked, uvicorn):
        assert result.returncode == 2, result.stdout + result.stderr
        assert "[version-sunset] relay v1 was sunset on 2027-07-01" in result.stderr
        assert "fix: serve relay v2 instead of v1" in result.stderr
        assert "Traceback" not in result.stderr
    assert before_sunset.returncode == 0, before_sunset.stderr


@pytest.mark.independent
def test_lifecycle_mistakes_are_reported_before_serving(tmp_path: Path) -> None:
    site = tmp_path / "site"
    relay_plugin(site)
    config = relay_lifecycle("2027-01-01", "2027-03-01").replace("migration-v1-to-v2", "no-such-guide")
    (tmp_path / "trading.toml").write_text(config + '\n[lifecycle.relay.v2]\nstatus = "deprecated"\n')
    result = run_cli("serve", "--port", "0", cwd=tmp_path, env=with_pythonpath(site))
    assert result.returncode == 2
    assert "[lifecycle-short-notice]" in result.stderr
    assert "set sunset to 2027-07-01 or later, or add short_notice = true" in result.stderr
    assert "[lifecycle-incomplete] [lifecycle.relay.v2]" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.independent
def test_the_cli_shows_the_lifecycle(tmp_path: Path) -> None:
    site = tmp_path / "site"
    relay_plugin(site)
    (tmp_path / "trading.toml").write_text(relay_lifecycle("2027-01-01", "2027-07-01"))
    env = with_pythonpath(site, TRADING_NOW="2027-03-01T00:00:00Z")

    modules = cli_json("modules", cwd=tmp_path, env=env)
    matrix = cli_json("matrix", "--enable", "relay", cwd=tmp_path, env=env)
    text = run_cli("matrix", "--enable", "relay", cwd=tmp_path, env=env).stdout

    expected = {
        "status": "deprecated",
        "deprecation": "2027-01-01",
        "sunset": "2027-07-01",
        "successor": "v2",
        "migration_guide": "/docs/relay/migration-v1-to-v2",
    }
    assert modules["lifecycle"]["relay"]["v1"] == expected  # type: ignore[index]
    assert modules["lifecycle"]["relay"]["v2"]["status"] == "stable"  # type: ignore[index]
    assert matrix["global_versions"]["v1"]["relay"]["status"] == "deprecated"  # type: ignore[index]
    assert matrix["global_versions"]["v1"]["relay"]["sunset"] == "2027-07-01"  # type: ignore[index]
    assert "[deprecated since 2027-01-01, sunset 2027-07-01, successor v2" in text


# --- the shipped default: broker v1 deprecated in favour of v2 -------------------------------------

BROKER_HEADERS = {
    "deprecation": "@1793491200",
    "sunset": "Tue, 01 Jun 2027 00:00:00 GMT",
    "link": (
        '</docs/broker/migration-v1-to-v2>; rel="deprecation", </docs/broker/migration-v1-to-v2>; rel="sunset", '
        '</api/v2/broker>; rel="successor-version"'
    ),
    "x-api-deprecation": "Broker API v1 is deprecated. Migrate to v2 by 2027-06-01",
    "x-api-sunset-date": "2027-06-01",
    "x-api-migration-guide": "/docs/broker/migration-v1-to-v2",
}


@pytest.mark.modules("broker")
@pytest.mark.independent
def test_the_shipped_default_deprecates_broker_v1(serve: Serve, tmp_path: Path) -> None:
    env = clean_env(TRADING_NOW="2026-11-28T12:00:00Z")
    server = serve([str(BIN / "trading-host"), "serve", "--port", "{port}"], env=env)

    v1 = server.get("/api/v1/broker/orders")
    v2 = server.get("/api/v2/broker/orders")  # no token: 422, and no deprecation headers
    versions = {(v["module"], v["version"]): v for v in server.get("/api/v2/core/versions").json()}
    guide = server.get("/docs/broker/migration-v1-to-v2")
    index = server.get("/docs/broker/").json()
    openapi = server.get("/api/v1/openapi.json").json()
    listed = cli_json("modules", cwd=tmp_path, env=env)

    assert v1.status_code == 200
    assert lifecycle_of(v1.headers) == BROKER_HEADERS
    assert lifecycle_of(v2.headers) == {}
    broker_v1 = versions[("broker", "v1")]
    assert (broker_v1["status"], broker_v1["deprecation"], broker_v1["sunset"]) == (
        "deprecated",
        "2026-11-01",
        "2027-06-01",
    )
    assert (broker_v1["successor"], broker_v1["migration_guide"]) == ("v2", "/docs/broker/migration-v1-to-v2")
    assert versions[("broker", "v2")]["status"] == "stable"
    assert guide.status_code == 200
    assert guide.text.startswith("# Migrating from broker API v1 to v2")
    assert {d["name"] for d in index["documents"]} >= {"CHANGELOG-v1", "CHANGELOG-v2", "migration-v1-to-v2"}
    broker_operations = [op for p, item in openapi["paths"].items() if "/broker/" in p for op in item.values()]
    assert broker_operations
    assert all(op["deprecated"] is True and op["x-sunset"] == "2027-06-01" for op in broker_operations)
    assert listed["lifecycle"]["broker"]["v1"]["status"] == "deprecated"  # type: ignore[index]


@pytest.mark.modules("broker")
@pytest.mark.independent
def test_the_shipped_broker_v1_is_gone_after_its_sunset(serve: Serve, tmp_path: Path) -> None:
    server = serve([str(BIN / "trading-host"), "serve", "--port", "{port}"], env=clean_env(TRADING_NOW="2027-06-01"))
    gone = server.post("/api/v1/broker/orders", json={"symbol": "AAPL", "quantity": 1, "order_type": "MARKET"})
    assert gone.status_code == 410
    assert "Use broker v2 at /api/v2/broker" in gone.json()["detail"]
    assert server.get("/api/v1/broker/orders").status_code == 410
    assert server.get("/api/v1/core/health").status_code == 200
