"""The Trading API host: discovers installed modules and composes them by the version matrix."""

import warnings
from typing import Any

from . import _collector

# The imports below make FastAPI's, pydantic's and the host's classes: see _collector.
with _collector.collector_paused():
    # First, before anything imports trading_core: an unrelated project's trading-core is named, with the fix.
    from . import _origin  # noqa: F401  (checks on import)
    from ._asgi import ROLLOUT_KEY, SCOPE_KEY, ServedVersion
    from ._documents._openapi import merge_openapi, module_openapi
    from ._plan._clock import Clock
    from ._plan._config import HostConfig, LoadedConfig, load_config
    from ._plan._discovery import Installed, Provider, discover
    from ._plan._matrix import Plan, resolve
    from ._problems import ConfigError, Problem
    from ._serve._factory import AppFactory, embed
    from ._version import __version__
    from ._wrappers._rollout import VERSION_HEADER

__all__ = [
    "ROLLOUT_KEY",
    "SCOPE_KEY",
    "VERSION_HEADER",
    "AppFactory",
    "Clock",
    "ConfigError",
    "HostConfig",
    "Installed",
    "LoadedConfig",
    "Plan",
    "Problem",
    "Provider",
    "ServedVersion",
    "__version__",
    "discover",
    "embed",
    "load_config",
    "merge_openapi",
    "module_openapi",
    "resolve",
]


def __getattr__(name: str) -> Any:
    # Deprecated names keep working, with a warning, for a release before they are removed.
    if name == "Mount":
        warnings.warn(
            "trading_host.Mount is deprecated: it is trading_host.ServedVersion (the name no longer "
            "suggests Starlette's Mount route)",
            DeprecationWarning,
            stacklevel=2,
        )
        return ServedVersion
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
