"""One client's bounded queue of outgoing messages, and the overflow policy that keeps it bounded.

The policy, so that one slow client can neither delay the others nor exhaust memory:

- A client holds at most ``size`` queued messages (plus the one being written to its socket).
- Pushed messages (updates, and notices that a feed ended) never wait: a feed hands the same text
  to every subscriber's queue and moves on. When a queue is full, its oldest pushed message is
  dropped to make room, and counted.
- Before the next message it delivers after a drop, the client gets an ``error`` message with code
  ``overflow`` and ``dropped``, the number lost, so it knows its view has a gap.
- A client that lets ``max_dropped`` messages be dropped without one message being delivered to
  it in between has stopped reading: it is closed with :data:`CLOSE_TOO_SLOW`.
- Replies to the client's own requests are never dropped: while its queue is full of them, the
  server stops reading that client's requests until it has room, which bounds them too.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

CLOSE_TOO_SLOW = 4429
"""The close code of a client that stopped reading (like HTTP 429, in the private 4000 range)."""


class Outbox:
    """The queue between the feeds (and the request handler) and one client's socket writer."""

    __slots__ = (
        "_items",
        "_max_dropped",
        "_on_too_slow",
        "_ready",
        "_room",
        "_size",
        "_unreported",
        "dropped",
        "total_dropped",
    )

    def __init__(self, size: int, max_dropped: int, on_too_slow: Callable[[], None]) -> None:
        self._items: deque[tuple[bool, str]] = deque()  # (droppable, text)
        self._size = size
        self._max_dropped = max_dropped
        self._on_too_slow = on_too_slow
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._unreported = 0
        self.dropped = 0
        """Messages dropped since one was last delivered."""
        self.total_dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    def push(self, text: str) -> None:
        """Queue a droppable message without waiting; drops the oldest droppable one when full."""
        if len(self._items) >= self._size and not self._evict():
            self._count_drop()  # full of replies: this message is the one to go
            return
        self._items.append((True, text))
        self._ready.set()

    async def reply(self, text: str) -> None:
        """Queue a reply, waiting while the queue is full of replies."""
        await self.room()
        self.reply_nowait(text)

    async def room(self) -> None:
        """Wait until a reply can be queued without exceeding the bound."""
        while len(self._items) >= self._size and not any(droppable for droppable, _ in self._items):
            self._room.clear()
            await self._room.wait()

    def reply_nowait(self, text: str) -> None:
        """Queue a reply now (after :meth:`room`), dropping the oldest droppable message if full."""
        if len(self._items) >= self._size:
            self._evict()
        self._items.append((False, text))
        self._ready.set()

    async def get(self, notice: Callable[[int], str]) -> str:
        """The next message to write; ``notice(n)`` first when ``n`` messages were dropped since the
        last notice."""
        while True:
            if self._unreported:
                count, self._unreported = self._unreported, 0
                return notice(count)
            if self._items:
                _, text = self._items.popleft()
                self._room.set()
                return text
            self._ready.clear()
            await self._ready.wait()

    def delivered(self) -> None:
        """Record that a message reached the socket: the client is reading."""
        self.dropped = 0

    def _evict(self) -> bool:
        for index, (droppable, _) in enumerate(self._items):
            if droppable:
                del self._items[index]
                self._count_drop()
                return True
        return False

    def _count_drop(self) -> None:
        self.dropped += 1
        self.total_dropped += 1
        self._unreported += 1
        self._ready.set()
        if self.dropped == self._max_dropped:
            self._on_too_slow()
