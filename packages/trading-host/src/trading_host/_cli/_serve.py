"""The ``serve`` command of ``trading-host``: check the whole configuration, and that the address
can be listened on, then run uvicorn. Registered in :mod:`trading_host.cli`."""

from __future__ import annotations

import errno
import os
import socket
from contextlib import nullcontext
from typing import Annotated

import typer

from .._plan._config import LoadedConfig, ServerConfig
from .._problems import Problem
from .._serve._factory import AppFactory
from .._wrappers._multiprocess import multiprocess_metrics
from ._options import (
    ConfigOption,
    EnableOption,
    GlobalOption,
    ModuleVersionOption,
    environ_with,
    load_options,
    plan_options,
    print_problems,
)


def listen_problem(server: ServerConfig, loaded: LoadedConfig) -> Problem | None:
    """Why ``server.host``:``server.port`` cannot be listened on, or ``None``.

    Tried here, before uvicorn starts the modules: uvicorn binds after the application's start-up,
    so a server on a busy port would migrate the broker's database before failing to bind. The
    socket is made as uvicorn makes it (``SO_REUSEADDR``), and closed again.
    """
    host, port = server.host, server.port
    if port == 0:
        return None  # any free port
    where = f"{host}:{port} (port from {loaded.where('server.port')}, host from {loaded.where('server.host')})"
    fix = "stop what listens there, or choose another port: --port N, or port in the [server] table"
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return Problem(
            "server-address-invalid",
            f"cannot listen on {where}: the host is not an address of this machine ({exc.strerror})",
            "give an address of this machine: --host 127.0.0.1, or host in the [server] table",
        )
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    reason = "address already in use: another process listens there"
                elif exc.errno == errno.EACCES:
                    reason = "permission denied: ports below 1024 need privileges"
                    fix = "choose a port from 1024 up: --port N, or port in the [server] table"
                else:
                    reason = exc.strerror or str(exc)
                return Problem("server-port-unavailable", f"cannot listen on {where}: {reason}", fix)
    return None


def serve(
    config: ConfigOption = None,
    global_version: GlobalOption = None,
    enable: EnableOption = None,
    module_version: ModuleVersionOption = None,
    host: Annotated[str | None, typer.Option(help="Bind address (default: server.host of the configuration).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: server.port of the configuration).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the composed API with uvicorn, after checking the whole configuration."""
    import uvicorn

    env = environ_with(config, global_version, enable, module_version)
    factory = AppFactory(environ=env)
    # --host and --port are checked as the [server] table is, by the same model.
    loaded = load_options(
        config, global_version, enable, module_version, environ=env, server={"host": host, "port": port}
    )
    plan = plan_options(factory, loaded)
    problems = list(plan.problems)
    if not loaded.problems:
        busy = listen_problem(plan.server, loaded)
        if busy is not None:
            problems.append(busy)
    if problems:
        print_problems(problems)
        raise typer.Exit(2)
    server = plan.server
    # Several workers add up their metrics through files: prometheus-client's multiprocess mode.
    with multiprocess_metrics(env, workers) if plan.metrics.enabled else nullcontext():
        os.environ.update(env)
        uvicorn.run(
            "trading_host.main:app",
            host=server.host,
            port=server.port,
            workers=workers,
            log_level=log_level,
            # uvicorn refuses a bigger WebSocket frame (close 1009) from its header, before reading it.
            ws_max_size=server.max_body_size,
        )
