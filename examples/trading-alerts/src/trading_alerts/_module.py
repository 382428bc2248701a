"""The ``alerts`` module: one instance per process, shared by every API version of it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from trading_core import Module, ModuleContext, ModuleStartupError
from trading_core.streams import StreamHub

from ._service import AlertService


# --8<-- [start:settings]
class AlertsSettings(BaseModel):
    """The ``[modules.alerts]`` table of the host's configuration."""

    model_config = ConfigDict(extra="forbid")  # a misspelt key is reported before serving

    max_alerts: int = Field(100, ge=1, le=10_000, description="Most alerts kept at once.")
    data_file: Path | None = Field(None, description="Where the alerts are kept between runs; none: in memory only.")


# --8<-- [end:settings]


# --8<-- [start:module]
class AlertsModule(Module[AlertsSettings]):
    """Price alerts by symbol."""

    name = "alerts"  # the URL segment: /api/{global}/alerts/...
    description = "Price alerts by symbol: create, list, enable and disable them, and follow them live."

    def __init__(self, context: ModuleContext | None = None) -> None:
        super().__init__(context)  # validates the settings: self.settings is an AlertsSettings
        self.service = AlertService(max_alerts=self.settings.max_alerts)  # shared by v1 and v2
        self.stream_hubs: list[StreamHub] = []  # each version's WebSocket endpoint adds its own

    @asynccontextmanager  # required: the host enters it with `async with`
    async def lifespan(self) -> AsyncIterator[None]:
        path = self.settings.data_file
        if path is not None:
            try:
                self.service.load(path)
            except (OSError, ValueError, KeyError, TypeError) as exc:  # unreadable, or not our format
                raise ModuleStartupError(
                    f"the alerts file {path} cannot be read: {type(exc).__name__}: {exc}",
                    "fix or remove the file, or point [modules.alerts] data_file elsewhere",
                ) from exc
        try:
            yield  # serving
        finally:
            await asyncio.gather(*(hub.close() for hub in self.stream_hubs))  # ends the feeds
            if path is not None:
                self.service.save(path)

    async def health(self) -> dict[str, Any]:
        return {"status": "ok", "alerts": len(self.service)}


# --8<-- [end:module]
