"""Datafeed API v1 wire format: TradingView's UDF documents."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..._marks import Mark, TimescaleMark
from ..._models import Bar, SymbolInfo
from ..._service import QuoteResult

MAX_QUOTES = 100
"""The most symbols one ``/quotes`` request or ``quotes`` subscription names."""


def _number(value: float) -> int | float:
    """Whole amounts as integers: ``1200`` reads better than ``1200.0`` and parses the same."""
    return int(value) if value.is_integer() else value


class UdfError(BaseModel):
    """Any error of a UDF route."""

    s: Literal["error"] = "error"
    errmsg: str


class Exchange(BaseModel):
    value: str
    name: str
    desc: str


class SymbolType(BaseModel):
    name: str
    value: str


class Config(BaseModel):
    """What the feed supports; TradingView reads it first."""

    supported_resolutions: list[str]
    supports_search: bool
    supports_group_request: bool
    supports_marks: bool
    supports_timescale_marks: bool
    supports_time: bool
    exchanges: list[Exchange]
    symbols_types: list[SymbolType]


class SymbolInfoOut(BaseModel):
    """A symbol's description, as TradingView's ``LibrarySymbolInfo``. Carries no ``s`` key."""

    name: str
    ticker: str
    full_name: str
    description: str
    type: str
    session: str
    exchange: str
    listed_exchange: str
    timezone: str
    format: Literal["price", "volume"] = "price"
    pricescale: int
    minmov: int
    has_intraday: bool
    has_daily: bool
    has_weekly_and_monthly: bool
    supported_resolutions: list[str]
    intraday_multipliers: list[str]
    volume_precision: int
    data_status: str
    currency_code: str | None = None

    @classmethod
    def from_symbol(cls, info: SymbolInfo) -> SymbolInfoOut:
        units = {r.unit for r in info.resolutions}
        return cls(
            name=info.ticker,
            ticker=info.ticker,
            full_name=info.full_name,
            description=info.description,
            type=info.type,
            session=info.session,
            exchange=info.exchange,
            listed_exchange=info.exchange,
            timezone=info.timezone,
            pricescale=info.pricescale,
            minmov=info.minmov,
            has_intraday="minute" in units,
            has_daily="day" in units,
            has_weekly_and_monthly="week" in units or "month" in units,
            supported_resolutions=[r.code for r in info.resolutions],
            intraday_multipliers=[r.code for r in info.resolutions if r.unit == "minute"],
            volume_precision=info.volume_precision,
            data_status=info.data_status,
            currency_code=info.currency_code,
        )


class SearchResult(BaseModel):
    symbol: str
    full_name: str
    description: str
    exchange: str
    ticker: str
    type: str

    @classmethod
    def from_symbol(cls, info: SymbolInfo) -> SearchResult:
        return cls(
            symbol=info.ticker,
            full_name=info.full_name,
            description=info.description,
            exchange=info.exchange,
            ticker=info.ticker,
            type=info.type,
        )


class HistoryBars(BaseModel):
    """Bars as parallel arrays; ``t`` in Unix seconds."""

    s: Literal["ok"] = "ok"
    t: list[int]
    o: list[float]
    h: list[float]
    l: list[float]  # noqa: E741 - the UDF protocol's name
    c: list[float]
    v: list[int | float]

    @classmethod
    def from_bars(cls, bars: list[Bar]) -> HistoryBars:
        # Built from bars, whose fields have these types already: thousands of numbers are not
        # checked again one by one.
        return cls.model_construct(
            t=[b.time for b in bars],
            o=[b.open for b in bars],
            h=[b.high for b in bars],
            l=[b.low for b in bars],
            c=[b.close for b in bars],
            v=[_number(b.volume) for b in bars],
        )


class HistoryNoData(BaseModel):
    """No bar in the range; ``nextTime`` is the latest bar before it, when there is one."""

    s: Literal["no_data"] = "no_data"
    nextTime: int | None = None


class QuoteValues(BaseModel):
    """A symbol's quote; every price and amount is a number."""

    lp: float
    ask: float
    bid: float
    spread: float
    ch: float
    chp: float
    open_price: float
    high_price: float
    low_price: float
    prev_close_price: float
    volume: int | float
    short_name: str
    exchange: str
    description: str
    original_name: str


class QuoteOk(BaseModel):
    s: Literal["ok"] = "ok"
    n: str = Field(description="The name as requested")
    v: QuoteValues


class NoValues(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QuoteFailed(BaseModel):
    s: Literal["error"] = "error"
    n: str = Field(description="The name as requested")
    errmsg: str
    v: NoValues = Field(default_factory=NoValues)


class Quotes(BaseModel):
    s: Literal["ok"] = "ok"
    d: list[QuoteOk | QuoteFailed]

    @classmethod
    def from_results(cls, results: list[QuoteResult]) -> Quotes:
        return cls(d=[cls.item(r) for r in results])

    @staticmethod
    def item(result: QuoteResult) -> QuoteOk | QuoteFailed:
        """One symbol's entry: its quote, or why there is none."""
        if result.symbol is None or result.quote is None:
            return QuoteFailed(n=result.name, errmsg=result.error or "no quote")
        q, info = result.quote, result.symbol
        values = QuoteValues(
            lp=q.last,
            ask=q.ask,
            bid=q.bid,
            spread=info.round_price(q.ask - q.bid),
            ch=info.round_price(q.change),
            chp=round(q.change_percent, 2),
            open_price=q.open,
            high_price=q.high,
            low_price=q.low,
            prev_close_price=q.prev_close,
            volume=_number(q.volume),
            short_name=info.ticker,
            exchange=info.exchange,
            description=info.description,
            original_name=info.full_name,
        )
        return QuoteOk(n=result.name, v=values)


class SymbolGroup(BaseModel):
    """The symbols of a group as UDF's ``/symbol_info`` table: one list per field, one entry per
    symbol, in the same order; the field names are UDF's (hyphenated)."""

    symbol: list[str]
    ticker: list[str]
    description: list[str]
    type: list[str]
    exchange_listed: list[str] = Field(alias="exchange-listed")
    exchange_traded: list[str] = Field(alias="exchange-traded")
    session_regular: list[str] = Field(alias="session-regular")
    timezone: list[str]
    minmovement: list[int]
    minmov2: list[int]
    pricescale: list[int]
    fractional: list[bool]
    has_intraday: list[bool] = Field(alias="has-intraday")
    has_daily: list[bool] = Field(alias="has-daily")
    has_weekly_and_monthly: list[bool] = Field(alias="has-weekly-and-monthly")
    supported_resolutions: list[list[str]] = Field(alias="supported-resolutions")
    intraday_multipliers: list[list[str]] = Field(alias="intraday-multipliers")
    volume_precision: list[int] = Field(alias="volume-precision")
    currency_code: list[str | None] | None = Field(default=None, alias="currency-code")

    @classmethod
    def from_symbols(cls, symbols: list[SymbolInfo]) -> SymbolGroup:
        infos = [SymbolInfoOut.from_symbol(s) for s in symbols]
        currencies = [s.currency_code for s in symbols]
        return cls.model_validate(
            {
                "symbol": [i.name for i in infos],
                "ticker": [i.ticker for i in infos],
                "description": [i.description for i in infos],
                "type": [i.type for i in infos],
                "exchange-listed": [i.listed_exchange for i in infos],
                "exchange-traded": [i.exchange for i in infos],
                "session-regular": [i.session for i in infos],
                "timezone": [i.timezone for i in infos],
                "minmovement": [i.minmov for i in infos],
                "minmov2": [0 for _ in infos],
                "pricescale": [i.pricescale for i in infos],
                "fractional": [False for _ in infos],
                "has-intraday": [i.has_intraday for i in infos],
                "has-daily": [i.has_daily for i in infos],
                "has-weekly-and-monthly": [i.has_weekly_and_monthly for i in infos],
                "supported-resolutions": [i.supported_resolutions for i in infos],
                "intraday-multipliers": [i.intraday_multipliers for i in infos],
                "volume-precision": [i.volume_precision for i in infos],
                "currency-code": currencies if any(c is not None for c in currencies) else None,
            }
        )


class MarkOut(BaseModel):
    """A mark on a bar, as TradingView's ``Mark``; ``time`` in Unix seconds."""

    id: str
    time: int
    color: str = Field(description="red, green, blue or yellow")
    text: str
    label: str
    labelFontColor: str

    @classmethod
    def from_mark(cls, mark: Mark) -> MarkOut:
        return cls(
            id=mark.id,
            time=mark.time,
            color=mark.color,
            text=mark.text,
            label=mark.label,
            labelFontColor=mark.label_font_color,
        )


class TimescaleMarkOut(BaseModel):
    """A mark on the time scale, as TradingView's ``TimescaleMark``; ``time`` in Unix seconds."""

    id: str
    time: int
    color: str
    label: str
    tooltip: list[str]

    @classmethod
    def from_mark(cls, mark: TimescaleMark) -> TimescaleMarkOut:
        return cls(id=mark.id, time=mark.time, color=mark.color, label=mark.label, tooltip=list(mark.tooltip))
