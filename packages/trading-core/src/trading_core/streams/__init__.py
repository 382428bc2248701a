"""WebSocket streams for modules: subscribe/unsubscribe/update over one endpoint per API version.

A module declares :class:`StreamRoute` objects (a name, a pydantic model for the subscription
parameters, one for the updates, and a feed: an async generator of updates) and serves them with
:func:`add_stream_endpoint` from its ``ModuleApi``::

    add_stream_endpoint(self, [bars_route, quotes_route], authenticate=None)

Equal subscriptions share one feed; a feed runs while it has subscribers. Messages are
``{"type": ..., "payload": ...}`` (see ``_messages.py``); each client has a bounded queue with the
overflow policy described in ``_outbox.py`` and the package README.
"""

from ._auth import Authenticator, Identity, StreamRefused
from ._hub import FeedInfo, StreamHub, add_stream_endpoint, stream_hubs
from ._limits import StreamLimits
from ._messages import ERROR, ClientMessage, ErrorCode, ErrorPayload, SubscriptionPayload
from ._outbox import CLOSE_TOO_SLOW
from ._route import StreamRoute, SubscriptionRefused

__all__ = [
    "CLOSE_TOO_SLOW",
    "ERROR",
    "Authenticator",
    "ClientMessage",
    "ErrorCode",
    "ErrorPayload",
    "FeedInfo",
    "Identity",
    "StreamHub",
    "StreamLimits",
    "StreamRefused",
    "StreamRoute",
    "SubscriptionPayload",
    "SubscriptionRefused",
    "add_stream_endpoint",
    "stream_hubs",
]
