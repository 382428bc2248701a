"""Build every package's wheel once, then test each combination of installed wheels.

``nox -l`` lists the sessions. ``nox`` runs them all, side by side; ``nox -s "tests(core+broker)"``
runs one.
The integration tests in ``tests/`` import nothing from the source tree: each session installs
the built wheels into a fresh virtual environment, so a file left out of a wheel or a missing
entry point fails a test.

Every integration test runs in ``tests(all)``. The other combinations run only the tests that
depend on which modules are installed: a test marked ``independent`` does not, and is left out there
(tests/conftest.py says how they are told apart and checks it; each pytest run ends with a line
saying how many independent tests it selected). ``lowest`` runs those and the host's own independent
tests (LOWEST_TESTS). Warnings are errors (pyproject.toml).
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import nox

# Sessions run side by side (nox's --parallel, new in 2026.8.17), each in a process of its own, its
# output printed in one piece when it ends. Each session has an environment of its own, its servers
# take free ports and its PostgreSQL databases have names of their own, so any two can run together;
# many spend much of their time waiting on the servers they start, which another session's work
# fills. Sessions start in the order they are defined here, longest first, once what they require
# is done. `nox -j 1` runs them one after another.
nox.needs_version = ">=2026.8.17"
nox.options.parallel = os.cpu_count() or 1  # "auto": one session per CPU
nox.options.allow_parallel = True
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "no"
nox.options.error_on_missing_interpreters = True
# Servers in the tests start from the installed wheels, hundreds of times a run: where no bytecode is
# written (PYTHONDONTWRITEBYTECODE, set on some machines), every start compiles FastAPI and SQLAlchemy
# again, about 2 s of CPU. So the processes of a session write the bytecode of what they import: each
# module is compiled once, by the first process that imports it. (uv's UV_COMPILE_BYTECODE compiles
# every installed file instead, about 5 s of CPU per session, most of it for modules never imported.)
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

ROOT = Path(__file__).parent
DIST = ROOT / "dist"
SOURCES = {
    "core": ROOT / "packages" / "trading-core",
    "host": ROOT / "packages" / "trading-host",
    "broker": ROOT / "packages" / "trading-broker",
    "datafeed": ROOT / "packages" / "trading-datafeed",
    "news": ROOT / "examples" / "trading-news",
    # The plugin guide's and the breaking-changes cookbook's code: built and unit-tested like the
    # others, installed in no combination (tests/test_cookbook.py puts its wheel on a server's path).
    "alerts": ROOT / "examples" / "trading-alerts",
    "core-client": ROOT / "clients" / "trading-core-client",
    "broker-client": ROOT / "clients" / "trading-broker-client",
    "datafeed-client": ROOT / "clients" / "trading-datafeed-client",
}
DISTRIBUTIONS = {
    "core": "trading_core",
    "host": "trading_host",
    "broker": "trading_broker",
    "datafeed": "trading_datafeed",
    "news": "trading_news",
    "alerts": "trading_alerts",
    "core-client": "trading_core_client",
    "broker-client": "trading_broker_client",
    "datafeed-client": "trading_datafeed_client",
}
PACKAGES = ["core", "host", "broker", "datafeed", "news", "alerts"]
CLIENTS = ["core-client", "broker-client", "datafeed-client"]
# The committed specs are made by these releases; other releases describe validation errors a
# little differently, so the spec check and the breaking-change guard run on exactly these.
SPEC_PINS = ["fastapi==0.165.0", "pydantic==2.14.4"]
# Each combination: the packages installed, and the modules `trading-host modules` must then list.
# `all` first: it runs every integration test, the longest session, so it starts first (the sessions
# start in the order they are defined, see nox.options.parallel).
COMBINATIONS = {
    "all": ["core", "host", "broker", "datafeed"],
    "all+news": ["core", "host", "broker", "datafeed", "news"],
    "core+broker": ["core", "host", "broker"],
    "core+datafeed": ["core", "host", "datafeed"],
    "core": ["core", "host"],
}
MODULES = {"core": "core", "broker": "broker", "datafeed": "datafeed", "news": "news"}
# The oldest releases we claim to support (the lower bounds in the packages' pyproject files).
LOWEST = ["fastapi==0.115.0", "pydantic==2.7.0"]
TEST_REQUIREMENTS = [
    # pytest 9.2 keeps a test's id where pytest-xdist 3.8's `--dist loadgroup` no longer writes its
    # group, so every xdist_group is silently split across processes and each of them starts the
    # group's shared server again (pytest-xdist issue 1386; fix proposed in its pull request 1388).
    "pytest>=8,<9.2",
    "pytest-xdist>=3.6",
    # tests/harness.py asks which process listens on a server's port (another test's server may have
    # taken the same free port and answer for it until the server it started fails to bind).
    "psutil>=6",
    "httpx>=0.27",
    # Starlette's TestClient runs on httpx2 where it is installed and warns that httpx is deprecated
    # (an error here) where it is not; releases before that ignore httpx2.
    "httpx2>=2",
    "openapi-spec-validator>=0.7",
    "packaging>=23",
    "hatchling>=1.21",
    "hypothesis>=6",
    "websockets>=15",
    # tests/test_release.py serves dist/simple/ with a real index server and makes fresh venvs with uv.
    "pypiserver>=2.3",
    "uv>=0.5",
]
# The combination whose session runs every integration test; it installs every module an
# `independent` test may need.
EVERY_TEST = "all"
# `lowest` runs what the combinations run (the tests that depend on which modules are installed) and
# the independent tests of the host's own features, which need no first-party module: the host's
# routing, middleware, OpenAPI documents, lifespans and WebSockets with plugins, where an older
# FastAPI or pydantic would differ. The independent tests of one module's behaviour (broker storage,
# keys and streams, the datafeed's UDF, the broker's contracts) run on the latest releases only.
LOWEST_TESTS = ["-m", "not (independent and modules)"]
# pytest-xdist's processes for tests(all), the longest session, which starts first and ends last.
# The tests are independent: servers take free ports (started again on another if one is taken
# meanwhile), folders are pytest's per-test ones, each PostgreSQL test creates a database of its own.
# A module whose tests share a module-scoped server is one xdist_group: one process makes it once.
# One per CPU: two per CPU measured no faster on 2 CPUs (tests(all), four pairs of runs back to back:
# medians 191 s and 190 s, the pairs' differences -41 s to +45 s), the CPUs being what is short.
WORKERS = ["-n", os.environ.get("TRADING_TEST_WORKERS", "auto"), "--dist", "loadgroup"]
# The other sessions run their tests in one process: beside each other they keep the CPUs busy
# anyway, and each pytest-xdist worker imports and collects everything again. Full `nox` from a
# clean clone, back to back: with workers in `lowest` and the host's, broker's and datafeed's unit
# suites, 452 s and 785 s of CPU; without, 432 s and 738 s.
# The test folders mypy checks, each in a run of its own: several are named tests/ and have a
# conftest.py, and pytest imports each folder's helpers as top-level modules. Their functions may
# leave fixtures unannotated; their bodies are checked all the same (check_untyped_defs).
TYPED_TESTS = [ROOT / "tests", *(SOURCES[p] / "tests" for p in PACKAGES)]


def wheel(name: str) -> Path:
    found = sorted(DIST.glob(f"{DISTRIBUTIONS[name]}-*.whl"))
    if len(found) != 1:
        raise RuntimeError(f"expected one wheel of {name} in {DIST}, found {len(found)}: run `nox -s wheels`")
    return found[0]


def install_wheels(session: nox.Session, names: list[str], *extra: str) -> None:
    # --find-links lets the resolver take our own wheels (trading-core...) from dist/, never an index.
    session.install("--find-links", str(DIST), *(str(wheel(n)) for n in names), *extra)


@nox.session
def wheels(session: nox.Session) -> None:
    """Build the wheel of every package into dist/ (once; the other sessions install them)."""
    session.install("build", "hatchling>=1.21")
    DIST.mkdir(exist_ok=True)
    for old in DIST.glob("*.whl"):
        old.unlink()
    for source in SOURCES.values():
        session.run("python", "-m", "build", "--wheel", "--no-isolation", "--outdir", str(DIST), str(source))


RELEASE = DIST / "simple"
"""The release index: a PEP 503 simple repository folder, served as is by any static file server or
by pypiserver (tests/test_release.py), from which `pip install --index-url` installs by name."""


def write_simple_index(files: list[Path], index: Path) -> None:
    """Lay out ``files`` (wheels and sdists) as a PEP 503 simple index in ``index``: one folder per
    normalized project name holding its files and an ``index.html`` linking them with their SHA-256.

    Written here because the layout is a dozen lines of the standard: the maintained tools that make
    one (pypiserver, devpi, dumb-pypi) are servers or want a package list file and a base URL, while
    this folder must work from any static host and from pypiserver alike."""
    if index.exists():
        shutil.rmtree(index)
    projects: dict[str, list[Path]] = {}
    for file in files:
        # A wheel's and an sdist's file name starts with the distribution name (underscores for -.).
        name = file.name.split("-")[0] if file.suffix == ".whl" else file.name.rsplit("-", 1)[0]
        projects.setdefault(re.sub(r"[-_.]+", "-", name).lower(), []).append(file)
    links = []
    for project, found in sorted(projects.items()):
        folder = index / project
        folder.mkdir(parents=True)
        anchors = []
        for file in sorted(found):
            shutil.copy2(file, folder / file.name)
            digest = hashlib.sha256(file.read_bytes()).hexdigest()
            anchors.append(f'<a href="{html.escape(file.name)}#sha256={digest}">{html.escape(file.name)}</a><br>')
        page = f"<!DOCTYPE html><html><head><title>Links for {project}</title></head><body>\n"
        (folder / "index.html").write_text(page + "\n".join(anchors) + "\n</body></html>\n")
        links.append(f'<a href="{project}/">{project}</a><br>')
    root = "<!DOCTYPE html><html><head><title>Simple index</title></head><body>\n"
    (index / "index.html").write_text(root + "\n".join(links) + "\n</body></html>\n")


@nox.session(requires=["wheels"])
def release(session: nox.Session) -> None:
    """Every distribution's wheel (from `wheels`) and sdist, `twine check`-ed, as a PEP 503 index in
    dist/simple/.

    Serve the folder (``pypi-server run -p 8080 dist/simple`` or any static server) and install by
    name: ``pip install --index-url http://HOST:8080/simple/ trading-host 'trading-broker==2.*'``."""
    session.install("build", "hatchling>=1.21", "twine>=5")
    sdists = DIST / "sdist"
    if sdists.exists():
        shutil.rmtree(sdists)
    for source in SOURCES.values():
        session.run("python", "-m", "build", "--sdist", "--no-isolation", "--outdir", str(sdists), str(source))
    files = [wheel(name) for name in SOURCES] + sorted(sdists.glob("*.tar.gz"))
    session.run("twine", "check", "--strict", *(str(f) for f in files))
    write_simple_index(files, RELEASE)
    shutil.rmtree(sdists)
    session.log(f"{len(files)} files of {len(SOURCES)} distributions in {RELEASE}")


# tests/test_release.py installs by name from the release index (dist/simple/).
@nox.session(requires=["wheels", "release"])
@nox.parametrize("combination", list(COMBINATIONS), ids=list(COMBINATIONS))
def tests(session: nox.Session, combination: str) -> None:
    """Install one combination of wheels into a fresh environment and run the root tests/."""
    names = COMBINATIONS[combination]
    install_wheels(session, names + CLIENTS, *TEST_REQUIREMENTS)
    expected = {"TRADING_EXPECT_MODULES": ",".join(MODULES[n] for n in names if n in MODULES)}
    # tests(all) requires each independent test to run, on pytest-xdist; the others leave them out
    # and run their twenty-odd tests in one process (tests(core): 15.8 s of CPU against 19.7 s with
    # the workers).
    every = combination == EVERY_TEST
    workers = WORKERS if every else []
    independent = "--independent=require" if every else "--independent=deselect"
    session.run("pytest", "tests", *workers, independent, *session.posargs, env=expected)


@nox.session(requires=["wheels"])
def lowest(session: nox.Session) -> None:
    """All four packages on the oldest FastAPI and pydantic we support (see LOWEST_TESTS)."""
    install_wheels(session, COMBINATIONS[EVERY_TEST] + CLIENTS, *TEST_REQUIREMENTS, *LOWEST)
    show = "import fastapi, pydantic; print('fastapi', fastapi.__version__, 'pydantic', pydantic.VERSION)"
    session.run("python", "-c", show)
    expected = {"TRADING_EXPECT_MODULES": "core,broker,datafeed"}
    session.run("pytest", "tests", *LOWEST_TESTS, *session.posargs, env=expected)


# The fleet tests start a whole fleet (supervisord, nginx, eleven replicas, PostgreSQL) once, in a
# session of their own; the combination sessions skip them (no supervisord there).
FLEET_TESTS = ["tests/test_fleet.py", "tests/test_fleet_check.py"]


@nox.session(requires=["wheels"])
def fleet(session: nox.Session) -> None:
    """The fleet: trading-host[fleet] with every module, behind a real nginx (tests/test_fleet*.py)."""
    install_wheels(session, COMBINATIONS[EVERY_TEST] + CLIENTS, *TEST_REQUIREMENTS, "trading-host[fleet]")
    env = {"TRADING_FLEET_TESTS": "require"}
    # One process per file: the fleet of test_fleet.py is started once (`loadfile` does not depend on
    # xdist_group, which pytest 9.2 with pytest-xdist 3.8 does not honour: nodeids keep no @group).
    session.run("pytest", *FLEET_TESTS, "-n", "2", "--dist", "loadfile", *session.posargs, env=env)


@nox.session(requires=["wheels"])
def benchmarks(session: nox.Session) -> None:
    """Every benchmark in quick mode against the installed wheels: a smoke test that they run.

    The figures of a quick run mean little; full runs and their results are in benchmarks/README.md.
    """
    # trading-host[fleet]: bench_fleet.py starts fleets under supervisord (with nginx and PostgreSQL).
    install_wheels(session, COMBINATIONS["all"], "httpx", "h11", "websockets>=15", "trading-host[fleet]")
    # bench_fleet.py spends most of its quick run waiting for fleets to start and stop, so it runs
    # beside the others (a smoke run's figures mean nothing anyway): about 50 s off the session.
    log = Path(session.create_tmp()) / "bench_fleet.log"
    with log.open("wb") as out:
        fleet = subprocess.Popen(
            [str(Path(session.bin) / "python"), "benchmarks/bench_fleet.py", "--quick"], stdout=out, stderr=out
        )
        try:
            scripts = ("bench_calls.py", "bench_dispatch.py", "bench_startup.py", "bench_streams.py", "bench_orders.py")
            for script in (*scripts, "bench_responsiveness.py"):
                quick = [] if script == "bench_calls.py" else ["--quick"]
                session.run("python", f"benchmarks/{script}", *quick)
        finally:
            returncode = fleet.wait()
    session.log("benchmarks/bench_fleet.py --quick:\n" + log.read_text(errors="replace"))
    if returncode != 0:
        session.error(f"benchmarks/bench_fleet.py --quick exited with {returncode}")


@nox.session(requires=["wheels"])
def fuzz(session: nox.Session) -> None:
    """schemathesis over every served global version's OpenAPI on a real server (fuzz/run.py).

    Fixed seed, bounded examples; ``nox -s fuzz -- --max-examples 300 --seed 7`` for a longer hunt.
    """
    install_wheels(session, COMBINATIONS["all"], "schemathesis>=4.32.5,<4.33")
    session.run("python", "fuzz/run.py", *session.posargs)


@nox.session(requires=["wheels"])
@nox.parametrize("package", PACKAGES, ids=PACKAGES)
def unit(session: nox.Session, package: str) -> None:
    """One package's own unit tests, against its installed wheel (and only what it depends on).

    The broker's tests of its commands, which run inside the host (marked ``needs_host``), run in a
    second step, once the host is installed: the first proves the broker works without it.
    """
    needed = {"core": ["core"], "news": ["core", "news"], "host": ["core", "host"]}.get(package, ["core", package])
    # The host's contract tooling (its `contracts` and `clients` extras) is under test too.
    extra = ["openapi-python-client>=0.29.1,<0.30", "jsonschema>=4.18", "pyyaml>=6"] if package == "host" else []
    install_wheels(session, needed, *TEST_REQUIREMENTS, *extra)
    folder = str(SOURCES[package] / "tests")
    if package != "broker":
        session.run("pytest", folder, *session.posargs)
        return
    session.run("pytest", folder, "-m", "not needs_host", *session.posargs)
    install_wheels(session, ["host"])
    session.run("pytest", folder, "-m", "needs_host", *session.posargs)


@nox.session(requires=["wheels"])
def mypy(session: nox.Session) -> None:
    """mypy --strict over every package's sources, then over the test folders."""
    # The generated clients are left out: their code is the generator's, checked by `contracts`.
    types = ["types-PyYAML", "types-jsonschema", "types-psutil"]
    # The host's tests of `trading-host clients` import the generator (the host's `clients` extra).
    tools = ["openapi-python-client>=0.29.1,<0.30"]
    install_wheels(session, PACKAGES, "mypy", "nox", *types, *tools, *TEST_REQUIREMENTS)
    session.run("mypy", *(str(SOURCES[p] / "src") for p in PACKAGES), "noxfile.py", "benchmarks", "fuzz")
    for folder in TYPED_TESTS:
        # The folder on the path, so that its helpers resolve as pytest imports them.
        flags = ["--allow-untyped-defs", "--allow-incomplete-defs", "--check-untyped-defs"]
        session.run("mypy", *flags, str(folder.relative_to(ROOT)), env={"MYPYPATH": str(folder)})


@nox.session(requires=["wheels"])
def contracts(session: nox.Session) -> None:
    """The committed specs match the code, no released spec is broken, the clients are fresh."""
    install_wheels(
        session,
        COMBINATIONS["all+news"],
        *SPEC_PINS,
        "openapi-spec-validator>=0.7",
        "jsonschema>=4.18",
        "pyyaml>=6",
        "openapi-python-client>=0.29.1,<0.30",
    )
    session.run("trading-host", "specs", "--guard")
    session.run("trading-host", "specs", "--check")
    # --typescript: the npm packages of clients/typescript/ too (needs node and npm; npm ci of its lockfile)
    session.run("trading-host", "clients", "--check", "--typescript", "-m", "core", "-m", "broker", "-m", "datafeed")


@nox.session(requires=["wheels"])
def lint(session: nox.Session) -> None:
    """ruff (lint and formatting), then import-linter: the host's layers and the packages' arrows."""
    # import-linter reads the import graph of the installed packages: the same code as the sources.
    install_wheels(session, PACKAGES, "ruff", "import-linter>=2.1")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports", "--no-cache")
