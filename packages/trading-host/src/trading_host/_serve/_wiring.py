"""What the host wraps around the module versions of a plan: lifecycle, metrics, rollout, documents.

Each wrapper is added only where it is needed: a stable version's router is the dispatcher's
target as it is (with metrics on, one counting layer), so a version pays for a deprecation only
once one is configured for it, and for middleware or exception handlers only if it adds them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from trading_core import Lifecycle, ModuleApi, MountedVersion

from .._asgi import ServedVersion
from .._caller import CallerKey
from .._documents._guides import DOCS_PATH, ModuleDocuments, parse_document_url
from .._documents._openapi import mark_deprecated, module_openapi
from .._plan._clock import Clock
from .._plan._matrix import Plan
from .._problems import ConfigError, Problem
from .._wrappers._deprecation import DeprecatedVersion
from .._wrappers._rollout import Rollout
from ._dispatch import Rooted, Starter, Target, VersionRoutes
from ._errors import guard_version_handlers

if TYPE_CHECKING:  # importing prometheus-client is left to the apps that turn metrics on
    from .._wrappers._metrics import Metrics

logger = logging.getLogger("trading_host")

Key = tuple[str, str]


class PlanWiring:
    """The per-plan wiring of an app: built by :meth:`AppFactory.routes`."""

    def __init__(self, plan: Plan, metrics: Metrics | None, *, root: str = "", metrics_path: str | None = None) -> None:
        self.plan = plan
        self.metrics = metrics
        self.root = root
        """Where the platform's own pages live in the app: ``""`` in an app of its own, the prefix
        in a user's app (:func:`embed`), so that the module documents are at ``{root}/docs/...``."""
        self.metrics_path = metrics_path or root + plan.metrics.path
        self.documents_path = root + DOCS_PATH
        self._documents: dict[tuple[Key, bool], dict[str, Any]] = {}
        clock = plan.clock
        if isinstance(clock, Clock) and clock.shifted and clock.start is not None:
            logger.warning(
                "the lifecycle clock starts at %s, not at the real time (TRADING_NOW or 'now' is set): "
                "for staging and tests only",
                clock.start.astimezone(UTC).isoformat(),
            )

    def successor_url(self, module: str, successor: str) -> str | None:
        """Where the successor of a module version is served by this app, if it is."""
        plan = self.plan
        if plan.standalone is not None:
            return None
        for global_version in plan.serve:
            if plan.rows.get(global_version, {}).get(module) == successor:
                return f"{plan.api_prefix}/{global_version}/{module}"
        return None

    def target(self, app: ASGIApp, mount: ServedVersion, api: ModuleApi) -> ASGIApp:
        """The dispatcher's target for ``mount``: ``app`` (which runs the matched route) inside the
        version's own middleware and exception handlers if it has any, with its lifecycle applied
        if it has one, counted if metrics are on."""
        guard_version_handlers(api)  # the version's handlers of validation errors get them encodable
        try:
            app = api.wrap(app)
        except Exception as exc:  # a middleware class that refuses its options: the plugin's fault, said before serving
            problem = Problem(
                "plugin-contract",
                f"{mount.module} {mount.version} ({type(api).__module__}): its middleware failed to build: "
                f"{type(exc).__name__}: {exc}",
                f"fix the add_middleware() calls in {type(api).__qualname__}",
            )
            raise ConfigError([problem]) from exc
        lifecycle = self.lifecycle((mount.module, mount.version))
        if lifecycle is not None:
            successor = self.successor_url(mount.module, lifecycle.successor)
            app = DeprecatedVersion(app, mount, lifecycle, self.plan.clock, successor)
        if self.metrics is not None:
            app = self.metrics.instrument(app, mount, lifecycle)
        return app

    def guide_url(self, url: str) -> str:
        """The URL of a migration guide as served here: a module document moves with :attr:`root`."""
        return self.root + url if self.root and parse_document_url(url) is not None else url

    def lifecycle(self, key: Key) -> Lifecycle | None:
        """The lifecycle of a module version, its migration guide's URL as served here."""
        lifecycle = self.plan.lifecycles.get(key)
        if lifecycle is None or not self.root:
            return lifecycle
        return replace(lifecycle, migration_guide=self.guide_url(lifecycle.migration_guide))

    def mounted(self) -> list[MountedVersion]:
        """What the plan serves, as the core module lists it (guides' URLs as served here)."""
        return [
            m if m.lifecycle is None else replace(m, lifecycle=self.lifecycle((m.module, m.version)))
            for m in self.plan.mounted()
        ]

    def deprecated(self, keys: Iterable[Key]) -> frozenset[Key]:
        """Which of these module versions are past their deprecation date now."""
        now = self.plan.clock()
        lifecycles = self.plan.lifecycles
        return frozenset(k for k in keys if k in lifecycles and lifecycles[k].status_at(now) != "stable")

    def module_document(self, api: ModuleApi, marked: bool) -> dict[str, Any]:
        """A module version's OpenAPI document, its operations marked deprecated if ``marked``."""
        key = (api.module.name, api.version)
        document = self._documents.get((key, marked))
        if document is None:
            document = module_openapi(api)
            if marked:
                lifecycle = self.lifecycle(key)  # the guide's URL as served here, as in the Link header
                assert lifecycle is not None  # marked: a version past its deprecation date has one
                successor = self.successor_url(key[0], lifecycle.successor)
                document = mark_deprecated(document, lifecycle, module=key[0], version=key[1], successor_url=successor)
            self._documents[(key, marked)] = document
        return document

    def document(
        self, keys: Iterable[Key], build: Callable[[frozenset[Key]], dict[str, Any]]
    ) -> Callable[[], dict[str, Any]]:
        """``build(deprecated)`` cached per set of deprecated versions, so that a document served
        while a version crosses its deprecation date changes then, and is built once per change."""
        keys = tuple(keys)
        cached: dict[frozenset[Key], dict[str, Any]] = {}

        def document() -> dict[str, Any]:
            deprecated = self.deprecated(keys)
            found = cached.get(deprecated)
            if found is None:
                found = cached[deprecated] = build(deprecated)
            return found

        return document

    def dispatcher(self, targets: Mapping[str, Target], starter: Starter | None = None) -> VersionRoutes:
        """The dispatcher of ``targets``, with the rollout alias if one is configured; ``starter``
        starts the modules on the first request if no lifespan has."""
        plan, config = self.plan, self.plan.rollout
        limit = plan.server.max_body_size
        if config is None:
            return VersionRoutes(targets, max_body_size=limit, starter=starter)
        fallback = config.fallback or max(config.weights, key=lambda g: config.weights[g])
        observe = self.metrics.rollout_observer(config.alias) if self.metrics is not None else None
        rollout = Rollout(config.alias, CallerKey.parse(config.key), config.weights, fallback, observe)
        modules = dict.fromkeys(m for g in config.weights for m in plan.rows.get(g, {}))
        aliases = {
            f"{plan.api_prefix}/{config.alias}/{m}": {
                g: f"{plan.api_prefix}/{g}/{m}" for g in config.weights if m in plan.rows.get(g, {})
            }
            for m in modules
        }
        return VersionRoutes(targets, aliases=aliases, chooser=rollout, max_body_size=limit, starter=starter)

    def routes(self) -> list[BaseRoute]:
        """``/metrics`` and the modules' documents at ``/docs/{module}/{name}`` (below :attr:`root`)."""
        routes: list[BaseRoute] = []
        if self.metrics is not None:
            routes.append(self.metrics.route(self.metrics_path))
        folders = self.plan.docs_folders()
        if folders:
            documents = ModuleDocuments(folders)
            routes.append(Rooted(documents, self.root) if self.root else documents)
        return routes

    def served(self, served: dict[str, Any]) -> dict[str, Any]:
        """The body of the not-served 404: what is served, and the rollout alias if there is one."""
        rollout = self.plan.rollout
        if rollout is not None and self.plan.standalone is None:
            return {**served, "aliases": {rollout.alias: dict(rollout.weights)}}
        return served
