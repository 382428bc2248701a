"""The simulated market keeps closed bars and shares the forming bar and quotes, the service keeps
the marks of closed days: the answers stay those of trading-datafeed 1.0 (``old_datafeed.py``, its
code kept verbatim), float for float."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from old_datafeed import OldMarket, old_marks

from trading_datafeed import BUILTIN_SYMBOLS, MARKET_START, RESOLUTIONS, Bar, DatafeedService, SimulatedMarket

NOW = datetime(2025, 3, 12, 15, 30, 20, tzinfo=UTC).timestamp()
DAY = 86_400
TICKERS = [s.info.ticker for s in BUILTIN_SYMBOLS]


Request = tuple[str, str, int, int | None, int, float]


def requests(count: int, seed: int) -> list[Request]:
    """(ticker, resolution, end, start, limit, now): ranges old and recent, open and closed, in the
    future, before the market, one bar or thousands."""
    rnd = random.Random(seed)
    found = []
    for _ in range(count):
        now = NOW + rnd.choice([0, rnd.uniform(-3e8, 3e6)])
        end = int(now) + rnd.choice([1, rnd.randint(-(10**8), 10**6)])
        start = rnd.choice([None, end - rnd.randint(0, 10**8), MARKET_START - rnd.randint(0, 10**6)])
        limit = rnd.choice([1, 2, 255, 256, 257, 600])
        found.append((rnd.choice(TICKERS), rnd.choice(list(RESOLUTIONS)), end, start, limit, now))
    # The widest answer, minutes and days.
    found += [("AAPL", "1", int(NOW), None, 5000, NOW), ("EURUSD", "1D", int(NOW) + 1, 0, 5000, NOW)]
    return found


SAMPLE = requests(40, seed=8)


def ask(market: OldMarket | SimulatedMarket, request: Request, later: float = 0) -> list[Bar]:
    ticker, code, end, start, limit, now = request
    return market.bars(ticker, RESOLUTIONS[code], end=end, start=start, limit=limit, now=now + later)


@pytest.fixture(scope="module")
def expected() -> list[tuple[list[Bar], list[Bar]]]:
    """What 1.0 answers to each request of the sample, and a second later."""
    old = OldMarket()
    return [(ask(old, request), ask(old, request, later=1)) for request in SAMPLE]


@pytest.mark.parametrize("cached_bars", [100_000, 1], ids=["default cache", "one block"])
def test_bars_and_quotes_are_those_of_1_0(cached_bars: int, expected: list[tuple[list[Bar], list[Bar]]]) -> None:
    old, new = OldMarket(), SimulatedMarket(cached_bars=cached_bars)
    for request, (now, later) in zip(SAMPLE, expected, strict=True):
        assert ask(new, request) == now
        # Asked again (from the kept blocks now) and a second later (the forming bar moved on).
        assert ask(new, request) == now
        assert ask(new, request, later=1) == later
        ticker, *_, moment = request
        assert new.quote(ticker, moment) == old.quote(ticker, moment)
    assert sum(len(now) for now, _ in expected) > 10_000  # wide answers, not only empty ones


def test_a_block_kept_while_time_passes_grows_with_the_bars_that_close() -> None:
    old, new = OldMarket(), SimulatedMarket()
    minute = RESOLUTIONS["1"]
    for step in range(0, 40 * 60, 60 * 7 + 13):  # now moves through several blocks of minute bars
        now = NOW + step
        expected = old.bars("BTCUSD", minute, end=int(now) + 60, start=None, limit=700, now=now)
        assert new.bars("BTCUSD", minute, end=int(now) + 60, start=None, limit=700, now=now) == expected
        assert expected[-1].time == minute.floor(int(now))  # the forming bar, built up to now


def test_prices_are_those_of_1_0() -> None:
    old, new = OldMarket(), SimulatedMarket()
    rnd = random.Random(3)
    for _ in range(500):
        ticker, t = rnd.choice(TICKERS), rnd.choice([rnd.randint(MARKET_START, int(NOW)), rnd.uniform(0, NOW)])
        assert new.price(ticker, t) == old.price(ticker, t)


def test_threads_share_the_kept_bars_safely(expected: list[tuple[list[Bar], list[Bar]]]) -> None:
    new = SimulatedMarket(cached_bars=2_000)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda request: ask(new, request), SAMPLE * 3))
    assert answers == [now for now, _ in expected] * 3


def test_the_cache_is_bounded() -> None:
    market = SimulatedMarket(cached_bars=1_000)
    for ticker in TICKERS[:4]:
        market.bars(ticker, RESOLUTIONS["1"], end=int(NOW), start=None, limit=1_000, now=NOW)
    assert 0 < market.cached_bars() <= 1_000


@pytest.mark.parametrize(
    ("ticker", "start", "end", "now"),
    [
        ("AAPL", 0, int(NOW) + 1, NOW),  # everything, today's forming day included
        ("BTCUSD", MARKET_START + 40 * DAY, MARKET_START + 900 * DAY, NOW),  # old days only
        ("EURUSD", int(NOW) - 300 * DAY, int(NOW) + 10 * DAY, NOW + 0.5),  # ranges into the future
        ("TSLA", int(NOW) - 90 * DAY, int(NOW) - DAY, NOW),  # a few weeks
        ("NVDA", 0, int(NOW) - 3_000 * DAY, NOW - 7_777 * DAY),  # another "now", years back
    ],
)
def test_marks_are_those_of_1_0(ticker: str, start: int, end: int, now: float) -> None:
    service = DatafeedService(SimulatedMarket(), clock=lambda: now)
    expected = old_marks(OldMarket(), ticker, start=start, end=end, now=now)
    assert service.marks(ticker, start=start, end=end) == expected
    assert service.marks(ticker, start=start, end=end) == expected  # from the kept blocks
    assert len(expected) > 0


def test_kept_marks_follow_the_days_that_close() -> None:
    clock = [NOW]
    service = DatafeedService(SimulatedMarket(), clock=lambda: clock[0])
    old = OldMarket()
    for step in range(0, 30 * DAY, 3 * DAY + 4_321):  # days close while the marks are kept
        clock[0] = NOW + step
        start = int(NOW) - 400 * DAY
        expected = old_marks(old, "ETHUSD", start=start, end=int(clock[0]) + DAY, now=clock[0])
        assert service.marks("ETHUSD", start=start, end=int(clock[0]) + DAY) == expected
