"""The catalog's tables: datasets, runs, their segments and models (SQLAlchemy 2 ORM).

Bulk data (cleaned lines, customer tables, assignments) lives as Parquet in the lake; the
catalog holds what describes it, so SQLite and PostgreSQL serve the same schema.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, DateTime, Float, ForeignKey, Integer, String, Text
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
