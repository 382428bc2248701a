"""Checks on an installed distribution: its entry points, their API classes, its trading-core range."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import metadata

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import Specifier
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .._contract import _MODULE_NAME, ENTRY_POINT_GROUP, Module, ModuleApi, check_api_class, parse_version
from .._version import __version__ as _core_source_version

CORE_DISTRIBUTION = "trading-core"
_UPPER_BOUNDS = frozenset({"<", "<=", "~="})


def _entry_points(dist: metadata.Distribution) -> list[metadata.EntryPoint]:
    return sorted((ep for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def _split_name(name: str) -> tuple[str, str] | None:
    """``("news", "v1")`` for ``"news.v1"``; ``None`` when the name is not ``<module>.v<N>``."""
    module, dot, version = name.partition(".")
    if not dot or not _MODULE_NAME.match(module):
        return None
    try:
        parse_version(version)
    except ValueError:
        return None
    return module, version


def _installed_core_version() -> str:
    try:
        return metadata.version(CORE_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        # Imported from a source tree that pip never installed: the package's own version is the truth.
        return _core_source_version


def _is_upper_bound(spec: Specifier) -> bool:
    return spec.operator in _UPPER_BOUNDS or (spec.operator == "==" and spec.version.endswith(".*"))


def _is_exact_pin(spec: Specifier) -> bool:
    return spec.operator == "===" or (spec.operator == "==" and not spec.version.endswith(".*"))


def _core_requirement_problems(dist_name: str, requires: Iterable[str]) -> list[str]:
    """Whether the distribution states a trading-core range that contains the installed trading-core."""
    core_version = _installed_core_version()
    major = Version(core_version).major
    wanted = f"trading-core>={major}.0,<{major + 1}"
    requirements: list[Requirement] = []
    for line in requires:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        # A requirement behind an extra (``extra == "test"``) does not hold for a plain install.
        if canonicalize_name(req.name) == CORE_DISTRIBUTION and (req.marker is None or req.marker.evaluate()):
            requirements.append(req)
    if not requirements:
        return [
            f"{dist_name} states no requirement on trading-core: add '{wanted}' to [project] dependencies, "
            "so that pip and the host know which contract it was built for"
        ]
    problems = []
    for req in requirements:
        specs = list(req.specifier)
        if any(_is_exact_pin(s) for s in specs):
            problems.append(
                f"{dist_name} pins trading-core{req.specifier}: depend on a range such as '{wanted}', "
                "so that it installs next to other plugins"
            )
        elif not any(_is_upper_bound(s) for s in specs):
            problems.append(
                f"{dist_name} requires trading-core{req.specifier or ' (any version)'} with no upper bound: "
                f"use '{wanted}', because a new major version of trading-core may change the contract"
            )
        if not req.specifier.contains(core_version, prereleases=True):
            problems.append(
                f"{dist_name} requires trading-core{req.specifier}, but trading-core {core_version} is installed: "
                f"release {dist_name} for trading-core {core_version} ('{wanted}')"
            )
    return problems


def _load(ep: metadata.EntryPoint, label: str, problems: list[str]) -> object | None:
    try:
        loaded: object = ep.load()
    except Exception as exc:  # any import-time error is the plugin's fault and must be reported, not raised
        problems.append(f"{label} failed to import: {type(exc).__name__}: {exc}")
        return None
    return loaded


def _inspect(name: str) -> tuple[dict[str, type[ModuleApi]], list[str]]:
    """The API classes a distribution registers that honour the contract, and every problem found."""
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return {}, [f"distribution {name!r} is not installed: pip install it (or 'pip install -e .' in its folder)"]
    dist_name = dist.metadata["Name"] or name
    entry_points = _entry_points(dist)
    if not entry_points:
        return {}, [
            f"{dist_name} {dist.version} registers no entry point in the '{ENTRY_POINT_GROUP}' group: add "
            f'[project.entry-points."{ENTRY_POINT_GROUP}"] with a line like "mymodule.v1" = "mypackage.api.v1:MyApi" '
            "to its pyproject.toml and reinstall it"
        ]

    problems: list[str] = []
    apis: dict[str, type[ModuleApi]] = {}
    module_classes: dict[str, dict[type[Module], list[str]]] = {}
    majors: list[int] = []
    for ep in entry_points:
        label = f"entry point '{ep.name}' = '{ep.value}'"
        parts = _split_name(ep.name)
        if parts is None:
            problems.append(
                f"{label} is not named '<module>.v<N>' (a lower-case module name, a dot, 'v' and a major number, "
                "like 'news.v1'): rename it in pyproject.toml"
            )
            continue
        module, version = parts
        majors.append(parse_version(version))
        api = _load(ep, label, problems)
        if api is None:
            continue
        contract = check_api_class(api, module, version)
        problems.extend(f"{label}: {message}" for message in contract)
        if contract or not (isinstance(api, type) and issubclass(api, ModuleApi)):
            continue
        apis[ep.name] = api
        module_classes.setdefault(module, {}).setdefault(api.module, []).append(ep.name)

    for module, classes in sorted(module_classes.items()):
        if len(classes) > 1:
            named = "; ".join(
                f"{', '.join(keys)} -> {cls.__module__}.{cls.__qualname__}" for cls, keys in classes.items()
            )
            problems.append(
                f"the versions of module '{module}' name different Module classes ({named}): every version must "
                "set the same 'module' class, because the host builds one instance and shares it between versions"
            )

    try:
        dist_major: int | None = Version(dist.version).major
    except InvalidVersion:
        dist_major = None
        problems.append(f"{dist_name} has version {dist.version!r}, which is not a PEP 440 version")
    # The host tells users "pip install 'dist==N.*'" to get API vN, which holds only if the
    # distribution's major version is the newest API major it serves.
    if majors and dist_major is not None and max(majors) != dist_major:
        problems.append(
            f"{dist_name} {dist.version} serves API versions up to v{max(majors)}, but its major version is "
            f"{dist_major}: release it as {max(majors)}.x, since a release's major version names the newest API "
            "version it serves"
        )

    if canonicalize_name(dist_name) != CORE_DISTRIBUTION:
        problems.extend(_core_requirement_problems(dist_name, dist.requires or ()))
    return apis, problems


def check_distribution(name: str) -> list[str]:
    """Every way the installed distribution ``name`` breaks the plugin contract; empty when it conforms.

    Checks that its ``trading_api.modules`` entry points are named ``<module>.v<N>``, import, and
    point at :class:`~trading_core.ModuleApi` subclasses whose ``module.name`` and ``version``
    match the name; that all versions of a module share one :class:`~trading_core.Module` class;
    that its major version is the newest API version it serves; and that it requires a range of
    trading-core containing the installed one.
    """
    return _inspect(name)[1]


def load_apis(name: str) -> dict[str, type[ModuleApi]]:
    """The API classes of distribution ``name`` by entry-point name (``"news.v1"``), leaving out any
    entry point that :func:`check_distribution` reports as broken."""
    return _inspect(name)[0]
