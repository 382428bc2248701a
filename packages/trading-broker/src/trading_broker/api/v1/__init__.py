"""Broker API v1: the original contract. No authentication; acts on the configured default account."""

from .orders import BrokerApi

__all__ = ["BrokerApi"]
