"""The datafeed's bounds under load (issue 8, items 4 and 11), on a real server: ``trading-host
serve`` from the installed wheels, real HTTP (httpx) and WebSocket (``websockets``) clients.

What one client may hold (stream connections, requests being computed) and what the process may
run (feeds, requests waiting) are bounded by ``[modules.datafeed]`` settings, and each refusal is a
clear answer: a 429 or 503 UDF error, a connection closed with 1008 and a reason, a stream error.
Behind a proxy a client is the address of ``X-Forwarded-For`` (uvicorn trusts 127.0.0.1 by default).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import BIN, Server, clean_env
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

# Only core and the datafeed are enabled.
pytestmark = [pytest.mark.modules("datafeed"), pytest.mark.independent]

P = "/api/v1/datafeed"
MINUTE = 60


def start(serve: Callable[..., Server], tmp_path: Path, settings: str) -> Server:
    (tmp_path / "trading.toml").write_text(f"[modules.datafeed]\n{settings}\n")
    return serve([str(BIN / "trading-host"), "serve", "--port", "{port}"], env=clean_env(ENABLED_MODULES="datafeed"))


def ws_url(server: Server) -> str:
    return server.base_url.replace("http://", "ws://") + f"{P}/ws"


def receive(ws: ClientConnection, kind: str) -> dict[str, Any]:
    """The next message of type ``kind``, skipping updates."""
    while True:
        message: dict[str, Any] = json.loads(ws.recv(timeout=15))
        if message["type"] == kind:
            return message
        assert message["type"].endswith(".update"), message


def subscribe(ws: ClientConnection, symbols: str, request_id: int | None = None) -> dict[str, Any]:
    ws.send(json.dumps({"type": "quotes.subscribe", "id": request_id, "payload": {"symbols": symbols}}))
    while True:
        message: dict[str, Any] = json.loads(ws.recv(timeout=15))
        if message["type"] in ("quotes.subscribe.response", "error"):
            return message


def cold_history(server: Server, index: int) -> httpx.Response:
    """A history request no other request of the test asks for: its bars are computed afresh."""
    end = int(time.time()) - (index + 1) * 5000 * MINUTE
    params: dict[str, str | int] = {"symbol": "BTCUSD", "resolution": "1", "to": end, "countback": 5000}
    with httpx.Client(base_url=server.base_url, timeout=120) as client:
        return client.get(f"{P}/history", params=params)


def flood(server: Server, count: int) -> list[httpx.Response]:
    """``count`` cold history requests at once, from this one client (127.0.0.1)."""
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda i: cold_history(server, i), range(count)))


def test_a_client_holding_too_many_requests_gets_429_and_the_others_are_answered(serve, tmp_path):
    server = start(serve, tmp_path, "max_client_requests = 1\ncompute_queue = 64")
    answers = flood(server, 12)
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) == {200, 429}, statuses
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.headers["retry-after"] == "1"
    assert refused.json() == {
        "s": "error",
        "errmsg": "too many requests at once from 127.0.0.1: at most 1 are computed or waiting; "
        "send the next when one has been answered",
    }
    for answer in answers:
        if answer.status_code == 200:
            assert answer.json()["s"] == "ok"
            assert len(answer.json()["t"]) == 5000
    # Nothing is held once the answers are in: the same client is answered again.
    assert cold_history(server, 99).status_code == 200
    assert server.get("/api/v1/core/health").json()["modules"]["datafeed"]["computing"] == 0


def test_a_busy_datafeed_answers_503_and_keeps_answering_what_needs_no_computation(serve, tmp_path):
    server = start(serve, tmp_path, "max_client_requests = 100\ncompute_threads = 1\ncompute_queue = 0")
    with ThreadPoolExecutor(1) as pool:
        probing = pool.submit(lambda: [server.get(f"{P}/time").status_code for _ in range(20)])
        answers = flood(server, 12)
        assert probing.result(timeout=120) == [200] * 20
    statuses = {a.status_code for a in answers}
    assert statuses == {200, 503}, statuses
    refused = next(a for a in answers if a.status_code == 503)
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["s"] == "error"
    assert refused.json()["errmsg"].startswith("the datafeed is busy")


def test_stream_connections_per_client_are_bounded_by_the_forwarded_address(serve, tmp_path):
    server = start(serve, tmp_path, "max_client_connections = 2")
    alice = {"X-Forwarded-For": "203.0.113.7"}
    with (
        connect(ws_url(server), additional_headers=alice) as first,
        connect(ws_url(server), additional_headers=alice) as second,
    ):
        for ws in (first, second):
            assert subscribe(ws, "AAPL")["type"] == "quotes.subscribe.response"
        with connect(ws_url(server), additional_headers=alice) as third, pytest.raises(ConnectionClosed) as closed:
            third.recv(timeout=15)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1008
        assert closed.value.rcvd.reason == "too many stream connections from 203.0.113.7: at most 2 at once"
        # Another user behind the same proxy has bounds of its own; so does a direct client.
        with (
            connect(ws_url(server), additional_headers={"X-Forwarded-For": "198.51.100.2"}) as bob,
            connect(ws_url(server)) as direct,
        ):
            assert subscribe(bob, "MSFT")["type"] == "quotes.subscribe.response"
            assert subscribe(direct, "MSFT")["type"] == "quotes.subscribe.response"
    # Alice's connections are closed: she may connect again, once the server has seen them close (its
    # side of a connection ends a moment after the client's closing handshake returns).
    answers: list[str] = []
    for _ in range(50):
        try:
            with connect(ws_url(server), additional_headers=alice) as again:
                answers.append(subscribe(again, "AAPL")["type"])
            break
        except ConnectionClosed as refused:  # still counted: the close reason says so
            answers.append(refused.rcvd.reason if refused.rcvd is not None else str(refused))
            time.sleep(0.1)
    assert answers[-1] == "quotes.subscribe.response", answers
    assert set(answers[:-1]) <= {"too many stream connections from 203.0.113.7: at most 2 at once"}, answers


def test_feeds_per_process_are_bounded_for_all_clients(serve, tmp_path):
    server = start(serve, tmp_path, "max_feeds = 3\nstream_interval = 0.05")
    with connect(ws_url(server)) as first, connect(ws_url(server)) as second:
        for symbols in ("AAPL", "MSFT", "AAPL,MSFT"):
            assert subscribe(first, symbols)["type"] == "quotes.subscribe.response"
        error = subscribe(second, "TSLA", request_id=7)
        assert error == {
            "type": "error",
            "id": 7,
            "payload": {
                "code": "too-many-subscriptions",
                "message": "the server runs its most feeds (3); subscribe to a topic that already runs, or try later",
            },
        }
        # Joining a feed that runs costs none, and the refused socket keeps working.
        assert subscribe(second, "msft,aapl")["topic"] == 'quotes:{"symbols":["AAPL","MSFT"]}'
        update = receive(second, "quotes.update")
        assert [item["n"] for item in update["payload"]["d"]] == ["AAPL", "MSFT"]
        assert server.get("/api/v1/core/health").json()["modules"]["datafeed"]["streams"]["feeds"] == 3


REFUSED = [
    ("history", {"symbol": "AAPL", "resolution": "", "to": 2_000_000_000, "countback": 2}, "resolution"),
    ("marks", {"symbol": "AAPL", "resolution": " ", "from": 0, "to": 2_000_000_000}, "resolution"),
    ("timescale_marks", {"symbol": "AAPL", "resolution": "", "from": 0, "to": 2_000_000_000}, "resolution"),
    ("quotes", {"symbols": ""}, "symbols"),
    ("quotes", {"symbols": " , "}, "symbols"),
]


def test_what_the_schema_refuses_is_what_is_refused(serve, tmp_path):
    server = start(serve, tmp_path, "")
    spec = server.get("/api/v1/openapi.json").json()
    for route, params, name in REFUSED:
        answer = server.get(f"{P}/{route}", params=params)
        assert answer.status_code == 422, (route, params)
        assert answer.json()["s"] == "error"
        assert answer.json()["errmsg"].startswith(f"{name}:")
        # The schema says so: a value with something besides blanks (and, for a list, commas).
        parameters = spec["paths"][f"{P}/{route}"]["get"]["parameters"]
        schema = next(p for p in parameters if p["name"] == name)["schema"]
        assert schema["minLength"] == 1
        assert schema["pattern"] == (r"[^,\s]" if name == "symbols" else r"\S")
