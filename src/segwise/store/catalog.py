"""The catalog: one database (SQLite under SEGWISE_HOME, or PostgreSQL) brought to the latest
schema by Alembic on open, plus the few queries the use cases need.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from segwise.errors import ConfigError, NotFoundError
from segwise.io.processes import alive
from segwise.store.schema import Base, Dataset, ModelRow, Run, SegmentRow

HEAD = "0004_schedules"
"""The newest migration; a catalog at this revision is opened without loading Alembic."""

__all__ = ["Base", "Catalog", "Dataset", "ModelRow", "Run", "SegmentRow", "now"]


def now() -> datetime:
    """The current time, timezone-aware (UTC), as stored in the catalog."""
    return datetime.now(UTC)


class Catalog:
    """Datasets and runs of one SEGWISE_HOME (or one shared PostgreSQL database)."""

    def __init__(self, url: str, *, fresh: bool = True) -> None:
        self.url = url
        self.engine = _engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.migrate(fresh=fresh)

    @classmethod
    def open(cls, home: Path, url: str | None = None) -> Catalog:
        """The catalog of a data folder: ``url`` when given, else SQLite at home/catalog.db."""
        if url is None:
            home.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{home / 'catalog.db'}"
        return _open(url)

    def migrate(self, *, fresh: bool = True) -> None:
        """Bring the schema to the newest revision, a no-op when it is there.

        An empty database gets the newest schema at once and is stamped at ``HEAD`` (Alembic's
        recipe for new databases: a fresh catalog costs no migration scripts); one that holds
        an older revision is upgraded by the migrations. ``fresh=False`` always runs the
        migrations (the test that holds them equal to the schema)."""
        try:
            with self.engine.connect() as con:
                revision = _revision(con)
                if revision == HEAD:
                    return
                if fresh and revision is None and not inspect(con).get_table_names():
                    _create_at_head(con)
                    con.commit()
                    return
                from alembic import command
                from alembic.config import Config

                config = Config()
                config.set_main_option("script_location", "segwise.store:migrations")
                config.attributes["connection"] = con
                command.upgrade(config, "head")
                con.commit()
        except OperationalError as error:
            raise ConfigError(
                f"cannot open the catalog at {_safe(self.url)}: {error.orig}; "
                "check SEGWISE_DATABASE_URL or SEGWISE_HOME"
            ) from None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed at the end of the block, rolled back on error."""
        with self._sessions.begin() as session:
            yield session

    # --- reads ---------------------------------------------------------------------------
    def dataset(self, ident: str) -> Dataset:
        """The dataset with this id, a unique prefix of it, or ``latest`` / ``latest~N``."""
        found: Dataset = self._one(Dataset, ident, "dataset", "segwise ingest FILE")
        return found

    def run(self, ident: str) -> Run:
        """The run with this id, a unique prefix of it, or ``latest`` / ``latest~N`` (the
        newest finished run, the finished one before it, ...), with its segments."""
        found: Run = self._one(Run, ident, "run", "segwise runs")
        return found

    def datasets(self) -> list[Dataset]:
        with self.session() as s:
            return list(s.scalars(select(Dataset).order_by(Dataset.created.desc())))

    def runs(self, *, status: Sequence[str] | None = None) -> list[Run]:
        """Runs, newest first, with their dataset loaded."""
        query = select(Run).order_by(Run.created.desc(), Run.id)
        if status:
            query = query.where(Run.status.in_(status))
        with self.session() as s:
            found = list(s.scalars(query))
            for run in found:
                _ = run.dataset, run.segments
            return found

    def segments(self, run_id: str) -> list[SegmentRow]:
        with self.session() as s:
            query = select(SegmentRow).where(SegmentRow.run_id == run_id)
            return list(s.scalars(query.order_by(SegmentRow.segment)))

    def model(self, run_id: str) -> ModelRow | None:
        with self.session() as s:
            query = select(ModelRow).where(ModelRow.run_id == run_id)
            return s.scalars(query.order_by(ModelRow.created.desc())).first()

    # --- writes --------------------------------------------------------------------------
    def rename_dataset(self, ident: str, name: str) -> Dataset:
        """Give a stored dataset a new name (its id, the content's hash, stays)."""
        with self.session() as s:
            dataset = s.get(Dataset, ident)
            if dataset is None:
                raise NotFoundError(f"no dataset '{ident}'")
            dataset.name = name
            return dataset

    def add(self, *rows: Any) -> None:
        """Insert rows in one transaction."""
        with self.session() as s:
            s.add_all(rows)

    def update_run(self, run_id: str, **values: Any) -> Run:
        """Set fields of a run in one transaction and return it."""
        with self.session() as s:
            run = s.get(Run, run_id)
            if run is None:
                raise NotFoundError(f"no run '{run_id}'")
            for key, value in values.items():
                setattr(run, key, value)
            return run

    def finish_run(
        self, run_id: str, segments: list[SegmentRow], model: ModelRow | None, **values: Any
    ) -> None:
        """Mark a run done with its segments and model, all in one transaction."""
        with self.session() as s:
            run = s.get(Run, run_id)
            if run is None:
                raise NotFoundError(f"no run '{run_id}'")
            s.add_all(segments)
            if model is not None:
                s.add(model)
            for key, value in values.items():
                setattr(run, key, value)
            run.status = "done"

    def fail_stale_runs(self) -> list[str]:
        """Mark failed the runs left queued or running by a process that is gone."""
        host = socket.gethostname()
        failed = []
        with self.session() as s:
            stale = s.scalars(select(Run).where(Run.status.in_(("queued", "running"))))
            for run in stale:
                if run.host == host and run.pid is not None and alive(run.pid):
                    continue
                if run.host not in (None, host):
                    continue  # another machine's run: it may still be working
                run.status = "failed"
                run.error = "interrupted: the process running it stopped"
                run.finished = now()
                failed.append(run.id)
        return failed

    def _one(self, table: type[Any], ident: str, what: str, hint: str) -> Any:
        ident = ident.strip()
        with self.session() as s:
            found = s.get(table, ident)
            back = _latest(ident)
            if found is None and back is not None:
                newest = select(table).order_by(table.created.desc(), table.id.desc())
                if table is Run:
                    newest = newest.where(Run.status == "done")
                found = s.scalars(newest.offset(back).limit(1)).first()
                if found is None:
                    raise NotFoundError(f"no {what} '{ident}'; list them with `{hint}`")
            elif found is None and len(ident) >= 4:
                prefix = table.id.startswith(ident, autoescape=True)  # % and _ are not wildcards
                matches = list(s.scalars(select(table).where(prefix).limit(2)))
                if len(matches) == 2:
                    raise NotFoundError(f"{what} id '{ident}' is ambiguous; give more characters")
                found = matches[0] if matches else None
            if found is None:
                raise NotFoundError(f"no {what} '{ident}'; list them with `{hint}`")
            if isinstance(found, Run):
                _ = found.dataset, found.segments
            return found


def _latest(ident: str) -> int | None:
    """How far back ``latest`` (0) or ``latest~N`` (N) reaches; None for any other id."""
    head, tilde, back = ident.partition("~")
    if head != "latest" or (tilde and not back.isdigit()):
        return None
    return int(back) if tilde else 0


@lru_cache(maxsize=8)
def _open(url: str) -> Catalog:
    return Catalog(url)


def _engine(url: str) -> Engine:
    try:
        engine = create_engine(url, pool_pre_ping=True)
    except Exception as error:
        raise ConfigError(f"SEGWISE_DATABASE_URL is not usable: {error}") from None
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_con: Any, _: Any) -> None:
            cursor = dbapi_con.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # WAL's recommended durability: never corrupt; a power cut may undo the last
            # commits, and a commit costs no fsync (an audited look-up: ~1 ms, not ~10)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    return engine


def _create_at_head(con: Any) -> None:
    """Every table of the newest schema, and Alembic's version row saying so."""
    from segwise.store import accounts  # noqa: F401 (its tables join Base's metadata)

    Base.metadata.create_all(con)
    con.execute(
        text(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
            "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
        )
    )
    con.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": HEAD})


def _revision(con: Any) -> str | None:
    if not inspect(con).has_table("alembic_version"):
        return None
    row = con.execute(text("SELECT version_num FROM alembic_version")).first()
    return str(row[0]) if row else None


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "the configured URL"
