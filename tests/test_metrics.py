"""Usage metrics against the installed wheels: /metrics of a real server, summed over several
worker processes (prometheus-client's multiprocess mode), calls to a deprecated version by client,
and the switch."""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from harness import BIN, Serve, with_pythonpath
from lifecycle_support import relay_lifecycle, relay_plugin, scrape

# Only core and the relay plugin are enabled: no installed module takes part.
pytestmark = pytest.mark.independent

CALLS = 90


def relay_env(tmp_path: Path, extra_config: str = "", **env: str) -> dict[str, str]:
    site = tmp_path / "site"
    relay_plugin(site)
    (tmp_path / "trading.toml").write_text(relay_lifecycle("2027-01-01", "2027-07-01") + extra_config)
    return with_pythonpath(site, TRADING_NOW="2027-02-01T00:00:00Z", ENABLED_MODULES="relay", **env)


def test_several_workers_add_up_their_metrics(serve: Serve, tmp_path: Path) -> None:
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = relay_env(tmp_path, '\n[metrics]\nclient = "header:X-Client-Id"\n', PROMETHEUS_MULTIPROC_DIR=str(folder))
    # uvicorn's own --workers, as a deployment runs it (trading-host serve --workers N sets the
    # folder itself); a patient health check, since a worker may take seconds to start on a busy machine.
    command = [str(BIN / "uvicorn"), "trading_host.main:app", "--port", "{port}", "--workers", "2"]
    server = serve([*command, "--timeout-worker-healthcheck", "60"], env=env)

    def call(n: int, path: str = "/api/v1/relay/ping") -> int:
        # A new connection per call, and each call holds its worker a moment, so that the kernel
        # hands the next connections to the other worker.
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            response = client.get(path, params={"hold": 0.05}, headers={"X-Client-Id": f"team-{n % 3}"})
            assert response.status_code == 200
            return int(response.json()["pid"])

    # The server answers once one worker is up; wait for the second (through v2, not counted below).
    deadline = time.monotonic() + 60
    with ThreadPoolExecutor(max_workers=8) as pool:
        while len(set(pool.map(lambda n: call(n, "/api/v2/relay/ping"), range(16)))) < 2:
            assert time.monotonic() < deadline, "the second worker never answered"
        pids = list(pool.map(call, range(CALLS)))

    assert len(set(pids)) == 2, "both workers should have served calls"
    # Each scrape (a new connection) is answered by one worker or the other, and each worker served
    # only part of the calls: a scrape that counts them all added up both workers.
    for _ in range(6):
        requests = scrape(server.base_url, "trading_api_requests_total")
        relay_v1 = (("global_version", "v1"), ("module", "relay"), ("status_class", "2xx"), ("version", "v1"))
        assert requests[relay_v1] == CALLS
        deprecated = scrape(server.base_url, "trading_api_deprecated_requests_total")
        by_client = {dict(k)["client"]: v for k, v in deprecated.items() if dict(k)["module"] == "relay"}
        assert by_client == {"team-0": CALLS / 3, "team-1": CALLS / 3, "team-2": CALLS / 3}
        latency = scrape(server.base_url, "trading_api_request_duration_seconds_count")
        assert latency[(("global_version", "v1"), ("module", "relay"), ("version", "v1"))] == CALLS


def test_api_keys_are_counted_by_hash_and_never_shown(serve: Serve, tmp_path: Path) -> None:
    server = serve([str(BIN / "trading-host"), "serve", "--port", "{port}"], env=relay_env(tmp_path))
    token = "a-client-secret-token-0123456789"
    for _ in range(3):
        server.get("/api/v1/relay/ping", headers={"Authorization": f"Bearer {token}"})
    server.get("/api/v1/relay/ping")
    text = server.get("/metrics").text
    deprecated = scrape(server.base_url, "trading_api_deprecated_requests_total")

    assert token not in text
    clients = {dict(k)["client"]: v for k, v in deprecated.items()}
    # The first 16 hex digits of the key's SHA-256: what the broker's config stores, never the key.
    assert clients == {f"key:{hashlib.sha256(token.encode()).hexdigest()[:16]}": 3, "anonymous": 1}


def test_metrics_can_be_switched_off(serve: Serve, tmp_path: Path) -> None:
    env = relay_env(tmp_path, "\n[metrics]\nenabled = false\n")
    server = serve([str(BIN / "trading-host"), "serve", "--port", "{port}"], env=env)
    assert server.get("/api/v1/relay/ping").status_code == 200
    assert server.get("/metrics").status_code == 404
