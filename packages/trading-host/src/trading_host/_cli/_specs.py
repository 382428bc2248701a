"""The ``specs`` and ``clients`` commands of ``trading-host``: the committed contract documents and
the Python clients generated from them. Registered in :mod:`trading_host.cli`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .._problems import ConfigError
from ._options import config_option, fail

# The contract tooling is imported by the commands that use it: every other command, `serve` first,
# starts without it (see test_cli.py).
if TYPE_CHECKING:
    from .._contracts._committed import Difference, SourceTree
    from .._contracts._diff import Change

ModuleOption = Annotated[
    list[str] | None,
    typer.Option("--module", "-m", help="Only this module's documents (repeatable); skips the global versions."),
]


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is below it."""
    cwd = Path.cwd()
    return str(path.relative_to(cwd)) if path.is_relative_to(cwd) else str(path)


def _print_change(change: Change, indent: str = "      ") -> None:
    typer.echo(f"{indent}{change.level:<12}  {change.method} {change.path}: {change.text} [{change.id}]")


def _print_differences(differences: Sequence[Difference], *, breaking_only: bool = False) -> None:
    for difference in differences:
        typer.echo(f"  {difference.state:<8} {_shown(difference.path)}")
        for change in difference.breaking if breaking_only else difference.changes:
            _print_change(change)


def _plugin_source(source: Path | None) -> SourceTree | None:
    """The plugin's source tree of ``--source``, or the current directory's when it is one."""
    from .._contracts._committed import SpecsError, source_tree

    if source is None:
        return source_tree(Path.cwd())
    tree = source_tree(source)
    if tree is None:
        raise SpecsError(
            f"{source} is not a plugin's source tree: it has no pyproject.toml declaring entry points in "
            '[project.entry-points."trading_api.modules"]; pass the folder of the plugin\'s pyproject.toml'
        )
    return tree


def specs(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write every document into this folder instead of each package's specs_generated/.",
            file_okay=False,
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 listing every file that differs from the code.")
    ] = False,
    guard: Annotated[
        bool,
        typer.Option(
            "--guard",
            help="Write nothing; exit 1 if the code breaks a committed OpenAPI document (a released baseline).",
        ),
    ] = False,
    allow_breaking: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-breaking",
            help="Rewrite this document (broker.v1, global-v1) even though the change breaks it (repeatable).",
        ),
    ] = None,
    module: ModuleOption = None,
    source: Annotated[
        Path | None,
        typer.Option(
            "--source",
            help="A plugin's source tree (its pyproject.toml declares the modules): only its modules' documents, "
            "read from and written to its src/<package>/specs_generated/, even when it is installed from a wheel. "
            "Default: the current directory, when it is a plugin's source tree.",
            file_okay=False,
            exists=True,
        ),
    ] = None,
    config: Annotated[Path | None, config_option("TOML config file (the matrix and module settings).")] = None,
) -> None:
    """Write the OpenAPI document of every installed module version and of every global version,
    and the AsyncAPI document of every module version with streams; or, with --check or --guard,
    compare the committed ones with the code."""
    from .._contracts._committed import SpecsError, compare, generate, installed_folders, is_installed_copy, write
    from .._contracts._validation import MissingValidator

    if check and guard:
        raise fail("use one of --check and --guard")
    try:
        tree = _plugin_source(source)
        if tree is not None and not module:
            module = list(tree.modules)  # a plugin's run: its own modules, not the global versions
        generated = generate(out=out, config=config, modules=module, source=tree)
        differences = compare(generated)
    except ConfigError as exc:
        raise fail(str(exc)) from exc
    except (SpecsError, MissingValidator) as exc:
        raise fail(str(exc)) from exc
    count = len(generated.files)
    if check:
        if differences:
            typer.echo(f"{len(differences)} committed document(s) differ from the code:")
            _print_differences(differences)
            installed = sorted({d.path.parent for d in differences if is_installed_copy(d.path.parent)})
            if installed:
                folders = ", ".join(_shown(folder) for folder in installed)
                typer.echo(
                    f"these are copies installed from wheels, not a checkout: {folders}; to check a plugin's "
                    "committed documents, run `trading-host specs --check` in its source tree (or pass --source DIR)"
                )
            else:
                typer.echo("run `trading-host specs` to update them (it refuses breaking changes)")
            raise typer.Exit(1)
        typer.echo(f"{count} documents match the code")
        return
    if guard:
        broken = [d for d in differences if d.breaking]
        if broken:
            typer.echo(f"{len(broken)} released document(s) broken by the code:")
            _print_differences(broken, breaking_only=True)
            raise typer.Exit(1)
        additive = sum(1 for d in differences if d.state == "changed")
        typer.echo(f"no breaking change in {count} documents ({additive} changed without breaking)")
        return
    installed = installed_folders(generated) if out is None else []
    if installed:
        folders = ", ".join(_shown(folder) for folder in installed)
        raise fail(
            f"the documents go into source checkouts, but these folders are inside installed wheels: {folders}; "
            "install the packages editable (pip install -e PACKAGE), or pass --out DIR"
        )
    refused = write(differences, generated, set(allow_breaking or ()))
    for difference in differences:
        if difference not in refused:
            verb = "removed" if difference.state == "stale" else "wrote"
            typer.echo(f"{verb} {_shown(difference.path)}")
    if refused:
        typer.echo(f"refused to rewrite {len(refused)} released document(s) with a breaking change:", err=True)
        for difference in refused:
            typer.echo(f"  {difference.key}: {_shown(difference.path)}", err=True)
            for change in difference.breaking:
                _print_change(change, indent="    ")
        keys = " ".join(f"--allow-breaking {d.key}" for d in refused)
        typer.echo(
            "make the change additive, or, if breaking this version is intended (a version not yet released), "
            f"run again with {keys}",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(f"{count} documents, {len(differences)} updated")


def clients(
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="The folder of the client distributions.", file_okay=False),
    ] = Path("clients"),
    check: Annotated[
        bool,
        typer.Option("--check", help="Write nothing; exit 1 listing what differs from a fresh generation (stale)."),
    ] = False,
    module: Annotated[
        list[str] | None, typer.Option("--module", "-m", help="Only this module's client (repeatable).")
    ] = None,
    specs_folder: Annotated[
        Path | None,
        typer.Option(
            "--specs",
            help="Read the OpenAPI documents from this folder (as `trading-host specs --out` writes them) "
            "instead of each module's package.",
            file_okay=False,
        ),
    ] = None,
    typescript: Annotated[
        bool,
        typer.Option(
            "--typescript",
            help="Also the TypeScript clients, one npm package per module version (@trading/broker-v2), into "
            "OUT/typescript/packages/ with openapi-typescript (needs Node.js and npm).",
        ),
    ] = False,
) -> None:
    """Generate one Python client distribution per module (trading-<module>-client) with one
    subpackage per API version, sync and async, from the committed OpenAPI documents; any endpoint
    the generator skips or warns about is an error. With --typescript, also one TypeScript package
    per module version, with the stream's message types from the AsyncAPI documents."""
    from .._contracts._clients import ClientsError, generate_clients, sources
    from .._contracts._typescript import generate_typescript, typescript_sources

    try:
        found = sources(module, specs=specs_folder)
        results = generate_clients(found, out, check=check)
        if typescript:
            results += generate_typescript(typescript_sources(found), out, check=check)
    except ClientsError as exc:
        raise fail(str(exc)) from exc
    stale = [r for r in results if r.stale]
    for result in results:
        state = "stale" if result.stale else "up to date"
        if not check and result.stale:
            state = "written"
        typer.echo(f"{_shown(result.folder)}: {state}")
        if check:
            for label, names in (("changed", result.changed), ("missing", result.missing), ("extra", result.extra)):
                for name in names:
                    typer.echo(f"  {label:<8} {name}")
    if check and stale:
        typer.echo(f"run `trading-host clients{' --typescript' if typescript else ''}` to regenerate them")
        raise typer.Exit(1)
