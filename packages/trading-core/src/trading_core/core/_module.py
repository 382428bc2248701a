from __future__ import annotations

import asyncio
from typing import Any

from .._contract import Module

# A load balancer polls /health; one hung module must not hang the answer for all.
HEALTH_TIMEOUT = 5.0


class CoreModule(Module):
    name = "core"
    description = "Platform health and the module versions this deployment serves."

    async def module_health(self) -> dict[str, dict[str, Any]]:
        """Each module's own health report, gathered concurrently; a failing check counts as down."""
        modules = {name: m for name, m in self.context.platform.modules.items() if m is not self}

        async def check(module: Module) -> dict[str, Any]:
            task = asyncio.ensure_future(module.health())
            done, _ = await asyncio.wait({task}, timeout=HEALTH_TIMEOUT)
            if not done:
                task.cancel()
                return {"status": "down", "error": f"no answer within {HEALTH_TIMEOUT:g} s"}
            try:
                return task.result()
            except Exception as exc:  # a module's health check must not take the core down
                return {"status": "down", "error": f"{type(exc).__name__}: {exc}"}

        reports = await asyncio.gather(*(check(m) for m in modules.values()))
        return dict(zip(modules, reports, strict=True))
