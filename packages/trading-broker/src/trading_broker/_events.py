"""In-process broker events, for streams: what changed, for which account, after it was committed.

The service publishes an event after each committed change (an order placed, modified, canceled or
filled; an execution; a position moved; an account's equity changed). Publishing never waits: each
subscription has a bounded queue, and a subscriber that falls behind loses its oldest events (and
is told how many through :attr:`Subscription.dropped`) instead of slowing the broker or the others.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Literal, TypeAlias

from ._models import AccountSummary, Execution, Order, Position

EventKind: TypeAlias = Literal["order", "execution", "position", "equity"]
EVENT_KINDS: tuple[EventKind, ...] = ("order", "execution", "position", "equity")
DEFAULT_QUEUE_SIZE = 1000


@dataclass(frozen=True)
class BrokerEvent:
    """One committed change of an account's state.

    ``subject`` is the domain object as it is after the change: an :class:`Order` for ``"order"``,
    an :class:`Execution` for ``"execution"``, a valued :class:`Position` for ``"position"`` (a
    closed position has quantity 0), an :class:`AccountSummary` for ``"equity"``. Each API version
    turns it into its wire format with its ``event_payload`` function, the same shape its REST
    endpoints answer.
    """

    kind: EventKind
    account: str
    subject: Order | Execution | Position | AccountSummary
    time: datetime
    action: str
    """What happened: ``placed``, ``modified``, ``canceled``, ``filled``, ``triggered``, ``rejected``
    for orders; ``filled`` for executions and positions; ``valued`` or ``filled`` for equity."""
    sequence: int | None = None
    """The event's number among its account's events (1, 2, ...), given when it is written to the
    outbox with its change; ``None`` for an ``equity`` event that only prices moved (not stored)."""


class Subscription:
    """The events of one account (or of all accounts), in publication order.

    Use it as an async iterator, and close it when done (``async with`` does): a closed
    subscription ends its iteration and is forgotten by the hub. One that is dropped without
    being closed is forgotten too, since the hub holds subscriptions weakly.
    """

    def __init__(self, hub: EventHub, account: str | None, kinds: frozenset[EventKind], maxsize: int) -> None:
        self.account = account
        self.kinds = kinds
        self.dropped = 0
        """How many events were discarded because this subscriber fell ``maxsize`` events behind."""
        self._queue: asyncio.Queue[BrokerEvent | None] = asyncio.Queue(maxsize=maxsize)
        self._hub = hub
        self._closed = False

    def wants(self, event: BrokerEvent) -> bool:
        return event.kind in self.kinds and (self.account is None or self.account == event.account)

    def _offer(self, event: BrokerEvent) -> None:
        if self._closed:
            return
        if self._queue.full():
            # Drop the oldest: a live stream values the present state over a complete history,
            # and the client can re-read the REST endpoints when ``dropped`` grows.
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(event)

    async def get(self) -> BrokerEvent:
        """The next event; :class:`StopAsyncIteration` once the subscription is closed."""
        if self._closed and self._queue.empty():
            raise StopAsyncIteration
        event = await self._queue.get()
        if event is None:
            raise StopAsyncIteration
        return event

    def close(self) -> None:
        """Stop receiving events; an iteration waiting for one ends."""
        if self._closed:
            return
        self._closed = True
        self._hub._forget(self)
        # Wake a consumer blocked in get(); make room first so the sentinel always fits.
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> BrokerEvent:
        return await self.get()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class EventHub:
    """Fans broker events out to subscriptions, in one process. The service's outbox relay feeds
    it every committed event, whichever process committed it (see ``_outbox``)."""

    def __init__(self) -> None:
        self._subscriptions: weakref.WeakSet[Subscription] = weakref.WeakSet()

    def subscribe(
        self,
        account: str | None,
        kinds: Iterable[EventKind] = EVENT_KINDS,
        *,
        maxsize: int = DEFAULT_QUEUE_SIZE,
    ) -> Subscription:
        """Events of ``account`` (``None``: every account) of the given kinds, from now on."""
        wanted = frozenset(kinds)
        unknown = wanted - set(EVENT_KINDS)
        if unknown:
            raise ValueError(f"unknown event kinds {sorted(unknown)}; known: {', '.join(EVENT_KINDS)}")
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        subscription = Subscription(self, account, wanted, maxsize)
        self._subscriptions.add(subscription)
        return subscription

    def publish(self, event: BrokerEvent) -> None:
        """Hand ``event`` to every subscription that wants it; never waits."""
        if not self._subscriptions:
            return
        for subscription in list(self._subscriptions):
            if subscription.wants(event):
                subscription._offer(event)

    def listened_accounts(self, kind: EventKind) -> set[str] | None:
        """The accounts with a subscriber for ``kind``; ``None`` when someone listens to every account."""
        accounts: set[str] = set()
        for subscription in list(self._subscriptions):
            if kind in subscription.kinds:
                if subscription.account is None:
                    return None
                accounts.add(subscription.account)
        return accounts

    def listens_to(self, account: str) -> bool:
        """Whether some subscription wants events of ``account``."""
        return any(s.account is None or s.account == account for s in list(self._subscriptions))

    @property
    def subscribers(self) -> int:
        """How many subscriptions are open."""
        return len(self._subscriptions)

    def _forget(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)
