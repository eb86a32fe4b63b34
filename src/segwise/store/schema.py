"""The catalog's tables: datasets, runs, their segments and models (SQLAlchemy 2 ORM).

Bulk data (cleaned lines, customer tables, assignments) lives as Parquet in the lake; the
catalog holds what describes it, so SQLite and PostgreSQL serve the same schema.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

RUN_STATES = ("queued", "running", "done", "failed")


class Base(DeclarativeBase):
    """Declarative base of the catalog tables."""


class Dataset(Base):
    """A file as ingested: content-addressed, with its roles and cleaning report."""

    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    rows: Mapped[int] = mapped_column(Integer)
    customers: Mapped[int] = mapped_column(Integer)
    roles: Mapped[dict[str, Any]] = mapped_column(JSON)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    as_of: Mapped[date | None] = mapped_column(Date, nullable=True)
    path: Mapped[str] = mapped_column(Text)
    pseudonymised: Mapped[bool] = mapped_column(default=False)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    runs: Mapped[list[Run]] = relationship(back_populates="dataset")


class Run(Base):
    """One segmentation of a dataset: parameters, status, summary, timings, versions."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    versions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    k: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    path: Mapped[str | None] = mapped_column(Text, nullable=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    started: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    dataset: Mapped[Dataset] = relationship(back_populates="runs")
    segments: Mapped[list[SegmentRow]] = relationship(
        back_populates="run", order_by="SegmentRow.segment", cascade="all, delete-orphan"
    )


class SegmentRow(Base):
    """One segment of a finished run: size, profile, name and recommendation."""

    __tablename__ = "segments"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    segment: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    share: Mapped[float] = mapped_column(Float)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    recommendation: Mapped[str] = mapped_column(Text)

    run: Mapped[Run] = relationship(back_populates="segments")


class ModelRow(Base):
    """A model file written by a run (the segment classifier), with its manifest."""

    __tablename__ = "models"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    path: Mapped[str] = mapped_column(Text)
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- campaigns (migration 0003_campaigns; queries in store/campaigns.py) ---------------------


class CampaignRow(Base):
    """A campaign: its run, chosen segments, message, start, control share and seed."""

    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    grouping: Mapped[str] = mapped_column(String(20))  # segment_name | rfm_segment
    segments: Mapped[list[str]] = mapped_column(JSON)
    message: Mapped[str] = mapped_column(Text)
    start: Mapped[date] = mapped_column(Date)
    control_share: Mapped[float] = mapped_column(Float)
    seed: Mapped[int] = mapped_column(BigInteger)
    sizes: Mapped[dict[str, Any]] = mapped_column(JSON)  # segment -> {treatment, control}
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CampaignMember(Base):
    """One customer of a campaign, the segment they were chosen from and their arm."""

    __tablename__ = "campaign_members"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    segment: Mapped[str] = mapped_column(String(200))
    arm: Mapped[str] = mapped_column(String(10))


# --- schedules and alerts (migration 0004_schedules; queries in store/schedules.py) -----------


class ScheduleRow(Base):
    """A source re-segmented every day, week or month, following its previous run."""

    __tablename__ = "schedules"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    source: Mapped[str] = mapped_column(Text)  # a path, or a database URL without a password
    source_table: Mapped[str | None] = mapped_column(String(200), nullable=True)
    source_query: Mapped[str | None] = mapped_column(Text, nullable=True)
    every: Mapped[str] = mapped_column(String(10))  # day | week | month
    like: Mapped[str | None] = mapped_column(String(32), nullable=True)
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON)  # only those set on the schedule
    webhook: Mapped[str | None] = mapped_column(Text, nullable=True)
    email: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_due: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    last_run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ScheduleRunRow(Base):
    """One period of a schedule: claimed once (the lock), then done, unchanged or failed."""

    __tablename__ = "schedule_runs"
    __table_args__ = (UniqueConstraint("schedule_id", "period", name="uq_schedule_runs_period"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    schedule_id: Mapped[str] = mapped_column(ForeignKey("schedules.id"), index=True)
    period: Mapped[str] = mapped_column(String(20))  # 2026-12-01 | 2026-W49 | 2026-12
    status: Mapped[str] = mapped_column(String(10))  # running | done | unchanged | failed
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    previous_run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    dataset_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    comparison: Mapped[dict[str, Any]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    started: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AlertRow(Base):
    """A threshold crossed (or a failed run) of a schedule, and how it was delivered."""

    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    schedule: Mapped[str] = mapped_column(String(200), index=True)  # its name, kept after removal
    schedule_run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    kind: Mapped[str] = mapped_column(String(20))  # psi | size_shift | worse_share | failed
    message: Mapped[str] = mapped_column(Text)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    delivery: Mapped[dict[str, Any]] = mapped_column(JSON)  # channel -> "sent" | "failed: ..."
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
