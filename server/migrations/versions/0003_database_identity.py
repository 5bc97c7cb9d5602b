"""Issue #9: the database's identity, renewed by `pakkedes restore`.

Revision ID: 0003
Revises: 0002

* ``database_identity`` (new): one row, a random UUID. Every sync answer carries it; a phone
  that sees a new one resends what it kept of its acknowledged work (docs/sync-protocol.md).
  The row is made here, so an upgraded database has an identity from its first sync.

Downgrade drops the table: phones then see no identity and heal only on a lower
last_mutation_id.
"""
import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "database_identity",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("database_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_database_identity"),
    )
    op.bulk_insert(table, [{"id": 1, "database_id": str(uuid.uuid4()),
                            "created_at": datetime.now(timezone.utc)}])


def downgrade():
    op.drop_table("database_identity")
