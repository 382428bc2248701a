"""The transactional outbox of broker events: ``broker_outbox`` and ``broker_outbox_sequences``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "broker_outbox",
        sa.Column("account", sa.String(128), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("time", _TIME, nullable=False),
        sa.Column("subject", sa.JSON, nullable=False),
    )
    op.create_index("ix_broker_outbox_time", "broker_outbox", ["time"])
    op.create_table(
        "broker_outbox_sequences",
        sa.Column("account", sa.String(128), primary_key=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("broker_outbox_sequences")
    op.drop_index("ix_broker_outbox_time", table_name="broker_outbox")
    op.drop_table("broker_outbox")
