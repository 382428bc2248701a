"""Datafeed API v1: TradingView's UDF protocol (config, symbols, symbol_info, search, history,
marks, timescale_marks, time, quotes) and the ``bars`` and ``quotes`` streams at ``/ws``."""

from .udf import DatafeedApi

__all__ = ["DatafeedApi"]
