"""Broker API v2 streams at /ws: authenticated like v2's REST endpoints, each connection receiving
only its own account's orders, positions, executions and equity, in v2's wire format."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import WebSocketDenialResponse

from trading_broker.api.v2 import BrokerApi
from trading_core.streams import stream_hubs

V1 = "/api/v1/broker"
V2 = "/api/v2/broker"
WS = f"{V2}/ws"
# The conftest configures these tokens: the first for the default account, the second for "alice".
DEFAULT_TOKEN = "test_token"
ALICE_TOKEN = "alice-secret-token"
LIMIT = {"symbol": "AAPL", "quantity": 10, "order_type": "LIMIT", "limit_price": 90}


def auth(token: str = DEFAULT_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("url", "headers", "status", "fragment"),
    [
        (WS, {}, 422, "missing credentials: send 'Authorization: Bearer <token>'"),
        (WS, {"Authorization": "Bearer wrong"}, 401, "invalid bearer token"),
        (WS, {"Authorization": "Basic dGVzdF90b2tlbg=="}, 401, "invalid bearer token"),
        (WS, {"Authorization": "Bearer  "}, 401, "invalid bearer token"),
        (f"{WS}?access_token=wrong", {}, 401, "?access_token=<token>"),
        (f"{WS}?access_token=", {}, 401, "invalid bearer token"),
        (f"{WS}?token={DEFAULT_TOKEN}", {}, 422, "add ?access_token=<token> to the URL"),
        # The header, when sent, is the credential: a good query token does not rescue a bad header.
        (f"{WS}?access_token={DEFAULT_TOKEN}", {"Authorization": "Bearer wrong"}, 401, "invalid bearer token"),
    ],
)
def test_handshakes_without_a_valid_token_are_refused(stream_client, streams, url, headers, status, fragment):
    with pytest.raises(WebSocketDenialResponse) as refused, stream_client.websocket_connect(url, headers=headers):
        pass
    assert refused.value.status_code == status
    assert fragment in refused.value.json()["detail"]
    assert streams.running(stream_client)["connections"] == 0


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        (WS, auth(ALICE_TOKEN)),
        (WS, {"Authorization": f"bearer {ALICE_TOKEN}"}),
        (f"{WS}?access_token={ALICE_TOKEN}", {}),
    ],
    ids=["header", "lower-case-scheme", "query"],
)
def test_a_valid_token_in_the_header_or_the_query_opens_the_account_stream(stream_client, streams, url, headers):
    with stream_client.websocket_connect(url, headers=headers) as ws:
        streams.subscribe(ws, "orders")
        placed = stream_client.post(f"{V2}/orders", json={"symbol": "AAPL", "quantity": 1}, headers=auth(ALICE_TOKEN))
        assert [o["account"] for o in streams.updates(ws)] == [placed.json()["account"]] == ["alice"]


def sequenced(updates: list[dict[str, Any]], sequences: list[int]) -> list[dict[str, Any]]:
    """The updates without their ``sequence``, which each must have: appended to ``sequences``."""
    bodies = []
    for update in updates:
        body = dict(update)
        sequence = body.pop("sequence")
        assert isinstance(sequence, int), update
        sequences.append(sequence)
        bodies.append(body)
    return bodies


def test_orders_push_placing_modifying_canceling_and_filling(stream_client, streams, tape):
    seen: list[int] = []
    with stream_client.websocket_connect(WS, headers=auth()) as ws:
        streams.subscribe(ws, "orders")

        placed = stream_client.post(f"{V2}/orders", json=LIMIT, headers=auth()).json()
        assert sequenced(streams.updates(ws), seen) == [placed]
        modified = stream_client.patch(f"{V2}/orders/{placed['id']}", json={"quantity": 20}, headers=auth()).json()
        assert sequenced(streams.updates(ws), seen) == [modified]
        assert [s["reason"] for s in modified["status_history"]] == ["placed", "modified"]
        canceled = stream_client.delete(f"{V2}/orders/{placed['id']}", headers=auth()).json()
        assert sequenced(streams.updates(ws), seen) == [canceled]

        stop = {"symbol": "AAPL", "quantity": 5, "order_type": "STOP", "stop_price": 105}
        second = stream_client.post(f"{V2}/orders", json=stop, headers=auth()).json()
        assert sequenced(streams.updates(ws), seen) == [second]
        tape.prices["AAPL"] = 106.0
        stream_client.portal.call(streams.module.matcher.tick)
        [filled] = sequenced(streams.updates(ws), seen)
        # One number per event of the account, in order: nothing else happened in between.
        assert seen == list(range(seen[0], seen[0] + 5))
        assert filled == stream_client.get(f"{V2}/orders/{second['id']}", headers=auth()).json()
        assert (filled["status"], filled["stop_triggered"], filled["average_fill_price"]) == ("filled", True, 106.0)
        assert filled["executions"][0]["price"] == 106.0

        # A refused order (v2's strict rules) is not stored, so nothing is pushed.
        refused = stream_client.post(f"{V2}/orders", json={"symbol": "NOPE", "quantity": 1}, headers=auth())
        assert refused.status_code == 422
        assert streams.updates(ws) == []


def test_a_fill_pushes_execution_position_and_equity_as_v2_answers_them(stream_client, streams, tape):
    with stream_client.websocket_connect(WS, headers=auth()) as ws:
        for route in ("executions", "positions", "equity"):
            streams.subscribe(ws, route)
        stream_client.post(f"{V2}/orders", json={"symbol": "MSFT", "quantity": 3, "side": "SELL"}, headers=auth())
        seen: list[int] = []
        update = {m["type"].removesuffix(".update"): sequenced([m["payload"]], seen)[0] for m in streams.sync(ws)}
        assert set(update) == {"executions", "positions", "equity"}
        assert seen == [seen[0], seen[0] + 1, seen[0] + 2]  # the fill's events, after its order's
        assert [update["executions"]] == stream_client.get(f"{V2}/executions", headers=auth()).json()
        assert [update["positions"]] == stream_client.get(f"{V2}/positions", headers=auth()).json()
        assert update["equity"] == stream_client.get(f"{V2}/account", headers=auth()).json()
        assert (update["positions"]["side"], update["equity"]["open_positions"]) == ("SELL", 1)

        tape.prices["MSFT"] = 390.0  # the short gains 3 x 10
        stream_client.portal.call(streams.module.matcher.tick)
        [equity] = streams.updates(ws)
        assert equity.pop("sequence") is None  # a price move is not stored: nothing to resume
        assert equity == stream_client.get(f"{V2}/account", headers=auth()).json()
        assert (equity["balance"], equity["unrealised_pnl"], equity["equity"]) == (100_000.0, 30.0, 100_030.0)


def test_each_connection_sees_only_its_own_account(stream_client, streams, tape):
    with (
        stream_client.websocket_connect(WS, headers=auth()) as mine,
        stream_client.websocket_connect(WS, headers=auth(ALICE_TOKEN)) as hers,
        stream_client.websocket_connect(f"{V1}/ws") as v1,
    ):
        for ws in (mine, hers, v1):
            for route in ("orders", "executions", "positions", "equity"):
                streams.subscribe(ws, route)
        alice_order = stream_client.post(
            f"{V2}/orders", json={"symbol": "AAPL", "quantity": 2}, headers=auth(ALICE_TOKEN)
        ).json()
        my_order = stream_client.post(f"{V2}/orders", json={"symbol": "MSFT", "quantity": 1}, headers=auth()).json()
        tape.prices["AAPL"], tape.prices["MSFT"] = 101.0, 401.0
        stream_client.portal.call(streams.module.matcher.tick)

        hers_got = streams.sync(hers)
        assert {m["payload"]["account"] for m in hers_got} == {"alice"}
        assert [m["payload"]["id"] for m in hers_got if m["type"] == "orders.update"] == [alice_order["id"]]
        assert [m["payload"]["equity"] for m in hers_got if m["type"] == "equity.update"] == [100_000.0, 100_002.0]

        mine_got = streams.sync(mine)
        assert {m["payload"]["account"] for m in mine_got} == {"default"}
        assert [m["payload"]["id"] for m in mine_got if m["type"] == "orders.update"] == [my_order["id"]]
        assert [m["payload"]["equity"] for m in mine_got if m["type"] == "equity.update"] == [100_000.0, 100_001.0]

        # v1 follows the default account, in v1's format (no account field on orders).
        v1_got = streams.sync(v1)
        assert [m["payload"]["id"] for m in v1_got if m["type"] == "orders.update"] == [my_order["id"]]
        assert [m["payload"]["symbol"] for m in v1_got if m["type"] == "positions.update"] == ["MSFT"]


def test_topics_are_shared_per_account_and_stop_with_the_last_subscriber(stream_client, streams):
    [hub] = [h for h in streams.module.stream_hubs if "equity" in h.routes and h.routes["equity"].per_identity]
    with (
        stream_client.websocket_connect(WS, headers=auth()) as first,
        stream_client.websocket_connect(f"{WS}?access_token={DEFAULT_TOKEN}") as second,
        stream_client.websocket_connect(WS, headers=auth(ALICE_TOKEN)) as third,
    ):
        topics = {streams.subscribe(ws, "orders", {"symbol": "aapl"})["topic"] for ws in (first, second, third)}
        assert topics == {'orders:{"symbol":"AAPL"}'}  # the topic's name; the account keys the feed
        assert sorted((f.topic, f.account, f.subscribers) for f in hub.feeds()) == [
            ('orders:{"symbol":"AAPL"}', "alice", 1),
            ('orders:{"symbol":"AAPL"}', "default", 2),
        ]
        assert streams.running(stream_client) == {"connections": 3, "feeds": 2, "event_subscriptions": 2}
        first.send_json({"type": "orders.unsubscribe", "payload": {"symbol": "AAPL"}})
        assert first.receive_json()["type"] == "orders.unsubscribe.response"
        assert [(f.account, f.subscribers) for f in sorted(hub.feeds(), key=lambda f: f.account or "")] == [
            ("alice", 1),
            ("default", 1),
        ]
    streams.wait_until(stream_client, {"connections": 0, "feeds": 0, "event_subscriptions": 0})


def test_the_routes_carry_v2_models_and_are_per_account(stream_module):
    [hub] = stream_hubs(BrokerApi(stream_module)).values()
    assert list(hub.routes) == ["orders", "positions", "executions", "equity"]
    assert all(route.per_identity for route in hub.routes.values())
    assert hub.routes["orders"].messages()["orders.update"].__name__ == "PlacedOrderV2"
    assert hub.routes["equity"].messages()["equity.update"].__name__ == "AccountBalanceV2"


def test_a_client_resumes_after_the_last_sequence_it_saw_without_gap_or_repeat(stream_client, streams):
    seen: list[int] = []
    with stream_client.websocket_connect(WS, headers=auth()) as ws:
        streams.subscribe(ws, "orders")
        placed = [stream_client.post(f"{V2}/orders", json=LIMIT, headers=auth()).json() for _ in range(3)]
        assert sequenced(streams.updates(ws), seen) == placed
    # Reconnected, having seen only the first: the two it missed, then the live ones, each once.
    with stream_client.websocket_connect(WS, headers=auth()) as ws:
        reply = streams.subscribe(ws, "orders", {"since": seen[0]})
        assert reply["topic"] == f'orders:{{"since":{seen[0]},"symbol":null}}'
        replayed = [ws.receive_json()["payload"] for _ in range(2)]
        resumed: list[int] = []
        assert sequenced(replayed, resumed) == placed[1:]
        live = stream_client.post(f"{V2}/orders", json=LIMIT, headers=auth()).json()
        assert sequenced(streams.updates(ws), resumed) == [live]
        assert resumed == [seen[1], seen[2], seen[2] + 1]
        ws.send_json({"type": "orders.subscribe", "id": "bad", "payload": {"since": -1}})
        error = ws.receive_json()
        assert (error["type"], error["payload"]["code"]) == ("error", "invalid-params")
        assert "since" in error["payload"]["message"]
