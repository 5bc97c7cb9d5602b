"""Alembic environment of CAH, run by server.migrations (never through an alembic.ini).

The connection comes from the caller in ``config.attributes["connection"]`` so that the
caller decides the transaction; the target is the one metadata that sync/ and server/
tables share (sync.models.Base.metadata).
"""
from alembic import context

from server.migrations import migration_options, target_metadata

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("CAH migrations run through server.migrations with a live connection")

context.configure(connection=connection, target_metadata=target_metadata(),
                  **migration_options())
with context.begin_transaction():
    context.run_migrations()
