from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.order_status import OrderStatus
from ..models.order_type import OrderType
from ..models.side import Side

if TYPE_CHECKING:
    from ..models.execution_v2 import ExecutionV2
    from ..models.status_change_v2 import StatusChangeV2


T = TypeVar("T", bound="PlacedOrderV2")


@_attrs_define
class PlacedOrderV2:
    """An order as broker API v2 reports it: a superset of the v1 order.

    Attributes:
        account (str):
        average_fill_price (float | None):
        created_at (datetime.datetime):
        executions (list[ExecutionV2]):
        filled_quantity (float):
        id (str):
        limit_price (float | None):
        order_type (OrderType):
        quantity (float):
        reason (None | str): Why the order has its status, for example why it was rejected
        side (Side):
        status (OrderStatus):
        status_history (list[StatusChangeV2]):
        stop_price (float | None):
        stop_triggered (bool): The stop of a STOP or STOP_LIMIT order has been reached
        symbol (str):
        updated_at (datetime.datetime):
    """

    account: str
    average_fill_price: float | None
    created_at: datetime.datetime
    executions: list[ExecutionV2]
    filled_quantity: float
    id: str
    limit_price: float | None
    order_type: OrderType
    quantity: float
    reason: None | str
    side: Side
    status: OrderStatus
    status_history: list[StatusChangeV2]
    stop_price: float | None
    stop_triggered: bool
    symbol: str
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        account = self.account

        average_fill_price: float | None
        average_fill_price = self.average_fill_price

        created_at = self.created_at.isoformat()

        executions = []
        for executions_item_data in self.executions:
            executions_item = executions_item_data.to_dict()
            executions.append(executions_item)

        filled_quantity = self.filled_quantity

        id = self.id

        limit_price: float | None
        limit_price = self.limit_price

        order_type = self.order_type.value

        quantity = self.quantity

        reason: None | str
        reason = self.reason

        side = self.side.value

        status = self.status.value

        status_history = []
        for status_history_item_data in self.status_history:
            status_history_item = status_history_item_data.to_dict()
            status_history.append(status_history_item)

        stop_price: float | None
        stop_price = self.stop_price

        stop_triggered = self.stop_triggered

        symbol = self.symbol

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "account": account,
                "average_fill_price": average_fill_price,
                "created_at": created_at,
                "executions": executions,
                "filled_quantity": filled_quantity,
                "id": id,
                "limit_price": limit_price,
                "order_type": order_type,
                "quantity": quantity,
                "reason": reason,
                "side": side,
                "status": status,
                "status_history": status_history,
                "stop_price": stop_price,
                "stop_triggered": stop_triggered,
                "symbol": symbol,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.execution_v2 import ExecutionV2
        from ..models.status_change_v2 import StatusChangeV2

        remaining__ = dict(src_dict)
        account = remaining__.pop("account")

        def _parse_average_fill_price(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        average_fill_price = _parse_average_fill_price(
            remaining__.pop("average_fill_price")
        )

        created_at = datetime.datetime.fromisoformat(remaining__.pop("created_at"))

        executions = []
        _executions = remaining__.pop("executions")
        for executions_item_data in _executions:
            executions_item = ExecutionV2.from_dict(executions_item_data)

            executions.append(executions_item)

        filled_quantity = remaining__.pop("filled_quantity")

        id = remaining__.pop("id")

        def _parse_limit_price(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        limit_price = _parse_limit_price(remaining__.pop("limit_price"))

        order_type = OrderType(remaining__.pop("order_type"))

        quantity = remaining__.pop("quantity")

        def _parse_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reason = _parse_reason(remaining__.pop("reason"))

        side = Side(remaining__.pop("side"))

        status = OrderStatus(remaining__.pop("status"))

        status_history = []
        _status_history = remaining__.pop("status_history")
        for status_history_item_data in _status_history:
            status_history_item = StatusChangeV2.from_dict(status_history_item_data)

            status_history.append(status_history_item)

        def _parse_stop_price(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        stop_price = _parse_stop_price(remaining__.pop("stop_price"))

        stop_triggered = remaining__.pop("stop_triggered")

        symbol = remaining__.pop("symbol")

        updated_at = datetime.datetime.fromisoformat(remaining__.pop("updated_at"))

        placed_order_v2 = cls(
            account=account,
            average_fill_price=average_fill_price,
            created_at=created_at,
            executions=executions,
            filled_quantity=filled_quantity,
            id=id,
            limit_price=limit_price,
            order_type=order_type,
            quantity=quantity,
            reason=reason,
            side=side,
            status=status,
            status_history=status_history,
            stop_price=stop_price,
            stop_triggered=stop_triggered,
            symbol=symbol,
            updated_at=updated_at,
        )

        placed_order_v2.additional_properties = remaining__
        return placed_order_v2

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
