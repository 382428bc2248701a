"""Fixtures for the integration tests: they run against the installed wheels, never the sources.

Servers are real uvicorn processes started the way a user starts them; plugins that a test needs
(a broken one, a duplicate, one with a new API version) are real distributions written to a
temporary folder and put on the server's PYTHONPATH, which is how importlib.metadata finds them.

Which session runs which test (see noxfile.py): a test marked ``independent`` does not depend on
which first-party modules are installed (it serves only core and plugins it brings, and asserts
nothing about what is installed), so it runs once per set of dependencies, in ``tests(all)`` and
``lowest``; every other test depends on the combination and runs in every ``tests(...)`` session,
skipped where a module it names with ``modules(...)`` is not installed. The other combinations
deselect the independent tests with ``-m "not independent"``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the helpers beside this file, in any import mode

from harness import INSTALLED, Serve, Server, start_server

# Every module a ``modules(...)`` marker may name: the ``tests(all+news)`` session installs them all,
# so each test marked with them runs there at least.
FIRST_PARTY = {"core", "broker", "datafeed", "news"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "modules(*names): the test needs these modules installed")
    config.addinivalue_line(
        "markers",
        "independent: the outcome does not depend on which modules are installed; runs in tests(all) and lowest only",
    )
    source = Path(__file__).resolve().parent.parent / "packages"
    for name in ("trading_core", "trading_host"):
        module = __import__(name)
        if source in Path(module.__file__ or "").resolve().parents:
            raise pytest.UsageError(f"{name} is imported from the source tree; install the wheels (see noxfile.py)")


def pytest_report_header(config: pytest.Config) -> str:
    return f"installed modules: {', '.join(sorted(INSTALLED))}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        needed = {name for marker in item.iter_markers("modules") for name in marker.args}
        if unknown := needed - FIRST_PARTY:
            raise pytest.UsageError(f"{item.nodeid}: modules({', '.join(sorted(unknown))}) is not a first-party module")
        if needed and item.get_closest_marker("independent"):
            # A test that needs a module is skipped where it is missing: it depends on the combination.
            raise pytest.UsageError(f"{item.nodeid} is marked both independent and modules(...)")
        if missing := sorted(needed - INSTALLED):
            item.add_marker(pytest.mark.skip(reason=f"this combination does not install {', '.join(missing)}"))


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """``serve([...args], env=..., ready_path=...)`` starts a server; all are stopped at teardown."""
    servers: list[Server] = []

    def start(
        args: list[str], *, env: Mapping[str, str] | None = None, ready_path: str = "/api/v1/core/health"
    ) -> Server:
        server = start_server(args, cwd=tmp_path, env=env, ready_path=ready_path)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
