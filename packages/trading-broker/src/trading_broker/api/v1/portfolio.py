"""Broker API v1 routes of the default account's positions, executions and balance."""

from __future__ import annotations

from fastapi import APIRouter, Query

from ..._service import BrokerService
from ._schemas import AccountBalance, ExecutionReport, OpenPosition


def add_portfolio_routes(api: APIRouter, service: BrokerService, account: str) -> None:
    """Declare ``/positions``, ``/executions`` and ``/account`` on ``api``, acting on ``account``."""

    @api.get("/positions", response_model=list[OpenPosition], operation_id="listPositions", summary="List positions")
    async def list_positions() -> list[OpenPosition]:
        """The open positions, one net position per symbol, valued at the last price."""
        return [OpenPosition.from_position(p) for p in await service.positions(account)]

    @api.get(
        "/executions", response_model=list[ExecutionReport], operation_id="listExecutions", summary="List executions"
    )
    async def list_executions(
        order_id: str | None = Query(default=None, description="Only the fills of this order"),
        symbol: str | None = Query(default=None, description="Only the fills in this symbol"),
    ) -> list[ExecutionReport]:
        """The fills of the account's orders, oldest first."""
        found = await service.executions(account, order_id=order_id, symbol=symbol.upper() if symbol else None)
        return [ExecutionReport.model_validate(e) for e in found]

    @api.get("/account", response_model=AccountBalance, operation_id="getAccount", summary="Account balance and equity")
    async def get_account() -> AccountBalance:
        """Balance (initial balance plus realised P&L) and equity (balance plus unrealised P&L)."""
        return AccountBalance.model_validate(await service.account(account))
