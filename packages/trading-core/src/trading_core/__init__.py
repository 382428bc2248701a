"""The plugin contract of the Trading API platform.

A module is a :class:`Module` subclass (one instance per process, holding the shared service)
plus one :class:`ModuleApi` subclass per API major version, each registered as an entry point
``<module>.v<N>`` in the ``trading_api.modules`` group.
"""

from ._contract import (
    ENTRY_POINT_GROUP,
    HealthCheck,
    Lifecycle,
    Module,
    ModuleApi,
    ModuleContext,
    MountedVersion,
    NoSettings,
    Platform,
    Status,
    check_api_class,
    midnight_utc,
    parse_version,
)
from ._version import __version__

__all__ = [
    "ENTRY_POINT_GROUP",
    "HealthCheck",
    "Lifecycle",
    "Module",
    "ModuleApi",
    "ModuleContext",
    "MountedVersion",
    "NoSettings",
    "Platform",
    "Status",
    "__version__",
    "check_api_class",
    "midnight_utc",
    "parse_version",
]
