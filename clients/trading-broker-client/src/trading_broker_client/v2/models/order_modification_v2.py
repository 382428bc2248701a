from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="OrderModificationV2")


@_attrs_define
class OrderModificationV2:
    """New values for a working order; fields left out keep their value. At least one field.

    Attributes:
        limit_price (float | None | Unset):
        quantity (float | None | Unset):
        stop_price (float | None | Unset):
    """

    limit_price: float | None | Unset = UNSET
    quantity: float | None | Unset = UNSET
    stop_price: float | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        limit_price: float | None | Unset
        if isinstance(self.limit_price, Unset):
            limit_price = UNSET
        else:
            limit_price = self.limit_price

        quantity: float | None | Unset
        if isinstance(self.quantity, Unset):
            quantity = UNSET
        else:
            quantity = self.quantity

        stop_price: float | None | Unset
        if isinstance(self.stop_price, Unset):
            stop_price = UNSET
        else:
            stop_price = self.stop_price

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if limit_price is not UNSET:
            field_dict["limit_price"] = limit_price
        if quantity is not UNSET:
            field_dict["quantity"] = quantity
        if stop_price is not UNSET:
            field_dict["stop_price"] = stop_price

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        remaining__ = dict(src_dict)

        def _parse_limit_price(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        limit_price = _parse_limit_price(remaining__.pop("limit_price", UNSET))

        def _parse_quantity(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        quantity = _parse_quantity(remaining__.pop("quantity", UNSET))

        def _parse_stop_price(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        stop_price = _parse_stop_price(remaining__.pop("stop_price", UNSET))

        order_modification_v2 = cls(
            limit_price=limit_price,
            quantity=quantity,
            stop_price=stop_price,
        )

        return order_modification_v2
