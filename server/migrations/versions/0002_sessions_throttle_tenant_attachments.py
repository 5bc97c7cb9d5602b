"""Issue #8: office sessions, login throttle, photos and partial uploads per kecamatan/uploader.

Revision ID: 0002
Revises: 0001

* ``office_sessions`` (new): server-side office logins, ended at once by logout or a reset.
* ``login_throttle`` (new) replaces ``login_failures``. The old rows are dropped, not
  converted: they are minutes-long throttle counters keyed by a hash of username + address,
  which cannot be split into the new per-account and per-address keys.
* ``attachments``: keyed by (sha256, kecamatan_code), so the same bytes uploaded in two
  kecamatan are two rows; the key's own index replaces ``ix_attachments_kecamatan_code``;
  ``referenced_at`` (new, null) remembers when a record was first found naming the photo
  (server/attachment_quota.py bounds the photos no record names).
* ``attachment_uploads``: keyed by (user_id, sha256, offset), one user's upload no longer
  touches another's; ``created_at`` indexed for the retention purge.
* ``rejected_mutations.created_at`` indexed for the retention purge.

Downgrade loses the office sessions and throttle counters, and fails (PostgreSQL: changing
nothing) when two kecamatan hold the same photo or two users the same partial upload.
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "office_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_office_sessions_user_id_users"),
        sa.PrimaryKeyConstraint("id_hash", name="pk_office_sessions"),
    )
    op.create_index("ix_office_sessions_user_id", "office_sessions", ["user_id"])

    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_login_throttle"),
    )
    op.create_index("ix_login_throttle_last_at", "login_throttle", ["last_at"])
    op.drop_table("login_failures")  # its indexes go with it

    with op.batch_alter_table("attachments") as batch:
        batch.drop_index("ix_attachments_kecamatan_code")
        batch.drop_constraint("pk_attachments", type_="primary")
        batch.create_primary_key("pk_attachments", ["sha256", "kecamatan_code"])
        batch.add_column(sa.Column("referenced_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("attachment_uploads") as batch:
        batch.drop_constraint("pk_attachment_uploads", type_="primary")
        batch.create_primary_key("pk_attachment_uploads", ["user_id", "sha256", "offset"])
        batch.create_index("ix_attachment_uploads_created_at", ["created_at"])

    op.create_index("ix_rejected_mutations_created_at", "rejected_mutations", ["created_at"])


def downgrade():
    op.drop_index("ix_rejected_mutations_created_at", table_name="rejected_mutations")

    with op.batch_alter_table("attachment_uploads") as batch:
        batch.drop_index("ix_attachment_uploads_created_at")
        batch.drop_constraint("pk_attachment_uploads", type_="primary")
        batch.create_primary_key("pk_attachment_uploads", ["sha256", "offset"])

    with op.batch_alter_table("attachments") as batch:
        batch.drop_column("referenced_at")
        batch.drop_constraint("pk_attachments", type_="primary")
        batch.create_primary_key("pk_attachments", ["sha256"])
        batch.create_index("ix_attachments_kecamatan_code", ["kecamatan_code"])

    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_failures"),
    )
    op.create_index("ix_login_failures_at", "login_failures", ["at"])
    op.create_index("ix_login_failures_key", "login_failures", ["key"])
    op.drop_table("login_throttle")
    op.drop_table("office_sessions")
