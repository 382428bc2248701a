"""The module instances of one process: one per module, shared by every app and version."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

from trading_core import HealthCheck, Module, ModuleApi, ModuleContext, ModuleStartupError, MountedVersion, Platform

from ._startup import StartupFailed, describe_error, startup_problem

logger = logging.getLogger("trading_host")


def _health_check(module: Module) -> HealthCheck:
    # Not the bound method: its __self__ would hand every module the others' instances.
    async def health() -> dict[str, Any]:
        return await module.health()

    return health


class Runtime:
    """Holds one :class:`Module` instance per module and one router per (module, version).

    Every app an :class:`~trading_host.AppFactory` builds shares its runtime, so an order placed
    through broker v1 is visible through broker v2, and each module's lifespan runs once however
    many apps, global versions or module versions are served.
    """

    def __init__(self) -> None:
        self._modules: dict[str, Module] = {}
        self._health: dict[str, HealthCheck] = {}
        # Modules see the health checks through a read-only view; only the runtime adds to them.
        self.platform = Platform(health=MappingProxyType(self._health))
        self._apis: dict[tuple[str, str], ModuleApi] = {}
        self._users = 0
        self._stack: AsyncExitStack | None = None
        self._lock = asyncio.Lock()
        self.started = False
        """Whether the modules are running: a plain attribute, read by the dispatcher on every request."""

    @property
    def modules(self) -> Mapping[str, Module]:
        """The module instances built so far, by name (read-only)."""
        return MappingProxyType(self._modules)

    def module(self, cls: type[Module], settings: BaseModel | Mapping[str, Any]) -> Module:
        """The one instance of ``cls``, built on first use with ``settings``: the validated
        settings object of a plan (``Plan.module_settings``), or a raw table the module validates."""
        existing = self._modules.get(cls.name)
        if existing is None:
            existing = cls(ModuleContext(settings=settings, platform=self.platform))
            self._modules[cls.name] = existing
            self._health[cls.name] = _health_check(existing)
        elif type(existing) is not cls:
            raise RuntimeError(f"module '{cls.name}' is already served by {type(existing).__qualname__}")
        return existing

    def api(self, api_cls: type[ModuleApi], settings: BaseModel | Mapping[str, Any]) -> ModuleApi:
        key = (api_cls.module.name, api_cls.version)
        api = self._apis.get(key)
        if api is None:
            api = self._apis[key] = api_cls(self.module(api_cls.module, settings))
        return api

    def publish(self, mounted: list[MountedVersion]) -> None:
        """Record what an app serves, so the core module can list it."""
        known = {(m.module, m.version): i for i, m in enumerate(self.platform.mounted)}
        for item in mounted:
            index = known.get((item.module, item.version))
            if index is None:
                self.platform.mounted.append(item)
            else:
                old = self.platform.mounted[index]
                merged = tuple(dict.fromkeys(old.global_versions + item.global_versions))
                self.platform.mounted[index] = replace(old, global_versions=merged)

    async def check_connections(self, limit: float = 30.0) -> dict[str, list[ModuleStartupError]]:
        """Each built module's :meth:`~trading_core.Module.check_connection`, by module name, for
        ``matrix --check --connect``; a check that raises or takes longer than ``limit`` seconds
        is a problem too."""

        async def check(module: Module) -> list[ModuleStartupError]:
            try:
                async with asyncio.timeout(limit):
                    return list(await module.check_connection())
            except TimeoutError:
                return [ModuleStartupError(f"its connection check did not finish within {limit:g} s", "")]
            except Exception as exc:
                return [ModuleStartupError(f"its connection check failed: {describe_error(exc)}", "")]

        modules = list(self._modules.values())
        results = await asyncio.gather(*(check(m) for m in modules))
        return {m.name: found for m, found in zip(modules, results, strict=True)}

    async def _start(self) -> None:
        """Enter every module's lifespan (under the lock, with no user yet)."""
        stack = AsyncExitStack()
        try:
            # Modules are created in the order a plan lists them, which in standalone mode
            # puts core last; sort so that core starts first and stops last either way.
            for module in sorted(self._modules.values(), key=lambda m: m.name != "core"):
                try:
                    await stack.enter_async_context(module.lifespan())
                except Exception as exc:
                    failed = StartupFailed(module.name, startup_problem(module.name, exc))
                    logger.error("%s", failed)
                    logger.debug("module '%s' failed to start", module.name, exc_info=exc)
                    raise failed from exc
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        self.started = True

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """Start every module on first entry and stop them on last exit (core first in, last out).
        A module whose lifespan raises stops the start: :class:`StartupFailed`, logged once."""
        async with self._lock:
            if self._users == 0 and not self.started:
                await self._start()
            self._users += 1
        try:
            yield
        finally:
            async with self._lock:
                self._users -= 1
                if self._users == 0 and self._stack is not None:
                    stack, self._stack = self._stack, None
                    self.started = False
                    await stack.aclose()

    async def start_without_lifespan(self) -> None:
        """Start the modules for a request that came before any lifespan ran: an app passed to
        ``app.mount()``, whose lifespan Starlette never runs, or a server run with ``--lifespan off``.

        Once, under the lock; the modules then run until the process ends, never stopped, which a
        warning says, with the way to have them stopped cleanly. A module that cannot start raises
        :class:`StartupFailed` for this request, and the next request tries again.
        """
        async with self._lock:
            if self.started:
                return
            logger.warning(
                "the Trading API modules are starting on the first request because the app's lifespan did not run "
                "(app.mount() does not run a mounted app's lifespan, nor does a server run with --lifespan off): "
                "they will not be stopped cleanly at shutdown; use trading_host.embed(app, prefix=...) instead of "
                "app.mount(), so that your app's lifespan starts and stops them"
            )
            await self._start()
