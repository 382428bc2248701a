"""The ``routes`` command of ``trading-host``: every HTTP and WebSocket route the configuration
would serve, per global version, with its module, version and lifecycle status. Registered in
:mod:`trading_host.cli`."""

from __future__ import annotations

import json
from typing import Any

import typer
from starlette.routing import BaseRoute, Route, WebSocketRoute

from trading_core import served_routes

from .._documents._asyncapi import asyncapi_routes
from .._documents._pages import docs_routes
from .._plan._matrix import CORE, Plan
from .._serve._factory import AppFactory
from ._options import (
    ConfigOption,
    EnableOption,
    GlobalOption,
    JsonOption,
    ModuleVersionOption,
    environ_with,
    load_options,
    plan_options,
    print_problems,
)


def _rows(
    routes: list[BaseRoute], prefix: str, module: str | None, version: str | None, status: str | None
) -> list[dict[str, Any]]:
    rows = []
    # As served: the routes of routers a version includes (include_router) in their place.
    for served in served_routes(routes):
        path = served.path
        if isinstance(served.route, WebSocketRoute):
            methods = ["WEBSOCKET"]
        elif isinstance(served.route, Route) and path is not None:
            # Starlette answers HEAD wherever GET is declared; it is not a route of its own.
            declared = served.methods
            methods = sorted(m for m in declared if m != "HEAD" or declared == {"HEAD"})
        else:
            continue
        name = getattr(served.served, "name", None) or getattr(served.route, "name", None)
        for method in methods:
            row = {"method": method, "path": prefix + (path or ""), "module": module, "version": version}
            rows.append({**row, "status": status, "name": name})
    return rows


def route_table(factory: AppFactory, plan: Plan) -> dict[str, Any]:
    """The routes of ``plan`` by served global version (or the standalone service's), each with its
    module, module version and lifecycle status; the host's documentation pages have no module."""
    now = plan.clock()

    def version_rows(module: str, version: str, prefix: str) -> list[dict[str, Any]]:
        api = factory.module_api(plan, (module, version))
        lifecycle = plan.lifecycles.get((module, version))
        status = "stable" if lifecycle is None else lifecycle.status_at(now)
        routes = [*api.routes, *asyncapi_routes(api, "")]
        return _rows(routes, prefix, module, version, status)

    def docs(prefix: str) -> list[dict[str, Any]]:
        return _rows(docs_routes("", "", dict), prefix, None, None, None)

    if plan.standalone is not None:
        module, version = plan.standalone
        layout = {f"/{version}": (module, version)}
        if module != CORE:
            layout.update({f"/{CORE}/{v}": (CORE, v) for m, v in plan.versions if m == CORE})
        rows = []
        for prefix, (m, v) in layout.items():
            rows += docs(prefix) + version_rows(m, v, prefix)
        return {"standalone": rows, "global_versions": {}}
    table: dict[str, list[dict[str, Any]]] = {}
    for global_version, row in plan.rows.items():
        base = f"{plan.api_prefix}/{global_version}"
        rows = docs(base)
        for module, version in row.items():
            rows += version_rows(module, version, f"{base}/{module}")
        table[global_version] = rows
    return {"standalone": None, "global_versions": table}


def routes(
    config: ConfigOption = None,
    global_version: GlobalOption = None,
    enable: EnableOption = None,
    module_version: ModuleVersionOption = None,
    json_output: JsonOption = False,
) -> None:
    """List every HTTP and WebSocket route the configuration serves: method, path, module, version
    and lifecycle status, per global version. Imports the enabled modules, starts none."""
    env = environ_with(config, global_version, enable, module_version)
    factory = AppFactory(environ=env)
    plan = plan_options(factory, load_options(config, global_version, enable, module_version, environ=env))
    if plan.problems:
        print_problems(plan.problems)
        raise typer.Exit(2)
    table = route_table(factory, plan)
    if json_output:
        typer.echo(json.dumps(table, indent=2))
        return
    groups = {f"{plan.api_prefix}/{g}": rows for g, rows in table["global_versions"].items()}
    if table["standalone"] is not None:
        groups = {"standalone": table["standalone"]}
    for title, rows in groups.items():
        typer.echo(title)
        width = max(len(r["path"]) for r in rows)
        for r in rows:
            served = f"{r['module']} {r['version']}  {r['status']}" if r["module"] else "(documentation)"
            typer.echo(f"  {r['method']:<9} {r['path']:<{width}}  {served}")
