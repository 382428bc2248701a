"""A stream endpoint: one WebSocket per client, topics shared by clients, one feed per topic."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ValidationError
from starlette.responses import JSONResponse
from starlette.routing import Router, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from .._routes import served_routes
from ._auth import Authenticator, Identity, StreamRefused
from ._limits import StreamLimits
from ._messages import (
    SUBSCRIBE,
    UNSUBSCRIBE,
    UPDATE,
    ClientMessage,
    ErrorCode,
    SubscriptionPayload,
    describe_errors,
    encode,
    encode_error,
)
from ._outbox import CLOSE_TOO_SLOW, Outbox
from ._route import StreamRoute, SubscriptionRefused

logger = logging.getLogger("trading_core.streams")

_TopicKey = tuple[str, str | None]
"""A topic's name and, for per-identity routes, the account it belongs to."""


@dataclass(frozen=True)
class FeedInfo:
    """A running feed, as :meth:`StreamHub.feeds` reports it."""

    topic: str
    account: str | None
    subscribers: int
    task: asyncio.Task[None]


class _Session:
    """One client connection."""

    def __init__(self, websocket: WebSocket, identity: Identity | None, limits: StreamLimits) -> None:
        self.websocket = websocket
        self.identity = identity
        self.topics: dict[_TopicKey, _Topic] = {}
        self.ended = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason = ""
        self.outbox = Outbox(limits.queue_size, limits.max_dropped, self._too_slow)

    def _too_slow(self) -> None:
        self.end(CLOSE_TOO_SLOW, f"too slow: {self.outbox.dropped} messages dropped in a row")

    def end(self, code: int, reason: str) -> None:
        """Ask the connection to close with ``code``; the first reason given wins."""
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        self.ended.set()


class _Topic:
    """One feed and the sessions subscribed to it."""

    def __init__(
        self, key: _TopicKey, route: StreamRoute[Any, Any], params: BaseModel, identity: Identity | None
    ) -> None:
        self.key = key
        self.route = route
        self.params = params
        self.identity = identity
        self.subscribers: dict[_Session, None] = {}
        # Every update of the topic is serialised once and the same text goes to every subscriber.
        self.update_prefix = f'{{"type":{json.dumps(f"{route.name}.{UPDATE}")},"topic":{json.dumps(key[0])},"payload":'
        self.task: asyncio.Task[None] | None = None


def _overflow_notice(count: int) -> str:
    message = f"{count} messages were dropped because this client reads too slowly"
    return encode_error(ErrorCode.OVERFLOW, message, dropped=count)


def _request_id(raw: object) -> str | int | None:
    found = raw.get("id") if isinstance(raw, dict) else None
    return found if isinstance(found, str | int) and not isinstance(found, bool) else None


class StreamHub:
    """The stream endpoint of one module API version (an ASGI WebSocket endpoint: :meth:`serve`).

    Clients subscribe to topics of its ``routes``; equal subscriptions share one feed, started for
    the first subscriber and cancelled (and awaited) when the last one unsubscribes or
    disconnects. ``authenticate`` is called with each WebSocket before it is accepted. ``limits``
    bound what each client may cost (see :class:`StreamLimits` and the overflow policy).
    """

    def __init__(
        self,
        routes: Sequence[StreamRoute[Any, Any]],
        *,
        authenticate: Authenticator | None = None,
        limits: StreamLimits | None = None,
    ) -> None:
        self.routes: dict[str, StreamRoute[Any, Any]] = {}
        for route in routes:
            if route.name in self.routes:
                raise ValueError(f"two stream routes are named {route.name!r}")
            self.routes[route.name] = route
        self.authenticate = authenticate
        self.limits = limits if limits is not None else StreamLimits()
        self._types = ", ".join(f"{name}.{action}" for name in self.routes for action in (SUBSCRIBE, UNSUBSCRIBE))
        self._topics: dict[_TopicKey, _Topic] = {}
        self._sessions: set[_Session] = set()

    @property
    def connections(self) -> int:
        """Open client connections."""
        return len(self._sessions)

    def feeds(self) -> list[FeedInfo]:
        """The running feeds."""
        return [
            FeedInfo(t.key[0], t.key[1], len(t.subscribers), t.task)
            for t in self._topics.values()
            if t.task is not None
        ]

    async def close(self) -> None:
        """Close every connection (code 1001) and stop every feed; for a module's shutdown."""
        for session in list(self._sessions):
            session.end(1001, "the server is shutting down")
        topics = list(self._topics.values())
        await asyncio.gather(*(self._stop(topic) for topic in topics))

    async def serve(self, websocket: WebSocket) -> None:
        """Serve one client: authenticate, accept, then read its requests and write its messages
        until it disconnects or is closed; its subscriptions end with it."""
        identity: Identity | None = None
        if self.authenticate is not None:
            try:
                identity = await self.authenticate(websocket)
            except StreamRefused as exc:
                await self._refuse(websocket, exc)
                return
        await websocket.accept()
        session = _Session(websocket, identity, self.limits)
        self._sessions.add(session)
        reader = asyncio.create_task(self._read(session))
        writer = asyncio.create_task(self._write(session))
        ended = asyncio.create_task(session.ended.wait())
        tasks = {reader, writer, ended}
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # Detach everything before the first await: a server may cancel this task again while
            # it cleans up (anyio's cancel scopes do), and nothing may stay subscribed then.
            for task in tasks:
                task.cancel()
            self._sessions.discard(session)
            stopping = self._leave_all(session)
            await asyncio.wait(tasks | stopping)
        for task in (reader, writer):
            failure = None if task.cancelled() else task.exception()
            if failure is not None:
                logger.error("stream connection failed", exc_info=failure)
                session.end(1011, "internal error")
        if session.close_code is not None:
            await self._close(websocket, session.close_code, session.close_reason)

    async def _refuse(self, websocket: WebSocket, refusal: StreamRefused) -> None:
        if "websocket.http.response" in websocket.scope.get("extensions", {}):
            response = JSONResponse({"detail": refusal.message}, status_code=refusal.status_code)
            await websocket.send_denial_response(response)
        else:
            # A close reason holds at most 123 bytes.
            await websocket.close(1008, refusal.message.encode()[:120].decode(errors="ignore"))

    async def _close(self, websocket: WebSocket, code: int, reason: str) -> None:
        # A client that stopped reading may never let the close frame out: do not wait forever.
        try:
            async with asyncio.timeout(self.limits.close_timeout):
                await websocket.close(code, reason)
        except (TimeoutError, OSError, RuntimeError, WebSocketDisconnect):
            logger.info("stream client did not take its close frame (%s)", reason)

    async def _read(self, session: _Session) -> None:
        websocket, outbox = session.websocket, session.outbox
        limit = self.limits.max_message_bytes
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                await outbox.reply(encode_error(ErrorCode.MALFORMED, "send each message as JSON in a text frame"))
            elif len(text) > limit or (len(text) * 4 > limit and len(text.encode()) > limit):
                await outbox.reply(encode_error(ErrorCode.TOO_LARGE, f"a message may hold at most {limit} bytes"))
            else:
                await self._handle(session, text)

    async def _write(self, session: _Session) -> None:
        websocket, outbox = session.websocket, session.outbox
        while True:
            text = await outbox.get(_overflow_notice)
            try:
                await websocket.send_text(text)
            except (WebSocketDisconnect, OSError):
                return  # the client is gone; the reader sees the disconnect
            outbox.delivered()

    async def _handle(self, session: _Session, text: str) -> None:
        outbox = session.outbox
        try:
            raw = json.loads(text)
        except RecursionError:  # a few kilobytes of brackets: malformed input, not a fault of the server
            await outbox.reply(encode_error(ErrorCode.MALFORMED, "not JSON: nested too deeply"))
            return
        except ValueError as exc:
            await outbox.reply(encode_error(ErrorCode.MALFORMED, f"not JSON: {exc}"))
            return
        request_id = _request_id(raw)
        try:
            message = ClientMessage.model_validate(raw)
        except ValidationError as exc:
            problem = f'not a message ({describe_errors(exc.errors())}); send {{"type": ..., "payload": {{...}}}}'
            await outbox.reply(encode_error(ErrorCode.MALFORMED, problem, id=request_id))
            return
        except RecursionError:
            await outbox.reply(encode_error(ErrorCode.MALFORMED, "not a message: nested too deeply", id=request_id))
            return
        name, _, action = message.type.partition(".")
        route = self.routes.get(name)
        if route is None or action not in (SUBSCRIBE, UNSUBSCRIBE):
            problem = f"unknown message type {message.type!r}; this endpoint takes {self._types}"
            await outbox.reply(encode_error(ErrorCode.UNKNOWN_TYPE, problem, id=request_id))
            return
        try:
            params = route.params.model_validate(message.payload or {})
            if route.normalize is not None:
                params = route.normalize(params)
        except ValidationError as exc:
            await outbox.reply(encode_error(ErrorCode.INVALID_PARAMS, describe_errors(exc.errors()), id=request_id))
            return
        except RecursionError:
            await outbox.reply(encode_error(ErrorCode.INVALID_PARAMS, "payload: nested too deeply", id=request_id))
            return
        except SubscriptionRefused as exc:
            await outbox.reply(encode_error(exc.code, exc.message, id=request_id))
            return
        if route.per_identity and session.identity is None:
            problem = f"{route.name} carries one account's events; connect with credentials"
            await outbox.reply(encode_error(ErrorCode.UNAUTHENTICATED, problem, id=request_id))
            return
        account = session.identity.account if route.per_identity and session.identity is not None else None
        key = (route.topic(params), account)
        if action == SUBSCRIBE:
            await self._subscribe(session, route, params, key, request_id)
        else:
            await self._unsubscribe(session, route, params, key, request_id)

    async def _subscribe(
        self,
        session: _Session,
        route: StreamRoute[Any, Any],
        params: BaseModel,
        key: _TopicKey,
        request_id: str | int | None,
    ) -> None:
        payload = SubscriptionPayload(params=params.model_dump(mode="json"))
        reply = encode(f"{route.name}.{SUBSCRIBE}.response", payload, topic=key[0], id=request_id)
        if key in session.topics:
            await session.outbox.reply(reply)  # subscribing twice changes nothing
            return
        if len(session.topics) >= self.limits.max_subscriptions:
            most = self.limits.max_subscriptions
            problem = f"at most {most} subscriptions per connection; unsubscribe from one first"
            await session.outbox.reply(encode_error(ErrorCode.TOO_MANY_SUBSCRIPTIONS, problem, id=request_id))
            return
        # The response must come before the topic's first update: wait for room, then register and
        # queue the response without yielding to the feeds in between.
        await session.outbox.room()
        topic = self._topics.get(key)
        if topic is None and self.limits.max_feeds is not None and len(self._topics) >= self.limits.max_feeds:
            most = self.limits.max_feeds
            problem = f"the server runs its most feeds ({most}); subscribe to a topic that already runs, or try later"
            session.outbox.reply_nowait(encode_error(ErrorCode.TOO_MANY_SUBSCRIPTIONS, problem, id=request_id))
            return
        if topic is None:
            identity = session.identity if route.per_identity else None
            topic = self._topics[key] = _Topic(key, route, params, identity)
            topic.task = asyncio.create_task(self._pump(topic), name=f"stream feed {key[0]}")
        topic.subscribers[session] = None
        session.topics[key] = topic
        session.outbox.reply_nowait(reply)

    async def _unsubscribe(
        self,
        session: _Session,
        route: StreamRoute[Any, Any],
        params: BaseModel,
        key: _TopicKey,
        request_id: str | int | None,
    ) -> None:
        topic = session.topics.pop(key, None)
        if topic is None:
            problem = f"not subscribed to {key[0]}"
            await session.outbox.reply(encode_error(ErrorCode.NOT_SUBSCRIBED, problem, topic=key[0], id=request_id))
            return
        await self._leave(session, topic)
        payload = SubscriptionPayload(params=params.model_dump(mode="json"))
        await session.outbox.reply(encode(f"{route.name}.{UNSUBSCRIBE}.response", payload, topic=key[0], id=request_id))

    async def _leave(self, session: _Session, topic: _Topic) -> None:
        topic.subscribers.pop(session, None)
        if not topic.subscribers:
            await self._stop(topic)

    def _leave_all(self, session: _Session) -> set[asyncio.Task[None]]:
        """Take ``session`` out of every topic; the feeds left without subscribers, being cancelled."""
        stopping = set()
        for topic in session.topics.values():
            topic.subscribers.pop(session, None)
            if not topic.subscribers:
                task = self._forget(topic)
                if task is not None:
                    stopping.add(task)
        session.topics.clear()
        return stopping

    def _forget(self, topic: _Topic) -> asyncio.Task[None] | None:
        """Remove a topic and cancel its feed; the feed's task, to await."""
        if self._topics.get(topic.key) is topic:
            del self._topics[topic.key]
        if topic.task is not None:
            topic.task.cancel()
        return topic.task

    async def _stop(self, topic: _Topic) -> None:
        task = self._forget(topic)
        if task is not None:
            await asyncio.wait({task})

    async def _pump(self, topic: _Topic) -> None:
        """Run a topic's feed, handing each update to every subscriber without waiting for any."""
        route = topic.route
        feed = route.feed(topic.params, topic.identity)
        try:
            async for item in feed:
                update = item if isinstance(item, route.update) else route.update.model_validate(item)
                text = topic.update_prefix + update.model_dump_json() + "}"
                for session in topic.subscribers:
                    session.outbox.push(text)
        except Exception:
            logger.exception("stream feed %s failed", topic.key[0])
            self._detach(topic, ErrorCode.FEED_FAILED, "the feed failed; subscribe again to restart it")
        else:
            self._detach(topic, ErrorCode.FEED_ENDED, "the feed has no more updates")
        finally:
            close = getattr(feed, "aclose", None)
            if close is not None:
                await close()

    def _detach(self, topic: _Topic, code: ErrorCode, message: str) -> None:
        """Forget a topic whose feed ended by itself, and tell its subscribers."""
        if self._topics.get(topic.key) is topic:
            del self._topics[topic.key]
        text = encode_error(code, message, topic=topic.key[0])
        for session in topic.subscribers:
            session.topics.pop(topic.key, None)
            session.outbox.push(text)
        topic.subscribers.clear()


def add_stream_endpoint(
    router: APIRouter,
    routes: Sequence[StreamRoute[Any, Any]],
    *,
    path: str = "/ws",
    authenticate: Authenticator | None = None,
    limits: StreamLimits | None = None,
    name: str = "streams",
) -> StreamHub:
    """Serve ``routes`` on a WebSocket at ``path`` of ``router`` (a ``ModuleApi``); the host serves
    it at ``/api/{global}/{module}/ws``, a standalone module at ``/{version}/ws``."""
    hub = StreamHub(routes, authenticate=authenticate, limits=limits)
    router.add_api_websocket_route(path, hub.serve, name=name)
    return hub


def stream_hubs(router: Router) -> dict[str, StreamHub]:
    """The stream endpoints of ``router`` by path, with their routes' message models."""
    found: dict[str, StreamHub] = {}
    for served in served_routes(router.routes):  # a stream in an included router too
        route = served.served
        if isinstance(route, WebSocketRoute):
            owner = getattr(route.endpoint, "__self__", None)
            if isinstance(owner, StreamHub):
                found[route.path] = owner
    return found
