"""The broker service on its own: fill rules, final states, rules, idempotency under concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from trading_broker import (
    BrokerService,
    IdempotencyKeyReused,
    InvalidOrder,
    MemoryOrderStore,
    OrderChanges,
    OrderNotFound,
    OrderNotModifiable,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    SimulatedPrices,
    Strictness,
    hash_api_key,
)

NOW = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)


class Tape:
    """A price source whose prices the test sets, to walk an order through the fill rules."""

    def __init__(self, **prices: float) -> None:
        self.prices = prices

    def last_price(self, symbol: str, at: datetime) -> float | None:
        return self.prices.get(symbol)


@pytest.fixture
def tape() -> Tape:
    return Tape(AAPL=100.0)


@pytest.fixture
def service(tape: Tape) -> BrokerService:
    return BrokerService(prices=tape, clock=lambda: NOW)


def order(order_type: OrderType, side: Side = Side.BUY, **prices: float) -> OrderRequest:
    return OrderRequest(symbol="AAPL", quantity=10, side=side, order_type=order_type, **prices)


def run(coro):
    return asyncio.run(coro)


@pytest.mark.parametrize(
    ("request_", "fills"),
    [
        (order(OrderType.MARKET), True),
        (order(OrderType.MARKET, Side.SELL), True),
        (order(OrderType.LIMIT, limit_price=100.0), True),
        (order(OrderType.LIMIT, limit_price=99.99), False),
        (order(OrderType.LIMIT, Side.SELL, limit_price=100.0), True),
        (order(OrderType.LIMIT, Side.SELL, limit_price=100.01), False),
        (order(OrderType.STOP, stop_price=100.0), True),
        (order(OrderType.STOP, stop_price=100.01), False),
        (order(OrderType.STOP, Side.SELL, stop_price=100.0), True),
        (order(OrderType.STOP, Side.SELL, stop_price=99.99), False),
        (order(OrderType.STOP_LIMIT, stop_price=99.0, limit_price=101.0), True),
        (order(OrderType.STOP_LIMIT, stop_price=101.0, limit_price=102.0), False),
    ],
)
def test_fill_rules_at_placement(service, request_, fills):
    placed = run(service.place("acc", request_)).order
    assert placed.status is (OrderStatus.FILLED if fills else OrderStatus.WORKING)
    if fills:
        assert placed.filled_quantity == 10
        assert placed.average_fill_price == 100.0
        assert [(e.quantity, e.price, e.time) for e in placed.executions] == [(10, 100.0, NOW)]
    else:
        assert placed.executions == []
        assert placed.average_fill_price is None


def test_stop_limit_becomes_a_limit_when_its_stop_is_reached(service, tape):
    # Buy stop-limit: stop reached (last 100 >= 99) but the limit (98) is below the market.
    placed = run(service.place("acc", order(OrderType.STOP_LIMIT, stop_price=99.0, limit_price=98.0))).order
    assert placed.status is OrderStatus.WORKING
    assert placed.stop_triggered
    assert [c.reason for c in placed.status_history] == ["placed", "stop 99 reached at 100"]
    # The stop has triggered once and for all: a price back under the stop still fills the limit.
    tape.prices["AAPL"] = 97.5
    modified = run(service.modify("acc", placed.id, OrderChanges(quantity=5)))
    assert modified.status is OrderStatus.FILLED
    assert (modified.filled_quantity, modified.average_fill_price) == (5, 97.5)


def test_final_states_never_change(service):
    filled = run(service.place("acc", order(OrderType.MARKET))).order
    with pytest.raises(OrderNotModifiable, match="is filled: a filled order cannot be canceled"):
        run(service.cancel("acc", filled.id))
    working = run(service.place("acc", order(OrderType.LIMIT, limit_price=1.0))).order
    canceled = run(service.cancel("acc", working.id))
    assert canceled.status is OrderStatus.CANCELED
    with pytest.raises(OrderNotModifiable, match="is canceled: a canceled order cannot be modified"):
        run(service.modify("acc", working.id, OrderChanges(limit_price=200.0)))
    assert run(service.get("acc", working.id)).status is OrderStatus.CANCELED
    with pytest.raises(RuntimeError):
        canceled.set_status(OrderStatus.WORKING, NOW)


def test_basic_rules_reject_what_strict_rules_refuse(service):
    unknown = OrderRequest(symbol="NOPE", quantity=1)
    with pytest.raises(InvalidOrder, match="unknown symbol 'NOPE'"):
        run(service.place("acc", unknown, strictness=Strictness.STRICT))
    assert run(service.orders("acc")) == []
    rejected = run(service.place("acc", unknown, strictness=Strictness.BASIC)).order
    assert rejected.status is OrderStatus.REJECTED
    assert rejected.reason is not None
    assert rejected.reason.startswith("unknown symbol 'NOPE'")
    assert [o.id for o in run(service.orders("acc"))] == [rejected.id]


def test_a_symbol_the_price_source_cannot_price_is_rejected():
    service = BrokerService(prices=Tape(), clock=lambda: NOW)
    placed = run(service.place("acc", OrderRequest(symbol="MSFT", quantity=1))).order
    assert (placed.status, placed.reason) == (OrderStatus.REJECTED, "no price for MSFT")


def test_strict_rules_list_every_violation(service):
    request = OrderRequest(symbol="EURUSD", quantity=1234, order_type=OrderType.STOP, limit_price=1.123456)
    rules = [(v.field, v.rule) for v in service.violations(request, Strictness.STRICT)]
    assert rules == [("quantity", "lot_size"), ("limit_price", "not_allowed"), ("stop_price", "required")]
    basic = [(v.field, v.rule) for v in service.violations(request, Strictness.BASIC)]
    assert basic == [("stop_price", "required")]


def test_modification_breaking_a_rule_is_refused_and_changes_nothing(service):
    working = run(service.place("acc", order(OrderType.LIMIT, limit_price=50.0))).order
    with pytest.raises(InvalidOrder) as caught:
        run(service.modify("acc", working.id, OrderChanges(limit_price=50.001)))
    assert [v.rule for v in caught.value.violations] == ["tick_size"]
    assert run(service.get("acc", working.id)).limit_price == 50.0


def test_accounts_are_isolated(service):
    placed = run(service.place("a", order(OrderType.LIMIT, limit_price=1.0))).order
    with pytest.raises(OrderNotFound):
        run(service.get("b", placed.id))
    with pytest.raises(OrderNotFound):
        run(service.cancel("b", placed.id))
    assert run(service.orders("b")) == []


def test_idempotent_placement_under_concurrency(service):
    async def scenario():
        request = order(OrderType.MARKET)
        results = await asyncio.gather(*(service.place("acc", request, idempotency_key="k") for _ in range(5)))
        return results, await service.orders("acc")

    results, stored = run(scenario())
    assert len(stored) == 1
    assert {r.order.id for r in results} == {stored[0].id}
    assert sorted(r.replayed for r in results) == [False, True, True, True, True]
    with pytest.raises(IdempotencyKeyReused):
        run(service.place("acc", order(OrderType.MARKET, Side.SELL), idempotency_key="k"))


def test_the_store_hands_out_copies():
    store = MemoryOrderStore()
    service = BrokerService(store=store, prices=Tape(AAPL=100.0), clock=lambda: NOW)
    placed = run(service.place("acc", order(OrderType.LIMIT, limit_price=1.0))).order
    placed.quantity = 999
    assert run(store.get(placed.id)).quantity == 10
    assert run(store.count()) == 1


def test_authenticate_maps_tokens_to_accounts():
    service = BrokerService(api_keys=[("alice", hash_api_key("a-token")), ("bob", hash_api_key("b-token").upper())])
    assert service.authenticate("a-token") == "alice"
    assert service.authenticate("b-token") == "bob"
    assert service.authenticate("c-token") is None
    assert service.authenticate("") is None


def test_simulated_prices_are_deterministic_on_tick_and_near_the_reference():
    prices = SimulatedPrices()
    at = datetime(2024, 6, 3, 14, 7, 31, tzinfo=UTC)
    assert prices.last_price("AAPL", at) == SimulatedPrices().last_price("AAPL", at)
    assert prices.last_price("AAPL", at) == prices.last_price("AAPL", at.replace(second=2))
    assert prices.last_price("NOPE", at) is None
    seen = {prices.last_price("EURUSD", at + timedelta(hours=h)) for h in range(48)}
    assert len(seen) > 40, "the price moves over time"
    for value in seen:
        assert value is not None
        assert 0.9 < value < 1.3
        assert round(value, 5) == value


class SlowStore(MemoryOrderStore):
    """Gives the event loop away on every read and write, as a database driver does."""

    async def get(self, order_id):
        await asyncio.sleep(0)
        return await super().get(order_id)

    async def save(self, order):
        await asyncio.sleep(0)
        await super().save(order)


def test_a_cancel_racing_a_fill_leaves_one_final_state(tape):
    service = BrokerService(store=SlowStore(), prices=tape, clock=lambda: NOW)

    async def scenario():
        working = (await service.place("acc", order(OrderType.LIMIT, limit_price=1.0))).order
        filling = service.modify("acc", working.id, OrderChanges(limit_price=200.0))
        outcomes = await asyncio.gather(service.cancel("acc", working.id), filling, return_exceptions=True)
        return outcomes, await service.get("acc", working.id)

    (canceled, refused), stored = run(scenario())
    assert canceled.status is OrderStatus.CANCELED
    assert isinstance(refused, OrderNotModifiable)
    assert stored.status is OrderStatus.CANCELED
    assert stored.executions == []
