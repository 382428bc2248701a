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
    from ..models.quote_failed import QuoteFailed
    from ..models.quote_ok import QuoteOk


T = TypeVar("T", bound="Quotes")


@_attrs_define
class Quotes:
    """
    Attributes:
        d (list[QuoteFailed | QuoteOk]):
        s (Literal['ok'] | Unset):  Default: 'ok'.
    """

    d: list[QuoteFailed | QuoteOk]
    s: Literal["ok"] | Unset = "ok"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.quote_ok import QuoteOk

        d = []
        for d_item_data in self.d:
            d_item: dict[str, Any]
            if isinstance(d_item_data, QuoteOk):
                d_item = d_item_data.to_dict()
            else:
                d_item = d_item_data.to_dict()

            d.append(d_item)

        s = self.s

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "d": d,
            }
        )
        if s is not UNSET:
            field_dict["s"] = s

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.quote_failed import QuoteFailed
        from ..models.quote_ok import QuoteOk

        remaining__ = dict(src_dict)
        d = []
        _d = remaining__.pop("d")
        for d_item_data in _d:

            def _parse_d_item(data: object) -> QuoteFailed | QuoteOk:
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    d_item_type_0 = QuoteOk.from_dict(data)

                    return d_item_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                if not isinstance(data, dict):
                    raise TypeError()
                d_item_type_1 = QuoteFailed.from_dict(data)

                return d_item_type_1

            d_item = _parse_d_item(d_item_data)

            d.append(d_item)

        s = cast(Literal["ok"] | Unset, remaining__.pop("s", UNSET))
        if s != "ok" and not isinstance(s, Unset):
            raise ValueError(f"s must match const 'ok', got '{s}'")

        quotes = cls(
            d=d,
            s=s,
        )

        quotes.additional_properties = remaining__
        return quotes

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
