"""Alerts API v2: the new wire format, one breaking change of each kind against v1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from trading_core import ModuleApi
from trading_core.streams import Identity, StreamRoute, SubscriptionRefused, add_stream_endpoint

from ..._models import Alert, Direction
from ..._module import AlertsModule
from .._errors import FULL, NOT_FOUND, answer_errors

Symbol = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._:-]+$")]
AlertId = Annotated[int, Path(ge=1)]


# --8<-- [start:v2-models]
class NewAlertV2(BaseModel):
    """An alert to create: it fires when the symbol's price crosses ``threshold`` in ``direction``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"symbol": "AAPL", "threshold": 200, "direction": "above", "tags": ["earnings", "tech"]}]
        },
    )

    symbol: Symbol
    threshold: float = Field(gt=0)  # recipe 1: was `price`
    direction: Direction  # recipe 2: a new required field
    tags: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        default_factory=list, max_length=10
    )  # recipe 3: was a string


class AlertV2(BaseModel):
    """An alert as v2 shows it."""

    id: int
    symbol: str
    threshold: float
    direction: Direction
    tags: list[str]
    enabled: bool

    @classmethod
    def of(cls, alert: Alert) -> AlertV2:
        return cls(
            id=alert.id,
            symbol=alert.symbol,
            threshold=alert.threshold,
            direction=alert.direction,
            tags=list(alert.tags),
            enabled=alert.enabled,
        )


# --8<-- [end:v2-models]


# --8<-- [start:stream-models]
class AlertsParams(BaseModel):
    """A subscription to the alerts of one symbol, or of every symbol."""

    model_config = ConfigDict(extra="forbid")

    symbol: str | None = Field(None, max_length=32)


class AlertUpdateV2(BaseModel):
    """What happened (``created``, ``enabled``, ``disabled``, ``deleted``) to which alert."""

    event: str
    alert: AlertV2


# --8<-- [end:stream-models]


class AlertsApi(ModuleApi):
    """Alerts API v2."""

    module = AlertsModule
    version = "v2"

    def __init__(self, module: AlertsModule) -> None:
        super().__init__(module)
        answer_errors(self)
        service = module.service

        @self.post(
            "/alerts", response_model=AlertV2, operation_id="createAlert", summary="Create an alert", responses=FULL
        )
        async def create_alert(new: NewAlertV2) -> AlertV2:
            """Create an alert that fires when the price crosses ``threshold`` in ``direction``."""
            return AlertV2.of(service.create(new.symbol, new.threshold, new.direction, new.tags))

        @self.get("/alerts", response_model=list[AlertV2], operation_id="listAlerts", summary="List alerts")
        async def list_alerts(symbol: Annotated[str | None, Query(max_length=32)] = None) -> list[AlertV2]:
            """The alerts, oldest first, of one symbol if given. (v1's ``/alerts/count`` is gone: count these.)"""
            return [AlertV2.of(a) for a in service.list(symbol)]

        # --8<-- [start:v2-removed]
        # Recipe 5, remove an endpoint: left out of v2's document, but a v1 path sent to v2 by
        # mistake gets a 404 that says what to do, not a 422 from /alerts/{alert_id} below.
        @self.get("/alerts/count", include_in_schema=False)
        async def count_was_removed() -> None:
            raise HTTPException(404, "GET /alerts/count was removed in v2: count the alerts GET /alerts lists")

        # --8<-- [end:v2-removed]
        @self.get(
            "/alerts/{alert_id}",
            response_model=AlertV2,
            operation_id="getAlert",
            summary="Get an alert",
            responses=NOT_FOUND,
        )
        async def get_alert(alert_id: AlertId) -> AlertV2:
            """One alert by id."""
            return AlertV2.of(service.get(alert_id))

        # --8<-- [start:v2-split]
        @self.post(
            "/alerts/{alert_id}/enable",
            response_model=AlertV2,
            operation_id="enableAlert",
            summary="Enable an alert",
            responses=NOT_FOUND,
        )
        async def enable_alert(alert_id: AlertId) -> AlertV2:
            """Enable an alert; enabling an enabled alert changes nothing."""
            return AlertV2.of(service.set_enabled(alert_id, True))

        @self.post(
            "/alerts/{alert_id}/disable",
            response_model=AlertV2,
            operation_id="disableAlert",
            summary="Disable an alert",
            responses=NOT_FOUND,
        )
        async def disable_alert(alert_id: AlertId) -> AlertV2:
            """Disable an alert; disabling a disabled alert changes nothing."""
            return AlertV2.of(service.set_enabled(alert_id, False))

        # --8<-- [end:v2-split]

        @self.delete(
            "/alerts/{alert_id}",
            response_model=AlertV2,
            operation_id="deleteAlert",
            summary="Delete an alert",
            responses=NOT_FOUND,
        )
        async def delete_alert(alert_id: AlertId) -> AlertV2:
            """Delete an alert; it is answered one last time."""
            return AlertV2.of(service.delete(alert_id))

        # --8<-- [start:stream]
        def normalize(params: AlertsParams) -> AlertsParams:
            if params.symbol is not None and not params.symbol.strip():
                raise SubscriptionRefused("symbol: give a symbol, or leave it out for every symbol")
            # The canonical form names the topic: "aapl" and "AAPL" share one feed.
            return AlertsParams(symbol=params.symbol.strip().upper() if params.symbol else None)

        async def alert_updates(params: AlertsParams, identity: Identity | None) -> AsyncIterator[AlertUpdateV2]:
            async for event in service.events():  # runs while someone is subscribed to the topic
                if params.symbol is None or event.alert.symbol == params.symbol:
                    yield AlertUpdateV2(event=event.kind, alert=AlertV2.of(event.alert))

        hub = add_stream_endpoint(
            self, [StreamRoute("alerts", AlertsParams, AlertUpdateV2, alert_updates, normalize=normalize)]
        )
        module.stream_hubs.append(hub)  # closed by the module's lifespan at shutdown
        # --8<-- [end:stream]
