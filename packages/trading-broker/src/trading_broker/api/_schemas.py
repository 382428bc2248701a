"""The parts of the broker's wire format that every API version shares.

The models the OpenAPI documents name stay in each version's ``_schemas``: a component's name is
its class's name, and the versions' bodies differ in fields, order or descriptions. What they share
is here: field types, the conversions of request bodies into the service's requests, reading
response bodies from domain objects, and turning events into bodies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from .._events import BrokerEvent
from .._instruments import PRICE_CEILING, QUANTITY_CEILING
from .._models import Execution, Order, OrderChanges, OrderRequest, Position

Symbol = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=32)]
# Bounded, so that every number the broker computes with stays finite; each instrument has its
# own, lower maximums, which the order rules check.
Quantity = Annotated[float, Field(gt=0, le=QUANTITY_CEILING)]
Price = Annotated[float, Field(gt=0, le=PRICE_CEILING)]
# JSON numbers only: no true, no "1" (v2's strict validation).
StrictQuantity = Annotated[float, Field(gt=0, le=QUANTITY_CEILING, strict=True)]
StrictPrice = Annotated[float, Field(gt=0, le=PRICE_CEILING, strict=True)]


class PlaceOrderBody(BaseModel):
    """Base of each version's order to place, whose fields are those of an :class:`OrderRequest`."""

    model_config = ConfigDict(allow_inf_nan=False)

    def to_request(self) -> OrderRequest:
        return OrderRequest(**self.model_dump())


# A version that adds to a modification's JSON schema (its examples) starts from this: pydantic
# replaces a base's json_schema_extra rather than merging it.
MODIFICATION_SCHEMA: dict[str, Any] = {"minProperties": 1}


class ModifyOrderBody(BaseModel):
    """Base of each version's modification of a working order, whose fields are those of an
    :class:`OrderChanges`: at least one of them, not null (the schema says at least one field)."""

    model_config = ConfigDict(allow_inf_nan=False, json_schema_extra=MODIFICATION_SCHEMA)

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if all(value is None for value in self.model_dump().values()):
            raise ValueError("give at least one of quantity, limit_price, stop_price")
        return self

    def to_changes(self) -> OrderChanges:
        return OrderChanges(**self.model_dump())


class ResponseBody(BaseModel):
    """Base of each version's response bodies: ``Body.model_validate(domain_object)`` reads the
    object's attributes (properties included) of the body's field names."""

    model_config = ConfigDict(from_attributes=True)


class PositionBody(ResponseBody):
    """Base of each version's position, whose ``quantity`` is the size held."""

    @classmethod
    def from_position(cls, position: Position) -> Self:
        # The domain's quantity is signed; on the wire the side says long or short.
        return cls.model_validate(position).model_copy(update={"quantity": position.size})


@dataclass(frozen=True)
class WireFormat:
    """One API version's bodies of the objects the service's events carry: those its REST
    endpoints answer for the same objects, and what its streams send."""

    order: type[ResponseBody]
    execution: type[ResponseBody]
    position: type[PositionBody]
    account: type[ResponseBody]

    def model(self, event: BrokerEvent) -> ResponseBody:
        """The body of the event's subject (an order, an execution, a position, the account)."""
        subject = event.subject
        if isinstance(subject, Order):
            return self.order.model_validate(subject)
        if isinstance(subject, Execution):
            return self.execution.model_validate(subject)
        if isinstance(subject, Position):
            return self.position.from_position(subject)
        return self.account.model_validate(subject)

    def payload(self, event: BrokerEvent) -> dict[str, Any]:
        """The body of the event's subject as JSON: what the REST endpoint answers for it."""
        return self.model(event).model_dump(mode="json")
