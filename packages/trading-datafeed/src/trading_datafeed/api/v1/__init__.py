"""Datafeed API v1: TradingView's UDF protocol (config, symbols, search, history, time, quotes)."""

from .udf import DatafeedApi

__all__ = ["DatafeedApi"]
