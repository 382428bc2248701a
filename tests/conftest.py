"""Fixtures for the integration tests: they run against the installed wheels, never the sources.

Servers are real uvicorn processes started the way a user starts them; plugins that a test needs
(a broken one, a duplicate, one with a new API version) are real distributions written to a
temporary folder and put on the server's PYTHONPATH, which is how importlib.metadata finds them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the helpers beside this file, in any import mode

from harness import INSTALLED, Server, free_port, start_server


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "modules(*names): the test needs these modules installed")
    source = Path(__file__).resolve().parent.parent / "packages"
    for name in ("trading_core", "trading_host"):
        module = __import__(name)
        if source in Path(module.__file__ or "").resolve().parents:
            raise pytest.UsageError(f"{name} is imported from the source tree; install the wheels (see noxfile.py)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for marker in item.iter_markers("modules"):
            missing = sorted(set(marker.args) - INSTALLED)
            if missing:
                item.add_marker(pytest.mark.skip(reason=f"this combination does not install {', '.join(missing)}"))


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[object]:
    """``serve([...args], env=..., ready_path=...)`` starts a server; all are stopped at teardown."""
    servers: list[Server] = []

    def start(
        args: list[str], *, env: Mapping[str, str] | None = None, ready_path: str = "/api/v1/core/health"
    ) -> Server:
        port = free_port()
        full = [a.replace("{port}", str(port)) for a in args]
        server = start_server(full, port=port, cwd=tmp_path, env=env, ready_path=ready_path)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
