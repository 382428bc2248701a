"""Fake installed distributions, config files and factories for the host's tests."""

from __future__ import annotations

import importlib
import itertools
import sys
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

from trading_host import AppFactory, Installed

_unique = itertools.count()


def write_config(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def factory_for(
    installed: Installed | None, environ: Mapping[str, str] | None = None, config: Path | None = None
) -> AppFactory:
    """A factory that reads only ``environ`` (not ``os.environ``) and, if given, ``installed``."""
    return AppFactory(config, environ=dict(environ or {}), installed=installed)


class FakeSite:
    """A directory on ``sys.path`` holding ``*.dist-info`` metadata and plugin packages.

    ``importlib.metadata`` reads such a directory exactly as it reads site-packages, so the host
    discovers these distributions as if they had been installed.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.packages: list[str] = []

    def package(self, stem: str, files: Mapping[str, str]) -> str:
        """Write an importable package named ``<stem>_<n>`` (unique in the run); return its name."""
        name = f"{stem}_{next(_unique)}"
        self.write(name, files)
        self.packages.append(name)
        return name

    def write(self, package: str, files: Mapping[str, str]) -> None:
        for relative, text in files.items():
            path = self.root / package / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        importlib.invalidate_caches()

    def dist_info(self, name: str, version: str) -> Path:
        return self.root / f"{name.replace('-', '_')}-{version}.dist-info"

    def distribution(
        self,
        name: str,
        version: str,
        entry_points: Mapping[str, str],
        *,
        requires: Sequence[str] = ("trading-core>=1.0,<2",),
    ) -> Path:
        """Write ``<name>-<version>.dist-info`` registering ``entry_points`` in our group."""
        info = self.dist_info(name, version)
        info.mkdir(parents=True)
        metadata = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        metadata += [f"Requires-Dist: {r}" for r in requires]
        (info / "METADATA").write_text("\n".join(metadata) + "\n", encoding="utf-8")
        self.write_entry_points(name, version, entry_points)
        return info

    def write_entry_points(self, name: str, version: str, entry_points: Mapping[str, str]) -> None:
        lines = ["[trading_api.modules]", *(f"{k} = {v}" for k, v in entry_points.items())]
        (self.dist_info(name, version) / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        importlib.invalidate_caches()

    def imported(self, module: str) -> bool:
        """Whether ``module`` or any module below it has been imported."""
        return any(m == module or m.startswith(module + ".") for m in sys.modules)

    def forget(self) -> None:
        """Drop the fake packages from ``sys.modules`` so that no other test sees them."""
        for module in [m for m in sys.modules if any(m == p or m.startswith(p + ".") for p in self.packages)]:
            del sys.modules[module]
        importlib.invalidate_caches()


def plugin_package(module: str, versions: Sequence[str], *, cls: str | None = None) -> dict[str, str]:
    """Files of a plugin laid out like the seed: ``api/vN/__init__.py`` exports ``<Name>Api``."""
    cls = cls or module.title()
    files = {
        "__init__.py": f"""
            from trading_core import Module

            class {cls}Module(Module):
                name = "{module}"
            """,
        "api/__init__.py": "",
    }
    for version in versions:
        files[f"api/{version}/__init__.py"] = api_source(module, version, cls=cls)
    return files


def api_source(module: str, version: str, *, cls: str | None = None) -> str:
    """``api/<version>/__init__.py`` of a plugin: one route that says which version answered."""
    cls = cls or module.title()
    return f"""
        from trading_core import ModuleApi

        from ... import {cls}Module

        class {cls}Api(ModuleApi):
            module = {cls}Module
            version = "{version}"

            def __init__(self, module):
                super().__init__(module)

                @self.get("/version")
                async def get_version():
                    return {{"module": "{module}", "version": "{version}"}}
        """


def plugin_distribution(
    site: FakeSite,
    dist: str,
    dist_version: str,
    module: str,
    versions: Sequence[str],
    *,
    requires: Sequence[str] = ("trading-core>=1.0,<2",),
) -> str:
    """A plugin package and the distribution that registers its versions; returns the package name."""
    package = site.package(module, plugin_package(module, versions))
    entry_points = {f"{module}.{v}": f"{package}.api.{v}:{module.title()}Api" for v in versions}
    site.distribution(dist, dist_version, entry_points, requires=requires)
    return package
