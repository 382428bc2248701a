"""AsyncAPI 3.0 documents of a module version's WebSocket streams, built from what the stream
framework exposes (``stream_hubs(api)``, each route's pydantic models), and the route serving one
next to the module version's stream endpoint (``{prefix}/asyncapi.json``).

The document describes the server: what it receives (``R.subscribe``, ``R.unsubscribe``, each with
its reply) and what it sends (``R.update``, ``error``). A message's payload schema is the whole
text frame, the envelope ``{"type", "id", "topic", "payload"}`` with the route's model as
``payload``, because that is what a client reads and writes.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from trading_core import ModuleApi, served_routes
from trading_core.streams import CLOSE_TOO_SLOW, ERROR, ErrorPayload, StreamHub, StreamRoute, stream_hubs

from .._problems import ConfigError, Problem

ASYNCAPI_VERSION = "3.0.0"
ASYNCAPI_PATH = "/asyncapi.json"
"""Where a module version's AsyncAPI document is served, relative to the module version's prefix."""

_SCHEMAS = "#/components/schemas/"
_SUBSCRIBE, _UNSUBSCRIBE = "subscribe", "unsubscribe"

_ID = {
    "description": "The client's own request id, echoed on the reply or error it causes.",
    "oneOf": [{"type": "string"}, {"type": "integer"}],
}
_TOPIC = {
    "description": (
        "The subscription a message is about: the route name and its canonical parameters as compact "
        'JSON with sorted keys, such as orders:{"symbol":"AAPL"}.'
    ),
    "type": "string",
}
_CORRELATION = {
    "description": "A reply or error carries the id of the request that caused it.",
    "location": "$message.payload#/id",
}

_PROTOCOL = (
    "Every message, in either direction, is one JSON object in a text frame: "
    '`{"type": ..., "payload": ...}`. A client may add an `id` (a string or an integer), echoed on '
    "the reply or error it causes; the server adds `topic` to every message about one subscription. "
    "Equal subscriptions share one topic and one feed. Errors never close the connection."
)


def _channel_id(path: str) -> str:
    """``/ws`` -> ``ws``, ``/feeds/ws`` -> ``feeds_ws``: a key AsyncAPI accepts for a channel."""
    return re.sub(r"[^A-Za-z0-9_]+", "_", path.strip("/")) or "root"


def _limits_text(hub: StreamHub) -> str:
    limits = hub.limits
    return (
        f"Limits per connection: at most {limits.max_subscriptions} subscriptions and {limits.max_message_bytes} "
        f"bytes per client message (a larger one gets a `too-large` error). At most {limits.queue_size} "
        "messages wait for one client; when they are full the oldest update is dropped and an `overflow` error "
        f"says how many were dropped. A client that lets {limits.max_dropped} updates be dropped in a row is "
        f"closed with code {CLOSE_TOO_SLOW}."
    )


def _limits(hub: StreamHub) -> dict[str, Any]:
    limits = hub.limits
    return {
        "queue_size": limits.queue_size,
        "max_dropped": limits.max_dropped,
        "max_subscriptions": limits.max_subscriptions,
        "max_message_bytes": limits.max_message_bytes,
        "close_code_too_slow": CLOSE_TOO_SLOW,
    }


def _requires_payload(model: type[BaseModel]) -> bool:
    return any(field.is_required() for field in model.model_fields.values())


class _Builder:
    """Builds one document: the payload schemas of every route of every hub come from one pydantic
    call, so that two models with one name get distinct schema names."""

    def __init__(self, hubs: dict[str, StreamHub]) -> None:
        self.hubs = hubs
        self.several = len(hubs) > 1
        wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {(ErrorPayload, "serialization"): None}
        for hub in hubs.values():
            for route in hub.routes.values():
                for message_type, model in route.messages().items():
                    wanted[(model, self._mode(message_type))] = None
        # Clients send the parameters (validated: "validation" mode); the server sends everything
        # else (serialised: "serialization" mode).
        refs, definitions = models_json_schema(list(wanted), ref_template=_SCHEMAS + "{model}")
        self.refs = {key: dict(value) for key, value in refs.items()}
        self.schemas = dict(sorted(definitions.get("$defs", {}).items()))

    @staticmethod
    def _mode(message_type: str) -> JsonSchemaMode:
        return "validation" if message_type.rsplit(".", 1)[-1] in (_SUBSCRIBE, _UNSUBSCRIBE) else "serialization"

    def ref(self, model: type[BaseModel], message_type: str) -> dict[str, Any]:
        return dict(self.refs[(model, self._mode(message_type))])

    def operation_id(self, channel: str, message_type: str) -> str:
        """An operation is named by its message type; with several endpoints, by the channel too."""
        return f"{channel}.{message_type}" if self.several else message_type

    def document(self, api: ModuleApi) -> dict[str, Any]:
        module = api.module
        channels: dict[str, Any] = {}
        operations: dict[str, Any] = {}
        for path, hub in sorted(self.hubs.items()):
            channel_id = _channel_id(path)
            channel_ref = {"$ref": f"#/channels/{channel_id}"}

            def message_ref(message_type: str, channel_id: str = channel_id) -> dict[str, str]:
                return {"$ref": f"#/channels/{channel_id}/messages/{message_type}"}

            messages: dict[str, Any] = {ERROR: self.error_message()}
            for route in hub.routes.values():
                messages.update(self.route_messages(route))
                for action in (_SUBSCRIBE, _UNSUBSCRIBE):
                    request = f"{route.name}.{action}"
                    operations[self.operation_id(channel_id, request)] = {
                        "action": "receive",
                        "channel": channel_ref,
                        "messages": [message_ref(request)],
                        "reply": {
                            "channel": channel_ref,
                            "messages": [message_ref(f"{request}.response"), message_ref(ERROR)],
                        },
                        "summary": f"Subscribe to {route.name}"
                        if action == _SUBSCRIBE
                        else f"Unsubscribe from {route.name}",
                        "description": self.route_text(route, action),
                    }
                update = f"{route.name}.update"
                operations[self.operation_id(channel_id, update)] = {
                    "action": "send",
                    "channel": channel_ref,
                    "messages": [message_ref(update)],
                    "summary": f"Updates of {route.name}",
                    "description": self.route_text(route, "update"),
                }
            operations[self.operation_id(channel_id, ERROR)] = {
                "action": "send",
                "channel": channel_ref,
                "messages": [message_ref(ERROR)],
                "summary": "Errors",
                "description": (
                    "An error answers a request (with its `id`), or tells the subscribers of a topic that its feed "
                    "ended or failed (with the `topic`), or that messages were dropped (`overflow`)."
                ),
            }
            channels[channel_id] = {
                "address": path,
                "title": f"{module.name} {api.version} streams",
                "description": f"{_PROTOCOL}\n\n{_limits_text(hub)}"
                + (
                    "\n\nThe handshake is checked by the module's authentication hook: a refused one is answered "
                    'with an HTTP status and `{"detail": ...}` instead of a WebSocket.'
                    if hub.authenticate is not None
                    else ""
                ),
                "messages": messages,
                "x-stream-limits": _limits(hub),
            }
        description = "\n\n".join(
            part
            for part in (
                module.description,
                f"The WebSocket streams of {module.name} API {api.version}. The host serves them at "
                f"`/api/{{global}}/{module.name}/ws`; a standalone {module.name} {api.version} at `/{api.version}/ws`.",
            )
            if part
        )
        document: dict[str, Any] = {
            "asyncapi": ASYNCAPI_VERSION,
            "info": {
                "title": f"Trading API: {module.name} {api.version} streams",
                "version": api.version,
                "description": description,
            },
            "defaultContentType": "application/json",
            "channels": channels,
            "operations": operations,
            "components": {"schemas": self.schemas},
        }
        return document

    def route_text(self, route: StreamRoute[Any, Any], part: str) -> str:
        text = {
            _SUBSCRIBE: (
                f"Starts `{route.name}.update` messages for the parameters' topic (after the response). "
                "Subscribing twice to one topic changes nothing."
            ),
            _UNSUBSCRIBE: "Stops the topic's updates; the response comes after its feed has stopped.",
            "update": f"One update of a topic of `{route.name}`.",
        }[part]
        if route.summary:
            text = f"{route.summary}\n\n{text}"
        if route.per_identity:
            text += (
                " Topics are per account: a subscriber receives only its own account's updates, and a connection "
                "without credentials gets an `unauthenticated` error."
            )
        return text

    def route_messages(self, route: StreamRoute[Any, Any]) -> dict[str, Any]:
        messages: dict[str, Any] = {}
        for message_type, model in route.messages().items():
            action = message_type.rsplit(".", 1)[-1]
            payload_ref = self.ref(model, message_type)
            if action in (_SUBSCRIBE, _UNSUBSCRIBE):
                required = ["type", "payload"] if _requires_payload(model) else ["type"]
                envelope = {
                    "type": "object",
                    "additionalProperties": False,
                    "required": required,
                    "properties": {"type": {"const": message_type}, "id": _ID, "payload": payload_ref},
                }
                summary = (
                    f"A request to subscribe to a topic of {route.name}"
                    if action == _SUBSCRIBE
                    else f"A request to unsubscribe from a topic of {route.name}"
                )
                messages[message_type] = self.message(message_type, summary, envelope, correlated=True)
            elif action == "response":
                envelope = {
                    "type": "object",
                    "required": ["type", "topic", "payload"],
                    "properties": {"type": {"const": message_type}, "topic": _TOPIC, "id": _ID, "payload": payload_ref},
                }
                summary = f"The reply to {message_type.removesuffix('.response')}: the canonical parameters"
                messages[message_type] = self.message(message_type, summary, envelope, correlated=True)
            else:
                envelope = {
                    "type": "object",
                    "required": ["type", "topic", "payload"],
                    "properties": {"type": {"const": message_type}, "topic": _TOPIC, "payload": payload_ref},
                }
                messages[message_type] = self.message(message_type, f"An update of a topic of {route.name}", envelope)
        return messages

    def error_message(self) -> dict[str, Any]:
        envelope = {
            "type": "object",
            "required": ["type", "payload"],
            "properties": {
                "type": {"const": ERROR},
                "topic": _TOPIC,
                "id": _ID,
                "payload": dict(self.refs[(ErrorPayload, "serialization")]),
            },
        }
        return self.message(
            ERROR, "An error: a stable code and a message naming the problem", envelope, correlated=True
        )

    @staticmethod
    def message(name: str, summary: str, payload: dict[str, Any], *, correlated: bool = False) -> dict[str, Any]:
        message: dict[str, Any] = {
            "name": name,
            "title": name,
            "summary": summary,
            "contentType": "application/json",
            "payload": payload,
        }
        if correlated:
            message["correlationId"] = _CORRELATION
        return message


def module_asyncapi(api: ModuleApi) -> dict[str, Any] | None:
    """The AsyncAPI 3.0 document of a module version's stream endpoints, or ``None`` when it has none.

    Channel addresses are relative to the module version (``/ws``); the served copy adds a server
    naming where it is served."""
    hubs = stream_hubs(api)
    if not hubs:
        return None
    return _Builder(hubs).document(api)


def served_asyncapi(document: dict[str, Any], request: Request, prefix: str) -> dict[str, Any]:
    """``document`` as served at ``{prefix}/asyncapi.json``: with the server it was asked from, so
    that a channel's address (``/ws``) below the server's ``pathname`` is the full URL."""
    root_path = request.scope.get("root_path", "")
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    server = {
        "host": host,
        "pathname": root_path + prefix,
        "protocol": "wss" if request.url.scheme == "https" else "ws",
    }
    return {**document, "servers": {"this": server}}


def asyncapi_routes(api: ModuleApi, prefix: str) -> list[BaseRoute]:
    """``[GET {prefix}/asyncapi.json]`` when the module version has stream endpoints, else ``[]``.

    The route goes after the module version's own routes in its dispatch target, so a request to
    one of the module's routes never tries it; a module version with streams may not declare the
    path itself (a :class:`ConfigError` says so)."""
    if not stream_hubs(api):
        return []
    for route in served_routes(api.routes):
        if route.path == ASYNCAPI_PATH:
            problem = Problem(
                "plugin-contract",
                f"{api.module.name} {api.version} ({type(api).__module__}) declares {ASYNCAPI_PATH}, where the host "
                "serves the AsyncAPI document of its streams",
                f"move that route of {type(api).__qualname__} to another path",
            )
            raise ConfigError([problem])
    built: list[dict[str, Any]] = []

    async def asyncapi(request: Request) -> Response:
        if not built:  # built on first use: most apps never serve it
            document = module_asyncapi(api)
            assert document is not None, "the module version has stream endpoints (checked above)"
            built.append(document)
        return JSONResponse(served_asyncapi(built[0], request, prefix))

    return [Route(prefix + ASYNCAPI_PATH, asyncapi, methods=["GET"], include_in_schema=False, name="asyncapi")]
