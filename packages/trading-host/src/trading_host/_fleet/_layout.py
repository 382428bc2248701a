"""The fleet's plan: every process (service, pool colour, replica, port), its environment, and
every gateway route, derived from the host's own resolved plans (``AppFactory.plan()`` of the
whole configuration and of each service) so that nginx, supervisord, Kubernetes and compose
render one plan and cannot drift from what the replicas serve. ``problems()`` is ``fleet check``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fastapi.routing import APIWebSocketRoute

from .._plan._config import CONFIG_ENV, FLEET_ENV_PREFIX, LOCAL_CONFIG, load_config
from .._plan._matrix import CORE, Plan
from .._problems import Problem
from .._serve._factory import AppFactory
from ._model import COLOURS, Colour, FleetConfig, ServiceConfig, parse_fleet

# What the fleet decides per process: never inherited from the shell that runs `fleet up`.
PROCESS_KEYS = ("GLOBAL_VERSION", "ENABLED_MODULES", "MODULE_VERSION", CONFIG_ENV)


@dataclass(frozen=True)
class Process:
    """One replica: ``service``'s ``index``-th process of pool ``colour``, listening on ``port``."""

    service: str
    colour: Colour
    index: int
    port: int

    @property
    def name(self) -> str:
        """The supervisord program (and Kubernetes-friendly) name."""
        return f"{self.service}-{self.colour}-{self.index}"


@dataclass
class Service:
    name: str
    config: ServiceConfig
    environment: dict[str, str]
    """What the service's processes are started with (besides the inherited environment)."""
    health_path: str
    pools: dict[Colour, list[Process]]
    stream_paths: list[str] = field(default_factory=list)
    """The WebSocket routes the service serves, as paths on the service (``/v2/ws``)."""

    def pool(self, colour: Colour) -> str:
        return f"{self.name}_{colour}"

    @property
    def label(self) -> str:
        if self.config.standalone is not None:
            module, version = self.config.standalone
            return f"{module} {version} (standalone at /{version})"
        return f"global {', '.join(self.config.global_versions or [])} (composed)"


@dataclass(frozen=True)
class Route:
    """A gateway location: requests under ``location`` go to ``service``'s pool, with the matched
    prefix replaced by ``upstream`` (``None``: the path is passed unchanged)."""

    location: str
    service: str
    upstream: str | None = None
    exact: bool = False
    websocket: bool = False
    prefix_header: str | None = None
    """``X-Forwarded-Prefix``: the part of the public path the service does not see."""


@dataclass
class FleetPlan:
    config: FleetConfig
    config_file: Path | None
    host_plan: Plan
    services: dict[str, Service]
    gateway_port: int
    routes: list[Route]
    problems: list[Problem]
    max_body_size: int

    @property
    def run_dir(self) -> Path:
        return Path(self.config.run_dir).resolve()

    @property
    def gateway_url(self) -> str:
        return f"http://{self.config.host}:{self.gateway_port}"

    def processes(self, active: Mapping[str, Colour] | None = None) -> list[Process]:
        """Every process of every pool, or only those of the ``active`` colours."""
        return [
            p
            for s in self.services.values()
            for colour in COLOURS
            if active is None or active.get(s.name, s.config.colour) == colour
            for p in s.pools[colour]
        ]


def config_file(path: Path | None, environ: Mapping[str, str]) -> Path | None:
    """The file ``load_config()`` reads, made absolute so that every process reads the same one."""
    if path is not None:
        return Path(path).resolve()
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV]).resolve()
    return LOCAL_CONFIG.resolve() if LOCAL_CONFIG.is_file() else None


def base_environment(path: Path | None, environ: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in environ.items() if k not in PROCESS_KEYS}
    if path is not None:
        env[CONFIG_ENV] = str(path)
    return env


def build(path: Path | None = None, environ: Mapping[str, str] | None = None) -> FleetPlan:
    """Resolve the fleet the configuration (and ``TRADING_FLEET__*``) describes, every problem at once."""
    environ = os.environ if environ is None else environ
    file = config_file(path, environ)
    env = base_environment(file, environ)
    loaded = load_config(file, environ=env)
    factory = AppFactory(environ=env)
    host_plan = factory.plan()
    problems = list(host_plan.problems)
    source = str(file) if file is not None else "the configuration"
    if any(k.startswith(FLEET_ENV_PREFIX) for k in environ):
        source += " and the environment"
    config, fleet_problems = parse_fleet(loaded.config.fleet, source)
    problems += fleet_problems
    if config is None:  # nothing more can be judged of a [fleet] that is not valid
        return FleetPlan(FleetConfig(), file, host_plan, {}, 0, [], problems, host_plan.server.max_body_size)
    database_modules = sorted(m for m, s in host_plan.module_settings.items() if "database_url" in type(s).model_fields)

    services: dict[str, Service] = {}
    cursor = config.port_base + 1
    for name, service in config.services.items():
        service_env: dict[str, str] = {}
        if service.standalone is not None:
            module, version = service.standalone
            service_env.update({"ENABLED_MODULES": module, "MODULE_VERSION": version})
        else:
            service_env["GLOBAL_VERSION"] = ",".join(service.global_versions or [])
        if service.config is not None:
            own = (file.parent if file is not None else Path.cwd()) / service.config
            service_env[CONFIG_ENV] = str(own.resolve())
        if config.database_url:
            service_env.update(
                {f"TRADING_MODULES__{m.upper()}__DATABASE_URL": config.database_url for m in database_modules}
            )
        service_factory = AppFactory(environ={**env, **service_env})
        plan = service_factory.plan()
        problems += [
            Problem(p.code, f"service '{name}' ({_label(service)}): {p.message}", p.fix)
            for p in plan.problems
            if p not in host_plan.problems
        ]
        for g in plan.rows if service.config is not None else ():
            if g in host_plan.rows and plan.rows[g] != host_plan.rows[g]:
                problems.append(
                    Problem(
                        "fleet-matrix-drift",
                        f"service '{name}' reads {service.config}, whose row {g} ({plan.rows[g]}) differs from "
                        f"the fleet's ({host_plan.rows[g]})",
                        f"give {service.config} the same [matrix.{g}] as the fleet's configuration",
                    )
                )
        start = service.port if service.port is not None else cursor
        pools: dict[Colour, list[Process]] = {
            colour: [Process(name, colour, i + 1, start + c * service.replicas + i) for i in range(service.replicas)]
            for c, colour in enumerate(COLOURS)
        }
        if service.port is None:
            cursor = start + 2 * service.replicas
        streams: list[str] = []
        health = "/core/v1/health"
        if service.standalone is not None:
            module, version = service.standalone
            if module == CORE:
                health = f"/{version}/health"
            if not plan.problems and (module, version) in plan.versions:
                api = service_factory.module_api(plan, (module, version))
                streams = [f"/{version}{r.path}" for r in api.routes if isinstance(r, APIWebSocketRoute)]
        else:
            first = (service.global_versions or ["v1"])[0]
            health = f"{host_plan.api_prefix}/{first}/core/health"
            if not plan.problems:
                for g, row in plan.rows.items():
                    for m, v in row.items():
                        api = service_factory.module_api(plan, (m, v))
                        streams += [
                            f"{plan.api_prefix}/{g}/{m}{r.path}" for r in api.routes if isinstance(r, APIWebSocketRoute)
                        ]
        services[name] = Service(name, service, service_env, health, pools, streams)

    gateway_port = config.gateway_port if config.gateway_port is not None else config.port_base
    routes = _routes(host_plan, services, problems)
    problems += _port_problems(gateway_port, services)
    problems += _database_problems(config, services, database_modules)
    return FleetPlan(config, file, host_plan, services, gateway_port, routes, problems, host_plan.server.max_body_size)


def _label(service: ServiceConfig) -> str:
    if service.standalone is not None:
        return f"{service.standalone[0]} {service.standalone[1]}"
    return "global " + ", ".join(service.global_versions or [])


def _routes(host_plan: Plan, services: dict[str, Service], problems: list[Problem]) -> list[Route]:
    prefix = host_plan.api_prefix
    standalone: dict[tuple[str, str], list[str]] = {}
    composed: dict[str, list[str]] = {}
    for s in services.values():
        if s.config.standalone is not None:
            standalone.setdefault(s.config.standalone, []).append(s.name)
        for g in s.config.global_versions or []:
            composed.setdefault(g, []).append(s.name)
            if g not in host_plan.rows:
                served = ", ".join(host_plan.rows) or "none"
                problems.append(
                    Problem(
                        "fleet-unknown-global-version",
                        f"service '{s.name}' serves global version '{g}', which the configuration does not serve "
                        f"(served: {served})",
                        f"serve one of {served} in the service, or add '{g}' to the matrix and to serve",
                    )
                )
    for key, names in standalone.items():
        if len(names) > 1:
            problems.append(
                Problem(
                    "fleet-duplicate-module-version",
                    f"services {', '.join(repr(n) for n in names)} both serve {key[0]} {key[1]}",
                    "keep one service per module version and give it more replicas",
                )
            )
    routes: list[Route] = []
    unserved: dict[tuple[str, str], list[str]] = {}
    for g, row in host_plan.rows.items():
        owners = composed.get(g, [])
        if not owners:
            problems.append(
                Problem(
                    "fleet-global-version-unserved",
                    f"no service can serve global version '{g}': its core, documents (/{prefix.strip('/')}/{g}/docs, "
                    "openapi.json) and not-found answers come from a composed service",
                    f'add a service with global_versions = ["{g}"] (one replica is enough), or add "{g}" to one',
                )
            )
        for m, v in row.items():
            location = f"{prefix}/{g}/{m}"
            if m != CORE and (m, v) in standalone:
                service = services[standalone[(m, v)][0]]
                routes.append(Route(f"{location}/", service.name, f"/{v}/", prefix_header=location))
                routes += [
                    Route(
                        f"{location}{path[len(v) + 1 :]}",
                        service.name,
                        path,
                        exact=True,
                        websocket=True,
                        prefix_header=location,
                    )
                    for path in service.stream_paths
                ]
            elif owners:
                service = services[owners[0]]
                routes += [
                    Route(path, service.name, exact=True, websocket=True)
                    for path in service.stream_paths
                    if path.startswith(f"{location}/")
                ]
            elif m != CORE:
                unserved.setdefault((m, v), []).append(g)
        if owners:
            routes.append(Route(f"{prefix}/{g}/", owners[0]))
    for (m, v), globals_ in unserved.items():
        problems.append(
            Problem(
                "fleet-module-version-unserved",
                f"{m} {v} (global version {', '.join(globals_)}) is served by no service",
                f'add a service with module = "{m}" and version = "{v}", '
                f"or a composed service for {', '.join(globals_)}",
            )
        )
    first = next((s for s in services.values() if s.config.global_versions), None)
    if first is not None:
        routes.append(Route("/", first.name))
    return routes


def _port_problems(gateway: int, services: dict[str, Service]) -> list[Problem]:
    owners: dict[int, list[str]] = {gateway: ["the gateway"]}
    for s in services.values():
        for colour in COLOURS:
            for p in s.pools[colour]:
                owners.setdefault(p.port, []).append(p.name)
    problems = []
    for port, names in sorted(owners.items()):
        if port > 65535:
            problems.append(
                Problem(
                    "fleet-port-out-of-range",
                    f"{', '.join(names)} would listen on port {port}",
                    "lower [fleet] port_base (TRADING_FLEET__PORT_BASE) or the service's port",
                )
            )
        elif len(names) > 1:
            problems.append(
                Problem(
                    "fleet-port-collision",
                    f"port {port} is claimed by {' and '.join(names)}",
                    "remove the services' explicit port (ports then follow port_base), or move one of them",
                )
            )
    return problems


def _database_problems(config: FleetConfig, services: dict[str, Service], database_modules: list[str]) -> list[Problem]:
    count = sum(s.config.replicas for s in services.values())
    if count <= 1 or not database_modules:
        return []
    fix = (
        "set [fleet] database_url (or TRADING_FLEET__DATABASE_URL) to a PostgreSQL database shared by every "
        "replica, for example postgresql+asyncpg://user@db-host:5432/trading"
    )
    if not config.database_url:
        return [
            Problem(
                "fleet-database-missing",
                f"{count} processes would each keep their own SQLite file ({', '.join(database_modules)})",
                fix,
            )
        ]
    if config.database_url.startswith("sqlite"):
        return [
            Problem(
                "fleet-sqlite",
                f"database_url names SQLite ({config.database_url}) for a fleet of {count} processes: "
                "SQLite is one process's database",
                fix,
            )
        ]
    return []
