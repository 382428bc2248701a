"""Group commit: concurrent writes of one process share one database transaction, so one commit
(one fsync) acknowledges many of them.

A caller :meth:`GroupCommit.submit`\\ s a job and waits for its result. While a batch is being
written and committed, the jobs submitted meanwhile queue up; when the commit returns, the next
batch takes every queued job (up to ``max_batch``). No job waits for a timer: a lone job is written
at once, and under load a batch is as large as the load that arrived during the previous commit.

A result reaches its caller only after the batch's ``flush`` has returned, that is after its
commit: group commit changes how many orders one fsync covers, never what an answer means.

Hand-written rather than taken from a library: it is a few lines over asyncio futures, and the
libraries that batch (aiodataloader and the like) batch reads on a timer, not writes on a commit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

J = TypeVar("J")
R = TypeVar("R")

Flush = Callable[[Sequence[J]], Awaitable[Sequence[R | Exception]]]
"""Writes a batch in one transaction and returns, once committed, each job's result or the
exception that job alone raises (in the jobs' order); raises when the whole batch failed."""


@dataclass
class GroupCommitStats:
    """How the writes were grouped since the start: for the health report and the benchmark."""

    batches: int = 0
    jobs: int = 0
    largest: int = 0


class GroupCommit(Generic[J, R]):
    """Jobs submitted concurrently are handed to ``flush`` together, one batch at a time."""

    def __init__(self, flush: Flush[J, R], *, max_batch: int = 256) -> None:
        self._flush = flush
        self._max_batch = max_batch
        self._pending: list[tuple[J, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.stats = GroupCommitStats()

    async def submit(self, job: J) -> R:
        """Queue ``job`` for the next batch and wait for its result (after the batch's commit).

        A caller cancelled while waiting does not take its job back once its batch is being
        written: the job is committed (or not) with the others, like a request whose client hung up
        after sending it."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._pending.append((job, future))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write(), name="trading-broker group commit")
        return await future

    async def drain(self) -> None:
        """Wait until every job submitted so far has been written (for a clean shutdown)."""
        writer = self._writer
        if writer is not None and not writer.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(writer)

    async def _write(self) -> None:
        while self._pending:
            taken, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
            batch = [(job, future) for job, future in taken if not future.done()]  # done: its caller went away
            if not batch:
                continue
            self.stats.batches += 1
            self.stats.jobs += len(batch)
            self.stats.largest = max(self.stats.largest, len(batch))
            try:
                results = await self._flush([job for job, _ in batch])
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            except BaseException:  # cancelled (the loop is closing): no waiting caller is left hanging
                for _, future in [*batch, *self._pending]:
                    future.cancel()
                self._pending = []
                raise
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)
            # Let the callers just answered run, so that those placing their next write join the
            # next batch instead of each starting one of their own.
            await asyncio.sleep(0)
