"""Broker API v2 routes: a thin adapter from the v2 wire format to the broker service."""

from typing import Annotated

from fastapi import Depends, Header, Query, Response

from trading_core import ModuleApi
from trading_core.streams import add_stream_endpoint

from ..._models import OrderStatus
from ..._module import BrokerModule
from ..._rules import Strictness
from .._http import FINAL, NOT_FOUND, UNAVAILABLE, answer_broker_errors, placed_order_links
from ._auth import MISSING_HINTS, UNAUTHORIZED, bearer_account, stream_authenticator
from ._schemas import OrderModificationV2, PlacedOrderV2, PreOrderV2
from .portfolio import add_portfolio_routes
from .streams import stream_routes

REPLAYED_HEADER = "Idempotent-Replayed"


class BrokerApi(ModuleApi):
    """Broker API v2: orders, positions, executions and balance of the bearer token's account,
    strict order rules, rich responses; the account's updates streamed at ``/ws``."""

    module = BrokerModule
    version = "v2"

    def __init__(self, module: BrokerModule) -> None:
        super().__init__(module, responses={**UNAUTHORIZED, **UNAVAILABLE})
        answer_broker_errors(self, missing=MISSING_HINTS)
        service = module.service
        Account = Annotated[str, Depends(bearer_account(service))]

        @self.post(
            "/orders",
            response_model=PlacedOrderV2,
            operation_id="placeOrderV2",
            summary="Place an order",
            responses=placed_order_links(get="getOrderV2", modify="modifyOrderV2", cancel="cancelOrderV2"),
        )
        async def place_order(
            order: PreOrderV2,
            account: Account,
            response: Response,
            idempotency_key: Annotated[
                str | None,
                Header(
                    min_length=1,
                    max_length=255,
                    description="Retries with the same key get the first answer instead of a second order",
                ),
            ] = None,
        ) -> PlacedOrderV2:
            """Place an order; market orders fill at once at the last price."""
            placement = await service.place(
                account, order.to_request(), strictness=Strictness.STRICT, idempotency_key=idempotency_key
            )
            if placement.replayed:
                response.headers[REPLAYED_HEADER] = "true"
            return PlacedOrderV2.model_validate(placement.order)

        @self.get("/orders", response_model=list[PlacedOrderV2], operation_id="listOrdersV2", summary="List orders")
        async def list_orders(
            account: Account,
            status: OrderStatus | None = Query(default=None, description="Only orders with this status"),
        ) -> list[PlacedOrderV2]:
            """The orders of the token's account, oldest first."""
            return [PlacedOrderV2.model_validate(o) for o in await service.orders(account, status)]

        @self.get(
            "/orders/{order_id}",
            response_model=PlacedOrderV2,
            operation_id="getOrderV2",
            summary="Get an order",
            responses=NOT_FOUND,
        )
        async def get_order(order_id: str, account: Account) -> PlacedOrderV2:
            """One order of the token's account by id."""
            return PlacedOrderV2.model_validate(await service.get(account, order_id))

        @self.patch(
            "/orders/{order_id}",
            response_model=PlacedOrderV2,
            operation_id="modifyOrderV2",
            summary="Modify a working order",
            responses={**NOT_FOUND, **FINAL},
        )
        async def modify_order(order_id: str, changes: OrderModificationV2, account: Account) -> PlacedOrderV2:
            """Change the quantity or prices of a working order; 409 once it is filled, canceled or rejected."""
            order = await service.modify(account, order_id, changes.to_changes(), strictness=Strictness.STRICT)
            return PlacedOrderV2.model_validate(order)

        @self.delete(
            "/orders/{order_id}",
            response_model=PlacedOrderV2,
            operation_id="cancelOrderV2",
            summary="Cancel a working order",
            responses={**NOT_FOUND, **FINAL},
        )
        async def cancel_order(order_id: str, account: Account) -> PlacedOrderV2:
            """Cancel a working order; 409 once it is filled, canceled or rejected."""
            return PlacedOrderV2.model_validate(await service.cancel(account, order_id))

        add_portfolio_routes(self, service)
        hub = add_stream_endpoint(
            self, stream_routes(module), authenticate=stream_authenticator(service), limits=module.stream_limits
        )
        module.stream_hubs.append(hub)
