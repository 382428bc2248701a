"""``trading-host new-module NAME``: writes a plugin package with the platform's skeleton from the
template shipped in this wheel (``template/``), then generates its committed documents.

Why a template in the wheel and not copier (or cookiecutter): the skeleton follows the contract of
the trading-core this host works with, so it is versioned and released with the host, and
``new-module`` works offline with nothing more installed. The template needs nothing beyond
:class:`string.Template` (``${name}`` placeholders, ``$$`` for a dollar sign); copier's strengths,
questions and updating a project from a newer template, would bring jinja2 and a dozen other
dependencies into every deployment of the host for a command run once per plugin.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from dataclasses import dataclass
from importlib import metadata, resources
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

from .._contracts._committed import SPECS_FOLDER, compare, generate, write
from .._plan._discovery import Installed

TEMPLATE_SUFFIX = ".tmpl"
PACKAGE_PLACEHOLDER = "__package__"
"""A path segment of the template replaced by the plugin's import package (``trading_quotes``)."""
MODULE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
"""What trading-core accepts as a module's name (the URL segment)."""


class ScaffoldError(Exception):
    """The plugin cannot be written; the message says why and what to do."""


@dataclass(frozen=True)
class Names:
    """Every name the template uses, derived from the module's name."""

    module: str
    distribution: str
    package: str
    Class: str  # the template's placeholder ${Class}: the CamelCase name of the classes
    core_range: str
    host_range: str

    @classmethod
    def of(cls, module: str) -> Names:
        if not MODULE_NAME.fullmatch(module):
            raise ScaffoldError(
                f"{module!r} cannot name a module: a module's name is its URL segment, lower-case letters, "
                "digits and '_', starting with a letter; e.g. `trading-host new-module quotes`"
            )
        return cls(
            module=module,
            distribution="trading-" + module.replace("_", "-"),
            package=f"trading_{module}",
            Class="".join(part.capitalize() for part in module.split("_") if part),
            core_range=_major_range("trading-core"),
            host_range=_major_range("trading-host"),
        )


def _major_range(distribution: str) -> str:
    """``>=1.2,<2`` for the installed 1.2.x: a range of the major version, never a pin."""
    release = metadata.version(distribution)
    major, minor = (int(part) for part in re.findall(r"\d+", release)[:2])
    return f">={major}.{minor},<{major + 1}"


def _files(folder: Traversable, relative: Path = Path()) -> list[tuple[Path, Traversable]]:
    found = []
    for item in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if item.is_dir():
            found.extend(_files(item, relative / item.name))
        elif item.name.endswith(TEMPLATE_SUFFIX):
            found.append((relative / item.name, item))
    return found


def render(names: Names, target: Path) -> list[Path]:
    """Write the template into ``target`` with ``names``; returns the files written."""
    template = resources.files(__package__).joinpath("template")
    values = vars(names)
    written = []
    for relative, source in _files(template):
        parts = [names.package if part == PACKAGE_PLACEHOLDER else part for part in relative.parts]
        path = target.joinpath(*parts)
        path = path.with_name(path.name.removesuffix(TEMPLATE_SUFFIX))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(source.read_text(encoding="utf-8")).substitute(values), encoding="utf-8")
        written.append(path)
    return written


def _documents(names: Names, target: Path) -> list[Path]:
    """The committed documents of the new plugin's v1, generated from its code as
    ``trading-host specs`` would once it is installed."""
    src = str(target / "src")
    sys.path.insert(0, src)
    importlib.invalidate_caches()
    try:
        api = getattr(importlib.import_module(f"{names.package}.api.v1"), f"{names.Class}Api")
        folder = target / "src" / names.package / SPECS_FOLDER
        installed = Installed.from_apis([api], distribution=names.distribution)
        generated = generate(out=folder, modules=[names.module], installed=installed)
        write(compare(generated), generated)
        return [spec.path for spec in generated.files]
    finally:
        sys.path.remove(src)
        for loaded in [m for m in sys.modules if m == names.package or m.startswith(f"{names.package}.")]:
            del sys.modules[loaded]


def new_module(module: str, output: Path) -> tuple[Path, list[Path]]:
    """Write the plugin of ``module`` into ``output/trading-<module>``; returns the folder and its files."""
    names = Names.of(module)
    target = output / names.distribution
    if target.exists() and any(target.iterdir()):
        raise ScaffoldError(f"{target} exists and is not empty; choose another --output folder, or remove it")
    try:
        installed = metadata.distribution(names.distribution)
    except metadata.PackageNotFoundError:
        installed = None
    if installed is not None or names.package in sys.modules:
        raise ScaffoldError(
            f"a distribution {names.distribution} is installed here already; choose another module name"
        )
    # The documents are validated as `trading-host specs` validates them: check before writing anything.
    lacking = [name for name in ("openapi_spec_validator", "jsonschema") if importlib.util.find_spec(name) is None]
    if lacking:
        raise ScaffoldError(
            f"new-module writes the plugin's validated documents, which needs {', '.join(lacking)}: "
            "pip install 'trading-host[contracts]'"
        )
    written = render(names, target)
    return target, written + _documents(names, target)
