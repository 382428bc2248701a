"""The alerts service: the business rules, written once. Every API version is an adapter over it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

from ._models import Alert, AlertEvent, Direction, TooManyAlerts, UnknownAlert


class AlertService:
    """Keeps the alerts, in memory (saved to a file and loaded from it by the module's lifespan),
    and tells the streams what happens to them."""

    def __init__(self, *, max_alerts: int = 100) -> None:
        self.max_alerts = max_alerts
        self._alerts: dict[int, Alert] = {}
        self._next_id = 1
        self._listeners: set[asyncio.Queue[AlertEvent]] = set()

    def __len__(self) -> int:
        return len(self._alerts)

    def create(self, symbol: str, threshold: float, direction: Direction, tags: list[str]) -> Alert:
        if len(self._alerts) >= self.max_alerts:
            raise TooManyAlerts(self.max_alerts)
        alert = Alert(self._next_id, symbol.upper(), threshold, direction, tags, True, datetime.now(UTC))
        self._alerts[alert.id] = alert
        self._next_id += 1
        self._publish("created", alert)
        return alert

    def list(self, symbol: str | None = None) -> list[Alert]:
        """The alerts, oldest first, of ``symbol`` (any case) if given."""
        wanted = symbol.upper() if symbol else None
        return [a for a in self._alerts.values() if wanted is None or a.symbol == wanted]

    def get(self, alert_id: int) -> Alert:
        try:
            return self._alerts[alert_id]
        except KeyError:
            raise UnknownAlert(alert_id) from None

    def set_enabled(self, alert_id: int, enabled: bool) -> Alert:
        alert = self.get(alert_id)
        if alert.enabled != enabled:
            alert.enabled = enabled
            self._publish("enabled" if enabled else "disabled", alert)
        return alert

    def delete(self, alert_id: int) -> Alert:
        alert = self.get(alert_id)
        del self._alerts[alert_id]
        self._publish("deleted", alert)
        return alert

    async def events(self) -> AsyncIterator[AlertEvent]:
        """Every event from now on, until the caller stops iterating."""
        queue: asyncio.Queue[AlertEvent] = asyncio.Queue()
        self._listeners.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._listeners.discard(queue)

    def _publish(self, kind: str, alert: Alert) -> None:
        event = AlertEvent(kind, replace(alert, tags=list(alert.tags)))
        for queue in self._listeners:
            queue.put_nowait(event)

    def load(self, path: Path) -> None:
        """Read the alerts saved in ``path``; nothing when the file does not exist yet."""
        if not path.exists():
            return
        saved = json.loads(path.read_text(encoding="utf-8"))
        self._alerts = {
            item["id"]: Alert(
                **{
                    **item,
                    "direction": Direction(item["direction"]),
                    "created_at": datetime.fromisoformat(item["created_at"]),
                }
            )
            for item in saved
        }
        self._next_id = max(self._alerts, default=0) + 1

    def save(self, path: Path) -> None:
        items = [
            {**asdict(a), "direction": a.direction.value, "created_at": a.created_at.isoformat()}
            for a in self._alerts.values()
        ]
        path.write_text(json.dumps(items, indent=1), encoding="utf-8")
