"""Synthetic module versions (trading_core modules serving the item API) and the apps built from them.

A :class:`~benchmarks._items.Layout` says how many module versions are mounted. The core module
(``core`` v1) is always served by the host, so the reference apps serve it too, first in each
global version.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from functools import cache
from pathlib import Path
from types import MappingProxyType

from fastapi import APIRouter, FastAPI

from benchmarks._items import Layout, declare_item_routes, module_name
from trading_core import HealthCheck, Module, ModuleApi, ModuleContext, Platform
from trading_core.core import CoreModule
from trading_core.core.api.v1 import CoreApi
from trading_host import AppFactory, Installed


def _make_module(name: str) -> type[Module]:
    module_name_ = name

    class SyntheticModule(Module):
        name = module_name_
        description = "A synthetic module for the benchmarks."
        running = False

        @asynccontextmanager
        async def lifespan(self) -> AsyncIterator[None]:
            self.running = True
            try:
                yield
            finally:
                self.running = False

    SyntheticModule.__qualname__ = f"SyntheticModule_{name}"
    return SyntheticModule


def _make_api(module_cls: type[Module], api_version: str) -> type[ModuleApi]:
    class SyntheticApi(ModuleApi):
        module = module_cls
        version = api_version

        def __init__(self, module: Module) -> None:
            super().__init__(module)
            declare_item_routes(self, "", module.name, type(self).version)

    SyntheticApi.__qualname__ = f"SyntheticApi_{module_cls.name}_{api_version}"
    return SyntheticApi


@cache
def synthetic_apis(modules: int, versions: int) -> tuple[type[ModuleApi], ...]:
    """The API classes of ``modules`` modules at v1..v``versions`` (one Module class per module)."""
    apis: list[type[ModuleApi]] = []
    for i in range(modules):
        module_cls = _make_module(module_name(i))
        apis += [_make_api(module_cls, f"v{k}") for k in range(1, versions + 1)]
    return tuple(apis)


# --- the apps compared ---------------------------------------------------------------------------------


def host_factory(layout: Layout, config_dir: Path, *, metrics: bool = True) -> AppFactory:
    """The host over core v1 and the layout's synthetic module versions, with its default
    configuration (usage metrics on) or with usage metrics off."""
    installed = Installed.from_apis([CoreApi, *synthetic_apis(layout.modules, layout.versions)])
    return AppFactory(installed=installed, environ={}, config=layout.write_config(config_dir, metrics=metrics))


def host_app(layout: Layout, config_dir: Path) -> FastAPI:
    """(b) The host composing core v1 and the layout's synthetic module versions."""
    return host_factory(layout, config_dir).create_app()


def _routers(layout: Layout) -> tuple[list[tuple[str, APIRouter]], list[Module]]:
    """(prefix, router) for core and every synthetic module version, one Module instance per module."""
    health: dict[str, HealthCheck] = {}
    platform = Platform(health=MappingProxyType(health))
    context = ModuleContext(platform=platform)
    core = CoreModule(context)
    instances: dict[str, Module] = {"core": core}
    apis = synthetic_apis(layout.modules, layout.versions)
    by_key = {(api.module.name, api.version): api for api in apis}
    routers: list[tuple[str, APIRouter]] = []
    for g in layout.global_versions:
        routers.append((f"/api/{g}/core", CoreApi(core)))
        for _, m, v in (row for row in layout.mounted() if row[0] == g):
            api = by_key[(m, v)]
            module = instances.get(m)
            if module is None:
                module = instances[m] = api.module(context)
            routers.append((f"/api/{g}/{m}", api(module)))
    health.update({name: module.health for name, module in instances.items()})
    return routers, list(instances.values())


def _modules_lifespan(modules: list[Module]) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for module in modules:
                await stack.enter_async_context(module.lifespan())
            yield

    return lifespan


def flat_app(layout: Layout) -> FastAPI:
    """(c) One FastAPI app with every module version's router included with ``include_router``."""
    routers, modules = _routers(layout)
    app = FastAPI(lifespan=_modules_lifespan(modules), openapi_url=None, docs_url=None, redoc_url=None)
    for prefix, router in routers:
        app.include_router(router, prefix=prefix)
    return app


def mounts_app(layout: Layout) -> FastAPI:
    """(d) One FastAPI app with a Starlette ``Mount`` per module version (``app.mount``)."""
    routers, modules = _routers(layout)
    app = FastAPI(lifespan=_modules_lifespan(modules), openapi_url=None, docs_url=None, redoc_url=None)
    for prefix, router in routers:
        app.mount(prefix, router)
    return app
