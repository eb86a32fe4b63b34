"""The first catalog: datasets, runs, segments, models.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("customers", sa.Integer, nullable=False),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
        sa.Column("as_of", sa.Date, nullable=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("pseudonymised", sa.Boolean, nullable=False),
        sa.Column("created", STAMP, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "dataset_id", sa.String(32), sa.ForeignKey("datasets.id"), nullable=False, index=True
        ),
        sa.Column("status", sa.String(10), nullable=False, index=True),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("metrics", sa.JSON, nullable=False),
        sa.Column("timings", sa.JSON, nullable=False),
        sa.Column("versions", sa.JSON, nullable=False),
        sa.Column("k", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("path", sa.Text, nullable=True),
        sa.Column("created", STAMP, nullable=False, index=True),
        sa.Column("started", STAMP, nullable=True),
        sa.Column("finished", STAMP, nullable=True),
    )
    op.create_table(
        "segments",
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), primary_key=True),
        sa.Column("segment", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("share", sa.Float, nullable=False),
        sa.Column("profile", sa.JSON, nullable=False),
        sa.Column("recommendation", sa.Text, nullable=False),
    )
    op.create_table(
        "models",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("manifest", sa.JSON, nullable=False),
        sa.Column("created", STAMP, nullable=False),
    )


def downgrade() -> None:
    for table in ("models", "segments", "runs", "datasets"):
        op.drop_table(table)
