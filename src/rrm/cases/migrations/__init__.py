"""Alembic migrations of the cases store, run by ``rrm.cases.db.migrate``."""
