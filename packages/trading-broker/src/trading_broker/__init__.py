"""The broker module of the Trading API platform.

One :class:`BrokerModule` per process holds one :class:`BrokerService`; broker API v1
(``trading_broker.api.v1``) and v2 (``trading_broker.api.v2``) are thin adapters over it, registered
as the entry points ``broker.v1`` and ``broker.v2``.
"""

from ._auth import generate_api_key, hash_api_key
from ._errors import BrokerError, IdempotencyKeyReused, InvalidOrder, OrderNotFound, OrderNotModifiable, Violation
from ._instruments import BUILTIN_INSTRUMENTS, Instrument
from ._models import Execution, Order, OrderChanges, OrderRequest, OrderStatus, OrderType, Side, StatusChange
from ._module import BrokerModule
from ._prices import PriceSource, SimulatedPrices
from ._rules import Strictness
from ._service import BrokerService, Placement
from ._settings import ApiKey, BrokerSettings
from ._store import IdempotencyRecord, MemoryOrderStore, OrderStore
from ._version import __version__

__all__ = [
    "BUILTIN_INSTRUMENTS",
    "ApiKey",
    "BrokerError",
    "BrokerModule",
    "BrokerService",
    "BrokerSettings",
    "Execution",
    "IdempotencyKeyReused",
    "IdempotencyRecord",
    "Instrument",
    "InvalidOrder",
    "MemoryOrderStore",
    "Order",
    "OrderChanges",
    "OrderNotFound",
    "OrderNotModifiable",
    "OrderRequest",
    "OrderStatus",
    "OrderStore",
    "OrderType",
    "Placement",
    "PriceSource",
    "Side",
    "SimulatedPrices",
    "StatusChange",
    "Strictness",
    "Violation",
    "__version__",
    "generate_api_key",
    "hash_api_key",
]
