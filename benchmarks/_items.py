"""The item API every benchmark serves, and the hand-written FastAPI apps that serve it directly.

Every module version declares the same four routes (``GET /items``, ``POST /items``,
``GET /items/{item_id}``, ``DELETE /items/{item_id}``) with the same pydantic models, so the
hand-written app, the host, a flat ``include_router`` app and plain mounts serve identical
endpoints and differ only in how a request reaches the endpoint.

This file imports FastAPI and pydantic only (no trading package), so a hand-written app started
from it pays for nothing the platform brings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel


class Item(BaseModel):
    id: int
    name: str
    price: float
    module: str
    version: str


class ItemIn(BaseModel):
    name: str
    price: float


def declare_item_routes(router: FastAPI | APIRouter, prefix: str, module: str, version: str) -> None:
    """The four item routes of one module version, at ``{prefix}/items...``."""

    @router.get(prefix + "/items", response_model=list[Item])
    async def list_items(limit: int = 10) -> list[Item]:
        return [Item(id=i, name=f"item {i}", price=9.5, module=module, version=version) for i in range(limit)]

    @router.post(prefix + "/items", response_model=Item, status_code=201)
    async def create_item(body: ItemIn) -> Item:
        return Item(id=1, name=body.name, price=body.price, module=module, version=version)

    @router.get(prefix + "/items/{item_id}", response_model=Item)
    async def get_item(item_id: int) -> Item:
        return Item(id=item_id, name=f"item {item_id}", price=9.5, module=module, version=version)

    @router.delete(prefix + "/items/{item_id}", status_code=204)
    async def delete_item(item_id: int) -> None:
        return None


def module_name(index: int) -> str:
    return f"mod{index:03d}"


@dataclass(frozen=True)
class Layout:
    """``modules`` synthetic modules, each at ``versions`` versions over ``versions`` global versions."""

    modules: int
    versions: int

    @classmethod
    def for_count(cls, count: int, shape: str) -> Layout:
        """``count`` mounted module versions: as ``count`` modules at v1 (``shape="modules"``), or
        as ``count/2`` modules at v1 and v2 over global v1 and v2 (``shape="versions"``; 1 stays 1x1)."""
        if shape == "modules" or count == 1:
            return cls(count, 1)
        if shape == "versions":
            if count % 2:
                raise ValueError(f"the 'versions' shape needs an even count (or 1), got {count}")
            return cls(count // 2, 2)
        raise ValueError(f"unknown shape {shape!r}: use 'versions' or 'modules'")

    @property
    def count(self) -> int:
        return self.modules * self.versions

    @property
    def global_versions(self) -> list[str]:
        return [f"v{k}" for k in range(1, self.versions + 1)]

    def mounted(self) -> list[tuple[str, str, str]]:
        """Every synthetic (global version, module, module version), in table order."""
        return [(g, module_name(i), g) for g in self.global_versions for i in range(self.modules)]

    def describe(self) -> str:
        if self.versions == 1:
            return f"{self.modules} module(s) at v1 in global v1"
        globals_ = ", ".join(self.global_versions)
        return f"{self.modules} modules x {self.versions} versions over global {globals_}"

    def config_toml(self, *, metrics: bool = True) -> str:
        """A host configuration serving this layout (core v1 in every global version); the host's
        defaults otherwise, except usage metrics when ``metrics`` is false."""
        lines = [f"serve = [{', '.join(repr(g) for g in self.global_versions)}]".replace("'", '"')]
        if not metrics:
            lines += ["", "[metrics]", "enabled = false"]
        for g in self.global_versions:
            lines += ["", f"[matrix.{g}]", 'core = "v1"']
            lines += [f'{module_name(i)} = "{g}"' for i in range(self.modules)]
        return "\n".join(lines) + "\n"

    def write_config(self, directory: Path, *, metrics: bool = True) -> Path:
        suffix = "" if metrics else "-nometrics"
        path = directory / f"trading-{self.modules}x{self.versions}{suffix}.toml"
        path.write_text(self.config_toml(metrics=metrics), encoding="utf-8")
        return path


# --- hand-written apps ---------------------------------------------------------------------------


def hand_written_app(prefix: str = "/api/v1/mod000", module: str = "mod000", version: str = "v1") -> FastAPI:
    """(a) One plain FastAPI app with the item routes written directly on it (no docs routes)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    declare_item_routes(app, prefix, module, version)
    return app


def hand_written_flat_app(layout: Layout, *, docs: bool = False) -> FastAPI:
    """Every module version's item routes, and a core health route per global version, written
    directly on one FastAPI app (for start-up); ``docs`` keeps FastAPI's docs routes."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield

    if docs:
        app = FastAPI(title="Trading API", lifespan=lifespan)
    else:
        app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    for g in layout.global_versions:

        @app.get(f"/api/{g}/core/health")
        async def health() -> dict[str, str]:
            return {"status": "ok"}

    for g, m, v in layout.mounted():
        declare_item_routes(app, f"/api/{g}/{m}", m, v)
    return app
