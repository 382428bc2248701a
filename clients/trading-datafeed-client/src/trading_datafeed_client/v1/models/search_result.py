from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="SearchResult")


@_attrs_define
class SearchResult:
    """
    Attributes:
        description (str):
        exchange (str):
        full_name (str):
        symbol (str):
        ticker (str):
        type_ (str):
    """

    description: str
    exchange: str
    full_name: str
    symbol: str
    ticker: str
    type_: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        description = self.description

        exchange = self.exchange

        full_name = self.full_name

        symbol = self.symbol

        ticker = self.ticker

        type_ = self.type_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "description": description,
                "exchange": exchange,
                "full_name": full_name,
                "symbol": symbol,
                "ticker": ticker,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        remaining__ = dict(src_dict)
        description = remaining__.pop("description")

        exchange = remaining__.pop("exchange")

        full_name = remaining__.pop("full_name")

        symbol = remaining__.pop("symbol")

        ticker = remaining__.pop("ticker")

        type_ = remaining__.pop("type")

        search_result = cls(
            description=description,
            exchange=exchange,
            full_name=full_name,
            symbol=symbol,
            ticker=ticker,
            type_=type_,
        )

        search_result.additional_properties = remaining__
        return search_result

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
