"""Alembic environment of the broker's migrations: run on the connection the broker passes in.

The broker runs its migrations itself (``trading_broker._migrate.upgrade``) inside a transaction
it holds, so there is no ``alembic.ini`` and no offline mode.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from trading_broker._tables import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError(
        "the broker's migrations run through trading_broker._migrate.upgrade (or `trading-broker db upgrade`), "
        "which passes the connection; they are not run by the alembic command"
    )
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    # SQLite alters a table by copying it; batch mode lets future migrations do that.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
