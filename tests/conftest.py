"""Fixtures for the integration tests: they run against the installed wheels, never the sources.

Servers are real uvicorn processes started the way a user starts them; plugins that a test needs
(a broken one, a duplicate, one with a new API version) are real distributions written to a
temporary folder and put on the server's PYTHONPATH, which is how importlib.metadata finds them.

Which session runs which test (see noxfile.py): a test marked ``independent`` does not depend on
which modules are installed beyond those it names with ``modules(...)``: it enables only those
modules and plugins it brings, or asserts nothing about the others. It runs in the session that
runs every test, ``tests(all)``, with ``--independent=require``: there, one that would be skipped
for a missing module is an error. Every other test depends on the combination and runs in each
``tests(...)`` session, skipped where a module it names is not installed; those sessions leave the
independent tests out with ``--independent=deselect``. Each run ends with a line saying how many
independent tests it selected.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the helpers beside this file, in any import mode

from harness import INSTALLED, Serve, Server, start_server

# Every module a ``modules(...)`` marker may name: the ``tests(all+news)`` session installs them all,
# so each test marked with them runs there at least.
FIRST_PARTY = {"core", "broker", "datafeed", "news"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "modules(*names): the test needs these modules installed")
    # pytest-xdist's own marker, named here for the runs without it: a module whose tests share a
    # module-scoped fixture (a server) puts them in one group, run by one process (--dist loadgroup),
    # so that the fixture is made once.
    config.addinivalue_line("markers", "xdist_group(name): run these tests in one pytest-xdist process")
    config.addinivalue_line(
        "markers",
        "independent: the outcome does not depend on which modules are installed beyond those named by "
        "modules(...); runs only in the sessions that run every test",
    )
    source = Path(__file__).resolve().parent.parent / "packages"
    for name in ("trading_core", "trading_host"):
        module = __import__(name)
        if source in Path(module.__file__ or "").resolve().parents:
            raise pytest.UsageError(f"{name} is imported from the source tree; install the wheels (see noxfile.py)")


def pytest_report_header(config: pytest.Config) -> str:
    return f"installed modules: {', '.join(sorted(INSTALLED))}"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--independent",
        choices=("run", "deselect", "require"),
        default="run",
        help="tests marked independent: run them (default), leave them out (a session that runs only "
        "what depends on the installed combination), or require that each of them can run here",
    )


# How many independent tests this run selected, of how many collected (this hook runs before -m's).
INDEPENDENT = pytest.StashKey[tuple[int, int]]()
COLLECTED = pytest.StashKey[int]()
UNGROUPED = pytest.StashKey[bool]()


@pytest.hookimpl(trylast=True)  # after pytest-xdist's, which marks the ids of grouped tests
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # In a pytest-xdist process under --dist loadgroup, a grouped test's id must carry its group,
    # or the group is split across processes, each starting its shared server: slower, silently.
    # (An error raised here is lost by pytest-xdist, so the first such test fails with it.)
    if getattr(config.option, "loadgroup", False):
        split = [item for item in items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
        if split:
            split[0].stash[UNGROUPED] = True
    mode = config.getoption("independent")
    kept: list[pytest.Item] = []
    independent: list[pytest.Item] = []
    for item in items:
        needed = {name for marker in item.iter_markers("modules") for name in marker.args}
        if unknown := needed - FIRST_PARTY:
            raise pytest.UsageError(f"{item.nodeid}: modules({', '.join(sorted(unknown))}) is not a first-party module")
        missing = sorted(needed - INSTALLED)
        if item.get_closest_marker("independent"):
            independent.append(item)
            if mode == "deselect":
                continue
            if missing and mode == "require":
                raise pytest.UsageError(
                    f"{item.nodeid} is independent, so it runs only where every test runs, but this "
                    f"session does not install {', '.join(missing)}"
                )
        if missing:
            item.add_marker(pytest.mark.skip(reason=f"this combination does not install {', '.join(missing)}"))
        kept.append(item)
    config.stash[COLLECTED] = len(independent)
    if mode == "deselect" and independent:
        config.hook.pytest_deselected(items=independent)
        items[:] = kept


def pytest_collection_finish(session: pytest.Session) -> None:
    selected = sum(1 for item in session.items if item.get_closest_marker("independent"))
    session.config.stash[INDEPENDENT] = (selected, session.config.stash.get(COLLECTED, 0))


def pytest_sessionfinish(session: pytest.Session) -> None:
    # Under pytest-xdist the workers collect, not the main process: they send it what they found.
    if hasattr(session.config, "workeroutput") and INDEPENDENT in session.config.stash:
        session.config.workeroutput["independent"] = session.config.stash[INDEPENDENT]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    found = getattr(node, "workeroutput", {}).get("independent")
    if found is not None:
        node.config.stash[INDEPENDENT] = tuple(found)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if INDEPENDENT in config.stash:
        selected, collected = config.stash[INDEPENDENT]
        line = f"{selected} of the {collected} tests independent of the installed modules selected here"
        if selected < collected:
            line += " (all of them run in the session that runs every test)"
        terminalreporter.write_line(line)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.stash.get(UNGROUPED, False):
        pytest.fail(
            f"pytest-xdist's --dist loadgroup does not group tests on pytest {pytest.__version__} (pytest-xdist "
            "issue 1386): install the pytest release that noxfile.py's TEST_REQUIREMENTS names"
        )


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """``serve([...args], env=..., ready_path=...)`` starts a server; all are stopped at teardown."""
    servers: list[Server] = []

    def start(
        args: list[str],
        *,
        env: Mapping[str, str] | None = None,
        ready_path: str = "/api/v1/core/health",
        fresh: bool = False,
    ) -> Server:
        server = start_server(args, cwd=tmp_path, env=env, ready_path=ready_path, fresh=fresh)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
