"""Issue #13: Disdukcapil in the loop — a kabupaten role, two-party receipt, cards ready.

Revision ID: 0006
Revises: 0005

* ``users``: ``kabupaten_code`` (new, FK wilayah) for the ``disdukcapil`` role, which works
  for a whole kabupaten; ``kecamatan_code`` becomes nullable (empty for that role).
* ``batches``: ``received_at``, ``received_by_user_id``, ``receipt_recorded_at`` and
  ``verification_code`` — Disdukcapil's receipt of a handover (sync/registry.py).
* ``batch_items``: ``outcome_at`` (when the collection that set ``outcome`` took place),
  ``received`` (were the documents in the physical batch) and the print
  mark ``print_status`` / ``print_reason`` / ``print_reason_text`` / ``print_marked_at`` /
  ``print_marked_by_user_id``.
* ``residents``: ``card_ready_at`` — the card is printed and waits at Disdukcapil.

Downgrade drops the new columns (receipts and print marks are lost; the events on the cases
stay) and makes ``users.kecamatan_code`` required again, which fails while a Disdukcapil user
exists: it refuses (MigrationRefused) before changing anything — delete those users first. On SQLite `users` is copied to alter it; foreign keys are
off for the run and checked before the commit (server/migrations/__init__.py, _migrating).
"""
import sqlalchemy as sa
from alembic import op

from server.migrations import MigrationRefused

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("kabupaten_code", sa.String(length=10), nullable=True))
        batch.alter_column("kecamatan_code", existing_type=sa.String(length=10), nullable=True)
        batch.create_foreign_key("fk_users_kabupaten_code_wilayah", "wilayah",
                                 ["kabupaten_code"], ["code"])
    with op.batch_alter_table("batches") as batch:
        batch.add_column(sa.Column("received_at", _TZ, nullable=True))
        batch.add_column(sa.Column("received_by_user_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("receipt_recorded_at", _TZ, nullable=True))
        batch.add_column(sa.Column("verification_code", sa.String(length=12), nullable=True))
    with op.batch_alter_table("batch_items") as batch:
        batch.add_column(sa.Column("outcome_at", _TZ, nullable=True))
        batch.add_column(sa.Column("received", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("print_status", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("print_reason", sa.String(length=30), nullable=True))
        batch.add_column(sa.Column("print_reason_text", sa.Text(), nullable=True))
        batch.add_column(sa.Column("print_marked_at", _TZ, nullable=True))
        batch.add_column(sa.Column("print_marked_by_user_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("residents") as batch:
        batch.add_column(sa.Column("card_ready_at", _TZ, nullable=True))


def downgrade():
    kabupaten_users = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM users WHERE kecamatan_code IS NULL")).scalar()
    if kabupaten_users:
        raise MigrationRefused(
            f"Ada {kabupaten_users} pengguna Disdukcapil (tanpa kecamatan): skema sebelum 0006 "
            "tidak dapat menyimpannya. Hapus pengguna itu dulu, lalu turunkan skema lagi; "
            "tidak ada yang diubah.")
    with op.batch_alter_table("residents") as batch:
        batch.drop_column("card_ready_at")
    with op.batch_alter_table("batch_items") as batch:
        for name in ("print_marked_by_user_id", "print_marked_at", "print_reason_text",
                     "print_reason", "print_status", "received", "outcome_at"):
            batch.drop_column(name)
    with op.batch_alter_table("batches") as batch:
        for name in ("verification_code", "receipt_recorded_at", "received_by_user_id",
                     "received_at"):
            batch.drop_column(name)
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("fk_users_kabupaten_code_wilayah", type_="foreignkey")
        batch.alter_column("kecamatan_code", existing_type=sa.String(length=10), nullable=False)
        batch.drop_column("kabupaten_code")
