from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.order_type import OrderType
from ..models.side import Side
from ..types import UNSET, Unset

T = TypeVar("T", bound="PreOrderV2")


@_attrs_define
class PreOrderV2:
    """An order to place. Unknown fields are refused, so a typo is not silently ignored.

    Attributes:
        quantity (float): A whole number of the symbol's lots, at most the symbol's maximum order quantity
        symbol (str): A symbol the broker trades
        limit_price (float | None | Unset): On the symbol's tick, at most its maximum price; required for LIMIT and
            STOP_LIMIT, refused otherwise
        order_type (OrderType | Unset):
        side (Side | Unset):
        stop_price (float | None | Unset): On the symbol's tick, at most its maximum price; required for STOP and
            STOP_LIMIT, refused otherwise
    """

    quantity: float
    symbol: str
    limit_price: float | None | Unset = UNSET
    order_type: OrderType | Unset = UNSET
    side: Side | Unset = UNSET
    stop_price: float | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        quantity = self.quantity

        symbol = self.symbol

        limit_price: float | None | Unset
        if isinstance(self.limit_price, Unset):
            limit_price = UNSET
        else:
            limit_price = self.limit_price

        order_type: str | Unset = UNSET
        if not isinstance(self.order_type, Unset):
            order_type = self.order_type.value

        side: str | Unset = UNSET
        if not isinstance(self.side, Unset):
            side = self.side.value

        stop_price: float | None | Unset
        if isinstance(self.stop_price, Unset):
            stop_price = UNSET
        else:
            stop_price = self.stop_price

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "quantity": quantity,
                "symbol": symbol,
            }
        )
        if limit_price is not UNSET:
            field_dict["limit_price"] = limit_price
        if order_type is not UNSET:
            field_dict["order_type"] = order_type
        if side is not UNSET:
            field_dict["side"] = side
        if stop_price is not UNSET:
            field_dict["stop_price"] = stop_price

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        remaining__ = dict(src_dict)
        quantity = remaining__.pop("quantity")

        symbol = remaining__.pop("symbol")

        def _parse_limit_price(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        limit_price = _parse_limit_price(remaining__.pop("limit_price", UNSET))

        _order_type = remaining__.pop("order_type", UNSET)
        order_type: OrderType | Unset
        if isinstance(_order_type, Unset):
            order_type = UNSET
        else:
            order_type = OrderType(_order_type)

        _side = remaining__.pop("side", UNSET)
        side: Side | Unset
        if isinstance(_side, Unset):
            side = UNSET
        else:
            side = Side(_side)

        def _parse_stop_price(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        stop_price = _parse_stop_price(remaining__.pop("stop_price", UNSET))

        pre_order_v2 = cls(
            quantity=quantity,
            symbol=symbol,
            limit_price=limit_price,
            order_type=order_type,
            side=side,
            stop_price=stop_price,
        )

        return pre_order_v2
