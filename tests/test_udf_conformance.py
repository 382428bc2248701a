"""UDF conformance: datafeed v1 asked exactly as TradingView's UDF adapter asks, on a real server.

The adapter (``UDFCompatibleDatafeed`` of the charting library's ``datafeeds/udf``) builds every
request as ``${datafeedUrl}/${path}?key=value&...`` with each key and value passed through
JavaScript's ``encodeURIComponent`` (an array becomes its comma-joined ``toString()``, so
``symbols=AAPL%2CMSFT``), in the order its code lists the parameters, and reads the body whatever
the HTTP status. :func:`adapter_url` builds the same URLs. Every rule of the datafeed's wire format
(issue 3, ``shared/design/domain.md``) is checked on global v1, global v2 and standalone v1.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from harness import BIN, Server, clean_env, start_server

# Its tests share the servers of module-scoped fixtures: one pytest-xdist process runs them all.
pytestmark = [pytest.mark.modules("datafeed"), pytest.mark.independent, pytest.mark.xdist_group("udf_conformance")]

CHART = "https://chart.example"
SETTINGS = f"""
[modules.datafeed]
cors_origins = ["{CHART}"]
"""
DAY = 86_400
SEARCH_LIMIT = 30  # the adapter's Constants.SearchItemsLimit


def ts(year: int, month: int, day: int) -> int:
    return int(datetime(year, month, day, tzinfo=UTC).timestamp())


def adapter_url(path: str, params: dict[str, object] | None = None) -> str:
    """``path?params`` as the adapter's Requester writes it (encodeURIComponent on keys and values)."""
    if not params:
        return path
    unescaped = "-_.!~*'()"  # what encodeURIComponent leaves alone, besides letters and digits

    def js_string(value: object) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            return ",".join(js_string(v) for v in value)
        return str(value)

    query = "&".join(f"{quote(k, safe=unescaped)}={quote(js_string(v), safe=unescaped)}" for k, v in params.items())
    return f"{path}?{query}"


def start(cwd: Path, args: list[str], ready_path: str, **env: str) -> Server:
    (cwd / "trading.toml").write_text(SETTINGS)
    environment = clean_env(ENABLED_MODULES="datafeed", **env)
    return start_server(args, cwd=cwd, env=environment, ready_path=ready_path)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    composed = start(
        tmp_path_factory.mktemp("composed"),
        [str(BIN / "trading-host"), "serve", "--port", "{port}"],
        "/api/v1/core/health",
    )
    standalone = start(
        tmp_path_factory.mktemp("standalone"),
        [str(BIN / "uvicorn"), "trading_host.main:app", "--port", "{port}"],
        "/core/v1/health",
        MODULE_VERSION="v1",
    )
    yield {"composed": composed, "standalone": standalone}
    composed.stop()
    standalone.stop()


class Udf:
    """The datafeed at one URL, asked the adapter's way."""

    def __init__(self, server: Server, url: str) -> None:
        self.server = server
        self.url = url

    def raw(self, path: str, params: dict[str, object] | None = None, **kwargs: Any) -> Any:
        return self.server.client.get(f"{self.url}/{adapter_url(path, params)}", **kwargs)

    def __call__(self, path: str, params: dict[str, object] | None = None) -> Any:
        return self.raw(path, params).json()

    def history(self, symbol: str, resolution: str, start: int, end: int, countback: int | None = None) -> Any:
        # HistoryProvider.getBars: symbol, resolution, from, to, then countback and currencyCode.
        params: dict[str, object] = {"symbol": symbol, "resolution": resolution, "from": start, "to": end}
        if countback is not None:
            params["countback"] = countback
        params["currencyCode"] = "USD"
        return self("history", params)


@pytest.fixture(params=["composed:/api/v1/datafeed", "composed:/api/v2/datafeed", "standalone:/v1"])
def udf(request: pytest.FixtureRequest, servers: dict[str, Server]) -> Udf:
    deployment, _, url = request.param.partition(":")
    return Udf(servers[deployment], url)


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_udf_error(body: object) -> bool:
    return isinstance(body, dict) and set(body) == {"s", "errmsg"} and body["s"] == "error" and bool(body["errmsg"])


# --- /config -----------------------------------------------------------------------------------


def test_config_lists_what_the_feed_supports(udf: Udf):
    config = udf("config")
    for flag in (
        "supports_search",
        "supports_group_request",
        "supports_marks",
        "supports_timescale_marks",
        "supports_time",
    ):
        assert isinstance(config[flag], bool), flag
    # The adapter throws unless one of these two is true.
    assert config["supports_search"] or config["supports_group_request"]
    assert config["supported_resolutions"]
    assert all(isinstance(r, str) for r in config["supported_resolutions"])
    assert config["exchanges"]
    for exchange in config["exchanges"]:
        assert set(exchange) == {"value", "name", "desc"}
        assert all(isinstance(v, str) for v in exchange.values())
    assert config["symbols_types"]
    for kind in config["symbols_types"]:
        assert set(kind) == {"name", "value"}


def test_every_announced_feature_is_served(udf: Udf):
    config = udf("config")
    window = {"symbol": "AAPL", "from": ts(2024, 1, 1), "to": ts(2024, 7, 1), "resolution": "1D"}
    announced = {
        "supports_search": lambda: udf("search", {"limit": SEARCH_LIMIT, "query": "", "type": "", "exchange": ""}),
        "supports_time": lambda: udf("time"),
        "supports_marks": lambda: udf("marks", window),
        "supports_timescale_marks": lambda: udf("timescale_marks", window),
        "supports_group_request": lambda: udf("symbol_info", {"group": config["exchanges"][-1]["value"]}),
    }
    served = [flag for flag in announced if config[flag]]
    assert {"supports_search", "supports_time", "supports_marks", "supports_timescale_marks"} <= set(served)
    for flag in served:
        body = announced[flag]()
        assert not is_udf_error(body), (flag, body)
        assert body not in ({}, [], None), flag


# --- /symbols and /search ----------------------------------------------------------------------


REQUIRED_SYMBOL_FIELDS = {
    "name",
    "ticker",
    "description",
    "type",
    "session",
    "exchange",
    "listed_exchange",
    "timezone",
    "format",
    "pricescale",
    "minmov",
    "has_intraday",
    "supported_resolutions",
    "volume_precision",
    "data_status",
}


def test_symbols_resolves_every_symbol_the_search_offers(udf: Udf):
    config = udf("config")
    found = udf("search", {"limit": SEARCH_LIMIT, "query": "", "type": "", "exchange": ""})
    assert len(found) == 12
    for item in found:
        by_full_name = udf("symbols", {"symbol": item["full_name"]})
        assert udf("symbols", {"symbol": item["ticker"]}) == by_full_name
        assert set(by_full_name) >= REQUIRED_SYMBOL_FIELDS
        assert "s" not in by_full_name  # the adapter takes any `s` for an error
        assert by_full_name["ticker"] == item["ticker"]
        timezone = by_full_name["timezone"]
        assert ZoneInfo(timezone).key == timezone  # an Olson name, or Etc/UTC
        assert isinstance(by_full_name["pricescale"], int)
        assert by_full_name["pricescale"] > 0
        assert isinstance(by_full_name["minmov"], int)
        assert by_full_name["minmov"] > 0
        assert isinstance(by_full_name["volume_precision"], int)
        assert isinstance(by_full_name["has_intraday"], bool)
        assert by_full_name["format"] in {"price", "volume"}
        assert by_full_name["data_status"] in {"streaming", "endofday", "delayed_streaming"}
        assert set(by_full_name["supported_resolutions"]) <= set(config["supported_resolutions"])


def test_an_unknown_symbol_is_an_error_body(udf: Udf):
    assert is_udf_error(udf("symbols", {"symbol": "NOPE"}))
    assert is_udf_error(udf("symbols", {"symbol": "NYSE:AAPL"}))


def test_search_as_the_adapter_asks(udf: Udf):
    # SearchSymbols sends the user's input upper-cased, the chosen type and exchange ("" for all).
    results = udf("search", {"limit": SEARCH_LIMIT, "query": "APPLE", "type": "", "exchange": ""})
    assert [r["ticker"] for r in results] == ["AAPL"]
    for item in udf("search", {"limit": SEARCH_LIMIT, "query": "USD", "type": "", "exchange": ""}):
        assert {"symbol", "full_name", "description", "exchange", "ticker", "type"} <= set(item)
        assert "USD" in item["symbol"] or "USD" in item["description"].upper()
    forex = udf("search", {"limit": SEARCH_LIMIT, "query": "", "type": "forex", "exchange": ""})
    assert {r["type"] for r in forex} == {"forex"}
    crypto = udf("search", {"limit": SEARCH_LIMIT, "query": "", "type": "", "exchange": "CRYPTO"})
    assert {r["exchange"] for r in crypto} == {"CRYPTO"}
    assert len(udf("search", {"limit": 2, "query": "", "type": "", "exchange": ""})) == 2


# --- /history ----------------------------------------------------------------------------------


def assert_bars(body: dict[str, Any], start: int | None, end: int) -> None:
    assert body["s"] == "ok"
    assert set(body) == {"s", "t", "o", "h", "l", "c", "v"}
    count = len(body["t"])
    assert count > 0
    assert {len(body[k]) for k in "ohlcv"} == {count}
    assert all(isinstance(t, int) and not isinstance(t, bool) for t in body["t"])
    assert all(is_number(x) for k in "ohlcv" for x in body[k])  # numbers, never strings
    assert body["t"] == sorted(set(body["t"]))
    assert body["t"][-1] < end
    if start is not None:
        assert body["t"][0] >= start


def test_history_bars_cover_from_inclusive_to_exclusive(udf: Udf):
    start, end = ts(2024, 2, 5), ts(2024, 2, 10)
    body = udf.history("AAPL", "1D", start, end)
    assert_bars(body, start, end)
    assert body["t"] == [start + i * DAY for i in range(5)]  # the bar at `to` is not included
    assert udf.history("AAPL", "1D", start, end + 1)["t"][-1] == end


def test_daily_bars_are_stamped_at_midnight_utc(udf: Udf):
    for resolution in ("1D", "D"):
        body = udf.history("MSFT", resolution, ts(2023, 3, 1) + 3_600, ts(2023, 4, 1))
        assert_bars(body, ts(2023, 3, 1), ts(2023, 4, 1))
        assert all(t % DAY == 0 for t in body["t"])
        assert body["t"][0] == ts(2023, 3, 2)


def test_countback_wins_over_from(udf: Udf):
    end = ts(2024, 6, 1)
    body = udf.history("BTCUSD", "60", end - 3_600, end, countback=24)
    assert_bars(body, None, end)
    assert body["t"] == [end - (24 - i) * 3_600 for i in range(24)]


def test_the_same_request_gives_the_same_bars(udf: Udf, servers: dict[str, Server]):
    first = udf.history("ETHUSD", "15", ts(2022, 5, 1), ts(2022, 5, 2))
    assert_bars(first, ts(2022, 5, 1), ts(2022, 5, 2))
    assert udf.history("ETHUSD", "15", ts(2022, 5, 1), ts(2022, 5, 2)) == first
    # And in another process.
    other = (
        Udf(servers["standalone"], "/v1")
        if udf.server is servers["composed"]
        else Udf(servers["composed"], "/api/v1/datafeed")
    )
    assert other.history("ETHUSD", "15", ts(2022, 5, 1), ts(2022, 5, 2)) == first


def test_no_data_says_where_the_previous_bar_is(udf: Udf):
    now = int(time.time())
    future = udf.history("AAPL", "1D", now + 10 * DAY, now + 20 * DAY)
    assert future["s"] == "no_data"
    assert isinstance(future["nextTime"], int)
    assert future["nextTime"] <= now
    assert udf.history("AAPL", "1D", ts(1990, 1, 1), ts(1991, 1, 1)) == {"s": "no_data"}


def test_bad_history_requests_are_error_bodies(udf: Udf):
    assert is_udf_error(udf.history("NOPE", "1D", ts(2024, 1, 1), ts(2024, 2, 1)))
    assert is_udf_error(udf.history("AAPL", "7", ts(2024, 1, 1), ts(2024, 2, 1)))
    assert is_udf_error(udf.history("AAPL", "1D", ts(2024, 2, 1), ts(2024, 1, 1)))


# --- /time and /quotes -------------------------------------------------------------------------


def test_time_is_a_bare_number(udf: Udf):
    response = udf.raw("time")
    assert response.text.isdigit()  # the adapter runs parseInt on the body
    assert abs(int(response.text) - time.time()) < 60


def test_quotes_answer_each_name_as_requested_with_numbers(udf: Udf):
    body = udf("quotes", {"symbols": ["AAPL", "NASDAQ:MSFT", "NOPE"]})  # symbols=AAPL%2CNASDAQ%3AMSFT%2CNOPE
    assert body["s"] == "ok"
    aapl, msft, nope = body["d"]
    assert [item["n"] for item in body["d"]] == ["AAPL", "NASDAQ:MSFT", "NOPE"]
    for item in (aapl, msft):
        assert item["s"] == "ok"
        values = item["v"]
        for key in ("lp", "ask", "bid", "ch", "chp", "open_price", "high_price", "low_price", "prev_close_price"):
            assert is_number(values[key]), key
        assert is_number(values["volume"])
    assert nope["s"] == "error"


# --- marks and groups --------------------------------------------------------------------------


def test_marks_and_timescale_marks_as_the_adapter_reads_them(udf: Udf):
    window = {"symbol": "TSLA", "from": ts(2022, 1, 1), "to": ts(2024, 1, 1), "resolution": "1D"}
    marks = udf("marks", window)
    assert isinstance(marks, list)
    assert marks
    for mark in marks:
        assert {"id", "time", "color", "text", "label", "labelFontColor"} <= set(mark)
        assert ts(2022, 1, 1) <= mark["time"] < ts(2024, 1, 1)
        assert isinstance(mark["time"], int)
        assert len(mark["label"]) == 1
    timescale = udf("timescale_marks", window)
    assert [m["time"] for m in timescale] == [ts(y, m, 1) for y in (2022, 2023) for m in (1, 4, 7, 10)]
    for mark in timescale:
        assert {"id", "time", "color", "label", "tooltip"} <= set(mark)
        assert all(isinstance(line, str) for line in mark["tooltip"])


def test_symbol_info_groups_as_the_symbols_storage_reads_them(udf: Udf):
    # SymbolsStorage asks symbol_info?group=<exchange> and reads each field as a list (or one value).
    table = udf("symbol_info", {"group": "NASDAQ"})
    count = len(table["symbol"])
    assert count == 6
    for field in (
        "ticker",
        "description",
        "type",
        "exchange-listed",
        "exchange-traded",
        "session-regular",
        "timezone",
        "pricescale",
        "minmovement",
        "has-intraday",
        "supported-resolutions",
    ):
        assert len(table[field]) == count, field
    assert all(isinstance(resolutions, list) for resolutions in table["supported-resolutions"])
    assert is_udf_error(udf("symbol_info", {"group": "NYSE"}))


# --- error bodies and CORS ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("symbols", {}),
        ("history", {"symbol": "AAPL", "from": 0, "to": 10}),
        ("history", {"symbol": "AAPL", "resolution": "1D", "from": "x", "to": 10}),
        ("quotes", {"symbols": ""}),
        ("search", {"limit": 0, "query": "", "type": "", "exchange": ""}),
        ("marks", {"symbol": "AAPL", "to": 10, "resolution": "1D"}),
        ("timescale_marks", {"symbol": "NOPE", "from": 0, "to": 10, "resolution": "1D"}),
        ("symbol_info", {"group": "NOPE"}),
    ],
)
def test_every_error_is_an_error_body_not_a_framework_detail(udf: Udf, path: str, params: dict[str, object]):
    body = udf(path, params)
    assert is_udf_error(body), body


def test_a_chart_page_may_call_the_feed_across_origins(udf: Udf):
    routes = ["config", "symbols", "search", "history", "time", "quotes", "marks", "timescale_marks", "symbol_info"]
    for route in routes:
        preflight = udf.server.client.options(
            f"{udf.url}/{route}",
            headers={"Origin": CHART, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-a"},
        )
        assert 200 <= preflight.status_code < 300, route
        assert preflight.headers["access-control-allow-origin"] == CHART
        assert "GET" in preflight.headers["access-control-allow-methods"]
        assert preflight.headers["access-control-allow-headers"] == "x-a"
    answer = udf.raw("quotes", {"symbols": ["AAPL"]}, headers={"Origin": CHART})
    assert answer.headers["access-control-allow-origin"] == CHART
    error = udf.raw("symbols", {"symbol": "NOPE"}, headers={"Origin": CHART})
    assert error.headers["access-control-allow-origin"] == CHART


def test_other_origins_are_not_allowed(udf: Udf):
    answer = udf.raw("config", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in answer.headers
    preflight = udf.server.client.options(
        f"{udf.url}/config", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert 400 <= preflight.status_code < 500  # 400 from Starlette's CORSMiddleware
    assert "access-control-allow-origin" not in preflight.headers
