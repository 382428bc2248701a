"""The broker module: one instance per process, holding the service every API version adapts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from trading_core import Module, ModuleContext
from trading_core.streams import StreamHub, StreamLimits

from ._matcher import Matcher
from ._prices import PriceSource
from ._service import BrokerService, Clock
from ._settings import BrokerSettings


class BrokerModule(Module[BrokerSettings]):
    """Orders over a paper broker. API v1 acts on ``default_account``; API v2 on the account of
    the caller's bearer token.

    ``prices`` and ``clock`` replace the simulated market and the wall clock, for embedding and
    tests; the host passes only ``context``.
    """

    name = "broker"
    description = "Orders over a paper broker: place, list, modify and cancel, filled against a price source."

    def __init__(
        self,
        context: ModuleContext | None = None,
        *,
        prices: PriceSource | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(context)
        settings = self.settings
        # Nothing touches the database here: the host builds modules to check a configuration
        # too, and the database is opened (and migrated) in the lifespan.
        self.service = BrokerService(
            database_url=settings.database_url,
            prices=prices,
            api_keys=[(key.account, key.sha256) for key in settings.api_keys],
            clock=clock,
            initial_balance=settings.initial_balance,
        )
        self.matcher = Matcher(self.service, settings.match_interval)
        self.stream_hubs: list[StreamHub] = []
        """The stream endpoints of the API versions built over this module, for health and shutdown."""

    @property
    def broker_settings(self) -> BrokerSettings:
        """The validated ``[modules.broker]`` table: :attr:`settings`, under the name the API versions use."""
        return self.settings

    @property
    def default_account(self) -> str:
        """The account broker API v1 acts on."""
        return self.settings.default_account

    @property
    def stream_limits(self) -> StreamLimits:
        """The per-client bounds of the broker's stream endpoints, from the settings."""
        settings = self.settings
        return StreamLimits(queue_size=settings.stream_queue_size, max_dropped=settings.stream_max_dropped)

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """Open and migrate the database, run the matcher; close the streams, stop the matcher and
        close the database."""
        await self.service.open()
        try:
            self.matcher.start()
            try:
                yield
            finally:
                # Whatever the server did with the open sockets, no stream feed outlives the module.
                await asyncio.gather(*(hub.close() for hub in self.stream_hubs))
                await self.matcher.stop()
        finally:
            await self.service.close()

    async def health(self) -> dict[str, Any]:
        report: dict[str, Any] = {
            "status": "ok",
            **await self.service.health(),
            "matcher": self.matcher.running,
            "streams": {
                "connections": sum(hub.connections for hub in self.stream_hubs),
                "feeds": sum(len(hub.feeds()) for hub in self.stream_hubs),
            },
        }
        if self.matcher.last_error is not None:
            report["matcher_error"] = self.matcher.last_error
        return report
