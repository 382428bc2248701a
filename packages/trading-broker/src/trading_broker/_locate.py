"""Which database the ``trading-broker`` command works on: the one the server uses.

The server (trading-host) reads ``[modules.broker]`` from, strongest first, the environment
(``TRADING_MODULES__BROKER__DATABASE_URL``), the file named by ``--config`` or ``TRADING_CONFIG``
or ``./trading.toml``, then the default. The command follows the same order, with its own
``--database-url`` above all, reading the file itself: a module never imports the host.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ._database import DEFAULT_DATABASE_URL, normalize_url

ENV_NAME = "TRADING_MODULES__BROKER__DATABASE_URL"
CONFIG_ENV = "TRADING_CONFIG"
LOCAL_CONFIG = Path("trading.toml")


class LocateError(Exception):
    """The configuration names no usable database; the message says where and how to fix it."""


@dataclass(frozen=True)
class Located:
    """A database URL and where it came from."""

    url: str
    source: str


def _from_file(path: Path, label: str) -> Located | None:
    try:
        with path.open("rb") as f:
            document = tomllib.load(f)
    except FileNotFoundError as exc:
        raise LocateError(f"{label} {path} does not exist: create it, or name an existing file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise LocateError(f"{path} is not valid TOML: {exc}") from exc
    table = document.get("modules", {}).get("broker", {})
    if not isinstance(table, dict) or "database_url" not in table:
        return None
    url = table["database_url"]
    if not isinstance(url, str):
        raise LocateError(f"[modules.broker] database_url in {path} must be a string, got {url!r}")
    return Located(url, f"[modules.broker] database_url in {path}")


def locate(
    database_url: str | None = None,
    config: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Located:
    """The database URL the command uses, checked; :class:`LocateError` naming the fix otherwise."""
    environ = os.environ if environ is None else environ
    found: Located | None = None
    if database_url is not None:
        found = Located(database_url, "--database-url")
    else:
        # The host matches these names case-insensitively; so do we.
        from_env = {k.upper(): v for k, v in environ.items()}.get(ENV_NAME)
        if from_env is not None:
            found = Located(from_env, f"${ENV_NAME}")
        elif config is not None:
            found = _from_file(config, "--config")
        elif environ.get(CONFIG_ENV):
            found = _from_file(Path(environ[CONFIG_ENV]), f"${CONFIG_ENV}")
        elif LOCAL_CONFIG.is_file():
            found = _from_file(LOCAL_CONFIG, "./trading.toml")
    if found is None:
        found = Located(DEFAULT_DATABASE_URL, "the default")
    try:
        normalize_url(found.url)
    except ValueError as exc:
        raise LocateError(f"{found.source}: {exc}") from exc
    return found
