"""Compose the served module versions into an app, or into a user's own app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

from trading_core import ModuleApi

from .._asgi import ServedVersion
from .._collector import collector_paused
from .._documents._asyncapi import asyncapi_routes
from .._documents._openapi import Part, merge_openapi
from .._documents._pages import docs_routes as _docs_routes
from .._plan._config import load_config
from .._plan._discovery import Installed, discover
from .._plan._matrix import CORE, Plan, resolve
from .._problems import ConfigError, Problem
from ._collisions import Space, collisions
from ._dispatch import NotServed, Target, prefixed, run_route
from ._errors import answers_server_errors, server_error
from ._landing import Landing, LandingRoute
from ._runtime import Runtime
from ._startup import StartupFailed, report_startup_failures
from ._wiring import PlanWiring

if TYPE_CHECKING:
    from .._wrappers._metrics import Metrics

logger = logging.getLogger("trading_host")


def _views(api: ModuleApi, prefix: str) -> list[BaseRoute]:
    """The module version's routes under ``prefix``, then the AsyncAPI document of its streams
    (``{prefix}/asyncapi.json``, tried only when no route of the module matches); a route the host
    cannot serve is a problem."""
    try:
        views = prefixed(api.routes, prefix)
    except TypeError as exc:
        problem = Problem(
            "plugin-contract",
            f"{api.module.name} {api.version} ({type(api).__module__}): {exc}",
            f"declare only HTTP and WebSocket routes in {type(api).__qualname__}",
        )
        raise ConfigError([problem]) from None
    return views + asyncapi_routes(api, prefix)


class AppFactory:
    """Builds apps from the installed modules, the configuration and the version matrix.

    Every app one factory builds shares one instance of each module (and so one service and one
    lifespan): build the apps of a process from one factory.

    ``config`` names a TOML file (else ``$TRADING_CONFIG``, else ``./trading.toml``, else the
    shipped default); ``environ`` replaces ``os.environ``; ``installed`` replaces discovery, for
    example ``Installed.from_apis([CoreApi, MyApi])`` to compose module objects directly.
    """

    def __init__(
        self,
        config: str | Path | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        installed: Installed | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._config = config
        self._environ = environ
        self._installed = installed
        self._clock = clock
        self._metrics: Metrics | None = None
        self.runtime = Runtime()

    @property
    def installed(self) -> Installed:
        if self._installed is None:
            self._installed = discover()
        return self._installed

    def plan(
        self,
        enabled_module_names: Sequence[str] | None = None,
        global_version: str | Sequence[str] | None = None,
        module_versions: Mapping[str, str] | None = None,
        *,
        module_version: str | None = None,
        api_prefix: str | None = None,
        load: bool = True,
    ) -> Plan:
        """Resolve what would be served, with every problem found; raises nothing."""
        serve = [global_version] if isinstance(global_version, str) else global_version
        overrides = {
            "enabled_modules": list(enabled_module_names) if enabled_module_names is not None else None,
            "serve": list(serve) if serve is not None else None,
            "module_version": module_version,
            "api_prefix": api_prefix,
        }
        loaded = load_config(self._config, environ=self._environ, overrides=overrides)
        return resolve(loaded, self.installed, module_versions=module_versions, load=load, clock=self._clock)

    def metrics(self, plan: Plan) -> Metrics | None:
        """The metrics of this factory's apps (one registry for all), or ``None`` when switched off."""
        if not plan.metrics.enabled:
            return None
        if self._metrics is None:
            from .._wrappers._metrics import Metrics  # imports prometheus-client, which apps without metrics skip

            self._metrics = Metrics(plan.metrics, plan.clock)
        return self._metrics

    def create_app(
        self,
        enabled_module_names: Sequence[str] | None = None,
        global_version: str | Sequence[str] | None = None,
        module_versions: Mapping[str, str] | None = None,
        *,
        module_version: str | None = None,
        title: str = "Trading API",
    ) -> FastAPI:
        """An app wiring ``/api/{global}/{module}/...`` for each served global version, or, when
        ``module_version`` (``MODULE_VERSION``) is set, one module alone at ``/{version}/...``.

        Arguments left ``None`` come from the configuration. Raises :class:`ConfigError` listing
        every problem before anything is served.
        """
        plan = self.plan(enabled_module_names, global_version, module_versions, module_version=module_version)
        plan.raise_for_problems()
        runtime = self.runtime

        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            async with runtime.lifespan():
                yield

        app = FastAPI(
            title=title,
            lifespan=lifespan,
            openapi_url=None,
            docs_url=None,
            redoc_url=None,
            exception_handlers={Exception: server_error},
        )
        report_startup_failures(app.router)
        app.router.routes.extend(self.routes(plan, title=title))
        app.state.trading_plan = plan
        return app

    def module_api(self, plan: Plan, key: tuple[str, str]) -> ModuleApi:
        """The API object of the (module, version) ``key`` of ``plan``, built once by this factory's
        runtime over the module's one instance, with the settings the plan validated."""
        resolved = plan.versions[key]
        assert resolved.api is not None, "resolve the plan with load=True"
        return self.runtime.api(resolved.api, plan.module_settings.get(resolved.module, {}))

    def routes(
        self, plan: Plan, *, title: str = "Trading API", root: str = "", metrics_path: str | None = None
    ) -> list[BaseRoute]:
        """The routes that serve ``plan``: one dispatcher, the docs, ``/metrics``, the modules'
        documents, and the not-served 404. ``root`` is where the metrics and the module documents
        go (``{root}/metrics``, ``{root}/docs/...``), unless ``metrics_path`` names the metrics' path."""
        return self._wiring(plan, title=title, root=root, metrics_path=metrics_path)[0]

    def _wiring(
        self, plan: Plan, *, title: str, root: str = "", metrics_path: str | None = None, embedded: bool = False
    ) -> tuple[list[BaseRoute], PlanWiring]:
        with collector_paused():  # the modules' APIs and their routes: a start-up's many objects
            return self._build_wiring(plan, title=title, root=root, metrics_path=metrics_path, embedded=embedded)

    def _build_wiring(
        self, plan: Plan, *, title: str, root: str, metrics_path: str | None, embedded: bool
    ) -> tuple[list[BaseRoute], PlanWiring]:
        plan.raise_for_problems()
        apis = {key: self.module_api(plan, key) for key in plan.versions}
        self.runtime.platform.clock = plan.clock
        wiring = PlanWiring(plan, self.metrics(plan), root=root, metrics_path=metrics_path)
        self.runtime.publish(wiring.mounted())

        targets: dict[str, Target] = {}
        docs: list[BaseRoute] = []
        if plan.standalone is not None:
            module, version = plan.standalone
            layout = {f"/{version}": (module, version)}
            if module != CORE:
                layout.update({f"/{CORE}/{v}": (CORE, v) for m, v in plan.versions if m == CORE})
            for prefix, (m, v) in layout.items():
                mount = ServedVersion(None, m, v, prefix)
                api = apis[(m, v)]
                targets[prefix] = Target(wiring.target(run_route, mount, api), mount, _views(api, prefix))

                def build(deprecated: frozenset[tuple[str, str]], key: tuple[str, str] = (m, v)) -> dict[str, Any]:
                    return wiring.module_document(apis[key], key in deprecated)

                docs += _docs_routes(prefix, f"{title}: {m} {v}", wiring.document([(m, v)], build))
            served: dict[str, Any] = dict(layout.values())
            # The docs live below the module's own prefix (/v1/docs), so they must be matched
            # before the dispatcher hands everything under /v1 to the module.
            return [
                *docs,
                wiring.dispatcher(targets, self.runtime),
                *wiring.routes(),
                NotServed("", wiring.served({"standalone": served})),
            ], wiring

        for global_version, row in plan.rows.items():
            base = f"{plan.api_prefix}/{global_version}"
            for module, version in row.items():
                prefix = f"{base}/{module}"
                mount = ServedVersion(global_version, module, version, prefix)
                api = apis[(module, version)]
                targets[prefix] = Target(wiring.target(run_route, mount, api), mount, _views(api, prefix))

            def document(
                deprecated: frozenset[tuple[str, str]],
                base: str = base,
                row: dict[str, str] = row,
                global_version: str = global_version,
            ) -> dict[str, Any]:
                parts = [
                    Part(m, f"{base}/{m}", wiring.module_document(apis[(m, v)], (m, v) in deprecated))
                    for m, v in row.items()
                ]
                description = ", ".join(f"{m} {v}" for m, v in row.items())
                return merge_openapi(parts, title=title, version=global_version, description=description)

            docs += _docs_routes(base, f"{title} {global_version}", wiring.document(row.items(), document))
        landing = Landing(plan, wiring, self.runtime, title)

        async def index(scope: Scope, receive: Receive, send: Send, global_version: str) -> None:
            await landing.answer(scope, receive, send, global_version)

        # The landing page: at the top of an app of its own, at the prefix in a user's app (whose
        # own "/" stays the user's), and at the API prefix and {root}/docs either way.
        root, api_prefix = wiring.root, plan.api_prefix
        entries = {"/", api_prefix, api_prefix + "/"} if not embedded else ({root, root + "/"} if root else set())
        if root or not embedded:
            entries |= {wiring.documents_path, wiring.documents_path + "/"}
        return [
            wiring.dispatcher(targets, self.runtime),
            *docs,
            *wiring.routes(),
            *([LandingRoute(sorted(p for p in entries if p), landing)] if entries else []),
            NotServed(
                plan.api_prefix,
                wiring.served({"global_versions": plan.rows}),
                index=index,
                claim_all=not embedded,
            ),
        ], wiring


def embed(
    app: FastAPI,
    *,
    prefix: str = "/api",
    factory: AppFactory | None = None,
    enabled_module_names: Sequence[str] | None = None,
    global_version: str | Sequence[str] | None = None,
    module_versions: Mapping[str, str] | None = None,
    title: str = "Trading API",
    metrics_path: str | None = None,
) -> Plan:
    """Serve the composed API inside your own FastAPI app at ``{prefix}/{global}/{module}/...``.

    The routes are added to ``app``'s own router (no mount, so no doubled prefix and no extra
    hop), and the modules' lifespans are run inside ``app``'s lifespan. Everything the platform
    serves is under ``prefix``: the docs (``{prefix}/v1/docs``), the module documents
    (``{prefix}/docs/{module}/...``) and the metrics (``{prefix}/metrics``, or ``metrics_path``).
    A route of ``app`` on one of those paths is a :class:`ConfigError`, here for the routes
    ``app`` has and at start-up for those added later. The host's answers to errors apply to its
    own routes only, rendered by ``app``'s handlers; an unhandled error gets the host's 500 problem
    body unless ``app`` answers those itself. Returns the plan served.
    """
    factory = factory or AppFactory()
    plan = factory.plan(enabled_module_names, global_version, module_versions, api_prefix=prefix)
    routes, wiring = factory._wiring(plan, title=title, root=plan.api_prefix, metrics_path=metrics_path, embedded=True)
    spaces = _spaces(plan, wiring)
    problems = collisions(app.router.routes, routes, spaces)
    if problems:
        raise ConfigError(problems)
    app.router.routes.extend(routes)
    if not answers_server_errors(app.exception_handlers):
        app.add_exception_handler(Exception, server_error)
    report_startup_failures(app.router)
    inner = app.router.lifespan_context
    runtime = factory.runtime

    @asynccontextmanager
    async def lifespan(asgi_app: Any) -> AsyncIterator[Any]:
        # Routes added after embed() are known only now.
        found = collisions(app.router.routes, routes, spaces)
        if found:
            failed = StartupFailed("embed", found[0])
            logger.error("%s", ConfigError(found))
            raise failed
        async with runtime.lifespan(), inner(asgi_app) as state:
            yield state

    app.router.lifespan_context = lifespan
    return plan


def _spaces(plan: Plan, wiring: PlanWiring) -> list[Space]:
    """The paths the embedded platform serves, the most specific first."""
    spaces = []
    if wiring.metrics is not None:
        spaces.append(Space(wiring.metrics_path, "metrics"))
    spaces += [Space(f"{wiring.documents_path}/{m}", f"documents of module {m}") for m in plan.docs_folders()]
    if plan.api_prefix:
        spaces.append(Space(plan.api_prefix, "API prefix"))
    else:
        served = list(plan.rows) if plan.standalone is None else [f"/{plan.standalone[1]}", f"/{CORE}"]
        alias = [plan.rollout.alias] if plan.rollout is not None else []
        spaces += [Space(f"/{name.lstrip('/')}", f"API version {name.lstrip('/')}") for name in served + alias]
    return spaces
