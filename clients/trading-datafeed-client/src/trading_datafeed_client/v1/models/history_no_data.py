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

T = TypeVar("T", bound="HistoryNoData")


@_attrs_define
class HistoryNoData:
    """No bar in the range; ``nextTime`` is the latest bar before it, when there is one.

    Attributes:
        next_time (int | None | Unset):
        s (Literal['no_data'] | Unset):  Default: 'no_data'.
    """

    next_time: int | None | Unset = UNSET
    s: Literal["no_data"] | Unset = "no_data"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        next_time: int | None | Unset
        if isinstance(self.next_time, Unset):
            next_time = UNSET
        else:
            next_time = self.next_time

        s = self.s

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if next_time is not UNSET:
            field_dict["nextTime"] = next_time
        if s is not UNSET:
            field_dict["s"] = s

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        remaining__ = dict(src_dict)

        def _parse_next_time(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        next_time = _parse_next_time(remaining__.pop("nextTime", UNSET))

        s = cast(Literal["no_data"] | Unset, remaining__.pop("s", UNSET))
        if s != "no_data" and not isinstance(s, Unset):
            raise ValueError(f"s must match const 'no_data', got '{s}'")

        history_no_data = cls(
            next_time=next_time,
            s=s,
        )

        history_no_data.additional_properties = remaining__
        return history_no_data

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
