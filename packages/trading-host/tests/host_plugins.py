"""Small modules built directly from objects, for composing apps with ``Installed.from_apis``.

``alpha`` has three API versions over one shared service and counts its instances and lifespans;
``beta`` defines a schema and an operationId with the same names as alpha's but a different shape,
so that merging their OpenAPI documents has something to resolve.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, ClassVar

from fastapi import Request, WebSocket
from pydantic import BaseModel, ConfigDict

from trading_core import Module, ModuleApi, ModuleContext
from trading_core.core.api.v1 import CoreApi
from trading_host import SCOPE_KEY

__all__ = [
    "AlphaModule",
    "AlphaV1",
    "AlphaV2",
    "AlphaV3",
    "BetaModule",
    "BetaV1",
    "CoreApi",
]


class AlphaSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    greeting: str = "hello"
    limit: int = 10


class AlphaModule(Module):
    """Counts what the host does with it: instances built, lifespans entered and left."""

    name = "alpha"
    description = "A test module with a shared list of items."
    Settings = AlphaSettings

    instances: ClassVar[int] = 0
    started: ClassVar[int] = 0
    stopped: ClassVar[int] = 0
    events: ClassVar[list[str]] = []
    healthy: ClassVar[bool] = True

    def __init__(self, context: ModuleContext | None = None) -> None:
        super().__init__(context)
        type(self).instances += 1
        self.items: list[str] = []
        self.running = False

    @classmethod
    def reset(cls) -> None:
        cls.instances = cls.started = cls.stopped = 0
        cls.events = []
        cls.healthy = True

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        type(self).started += 1
        type(self).events.append("alpha:start")
        self.running = True
        try:
            yield
        finally:
            self.running = False
            type(self).stopped += 1
            type(self).events.append("alpha:stop")

    async def health(self) -> dict[str, Any]:
        if not type(self).healthy:
            raise RuntimeError("storage unreachable")
        return {"status": "ok"}


class ItemV1(BaseModel):
    name: str


class Item(BaseModel):
    """alpha's item: a name and its position."""

    name: str
    position: int


def _where(request: Request) -> dict[str, Any]:
    mount = request.scope[SCOPE_KEY]
    return {
        "global_version": mount.global_version,
        "module": mount.module,
        "version": mount.version,
        "prefix": mount.prefix,
        "root_path": request.scope.get("root_path", ""),
        "path": request.scope["path"],
    }


class AlphaV1(ModuleApi):
    module = AlphaModule
    version = "v1"

    def __init__(self, module: AlphaModule) -> None:
        super().__init__(module)

        @self.get("/items", operation_id="listItems", response_model=list[ItemV1])
        async def list_items() -> list[ItemV1]:
            return [ItemV1(name=n) for n in module.items]

        @self.post("/items", operation_id="addItem", status_code=201)
        async def add_item(item: ItemV1) -> ItemV1:
            module.items.append(item.name)
            return item

        @self.get("/where")
        async def where(request: Request) -> dict[str, Any]:
            return {**_where(request), "items_url": str(request.url_for(f"{_label(request)}list_items"))}

        @self.get("/settings")
        async def settings() -> dict[str, Any]:
            return {**module.settings.model_dump(), "running": module.running, "instance": id(module)}


def _label(request: Request) -> str:
    mount = request.scope[SCOPE_KEY]
    if mount.global_version is not None:
        return f"{mount.global_version}:{mount.module}:"
    return f"{mount.module}:{mount.version}:"


class AlphaV2(ModuleApi):
    module = AlphaModule
    version = "v2"

    def __init__(self, module: AlphaModule) -> None:
        super().__init__(module)

        @self.get("/items", operation_id="listItems", response_model=list[Item])
        async def list_items() -> list[Item]:
            return [Item(name=n, position=i) for i, n in enumerate(module.items)]

        @self.post("/items", operation_id="addItem", status_code=201)
        async def add_item(item: ItemV1) -> Item:
            module.items.append(item.name)
            return Item(name=item.name, position=len(module.items) - 1)

        @self.get("/where")
        async def where(request: Request) -> dict[str, Any]:
            return {**_where(request), "items_url": str(request.url_for(f"{_label(request)}list_items"))}

        @self.get("/settings")
        async def settings() -> dict[str, Any]:
            return {**module.settings.model_dump(), "running": module.running, "instance": id(module)}


class AlphaV3(ModuleApi):
    module = AlphaModule
    version = "v3"

    def __init__(self, module: AlphaModule) -> None:
        super().__init__(module)

        @self.get("/items", operation_id="listItems")
        async def list_items() -> dict[str, Any]:
            return {"version": "v3", "items": list(module.items)}


class BetaModule(Module):
    name = "beta"
    description = "A test module whose names clash with alpha's."


class _Beta:
    class Item(BaseModel):
        """beta's item: a symbol and its price (same schema name as alpha's, another shape)."""

        symbol: str
        price: float


BetaItem = _Beta.Item


class BetaV1(ModuleApi):
    module = BetaModule
    version = "v1"

    def __init__(self, module: BetaModule) -> None:
        super().__init__(module)

        # Same operationId and schema name as alpha v2, different schema.
        @self.get("/items", operation_id="listItems", response_model=list[BetaItem])
        async def list_items() -> list[BetaItem]:
            return [BetaItem(symbol="AAPL", price=1.5)]

        @self.websocket("/ws")
        async def echo(websocket: WebSocket) -> None:
            await websocket.accept()
            message = await websocket.receive_text()
            await websocket.send_text(f"beta:{message}")
            await websocket.close()
