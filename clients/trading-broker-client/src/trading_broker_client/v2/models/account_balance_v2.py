from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="AccountBalanceV2")


@_attrs_define
class AccountBalanceV2:
    """The account's money: every field of the v1 account, plus its P&L.

    Attributes:
        account (str):
        balance (float): The initial balance plus every realised profit and loss
        equity (float): The balance plus the unrealised P&L of the open positions
        open_positions (int):
        realised_pnl (float):
        unrealised_pnl (float):
        updated_at (datetime.datetime):
    """

    account: str
    balance: float
    equity: float
    open_positions: int
    realised_pnl: float
    unrealised_pnl: float
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        account = self.account

        balance = self.balance

        equity = self.equity

        open_positions = self.open_positions

        realised_pnl = self.realised_pnl

        unrealised_pnl = self.unrealised_pnl

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "account": account,
                "balance": balance,
                "equity": equity,
                "open_positions": open_positions,
                "realised_pnl": realised_pnl,
                "unrealised_pnl": unrealised_pnl,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        remaining__ = dict(src_dict)
        account = remaining__.pop("account")

        balance = remaining__.pop("balance")

        equity = remaining__.pop("equity")

        open_positions = remaining__.pop("open_positions")

        realised_pnl = remaining__.pop("realised_pnl")

        unrealised_pnl = remaining__.pop("unrealised_pnl")

        updated_at = datetime.datetime.fromisoformat(remaining__.pop("updated_at"))

        account_balance_v2 = cls(
            account=account,
            balance=balance,
            equity=equity,
            open_positions=open_positions,
            realised_pnl=realised_pnl,
            unrealised_pnl=unrealised_pnl,
            updated_at=updated_at,
        )

        account_balance_v2.additional_properties = remaining__
        return account_balance_v2

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
