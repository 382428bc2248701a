"""Broker API v2.

Breaking changes from v1:
- ``Authorization: Bearer <token>`` on every endpoint; a token acts for its own account only.
- Strict order rules, each failure a 422 naming the field and the rule.
- Richer orders: fills, executions, timestamps, status history; ``Idempotency-Key`` on placement.
"""

from .orders import BrokerApi

__all__ = ["BrokerApi"]
