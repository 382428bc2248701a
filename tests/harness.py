"""Helpers of the integration tests: servers, the CLI, hand-written installed distributions."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import forked
import httpx
import psutil

BIN = Path(sys.executable).parent


def _installed_modules() -> set[str]:
    return {ep.name.partition(".")[0] for ep in metadata.entry_points(group="trading_api.modules")}


INSTALLED = _installed_modules()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """The environment minus any Trading API setting the test runner happened to have."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"GLOBAL_VERSION", "ENABLED_MODULES", "MODULE_VERSION", "TRADING_CONFIG", "TRADING_API_PREFIX"}
        and not k.startswith("TRADING_MODULES__")
    }
    env.update(extra)
    return env


@dataclass
class Server:
    """A real server process and an HTTP client for it."""

    process: forked.Process
    base_url: str
    log: Path
    launched: float = 0.0
    """``time.monotonic()`` just before the process was started."""
    ready: float = 0.0
    """``time.monotonic()`` when it first answered."""
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.base_url, timeout=10)

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, **kwargs)

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> str:
        """Stop the server the way a process manager does (SIGTERM) and return its output."""
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.output()


class Serve(Protocol):
    """The ``serve`` fixture: starts a server (``{port}`` in ``args`` is a free port), stopped at teardown."""

    def __call__(
        self,
        args: list[str],
        *,
        env: Mapping[str, str] | None = None,
        ready_path: str = "/api/v1/core/health",
        fresh: bool = False,
    ) -> Server: ...


class PortTaken(Exception):
    """The server could not bind its port: something took it after ``free_port()`` chose it."""


def start_server(
    args: list[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    ready_path: str = "/api/v1/core/health",
    fresh: bool = False,
) -> Server:
    """Start ``args`` (``{port}`` in them stands for a free port) and wait until it answers.

    Tests run in parallel processes, so a port found free may be taken before the server binds
    it; the server is then started again on another port. ``fresh``: in a new interpreter even
    if it is one of this environment's scripts (see ``forked``).
    """
    for _ in range(4):
        port = free_port()
        try:
            command = [a.replace("{port}", str(port)) for a in args]
            return _start_on(command, port=port, cwd=cwd, env=env, ready_path=ready_path, fresh=fresh)
        except PortTaken:
            if not any("{port}" in a for a in args):
                raise
    raise AssertionError(f"no free port found for {args}")


def _start_on(
    args: list[str], *, port: int, cwd: Path, env: Mapping[str, str] | None, ready_path: str, fresh: bool
) -> Server:
    log = cwd / f"server-{port}.log"
    log.write_text("")
    launched = time.monotonic()
    process = forked.popen(args, cwd=cwd, env=env or clean_env(), output=log, fresh=fresh)
    server = Server(process, f"http://127.0.0.1:{port}", log, launched=launched)
    deadline = launched + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = server.output()
            server.client.close()
            if "address already in use" in output.lower():
                raise PortTaken(output)
            raise AssertionError(f"server exited with {process.returncode}:\n{output}")
        try:
            # The server's own client: making one per try costs more CPU (certificates) than the try.
            if server.client.get(ready_path, timeout=1).status_code < 500 and _listens(process, port):
                server.ready = time.monotonic()
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    server.stop()
    raise AssertionError(f"server did not answer {ready_path} within 30 s:\n{server.output()}")


def _listens(process: forked.Process, port: int) -> bool:
    """Whether ``process`` (or a process it started) is what listens on ``port``.

    uvicorn binds its port only once the application has started, a second or so after launch.
    Meanwhile a server of another test that took the same free port answers on it, and the test
    would talk to that server (its database, its settings) while its own fails to bind. So an
    answer counts once the listening socket is the server's own.
    """
    try:
        parent = psutil.Process(process.pid)
        for member in (parent, *parent.children(recursive=True)):
            for connection in member.net_connections(kind="tcp"):
                if connection.status == psutil.CONN_LISTEN and connection.laddr and connection.laddr.port == port:
                    return True
    except psutil.NoSuchProcess:
        pass
    return False


def ok(response: Any) -> Any:
    """The JSON body of a 200 answer (the body is shown when it is not one)."""
    assert response.status_code == 200, f"{response.status_code}: {response.text}"
    return response.json()


def run_cli(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed ``trading-host`` command (forked, see ``forked``)."""
    return forked.run([str(BIN / "trading-host"), *args], cwd=cwd, env=env or clean_env())


def cli_json(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> object:
    result = run_cli(*args, "--json", cwd=cwd, env=env)
    return json.loads(result.stdout)


@dataclass
class FakeDistribution:
    """A real installed distribution, written by hand: a .dist-info folder and its modules."""

    root: Path
    name: str
    version: str

    @property
    def dist_info(self) -> Path:
        return self.root / f"{self.name.replace('-', '_')}-{self.version}.dist-info"


def write_distribution(
    root: Path,
    name: str,
    version: str,
    *,
    entry_points: Mapping[str, str],
    files: Mapping[str, str],
    requires: list[str] | None = None,
) -> FakeDistribution:
    """Install ``name`` into ``root`` (a folder for PYTHONPATH) with the given entry points and files."""
    dist = FakeDistribution(root, name, version)
    dist.dist_info.mkdir(parents=True, exist_ok=True)
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    meta += [f"Requires-Dist: {r}" for r in requires or []]
    (dist.dist_info / "METADATA").write_text("\n".join(meta) + "\n")
    lines = ["[trading_api.modules]", *(f"{k} = {v}" for k, v in entry_points.items())]
    (dist.dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    return dist


def with_pythonpath(root: Path, **extra: str) -> dict[str, str]:
    return clean_env(PYTHONPATH=str(root), **extra)
