"""The broker module: one instance per process, holding the service every API version adapts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from trading_core import Module, ModuleContext

from ._prices import PriceSource
from ._service import BrokerService, Clock
from ._settings import BrokerSettings
from ._store import OrderStore


class BrokerModule(Module):
    """Orders over a paper broker. API v1 acts on ``default_account``; API v2 on the account of
    the caller's bearer token.

    ``store``, ``prices`` and ``clock`` replace the in-memory store, the simulated market and the
    wall clock, for embedding and tests; the host passes only ``context``.
    """

    name = "broker"
    description = "Orders over a paper broker: place, list, modify and cancel, filled against a price source."
    Settings = BrokerSettings

    def __init__(
        self,
        context: ModuleContext | None = None,
        *,
        store: OrderStore | None = None,
        prices: PriceSource | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(context)
        settings = self.broker_settings
        self.service = BrokerService(
            store=store,
            prices=prices,
            api_keys=[(key.account, key.sha256) for key in settings.api_keys],
            clock=clock,
        )

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
        await self.service.open()
        try:
            yield
        finally:
            await self.service.close()

    async def health(self) -> dict[str, Any]:
        return {"status": "ok", **await self.service.health()}
