from __future__ import annotations

from collections.abc import Mapping
from typing import (
    Any,
    Literal,
    Self,
    TypeVar,
    cast,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="HistoryBars")


@_attrs_define
class HistoryBars:
    """Bars as parallel arrays; ``t`` in Unix seconds.

    Attributes:
        c (list[float]):
        h (list[float]):
        l (list[float]):
        o (list[float]):
        t (list[int]):
        v (list[float | int]):
        s (Literal['ok'] | Unset):  Default: 'ok'.
    """

    c: list[float]
    h: list[float]
    l: list[float]
    o: list[float]
    t: list[int]
    v: list[float | int]
    s: Literal["ok"] | Unset = "ok"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        c = self.c

        h = self.h

        l = self.l

        o = self.o

        t = self.t

        v = []
        for v_item_data in self.v:
            v_item: float | int
            v_item = v_item_data
            v.append(v_item)

        s = self.s

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "c": c,
                "h": h,
                "l": l,
                "o": o,
                "t": t,
                "v": v,
            }
        )
        if s is not UNSET:
            field_dict["s"] = s

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        remaining__ = dict(src_dict)
        c = cast(list[float], remaining__.pop("c"))

        h = cast(list[float], remaining__.pop("h"))

        l = cast(list[float], remaining__.pop("l"))

        o = cast(list[float], remaining__.pop("o"))

        t = cast(list[int], remaining__.pop("t"))

        v = []
        _v = remaining__.pop("v")
        for v_item_data in _v:

            def _parse_v_item(data: object) -> float | int:
                return cast(float | int, data)

            v_item = _parse_v_item(v_item_data)

            v.append(v_item)

        s = cast(Literal["ok"] | Unset, remaining__.pop("s", UNSET))
        if s != "ok" and not isinstance(s, Unset):
            raise ValueError(f"s must match const 'ok', got '{s}'")

        history_bars = cls(
            c=c,
            h=h,
            l=l,
            o=o,
            t=t,
            v=v,
            s=s,
        )

        history_bars.additional_properties = remaining__
        return history_bars

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
