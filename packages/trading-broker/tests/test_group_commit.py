"""Group commit on SQLite and on PostgreSQL: concurrent placements share one transaction, and
each order still gets the answer it would get alone.

Placements gathered at once on a service with no batch under way land in one batch (the batch's
writer starts only after every gathered placement has queued); each test checks that they did,
through the service's group-commit counters, so that it tests a batch and not orders one by one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

import pytest
from broker_setup import NOW, Tape

from trading_broker import (
    BrokerService,
    IdempotencyKeyReused,
    InvalidOrder,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)

pytestmark = pytest.mark.anyio

Make = Callable[..., Awaitable[BrokerService]]


@pytest.fixture
async def make(database_url: str, tape: Tape) -> AsyncIterator[Make]:
    """``await make(**settings)``: a broker service on the (emptied) test database, the tape as its market."""
    made: list[BrokerService] = []

    async def build(**settings: object) -> BrokerService:
        settings.setdefault("prices", tape)
        service = BrokerService(database_url=database_url, clock=lambda: NOW, **settings)  # type: ignore[arg-type]
        await service.open()
        if not made:
            await service.store.reset()
        made.append(service)
        return service

    try:
        yield build
    finally:
        for service in made:
            await service.close()


def buy(quantity: float, symbol: str = "AAPL", **kind: object) -> OrderRequest:
    return OrderRequest(symbol=symbol, quantity=quantity, **kind)  # type: ignore[arg-type]


def sell(quantity: float, symbol: str = "AAPL") -> OrderRequest:
    return OrderRequest(symbol=symbol, quantity=quantity, side=Side.SELL)


async def in_one_batch(service: BrokerService, *placements: Awaitable[object]) -> list[Any]:
    """Run ``placements`` at once and check that they were written as one batch; their outcomes."""
    assert service._group is not None, "group commit is on"
    before = (service._group.stats.batches, service._group.stats.jobs)
    outcomes = await asyncio.gather(*placements, return_exceptions=True)
    stats = service._group.stats
    assert (stats.batches - before[0], stats.jobs - before[1]) == (1, len(placements)), "one batch of them all"
    return list(outcomes)


async def test_concurrent_placements_share_one_commit(make: Make) -> None:
    service = await make()
    outcomes = await in_one_batch(service, *(service.place("acc", buy(1)) for _ in range(20)))
    assert all(not isinstance(o, BaseException) for o in outcomes)
    [position] = await service.positions("acc")
    assert position.quantity == 20
    assert len(await service.executions("acc")) == len(await service.orders("acc")) == 20
    assert (await service.health())["group_commit"] == {"batches": 1, "orders": 20, "largest_batch": 20}


class FailingTape(Tape):
    """A tape whose price of MSFT fails, as a broken price source does."""

    def last_price(self, symbol: str, at: datetime) -> float | None:
        if symbol == "MSFT":
            raise ConnectionError("the price source is down")
        return super().last_price(symbol, at)


async def test_a_failing_order_does_not_fail_the_others_of_its_batch(make: Make) -> None:
    service = await make(account_leverage={"poor": 0.001})
    first = (await service.place("acc", buy(1), idempotency_key="taken")).order
    outcomes = await in_one_batch(
        service,
        service.place("acc", buy(1)),
        service.place("poor", buy(1000)),  # beyond its buying power: refused
        service.place("acc", buy(1)),
        service.place("acc", sell(1), idempotency_key="taken"),  # the key of another request: refused
        service.place("acc", buy(1)),
    )
    assert isinstance(outcomes[1], InvalidOrder)
    assert isinstance(outcomes[3], IdempotencyKeyReused)
    assert [isinstance(o, BaseException) for o in outcomes] == [False, True, False, True, False]
    [position] = await service.positions("acc")
    assert position.quantity == 4
    assert (await service.orders("acc"))[0].id == first.id
    assert len(await service.orders("acc")) == 4
    assert await service.orders("poor") == []


async def test_a_failing_price_source_fails_its_order_alone(make: Make, tape: Tape) -> None:
    service = await make(prices=FailingTape(**tape.prices))
    outcomes = await in_one_batch(
        service, service.place("acc", buy(1)), service.place("acc", buy(1, "MSFT")), service.place("acc", buy(2))
    )
    assert isinstance(outcomes[1], ConnectionError)
    [position] = await service.positions("acc")
    assert (position.symbol, position.quantity) == ("AAPL", 3)


async def test_a_batch_that_fails_whole_is_placed_order_by_order(make: Make) -> None:
    """An order the database refuses (an idempotency key no database can store: a lone
    surrogate) fails the batch's transaction; the batch is then placed order by order, and only
    that order fails."""
    service = await make()
    outcomes = await in_one_batch(
        service,
        service.place("acc", buy(1)),
        service.place("acc", buy(1), idempotency_key="\ud800"),
        service.place("acc", buy(2), idempotency_key="fine"),
        service.place("other", buy(5)),
    )
    assert [isinstance(o, BaseException) for o in outcomes] == [False, True, False, False]
    [position] = await service.positions("acc")
    assert position.quantity == 3
    assert len(await service.orders("acc")) == 2
    [other] = await service.positions("other")
    assert other.quantity == 5
    replay = await service.place("acc", buy(2), idempotency_key="fine")
    assert replay.replayed


async def test_an_idempotent_retry_in_the_batch_of_its_original_creates_one_order(make: Make) -> None:
    service = await make()
    outcomes = await in_one_batch(
        service,
        service.place("acc", buy(3), idempotency_key="k"),
        service.place("acc", buy(3), idempotency_key="k"),
        service.place("acc", sell(3), idempotency_key="k"),  # another request with that key
        service.place("other", buy(3), idempotency_key="k"),  # keys are per account
        service.place("acc", buy(3), idempotency_key="k"),
    )
    first, again, reused, other, third = outcomes
    assert isinstance(reused, IdempotencyKeyReused)
    placements = [first, again, third]
    assert [p.replayed for p in placements] == [False, True, True]
    assert {p.order.id for p in placements} == {first.order.id}
    assert again.order == first.order
    assert again.order is not first.order  # a replay is a copy
    assert not other.replayed
    [stored] = await service.orders("acc")
    assert stored.id == first.order.id
    assert len(await service.executions("acc")) == 1
    # The stored record answers a retry in a later batch too.
    later = await service.place("acc", buy(3), idempotency_key="k")
    assert (later.replayed, later.order.id) == (True, stored.id)


@pytest.mark.parametrize("group_commit", [True, False])
async def test_fills_in_one_batch_see_each_others_positions(make: Make, tape: Tape, group_commit: bool) -> None:
    """Orders of one account in one batch are filled one after the other, each against the
    position, balance and buying power the previous ones left: the same outcome as one by one."""
    service = await make(group_commit=group_commit, account_leverage={"acc": 1})

    async def together(*placements: Awaitable[object]) -> list[Any]:
        if group_commit:
            return await in_one_batch(service, *placements)
        outcomes: list[Any] = []
        for placement in placements:  # one by one, in the order a batch places them
            try:
                outcomes.append(await placement)
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    await service.place("acc", buy(10))  # 10 at 100
    tape.prices["AAPL"] = 110.0
    outcomes = await together(
        service.place("acc", sell(4)),  # realises 4 x 10
        service.place("acc", sell(4)),  # 4 x 10
        service.place("acc", sell(4)),  # closes the last 2 (2 x 10), opens 2 short at 110
        service.place("other", buy(1)),
    )
    assert not any(isinstance(o, BaseException) for o in outcomes)
    [position] = await service.positions("acc")
    assert (position.quantity, position.average_price, position.realised_pnl) == (-2, 110.0, 100.0)
    summary = await service.account("acc")
    assert (summary.balance, summary.realised_pnl) == (100_100.0, 100.0)
    assert [e.realised_pnl for e in await service.executions("acc")] == [0.0, 40.0, 40.0, 20.0]

    # Buying power: 100,100 of equity at leverage 1, 220 held short. Each of these fits alone;
    # together the last one does not, whether the earlier ones fill or keep working.
    outcomes = await together(
        service.place("acc", buy(400, order_type=OrderType.LIMIT, limit_price=100.0)),  # 40,000 working
        service.place("acc", buy(502)),  # closes 2, opens 500 at 110: 55,000
        service.place("acc", buy(100, order_type=OrderType.LIMIT, limit_price=100.0)),  # 10,000 more: too much
    )
    working, bought, refused = outcomes
    assert isinstance(refused, InvalidOrder), refused
    assert refused.violations[0].rule == "buying_power"
    assert working.order.status is OrderStatus.WORKING
    assert bought.order.status is OrderStatus.FILLED
    [position] = await service.positions("acc")
    assert position.quantity == 500
    assert len(await service.orders("acc")) == 6
