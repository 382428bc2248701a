from __future__ import annotations

from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    Literal,
    Self,
    TypeVar,
    cast,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.quote_values import QuoteValues


T = TypeVar("T", bound="QuoteOk")


@_attrs_define
class QuoteOk:
    """
    Attributes:
        n (str): The name as requested
        v (QuoteValues): A symbol's quote; every price and amount is a number.
        s (Literal['ok'] | Unset):  Default: 'ok'.
    """

    n: str
    v: QuoteValues
    s: Literal["ok"] | Unset = "ok"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        n = self.n

        v = self.v.to_dict()

        s = self.s

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "n": n,
                "v": v,
            }
        )
        if s is not UNSET:
            field_dict["s"] = s

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.quote_values import QuoteValues

        remaining__ = dict(src_dict)
        n = remaining__.pop("n")

        v = QuoteValues.from_dict(remaining__.pop("v"))

        s = cast(Literal["ok"] | Unset, remaining__.pop("s", UNSET))
        if s != "ok" and not isinstance(s, Unset):
            raise ValueError(f"s must match const 'ok', got '{s}'")

        quote_ok = cls(
            n=n,
            v=v,
            s=s,
        )

        quote_ok.additional_properties = remaining__
        return quote_ok

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
