"""Fixtures: a clean environment, modules built from objects, and fake installed distributions."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# The helper modules beside this file are imported by name, whatever pytest's import mode.
_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from host_fakes import FakeSite, write_config  # noqa: E402
from host_plugins import AlphaModule, AlphaV1, AlphaV2, BetaV1, CoreApi  # noqa: E402

from trading_host import Installed  # noqa: E402

_HOST_VARIABLES = ("GLOBAL_VERSION", "ENABLED_MODULES", "MODULE_VERSION", "TRADING_API_PREFIX", "TRADING_CONFIG")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No host variable from the developer's shell, an empty working directory (so no
    ./trading.toml), and fresh counters on the test modules. Returns the working directory."""
    for name in list(os.environ):
        if name in _HOST_VARIABLES or name.upper().startswith("TRADING_MODULES__"):
            monkeypatch.delenv(name)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    AlphaModule.reset()
    return work


@pytest.fixture
def installed() -> Installed:
    """core, alpha v1 and v2, beta v1, as if installed from one distribution."""
    return Installed.from_apis([CoreApi, AlphaV1, AlphaV2, BetaV1], distribution="trading-alpha")


@pytest.fixture
def config_file(tmp_path: Path) -> Callable[..., Path]:
    """Write a TOML file (dedented) under tmp_path and return its path."""

    def write(text: str, name: str = "config.toml") -> Path:
        return write_config(tmp_path / name, text)

    return write


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSite]:
    """A fake site-packages directory on sys.path for fake installed distributions."""
    root = tmp_path / "site-packages"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    fake = FakeSite(root)
    yield fake
    fake.forget()
