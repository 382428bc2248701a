"""Datafeed replicas agree (issue 9): the simulated market is a function of the symbol and the
moment, so two processes started apart give the same bars for the same range and the same quotes
in the same second. A gateway may send a client's requests to either replica."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from harness import BIN, Server, clean_env, ok

pytestmark = [pytest.mark.modules("datafeed"), pytest.mark.independent]

P = "/api/v1/datafeed"
DAY = 86_400


def test_two_datafeed_processes_give_the_same_bars_and_quotes(serve: Callable[..., Server]) -> None:
    command = [str(BIN / "trading-host"), "serve", "--port", "{port}"]
    env = clean_env(ENABLED_MODULES="datafeed")
    first = serve(command, env=env)
    second = serve(command, env=env)  # a second later or so: another process, another start time

    now = ok(first.get(f"{P}/time"))
    # Closed ranges, before both processes started: every bar is complete.
    for resolution, span in (("1", DAY // 8), ("60", 3 * DAY), ("1D", 90 * DAY), ("1W", 400 * DAY)):
        query = {"symbol": "AAPL", "resolution": resolution, "from": now - span - DAY, "to": now - DAY}
        bars = ok(first.get(f"{P}/history", params=query))
        assert bars["s"] == "ok", bars
        assert len(bars["t"]) > 1, bars
        assert ok(second.get(f"{P}/history", params=query)) == bars, resolution
    for symbol in ("EURUSD", "BTCUSD"):
        query = {"symbol": symbol, "resolution": "60", "to": now - DAY, "countback": 48}
        bars = ok(first.get(f"{P}/history", params=query))
        assert bars["s"] == "ok", bars
        assert ok(second.get(f"{P}/history", params=query)) == bars, symbol

    # Quotes move every second: compare two answers given within one second of both clocks.
    symbols = {"symbols": "AAPL,MSFT,EURUSD,BTCUSD"}
    for _ in range(20):
        before = ok(first.get(f"{P}/time")), ok(second.get(f"{P}/time"))
        quotes = ok(first.get(f"{P}/quotes", params=symbols)), ok(second.get(f"{P}/quotes", params=symbols))
        after = ok(first.get(f"{P}/time")), ok(second.get(f"{P}/time"))
        if len({*before, *after}) == 1:  # all four readings in the same second
            break
    else:
        pytest.fail("never got both answers within one second")
    assert quotes[0]["s"] == "ok"
    assert len(quotes[0]["d"]) == 4
    assert quotes[0] == quotes[1]
