"""Broker API v1 routes: a thin adapter from the v1 wire format to the broker service."""

from __future__ import annotations

from fastapi import Query

from trading_core import ModuleApi
from trading_core.streams import add_stream_endpoint

from ..._models import OrderStatus
from ..._module import BrokerModule
from ..._rules import Strictness
from .._http import FINAL, NOT_FOUND, UNAVAILABLE, answer_broker_errors, placed_order_links
from ._schemas import OrderModification, PlacedOrder, PreOrder
from .portfolio import add_portfolio_routes
from .streams import check_origin, stream_routes


class BrokerApi(ModuleApi):
    """Broker API v1: orders, positions, executions and balance of the default account, no
    authentication, basic order rules (an order the broker cannot execute is recorded as rejected,
    with the reason); their updates streamed at ``/ws``."""

    module = BrokerModule
    version = "v1"

    def __init__(self, module: BrokerModule) -> None:
        super().__init__(module, responses=UNAVAILABLE)
        answer_broker_errors(self)
        service = module.service
        account = module.default_account

        @self.post(
            "/orders",
            response_model=PlacedOrder,
            operation_id="placeOrder",
            summary="Place an order",
            responses=placed_order_links(get="getOrder", modify="modifyOrder", cancel="cancelOrder"),
        )
        async def place_order(order: PreOrder) -> PlacedOrder:
            """Place an order; market orders fill at once at the last price."""
            placement = await service.place(account, order.to_request(), strictness=Strictness.BASIC)
            return PlacedOrder.model_validate(placement.order)

        @self.get("/orders", response_model=list[PlacedOrder], operation_id="listOrders", summary="List orders")
        async def list_orders(
            status: OrderStatus | None = Query(default=None, description="Only orders with this status"),
        ) -> list[PlacedOrder]:
            """The orders of the account, oldest first."""
            return [PlacedOrder.model_validate(o) for o in await service.orders(account, status)]

        @self.get(
            "/orders/{order_id}",
            response_model=PlacedOrder,
            operation_id="getOrder",
            summary="Get an order",
            responses=NOT_FOUND,
        )
        async def get_order(order_id: str) -> PlacedOrder:
            """One order by id."""
            return PlacedOrder.model_validate(await service.get(account, order_id))

        @self.patch(
            "/orders/{order_id}",
            response_model=PlacedOrder,
            operation_id="modifyOrder",
            summary="Modify a working order",
            responses={**NOT_FOUND, **FINAL},
        )
        async def modify_order(order_id: str, changes: OrderModification) -> PlacedOrder:
            """Change the quantity or prices of a working order; 409 once it is filled, canceled or rejected."""
            order = await service.modify(account, order_id, changes.to_changes(), strictness=Strictness.BASIC)
            return PlacedOrder.model_validate(order)

        @self.delete(
            "/orders/{order_id}",
            response_model=PlacedOrder,
            operation_id="cancelOrder",
            summary="Cancel a working order",
            responses={**NOT_FOUND, **FINAL},
        )
        async def cancel_order(order_id: str) -> PlacedOrder:
            """Cancel a working order; 409 once it is filled, canceled or rejected."""
            return PlacedOrder.model_validate(await service.cancel(account, order_id))

        add_portfolio_routes(self, service, account)
        origins = module.settings.stream_origins
        hub = add_stream_endpoint(
            self, stream_routes(module), authenticate=check_origin(origins), limits=module.stream_limits
        )
        module.stream_hubs.append(hub)
