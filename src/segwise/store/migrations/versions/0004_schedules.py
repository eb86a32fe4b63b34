"""Schedules: re-runs of a source every day, week or month; their outcomes and the alerts.

Revision ID: 0004_schedules
Revises: 0003_campaigns
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_schedules"
down_revision = "0003_campaigns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_table", sa.String(200), nullable=True),
        sa.Column("source_query", sa.Text, nullable=True),
        sa.Column("every", sa.String(10), nullable=False),
        sa.Column("like", sa.String(32), nullable=True),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("thresholds", sa.JSON, nullable=False),
        sa.Column("webhook", sa.Text, nullable=True),
        sa.Column("email", sa.Text, nullable=True),
        sa.Column("next_due", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("last_run_id", sa.String(32), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "schedule_runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "schedule_id", sa.String(32), sa.ForeignKey("schedules.id"), nullable=False, index=True
        ),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("previous_run_id", sa.String(32), nullable=True),
        sa.Column("dataset_id", sa.String(32), nullable=True),
        sa.Column("comparison", sa.JSON, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("schedule_id", "period", name="uq_schedule_runs_period"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("schedule", sa.String(200), nullable=False, index=True),
        sa.Column("schedule_run_id", sa.String(32), nullable=True),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("threshold", sa.Float, nullable=True),
        sa.Column("delivery", sa.JSON, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("schedule_runs")
    op.drop_table("schedules")
