"""The contract between the host and a module: what a plugin implements and what it is given."""

from __future__ import annotations

import re
import sys
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from importlib.resources.abc import Traversable
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar, cast, get_args, get_origin

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from starlette.middleware import Middleware
from starlette.types import ASGIApp, ExceptionHandler

from ._hooks import E, ExceptionHandling, HandlerFor, MiddlewareFactory, P

ENTRY_POINT_GROUP = "trading_api.modules"
"""The entry-point group in which every (module, API major version) is registered."""

_MODULE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_VERSION = re.compile(r"^v([1-9][0-9]*)$")


def parse_version(version: str) -> int:
    """Return the major number of an API version such as ``"v2"``; ``ValueError`` otherwise."""
    match = _VERSION.match(version)
    if match is None:
        raise ValueError(f"{version!r} is not an API version; write 'v' and a major number, like 'v1'")
    return int(match.group(1))


class ModuleStartupError(Exception):
    """A module cannot start: what failed, naming what it tried to reach (``message``: the
    database at ``127.0.0.1:5432``), and what to do (``fix``).

    Raised by :meth:`Module.lifespan` (or returned by :meth:`Module.check_connection`), it is
    reported by the host as one line with its fix, without a traceback, and nothing is served.
    Any other exception a lifespan raises is reported too, by its type and message.
    """

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


class NoSettings(BaseModel):
    """Settings of a module that takes none: any key given is a mistake, so it is refused."""

    model_config = ConfigDict(extra="forbid")


if TYPE_CHECKING:
    # Only the type checker reads the default (its typeshed has typing_extensions): a plugin that
    # subclasses plain ``Module`` keeps ``settings: BaseModel``, as before the parameter existed.
    from typing_extensions import TypeVar as _TypeVarWithDefault

    SettingsT = _TypeVarWithDefault("SettingsT", bound=BaseModel, default=BaseModel, covariant=True)
else:
    SettingsT = TypeVar("SettingsT", bound=BaseModel, covariant=True)


Status = Literal["stable", "deprecated", "sunset"]
"""A module version's lifecycle status at a given moment."""


def midnight_utc(day: date) -> float:
    """Unix seconds of 00:00 UTC on ``day``: the moment a lifecycle date takes effect."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


@dataclass(frozen=True)
class Lifecycle:
    """A deprecated module version's timeline: deprecated from ``deprecation``, gone from ``sunset``.

    Both dates take effect at 00:00 UTC. ``successor`` is the version to migrate to and
    ``migration_guide`` a URL (a path on this deployment, or an absolute URL).
    """

    deprecation: date
    sunset: date
    successor: str
    migration_guide: str

    def status_at(self, now: float) -> Status:
        """The status at ``now`` (Unix seconds): stable before the deprecation date, sunset from the sunset date."""
        if now < midnight_utc(self.deprecation):
            return "stable"
        if now < midnight_utc(self.sunset):
            return "deprecated"
        return "sunset"


@dataclass(frozen=True)
class MountedVersion:
    """One module version as the host serves it."""

    module: str
    version: str
    distribution: str
    distribution_version: str
    global_versions: tuple[str, ...]
    status: str = "stable"
    """The configured status; :meth:`status_at` gives the status at a moment, dates included."""
    lifecycle: Lifecycle | None = None
    """The version's deprecation timeline, when the configuration deprecates it."""

    def status_at(self, now: float) -> str:
        """``stable``, ``deprecated`` or ``sunset`` at ``now`` (Unix seconds)."""
        return self.lifecycle.status_at(now) if self.lifecycle is not None else self.status


HealthCheck = Callable[[], Awaitable[dict[str, Any]]]
"""A module's health check: awaited with no argument, it returns the module's report."""


@dataclass(frozen=True)
class _ModuleHealth:
    """What the deprecated ``Platform.modules`` gives for a module: its name and health check."""

    name: str
    health: HealthCheck


@dataclass
class Platform:
    """What the host tells modules about the composed platform. Filled in before start-up.

    It describes the composition; it never hands out another module's instance, since no module
    may use another's service.
    """

    mounted: list[MountedVersion] = field(default_factory=list)
    health: Mapping[str, HealthCheck] = field(default_factory=lambda: MappingProxyType({}))
    """Every served module's health check by module name, read-only: what the core module reports
    at ``/health``. The host keeps the mapping and fills it as it builds the modules."""
    clock: Callable[[], float] = time.time
    """The platform's time in Unix seconds; the host may set it ahead for staging and tests."""

    @property
    def modules(self) -> Mapping[str, Any]:
        """Deprecated: use :attr:`health`. Each module's ``name`` and ``health()``, read-only
        (before trading-core 1.2 it was the module instances). Removed in trading-core 2.0."""
        warnings.warn(
            "Platform.modules is deprecated and will be removed in trading-core 2.0: a module may not reach "
            "another module's instance, so it now gives only each module's name and health(); "
            "use Platform.health (module name -> health check)",
            DeprecationWarning,
            stacklevel=2,
        )
        return MappingProxyType({name: _ModuleHealth(name, check) for name, check in self.health.items()})


@dataclass(frozen=True)
class ModuleContext:
    """What a module is constructed with: its settings and the platform it runs in.

    ``settings`` is either the module's validated settings object (the host validates each
    ``[modules.<name>]`` table once, when it checks the configuration, and passes the result) or
    a raw table that :class:`Module` validates (tests, and modules built by hand).
    """

    settings: BaseModel | Mapping[str, Any] = field(default_factory=dict)
    platform: Platform = field(default_factory=Platform)


def _settings_parameter(cls: type) -> type[BaseModel] | None:
    """The settings model ``cls`` names as its type parameter (``Module[BrokerSettings]``), if any."""
    for base in cls.__dict__.get("__orig_bases__", ()):
        origin = get_origin(base)
        if not (isinstance(origin, type) and issubclass(origin, Module)):
            continue
        (argument,) = get_args(base) or (None,)
        if isinstance(argument, TypeVar):  # a generic subclass: its own subclasses name the model
            return None
        if not (isinstance(argument, type) and issubclass(argument, BaseModel)):
            raise TypeError(
                f"{cls.__qualname__}: the type parameter of Module must be a pydantic BaseModel subclass "
                f"(the settings model itself, not a string), got {argument!r}"
            )
        return argument
    return None


class Module(Generic[SettingsT]):
    """A module: one instance per process, shared by every API version mounted in it.

    Subclasses set ``name``, name their settings model (a pydantic model validated from the
    module's ``[modules.<name>]`` config table before anything is served) as the type parameter,
    ``class BrokerModule(Module[BrokerSettings])``, which makes ``self.settings`` a
    ``BrokerSettings`` for the type checker too; build their shared service in ``__init__``; and
    open or close resources in ``lifespan``. A module without settings subclasses ``Module`` and
    refuses any key. The older form, a ``Settings = BrokerSettings`` class attribute, still works.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    Settings: ClassVar[type[BaseModel]] = NoSettings
    """The settings model: the type parameter when the class names one, else as set (or inherited)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = _settings_parameter(cls)
        if declared is None:
            return
        own = cls.__dict__.get("Settings")
        if own is None:
            cls.Settings = declared
        elif not (isinstance(own, type) and issubclass(own, declared)):
            raise TypeError(
                f"{cls.__qualname__} is Module[{declared.__name__}] but sets Settings = {own!r}: "
                "name the settings model once, as the type parameter"
            )

    def __init__(self, context: ModuleContext | None = None) -> None:
        self.context = context if context is not None else ModuleContext()
        given = self.context.settings
        if isinstance(given, BaseModel):
            if not isinstance(given, self.Settings):
                raise TypeError(
                    f"{type(self).__qualname__} takes {self.Settings.__name__} settings, got {type(given).__name__}"
                )
            settings = given
        else:
            settings = self.Settings.model_validate(dict(given))
        self.settings: SettingsT = cast(SettingsT, settings)
        """The validated ``[modules.<name>]`` table, an instance of :attr:`Settings`."""

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """Open resources at start-up and close them at shutdown; the host runs it once per process,
        as ``async with module.lifespan():``.

        Override it as an ``@asynccontextmanager`` method that yields once (without the decorator
        it is an async generator, which ``async with`` cannot enter)::

            @asynccontextmanager
            async def lifespan(self) -> AsyncIterator[None]:
                await self.service.open()  # raise ModuleStartupError(message, fix) if it cannot
                try:
                    yield  # serving
                finally:
                    await self.service.close()
        """
        yield

    async def health(self) -> dict[str, Any]:
        """Report this module's health; ``{"status": "ok"}`` when it can serve."""
        return {"status": "ok"}

    async def check_connection(self) -> list[ModuleStartupError]:
        """Try the resources the module needs to start (a database, an upstream service) without
        starting it: one :class:`ModuleStartupError` per resource it cannot reach or use, naming
        the resource and the fix; empty when all answer. ``trading-host matrix --check --connect``
        calls it before anything is served. The default needs nothing."""
        return []

    @classmethod
    def docs_folder(cls) -> Traversable | None:
        """The module's documents (CHANGELOGs, migration guides) that the host serves at
        ``/docs/{module}/{name}``: by default the ``docs`` folder of the top-level package that
        defines the module class, when there is one. Override to point elsewhere, or return None."""
        package = sys.modules.get(cls.__module__.partition(".")[0])
        # A class defined in a script (``python my_app.py``: ``__main__``, which has no spec) or in
        # a plain top-level module has no package, so no docs folder; importlib.resources would
        # raise AttributeError for the first and look in the module's directory for the second.
        spec = getattr(package, "__spec__", None)
        if spec is None or spec.submodule_search_locations is None:
            return None
        try:
            folder = resources.files(spec.name).joinpath("docs")
        except (ModuleNotFoundError, TypeError, ValueError):
            return None
        return folder if folder.is_dir() else None


_Handler = TypeVar("_Handler", bound=Callable[..., Any])


class ModuleApi(APIRouter):
    """One API major version of a module: a FastAPI router built over the module's shared instance.

    Subclasses set ``module`` (the :class:`Module` subclass) and ``version`` (``"v1"``...), and
    declare their routes in ``__init__`` with paths relative to the module (``/orders``): the host
    adds ``/api/{global}/{module}`` or ``/{version}``. There too they may wrap the version's routes
    in middleware (:meth:`add_middleware`) and answer its errors (:meth:`add_exception_handler`),
    as one would a FastAPI app's.
    """

    module: ClassVar[type[Module]]
    version: ClassVar[str]

    def __init__(self, module: Module, **kwargs: Any) -> None:
        # The host runs the Module's lifespan once per process; a router's own would never run.
        refused = sorted({"lifespan", "on_startup", "on_shutdown"} & kwargs.keys())
        if refused:
            raise TypeError(f"ModuleApi does not take {', '.join(refused)}: put start-up work in Module.lifespan")
        kwargs.setdefault("tags", [module.name])
        super().__init__(**kwargs)
        self.module_instance = module
        self.user_middleware: list[Middleware] = []
        """The version's middleware, outermost first, as ``FastAPI.user_middleware``."""
        self.exception_handlers: dict[int | type[Exception], ExceptionHandler] = {}
        """The version's exception handlers by exception class or status code, as ``FastAPI.exception_handlers``."""
        self._served = False

    def _check_not_served(self, method: str) -> None:
        if self._served:
            raise RuntimeError(
                f"{type(self).__qualname__}.{method}() was called after the version was served, so it would not "
                "apply: call it in __init__"
            )

    def add_middleware(self, middleware_class: MiddlewareFactory[P], *args: P.args, **kwargs: P.kwargs) -> None:
        """Wrap this version's routes, and only them, in an ASGI middleware, as
        ``FastAPI.add_middleware`` wraps an app: ``middleware_class(app, *args, **kwargs)``, the
        last added outermost. HTTP and WebSocket requests to the version pass through it, on every
        deployment (composed, standalone, embedded); other versions and modules never do."""
        self._check_not_served("add_middleware")
        self.user_middleware.insert(0, Middleware(middleware_class, *args, **kwargs))

    def add_exception_handler(self, exc_class_or_status_code: int | type[E], handler: HandlerFor[E]) -> None:
        """Answer the errors of type ``exc_class_or_status_code`` (or the ``HTTPException`` of that
        status code) raised by this version's routes, as ``FastAPI.add_exception_handler`` does for
        an app: ``handler(request, exc)`` returns the response (for a WebSocket, it gets the
        ``WebSocket`` and closes it). The version's handlers are looked up first, by the error's
        class hierarchy; what they do not cover goes on to the app's handlers. Errors a handler
        cannot answer (``Exception``, 500) are left to the app's server error handler."""
        self._check_not_served("add_exception_handler")
        key: object = exc_class_or_status_code
        if isinstance(key, bool) or not (
            isinstance(key, int) or (isinstance(key, type) and issubclass(key, Exception))
        ):
            raise TypeError(f"handle an Exception subclass or an HTTP status code, not {key!r}")
        if key in (Exception, 500):
            raise ValueError(
                f"{type(self).__qualname__} cannot handle {key!r}: an unhandled error is the app's to answer and log; "
                "register handlers for the errors the version raises"
            )
        if not callable(handler):
            raise TypeError(f"the handler of {key!r} must be callable, not {handler!r}")
        self.exception_handlers[exc_class_or_status_code] = handler  # type: ignore[assignment]

    def exception_handler(self, exc_class_or_status_code: int | type[Exception]) -> Callable[[_Handler], _Handler]:
        """:meth:`add_exception_handler` as a decorator, as ``@app.exception_handler(...)``."""

        def decorator(handler: _Handler) -> _Handler:
            self.add_exception_handler(exc_class_or_status_code, handler)
            return handler

        return decorator

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """``app``, which runs this version's routes, inside the version's middleware and exception
        handlers: what the host serves for the version, and the conformance kit too. ``app`` itself
        when the version adds neither, so that it costs nothing."""
        self._served = True
        if not self.user_middleware and not self.exception_handlers:
            return app
        app = ExceptionHandling(app, self.exception_handlers)
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return app


def check_api_class(obj: object, module: str, version: str) -> list[str]:
    """Every way ``obj`` fails to be the API class of ``module`` ``version``; empty when it conforms."""
    if not (isinstance(obj, type) and issubclass(obj, ModuleApi)):
        return [f"{obj!r} is not a subclass of trading_core.ModuleApi"]
    problems = []
    module_cls = getattr(obj, "module", None)
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        problems.append(f"{obj.__qualname__}.module must be a trading_core.Module subclass")
    else:
        name = getattr(module_cls, "name", None)
        if not isinstance(name, str) or not _MODULE_NAME.match(name):
            problems.append(f"{module_cls.__qualname__}.name must be lower-case letters, digits and '_', got {name!r}")
        elif name != module:
            problems.append(f"registered as module {module!r} but {module_cls.__qualname__}.name is {name!r}")
    declared = getattr(obj, "version", None)
    if declared != version:
        problems.append(f"registered as {version!r} but {obj.__qualname__}.version is {declared!r}")
    return problems
