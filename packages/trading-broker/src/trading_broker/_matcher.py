"""The background task that fills working orders as prices move."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from ._service import BrokerService

log = logging.getLogger("trading_broker")


class Matcher:
    """Every ``interval`` seconds, checks the working orders against the last prices and
    publishes the equity of the accounts someone listens to. Started and stopped by the module's
    lifespan; a failing check is logged and retried at the next tick, never fatal. One failing
    order does not stop the check of the others (see :meth:`BrokerService.check_working_orders`)."""

    def __init__(self, service: BrokerService, interval: float) -> None:
        self.service = service
        self.interval = interval
        self.last_error: str | None = None
        """The error of the last tick (``ExceptionName: message``), ``None`` when it succeeded.
        The message may carry the database driver's words: the module's health shows it only
        when ``health_details`` is on."""
        self.last_error_kind: str | None = None
        """The class name of that error: what the health report shows by default."""
        self._task: asyncio.Task[None] | None = None

    @property
    def failing(self) -> bool:
        """Whether the last tick failed, or left orders it could not check."""
        return self.last_error is not None or bool(self.service.failed_checks)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="trading-broker matcher")

    async def stop(self) -> None:
        """Cancel the task and wait for it to end, so nothing outlives the lifespan."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def tick(self) -> None:
        """One check: fill what the prices allow, then publish moved equity (even when the check failed)."""
        errors: list[Exception] = []
        for step, what in (
            (self.service.check_working_orders, "checking the working orders"),
            (self.service.publish_equity, "publishing the accounts' equity"),
        ):
            try:
                await step()
            except Exception as exc:  # a database hiccup must not end the matching for good
                errors.append(exc)
                log.exception("%s failed; retrying in %g s", what, self.interval)
        first = errors[0] if errors else None
        self.last_error = f"{type(first).__name__}: {first}" if first is not None else None
        self.last_error_kind = type(first).__name__ if first is not None else None

    async def _run(self) -> None:
        while True:
            await self.tick()
            await asyncio.sleep(self.interval)
