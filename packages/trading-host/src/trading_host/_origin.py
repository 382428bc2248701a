"""Whether the installed ``trading-core`` is ours: a different, unrelated project uses the same name
on the public package index, and an install by name without our index gets it. Checked on import
(``__init__.py`` imports this module first), before the host imports anything from trading_core, so
that the error names the distribution and the fix instead of an obscure ``ImportError`` from deep
inside the host. Imports nothing of the host."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

CORE = "trading-core"
GROUP = "trading_api.modules"
"""The entry-point group of the contract (``trading_core.ENTRY_POINT_GROUP``, not imported here)."""
CORE_ENTRY_POINT = "core.v1"
"""The entry point our trading-core declares in ``GROUP``: its core module."""


class ForeignTradingCore(ImportError):
    """The installed trading-core is another project's, not the Trading API platform's contract."""


def foreign_core_message() -> str | None:
    """What is wrong with the installed trading-core, or ``None`` when it is ours (or absent, which
    the import that follows reports as usual)."""
    try:
        dist = metadata.distribution(CORE)
    except metadata.PackageNotFoundError:
        return None
    names = {ep.name for ep in dist.entry_points if ep.group == GROUP}
    if CORE_ENTRY_POINT in names:
        return None
    where = dist.locate_file("")
    return (
        f"the installed {CORE} {dist.version} (in {where}) is not the Trading API platform's contract: "
        f"it has no entry point {CORE_ENTRY_POINT!r} in the group {GROUP!r} "
        "(the platform's trading-core declares its core module there). "
        f"An unrelated project uses the name {CORE} on the public package index, and an install by name "
        "without the platform's index gets it.\n"
        f"fix: pip uninstall -y {CORE} && pip install --index-url <the platform's index> {CORE} "
        "(or --extra-index-url with an index that holds the platform's releases; see the README's Install)"
    )


def check_trading_core() -> None:
    """Raise :class:`ForeignTradingCore` when the installed trading-core is not ours. Run as the
    ``trading-host`` command, print the message and exit with status 2 instead (no traceback)."""
    message = foreign_core_message()
    if message is None:
        return
    if Path(sys.argv[0]).name in {"trading-host", "trading-host.exe"}:
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)
    raise ForeignTradingCore(message)


check_trading_core()
