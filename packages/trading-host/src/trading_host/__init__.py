"""The Trading API host: discovers installed modules and composes them by the version matrix."""

from ._clock import Clock
from ._config import HostConfig, LoadedConfig, load_config
from ._discovery import Installed, Provider, discover
from ._dispatch import ROLLOUT_KEY, SCOPE_KEY, Mount
from ._factory import AppFactory, embed
from ._matrix import Plan, resolve
from ._openapi import merge_openapi, module_openapi
from ._problems import ConfigError, Problem
from ._rollout import VERSION_HEADER
from ._version import __version__

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
    "Mount",
    "Plan",
    "Problem",
    "Provider",
    "__version__",
    "discover",
    "embed",
    "load_config",
    "merge_openapi",
    "module_openapi",
    "resolve",
]
