"""Fixtures: installed-looking distributions made on the fly, to feed the kit broken plugins."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

# A plugin that honours the contract; tests write variations of it.
GOOD_PLUGIN = """
from trading_core import Module, ModuleApi


class FakeModule(Module):
    name = "fake"


class FakeApi(ModuleApi):
    module = FakeModule
    version = "v1"

    def __init__(self, module: FakeModule) -> None:
        super().__init__(module)

        @self.get("/ping", operation_id="ping")
        async def ping() -> dict[str, str]:
            return {"ping": "pong"}
"""


class FakeDistributions:
    """Writes ``<name>-<version>.dist-info`` folders and plugin sources into a folder on ``sys.path``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.packages: list[str] = []

    def add(
        self,
        name: str,
        *,
        version: str = "1.0.0",
        entry_points: Mapping[str, str],
        requires: Sequence[str] = ("trading-core>=1.0,<2",),
        source: str = GOOD_PLUGIN,
    ) -> str:
        """Install a fake distribution; an entry point value without ':' names an attribute of its source."""
        package = f"{name.replace('-', '_')}_{len(self.packages)}_{self.root.name.replace('-', '_')}"
        self.packages.append(package)
        (self.root / f"{package}.py").write_text(textwrap.dedent(source))
        info = self.root / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        metadata = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        metadata += [f"Requires-Dist: {req}" for req in requires]
        (info / "METADATA").write_text("\n".join(metadata) + "\n")
        lines = [f"{key} = {value if ':' in value else f'{package}:{value}'}" for key, value in entry_points.items()]
        (info / "entry_points.txt").write_text("[trading_api.modules]\n" + "\n".join(lines) + "\n")
        return package


@pytest.fixture
def fake_dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDistributions]:
    monkeypatch.syspath_prepend(str(tmp_path))
    dists = FakeDistributions(tmp_path)
    yield dists
    for package in dists.packages:
        sys.modules.pop(package, None)
