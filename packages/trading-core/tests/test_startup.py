"""What a module says when it cannot start: ``ModuleStartupError`` and ``Module.check_connection``."""

from __future__ import annotations

import asyncio

import trading_core
from trading_core import Module, ModuleStartupError


class Quiet(Module):
    name = "quiet"


class Database(Module):
    name = "database"

    async def check_connection(self) -> list[ModuleStartupError]:
        return [ModuleStartupError("cannot reach PostgreSQL at 127.0.0.1:5999", "start it, or set database_url")]


def test_a_startup_error_carries_its_message_and_fix() -> None:
    error = ModuleStartupError("cannot reach PostgreSQL at 127.0.0.1:5999 (connection refused)", "start PostgreSQL")

    assert str(error) == error.message == "cannot reach PostgreSQL at 127.0.0.1:5999 (connection refused)"
    assert error.fix == "start PostgreSQL"
    assert ModuleStartupError("no fix").fix == ""
    assert "ModuleStartupError" in trading_core.__all__


def test_a_module_needs_no_connection_unless_it_says_so() -> None:
    assert asyncio.run(Quiet().check_connection()) == []
    (problem,) = asyncio.run(Database().check_connection())
    assert problem.message.endswith("127.0.0.1:5999")
