"""Use case: did the campaign work? Treatment against control on the log after its start.

Per segment and overall: the share who bought again, spend per customer and, for a log's
run, the mean change in RFM score (R + F + M, scored again on the history up to the end of
the later log) and the share who moved to a better RFM segment (``grid_ranks``), each with
its uplift and 95% interval; lines before the start are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segwise.config import Settings, get_settings
from segwise.errors import InputError, NotFoundError
from segwise.io.duck import connect
from segwise.segment.uplift import Uplift, mean_uplift, sentence, share_uplift
from segwise.service.campaigns import CampaignInfo
from segwise.service.datasets import DatasetInfo, ingest, open_catalog
from segwise.service.runs import done_run
from segwise.store.campaigns import campaign, members
from segwise.store.catalog import Catalog, Run

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

OVERALL = "overall"


@dataclass(frozen=True)
class GroupReadout:
    """Treatment against control in one segment (or ``overall``)."""

    segment: str
    n_treatment: int
    n_control: int
    measures: list[Uplift]
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "n_treatment": self.n_treatment,
            "n_control": self.n_control,
            "summary": self.summary,
            "measures": {m.measure: m.to_dict() for m in self.measures},
        }


@dataclass(frozen=True)
class CampaignReport:
    """The read-out of a campaign: the window measured and each group's uplifts."""

    campaign: CampaignInfo
    after: str  # the dataset id of the later log
    window_start: date
    window_end: date
    groups: list[GroupReadout]

    @property
    def overall(self) -> GroupReadout:
        return next(g for g in self.groups if g.segment == OVERALL)

    def to_dict(self) -> dict[str, Any]:
        """The ``segwise campaign report --json`` answer."""
        return {
            "campaign": self.campaign.name,
            "run": self.campaign.run,
            "after": self.after,
            "window": {"from": self.window_start.isoformat(), "to": self.window_end.isoformat()},
            "groups": [g.to_dict() for g in self.groups],
        }


def campaign_report(
    name: str, after: str | Path, *, files: bool = True, settings: Settings | None = None
) -> CampaignReport:
    """Compare a campaign's treatment and control groups on ``after``: a stored log's
    dataset id or, when ``files``, a log file (stored first, pseudonymised like the run's
    data); the API passes ``files=False``, so a client never names a server path."""
    import pandas as pd

    settings = settings or get_settings()
    catalog = open_catalog(settings)
    row = campaign(catalog, name)
    info = CampaignInfo.of(row)
    run = done_run(catalog, row.run_id)
    later = _later_log(catalog, after, run, settings, files)
    people = pd.DataFrame(members(catalog, row.id), columns=["customer_id", "segment", "arm"])
    with connect(settings) as con:
        con.register("people", people)
        lines = str(settings.home / catalog.dataset(later.id).path)
        end = _window_end(con, lines, row.start, later.id)
        outcome = con.execute(
            "SELECT p.customer_id, p.segment, p.arm, "
            "coalesce(bool_or(l.quantity > 0), false) AS bought_again, "
            "coalesce(CAST(round(sum(l.value), 2) AS DOUBLE), 0.0) AS spend "
            "FROM people AS p LEFT JOIN read_parquet(?) AS l "
            "ON l.customer_id = p.customer_id AND l.day >= ? "
            "GROUP BY ALL ORDER BY p.customer_id",
            [lines, row.start],
        ).df()
        change = _rfm_change(con, run, lines, row.start, end, settings)
    if change is not None:
        outcome = outcome.merge(change, on="customer_id", how="left")
    groups = [_readout(OVERALL, outcome)]
    groups += [_readout(s, outcome[outcome["segment"] == s]) for s in info.segments]
    return CampaignReport(info, later.id, row.start, end, groups)


def _readout(segment: str, frame: pd.DataFrame) -> GroupReadout:
    treated = frame[frame["arm"] == "treatment"]
    control = frame[frame["arm"] == "control"]
    measures = [
        share_uplift("bought again", treated["bought_again"], control["bought_again"]),
        mean_uplift("spend per customer", treated["spend"], control["spend"]),
    ]
    if "rfm_change" in frame.columns:
        measures.append(
            mean_uplift("change in RFM score", treated["rfm_change"], control["rfm_change"])
        )
    if "moved_up" in frame.columns:
        measures.append(
            share_uplift(
                "moved to a better segment",
                treated["moved_up"].fillna(False).astype(bool),
                control["moved_up"].fillna(False).astype(bool),
            )
        )
    return GroupReadout(
        segment=segment,
        n_treatment=len(treated),
        n_control=len(control),
        measures=measures,
        summary=sentence(measures[0]),
    )


def _later_log(
    catalog: Catalog, after: str | Path, run: Run, settings: Settings, files: bool
) -> DatasetInfo:
    """The later log as a stored dataset: a file is ingested, with the run's pseudonyms."""
    path = Path(after)
    if files and path.is_file():
        found = ingest(
            path,
            kind="transactions",
            pseudonymise=run.dataset.pseudonymised,
            settings=settings,
        )
    else:
        try:
            found = DatasetInfo.of(catalog.dataset(str(after)))
        except NotFoundError:
            if not files:
                raise NotFoundError(
                    f"no dataset '{after}'; upload the log after the start first"
                ) from None
            raise InputError(
                f"'{after}' is neither a file nor a stored dataset",
                hint="give the log of the time after the campaign's start, or its dataset id",
            ) from None
    if found.kind != "transactions":
        raise InputError(
            f"dataset {found.id} is a customer table, not a transaction log",
            hint="a read-out needs the purchases after the campaign's start",
        )
    if found.pseudonymised != run.dataset.pseudonymised:
        raise InputError(
            f"dataset {found.id} and the campaign's run differ in pseudonymised ids",
            hint="store the later log the way the run's data was stored",
        )
    return found


def _window_end(con: duckdb.DuckDBPyConnection, lines: str, start: date, ident: str) -> date:
    found = con.execute(
        "SELECT max(day) FROM read_parquet(?) WHERE day >= ?", [lines, start]
    ).fetchone()
    if found is None or found[0] is None:
        raise InputError(
            f"dataset {ident} has no line on or after the campaign's start ({start})",
            hint="give the log of the time after the start",
        )
    end: date = found[0]
    return end


def _rfm_change(
    con: duckdb.DuckDBPyConnection,
    run: Run,
    later: str,
    start: date,
    end: date,
    settings: Settings,
) -> pd.DataFrame | None:
    """Per customer, R + F + M at the end of the later log minus at the run, scored the
    run's way on the run's lines before the start and the later lines from it; None for a
    run of a customer table."""
    import pyarrow.parquet as pq

    from segwise.features.rfm import DEFAULT_GRID, SegmentGrid, customer_lines_sql, rfm_sql
    from segwise.segment.campaign import grid_ranks
    from segwise.service.campaigns import assignment_path

    scores = str(assignment_path(run, settings))
    names = set(pq.read_schema(scores).names)
    if run.dataset.kind != "transactions" or not {"r_score", "f_score", "m_score"} <= names:
        return None
    before = str(settings.home / run.dataset.path)
    lines = (
        "SELECT customer_id, day, invoice, value, quantity < 0 AS is_return, "
        "CAST(NULL AS VARCHAR) AS reason FROM read_parquet(?) WHERE day < ? "
        "UNION ALL SELECT customer_id, day, invoice, value, quantity < 0, NULL "
        "FROM read_parquet(?) WHERE day >= ?"
    )
    con.execute(f"CREATE TEMP TABLE combined AS {lines}", [before, start, later, start])
    params = run.params
    grid = DEFAULT_GRID
    if params.get("grid"):  # the run's own grid, as runs record it
        grid = SegmentGrid({(int(r), int(fm)): str(n) for r, fm, n in params["grid"]})
    bins = int(params.get("bins", 5))
    as_of = end + timedelta(days=1)
    scored = rfm_sql(customer_lines_sql("combined"), as_of=as_of, bins=bins, grid=grid)
    before_segment = "a.rfm_segment" if "rfm_segment" in names else "CAST(NULL AS VARCHAR)"
    found = con.execute(
        "SELECT a.customer_id, (n.r_score + n.f_score + n.m_score) "
        "- (a.r_score + a.f_score + a.m_score) AS rfm_change, "
        f"{before_segment} AS segment_before, n.segment AS segment_after "
        f"FROM read_parquet(?) AS a JOIN ({scored}) AS n USING (customer_id) "
        "JOIN people AS p ON p.customer_id = a.customer_id",
        [scores],
    ).df()
    if "rfm_segment" in names:
        rank = grid_ranks(grid.cells)
        found["moved_up"] = found["segment_after"].map(rank) > found["segment_before"].map(rank)
    return found.drop(columns=["segment_before", "segment_after"])
