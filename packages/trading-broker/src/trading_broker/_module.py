"""The broker module: one instance per process, holding the service every API version adapts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from trading_core import Module, ModuleContext, ModuleStartupError
from trading_core.streams import StreamHub, StreamLimits

from ._database import open_failure, sqlite_file_problem
from ._errors import DatabaseUnavailable
from ._matcher import Matcher
from ._prices import PriceSource
from ._service import BrokerService, Clock
from ._settings import BrokerSettings

log = logging.getLogger("trading_broker")


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
            leverage=settings.leverage,
            group_commit=settings.group_commit,
            outbox_poll_interval=settings.outbox_poll_interval,
            outbox_retention=settings.outbox_retention,
            account_leverage={
                account: own.leverage for account, own in settings.accounts.items() if own.leverage is not None
            },
        )
        self.matcher = Matcher(self.service, settings.match_interval)
        self.stream_hubs: list[StreamHub] = []
        """The stream endpoints of the API versions built over this module, for health and shutdown."""

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
        try:
            await self.service.open()
        except Exception as exc:
            raise ModuleStartupError(*open_failure(self.service.store.url, exc)) from exc
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

    async def check_connection(self) -> list[ModuleStartupError]:
        """Whether the database can be reached (``trading-host matrix --check --connect``), without
        migrating it (nor, when the file system already says it cannot be opened, creating it)."""
        url = self.service.store.url
        local = sqlite_file_problem(url)
        if local is not None:
            return [ModuleStartupError(f"cannot open {local[0]}", local[1])]
        try:
            await self.service.store.check()
        except Exception as exc:
            return [ModuleStartupError(*open_failure(self.service.store.url, exc))]
        return []

    async def health(self) -> dict[str, Any]:
        """``ok``; ``degraded`` while the background check of the working orders fails (or leaves
        orders it could not check); ``down`` when the database cannot be read. Anyone may read
        ``/health``, so the report names what failed, never the driver's error or the database's
        name, unless ``health_details`` is on; the server log has them."""
        details = self.settings.health_details
        report: dict[str, Any] = {"status": "ok"}
        try:
            report.update(await self.service.health())
        except Exception as exc:
            log.warning("the broker's health check cannot read the database: %s: %s", type(exc).__name__, exc)
            report["status"] = "down"
            if details:
                cause = exc.__cause__ if isinstance(exc, DatabaseUnavailable) and exc.__cause__ is not None else exc
                report["error"] = f"{type(cause).__name__}: {cause}"
            elif isinstance(exc, DatabaseUnavailable):
                report["error"] = str(exc)
            else:
                report["error"] = f"the broker cannot read its database ({type(exc).__name__}); see the server log"
            report["database"] = self.service.store.backend
        report["matcher"] = self.matcher.running
        report["streams"] = {
            "connections": sum(hub.connections for hub in self.stream_hubs),
            "feeds": sum(len(hub.feeds()) for hub in self.stream_hubs),
        }
        matcher = self.matcher
        if matcher.last_error is not None:
            public = f"{matcher.last_error_kind}; see the server log"
            report["matcher_error"] = matcher.last_error if details else public
        failed = self.service.failed_checks
        if failed:
            report["matcher_failed_orders"] = len(failed)
            if details:
                report["matcher_failures"] = dict(failed)
        if matcher.failing and report["status"] == "ok":
            report["status"] = "degraded"
        return report
