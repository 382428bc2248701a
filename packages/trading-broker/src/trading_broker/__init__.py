"""The broker module of the Trading API platform.

One :class:`BrokerModule` per process holds one :class:`BrokerService`; broker API v1
(``trading_broker.api.v1``) and v2 (``trading_broker.api.v2``) are thin adapters over it, registered
as the entry points ``broker.v1`` and ``broker.v2``. The service keeps its state in a database
(:class:`BrokerStore`: SQLite by default, PostgreSQL by URL) and publishes every change as a
:class:`BrokerEvent` on ``service.events``.
"""

from ._auth import StoredKey, generate_api_key, hash_api_key
from ._database import DEFAULT_DATABASE_URL
from ._errors import (
    BrokerError,
    ConcurrentModification,
    DatabaseUnavailable,
    IdempotencyKeyReused,
    InvalidOrder,
    OrderNotFound,
    OrderNotModifiable,
    UnknownApiKey,
    Violation,
)
from ._events import EVENT_KINDS, BrokerEvent, EventHub, EventKind, Subscription
from ._instruments import BUILTIN_INSTRUMENTS, Instrument
from ._matcher import Matcher
from ._models import (
    Account,
    AccountSummary,
    Execution,
    Order,
    OrderChanges,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Side,
    StatusChange,
)
from ._module import BrokerModule
from ._positions import apply_fill
from ._prices import PriceSource, SimulatedPrices
from ._rules import Strictness
from ._service import BrokerService, Placement
from ._settings import ApiKey, BrokerSettings
from ._store import BrokerStore, IdempotencyRecord
from ._version import __version__

__all__ = [
    "BUILTIN_INSTRUMENTS",
    "DEFAULT_DATABASE_URL",
    "EVENT_KINDS",
    "Account",
    "AccountSummary",
    "ApiKey",
    "BrokerError",
    "BrokerEvent",
    "BrokerModule",
    "BrokerService",
    "BrokerSettings",
    "BrokerStore",
    "ConcurrentModification",
    "DatabaseUnavailable",
    "EventHub",
    "EventKind",
    "Execution",
    "IdempotencyKeyReused",
    "IdempotencyRecord",
    "Instrument",
    "InvalidOrder",
    "Matcher",
    "Order",
    "OrderChanges",
    "OrderNotFound",
    "OrderNotModifiable",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "Placement",
    "Position",
    "PriceSource",
    "Side",
    "SimulatedPrices",
    "StatusChange",
    "StoredKey",
    "Strictness",
    "Subscription",
    "UnknownApiKey",
    "Violation",
    "__version__",
    "apply_fill",
    "generate_api_key",
    "hash_api_key",
]
