"""Issue #11: office form submissions are applied once.

Revision ID: 0005
Revises: 0004

* ``office_submissions`` (new): the one-time token each office form carries, who sent it, when
  it was claimed and applied, and where its first answer redirected (server/web/
  submissions.py). A replayed submission is answered from this row instead of being applied
  again. Old rows are purged by server/retention.py (SUBMISSION_RETENTION_DAYS).

Downgrade drops the table: office forms then apply every arrival again, as before.
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "office_submissions",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_url", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("token", name="pk_office_submissions"),
    )
    with op.batch_alter_table("office_submissions") as batch:
        batch.create_index("ix_office_submissions_created_at", ["created_at"], unique=False)
        batch.create_index("ix_office_submissions_user_id", ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("office_submissions") as batch:
        batch.drop_index("ix_office_submissions_user_id")
        batch.drop_index("ix_office_submissions_created_at")
    op.drop_table("office_submissions")
