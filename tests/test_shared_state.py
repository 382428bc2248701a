"""One module instance per process, shared by every version and global version; lifespans run once."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fake_plugins import plugin
from harness import BIN, Serve, clean_env, with_pythonpath

MATRIX = """
[matrix.v1]
core = "v1"
gadget = "v1"

[matrix.v2]
core = "v1"
gadget = "v2"

[matrix.v3]
core = "v1"
gadget = "v2"
"""


@pytest.mark.independent
def test_one_instance_and_one_lifespan_for_all_versions(serve: Serve, tmp_path: Path) -> None:
    site = tmp_path / "site"
    plugin(site, "gadget", ["v1", "v2"])
    (tmp_path / "trading.toml").write_text(MATRIX)
    log = tmp_path / "lifespan.log"
    server = serve(
        [str(BIN / "trading-host"), "serve", "--port", "{port}", "--enable", "gadget"],
        env=with_pythonpath(site, LIFESPAN_LOG=str(log)),
    )
    answers = [server.get(f"/api/{g}/gadget/ping").json() for g in ("v1", "v2", "v3")]
    assert [a["version"] for a in answers] == ["v1", "v2", "v2"]
    assert len({a["instance"] for a in answers}) == 1  # the same Module instance behind every version
    assert log.read_text().split()[:2] == ["start", "gadget"]
    output = server.stop()
    events = [line.split()[:2] for line in log.read_text().splitlines()]
    assert events == [["start", "gadget"], ["stop", "gadget"]], output


@pytest.mark.modules("broker")
@pytest.mark.independent
def test_order_placed_through_v1_is_visible_through_v2(serve: Serve, tmp_path: Path) -> None:
    token = "integration-test-token"
    digest = hashlib.sha256(token.encode()).hexdigest()
    (tmp_path / "trading.toml").write_text(
        f"""
[modules.broker]
default_account = "default"
api_keys = [{{account = "default", sha256 = "{digest}"}}, {{account = "other", sha256 = "{"0" * 64}"}}]
"""
    )
    server = serve([str(BIN / "trading-host"), "serve", "--port", "{port}"], env=clean_env())
    placed = server.post("/api/v1/broker/orders", json={"symbol": "AAPL", "quantity": 100, "order_type": "MARKET"})
    assert placed.status_code == 200, placed.text
    order = placed.json()
    auth = {"Authorization": f"Bearer {token}"}
    seen = server.get(f"/api/v2/broker/orders/{order['id']}", headers=auth)
    assert seen.status_code == 200, seen.text
    for field, value in order.items():  # every v1 field is present in v2, with the same value
        assert seen.json()[field] == value, field
    via_v2 = server.post("/api/v2/broker/orders", json={"symbol": "AAPL", "quantity": 100}, headers=auth)
    assert via_v2.status_code == 200, via_v2.text
    listed = {o["id"] for o in server.get("/api/v1/broker/orders").json()}
    assert {order["id"], via_v2.json()["id"]} <= listed
