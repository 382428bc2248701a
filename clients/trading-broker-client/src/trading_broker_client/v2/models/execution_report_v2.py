from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.side import Side

T = TypeVar("T", bound="ExecutionReportV2")


@_attrs_define
class ExecutionReportV2:
    """One fill of an order: every field of a v1 execution, plus the account and the P&L it realised.

    Attributes:
        account (str):
        id (str):
        order_id (str):
        price (float):
        quantity (float):
        realised_pnl (float): Profit or loss this fill realised by reducing or closing a position
        side (Side):
        symbol (str):
        time (datetime.datetime):
    """

    account: str
    id: str
    order_id: str
    price: float
    quantity: float
    realised_pnl: float
    side: Side
    symbol: str
    time: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        account = self.account

        id = self.id

        order_id = self.order_id

        price = self.price

        quantity = self.quantity

        realised_pnl = self.realised_pnl

        side = self.side.value

        symbol = self.symbol

        time = self.time.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "account": account,
                "id": id,
                "order_id": order_id,
                "price": price,
                "quantity": quantity,
                "realised_pnl": realised_pnl,
                "side": side,
                "symbol": symbol,
                "time": time,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        remaining__ = dict(src_dict)
        account = remaining__.pop("account")

        id = remaining__.pop("id")

        order_id = remaining__.pop("order_id")

        price = remaining__.pop("price")

        quantity = remaining__.pop("quantity")

        realised_pnl = remaining__.pop("realised_pnl")

        side = Side(remaining__.pop("side"))

        symbol = remaining__.pop("symbol")

        time = datetime.datetime.fromisoformat(remaining__.pop("time"))

        execution_report_v2 = cls(
            account=account,
            id=id,
            order_id=order_id,
            price=price,
            quantity=quantity,
            realised_pnl=realised_pnl,
            side=side,
            symbol=symbol,
            time=time,
        )

        execution_report_v2.additional_properties = remaining__
        return execution_report_v2

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
