"""Broker API v1: the seed's contract, no authentication, the default account, basic rules."""

from __future__ import annotations

import pytest
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, APIWebSocketRoute

from trading_broker import AccountSummary, BrokerError, BrokerEvent, EventKind, Execution, Order, Position
from trading_broker.api._http import broker_error, invalid_request
from trading_broker.api.v1 import BrokerApi, event_payload

V1 = "/api/v1/broker"


def test_seed_example_places_and_fills_a_market_order(client, last):
    response = client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 100, "order_type": "MARKET"})
    assert response.status_code == 200
    body = response.json()
    assert body["symbol"] == "AAPL"
    assert body["quantity"] == 100
    assert body["order_type"] == "MARKET"
    assert body["side"] == "BUY"
    assert body["status"] == "filled"
    assert body["reason"].startswith("filled at ")
    assert float(body["reason"].removeprefix("filled at ")) == last("AAPL")
    assert set(body) == {
        "id",
        "symbol",
        "side",
        "order_type",
        "quantity",
        "limit_price",
        "stop_price",
        "status",
        "reason",
    }


def test_order_type_and_side_default_to_market_buy(client):
    body = client.post(f"{V1}/orders", json={"symbol": "MSFT", "quantity": 5}).json()
    assert (body["order_type"], body["side"], body["status"]) == ("MARKET", "BUY", "filled")


def test_get_and_list_return_placed_orders(client):
    first = client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1}).json()
    second = client.post(f"{V1}/orders", json={"symbol": "TSLA", "quantity": 2, "side": "SELL"}).json()
    assert client.get(f"{V1}/orders/{second['id']}").json() == second
    listed = client.get(f"{V1}/orders").json()
    assert [o["id"] for o in listed] == [first["id"], second["id"]]


def test_unknown_order_is_a_json_404(client):
    response = client.get(f"{V1}/orders/does-not-exist")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "order 'does-not-exist' not found"}
    assert client.delete(f"{V1}/orders/does-not-exist").status_code == 404
    assert client.patch(f"{V1}/orders/does-not-exist", json={"quantity": 1}).status_code == 404


def test_limit_order_fills_only_when_the_price_allows(client, last):
    price = last("AAPL")
    working = client.post(
        f"{V1}/orders", json={"symbol": "AAPL", "quantity": 10, "order_type": "LIMIT", "limit_price": price - 5}
    ).json()
    assert working["status"] == "working"
    filled = client.post(
        f"{V1}/orders", json={"symbol": "AAPL", "quantity": 10, "order_type": "LIMIT", "limit_price": price + 5}
    ).json()
    assert filled["status"] == "filled"
    assert client.get(f"{V1}/orders", params={"status": "working"}).json() == [working]


def test_modify_a_working_order_and_fill_it(client, last):
    price = last("GOOGL")
    order = client.post(
        f"{V1}/orders", json={"symbol": "GOOGL", "quantity": 3, "order_type": "LIMIT", "limit_price": price - 10}
    ).json()
    smaller = client.patch(f"{V1}/orders/{order['id']}", json={"quantity": 2})
    assert smaller.status_code == 200
    assert (smaller.json()["quantity"], smaller.json()["status"]) == (2, "working")
    crossed = client.patch(f"{V1}/orders/{order['id']}", json={"limit_price": price + 1}).json()
    assert crossed["status"] == "filled"
    assert crossed["limit_price"] == price + 1


def test_final_orders_cannot_be_modified_or_canceled(client):
    order = client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1}).json()
    assert order["status"] == "filled"
    modify = client.patch(f"{V1}/orders/{order['id']}", json={"quantity": 5})
    assert modify.status_code == 409
    assert modify.json() == {"detail": f"order '{order['id']}' is filled: a filled order cannot be modified"}
    cancel = client.delete(f"{V1}/orders/{order['id']}")
    assert cancel.status_code == 409
    assert "filled order cannot be canceled" in cancel.json()["detail"]
    assert client.get(f"{V1}/orders/{order['id']}").json() == order


def test_cancel_a_working_order_once(client, last):
    order = client.post(
        f"{V1}/orders",
        json={"symbol": "TSLA", "quantity": 1, "order_type": "STOP", "stop_price": last("TSLA") + 20},
    ).json()
    assert order["status"] == "working"
    canceled = client.delete(f"{V1}/orders/{order['id']}")
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled"
    again = client.delete(f"{V1}/orders/{order['id']}")
    assert again.status_code == 409
    assert "canceled order cannot be canceled" in again.json()["detail"]


@pytest.mark.parametrize(
    ("order", "reason"),
    [
        ({"symbol": "NOPE", "quantity": 1}, "unknown symbol 'NOPE'"),
        ({"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT"}, "limit_price is required for LIMIT orders"),
        ({"symbol": "AAPL", "quantity": 1, "order_type": "STOP_LIMIT", "limit_price": 1}, "stop_price is required"),
    ],
)
def test_an_order_the_broker_cannot_execute_is_stored_as_rejected(client, order, reason):
    response = client.post(f"{V1}/orders", json=order)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "rejected"
    assert reason in body["reason"]
    assert client.patch(f"{V1}/orders/{body['id']}", json={"quantity": 2}).status_code == 409


def test_v1_accepts_what_v2_refuses(client):
    """Off-tick prices and odd lots are v1's original leniency."""
    body = client.post(
        f"{V1}/orders",
        json={"symbol": "EURUSD", "quantity": 150, "order_type": "LIMIT", "limit_price": 0.500001},
    ).json()
    assert (body["status"], body["quantity"], body["limit_price"]) == ("working", 150, 0.500001)


@pytest.mark.parametrize(
    "order",
    [
        {"symbol": "AAPL"},
        {"symbol": "AAPL", "quantity": 0},
        {"symbol": "AAPL", "quantity": -1},
        {"symbol": "AAPL", "quantity": "lots"},
        {"symbol": "AAPL", "quantity": 1, "order_type": "ICEBERG"},
        {"symbol": "AAPL", "quantity": 1, "side": "HOLD"},
        {"symbol": "", "quantity": 1},
        {"symbol": "AAPL", "quantity": 1, "limit_price": -3},
    ],
)
def test_malformed_orders_are_422_and_store_nothing(client, order):
    assert client.post(f"{V1}/orders", json=order).status_code == 422
    assert client.get(f"{V1}/orders").json() == []


def test_an_empty_modification_is_422(client, last):
    order = client.post(
        f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT", "limit_price": 1}
    ).json()
    response = client.patch(f"{V1}/orders/{order['id']}", json={})
    assert response.status_code == 422
    assert "at least one of quantity, limit_price, stop_price" in response.json()["detail"][0]["msg"]


def test_operation_ids_follow_the_seed(client):
    spec = client.get("/openapi.json").json()
    ids = {op["operationId"] for path, item in spec["paths"].items() if path.startswith(V1) for op in item.values()}
    assert ids == {
        "placeOrder",
        "listOrders",
        "getOrder",
        "modifyOrder",
        "cancelOrder",
        "listPositions",
        "listExecutions",
        "getAccount",
    }


def test_positions_executions_and_account_follow_the_fills(client, last):
    aapl, msft = last("AAPL"), last("MSFT")
    assert client.get(f"{V1}/positions").json() == []
    assert client.get(f"{V1}/account").json() == {"account": "default", "balance": 100_000.0, "equity": 100_000.0}
    bought = client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 10}).json()
    client.post(f"{V1}/orders", json={"symbol": "MSFT", "quantity": 3, "side": "SELL"})
    client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 4, "side": "SELL"})
    positions = client.get(f"{V1}/positions").json()
    assert positions == [
        {"symbol": "AAPL", "side": "BUY", "quantity": 6, "average_price": aapl, "unrealised_pnl": 0.0},
        {"symbol": "MSFT", "side": "SELL", "quantity": 3, "average_price": msft, "unrealised_pnl": 0.0},
    ]
    executions = client.get(f"{V1}/executions").json()
    assert [(e["symbol"], e["side"], e["quantity"], e["price"]) for e in executions] == [
        ("AAPL", "BUY", 10, aapl),
        ("MSFT", "SELL", 3, msft),
        ("AAPL", "SELL", 4, aapl),
    ]
    assert set(executions[0]) == {"id", "order_id", "symbol", "side", "quantity", "price", "time"}
    assert [e["order_id"] for e in client.get(f"{V1}/executions", params={"order_id": bought["id"]}).json()] == [
        bought["id"]
    ]
    assert len(client.get(f"{V1}/executions", params={"symbol": "msft"}).json()) == 1
    # Bought and sold at one frozen price: nothing realised, nothing unrealised.
    assert client.get(f"{V1}/account").json() == {"account": "default", "balance": 100_000.0, "equity": 100_000.0}


def test_rejected_and_working_orders_move_no_position(client):
    client.post(f"{V1}/orders", json={"symbol": "NOPE", "quantity": 1})
    client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT", "limit_price": 1})
    assert client.get(f"{V1}/positions").json() == []
    assert client.get(f"{V1}/executions").json() == []


def test_event_payloads_are_the_rest_bodies(client, module):
    placed = client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 2}).json()
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
        body = client.get(f"{V1}{path}").json()
        assert event_payload(event) == (body[0] if isinstance(body, list) else body), kind


def test_service_errors_are_answered_by_the_versions_exception_handler(module, serving):
    api = BrokerApi(module)
    assert api.exception_handlers == {BrokerError: broker_error, RequestValidationError: invalid_request}
    assert {type(route) for route in api.routes} <= {APIRoute, APIWebSocketRoute}  # no route class of its own
    with serving(module) as client:
        order = client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1}).json()  # filled at once
        final = client.delete(f"{V1}/orders/{order['id']}")
    assert final.status_code == 409
    assert final.json()["detail"]


def test_a_placed_order_links_to_the_operations_on_it(client):
    # The links of POST /orders (OpenAPI "links", which stateful fuzzing follows) lead to the order.
    spec = client.get("/openapi.json").json()
    by_id = {op["operationId"]: (method, path) for path, item in spec["paths"].items() for method, op in item.items()}
    links = spec["paths"][f"{V1}/orders"]["post"]["responses"]["200"]["links"]
    assert {link["operationId"] for link in links.values()} == {"getOrder", "modifyOrder", "cancelOrder"}
    order = client.post(
        f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT", "limit_price": 1}
    ).json()
    for name in ("GetOrder", "ModifyOrder", "CancelOrder"):
        link = links[name]
        assert link["parameters"] == {"order_id": "$response.body#/id"}
        method, path = by_id[link["operationId"]]
        body = {"quantity": 2} if method == "patch" else None
        response = client.request(method, path.format(order_id=order["id"]), json=body)
        assert response.status_code == 200, (name, response.text)
        assert response.json()["id"] == order["id"]
