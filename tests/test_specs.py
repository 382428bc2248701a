"""The committed contract documents against the installed wheels: every module version's wheel
ships its documents, a running server serves exactly what ``trading-host specs`` generates from
the same code, the AsyncAPI document describes the real WebSocket traffic, and the breaking-change
guard (``trading-host specs --guard``) catches a deliberately broken baseline.

Whether the committed documents match the code byte for byte (``trading-host specs --check``)
depends on the FastAPI and pydantic releases that generate them, so that check runs in nox's
contracts session on the releases they were made with, not in every combination here.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from broker_support import bearer, broker_env, configured_key, serve_command, sqlite_database
from harness import INSTALLED, Serve, ok, run_cli
from openapi_spec_validator import validate
from websockets.sync.client import connect

from trading_host._contracts._validation import asyncapi_errors

# Before broker v1's deprecation date in the shipped configuration, so that the served documents
# carry no lifecycle marks (the committed ones never do: they must not change with the date).
BEFORE_DEPRECATION = "2026-06-01T00:00:00Z"
PACKAGES = {"core": "trading_core", "broker": "trading_broker", "datafeed": "trading_datafeed"}
STREAMS = {("broker", "v1"), ("broker", "v2"), ("datafeed", "v1")}
# Its tests share the documents of a module-scoped fixture: one pytest-xdist process runs them all.
pytestmark = pytest.mark.xdist_group("specs")


def shipped(package: str, name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(resources.files(package).joinpath("specs_generated", name).read_text())
    return document


def without_servers(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "servers"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every document, as ``trading-host specs --out`` generates it from the installed code."""
    out = tmp_path_factory.mktemp("specs")
    modules = [m for m in ("core", "broker", "datafeed") if m in INSTALLED]
    args = ["specs", "--out", str(out)]
    if not {"broker", "datafeed"} <= INSTALLED:  # the shipped matrix names both
        args += [item for m in modules for item in ("--module", m)]
    result = run_cli(*args, cwd=out)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_each_wheel_ships_a_valid_document_per_module_version() -> None:
    for module, package in PACKAGES.items():
        if module not in INSTALLED:
            continue
        folder = resources.files(package).joinpath("specs_generated")
        names = sorted(item.name for item in folder.iterdir())
        versions = sorted({name.split(".")[1] for name in names})
        assert versions, f"{package} ships no documents"
        for version in versions:
            validate(shipped(package, f"{module}.{version}.openapi.json"))
            if (module, version) in STREAMS:
                assert asyncapi_errors(shipped(package, f"{module}.{version}.asyncapi.json")) == []
    host = sorted(item.name for item in resources.files("trading_host").joinpath("specs_generated").iterdir())
    assert host == ["global-v1.openapi.json", "global-v2.openapi.json"]
    for name in host:
        validate(shipped("trading_host", name))


@pytest.mark.modules("broker", "datafeed")
@pytest.mark.independent
def test_the_server_serves_what_specs_generates(serve: Serve, generated: Path, tmp_path: Path) -> None:
    env = broker_env(sqlite_database(tmp_path), TRADING_NOW=BEFORE_DEPRECATION)
    server = serve([*serve_command(), "-e", "broker", "-e", "datafeed"], env=env)

    def committed(name: str) -> dict[str, Any]:
        document: dict[str, Any] = json.loads((generated / name).read_text())
        return document

    for global_version in ("v1", "v2"):
        assert ok(server.get(f"/api/{global_version}/openapi.json")) == committed(
            f"global-{global_version}.openapi.json"
        )
    for global_version, module, version in (("v1", "broker", "v1"), ("v2", "broker", "v2"), ("v1", "datafeed", "v1")):
        served = ok(server.get(f"/api/{global_version}/{module}/asyncapi.json"))
        assert without_servers(served) == committed(f"{module}.{version}.asyncapi.json")
        port = server.base_url.rsplit(":", 1)[1]
        assert served["servers"]["this"] == {
            "host": f"127.0.0.1:{port}",
            "pathname": f"/api/{global_version}/{module}",
            "protocol": "ws",
        }
    assert server.get("/api/v1/core/asyncapi.json").status_code == 404  # core has no streams


@pytest.mark.modules("broker")
@pytest.mark.independent
def test_a_standalone_module_version_serves_its_documents(serve: Serve, generated: Path, tmp_path: Path) -> None:
    env = broker_env(sqlite_database(tmp_path))
    server = serve([*serve_command(), "-e", "broker", "--module-version", "v2"], env=env, ready_path="/v2/openapi.json")

    assert ok(server.get("/v2/openapi.json")) == json.loads((generated / "broker.v2.openapi.json").read_text())
    served = ok(server.get("/v2/asyncapi.json"))
    assert without_servers(served) == json.loads((generated / "broker.v2.asyncapi.json").read_text())
    assert served["servers"]["this"]["pathname"] == "/v2"


def frame_validator(document: dict[str, Any], message_type: str) -> jsonschema.Draft7Validator:
    """Validates one message type's frames against the document (its components beside the
    payload schema, so that the ``#/components/schemas/...`` references resolve)."""
    (channel,) = document["channels"].values()
    return jsonschema.Draft7Validator(
        {**channel["messages"][message_type]["payload"], "components": document["components"]}
    )


@pytest.mark.modules("broker")
@pytest.mark.independent
def test_the_broker_v2_streams_document_describes_the_real_traffic(serve: Serve, tmp_path: Path) -> None:
    env = broker_env(sqlite_database(tmp_path))
    key = configured_key("alice", env)
    server = serve(serve_command(), env=env)
    document = ok(server.get("/api/v2/broker/asyncapi.json"))
    address = document["servers"]["this"]["pathname"] + document["channels"]["ws"]["address"]
    sent: list[dict[str, Any]] = [
        {"type": "orders.subscribe", "id": 1, "payload": {"symbol": "aapl"}},
        {"type": "orders.subscribe", "id": 2, "payload": {"symbol": "NOPE"}},
        {"type": "equity.subscribe", "id": "e"},
    ]
    received: list[dict[str, Any]] = []

    with connect(server.base_url.replace("http://", "ws://") + address, additional_headers=bearer(key)) as ws:
        for message in sent:
            ws.send(json.dumps(message))
            reply = json.loads(ws.recv(timeout=10))
            received.append(reply)
            while reply.get("id") != message["id"]:  # an update may come before the next reply
                reply = json.loads(ws.recv(timeout=10))
                received.append(reply)
        ok(server.post("/api/v2/broker/orders", json={"symbol": "AAPL", "quantity": 1}, headers=bearer(key)))
        while not any(m["type"] == "orders.update" for m in received):
            received.append(json.loads(ws.recv(timeout=10)))

    for message in sent:
        assert list(frame_validator(document, message["type"]).iter_errors(message)) == [], message
    types = {m["type"] for m in received}
    assert {"orders.subscribe.response", "error", "equity.subscribe.response", "orders.update"} <= types
    for message in received:
        assert message["type"] in document["channels"]["ws"]["messages"], message
        assert list(frame_validator(document, message["type"]).iter_errors(message)) == [], message


def break_baseline(path: Path) -> None:
    """Make a committed document promise what the code does not do, as if the code had broken a
    released version: an operation, a response field and a request enum value it lacks, and a
    request field the code now requires."""
    document = json.loads(path.read_text())
    schemas = document["components"]["schemas"]
    place = document["paths"]["/orders"]["post"]
    placed = schemas[place["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    placed["properties"]["placed_by"] = {"type": "string"}
    placed.setdefault("required", []).append("placed_by")
    schemas["OrderType"]["enum"].append("TRAILING_STOP")
    document["paths"]["/orders"]["delete"] = {
        "operationId": "cancelAllOrders",
        "responses": {"204": {"description": "every open order cancelled"}},
    }
    pre_order = schemas[place["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    pre_order["required"].remove("quantity")
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")


def baselines(generated: Path, tmp_path: Path) -> Path:
    """A copy of the generated documents, to play the committed baselines."""
    out = tmp_path / "baselines"
    shutil.copytree(generated, out)
    return out


@pytest.mark.modules("broker")
@pytest.mark.independent
def test_the_guard_catches_a_broken_copy_of_the_broker_v1_baseline(generated: Path, tmp_path: Path) -> None:
    out = baselines(generated, tmp_path)
    baseline = out / "broker.v1.openapi.json"
    break_baseline(baseline)
    broken = baseline.read_text()

    guard = run_cli("specs", "--out", str(out), "--module", "broker", "--guard", cwd=tmp_path)
    write = run_cli("specs", "--out", str(out), "--module", "broker", cwd=tmp_path)

    assert guard.returncode == 1, guard.stdout + guard.stderr
    report = guard.stdout
    assert "broker.v1.openapi.json" in report
    assert "broker.v2" not in report  # the other version is unchanged
    for expected in ("DELETE /orders", "placed_by", "TRAILING_STOP", "quantity"):
        assert expected in report, expected
    assert write.returncode == 1
    assert "--allow-breaking broker.v1" in write.stderr
    assert baseline.read_text() == broken  # a released baseline is not overwritten by a breaking change


@pytest.mark.modules("broker")
@pytest.mark.independent
def test_unchanged_and_additive_changes_pass_the_guard(generated: Path, tmp_path: Path) -> None:
    out = baselines(generated, tmp_path)
    baseline = out / "broker.v1.openapi.json"
    document = json.loads(baseline.read_text())
    del document["paths"]["/positions"]  # the code serves an operation the baseline lacks: an addition
    baseline.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")

    guard = run_cli("specs", "--out", str(out), "--module", "broker", "--guard", cwd=tmp_path)
    check = run_cli("specs", "--out", str(out), "--module", "broker", "--check", cwd=tmp_path)

    assert guard.returncode == 0, guard.stdout + guard.stderr
    assert "1 changed without breaking" in guard.stdout  # broker v2's baseline is unchanged
    assert check.returncode == 1
    assert "changed  baselines/broker.v1.openapi.json" in check.stdout  # shown relative to the working folder
    assert "endpoint-added" in check.stdout
    assert "broker.v2" not in check.stdout
