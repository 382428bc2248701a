"""Resolve the configuration against what is installed into a plan: every problem at once."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from pydantic import BaseModel, ValidationError

from trading_core import (
    ENTRY_POINT_GROUP,
    Lifecycle,
    Module,
    ModuleApi,
    MountedVersion,
    check_api_class,
    parse_version,
)

from .._caller import CallerKey
from .._collector import collector_paused
from .._problems import ConfigError, Problem, did_you_mean
from ._clock import Clock
from ._config import ARGS_SOURCE, DEFAULT_SOURCE, LoadedConfig, MetricsConfig, RolloutConfig, ServerConfig
from ._discovery import Installed, Provider
from ._lifecycle import check_guides, resolve_lifecycles

CORE = "core"
FIRST_PARTY = {"core": "trading-core", "broker": "trading-broker", "datafeed": "trading-datafeed"}
# Path segments the host itself serves under /api/{global}/, so no module may take them.
RESERVED_NAMES = frozenset({"docs", "redoc", "openapi.json"})
_GLOBAL_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class ResolvedVersion:
    """A (module, version) that will be served, with its provider and, once loaded, its API class."""

    module: str
    version: str
    provider: Provider
    api: type[ModuleApi] | None = None


@dataclass
class Plan:
    """What the host will serve: the resolved matrix, the versions it needs, and any problems."""

    api_prefix: str = "/api"
    serve: list[str] = field(default_factory=list)
    rows: dict[str, dict[str, str]] = field(default_factory=dict)
    """Global version -> module -> module version (monolith mode): the rows ``serve`` selects."""
    row_sources: dict[str, str] = field(default_factory=dict)
    """Every row of the configured matrix, served or not, -> where it came from (the shipped
    default, the user's file...): rows merge by name across layers (monolith mode)."""
    standalone: tuple[str, str] | None = None
    """(module, version) served alone under ``/{version}`` (standalone mode)."""
    versions: dict[tuple[str, str], ResolvedVersion] = field(default_factory=dict)
    module_settings: dict[str, BaseModel] = field(default_factory=dict)
    """Module -> its settings, validated once (here, by the module's ``Settings`` model) and given
    as they are to the module instance."""
    lifecycles: dict[tuple[str, str], Lifecycle] = field(default_factory=dict)
    """The lifecycle of every installed (module, version) the configuration deprecates."""
    after_sunset: str = "gone"
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    """Where ``trading-host serve`` binds by default."""
    rollout: RolloutConfig | None = None
    """The rollout alias, when one is configured (and valid)."""
    clock: Callable[[], float] = field(default_factory=Clock)
    problems: list[Problem] = field(default_factory=list)
    config_failed: bool = False
    """The configuration itself could not be read or validated (a missing file, bad TOML, an
    unknown key...): what is resolved comes from the rest, so it is not what the user asked for."""

    def raise_for_problems(self) -> None:
        if self.problems:
            raise ConfigError(self.problems)

    def module_class(self, module: str) -> type[Module]:
        for (name, _), resolved in self.versions.items():
            if name == module and resolved.api is not None:
                return resolved.api.module
        raise KeyError(module)

    def modules(self) -> list[str]:
        """Served module names, core first, each once."""
        names = dict.fromkeys(m for m, _ in self.versions)
        return sorted(names, key=lambda m: (m != CORE, m))

    def mounted(self) -> list[MountedVersion]:
        """Every served module version with the global versions it appears in and its lifecycle."""
        result = []
        for (module, version), resolved in sorted(self.versions.items(), key=lambda kv: (kv[0][0] != CORE, kv[0])):
            globals_ = tuple(g for g in self.serve if self.rows.get(g, {}).get(module) == version)
            lifecycle = self.lifecycles.get((module, version))
            result.append(
                MountedVersion(
                    module=module,
                    version=version,
                    distribution=resolved.provider.distribution,
                    distribution_version=resolved.provider.distribution_version,
                    global_versions=globals_,
                    status="stable" if lifecycle is None else "deprecated",
                    lifecycle=lifecycle,
                )
            )
        return result

    def docs_folders(self) -> dict[str, Traversable]:
        """The documents folder of every served module that ships one."""
        folders = {}
        for module in self.modules():
            try:
                folder = self.module_class(module).docs_folder()
            except KeyError:
                continue
            if folder is not None:
                folders[module] = folder
        return folders


def _install_hint(module: str) -> str:
    dist = FIRST_PARTY.get(module)
    if dist is not None:
        return f"pip install {dist}"
    return f"install the distribution that registers '{module}.v<N>' entry points in the '{ENTRY_POINT_GROUP}' group"


def _newest_not_after(versions: list[str], global_version: str) -> str | None:
    try:
        limit = parse_version(global_version)
    except ValueError:
        return versions[-1] if versions else None
    eligible = [v for v in versions if parse_version(v) <= limit]
    return eligible[-1] if eligible else None


class _Resolver:
    def __init__(
        self,
        loaded: LoadedConfig,
        installed: Installed,
        module_versions: Mapping[str, str],
        clock: Callable[[], float] | None,
    ) -> None:
        self.loaded = loaded
        self.module_versions = dict(module_versions)
        self.config = loaded.config
        self.installed = installed
        self.available = installed.modules()
        self.plan = Plan(
            api_prefix=loaded.config.api_prefix,
            after_sunset=loaded.config.after_sunset,
            metrics=loaded.config.metrics,
            server=loaded.config.server,
            clock=clock if clock is not None else Clock(loaded.config.now),
            problems=list(loaded.problems),
            config_failed=bool(loaded.problems),
        )

    def problem(self, code: str, message: str, fix: str) -> None:
        self.plan.problems.append(Problem(code, message, fix))

    def run(self, load: bool) -> Plan:
        for bad in self.installed.bad:
            self.problem(
                "entry-point-invalid",
                f"entry point '{bad.name}' = '{bad.target}' of {bad.distribution} is not named '<module>.v<N>'",
                f"rename it in {bad.distribution}'s pyproject.toml (for example 'broker.v1'), "
                f"or uninstall {bad.distribution}",
            )
        enabled = self.enabled_modules()
        if self.config.module_version is not None:
            self.resolve_standalone(enabled)
        else:
            self.resolve_matrix(enabled)
        self.check_providers(load)
        if load:
            self.check_module_classes()
            self.check_settings()
        self.check_lifecycles(load)
        self.check_metrics()
        self.check_rollout()
        return self.plan

    def enabled_modules(self) -> list[str]:
        if self.config.enabled_modules is None:
            wanted = list(self.available)
        else:
            wanted = list(self.config.enabled_modules)
            where = self.loaded.where("enabled_modules")
            for module in wanted:
                if module not in self.available:
                    self.problem(
                        "module-not-installed",
                        f"module '{module}' is enabled in {where} but no installed distribution provides it"
                        + did_you_mean(module, self.available),
                        f"{_install_hint(module)}, or remove '{module}' from enabled_modules",
                    )
        for module in wanted:
            if module in RESERVED_NAMES:
                self.problem(
                    "module-name-reserved",
                    f"module '{module}' takes a name the host serves itself ({', '.join(sorted(RESERVED_NAMES))})",
                    f"rename the module '{module}'",
                )
        names = [CORE] + [m for m in wanted if m != CORE]
        return [m for m in dict.fromkeys(names) if m in self.available or m == CORE]

    def check_version(self, module: str, version: str, where: str) -> bool:
        served = self.available.get(module, [])
        try:
            parse_version(version)
        except ValueError as exc:
            hint = did_you_mean(version, served) or did_you_mean(f"v{version}", served)
            self.problem(
                "version-invalid", f"{where}: {exc}{hint}", f"write the version of '{module}' as 'v1', 'v2', ..."
            )
            return False
        if version in served:
            return True
        if not served:
            self.problem(
                "module-not-installed",
                f"{where} needs module '{module}', which is not installed",
                _install_hint(module),
            )
            return False
        dists = ", ".join(f"{d} {v}" for d, v in self.installed.distributions(module))
        dist = self.installed.distributions(module)[0][0]
        self.problem(
            "version-not-installed",
            f"{where} needs {module} {version}, but the installed {dists} serves {module} {', '.join(served)}"
            + did_you_mean(version, served),
            f"install a release that serves {module} {version}: pip install '{dist}=={parse_version(version)}.*' "
            f"(a release's major version is the newest API version it serves), or choose one of {', '.join(served)}",
        )
        return False

    def add(self, module: str, version: str) -> None:
        key = f"{module}.{version}"
        providers = self.installed.providers[key]
        self.plan.versions[(module, version)] = ResolvedVersion(module, version, providers[0])

    def resolve_standalone(self, enabled: list[str]) -> None:
        version = self.config.module_version or ""
        others = [m for m in enabled if m != CORE]
        if len(others) > 1:
            self.problem(
                "standalone-needs-one-module",
                f"MODULE_VERSION={version} serves one module alone, but {len(others)} are enabled: {', '.join(others)}",
                "set ENABLED_MODULES (or enabled_modules) to exactly one module, for example ENABLED_MODULES=broker",
            )
            return
        module = others[0] if others else CORE
        if self.check_version(
            module, version, f"module_version '{version}' (from {self.loaded.where('module_version')})"
        ):
            self.plan.standalone = (module, version)
            self.add(module, version)
        if module != CORE and self.available.get(CORE):
            self.add(CORE, self.available[CORE][-1])

    def resolve_matrix(self, enabled: list[str]) -> None:
        config = self.config
        serve = list(config.serve) if config.serve is not None else list(config.matrix)
        if not serve:
            self.problem(
                "nothing-to-serve", "no global version is served: the matrix is empty", "add a [matrix.v1] table"
            )
        # Rows merge by name across layers, so each row has its own source: a row of the shipped
        # default skips modules that are not installed, a row of the user's is checked strictly.
        row_sources = self.loaded.row_sources()
        self.plan.row_sources = row_sources
        missing: dict[str, dict[str, list[str]]] = {}  # module -> where it is named -> by what
        for global_version in dict.fromkeys(serve):
            if not _GLOBAL_VERSION.match(global_version):
                self.problem(
                    "global-version-invalid",
                    f"global version {global_version!r} cannot be a URL segment",
                    "use letters, digits, '.', '_' and '-', for example 'v3'",
                )
                continue
            row = config.matrix.get(global_version)
            if row is None:
                defined = ", ".join(config.matrix) or "none"
                self.problem(
                    "unknown-global-version",
                    f"global version '{global_version}' (from {self.loaded.where('serve')}) is not in the matrix, "
                    f"which defines: {defined}" + did_you_mean(global_version, config.matrix),
                    f"serve one of {defined}, or add a [matrix.{global_version}] table to your config",
                )
                continue
            self.plan.serve.append(global_version)
            row_source = row_sources[global_version]
            resolved: dict[str, str] = {}
            for module, version in {**row, **self.module_versions}.items():
                explicit = module in self.module_versions
                if module not in self.available:
                    if explicit:
                        missing.setdefault(module, {}).setdefault(ARGS_SOURCE, []).append("module_versions")
                    elif row_source != DEFAULT_SOURCE:
                        missing.setdefault(module, {}).setdefault(row_source, []).append(f"[matrix.{global_version}]")
                    continue
                if module not in enabled:
                    continue
                where = (
                    f"module_versions {{'{module}': '{version}'}}"
                    if explicit
                    else f"[matrix.{global_version}] {module} = '{version}' (in {row_source})"
                )
                if self.check_version(module, version, where):
                    resolved[module] = version
            for module in enabled:
                if module not in row and module not in self.module_versions:
                    # core is enabled even when not installed (an app built from objects without it).
                    default = _newest_not_after(self.available.get(module, []), global_version)
                    if default is not None:
                        resolved[module] = default
            ordered = {m: resolved[m] for m in enabled if m in resolved}
            self.plan.rows[global_version] = ordered
            for module, version in ordered.items():
                self.add(module, version)
        for module, places in missing.items():
            named = "; ".join(f"{', '.join(dict.fromkeys(what))} in {where}" for where, what in places.items())
            self.problem(
                "module-not-installed",
                f"module '{module}' is named by {named}, but it is not installed"
                + did_you_mean(module, self.available),
                f"{_install_hint(module)}, or remove '{module}' from those rows",
            )

    def check_providers(self, load: bool) -> None:
        for (module, version), resolved in list(self.plan.versions.items()):
            key = f"{module}.{version}"
            providers = self.installed.providers[key]
            if len(providers) > 1:
                names = ", ".join(f"{p.distribution} {p.distribution_version} ({p.target})" for p in providers)
                self.problem(
                    "duplicate-provider",
                    f"{key} is provided by {len(providers)} distributions: {names}",
                    "uninstall all but one of them (pip uninstall <distribution>)",
                )
            provider = resolved.provider
            self.check_core(provider)
            if not load:
                continue
            try:
                api = provider.load()
            except Exception as exc:
                self.problem(
                    "plugin-import-failed",
                    f"entry point '{key}' = '{provider.target}' of {provider.distribution} "
                    f"{provider.distribution_version} failed to import: {type(exc).__name__}: {exc}",
                    f"reinstall or upgrade {provider.distribution}, or disable '{module}' in enabled_modules",
                )
                continue
            contract = check_api_class(api, module, version)
            for message in contract:
                self.problem(
                    "plugin-contract",
                    f"entry point '{key}' = '{provider.target}' of {provider.distribution}: {message}",
                    f"fix {provider.distribution}, or disable '{module}'",
                )
            if not contract and isinstance(api, type) and issubclass(api, ModuleApi):
                self.plan.versions[(module, version)] = ResolvedVersion(module, version, provider, api)

    def check_core(self, provider: Provider) -> None:
        core_version = self.installed.core_version
        if provider.core_requirement is None or core_version is None:
            return
        try:
            ok = SpecifierSet(provider.core_requirement).contains(core_version, prereleases=True)
        except InvalidSpecifier:
            return
        if not ok:
            self.problem(
                "incompatible-core",
                f"{provider.distribution} {provider.distribution_version} ({provider.key}) needs "
                f"trading-core{provider.core_requirement}, but trading-core {core_version} is installed",
                f"pip install 'trading-core{provider.core_requirement}', or install a release of "
                f"{provider.distribution} made for trading-core {core_version}",
            )

    def check_module_classes(self) -> None:
        by_module: dict[str, set[type[Module]]] = {}
        for (module, _), resolved in self.plan.versions.items():
            if resolved.api is not None:
                by_module.setdefault(module, set()).add(resolved.api.module)
        for module, classes in by_module.items():
            if len(classes) > 1:
                names = ", ".join(sorted(f"{c.__module__}.{c.__qualname__}" for c in classes))
                self.problem(
                    "module-class-mismatch",
                    f"the versions of '{module}' name different Module classes ({names}), "
                    "so they cannot share one service",
                    f"make every {module} API version set the same 'module' class",
                )

    def check_settings(self) -> None:
        for module in self.config.modules:
            where = self.loaded.where(f"modules.{module}")
            if module not in self.available and not self.loaded.is_default(f"modules.{module}"):
                self.problem(
                    "module-settings-unknown",
                    f"[modules.{module}] in {where} configures a module that is not installed"
                    + did_you_mean(module, self.available),
                    f"{_install_hint(module)}, or remove the [modules.{module}] table",
                )
        for module in self.plan.modules():  # in the plan's order: `config` lists them so, whatever the hash seed
            try:
                cls = self.plan.module_class(module)
            except KeyError:
                continue
            table, problems = self.loaded.module_settings(module, cls.Settings)
            self.plan.problems.extend(problems)
            try:
                self.plan.module_settings[module] = cls.Settings.model_validate(table)
            except ValidationError as exc:
                for error in exc.errors():
                    self.plan.problems.append(self.settings_problem(module, cls.Settings, error))

    def settings_problem(self, module: str, model: type[BaseModel], error: Any) -> Problem:
        """A module's settings that its model refuses: where the key was set (or that it is the
        module's default), the model's message, and the fix a module gives in the error's context
        (``PydanticCustomError(..., {"fix": ...})``)."""
        loc = ".".join(str(p) for p in error["loc"])
        key = f"modules.{module}.{error['loc'][0]}" if error["loc"] else f"modules.{module}"
        where = f"in {self.loaded.where(key)}" if key in self.loaded.sources else "(the module's default)"
        message = error["msg"].removeprefix("Value error, ")
        given = (error.get("ctx") or {}).get("fix")
        fix = given if isinstance(given, str) else f"correct [modules.{module}] {loc}"
        if error["type"] == "extra_forbidden":
            where = f"in {self.loaded.where(key)}"
            message += did_you_mean(str(error["loc"][-1]), model.model_fields)
            fix = f"remove it or correct its spelling (the keys of [modules.{module}]: {', '.join(model.model_fields)})"
        return Problem("module-settings-invalid", f"[modules.{module}] {loc} {where}: {message}", fix)

    def check_lifecycles(self, load: bool) -> None:
        plan = self.plan
        plan.lifecycles = resolve_lifecycles(self.loaded, self.available, plan.problems)
        served = {key: lc for key, lc in plan.lifecycles.items() if key in plan.versions}
        if load:
            check_guides(served, plan.docs_folders(), self.loaded, plan.problems)
        if self.config.after_sunset != "refuse":
            return
        now = plan.clock()
        for (module, version), lifecycle in served.items():
            if lifecycle.status_at(now) == "sunset":
                where = self.loaded.where(f"lifecycle.{module}.{version}")
                self.problem(
                    "version-sunset",
                    f"{module} {version} was sunset on {lifecycle.sunset} ([lifecycle.{module}.{version}] in {where}), "
                    'and after_sunset = "refuse" refuses to serve it',
                    f"serve {module} {lifecycle.successor} instead of {version} (change the matrix rows or the "
                    'served global versions), or set after_sunset = "gone" to answer its requests with 410 Gone',
                )

    def check_metrics(self) -> None:
        metrics = self.config.metrics
        if not metrics.enabled:
            return
        try:
            CallerKey.parse(metrics.client, shown=True)
        except ValueError as exc:
            self.problem(
                "metrics-client-invalid",
                f"[metrics] client in {self.loaded.where('metrics.client')}: {exc}",
                "set [metrics] client to 'api_key', 'header:<name>' or 'cookie:<name>'",
            )
        for global_version in self.plan.serve:
            base = f"{self.plan.api_prefix}/{global_version}"
            if metrics.path == base or metrics.path.startswith(base + "/"):
                self.problem(
                    "metrics-path-taken",
                    f"[metrics] path {metrics.path} in {self.loaded.where('metrics.path')} is under {base}, "
                    f"where global version {global_version} is served",
                    "choose a path outside the served global versions, for example /metrics",
                )

    def check_rollout(self) -> None:
        rollout = self.config.rollout
        if rollout is None:
            return
        where = f"[rollout] in {self.loaded.where('rollout')}"
        before = len(self.plan.problems)
        if self.plan.standalone is not None:
            self.problem(
                "rollout-standalone",
                f"{where} picks among global versions, but a standalone service serves one module version",
                "remove the [rollout] table from the standalone service's configuration, or serve the monolith",
            )
            return
        if not _GLOBAL_VERSION.match(rollout.alias) or rollout.alias in self.config.matrix:
            self.problem(
                "rollout-alias-invalid",
                f"{where}: alias {rollout.alias!r} "
                + (
                    "is a global version of the matrix"
                    if rollout.alias in self.config.matrix
                    else "cannot be a URL segment"
                ),
                "choose another alias, such as 'latest'",
            )
        try:
            CallerKey.parse(rollout.key)
        except ValueError as exc:
            self.problem(
                "rollout-key-invalid",
                f"{where}: key: {exc}",
                "set key to 'api_key', 'header:<name>' or 'cookie:<name>'",
            )
        unknown = [g for g in rollout.weights if g not in self.plan.serve]
        if unknown or not rollout.weights:
            served = ", ".join(self.plan.serve) or "none"
            hints = "".join(did_you_mean(g, self.plan.serve) for g in unknown)
            self.problem(
                "rollout-version-not-served",
                f"{where}: weights name {', '.join(unknown) or 'no version'}, "
                f"but the served global versions are {served}{hints}",
                "give weights only to served global versions, for example weights = { v1 = 90, v2 = 10 }",
            )
        elif sum(rollout.weights.values()) <= 0:
            self.problem(
                "rollout-weights-zero", f"{where}: every weight is 0", "give at least one version a positive weight"
            )
        if rollout.fallback is not None and rollout.fallback not in rollout.weights:
            self.problem(
                "rollout-fallback-invalid",
                f"{where}: fallback {rollout.fallback} is not one of the weighted versions "
                f"({', '.join(rollout.weights)})",
                "set fallback to one of the versions in weights, or leave it out",
            )
        if len(self.plan.problems) == before:
            self.plan.rollout = rollout


def resolve(
    loaded: LoadedConfig,
    installed: Installed,
    *,
    module_versions: Mapping[str, str] | None = None,
    load: bool = True,
    clock: Callable[[], float] | None = None,
) -> Plan:
    """Resolve the configuration against the installed providers. ``module_versions`` overrides
    a module's version in every served global version. With ``load`` (the default) the enabled
    entry points, and only those, are imported and checked against the contract. ``clock`` (Unix
    seconds) replaces the configured one (real time, or real time from ``now``)."""
    with collector_paused():  # it imports the modules and builds their settings
        return _Resolver(loaded, installed, module_versions or {}, clock).run(load)
