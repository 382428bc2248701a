"""What is installed: (module, version) providers read from package metadata, nothing imported."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from trading_core import ENTRY_POINT_GROUP, ModuleApi, parse_version

CORE_DISTRIBUTION = "trading-core"


@dataclass(frozen=True)
class Provider:
    """One installed ``<module>.v<N>`` entry point and the distribution that registers it."""

    module: str
    version: str
    distribution: str
    distribution_version: str
    target: str
    """The entry point's value, ``package.module:Attribute``."""
    core_requirement: str | None = None
    """The distribution's requirement on trading-core (``>=1.0,<2``), if it states one."""
    load: Callable[[], object] = field(default=lambda: None, compare=False, repr=False)

    @property
    def key(self) -> str:
        return f"{self.module}.{self.version}"

    @property
    def major(self) -> int:
        return parse_version(self.version)


@dataclass(frozen=True)
class BadEntryPoint:
    """An entry point in our group whose name is not ``<module>.v<N>``."""

    name: str
    distribution: str
    target: str


@dataclass
class Installed:
    """Every provider found, grouped by ``module.vN``; more than one provider for a key is a conflict."""

    providers: dict[str, list[Provider]] = field(default_factory=dict)
    bad: list[BadEntryPoint] = field(default_factory=list)
    core_version: str | None = None

    def modules(self) -> dict[str, list[str]]:
        """Installed module name -> its versions, oldest first."""
        versions: dict[str, set[str]] = defaultdict(set)
        for providers in self.providers.values():
            for p in providers:
                versions[p.module].add(p.version)
        return {m: sorted(vs, key=parse_version) for m, vs in sorted(versions.items())}

    def distributions(self, module: str) -> list[tuple[str, str]]:
        """The (distribution, version) pairs that provide any version of ``module``."""
        found = {
            (p.distribution, p.distribution_version)
            for providers in self.providers.values()
            for p in providers
            if p.module == module
        }
        return sorted(found)

    @classmethod
    def from_apis(cls, apis: Iterable[type[ModuleApi]], distribution: str = "(local)") -> Installed:
        """Providers for API classes given directly, with no installed package: for tests and embedding."""
        installed = cls()
        for api in apis:
            provider = Provider(
                module=api.module.name,
                version=api.version,
                distribution=distribution,
                distribution_version="0",
                target=f"{api.__module__}:{api.__qualname__}",
                load=lambda api=api: api,  # type: ignore[misc]
            )
            installed.providers.setdefault(provider.key, []).append(provider)
        return installed


def _core_requirement(dist: metadata.Distribution) -> str | None:
    for line in dist.requires or ():
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        applies = req.marker is None or req.marker.evaluate({"extra": ""})
        if canonicalize_name(req.name) == CORE_DISTRIBUTION and applies:
            return str(req.specifier)
    return None


def discover() -> Installed:
    """Read the ``trading_api.modules`` entry points of every installed distribution."""
    installed = Installed()
    try:
        installed.core_version = metadata.version(CORE_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        installed.core_version = None
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist
        dist_name = dist.metadata["Name"] if dist is not None else "(unknown distribution)"
        dist_version = dist.version if dist is not None else "?"
        module, _, version = ep.name.partition(".")
        try:
            parse_version(version)
            valid = bool(module)
        except ValueError:
            valid = False
        if not valid:
            installed.bad.append(BadEntryPoint(ep.name, dist_name, ep.value))
            continue
        provider = Provider(
            module=module,
            version=version,
            distribution=dist_name,
            distribution_version=dist_version,
            target=ep.value,
            core_requirement=_core_requirement(dist) if dist is not None else None,
            load=ep.load,
        )
        installed.providers.setdefault(provider.key, []).append(provider)
    return installed
