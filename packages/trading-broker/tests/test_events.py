"""The in-process event hub: filtering, bounded queues, closing, and no leaked subscriptions."""

from __future__ import annotations

import asyncio
import gc
from datetime import UTC, datetime

import pytest

from trading_broker import AccountSummary, BrokerEvent, EventHub

pytestmark = pytest.mark.anyio
T = datetime(2025, 1, 6, tzinfo=UTC)


def equity(account: str, value: float) -> BrokerEvent:
    summary = AccountSummary(account, value, 0.0, 0.0, value, 0, T)
    return BrokerEvent(kind="equity", account=account, subject=summary, time=T, action="valued")


def equity_of(event: BrokerEvent) -> float:
    assert isinstance(event.subject, AccountSummary), event
    return event.subject.equity


async def test_a_subscription_gets_its_accounts_events_in_order():
    hub = EventHub()
    async with hub.subscribe("a") as mine, hub.subscribe(None) as everyone, hub.subscribe("a", ["order"]) as orders:
        for event in (equity("a", 1), equity("b", 2), equity("a", 3)):
            hub.publish(event)
        assert [equity_of(await mine.get()) for _ in range(2)] == [1, 3]
        assert [(await everyone.get()).account for _ in range(3)] == ["a", "b", "a"]
        assert orders._queue.empty()


async def test_a_slow_subscriber_loses_its_oldest_events_not_the_others():
    hub = EventHub()
    async with hub.subscribe("a", maxsize=2) as slow, hub.subscribe("a", maxsize=10) as fast:
        for value in range(5):
            hub.publish(equity("a", value))
        assert slow.dropped == 3
        assert [equity_of(await slow.get()) for _ in range(2)] == [3, 4]
        assert fast.dropped == 0
        assert [equity_of(await fast.get()) for _ in range(5)] == [0, 1, 2, 3, 4]


async def test_closing_ends_a_waiting_iteration_and_forgets_the_subscriber():
    hub = EventHub()
    subscription = hub.subscribe("a", maxsize=1)
    received: list[BrokerEvent] = []

    async def consume() -> None:
        async for event in subscription:
            received.append(event)

    task = asyncio.create_task(consume())
    hub.publish(equity("a", 1))
    await asyncio.sleep(0.01)
    hub.publish(equity("a", 2))  # fills the queue of one, so closing must make room for the end
    subscription.close()
    await asyncio.wait_for(task, 1)
    assert [equity_of(e) for e in received] in ([1.0], [1.0, 2.0])
    assert hub.subscribers == 0
    hub.publish(equity("a", 3))  # nobody left: nothing is kept
    with pytest.raises(StopAsyncIteration):
        await subscription.get()


async def test_a_forgotten_subscription_is_dropped_by_the_hub():
    hub = EventHub()
    hub.subscribe("a")
    gc.collect()
    assert hub.subscribers == 0


async def test_listened_accounts_tell_whom_to_value():
    hub = EventHub()
    assert hub.listened_accounts("equity") == set()
    with_a = hub.subscribe("a", ["equity"])
    hub.subscribe("b", ["order"])  # not kept: the hub forgets it
    keep = hub.subscribe("c", ["order"])
    assert hub.listened_accounts("equity") == {"a"}
    everyone = hub.subscribe(None, ["equity"])
    assert hub.listened_accounts("equity") is None
    for subscription in (with_a, keep, everyone):
        subscription.close()


def test_bad_arguments_are_refused_with_the_fix():
    hub = EventHub()
    with pytest.raises(ValueError, match="unknown event kinds \\['fills'\\]; known: order, execution"):
        hub.subscribe("a", ["fills"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="maxsize must be at least 1"):
        hub.subscribe("a", maxsize=0)
