"""Datafeed API versions: ``v1`` (TradingView UDF compatible)."""
