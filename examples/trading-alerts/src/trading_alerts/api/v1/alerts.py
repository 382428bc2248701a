"""Alerts API v1: the first wire format. v2 changed five things (the cookbook's recipes); v1's
clients keep working because each v1 route adapts v1's shapes to the one service that v2 uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from trading_core import ModuleApi
from trading_core.streams import Identity, StreamRoute, add_stream_endpoint

from ..._models import Alert, Direction
from ..._module import AlertsModule
from .._errors import FULL, NOT_FOUND, answer_errors

Symbol = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._:-]+$")]
AlertId = Annotated[int, Path(ge=1)]


# --8<-- [start:v1-models]
class NewAlertV1(BaseModel):
    """An alert to create: it fires when the symbol's price rises to ``price``."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"symbol": "AAPL", "price": 200, "tags": "earnings,tech"}]}
    )

    symbol: Symbol
    price: float = Field(gt=0)  # v2: `threshold` (recipe 1, rename a field)
    tags: str = Field("", description="Comma-separated")  # v2: a list (recipe 3, change a type)


class AlertV1(BaseModel):
    """An alert as v1 shows it."""

    id: int
    symbol: str
    price: float
    tags: str
    enabled: bool

    @classmethod
    def of(cls, alert: Alert) -> AlertV1:
        """The service's alert in v1's shape: the renamed field under its old name, the list of tags
        joined as v1 sent them. v1 has no direction: it shows a v2 alert's threshold as its price."""
        return cls(
            id=alert.id, symbol=alert.symbol, price=alert.threshold, tags=",".join(alert.tags), enabled=alert.enabled
        )


# --8<-- [end:v1-models]


class Count(BaseModel):
    """How many alerts there are."""

    count: int


class AlertsParams(BaseModel):
    """A subscription to the alerts of one symbol, or of every symbol."""

    model_config = ConfigDict(extra="forbid")

    symbol: str | None = Field(None, max_length=32)


class AlertUpdateV1(BaseModel):
    """What happened (``created``, ``enabled``, ``disabled``, ``deleted``) to which alert, in v1's shape."""

    event: str
    alert: AlertV1


class AlertsApi(ModuleApi):
    """Alerts API v1."""

    module = AlertsModule
    version = "v1"

    def __init__(self, module: AlertsModule) -> None:
        super().__init__(module)
        answer_errors(self)
        service = module.service

        # --8<-- [start:v1-create]
        @self.post(
            "/alerts", response_model=AlertV1, operation_id="createAlert", summary="Create an alert", responses=FULL
        )
        async def create_alert(new: NewAlertV1) -> AlertV1:
            """Create an alert that fires when the price rises to ``price``."""
            tags = [tag.strip() for tag in new.tags.split(",") if tag.strip()]  # recipe 3: the old type
            # Recipe 2, a new required field: v1 never sent a direction; its alerts always fired on the way up.
            alert = service.create(new.symbol, new.price, Direction.ABOVE, tags)  # recipe 1: price is the threshold
            return AlertV1.of(alert)

        # --8<-- [end:v1-create]

        @self.get("/alerts", response_model=list[AlertV1], operation_id="listAlerts", summary="List alerts")
        async def list_alerts(symbol: Annotated[str | None, Query(max_length=32)] = None) -> list[AlertV1]:
            """The alerts, oldest first, of one symbol if given."""
            return [AlertV1.of(a) for a in service.list(symbol)]

        # --8<-- [start:v1-count]
        # Recipe 5, remove an endpoint: v2 has no /alerts/count; v1's stays, computed from the service.
        # Declared before /alerts/{alert_id}, which would otherwise take "count" for an id.
        @self.get("/alerts/count", response_model=Count, operation_id="countAlerts", summary="Count alerts")
        async def count_alerts() -> Count:
            """How many alerts there are."""
            return Count(count=len(service.list()))

        # --8<-- [end:v1-count]

        @self.get(
            "/alerts/{alert_id}",
            response_model=AlertV1,
            operation_id="getAlert",
            summary="Get an alert",
            responses=NOT_FOUND,
        )
        async def get_alert(alert_id: AlertId) -> AlertV1:
            """One alert by id."""
            return AlertV1.of(service.get(alert_id))

        # --8<-- [start:v1-toggle]
        # Recipe 4, split an endpoint: v2 has /enable and /disable; v1's toggle is both, over the same call.
        @self.post(
            "/alerts/{alert_id}/toggle",
            response_model=AlertV1,
            operation_id="toggleAlert",
            summary="Enable or disable an alert",
            responses=NOT_FOUND,
        )
        async def toggle_alert(alert_id: AlertId) -> AlertV1:
            """Disable an enabled alert, enable a disabled one."""
            alert = service.get(alert_id)
            return AlertV1.of(service.set_enabled(alert_id, not alert.enabled))

        # --8<-- [end:v1-toggle]

        @self.delete(
            "/alerts/{alert_id}",
            response_model=AlertV1,
            operation_id="deleteAlert",
            summary="Delete an alert",
            responses=NOT_FOUND,
        )
        async def delete_alert(alert_id: AlertId) -> AlertV1:
            """Delete an alert; it is answered one last time."""
            return AlertV1.of(service.delete(alert_id))

        async def alert_updates(params: AlertsParams, identity: Identity | None) -> AsyncIterator[AlertUpdateV1]:
            async for event in service.events():
                if params.symbol is None or event.alert.symbol == params.symbol:
                    yield AlertUpdateV1(event=event.kind, alert=AlertV1.of(event.alert))

        def normalize(params: AlertsParams) -> AlertsParams:
            return AlertsParams(symbol=params.symbol.upper() if params.symbol else None)

        hub = add_stream_endpoint(
            self, [StreamRoute("alerts", AlertsParams, AlertUpdateV1, alert_updates, normalize=normalize)]
        )
        module.stream_hubs.append(hub)
