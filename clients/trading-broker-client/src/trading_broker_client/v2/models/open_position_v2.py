from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.side import Side

T = TypeVar("T", bound="OpenPositionV2")


@_attrs_define
class OpenPositionV2:
    """The net position in one symbol: every field of a v1 position, plus its valuation.

    Attributes:
        account (str):
        average_price (float):
        last_price (float | None):
        quantity (float): The size held; 0 once the position is closed
        realised_pnl (float): Profit or loss realised in this symbol since the account first traded it
        side (Side):
        symbol (str):
        unrealised_pnl (float): What closing the position at the last price would realise
        updated_at (datetime.datetime):
    """

    account: str
    average_price: float
    last_price: float | None
    quantity: float
    realised_pnl: float
    side: Side
    symbol: str
    unrealised_pnl: float
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        account = self.account

        average_price = self.average_price

        last_price: float | None
        last_price = self.last_price

        quantity = self.quantity

        realised_pnl = self.realised_pnl

        side = self.side.value

        symbol = self.symbol

        unrealised_pnl = self.unrealised_pnl

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "account": account,
                "average_price": average_price,
                "last_price": last_price,
                "quantity": quantity,
                "realised_pnl": realised_pnl,
                "side": side,
                "symbol": symbol,
                "unrealised_pnl": unrealised_pnl,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        remaining__ = dict(src_dict)
        account = remaining__.pop("account")

        average_price = remaining__.pop("average_price")

        def _parse_last_price(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        last_price = _parse_last_price(remaining__.pop("last_price"))

        quantity = remaining__.pop("quantity")

        realised_pnl = remaining__.pop("realised_pnl")

        side = Side(remaining__.pop("side"))

        symbol = remaining__.pop("symbol")

        unrealised_pnl = remaining__.pop("unrealised_pnl")

        updated_at = datetime.datetime.fromisoformat(remaining__.pop("updated_at"))

        open_position_v2 = cls(
            account=account,
            average_price=average_price,
            last_price=last_price,
            quantity=quantity,
            realised_pnl=realised_pnl,
            side=side,
            symbol=symbol,
            unrealised_pnl=unrealised_pnl,
            updated_at=updated_at,
        )

        open_position_v2.additional_properties = remaining__
        return open_position_v2

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
