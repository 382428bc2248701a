"""The ``config`` command of ``trading-host``: the effective configuration, every key with the
layer it came from (the shipped default, a file, an environment variable, an option). Registered
in :mod:`trading_host.cli`."""

from __future__ import annotations

import json
import re
from typing import Any

import typer

from .._plan._config import LoadedConfig
from .._plan._matrix import Plan
from .._serve._factory import AppFactory
from ._options import (
    ConfigOption,
    EnableOption,
    GlobalOption,
    JsonOption,
    ModuleVersionOption,
    environ_with,
    load_options,
    plan_options,
    print_problems,
)

BUILT_IN = "the built-in default"
MODULE_DEFAULT = "the module's default"
# A database URL's password, which the configuration may hold: the output is for reading, maybe
# pasted in a ticket, so it shows the user and host but never the password.
_PASSWORD = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):[^@/\s]+@")


def _hide_passwords(value: Any) -> Any:
    if isinstance(value, str):
        return _PASSWORD.sub(r"\g<scheme>:***@", value)
    if isinstance(value, list):
        return [_hide_passwords(v) for v in value]
    if isinstance(value, dict):
        return {k: _hide_passwords(v) for k, v in value.items()}
    return value


def _leaves(value: Any, key: str = "") -> list[tuple[str, Any]]:
    """Dotted key and value of every setting; a list, an empty table and a module's table of a
    module that is not served are single values."""
    if isinstance(value, dict) and value:
        found = []
        for name, inner in value.items():
            found += _leaves(inner, f"{key}.{name}" if key else str(name))
        return found
    return [(key, value)]


def effective(loaded: LoadedConfig, plan: Plan) -> dict[str, Any]:
    """The configuration ``plan`` was resolved from, with each served module's settings as the
    module validated them (its defaults included), and the source of every key."""
    config = loaded.config.model_dump(mode="json")
    for module, settings in plan.module_settings.items():
        config["modules"][module] = settings.model_dump(mode="json")
    config = _hide_passwords(config)
    sources = {}
    for key, _ in _leaves(config):
        parts = key.split(".")
        if parts[0] == "modules":
            # The modules' tables merge key by key: a key's own source, or the module's default.
            sources[key] = loaded.where(key) if key in loaded.sources else MODULE_DEFAULT
        elif any(".".join(parts[:end]) in loaded.sources for end in range(1, len(parts) + 1)):
            sources[key] = loaded.where(key)
        else:
            sources[key] = BUILT_IN
    return {"config": config, "sources": sources}


def config(
    config: ConfigOption = None,
    global_version: GlobalOption = None,
    enable: EnableOption = None,
    module_version: ModuleVersionOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show the effective configuration: every key, its value and where it came from. Exit 2, showing
    nothing resolved, if the configuration cannot be read."""
    env = environ_with(config, global_version, enable, module_version)
    loaded = load_options(config, global_version, enable, module_version, environ=env)
    plan = plan_options(AppFactory(environ=env), loaded)
    if plan.config_failed:
        if json_output:
            typer.echo(json.dumps({"config": None, "sources": {}, "problems": [p.to_json() for p in plan.problems]}))
        print_problems(plan.problems)
        raise typer.Exit(2)
    result = effective(loaded, plan)
    if json_output:
        typer.echo(json.dumps({**result, "problems": [p.to_json() for p in plan.problems]}, indent=2))
    else:
        lines = [(f"{key} = {json.dumps(value)}", result["sources"][key]) for key, value in _leaves(result["config"])]
        width = max(len(line) for line, _ in lines)
        for line, source in lines:
            typer.echo(f"{line:<{width}}  # {source}")
        if plan.problems:
            print_problems(plan.problems)
    if plan.problems:
        raise typer.Exit(2)
