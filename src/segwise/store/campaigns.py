"""The catalog's campaign tables and their queries: a campaign and who is in which arm.

A campaign's split into treatment and control is written once, with the campaign, in one
transaction, and never changed: a read-out months later compares the same two groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, DateTime, Float, ForeignKey, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from segwise.errors import InputError, NotFoundError
from segwise.store.catalog import Catalog
from segwise.store.schema import Base

ARMS = ("treatment", "control")


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


def add_campaign(catalog: Catalog, row: CampaignRow, members: Sequence[dict[str, str]]) -> None:
    """Store a campaign and its members in one transaction (a taken name is refused)."""
    from sqlalchemy import insert

    try:
        with catalog.session() as s:
            s.add(row)
            s.flush()
            if members:
                s.execute(
                    insert(CampaignMember),
                    [{"campaign_id": row.id, **m} for m in members],
                )
    except IntegrityError:
        raise InputError(
            f"a campaign named '{row.name}' exists already",
            hint="choose another --name; `segwise campaign list` shows the names taken",
        ) from None


def campaign(catalog: Catalog, name: str) -> CampaignRow:
    """The campaign with this name (or id)."""
    with catalog.session() as s:
        query = select(CampaignRow).where((CampaignRow.name == name) | (CampaignRow.id == name))
        found = s.scalars(query).first()
    if found is None:
        raise NotFoundError(f"no campaign '{name}'; list them with `segwise campaign list`")
    return found


def campaigns(catalog: Catalog) -> list[CampaignRow]:
    """Every campaign, newest first."""
    with catalog.session() as s:
        query = select(CampaignRow).order_by(CampaignRow.created.desc(), CampaignRow.id)
        return list(s.scalars(query))


def members(
    catalog: Catalog, campaign_id: str, arm: str | None = None
) -> list[tuple[str, str, str]]:
    """(customer_id, segment, arm) of a campaign's members, by customer id; one arm if asked."""
    query = select(CampaignMember.customer_id, CampaignMember.segment, CampaignMember.arm).where(
        CampaignMember.campaign_id == campaign_id
    )
    if arm is not None:
        query = query.where(CampaignMember.arm == arm)
    with catalog.session() as s:
        return [(c, seg, a) for c, seg, a in s.execute(query.order_by(CampaignMember.customer_id))]
