"""The broker's tables, as SQLAlchemy Core metadata: the schema the migrations build.

Every table name starts with ``broker_`` so the broker can share a database with other
applications. A test checks that the migrations produce exactly this schema.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect

VERSION_TABLE = "broker_alembic_version"
"""Where Alembic records the schema revision (not its default name, to share a database)."""


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both databases (SQLite stores no offset; PostgreSQL
    ``timestamptz`` does)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the broker stores UTC times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# An auto-incrementing integer key: SQLite makes only a column declared INTEGER an alias of its rowid.
Sequence = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

accounts = Table(
    "broker_accounts",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("balance", Double, nullable=False),
    Column("realised_pnl", Double, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

orders = Table(
    "broker_orders",
    metadata,
    Column("seq", Sequence, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("account", String(128), nullable=False),
    Column("symbol", String(32), nullable=False),
    Column("side", String(4), nullable=False),
    Column("order_type", String(10), nullable=False),
    Column("quantity", Double, nullable=False),
    Column("limit_price", Double),
    Column("stop_price", Double),
    Column("status", String(10), nullable=False),
    Column("reason", Text),
    Column("stop_triggered", Boolean, nullable=False),
    Column("status_history", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_broker_orders_account_seq", "account", "seq"),
    Index("ix_broker_orders_status", "status"),
)

executions = Table(
    "broker_executions",
    metadata,
    Column("seq", Sequence, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("order_id", String(36), ForeignKey("broker_orders.id"), nullable=False),
    Column("account", String(128), nullable=False),
    Column("symbol", String(32), nullable=False),
    Column("side", String(4), nullable=False),
    Column("quantity", Double, nullable=False),
    Column("price", Double, nullable=False),
    Column("realised_pnl", Double, nullable=False),
    Column("time", UtcDateTime, nullable=False),
    Index("ix_broker_executions_account_seq", "account", "seq"),
    Index("ix_broker_executions_order_id", "order_id"),
)

positions = Table(
    "broker_positions",
    metadata,
    Column("account", String(128), primary_key=True),
    Column("symbol", String(32), primary_key=True),
    Column("quantity", Double, nullable=False),
    Column("average_price", Double, nullable=False),
    Column("realised_pnl", Double, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

idempotency_keys = Table(
    "broker_idempotency_keys",
    metadata,
    Column("account", String(128), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("order_id", String(36), ForeignKey("broker_orders.id"), nullable=False),
    Column("response", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

api_keys = Table(
    "broker_api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("account", String(128), nullable=False, index=True),
    Column("sha256", String(64), nullable=False),
    Column("label", String(200)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

outbox = Table(
    "broker_outbox",
    metadata,
    Column("account", String(128), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("action", String(16), nullable=False),
    Column("time", UtcDateTime, nullable=False),
    Column("subject", JSON, nullable=False),
    Index("ix_broker_outbox_time", "time"),
)
"""Every broker event, written in the transaction of the change it reports; ``seq`` counts the
account's events from 1 (see ``_outbox``). Rows older than ``outbox_retention`` are pruned."""

outbox_sequences = Table(
    "broker_outbox_sequences",
    metadata,
    Column("account", String(128), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
)
"""The last sequence number given to each account's events: its row, locked by the transaction
that writes events, keeps one account's events in commit order, and outlives pruned events."""
