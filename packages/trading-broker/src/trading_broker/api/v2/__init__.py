"""Broker API v2.

Breaking changes from v1:
- ``Authorization: Bearer <token>`` on every endpoint; a token acts for its own account only.
- Strict order rules, each failure a 422 naming the field and the rule.
- Richer responses: fills, executions, timestamps, status history, P&L; ``Idempotency-Key`` on placement.
"""

from ._schemas import event_payload
from .orders import BrokerApi

__all__ = ["BrokerApi", "event_payload"]
