"""The ``trading-host`` command: assembles the commands implemented in :mod:`trading_host._cli`,
and the commands modules register (``trading-host broker keys list``)."""

from __future__ import annotations

import typer

from ._cli._config import config
from ._cli._fleet import fleet
from ._cli._guard import compat, diff
from ._cli._inspect import matrix, modules
from ._cli._module_commands import HostGroup
from ._cli._new_module import new_module_command
from ._cli._routes import routes
from ._cli._serve import serve
from ._cli._specs import clients, specs

cli = typer.Typer(
    cls=HostGroup,
    help="Compose and serve the installed Trading API modules.",
    no_args_is_help=True,
    add_completion=False,
)

# The listing shows one line per command (its own --help has the whole text), in two panels.
SERVING = "Configure and serve"
CONTRACTS = "Contracts"

cli.command(rich_help_panel=SERVING, short_help="List the installed modules, their API versions and lifecycles.")(
    modules
)
cli.command(rich_help_panel=SERVING, short_help="Show the resolved version matrix and every configuration problem.")(
    matrix
)
cli.command(rich_help_panel=SERVING, short_help="Show the effective configuration and where each key came from.")(
    config
)
cli.command(rich_help_panel=SERVING, short_help="List every route served, per global version.")(routes)
cli.command(rich_help_panel=SERVING, short_help="Check the configuration, then serve it with uvicorn.")(serve)
cli.add_typer(
    fleet, name="fleet", rich_help_panel=SERVING, short_help="Run the platform as a fleet of services behind nginx."
)
cli.command(rich_help_panel=CONTRACTS, short_help="Compare two OpenAPI documents: exit 1 on a breaking change.")(diff)
cli.command(rich_help_panel=CONTRACTS, short_help="List the response fields of one version the next one lacks.")(compat)
cli.command(rich_help_panel=CONTRACTS, short_help="Write or check the committed OpenAPI and AsyncAPI documents.")(specs)
cli.command(rich_help_panel=CONTRACTS, short_help="Generate or check the modules' Python (and TypeScript) clients.")(
    clients
)
cli.command("new-module", rich_help_panel=CONTRACTS, short_help="Write a plugin package with the platform's skeleton.")(
    new_module_command
)


def main() -> None:
    cli()
