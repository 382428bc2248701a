"""The datafeed module of the Trading API platform.

One :class:`DatafeedModule` per process holds one :class:`DatafeedService` over a market-data
source (:class:`SimulatedMarket` by default, :class:`CsvMarket` for your own files); datafeed API
v1 (``trading_datafeed.api.v1``), registered as the entry point ``datafeed.v1``, serves it with
TradingView's UDF protocol.
"""

from ._csv import CsvMarket
from ._errors import Busy, DatafeedError, DataFileError, InvalidParameter, TooManyRequests, UnknownGroup, UnknownSymbol
from ._marks import Mark, TimescaleMark
from ._models import Bar, MarketData, Quote, SymbolInfo
from ._module import DatafeedModule
from ._resolutions import RESOLUTIONS, Resolution, parse_resolution
from ._service import DatafeedService, History, QuoteResult
from ._settings import DatafeedSettings
from ._simulated import BUILTIN_SYMBOLS, MARKET_START, SimulatedMarket, SimulatedSymbol
from ._version import __version__

__all__ = [
    "BUILTIN_SYMBOLS",
    "MARKET_START",
    "RESOLUTIONS",
    "Bar",
    "Busy",
    "CsvMarket",
    "DataFileError",
    "DatafeedError",
    "DatafeedModule",
    "DatafeedService",
    "DatafeedSettings",
    "History",
    "InvalidParameter",
    "Mark",
    "MarketData",
    "Quote",
    "QuoteResult",
    "Resolution",
    "SimulatedMarket",
    "SimulatedSymbol",
    "SymbolInfo",
    "TimescaleMark",
    "TooManyRequests",
    "UnknownGroup",
    "UnknownSymbol",
    "__version__",
    "parse_resolution",
]
