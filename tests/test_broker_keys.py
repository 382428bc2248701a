"""API keys made with the ``trading-broker`` command, used against a running server."""

from __future__ import annotations

from pathlib import Path

import pytest
from broker_support import bearer, broker_cli, broker_env, create_key, serve_command, sqlite_database
from harness import Serve, clean_env, ok

pytestmark = [pytest.mark.modules("broker"), pytest.mark.independent]
V2 = "/api/v2/broker"
ORDER = {"symbol": "AAPL", "quantity": 100}


def test_keys_from_the_command_work_against_the_running_server(serve: Serve, tmp_path: Path) -> None:
    env = broker_env(sqlite_database(tmp_path))
    alice = create_key("alice", cwd=tmp_path, env=env)
    server = serve(serve_command(), env=env)
    bob = create_key("bob", cwd=tmp_path, env=env)  # made while the server runs: accepted at once

    placed = server.post(f"{V2}/orders", json=ORDER, headers=bearer(alice))
    assert ok(placed)["account"] == "alice"
    assert ok(server.post(f"{V2}/orders", json=ORDER, headers=bearer(bob)))["account"] == "bob"

    unknown = server.post(f"{V2}/orders", json=ORDER, headers={"Authorization": "Bearer tb_0123456789ab_" + "x" * 43})
    assert unknown.status_code == 401
    assert server.post(f"{V2}/orders", json=ORDER, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert server.post(f"{V2}/orders", json=ORDER).status_code == 422

    # No account sees another's orders, positions or executions.
    order_id = placed.json()["id"]
    assert server.get(f"{V2}/orders/{order_id}", headers=bearer(bob)).status_code == 404
    assert [o["account"] for o in ok(server.get(f"{V2}/orders", headers=bearer(bob)))] == ["bob"]
    assert [p["account"] for p in ok(server.get(f"{V2}/positions", headers=bearer(bob)))] == ["bob"]
    assert [e["account"] for e in ok(server.get(f"{V2}/executions", headers=bearer(alice)))] == ["alice"]
    assert server.client.delete(f"{V2}/orders/{order_id}", headers=bearer(bob)).status_code == 404

    revoked = broker_cli("keys", "revoke", bob["id"], cwd=tmp_path, env=env)
    assert revoked.returncode == 0, revoked.stderr
    assert server.get(f"{V2}/orders", headers=bearer(bob)).status_code == 401
    assert server.get(f"{V2}/orders", headers=bearer(alice)).status_code == 200


def test_the_command_finds_the_servers_database_through_trading_toml(serve: Serve, tmp_path: Path) -> None:
    (tmp_path / "trading.toml").write_text(
        f'[modules.broker]\ndatabase_url = "{sqlite_database(tmp_path)}"\ndefault_account = "desk"\n'
    )
    env = clean_env()  # no database in the environment: both read ./trading.toml
    key = create_key("desk", cwd=tmp_path, env=env)
    server = serve(serve_command(), env=env)
    assert ok(server.post(f"{V2}/orders", json=ORDER, headers=bearer(key)))["account"] == "desk"
    listed = broker_cli("keys", "list", "--json", cwd=tmp_path, env=env)
    assert key["id"] in listed.stdout
    assert key["token"] not in listed.stdout
    info = broker_cli("db", "info", cwd=tmp_path, env=env)
    assert "[modules.broker] database_url in trading.toml" in info.stdout
