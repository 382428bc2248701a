"""The ``serve`` command of ``trading-host``: check the whole configuration, then run uvicorn.
Registered in :mod:`trading_host.cli`."""

from __future__ import annotations

import os
from contextlib import nullcontext
from typing import Annotated

import typer

from .._serve._factory import AppFactory
from .._wrappers._multiprocess import multiprocess_metrics
from ._options import (
    ConfigOption,
    EnableOption,
    GlobalOption,
    ModuleVersionOption,
    environ_with,
    print_problems,
)


def serve(
    config: ConfigOption = None,
    global_version: GlobalOption = None,
    enable: EnableOption = None,
    module_version: ModuleVersionOption = None,
    host: Annotated[str | None, typer.Option(help="Bind address (default: [server] host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: [server] port).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the composed API with uvicorn, after checking the whole configuration."""
    import uvicorn

    env = environ_with(config, global_version, enable, module_version)
    factory = AppFactory(environ=env)
    plan = factory.plan()
    if plan.problems:
        print_problems(plan.problems)
        raise typer.Exit(2)
    server = plan.server
    # Several workers add up their metrics through files: prometheus-client's multiprocess mode.
    with multiprocess_metrics(env, workers) if plan.metrics.enabled else nullcontext():
        os.environ.update(env)
        uvicorn.run(
            "trading_host.main:app",
            host=host or server.host,
            port=port if port is not None else server.port,
            workers=workers,
            log_level=log_level,
            # uvicorn refuses a bigger WebSocket frame (close 1009) from its header, before reading it.
            ws_max_size=server.max_body_size,
        )
