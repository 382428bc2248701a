from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="MarkOut")


@_attrs_define
class MarkOut:
    """A mark on a bar, as TradingView's ``Mark``; ``time`` in Unix seconds.

    Attributes:
        color (str): red, green, blue or yellow
        id (str):
        label (str):
        label_font_color (str):
        text (str):
        time (int):
    """

    color: str
    id: str
    label: str
    label_font_color: str
    text: str
    time: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        color = self.color

        id = self.id

        label = self.label

        label_font_color = self.label_font_color

        text = self.text

        time = self.time

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "color": color,
                "id": id,
                "label": label,
                "labelFontColor": label_font_color,
                "text": text,
                "time": time,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        remaining__ = dict(src_dict)
        color = remaining__.pop("color")

        id = remaining__.pop("id")

        label = remaining__.pop("label")

        label_font_color = remaining__.pop("labelFontColor")

        text = remaining__.pop("text")

        time = remaining__.pop("time")

        mark_out = cls(
            color=color,
            id=id,
            label=label,
            label_font_color=label_font_color,
            text=text,
            time=time,
        )

        mark_out.additional_properties = remaining__
        return mark_out

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
