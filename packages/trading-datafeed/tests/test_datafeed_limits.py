"""Heavy requests run off the event loop, and what one client (or all of them) can hold is bounded,
with clear answers: 429 and 503 UDF errors, a stream connection closed with 1008 and a reason, a
``too-many-subscriptions`` error for a feed beyond the process's bound."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from conftest import serve
from fastapi.testclient import TestClient
from old_datafeed import OldMarket
from starlette.websockets import WebSocketDisconnect

from trading_core import ModuleContext
from trading_datafeed import RESOLUTIONS, Bar, DatafeedModule, Quote, Resolution, SimulatedMarket, SymbolInfo
from trading_datafeed._service import _next_tick
from trading_datafeed.api.v1._schemas import HistoryBars

P = "/api/v1/datafeed"
WAIT = 30  # seconds: a safety bound for a test that would otherwise hang, never a measure


class Gate:
    """A market whose bars and quotes wait until the test opens the gate: a computation as slow as
    the test wants. ``entered`` counts the calls waiting."""

    kind = "simulated"

    def __init__(self) -> None:
        self.market = SimulatedMarket()
        self.open = threading.Event()
        self.entered = threading.Semaphore(0)

    def symbols(self) -> Sequence[SymbolInfo]:
        return self.market.symbols()

    def _wait(self) -> None:
        self.entered.release()
        assert self.open.wait(WAIT), "the test never opened the gate"

    def bars(
        self, ticker: str, resolution: Resolution, *, end: int, start: int | None, limit: int, now: float
    ) -> list[Bar]:
        self._wait()
        return self.market.bars(ticker, resolution, end=end, start=start, limit=limit, now=now)

    def quote(self, ticker: str, now: float) -> Quote | None:
        self._wait()
        return self.market.quote(ticker, now)

    def wait_entered(self, count: int = 1) -> None:
        for _ in range(count):
            assert self.entered.acquire(timeout=WAIT), "the request never reached the market"


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(8) as executor:
        yield executor


def heavy(client: TestClient, route: str, now: float) -> Any:
    params: dict[str, dict[str, Any]] = {
        "history": {"symbol": "AAPL", "resolution": "1", "to": int(now), "countback": 50},
        "marks": {"symbol": "AAPL", "resolution": "1D", "from": 0, "to": int(now)},
        "timescale_marks": {"symbol": "AAPL", "resolution": "1D", "from": 0, "to": int(now)},
        "quotes": {"symbols": "AAPL,MSFT"},
    }
    return client.get(f"{P}/{route}", params=params[route])


@pytest.mark.parametrize("route", ["history", "marks", "timescale_marks", "quotes"])
def test_a_heavy_request_leaves_the_event_loop_free(
    make_client: Callable[..., TestClient], pool: ThreadPoolExecutor, now: float, route: str
) -> None:
    gate = Gate()
    client = make_client(market=gate)
    pending = pool.submit(heavy, client, route, now)
    gate.wait_entered()  # the computation has started and does not end until the gate opens
    # Meanwhile the event loop answers other requests, the cheap and the heavy ones' health alike.
    assert client.get(f"{P}/time").json() == int(now)
    assert client.get(f"{P}/symbols", params={"symbol": "AAPL"}).status_code == 200
    assert not pending.done()
    gate.open.set()
    answer = pending.result(timeout=WAIT)
    assert answer.status_code == 200, answer.text


def test_a_client_with_too_many_requests_at_once_gets_429(pool: ThreadPoolExecutor, now: float) -> None:
    gate = Gate()
    module = DatafeedModule(
        ModuleContext(settings={"max_client_requests": 2, "compute_threads": 1, "compute_queue": 10}),
        market=gate,
        clock=lambda: now,
    )
    client = serve(module).__enter__()
    first, second = pool.submit(heavy, client, "history", now), pool.submit(heavy, client, "quotes", now)
    gate.wait_entered()  # one computes
    while module.compute.pending < 2:  # and the other waits for the thread
        time.sleep(0.001)
    refused = heavy(client, "marks", now)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    assert refused.json() == {
        "s": "error",
        "errmsg": "too many requests at once from testclient: at most 2 are computed or waiting; "
        "send the next when one has been answered",
    }
    gate.open.set()
    assert [first.result(WAIT).status_code, second.result(WAIT).status_code] == [200, 200]
    assert heavy(client, "marks", now).status_code == 200  # answered: room again
    client.__exit__(None, None, None)


def test_a_busy_datafeed_answers_503(pool: ThreadPoolExecutor, now: float) -> None:
    gate = Gate()
    module = DatafeedModule(
        ModuleContext(settings={"compute_threads": 1, "compute_queue": 1, "max_client_requests": 10}),
        market=gate,
        clock=lambda: now,
    )
    client = serve(module).__enter__()
    running = pool.submit(heavy, client, "history", now)
    gate.wait_entered()
    waiting = pool.submit(heavy, client, "history", now)
    while module.compute.pending < 2:  # the second is queued
        time.sleep(0.001)
    refused = heavy(client, "quotes", now)
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert refused.json() == {
        "s": "error",
        "errmsg": "the datafeed is busy (1 requests waiting); try again in a moment",
    }
    assert client.get(f"{P}/time").status_code == 200  # what needs no computation is answered
    gate.open.set()
    assert [running.result(WAIT).status_code, waiting.result(WAIT).status_code] == [200, 200]
    assert module.compute.pending == 0
    client.__exit__(None, None, None)


def test_requests_one_at_a_time_are_never_refused(make_client: Callable[..., TestClient], now: float) -> None:
    client = make_client({"max_client_requests": 1, "compute_queue": 0})
    for route in ("history", "marks", "timescale_marks", "quotes") * 3:
        assert heavy(client, route, now).status_code == 200


def test_stream_connections_per_client_are_bounded(make_client: Callable[..., TestClient]) -> None:
    client = make_client({"max_client_connections": 2})
    with client.websocket_connect(f"{P}/ws") as first, client.websocket_connect(f"{P}/ws") as second:
        for ws in (first, second):
            ws.send_json({"type": "quotes.subscribe", "payload": {"symbols": "AAPL"}})
            assert ws.receive_json()["type"] == "quotes.subscribe.response"
        with client.websocket_connect(f"{P}/ws") as third, pytest.raises(WebSocketDisconnect) as closed:
            third.receive_json()
        assert closed.value.code == 1008
        assert closed.value.reason == "too many stream connections from testclient: at most 2 at once"
        assert client.get(f"{P}/time").status_code == 200
    # Both closed: the client may connect again.
    with client.websocket_connect(f"{P}/ws") as again:
        again.send_json({"type": "quotes.subscribe", "payload": {"symbols": "AAPL"}})
        assert again.receive_json()["type"] == "quotes.subscribe.response"


def test_feeds_per_process_are_bounded(make_client: Callable[..., TestClient]) -> None:
    client = make_client({"max_feeds": 2})
    with client.websocket_connect(f"{P}/ws") as first, client.websocket_connect(f"{P}/ws") as second:
        first.send_json({"type": "quotes.subscribe", "payload": {"symbols": "AAPL"}})
        first.send_json({"type": "bars.subscribe", "payload": {"symbol": "AAPL", "resolution": "1"}})
        receive(first, "quotes.subscribe.response")
        receive(first, "bars.subscribe.response")  # two feeds run
        second.send_json({"type": "quotes.subscribe", "id": 3, "payload": {"symbols": "MSFT"}})
        error = receive(second, "error")
        assert error["id"] == 3
        assert error["payload"] == {
            "code": "too-many-subscriptions",
            "message": "the server runs its most feeds (2); subscribe to a topic that already runs, or try later",
        }
        # A topic that already runs takes no new feed: the other client shares it.
        second.send_json({"type": "quotes.subscribe", "payload": {"symbols": ["aapl"]}})
        assert receive(second, "quotes.subscribe.response")["payload"] == {"params": {"symbols": ["AAPL"]}}


def receive(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = ws.receive_json()
        if message["type"] == kind:
            return message


# --- the same answers ----------------------------------------------------------------------------


def test_the_same_request_at_the_same_moment_gets_the_same_answer(make_client: Callable[..., TestClient]) -> None:
    # Two processes' worth of modules, each with its own kept bars: the same bytes.
    first, second = make_client(), make_client()
    requests: list[tuple[str, dict[str, Any]]] = [
        ("history", {"symbol": "AAPL", "resolution": "1", "to": 2_000_000_000, "countback": 5000}),
        ("history", {"symbol": "FX:EURUSD", "resolution": "1W", "from": 0, "to": 1_700_000_000}),
        ("marks", {"symbol": "BTCUSD", "resolution": "1D", "from": 0, "to": 2_000_000_000}),
        ("timescale_marks", {"symbol": "NVDA", "resolution": "1D", "from": 0, "to": 2_000_000_000}),
        ("quotes", {"symbols": "AAPL,ETHUSD,nope"}),
    ]
    for route, params in requests:
        answers = [client.get(f"{P}/{route}", params=params) for client in (first, second, first)]
        assert {a.status_code for a in answers} == {200}
        assert answers[0].content == answers[1].content == answers[2].content


@pytest.mark.parametrize(
    ("resolution", "countback"), [("1", 5000), ("5", 300), ("60", 1000), ("1D", 2000), ("1W", 400), ("1M", 50)]
)
def test_history_is_that_of_1_0(client: TestClient, now: float, resolution: str, countback: int) -> None:
    params: dict[str, str | int] = {
        "symbol": "TSLA",
        "resolution": resolution,
        "to": int(now) + 1,
        "countback": countback,
    }
    answer = client.get(f"{P}/history", params=params).json()
    bars = OldMarket().bars("TSLA", RESOLUTIONS[resolution], end=int(now) + 1, start=None, limit=countback, now=now)
    assert answer == json.loads(HistoryBars.from_bars(bars).model_dump_json())


def test_quotes_are_those_of_1_0(client: TestClient, now: float) -> None:
    answer = client.get(f"{P}/quotes", params={"symbols": "AAPL,GBPUSD,BTCUSD"}).json()
    old = OldMarket()
    for item in answer["d"]:
        quote = old.quote(item["n"], now)
        assert quote is not None
        assert (item["v"]["lp"], item["v"]["open_price"], item["v"]["high_price"], item["v"]["low_price"]) == (
            quote.last,
            quote.open,
            quote.high,
            quote.low,
        )
        assert item["v"]["volume"] == quote.volume


# --- feeds spread over the interval --------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "previous", "phase", "due"),
    [
        (10.0, 10.0, 0.25, 11.25),  # the next slot at a quarter past, more than half an interval on
        (10.1, 10.0, 0.25, 10.25 + 1),  # 10.25 would come 0.25 s after the last tick: one later
        (10.9, 10.0, 0.0, 11.0),
        (13.6, 12.25, 0.5, 14.5),  # late (the loop was busy): the next slot, not a burst to catch up
    ],
)
def test_feeds_tick_at_their_phase_never_twice_in_half_an_interval(
    now: float, previous: float, phase: float, due: float
) -> None:
    assert _next_tick(now, previous, 1.0, phase) == pytest.approx(due)
