"""A stream route: what a client subscribes to, what it receives, and where the updates come from."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

from ._auth import Identity
from ._messages import SUBSCRIBE, UNSUBSCRIBE, UPDATE, ErrorCode, SubscriptionPayload

ParamsT = TypeVar("ParamsT", bound=BaseModel)
UpdateT = TypeVar("UpdateT", bound=BaseModel)

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class SubscriptionRefused(Exception):
    """Raised by a route's ``normalize`` to refuse a subscription; the client gets an error
    message with ``code`` and ``message`` and the socket stays open."""

    def __init__(self, message: str, code: ErrorCode = ErrorCode.INVALID_PARAMS) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True, eq=False)
class StreamRoute(Generic[ParamsT, UpdateT]):
    """One route ``R`` of a stream endpoint: clients send ``R.subscribe`` / ``R.unsubscribe`` with a
    ``params`` payload and receive ``R.update`` messages whose payload is an ``update``.

    ``feed(params, identity)`` returns an async iterator (an async generator, usually) of updates.
    It is started when the first client subscribes to a topic and cancelled, and closed, when the
    last one leaves, so one feed serves every equal subscription. Its ``identity`` is the
    subscriber's when ``per_identity`` is set (the topic is then keyed by the account too), and
    ``None`` otherwise, so a shared feed cannot depend on who asked first.

    ``normalize(params)`` returns the canonical parameters (``"aapl"`` -> ``"AAPL"``) or raises
    :class:`SubscriptionRefused`; the canonical parameters name the topic.
    """

    name: str
    params: type[ParamsT]
    update: type[UpdateT]
    feed: Callable[[ParamsT, Identity | None], AsyncIterator[UpdateT]]
    normalize: Callable[[ParamsT], ParamsT] | None = None
    per_identity: bool = False
    summary: str = ""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"stream route name {self.name!r}: use lower-case letters, digits and '_' (no dots)")

    def topic(self, params: ParamsT) -> str:
        """The topic of ``params`` (already normalized): the route name and the parameters as
        compact JSON with sorted keys, so equal subscriptions name one topic."""
        canonical = json.dumps(params.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return f"{self.name}:{canonical}"

    def messages(self) -> dict[str, type[BaseModel]]:
        """Every message type of this route and its payload model (for documentation generators)."""
        return {
            f"{self.name}.{SUBSCRIBE}": self.params,
            f"{self.name}.{SUBSCRIBE}.response": SubscriptionPayload,
            f"{self.name}.{UNSUBSCRIBE}": self.params,
            f"{self.name}.{UNSUBSCRIBE}.response": SubscriptionPayload,
            f"{self.name}.{UPDATE}": self.update,
        }
