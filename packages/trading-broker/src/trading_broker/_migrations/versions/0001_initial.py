"""The broker's first schema: accounts, orders, executions, positions, idempotency keys, API keys.

Revision ID: 0001
Revises:
Create Date: 2025-06-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported from _tables: a migration is a record of one schema version.
_TIME = sa.DateTime(timezone=True)
_SEQUENCE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "broker_accounts",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("balance", sa.Double, nullable=False),
        sa.Column("realised_pnl", sa.Double, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "broker_orders",
        sa.Column("seq", _SEQUENCE, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("account", sa.String(128), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("order_type", sa.String(10), nullable=False),
        sa.Column("quantity", sa.Double, nullable=False),
        sa.Column("limit_price", sa.Double),
        sa.Column("stop_price", sa.Double),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("stop_triggered", sa.Boolean, nullable=False),
        sa.Column("status_history", sa.JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_broker_orders_account_seq", "broker_orders", ["account", "seq"])
    op.create_index("ix_broker_orders_status", "broker_orders", ["status"])
    op.create_table(
        "broker_executions",
        sa.Column("seq", _SEQUENCE, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("order_id", sa.String(36), sa.ForeignKey("broker_orders.id"), nullable=False),
        sa.Column("account", sa.String(128), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("quantity", sa.Double, nullable=False),
        sa.Column("price", sa.Double, nullable=False),
        sa.Column("realised_pnl", sa.Double, nullable=False),
        sa.Column("time", _TIME, nullable=False),
    )
    op.create_index("ix_broker_executions_account_seq", "broker_executions", ["account", "seq"])
    op.create_index("ix_broker_executions_order_id", "broker_executions", ["order_id"])
    op.create_table(
        "broker_positions",
        sa.Column("account", sa.String(128), primary_key=True),
        sa.Column("symbol", sa.String(32), primary_key=True),
        sa.Column("quantity", sa.Double, nullable=False),
        sa.Column("average_price", sa.Double, nullable=False),
        sa.Column("realised_pnl", sa.Double, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "broker_idempotency_keys",
        sa.Column("account", sa.String(128), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(36), sa.ForeignKey("broker_orders.id"), nullable=False),
        sa.Column("response", sa.JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
    )
    op.create_table(
        "broker_api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("account", sa.String(128), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("label", sa.String(200)),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("revoked_at", _TIME),
    )
    op.create_index("ix_broker_api_keys_account", "broker_api_keys", ["account"])


def downgrade() -> None:
    op.drop_table("broker_api_keys")
    op.drop_table("broker_idempotency_keys")
    op.drop_table("broker_positions")
    op.drop_table("broker_executions")
    op.drop_table("broker_orders")
    op.drop_table("broker_accounts")
