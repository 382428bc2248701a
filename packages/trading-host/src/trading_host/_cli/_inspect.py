"""The ``modules`` and ``matrix`` commands of ``trading-host``: what is installed, and what the
configuration would serve. Registered in :mod:`trading_host.cli`."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer

from .._plan._clock import Clock
from .._plan._discovery import Installed, discover
from .._plan._lifecycle import describe, lifecycle_json, resolve_lifecycles
from .._plan._matrix import Plan
from .._problems import Problem
from .._serve._factory import AppFactory
from .._serve._startup import describe_error
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


def modules(config: ConfigOption = None, json_output: JsonOption = False) -> None:
    """List the installed modules: API versions, distribution and its version, and each version's
    lifecycle from the configuration. Imports nothing."""
    installed = discover()
    rows = _module_rows(installed)
    loaded = load_options(config)
    problems = list(loaded.problems)
    # A configuration that failed says nothing true about the lifecycles: show none.
    lifecycles = {} if problems else resolve_lifecycles(loaded, installed.modules(), problems)
    now = Clock(loaded.config.now)()
    if json_output:
        payload = {
            "modules": rows,
            "invalid_entry_points": [vars(bad) for bad in installed.bad],
            "lifecycle": {
                module: {v: lifecycle_json(lifecycles.get((module, v)), now) for v in versions}
                for module, versions in installed.modules().items()
            },
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    if not rows:
        typer.echo("no modules installed")
    width = max((len(r["module"]) for r in rows), default=6)
    for row in rows:
        versions = ", ".join(row["versions"])
        typer.echo(f"{row['module']:<{width}}  {versions:<12}  {row['distribution']} {row['distribution_version']}")
        for version in row["versions"]:
            lifecycle = lifecycles.get((row["module"], version))
            if lifecycle is not None:
                typer.echo(f"{'':<{width}}    {version}: {describe(lifecycle, now)}")
    for bad in installed.bad:
        typer.echo(f"invalid entry point '{bad.name}' = '{bad.target}' in {bad.distribution}", err=True)
    if problems:
        print_problems(problems)


def _module_rows(installed: Installed) -> list[dict[str, Any]]:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for providers in installed.providers.values():
        for p in providers:
            row = rows.setdefault(
                (p.module, p.distribution),
                {
                    "module": p.module,
                    "versions": [],
                    "distribution": p.distribution,
                    "distribution_version": p.distribution_version,
                    "entry_points": {},
                },
            )
            row["versions"].append(p.version)
            row["entry_points"][p.version] = p.target
    for row in rows.values():
        row["versions"].sort(key=lambda v: int(v[1:]))
        row["entry_points"] = dict(sorted(row["entry_points"].items(), key=lambda kv: int(kv[0][1:])))
    return sorted(rows.values(), key=lambda r: (r["module"] != "core", r["module"], r["distribution"]))


def connection_problems(factory: AppFactory, plan: Plan) -> list[Problem]:
    """What each module of ``plan`` cannot reach, from its ``check_connection()``: the modules are
    built as ``serve`` builds them, and not started."""
    fix = "make it reachable, or correct [modules.{0}] in the configuration"
    problems = []
    for resolved in plan.versions.values():
        assert resolved.api is not None
        try:
            factory.runtime.module(resolved.api.module, plan.module_settings.get(resolved.module, {}))
        except Exception as exc:
            message = f"module '{resolved.module}' cannot be built: {describe_error(exc)}"
            problems.append(Problem("module-connection", message, fix.format(resolved.module)))
    found = asyncio.run(factory.runtime.check_connections())
    problems += [
        Problem("module-connection", f"module '{name}': {error.message}", error.fix or fix.format(name))
        for name, errors in found.items()
        for error in errors
    ]
    return problems


def _plan_json(plan: Plan) -> dict[str, Any]:
    """The plan for ``matrix --json``; nothing resolved when the configuration itself failed, as
    what would be resolved then is not what the user configured."""
    now = plan.clock()
    if plan.config_failed:
        return {
            "mode": None,
            "api_prefix": None,
            "global_versions": {},
            "row_sources": {},
            "standalone": None,
            "problems": [p.to_json() for p in plan.problems],
        }

    def entry(module: str, version: str) -> dict[str, str | None]:
        provider = plan.versions[(module, version)].provider
        return {
            "version": version,
            "distribution": provider.distribution,
            "distribution_version": provider.distribution_version,
            **lifecycle_json(plan.lifecycles.get((module, version)), now),
        }

    return {
        "mode": "standalone" if plan.standalone else "monolith",
        "api_prefix": plan.api_prefix,
        "global_versions": {g: {m: entry(m, v) for m, v in row.items()} for g, row in plan.rows.items()},
        "row_sources": dict(plan.row_sources),
        "standalone": ({m: entry(m, v) for m, v in plan.versions} if plan.standalone is not None else None),
        "problems": [p.to_json() for p in plan.problems],
    }


def matrix(
    config: ConfigOption = None,
    global_version: GlobalOption = None,
    enable: EnableOption = None,
    module_version: ModuleVersionOption = None,
    check: Annotated[
        bool, typer.Option("--check", help="Exit with status 2 if the configuration has problems.")
    ] = False,
    connect: Annotated[
        bool,
        typer.Option(
            "--connect",
            help="With a valid configuration, also try what each module connects to (its database...), as at start-up.",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Show the resolved version matrix and every configuration problem."""
    env = environ_with(config, global_version, enable, module_version)
    factory = AppFactory(environ=env)
    plan = plan_options(factory, load_options(config, global_version, enable, module_version, environ=env))
    if connect and not plan.problems:
        plan.problems.extend(connection_problems(factory, plan))
    if json_output:
        typer.echo(json.dumps(_plan_json(plan), indent=2))
    elif not plan.config_failed:
        data = _plan_json(plan)
        if plan.standalone is not None:
            module, version = plan.standalone
            typer.echo(f"standalone: {module} {version} at /{version}")
        for global_version_name, row in data["global_versions"].items():
            source = plan.row_sources.get(global_version_name)
            typer.echo(f"{plan.api_prefix}/{global_version_name}" + (f"  (row from {source})" if source else ""))
            for module, info in row.items():
                line = f"  {module:<12} {info['version']:<4} {info['distribution']} {info['distribution_version']}"
                lifecycle = plan.lifecycles.get((module, info["version"]))
                typer.echo(line if lifecycle is None else f"{line}  [{describe(lifecycle, plan.clock())}]")
        if plan.standalone is None and plan.row_sources:
            idle = [f"{g} (from {s})" for g, s in plan.row_sources.items() if g not in plan.rows]
            if idle:
                typer.echo(f"not served: {', '.join(idle)}; serve them with serve = [...] or GLOBAL_VERSION")
            typer.echo(
                "rows merge by name: a row in your configuration replaces the shipped row of that name "
                "whole; `serve` (GLOBAL_VERSION) selects the rows served"
            )
    if not json_output:
        if plan.problems:
            print_problems(plan.problems)
        elif check:
            typer.echo("configuration OK")
    if check and plan.problems:
        raise typer.Exit(2)
