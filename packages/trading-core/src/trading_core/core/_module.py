from __future__ import annotations

import asyncio
from typing import Any

from .._contract import HealthCheck, Module, NoSettings

# A load balancer polls /health; one hung module must not hang the answer for all.
HEALTH_TIMEOUT = 5.0


class CoreModule(Module[NoSettings]):
    name = "core"
    description = "Platform health and the module versions this deployment serves."

    async def module_health(self) -> dict[str, dict[str, Any]]:
        """Each module's own health report, gathered concurrently; a failing check counts as down."""
        checks = {name: check for name, check in self.context.platform.health.items() if name != self.name}

        async def check(health: HealthCheck) -> dict[str, Any]:
            task = asyncio.ensure_future(health())
            done, _ = await asyncio.wait({task}, timeout=HEALTH_TIMEOUT)
            if not done:
                task.cancel()
                return {"status": "down", "error": f"no answer within {HEALTH_TIMEOUT:g} s"}
            try:
                return task.result()
            except Exception as exc:  # a module's health check must not take the core down
                return {"status": "down", "error": f"{type(exc).__name__}: {exc}"}

        reports = await asyncio.gather(*(check(health) for health in checks.values()))
        return dict(zip(checks, reports, strict=True))
