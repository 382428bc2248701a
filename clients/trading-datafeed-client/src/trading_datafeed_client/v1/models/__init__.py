"""Contains all the data models used in inputs/outputs"""

from .config import Config
from .exchange import Exchange
from .history_bars import HistoryBars
from .history_no_data import HistoryNoData
from .mark_out import MarkOut
from .no_values import NoValues
from .quote_failed import QuoteFailed
from .quote_ok import QuoteOk
from .quote_values import QuoteValues
from .quotes import Quotes
from .search_result import SearchResult
from .symbol_group import SymbolGroup
from .symbol_info_out import SymbolInfoOut
from .symbol_info_out_format import SymbolInfoOutFormat
from .symbol_type import SymbolType
from .timescale_mark_out import TimescaleMarkOut
from .udf_error import UdfError

__all__ = (
    "Config",
    "Exchange",
    "HistoryBars",
    "HistoryNoData",
    "MarkOut",
    "NoValues",
    "QuoteFailed",
    "QuoteOk",
    "QuoteValues",
    "Quotes",
    "SearchResult",
    "SymbolGroup",
    "SymbolInfoOut",
    "SymbolInfoOutFormat",
    "SymbolType",
    "TimescaleMarkOut",
    "UdfError",
)
