"""The ``trading-host`` command: serve, and inspect what is installed and what would be served."""

from __future__ import annotations

import json
import os
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer

from ._cli._guard import compat, diff
from ._cli._specs import clients, specs
from ._plan._clock import Clock
from ._plan._config import load_config
from ._plan._discovery import Installed, discover
from ._plan._lifecycle import describe, lifecycle_json, resolve_lifecycles
from ._plan._matrix import Plan
from ._problems import Problem
from ._serve._factory import AppFactory
from ._wrappers._multiprocess import multiprocess_metrics

cli = typer.Typer(
    help="Compose and serve the installed Trading API modules.", no_args_is_help=True, add_completion=False
)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="TOML config file (default: $TRADING_CONFIG or ./trading.toml).")
]
GlobalOption = Annotated[
    list[str] | None, typer.Option("--global-version", "-g", help="Serve this global version (repeatable).")
]
EnableOption = Annotated[list[str] | None, typer.Option("--enable", "-e", help="Enable only this module (repeatable).")]
ModuleVersionOption = Annotated[
    str | None, typer.Option("--module-version", help="Standalone: serve the one enabled module at /{version}.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output (a stable format).")]


def _environ(
    config: Path | None, global_version: list[str] | None, enable: list[str] | None, module_version: str | None
) -> dict[str, str]:
    """The environment that carries the command's options, so worker processes see them too."""
    env = dict(os.environ)
    if config is not None:
        env["TRADING_CONFIG"] = str(config)
    if global_version:
        env["GLOBAL_VERSION"] = ",".join(global_version)
    if enable:
        env["ENABLED_MODULES"] = ",".join(enable)
    if module_version:
        env["MODULE_VERSION"] = module_version
    return env


def _print_problems(problems: list[Problem]) -> None:
    count = len(problems)
    typer.echo(f"{count} configuration problem{'s' if count != 1 else ''}:", err=True)
    for problem in problems:
        typer.echo(f"  - {problem}", err=True)


@cli.command()
def modules(config: ConfigOption = None, json_output: JsonOption = False) -> None:
    """List the installed modules: API versions, distribution and its version, and each version's
    lifecycle from the configuration. Imports nothing."""
    installed = discover()
    rows = _module_rows(installed)
    loaded = load_config(config)
    problems = list(loaded.problems)
    lifecycles = resolve_lifecycles(loaded, installed.modules(), problems)
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
        _print_problems(problems)


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


def _plan_json(plan: Plan) -> dict[str, Any]:
    now = plan.clock()

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
        "standalone": ({m: entry(m, v) for m, v in plan.versions} if plan.standalone is not None else None),
        "problems": [p.to_json() for p in plan.problems],
    }


@cli.command()
def matrix(
    config: ConfigOption = None,
    global_version: GlobalOption = None,
    enable: EnableOption = None,
    module_version: ModuleVersionOption = None,
    check: Annotated[
        bool, typer.Option("--check", help="Exit with status 2 if the configuration has problems.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Show the resolved version matrix and every configuration problem."""
    plan = AppFactory(environ=_environ(config, global_version, enable, module_version)).plan()
    if json_output:
        typer.echo(json.dumps(_plan_json(plan), indent=2))
    else:
        data = _plan_json(plan)
        if plan.standalone is not None:
            module, version = plan.standalone
            typer.echo(f"standalone: {module} {version} at /{version}")
        for global_version_name, row in data["global_versions"].items():
            typer.echo(f"{plan.api_prefix}/{global_version_name}")
            for module, info in row.items():
                line = f"  {module:<12} {info['version']:<4} {info['distribution']} {info['distribution_version']}"
                lifecycle = plan.lifecycles.get((module, info["version"]))
                typer.echo(line if lifecycle is None else f"{line}  [{describe(lifecycle, plan.clock())}]")
        if plan.problems:
            _print_problems(plan.problems)
        elif check:
            typer.echo("configuration OK")
    if check and plan.problems:
        raise typer.Exit(2)


@cli.command()
def serve(
    config: ConfigOption = None,
    global_version: GlobalOption = None,
    enable: EnableOption = None,
    module_version: ModuleVersionOption = None,
    host: Annotated[str | None, typer.Option(help="Bind address (default: [server] host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: [server] port).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the composed API with uvicorn, after checking the whole configuration."""
    import uvicorn

    env = _environ(config, global_version, enable, module_version)
    factory = AppFactory(environ=env)
    plan = factory.plan()
    if plan.problems:
        _print_problems(plan.problems)
        raise typer.Exit(2)
    server = plan.server
    # Several workers add up their metrics through files: prometheus-client's multiprocess mode.
    with multiprocess_metrics(env, workers) if plan.metrics.enabled else nullcontext():
        os.environ.update(env)
        uvicorn.run(
            "trading_host.main:app",
            host=host or server.host,
            port=port if port is not None else server.port,
            workers=workers,
            log_level=log_level,
        )


cli.command()(diff)
cli.command()(compat)
cli.command()(specs)
cli.command()(clients)


def main() -> None:
    cli()
