"""Broker API v1: the original contract. No authentication; acts on the configured default account."""

from ._schemas import event_payload
from .orders import BrokerApi

__all__ = ["BrokerApi", "event_payload"]
