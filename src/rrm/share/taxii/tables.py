"""The tables of the TAXII node (SQLAlchemy Core; a SQLite file by default, PostgreSQL by URL)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "collections",
    "credentials",
    "deliveries",
    "meta",
    "metadata",
    "objects",
    "partners",
    "rights",
    "statuses",
    "sync_conflicts",
    "sync_nodes",
    "sync_rejects",
    "sync_state",
]

metadata = MetaData()

collections = Table(
    "taxii_collections",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("title", Text, nullable=False),
    Column("description", Text),
)

partners = Table(
    "taxii_partners",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("max_tlp", String(16), nullable=False),
)

credentials = Table(
    "taxii_credentials",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("partner_id", String(64), nullable=False),
    Column("kind", String(8), nullable=False),  # key | basic
    Column("username", String(128)),
    Column("lookup", String(64), nullable=False, unique=True),  # sha256 of the key, or of the username
    Column("secret_hash", Text),  # scrypt hash of a password (basic only)
)

rights = Table(
    "taxii_rights",
    metadata,
    Column("partner_id", String(64), primary_key=True),
    Column("collection_id", String(64), primary_key=True),
    Column("can_read", Boolean, nullable=False),
    Column("can_write", Boolean, nullable=False),
)

objects = Table(
    "taxii_objects",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("collection_id", String(64), nullable=False),
    Column("object_id", String(128), nullable=False),
    Column("type", String(64), nullable=False),
    Column("spec_version", String(8), nullable=False),
    Column("version", String(32), nullable=False),  # modified, or created, or date added for SCOs
    Column("date_added", BigInteger, nullable=False),  # microseconds since the epoch, strictly increasing
    Column("is_latest", Boolean, nullable=False),
    Column("is_first", Boolean, nullable=False),
    Column("tlp", String(16), nullable=False),
    Column("recipients", Text, nullable=False),  # " partner1 partner2 " for AMBER+STRICT and RED
    Column("body", Text, nullable=False),
    # who added the row: "local" (published on this node), else the TAXII partner or sync node it came from
    Column("origin", String(64), nullable=False, server_default="local"),
    UniqueConstraint("collection_id", "object_id", "version", name="uq_taxii_object_version"),
    Index("ix_taxii_objects_collection_seq", "collection_id", "seq"),
    Index("ix_taxii_objects_latest", "collection_id", "is_latest", "seq"),
    Index("ix_taxii_objects_object", "collection_id", "object_id", "seq"),
    Index("ix_taxii_objects_added", "collection_id", "date_added"),
    Index("ix_taxii_objects_type", "collection_id", "type", "seq"),
    sqlite_autoincrement=True,  # a deleted last row's seq is never reused: next tokens and sync marks stay true
)

statuses = Table(
    "taxii_statuses",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("partner_id", String(64), nullable=False),
    Column("request_timestamp", String(32), nullable=False),
    Column("body", Text, nullable=False),
)

deliveries = Table(
    "taxii_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),
    Column("partner_id", String(64), nullable=False),
    Column("collection_id", String(64), nullable=False),
    Column("objects", Text, nullable=False),  # JSON list of [object_id, version, tlp]
)

# counters of the node; "access_epoch" grows with every change to partners, credentials, rights or
# collections, so that each server process knows when its cache of verified credentials is stale
meta = Table(
    "taxii_meta",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

# --- sync with other nodes (rrm.share.sync); the secrets live in a 0600 file, never here ------------

sync_nodes = Table(
    "taxii_sync_nodes",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("url", Text, nullable=False),
    Column("api_root", Text, nullable=False),
    Column("collection", String(128), nullable=False),  # the remote collection id
    Column("local_collection", String(64), nullable=False),
)

sync_state = Table(
    "taxii_sync_state",
    metadata,
    Column("node", String(64), primary_key=True),
    Column("pulled_after", String(32)),  # the remote's X-TAXII-Date-Added-Last of the last page stored
    Column("pushed_seq", BigInteger, nullable=False, server_default="0"),  # last local row pushed
    Column("last_pull", String(32)),
    Column("last_push", String(32)),
)

sync_conflicts = Table(
    "taxii_sync_conflicts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("node", String(64), nullable=False),
    Column("direction", String(8), nullable=False),  # pull | push
    Column("collection_id", String(64), nullable=False),
    Column("object_id", String(128), nullable=False),
    Column("version", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Column("at", String(32), nullable=False),
    UniqueConstraint("node", "direction", "collection_id", "object_id", "version", name="uq_taxii_sync_conflict"),
)

sync_rejects = Table(
    "taxii_sync_rejects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("node", String(64), nullable=False),
    Column("object_id", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", String(32), nullable=False),
)
