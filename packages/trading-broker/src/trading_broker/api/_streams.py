"""The broker's stream routes, the same in every API version: ``orders``, ``positions``,
``executions`` and ``equity`` over the service's events, each update in the version's wire format.

A feed subscribes to the service's events of one account while the topic has subscribers (the
stream framework starts it for the first subscriber and cancels it after the last), so events are
never read for nobody.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from trading_core.streams import Identity, StreamRoute, SubscriptionRefused

from .._events import BrokerEvent, EventKind, Subscription
from .._models import AccountSummary
from .._service import BrokerService
from ._schemas import WireFormat

log = logging.getLogger("trading_broker")

AccountOf = Callable[[Identity | None], str]
"""Which account a feed follows, given the subscriber's identity (``None`` on a shared route)."""


class SymbolFilter(BaseModel):
    """``orders``, ``positions`` and ``executions``: the account's updates in every symbol, or in one."""

    model_config = ConfigDict(extra="forbid")

    symbol: str | None = Field(default=None, description="Only this symbol's updates (any case); all if left out")


def _no_default(schema: dict[str, Any]) -> None:
    # No "default" in the schema: generated clients (TypeScript) make a defaulted property
    # required, and a client that does not resume must be able to leave it out.
    schema.pop("default", None)


class ResumableFilter(SymbolFilter):
    """A :class:`SymbolFilter` that may resume where an earlier subscription stopped."""

    since: int | None = Field(
        default=None,
        ge=0,
        json_schema_extra=_no_default,
        description=(
            "Resume: the last `sequence` this client received from this route; the stream first sends every later "
            "event of the account still in the broker's outbox (see the broker's `outbox_retention`), in order, "
            "then the live ones, each once. Left out: live events only. 0: every event kept."
        ),
    )

    @model_serializer(mode="wrap")
    def _without_null_since(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A live subscription names the same topic as before resuming existed: {"symbol": ...}.
        data: dict[str, Any] = handler(self)
        if data.get("since") is None:
            data.pop("since", None)
        return data


class NoParams(BaseModel):
    """``equity``: no parameters (the account is the connection's)."""

    model_config = ConfigDict(extra="forbid")


def _symbol(event: BrokerEvent) -> str | None:
    subject = event.subject
    return None if isinstance(subject, AccountSummary) else subject.symbol


async def latest_every(events: Subscription, interval: float) -> AsyncGenerator[BrokerEvent, None]:
    """The events of ``events``, at most one per ``interval`` seconds: the first after a quiet
    spell at once; of those arriving sooner, only the latest, when the interval ends. A value
    stream (equity) needs its present value, not each step of a burst of fills."""
    loop = asyncio.get_running_loop()
    next_at = loop.time()
    while True:
        try:
            latest = await events.get()
        except StopAsyncIteration:
            return
        ended = False
        while (wait := next_at - loop.time()) > 0:
            try:
                async with asyncio.timeout(wait):
                    latest = await events.get()
            except TimeoutError:
                break
            except StopAsyncIteration:
                ended = True
                break
        yield latest
        if ended:
            return
        next_at = loop.time() + interval


def broker_stream_routes(
    service: BrokerService,
    wire: WireFormat,
    *,
    account_of: AccountOf,
    per_identity: bool,
    equity_interval: float,
    resumable: type[ResumableFilter] | None = None,
) -> list[StreamRoute[Any, Any]]:
    """The four stream routes over ``service``'s events, in ``wire``'s format.

    ``per_identity`` routes key their topics by the subscriber's account (API versions with
    authentication); ``account_of`` names the account a feed follows. ``resumable``: the symbol
    routes' parameters, with ``since`` (a :class:`ResumableFilter`, named as the version's
    documents name it); ``wire``'s models then have a ``sequence`` field, set from the event's.
    """
    filter_model: type[SymbolFilter] = resumable if resumable is not None else SymbolFilter

    def body(event: BrokerEvent) -> BaseModel:
        model = wire.model(event)
        return model.model_copy(update={"sequence": event.sequence}) if resumable is not None else model

    def normalize(params: SymbolFilter) -> SymbolFilter:
        if params.symbol is None:
            return params
        symbol = params.symbol.strip().upper()
        if symbol not in service.instruments:
            known = ", ".join(service.instruments)
            raise SubscriptionRefused(f"unknown symbol {params.symbol!r}; the broker trades {known}")
        return params.model_copy(update={"symbol": symbol})

    def events_of(kind: EventKind) -> Callable[[SymbolFilter, Identity | None], AsyncIterator[BaseModel]]:
        async def feed(params: SymbolFilter, identity: Identity | None) -> AsyncIterator[BaseModel]:
            account = account_of(identity)
            # Subscribed before the stored events are read: an event committed meanwhile is in
            # both, and sent once (the sequence numbers tell).
            async with service.events.subscribe(account, [kind]) as events:
                last = getattr(params, "since", None)
                if last is not None:
                    while True:
                        stored = await service.stored_events(account, last, kinds=[kind])
                        for event in stored:
                            assert event.sequence is not None
                            last = event.sequence
                            if params.symbol is None or _symbol(event) == params.symbol:
                                yield body(event)
                        if not stored:
                            break
                dropped = 0
                async for event in events:
                    if events.dropped != dropped:
                        # The feed hands updates on without waiting, so this means a starved event loop.
                        log.warning("%s stream of %r lost %d events", kind, account, events.dropped - dropped)
                        dropped = events.dropped
                    if last is not None and event.sequence is not None and event.sequence <= last:
                        continue  # sent from the outbox already
                    if params.symbol is None or _symbol(event) == params.symbol:
                        yield body(event)

        return feed

    async def equity(_: NoParams, identity: Identity | None) -> AsyncIterator[BaseModel]:
        async with (
            service.events.subscribe(account_of(identity), ["equity"]) as events,
            aclosing(latest_every(events, equity_interval)) as throttled,
        ):
            async for event in throttled:
                yield body(event)

    def route(name: str, update: type[BaseModel], kind: EventKind, summary: str) -> StreamRoute[Any, Any]:
        return StreamRoute(
            name, filter_model, update, events_of(kind), normalize=normalize, per_identity=per_identity, summary=summary
        )

    return [
        route("orders", wire.order, "order", "The account's orders: placed, modified, canceled, triggered, filled"),
        route("positions", wire.position, "position", "The account's positions as fills move them (0: closed)"),
        route("executions", wire.execution, "execution", "The account's fills"),
        StreamRoute(
            "equity",
            NoParams,
            wire.account,
            equity,
            per_identity=per_identity,
            summary="The account's balance and equity as fills and prices move them, at most once per equity_interval",
        ),
    ]
