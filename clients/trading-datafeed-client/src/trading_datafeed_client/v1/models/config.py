from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.exchange import Exchange
    from ..models.symbol_type import SymbolType


T = TypeVar("T", bound="Config")


@_attrs_define
class Config:
    """What the feed supports; TradingView reads it first.

    Attributes:
        exchanges (list[Exchange]):
        supported_resolutions (list[str]):
        supports_group_request (bool):
        supports_marks (bool):
        supports_search (bool):
        supports_time (bool):
        supports_timescale_marks (bool):
        symbols_types (list[SymbolType]):
    """

    exchanges: list[Exchange]
    supported_resolutions: list[str]
    supports_group_request: bool
    supports_marks: bool
    supports_search: bool
    supports_time: bool
    supports_timescale_marks: bool
    symbols_types: list[SymbolType]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        exchanges = []
        for exchanges_item_data in self.exchanges:
            exchanges_item = exchanges_item_data.to_dict()
            exchanges.append(exchanges_item)

        supported_resolutions = self.supported_resolutions

        supports_group_request = self.supports_group_request

        supports_marks = self.supports_marks

        supports_search = self.supports_search

        supports_time = self.supports_time

        supports_timescale_marks = self.supports_timescale_marks

        symbols_types = []
        for symbols_types_item_data in self.symbols_types:
            symbols_types_item = symbols_types_item_data.to_dict()
            symbols_types.append(symbols_types_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "exchanges": exchanges,
                "supported_resolutions": supported_resolutions,
                "supports_group_request": supports_group_request,
                "supports_marks": supports_marks,
                "supports_search": supports_search,
                "supports_time": supports_time,
                "supports_timescale_marks": supports_timescale_marks,
                "symbols_types": symbols_types,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.exchange import Exchange
        from ..models.symbol_type import SymbolType

        remaining__ = dict(src_dict)
        exchanges = []
        _exchanges = remaining__.pop("exchanges")
        for exchanges_item_data in _exchanges:
            exchanges_item = Exchange.from_dict(exchanges_item_data)

            exchanges.append(exchanges_item)

        supported_resolutions = cast(
            list[str], remaining__.pop("supported_resolutions")
        )

        supports_group_request = remaining__.pop("supports_group_request")

        supports_marks = remaining__.pop("supports_marks")

        supports_search = remaining__.pop("supports_search")

        supports_time = remaining__.pop("supports_time")

        supports_timescale_marks = remaining__.pop("supports_timescale_marks")

        symbols_types = []
        _symbols_types = remaining__.pop("symbols_types")
        for symbols_types_item_data in _symbols_types:
            symbols_types_item = SymbolType.from_dict(symbols_types_item_data)

            symbols_types.append(symbols_types_item)

        config = cls(
            exchanges=exchanges,
            supported_resolutions=supported_resolutions,
            supports_group_request=supports_group_request,
            supports_marks=supports_marks,
            supports_search=supports_search,
            supports_time=supports_time,
            supports_timescale_marks=supports_timescale_marks,
            symbols_types=symbols_types,
        )

        config.additional_properties = remaining__
        return config

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
