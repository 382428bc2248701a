"""Where the datafeed's CPU-bound work runs: a few threads, off the event loop, bounded.

A request that computes bars, marks or quotes is handed to one of ``threads`` threads, so the
event loop keeps answering the other requests and feeding the streams meanwhile. What may wait is
bounded twice: a client has at most ``per_client`` requests computed or waiting
(:class:`TooManyRequests` beyond, a 429), and the process at most ``threads + queue``
(:class:`Busy` beyond, a 503), so a flood of requests is refused at once instead of queueing
without end. A request whose client leaves still finishes its computation (a thread cannot be
stopped), and counts until it has.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from ._errors import Busy, TooManyRequests

T = TypeVar("T")


class Compute:
    """Runs functions in a bounded pool of threads; see the module's docstring."""

    def __init__(self, *, threads: int = 2, queue: int = 64, per_client: int = 8) -> None:
        self.threads = threads
        self.queue = queue
        self.per_client = per_client
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._pending = 0
        self._clients: dict[str, int] = {}

    @property
    def pending(self) -> int:
        """Requests being computed or waiting for a thread."""
        return self._pending

    async def run(self, client: str, function: Callable[[], T]) -> T:
        """``function()``'s result, computed in a thread for ``client`` (an address)."""
        with self._lock:
            if self._clients.get(client, 0) >= self.per_client:
                raise TooManyRequests(client, self.per_client)
            if self._pending >= self.threads + self.queue:
                raise Busy(self._pending - self.threads)
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="datafeed-compute")
            self._pending += 1
            self._clients[client] = self._clients.get(client, 0) + 1
            executor = self._executor
        try:
            future = executor.submit(function)
        except BaseException:
            self._release(client)
            raise
        # Released when the work is done, or cancelled before it started; not when the awaiting
        # request is cancelled while a thread is still at it.
        future.add_done_callback(lambda _: self._release(client))
        return await asyncio.wrap_future(future)

    def _release(self, client: str) -> None:
        with self._lock:
            self._pending -= 1
            left = self._clients[client] - 1
            if left:
                self._clients[client] = left
            else:
                del self._clients[client]

    def close(self) -> None:
        """Stop the threads (the next :meth:`run` starts new ones); waiting work is dropped."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
