"""Modules' own commands: ``trading-host <module> ...``, from the ``trading_api.commands`` entry points.

Listing them reads package metadata only; a module's plugin is imported when one of its commands
runs, and no other plugin is. The commands get a :class:`HostCommandContext`, which builds the
module from the real configuration exactly as ``serve`` would, and a ``--config`` option each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import typer
from typer.core import TyperGroup

from trading_core import COMMANDS_ENTRY_POINT_GROUP, CommandContext, Module

from .._collector import collector_paused
from .._plan._config import _MODULE_ENV_PREFIX, ENV_SOURCE, LoadedConfig, load_config
from .._plan._discovery import discover
from .._plan._matrix import resolve
from .._problems import Problem
from .._serve._runtime import Runtime
from ._options import ConfigOption, print_problems

PANEL = "Module commands"
_ENTRIES = "trading_host.command_entries"

M = TypeVar("M", bound=Module)


@dataclass(frozen=True)
class CommandsEntry:
    """One entry point of the ``trading_api.commands`` group: a module's commands."""

    module: str
    target: str
    distribution: str
    distribution_version: str
    load: Callable[[], object]

    @property
    def where(self) -> str:
        return (
            f"entry point '{self.module}' = '{self.target}' of {self.distribution} {self.distribution_version} "
            f"(group {COMMANDS_ENTRY_POINT_GROUP})"
        )


def command_entries() -> dict[str, list[CommandsEntry]]:
    """Module name -> the entry points registering its commands (more than one is a conflict)."""
    found: dict[str, list[CommandsEntry]] = {}
    for ep in metadata.entry_points(group=COMMANDS_ENTRY_POINT_GROUP):
        dist = ep.dist
        entry = CommandsEntry(
            module=ep.name,
            target=ep.value,
            distribution=dist.metadata["Name"] if dist is not None else "(unknown distribution)",
            distribution_version=dist.version if dist is not None else "?",
            load=ep.load,
        )
        found.setdefault(ep.name, []).append(entry)
    return found


class HostCommandContext(CommandContext):
    """The module of ``trading-host <module> ...``, built on first use from the configuration."""

    def __init__(self, module_name: str) -> None:
        self.module_name = module_name
        self.config: Path | None = None
        """``--config`` of the command that runs; ``None``: ``$TRADING_CONFIG`` or ``./trading.toml``."""
        self._loaded: LoadedConfig | None = None
        self._module: Module | None = None

    def module(self, cls: type[M]) -> M:
        if self._module is None:
            self._module = self._build()
        if not isinstance(self._module, cls):
            raise TypeError(
                f"module '{self.module_name}' is a {type(self._module).__qualname__}, not a {cls.__qualname__}"
            )
        return self._module

    def _build(self) -> Module:
        name = self.module_name
        # The plan `serve` would make if it served this module: every check of the configuration,
        # with only this module enabled, so that no other plugin is imported.
        loaded = load_config(self.config, overrides={"enabled_modules": [name]}, path_label="--config")
        plan = resolve(loaded, discover())
        problems = list(plan.problems)
        if not problems and name not in plan.modules():
            served = ", ".join(plan.serve) or "none"
            problems.append(
                Problem(
                    "module-not-served",
                    f"no served global version ({served}) has a version of module '{name}' in its matrix row",
                    f"add '{name}' to a [matrix.<version>] row, or serve a global version that has it",
                )
            )
        if problems:
            print_problems(problems)
            raise typer.Exit(2)
        runtime = Runtime()
        runtime.platform.clock = plan.clock
        self._loaded = loaded
        return runtime.module(plan.module_class(name), plan.module_settings.get(name, {}))

    def setting_source(self, key: str) -> str | None:
        if self._loaded is None:
            self.module(Module)
        assert self._loaded is not None
        source = self._loaded.sources.get(f"modules.{self.module_name}.{key}")
        if source is None:
            return None
        if source == ENV_SOURCE:
            return f"{_MODULE_ENV_PREFIX}{self.module_name.upper()}__{key.upper()} in the environment"
        return f"[modules.{self.module_name}] {key} in {source}"


def _remember_config(ctx: Any, _: Any, value: Any) -> None:
    found = ctx.find_object(HostCommandContext)
    if found is not None and value is not None:
        found.config = Path(value)


def _config_parameter() -> Any:
    """The ``--config`` option of ``serve`` and ``matrix``, made by typer, that only records its value."""
    app = typer.Typer(add_completion=False)

    @app.command()
    def command(config: ConfigOption = None) -> None: ...

    (parameter,) = typer.main.get_command(app).params
    parameter.expose_value = False
    parameter.callback = _remember_config
    return parameter


class CommandsError(Exception):
    """A module's commands cannot be run: its problem says why and how to fix it."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _add_config_option(command: Any, entry: CommandsEntry, path: str) -> None:
    """Give every command below ``command`` a ``--config`` option (the host's: it says which
    configuration builds the module)."""
    children = getattr(command, "commands", None)
    if children is not None:
        for name, child in children.items():
            _add_config_option(child, entry, f"{path} {name}")
        return
    taken = sorted({"--config", "-c"} & {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)})
    if taken:
        raise CommandsError(
            Problem(
                "commands-option-taken",
                f"`{path}` of {entry.where} declares {', '.join(taken)}, which the host adds to every module command",
                f"remove the option from the command in {entry.distribution}: the host's --config builds the module",
            )
        )
    command.params.append(_config_parameter())


def load_commands(entries: list[CommandsEntry]) -> Any:
    """The command group of a module from its entry point: a typer app, or a function making one."""
    entry = entries[0]
    if len(entries) > 1:
        names = ", ".join(f"{e.distribution} {e.distribution_version} ({e.target})" for e in entries)
        raise CommandsError(
            Problem(
                "commands-duplicate",
                f"the commands of module '{entry.module}' are registered by {len(entries)} distributions: {names}",
                "uninstall all but one of them (pip uninstall <distribution>)",
            )
        )
    try:
        with collector_paused():  # the module's commands import the module
            target = entry.load()
        app = target if isinstance(target, typer.Typer) else target() if callable(target) else target
    except Exception as exc:
        raise CommandsError(
            Problem(
                "commands-import-failed",
                f"{entry.where} failed to import: {type(exc).__name__}: {exc}",
                f"reinstall or upgrade {entry.distribution}",
            )
        ) from exc
    if not isinstance(app, typer.Typer):
        raise CommandsError(
            Problem(
                "commands-invalid",
                f"{entry.where} is {app!r}, not a typer.Typer app or a function returning one",
                f"point the entry point at the module's typer app, in {entry.distribution}'s pyproject.toml",
            )
        )
    command = typer.main.get_command(app)
    command.name = entry.module
    _add_config_option(command, entry, f"trading-host {entry.module}")
    return command


class _Listed(TyperGroup):
    """A module's commands as ``trading-host --help`` lists them, from metadata: nothing imported."""

    def __init__(self, name: str, entries: list[CommandsEntry]) -> None:
        first = entries[0]
        help = f"The {name} module's commands ({first.distribution} {first.distribution_version})."
        super().__init__(name=name, help=help, rich_help_panel=PANEL)
        self.entries = entries


class HostGroup(TyperGroup):
    """``trading-host``: its own commands, then one group per module that registers commands."""

    # The signatures take Any: typer 0.15 passes click's classes, typer 0.27 its own copy of them.

    def _entries(self, ctx: Any) -> dict[str, list[CommandsEntry]]:
        entries: dict[str, list[CommandsEntry]] | None = ctx.meta.get(_ENTRIES)
        if entries is None:
            entries = ctx.meta[_ENTRIES] = command_entries()
        return entries

    def list_commands(self, ctx: Any) -> list[str]:
        own = super().list_commands(ctx)
        return own + sorted(name for name in self._entries(ctx) if name not in own)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in self._entries(ctx):
            command = _Listed(cmd_name, self._entries(ctx)[cmd_name])
        return command

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        if isinstance(command, _Listed):
            try:
                command = load_commands(command.entries)
            except CommandsError as exc:
                typer.echo(f"error: {exc.problem}", err=True)
                raise typer.Exit(2) from None
            ctx.obj = HostCommandContext(command.name)
        return name, command, rest
