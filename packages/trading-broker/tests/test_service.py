"""The broker service on SQLite and on PostgreSQL: fill rules, final states, rules, positions,
executions, the account, the matcher, events, idempotency and concurrent writers."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from trading_broker import (
    BrokerService,
    IdempotencyKeyReused,
    InvalidOrder,
    OrderChanges,
    OrderNotFound,
    OrderNotModifiable,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    Strictness,
    hash_api_key,
)

pytestmark = pytest.mark.anyio


def order(order_type: OrderType = OrderType.MARKET, side: Side = Side.BUY, quantity: float = 10, **prices: float):
    return OrderRequest(symbol="AAPL", quantity=quantity, side=side, order_type=order_type, **prices)


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
async def test_fill_rules_at_placement(service, now, request_, fills):
    placed = (await service.place("acc", request_)).order
    assert placed.status is (OrderStatus.FILLED if fills else OrderStatus.WORKING)
    stored = await service.get("acc", placed.id)
    assert stored.status is placed.status
    if fills:
        assert stored.filled_quantity == 10
        assert stored.average_fill_price == 100.0
        assert [(e.quantity, e.price, e.time) for e in stored.executions] == [(10, 100.0, now)]
    else:
        assert stored.executions == []
        assert stored.average_fill_price is None


async def test_working_orders_fill_when_the_price_moves(service, tape):
    buy_limit = (await service.place("acc", order(OrderType.LIMIT, limit_price=95.0))).order
    sell_stop = (await service.place("acc", order(OrderType.STOP, Side.SELL, stop_price=90.0))).order
    stop_limit = (await service.place("acc", order(OrderType.STOP_LIMIT, stop_price=104.0, limit_price=103.0))).order
    assert await service.check_working_orders() == 0
    tape.prices["AAPL"] = 94.5  # reaches the buy limit only
    assert await service.check_working_orders() == 1
    assert (await service.get("acc", buy_limit.id)).status is OrderStatus.FILLED
    tape.prices["AAPL"] = 104.5  # triggers the stop-limit, whose limit 103 is below the market
    assert await service.check_working_orders() == 1
    triggered = await service.get("acc", stop_limit.id)
    assert (triggered.status, triggered.stop_triggered) == (OrderStatus.WORKING, True)
    tape.prices["AAPL"] = 102.0  # now the limit is reached: the stop has triggered once and for all
    assert await service.check_working_orders() == 1
    assert (await service.get("acc", stop_limit.id)).average_fill_price == 102.0
    tape.prices["AAPL"] = 89.0
    assert await service.check_working_orders() == 1
    filled = await service.get("acc", sell_stop.id)
    assert (filled.status, filled.average_fill_price) == (OrderStatus.FILLED, 89.0)
    assert [c.reason for c in filled.status_history] == ["placed", "stop 90 reached at 89", "filled at 89"]
    assert await service.check_working_orders() == 0


async def test_a_symbol_without_a_price_keeps_working_in_the_matcher(service, tape):
    working = (await service.place("acc", order(OrderType.LIMIT, limit_price=1.0))).order
    del tape.prices["AAPL"]
    assert await service.check_working_orders() == 0
    assert (await service.get("acc", working.id)).status is OrderStatus.WORKING


async def test_positions_average_realise_flip_and_close(service, tape):
    await service.place("acc", order(quantity=10))  # long 10 @ 100
    tape.prices["AAPL"] = 110.0
    await service.place("acc", order(quantity=10))  # long 20 @ 105
    [position] = await service.positions("acc")
    assert (position.side, position.size, position.average_price) == (Side.BUY, 20, 105.0)
    assert position.unrealised_pnl == 100.0  # 20 * (110 - 105)
    summary = await service.account("acc")
    assert (summary.balance, summary.equity, summary.unrealised_pnl) == (100_000.0, 100_100.0, 100.0)
    tape.prices["AAPL"] = 120.0
    await service.place("acc", order(side=Side.SELL, quantity=5))  # realise 5 * 15
    tape.prices["AAPL"] = 90.0
    await service.place("acc", order(side=Side.SELL, quantity=25))  # close 15 at -15 each, then short 10 @ 90
    [short] = await service.positions("acc")
    assert (short.side, short.quantity, short.average_price) == (Side.SELL, -10, 90.0)
    assert short.realised_pnl == 75.0 - 225.0
    tape.prices["AAPL"] = 80.0
    summary = await service.account("acc")
    assert summary.realised_pnl == -150.0
    assert summary.balance == 100_000.0 - 150.0
    assert summary.unrealised_pnl == 100.0  # short 10 from 90 to 80
    assert summary.equity == summary.balance + 100.0
    await service.place("acc", order(quantity=10))  # buy back: closed at zero
    assert await service.positions("acc") == []
    closed = await service.account("acc")
    assert (closed.realised_pnl, closed.open_positions, closed.equity) == (-50.0, 0, 100_000.0 - 50.0)
    fills = await service.executions("acc")
    assert [(e.side, e.quantity, e.price, e.realised_pnl) for e in fills] == [
        (Side.BUY, 10, 100.0, 0.0),
        (Side.BUY, 10, 110.0, 0.0),
        (Side.SELL, 5, 120.0, 75.0),
        (Side.SELL, 25, 90.0, -225.0),
        (Side.BUY, 10, 80.0, 100.0),
    ]
    assert [e.order_id for e in await service.executions("acc", order_id=fills[2].order_id)] == [fills[2].order_id]
    assert await service.executions("acc", symbol="MSFT") == []


async def test_an_account_starts_with_the_initial_balance(service):
    summary = await service.account("nobody-yet")
    assert (summary.balance, summary.equity, summary.realised_pnl, summary.open_positions) == (
        100_000.0,
        100_000.0,
        0,
        0,
    )


async def test_final_states_never_change(service, now):
    filled = (await service.place("acc", order())).order
    with pytest.raises(OrderNotModifiable, match="is filled: a filled order cannot be canceled"):
        await service.cancel("acc", filled.id)
    working = (await service.place("acc", order(OrderType.LIMIT, limit_price=1.0))).order
    canceled = await service.cancel("acc", working.id)
    assert canceled.status is OrderStatus.CANCELED
    with pytest.raises(OrderNotModifiable, match="is canceled: a canceled order cannot be modified"):
        await service.modify("acc", working.id, OrderChanges(limit_price=200.0))
    assert (await service.get("acc", working.id)).status is OrderStatus.CANCELED
    with pytest.raises(RuntimeError):
        canceled.set_status(OrderStatus.WORKING, now)


async def test_basic_rules_reject_what_strict_rules_refuse(service):
    unknown = OrderRequest(symbol="NOPE", quantity=1)
    with pytest.raises(InvalidOrder, match="unknown symbol 'NOPE'"):
        await service.place("acc", unknown, strictness=Strictness.STRICT)
    assert await service.orders("acc") == []
    rejected = (await service.place("acc", unknown, strictness=Strictness.BASIC)).order
    assert rejected.status is OrderStatus.REJECTED
    assert rejected.reason is not None
    assert rejected.reason.startswith("unknown symbol 'NOPE'")
    assert [o.id for o in await service.orders("acc")] == [rejected.id]


async def test_a_symbol_the_price_source_cannot_price_is_rejected(service, tape):
    placed = (await service.place("acc", OrderRequest(symbol="TSLA", quantity=1))).order
    assert (placed.status, placed.reason) == (OrderStatus.REJECTED, "no price for TSLA")


async def test_modification_breaking_a_rule_is_refused_and_changes_nothing(service):
    working = (await service.place("acc", order(OrderType.LIMIT, limit_price=50.0))).order
    with pytest.raises(InvalidOrder) as caught:
        await service.modify("acc", working.id, OrderChanges(limit_price=50.001))
    assert [v.rule for v in caught.value.violations] == ["tick_size"]
    stored = await service.get("acc", working.id)
    assert (stored.limit_price, stored.version) == (50.0, 0)


async def test_modify_fills_and_moves_the_position(service):
    working = (await service.place("acc", order(OrderType.LIMIT, limit_price=50.0))).order
    filled = await service.modify("acc", working.id, OrderChanges(limit_price=100.0, quantity=3))
    assert (filled.status, filled.filled_quantity, filled.version) == (OrderStatus.FILLED, 3, 1)
    assert [c.reason for c in filled.status_history] == ["placed", "modified", "filled at 100"]
    [position] = await service.positions("acc")
    assert position.quantity == 3


async def test_accounts_are_isolated(service):
    placed = (await service.place("a", order(OrderType.LIMIT, limit_price=1.0))).order
    await service.place("a", order())
    with pytest.raises(OrderNotFound):
        await service.get("b", placed.id)
    with pytest.raises(OrderNotFound):
        await service.cancel("b", placed.id)
    with pytest.raises(OrderNotFound):
        await service.modify("b", placed.id, OrderChanges(quantity=1))
    assert await service.orders("b") == []
    assert await service.positions("b") == []
    assert await service.executions("b") == []
    assert len(await service.positions("a")) == 1


async def test_list_orders_filters_by_status_and_keeps_executions(service):
    working = (await service.place("acc", order(OrderType.LIMIT, limit_price=1.0))).order
    filled = (await service.place("acc", order())).order
    assert [o.id for o in await service.orders("acc", OrderStatus.WORKING)] == [working.id]
    [listed] = await service.orders("acc", OrderStatus.FILLED)
    assert listed.id == filled.id
    assert [e.id for e in listed.executions] == [e.id for e in filled.executions]


async def test_idempotent_placement_under_concurrency(service):
    request = order()
    results = await asyncio.gather(*(service.place("acc", request, idempotency_key="k") for _ in range(5)))
    stored = await service.orders("acc")
    assert len(stored) == 1
    assert {r.order.id for r in results} == {stored[0].id}
    assert sorted(r.replayed for r in results) == [False, True, True, True, True]
    assert len(await service.executions("acc")) == 1
    with pytest.raises(IdempotencyKeyReused):
        await service.place("acc", order(side=Side.SELL), idempotency_key="k")


async def test_idempotent_replay_is_the_first_answer(service):
    first = (await service.place("acc", order(OrderType.LIMIT, limit_price=1.0), idempotency_key="k")).order
    await service.cancel("acc", first.id)
    replay = await service.place("acc", order(OrderType.LIMIT, limit_price=1.0), idempotency_key="k")
    assert replay.replayed
    assert replay.order == first
    assert (await service.get("acc", first.id)).status is OrderStatus.CANCELED


async def test_a_cancel_racing_a_fill_leaves_one_final_state(service):
    working = (await service.place("acc", order(OrderType.LIMIT, limit_price=1.0))).order
    outcomes = await asyncio.gather(
        service.cancel("acc", working.id),
        service.modify("acc", working.id, OrderChanges(limit_price=200.0)),
        return_exceptions=True,
    )
    stored = await service.get("acc", working.id)
    assert stored.status in (OrderStatus.CANCELED, OrderStatus.FILLED)
    assert sum(isinstance(o, OrderNotModifiable) for o in outcomes) == 1
    assert len(stored.executions) == (1 if stored.status is OrderStatus.FILLED else 0)


async def test_two_services_on_one_database_fill_each_order_once(service, database_url, tape, now):
    """Two brokers sharing a database, as two worker processes do: both run the matcher over the
    same working orders, and each order is filled exactly once."""
    placed = [(await service.place("acc", order(OrderType.LIMIT, limit_price=90.0))).order for _ in range(20)]
    other = BrokerService(database_url=database_url, prices=tape, clock=lambda: now)
    await other.open()
    try:
        tape.prices["AAPL"] = 89.0
        counts = await asyncio.gather(service.check_working_orders(), other.check_working_orders())
        assert sum(counts) == 20
        for each in placed:
            assert len((await service.get("acc", each.id)).executions) == 1
        [position] = await other.positions("acc")
        assert position.quantity == 200  # no fill lost, none counted twice
        assert len(await other.executions("acc")) == 20
        # And each fill is one event in the outbox, whichever service made it.
        stored, after = [], 0
        while page := await other.stored_events("acc", after):
            stored += page
            after = page[-1].sequence or 0
        fills = [e.subject.id for e in stored if e.kind == "order" and e.action == "filled"]  # type: ignore[union-attr]
        assert sorted(fills) == sorted(o.id for o in placed)
        assert len([e for e in stored if e.kind == "execution"]) == 20
    finally:
        await other.close()


async def test_concurrent_fills_of_one_account_keep_every_quantity(service, database_url, tape, now):
    """Market orders of one account from two brokers at once: the position adds up."""
    other = BrokerService(database_url=database_url, prices=tape, clock=lambda: now)
    await other.open()
    try:
        buys = [s.place("acc", order(quantity=1)) for s in (service, other) for _ in range(15)]
        await asyncio.gather(*buys)
        [position] = await service.positions("acc")
        assert position.quantity == 30
        assert len(await service.executions("acc")) == 30
    finally:
        await other.close()


async def test_events_follow_every_change(service, tape):
    async with service.events.subscribe("acc") as events, service.events.subscribe("other") as others:
        working = (await service.place("acc", order(OrderType.LIMIT, limit_price=90.0))).order
        await service.modify("acc", working.id, OrderChanges(quantity=5))
        tape.prices["AAPL"] = 89.0
        await service.check_working_orders()
        canceled = (await service.place("acc", order(OrderType.LIMIT, limit_price=1.0))).order
        await service.cancel("acc", canceled.id)
        seen = [await asyncio.wait_for(events.get(), 1) for _ in range(7)]
        assert others.dropped == 0
        assert others._queue.empty()
    assert [(e.kind, e.action) for e in seen] == [
        ("order", "placed"),
        ("order", "modified"),
        ("order", "filled"),
        ("execution", "filled"),
        ("position", "filled"),
        ("equity", "filled"),
        ("order", "placed"),
    ]
    assert seen[2].subject.status is OrderStatus.FILLED
    assert seen[4].subject.quantity == 5
    assert seen[5].subject.equity == 100_000.0 - 5 * (89.0 - 89.0)
    assert all(e.account == "acc" for e in seen)


async def test_equity_is_published_when_prices_move_for_listened_accounts(service, tape):
    await service.place("acc", order(quantity=10))
    assert await service.publish_equity() == 0  # nobody listens
    async with service.events.subscribe("acc", ["equity"]) as events:
        tape.prices["AAPL"] = 101.5
        assert await service.publish_equity() == 1
        assert await service.publish_equity() == 0  # unchanged equity is not published again
        event = await asyncio.wait_for(events.get(), 1)
    assert (event.kind, event.action, event.subject.equity) == ("equity", "valued", 100_015.0)


async def test_api_keys_in_the_database(service):
    key, token = await service.create_api_key("alice", label="laptop")
    assert token.startswith(f"tb_{key.id}_")
    assert key.sha256 == hash_api_key(token)
    async with service.store.read() as tx:
        stored = await tx.api_keys("alice")
    assert [k.id for k in stored] == [key.id]
    assert token not in repr(stored)
    assert await service.authenticate(token) == "alice"
    assert await service.authenticate(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert await service.authenticate(f"tb_{'0' * 12}_{'x' * 43}") is None
    revoked = await service.revoke_api_key(key.id)
    assert revoked.revoked_at is not None
    assert await service.authenticate(token) is None


async def test_settings_keys_still_authenticate(database_url):
    broker = BrokerService(
        database_url=database_url, api_keys=[("alice", hash_api_key("a-token")), ("bob", hash_api_key("b").upper())]
    )
    await broker.open()
    try:
        assert await broker.authenticate("a-token") == "alice"
        assert await broker.authenticate("b") == "bob"
        assert await broker.authenticate("c") is None
        assert await broker.authenticate("") is None
    finally:
        await broker.close()


async def test_strict_rules_list_every_violation(service):
    request = replace(order(OrderType.STOP, limit_price=1.123456), symbol="EURUSD", quantity=1234)
    rules = [(v.field, v.rule) for v in service.violations(request, Strictness.STRICT)]
    assert rules == [("quantity", "lot_size"), ("limit_price", "not_allowed"), ("stop_price", "required")]
    basic = [(v.field, v.rule) for v in service.violations(request, Strictness.BASIC)]
    assert basic == [("stop_price", "required")]


async def test_an_order_placed_between_two_checks_is_checked_even_if_its_symbol_did_not_move(database_url, tape, now):
    """The matcher reads only symbols whose price moved, plus orders changed since its last check:
    an order placed at another price, when the price is back where the last check saw it."""
    clock = [now]
    broker = BrokerService(database_url=database_url, prices=tape, clock=lambda: clock[0])
    await broker.open()
    await broker.store.reset()
    try:
        old = (await broker.place("acc", order(OrderType.LIMIT, limit_price=99.0))).order
        assert await broker.check_working_orders() == 0  # sees AAPL at 100
        clock[0] += timedelta(minutes=1)
        tape.prices["AAPL"] = 103.0
        placed = (await broker.place("acc", order(OrderType.LIMIT, limit_price=101.0))).order
        assert placed.status is OrderStatus.WORKING
        clock[0] += timedelta(minutes=1)
        tape.prices["AAPL"] = 100.0  # where the last check saw it
        assert await broker.check_working_orders() == 1
        assert (await broker.get("acc", placed.id)).status is OrderStatus.FILLED
        assert (await broker.get("acc", old.id)).status is OrderStatus.WORKING
        clock[0] += timedelta(minutes=1)
        tape.prices["AAPL"] = 98.0  # the symbol moved: the old order is read again
        assert await broker.check_working_orders() == 1
        assert (await broker.get("acc", old.id)).status is OrderStatus.FILLED
    finally:
        await broker.close()
