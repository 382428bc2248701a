from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.order_status import OrderStatus
from ..models.order_type import OrderType
from ..models.side import Side

T = TypeVar("T", bound="PlacedOrder")


@_attrs_define
class PlacedOrder:
    """An order as broker API v1 reports it.

    Attributes:
        id (str):
        limit_price (float | None):
        order_type (OrderType):
        quantity (float):
        reason (None | str): Why the order has its status, for example why it was rejected
        side (Side):
        status (OrderStatus):
        stop_price (float | None):
        symbol (str):
    """

    id: str
    limit_price: float | None
    order_type: OrderType
    quantity: float
    reason: None | str
    side: Side
    status: OrderStatus
    stop_price: float | None
    symbol: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        limit_price: float | None
        limit_price = self.limit_price

        order_type = self.order_type.value

        quantity = self.quantity

        reason: None | str
        reason = self.reason

        side = self.side.value

        status = self.status.value

        stop_price: float | None
        stop_price = self.stop_price

        symbol = self.symbol

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "limit_price": limit_price,
                "order_type": order_type,
                "quantity": quantity,
                "reason": reason,
                "side": side,
                "status": status,
                "stop_price": stop_price,
                "symbol": symbol,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        remaining__ = dict(src_dict)
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

        def _parse_stop_price(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        stop_price = _parse_stop_price(remaining__.pop("stop_price"))

        symbol = remaining__.pop("symbol")

        placed_order = cls(
            id=id,
            limit_price=limit_price,
            order_type=order_type,
            quantity=quantity,
            reason=reason,
            side=side,
            status=status,
            stop_price=stop_price,
            symbol=symbol,
        )

        placed_order.additional_properties = remaining__
        return placed_order

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
