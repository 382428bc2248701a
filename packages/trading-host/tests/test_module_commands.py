"""Modules' own commands: ``trading-host <module> ...`` from the ``trading_api.commands`` group.

The fake plugins here are installed distributions (see ``host_fakes.FakeSite``) that register API
versions and, in the commands group, a typer app that reads the module the host builds.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from host_fakes import FakeSite, api_source, plugin_distribution, write_config
from typer.testing import CliRunner

from trading_core import COMMANDS_ENTRY_POINT_GROUP, CommandContext
from trading_host.cli import cli

runner = CliRunner()

MODULE = """
    from pydantic import BaseModel, ConfigDict
    from trading_core import Module

    class Settings(BaseModel):
        model_config = ConfigDict(extra="forbid")
        greeting: str = "hello"
        times: int = 1

    class {cls}Module(Module):
        name = "{module}"
        Settings = Settings
    """

COMMANDS = """
    import typer
    from trading_core import CommandContext

    from . import {cls}Module

    app = typer.Typer(help="The {module} module's own commands.", no_args_is_help=True)

    @app.command()
    def hello(ctx: typer.Context, name: str) -> None:
        \"\"\"Greet NAME with the configured greeting.\"\"\"
        context = CommandContext.of(ctx)
        module = context.module({cls}Module)
        for _ in range(module.settings.times):
            typer.echo(f"{{module.settings.greeting}}, {{name}}")
        typer.echo(f"greeting from: {{context.setting_source('greeting')}}")

    @app.command()
    def plain() -> None:
        \"\"\"Needs no configuration.\"\"\"
        typer.echo("plain")

    def make() -> typer.Typer:
        return app
    """


def add_commands(site: FakeSite, dist: str, version: str, entry_points: Mapping[str, str]) -> None:
    """Register ``entry_points`` in the commands group of the installed ``dist``."""
    info = site.dist_info(dist, version)
    if not info.exists():
        site.distribution(dist, version, {})
    lines = [f"[{COMMANDS_ENTRY_POINT_GROUP}]", *(f"{k} = {v}" for k, v in entry_points.items())]
    with (info / "entry_points.txt").open("a", encoding="utf-8") as f:
        f.write("\n" + "\n".join(lines) + "\n")
    importlib.invalidate_caches()


def commands_plugin(
    site: FakeSite, module: str, *, versions: tuple[str, ...] = ("v1",), target: str = "commands:app"
) -> str:
    """``trading-<module>`` 1.0.0: API versions and commands; returns its package name."""
    cls = module.title()
    files = {"__init__.py": MODULE.format(cls=cls, module=module), "api/__init__.py": ""}
    files["commands.py"] = COMMANDS.format(cls=cls, module=module)
    for version in versions:
        files[f"api/{version}/__init__.py"] = api_source(module, version, cls=cls)
    package = site.package(module, files)
    dist = f"trading-{module}"
    site.distribution(dist, "1.0.0", {f"{module}.{v}": f"{package}.api.{v}:{cls}Api" for v in versions})
    add_commands(site, dist, "1.0.0", {module: f"{package}.{target}"})
    return package


def host(*args: str, env: Mapping[str, str] | None = None):
    return runner.invoke(cli, list(args), env=dict(env or {}))


# -- listing


def test_help_lists_module_commands_from_metadata_without_importing(site: FakeSite) -> None:
    package = commands_plugin(site, "gizmo")

    result = host("--help")

    assert result.exit_code == 0, result.output
    assert "Module commands" in result.stdout
    assert "gizmo" in result.stdout
    assert "The gizmo module's commands (trading-gizmo 1.0.0)." in result.stdout
    assert not site.imported(package)


def test_a_modules_help_comes_from_its_app_with_the_hosts_config_option(site: FakeSite) -> None:
    commands_plugin(site, "gizmo")

    group = host("gizmo", "--help")
    leaf = host("gizmo", "hello", "--help")

    assert group.exit_code == 0, group.output
    assert "The gizmo module's own commands." in group.stdout
    assert "gizmo [OPTIONS] COMMAND" in group.stdout
    assert "hello" in group.stdout
    assert "plain" in group.stdout
    assert leaf.exit_code == 0, leaf.output
    assert "--config" in leaf.stdout
    assert "$TRADING_CONFIG" in leaf.stdout


# -- the module built from the real configuration


def test_a_command_gets_the_module_built_from_the_defaults(site: FakeSite) -> None:
    commands_plugin(site, "gizmo")

    result = host("gizmo", "hello", "bob")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["hello, bob", "greeting from: None"]


def test_config_option_trading_config_and_local_file_in_the_hosts_order(
    site: FakeSite, tmp_path: Path, clean_environment: Path
) -> None:
    commands_plugin(site, "gizmo")
    local = write_config(clean_environment / "trading.toml", '[modules.gizmo]\ngreeting = "local"\n')
    named = write_config(tmp_path / "named.toml", '[modules.gizmo]\ngreeting = "named"\n')
    given = write_config(tmp_path / "given.toml", '[modules.gizmo]\ngreeting = "given"\ntimes = 2\n')

    from_local = host("gizmo", "hello", "bob")
    from_env = host("gizmo", "hello", "bob", env={"TRADING_CONFIG": str(named)})
    from_option = host("gizmo", "hello", "bob", "--config", str(given), env={"TRADING_CONFIG": str(named)})

    assert from_local.stdout.splitlines() == ["local, bob", f"greeting from: [modules.gizmo] greeting in {local.name}"]
    assert from_env.stdout.splitlines() == ["named, bob", f"greeting from: [modules.gizmo] greeting in {named}"]
    assert from_option.stdout.splitlines() == [
        "given, bob",
        "given, bob",
        f"greeting from: [modules.gizmo] greeting in {given}",
    ]


def test_the_environment_beats_the_file_key_by_key(site: FakeSite, tmp_path: Path) -> None:
    commands_plugin(site, "gizmo")
    config = write_config(tmp_path / "c.toml", '[modules.gizmo]\ngreeting = "file"\n')

    # Lower case, as the host accepts it: the old hand-written lookup of trading-broker did not.
    result = host("gizmo", "hello", "bob", "-c", str(config), env={"trading_modules__gizmo__times": "2"})

    assert result.exit_code == 0, result.output
    # times comes from the environment, greeting still from the file: the source is per key.
    assert result.stdout.splitlines() == [
        "file, bob",
        "file, bob",
        f"greeting from: [modules.gizmo] greeting in {config}",
    ]
    from_env = host("gizmo", "hello", "bob", env={"TRADING_MODULES__GIZMO__GREETING": "env"})
    assert from_env.stdout.splitlines() == [
        "env, bob",
        "greeting from: TRADING_MODULES__GIZMO__GREETING in the environment",
    ]


def test_a_bad_configuration_is_reported_like_serve_does(site: FakeSite, tmp_path: Path) -> None:
    commands_plugin(site, "gizmo")
    config = write_config(tmp_path / "bad.toml", '[modules.gizmo]\ntimes = "many"\ncolour = "red"\n')

    result = host("gizmo", "hello", "bob", "--config", str(config))
    missing = host("gizmo", "hello", "bob", "--config", str(tmp_path / "nope.toml"))

    assert result.exit_code == 2
    assert "2 configuration problems:" in result.stderr
    assert f"[module-settings-invalid] [modules.gizmo] times in {config}" in result.stderr
    assert f"[module-settings-invalid] [modules.gizmo] colour in {config}" in result.stderr
    assert result.stderr.count("fix: ") == 2
    assert "Traceback" not in result.output
    assert result.stdout == ""  # the command did not run
    assert missing.exit_code == 2
    assert "[config-file-missing]" in missing.stderr


def test_a_command_that_needs_no_module_reads_no_configuration(site: FakeSite, tmp_path: Path) -> None:
    commands_plugin(site, "gizmo")
    config = write_config(tmp_path / "bad.toml", "[modules.gizmo\n")

    result = host("gizmo", "plain", "--config", str(config))

    assert result.exit_code == 0, result.output
    assert result.stdout == "plain\n"


def test_only_the_plugin_whose_command_runs_is_imported(site: FakeSite) -> None:
    gizmo = commands_plugin(site, "gizmo")
    widget = commands_plugin(site, "widget")
    delta = plugin_distribution(site, "trading-delta", "1.0.0", "delta", ["v1"])

    result = host("gizmo", "hello", "bob")

    assert result.exit_code == 0, result.output
    assert site.imported(gizmo)
    assert not site.imported(widget)
    assert not site.imported(delta)  # installed and enabled by default, but not this command's module


def test_a_module_the_configuration_cannot_serve_is_a_problem(site: FakeSite, tmp_path: Path) -> None:
    commands_plugin(site, "gizmo", versions=("v2",))
    config = write_config(tmp_path / "c.toml", 'serve = ["v1"]\n')

    result = host("gizmo", "hello", "bob", "-c", str(config))

    assert result.exit_code == 2
    assert "[module-not-served] no served global version (v1) has a version of module 'gizmo'" in result.stderr


def test_commands_of_a_module_that_is_not_installed(site: FakeSite) -> None:
    source = """
        import typer
        from trading_core import CommandContext, Module

        app = typer.Typer()

        @app.command()
        def show(ctx: typer.Context) -> None:
            CommandContext.of(ctx).module(Module)

        @app.command()
        def other() -> None: ...
        """
    package = site.package("lonely", {"__init__.py": source})
    add_commands(site, "trading-lonely", "1.0.0", {"lonely": f"{package}:app"})

    result = host("lonely", "show")

    assert result.exit_code == 2
    assert "[module-not-installed] module 'lonely'" in result.stderr


def test_a_factory_entry_point(site: FakeSite) -> None:
    commands_plugin(site, "gizmo", target="commands:make")

    result = host("gizmo", "hello", "bob")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("hello, bob\n")


def test_the_context_checks_the_module_class(site: FakeSite) -> None:
    from host_plugins import AlphaModule

    from trading_host._cli._module_commands import HostCommandContext

    commands_plugin(site, "gizmo")
    context = HostCommandContext("gizmo")

    with pytest.raises(TypeError, match="module 'gizmo' is a GizmoModule, not a AlphaModule"):
        context.module(AlphaModule)


# -- plugins that cannot give their commands


def test_a_plugin_whose_commands_fail_to_import_breaks_nothing_else(site: FakeSite) -> None:
    commands_plugin(site, "gizmo")
    package = site.package("broken", {"__init__.py": "import no_such_dependency\n"})
    add_commands(site, "trading-broken", "0.3.0", {"broken": f"{package}:app"})

    broken = host("broken", "anything")
    listing = host("--help")
    other = host("gizmo", "hello", "bob")
    modules = host("modules")

    assert broken.exit_code == 2
    assert (
        f"error: [commands-import-failed] entry point 'broken' = '{package}:app' of trading-broken 0.3.0 "
        f"(group {COMMANDS_ENTRY_POINT_GROUP}) failed to import: ModuleNotFoundError: "
        "No module named 'no_such_dependency'"
    ) in broken.stderr
    assert "fix: reinstall or upgrade trading-broken" in broken.stderr
    assert "Traceback" not in broken.output
    assert listing.exit_code == 0
    assert "broken" in listing.stdout
    assert other.exit_code == 0
    assert modules.exit_code == 0


def test_an_entry_point_that_is_not_a_typer_app(site: FakeSite) -> None:
    package = site.package("odd", {"__init__.py": "app = 42\n"})
    add_commands(site, "trading-odd", "1.0.0", {"odd": f"{package}:app"})

    result = host("odd", "x")

    assert result.exit_code == 2
    assert "[commands-invalid]" in result.stderr
    assert "is 42, not a typer.Typer app" in result.stderr


def test_a_command_may_not_take_the_hosts_config_option(site: FakeSite) -> None:
    source = """
        import typer
        app = typer.Typer()

        @app.command()
        def one(config: str = typer.Option("x", "--config")) -> None: ...

        @app.command()
        def two() -> None: ...
        """
    package = site.package("greedy", {"__init__.py": source})
    add_commands(site, "trading-greedy", "1.0.0", {"greedy": f"{package}:app"})

    result = host("greedy", "two")

    assert result.exit_code == 2
    assert "[commands-option-taken] `trading-host greedy one`" in result.stderr
    assert "declares --config" in result.stderr


def test_two_distributions_registering_one_modules_commands(site: FakeSite) -> None:
    package = commands_plugin(site, "gizmo")
    add_commands(site, "gizmo-fork", "0.1.0", {"gizmo": f"{package}.commands:app"})

    result = host("gizmo", "plain")

    assert result.exit_code == 2
    assert "[commands-duplicate] the commands of module 'gizmo' are registered by 2 distributions" in result.stderr


def test_the_built_in_commands_win_over_a_module_of_the_same_name(site: FakeSite) -> None:
    package = site.package("clash", {"__init__.py": "import typer\napp = typer.Typer()\n"})
    add_commands(site, "trading-clash", "1.0.0", {"serve": f"{package}:app"})

    listing = host("--help")

    assert listing.exit_code == 0
    assert "The serve module's commands" not in listing.stdout
    assert not site.imported(package)


def test_context_of_outside_the_host() -> None:
    class NoContext:
        def find_object(self, object_type: type) -> None:
            return None

    with pytest.raises(RuntimeError, match="trading-host <module>"):
        CommandContext.of(NoContext())


def test_a_plugins_alias_runs_the_host(site: FakeSite, capsys: pytest.CaptureFixture[str]) -> None:
    from trading_core import run_host_command

    commands_plugin(site, "gizmo")
    argv = list(sys.argv)

    with pytest.raises(SystemExit) as exited:
        run_host_command("gizmo", ["hello", "ann"])

    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("hello, ann\n")
    assert sys.argv == argv
