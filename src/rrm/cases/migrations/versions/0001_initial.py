"""Cases store: partners, users, incidents and their attachments, the append-only audit log.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

revision = "0001"
down_revision: str | None = None
branch_labels: tuple[str, ...] | None = None
depends_on: tuple[str, ...] | None = None

_TZ = sa.DateTime(timezone=True)


def _child(name: str, *columns: SchemaItem) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), nullable=False, index=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        *columns,
    )


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("partner_id", sa.Integer, sa.ForeignKey("partners.id"), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("tlp", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("target_country", sa.String(2)),
        sa.Column("target_process", sa.String(300)),
        sa.Column("suspected_actor", sa.String(300)),
        sa.Column("attribution_confidence", sa.String(32)),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    _child(
        "breakout_assessments",
        sa.Column("category", sa.Integer, nullable=False),
        sa.Column("assessed_on", sa.Date, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.CheckConstraint("category BETWEEN 1 AND 6", name="ck_breakout_category"),
    )
    _child(
        "incident_techniques",
        sa.Column("technique_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.UniqueConstraint("incident_id", "technique_id", name="uq_incident_technique"),
    )
    _child(
        "incident_links",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(2000), nullable=False),
        sa.Column("run_id", sa.String(100)),
        sa.Column("note", sa.Text, nullable=False),
        sa.UniqueConstraint("incident_id", "kind", "ref", name="uq_incident_link"),
    )
    _child(
        "incident_sources",
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("reference", sa.String(2000), nullable=False),
        sa.Column("rating", sa.String(2), nullable=False),
    )
    _child(
        "timeline_events",
        sa.Column("occurred_at", _TZ, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("reference", sa.String(2000), nullable=False),
    )
    _child("notes", sa.Column("text", sa.Text, nullable=False))
    _child(
        "response_actions",
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("owner_partner_id", sa.Integer, sa.ForeignKey("partners.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due_on", sa.Date),
    )
    _child(
        "partner_assessments",
        sa.Column("partner_id", sa.Integer, sa.ForeignKey("partners.id"), nullable=False),
        sa.Column("stance", sa.String(16), nullable=False),
        sa.Column("confidence", sa.Integer, nullable=False),
        sa.Column("rationale", sa.Text, nullable=False),
        sa.CheckConstraint("confidence BETWEEN 0 AND 100", name="ck_assessment_confidence"),
    )
    _child("statements", sa.Column("text", sa.Text, nullable=False))
    op.create_table(
        "statement_signatures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("statement_id", sa.Integer, sa.ForeignKey("statements.id"), nullable=False, index=True),
        sa.Column("partner_id", sa.Integer, sa.ForeignKey("partners.id"), nullable=False),
        sa.Column("signed_by", sa.String(100), nullable=False),
        sa.Column("signed_at", _TZ, nullable=False),
        sa.UniqueConstraint("statement_id", "partner_id", name="uq_statement_partner"),
    )
    _child(
        "lessons",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("tlp", sa.String(16), nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", _TZ, nullable=False, index=True),
        sa.Column("actor", sa.String(100), nullable=False, index=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("incident_id", sa.Integer, index=True),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
    )
    _forbid_audit_changes()


def _forbid_audit_changes() -> None:
    """The audit log is append-only in the database too, whatever client writes to it."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION rrm_audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit log is append-only: % refused', TG_OP;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION rrm_audit_log_is_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION rrm_audit_log_is_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, 'audit log is append-only: {verb} refused'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS rrm_audit_log_is_append_only()")
    for table in (
        "audit_log", "lessons", "statement_signatures", "statements", "partner_assessments", "response_actions",
        "notes", "timeline_events", "incident_sources", "incident_links", "incident_techniques",
        "breakout_assessments", "incidents", "users", "partners",
    ):
        op.drop_table(table)
