from __future__ import annotations

import asyncio
from typing import Any

from .._contract import Module


class CoreModule(Module):
    name = "core"
    description = "Platform health and the module versions this deployment serves."

    async def module_health(self) -> dict[str, dict[str, Any]]:
        """Each module's own health report, gathered concurrently; a failing check counts as down."""
        modules = {name: m for name, m in self.context.platform.modules.items() if m is not self}

        async def check(module: Module) -> dict[str, Any]:
            try:
                return await module.health()
            except Exception as exc:  # a module's health check must not take the core down
                return {"status": "down", "error": f"{type(exc).__name__}: {exc}"}

        reports = await asyncio.gather(*(check(m) for m in modules.values()))
        return dict(zip(modules, reports, strict=True))
