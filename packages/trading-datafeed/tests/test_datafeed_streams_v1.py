"""Datafeed API v1 streams at /ws: bars and quotes from the same source as the UDF routes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse

from trading_core import ModuleContext
from trading_core.streams import stream_hubs
from trading_core.testing import include_api
from trading_datafeed import DatafeedModule
from trading_datafeed.api.v1 import DatafeedApi
from trading_datafeed.api.v1.streams import BarsParams, BarUpdate, QuotesParams, QuotesUpdate

P = "/api/v1/datafeed"
DAY = 86_400


class Clock:
    """A clock the test moves."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(now: float) -> Clock:
    return Clock(now)


@pytest.fixture
def serve(clock: Clock) -> Iterator[Callable[..., TestClient]]:
    """A client over the datafeed (streams every 10 ms), with ``/health`` reporting the module."""
    opened: list[TestClient] = []

    def make(settings: dict[str, Any] | None = None) -> TestClient:
        module = DatafeedModule(ModuleContext(settings={"stream_interval": 0.01, **(settings or {})}), clock=clock)

        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            async with module.lifespan():
                yield

        app = FastAPI(lifespan=lifespan)
        include_api(app, DatafeedApi(module), prefix=P)
        app.get("/health")(module.health)
        client = TestClient(app).__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def streams(client: TestClient) -> dict[str, int]:
    report: dict[str, int] = client.get("/health").json()["streams"]
    return report


def receive(ws: Any, kind: str) -> dict[str, Any]:
    """The next message of type ``kind``, skipping updates of other subscriptions."""
    while True:
        message: dict[str, Any] = ws.receive_json()
        if message["type"] == kind:
            return message
        assert message["type"].endswith(".update"), message


def test_bars_push_the_forming_bar_as_history_gives_it(serve, clock, now):
    client = serve()
    with client.websocket_connect(f"{P}/ws") as ws:
        ws.send_json({"type": "bars.subscribe", "id": 1, "payload": {"symbol": "nasdaq:aapl", "resolution": "D"}})
        reply = ws.receive_json()
        assert reply == {
            "type": "bars.subscribe.response",
            "topic": 'bars:{"resolution":"1D","symbol":"AAPL"}',
            "id": 1,
            "payload": {"params": {"symbol": "AAPL", "resolution": "1D"}},
        }
        update = receive(ws, "bars.update")
        assert update["topic"] == reply["topic"]
        history = client.get(
            f"{P}/history", params={"symbol": "AAPL", "resolution": "1D", "to": int(now) + 1, "countback": 1}
        )
        bars = history.json()
        expected = {k: bars[k[0]][0] for k in ("time", "open", "high", "low", "close", "volume")}
        expected["time"] = bars["t"][0]
        assert update["payload"] == {"symbol": "AAPL", "resolution": "1D", **expected}
        # The next day's bar comes once the clock reaches it.
        clock.now = now + DAY
        while (moved := receive(ws, "bars.update"))["payload"]["time"] == expected["time"]:
            pass
        assert moved["payload"]["time"] == expected["time"] + DAY


def test_quotes_push_the_quotes_of_every_symbol(serve):
    client = serve()
    with client.websocket_connect(f"{P}/ws") as ws:
        ws.send_json({"type": "quotes.subscribe", "payload": {"symbols": "MSFT, fx:eurusd,msft"}})
        reply = ws.receive_json()
        assert reply["payload"] == {"params": {"symbols": ["EURUSD", "MSFT"]}}
        update = receive(ws, "quotes.update")
        rest = client.get(f"{P}/quotes", params={"symbols": "EURUSD,MSFT"}).json()
        assert update["payload"] == {"d": rest["d"]}
        # A list works as well as a comma-joined string, and names the same topic.
        ws.send_json({"type": "quotes.subscribe", "payload": {"symbols": ["msft", "EURUSD"]}})
        assert receive(ws, "quotes.subscribe.response")["topic"] == reply["topic"]
        assert streams(client) == {"connections": 1, "feeds": 1}


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"symbol": "NOPE", "resolution": "1"}, "unknown symbol 'NOPE'"),
        ({"symbol": "AAPL", "resolution": "7"}, "unsupported resolution '7'"),
        ({"symbol": "AAPL"}, "resolution: Field required"),
        ({"symbol": "AAPL", "resolution": "1", "from": 0}, "from: Extra inputs are not permitted"),
    ],
)
def test_bad_bars_subscriptions_are_refused_and_the_socket_stays_open(serve, payload, fragment):
    client = serve()
    with client.websocket_connect(f"{P}/ws") as ws:
        ws.send_json({"type": "bars.subscribe", "payload": payload, "id": "x"})
        error = ws.receive_json()
        assert (error["type"], error["id"], error["payload"]["code"]) == ("error", "x", "invalid-params")
        assert fragment in error["payload"]["message"]
        ws.send_json({"type": "bars.subscribe", "payload": {"symbol": "AAPL", "resolution": "1"}})
        assert ws.receive_json()["type"] == "bars.subscribe.response"


@pytest.mark.parametrize(
    ("symbols", "fragment"),
    [
        ("AAPL,NOPE", "unknown symbol 'NOPE'"),
        ([], "symbols: List should have at least 1 item"),
        (["AAPL"] * 101, "symbols: List should have at most 100 items"),
    ],
)
def test_bad_quotes_subscriptions_are_refused(serve, symbols, fragment):
    with serve().websocket_connect(f"{P}/ws") as ws:
        ws.send_json({"type": "quotes.subscribe", "payload": {"symbols": symbols}})
        error = ws.receive_json()
        assert error["payload"]["code"] == "invalid-params"
        assert fragment in error["payload"]["message"]


def test_a_resolution_a_file_cannot_give_is_refused(serve, tmp_path):
    (tmp_path / "ONE.csv").write_text("date,open,high,low,close\n2024-01-02,1,2,0.5,1.5\n")
    with serve({"csv_dir": str(tmp_path)}).websocket_connect(f"{P}/ws") as ws:
        ws.send_json({"type": "bars.subscribe", "payload": {"symbol": "ONE", "resolution": "5"}})
        error = ws.receive_json()
        assert error["payload"]["message"] == "resolution '5' is not served for ONE; served: 1D, 1W, 1M"
        # Its daily bar is there, the last of the file.
        ws.send_json({"type": "bars.subscribe", "payload": {"symbol": "ONE", "resolution": "1D"}})
        receive(ws, "bars.subscribe.response")
        assert receive(ws, "bars.update")["payload"]["close"] == 1.5


def test_equal_subscriptions_share_a_feed_that_stops_with_the_last(serve):
    client = serve()
    bars = {"symbol": "AAPL", "resolution": "1"}
    with client.websocket_connect(f"{P}/ws") as first, client.websocket_connect(f"{P}/ws") as second:
        first.send_json({"type": "bars.subscribe", "payload": bars})
        second.send_json({"type": "bars.subscribe", "payload": {"symbol": "aapl", "resolution": "1"}})
        receive(first, "bars.subscribe.response")
        receive(second, "bars.subscribe.response")
        assert streams(client) == {"connections": 2, "feeds": 1}
        first.send_json({"type": "bars.unsubscribe", "payload": bars})
        receive(first, "bars.unsubscribe.response")
        assert streams(client) == {"connections": 2, "feeds": 1}
        second.send_json({"type": "bars.unsubscribe", "payload": bars})
        receive(second, "bars.unsubscribe.response")
        assert streams(client) == {"connections": 2, "feeds": 0}
        second.send_json({"type": "bars.subscribe", "payload": bars})
        receive(second, "bars.subscribe.response")
        assert streams(client) == {"connections": 2, "feeds": 1}
    # Both gone: the connections and the feed with them (once the server has seen them go).
    deadline = time.monotonic() + 5
    while streams(client) != {"connections": 0, "feeds": 0}:
        assert time.monotonic() < deadline, streams(client)
        time.sleep(0.01)


def test_pages_of_other_origins_cannot_open_the_streams(serve):
    client = serve({"cors_origins": ["https://chart.example"]})
    with (
        pytest.raises(WebSocketDenialResponse) as refused,
        client.websocket_connect(f"{P}/ws", headers={"origin": "https://evil.example"}),
    ):
        pass
    assert refused.value.status_code == 403
    assert refused.value.json() == {
        "detail": "origin https://evil.example may not open the datafeed's streams; add it to cors_origins"
    }
    with client.websocket_connect(f"{P}/ws", headers={"origin": "https://chart.example"}) as ws:
        ws.send_json({"type": "quotes.subscribe", "payload": {"symbols": "AAPL"}})
        assert ws.receive_json()["type"] == "quotes.subscribe.response"
    # Clients that are not browser pages send no origin.
    with client.websocket_connect(f"{P}/ws") as ws:
        ws.send_json({"type": "quotes.subscribe", "payload": {"symbols": "AAPL"}})
        assert ws.receive_json()["type"] == "quotes.subscribe.response"


def test_the_stream_routes_and_their_models_are_discoverable(clock):
    api = DatafeedApi(DatafeedModule(clock=clock))
    [hub] = stream_hubs(api).values()
    assert list(stream_hubs(api)) == ["/ws"]
    assert {name: (r.params, r.update) for name, r in hub.routes.items()} == {
        "bars": (BarsParams, BarUpdate),
        "quotes": (QuotesParams, QuotesUpdate),
    }
