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
    lifespan; a failing check is logged and retried at the next tick, never fatal."""

    def __init__(self, service: BrokerService, interval: float) -> None:
        self.service = service
        self.interval = interval
        self.last_error: str | None = None
        """The error of the last check, ``None`` when it succeeded."""
        self._task: asyncio.Task[None] | None = None

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
        """One check: fill what the prices allow, then publish moved equity."""
        try:
            await self.service.check_working_orders()
            await self.service.publish_equity()
        except Exception as exc:  # a database hiccup must not end the matching for good
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("checking the working orders failed; retrying in %g s", self.interval)
        else:
            self.last_error = None

    async def _run(self) -> None:
        while True:
            await self.tick()
            await asyncio.sleep(self.interval)
