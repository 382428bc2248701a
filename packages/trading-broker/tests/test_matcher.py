"""The background check of the working orders isolates a failing order: the others still fill,
the failure is logged, rejected orders get their event, and the module's health says ``degraded``
while the check fails (issue 8). On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from broker_setup import NOW, Tape

from trading_broker import BrokerModule, OrderRequest, OrderStatus, OrderType, Position, Side
from trading_core import ModuleContext

pytestmark = pytest.mark.anyio


def limit(symbol: str, price: float, quantity: float = 1, side: Side = Side.BUY) -> OrderRequest:
    return OrderRequest(symbol, quantity, side=side, order_type=OrderType.LIMIT, limit_price=price)


async def poison(service, account: str, symbol: str, average: float = 190.0) -> None:
    """Store the position a release without bounds let an anonymous v1 client make: +inf."""
    async with service.store.write() as tx:
        await tx.lock_account(account, initial_balance=service.initial_balance, now=NOW)
        position = Position(account, symbol, float("inf"), average, 0.0, NOW)
        await tx.save_position(position, new=True)


async def test_an_order_that_cannot_be_filled_is_rejected_and_the_others_fill(service, tape, caplog):
    """A working order of an account whose position is +inf raised InvalidOperation in every check,
    and every working order behind it, of every account, never filled."""
    poisoned = (await service.place("mallory", limit("AAPL", 90.0))).order
    others = [
        (await service.place("alice", limit("AAPL", 90.0))).order,
        (await service.place("bob", limit("MSFT", 390.0))).order,
    ]
    await poison(service, "mallory", "AAPL")
    tape.prices.update(AAPL=89.0, MSFT=389.0)
    with caplog.at_level(logging.ERROR, logger="trading_broker"):
        async with service.events.subscribe("mallory", ["order"]) as events:
            assert await service.check_working_orders() == 3
            event = await asyncio.wait_for(events.get(), 1)
    assert [(await service.get(o.account, o.id)).status for o in others] == [OrderStatus.FILLED] * 2
    rejected = await service.get("mallory", poisoned.id)
    assert rejected.status is OrderStatus.REJECTED
    assert "cannot add this fill to the account's AAPL position (InvalidOperation)" in (rejected.reason or "")
    assert (event.kind, event.action, event.subject.id) == ("order", "rejected", poisoned.id)
    assert any(poisoned.id in record.getMessage() for record in caplog.records)
    assert service.failed_checks == {}
    # The next check has nothing left to trip on.
    assert await service.check_working_orders() == 0


async def test_an_order_whose_check_raises_is_rejected_with_its_event(service, tape, monkeypatch, caplog):
    bad = (await service.place("mallory", limit("MSFT", 390.0))).order
    good = (await service.place("alice", limit("MSFT", 390.0))).order
    real = service._match

    async def failing_for_one(tx, order, now):
        if order.id == bad.id:
            raise ValueError("a row no release wrote")
        return await real(tx, order, now)

    monkeypatch.setattr(service, "_match", failing_for_one)
    tape.prices["MSFT"] = 389.0
    with caplog.at_level(logging.ERROR, logger="trading_broker"):
        async with service.events.subscribe("mallory", ["order"]) as events:
            assert await service.check_working_orders() == 2
            event = await asyncio.wait_for(events.get(), 1)
    assert (await service.get("alice", good.id)).status is OrderStatus.FILLED
    rejected = await service.get("mallory", bad.id)
    assert (rejected.status, rejected.reason) == (
        OrderStatus.REJECTED,
        "the broker could not check this order (ValueError)",
    )
    assert (event.action, event.subject.id) == ("rejected", bad.id)
    assert "a row no release wrote" in caplog.text


async def test_a_failing_price_source_holds_back_its_symbol_only(service, tape, caplog):
    aapl = (await service.place("alice", limit("AAPL", 90.0))).order
    msft = (await service.place("bob", limit("MSFT", 390.0))).order
    tape.prices.update(AAPL=89.0, MSFT=389.0)
    real = tape.last_price

    def broken_for_aapl(symbol, at):
        if symbol == "AAPL":
            raise ConnectionError("quotes feed down")
        return real(symbol, at)

    tape.last_price = broken_for_aapl
    with caplog.at_level(logging.ERROR, logger="trading_broker"):
        assert await service.check_working_orders() == 1
    assert (await service.get("bob", msft.id)).status is OrderStatus.FILLED
    assert (await service.get("alice", aapl.id)).status is OrderStatus.WORKING  # not its fault: it waits
    assert list(service.failed_checks) == [aapl.id]
    assert "price source failed for AAPL" in caplog.text
    tape.last_price = real
    assert await service.check_working_orders() == 1
    assert (await service.get("alice", aapl.id)).status is OrderStatus.FILLED
    assert service.failed_checks == {}


@pytest.fixture
def flaky_tape() -> Tape:
    return Tape(AAPL=100.0, MSFT=400.0)


async def test_health_is_degraded_while_the_check_fails(database_url, flaky_tape):
    settings = {"database_url": database_url, "match_interval": 0.01}
    module = BrokerModule(ModuleContext(settings=settings), prices=flaky_tape, clock=lambda: NOW)
    async with module.lifespan():
        await module.service.store.reset()
        service = module.service
        aapl = (await service.place("alice", limit("AAPL", 90.0))).order
        msft = (await service.place("bob", limit("MSFT", 390.0))).order
        real = flaky_tape.last_price

        def broken_for_aapl(symbol, at):
            if symbol == "AAPL":
                raise ConnectionError("quotes feed down at 10.0.0.7")
            return real(symbol, at)

        flaky_tape.last_price = broken_for_aapl
        flaky_tape.prices.update(AAPL=89.0, MSFT=389.0)
        report = await _wait_for(module, lambda r: r.get("matcher_failed_orders") == 1)
        assert report["status"] == "degraded"
        assert "10.0.0.7" not in str(report)  # the reason is in the log, not on the public page
        # The check that first saw AAPL fail may have read its symbols before MSFT's order was placed:
        # MSFT's order fills at a later check, while AAPL's still fails.
        await _order_reaches(service, "bob", msft.id, OrderStatus.FILLED)
        assert (await module.health())["matcher_failed_orders"] == 1
        flaky_tape.last_price = real
        report = await _wait_for(module, lambda r: r["status"] == "ok")
        assert "matcher_failed_orders" not in report
        assert (await service.get("alice", aapl.id)).status is OrderStatus.FILLED


async def test_health_details_show_the_failures_when_the_setting_allows(sqlite_url, flaky_tape):
    settings = {"database_url": sqlite_url, "match_interval": 0.01, "health_details": True}
    module = BrokerModule(ModuleContext(settings=settings), prices=flaky_tape, clock=lambda: NOW)
    async with module.lifespan():
        order = (await module.service.place("alice", limit("AAPL", 90.0))).order
        flaky_tape.last_price = lambda symbol, at: 1 / 0
        report = await _wait_for(module, lambda r: r.get("matcher_failed_orders") == 1)
        assert report["matcher_failures"] == {
            order.id: "no price for AAPL: the price source failed (ZeroDivisionError)"
        }


async def test_publishing_equity_still_runs_when_the_check_fails(sqlite_url, tape):
    module = BrokerModule(ModuleContext(settings={"database_url": sqlite_url, "match_interval": 3600}), prices=tape)
    async with module.lifespan():
        await module.matcher.stop()
        published = []

        async def failing() -> int:
            raise RuntimeError("boom")

        async def publish() -> int:
            published.append(True)
            return 0

        module.service.check_working_orders = failing  # type: ignore[method-assign]
        module.service.publish_equity = publish  # type: ignore[method-assign]
        await module.matcher.tick()
        assert published == [True]
        assert module.matcher.last_error == "RuntimeError: boom"
        assert (await module.health())["status"] == "degraded"


async def test_equity_of_other_accounts_is_published_past_an_unvaluable_one(service, tape):
    await service.place("alice", OrderRequest("AAPL", 10))
    await poison(service, "mallory", "MSFT", average=400.0)  # valued at 400: inf x 0
    async with service.events.subscribe(None, ["equity"]) as events:
        assert await service.publish_equity() == 1
        event = await asyncio.wait_for(events.get(), 1)
    assert event.account == "alice"


async def _order_reaches(service, account: str, order_id: str, status: OrderStatus) -> None:
    for _ in range(500):
        order = await service.get(account, order_id)
        if order.status is status:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"order {order_id} is still {order.status}, never {status}")


async def _wait_for(module: BrokerModule, condition) -> dict[str, Any]:
    for _ in range(500):
        report = await module.health()
        if condition(report):
            return report
        await asyncio.sleep(0.01)
    raise AssertionError(f"health never got there: {report}")
