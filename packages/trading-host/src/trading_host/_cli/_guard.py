"""The contract commands of ``trading-host``: ``diff`` (the breaking-change guard) and ``compat``
(which response fields of one version the next one lacks). Registered in :mod:`trading_host.cli`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .._problems import ConfigError
from ._options import JsonOption, config_option, fail

# The contract tooling is imported by these commands as they run: every other command, `serve`
# first, starts without it (see test_cli.py).
if TYPE_CHECKING:
    from .._contracts._compat import CompatReport
    from .._contracts._diff import Change

_VERSION = re.compile(r"^v[1-9][0-9]*$")


def diff(
    old: Annotated[str, typer.Argument(help="The old OpenAPI 3.x document: JSON or YAML file, '-' (stdin) or URL.")],
    new: Annotated[str, typer.Argument(help="The new OpenAPI 3.x document, in the same forms.")],
    json_output: JsonOption = False,
    allow_removal_after_sunset: Annotated[
        bool,
        typer.Option(
            "--allow-removal-after-sunset",
            help="Accept removing a deprecated operation (deprecated: true) after its x-sunset date.",
        ),
    ] = False,
) -> None:
    """Compare two OpenAPI documents: exit 1 on a breaking change, 2 on an unreadable document."""
    from .._contracts._diff import BREAKING, diff_openapi, report
    from .._contracts._reader import DocumentError, load_document

    if old == "-" and new == "-":
        raise fail("only one of OLD and NEW can be read from stdin ('-')")
    try:
        changes = diff_openapi(
            load_document(old, label="OLD"),
            load_document(new, label="NEW"),
            allow_removal_after_sunset=allow_removal_after_sunset,
        )
    except DocumentError as exc:
        raise fail(str(exc)) from exc
    if json_output:
        typer.echo(json.dumps(report(changes), indent=2))
    else:
        _print_changes(changes)
    if any(c.level == BREAKING for c in changes):
        raise typer.Exit(1)


def _print_changes(changes: list[Change]) -> None:
    from .._contracts._diff import BREAKING

    if not changes:
        typer.echo("no changes")
        return
    for change in changes:
        typer.echo(f"{change.level:<12}  {change.method} {change.path}: {change.text} [{change.id}]")
    breaking = sum(1 for c in changes if c.level == BREAKING)
    count = len(changes)
    typer.echo(f"{count} change{'s' if count != 1 else ''}: {breaking} breaking, {count - breaking} non-breaking")


def compat(
    module: Annotated[str, typer.Argument(help="The module, for example 'broker'.")],
    old: Annotated[str, typer.Argument(help="The old version (v1), or the path of its OpenAPI document.")],
    new: Annotated[str, typer.Argument(help="The new version (v2), or the path of its OpenAPI document.")],
    config: Annotated[Path | None, config_option("TOML config file for the modules' settings.")] = None,
    json_output: JsonOption = False,
) -> None:
    """List the response fields of OLD's operations that NEW lacks; exit 1 if any is missing."""
    from .._contracts._compat import compat_report
    from .._contracts._reader import DocumentError

    documents = [_document(module, spec, config) for spec in (old, new)]
    try:
        result = compat_report(*documents)
    except DocumentError as exc:
        raise fail(str(exc)) from exc
    if json_output:
        typer.echo(json.dumps({"module": module, "old": old, "new": new, **result.to_json()}, indent=2))
    else:
        _print_compat(module, old, new, result)
    if not result.compatible:
        raise typer.Exit(1)


def _document(module: str, spec: str, config: Path | None) -> dict[str, Any]:
    """An installed module version's document (``v1``), or a document file."""
    from .._contracts._compat import installed_document
    from .._contracts._reader import DocumentError, load_document

    if _VERSION.match(spec) and not Path(spec).exists():
        try:
            return installed_document(module, spec, config=config)
        except ConfigError as exc:
            raise fail(str(exc)) from exc
    try:
        return load_document(spec, label=spec)
    except DocumentError as exc:
        raise fail(str(exc)) from exc


def _print_compat(module: str, old: str, new: str, result: CompatReport) -> None:
    head = f"{module} {old} -> {new}"
    if result.compatible:
        typer.echo(f"{head}: every response field of {old}'s {len(result.operations)} operations is in {new}")
        return
    typer.echo(
        f"{head}: {result.missing_count} response field(s) missing, "
        f"{len(result.unmatched)} operation(s) without a match in {new}"
    )
    for op in result.operations:
        name = f"{op.method} {op.path}" + (f" ({op.operation_id})" if op.operation_id else "")
        if op.matched_by is None:
            typer.echo(f"  {name}: no matching operation in {new}")
        elif op.missing:
            typer.echo(f"  {name} -> {op.new_method} {op.new_path} (matched by {op.matched_by}):")
            for missing in op.missing:
                typer.echo(f"    {missing.status} {missing.field}")
