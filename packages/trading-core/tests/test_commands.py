"""The commands contract: the entry-point group, the context a command is given, and the alias runner."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

import trading_core
from trading_core import (
    COMMANDS_ENTRY_POINT_GROUP,
    HOST_COMMAND,
    CommandContext,
    Module,
    run_host_command,
)


class Thing(Module):
    name = "thing"


class FakeContext(CommandContext):
    module_name = "thing"

    def __init__(self) -> None:
        self.instance = Thing()

    def module(self, cls: Any) -> Any:
        return self.instance

    def setting_source(self, key: str) -> str | None:
        return None


class ClickLike:
    """What a click context offers to ``CommandContext.of``: ``find_object`` up the parents."""

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def find_object(self, object_type: type[Any]) -> Any:
        return self.obj if isinstance(self.obj, object_type) else None


def test_the_group_and_the_host_command_are_public() -> None:
    assert COMMANDS_ENTRY_POINT_GROUP == "trading_api.commands"
    assert HOST_COMMAND == "trading-host"
    assert {"COMMANDS_ENTRY_POINT_GROUP", "CommandContext", "run_host_command"} <= set(trading_core.__all__)


def test_a_command_finds_the_context_the_host_gave_it() -> None:
    given = FakeContext()
    assert CommandContext.of(ClickLike(given)) is given
    assert isinstance(CommandContext.of(ClickLike(given)).module(Thing), Thing)


def test_outside_the_host_there_is_no_context() -> None:
    with pytest.raises(RuntimeError, match="runs inside the host: `trading-host <module>"):
        CommandContext.of(ClickLike(object()))


def test_the_contract_does_not_import_typer_or_click() -> None:
    code = "import sys, trading_core; print(sorted(m for m in ('typer', 'click') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_alias_without_the_host_prints_the_install_line(monkeypatch, capsys) -> None:
    monkeypatch.setattr("trading_core._commands.metadata.entry_points", lambda **_: [])
    monkeypatch.setattr(sys, "argv", ["/usr/bin/trading-thing", "list"])

    with pytest.raises(SystemExit) as exited:
        run_host_command("thing")

    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        "error: trading-thing runs `trading-host thing`, and trading-host is not installed: pip install trading-host\n"
    )


def test_the_alias_runs_the_hosts_console_script_with_the_module_first(monkeypatch) -> None:
    seen: list[list[str]] = []

    class EntryPoint:
        def load(self) -> Any:
            return lambda: seen.append(list(sys.argv))

    def entry_points(**selection: str) -> list[EntryPoint]:
        assert selection == {"group": "console_scripts", "name": "trading-host"}
        return [EntryPoint()]

    monkeypatch.setattr("trading_core._commands.metadata.entry_points", entry_points)
    monkeypatch.setattr(sys, "argv", ["trading-thing", "keys", "list", "--json"])

    run_host_command("thing")
    run_host_command("thing", ["db", "info"])

    assert seen == [["trading-host", "thing", "keys", "list", "--json"], ["trading-host", "thing", "db", "info"]]
    assert sys.argv == ["trading-thing", "keys", "list", "--json"]  # given back
