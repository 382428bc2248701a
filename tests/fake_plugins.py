"""Source of small plugin distributions that the tests install by hand (see conftest.write_distribution)."""

from __future__ import annotations

from pathlib import Path

from harness import FakeDistribution, write_distribution

MODULE = """
import os
from contextlib import asynccontextmanager

from trading_core import Module


class {cls}Module(Module):
    name = "{name}"

    @asynccontextmanager
    async def lifespan(self):
        self._log("start")
        yield
        self._log("stop")

    def _log(self, event):
        path = os.environ.get("LIFESPAN_LOG")
        if path:
            with open(path, "a") as f:
                f.write(f"{{event}} {name} {{os.getpid()}}\\n")
"""

API = """
from trading_core import ModuleApi

from ..._module import {cls}Module


class {cls}Api(ModuleApi):
    module = {cls}Module
    version = "{version}"

    def __init__(self, module):
        super().__init__(module)

        @self.get("/ping", operation_id="ping")
        async def ping() -> dict[str, str]:
            return {{"module": "{name}", "version": "{version}", "instance": str(id(module))}}
"""


def plugin(
    root: Path,
    name: str,
    versions: list[str],
    *,
    distribution: str | None = None,
    dist_version: str = "1.0.0",
    requires: list[str] | None = None,
    package: str | None = None,
) -> FakeDistribution:
    """A plugin ``name`` serving ``versions`` the seed's way: one ``api/vN/`` package per version,
    each exporting a class of the same name, one entry point line per version."""
    package = package or f"{name}_plugin"
    cls = name.title().replace("_", "")
    files = {
        f"{package}/__init__.py": "",
        f"{package}/_module.py": MODULE.format(cls=cls, name=name),
        f"{package}/api/__init__.py": "",
    }
    for version in versions:
        files[f"{package}/api/{version}/__init__.py"] = API.format(cls=cls, name=name, version=version)
    return write_distribution(
        root,
        distribution or f"{name}-plugin",
        dist_version,
        entry_points={f"{name}.{v}": f"{package}.api.{v}:{cls}Api" for v in versions},
        files=files,
        requires=requires,
    )
