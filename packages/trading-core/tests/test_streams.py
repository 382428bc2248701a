"""trading_core.streams: topics shared by equal subscriptions, feeds stopped with their last
subscriber, errors that keep the socket open, the overflow policy, and the authentication hook.

The hub is driven through ASGI directly by :class:`Client`, which can stop reading (its ``send``
then blocks, as a socket whose peer does not read does), so the slow-client tests need no timing.
Real sockets and uvicorn are covered by the repository's integration tests.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from fastapi import APIRouter
from pydantic import BaseModel, field_validator
from starlette.types import ASGIApp, Message
from starlette.websockets import WebSocket

from trading_core.streams import (
    CLOSE_TOO_SLOW,
    ErrorCode,
    Identity,
    StreamHub,
    StreamLimits,
    StreamRefused,
    StreamRoute,
    SubscriptionRefused,
    add_stream_endpoint,
    stream_hubs,
)
from trading_core.streams._outbox import Outbox


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), timeout=20))


async def settle() -> None:
    """Let every ready task run until nothing is left to do."""
    for _ in range(20):
        await asyncio.sleep(0)


# --- a route whose feed the test drives --------------------------------------------------------


class TickParams(BaseModel):
    symbol: str

    @field_validator("symbol")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.strip().upper()


class Tick(BaseModel):
    symbol: str
    n: int


END = object()


class Source:
    """Feeds whose updates the test publishes; remembers which feeds started and stopped."""

    def __init__(self) -> None:
        self.queues: dict[tuple[str, str | None], asyncio.Queue[object]] = {}
        self.started: list[tuple[str, str | None]] = []
        self.stopped: list[tuple[str, str | None]] = []

    def feed(self, params: TickParams, identity: Identity | None) -> AsyncIterator[Tick]:
        key = (params.symbol, identity.account if identity else None)

        async def ticks() -> AsyncIterator[Tick]:
            queue: asyncio.Queue[object] = asyncio.Queue()
            self.queues[key] = queue
            self.started.append(key)
            try:
                while True:
                    item = await queue.get()
                    if item is END:
                        return
                    if isinstance(item, Exception):
                        raise item
                    assert isinstance(item, int)
                    yield Tick(symbol=params.symbol, n=item)
            finally:
                self.stopped.append(key)

        return ticks()

    async def publish(self, symbol: str, *numbers: int | object, account: str | None = None) -> None:
        for n in numbers:
            self.queues[(symbol, account)].put_nowait(n)
            await settle()


def refuse_bad(params: TickParams) -> TickParams:
    if params.symbol == "BAD":
        raise SubscriptionRefused("unknown symbol 'BAD'")
    return params


def routes(source: Source) -> list[StreamRoute[Any, Any]]:
    return [
        StreamRoute("ticks", TickParams, Tick, source.feed, normalize=refuse_bad),
        StreamRoute("orders", TickParams, Tick, source.feed, per_identity=True),
    ]


# --- an ASGI WebSocket client ------------------------------------------------------------------


class Client:
    """One WebSocket connection made over ASGI. With ``reading`` cleared, the app's sends block."""

    def __init__(self, app: ASGIApp, *, headers: dict[str, str] | None = None, denial: bool = True) -> None:
        self.app = app
        self.headers = headers or {}
        self.denial = denial
        self.to_app: asyncio.Queue[Message] = asyncio.Queue()
        self.from_app: asyncio.Queue[Message] = asyncio.Queue()
        self.reading = asyncio.Event()
        self.reading.set()
        self.task: asyncio.Task[None] | None = None

    async def connect(self) -> Message:
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "path": "/ws",
            "raw_path": b"/ws",
            "root_path": "",
            "query_string": b"",
            "headers": [(k.lower().encode(), v.encode()) for k, v in self.headers.items()],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "subprotocols": [],
            "extensions": {"websocket.http.response": {}} if self.denial else {},
        }
        self.to_app.put_nowait({"type": "websocket.connect"})

        async def run() -> None:
            await self.app(scope, self.to_app.get, self._send)

        self.task = asyncio.create_task(run())
        return await self.raw()

    async def _send(self, message: Message) -> None:
        await self.reading.wait()
        self.from_app.put_nowait(message)

    async def raw(self) -> Message:
        return await asyncio.wait_for(self.from_app.get(), timeout=5)

    async def receive(self) -> dict[str, Any]:
        message = await self.raw()
        assert message["type"] == "websocket.send", message
        body = json.loads(message["text"])
        assert isinstance(body, dict)
        return body

    def pending(self) -> list[dict[str, Any]]:
        """Every message the app has sent so far and the test has not read."""
        out: list[dict[str, Any]] = []
        while not self.from_app.empty():
            message = self.from_app.get_nowait()
            out.append(json.loads(message["text"]) if message["type"] == "websocket.send" else dict(message))
        return out

    async def send(self, message: object) -> None:
        text = message if isinstance(message, str) else json.dumps(message)
        self.to_app.put_nowait({"type": "websocket.receive", "text": text})
        await settle()

    async def request(self, message: object) -> dict[str, Any]:
        await self.send(message)
        return await self.receive()

    async def subscribe(self, symbol: str, route: str = "ticks", **extra: Any) -> dict[str, Any]:
        reply = await self.request({"type": f"{route}.subscribe", "payload": {"symbol": symbol}, **extra})
        assert reply["type"] == f"{route}.subscribe.response", reply
        return reply

    async def disconnect(self) -> None:
        self.to_app.put_nowait({"type": "websocket.disconnect", "code": 1000})
        assert self.task is not None
        await asyncio.wait_for(self.task, timeout=5)


def make_app(source: Source, **kwargs: Any) -> tuple[APIRouter, StreamHub]:
    router = APIRouter()
    hub = add_stream_endpoint(router, routes(source), **kwargs)
    return router, hub


async def connected(app: ASGIApp, **kwargs: Any) -> Client:
    client = Client(app, **kwargs)
    accepted = await client.connect()
    assert accepted["type"] == "websocket.accept", accepted
    return client


# --- the protocol ------------------------------------------------------------------------------


def test_subscribe_answers_then_pushes_updates() -> None:
    async def test() -> None:
        source = Source()
        app, _ = make_app(source)
        client = await connected(app)
        reply = await client.subscribe(" aapl", id="req-1")
        topic = 'ticks:{"symbol":"AAPL"}'
        assert reply == {
            "type": "ticks.subscribe.response",
            "topic": topic,
            "id": "req-1",
            "payload": {"params": {"symbol": "AAPL"}},
        }
        await source.publish("AAPL", 1, 2)
        assert await client.receive() == {"type": "ticks.update", "topic": topic, "payload": {"symbol": "AAPL", "n": 1}}
        assert (await client.receive())["payload"] == {"symbol": "AAPL", "n": 2}
        # Subscribing again is answered and changes nothing: still one copy of each update.
        assert (await client.subscribe("AAPL"))["topic"] == topic
        await source.publish("AAPL", 3)
        assert [m["payload"]["n"] for m in client.pending()] == [3]
        await client.disconnect()

    run(test)


def test_equal_subscriptions_share_one_feed() -> None:
    async def test() -> None:
        source = Source()
        app, hub = make_app(source)
        first, second, third = [await connected(app) for _ in range(3)]
        await first.subscribe("aapl")
        await second.subscribe("AAPL ")
        await third.subscribe("MSFT")
        assert source.started == [("AAPL", None), ("MSFT", None)]
        feeds = {f.topic: f.subscribers for f in hub.feeds()}
        assert feeds == {'ticks:{"symbol":"AAPL"}': 2, 'ticks:{"symbol":"MSFT"}': 1}
        await source.publish("AAPL", 7)
        assert (await first.receive())["payload"]["n"] == 7
        assert (await second.receive())["payload"]["n"] == 7
        assert third.pending() == []
        for client in (first, second, third):
            await client.disconnect()

    run(test)


def test_feed_stops_when_the_last_subscriber_unsubscribes() -> None:
    async def test() -> None:
        source = Source()
        app, hub = make_app(source)
        first, second = await connected(app), await connected(app)
        await first.subscribe("AAPL")
        await second.subscribe("AAPL")
        [feed] = hub.feeds()
        unsubscribe = {"type": "ticks.unsubscribe", "payload": {"symbol": "aapl"}, "id": 9}
        reply = await first.request(unsubscribe)
        assert reply == {
            "type": "ticks.unsubscribe.response",
            "topic": 'ticks:{"symbol":"AAPL"}',
            "id": 9,
            "payload": {"params": {"symbol": "AAPL"}},
        }
        assert not feed.task.done()
        await source.publish("AAPL", 1)
        assert first.pending() == []  # no update after the unsubscribe response
        assert (await second.receive())["payload"]["n"] == 1
        assert (await second.request(unsubscribe))["type"] == "ticks.unsubscribe.response"
        # By the time the last subscriber is answered, the feed is stopped and closed.
        assert feed.task.done()
        assert source.stopped == [("AAPL", None)]
        assert hub.feeds() == []
        # A new subscription starts a new feed.
        await first.subscribe("AAPL")
        assert source.started == [("AAPL", None), ("AAPL", None)]
        for client in (first, second):
            await client.disconnect()
        assert source.stopped == [("AAPL", None), ("AAPL", None)]

    run(test)


def test_feed_stops_when_the_last_subscriber_disconnects() -> None:
    async def test() -> None:
        source = Source()
        app, hub = make_app(source)
        first, second = await connected(app), await connected(app)
        await first.subscribe("AAPL")
        await first.subscribe("MSFT")
        await second.subscribe("AAPL")
        tasks = {f.topic: f.task for f in hub.feeds()}
        await first.disconnect()
        assert tasks['ticks:{"symbol":"MSFT"}'].done()
        assert not tasks['ticks:{"symbol":"AAPL"}'].done()
        assert hub.connections == 1
        await second.disconnect()
        assert all(task.done() for task in tasks.values())
        assert sorted(source.stopped) == [("AAPL", None), ("MSFT", None)]
        assert (hub.feeds(), hub.connections) == ([], 0)

    run(test)


def test_a_connection_cancelled_again_while_cleaning_up_leaves_nothing_behind() -> None:
    async def test() -> None:
        # anyio's cancel scopes cancel a task at every await until it ends; cleanup must not need one.
        source = Source()
        app, hub = make_app(source)
        client = await connected(app)
        await client.subscribe("AAPL")
        [feed] = hub.feeds()
        assert client.task is not None
        client.task.cancel()
        await asyncio.sleep(0)
        client.task.cancel()
        await asyncio.wait({client.task})
        assert (hub.connections, hub.feeds()) == (0, [])
        await settle()
        assert feed.task.done()
        assert source.stopped == [("AAPL", None)]

    run(test)


@pytest.mark.parametrize(
    ("message", "code", "fragment"),
    [
        ("not json", ErrorCode.MALFORMED, "not JSON"),
        ("[1, 2]", ErrorCode.MALFORMED, "not a message"),
        ({"payload": {}}, ErrorCode.MALFORMED, "type: Field required"),
        ({"type": "ticks.subscribe", "payload": {}, "extra": 1}, ErrorCode.MALFORMED, "extra: Extra inputs"),
        ({"type": "nope.subscribe", "payload": {}}, ErrorCode.UNKNOWN_TYPE, "ticks.subscribe, ticks.unsubscribe"),
        ({"type": "ticks.publish", "payload": {}}, ErrorCode.UNKNOWN_TYPE, "'ticks.publish'"),
        ({"type": "ticks.subscribe", "payload": {}}, ErrorCode.INVALID_PARAMS, "symbol: Field required"),
        ({"type": "ticks.subscribe", "payload": {"symbol": 5}}, ErrorCode.INVALID_PARAMS, "symbol: Input should be"),
        ({"type": "ticks.subscribe", "payload": {"symbol": "bad"}}, ErrorCode.INVALID_PARAMS, "unknown symbol 'BAD'"),
        ({"type": "ticks.unsubscribe", "payload": {"symbol": "X"}}, ErrorCode.NOT_SUBSCRIBED, "not subscribed"),
        ("x" * 70_000, ErrorCode.TOO_LARGE, "at most 65536 bytes"),
        # 5,000 levels fit in 10 kB and raised RecursionError in the hub, closing the socket with 1011.
        ("[" * 5_000 + "]" * 5_000, ErrorCode.MALFORMED, "nested too deeply"),
        ('{"type": "ticks.subscribe", "payload": ' + "[" * 5_000 + "]" * 5_000 + "}", ErrorCode.MALFORMED, "nested"),
    ],
)
def test_bad_messages_get_an_error_and_the_socket_stays_open(message: object, code: ErrorCode, fragment: str) -> None:
    async def test() -> None:
        source = Source()
        app, hub = make_app(source)
        client = await connected(app)
        sent = {**message, "id": 41} if isinstance(message, dict) else message
        error = await client.request(sent)
        assert error["type"] == "error"
        assert error["payload"]["code"] == code
        assert fragment in error["payload"]["message"]
        assert error.get("id") == (41 if isinstance(message, dict) else None)
        assert source.started == []
        # Still open and working.
        await client.subscribe("AAPL")
        await source.publish("AAPL", 1)
        assert (await client.receive())["type"] == "ticks.update"
        assert hub.connections == 1
        await client.disconnect()

    run(test)


def test_binary_frames_are_refused_and_the_socket_stays_open() -> None:
    async def test() -> None:
        app, _ = make_app(Source())
        client = await connected(app)
        client.to_app.put_nowait({"type": "websocket.receive", "bytes": b'{"type": "ticks.subscribe"}'})
        error = await client.receive()
        assert error["payload"] == {"code": "malformed", "message": "send each message as JSON in a text frame"}
        await client.subscribe("AAPL")
        await client.disconnect()

    run(test)


def test_subscriptions_per_connection_are_bounded() -> None:
    async def test() -> None:
        source = Source()
        app, _ = make_app(source, limits=StreamLimits(max_subscriptions=2))
        client = await connected(app)
        await client.subscribe("A")
        await client.subscribe("B")
        error = await client.request({"type": "ticks.subscribe", "payload": {"symbol": "C"}})
        assert error["payload"]["code"] == ErrorCode.TOO_MANY_SUBSCRIPTIONS
        assert source.started == [("A", None), ("B", None)]
        await client.request({"type": "ticks.unsubscribe", "payload": {"symbol": "A"}})
        await client.subscribe("C")
        await client.disconnect()

    run(test)


def test_feeds_per_endpoint_are_bounded_for_all_clients() -> None:
    async def test() -> None:
        source = Source()
        app, hub = make_app(source, limits=StreamLimits(max_feeds=2))
        first, second = await connected(app), await connected(app)
        await first.subscribe("A")
        await second.subscribe("B")
        error = await second.request({"type": "ticks.subscribe", "id": 9, "payload": {"symbol": "C"}})
        assert error["id"] == 9
        assert error["payload"]["code"] == ErrorCode.TOO_MANY_SUBSCRIPTIONS
        assert "most feeds (2)" in error["payload"]["message"]
        # A topic that already runs costs no feed: still accepted.
        assert (await second.subscribe("A"))["topic"] == 'ticks:{"symbol":"A"}'
        assert source.started == [("A", None), ("B", None)]
        assert len(hub.feeds()) == 2
        await first.disconnect()
        await second.request({"type": "ticks.unsubscribe", "payload": {"symbol": "B"}})
        await second.subscribe("C")  # room again
        await second.disconnect()

    run(test)


def test_a_feed_that_ends_or_fails_tells_its_subscribers() -> None:
    async def test() -> None:
        source = Source()
        app, hub = make_app(source)
        client = await connected(app)
        await client.subscribe("AAPL")
        await client.subscribe("MSFT")
        await source.publish("AAPL", END)
        ended = await client.receive()
        assert ended == {
            "type": "error",
            "topic": 'ticks:{"symbol":"AAPL"}',
            "payload": {"code": "feed-ended", "message": "the feed has no more updates"},
        }
        await source.publish("MSFT", RuntimeError("upstream broke"))
        failed = await client.receive()
        assert (failed["topic"], failed["payload"]["code"]) == ('ticks:{"symbol":"MSFT"}', "feed-failed")
        assert "upstream broke" not in failed["payload"]["message"]  # internals stay in the log
        assert hub.feeds() == []
        # The subscription is gone with its feed: unsubscribing is an error, subscribing restarts it.
        error = await client.request({"type": "ticks.unsubscribe", "payload": {"symbol": "AAPL"}})
        assert error["payload"]["code"] == ErrorCode.NOT_SUBSCRIBED
        await client.subscribe("AAPL")
        assert source.started.count(("AAPL", None)) == 2
        await client.disconnect()

    run(test)


# --- the overflow policy -----------------------------------------------------------------------


def test_a_slow_reader_is_told_how_many_updates_it_lost() -> None:
    async def test() -> None:
        source = Source()
        app, hub = make_app(source, limits=StreamLimits(queue_size=2, max_dropped=100))
        client = await connected(app)
        await client.subscribe("AAPL")
        client.reading.clear()
        # Update 1 is being written (blocked); 2..5 queue up in a queue of 2, so 2 and 3 are dropped.
        await source.publish("AAPL", 1, 2, 3, 4, 5)
        client.reading.set()
        await settle()
        received = client.pending()
        assert [m["payload"].get("n") for m in received] == [1, None, 4, 5]
        assert received[1] == {
            "type": "error",
            "payload": {
                "code": "overflow",
                "message": "2 messages were dropped because this client reads too slowly",
                "dropped": 2,
            },
        }
        assert hub.connections == 1  # told, not closed
        await client.disconnect()

    run(test)


def test_a_client_that_stops_reading_is_closed_and_never_delays_the_others() -> None:
    async def test() -> None:
        source = Source()
        limits = StreamLimits(queue_size=4, max_dropped=8, close_timeout=5)
        app, hub = make_app(source, limits=limits)
        fast, slow = await connected(app), await connected(app)
        await fast.subscribe("AAPL")
        await slow.subscribe("AAPL")
        slow.reading.clear()
        sizes = []
        for n in range(1, 31):
            await source.publish("AAPL", n)
            sizes.append(len(fast.pending()))
        # The fast client got every update as it was published, in order, none dropped.
        assert sizes == [1] * 30
        # The slow one was closed after 8 drops in a row.
        assert slow.task is not None
        assert not slow.task.done()  # waiting to hand over its close frame
        assert [f.subscribers for f in hub.feeds()] == [1]
        slow.reading.set()
        close = await slow.raw()
        assert close == {
            "type": "websocket.close",
            "code": CLOSE_TOO_SLOW,
            "reason": "too slow: 8 messages dropped in a row",
        }
        await asyncio.wait_for(slow.task, 5)
        assert hub.connections == 1
        await source.publish("AAPL", 31)
        assert [m["payload"]["n"] for m in fast.pending()] == [31]
        await fast.disconnect()

    run(test)


def test_a_client_that_never_takes_its_close_frame_is_let_go() -> None:
    async def test() -> None:
        source = Source()
        app, hub = make_app(source, limits=StreamLimits(queue_size=1, max_dropped=2, close_timeout=0.05))
        slow = await connected(app)
        await slow.subscribe("AAPL")
        slow.reading.clear()
        await source.publish("AAPL", 1, 2, 3, 4)
        assert slow.task is not None
        await asyncio.wait_for(slow.task, 5)
        assert (hub.connections, hub.feeds()) == (0, [])
        assert source.stopped == [("AAPL", None)]

    run(test)


def test_replies_are_never_dropped_and_a_flooding_client_is_not_read_further() -> None:
    async def test() -> None:
        source = Source()
        app, _ = make_app(source, limits=StreamLimits(queue_size=3))
        client = await connected(app)
        client.reading.clear()
        for i in range(10):
            client.to_app.put_nowait({"type": "websocket.receive", "text": json.dumps({"type": "x", "id": i})})
        await settle()
        # One reply being written, three queued, one request waiting for room; the rest wait unread.
        assert client.to_app.qsize() == 10 - 5
        client.reading.set()
        await settle()
        replies = client.pending()
        assert [r["id"] for r in replies] == list(range(10))
        assert {r["payload"]["code"] for r in replies} == {"unknown-type"}
        await client.disconnect()

    run(test)


def test_the_outbox_stays_bounded_whatever_is_pushed() -> None:
    async def test() -> None:
        slow: list[int] = []
        outbox = Outbox(size=4, max_dropped=50, on_too_slow=lambda: slow.append(outbox.dropped))
        for n in range(1_000):
            outbox.push(str(n))
            assert len(outbox) <= 4
        assert (outbox.total_dropped, slow) == (996, [50])
        await outbox.reply("reply")  # a reply takes the place of the oldest update
        assert (len(outbox), outbox.total_dropped) == (4, 997)
        texts = [await outbox.get(lambda n: f"dropped {n}") for _ in range(5)]
        assert texts == ["dropped 997", "997", "998", "999", "reply"]
        outbox.delivered()
        assert outbox.dropped == 0

    run(test)


# --- authentication ----------------------------------------------------------------------------


async def by_header(websocket: WebSocket) -> Identity | None:
    account = websocket.headers.get("x-account")
    if account == "nobody":
        raise StreamRefused(401, "the token is not valid")
    return Identity(account) if account else None


def test_refused_handshake_gets_the_status_and_detail() -> None:
    async def test() -> None:
        app, hub = make_app(Source(), authenticate=by_header)
        client = Client(app, headers={"x-account": "nobody"})
        start = await client.connect()
        assert (start["type"], start["status"]) == ("websocket.http.response.start", 401)
        body = await client.raw()
        assert json.loads(body["body"]) == {"detail": "the token is not valid"}
        # A server without the denial-response extension gets a 1008 close instead.
        plain = Client(app, headers={"x-account": "nobody"}, denial=False)
        assert await plain.connect() == {"type": "websocket.close", "code": 1008, "reason": "the token is not valid"}
        assert hub.connections == 0

    run(test)


def test_per_identity_routes_keep_each_account_to_its_own_feed() -> None:
    async def test() -> None:
        source = Source()
        app, hub = make_app(source, authenticate=by_header)
        alice, alice_again, bob = [
            await connected(app, headers={"x-account": name}) for name in ("alice", "alice", "bob")
        ]
        anonymous = await connected(app)
        for client in (alice, alice_again, bob):
            await client.subscribe("AAPL", route="orders")
        assert source.started == [("AAPL", "alice"), ("AAPL", "bob")]
        assert sorted((f.account, f.subscribers) for f in hub.feeds()) == [("alice", 2), ("bob", 1)]
        await source.publish("AAPL", 1, account="alice")
        await source.publish("AAPL", 2, account="bob")
        assert [m["payload"]["n"] for m in alice.pending()] == [1]
        assert [m["payload"]["n"] for m in alice_again.pending()] == [1]
        assert [m["payload"]["n"] for m in bob.pending()] == [2]
        error = await anonymous.request({"type": "orders.subscribe", "payload": {"symbol": "AAPL"}})
        assert error["payload"]["code"] == ErrorCode.UNAUTHENTICATED
        # Shared routes stay shared whoever asks, and their feeds are not told who asked.
        await alice.subscribe("MSFT")
        await anonymous.subscribe("MSFT")
        assert source.started[-1] == ("MSFT", None)
        assert [f.subscribers for f in hub.feeds() if f.account is None] == [2]
        for client in (alice, alice_again, bob, anonymous):
            await client.disconnect()
        assert hub.feeds() == []

    run(test)


# --- the hub's own API -------------------------------------------------------------------------


def test_close_ends_every_connection_and_feed() -> None:
    async def test() -> None:
        source = Source()
        app, hub = make_app(source)
        client = await connected(app)
        await client.subscribe("AAPL")
        [feed] = hub.feeds()
        await hub.close()
        assert feed.task.done()
        assert await client.raw() == {"type": "websocket.close", "code": 1001, "reason": "the server is shutting down"}
        assert client.task is not None
        await asyncio.wait_for(client.task, 5)
        assert (hub.connections, hub.feeds(), source.stopped) == (0, [], [("AAPL", None)])

    run(test)


def test_routes_are_discoverable_with_their_models() -> None:
    source = Source()
    router, hub = make_app(source, path="/ws")
    assert stream_hubs(router) == {"/ws": hub}
    assert stream_hubs(APIRouter()) == {}
    assert list(hub.routes) == ["ticks", "orders"]
    messages = hub.routes["ticks"].messages()
    assert list(messages) == [
        "ticks.subscribe",
        "ticks.subscribe.response",
        "ticks.unsubscribe",
        "ticks.unsubscribe.response",
        "ticks.update",
    ]
    assert (messages["ticks.subscribe"], messages["ticks.update"]) == (TickParams, Tick)


def test_bad_definitions_are_refused() -> None:
    source = Source()
    with pytest.raises(ValueError, match="no dots"):
        StreamRoute("ticks.fast", TickParams, Tick, source.feed)
    with pytest.raises(ValueError, match="two stream routes are named 'ticks'"):
        StreamHub([*routes(source), routes(source)[0]])
    with pytest.raises(ValueError, match="queue_size must be 1 or more"):
        StreamLimits(queue_size=0)
    with pytest.raises(ValueError, match="close_timeout must be positive"):
        StreamLimits(close_timeout=0)
    with pytest.raises(ValueError, match="max_feeds must be 1 or more"):
        StreamLimits(max_feeds=0)
