"""Broker API v1 streams at /ws: the default account's orders, positions, executions and equity,
each update the body v1's REST endpoints answer for the same object."""

from __future__ import annotations

import asyncio
import math
import re
import time
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from starlette.testclient import WebSocketDenialResponse

from trading_broker import AccountSummary, BrokerEvent, BrokerModule, BrokerSettings, EventHub
from trading_broker.api._streams import latest_every
from trading_broker.api.v1 import BrokerApi
from trading_broker.api.v2 import BrokerApi as BrokerApiV2
from trading_core import ModuleContext
from trading_core.streams import stream_hubs

V1 = "/api/v1/broker"
V2 = "/api/v2/broker"
WS = f"{V1}/ws"
LIMIT = {"symbol": "AAPL", "quantity": 10, "order_type": "LIMIT", "limit_price": 90}


def test_orders_push_placing_modifying_canceling_and_filling(stream_client, streams, tape):
    with stream_client.websocket_connect(WS) as ws:
        reply = streams.subscribe(ws, "orders")
        assert reply == {
            "type": "orders.subscribe.response",
            "topic": 'orders:{"symbol":null}',
            "id": "sub-orders",
            "payload": {"params": {"symbol": None}},
        }

        placed = stream_client.post(f"{V1}/orders", json=LIMIT).json()
        assert placed["status"] == "working"
        assert streams.updates(ws) == [placed]

        modified = stream_client.patch(f"{V1}/orders/{placed['id']}", json={"limit_price": 95}).json()
        assert modified["limit_price"] == 95
        assert streams.updates(ws) == [modified]

        canceled = stream_client.delete(f"{V1}/orders/{placed['id']}").json()
        assert canceled["status"] == "canceled"
        assert streams.updates(ws) == [canceled]

        second = stream_client.post(f"{V1}/orders", json={**LIMIT, "limit_price": 99}).json()
        assert streams.updates(ws) == [second]
        tape.prices["AAPL"] = 98.0  # the background check fills it at the next look
        stream_client.portal.call(streams.module.matcher.tick)
        [filled] = streams.updates(ws)
        assert filled == stream_client.get(f"{V1}/orders/{second['id']}").json()
        assert (filled["id"], filled["status"]) == (second["id"], "filled")

        # v1 records an order it cannot execute as rejected: an update too.
        rejected = stream_client.post(f"{V1}/orders", json={"symbol": "NOPE", "quantity": 1}).json()
        assert rejected["status"] == "rejected"
        assert streams.updates(ws) == [rejected]

        ws.send_json({"type": "orders.unsubscribe", "payload": {}})
        assert ws.receive_json()["type"] == "orders.unsubscribe.response"
        stream_client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1})
        assert streams.updates(ws) == []


def test_a_fill_pushes_the_execution_the_position_and_the_equity(stream_client, streams, tape):
    with stream_client.websocket_connect(WS) as ws:
        topics = {route: streams.subscribe(ws, route)["topic"] for route in ("orders", "executions", "positions")}
        topics["equity"] = streams.subscribe(ws, "equity")["topic"]
        assert topics["equity"] == "equity:{}"

        bought = stream_client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 10}).json()
        messages = streams.sync(ws)
        assert {m["type"]: m["topic"] for m in messages} == {f"{r}.update": t for r, t in topics.items()}
        update = {m["type"].removesuffix(".update"): m["payload"] for m in messages}
        assert len(messages) == 4
        assert update["orders"] == bought
        assert [update["executions"]] == stream_client.get(f"{V1}/executions").json()
        assert [update["positions"]] == stream_client.get(f"{V1}/positions").json()
        assert update["equity"] == stream_client.get(f"{V1}/account").json()
        assert update["positions"]["quantity"] == 10

        # The price moves: the background check values the account again.
        tape.prices["AAPL"] = 110.0
        stream_client.portal.call(streams.module.matcher.tick)
        assert streams.updates(ws) == [{"account": "default", "balance": 100_000.0, "equity": 100_100.0}]
        stream_client.portal.call(streams.module.matcher.tick)
        assert streams.updates(ws) == []  # nothing moved: nothing sent

        # Selling it all closes the position (quantity 0) and realises the profit.
        stream_client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 10, "side": "SELL"})
        closed = streams.updates(ws, "positions")
        assert [(p["symbol"], p["quantity"]) for p in closed] == [("AAPL", 0)]
        assert stream_client.get(f"{V1}/positions").json() == []
        assert streams.updates(ws) == []
        equity = stream_client.get(f"{V1}/account").json()
        assert equity == {"account": "default", "balance": 100_100.0, "equity": 100_100.0}


def test_a_symbol_filter_is_its_own_topic(stream_client, streams):
    with stream_client.websocket_connect(WS) as ws:
        reply = streams.subscribe(ws, "executions", {"symbol": " msft"})
        assert (reply["topic"], reply["payload"]) == ('executions:{"symbol":"MSFT"}', {"params": {"symbol": "MSFT"}})
        stream_client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1})
        msft = stream_client.post(f"{V1}/orders", json={"symbol": "MSFT", "quantity": 2}).json()
        [execution] = streams.updates(ws)
        assert (execution["order_id"], execution["symbol"], execution["quantity"]) == (msft["id"], "MSFT", 2)


@pytest.mark.parametrize(
    ("message", "fragment"),
    [
        ({"type": "orders.subscribe", "payload": {"symbol": "NOPE"}}, "unknown symbol 'NOPE'; the broker trades AAPL"),
        ({"type": "positions.subscribe", "payload": {"account": "other"}}, "account: Extra inputs are not permitted"),
        ({"type": "equity.subscribe", "payload": {"symbol": "AAPL"}}, "symbol: Extra inputs are not permitted"),
        ({"type": "quotes.subscribe", "payload": {}}, "equity.subscribe"),
    ],
)
def test_bad_subscriptions_get_an_error_and_the_socket_stays_open(stream_client, streams, message, fragment):
    with stream_client.websocket_connect(WS) as ws:
        ws.send_json({**message, "id": 7})
        error = ws.receive_json()
        assert (error["type"], error["id"]) == ("error", 7)
        assert fragment in error["payload"]["message"]
        streams.subscribe(ws, "orders")


def test_equal_subscriptions_share_one_feed_that_stops_with_the_last(stream_client, streams):
    idle = {"connections": 0, "feeds": 0, "event_subscriptions": 0}
    assert streams.running(stream_client) == idle
    with stream_client.websocket_connect(WS) as first, stream_client.websocket_connect(WS) as second:
        one = streams.subscribe(first, "orders", {"symbol": "aapl"})
        other = streams.subscribe(second, "orders", {"symbol": "AAPL "})
        assert one["topic"] == other["topic"]
        assert streams.running(stream_client) == {"connections": 2, "feeds": 1, "event_subscriptions": 1}
        placed = stream_client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1}).json()
        assert streams.updates(first) == streams.updates(second) == [placed]

        first.send_json({"type": "orders.unsubscribe", "payload": {"symbol": "AAPL"}})
        assert first.receive_json()["type"] == "orders.unsubscribe.response"
        assert streams.running(stream_client) == {"connections": 2, "feeds": 1, "event_subscriptions": 1}
        streams.subscribe(first, "equity")
        assert streams.running(stream_client) == {"connections": 2, "feeds": 2, "event_subscriptions": 2}
    # Both gone without unsubscribing: their feeds stop and let go of the service's events.
    streams.wait_until(stream_client, idle)


def test_v1_and_v2_of_the_default_account_see_each_others_orders(stream_client, streams):
    with stream_client.websocket_connect(WS) as ws:
        streams.subscribe(ws, "orders")
        placed = stream_client.post(
            f"{V2}/orders", json={"symbol": "AAPL", "quantity": 1}, headers={"Authorization": "Bearer test_token"}
        ).json()
        [update] = streams.updates(ws)
        assert update == {key: placed[key] for key in update}
        assert update == stream_client.get(f"{V1}/orders/{placed['id']}").json()


@pytest.mark.parametrize(
    ("origins", "origin", "allowed"),
    [
        ([], "https://evil.example", False),
        ([], "http://testserver", True),  # the page the server itself serves
        (["https://app.example"], "https://APP.example/", True),
        (["https://app.example"], "https://evil.example", False),
        (["*"], "https://evil.example", True),
    ],
)
def test_pages_of_other_sites_cannot_open_the_unauthenticated_streams(serving, sqlite_url, origins, origin, allowed):
    settings = {"database_url": sqlite_url, "stream_origins": origins}
    with serving(BrokerModule(ModuleContext(settings=settings))) as client:
        if allowed:
            with client.websocket_connect(WS, headers={"origin": origin}) as ws:
                ws.send_json({"type": "orders.subscribe"})
                assert ws.receive_json()["type"] == "orders.subscribe.response"
        else:
            with (
                pytest.raises(WebSocketDenialResponse) as refused,
                client.websocket_connect(WS, headers={"origin": origin}),
            ):
                pass
            assert refused.value.status_code == 403
            assert "add the origin to stream_origins" in refused.value.json()["detail"]
        # Clients that are not browsers send no Origin.
        with client.websocket_connect(WS) as ws:
            ws.send_json({"type": "equity.subscribe"})
            assert ws.receive_json()["type"] == "equity.subscribe.response"


def test_stream_settings_are_checked():
    with pytest.raises(ValidationError, match=re.escape("'app.example' is not an origin: write scheme://host")):
        BrokerSettings.model_validate({"stream_origins": ["app.example"]})
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        BrokerSettings.model_validate({"equity_interval": -1})
    settings = BrokerSettings.model_validate({"stream_origins": ["https://App.example/"], "stream_queue_size": "8"})
    assert (settings.stream_origins, settings.stream_queue_size, settings.equity_interval) == (
        ["https://app.example"],
        8,
        1.0,
    )


def test_the_stream_routes_are_discoverable_with_their_models(stream_module):
    [hub] = stream_hubs(BrokerApi(stream_module)).values()
    assert list(hub.routes) == ["orders", "positions", "executions", "equity"]
    messages = hub.routes["orders"].messages()
    assert messages["orders.update"].__name__ == "PlacedOrder"
    assert hub.routes["equity"].messages()["equity.update"].__name__ == "AccountBalance"
    assert not any(route.per_identity for route in hub.routes.values())


# -- the equity rate limit


def _equity(value: float) -> BrokerEvent:
    at = datetime(2025, 1, 6, tzinfo=UTC)
    return BrokerEvent("equity", "a", AccountSummary("a", value, 0.0, 0.0, value, 0, at), at, "valued")


def _equity_of(event: BrokerEvent) -> float:
    assert isinstance(event.subject, AccountSummary), event
    return event.subject.equity


@pytest.mark.anyio
async def test_equity_updates_are_rate_limited_keeping_the_latest():
    hub = EventHub()
    received: list[tuple[float, float]] = []
    loop = asyncio.get_running_loop()
    async with hub.subscribe("a") as events:

        async def consume() -> None:
            async for event in latest_every(events, 0.2):
                assert isinstance(event.subject, AccountSummary)
                received.append((event.subject.equity, loop.time()))

        task = asyncio.create_task(consume())
        start = loop.time()
        for value in (1, 2, 3):  # a burst of fills
            hub.publish(_equity(value))
        await asyncio.sleep(0.05)
        assert [value for value, _ in received] == [1]  # the first at once
        await asyncio.sleep(0.3)
        assert [value for value, _ in received] == [1, 3]  # then only the latest, once the interval ended
        assert received[1][1] - start >= 0.2
        await asyncio.sleep(0.2)
        hub.publish(_equity(4))  # after a quiet spell: at once again
        await asyncio.sleep(0.05)
        assert [value for value, _ in received] == [1, 3, 4]
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


@pytest.mark.anyio
async def test_a_rate_limited_stream_ends_with_its_subscription_and_sends_what_it_held():
    hub = EventHub()
    events = hub.subscribe("a")
    hub.publish(_equity(1))
    iterator = latest_every(events, 10)
    assert _equity_of(await anext(iterator)) == 1
    hub.publish(_equity(2))
    events.close()
    # The subscription ends while an update waits for its interval: it goes out, then the end.
    assert [_equity_of(e) async for e in iterator] == [2]


@pytest.mark.anyio
async def test_the_modules_shutdown_closes_the_stream_endpoints_of_both_versions(sqlite_url):
    module = BrokerModule(ModuleContext(settings={"database_url": sqlite_url}))
    apis = [BrokerApi(module), BrokerApiV2(module)]
    hubs = [hub for api in apis for hub in stream_hubs(api).values()]
    assert module.stream_hubs == hubs
    closed: list[object] = []
    for hub in hubs:
        real = hub.close

        async def close(real=real, hub=hub) -> None:
            closed.append(hub)
            await real()

        hub.close = close  # type: ignore[method-assign]
    async with module.lifespan():
        assert closed == []
        assert (await module.health())["streams"] == {"connections": 0, "feeds": 0}
    assert closed == hubs


def test_a_burst_of_fills_gives_rate_limited_equity_updates_ending_with_the_latest(serving, sqlite_url, tape):
    interval = 0.5
    settings = {"database_url": sqlite_url, "equity_interval": interval, "match_interval": 3600}
    module = BrokerModule(ModuleContext(settings=settings), prices=tape)
    with serving(module) as client, client.websocket_connect(WS) as ws:
        client.portal.call(module.matcher.stop)
        ws.send_json({"type": "equity.subscribe"})
        assert ws.receive_json()["type"] == "equity.subscribe.response"
        start = time.monotonic()
        for price in (100.0, 101.0, 102.0, 103.0, 104.0):
            tape.prices["AAPL"] = price  # each fill at another price: five different equities
            client.post(f"{V1}/orders", json={"symbol": "AAPL", "quantity": 1})
        account = client.get(f"{V1}/account").json()
        received: list[dict[str, object]] = []
        deadline = time.monotonic() + 5
        while not received or received[-1] != account:
            assert time.monotonic() < deadline, received
            time.sleep(0.05)
            ws.send_json({"type": "sync", "id": "sync"})
            while (message := ws.receive_json()).get("id") != "sync":
                received.append(message["payload"])
        elapsed = time.monotonic() - start
        # The first at once, then at most one per interval, the last being the present value.
        assert 2 <= len(received) <= 1 + math.ceil(elapsed / interval), (len(received), elapsed)
        assert account["equity"] == 100_000 + 5 * 104 - (100 + 101 + 102 + 103 + 104)
