"""The plugin contract of the Trading API platform.

A module is a :class:`Module` subclass (one instance per process, holding the shared service)
plus one :class:`ModuleApi` subclass per API major version, each registered as an entry point
``<module>.v<N>`` in the ``trading_api.modules`` group. A module may also add commands to
``trading-host`` (an entry point in the ``trading_api.commands`` group, given a
:class:`CommandContext`).
"""

from ._commands import COMMANDS_ENTRY_POINT_GROUP, HOST_COMMAND, CommandContext, run_host_command
from ._contract import (
    ENTRY_POINT_GROUP,
    HealthCheck,
    Lifecycle,
    Module,
    ModuleApi,
    ModuleContext,
    ModuleStartupError,
    MountedVersion,
    NoSettings,
    Platform,
    Status,
    check_api_class,
    midnight_utc,
    parse_version,
)
from ._routes import ServedRoute, is_included_router, served_routes
from ._version import __version__

__all__ = [
    "COMMANDS_ENTRY_POINT_GROUP",
    "ENTRY_POINT_GROUP",
    "HOST_COMMAND",
    "CommandContext",
    "HealthCheck",
    "Lifecycle",
    "Module",
    "ModuleApi",
    "ModuleContext",
    "ModuleStartupError",
    "MountedVersion",
    "NoSettings",
    "Platform",
    "ServedRoute",
    "Status",
    "__version__",
    "check_api_class",
    "is_included_router",
    "midnight_utc",
    "parse_version",
    "run_host_command",
    "served_routes",
]
