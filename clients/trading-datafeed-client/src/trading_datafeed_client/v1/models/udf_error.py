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

T = TypeVar("T", bound="UdfError")


@_attrs_define
class UdfError:
    """Any error of a UDF route.

    Attributes:
        errmsg (str):
        s (Literal['error'] | Unset):  Default: 'error'.
    """

    errmsg: str
    s: Literal["error"] | Unset = "error"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        errmsg = self.errmsg

        s = self.s

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "errmsg": errmsg,
            }
        )
        if s is not UNSET:
            field_dict["s"] = s

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        remaining__ = dict(src_dict)
        errmsg = remaining__.pop("errmsg")

        s = cast(Literal["error"] | Unset, remaining__.pop("s", UNSET))
        if s != "error" and not isinstance(s, Unset):
            raise ValueError(f"s must match const 'error', got '{s}'")

        udf_error = cls(
            errmsg=errmsg,
            s=s,
        )

        udf_error.additional_properties = remaining__
        return udf_error

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
