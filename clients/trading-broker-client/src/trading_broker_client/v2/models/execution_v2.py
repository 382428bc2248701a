from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ExecutionV2")


@_attrs_define
class ExecutionV2:
    """One fill.

    Attributes:
        id (str):
        price (float):
        quantity (float):
        time (datetime.datetime):
    """

    id: str
    price: float
    quantity: float
    time: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        price = self.price

        quantity = self.quantity

        time = self.time.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "price": price,
                "quantity": quantity,
                "time": time,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        remaining__ = dict(src_dict)
        id = remaining__.pop("id")

        price = remaining__.pop("price")

        quantity = remaining__.pop("quantity")

        time = datetime.datetime.fromisoformat(remaining__.pop("time"))

        execution_v2 = cls(
            id=id,
            price=price,
            quantity=quantity,
            time=time,
        )

        execution_v2.additional_properties = remaining__
        return execution_v2

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
