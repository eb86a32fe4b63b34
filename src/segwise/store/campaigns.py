"""Queries on the campaign tables (``schema.CampaignRow``, ``schema.CampaignMember``).

A campaign's split into treatment and control is written once, with the campaign, in one
transaction, and never changed: a read-out months later compares the same two groups.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from segwise.errors import InputError, NotFoundError
from segwise.store.catalog import Catalog
from segwise.store.schema import CampaignMember, CampaignRow

ARMS = ("treatment", "control")
BATCH = 50_000  # members inserted per statement batch
__all__ = [
    "ARMS",
    "CampaignMember",
    "CampaignRow",
    "add_campaign",
    "campaign",
    "campaigns",
    "members",
]


def add_campaign(catalog: Catalog, row: CampaignRow, members: Sequence[dict[str, str]]) -> None:
    """Store a campaign and its members in one transaction (a taken name is refused)."""
    statement = insert(CampaignMember)
    try:
        with catalog.session() as s:
            s.add(row)
            s.flush()
            connection = s.connection()  # Core executemany: no ORM object per member
            for first in range(0, len(members), BATCH):
                batch = members[first : first + BATCH]
                connection.execute(statement, [{"campaign_id": row.id, **m} for m in batch])
    except IntegrityError:
        raise InputError(
            f"a campaign named '{row.name}' exists already",
            hint="choose another --name; `segwise campaign list` shows the names taken",
        ) from None


def campaign(catalog: Catalog, name: str) -> CampaignRow:
    """The campaign with this name (spaces as they are stored: single) or id."""
    name = " ".join(name.split())
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
