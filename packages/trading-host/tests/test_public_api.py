"""The public API of trading_host is what ``__all__`` says: a change to it is a decision, not an accident."""

from __future__ import annotations

from types import ModuleType

import trading_host

PUBLIC = [
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


def test_all_is_pinned() -> None:
    assert trading_host.__all__ == PUBLIC


def test_every_public_name_resolves_and_nothing_private_leaks() -> None:
    for name in PUBLIC:
        assert getattr(trading_host, name) is not None
    # Modules are attributes too once imported (``trading_host.cli``, ``warnings``); they are not API.
    exported = {n for n, v in vars(trading_host).items() if not n.startswith("_") and not isinstance(v, ModuleType)}
    assert exported - set(PUBLIC) == {"Any"}, exported - set(PUBLIC)
