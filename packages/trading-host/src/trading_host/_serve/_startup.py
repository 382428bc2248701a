"""A module that cannot start: one message naming the module, what failed and the fix, no traceback.

The runtime turns an exception raised by a module's lifespan into :class:`StartupFailed` and logs
it once (the traceback only at DEBUG level). Starlette's lifespan would hand the server the whole
traceback as its failure message, which uvicorn prints; :func:`report_startup_failures` hands it
none for a failure already reported (the exception still ends the lifespan, as the ASGI spec has
it), so uvicorn prints only that the application could not start, and exits with status 3.
"""

from __future__ import annotations

import sys

from starlette.routing import Router
from starlette.types import Message, Receive, Scope, Send

from trading_core import ModuleStartupError

from .._problems import Problem

_REPORTING = "__trading_host_reports_startup__"


def describe_error(exc: BaseException) -> str:
    """``Type: first line of the message``: a driver's message may run over many lines."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def startup_problem(module: str, exc: BaseException) -> Problem:
    """The problem of ``module``'s lifespan raising ``exc``: the module's own message and fix for
    a :class:`~trading_core.ModuleStartupError`, the exception's type and first line otherwise."""
    if isinstance(exc, ModuleStartupError):
        fix = exc.fix or f"check [modules.{module}] in the configuration and what the module connects to"
        return Problem("module-startup-failed", f"module '{module}' cannot start: {exc.message}", fix)
    return Problem(
        "module-startup-failed",
        f"module '{module}' cannot start: {describe_error(exc)}",
        f"check [modules.{module}] in the configuration and what the module connects to "
        "(the traceback is logged at DEBUG level of the 'trading_host' logger)",
    )


class StartupFailed(RuntimeError):
    """A module's lifespan raised: nothing is served. ``problem`` says which, what and the fix;
    the module's exception is the ``__cause__``."""

    def __init__(self, module: str, problem: Problem) -> None:
        self.module = module
        self.problem = problem
        super().__init__(f"the Trading API cannot start: {problem}")


def report_startup_failures(router: Router) -> None:
    """Have ``router``'s lifespan tell the server that start-up failed without a traceback when a
    module failed (the runtime has logged it); any other failure is reported as before."""
    lifespan = router.lifespan
    if getattr(lifespan, _REPORTING, False):
        return

    async def lifespan_reporting(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_reported(message: Message) -> None:
            # Sent by Starlette while it handles the failure, so that failure is the one in hand.
            if message["type"] == "lifespan.startup.failed" and isinstance(sys.exc_info()[1], StartupFailed):
                message = {**message, "message": ""}
            await send(message)

        await lifespan(scope, receive, send_reported)

    setattr(lifespan_reporting, _REPORTING, True)
    router.lifespan = lifespan_reporting  # type: ignore[method-assign]
