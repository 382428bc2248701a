"""Gradual rollout against the installed wheels: the alias splits callers by weight, the split is
the same in two separate server processes and after a restart, and works over WebSocket."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import BIN, Serve, Server, with_pythonpath
from lifecycle_support import relay_plugin, ws_connect

# Only core and the relay plugin are enabled: no installed module takes part.
pytestmark = pytest.mark.independent

CONFIG = """
[matrix.v1]
core = "v1"
relay = "v1"

[matrix.v2]
core = "v1"
relay = "v2"

[rollout]
alias = "latest"
key = "header:X-Client-Id"
weights = { v1 = 70, v2 = 30 }
"""
CALLERS = [f"user-{n}" for n in range(400)]


def assignments(server: Server) -> dict[str, str]:
    """Which global version served each caller through the alias (the header and the body agree)."""
    found: dict[str, str] = {}
    for caller in CALLERS:
        response = server.get("/api/latest/relay/ping", headers={"X-Client-Id": caller})
        assert response.status_code == 200
        version = response.headers["x-api-global-version"]
        assert response.json()["version"] == version  # in these rows relay's version is the global one
        found[caller] = version
    return found


def test_the_split_follows_the_weights_in_every_process_and_after_a_restart(serve: Serve, tmp_path: Path) -> None:
    site = tmp_path / "site"
    relay_plugin(site)
    (tmp_path / "trading.toml").write_text(CONFIG)
    command = [str(BIN / "trading-host"), "serve", "--port", "{port}"]
    env = with_pythonpath(site, ENABLED_MODULES="relay")
    # Fresh interpreters: each its own hash seed, which a split by hash() would follow.
    first, second = serve(command, env=env, fresh=True), serve(command, env=env, fresh=True)

    by_first = assignments(first)
    by_second = assignments(second)
    first.stop()
    restarted = assignments(serve(command, env=env, fresh=True))

    share = sum(v == "v2" for v in by_first.values()) / len(CALLERS)
    assert abs(share - 0.30) < 0.07, share
    assert by_first == by_second == restarted


def test_the_alias_over_websocket(serve: Serve, tmp_path: Path) -> None:
    site = tmp_path / "site"
    relay_plugin(site)
    (tmp_path / "trading.toml").write_text(CONFIG)
    server = serve(
        [str(BIN / "trading-host"), "serve", "--port", "{port}"], env=with_pythonpath(site, ENABLED_MODULES="relay")
    )
    for caller in CALLERS[:20]:
        expected = server.get("/api/latest/relay/ping", headers={"X-Client-Id": caller}).headers["x-api-global-version"]
        with ws_connect(server.base_url, "/api/latest/relay/ws", {"X-Client-Id": caller}) as ws:
            assert ws.response is not None
            assert ws.response.headers["X-API-Global-Version"] == expected
            ws.send("hi")
            assert ws.recv(timeout=10) == f"{expected}:hi"
    no_key = server.get("/api/latest/relay/ping")
    assert no_key.headers["x-api-global-version"] == "v1"  # the fallback: the largest weight
    assert server.get("/api/v2/relay/ping").headers.get("x-api-global-version") is None
