"""The ``news`` module: one instance per process, shared by every API version of it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from trading_core import Module, ModuleContext

from ._service import NewsService


class NewsSettings(BaseModel):
    """The ``[modules.news]`` table of the host's configuration."""

    # A misspelt key must be reported before serving, not silently ignored.
    model_config = ConfigDict(extra="forbid")

    max_results: int = Field(50, ge=1, le=1000, description="Most headlines one listing returns.")


class NewsModule(Module[NewsSettings]):
    """Market headlines by symbol."""

    name = "news"
    description = "Market headlines by symbol."

    def __init__(self, context: ModuleContext | None = None) -> None:
        super().__init__(context)
        self.service = NewsService(max_results=self.settings.max_results)

    async def health(self) -> dict[str, Any]:
        return {"status": "ok", "headlines": len(self.service)}
