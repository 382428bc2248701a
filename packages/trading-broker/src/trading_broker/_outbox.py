"""The transactional outbox: broker events that hold across replicas.

Each event (an order placed, modified, canceled, triggered, rejected or filled; an execution; a
position moved; an account's equity after a fill) is written to ``broker_outbox`` in the same
transaction as the change it reports, with a sequence number per account (1, 2, 3, ...; the
account's ``broker_outbox_sequences`` row, locked by that transaction, hands them out, so one
account's events commit in the order of their numbers). An event is therefore published only if
its change was committed, and every committed change has its events.

On PostgreSQL the writing transaction also runs ``pg_notify`` with the account and its last
sequence number (never the event itself); PostgreSQL delivers the notification at the commit,
and only then, to every replica ``LISTEN``-ing. Each replica's :class:`OutboxRelay` reads the
account's rows after the last sequence it delivered and hands them to its :class:`EventHub`, in
order. A replica that missed notifications (its listening connection dropped, it restarted)
catches up from the database: at each (re)connection, and every ``poll_interval`` seconds. In
one process (SQLite, or the replica that made the change) the committing code hands its events
to the relay directly, and the relay reads the database only to fill a gap.

Retention: rows older than ``retention`` seconds are deleted (every replica prunes, at most once
per ``prune_interval``); the sequence numbers go on from where they were.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Text, bindparam, cast, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from ._events import BrokerEvent, EventHub, EventKind
from ._models import AccountSummary, Execution, Order, Position
from ._rows import from_row
from ._tables import outbox, outbox_sequences

if TYPE_CHECKING:
    from ._store import BrokerStore

log = logging.getLogger("trading_broker")

CHANNEL = "trading_broker_outbox"
"""The PostgreSQL notification channel; a payload is ``"<last sequence> <account>"``."""
PAGE = 500
"""Outbox rows read in one query."""
PROBE_INTERVAL = 5.0
"""Seconds between two checks that the listening connection still answers, at most: a connection
cut without a word (a peer gone, a half-open TCP connection) never calls its termination listener,
and the catch-up may be set much further apart."""
_SUBJECTS: dict[str, type[Any]] = {
    "order": Order,
    "execution": Execution,
    "position": Position,
    "equity": AccountSummary,
}


def _next_sequences(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(outbox_sequences).values(account=bindparam("account"), last_seq=bindparam("n"))
    return statement.on_conflict_do_update(
        index_elements=["account"], set_={"last_seq": outbox_sequences.c.last_seq + statement.excluded.last_seq}
    ).returning(outbox_sequences.c.last_seq)


def _next_sequences_notifying() -> Any:
    """On PostgreSQL, the account's numbers and its notification in one round trip: the notification
    (``"<last sequence> <account>"``) is queued now and sent at the commit, after the rows written
    later in the transaction."""
    taken = _next_sequences("postgresql").cte("taken")
    payload = func.concat(cast(taken.c.last_seq, Text), " ", bindparam("account"))
    return select(taken.c.last_seq, func.pg_notify(CHANNEL, payload))


# Built once, so that SQLAlchemy finds them compiled (see _store).
_NEXT = {"postgresql": _next_sequences_notifying(), "sqlite": _next_sequences("sqlite")}
_INSERT = outbox.insert()


def append(connection: Connection, events: Sequence[BrokerEvent]) -> list[BrokerEvent]:
    """Write ``events`` in ``connection``'s transaction, each with the next sequence number of its
    account (the account's counter row stays locked until the transaction ends); the events with
    their numbers. On PostgreSQL, a notification per account goes out when the transaction commits."""
    if not events:
        return []
    dialect = connection.dialect.name
    counts = Counter(event.account for event in events)
    following: dict[str, int] = {}
    for account in sorted(counts):  # one lock order for every writer: no deadlock between them
        last = connection.execute(_NEXT[dialect], {"account": account, "n": counts[account]}).scalar_one()
        following[account] = last - counts[account] + 1
    sequenced = []
    for e in events:  # built directly: dataclasses.replace costs several times as much
        number = following[e.account]
        sequenced.append(
            BrokerEvent(
                kind=e.kind, account=e.account, subject=e.subject, time=e.time, action=e.action, sequence=number
            )
        )
        following[e.account] = number + 1
    connection.execute(
        _INSERT,
        [
            {
                "account": e.account,
                "seq": e.sequence,
                "kind": e.kind,
                "action": e.action,
                "time": e.time,
                "subject": e.subject,
            }
            for e in sequenced
        ],
    )
    return sequenced


def _event(row: Any) -> BrokerEvent:
    kind: EventKind = row["kind"]
    return BrokerEvent(
        kind=kind,
        account=row["account"],
        subject=from_row(_SUBJECTS[kind], row["subject"]),
        time=row["time"],
        action=row["action"],
        sequence=row["seq"],
    )


async def read(
    store: BrokerStore, account: str, after: int, *, kinds: Collection[EventKind] | None = None, limit: int = PAGE
) -> list[BrokerEvent]:
    """The account's stored events after sequence ``after``, oldest first, at most ``limit``."""
    query = select(outbox).where(outbox.c.account == account, outbox.c.seq > after)
    if kinds is not None:
        query = query.where(outbox.c.kind.in_(sorted(kinds)))
    query = query.order_by(outbox.c.seq).limit(limit)
    async with store.read() as tx:
        rows = (await tx._connection.execute(query)).mappings().all()
    return [_event(row) for row in rows]


async def last_sequences(store: BrokerStore) -> dict[str, int]:
    """Each account's last sequence number."""
    async with store.read() as tx:
        rows = (await tx._connection.execute(select(outbox_sequences))).all()
    return {account: int(last) for account, last in rows}


async def prune(store: BrokerStore, before: datetime) -> int:
    """Delete the events older than ``before``; how many were deleted."""
    async with store.write() as tx:
        result = await tx._connection.execute(delete(outbox).where(outbox.c.time < before))
    return int(result.rowcount or 0)


class OutboxRelay:
    """Hands one replica's :class:`EventHub` every committed event, each once, in each account's
    order: those this process committed (:meth:`deliver`), and those any process committed
    (notifications on PostgreSQL, and a periodic catch-up from the database everywhere)."""

    def __init__(
        self,
        store: BrokerStore,
        hub: EventHub,
        *,
        poll_interval: float = 5.0,
        retention: float = 86_400.0,
        clock: Callable[[], datetime],
        on_delivered: Callable[[BrokerEvent], None] | None = None,
    ) -> None:
        self.store = store
        self.hub = hub
        self.poll_interval = poll_interval
        self.retention = retention
        self.prune_interval = min(max(retention / 10, 1.0), 300.0)
        self.listening = False
        """Whether the PostgreSQL ``LISTEN`` connection is up."""
        self.listener_pid: int | None = None
        """The server process of that connection (``pg_stat_activity.pid``), while it is up."""
        self.cursors: dict[str, int] = {}
        """The last sequence number delivered to the hub (or skipped: nobody listened), by account."""
        self._known: dict[str, int] = {}
        self._pending: set[str] = set()
        self._wake = asyncio.Event()
        self._clock = clock
        self._on_delivered = on_delivered
        self._tasks: list[asyncio.Task[None]] = []
        self._pruned_at: float | None = None
        self._catch_up = False

    async def start(self) -> None:
        """Listen (PostgreSQL) and start relaying events committed from now on."""
        if self._tasks:
            return
        loop = asyncio.get_running_loop()
        if self.store.backend == "postgresql":
            connected = loop.create_future()
            self._tasks.append(asyncio.create_task(self._listen(connected), name="trading-broker outbox listener"))
            # Listening before the cursors are read: nothing committed in between is missed.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10):
                    await asyncio.shield(connected)
        self.cursors = await last_sequences(self.store)
        self._known = dict(self.cursors)
        self._tasks.append(asyncio.create_task(self._run(), name="trading-broker outbox relay"))

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- delivery

    def deliver(self, events: Iterable[BrokerEvent]) -> None:
        """Events this process has just committed: handed to the hub at once when they follow
        what was delivered; a gap (another transaction's events not delivered yet) is filled
        from the database first."""
        for event in events:
            assert event.sequence is not None, "only stored events are relayed"
            self._publish(event)

    def notified(self, account: str, sequence: int) -> None:
        """The account has events up to ``sequence`` in the database."""
        if sequence > self._known.get(account, 0):
            self._known[account] = sequence
        if sequence > self.cursors.get(account, 0):
            self._pending.add(account)
            self._wake.set()

    def _publish(self, event: BrokerEvent, *, stored: bool = False) -> None:
        """``stored``: read from the database, in order; a gap there means pruned events."""
        account, sequence = event.account, event.sequence
        assert sequence is not None
        cursor = self.cursors.get(account, 0)
        if sequence <= cursor:
            return  # delivered already
        if sequence > self._known.get(account, 0):
            self._known[account] = sequence
        if not stored and sequence != cursor + 1 and self.hub.listens_to(account):
            self._pending.add(account)  # an earlier event is missing: read them in order
            self._wake.set()
            return
        self.cursors[account] = sequence
        self.hub.publish(event)
        if self._on_delivered is not None:
            self._on_delivered(event)

    async def _relay(self, account: str) -> None:
        """Deliver the account's events after its cursor from the database."""
        if not self.hub.listens_to(account):
            # Nobody here listens to it: nothing to read, the cursor moves on.
            self.cursors[account] = max(self.cursors.get(account, 0), self._known.get(account, 0))
            return
        while True:
            events = await read(self.store, account, self.cursors.get(account, 0))
            for event in events:
                self._publish(event, stored=True)
            if len(events) < PAGE:
                return

    async def catch_up(self) -> None:
        """Relay whatever the database holds past the cursors (missed notifications)."""
        for account, last in (await last_sequences(self.store)).items():
            self.notified(account, last)
        await self._drain()

    async def _drain(self) -> None:
        while self._pending:
            account = min(self._pending)
            # Taken off before the read: a notification that comes while it runs (its commit
            # perhaps after the read's snapshot) puts the account back, for one more read.
            self._pending.discard(account)
            try:
                await self._relay(account)
            except BaseException:
                self._pending.add(account)
                raise

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            timed_out = False
            try:
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()
            except TimeoutError:
                timed_out = True
            self._wake.clear()
            try:
                if timed_out or self._catch_up:
                    self._catch_up = False
                    await self.catch_up()
                else:
                    await self._drain()
                if self._pruned_at is None or loop.time() - self._pruned_at >= self.prune_interval:
                    self._pruned_at = loop.time()
                    pruned = await prune(self.store, self._clock() - timedelta(seconds=self.retention))
                    if pruned:
                        log.info("pruned %d outbox events older than %g s", pruned, self.retention)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("relaying outbox events failed; retrying in %g s", self.poll_interval)

    # -- PostgreSQL notifications

    async def _listen(self, connected: asyncio.Future[None]) -> None:
        """A connection of its own (outside the pool, which must not hold one forever) that
        ``LISTEN``s; reconnected with a growing pause when it drops, then a catch-up."""
        # Imported here: a broker on SQLite never needs the PostgreSQL driver (80 ms of every start).
        import asyncpg  # type: ignore[import-untyped]  # the broker's PostgreSQL driver; it ships no types

        dsn = self.store.url.set(drivername="postgresql").render_as_string(hide_password=False)
        pause = 0.1
        while True:
            try:
                connection = await asyncpg.connect(dsn, timeout=10)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("the outbox listener cannot connect (%s); retrying in %.1f s", type(exc).__name__, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)
                continue
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _c, lost=lost: lost.set())
            try:
                await connection.add_listener(CHANNEL, self._notification)
                self.listening = True
                self.listener_pid = connection.get_server_pid()
                pause = 0.1
                if not connected.done():
                    connected.set_result(None)
                else:  # events committed while it was down are found by a catch-up
                    self._catch_up = True
                    self._wake.set()
                probe = min(self.poll_interval, PROBE_INTERVAL)
                while not lost.is_set():
                    try:
                        async with asyncio.timeout(probe):
                            await lost.wait()
                    except TimeoutError:
                        async with asyncio.timeout(probe):  # a dead peer shows here, or never answers
                            await connection.execute("SELECT 1")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("the outbox listener lost its connection (%s); reconnecting", type(exc).__name__)
            finally:
                self.listening = False
                self.listener_pid = None
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(2):
                        await connection.close()

    def _notification(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        sequence, _, account = payload.partition(" ")
        try:
            self.notified(account, int(sequence))
        except ValueError:
            log.warning("ignored an outbox notification with payload %r", payload)
