"""``trading-host fleet ...``: check, render and run the fleet that ``[fleet]`` describes
(implemented in :mod:`trading_host._fleet`). Registered in :mod:`trading_host.cli`."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer

from .._fleet import _manifests, _nginx, _runner
from .._fleet._layout import FleetPlan, build
from .._fleet._model import Colour
from ._options import ConfigOption, JsonOption, fail, print_problems

fleet = typer.Typer(help="Run the platform as a fleet: services per module version behind nginx.", no_args_is_help=True)
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file instead of printing.")]
CheckOption = Annotated[
    Path | None,
    typer.Option("--check", help="Compare this committed file with a fresh rendering; exit 2 if they differ."),
]
ImageOption = Annotated[str, typer.Option(help="The container image with trading-host and the modules installed.")]


def _plan(config: Path | None, *, strict: bool = True) -> FleetPlan:
    plan = build(config)
    if strict and plan.problems:
        print_problems(plan.problems)
        raise typer.Exit(2)
    return plan


def _emit(text: str, out: Path | None, check: Path | None = None) -> None:
    if check is not None:
        try:
            committed = check.read_text()
        except OSError as exc:
            raise fail(f"cannot read {check}: {exc}") from None
        if committed != text:
            raise fail(f"{check} differs from the fleet's plan: write it again with --out {check}")
        typer.echo(f"{check} matches the fleet's plan")
        return
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)
        typer.echo(f"wrote {out}", err=True)


def _run(action: object) -> None:
    if isinstance(action, _runner.FleetError):
        raise fail(str(action.problem))


@fleet.command()
def check(config: ConfigOption = None, json_output: JsonOption = False) -> None:
    """Check the fleet against the matrix and what is installed: every problem at once, with its fix."""
    plan = _plan(config, strict=False)
    if json_output:
        typer.echo(json.dumps({"problems": [p.to_json() for p in plan.problems]}, indent=2))
    elif plan.problems:
        print_problems(plan.problems)
    else:
        processes = len(plan.processes(_runner.active_colours(plan)))
        typer.echo(f"fleet OK: {len(plan.services)} services, {processes} processes, gateway {plan.gateway_url}")
    if plan.problems:
        raise typer.Exit(2)


@fleet.command()
def nginx(config: ConfigOption = None, out: OutOption = None, check: CheckOption = None) -> None:
    """Print (or write, or check) the gateway's nginx configuration for the fleet's serving pools."""
    plan = _plan(config)
    _emit(_nginx.render(plan, _runner.active_colours(plan), plan.run_dir), out, check)


@fleet.command()
def up(
    config: ConfigOption = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for every process to be healthy.")] = 60.0,
) -> None:
    """Start the fleet on this machine under supervisord, with nginx as its gateway."""
    plan = _plan(config)
    try:
        _runner.up(plan, timeout)
    except _runner.FleetError as error:
        _run(error)
    typer.echo(f"fleet up: gateway {plan.gateway_url} (run directory {plan.run_dir})")


@fleet.command()
def status(config: ConfigOption = None, json_output: JsonOption = False) -> None:
    """The gateway URL and every process: service, replica, pool colour, URL, pid, health."""
    plan = _plan(config)
    report = _runner.status(plan)
    if json_output:
        typer.echo(json.dumps(report, indent=2))
        return
    gateway = report["gateway"]
    typer.echo(f"gateway  {gateway['url']}  {gateway['state']}  pid {gateway['pid'] or '-'}")
    for row in report["processes"]:
        mark = "*" if row["active"] else " "
        typer.echo(
            f"{mark} {row['service']:<14} {row['replica']:>2} {row['colour']:<5} {row['url']:<24} "
            f"{row['state']:<8} pid {row['pid'] or '-':<7} {row['health']}"
        )
    if report["supervisord_pid"] is None:
        typer.echo("the fleet is not running (trading-host fleet up)")


@fleet.command()
def down(config: ConfigOption = None) -> None:
    """Stop every process of the fleet, and supervisord."""
    plan = _plan(config, strict=False)
    try:
        pids = _runner.down(plan)
    except _runner.FleetError as error:
        _run(error)
    typer.echo(f"stopped {len(pids)} processes" if pids else "the fleet is not running")


@fleet.command()
def switch(
    service: Annotated[str, typer.Argument(help="The service whose pool changes.")],
    colour: Annotated[str, typer.Argument(help="blue or green: the pool to serve from.")],
    config: ConfigOption = None,
) -> None:
    """Blue-green: start the other pool, wait until it is healthy, point the gateway at it with a
    graceful reload, let the old requests finish, stop the old pool."""
    if colour not in ("blue", "green"):
        raise fail(f"colour '{colour}' is not a pool: use blue or green")
    plan = _plan(config)
    chosen: Colour = "green" if colour == "green" else "blue"
    try:
        _runner.switch(plan, service, chosen)
    except _runner.FleetError as error:
        _run(error)
    typer.echo(f"{service} now served by its {colour} pool")


@fleet.command()
def k8s(
    config: ConfigOption = None,
    out: OutOption = None,
    check: CheckOption = None,
    image: ImageOption = "trading-api:latest",
) -> None:
    """Kubernetes manifests: a Deployment and Service per service, the configuration as a ConfigMap,
    Ingresses for the nginx ingress controller with the gateway's path rules."""
    yaml = _yaml()
    plan = _plan(config)
    objects = _manifests.kubernetes(plan, _runner.active_colours(plan), image)
    _emit(yaml.safe_dump_all(objects, sort_keys=False), out, check)


@fleet.command()
def compose(
    config: ConfigOption = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder for compose.yaml and nginx.conf.")] = None,
    image: ImageOption = "trading-api:latest",
) -> None:
    """A compose file (and the gateway's nginx.conf beside it)."""
    yaml = _yaml()
    plan = _plan(config)
    document, conf = _manifests.compose(plan, _runner.active_colours(plan), image)
    text = yaml.safe_dump(document, sort_keys=False)
    if out is None:
        typer.echo(text, nl=False)
        return
    out.mkdir(parents=True, exist_ok=True)
    (out / "compose.yaml").write_text(text)
    (out / "nginx.conf").write_text(conf)
    for name, text in _manifests.config_files(plan).items():
        (out / name).write_text(text)
    typer.echo(f"wrote {out / 'compose.yaml'}, {out / 'nginx.conf'}", err=True)


def _yaml() -> ModuleType:
    try:
        return importlib.import_module("yaml")
    except ImportError:
        raise fail("PyYAML is not installed: pip install 'trading-host[fleet]'") from None
