"""Alembic migrations of the catalog; ``segwise.store.catalog`` applies them on open."""
