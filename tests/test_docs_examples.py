"""The examples of the served OpenAPI documents work: each operation whose required inputs all have
an example (the request body's first example, each parameter's) is sent as the docs pages' "Try it
out" sends it, and answers 2xx, on a real server. The broker's orders and the datafeed's
parameters have examples, so "Try it out" places a real order instead of ``{"symbol": "string"}``.

And a deprecated version's operations and tag say why they are deprecated in their descriptions
(the browser test shows the same text on the pages)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from broker_support import bearer, broker_env, configured_key, sqlite_database
from harness import BIN, Server, start_server

pytestmark = [
    pytest.mark.modules("broker", "datafeed"),
    pytest.mark.independent,
    pytest.mark.xdist_group("docs_examples"),
]

# Between the shipped default's deprecation of broker v1 (2026-11-01) and its sunset (2027-06-01).
DEPRECATED_NOW = "2027-01-15T00:00:00Z"
# Modify before cancel: the examples of both act on one working order.
METHODS = ("get", "put", "post", "patch", "delete")
# The operations whose examples must be there: what a newcomer tries first.
EXPECTED = {
    ("v1", "post", "/api/v1/broker/orders"),
    ("v1", "patch", "/api/v1/broker/orders/{order_id}"),
    ("v2", "post", "/api/v2/broker/orders"),
    ("v1", "get", "/api/v1/datafeed/symbols"),
    ("v1", "get", "/api/v1/datafeed/history"),
    ("v1", "get", "/api/v1/datafeed/quotes"),
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("examples")
    env = broker_env(sqlite_database(folder), TRADING_NOW=DEPRECATED_NOW, ENABLED_MODULES="broker,datafeed")
    key = configured_key("default", env)
    server = start_server([str(BIN / "trading-host"), "serve", "--port", "{port}"], cwd=folder, env=env)
    yield server, bearer(key)
    server.stop()


def _example(parameter: dict[str, Any]) -> Any:
    """The value Swagger UI fills a parameter with: its ``example``, or the first of its ``examples``."""
    if "example" in parameter:
        return parameter["example"]
    examples = parameter.get("examples") or {}
    return next(iter(examples.values()))["value"] if examples else None


def _body_examples(document: dict[str, Any], operation: dict[str, Any]) -> list[Any]:
    """The request body's examples, as Swagger UI reads them: those of the schema the body names."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return []
    schema = content["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return list(schema.get("examples", []))


def _request(
    document: dict[str, Any], operation: dict[str, Any], auth: dict[str, str], path_values: dict[str, str]
) -> tuple[dict[str, Any], dict[str, str], Any] | None:
    """The query, headers and body made from the operation's examples, path parameters from
    ``path_values``; None when a required input has no example."""
    query: dict[str, Any] = {}
    # What a reader gives with "Authorize" or types in: their own key.
    headers: dict[str, str] = dict(auth) if operation.get("security") else {}
    for parameter in operation.get("parameters", []):
        value = _example(parameter)
        if parameter["in"] == "header" and parameter["name"].lower() == "authorization":
            headers.update(auth)
        elif parameter["in"] == "path" and parameter["name"] in path_values:
            continue
        elif value is not None and parameter["in"] == "query":
            query[parameter["name"]] = value
        elif parameter.get("required"):
            return None
    body = None
    if "requestBody" in operation:
        examples = _body_examples(document, operation)
        if not examples:
            return None
        body = examples[0]
    return query, headers, body


def test_every_example_of_the_served_documents_answers_2xx(served: tuple[Server, dict[str, str]]) -> None:
    server, auth = served
    tried: set[tuple[str, str, str]] = set()
    for global_version in ("v1", "v2"):
        document = server.get(f"/api/{global_version}/openapi.json").json()
        # A working order, placed from the second example (a limit order), for the examples of
        # the operations on one order.
        orders = f"/api/{global_version}/broker/orders"
        limit = _body_examples(document, document["paths"][orders]["post"])[1]
        working = server.post(orders, json=limit, headers=auth).json()
        assert working["status"] == "working", working
        path_values = {"order_id": working["id"]}
        for path, item in document["paths"].items():
            for method in METHODS:
                operation = item.get(method)
                request = None if operation is None else _request(document, operation, auth, path_values)
                if request is None:
                    continue
                query, headers, body = request
                url = path.format(**path_values)
                response = server.client.request(method.upper(), url, params=query, headers=headers, json=body)
                assert response.is_success, (
                    f"{method.upper()} {url} from its examples: {response.status_code} {response.text}"
                )
                tried.add((global_version, method, path))
    assert tried >= EXPECTED, sorted(EXPECTED - tried)


def test_a_deprecated_version_says_why_in_its_descriptions(served: tuple[Server, dict[str, str]]) -> None:
    server, _ = served
    old = server.get("/api/v1/openapi.json").json()
    new = server.get("/api/v2/openapi.json").json()
    notice = (
        "**Deprecated:** broker v1 is deprecated since 2026-11-01 and is sunset on 2027-06-01; from then on every "
        "request gets 410 Gone. Migrate to broker v2 (served at `/api/v2/broker`): see the "
        "[migration guide](/docs/broker/migration-v1-to-v2)."
    )

    broker = [op for path, item in old["paths"].items() if "/broker/" in path for op in item.values()]
    assert broker
    assert all(op["description"].startswith(notice) for op in broker)
    assert all(op["deprecated"] is True and op["x-sunset"] == "2027-06-01" for op in broker)
    place = old["paths"]["/api/v1/broker/orders"]["post"]
    assert place["description"] == notice + "\n\nPlace an order; market orders fill at once at the last price."
    tags = {tag["name"]: tag.get("description", "") for tag in old["tags"]}
    assert tags["broker"].startswith(notice + "\n\n")
    assert not any("Deprecated" in description for name, description in tags.items() if name != "broker")
    # Other modules, and the successor's document, say nothing of it.
    others = [op for path, item in old["paths"].items() if "/broker/" not in path for op in item.values()]
    assert others
    assert not any("Deprecated" in op.get("description", "") for op in others)
    assert "Deprecated" not in str(new)
    assert server.get("/docs/broker/migration-v1-to-v2").status_code == 200
