from __future__ import annotations

from typing import Any, Literal

from fastapi import Response
from pydantic import BaseModel

from ...._contract import ModuleApi
from ..._module import CoreModule


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    modules: dict[str, dict[str, Any]]


class ModuleVersion(BaseModel):
    module: str
    version: str
    distribution: str
    distribution_version: str
    global_versions: list[str]
    status: str


class CoreApi(ModuleApi):
    """Core API v1."""

    module = CoreModule
    version = "v1"

    def __init__(self, module: CoreModule) -> None:
        super().__init__(module)

        @self.get(
            "/health",
            response_model=Health,
            operation_id="getHealth",
            summary="Platform health",
            responses={503: {"model": Health, "description": "A module reports it cannot serve"}},
        )
        async def health(response: Response) -> Health:
            """Every module's health; 503 when any module is not ok."""
            reports = await module.module_health()
            ok = all(r.get("status") == "ok" for r in reports.values())
            if not ok:
                response.status_code = 503
            return Health(status="ok" if ok else "degraded", modules=reports)

        @self.get(
            "/versions",
            response_model=list[ModuleVersion],
            operation_id="listVersions",
            summary="Served module versions",
        )
        async def versions() -> list[ModuleVersion]:
            """Every module version this deployment mounts, with its distribution and lifecycle status."""
            return [
                ModuleVersion(
                    module=m.module,
                    version=m.version,
                    distribution=m.distribution,
                    distribution_version=m.distribution_version,
                    global_versions=list(m.global_versions),
                    status=m.status,
                )
                for m in module.context.platform.mounted
            ]
