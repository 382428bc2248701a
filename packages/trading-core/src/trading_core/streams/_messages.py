"""The wire protocol of a stream endpoint: the envelope, the message types and the error codes.

Every message, in either direction, is one JSON object in a text frame::

    {"type": "bars.subscribe", "id": 7, "payload": {"symbol": "AAPL", "resolution": "1"}}
    {"type": "bars.subscribe.response", "topic": "bars:{...}", "id": 7, "payload": {"params": {...}}}
    {"type": "bars.update", "topic": "bars:{...}", "payload": {...}}
    {"type": "error", "id": 7, "payload": {"code": "invalid-params", "message": "symbol: Field required"}}

``type`` and ``payload`` are the envelope; ``id`` is the client's own request id, echoed on the
reply or error it caused; ``topic`` names the subscription a server message is about, so a client
holding several subscriptions of one route can tell their updates apart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ERROR = "error"
"""The type of every error message."""

SUBSCRIBE = "subscribe"
UNSUBSCRIBE = "unsubscribe"
RESPONSE = "response"
UPDATE = "update"


class ErrorCode(StrEnum):
    """The ``code`` of an error message; stable, for clients to branch on."""

    MALFORMED = "malformed"
    """Not a JSON object with a string ``type``, or a binary frame."""
    TOO_LARGE = "too-large"
    UNKNOWN_TYPE = "unknown-type"
    INVALID_PARAMS = "invalid-params"
    NOT_SUBSCRIBED = "not-subscribed"
    TOO_MANY_SUBSCRIPTIONS = "too-many-subscriptions"
    UNAUTHENTICATED = "unauthenticated"
    """The route carries per-account events and the connection has no identity."""
    OVERFLOW = "overflow"
    """The client read too slowly and ``dropped`` messages were dropped (see the overflow policy)."""
    FEED_ENDED = "feed-ended"
    FEED_FAILED = "feed-failed"


class ClientMessage(BaseModel):
    """A message from a client: ``{"type": "<route>.subscribe", "payload": {...}, "id": ...}``."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1)
    payload: dict[str, Any] | None = None
    id: str | int | None = None


class ErrorPayload(BaseModel):
    """The payload of an ``error`` message."""

    code: ErrorCode
    message: str
    dropped: int | None = None
    """With ``overflow``: how many messages were dropped."""


class SubscriptionPayload(BaseModel):
    """The payload of ``R.subscribe.response`` and ``R.unsubscribe.response``: the parameters in
    their canonical form (the form that names the topic)."""

    params: dict[str, Any]


def encode(
    type_: str, payload: BaseModel | Mapping[str, Any], *, topic: str | None = None, id: str | int | None = None
) -> str:
    """One server message as JSON text."""
    parts = ['{"type":', json.dumps(type_)]
    if topic is not None:
        parts += [',"topic":', json.dumps(topic)]
    if id is not None:
        parts += [',"id":', json.dumps(id)]
    body = payload.model_dump_json(exclude_none=True) if isinstance(payload, BaseModel) else json.dumps(payload)
    parts += [',"payload":', body, "}"]
    return "".join(parts)


def encode_error(
    code: ErrorCode,
    message: str,
    *,
    topic: str | None = None,
    id: str | int | None = None,
    dropped: int | None = None,
) -> str:
    return encode(ERROR, ErrorPayload(code=code, message=message, dropped=dropped), topic=topic, id=id)


def describe_errors(errors: Sequence[Any]) -> str:
    """A pydantic error list as one line naming each field and its problem."""
    parts = []
    for error in errors:
        where = ".".join(str(part) for part in error.get("loc", ())) or "payload"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid"
