"""The commands contract: how a module adds subcommands to ``trading-host``.

A distribution registers one entry point per module in the ``trading_api.commands`` group, named
after the module and pointing at a typer app (or a function returning one)::

    [project.entry-points."trading_api.commands"]
    broker = "trading_broker._cli:cli"

``trading-host broker keys create alice`` then runs that app's ``keys create``. The host imports
the plugin only when one of its commands runs, adds ``--config`` to each of them, and hands them a
:class:`CommandContext` that builds the module from the real configuration, as ``trading-host
serve`` does. Nothing here imports typer: a plugin without commands need not install it.
"""

from __future__ import annotations

import os
import sys
from abc import ABC, abstractmethod
from importlib import metadata
from typing import Any, Protocol, TypeVar

from ._contract import Module

COMMANDS_ENTRY_POINT_GROUP = "trading_api.commands"
"""The entry-point group in which a module registers its ``trading-host <module>`` commands."""

HOST_COMMAND = "trading-host"
"""The host's console script, which runs every module's commands."""

M = TypeVar("M", bound=Module)


class _FindsObjects(Protocol):
    """What :meth:`CommandContext.of` needs of a click (or typer) context."""

    def find_object(self, object_type: type[Any]) -> Any: ...


class CommandContext(ABC):
    """What the host gives a module's commands: the module, built from the real configuration.

    A command reaches it through its typer context::

        @app.command()
        def create(ctx: typer.Context, account: str) -> None:
            module = CommandContext.of(ctx).module(BrokerModule)

    Nothing is loaded until a command asks: a command that needs no configuration reads none.
    """

    module_name: str
    """The module whose commands run (the entry point's name)."""

    @classmethod
    def of(cls, context: _FindsObjects) -> CommandContext:
        """The context the host put into the typer (click) context of a command it runs."""
        found = context.find_object(CommandContext)
        if not isinstance(found, CommandContext):
            raise RuntimeError(f"this command runs inside the host: `{HOST_COMMAND} <module> ...`")
        return found

    @abstractmethod
    def module(self, cls: type[M]) -> M:
        """The module's one instance, built the way ``trading-host serve`` builds it: from the file
        named by ``--config`` (else ``$TRADING_CONFIG``, else ``./trading.toml``), the environment
        and the shipped default, with the module's settings validated. Its lifespan is not run:
        a command opens what it uses and closes it.

        On a configuration problem the host prints every problem with its fix and exits with
        status 2, so this does not return. ``cls`` is the module's class, for its type; another
        class is a ``TypeError``."""

    @abstractmethod
    def setting_source(self, key: str) -> str | None:
        """Where the module's setting ``key`` was set, in words for a person
        (``[modules.broker] database_url in trading.toml``), or ``None`` when the module's
        default applies."""


def run_host_command(module: str, argv: list[str] | None = None) -> None:
    """Run ``trading-host <module> ARGS``: the body of a plugin's own console script, kept as an
    alias (``trading-broker keys list`` is ``trading-host broker keys list``).

    The host is found by its console script's metadata, so this imports no host module by name;
    without the host installed it prints the install line and exits with status 2.
    """
    args = sys.argv[1:] if argv is None else argv
    found = metadata.entry_points(group="console_scripts", name=HOST_COMMAND)
    if not found:
        alias = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else f"the {module} command"
        print(
            f"error: {alias} runs `{HOST_COMMAND} {module}`, and {HOST_COMMAND} is not installed: "
            f"pip install {HOST_COMMAND}",
            file=sys.stderr,
        )
        raise SystemExit(2)
    main = next(iter(found)).load()
    # The host's command line parses sys.argv; its usage lines then name the command that runs.
    saved, sys.argv = sys.argv, [HOST_COMMAND, module, *args]
    try:
        main()
    finally:
        sys.argv = saved
