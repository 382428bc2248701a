"""The ``new-module`` command of ``trading-host``: a plugin package from the shipped template
(:mod:`trading_host._scaffold`). Registered in :mod:`trading_host.cli`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .._problems import ConfigError
from ._options import fail


def new_module_command(
    name: Annotated[str, typer.Argument(help="The module's name, its URL segment (quotes: /api/v1/quotes/...).")],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="The folder to write the package trading-NAME into.", file_okay=False),
    ] = Path(),
) -> None:
    """Write a plugin package with the platform's skeleton: pyproject.toml with the entry point and
    the trading-core range, the Module with settings and a lifespan, api/v1/ with one route and one
    stream, the committed documents, the conformance test and a guard of the documents, a README."""
    # Imported as the command runs, as the contract tooling it uses: the other commands start without.
    from .._contracts._committed import SpecsError
    from .._contracts._validation import MissingValidator
    from .._scaffold._new import ScaffoldError, new_module

    try:
        target, written = new_module(name, output)
    except (ScaffoldError, SpecsError, MissingValidator, ConfigError) as exc:
        raise fail(str(exc)) from exc
    for path in written:
        typer.echo(f"wrote {path}")
    typer.echo(f"next: cd {target} && pip install -e '.[test]' && pytest")
