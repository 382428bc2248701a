"""Broker API v2 routes of the token's account: positions, executions and balance."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ..._service import BrokerService
from ._auth import bearer_account
from ._schemas import AccountBalanceV2, ExecutionReportV2, OpenPositionV2


def add_portfolio_routes(api: APIRouter, service: BrokerService) -> None:
    """Declare ``/positions``, ``/executions`` and ``/account`` on ``api`` for the bearer token's account."""
    Account = Annotated[str, Depends(bearer_account(service))]

    @api.get(
        "/positions", response_model=list[OpenPositionV2], operation_id="listPositionsV2", summary="List positions"
    )
    async def list_positions(account: Account) -> list[OpenPositionV2]:
        """The open positions of the token's account, one net position per symbol, valued at the last price."""
        return [OpenPositionV2.from_position(p) for p in await service.positions(account)]

    @api.get(
        "/executions",
        response_model=list[ExecutionReportV2],
        operation_id="listExecutionsV2",
        summary="List executions",
    )
    async def list_executions(
        account: Account,
        order_id: str | None = Query(default=None, description="Only the fills of this order"),
        symbol: str | None = Query(default=None, description="Only the fills in this symbol"),
    ) -> list[ExecutionReportV2]:
        """The fills of the token's account's orders, oldest first."""
        found = await service.executions(account, order_id=order_id, symbol=symbol.upper() if symbol else None)
        return [ExecutionReportV2.model_validate(e) for e in found]

    @api.get(
        "/account", response_model=AccountBalanceV2, operation_id="getAccountV2", summary="Account balance and equity"
    )
    async def get_account(account: Account) -> AccountBalanceV2:
        """Balance, equity and P&L of the token's account."""
        return AccountBalanceV2.model_validate(await service.account(account))
