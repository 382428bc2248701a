"""The bounds a stream endpoint holds every client to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StreamLimits:
    """Per-client bounds of a stream endpoint (see the overflow policy in ``_outbox.py``)."""

    queue_size: int = 256
    """Messages queued for one client before the oldest update is dropped."""
    max_dropped: int = 1024
    """Updates dropped in a row, with nothing delivered in between, before the client is closed
    with code 4429."""
    max_subscriptions: int = 100
    """Topics one connection may subscribe to at once."""
    max_feeds: int | None = None
    """Feeds (distinct topics) the endpoint runs at once, for all its clients; a subscription that
    would start one more gets a ``too-many-subscriptions`` error. ``None``: no bound."""
    max_message_bytes: int = 65_536
    """The largest message a client may send; a larger one gets a ``too-large`` error."""
    close_timeout: float = 10.0
    """Seconds to wait for a close frame to go out before giving up on a client."""

    def __post_init__(self) -> None:
        for name in ("queue_size", "max_dropped", "max_subscriptions", "max_message_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"StreamLimits.{name} must be 1 or more, got {getattr(self, name)}")
        if self.max_feeds is not None and self.max_feeds < 1:
            raise ValueError(f"StreamLimits.max_feeds must be 1 or more, got {self.max_feeds}")
        if self.close_timeout <= 0:
            raise ValueError(f"StreamLimits.close_timeout must be positive, got {self.close_timeout}")
