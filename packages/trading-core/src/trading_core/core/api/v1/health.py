from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import Response
from pydantic import BaseModel, Field

from ...._contract import ModuleApi, MountedVersion
from ..._module import CoreModule


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    modules: dict[str, dict[str, Any]]


class ModuleVersion(BaseModel):
    # The descriptions as Field arguments, not attribute docstrings: pydantic reads those from the
    # source file when the class is made, which cost every process importing core 20 to 70 ms.
    module: str
    version: str
    distribution: str
    distribution_version: str
    global_versions: list[str]
    status: str = Field(
        description="``stable``, ``deprecated`` (still served, with deprecation headers) or ``sunset`` (410 Gone)."
    )
    deprecation: date | None = Field(
        default=None, description="The date from which the version is deprecated, if it is."
    )
    sunset: date | None = Field(default=None, description="The date from which the version is no longer served.")
    successor: str | None = Field(default=None, description="The version to migrate to.")
    migration_guide: str | None = Field(
        default=None,
        description="Where the migration to ``successor`` is explained: a path on this deployment or a URL.",
    )


def _module_version(mounted: MountedVersion, now: float) -> ModuleVersion:
    lifecycle = mounted.lifecycle
    return ModuleVersion(
        module=mounted.module,
        version=mounted.version,
        distribution=mounted.distribution,
        distribution_version=mounted.distribution_version,
        global_versions=list(mounted.global_versions),
        status=mounted.status_at(now),
        deprecation=lifecycle.deprecation if lifecycle else None,
        sunset=lifecycle.sunset if lifecycle else None,
        successor=lifecycle.successor if lifecycle else None,
        migration_guide=lifecycle.migration_guide if lifecycle else None,
    )


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
            """Every module version this deployment mounts, with its distribution, lifecycle status and dates."""
            platform = module.context.platform
            now = platform.clock()
            return [_module_version(m, now) for m in platform.mounted]
