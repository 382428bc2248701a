"""Datafeed API v1: TradingView's UDF wire rules over the simulated market."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

P = "/api/v1/datafeed"
DAY = 86_400


def ts(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp())


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def test_config_announces_what_is_served(client):
    body = client.get(f"{P}/config").json()
    assert body["supported_resolutions"] == ["1", "5", "15", "30", "60", "240", "1D", "1W", "1M"]
    assert body["supports_search"] or body["supports_group_request"]
    assert body["supports_time"] is True
    assert body["supports_group_request"] is False  # see test_group_request_is_announced_when_configured
    assert (body["supports_marks"], body["supports_timescale_marks"]) == (True, True)
    assert body["exchanges"][0] == {"value": "", "name": "All Exchanges", "desc": ""}
    assert {"value": "NASDAQ", "name": "NASDAQ", "desc": "NASDAQ"} in body["exchanges"]
    assert {"name": "Forex", "value": "forex"} in body["symbols_types"]
    # Announced, so served.
    window = {"symbol": "AAPL", "from": ts(2024, 1, 1), "to": ts(2024, 7, 1), "resolution": "1D"}
    for route, params in (("marks", window), ("timescale_marks", window), ("symbol_info", {})):
        assert client.get(f"{P}/{route}", params=params).status_code == 200, route


def test_group_request_is_announced_when_configured(make_client):
    body = make_client({"group_request": True}).get(f"{P}/config").json()
    assert body["supports_group_request"] is True


def test_symbols_resolves_tickers_and_full_names(client):
    response = client.get(f"{P}/symbols", params={"symbol": "AAPL"})
    assert response.status_code == 200
    body = response.json()
    assert "s" not in body
    required = {
        "name", "ticker", "description", "type", "session", "exchange", "listed_exchange", "timezone", "format",
        "pricescale", "minmov", "has_intraday", "supported_resolutions", "volume_precision", "data_status",
    }  # fmt: skip
    assert required <= set(body)
    assert (body["ticker"], body["name"], body["exchange"], body["timezone"]) == ("AAPL", "AAPL", "NASDAQ", "Etc/UTC")
    assert (body["pricescale"], body["minmov"], body["has_intraday"]) == (100, 1, True)
    assert client.get(f"{P}/symbols", params={"symbol": "nasdaq:aapl"}).json() == body
    eurusd = client.get(f"{P}/symbols", params={"symbol": "FX:EURUSD"}).json()
    assert (eurusd["ticker"], eurusd["pricescale"], eurusd["type"]) == ("EURUSD", 100_000, "forex")


@pytest.mark.parametrize("symbol", ["NOPE", "NYSE:AAPL", ""])
def test_unknown_symbol_is_a_udf_error(client, symbol):
    response = client.get(f"{P}/symbols", params={"symbol": symbol})
    assert response.status_code == 404
    assert response.json() == {"s": "error", "errmsg": f"unknown symbol {symbol!r}"}


def test_missing_parameters_are_udf_errors_not_fastapi_details(client):
    for url in (f"{P}/symbols", f"{P}/history?symbol=AAPL&resolution=1D", f"{P}/quotes"):
        response = client.get(url)
        assert response.status_code == 422
        body = response.json()
        assert set(body) == {"s", "errmsg"}
        assert body["s"] == "error"
        assert "Field required" in body["errmsg"]


def test_search(client):
    results = client.get(f"{P}/search", params={"query": "usd", "type": "forex", "limit": 2}).json()
    assert [r["ticker"] for r in results] == ["USDJPY", "EURUSD"]
    for result in results:
        assert set(result) == {"symbol", "full_name", "description", "exchange", "ticker", "type"}
    apple = client.get(f"{P}/search", params={"query": "apple"}).json()
    assert apple == [
        {
            "symbol": "AAPL",
            "full_name": "NASDAQ:AAPL",
            "description": "Apple Inc.",
            "exchange": "NASDAQ",
            "ticker": "AAPL",
            "type": "stock",
        }
    ]
    crypto = client.get(f"{P}/search", params={"exchange": "CRYPTO"}).json()
    assert [r["ticker"] for r in crypto] == ["BTCUSD", "ETHUSD"]
    assert client.get(f"{P}/search", params={"query": "zzzz"}).json() == []
    bad = client.get(f"{P}/search", params={"limit": 0})
    assert (bad.status_code, bad.json()["s"]) == (422, "error")
    assert bad.json()["errmsg"].startswith("limit:")


def history(client: TestClient, **params: Any) -> Any:
    response = client.get(f"{P}/history", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_daily_history_is_stamped_at_midnight_utc_with_to_exclusive(client):
    start, end = ts(2024, 2, 5), ts(2024, 2, 10)
    body = history(client, symbol="AAPL", resolution="1D", **{"from": start, "to": end})
    assert body["s"] == "ok"
    assert body["t"] == [start + i * DAY for i in range(5)]
    assert {len(body[k]) for k in "tohlcv"} == {5}
    # `to` on a bar's time excludes that bar; `from` on a bar's time includes it.
    shorter = history(client, symbol="AAPL", resolution="D", **{"from": start + 1, "to": end - DAY})
    assert shorter["t"] == body["t"][1:4]


def test_history_is_deterministic_consistent_and_numeric(client):
    params = {"symbol": "BTCUSD", "resolution": "60", "from": ts(2023, 7, 1), "to": ts(2023, 7, 3)}
    first = history(client, **params)
    assert history(client, **params) == first
    assert len(first["t"]) == 48
    for i in range(48):
        o, h, low, c, v = (first[k][i] for k in "ohlcv")
        assert all(is_number(x) for x in (o, h, low, c, v))
        assert low <= min(o, c) <= max(o, c) <= h
        assert v > 0
        if i:
            assert o == first["c"][i - 1], "a bar opens where the previous one closed"


def test_countback_wins_over_from(client):
    end = ts(2024, 6, 1)
    body = history(client, symbol="MSFT", resolution="1D", **{"from": end - 2 * DAY, "to": end, "countback": 10})
    assert body["t"] == [end - (10 - i) * DAY for i in range(10)]
    # Even a `from` after `to` does not matter when countback is given.
    again = history(client, symbol="MSFT", resolution="1D", **{"from": end + 99 * DAY, "to": end, "countback": 10})
    assert again == body


def test_weekly_and_monthly_bars_start_on_monday_and_the_first(client):
    weeks = history(client, symbol="AAPL", resolution="1W", **{"from": ts(2024, 1, 1), "to": ts(2024, 3, 1)})
    assert all(datetime.fromtimestamp(t, UTC).weekday() == 0 for t in weeks["t"])
    assert weeks["t"][0] == ts(2024, 1, 1)
    months = history(client, symbol="AAPL", resolution="M", **{"from": ts(2023, 11, 15), "to": ts(2024, 3, 1)})
    assert months["t"] == [ts(2023, 12, 1), ts(2024, 1, 1), ts(2024, 2, 1)]


def test_no_data_before_the_market_and_next_time_after_it(client, now):
    before = history(client, symbol="AAPL", resolution="1D", **{"from": ts(1990, 1, 1), "to": ts(1991, 1, 1)})
    assert before == {"s": "no_data"}
    future = history(client, symbol="AAPL", resolution="1D", **{"from": int(now) + 10 * DAY, "to": int(now) + 20 * DAY})
    assert future == {"s": "no_data", "nextTime": int(now) // DAY * DAY}


# The bounds of 'from' and 'to' in the schema: 0001-01-01 and 9999-12-31 23:59:59 UTC.
EARLIEST, LATEST = -62_135_596_800, 253_402_300_799


@pytest.mark.parametrize("resolution", ["1", "1D", "1W", "1M"])
def test_history_at_the_bounds_of_time_is_no_data(client, resolution):
    # Found by fuzzing: monthly bars looked for the bar before 'from' = 0001-01-01, in year 0 (500).
    for params in (
        {"from": EARLIEST, "to": EARLIEST + 1},
        {"from": EARLIEST, "to": -2_153_630},
        {"to": EARLIEST, "countback": 1},
        {"to": EARLIEST + 1, "countback": 5},
    ):
        response = client.get(f"{P}/history", params={"symbol": "BTCUSD", "resolution": resolution, **params})
        assert response.status_code == 200, (params, response.text)
        assert response.json() == {"s": "no_data"}
    latest = history(client, symbol="BTCUSD", resolution=resolution, **{"from": LATEST - 1, "to": LATEST})
    assert latest["s"] == "no_data"


def test_bars_stop_at_the_current_bar(client, now):
    body = history(client, symbol="TSLA", resolution="5", to=int(now) + 3600, countback=3)
    current = int(now) // 300 * 300
    assert body["t"] == [current - 600, current - 300, current]


def test_max_bars_keeps_the_latest(make_client):
    client = make_client({"max_bars": 3})
    body = history(client, symbol="AAPL", resolution="1D", **{"from": ts(2024, 1, 1), "to": ts(2024, 2, 1)})
    assert body["t"] == [ts(2024, 1, 29), ts(2024, 1, 30), ts(2024, 1, 31)]


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"symbol": "NOPE", "resolution": "1D", "from": 0, "to": 10}, 404, "unknown symbol 'NOPE'"),
        ({"symbol": "AAPL", "resolution": "7", "from": 0, "to": 10}, 422, "unsupported resolution '7'"),
        ({"symbol": "AAPL", "resolution": "1D", "from": 10, "to": 10}, 422, "'from' (10) must be earlier than 'to'"),
        ({"symbol": "AAPL", "resolution": "1D", "to": 10}, 422, "give 'from' or 'countback'"),
        ({"symbol": "AAPL", "resolution": "1D", "to": 10, "countback": 0}, 422, "countback:"),
        ({"symbol": "AAPL", "resolution": "1D", "from": "yesterday", "to": 10}, 422, "from:"),
        ({"symbol": "AAPL", "resolution": "1D", "from": 0, "to": 10**15}, 422, "to:"),
    ],
)
def test_invalid_history_requests_are_udf_errors(client, params, status, message):
    response = client.get(f"{P}/history", params=params)
    assert response.status_code == status
    body = response.json()
    assert body["s"] == "error"
    assert message in body["errmsg"]
    assert set(body) == {"s", "errmsg"}


def test_time_is_a_bare_number(client, now):
    response = client.get(f"{P}/time")
    assert response.status_code == 200
    assert response.text == str(int(now))


def test_quotes_answer_each_symbol_by_its_requested_name(client):
    body = client.get(f"{P}/quotes", params={"symbols": "AAPL,nope, fx:eurusd"}).json()
    assert body["s"] == "ok"
    aapl, nope, eurusd = body["d"]
    assert (aapl["s"], aapl["n"]) == ("ok", "AAPL")
    assert (nope["s"], nope["n"], nope["v"]) == ("error", "nope", {})
    assert (eurusd["s"], eurusd["n"], eurusd["v"]["short_name"]) == ("ok", "fx:eurusd", "EURUSD")
    v = aapl["v"]
    for key in ("lp", "ask", "bid", "ch", "chp", "open_price", "high_price", "low_price", "prev_close_price", "volume"):
        assert is_number(v[key]), key
    assert v["low_price"] <= v["lp"] <= v["high_price"]
    assert v["bid"] < v["lp"] < v["ask"]
    assert v["ch"] == pytest.approx(v["lp"] - v["prev_close_price"])
    assert v["chp"] == pytest.approx(100 * v["ch"] / v["prev_close_price"], abs=0.01)


def test_quotes_match_todays_daily_bar(client, now):
    quote = client.get(f"{P}/quotes", params={"symbols": "MSFT"}).json()["d"][0]["v"]
    today = history(client, symbol="MSFT", resolution="1D", to=int(now) + 1, countback=1)
    assert (quote["open_price"], quote["lp"]) == (today["o"][0], today["c"][0])


@pytest.mark.parametrize("symbols", ["", " , ", ",".join(["AAPL"] * 101)])
def test_quotes_need_a_sensible_list(client, symbols):
    response = client.get(f"{P}/quotes", params={"symbols": symbols})
    assert response.status_code == 422
    assert response.json()["s"] == "error"


def test_any_origin_by_default(client):
    response = client.get(f"{P}/config", headers={"Origin": "https://chart.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    error = client.get(f"{P}/symbols", params={"symbol": "NOPE"}, headers={"Origin": "https://chart.example"})
    assert error.json()["s"] == "error"
    assert error.headers["access-control-allow-origin"] == "*"
    preflight = client.options(
        f"{P}/history",
        headers={
            "Origin": "https://chart.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-client",
        },
    )
    # Starlette's CORSMiddleware answers preflights: 200 (the hand-written policy answered 204).
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.headers["access-control-allow-methods"] == "GET, OPTIONS"
    assert preflight.headers["access-control-allow-headers"] == "x-client"
    assert preflight.headers["access-control-max-age"] == "600"


def test_configured_origins_only(make_client):
    client = make_client({"cors_origins": ["https://chart.example/"]})  # a trailing slash is ignored
    allowed = client.get(f"{P}/time", headers={"Origin": "https://chart.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://chart.example"
    assert allowed.headers["vary"] == "Origin"
    invalid = client.get(f"{P}/history", params={"symbol": "AAPL"}, headers={"Origin": "https://chart.example"})
    assert invalid.status_code == 422
    assert invalid.json()["s"] == "error"
    assert invalid.headers["access-control-allow-origin"] == "https://chart.example"
    preflight = client.options(
        f"{P}/time", headers={"Origin": "https://chart.example", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://chart.example"
    other = client.get(f"{P}/time", headers={"Origin": "https://evil.example"})
    assert other.status_code == 200
    assert "access-control-allow-origin" not in other.headers
    preflight = client.options(
        f"{P}/time", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    # CORSMiddleware refuses with 400 (the hand-written policy answered 403); the browser reads the headers.
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_is_the_datafeeds_own(client):
    """The middleware wraps the datafeed's routes only, not the rest of the app it is served in."""
    inside = client.get(f"{P}/time", headers={"Origin": "https://chart.example"})
    assert inside.headers["access-control-allow-origin"] == "*"
    elsewhere = client.get("/openapi.json", headers={"Origin": "https://chart.example"})
    assert elsewhere.status_code == 200
    assert "access-control-allow-origin" not in elsewhere.headers


def test_operation_ids(client):
    spec = client.get("/openapi.json").json()
    ids = {op["operationId"] for item in spec["paths"].values() for op in item.values()}
    assert ids == {
        "getConfig",
        "getSymbolInfo",
        "getSymbolGroup",
        "searchSymbols",
        "getHistory",
        "getServerTime",
        "getQuotes",
        "getMarks",
        "getTimescaleMarks",
    }
    errors = spec["paths"][f"{P}/history"]["get"]["responses"]
    assert set(errors) == {"200", "404", "422", "429", "503"}
    assert errors["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/UdfError")
