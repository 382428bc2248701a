"""Numbers the broker takes: bounded quantities and prices per instrument on every version, strict
JSON numbers on v2, buying power, and inputs that once made the server answer 500 (issue 8)."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from broker_setup import NOW, SETTINGS

from trading_broker import (
    BUILTIN_INSTRUMENTS,
    BrokerModule,
    InvalidOrder,
    OrderChanges,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    Strictness,
)
from trading_broker._instruments import PRICE_CEILING, QUANTITY_CEILING, is_multiple
from trading_core import ModuleContext

V1 = "/api/v1/broker"
V2 = "/api/v2/broker"
DEFAULT = {"Authorization": "Bearer test_token"}
ALICE = {"Authorization": "Bearer alice-secret-token"}


def rules(response) -> list[tuple[str, str]]:
    """(field, rule) of each error of a 422 body in FastAPI's validation-error shape."""
    assert response.status_code == 422, response.text
    return [(e["loc"][-1], e["type"]) for e in response.json()["detail"]]


# -- bounds: the +inf poisoning of issue 8


def test_v1_cannot_make_a_position_infinite(client):
    for _ in range(2):
        response = client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1e308})
        assert rules(response) == [("quantity", "less_than_equal")]
    # Nothing was stored, and the account trades on as before.
    assert client.get(f"{V1}/orders").json() == []
    assert client.get(f"{V1}/positions").json() == []
    assert client.get(f"{V1}/account").json()["equity"] == 100_000.0
    assert client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1}).json()["status"] == "filled"
    [position] = client.get(f"{V1}/positions").json()
    assert position["quantity"] == 1


@pytest.mark.parametrize("version", [V1, V2])
def test_a_quantity_above_the_instruments_maximum_is_refused_on_every_version(client, version):
    response = client.post(f"{version}/orders", json={"symbol": "AAPL", "quantity": 2_000_000}, headers=DEFAULT)
    assert rules(response) == [("quantity", "max_quantity")]
    message = response.json()["detail"][0]["msg"]
    assert "maximum 1000000" in message
    assert "AAPL" in message
    # v1 refuses it too rather than storing a rejected order: a limit is not a broker's rejection.
    assert client.get(f"{V1}/orders").json() == []


@pytest.mark.parametrize("version", [V1, V2])
def test_a_price_above_the_instruments_maximum_is_refused_on_every_version(client, version):
    body = {"symbol": "EURUSD", "quantity": 1000, "order_type": "LIMIT", "limit_price": 5000}
    response = client.post(f"{version}/orders", json=body, headers=DEFAULT)
    assert rules(response) == [("limit_price", "max_price")]
    assert "maximum price 1000 of EURUSD" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize("symbol", sorted(BUILTIN_INSTRUMENTS))
def test_v2_answers_422_for_huge_quantities_and_prices(client, symbol):
    """``Decimal % step`` raised DivisionImpossible past 28 digits: a 500."""
    lot = float(BUILTIN_INSTRUMENTS[symbol].lot_size)
    for body, field in (
        ({"symbol": symbol, "quantity": 1e29 * lot}, "quantity"),
        ({"symbol": symbol, "quantity": lot, "order_type": "LIMIT", "limit_price": 1e26}, "limit_price"),
        ({"symbol": symbol, "quantity": lot, "order_type": "STOP", "stop_price": 1e26}, "stop_price"),
        ({"symbol": symbol, "quantity": 1e308}, "quantity"),
    ):
        response = client.post(f"{V2}/orders", json=body, headers=DEFAULT)
        assert rules(response) == [(field, "less_than_equal")], body
    assert client.get(f"{V2}/orders", headers=DEFAULT).json() == []


def test_the_wire_bounds_are_in_the_openapi_documents(client):
    for version, order_name, change_name in (
        (V1, "PreOrder", "OrderModification"),
        (V2, "PreOrderV2", "OrderModificationV2"),
    ):
        schemas = client.get("/openapi.json").json()["components"]["schemas"]
        assert schemas[order_name]["properties"]["quantity"]["maximum"] == QUANTITY_CEILING
        limit = schemas[order_name]["properties"]["limit_price"]["anyOf"][0]
        assert limit["maximum"] == PRICE_CEILING
        assert schemas[change_name]["minProperties"] == 1, version


def test_every_instrument_has_maximums_within_the_wire_bounds():
    for instrument in BUILTIN_INSTRUMENTS.values():
        assert 0 < instrument.max_quantity <= QUANTITY_CEILING
        assert 0 < instrument.max_price <= PRICE_CEILING
        # The largest order of one instrument is still a finite, exactly comparable notional.
        assert float(instrument.max_quantity * instrument.max_price) < 1e16


def test_is_multiple_never_raises_for_a_float():
    assert is_multiple(1e29, Decimal("1"))  # 30 digits: DivisionImpossible in the default context
    assert is_multiple(1e308, Decimal("0.00001"))
    assert not is_multiple(1.5e-300, Decimal("1e-300"))
    assert not is_multiple(math.inf, Decimal(1))
    assert not is_multiple(math.nan, Decimal(1))


@pytest.mark.anyio
@pytest.mark.parametrize("strictness", list(Strictness))
@pytest.mark.parametrize(
    ("request_", "field", "rule"),
    [
        (OrderRequest("AAPL", 1e308), "quantity", "max_quantity"),
        (OrderRequest("AAPL", math.inf), "quantity", "finite"),
        (OrderRequest("AAPL", math.nan), "quantity", "finite"),
        (OrderRequest("AAPL", 1, order_type=OrderType.LIMIT, limit_price=math.inf), "limit_price", "finite"),
        (OrderRequest("AAPL", 1, order_type=OrderType.STOP, stop_price=1e300), "stop_price", "max_price"),
        (OrderRequest("AAPL\x00", 1), "symbol", "printable"),
        (OrderRequest("\ud800", 1), "symbol", "printable"),
    ],
)
async def test_the_service_refuses_numbers_and_symbols_it_cannot_keep(service, strictness, request_, field, rule):
    """Through the Python API too, under either strictness: nothing is stored."""
    with pytest.raises(InvalidOrder) as caught:
        await service.place("acc", request_, strictness=strictness)
    assert (field, rule) in [(v.field, v.rule) for v in caught.value.violations]
    assert await service.orders("acc") == []


# -- strict numbers on v2


@pytest.mark.parametrize(
    "body",
    [
        {"symbol": "AAPL", "quantity": True},
        {"symbol": "AAPL", "quantity": "1"},
        {"symbol": "AAPL", "quantity": " 2 "},
        {"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT", "limit_price": "1.00"},
        {"symbol": "AAPL", "quantity": 1, "order_type": "STOP", "stop_price": "300"},
    ],
)
def test_v2_takes_json_numbers_only(client, body):
    response = client.post(f"{V2}/orders", json=body, headers=DEFAULT)
    assert [rule for _, rule in rules(response)] == ["float_type"]
    assert client.get(f"{V2}/orders", headers=DEFAULT).json() == []


@pytest.mark.parametrize("change", [{"quantity": True}, {"quantity": "3"}, {"limit_price": "1.50"}])
def test_v2_modifications_take_json_numbers_only(client, change):
    body = {"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT", "limit_price": 1}
    working = client.post(f"{V2}/orders", json=body, headers=DEFAULT).json()
    response = client.patch(f"{V2}/orders/{working['id']}", json=change, headers=DEFAULT)
    assert [rule for _, rule in rules(response)] == ["float_type"]
    assert client.get(f"{V2}/orders/{working['id']}", headers=DEFAULT).json()["quantity"] == 1


def test_v1_stays_lenient_about_number_forms(client):
    placed = client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": "2"})
    assert placed.json()["quantity"] == 2


def test_an_empty_v2_modification_is_refused_as_its_schema_says(client):
    body = {"symbol": "AAPL", "quantity": 1, "order_type": "LIMIT", "limit_price": 1}
    working = client.post(f"{V2}/orders", json=body, headers=DEFAULT).json()
    response = client.patch(f"{V2}/orders/{working['id']}", json={}, headers=DEFAULT)
    assert response.status_code == 422
    assert "at least one of quantity, limit_price, stop_price" in response.json()["detail"][0]["msg"]
    schema = client.get("/openapi.json").json()["components"]["schemas"]["OrderModificationV2"]
    assert schema["minProperties"] == 1


# -- inputs that reached the database as they were


@pytest.mark.parametrize(("symbol", "rule"), [("AA\\u0000PL", "printable"), ("\\ud800", "string_unicode")])
def test_v1_refuses_a_symbol_no_database_can_store(module_on_each_database, serving, symbol, rule):
    """A NUL (PostgreSQL refuses it) or a lone surrogate (no UTF-8 for it), written as JSON escapes."""
    body = f'{{"symbol": "{symbol}", "quantity": 1}}'
    with serving(module_on_each_database) as client:
        response = client.post(f"{V1}/orders", content=body, headers={"content-type": "application/json"})
        assert rules(response) == [("symbol", rule)]
        assert client.get(f"{V1}/orders").json() == []


def test_lookups_of_ids_no_database_can_store_find_nothing(module_on_each_database, serving):
    with serving(module_on_each_database) as client:
        assert client.get(f"{V1}/orders/a%00b").status_code == 404
        assert client.delete(f"{V2}/orders/a%00b", headers=DEFAULT).status_code == 404
        assert (
            client.get(f"{V2}/executions", params={"order_id": "a\x00", "symbol": "x\x00"}, headers=DEFAULT).json()
            == []
        )
        headers = {**DEFAULT, "Idempotency-Key": "k\x7f"}
        assert client.post(f"{V2}/orders", json={"symbol": "AAPL", "quantity": 1}, headers=headers).status_code == 200


@pytest.fixture
def module_on_each_database(database_url):
    return BrokerModule(ModuleContext(settings={**SETTINGS, "database_url": database_url}), clock=lambda: NOW)


# -- buying power


def test_the_readme_example_fits_the_default_buying_power(client):
    assert client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 100}).json()["status"] == "filled"
    assert client.post(f"{V2}/orders", json={"symbol": "AAPL", "quantity": 100}, headers=ALICE).status_code == 200


@pytest.mark.parametrize(("version", "headers"), [(V1, {}), (V2, DEFAULT)])
def test_an_order_beyond_the_buying_power_is_422_on_every_version(client, last, version, headers):
    # Default leverage 4 on 100,000: 400,000 of buying power; AAPL is about 190.
    too_many = math.ceil(400_000 / last("AAPL")) + 1
    response = client.post(f"{version}/orders", json={"symbol": "AAPL", "quantity": too_many}, headers=headers)
    assert rules(response) == [("quantity", "buying_power")]
    message = response.json()["detail"][0]["msg"]
    assert "not enough buying power" in message
    assert "leverage 4 x equity 100,000.00" in message
    assert client.get(f"{V1}/orders").json() == []
    fits = math.floor(400_000 / last("AAPL")) - 1
    assert (
        client.post(f"{version}/orders", json={"symbol": "AAPL", "quantity": fits}, headers=headers).status_code == 200
    )


@pytest.mark.anyio
async def test_buying_power_counts_positions_working_orders_and_shorts(service):
    """Tape: AAPL 100, MSFT 400. Leverage 4 on 100,000: 400,000."""
    await service.place("acc", OrderRequest("AAPL", 2000))  # 200,000 long
    await service.place("acc", OrderRequest("MSFT", 250, side=Side.SELL))  # 100,000 short
    limit = OrderRequest("AAPL", 500, order_type=OrderType.LIMIT, limit_price=90.0)  # 45,000 working
    assert (await service.place("acc", limit)).order.status is OrderStatus.WORKING
    # 55,000 left. Selling 2,600 AAPL closes the 2,000 held and opens a 600 short: 60,000.
    with pytest.raises(InvalidOrder) as caught:
        await service.place("acc", OrderRequest("AAPL", 2600, side=Side.SELL))
    [violation] = caught.value.violations
    assert (violation.field, violation.rule) == ("quantity", "buying_power")
    assert "55,000.00 left" in violation.message
    # Closing 2,000 and opening 550 needs 55,000: it fits, exactly.
    sold = (await service.place("acc", OrderRequest("AAPL", 2550, side=Side.SELL))).order
    assert sold.status is OrderStatus.FILLED
    # Orders that only reduce a position need nothing, whatever is left.
    service.account_leverage["acc"] = 0.0
    assert (await service.place("acc", OrderRequest("MSFT", 250))).order.status is OrderStatus.FILLED
    assert (await service.place("acc", OrderRequest("AAPL", 50))).order.status is OrderStatus.FILLED
    with pytest.raises(InvalidOrder):
        await service.place("acc", OrderRequest("MSFT", 1))


@pytest.mark.anyio
async def test_a_modification_may_not_raise_what_an_order_needs_beyond_the_buying_power(service):
    limit = OrderRequest("AAPL", 3000, order_type=OrderType.LIMIT, limit_price=99.0)  # 297,000
    working = (await service.place("acc", limit)).order
    with pytest.raises(InvalidOrder) as caught:
        await service.modify("acc", working.id, OrderChanges(quantity=5000))  # 495,000
    assert [v.rule for v in caught.value.violations] == ["buying_power"]
    assert (await service.get("acc", working.id)).quantity == 3000
    assert (await service.modify("acc", working.id, OrderChanges(quantity=4000))).quantity == 4000  # 396,000
    # A modification that needs no more than before is never refused, even with prices moved against it.
    assert (await service.modify("acc", working.id, OrderChanges(limit_price=98.0))).limit_price == 98.0


@pytest.mark.anyio
async def test_leverage_is_configurable_per_account(service):
    service.account_leverage["cash"] = 1.0
    with pytest.raises(InvalidOrder):
        await service.place("cash", OrderRequest("AAPL", 1001))  # 100,100 on 100,000 at leverage 1
    assert (await service.place("cash", OrderRequest("AAPL", 1000))).order.status is OrderStatus.FILLED
    service.account_leverage["none"] = 0.0
    with pytest.raises(InvalidOrder):
        await service.place("none", OrderRequest("AAPL", 1))
    assert (await service.place("acc", OrderRequest("AAPL", 1001))).order.status is OrderStatus.FILLED


def test_leverage_settings_reach_the_service(sqlite_url):
    settings = {"database_url": sqlite_url, "leverage": 2, "accounts": {"alice": {"leverage": 1}, "bob": {}}}
    module = BrokerModule(ModuleContext(settings=settings))
    assert (module.service.leverage_of("alice"), module.service.leverage_of("bob")) == (1.0, 2.0)
    assert module.service.leverage_of("carol") == 2.0
