"""Alembic environment: migrate the connection the catalog hands over (never a URL in a file)."""

from __future__ import annotations

from alembic import context

from segwise.store import accounts  # noqa: F401 (its tables join Base's metadata)
from segwise.store.schema import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
