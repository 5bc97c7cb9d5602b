"""The schema released as CAH 0.1.0 (commit d7ae8ee, made by create_all then).

Revision ID: 0001
Revises: (none)

A database that 0.1.0's ``pakkedes init`` created has these tables and no alembic_version;
server.migrations.upgrade_database stamps it with this revision instead of running it.
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Children before parents, for downgrade (foreign keys).
TABLES = ("operation_desa", "assignments", "users", "resident_events", "operations",
          "conflicts", "batch_items", "wilayah", "residents", "rejected_mutations",
          "login_failures", "clients", "change_counter", "batches", "audit_log", "attachments",
          "attachment_uploads")


def upgrade():
    op.create_table("attachment_uploads",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("offset", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("mime", sa.String(length=20), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kecamatan_code", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", "offset", name="pk_attachment_uploads")
    )

    op.create_table("attachments",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("mime", sa.String(length=20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("stored_size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kecamatan_code", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_attachments")
    )
    op.create_index("ix_attachments_kecamatan_code", "attachments", ["kecamatan_code"])
    op.create_index("ix_attachments_user_id", "attachments", ["user_id"])

    op.create_table("audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kecamatan_code", sa.String(length=10), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=80), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log")
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_kecamatan_code", "audit_log", ["kecamatan_code"])
    op.create_index("ix_audit_log_user_id", "audit_log", ["user_id"])

    op.create_table("batches",
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.String(length=50), nullable=False),
        sa.Column("kecamatan_code", sa.String(length=6), nullable=False),
        sa.Column("handed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=False),
        sa.Column("created_via", sa.String(length=10), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("batch_id", name="pk_batches")
    )
    op.create_index("ix_batches_kecamatan_code", "batches", ["kecamatan_code"])

    op.create_table("change_counter",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_change_counter")
    )

    op.create_table("clients",
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("device_label", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_mutation_id", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clock_skew_seconds", sa.Integer(), nullable=True),
        sa.Column("clock_skew_flagged", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("app_version", sa.String(length=40), nullable=True),
        sa.Column("scope_key", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("client_id", name="pk_clients")
    )
    op.create_index("ix_clients_token_hash", "clients", ["token_hash"], unique=True)
    op.create_index("ix_clients_user_id", "clients", ["user_id"])

    op.create_table("login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_failures")
    )
    op.create_index("ix_login_failures_at", "login_failures", ["at"])
    op.create_index("ix_login_failures_key", "login_failures", ["key"])

    op.create_table("rejected_mutations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("mutation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rejected_mutations"),
        sa.UniqueConstraint("client_id", "mutation_id", name="uq_rejected_mutations_client_id_mutation_id")
    )

    op.create_table("residents",
        sa.Column("resident_id", sa.String(length=36), nullable=False),
        sa.Column("desa_code", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_key", sa.String(length=100), nullable=False),
        sa.Column("nik", sa.String(length=16), nullable=True),
        sa.Column("kk_number", sa.String(length=16), nullable=True),
        sa.Column("sex", sa.String(length=10), nullable=True),
        sa.Column("birth_place", sa.String(length=100), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("marital_status", sa.String(length=10), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("rt", sa.String(length=3), nullable=True),
        sa.Column("rw", sa.String(length=3), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("vulnerable_category", sa.String(length=30), nullable=True),
        sa.Column("disability", sa.String(length=20), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("field_versions", sa.JSON(), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=False),
        sa.Column("created_by_client_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=True),
        sa.Column("kk_photo", sa.String(length=64), nullable=True),
        sa.Column("verification", sa.JSON(), nullable=True),
        sa.Column("rejection", sa.JSON(), nullable=True),
        sa.Column("pickup", sa.JSON(), nullable=True),
        sa.Column("recording", sa.JSON(), nullable=True),
        sa.Column("batch_id", sa.String(length=36), nullable=True),
        sa.Column("card_issue", sa.JSON(), nullable=True),
        sa.Column("delivery", sa.JSON(), nullable=True),
        sa.Column("merged_into", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("resident_id", name="pk_residents")
    )
    op.create_index("ix_residents_batch_id", "residents", ["batch_id"])
    op.create_index("ix_residents_change_seq", "residents", ["change_seq"])
    op.create_index("ix_residents_desa_code_change_seq", "residents", ["desa_code", "change_seq"])
    op.create_index("ix_residents_duplicate_key", "residents", ["desa_code", "birth_date", "name_key"])
    op.create_index("ix_residents_nik", "residents", ["nik"])
    op.create_index("ix_residents_operation_id", "residents", ["operation_id"])

    op.create_table("wilayah",
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("parent_code", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(["parent_code"], ["wilayah.code"], name="fk_wilayah_parent_code_wilayah"),
        sa.PrimaryKeyConstraint("code", name="pk_wilayah")
    )
    op.create_index("ix_wilayah_level", "wilayah", ["level"])
    op.create_index("ix_wilayah_parent_code", "wilayah", ["parent_code"])

    op.create_table("batch_items",
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("resident_id", sa.String(length=36), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.String(length=30), nullable=True),
        sa.Column("reason_text", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.batch_id"], name="fk_batch_items_batch_id_batches"),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.resident_id"], name="fk_batch_items_resident_id_residents"),
        sa.PrimaryKeyConstraint("batch_id", "resident_id", name="pk_batch_items")
    )
    op.create_index("ix_batch_items_resident_id", "batch_items", ["resident_id"])

    op.create_table("conflicts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("resident_id", sa.String(length=36), nullable=False),
        sa.Column("other_resident_id", sa.String(length=36), nullable=True),
        sa.Column("field", sa.String(length=50), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kecamatan_code", sa.String(length=6), nullable=False),
        sa.Column("resolution", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["other_resident_id"], ["residents.resident_id"], name="fk_conflicts_other_resident_id_residents"),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.resident_id"], name="fk_conflicts_resident_id_residents"),
        sa.PrimaryKeyConstraint("id", name="pk_conflicts")
    )
    op.create_index("ix_conflicts_kecamatan_code", "conflicts", ["kecamatan_code"])
    op.create_index("ix_conflicts_resident_id", "conflicts", ["resident_id"])

    op.create_table("operations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kecamatan_code", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("step_minutes", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["kecamatan_code"], ["wilayah.code"], name="fk_operations_kecamatan_code_wilayah"),
        sa.PrimaryKeyConstraint("id", name="pk_operations")
    )
    op.create_index("ix_operations_kecamatan_code", "operations", ["kecamatan_code"])

    op.create_table("resident_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("resident_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("mutation_id", sa.Integer(), nullable=True),
        sa.Column("device_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("server_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.resident_id"], name="fk_resident_events_resident_id_residents"),
        sa.PrimaryKeyConstraint("id", name="pk_resident_events"),
        sa.UniqueConstraint("client_id", "mutation_id", "resident_id", name="uq_resident_events_client_id_mutation_id_resident_id")
    )
    op.create_index("ix_resident_events_resident_id", "resident_events", ["resident_id"])

    op.create_table("users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("kecamatan_code", sa.String(length=10), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["kecamatan_code"], ["wilayah.code"], name="fk_users_kecamatan_code_wilayah"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username")
    )

    op.create_table("assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("desa_code", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["desa_code"], ["wilayah.code"], name="fk_assignments_desa_code_wilayah"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_assignments_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_assignments"),
        sa.UniqueConstraint("user_id", "desa_code", name="uq_assignments_user_id_desa_code")
    )
    op.create_index("ix_assignments_user_id", "assignments", ["user_id"])

    op.create_table("operation_desa",
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("desa_code", sa.String(length=10), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["desa_code"], ["wilayah.code"], name="fk_operation_desa_desa_code_wilayah"),
        sa.ForeignKeyConstraint(["operation_id"], ["operations.id"], name="fk_operation_desa_operation_id_operations"),
        sa.PrimaryKeyConstraint("operation_id", "desa_code", name="pk_operation_desa")
    )


def downgrade():
    for name in TABLES:
        op.drop_table(name)  # its indexes go with it
