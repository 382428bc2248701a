"""The simulated market and the resolutions it is cut into."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trading_datafeed import MARKET_START, RESOLUTIONS, InvalidParameter, SimulatedMarket, parse_resolution

NOW = datetime(2025, 3, 12, 15, 30, 20, tzinfo=UTC).timestamp()
DAY = 86_400


def ts(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp())


def test_bars_are_a_pure_function_of_symbol_and_time():
    day = RESOLUTIONS["1D"]
    first = SimulatedMarket().bars("AAPL", day, end=ts(2024, 1, 10), start=ts(2024, 1, 1), limit=100, now=NOW)
    # Another instance, a later "now": closed bars do not change.
    later = SimulatedMarket().bars("AAPL", day, end=ts(2024, 1, 10), start=ts(2024, 1, 1), limit=100, now=NOW + 9e6)
    assert first == later
    assert len(first) == 9
    other = SimulatedMarket().bars("MSFT", day, end=ts(2024, 1, 10), start=ts(2024, 1, 1), limit=100, now=NOW)
    assert [b.close for b in other] != [b.close for b in first]


def test_resolutions_agree_on_opens_and_closes():
    market = SimulatedMarket()
    day = market.bars("EURUSD", RESOLUTIONS["1D"], end=ts(2024, 5, 2), start=ts(2024, 5, 1), limit=1, now=NOW)[0]
    minutes = market.bars("EURUSD", RESOLUTIONS["1"], end=ts(2024, 5, 2), start=ts(2024, 5, 1), limit=5000, now=NOW)
    assert len(minutes) == 1440
    assert day.open == minutes[0].open
    assert day.close == minutes[-1].close
    hours = market.bars("EURUSD", RESOLUTIONS["60"], end=ts(2024, 5, 2), start=ts(2024, 5, 1), limit=100, now=NOW)
    assert [h.time for h in hours] == [ts(2024, 5, 1) + 3600 * i for i in range(24)]
    assert [h.open for h in hours] == [m.open for m in minutes[::60]]


def test_prices_sit_on_the_tick_and_near_the_reference():
    market = SimulatedMarket()
    bars = market.bars("EURUSD", RESOLUTIONS["1D"], end=int(NOW), start=None, limit=3000, now=NOW)
    assert len(bars) == 3000
    for bar in bars:
        for price in (bar.open, bar.high, bar.low, bar.close):
            assert round(price, 5) == price
            assert 0.5 < price < 2.5


def test_history_starts_with_the_market():
    week = RESOLUTIONS["1W"]
    bars = SimulatedMarket().bars("AAPL", week, end=ts(2000, 2, 1), start=0, limit=100, now=NOW)
    assert bars[0].time == MARKET_START
    assert all(b.time >= MARKET_START for b in bars)


def test_the_forming_bar_is_built_up_to_now():
    market = SimulatedMarket()
    hour = RESOLUTIONS["60"]
    hour_start = int(NOW) // 3600 * 3600
    [forming] = market.bars("AAPL", hour, end=int(NOW) + 7200, start=hour_start, limit=5, now=NOW)
    assert forming.time == hour_start
    [closed] = market.bars("AAPL", hour, end=hour_start + 3600, start=hour_start, limit=5, now=NOW + 7200)
    assert forming.open == closed.open
    assert forming.volume < closed.volume


def test_quote_tracks_the_current_day():
    market = SimulatedMarket()
    quote = market.quote("BTCUSD", NOW)
    assert quote is not None
    assert quote.low <= quote.last <= quote.high
    assert quote.bid < quote.last < quote.ask
    assert market.quote("NOPE", NOW) is None


@pytest.mark.parametrize(
    ("code", "moment", "start", "following"),
    [
        ("5", ts(2024, 3, 1, 10, 7, 59), ts(2024, 3, 1, 10, 5), ts(2024, 3, 1, 10, 10)),
        ("240", ts(2024, 3, 1, 10, 7), ts(2024, 3, 1, 8), ts(2024, 3, 1, 12)),
        ("1D", ts(2024, 3, 1, 23, 59, 59), ts(2024, 3, 1), ts(2024, 3, 2)),
        ("1W", ts(2024, 3, 3, 12), ts(2024, 2, 26), ts(2024, 3, 4)),
        ("1M", ts(2024, 12, 31, 23), ts(2024, 12, 1), ts(2025, 1, 1)),
        ("1M", ts(2024, 2, 29, 12), ts(2024, 2, 1), ts(2024, 3, 1)),
    ],
)
def test_resolution_boundaries(code, moment, start, following):
    resolution = RESOLUTIONS[code]
    assert resolution.floor(moment) == start
    assert resolution.next(start) == following
    assert resolution.previous(following) == start
    assert resolution.ceil(start) == start
    assert resolution.ceil(start + 1) == following


def test_resolution_aliases_and_errors():
    assert parse_resolution("D") is RESOLUTIONS["1D"]
    assert parse_resolution("w") is RESOLUTIONS["1W"]
    assert parse_resolution(" 60 ") is RESOLUTIONS["60"]
    with pytest.raises(InvalidParameter, match="unsupported resolution '2D'"):
        parse_resolution("2D")
