"""``[fleet]``: the description of a fleet, validated with pydantic like the rest of the
configuration; any key can be set from the environment (``TRADING_FLEET__PORT_BASE=19000``,
``TRADING_FLEET__SERVICES__BROKER_V1__REPLICAS=3``), merged by ``_plan/_config.py``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .._problems import Problem

Colour = Literal["blue", "green"]
COLOURS: tuple[Colour, Colour] = ("blue", "green")
_NAME = r"^[a-z][a-z0-9_]*$"


class ServiceConfig(BaseModel):
    """``[fleet.services.<name>]``: one module version standalone (``module`` and ``version``,
    the seed's ``/v1/orders``) or composed global versions (``global_versions``), with replicas."""

    model_config = ConfigDict(extra="forbid")

    module: str | None = None
    version: str | None = None
    global_versions: list[str] | None = None
    replicas: int = Field(default=1, ge=1, le=64)
    colour: Colour = "blue"
    """The pool that serves at ``fleet up``; ``fleet switch`` changes it."""
    config: str | None = None
    """Another configuration file for this service's processes (relative to the fleet's file), for
    what only it may have, such as ``[rollout]``; its matrix must match the fleet's."""
    port: int | None = Field(default=None, ge=1, le=65535)
    """The first port of this service's processes, instead of the one derived from ``port_base``."""

    @model_validator(mode="after")
    def _one_form(self) -> ServiceConfig:
        standalone = self.module is not None or self.version is not None
        if standalone and self.global_versions is not None:
            raise ValueError("a service is either standalone (module, version) or composed (global_versions), not both")
        if standalone and (self.module is None or self.version is None):
            raise ValueError("a standalone service names both module and version")
        if not standalone and not self.global_versions:
            raise ValueError("name module and version (standalone) or global_versions (composed)")
        return self

    @property
    def standalone(self) -> tuple[str, str] | None:
        return (self.module, self.version) if self.module is not None and self.version is not None else None


class FleetConfig(BaseModel):
    """``[fleet]``: where every process listens, the shared database, and the services."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    """The address every process of the fleet (the gateway included) listens on."""
    port_base: int = Field(default=18000, ge=1, le=65535)
    """The gateway listens on this port; the replicas on the next ones, in the order of the services."""
    gateway_port: int | None = Field(default=None, ge=1, le=65535)
    """The gateway's port, instead of ``port_base``."""
    database_url: str | None = None
    """The database every replica shares: given to each module that has a ``database_url`` setting."""
    max_fails: int = Field(default=1, ge=1)
    fail_timeout: int = Field(default=5, ge=1)
    """Seconds: nginx's passive health (a replica that failed ``max_fails`` times rests this long)."""
    drain_timeout: int = Field(default=20, ge=1)
    """Seconds a blue-green switch waits for the old gateway workers to finish their requests."""
    run_dir: str = ".fleet"
    """Where ``fleet up`` writes its configuration files, logs and sockets."""
    services: dict[str, ServiceConfig] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _names(self) -> FleetConfig:
        import re

        bad = [name for name in self.services if not re.match(_NAME, name)]
        if bad:
            raise ValueError(f"service names must match {_NAME} (they name processes and pools): {', '.join(bad)}")
        return self


def parse_fleet(table: dict[str, Any], source: str) -> tuple[FleetConfig | None, list[Problem]]:
    """The ``[fleet]`` table validated; each error becomes a problem naming the key and the fix."""
    if not table:
        return None, [
            Problem("fleet-missing", f"no [fleet] table in {source}", "add [fleet] and [fleet.services.<name>] tables")
        ]
    try:
        return FleetConfig.model_validate(table), []
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = ".".join(["fleet", *(str(part) for part in error["loc"])])
            if error["type"] == "extra_forbidden":
                problems.append(
                    Problem("fleet-unknown-key", f"unknown key '{loc}'", "remove it or correct its spelling")
                )
            else:
                problems.append(
                    Problem(
                        "fleet-invalid-value",
                        f"'{loc}': {error['msg']} (got {error.get('input')!r})",
                        f"correct '{loc}'",
                    )
                )
        return None, problems
