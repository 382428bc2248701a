"""The ``trading-host`` command: assembles the commands implemented in :mod:`trading_host._cli`,
and the commands modules register (``trading-host broker keys list``)."""

from __future__ import annotations

import typer

from ._cli._fleet import fleet
from ._cli._guard import compat, diff
from ._cli._inspect import matrix, modules
from ._cli._module_commands import HostGroup
from ._cli._serve import serve
from ._cli._specs import clients, specs

cli = typer.Typer(
    cls=HostGroup,
    help="Compose and serve the installed Trading API modules.",
    no_args_is_help=True,
    add_completion=False,
)

cli.command()(modules)
cli.command()(matrix)
cli.command()(serve)
cli.command()(diff)
cli.command()(compat)
cli.command()(specs)
cli.command()(clients)
cli.add_typer(fleet, name="fleet")


def main() -> None:
    cli()
