"""Between the domain objects and the database: table rows and JSON documents."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ._auth import StoredKey
from ._models import Account, Execution, Order, OrderStatus, OrderType, Position, Side, StatusChange

Row = Mapping[Any, Any]
"""A database row as SQLAlchemy hands it over (its keys may be columns as well as names)."""


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def status_history_to_json(history: list[StatusChange]) -> list[dict[str, Any]]:
    return [{"status": c.status.value, "time": c.time.isoformat(), "reason": c.reason} for c in history]


def status_history_from_json(items: list[dict[str, Any]]) -> list[StatusChange]:
    return [StatusChange(OrderStatus(i["status"]), _time(i["time"]), i["reason"]) for i in items]


def execution_row(execution: Execution) -> dict[str, Any]:
    return {
        "id": execution.id,
        "order_id": execution.order_id,
        "account": execution.account,
        "symbol": execution.symbol,
        "side": execution.side.value,
        "quantity": execution.quantity,
        "price": execution.price,
        "realised_pnl": execution.realised_pnl,
        "time": execution.time,
    }


def execution_from_row(row: Row) -> Execution:
    return Execution(
        id=row["id"],
        order_id=row["order_id"],
        account=row["account"],
        symbol=row["symbol"],
        side=Side(row["side"]),
        quantity=row["quantity"],
        price=row["price"],
        time=row["time"],
        realised_pnl=row["realised_pnl"],
    )


def order_row(order: Order) -> dict[str, Any]:
    """The ``broker_orders`` columns of ``order`` (its executions have their own table)."""
    return {
        "id": order.id,
        "account": order.account,
        "symbol": order.symbol,
        "side": order.side.value,
        "order_type": order.order_type.value,
        "quantity": order.quantity,
        "limit_price": order.limit_price,
        "stop_price": order.stop_price,
        "status": order.status.value,
        "reason": order.reason,
        "stop_triggered": order.stop_triggered,
        "status_history": status_history_to_json(order.status_history),
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "version": order.version,
    }


def order_from_row(row: Row, executions: list[Execution]) -> Order:
    return Order(
        id=row["id"],
        account=row["account"],
        symbol=row["symbol"],
        side=Side(row["side"]),
        order_type=OrderType(row["order_type"]),
        quantity=row["quantity"],
        limit_price=row["limit_price"],
        stop_price=row["stop_price"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        status=OrderStatus(row["status"]),
        reason=row["reason"],
        stop_triggered=bool(row["stop_triggered"]),
        executions=executions,
        status_history=status_history_from_json(row["status_history"]),
        version=row["version"],
    )


def order_to_json(order: Order) -> dict[str, Any]:
    """``order`` with its executions as one JSON document: the answer an idempotent retry replays."""
    document = order_row(order)
    for key in ("created_at", "updated_at"):
        document[key] = document[key].isoformat()
    document["executions"] = [{**execution_row(e), "time": e.time.isoformat()} for e in order.executions]
    return document


def order_from_json(document: Mapping[str, Any]) -> Order:
    row = {**document, "created_at": _time(document["created_at"]), "updated_at": _time(document["updated_at"])}
    executions = [execution_from_row({**e, "time": _time(e["time"])}) for e in document["executions"]]
    return order_from_row(row, executions)


def position_row(position: Position) -> dict[str, Any]:
    return {
        "account": position.account,
        "symbol": position.symbol,
        "quantity": position.quantity,
        "average_price": position.average_price,
        "realised_pnl": position.realised_pnl,
        "updated_at": position.updated_at,
        "version": position.version,
    }


def position_from_row(row: Row) -> Position:
    return Position(
        account=row["account"],
        symbol=row["symbol"],
        quantity=row["quantity"],
        average_price=row["average_price"],
        realised_pnl=row["realised_pnl"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


def account_row(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "balance": account.balance,
        "realised_pnl": account.realised_pnl,
        "created_at": account.created_at,
        "updated_at": account.updated_at,
        "version": account.version,
    }


def account_from_row(row: Row) -> Account:
    return Account(
        id=row["id"],
        balance=row["balance"],
        realised_pnl=row["realised_pnl"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


def key_row(key: StoredKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "account": key.account,
        "sha256": key.sha256,
        "label": key.label,
        "created_at": key.created_at,
        "revoked_at": key.revoked_at,
    }


def key_from_row(row: Row) -> StoredKey:
    return StoredKey(
        id=row["id"],
        account=row["account"],
        sha256=row["sha256"],
        label=row["label"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )
