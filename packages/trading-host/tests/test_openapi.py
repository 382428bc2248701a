"""OpenAPI: one document per module version, merged per global version without collisions."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient
from host_fakes import factory_for
from host_plugins import AlphaModule, AlphaV1, AlphaV2, BetaModule, BetaV1, CoreApi
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from trading_core import Module, ModuleApi
from trading_host import Installed, merge_openapi, module_openapi
from trading_host._documents._openapi import Part

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def operation_ids(document: dict[str, Any]) -> list[str]:
    return [
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in _METHODS and "operationId" in operation
    ]


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def response_schema(document: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    schema: dict[str, Any] = document["paths"][path][method]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    return schema


@pytest.fixture
def client(installed: Installed) -> TestClient:
    return TestClient(factory_for(installed).create_app())


def test_module_document_has_paths_relative_to_the_module() -> None:
    document = module_openapi(AlphaV1(AlphaModule()))

    assert document["info"] == {
        "title": "Trading API: alpha v1",
        "version": "v1",
        "description": AlphaModule.description,
    }
    assert set(document["paths"]) == {"/items", "/where", "/settings"}
    assert document["tags"] == [{"name": "alpha", "description": AlphaModule.description}]
    assert "listItems" in operation_ids(document)
    validate(document)


def test_module_document_without_description_has_no_tags_section() -> None:
    class Plain(Module):
        name = "plain"

    class PlainV1(ModuleApi):
        module = Plain
        version = "v1"

    document = module_openapi(PlainV1(Plain()), title="Custom")

    assert "tags" not in document
    assert document["info"]["title"] == "Custom"
    assert "description" not in document["info"]


def test_global_documents_validate_and_have_unique_operation_ids(client: TestClient) -> None:
    for global_version in ("v1", "v2"):
        document = client.get(f"/api/{global_version}/openapi.json").json()

        validate(document)
        ids = operation_ids(document)
        assert len(ids) == len(set(ids)), Counter(ids).most_common(3)
        assert {"alpha_listItems", "beta_listItems", "core_getHealth"} <= set(ids)
        assert document["info"]["version"] == global_version
        assert all(path.startswith(f"/api/{global_version}/") for path in document["paths"])


def test_clashing_schema_names_get_the_module_name_and_refs_follow(client: TestClient) -> None:
    document = client.get("/api/v2/openapi.json").json()

    schemas = document["components"]["schemas"]
    assert "Item" not in schemas
    assert set(schemas["AlphaItem"]["properties"]) == {"name", "position"}
    assert set(schemas["BetaItem"]["properties"]) == {"symbol", "price"}
    assert response_schema(document, "/api/v2/alpha/items")["items"] == {"$ref": "#/components/schemas/AlphaItem"}
    assert response_schema(document, "/api/v2/beta/items")["items"] == {"$ref": "#/components/schemas/BetaItem"}
    # Schemas every module defines the same way are kept once, under their own name.
    assert "HTTPValidationError" in schemas
    assert "AlphaHTTPValidationError" not in schemas
    for ref in refs(document):
        assert ref.removeprefix("#/components/schemas/") in schemas


def test_no_rename_where_nothing_clashes(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()

    # In v1 alpha serves ItemV1, so beta's Item has the name to itself.
    schemas = document["components"]["schemas"]
    assert set(schemas["Item"]["properties"]) == {"symbol", "price"}
    assert "BetaItem" not in schemas


def test_merged_document_describes_the_row(client: TestClient) -> None:
    document = client.get("/api/v2/openapi.json").json()

    assert document["info"]["title"] == "Trading API"
    assert document["info"]["description"] == "core v1, alpha v2, beta v1"
    assert [t["name"] for t in document["tags"]] == ["core", "alpha", "beta"]
    assert "servers" not in document


def test_documents_are_built_once_and_reused(client: TestClient) -> None:
    first = client.get("/api/v1/openapi.json").json()
    second = client.get("/api/v1/openapi.json").json()

    assert first == second


def test_root_path_goes_into_servers(installed: Installed) -> None:
    client = TestClient(factory_for(installed).create_app(), root_path="/outer")

    document = client.get("/api/v1/openapi.json").json()

    assert document["servers"] == [{"url": "/outer"}]
    assert "/api/v1/alpha/items" in document["paths"]
    validate(document)


@pytest.mark.parametrize("page", ["docs", "redoc"])
def test_docs_pages_point_at_their_global_versions_document(client: TestClient, page: str) -> None:
    response = client.get(f"/api/v2/{page}")

    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "/api/v2/openapi.json" in response.text
    assert "/api/v1/openapi.json" not in response.text


def test_docs_pages_honour_the_root_path(installed: Installed) -> None:
    client = TestClient(factory_for(installed).create_app(), root_path="/outer")

    assert "/outer/api/v1/openapi.json" in client.get("/api/v1/docs").text


def _doc(schemas: dict[str, Any], paths: dict[str, str], **extra: Any) -> dict[str, Any]:
    """A minimal OpenAPI 3.1 document: each path answers with a ref to the named schema."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            path: {
                "get": {
                    "operationId": f"get_{name}",
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
                        }
                    },
                }
            }
            for path, name in paths.items()
        },
        "components": {"schemas": schemas, **extra},
    }


def test_a_rename_never_overwrites_a_schema_of_the_same_name() -> None:
    alpha = _doc({"Item": {"type": "string"}, "AlphaItem": {"type": "integer"}}, {"/x": "Item", "/y": "AlphaItem"})
    beta = _doc({"Item": {"type": "boolean"}}, {"/x": "Item"})

    merged = merge_openapi([Part("alpha", "/a", alpha), Part("beta", "/b", beta)], title="t", version="v1")

    schemas = merged["components"]["schemas"]
    assert len(schemas) == 3
    assert resolve(merged, "/a/x") == {"type": "string"}
    assert resolve(merged, "/a/y") == {"type": "integer"}
    assert resolve(merged, "/b/x") == {"type": "boolean"}
    validate(merged)


def test_security_schemes_and_an_empty_merge() -> None:
    scheme = {"bearer": {"type": "http", "scheme": "bearer"}}
    merged = merge_openapi(
        [Part("alpha", "/a", _doc({"S": {"type": "string"}}, {"/x": "S"}, securitySchemes=scheme))],
        title="t",
        version="v9",
        description="d",
    )
    empty = merge_openapi([], title="t", version="v1")

    assert merged["components"]["securitySchemes"] == scheme
    assert merged["info"] == {"title": "t", "version": "v9", "description": "d"}
    assert empty == {"openapi": "3.1.0", "info": {"title": "t", "version": "v1"}, "paths": {}}
    validate(empty)


def resolve(document: dict[str, Any], path: str) -> Any:
    ref = response_schema(document, path)["$ref"]
    return document["components"]["schemas"][ref.removeprefix("#/components/schemas/")]


_schema_names = st.sampled_from(["Item", "AlphaItem", "BetaItem", "Order", "AlphaItem2", "GammaOrder"])
_schema_values = st.sampled_from([{"type": "string"}, {"type": "integer"}, {"type": "boolean"}])
_module_docs = st.dictionaries(
    st.sampled_from(["alpha", "beta", "gamma"]),
    st.dictionaries(_schema_names, _schema_values, min_size=1, max_size=5),
    min_size=1,
    max_size=3,
)


@settings(max_examples=60, deadline=None)
@given(_module_docs)
def test_any_merge_keeps_every_schema_its_paths_point_at(modules: dict[str, dict[str, Any]]) -> None:
    parts = [
        Part(module, f"/{module}", _doc(schemas, {f"/{name}": name for name in schemas}))
        for module, schemas in modules.items()
    ]

    merged = merge_openapi(parts, title="t", version="v1")

    for module, schemas in modules.items():
        for name, schema in schemas.items():
            assert resolve(merged, f"/{module}/{name}") == schema
    ids = operation_ids(merged)
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", name) for name in merged["components"]["schemas"])


def test_beta_and_alpha_define_item_differently() -> None:
    # The premise of the clash tests above: both modules name a schema "Item".
    alpha = module_openapi(AlphaV2(AlphaModule()))["components"]["schemas"]
    beta = module_openapi(BetaV1(BetaModule()))["components"]["schemas"]

    assert alpha["Item"] != beta["Item"]
    assert CoreApi.version == "v1"


def test_security_schemes_that_differ_under_one_name_are_renamed_with_their_requirements() -> None:
    def part(module: str, scheme: dict[str, str]) -> Part:
        document = {
            "openapi": "3.1.0",
            "info": {"title": module, "version": "v1"},
            "paths": {"/x": {"get": {"operationId": "getX", "security": [{"Auth": []}], "responses": {}}}},
            "components": {"securitySchemes": {"Auth": scheme}},
        }
        return Part(module, f"/api/v1/{module}", document)

    bearer, key = {"type": "http", "scheme": "bearer"}, {"type": "apiKey", "in": "header", "name": "X-Key"}
    merged = merge_openapi([part("alpha", bearer), part("beta", key)], title="t", version="v1")

    assert merged["components"]["securitySchemes"] == {"Auth": bearer, "BetaAuth": key}
    assert merged["paths"]["/api/v1/alpha/x"]["get"]["security"] == [{"Auth": []}]
    assert merged["paths"]["/api/v1/beta/x"]["get"]["security"] == [{"BetaAuth": []}]
    same = merge_openapi([part("alpha", bearer), part("beta", bearer)], title="t", version="v1")
    assert same["components"]["securitySchemes"] == {"Auth": bearer}


def test_links_follow_their_operations_into_the_merged_document() -> None:
    # Two modules with the same operationIds: each link must still point at its own module's operation.
    def part(module: str) -> Part:
        links = {
            "ById": {"operationId": "getItem", "parameters": {"item_id": "$response.body#/id"}},
            "ByRef": {
                "operationRef": "#/paths/~1items~1{item_id}/get",
                "parameters": {"item_id": "$response.body#/id"},
            },
        }
        document = {
            "openapi": "3.1.0",
            "info": {"title": module, "version": "v1"},
            "paths": {
                "/items": {
                    "post": {"operationId": "addItem", "responses": {"200": {"description": "ok", "links": links}}}
                },
                "/items/{item_id}": {
                    "get": {
                        "operationId": "getItem",
                        "parameters": [
                            {"name": "item_id", "in": "path", "required": True, "schema": {"type": "string"}}
                        ],
                        "responses": {"200": {"description": "ok"}},
                    }
                },
            },
        }
        return Part(module, f"/api/v1/{module}", document)

    merged = merge_openapi([part("alpha"), part("beta")], title="t", version="v1")

    validate(merged)
    for module in ("alpha", "beta"):
        links = merged["paths"][f"/api/v1/{module}/items"]["post"]["responses"]["200"]["links"]
        target = merged["paths"][f"/api/v1/{module}/items/{{item_id}}"]["get"]
        assert links["ById"]["operationId"] == target["operationId"] == f"{module}_getItem"
        ref = links["ByRef"]["operationRef"]
        assert ref == f"#/paths/~1api~1v1~1{module}~1items~1{{item_id}}/get"
        assert _pointer(merged, ref) is target


def _pointer(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for raw in ref[2:].split("/"):
        node = node[raw.replace("~1", "/").replace("~0", "~")]
    return node
