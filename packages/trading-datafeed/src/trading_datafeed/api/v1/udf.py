"""Datafeed API v1 routes: TradingView's UDF protocol, a thin adapter over the datafeed service,
and the ``bars`` and ``quotes`` streams at ``/ws``."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Query
from fastapi.openapi.models import Example
from pydantic import BaseModel, TypeAdapter
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response

from trading_core import ModuleApi
from trading_core.streams import StreamLimits, add_stream_endpoint

from ..._errors import InvalidParameter
from ..._module import DatafeedModule
from ..._resolutions import parse_resolution
from ._clients import LimitConnections, client_of
from ._errors import answer_udf_errors
from ._schemas import (
    MAX_QUOTES,
    Config,
    Exchange,
    HistoryBars,
    HistoryNoData,
    MarkOut,
    Quotes,
    SearchResult,
    SymbolGroup,
    SymbolInfoOut,
    SymbolType,
    TimescaleMarkOut,
    UdfError,
)
from .streams import check_origin, stream_routes

# Seconds from year 1 to year 9999: any time a chart can ask for, and nothing a date cannot hold.
Seconds = Annotated[int, Query(ge=-62_135_596_800, le=253_402_300_799)]

# What the schema says of a resolution or a list of names is what the route refuses: empty, or
# blank (or, for a list, only commas), so a request valid by the schema is never refused for that.
NAMED: dict[str, Any] = {"min_length": 1, "pattern": r"\S"}

UNKNOWN_SYMBOL: dict[int | str, dict[str, Any]] = {404: {"model": UdfError, "description": "Unknown symbol"}}
UNKNOWN_GROUP: dict[int | str, dict[str, Any]] = {404: {"model": UdfError, "description": "Unknown group"}}
INVALID: dict[int | str, dict[str, Any]] = {422: {"model": UdfError, "description": "Invalid parameter"}}
LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"model": UdfError, "description": "The client has its most requests computed or waiting"},
    503: {"model": UdfError, "description": "Busy: every compute thread is taken and the queue is full"},
}


def example(value: str | int) -> dict[str, Example]:
    """A parameter's example as the docs pages fill it in when "Try it out" is clicked: Swagger UI
    takes a parameter's ``examples``, not its schema's."""
    return {"example": Example(value=value)}


_MARKS = TypeAdapter(list[MarkOut])
_TIMESCALE_MARKS = TypeAdapter(list[TimescaleMarkOut])


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")


def _model(body: BaseModel) -> Response:
    return _json(body.model_dump_json(exclude_none=True).encode())


class DatafeedApi(ModuleApi):
    """Datafeed API v1, compatible with TradingView's UDF adapter. Errors are ``{"s": "error",
    "errmsg": ...}``; chart pages of the ``cors_origins`` setting may call it from a browser.
    ``/ws`` streams ``bars`` and ``quotes``."""

    module = DatafeedModule
    version = "v1"

    def __init__(self, module: DatafeedModule) -> None:
        super().__init__(module)
        service = module.service
        settings = module.settings
        answer_udf_errors(self)

        async def computed(request: Request, answer: Callable[[], Response]) -> Response:
            # Bars, marks and quotes are computed, and their answer encoded, in the module's
            # compute threads: the event loop only reads the request and sends the bytes.
            return await module.compute.run(client_of(request.scope), answer)

        self.add_middleware(LimitConnections, counts=module.stream_clients, most=settings.max_client_connections)
        self.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "OPTIONS"],
            allow_headers=["*"],  # whatever a chart page's adapter sends
            max_age=600,
        )

        @self.get("/config", response_model=Config, operation_id="getConfig", summary="Feed configuration")
        async def config() -> Config:
            """What the feed supports: resolutions, search, marks, timescale marks, server time,
            group requests (when configured), exchanges and symbol types."""
            return Config(
                supported_resolutions=[r.code for r in service.resolutions()],
                supports_search=True,
                supports_group_request=settings.group_request,
                supports_marks=True,
                supports_timescale_marks=True,
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
        async def symbols(
            symbol: Annotated[str, Query(description="TICKER or EXCHANGE:TICKER", openapi_examples=example("AAPL"))],
        ) -> SymbolInfoOut:
            """A symbol's description, by ticker or full name."""
            return SymbolInfoOut.from_symbol(service.symbol(symbol))

        @self.get(
            "/symbol_info",
            response_model=SymbolGroup,
            response_model_exclude_none=True,
            operation_id="getSymbolGroup",
            summary="Symbols of a group",
            responses={**UNKNOWN_GROUP, **INVALID},
        )
        async def symbol_info(
            group: Annotated[str | None, Query(description="An exchange of /config; every symbol when omitted")] = None,
        ) -> SymbolGroup:
            """The symbols of a group (an exchange) as UDF's table of lists, one entry per symbol."""
            return SymbolGroup.from_symbols(service.group(group))

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
            responses={**UNKNOWN_SYMBOL, **INVALID, **LIMITED},
        )
        async def history(
            request: Request,
            symbol: Annotated[str, Query(openapi_examples=example("AAPL"))],
            resolution: Annotated[
                str, Query(description="1, 5, 15, 30, 60, 240, 1D, 1W or 1M", openapi_examples=example("1D"), **NAMED)
            ],
            to: Annotated[
                Seconds,
                Query(description="End of the range, exclusive (Unix seconds)", openapi_examples=example(1767225600)),
            ],
            from_: Annotated[
                Seconds | None, Query(alias="from", description="Start of the range, inclusive (Unix seconds)")
            ] = None,
            countback: Annotated[
                int | None,
                Query(
                    ge=1,
                    description="Bars wanted before `to`; when given, `from` is ignored",
                    openapi_examples=example(30),
                ),
            ] = None,
        ) -> Response:
            """Bars stamped in ``[from, to)``, or the ``countback`` bars before ``to``. Daily and longer
            bars are stamped at 00:00 UTC."""

            def answer() -> Response:
                result = service.history(symbol, resolution, start=from_, end=to, countback=countback)
                if result.bars:
                    return _model(HistoryBars.from_bars(result.bars))
                return _model(HistoryNoData(nextTime=result.next_time))

            return await computed(request, answer)

        @self.get("/time", response_model=int, operation_id="getServerTime", summary="Server time")
        async def server_time() -> int:
            """The server's time in Unix seconds, as a bare number."""
            return service.now()

        @self.get(
            "/quotes",
            response_model=Quotes,
            operation_id="getQuotes",
            summary="Quotes",
            responses={**INVALID, **LIMITED},
        )
        async def quotes(
            request: Request,
            symbols: Annotated[
                str,
                Query(
                    description="Comma-separated names",
                    min_length=1,
                    pattern=r"[^,\s]",
                    openapi_examples=example("AAPL,MSFT"),
                ),
            ],
        ) -> Response:
            """A quote per requested symbol; an unknown one gets an error entry and the others still answer."""
            names = [n.strip() for n in symbols.split(",") if n.strip()]
            if not names:
                raise InvalidParameter("symbols", "give one or more symbols, separated by commas")
            if len(names) > MAX_QUOTES:
                raise InvalidParameter("symbols", f"ask for at most {MAX_QUOTES} symbols at a time")
            return await computed(request, lambda: _model(Quotes.from_results(service.quotes(names))))

        @self.get(
            "/marks",
            response_model=list[MarkOut],
            operation_id="getMarks",
            summary="Marks on bars",
            responses={**UNKNOWN_SYMBOL, **INVALID, **LIMITED},
        )
        async def marks(
            request: Request,
            symbol: str,
            from_: Annotated[Seconds, Query(alias="from", description="Start of the range, inclusive (Unix seconds)")],
            to: Annotated[Seconds, Query(description="End of the range, exclusive (Unix seconds)")],
            resolution: Annotated[str, Query(description="The chart's resolution", **NAMED)],
        ) -> Response:
            """A mark on each day in the range whose close moved at least 2.5 times its 20-day average
            move (green up, red down)."""
            parse_resolution(resolution)

            def answer() -> Response:
                return _json(
                    _MARKS.dump_json([MarkOut.from_mark(m) for m in service.marks(symbol, start=from_, end=to)])
                )

            return await computed(request, answer)

        @self.get(
            "/timescale_marks",
            response_model=list[TimescaleMarkOut],
            operation_id="getTimescaleMarks",
            summary="Marks on the time scale",
            responses={**UNKNOWN_SYMBOL, **INVALID, **LIMITED},
        )
        async def timescale_marks(
            request: Request,
            symbol: str,
            from_: Annotated[Seconds, Query(alias="from", description="Start of the range, inclusive (Unix seconds)")],
            to: Annotated[Seconds, Query(description="End of the range, exclusive (Unix seconds)")],
            resolution: Annotated[str, Query(description="The chart's resolution", **NAMED)],
        ) -> Response:
            """A mark at the start of each calendar quarter in the range, with the quarter's change."""
            parse_resolution(resolution)

            def answer() -> Response:
                found = service.timescale_marks(symbol, start=from_, end=to)
                return _json(_TIMESCALE_MARKS.dump_json([TimescaleMarkOut.from_mark(m) for m in found]))

            return await computed(request, answer)

        limits = StreamLimits(
            queue_size=settings.stream_queue_size, max_dropped=settings.stream_max_dropped, max_feeds=settings.max_feeds
        )
        hub = add_stream_endpoint(
            self, stream_routes(module), authenticate=check_origin(settings.cors_origins), limits=limits
        )
        module.stream_hubs.append(hub)
