"""``check_api``: everything one module version must do, from construction to shutdown."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ValidationError

from .._contract import (
    _MODULE_NAME,
    HealthCheck,
    Module,
    ModuleApi,
    ModuleContext,
    MountedVersion,
    Platform,
    parse_version,
)
from ._routes import check_openapi, check_routes
from ._session import check_session


def _check_declarations(api_cls: type[ModuleApi]) -> list[str]:
    """The class attributes the host reads before building anything: ``version`` and ``module.name``."""
    problems = []
    version = getattr(api_cls, "version", None)
    if not isinstance(version, str):
        problems.append(f"{api_cls.__name__}.version must be an API version such as 'v1', got {version!r}")
    else:
        try:
            parse_version(version)
        except ValueError as exc:
            problems.append(f"{api_cls.__name__}.version: {exc}")
    module_cls = getattr(api_cls, "module", None)
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        problems.append(f"{api_cls.__name__}.module must be a trading_core.Module subclass, got {module_cls!r}")
        return problems
    name = getattr(module_cls, "name", None)
    if not isinstance(name, str) or not _MODULE_NAME.match(name):
        problems.append(f"{module_cls.__name__}.name must be lower-case letters, digits and '_', got {name!r}")
    return problems


def _check_settings_model(module_cls: type[Module]) -> list[str]:
    settings = getattr(module_cls, "Settings", None)
    if not (isinstance(settings, type) and issubclass(settings, BaseModel)):
        return [f"{module_cls.__name__}.Settings must be a pydantic BaseModel subclass, got {settings!r}"]
    if settings.model_config.get("extra") != "forbid":
        # The host validates [modules.<name>] before serving; a typo there must fail, not vanish.
        return [
            f"{module_cls.__name__}.Settings ({settings.__name__}) accepts unknown keys: set "
            "model_config = ConfigDict(extra='forbid') so that a misspelt setting is reported"
        ]
    return []


def _build(api_cls: type[ModuleApi], settings: Mapping[str, Any]) -> tuple[Module | None, ModuleApi | None, list[str]]:
    """Construct the module as the host does (one instance, registered in the platform) and its router."""
    module_cls = api_cls.module
    name = module_cls.__name__
    health: dict[str, HealthCheck] = {}
    platform = Platform(health=MappingProxyType(health))
    context = ModuleContext(settings=dict(settings), platform=platform)
    try:
        module = module_cls(context)
    except ValidationError as exc:
        errors = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(table)'}: {e['msg']}" for e in exc.errors())
        return None, None, [f"{name} rejected the settings {dict(settings)!r}: {errors}"]
    except Exception as exc:  # a constructor that raises would stop the host before it serves anything
        return None, None, [f"{name}(ModuleContext(...)) raised {type(exc).__name__}: {exc}"]
    health[module_cls.name] = module.health
    platform.mounted.append(
        MountedVersion(module_cls.name, api_cls.version, "(conformance kit)", "0", (api_cls.version,))
    )
    try:
        api = api_cls(module)
    except Exception as exc:  # the host builds the router with the module instance alone
        return module, None, [f"{api_cls.__name__}(module) raised {type(exc).__name__}: {exc}"]
    if getattr(api, "module_instance", None) is not module:
        return module, None, [f"{api_cls.__name__}.__init__ must call super().__init__(module)"]
    return module, api, []


def check_api(api_cls: object, settings: Mapping[str, Any] | None = None) -> list[str]:
    """Every way ``api_cls`` fails as one version of a module; empty when it conforms.

    Constructs the module with a :class:`~trading_core.ModuleContext` holding ``settings`` (its
    ``[modules.<name>]`` table) and builds the router over it as the host does. Then checks that
    every route is an ``APIRoute`` or ``APIWebSocketRoute`` with a path starting with ``/``, that
    operation ids are unique, that every HTTP route declares its response, that the OpenAPI
    document validates, and, inside a TestClient session, that the module's lifespan enters and
    exits cleanly exactly once, ``health()`` returns a dict with ``"status"`` and no parameterless
    GET fails with an unhandled error.
    """
    if not (isinstance(api_cls, type) and issubclass(api_cls, ModuleApi)):
        return [f"{api_cls!r} is not a subclass of trading_core.ModuleApi"]
    problems = _check_declarations(api_cls)
    if problems:
        return problems
    problems += _check_settings_model(api_cls.module)
    module, api, build_problems = _build(api_cls, settings or {})
    if module is None or api is None:
        return problems + build_problems
    problems += check_routes(api)
    problems += check_openapi(api)
    problems += check_session(module, api)
    return problems
