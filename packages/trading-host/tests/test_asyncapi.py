"""AsyncAPI 3.0 documents of module versions' streams: their content, their validity (the official
JSON Schema), the messages on the wire against them, and where the app serves them."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient
from host_fakes import factory_for
from host_streams import ClashV1, QuietV1, TickerModule, TickerV1, TickerV2

from trading_core.core.api.v1 import CoreApi
from trading_host import ConfigError, Installed
from trading_host._contracts._committed import render
from trading_host._contracts._validation import asyncapi_errors
from trading_host._documents._asyncapi import module_asyncapi

CONFIG = """
[matrix.v1]
ticker = "v1"
quiet = "v1"

[matrix.v2]
ticker = "v2"
quiet = "v1"
"""


def api(cls: type[Any]) -> Any:
    return cls(cls.module())


def installed(*apis: type[Any]) -> Installed:
    return Installed.from_apis([CoreApi, *apis], distribution="trading-ticker")


def payload_validator(document: dict[str, Any], channel: str, message_type: str) -> jsonschema.Draft7Validator:
    """A validator of one message's frames: its payload schema, with the document's components
    beside it so that its ``#/components/schemas/...`` references resolve."""
    schema = document["channels"][channel]["messages"][message_type]["payload"]
    return jsonschema.Draft7Validator({**schema, "components": document["components"]})


def test_a_module_version_without_streams_has_no_document() -> None:
    assert module_asyncapi(api(QuietV1)) is None


def test_the_document_describes_every_message_of_every_route() -> None:
    document = module_asyncapi(api(TickerV1))
    assert document is not None

    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"] == "Trading API: ticker v1 streams"
    assert document["info"]["version"] == "v1"
    assert "Prices, streamed." in document["info"]["description"]
    channel = document["channels"]["ws"]
    assert channel["address"] == "/ws"
    assert set(channel["messages"]) == {
        "error",
        *(
            f"{r}.{m}"
            for r in ("ticks", "balances")
            for m in ("subscribe", "subscribe.response", "unsubscribe", "unsubscribe.response", "update")
        ),
    }
    operations = document["operations"]
    assert set(operations) == {
        "error",
        *(f"{r}.{m}" for r in ("ticks", "balances") for m in ("subscribe", "unsubscribe", "update")),
    }
    subscribe = operations["ticks.subscribe"]
    assert subscribe["action"] == "receive"  # the document describes the server
    assert subscribe["messages"] == [{"$ref": "#/channels/ws/messages/ticks.subscribe"}]
    assert subscribe["reply"]["messages"] == [
        {"$ref": "#/channels/ws/messages/ticks.subscribe.response"},
        {"$ref": "#/channels/ws/messages/error"},
    ]
    assert subscribe["description"].startswith("Prices of one symbol")
    assert operations["ticks.update"]["action"] == "send"
    assert "per account" in operations["balances.update"]["description"]
    assert "per account" not in operations["ticks.update"]["description"]
    assert channel["x-stream-limits"]["max_subscriptions"] == 100
    assert "authentication hook" in channel["description"]
    schemas = document["components"]["schemas"]
    assert {"TickParams", "Tick", "Balance", "NoParams", "ErrorPayload", "ErrorCode", "SubscriptionPayload"} <= set(
        schemas
    )
    assert schemas["Tick"]["description"] == "One price of one symbol."
    assert "overflow" in schemas["ErrorCode"]["enum"]


def test_envelopes_state_what_is_required_and_what_the_server_rejects() -> None:
    document = module_asyncapi(api(TickerV1))
    assert document is not None
    messages = document["channels"]["ws"]["messages"]

    ticks = messages["ticks.subscribe"]["payload"]
    assert ticks["required"] == ["type", "payload"]  # TickParams has a required field
    assert ticks["additionalProperties"] is False  # the server rejects unknown keys
    assert ticks["properties"]["payload"] == {"$ref": "#/components/schemas/TickParams"}
    assert messages["balances.subscribe"]["payload"]["required"] == ["type"]  # nothing to send
    update = messages["ticks.update"]["payload"]
    assert update["required"] == ["type", "topic", "payload"]
    assert "id" not in update["properties"]
    assert messages["ticks.subscribe.response"]["correlationId"]["location"] == "$message.payload#/id"


def test_the_document_validates_and_a_broken_one_does_not() -> None:
    document = module_asyncapi(api(TickerV1))
    assert document is not None
    assert asyncapi_errors(document) == []

    bad_action = copy.deepcopy(document)
    bad_action["operations"]["ticks.update"]["action"] = "push"
    dangling = copy.deepcopy(document)
    dangling["operations"]["ticks.update"]["messages"] = [{"$ref": "#/channels/ws/messages/ticks.nothing"}]
    no_address_type = copy.deepcopy(document)
    no_address_type["channels"]["ws"]["address"] = 7

    assert any("operations/ticks.update" in e for e in asyncapi_errors(bad_action))
    assert any("ticks.nothing points at nothing" in e for e in asyncapi_errors(dangling))
    assert asyncapi_errors(no_address_type)


def test_two_endpoints_are_two_channels_with_distinct_operation_ids() -> None:
    document = module_asyncapi(api(TickerV2))
    assert document is not None

    assert {c: document["channels"][c]["address"] for c in document["channels"]} == {
        "ws": "/ws",
        "private_ws": "/private/ws",
    }
    assert "ws.ticks.subscribe" in document["operations"]
    assert "private_ws.balances.subscribe" in document["operations"]
    assert document["operations"]["private_ws.error"]["channel"] == {"$ref": "#/channels/private_ws"}
    assert asyncapi_errors(document) == []


def test_the_document_is_the_same_text_every_time() -> None:
    first = module_asyncapi(api(TickerV1))
    TickerModule.description = "Prices, streamed."  # a fresh instance, same code
    second = module_asyncapi(api(TickerV1))
    assert first is not None
    assert second is not None

    assert render(first) == render(second)
    assert json.loads(render(first)) == first


def test_the_app_serves_the_document_next_to_the_stream_endpoint(config_file: Any) -> None:
    factory = factory_for(installed(TickerV1, TickerV2, QuietV1), config=config_file(CONFIG))
    expected = {v: module_asyncapi(api(cls)) for v, cls in (("v1", TickerV1), ("v2", TickerV2))}

    with TestClient(factory.create_app()) as client:
        v1 = client.get("/api/v1/ticker/asyncapi.json")
        v2 = client.get("/api/v2/ticker/asyncapi.json")
        quiet = client.get("/api/v1/quiet/asyncapi.json")
        symbols = client.get("/api/v1/ticker/symbols")

    assert v1.status_code == v2.status_code == 200
    assert v1.json()["servers"] == {"this": {"host": "testserver", "pathname": "/api/v1/ticker", "protocol": "ws"}}
    assert {k: v for k, v in v1.json().items() if k != "servers"} == expected["v1"]
    assert {k: v for k, v in v2.json().items() if k != "servers"} == expected["v2"]
    assert asyncapi_errors(v1.json()) == []  # with its server, still valid
    assert quiet.status_code == 404  # no streams, no document
    assert symbols.json() == ["AAPL", "MSFT"]


def test_standalone_serves_it_below_the_version(config_file: Any) -> None:
    factory = factory_for(installed(TickerV1), {"ENABLED_MODULES": "ticker", "MODULE_VERSION": "v1"})

    with TestClient(factory.create_app(), root_path="/gateway") as client:
        served = client.get("/v1/asyncapi.json")

    assert served.status_code == 200
    assert served.json()["servers"]["this"]["pathname"] == "/gateway/v1"
    assert served.json()["channels"]["ws"]["address"] == "/ws"


def test_a_module_with_streams_cannot_take_the_documents_path() -> None:
    factory = factory_for(Installed.from_apis([CoreApi, ClashV1]), {"ENABLED_MODULES": "clash"})

    with pytest.raises(ConfigError, match=r"clash v1 .* declares /asyncapi\.json"):
        factory.create_app()


def test_messages_on_the_wire_match_the_document(config_file: Any) -> None:
    factory = factory_for(installed(TickerV1, TickerV2, QuietV1), config=config_file(CONFIG))
    with TestClient(factory.create_app()) as client:
        document = client.get("/api/v1/ticker/asyncapi.json").json()
        frames: dict[str, list[dict[str, Any]]] = {}
        # Each request, then the frames it causes (a subscription: its response and first update).
        sent: list[tuple[dict[str, Any], int]] = [
            ({"type": "ticks.subscribe", "id": 1, "payload": {"symbol": "aapl"}}, 2),
            ({"type": "balances.subscribe", "id": "b"}, 2),
            ({"type": "ticks.subscribe", "id": 2, "payload": {"symbol": "nope"}}, 1),
            ({"type": "ticks.unsubscribe", "id": 3, "payload": {"symbol": "AAPL"}}, 1),
        ]
        with client.websocket_connect("/api/v1/ticker/ws?token=alice") as socket:
            for message, replies in sent:
                socket.send_json(message)
                for _ in range(replies):
                    frame = socket.receive_json()
                    frames.setdefault(frame["type"], []).append(frame)

    for message, _ in sent:
        errors = list(payload_validator(document, "ws", message["type"]).iter_errors(message))
        assert errors == [], message
    assert set(frames) == {
        "ticks.subscribe.response",
        "ticks.update",
        "balances.subscribe.response",
        "balances.update",
        "error",
        "ticks.unsubscribe.response",
    }
    for message_type, received in frames.items():
        validator = payload_validator(document, "ws", message_type)
        for frame in received:
            assert list(validator.iter_errors(frame)) == [], frame
    # and the document is strict enough to reject what the server rejects
    unknown_key = {"type": "ticks.subscribe", "payload": {"symbol": "AAPL"}, "extra": 1}
    assert list(payload_validator(document, "ws", "ticks.subscribe").iter_errors(unknown_key))
    wrong_update = {"type": "ticks.update", "topic": "t", "payload": {"symbol": "AAPL", "price": "high"}}
    assert list(payload_validator(document, "ws", "ticks.update").iter_errors(wrong_update))
