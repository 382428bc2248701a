from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="TimescaleMarkOut")


@_attrs_define
class TimescaleMarkOut:
    """A mark on the time scale, as TradingView's ``TimescaleMark``; ``time`` in Unix seconds.

    Attributes:
        color (str):
        id (str):
        label (str):
        time (int):
        tooltip (list[str]):
    """

    color: str
    id: str
    label: str
    time: int
    tooltip: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        color = self.color

        id = self.id

        label = self.label

        time = self.time

        tooltip = self.tooltip

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "color": color,
                "id": id,
                "label": label,
                "time": time,
                "tooltip": tooltip,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        remaining__ = dict(src_dict)
        color = remaining__.pop("color")

        id = remaining__.pop("id")

        label = remaining__.pop("label")

        time = remaining__.pop("time")

        tooltip = cast(list[str], remaining__.pop("tooltip"))

        timescale_mark_out = cls(
            color=color,
            id=id,
            label=label,
            time=time,
            tooltip=tooltip,
        )

        timescale_mark_out.additional_properties = remaining__
        return timescale_mark_out

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
