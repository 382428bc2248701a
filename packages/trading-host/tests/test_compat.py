"""The compatibility report: which response fields of the old version the new one lacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from host_plugins import AlphaV1, AlphaV2, AlphaV3, CoreApi
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from trading_host import ConfigError, Installed
from trading_host._contracts._compat import compat_report, installed_document
from trading_host._contracts._reader import DocumentError
from trading_host.cli import cli

STRING = {"type": "string"}


def doc(operations: dict[tuple[str, str], dict[str, Any]], schemas: dict[str, Any] | None = None) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for (method, path), operation in operations.items():
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": paths,
        **({"components": {"schemas": schemas}} if schemas else {}),
    }


def returning(schema: dict[str, Any], operation_id: str | None = None, status: str = "200") -> dict[str, Any]:
    responses = {
        status: {"description": "ok", "content": {"application/json": {"schema": schema}}},
        "422": {"description": "bad", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/E"}}}},
    }
    return {"responses": responses, **({"operationId": operation_id} if operation_id else {})}


def order(*names: str) -> dict[str, Any]:
    return {"type": "object", "properties": dict.fromkeys(names, STRING)}


ERROR = {"E": {"type": "object", "properties": {"detail": STRING}}}


def test_a_superset_is_compatible() -> None:
    old = doc({("get", "/orders"): returning({"type": "array", "items": order("id", "symbol")})}, ERROR)
    new = doc({("get", "/orders"): returning({"type": "array", "items": order("id", "symbol", "account")})}, ERROR)

    result = compat_report(old, new)

    assert result.compatible
    assert result.to_json()["summary"] == {"operations": 1, "unmatched_operations": 0, "missing_fields": 0}


def test_missing_fields_are_listed_with_their_path() -> None:
    nested = {
        "type": "object",
        "properties": {"id": STRING, "fills": {"type": "array", "items": order("price", "qty")}},
    }
    old = doc({("get", "/orders/{id}"): returning(nested, "getOrder")}, ERROR)
    thinner = {"type": "object", "properties": {"id": STRING, "fills": {"type": "array", "items": order("qty")}}}
    new = doc({("get", "/orders/{order_id}"): returning(thinner, "getOrderV2")}, ERROR)

    result = compat_report(old, new)

    assert not result.compatible
    [operation] = result.to_json()["operations"]
    assert operation == {
        "method": "GET",
        "path": "/orders/{id}",
        "operation_id": "getOrder",
        "matched_by": "path",
        "new": {"method": "GET", "path": "/orders/{order_id}", "operation_id": "getOrderV2"},
        "missing_fields": [{"status": "200", "field": "fills[].price"}],
    }


def test_operations_are_matched_by_operation_id_when_the_path_moved() -> None:
    old = doc({("get", "/orders"): returning(order("id", "reason"), "listOrders")})
    new = doc({("get", "/v2-orders"): returning(order("id"), "listOrdersV2")})

    [operation] = compat_report(old, new).operations

    assert (operation.matched_by, operation.new_path) == ("operationId", "/v2-orders")
    assert [(m.status, m.field) for m in operation.missing] == [("200", "reason")]


def test_an_operation_missing_in_the_new_version_is_reported() -> None:
    old = doc({("get", "/orders"): returning(order("id"), "listOrders"), ("delete", "/orders"): returning(order())})
    new = doc({("get", "/orders"): returning(order("id"), "listOrdersV2")})

    result = compat_report(old, new)

    assert not result.compatible
    assert [(op.method, op.matched_by) for op in result.unmatched] == [("DELETE", None)]


def test_a_changed_success_status_is_compared_with_the_new_success_responses() -> None:
    old = doc({("post", "/orders"): returning(order("id", "symbol"))})
    new = doc({("post", "/orders"): returning(order("id"), status="201")})

    [operation] = compat_report(old, new).operations

    assert [(m.status, m.field) for m in operation.missing] == [("200", "symbol")]


def test_refs_nullable_unions_and_recursion_are_followed() -> None:
    schemas = {
        "Node": {
            "type": "object",
            "properties": {
                "name": STRING,
                "parent": {"anyOf": [{"$ref": "#/components/schemas/Node"}, {"type": "null"}]},
                "secret": {"type": "string", "writeOnly": True},
            },
        }
    }
    old = doc({("get", "/tree"): returning({"$ref": "#/components/schemas/Node"})}, schemas)
    trimmed = json.loads(json.dumps(schemas))
    del trimmed["Node"]["properties"]["name"]
    del trimmed["Node"]["properties"]["secret"]
    new = doc({("get", "/tree"): returning({"$ref": "#/components/schemas/Node"})}, trimmed)

    [operation] = compat_report(old, new).operations

    # A write-only field is never in a response, so v2 cannot lack it.
    assert [m.field for m in operation.missing] == ["name"]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["id", "symbol", "qty", "price", "side"]), unique=True), st.data())
def test_a_version_is_compatible_with_any_superset_of_itself(fields: list[str], data: st.DataObject) -> None:
    extra = data.draw(st.lists(st.sampled_from(["account", "created_at", "fills"]), unique=True))
    old = doc({("get", "/orders"): returning({"type": "array", "items": order(*fields)})})
    new = doc({("get", "/orders"): returning({"type": "array", "items": order(*fields, *extra)})})

    assert compat_report(old, new).compatible
    assert compat_report(new, old).compatible == (not extra)


def test_installed_document_is_built_from_the_module_version() -> None:
    installed = Installed.from_apis([CoreApi, AlphaV1, AlphaV2, AlphaV3], distribution="trading-alpha")

    v1 = installed_document("alpha", "v1", installed=installed, environ={})
    v2 = installed_document("alpha", "v2", installed=installed, environ={})
    v3 = installed_document("alpha", "v3", installed=installed, environ={})

    assert v1["info"]["version"] == "v1"
    assert compat_report(v1, v2).compatible  # v2's Item adds position to v1's name
    later = compat_report(v2, v3)
    assert not later.compatible
    missing = {(op.method, op.path): [m.field for m in op.missing] for op in later.operations if op.matched_by}
    assert missing[("GET", "/items")] == ["[].name", "[].position"]
    assert {(op.method, op.path) for op in later.unmatched} >= {("POST", "/items")}


def test_installed_document_refuses_a_version_that_is_not_installed() -> None:
    installed = Installed.from_apis([CoreApi, AlphaV1], distribution="trading-alpha")

    with pytest.raises(ConfigError, match="v7"):
        installed_document("alpha", "v7", installed=installed, environ={})


def test_bad_documents_raise_a_document_error() -> None:
    with pytest.raises(DocumentError, match=r"not an OpenAPI 3\.x document"):
        compat_report({"openapi": "2.0"}, doc({}))


runner = CliRunner()


def test_command_on_files(tmp_path: Path) -> None:
    old, new, broken = tmp_path / "v1.json", tmp_path / "v2.json", tmp_path / "v2-broken.json"
    old.write_text(json.dumps(doc({("get", "/orders"): returning(order("id", "reason"), "listOrders")})))
    new.write_text(json.dumps(doc({("get", "/orders"): returning(order("id", "reason", "account"), "listOrdersV2")})))
    broken.write_text(json.dumps(doc({("get", "/orders"): returning(order("id"), "listOrdersV2")})))

    fine = runner.invoke(cli, ["compat", "broker", str(old), str(new)])
    missing = runner.invoke(cli, ["compat", "broker", str(old), str(broken)])
    as_json = runner.invoke(cli, ["compat", "broker", str(old), str(broken), "--json"])

    assert fine.exit_code == 0
    assert "every response field" in fine.stdout
    assert missing.exit_code == 1
    assert "GET /orders (listOrders) -> GET /orders (matched by path):" in missing.stdout
    assert "    200 reason" in missing.stdout
    payload = json.loads(as_json.stdout)
    assert (as_json.exit_code, payload["compatible"], payload["module"]) == (1, False, "broker")
    assert payload["operations"][0]["missing_fields"] == [{"status": "200", "field": "reason"}]


def test_command_bad_input_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(cli, ["compat", "broker", str(tmp_path / "none.json"), str(tmp_path / "none.json")])

    assert result.exit_code == 2
    assert "no file" in result.stderr


def test_command_reports_a_module_that_is_not_installed() -> None:
    result = runner.invoke(cli, ["compat", "no_such_module", "v1", "v2"])

    assert result.exit_code == 2
    assert "no_such_module" in result.stderr
