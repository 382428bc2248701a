"""The contract commands against the installed modules: ``trading-host diff`` on the broker's real
v1 document (unchanged, and a deliberately broken copy) and ``trading-host compat broker v1 v2``."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from harness import BIN, clean_env, run_cli, start_server

# Its tests share the servers of module-scoped fixtures: one pytest-xdist process runs them all.
pytestmark = [pytest.mark.modules("broker"), pytest.mark.independent, pytest.mark.xdist_group("contracts")]


@pytest.fixture(scope="module")
def specs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The broker's v1 and v2 documents as standalone servers serve them, and v1's URL."""
    folder = tmp_path_factory.mktemp("specs")
    found: dict[str, Any] = {"folder": folder}
    for version in ("v1", "v2"):
        server = start_server(
            [str(BIN / "trading-host"), "serve", "--port", "{port}", "-e", "broker", "--module-version", version],
            cwd=folder,
            ready_path=f"/{version}/openapi.json",
        )
        try:
            found[version] = server.get(f"/{version}/openapi.json").json()
        finally:
            server.stop()
    return found


def write(folder: Path, name: str, document: dict[str, Any]) -> str:
    path = folder / name
    path.write_text(json.dumps(document, indent=1))
    return str(path)


def schema_of(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """The component schema a ``$ref`` (possibly inside an array) points to, for editing in place."""
    node = node.get("items", node)
    ref = node["$ref"]
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]]  # type: ignore[no-any-return]


def json_body(operation: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    if status is None:
        return operation["requestBody"]["content"]["application/json"]["schema"]  # type: ignore[no-any-return]
    return operation["responses"][status]["content"]["application/json"]["schema"]  # type: ignore[no-any-return]


def test_the_broker_v1_document_against_itself_has_no_change(specs: dict[str, Any], tmp_path: Path) -> None:
    v1 = write(specs["folder"], "v1.json", specs["v1"])

    result = run_cli("diff", v1, v1, cwd=tmp_path)
    as_json = run_cli("diff", v1, v1, "--json", cwd=tmp_path)

    assert (result.returncode, result.stdout) == (0, "no changes\n"), result.stderr
    assert json.loads(as_json.stdout) == {
        "breaking": False,
        "summary": {"breaking": 0, "non-breaking": 0},
        "changes": [],
    }


def test_the_guard_catches_a_broken_copy_of_broker_v1(specs: dict[str, Any], tmp_path: Path) -> None:
    broken = copy.deepcopy(specs["v1"])
    place = broken["paths"]["/orders"]["post"]
    placed = schema_of(broken, json_body(place, "200"))
    pre_order = schema_of(broken, json_body(place))
    removed = sorted(placed["properties"])[0]
    del placed["properties"][removed]  # a response property removed
    pre_order["properties"]["account"] = {"type": "string", "default": "main"}
    pre_order["required"] = [*pre_order.get("required", []), "account"]  # a new required field, even with a default
    optional = next(name for name in pre_order["properties"] if name not in pre_order["required"])
    pre_order["required"].append(optional)  # an optional field became required
    old, new = write(tmp_path, "v1.json", specs["v1"]), write(tmp_path, "v1-broken.json", broken)

    text = run_cli("diff", old, new, cwd=tmp_path)
    report = json.loads(run_cli("diff", old, new, "--json", cwd=tmp_path).stdout)

    assert text.returncode == 1, text.stdout + text.stderr
    assert "[response-property-removed]" in text.stdout
    assert "[new-required-request-property]" in text.stdout
    found = {(c["id"], c["level"], c["operation"]) for c in report["changes"]}
    assert ("response-property-removed", "breaking", "POST /orders") in found
    assert ("new-required-request-property", "breaking", "POST /orders") in found
    assert ("request-property-became-required", "breaking", "POST /orders") in found
    assert any(removed in c["text"] for c in report["changes"])
    assert report["breaking"] is True


def test_the_guard_reads_a_served_document_by_url(specs: dict[str, Any], serve: Any, tmp_path: Path) -> None:
    server = serve(
        [str(BIN / "trading-host"), "serve", "--port", "{port}", "-e", "broker", "--module-version", "v1"],
        ready_path="/v1/openapi.json",
    )
    committed = write(tmp_path, "v1.json", server.get("/v1/openapi.json").json())

    result = run_cli("diff", committed, f"{server.base_url}/v1/openapi.json", cwd=tmp_path)

    assert (result.returncode, result.stdout) == (0, "no changes\n"), result.stderr


def test_the_guard_refuses_unreadable_input(tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text('{"swagger": "2.0"}')

    missing = run_cli("diff", str(tmp_path / "none.json"), str(tmp_path / "notes.json"), cwd=tmp_path)
    swagger = run_cli("diff", str(tmp_path / "notes.json"), str(tmp_path / "notes.json"), cwd=tmp_path)

    assert missing.returncode == 2
    assert "no file" in missing.stderr
    assert swagger.returncode == 2
    assert "Swagger 2.0" in swagger.stderr


def test_broker_v2_keeps_every_v1_response_field(tmp_path: Path) -> None:
    text = run_cli("compat", "broker", "v1", "v2", cwd=tmp_path)
    report = json.loads(run_cli("compat", "broker", "v1", "v2", "--json", cwd=tmp_path).stdout)

    assert text.returncode == 0, text.stdout + text.stderr
    assert "every response field of v1" in text.stdout
    assert report["compatible"] is True
    assert (report["module"], report["old"], report["new"]) == ("broker", "v1", "v2")
    matched = {(op["method"], op["path"]): op["new"]["operation_id"] for op in report["operations"]}
    assert matched[("POST", "/orders")] == "placeOrderV2"
    assert report["summary"]["missing_fields"] == 0


def test_compat_catches_a_field_v2_dropped(specs: dict[str, Any], tmp_path: Path) -> None:
    doctored = copy.deepcopy(specs["v2"])
    placed_v2 = schema_of(doctored, json_body(doctored["paths"]["/orders"]["post"], "200"))
    placed_v1 = schema_of(specs["v1"], json_body(specs["v1"]["paths"]["/orders"]["post"], "200"))
    dropped = sorted(set(placed_v1["properties"]) & set(placed_v2["properties"]))[0]
    del placed_v2["properties"][dropped]
    old, new = write(tmp_path, "v1.json", specs["v1"]), write(tmp_path, "v2-doctored.json", doctored)

    text = run_cli("compat", "broker", old, new, cwd=tmp_path)
    report = json.loads(run_cli("compat", "broker", old, new, "--json", cwd=tmp_path).stdout)

    assert text.returncode == 1, text.stdout + text.stderr
    assert f"200 {dropped}" in text.stdout
    place = next(op for op in report["operations"] if (op["method"], op["path"]) == ("POST", "/orders"))
    assert {"status": "200", "field": dropped} in place["missing_fields"]
    assert report["compatible"] is False


def test_compat_names_a_version_that_is_not_installed(tmp_path: Path) -> None:
    result = run_cli("compat", "broker", "v1", "v9", cwd=tmp_path, env=clean_env())

    assert result.returncode == 2
    assert "v9" in result.stderr
