"""Campaigns: an audience taken from a run's segments, split into treatment and control.

Revision ID: 0003_campaigns
Revises: 0002_accounts
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_campaigns"
down_revision = "0002_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id"), nullable=False, index=True),
        sa.Column("grouping", sa.String(20), nullable=False),
        sa.Column("segments", sa.JSON, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("start", sa.Date, nullable=False),
        sa.Column("control_share", sa.Float, nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("sizes", sa.JSON, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "campaign_members",
        sa.Column("campaign_id", sa.String(32), sa.ForeignKey("campaigns.id"), primary_key=True),
        sa.Column("customer_id", sa.String(200), primary_key=True),
        sa.Column("segment", sa.String(200), nullable=False),
        sa.Column("arm", sa.String(10), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("campaign_members")
    op.drop_table("campaigns")
