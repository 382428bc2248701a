"""The transactional outbox, on SQLite and PostgreSQL: only committed events, numbered per account;
resuming from a number gives no gap and no repeat; a failed transaction publishes nothing; another
service on the same database (a replica) hears every event; old events are pruned."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from broker_setup import NOW

from trading_broker import BrokerService, Order, OrderChanges, OrderRequest, OrderType
from trading_broker._events import BrokerEvent, EventHub
from trading_broker._outbox import PROBE_INTERVAL, OutboxRelay, last_sequences, prune
from trading_broker._store import Transaction

pytestmark = pytest.mark.anyio


def limit(symbol: str, price: float, quantity: float = 1) -> OrderRequest:
    return OrderRequest(symbol, quantity, order_type=OrderType.LIMIT, limit_price=price)


async def numbers(service: BrokerService, account: str, after: int = 0) -> list[tuple[int, str, str]]:
    found: list[tuple[int, str, str]] = []
    while page := await service.stored_events(account, after):
        for event in page:
            assert event.sequence is not None
            found.append((event.sequence, event.kind, event.action))
            after = event.sequence
    return found


async def next_events(subscription, count: int) -> list[BrokerEvent]:
    async with asyncio.timeout(10):
        return [await subscription.get() for _ in range(count)]


async def test_each_account_numbers_its_committed_events_in_order(service, tape):
    start = await last_sequences(service.store)
    order = (await service.place("alice", limit("AAPL", 90.0))).order
    await service.place("bob", OrderRequest("MSFT", 2))  # filled at once: order, execution, position, equity
    await service.modify("alice", order.id, OrderChanges(quantity=3))
    await service.cancel("alice", order.id)
    a, b = start.get("alice", 0), start.get("bob", 0)
    assert await numbers(service, "alice", a) == [
        (a + 1, "order", "placed"),
        (a + 2, "order", "modified"),
        (a + 3, "order", "canceled"),
    ]
    assert await numbers(service, "bob", b) == [
        (b + 1, "order", "placed"),
        (b + 2, "execution", "filled"),
        (b + 3, "position", "filled"),
        (b + 4, "equity", "filled"),
    ]
    # Resuming from any number gives exactly what follows it.
    assert [n for n, _, _ in await numbers(service, "bob", b + 2)] == [b + 3, b + 4]


async def test_a_failed_transaction_publishes_and_stores_nothing(service, tape, monkeypatch):
    order = (await service.place("alice", limit("AAPL", 90.0))).order
    before = await numbers(service, "alice")

    async def broken(self, *args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(Transaction, "update_order", broken)
    async with service.events.subscribe("alice") as events:
        with pytest.raises(RuntimeError, match="disk is full"):
            await service.cancel("alice", order.id)
        await asyncio.sleep(0)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await events.get()
    monkeypatch.undo()
    assert await numbers(service, "alice") == before
    # The number the failed transaction took was rolled back with it: the next event follows on.
    await service.cancel("alice", order.id)
    assert [n for n, _, _ in await numbers(service, "alice")] == [n for n, _, _ in before] + [before[-1][0] + 1]


async def test_another_service_on_the_database_hears_every_event_once_in_order(database_url, tape):
    # Two replicas: on PostgreSQL each hears the other's events through NOTIFY (their catch-ups are
    # set an hour apart, so only the notification can wake them in time); on SQLite through their
    # catch-ups, a tenth of a second apart.
    poll = 3600.0 if database_url.startswith("postgresql") else 0.1
    a = BrokerService(database_url=database_url, prices=tape, clock=lambda: NOW, outbox_poll_interval=poll)
    b = BrokerService(database_url=database_url, prices=tape, clock=lambda: NOW, outbox_poll_interval=poll)
    await a.open()
    await b.open()
    try:
        async with b.events.subscribe("carol") as heard, a.events.subscribe("carol") as own:
            await a.place("carol", OrderRequest("AAPL", 1))
            working = (await a.place("carol", limit("MSFT", 390.0))).order
            tape.prices["MSFT"] = 389.0
            assert await b.check_working_orders() == 1  # B's matcher fills A's order
            first = (await next_events(own, 1))[0].sequence
            assert first is not None
            expected = await numbers(a, "carol", first - 1)
            assert len(expected) == 4 + 1 + 4
            got = await next_events(heard, len(expected))
            assert [(e.sequence, e.kind, e.action) for e in got] == expected
            # A, whose order B's matcher filled, hears that fill too (its first event was read above).
            mine = await next_events(own, len(expected) - 1)
            assert [(e.sequence, e.kind, e.action) for e in mine] == expected[1:]
            filled = got[-4].subject
            assert isinstance(filled, Order)
            assert (filled.id, got[-4].action) == (working.id, "filled")
            with pytest.raises(TimeoutError):  # and nothing twice
                async with asyncio.timeout(0.3):
                    await heard.get()
    finally:
        await a.close()
        await b.close()


async def test_the_relay_delivers_out_of_order_commits_in_order(service):
    await service.place("dave", OrderRequest("AAPL", 1))
    stored = await service.stored_events("dave", 0)
    assert len(stored) == 4
    relay = OutboxRelay(service.store, service.events, clock=lambda: NOW)
    relay.cursors["dave"] = stored[0].sequence - 1
    relay._tasks.append(asyncio.create_task(relay._run()))
    try:
        async with service.events.subscribe("dave") as events:
            relay.deliver([stored[2], stored[3]])  # a later transaction's events arrive first
            relay.deliver([stored[0], stored[1]])
            hub_events = await next_events(events, 4)
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.3):
                    await events.get()
    finally:
        await relay.stop()
    # The relay's and the service's deliveries went to one hub: each event arrived once, in order.
    assert [e.sequence for e in hub_events] == [e.sequence for e in stored]


async def test_a_notification_that_comes_during_a_read_of_its_account_is_relayed(service, monkeypatch):
    """The relay reads an account's events; the account's next commit is notified while that read
    is still on its way (its snapshot before the commit): the relay reads once more at once, not
    at the next catch-up (an hour away here)."""
    from trading_broker import _outbox

    hub = EventHub()  # the relay's own: the service's relay delivers to service.events
    relay = OutboxRelay(service.store, hub, poll_interval=3600, clock=lambda: NOW)
    reading, release = asyncio.Event(), asyncio.Event()
    read = _outbox.read

    async def held_read(*args, **kwargs):
        events = await read(*args, **kwargs)
        if not reading.is_set():
            reading.set()
            await release.wait()
        return events

    monkeypatch.setattr(_outbox, "read", held_read)
    relay._tasks.append(asyncio.create_task(relay._run()))
    try:
        async with hub.subscribe("ivan", ["order"]) as heard:
            placed = [(await service.place("ivan", limit("AAPL", 90.0))).order.id]
            relay.notified("ivan", (await last_sequences(service.store))["ivan"])
            await reading.wait()
            placed.append((await service.place("ivan", limit("AAPL", 90.0))).order.id)
            relay.notified("ivan", (await last_sequences(service.store))["ivan"])
            release.set()
            got = await next_events(heard, 2)
            assert [e.subject.id for e in got if isinstance(e.subject, Order)] == placed
    finally:
        await relay.stop()


async def test_old_events_are_pruned_and_numbers_go_on(service):
    await service.place("erin", OrderRequest("AAPL", 1))
    first = await numbers(service, "erin")
    assert len(first) == 4
    assert await prune(service.store, NOW - timedelta(seconds=1)) == 0
    assert await prune(service.store, NOW + timedelta(seconds=1)) >= 4
    assert await numbers(service, "erin") == []
    await service.place("erin", OrderRequest("AAPL", 1))
    assert [n for n, _, _ in await numbers(service, "erin")] == [first[-1][0] + i for i in range(1, 5)]


def test_the_retention_is_a_setting_with_bounds():
    from pydantic import ValidationError

    from trading_broker import BrokerSettings

    assert BrokerSettings().outbox_retention == 86_400
    with pytest.raises(ValidationError, match="outbox_retention"):
        BrokerSettings(outbox_retention=1)


async def test_the_relay_prunes_past_the_retention(database_url, tape):
    service = BrokerService(database_url=database_url, prices=tape, clock=lambda: NOW, outbox_retention=60)
    await service.open()
    try:
        await service.store.reset()
        await service.place("frank", OrderRequest("AAPL", 1))
        assert len(await numbers(service, "frank")) == 4
        later = NOW + timedelta(seconds=61)
        service.relay._clock = lambda: later
        service.relay._pruned_at = None
        service.relay._wake.set()
        async with asyncio.timeout(10):
            while await numbers(service, "frank"):  # noqa: ASYNC110 (the database has no event to wait on)
                await asyncio.sleep(0.05)
    finally:
        await service.close()


async def terminate(by: BrokerService, pid: int) -> None:
    """End the PostgreSQL backend ``pid`` (another service's listening connection) from ``by``."""
    from sqlalchemy import text

    async with by.store.write() as tx:
        await tx._connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


async def test_a_dropped_listening_connection_is_reconnected_and_misses_nothing(postgres_url, tape):
    a = BrokerService(database_url=postgres_url, prices=tape, clock=lambda: NOW, outbox_poll_interval=3600)
    b = BrokerService(database_url=postgres_url, prices=tape, clock=lambda: NOW)
    await a.open()
    await b.open()
    try:
        assert (await a.health())["outbox_listening"] is True
        dropped = a.relay.listener_pid
        assert dropped is not None
        async with a.events.subscribe("gina", ["order"]) as heard:
            await terminate(b, dropped)
            placed = [(await b.place("gina", limit("AAPL", 90.0))).order.id for _ in range(3)]
            got = await next_events(heard, 3)  # by notification or by the catch-up after reconnecting
            assert [e.subject.id for e in got if isinstance(e.subject, Order)] == placed
            async with asyncio.timeout(10):
                while a.relay.listener_pid in (None, dropped):  # noqa: ASYNC110 (a connection has no event)
                    await asyncio.sleep(0.05)
            later = (await b.place("gina", limit("AAPL", 90.0))).order.id
            [event] = await next_events(heard, 1)
            assert isinstance(event.subject, Order)
            assert event.subject.id == later
    finally:
        await a.close()
        await b.close()


async def test_a_listening_connection_cut_without_a_word_is_found_by_the_probe(postgres_url, tape, monkeypatch):
    """No termination listener is called (as for a half-open connection): the probe, at most
    ``PROBE_INTERVAL`` apart whatever the catch-up's interval, finds the connection dead."""
    import asyncpg  # type: ignore[import-untyped]

    monkeypatch.setattr(asyncpg.Connection, "add_termination_listener", lambda self, callback: None)
    a = BrokerService(database_url=postgres_url, prices=tape, clock=lambda: NOW, outbox_poll_interval=3600)
    b = BrokerService(database_url=postgres_url, prices=tape, clock=lambda: NOW)
    await a.open()
    await b.open()
    try:
        dropped = a.relay.listener_pid
        assert dropped is not None
        async with a.events.subscribe("hana", ["order"]) as heard:
            await terminate(b, dropped)
            placed = (await b.place("hana", limit("AAPL", 90.0))).order.id
            async with asyncio.timeout(PROBE_INTERVAL + 5):
                event = await heard.get()  # by the catch-up once the probe has replaced the connection
            assert isinstance(event.subject, Order)
            assert event.subject.id == placed
            assert a.relay.listener_pid not in (None, dropped)
    finally:
        await a.close()
        await b.close()
