"""The committed contract documents: OpenAPI for every installed (module, version) and every global
version of the matrix, AsyncAPI for every module version with streams; written, checked against
the code, and guarded against breaking changes.

Where they go: a module version's documents into its own import package
(``trading_broker/specs_generated/broker.v1.openapi.json``), so they ship in its wheel and match
the release installed; the global versions' documents into the host's package
(``trading_host/specs_generated/global-v1.openapi.json``), next to the shipped default matrix they
compose. ``out`` puts every file into one folder instead, with the same names.

Every committed OpenAPI document is a released baseline: rewriting it with a breaking change (by
the rules of :mod:`trading_host._contracts._diff`), or removing it, is refused unless its key is allowed
explicitly.

A plugin's source tree (``source_tree()``: a folder whose ``pyproject.toml`` declares entry points in
``trading_api.modules``) puts its modules' documents into its own ``src/<package>/specs_generated/``,
whether the plugin is installed editable or from a wheel: a run for a plugin reads and writes its
checkout, never an installed copy in site-packages.
"""

from __future__ import annotations

import json
import os
import site
import sys
import sysconfig
import tomllib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from trading_core import ENTRY_POINT_GROUP, ModuleApi

from .._documents._asyncapi import module_asyncapi
from .._documents._openapi import Part, merge_openapi, module_openapi
from .._plan._config import load_config
from .._plan._discovery import Installed, discover
from .._problems import ConfigError, Problem
from .._serve._factory import AppFactory
from ._diff import BREAKING, Change, diff_openapi
from ._validation import asyncapi_errors, openapi_errors

SPECS_FOLDER = "specs_generated"
"""The folder, inside an import package, that holds its generated documents."""
GLOBAL_PREFIX = "global-"
"""The name prefix of a global version's document; no module name can start with it (no '-')."""
TITLE = "Trading API"
"""The title of a global version's document, as :meth:`AppFactory.create_app` serves it."""

Kind = Literal["openapi", "asyncapi"]
State = Literal["changed", "missing", "stale"]
_SUFFIXES: dict[str, Kind] = {".openapi.json": "openapi", ".asyncapi.json": "asyncapi"}
# Variables that choose what one deployment serves; the documents cover every version.
_SERVING_VARIABLES = ("GLOBAL_VERSION", "ENABLED_MODULES", "MODULE_VERSION")


def render(document: Mapping[str, Any]) -> str:
    """The committed text of a document: sorted keys, two-space indents, a final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def module_file(module: str, version: str, kind: Kind) -> str:
    return f"{module}.{version}.{kind}.json"


def global_file(global_version: str) -> str:
    return f"{GLOBAL_PREFIX}{global_version}.openapi.json"


def _key_and_kind(name: str) -> tuple[str, Kind] | None:
    """``broker.v1.openapi.json`` -> ``("broker.v1", "openapi")``; ``None`` for other names."""
    for suffix, kind in _SUFFIXES.items():
        if name.endswith(suffix):
            return name[: -len(suffix)], kind
    return None


@dataclass(frozen=True)
class SpecFile:
    """One generated document and where it belongs. ``key`` names it: ``broker.v1`` or ``global-v1``."""

    path: Path
    key: str
    kind: Kind
    document: dict[str, Any] = field(compare=False, repr=False)

    @property
    def text(self) -> str:
        return render(self.document)

    @property
    def guarded(self) -> bool:
        """OpenAPI documents are released baselines; the AsyncAPI ones are not diffed (no rules yet)."""
        return self.kind == "openapi"


@dataclass(frozen=True)
class Owned:
    """A folder and the name prefix of the files this run is responsible for in it (stale ones too)."""

    folder: Path
    prefix: str


@dataclass
class SpecSet:
    """Every document one run generates, and the files it owns."""

    files: list[SpecFile] = field(default_factory=list)
    owned: set[Owned] = field(default_factory=set)


@dataclass(frozen=True)
class Difference:
    """A file that does not hold what the code generates: ``changed``, ``missing`` (not written
    yet) or ``stale`` (no longer generated). ``breaking`` lists what a guarded document breaks."""

    path: Path
    key: str
    kind: Kind
    state: State
    breaking: tuple[Change, ...] = ()
    changes: tuple[Change, ...] = ()


class SpecsError(Exception):
    """The documents cannot be generated; the message says why and what to do."""


def _environment(environ: Mapping[str, str] | None) -> dict[str, str]:
    env = dict(os.environ if environ is None else environ)
    for name in _SERVING_VARIABLES:
        env.pop(name, None)
    return env


def _installed_paths() -> list[Path]:
    paths = {sysconfig.get_paths()[name] for name in ("purelib", "platlib")}
    paths.update(site.getsitepackages() if hasattr(site, "getsitepackages") else [])
    paths.add(site.getusersitepackages())
    return [Path(p).resolve() for p in paths]


def package_folder(module_name: str) -> Path:
    """The folder of the top-level import package of ``module_name`` (imported already)."""
    top = module_name.partition(".")[0]
    module = sys.modules.get(top)
    location = getattr(module, "__file__", None)
    if location is None:
        raise SpecsError(f"cannot tell where the package {top} lives (it has no __file__); pass --out DIR")
    return Path(location).resolve().parent


def is_installed_copy(folder: Path) -> bool:
    """Whether ``folder`` is inside site-packages (a wheel's copy), not a source checkout."""
    resolved = folder.resolve()
    return any(resolved.is_relative_to(path) for path in _installed_paths())


@dataclass(frozen=True)
class SourceTree:
    """A plugin's source checkout: its modules (from its entry points) and the folder of each of
    its import packages, where the documents of the modules it provides belong."""

    root: Path
    modules: tuple[str, ...]
    packages: Mapping[str, Path]


def source_tree(root: Path) -> SourceTree | None:
    """The plugin whose ``pyproject.toml`` is in ``root``, or ``None`` when that file declares no
    module (no ``trading_api.modules`` entry point: not a plugin's checkout)."""
    project_file = root / "pyproject.toml"
    if not project_file.is_file():
        return None
    try:
        project = tomllib.loads(project_file.read_text(encoding="utf-8")).get("project", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecsError(f"{project_file} cannot be read: {exc}") from exc
    entry_points = project.get("entry-points", {}).get(ENTRY_POINT_GROUP, {})
    if not entry_points:
        return None
    modules = tuple(dict.fromkeys(key.partition(".")[0] for key in entry_points))
    packages: dict[str, Path] = {}
    for target in entry_points.values():
        top = str(target).partition(":")[0].partition(".")[0]
        for folder in (root / "src" / top, root / top):
            if (folder / "__init__.py").is_file():
                packages[top] = folder.resolve()
                break
        else:
            raise SpecsError(
                f"{project_file} names the package {top}, which is neither {root / 'src' / top} nor {root / top}"
            )
    return SourceTree(root.resolve(), modules, packages)


def _validate(spec: SpecFile) -> list[str]:
    errors = openapi_errors(spec.document) if spec.kind == "openapi" else asyncapi_errors(spec.document)
    return [f"{spec.key} {spec.kind}: {error}" for error in errors]


def generate(
    *,
    out: Path | None = None,
    config: str | Path | None = None,
    modules: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    installed: Installed | None = None,
    source: SourceTree | None = None,
) -> SpecSet:
    """Generate and validate every document: each installed version of ``modules`` (default: every
    installed module), and, when ``modules`` is not given, each global version of the configured
    matrix, composed of the modules its row names. Raises :class:`ConfigError` when the
    configuration cannot be served and :class:`SpecsError` when a document is invalid. With a plugin's
    ``source``, the documents of its packages go into its checkout, wherever the plugin is installed."""
    env = _environment(environ)
    factory = AppFactory(config, environ=env, installed=installed if installed is not None else discover())
    available = factory.installed.modules()
    wanted = list(available) if modules is None else list(dict.fromkeys(modules))
    unknown = [m for m in wanted if m not in available]
    if unknown:
        names = ", ".join(available) or "none"
        raise SpecsError(f"module {', '.join(unknown)} is not installed (installed: {names})")

    result = SpecSet()
    apis: dict[tuple[str, str], ModuleApi] = {}
    for module in wanted:
        for version in available[module]:
            api = apis[(module, version)] = module_api(factory, module, version)
            folder = out if out is not None else _folder_of(type(api).__module__, source) / SPECS_FOLDER
            result.owned.add(Owned(folder, f"{module}."))
            key = f"{module}.{version}"
            result.files.append(
                SpecFile(folder / module_file(module, version, "openapi"), key, "openapi", module_openapi(api))
            )
            streams = module_asyncapi(api)
            if streams is not None:
                result.files.append(
                    SpecFile(folder / module_file(module, version, "asyncapi"), key, "asyncapi", streams)
                )
    if modules is None:
        folder = out if out is not None else package_folder(__name__) / SPECS_FOLDER
        result.owned.add(Owned(folder, GLOBAL_PREFIX))
        for global_version, document in _global_documents(factory, config, env, apis):
            result.files.append(
                SpecFile(folder / global_file(global_version), f"{GLOBAL_PREFIX}{global_version}", "openapi", document)
            )
    errors = [error for spec in result.files for error in _validate(spec)]
    if errors:
        raise SpecsError("invalid documents generated:\n" + "\n".join(f"  {e}" for e in errors))
    return result


def _folder_of(module_name: str, source: SourceTree | None) -> Path:
    """The package folder of ``module_name``: in the plugin's checkout when ``source`` holds it."""
    top = module_name.partition(".")[0]
    if source is not None and top in source.packages:
        return source.packages[top]
    return package_folder(module_name)


def module_api(factory: AppFactory, module: str, version: str) -> ModuleApi:
    """The API object of the installed ``version`` of ``module``, built by ``factory``'s runtime with
    the module's configured settings, as a server would build it. Raises :class:`ConfigError`
    when it cannot be served."""
    plan = factory.plan(enabled_module_names=[module], module_version=version)
    plan.raise_for_problems()
    return factory.module_api(plan, (module, version))


def _global_documents(
    factory: AppFactory,
    config: str | Path | None,
    env: Mapping[str, str],
    apis: dict[tuple[str, str], ModuleApi],
) -> Iterable[tuple[str, dict[str, Any]]]:
    """Each matrix row's document, as ``/api/{global}/openapi.json`` serves it (without the
    lifecycle marks a deployment adds from its dates). A row covers the modules it names (and
    core): a module it leaves out is filled in at serve time from whatever is installed, so it is
    no part of the global version's contract."""
    loaded = load_config(config, environ=env)
    if loaded.problems:
        raise ConfigError(loaded.problems)
    available = factory.installed.modules()
    for global_version, named in loaded.config.matrix.items():
        where = loaded.source(f"matrix.{global_version}")
        missing = [
            Problem(
                "module-not-installed",
                f"global version {global_version} of the matrix in {where} names module "
                f"'{module}', which is not installed, so its document cannot be made",
                f"install the distribution of '{module}', or write the module documents only (--module NAME)",
            )
            for module in named
            if module not in available
        ]
        if missing:
            raise ConfigError(missing)
        plan = factory.plan(enabled_module_names=list(named), global_version=global_version)
        plan.raise_for_problems()
        base = f"{plan.api_prefix}/{global_version}"
        parts = []
        for module, version in plan.rows[global_version].items():
            api = apis.get((module, version))
            if api is None:
                api = apis[(module, version)] = module_api(factory, module, version)
            parts.append(Part(module, f"{base}/{module}", module_openapi(api)))
        row = plan.rows[global_version]
        description = ", ".join(f"{m} {v}" for m, v in row.items())
        yield global_version, merge_openapi(parts, title=TITLE, version=global_version, description=description)


def _judge(key: str, committed: str, new: dict[str, Any] | None) -> tuple[tuple[Change, ...], tuple[Change, ...]]:
    """The breaking changes and all changes from a committed document to the generated one
    (``None``: no longer generated, which a client sees as every operation removed)."""
    try:
        old = json.loads(committed)
        if new is None:
            new = {"openapi": old.get("openapi", "3.1.0"), "info": old.get("info", {}), "paths": {}}
        changes = diff_openapi(old, new)
    except (ValueError, AttributeError) as exc:  # not JSON, not a mapping, or a DocumentError
        raise SpecsError(
            f"{key}: the committed document cannot be compared: {exc}; restore it from version control"
        ) from exc
    return tuple(c for c in changes if c.level == BREAKING), tuple(changes)


def compare(specs: SpecSet) -> list[Difference]:
    """Every owned file that does not hold what the code generates, with the breaking changes of
    each guarded one."""
    differences = []
    produced = {spec.path for spec in specs.files}
    for spec in specs.files:
        if not spec.path.is_file():
            differences.append(Difference(spec.path, spec.key, spec.kind, "missing"))
            continue
        committed = spec.path.read_text(encoding="utf-8")
        if committed == spec.text:
            continue
        breaking, changes = _judge(spec.key, committed, spec.document) if spec.guarded else ((), ())
        differences.append(Difference(spec.path, spec.key, spec.kind, "changed", breaking, changes))
    for owned in sorted(specs.owned, key=lambda o: (str(o.folder), o.prefix)):
        if not owned.folder.is_dir():
            continue
        for path in sorted(owned.folder.iterdir()):
            parsed = _key_and_kind(path.name)
            if path in produced or parsed is None or not path.name.startswith(owned.prefix):
                continue
            key, kind = parsed
            judged = _judge(key, path.read_text(encoding="utf-8"), None) if kind == "openapi" else ((), ())
            differences.append(Difference(path, key, kind, "stale", *judged))
    return differences


def write(differences: Sequence[Difference], specs: SpecSet, allow_breaking: Collection[str] = ()) -> list[Difference]:
    """Bring the files in line with the code: write the changed and missing ones, remove the stale
    ones; but leave alone a guarded document whose change breaks it, unless its key is in
    ``allow_breaking``. Returns the differences left alone."""
    by_path = {spec.path: spec for spec in specs.files}
    refused = []
    for difference in differences:
        if difference.breaking and difference.key not in allow_breaking:
            refused.append(difference)
            continue
        if difference.state == "stale":
            difference.path.unlink()
            continue
        spec = by_path[difference.path]
        spec.path.parent.mkdir(parents=True, exist_ok=True)
        spec.path.write_text(spec.text, encoding="utf-8")
    return refused


def installed_folders(specs: SpecSet) -> list[Path]:
    """The folders of ``specs`` that are copies installed from a wheel (not to be written)."""
    return sorted({owned.folder for owned in specs.owned if is_installed_copy(owned.folder)})
