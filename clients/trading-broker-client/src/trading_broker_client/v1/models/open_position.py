from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.side import Side

T = TypeVar("T", bound="OpenPosition")


@_attrs_define
class OpenPosition:
    """The net position in one symbol: ``side`` BUY is long, SELL short; ``quantity`` is the size.

    Attributes:
        average_price (float):
        quantity (float):
        side (Side):
        symbol (str):
        unrealised_pnl (float): What closing the position at the last price would realise
    """

    average_price: float
    quantity: float
    side: Side
    symbol: str
    unrealised_pnl: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        average_price = self.average_price

        quantity = self.quantity

        side = self.side.value

        symbol = self.symbol

        unrealised_pnl = self.unrealised_pnl

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "average_price": average_price,
                "quantity": quantity,
                "side": side,
                "symbol": symbol,
                "unrealised_pnl": unrealised_pnl,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        remaining__ = dict(src_dict)
        average_price = remaining__.pop("average_price")

        quantity = remaining__.pop("quantity")

        side = Side(remaining__.pop("side"))

        symbol = remaining__.pop("symbol")

        unrealised_pnl = remaining__.pop("unrealised_pnl")

        open_position = cls(
            average_price=average_price,
            quantity=quantity,
            side=side,
            symbol=symbol,
            unrealised_pnl=unrealised_pnl,
        )

        open_position.additional_properties = remaining__
        return open_position

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
