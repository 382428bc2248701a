"""Broker API v2: bearer tokens, account isolation, strict rules, rich orders, idempotency."""

from __future__ import annotations

import json

import pytest
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, APIWebSocketRoute
from typer.testing import CliRunner

from trading_broker import AccountSummary, BrokerError, BrokerEvent, EventKind, Execution, Order, Position
from trading_broker._cli import cli
from trading_broker.api._http import broker_error
from trading_broker.api.v2 import BrokerApi, event_payload

V1 = "/api/v1/broker"
V2 = "/api/v2/broker"
# The conftest configures these tokens: the first for the default account, the second for "alice".
DEFAULT_TOKEN = "test_token"
ALICE_TOKEN = "alice-secret-token"


def auth(token: str = DEFAULT_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_missing_authorization_is_422(client):
    response = client.post(f"{V2}/orders", json={"symbol": "AAPL", "quantity": 100})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "authorization"]
    assert client.get(f"{V2}/orders").status_code == 422


def test_the_422_of_a_missing_authorization_says_what_to_send(client):
    # The other errors of the same request are still listed, in FastAPI's shape.
    response = client.post(f"{V2}/orders", json={"symbol": 3})
    assert response.status_code == 422
    errors = {tuple(e["loc"]): e for e in response.json()["detail"]}
    missing = errors[("header", "authorization")]
    assert missing["type"] == "missing"
    assert missing["msg"].startswith("Field required: send 'Authorization: Bearer <token>'")
    assert "trading-host broker keys create <account>" in missing["msg"]
    assert errors[("body", "quantity")]["msg"] == "Field required"
    assert errors[("body", "symbol")]["type"] == "string_type"


@pytest.mark.parametrize("header", ["Bearer wrong", "Bearer", "Basic dGVzdF90b2tlbg==", "test_token", "Bearer  "])
def test_invalid_token_is_401_with_a_bearer_challenge(client, header):
    response = client.post(f"{V2}/orders", json={"symbol": "AAPL", "quantity": 100}, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "invalid bearer token" in response.json()["detail"]
    assert client.get(f"{V1}/orders").json() == []


def test_seed_example_with_a_valid_token(client, last, now):
    response = client.post(f"{V2}/orders", json={"symbol": "AAPL", "quantity": 100}, headers=auth())
    assert response.status_code == 200
    body = response.json()
    assert body["account"] == "default"
    assert (body["order_type"], body["side"], body["status"]) == ("MARKET", "BUY", "filled")
    assert body["filled_quantity"] == 100
    assert body["average_fill_price"] == last("AAPL")
    [execution] = body["executions"]
    assert (execution["quantity"], execution["price"]) == (100, last("AAPL"))
    assert body["created_at"] == body["updated_at"] == now.isoformat().replace("+00:00", "Z")
    assert [s["status"] for s in body["status_history"]] == ["working", "filled"]


def test_scheme_is_case_insensitive(client):
    response = client.get(f"{V2}/orders", headers={"Authorization": "bearer test_token"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("order", "field", "rule"),
    [
        ({"symbol": "NOPE", "quantity": 1}, "symbol", "unknown_symbol"),
        ({"symbol": "EURUSD", "quantity": 1500}, "quantity", "lot_size"),
        ({"symbol": "BTCUSD", "quantity": 0.00015}, "quantity", "lot_size"),
        ({"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT"}, "limit_price", "required"),
        (
            {"symbol": "AAPL", "quantity": 1, "order_type": "STOP", "stop_price": 1, "limit_price": 1},
            "limit_price",
            "not_allowed",
        ),
        ({"symbol": "AAPL", "quantity": 1, "order_type": "STOP"}, "stop_price", "required"),
        (
            {"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT", "limit_price": 1, "stop_price": 1},
            "stop_price",
            "not_allowed",
        ),
        ({"symbol": "AAPL", "quantity": 1, "limit_price": 100}, "limit_price", "not_allowed"),
        ({"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT", "limit_price": 100.005}, "limit_price", "tick_size"),
        (
            {"symbol": "EURUSD", "quantity": 1000, "order_type": "STOP", "stop_price": 1.000001},
            "stop_price",
            "tick_size",
        ),
    ],
)
def test_strict_rules_are_422_naming_field_and_rule(client, order, field, rule):
    response = client.post(f"{V2}/orders", json=order, headers=auth())
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert [(e["loc"], e["type"]) for e in errors] == [(["body", field], rule)]
    assert field in errors[0]["msg"]
    assert client.get(f"{V2}/orders", headers=auth()).json() == []


def test_every_broken_rule_is_reported_at_once(client):
    order = {"symbol": "EURUSD", "quantity": 10, "order_type": "STOP_LIMIT", "limit_price": 1.0000001}
    errors = client.post(f"{V2}/orders", json=order, headers=auth()).json()["detail"]
    assert [(e["loc"][1], e["type"]) for e in errors] == [
        ("quantity", "lot_size"),
        ("limit_price", "tick_size"),
        ("stop_price", "required"),
    ]


def test_unknown_fields_are_refused(client):
    response = client.post(f"{V2}/orders", json={"symbol": "AAPL", "quantity": 1, "qty": 2}, headers=auth())
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "qty"]


def test_on_tick_orders_in_whole_lots_are_accepted(client, last):
    eurusd = client.post(
        f"{V2}/orders",
        json={"symbol": "EURUSD", "quantity": 3000, "order_type": "LIMIT", "limit_price": 0.5, "side": "BUY"},
        headers=auth(),
    )
    assert eurusd.status_code == 200
    assert eurusd.json()["status"] == "working"
    btc = client.post(f"{V2}/orders", json={"symbol": "BTCUSD", "quantity": 0.0003}, headers=auth())
    assert btc.status_code == 200
    assert btc.json()["average_fill_price"] == last("BTCUSD")


def test_an_account_never_sees_another_accounts_orders(client):
    mine = client.post(
        f"{V2}/orders", json={"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT", "limit_price": 1}, headers=auth()
    ).json()
    theirs = client.post(
        f"{V2}/orders",
        json={"symbol": "AAPL", "quantity": 2, "order_type": "LIMIT", "limit_price": 1},
        headers=auth(ALICE_TOKEN),
    ).json()
    assert theirs["account"] == "alice"
    assert [o["id"] for o in client.get(f"{V2}/orders", headers=auth()).json()] == [mine["id"]]
    assert [o["id"] for o in client.get(f"{V2}/orders", headers=auth(ALICE_TOKEN)).json()] == [theirs["id"]]
    assert client.get(f"{V2}/orders/{theirs['id']}", headers=auth()).status_code == 404
    assert client.delete(f"{V2}/orders/{theirs['id']}", headers=auth()).status_code == 404
    assert client.patch(f"{V2}/orders/{theirs['id']}", json={"quantity": 9}, headers=auth()).status_code == 404
    # v1 acts on the default account only.
    assert [o["id"] for o in client.get(f"{V1}/orders").json()] == [mine["id"]]
    assert client.get(f"{V1}/orders/{theirs['id']}").status_code == 404
    assert client.get(f"{V2}/orders/{theirs['id']}", headers=auth(ALICE_TOKEN)).json()["status"] == "working"


def test_v1_orders_are_visible_through_v2_with_every_v1_field(client):
    placed = client.post(
        f"{V1}/orders", json={"symbol": "AAPL", "quantity": 100, "order_type": "LIMIT", "limit_price": 1.5}
    ).json()
    v2 = client.get(f"{V2}/orders/{placed['id']}", headers=auth())
    assert v2.status_code == 200
    v1 = client.get(f"{V1}/orders/{placed['id']}").json()
    for key, value in v1.items():
        assert v2.json()[key] == value
    assert {"filled_quantity", "average_fill_price", "executions", "created_at", "updated_at", "status_history"} <= set(
        v2.json()
    )
    assert v2.json()["filled_quantity"] == 0
    assert v2.json()["average_fill_price"] is None


def test_idempotency_key_returns_the_first_result(client):
    order = {"symbol": "AAPL", "quantity": 100}
    first = client.post(f"{V2}/orders", json=order, headers={**auth(), "Idempotency-Key": "k-1"})
    again = client.post(f"{V2}/orders", json=order, headers={**auth(), "Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert len(client.get(f"{V2}/orders", headers=auth()).json()) == 1
    other = client.post(f"{V2}/orders", json=order, headers={**auth(), "Idempotency-Key": "k-2"})
    assert other.json()["id"] != first.json()["id"]
    assert len(client.get(f"{V2}/orders", headers=auth()).json()) == 2


def test_idempotency_keys_are_per_account(client):
    order = {"symbol": "AAPL", "quantity": 100}
    mine = client.post(f"{V2}/orders", json=order, headers={**auth(), "Idempotency-Key": "shared"}).json()
    theirs = client.post(f"{V2}/orders", json=order, headers={**auth(ALICE_TOKEN), "Idempotency-Key": "shared"}).json()
    assert mine["id"] != theirs["id"]
    assert theirs["account"] == "alice"


def test_idempotency_replay_keeps_the_first_answer_after_later_changes(client):
    order = {"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT", "limit_price": 1}
    first = client.post(f"{V2}/orders", json=order, headers={**auth(), "Idempotency-Key": "k"}).json()
    client.delete(f"{V2}/orders/{first['id']}", headers=auth())
    replay = client.post(f"{V2}/orders", json=order, headers={**auth(), "Idempotency-Key": "k"}).json()
    assert replay == first
    assert client.get(f"{V2}/orders/{first['id']}", headers=auth()).json()["status"] == "canceled"


def test_reusing_a_key_for_a_different_order_is_422(client):
    client.post(f"{V2}/orders", json={"symbol": "AAPL", "quantity": 1}, headers={**auth(), "Idempotency-Key": "k"})
    response = client.post(
        f"{V2}/orders", json={"symbol": "AAPL", "quantity": 2}, headers={**auth(), "Idempotency-Key": "k"}
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["type"]) == (["header", "Idempotency-Key"], "idempotency_key_reused")
    assert len(client.get(f"{V2}/orders", headers=auth()).json()) == 1


def test_modify_is_strict_and_409_on_final_orders(client, last):
    order = client.post(
        f"{V2}/orders",
        json={"symbol": "MSFT", "quantity": 5, "order_type": "LIMIT", "limit_price": 10},
        headers=auth(),
    ).json()
    off_tick = client.patch(f"{V2}/orders/{order['id']}", json={"limit_price": 10.001}, headers=auth())
    assert off_tick.status_code == 422
    assert off_tick.json()["detail"][0]["type"] == "tick_size"
    not_allowed = client.patch(f"{V2}/orders/{order['id']}", json={"stop_price": 10}, headers=auth())
    assert (not_allowed.status_code, not_allowed.json()["detail"][0]["type"]) == (422, "not_allowed")
    crossed = client.patch(
        f"{V2}/orders/{order['id']}", json={"limit_price": round(last("MSFT") + 1, 2)}, headers=auth()
    ).json()
    assert crossed["status"] == "filled"
    assert [s["reason"] for s in crossed["status_history"]][:2] == ["placed", "modified"]
    final = client.patch(f"{V2}/orders/{order['id']}", json={"quantity": 1}, headers=auth())
    assert final.status_code == 409
    assert final.json()["detail"] == f"order '{order['id']}' is filled: a filled order cannot be modified"
    assert client.delete(f"{V2}/orders/{order['id']}", headers=auth()).status_code == 409


def test_list_filters_by_status(client):
    working = client.post(
        f"{V2}/orders", json={"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT", "limit_price": 1}, headers=auth()
    ).json()
    client.post(f"{V2}/orders", json={"symbol": "AAPL", "quantity": 1}, headers=auth())
    listed = client.get(f"{V2}/orders", params={"status": "working"}, headers=auth()).json()
    assert [o["id"] for o in listed] == [working["id"]]
    assert client.get(f"{V2}/orders", params={"status": "nope"}, headers=auth()).status_code == 422


def test_operation_ids_and_auth_are_declared(client):
    spec = client.get("/openapi.json").json()
    operations = [op for path, item in spec["paths"].items() if path.startswith(V2) for op in item.values()]
    assert {op["operationId"] for op in operations} == {
        "placeOrderV2",
        "listOrdersV2",
        "getOrderV2",
        "modifyOrderV2",
        "cancelOrderV2",
        "listPositionsV2",
        "listExecutionsV2",
        "getAccountV2",
    }
    for op in operations:
        # The bearer scheme describes the header; OpenAPI ignores an Authorization parameter, and
        # Swagger UI would show one and drop what is typed into it.
        assert op["security"] == [{"BrokerBearer": []}]
        assert all(p["name"].lower() != "authorization" for p in op.get("parameters", []))
        assert "401" in op["responses"]
    scheme = spec["components"]["securitySchemes"]["BrokerBearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert "trading-broker keys create" in scheme["description"]
    v1 = [op for path, item in spec["paths"].items() if path.startswith(V1) for op in item.values()]
    assert v1
    assert all("security" not in op for op in v1)


@pytest.mark.parametrize("path", ["/positions", "/executions", "/account"])
def test_portfolio_endpoints_need_a_valid_token(client, path):
    assert client.get(f"{V2}{path}").status_code == 422
    assert client.get(f"{V2}{path}", headers=auth("nope")).status_code == 401
    assert client.get(f"{V2}{path}", headers=auth()).status_code == 200


def test_portfolio_of_each_account_is_its_own(client, last):
    client.post(f"{V2}/orders", json={"symbol": "AAPL", "quantity": 5}, headers=auth())
    client.post(f"{V2}/orders", json={"symbol": "MSFT", "quantity": 2, "side": "SELL"}, headers=auth(ALICE_TOKEN))
    [mine] = client.get(f"{V2}/positions", headers=auth()).json()
    [theirs] = client.get(f"{V2}/positions", headers=auth(ALICE_TOKEN)).json()
    assert (mine["account"], mine["symbol"], mine["side"], mine["quantity"]) == ("default", "AAPL", "BUY", 5)
    assert (theirs["account"], theirs["symbol"], theirs["side"], theirs["quantity"]) == ("alice", "MSFT", "SELL", 2)
    assert theirs["last_price"] == last("MSFT")
    assert [e["account"] for e in client.get(f"{V2}/executions", headers=auth()).json()] == ["default"]
    assert [e["symbol"] for e in client.get(f"{V2}/executions", headers=auth(ALICE_TOKEN)).json()] == ["MSFT"]
    account = client.get(f"{V2}/account", headers=auth(ALICE_TOKEN)).json()
    assert account["account"] == "alice"
    assert account["open_positions"] == 1
    assert account["equity"] == account["balance"] + account["unrealised_pnl"]


def test_every_v1_field_of_positions_executions_and_account_is_in_v2(client):
    client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 7})
    for path in ("/positions", "/executions", "/account"):
        v1 = client.get(f"{V1}{path}").json()
        v2 = client.get(f"{V2}{path}", headers=auth()).json()
        pairs = zip(v1, v2, strict=True) if isinstance(v1, list) else [(v1, v2)]
        for old, new in pairs:
            for field, value in old.items():
                assert new[field] == value, (path, field)


def test_a_key_created_with_the_cli_works_until_revoked(client, sqlite_url):
    runner = CliRunner()
    created = runner.invoke(cli, ["keys", "create", "bob", "--database-url", sqlite_url, "--json"])
    assert created.exit_code == 0, created.output
    key = json.loads(created.output)
    bob = {"Authorization": f"Bearer {key['token']}"}
    placed = client.post(f"{V2}/orders", json={"symbol": "AAPL", "quantity": 1}, headers=bob)
    assert placed.status_code == 200, placed.text
    assert placed.json()["account"] == "bob"
    assert client.get(f"{V2}/orders", headers=auth()).json() == []
    assert client.get(f"{V2}/orders/{placed.json()['id']}", headers=auth(ALICE_TOKEN)).status_code == 404
    revoked = runner.invoke(cli, ["keys", "revoke", key["id"], "--database-url", sqlite_url])
    assert revoked.exit_code == 0, revoked.output
    assert client.get(f"{V2}/orders", headers=bob).status_code == 401


def test_event_payloads_are_the_rest_bodies(client, module):
    placed = client.post(f"{V2}/orders", json={"symbol": "AAPL", "quantity": 2}, headers=auth()).json()
    service = module.service
    order = client.portal.call(service.get, "default", placed["id"])
    [position] = client.portal.call(service.positions, "default")
    [execution] = client.portal.call(service.executions, "default")
    summary = client.portal.call(service.account, "default")
    cases: list[tuple[EventKind, Order | Execution | Position | AccountSummary, str]] = [
        ("order", order, f"/orders/{placed['id']}"),
        ("position", position, "/positions"),
        ("execution", execution, "/executions"),
        ("equity", summary, "/account"),
    ]
    for kind, subject, path in cases:
        event = BrokerEvent(kind=kind, account="default", subject=subject, time=order.updated_at, action="placed")
        body = client.get(f"{V2}{path}", headers=auth()).json()
        assert event_payload(event) == (body[0] if isinstance(body, list) else body), kind


def test_service_errors_are_answered_by_the_versions_exception_handler(module, serving):
    api = BrokerApi(module)
    assert set(api.exception_handlers) == {BrokerError, RequestValidationError}
    assert api.exception_handlers[BrokerError] is broker_error
    assert {type(route) for route in api.routes} <= {APIRoute, APIWebSocketRoute}  # no route class of its own
    with serving(module) as client:
        missing = client.get(f"{V2}/orders/does-not-exist", headers=auth())
    assert (missing.status_code, missing.json()) == (404, {"detail": "order 'does-not-exist' not found"})


def test_a_placed_order_links_to_the_operations_on_it(client):
    # The links of POST /orders (OpenAPI "links", which stateful fuzzing follows) lead to the order.
    spec = client.get("/openapi.json").json()
    by_id = {op["operationId"]: (method, path) for path, item in spec["paths"].items() for method, op in item.items()}
    links = spec["paths"][f"{V2}/orders"]["post"]["responses"]["200"]["links"]
    assert {link["operationId"] for link in links.values()} == {"getOrderV2", "modifyOrderV2", "cancelOrderV2"}
    order = client.post(
        f"{V2}/orders",
        json={"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT", "limit_price": 1},
        headers=auth(),
    ).json()
    for name in ("GetOrder", "ModifyOrder", "CancelOrder"):
        link = links[name]
        assert link["parameters"] == {"order_id": "$response.body#/id"}
        method, path = by_id[link["operationId"]]
        body = {"quantity": 2} if method == "patch" else None
        response = client.request(method, path.format(order_id=order["id"]), json=body, headers=auth())
        assert response.status_code == 200, (name, response.text)
        assert response.json()["id"] == order["id"]
