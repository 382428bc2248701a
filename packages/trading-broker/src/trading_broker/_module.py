"""The broker module: one instance per process, holding the service every API version adapts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from trading_core import Module, ModuleContext

from ._matcher import Matcher
from ._prices import PriceSource
from ._service import BrokerService, Clock
from ._settings import BrokerSettings


class BrokerModule(Module):
    """Orders over a paper broker. API v1 acts on ``default_account``; API v2 on the account of
    the caller's bearer token.

    ``prices`` and ``clock`` replace the simulated market and the wall clock, for embedding and
    tests; the host passes only ``context``.
    """

    name = "broker"
    description = "Orders over a paper broker: place, list, modify and cancel, filled against a price source."
    Settings = BrokerSettings

    def __init__(
        self,
        context: ModuleContext | None = None,
        *,
        prices: PriceSource | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(context)
        settings = self.broker_settings
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

    @property
    def broker_settings(self) -> BrokerSettings:
        """The validated ``[modules.broker]`` table."""
        assert isinstance(self.settings, BrokerSettings)
        return self.settings

    @property
    def default_account(self) -> str:
        """The account broker API v1 acts on."""
        return self.broker_settings.default_account

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """Open and migrate the database, run the matcher; stop the matcher and close the database."""
        await self.service.open()
        try:
            self.matcher.start()
            try:
                yield
            finally:
                await self.matcher.stop()
        finally:
            await self.service.close()

    async def health(self) -> dict[str, Any]:
        report: dict[str, Any] = {"status": "ok", **await self.service.health(), "matcher": self.matcher.running}
        if self.matcher.last_error is not None:
            report["matcher_error"] = self.matcher.last_error
        return report
