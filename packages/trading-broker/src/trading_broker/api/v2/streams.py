"""Broker API v2 streams at ``/ws``: the token's account's ``orders``, ``positions``,
``executions`` and ``equity``, each update the body v2's REST endpoints answer for that object.
Topics are per account: a connection only ever receives its own account's events. Each update
carries its ``sequence``; ``orders``, ``positions`` and ``executions`` take ``since`` to resume."""

from __future__ import annotations

from typing import Any

from trading_core.streams import Identity, StreamRoute

from ..._module import BrokerModule
from .._streams import broker_stream_routes
from ._stream_schemas import STREAM_WIRE, SymbolFilter


def _account(identity: Identity | None) -> str:
    if identity is None:  # the hub refuses anonymous subscriptions to per-identity routes first
        raise RuntimeError("a broker API v2 stream was started without an authenticated account")
    return identity.account


def stream_routes(module: BrokerModule) -> list[StreamRoute[Any, Any]]:
    """The four routes, each topic following the subscriber's own account."""
    return broker_stream_routes(
        module.service,
        STREAM_WIRE,
        account_of=_account,
        per_identity=True,
        equity_interval=module.settings.equity_interval,
        resumable=SymbolFilter,
    )
