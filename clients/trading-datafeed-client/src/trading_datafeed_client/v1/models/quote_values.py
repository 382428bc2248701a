from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="QuoteValues")


@_attrs_define
class QuoteValues:
    """A symbol's quote; every price and amount is a number.

    Attributes:
        ask (float):
        bid (float):
        ch (float):
        chp (float):
        description (str):
        exchange (str):
        high_price (float):
        low_price (float):
        lp (float):
        open_price (float):
        original_name (str):
        prev_close_price (float):
        short_name (str):
        spread (float):
        volume (float | int):
    """

    ask: float
    bid: float
    ch: float
    chp: float
    description: str
    exchange: str
    high_price: float
    low_price: float
    lp: float
    open_price: float
    original_name: str
    prev_close_price: float
    short_name: str
    spread: float
    volume: float | int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        ask = self.ask

        bid = self.bid

        ch = self.ch

        chp = self.chp

        description = self.description

        exchange = self.exchange

        high_price = self.high_price

        low_price = self.low_price

        lp = self.lp

        open_price = self.open_price

        original_name = self.original_name

        prev_close_price = self.prev_close_price

        short_name = self.short_name

        spread = self.spread

        volume: float | int
        volume = self.volume

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "ask": ask,
                "bid": bid,
                "ch": ch,
                "chp": chp,
                "description": description,
                "exchange": exchange,
                "high_price": high_price,
                "low_price": low_price,
                "lp": lp,
                "open_price": open_price,
                "original_name": original_name,
                "prev_close_price": prev_close_price,
                "short_name": short_name,
                "spread": spread,
                "volume": volume,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        remaining__ = dict(src_dict)
        ask = remaining__.pop("ask")

        bid = remaining__.pop("bid")

        ch = remaining__.pop("ch")

        chp = remaining__.pop("chp")

        description = remaining__.pop("description")

        exchange = remaining__.pop("exchange")

        high_price = remaining__.pop("high_price")

        low_price = remaining__.pop("low_price")

        lp = remaining__.pop("lp")

        open_price = remaining__.pop("open_price")

        original_name = remaining__.pop("original_name")

        prev_close_price = remaining__.pop("prev_close_price")

        short_name = remaining__.pop("short_name")

        spread = remaining__.pop("spread")

        def _parse_volume(data: object) -> float | int:
            return cast(float | int, data)

        volume = _parse_volume(remaining__.pop("volume"))

        quote_values = cls(
            ask=ask,
            bid=bid,
            ch=ch,
            chp=chp,
            description=description,
            exchange=exchange,
            high_price=high_price,
            low_price=low_price,
            lp=lp,
            open_price=open_price,
            original_name=original_name,
            prev_close_price=prev_close_price,
            short_name=short_name,
            spread=spread,
            volume=volume,
        )

        quote_values.additional_properties = remaining__
        return quote_values

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
