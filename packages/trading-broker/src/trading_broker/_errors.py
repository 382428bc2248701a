"""What the broker service raises; each API version turns these into HTTP answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class BrokerError(Exception):
    """Base of the errors the service raises for a request it will not carry out."""


class OrderNotFound(BrokerError):
    """No order with this id in the caller's account (another account's order is not found either)."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id!r} not found")
        self.order_id = order_id


class OrderNotModifiable(BrokerError):
    """The order is in a final state (filled, canceled, rejected), which never changes."""

    def __init__(self, order_id: str, status: str, action: str) -> None:
        super().__init__(f"order {order_id!r} is {status}: a {status} order cannot be {action}")
        self.order_id = order_id
        self.status = status


@dataclass(frozen=True)
class Violation:
    """One broken order rule: which field, which rule, and a message that says both."""

    field: str
    rule: str
    message: str
    value: Any = None


class InvalidOrder(BrokerError):
    """The order or modification breaks one or more rules; nothing was stored."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(v.message for v in violations))
        self.violations = violations


class IdempotencyKeyReused(BrokerError):
    """An ``Idempotency-Key`` already used by this account for a different request."""

    def __init__(self, key: str) -> None:
        super().__init__(
            f"Idempotency-Key {key!r} was already used for a different order request; send a new key for a new order"
        )
        self.key = key


class ConcurrentModification(BrokerError):
    """Another request changed the same data at the same moment; nothing was stored by this one."""

    def __init__(self, subject: str) -> None:
        super().__init__(f"{subject} was changed by another request at the same moment; read it again and retry")
        self.subject = subject


class UnknownApiKey(BrokerError):
    """No API key with this id."""

    def __init__(self, key_id: str) -> None:
        super().__init__(f"no API key with id {key_id!r}; `trading-broker keys list` shows the keys")
        self.key_id = key_id


class DatabaseUnavailable(BrokerError):
    """The database cannot serve the request now: unreachable, refusing connections, or its tables
    are gone. Nothing was done; the same request may be retried after ``retry_after`` seconds.

    The message is meant for any client: it never carries the driver's error or the database's
    name (the server log has those).
    """

    def __init__(self, message: str, *, retry_after: int = 1, schema_missing: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.schema_missing = schema_missing
