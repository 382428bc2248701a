"""What the alerts service keeps: the domain, in no API version's shape."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Direction(StrEnum):
    """Which way the price must cross the threshold for the alert to fire."""

    ABOVE = "above"
    BELOW = "below"


@dataclass
class Alert:
    """A price alert: fires when ``symbol``'s price crosses ``threshold`` in ``direction``."""

    id: int
    symbol: str
    threshold: float
    direction: Direction
    tags: list[str]
    enabled: bool
    created_at: datetime


@dataclass(frozen=True)
class AlertEvent:
    """Something that happened to an alert: ``created``, ``enabled``, ``disabled`` or ``deleted``."""

    kind: str
    alert: Alert


class UnknownAlert(LookupError):
    """No alert has this id."""

    def __init__(self, alert_id: int) -> None:
        super().__init__(f"no alert has the id {alert_id}")
        self.alert_id = alert_id


class TooManyAlerts(Exception):
    """The service keeps at most ``max_alerts`` alerts (the ``[modules.alerts] max_alerts`` setting)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} alerts are kept; delete one first ([modules.alerts] max_alerts)")
        self.limit = limit
