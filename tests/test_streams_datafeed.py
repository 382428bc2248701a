"""Datafeed streams over real WebSockets: a real uvicorn (composed and standalone) and the
``websockets`` client, at /api/v1/datafeed/ws, /api/v2/datafeed/ws and standalone /v1/ws."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import BIN, Serve, Server, clean_env, start_server
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

# Its tests share the servers of module-scoped fixtures: one pytest-xdist process runs them all.
pytestmark = [pytest.mark.modules("datafeed"), pytest.mark.independent, pytest.mark.xdist_group("streams_datafeed")]

SETTINGS = """
[modules.datafeed]
stream_interval = 0.02
cors_origins = ["https://chart.example"]
"""
ALL_SYMBOLS = "AAPL,MSFT,GOOGL,AMZN,TSLA,NVDA,SPY,EURUSD,GBPUSD,USDJPY,BTCUSD,ETHUSD"


def start(cwd: Path, args: list[str], settings: str, ready_path: str, **env: str) -> Server:
    (cwd / "trading.toml").write_text(settings)
    return start_server(args, cwd=cwd, env=clean_env(ENABLED_MODULES="datafeed", **env), ready_path=ready_path)


@pytest.fixture(scope="module")
def composed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``trading-host serve``: global v1 and v2, both serving datafeed v1."""
    server = start(
        tmp_path_factory.mktemp("composed"),
        [str(BIN / "trading-host"), "serve", "--port", "{port}"],
        SETTINGS,
        "/api/v1/core/health",
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def standalone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``uvicorn trading_host.main:app`` serving datafeed v1 alone at /v1."""
    server = start(
        tmp_path_factory.mktemp("standalone"),
        [str(BIN / "uvicorn"), "trading_host.main:app", "--port", "{port}"],
        SETTINGS,
        "/core/v1/health",
        MODULE_VERSION="v1",
    )
    yield server
    server.stop()


def ws_url(server: Server, path: str) -> str:
    return server.base_url.replace("http://", "ws://") + path


def send(ws: ClientConnection, message: object) -> None:
    ws.send(message if isinstance(message, str | bytes) else json.dumps(message))


def receive(ws: ClientConnection, kind: str | None = None, timeout: float = 10) -> dict[str, Any]:
    """The next message (of type ``kind``, skipping updates of other subscriptions)."""
    while True:
        message: dict[str, Any] = json.loads(ws.recv(timeout=timeout))
        if kind is None or message["type"] == kind:
            return message
        assert message["type"].endswith(".update"), message


def streams(server: Server, health: str = "/api/v1/core/health") -> dict[str, int]:
    report: dict[str, int] = server.get(health).json()["modules"]["datafeed"]["streams"]
    return report


def wait_for(check: Callable[[], bool], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not {what} within {timeout} s"
        time.sleep(0.05)


def drain(ws: ClientConnection) -> None:
    """Read until the connection closes."""
    while True:
        ws.recv(timeout=30)


DEPLOYMENTS = [
    pytest.param("composed", "/api/v1/datafeed/ws", id="api-v1"),
    pytest.param("composed", "/api/v2/datafeed/ws", id="api-v2"),
    pytest.param("standalone", "/v1/ws", id="standalone-v1"),
]


@pytest.mark.parametrize(("deployment", "path"), DEPLOYMENTS)
def test_subscribe_receive_and_unsubscribe_bars_and_quotes(request: pytest.FixtureRequest, deployment, path):
    server: Server = request.getfixturevalue(deployment)
    rest = path.removesuffix("/ws")
    with connect(ws_url(server, path)) as ws:
        send(ws, {"type": "bars.subscribe", "id": 1, "payload": {"symbol": "nasdaq:aapl", "resolution": "1"}})
        topic = 'bars:{"resolution":"1","symbol":"AAPL"}'
        assert receive(ws) == {
            "type": "bars.subscribe.response",
            "topic": topic,
            "id": 1,
            "payload": {"params": {"symbol": "AAPL", "resolution": "1"}},
        }
        update = receive(ws, "bars.update")
        assert update["topic"] == topic
        bar = update["payload"]
        assert set(bar) == {"symbol", "resolution", "time", "open", "high", "low", "close", "volume"}
        assert (bar["symbol"], bar["resolution"], bar["time"] % 60) == ("AAPL", "1", 0)
        assert abs(bar["time"] - time.time()) < 120
        assert bar["low"] <= min(bar["open"], bar["close"]) <= max(bar["open"], bar["close"]) <= bar["high"]
        # The bar the stream pushes is the bar /history serves for that minute.
        minute = {"symbol": "AAPL", "resolution": "1", "from": bar["time"], "to": bar["time"] + 60}
        history = server.get(f"{rest}/history", params=minute).json()
        assert (history["t"], history["o"]) == ([bar["time"]], [bar["open"]])

        send(ws, {"type": "quotes.subscribe", "payload": {"symbols": "MSFT,fx:eurusd"}})
        assert receive(ws, "quotes.subscribe.response")["payload"] == {"params": {"symbols": ["EURUSD", "MSFT"]}}
        quotes = receive(ws, "quotes.update")["payload"]["d"]
        assert [(q["s"], q["n"]) for q in quotes] == [("ok", "EURUSD"), ("ok", "MSFT")]
        for quote in quotes:
            for key in ("lp", "ask", "bid", "ch", "chp", "open_price", "high_price", "low_price", "prev_close_price"):
                assert isinstance(quote["v"][key], int | float), key

        send(ws, {"type": "bars.unsubscribe", "id": 2, "payload": {"symbol": "AAPL", "resolution": "1"}})
        reply = receive(ws, "bars.unsubscribe.response")
        assert (reply["topic"], reply["id"]) == (topic, 2)
        # After the response, only quotes arrive.
        after = [receive(ws)["type"] for _ in range(10)]
        assert set(after) == {"quotes.update"}


def test_bad_messages_get_errors_and_the_socket_stays_open(composed: Server):
    cases: list[tuple[object, str]] = [
        ("{not json", "malformed"),
        (b"\x00binary", "malformed"),
        ({"payload": {}}, "malformed"),
        ({"type": "orders.subscribe", "payload": {}}, "unknown-type"),
        ({"type": "bars.subscribe", "payload": {"symbol": "NOPE", "resolution": "1"}}, "invalid-params"),
        ({"type": "bars.subscribe", "payload": {"symbol": "AAPL"}}, "invalid-params"),
        ({"type": "quotes.unsubscribe", "payload": {"symbols": ["AAPL"]}}, "not-subscribed"),
        ("x" * 100_000, "too-large"),
    ]
    with connect(ws_url(composed, "/api/v1/datafeed/ws")) as ws:
        for message, code in cases:
            send(ws, message)
            error = receive(ws)
            assert (error["type"], error["payload"]["code"]) == ("error", code), (message, error)
        send(ws, {"type": "quotes.subscribe", "payload": {"symbols": ["AAPL"]}})
        assert receive(ws)["type"] == "quotes.subscribe.response"
        assert receive(ws)["type"] == "quotes.update"


def test_equal_subscriptions_share_one_feed_across_global_versions_until_the_last_leaves(composed: Server):
    wait_for(lambda: streams(composed)["feeds"] == 0, "idle")
    params = {"symbols": ["GOOGL", "AMZN"]}
    with (
        connect(ws_url(composed, "/api/v1/datafeed/ws")) as first,
        connect(ws_url(composed, "/api/v2/datafeed/ws")) as second,
    ):
        for ws in (first, second):
            send(ws, {"type": "quotes.subscribe", "payload": params})
            receive(ws, "quotes.subscribe.response")
        # Global v1 and v2 serve the same datafeed v1, so both clients share one feed.
        assert streams(composed) == {"connections": 2, "feeds": 1}
        for ws in (first, second):
            assert [q["n"] for q in receive(ws, "quotes.update")["payload"]["d"]] == ["AMZN", "GOOGL"]
        send(first, {"type": "quotes.unsubscribe", "payload": {"symbols": "amzn,googl"}})
        receive(first, "quotes.unsubscribe.response")
        assert streams(composed) == {"connections": 2, "feeds": 1}
        # The last subscriber vanishes without a word (no unsubscribe, no close frame).
        second.socket.shutdown(socket.SHUT_RDWR)
        wait_for(lambda: streams(composed) == {"connections": 1, "feeds": 0}, "stopped")
    wait_for(lambda: streams(composed) == {"connections": 0, "feeds": 0}, "closed")


def test_a_client_that_stops_reading_does_not_delay_another(serve: Serve, tmp_path: Path):
    (tmp_path / "trading.toml").write_text(
        "[modules.datafeed]\nstream_interval = 0.005\nstream_queue_size = 32\nstream_max_dropped = 128\n"
    )
    server = serve([str(BIN / "trading-host"), "serve", "--port", "{port}"], env=clean_env(ENABLED_MODULES="datafeed"))
    url = ws_url(server, "/api/v1/datafeed/ws")
    host, port = server.base_url.removeprefix("http://").split(":")
    # The slow client reads nothing: a tiny receive buffer, no compression, and a client that stops
    # taking frames off the socket once one is waiting, so the server's socket fills up.
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect((host, int(port)))
    subscribe = {"type": "quotes.subscribe", "payload": {"symbols": ALL_SYMBOLS}}
    with connect(url, sock=raw, max_queue=1, compression=None, ping_interval=None) as slow, connect(url) as fast:
        send(slow, subscribe)
        assert receive(slow)["type"] == "quotes.subscribe.response"
        send(fast, subscribe)
        receive(fast, "quotes.subscribe.response")
        received, longest_gap, last = 0, 0.0, time.monotonic()
        deadline = last + 90
        while streams(server)["connections"] == 2:
            assert time.monotonic() < deadline, "the slow client was never closed"
            stop = time.monotonic() + 0.5
            while time.monotonic() < stop:
                message = receive(fast, timeout=5)
                now = time.monotonic()
                longest_gap, last = max(longest_gap, now - last), now
                received += message["type"] == "quotes.update"
        # The fast client kept getting updates all along, and still does.
        assert received >= 100
        assert longest_gap < 2, f"the fast client waited {longest_gap:.2f} s for an update"
        assert receive(fast, "quotes.update")["payload"]["d"][0]["n"] == "AAPL"
        # The slow one, once it reads again, finds the close frame the overflow policy sent.
        with pytest.raises(ConnectionClosed) as closed:
            drain(slow)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4429, "too slow: 128 messages dropped in a row")
    wait_for(lambda: streams(server) == {"connections": 0, "feeds": 0}, "idle")


def test_pages_of_other_origins_cannot_open_the_streams(composed: Server):
    url = ws_url(composed, "/api/v1/datafeed/ws")
    with pytest.raises(InvalidStatus) as refused:
        connect(url, origin=Origin("https://evil.example"))
    assert refused.value.response.status_code == 403
    assert json.loads(refused.value.response.body or b"") == {
        "detail": "origin https://evil.example may not open the datafeed's streams; add it to cors_origins"
    }
    with connect(url, origin=Origin("https://chart.example")) as ws:
        send(ws, {"type": "quotes.subscribe", "payload": {"symbols": "AAPL"}})
        assert receive(ws)["type"] == "quotes.subscribe.response"


def test_a_version_that_is_not_served_refuses_the_handshake(composed: Server):
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(composed, "/api/v9/datafeed/ws"))
    assert refused.value.response.status_code == 403
