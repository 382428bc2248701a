"""Broker API v2's stream updates: each the body its REST endpoints answer for the same object,
plus the event's ``sequence`` (a stream client resumes with it). Each class keeps its REST
model's name, so the AsyncAPI document names the same components as before."""

from __future__ import annotations

from pydantic import Field

from .._schemas import WireFormat
from .._streams import ResumableFilter
from . import _schemas as rest

SEQUENCE = Field(
    default=None,
    description=(
        "The event's number among the account's events (1, 2, ...; ascending, and the same on every replica): "
        "subscribe with `since` set to the last one received to resume after a reconnect without a gap or a "
        "repeat. null only on an `equity` update that price moves alone caused (such updates are not stored)."
    ),
)


class SymbolFilter(ResumableFilter):
    """``orders``, ``positions`` and ``executions``: the account's updates in every symbol, or in
    one; ``since`` resumes after the last update received."""


class PlacedOrderV2(rest.PlacedOrderV2):
    __doc__ = rest.PlacedOrderV2.__doc__
    sequence: int | None = SEQUENCE


class ExecutionReportV2(rest.ExecutionReportV2):
    __doc__ = rest.ExecutionReportV2.__doc__
    sequence: int | None = SEQUENCE


class OpenPositionV2(rest.OpenPositionV2):
    __doc__ = rest.OpenPositionV2.__doc__
    sequence: int | None = SEQUENCE


class AccountBalanceV2(rest.AccountBalanceV2):
    __doc__ = rest.AccountBalanceV2.__doc__
    sequence: int | None = SEQUENCE


STREAM_WIRE = WireFormat(PlacedOrderV2, ExecutionReportV2, OpenPositionV2, AccountBalanceV2)
