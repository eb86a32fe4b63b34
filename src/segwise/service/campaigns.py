"""Use cases: a campaign on a run's segments, its treatment/control split, and its audience.

A campaign takes the customers of chosen segments of a finished run and splits them, once and
for good, into treatment (who get the message) and control (who do not), stratified by
segment and reproducible from a seed. Only the treatment group is ever exported.
"""

from __future__ import annotations

import re
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segwise.config import Settings, get_settings
from segwise.errors import ConfigError, InputError
from segwise.segment.campaign import check_share, grid_advice, split_arms
from segwise.segment.naming import RFM_GRID
from segwise.service.datasets import open_catalog, pseudonym_key, read_customers
from segwise.service.runs import done_run
from segwise.store.campaigns import CampaignRow, add_campaign, campaign, campaigns, members
from segwise.store.catalog import Run, now
from segwise.store.lake import pseudonym

if TYPE_CHECKING:
    import pandas as pd

VALUE_COLUMNS = ("p_alive", "expected_purchases", "expected_value", "clv", "churn_risk")
"""Per-customer value columns a run may carry; the audience keeps those present."""
CONTACT_WORDS = ("mail", "phone", "mobile", "cell", "msisdn", "sms")
MAX_NAME = 200
MAX_MESSAGE = 10_000


@dataclass(frozen=True)
class CampaignInfo:
    """A campaign as the shells show it: the sizes of its arms per segment included."""

    id: str
    name: str
    run: str
    grouping: str
    segments: list[str]
    message: str
    start: date
    control_share: float
    seed: int
    sizes: dict[str, dict[str, int]]
    created: datetime

    @classmethod
    def of(cls, row: CampaignRow) -> CampaignInfo:
        return cls(
            id=row.id,
            name=row.name,
            run=row.run_id,
            grouping=row.grouping,
            segments=list(row.segments),
            message=row.message,
            start=row.start,
            control_share=row.control_share,
            seed=int(row.seed),
            sizes={k: {a: int(n) for a, n in v.items()} for k, v in row.sizes.items()},
            created=row.created,
        )

    @property
    def treatment(self) -> int:
        return sum(s["treatment"] for s in self.sizes.values())

    @property
    def control(self) -> int:
        return sum(s["control"] for s in self.sizes.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``segwise campaign ... --json`` and the API)."""
        return {
            "id": self.id,
            "name": self.name,
            "run": self.run,
            "grouping": self.grouping,
            "segments": self.segments,
            "message": self.message,
            "start": self.start.isoformat(),
            "control_share": self.control_share,
            "seed": self.seed,
            "treatment": self.treatment,
            "control": self.control,
            "sizes": self.sizes,
            "created": self.created.isoformat(timespec="seconds"),
        }


def create_campaign(
    run_id: str,
    segments: list[str] | str,
    *,
    name: str,
    control: float = 0.1,
    start: date | str | None = None,
    message: str = "",
    seed: int | None = None,
    settings: Settings | None = None,
) -> CampaignInfo:
    """Choose the customers of ``segments`` of a finished run (by the run's segment names or
    numbers, or for a log's run by the RFM grid names; a list, or one comma-separated text),
    split them into treatment and control, and store the campaign with its split."""
    import pandas as pd

    from segwise.service.audit import record_event, require

    require("export")  # it chooses customers by name for a message
    settings = settings or get_settings()
    name = _check_name(name)
    share = check_share(control)
    when = _check_start(start)
    if len(message) > MAX_MESSAGE:
        raise InputError(f"the message is {len(message):,} characters; at most {MAX_MESSAGE:,}")
    if seed is None:
        seed = secrets.randbelow(2**31)
    elif not 0 <= seed < 2**63:
        raise InputError(f"the seed must be a whole number from 0, got {seed}")
    catalog = open_catalog(settings)
    run = done_run(catalog, run_id)
    table = pd.read_parquet(assignment_path(run, settings))
    grouping, chosen = _choose(table, segments, run)
    picked = table[table[grouping].isin(chosen)]
    if picked.empty:
        raise InputError(
            f"run {run.id} has no customer in {', '.join(chosen)}",
            hint="choose segments that hold customers",
        )
    ids = picked["customer_id"].astype(str).tolist()
    segs = picked[grouping].astype(str).tolist()
    in_control = split_arms(ids, segs, share, seed)
    arms = ["control" if c else "treatment" for c in in_control]
    counts = Counter(zip(segs, arms, strict=True))
    sizes = {s: {a: counts[(s, a)] for a in ("treatment", "control")} for s in chosen}
    row = CampaignRow(
        id="c" + secrets.token_hex(6),
        name=name,
        run_id=run.id,
        grouping=grouping,
        segments=chosen,
        message=message,
        start=when,
        control_share=share,
        seed=seed,
        sizes=sizes,
        created=now(),
    )
    rows = [
        {"customer_id": c, "segment": s, "arm": a} for c, s, a in zip(ids, segs, arms, strict=True)
    ]
    add_campaign(catalog, row, rows)
    record_event("campaign.create", row.id, {"customers": len(rows)}, settings=settings)
    return CampaignInfo.of(campaign(catalog, row.id))


def list_campaigns(*, settings: Settings | None = None) -> list[CampaignInfo]:
    """Every campaign, newest first."""
    return [CampaignInfo.of(c) for c in campaigns(open_catalog(settings))]


def get_campaign(name: str, *, settings: Settings | None = None) -> CampaignInfo:
    """The campaign with this name (or id)."""
    return CampaignInfo.of(campaign(open_catalog(settings), name))


def campaign_audience(
    name: str, *, contacts: str | Path | None = None, settings: Settings | None = None
) -> pd.DataFrame:
    """The treatment group, for the tool that sends the messages: customer_id, segment,
    advice, the run's value columns, and phone/e-mail columns of a ``contacts`` customer
    table joined by id. Control customers are never in it.

    For a run of pseudonymised data the ids stay pseudonyms, except those the contacts file
    maps (its ids are pseudonymised with the same key to find them): those get their own id.
    """
    import pandas as pd

    from segwise.service.audit import record_event, require

    require("export")
    settings = settings or get_settings()
    catalog = open_catalog(settings)
    found = campaign(catalog, name)
    run = done_run(catalog, found.run_id)
    treated = members(catalog, found.id, "treatment")
    record_event("campaign.audience", found.id, {"customers": len(treated)}, settings=settings)
    frame = pd.DataFrame(treated, columns=["customer_id", "segment", "arm"]).drop(columns="arm")
    frame["advice"] = frame["segment"].map(_advice(run, found.grouping))
    extra = [c for c in VALUE_COLUMNS if c in _assignment_columns(run, settings)]
    if extra:
        values = pd.read_parquet(assignment_path(run, settings), columns=["customer_id", *extra])
        values["customer_id"] = values["customer_id"].astype(str)
        frame = frame.merge(values, on="customer_id", how="left")
    if contacts is not None:
        frame = _join_contacts(frame, Path(contacts), run.dataset.pseudonymised, settings)
    return frame.reset_index(drop=True)


@dataclass(frozen=True)
class AudienceExport:
    """Where an audience was written, how many customers, and how many have contacts."""

    path: Path
    customers: int
    with_contacts: int | None


def export_audience(
    name: str,
    out: str | Path,
    *,
    contacts: str | Path | None = None,
    settings: Settings | None = None,
) -> AudienceExport:
    """Write a campaign's audience (``campaign_audience``) to ``out`` by its extension
    (.csv .xlsx .parquet), atomically and formula-safe."""
    from segwise.io.writers import check_output_path, write_frame

    check_output_path(out)
    frame = campaign_audience(name, contacts=contacts, settings=settings)
    path = write_frame(frame, out)
    reached = None
    if contacts is not None:
        columns = [c for c in frame.columns if _is_contact(str(c))]
        reached = int(frame[columns].notna().any(axis=1).sum())
    return AudienceExport(path, len(frame), reached)


def _choose(table: pd.DataFrame, wanted: list[str] | str, run: Run) -> tuple[str, list[str]]:
    """Which column the names are of (the run's segments, else a log's RFM grid), and the
    names as the run spells them. Segments may be given by number too (``0,2``), and as one
    comma-separated text, read against the names (a name may hold commas itself)."""
    by_number = {str(s.segment): s.name for s in run.segments}
    columns = ["segment_name"] + (["rfm_segment"] if "rfm_segment" in table.columns else [])
    for column in columns:
        present = [str(n) for n in table[column].dropna().unique()]
        if column == "rfm_segment":  # every grid name is known, with or without customers
            present += list(RFM_GRID)
        known = {n.casefold(): n for n in present}
        items = _split_names(wanted, known, by_number if column == "segment_name" else {})
        if not items:
            raise InputError("no segments given", hint='name them, e.g. "At Risk,Lost"')
        if all(w.casefold() in known for w in items):
            return column, list(dict.fromkeys(known[w.casefold()] for w in items))
    names = [s.name for s in run.segments]
    items = _split_names(wanted, {n.casefold(): n for n in names}, by_number)
    missing = [w for w in items if w.casefold() not in {n.casefold() for n in names}]
    raise InputError(
        f"run {run.id} has no segment named {', '.join(repr(m) for m in missing)}",
        hint=f"choose from {'; '.join(names)}"
        + (" (or the RFM segments of its log)" if len(columns) > 1 else ""),
    )


def _split_names(
    wanted: list[str] | str, known: dict[str, str], numbers: dict[str, str]
) -> list[str]:
    """The segment names in ``wanted``: a list as given, or a comma-separated text split so
    that the longest known names are kept whole; numbers stand for the run's segments."""
    if isinstance(wanted, str):
        parts, found, i = wanted.split(","), [], 0
        while i < len(parts):
            for j in range(len(parts), i, -1):
                candidate = ",".join(parts[i:j]).strip()
                if candidate.casefold() in known or j == i + 1:
                    found.append(candidate)
                    i = j
                    break
        wanted = found
    items = [w.strip() for w in wanted if w and w.strip()]
    return [numbers.get(w, w) for w in items]


def _advice(run: Run, grouping: str) -> dict[str, str]:
    if grouping == "segment_name":
        return {s.name: s.recommendation for s in run.segments}
    return {name: grid_advice(name) for name in RFM_GRID}


def read_contacts(path: str | Path) -> pd.DataFrame:
    """The phone/e-mail columns of a customer table, indexed by its customer id; checked
    before a campaign is created, so a bad file is refused before anything is stored."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", file=path, hint="check the contacts file's path")
    table, ident, _ = read_customers(path)
    if ident is None:
        raise InputError(
            "the contacts file has no customer id column with one distinct id per row",
            file=path,
            hint="give a customer table with an id column such as customer_id",
        )
    columns = [c for c in table.columns if _is_contact(str(c))]
    if not columns:
        raise InputError(
            "the contacts file has no phone or e-mail column",
            file=path,
            hint="name the columns e.g. email and phone",
        )
    return table[columns].astype("string")


def _join_contacts(
    frame: pd.DataFrame, path: Path, pseudonymised: bool, settings: Settings
) -> pd.DataFrame:
    table = read_contacts(path)
    table.index = table.index.astype(str)
    real = table.index.to_series(index=table.index)
    if pseudonymised:
        key = pseudonym_key(settings, True)
        if key is None:  # pragma: no cover - pseudonym_key raises when no key is set
            raise ConfigError("set SEGWISE_PSEUDONYMISE_KEY to map pseudonymised ids")
        table.index = [pseudonym(key, i) for i in table.index]
        real.index = table.index
    joined = frame.join(table, on="customer_id")
    if pseudonymised:
        mapped = joined["customer_id"].map(real)
        joined["customer_id"] = mapped.fillna(joined["customer_id"])
    return joined


def _is_contact(column: str) -> bool:
    key = re.sub(r"[^a-z]", "", column.lower())
    return key in ("tel", "telephone") or any(word in key for word in CONTACT_WORDS)


def assignment_path(run: Run, settings: Settings) -> Path:
    assert run.path is not None
    return settings.home / run.path / "assignments.parquet"


def _assignment_columns(run: Run, settings: Settings) -> list[str]:
    import pyarrow.parquet as pq

    return list(pq.read_schema(assignment_path(run, settings)).names)


def _check_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise InputError("a campaign needs a name", hint='give --name "Dec win-back"')
    if len(name) > MAX_NAME:
        raise InputError(f"the campaign name is {len(name)} characters; at most {MAX_NAME}")
    return name


def _check_start(start: date | str | None) -> date:
    if start is None:
        return date.today()
    if isinstance(start, date):
        return start
    try:
        return date.fromisoformat(start.strip())
    except ValueError:
        raise InputError(
            f"the start date '{start}' is not a date", hint="write it as YYYY-MM-DD"
        ) from None
