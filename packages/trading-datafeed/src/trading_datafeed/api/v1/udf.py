"""Datafeed API v1 routes: TradingView's UDF protocol, a thin adapter over the datafeed service."""

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from trading_core import ModuleApi

from ..._errors import InvalidParameter
from ..._module import DatafeedModule
from ._route import udf_error, udf_route_class
from ._schemas import (
    Config,
    Exchange,
    HistoryBars,
    HistoryNoData,
    Quotes,
    SearchResult,
    SymbolInfoOut,
    SymbolType,
    UdfError,
)

# Seconds from year 1 to year 9999: any time a chart can ask for, and nothing a date cannot hold.
Seconds = Annotated[int, Query(ge=-62_135_596_800, le=253_402_300_799)]
MAX_QUOTES = 100

UNKNOWN_SYMBOL: dict[int | str, dict[str, Any]] = {404: {"model": UdfError, "description": "Unknown symbol"}}
INVALID: dict[int | str, dict[str, Any]] = {422: {"model": UdfError, "description": "Invalid parameter"}}


class DatafeedApi(ModuleApi):
    """Datafeed API v1, compatible with TradingView's UDF adapter. Errors are ``{"s": "error",
    "errmsg": ...}``; ``/config`` announces no marks, timescale marks or group requests, so those
    routes are not served."""

    module = DatafeedModule
    version = "v1"

    def __init__(self, module: DatafeedModule) -> None:
        super().__init__(module, route_class=udf_route_class(module.cors))
        service = module.service

        @self.get("/config", response_model=Config, operation_id="getConfig", summary="Feed configuration")
        async def config() -> Config:
            """What the feed supports: resolutions, search, server time, exchanges and symbol types."""
            return Config(
                supported_resolutions=[r.code for r in service.resolutions()],
                supports_search=True,
                supports_group_request=False,
                supports_marks=False,
                supports_timescale_marks=False,
                supports_time=True,
                exchanges=[
                    Exchange(value="", name="All Exchanges", desc=""),
                    *(Exchange(value=e, name=e, desc=e) for e in service.exchanges()),
                ],
                symbols_types=[
                    SymbolType(name="All types", value=""),
                    *(SymbolType(name=t.capitalize(), value=t) for t in service.symbol_types()),
                ],
            )

        @self.get(
            "/symbols",
            response_model=SymbolInfoOut,
            response_model_exclude_none=True,
            operation_id="getSymbolInfo",
            summary="Resolve a symbol",
            responses={**UNKNOWN_SYMBOL, **INVALID},
        )
        async def symbols(symbol: Annotated[str, Query(description="TICKER or EXCHANGE:TICKER")]) -> SymbolInfoOut:
            """A symbol's description, by ticker or full name."""
            return SymbolInfoOut.from_symbol(service.symbol(symbol))

        @self.get(
            "/search",
            response_model=list[SearchResult],
            operation_id="searchSymbols",
            summary="Search symbols",
            responses=INVALID,
        )
        async def search(
            query: str = "",
            type: Annotated[str, Query(description="A value of /config's symbols_types; empty for all")] = "",
            exchange: Annotated[str, Query(description="A value of /config's exchanges; empty for all")] = "",
            limit: Annotated[int, Query(ge=1, le=1_000)] = 30,
        ) -> list[SearchResult]:
            """Symbols whose ticker or description contains ``query``."""
            found = service.search(query, type=type, exchange=exchange, limit=limit)
            return [SearchResult.from_symbol(s) for s in found]

        @self.get(
            "/history",
            response_model=HistoryBars | HistoryNoData,
            response_model_exclude_none=True,
            operation_id="getHistory",
            summary="Bars",
            responses={**UNKNOWN_SYMBOL, **INVALID},
        )
        async def history(
            symbol: str,
            resolution: Annotated[str, Query(description="1, 5, 15, 30, 60, 240, 1D, 1W or 1M")],
            to: Annotated[Seconds, Query(description="End of the range, exclusive (Unix seconds)")],
            from_: Annotated[
                Seconds | None, Query(alias="from", description="Start of the range, inclusive (Unix seconds)")
            ] = None,
            countback: Annotated[
                int | None, Query(ge=1, description="Bars wanted before `to`; when given, `from` is ignored")
            ] = None,
        ) -> HistoryBars | HistoryNoData:
            """Bars stamped in ``[from, to)``, or the ``countback`` bars before ``to``. Daily and longer
            bars are stamped at 00:00 UTC."""
            result = service.history(symbol, resolution, start=from_, end=to, countback=countback)
            if result.bars:
                return HistoryBars.from_bars(result.bars)
            return HistoryNoData(nextTime=result.next_time)

        @self.get("/time", response_model=int, operation_id="getServerTime", summary="Server time")
        async def server_time() -> int:
            """The server's time in Unix seconds, as a bare number."""
            return service.now()

        @self.get(
            "/quotes",
            response_model=Quotes,
            operation_id="getQuotes",
            summary="Quotes",
            responses=INVALID,
        )
        async def quotes(symbols: Annotated[str, Query(description="Comma-separated names")]) -> Quotes:
            """A quote per requested symbol; an unknown one gets an error entry and the others still answer."""
            names = [n.strip() for n in symbols.split(",") if n.strip()]
            if not names:
                raise InvalidParameter("symbols", "give one or more symbols, separated by commas")
            if len(names) > MAX_QUOTES:
                raise InvalidParameter("symbols", f"ask for at most {MAX_QUOTES} symbols at a time")
            return Quotes.from_results(service.quotes(names))

        async def preflight(request: Request) -> Response:
            """Answer a browser's CORS preflight."""
            headers = module.cors.preflight_headers(
                request.headers.get("origin"), request.headers.get("access-control-request-headers")
            )
            if headers is None:
                return udf_error("this origin may not call the datafeed", 403)
            return Response(status_code=204, headers=headers)

        # One OPTIONS route per path, not a catch-all, so an unknown path is still a 404.
        for path in [route.path for route in self.routes if isinstance(route, APIRoute)]:
            self.add_api_route(path, preflight, methods=["OPTIONS"], include_in_schema=False)
