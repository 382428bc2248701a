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
    from ..models.no_values import NoValues


T = TypeVar("T", bound="QuoteFailed")


@_attrs_define
class QuoteFailed:
    """
    Attributes:
        errmsg (str):
        n (str): The name as requested
        s (Literal['error'] | Unset):  Default: 'error'.
        v (NoValues | Unset):
    """

    errmsg: str
    n: str
    s: Literal["error"] | Unset = "error"
    v: NoValues | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        errmsg = self.errmsg

        n = self.n

        s = self.s

        v: dict[str, Any] | Unset = UNSET
        if not isinstance(self.v, Unset):
            v = self.v.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "errmsg": errmsg,
                "n": n,
            }
        )
        if s is not UNSET:
            field_dict["s"] = s
        if v is not UNSET:
            field_dict["v"] = v

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.no_values import NoValues

        remaining__ = dict(src_dict)
        errmsg = remaining__.pop("errmsg")

        n = remaining__.pop("n")

        s = cast(Literal["error"] | Unset, remaining__.pop("s", UNSET))
        if s != "error" and not isinstance(s, Unset):
            raise ValueError(f"s must match const 'error', got '{s}'")

        _v = remaining__.pop("v", UNSET)
        v: NoValues | Unset
        if isinstance(_v, Unset):
            v = UNSET
        else:
            v = NoValues.from_dict(_v)

        quote_failed = cls(
            errmsg=errmsg,
            n=n,
            s=s,
            v=v,
        )

        quote_failed.additional_properties = remaining__
        return quote_failed

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
