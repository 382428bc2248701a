"""What the ``trading-host`` commands share: their common options and how they report an error."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from .._plan._config import COMMAND_LINE, LoadedConfig, load_config
from .._plan._matrix import Plan, resolve
from .._problems import Problem
from .._serve._factory import AppFactory

CONFIG_HELP = "TOML config file (default: $TRADING_CONFIG or ./trading.toml)."


def config_option(help: str = CONFIG_HELP) -> Any:
    """The ``--config``/``-c`` option; a command may say what it reads the file for."""
    return typer.Option("--config", "-c", help=help)


ConfigOption = Annotated[Path | None, config_option()]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output (a stable format).")]
GlobalOption = Annotated[
    list[str] | None, typer.Option("--global-version", "-g", help="Serve this global version (repeatable).")
]
EnableOption = Annotated[list[str] | None, typer.Option("--enable", "-e", help="Enable only this module (repeatable).")]
ModuleVersionOption = Annotated[
    str | None, typer.Option("--module-version", help="Standalone: serve the one enabled module at /{version}.")
]


def environ_with(
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


OPTION_NAMES = {
    "serve": "--global-version",
    "enabled_modules": "--enable",
    "module_version": "--module-version",
    "server.host": "--host",
    "server.port": "--port",
}
"""The option each configuration key is given as, so that a message names what the user typed."""


def load_options(
    config: Path | None,
    global_version: list[str] | None = None,
    enable: list[str] | None = None,
    module_version: str | None = None,
    *,
    environ: dict[str, str] | None = None,
    server: dict[str, object] | None = None,
) -> LoadedConfig:
    """The configuration a command's options select, each option named as typed in messages
    (``--config nope.toml does not exist``, ``--port on the command line: ...``)."""
    overrides = {
        "serve": global_version or None,
        "enabled_modules": enable or None,
        "module_version": module_version,
        "server": {k: v for k, v in (server or {}).items() if v is not None} or None,
    }
    return load_config(
        config,
        environ=os.environ if environ is None else environ,
        overrides=overrides,
        path_label="--config",
        overrides_label=COMMAND_LINE,
        override_names=OPTION_NAMES,
    )


def plan_options(factory: AppFactory, loaded: LoadedConfig) -> Plan:
    """What ``factory`` would serve with ``loaded``, as :meth:`AppFactory.plan` resolves it."""
    return resolve(loaded, factory.installed)


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` on stderr; raise the returned exit (status 2)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def print_problems(problems: list[Problem]) -> None:
    """Every configuration problem, each with its fix, on stderr."""
    count = len(problems)
    typer.echo(f"{count} configuration problem{'s' if count != 1 else ''}:", err=True)
    for problem in problems:
        typer.echo(f"  - {problem}", err=True)
