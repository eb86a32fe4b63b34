"""The catalog: content-addressed datasets, atomic runs, runs over time; SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from segwise import service
from segwise.config import get_settings
from segwise.demo import generate_log, write_log
from segwise.errors import InputError, NotFoundError
from segwise.service.segments import SegmentOptions
from segwise.store.catalog import HEAD, Catalog


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return write_log(generate_log(400, seed=5).lines, tmp_path / "shop.csv", style="uk")


def test_same_content_gives_the_same_dataset(backend, data, tmp_path):
    first = service.ingest(data / "retail_uk.csv")
    copy = tmp_path / "renamed.csv"
    shutil.copyfile(data / "retail_uk.csv", copy)
    again = service.ingest(copy, name="another name")
    assert again.id == first.id
    assert len(service.list_datasets()) == 1
    assert not first.stored_before and again.stored_before  # said, not silent
    assert (again.renamed_from, again.name) == ("retail_uk.csv", "another name")
    assert service.list_datasets()[0].name == "another name"
    unnamed = service.ingest(copy)
    assert unnamed.name == "another name" and unnamed.renamed_from is None
    assert first.rows == 26 and first.customers == 7
    assert first.dropped == {"adjustment": 4, "no_customer_id": 2, "no_purchase": 1}
    later = service.ingest(data / "retail_uk.csv", options=service.RfmOptions(as_of=None, bins=4))
    assert later.id == first.id  # bins change runs, not what is stored
    earlier = service.ingest(
        data / "retail_uk.csv", options=service.RfmOptions(as_of=pd.Timestamp("2010-12-08").date())
    )
    assert earlier.id != first.id and earlier.dropped["after_as_of"] > 0


def test_a_run_on_a_dataset_gives_the_file_s_rfm(backend, data):
    dataset = service.ingest(data / "retail_uk.csv")
    run, _ = service.run_segment(dataset.id, SegmentOptions(k=2), classifier=False)
    got = service.read_assignments(run.id).set_index("customer_id").sort_index()
    want = pd.read_csv(data / "retail_expected.csv", dtype={"customer_id": str})
    want = want.set_index("customer_id").sort_index()
    assert list(got.index) == list(want.index)
    for column in ("recency", "frequency", "monetary", "r_score", "f_score", "m_score"):
        np.testing.assert_allclose(got[column].to_numpy(float), want[column].to_numpy(float))
    assert (got["rfm_segment"] == want["segment"]).all()
    assert run.summary["rfm"]["report"]["dropped"] == dataset.dropped


def test_rfm_once_the_run_reads_what_the_ingest_computed(backend, data, monkeypatch):
    import segwise.service.segments as segments

    dataset = service.ingest(data / "retail_uk.csv")
    stored = service.dataset_file(dataset.id)
    cache = stored.with_name(f"{stored.stem}.rfm-{dataset.as_of}-5.parquet")
    assert cache.is_file()
    recompute = segments.compute_rfm

    def refuse(*args, **kwargs):
        raise AssertionError("the run aggregated the lines again")

    monkeypatch.setattr(segments, "compute_rfm", refuse)
    cached, _ = service.run_segment(dataset.id, SegmentOptions(k=2))  # reads the kept RFM
    cache.unlink()
    with pytest.raises(AssertionError, match="again"):
        service.run_segment(dataset.id, SegmentOptions(k=2))
    monkeypatch.setattr(segments, "compute_rfm", recompute)
    again, _ = service.run_segment(dataset.id, SegmentOptions(k=2))  # the lines, aggregated
    a = service.read_assignments(cached.id)
    b = service.read_assignments(again.id)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    assert a["r_score"].max() == 5
    four = service.RfmOptions(bins=4)  # other options: not the ingest's RFM
    quartiles, _ = service.run_segment(dataset.id, SegmentOptions(k=2, rfm=four))
    assert service.read_assignments(quartiles.id)["r_score"].max() == 4


def test_run_is_recorded_with_segments_model_and_timings(backend, shop):
    run, seg = service.run_segment(shop, SegmentOptions(seed=1), classifier=True)
    assert run.status == "done" and run.k == seg.k
    assert [s["name"] for s in service.run_segments(run.id)] == seg.names
    folder = service.run_files(run.id)
    names = {p.name for p in folder.iterdir()}
    assert {"assignments.parquet", "model.skops", "projection.parquet", "standing.json"} <= names
    assert set(run.timings) >= {"ingest_s", "segment_s", "classifier_s", "store_s"}
    assert run.to_dict(full=True)["classifier"]["macro_f1"] > 0.9
    assert "classifier.skops" in names  # the surrogate, beside the run's own model
    second, _ = service.run_segment(shop, SegmentOptions(seed=2))
    assert "classifier.skops" not in {p.name for p in service.run_files(second.id).iterdir()}
    assert "classifier_s" not in second.timings and second.to_dict(full=True)["classifier"] == {}
    assert [r.id for r in service.list_runs()] == [second.id, run.id]
    assert service.get_run(run.id[:6]).id == run.id  # a unique prefix will do


def test_a_failing_run_is_marked_failed_and_leaves_no_files(backend, shop, tmp_path):
    bad_rules = tmp_path / "rules.csv"
    bad_rules.write_text("nonsense\n1,2,3\n")
    queued = service.start_run(shop, SegmentOptions(rules=bad_rules))
    with pytest.raises(InputError):
        service.execute_run(queued.id)
    failed = service.get_run(queued.id)
    assert failed.status == "failed" and failed.error
    runs_folder = get_settings().home / "runs"
    assert not runs_folder.exists() or not any(runs_folder.iterdir())


def test_unknown_ids_are_one_line_errors(backend, cli):
    with pytest.raises(NotFoundError):
        service.get_run("rnothere")
    result = cli("segment", "dnothere")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "neither a file nor a stored dataset" in result.stderr
    assert cli("compare", "rnone1", "rnone2").exit_code == 2
    assert cli("customer", "rnone1", "42").exit_code == 2


KILLED_RUN = """
import os, sys, time
from pathlib import Path
from segwise import service
queued = service.start_run(sys.argv[1])
def step(message):
    if message == "checking stability":
        Path(sys.argv[2]).write_text(queued.id)
        time.sleep(600)
service.execute_run(queued.id, progress=step)
"""


def test_a_killed_run_never_shows_as_done_and_harms_no_earlier_run(backend, shop, tmp_path):
    earlier, _ = service.run_segment(shop, classifier=False)
    before = service.read_assignments(earlier.id)
    flag = tmp_path / "running"
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(KILLED_RUN))
    child = subprocess.Popen([sys.executable, str(script), str(shop), str(flag)], env=os.environ)
    deadline = time.monotonic() + 120
    while not flag.exists():
        assert child.poll() is None, "the run ended before it could be killed"
        if time.monotonic() > deadline:  # a bound on the wait, not a speed check
            pytest.fail("the run never started")
        time.sleep(0.1)
    assert service.get_run(flag.read_text()).status == "running"
    child.send_signal(signal.SIGKILL)
    child.wait()
    killed = {r.id: r for r in service.list_runs()}[flag.read_text()]
    assert killed.status == "failed" and "interrupted" in (killed.error or "")
    assert service.get_run(earlier.id).status == "done"
    pd.testing.assert_frame_equal(service.read_assignments(earlier.id), before)
    leftovers = [p.name for p in (get_settings().home / "runs").iterdir()]
    assert leftovers == [earlier.id]


def test_like_keeps_segments_and_compare_reports_migration_and_drift(backend, shop, tmp_path):
    base, seg = service.run_segment(shop, SegmentOptions(seed=3))
    same, again = service.run_segment(shop, like="latest", classifier=False)
    assert same.params["like"] == base.id  # `latest` is the newest run before this one
    assert again.names == seg.names
    assert again.summary()["k_reason"].startswith(f"k = {seg.k}: the earlier run's segments")
    report = service.compare_runs(base.id, same.id)
    counts = np.array(report["migration"]["counts"])
    assert np.array_equal(counts, np.diag(np.bincount(seg.labels)))
    assert report["customers"] == {"shared": 400, "new": 0, "lost": 0, "same_segment_name": 400}
    assert all(v == 0 for v in report["drift"].values())

    later = generate_log(450, seed=9).lines
    shifted = write_log(later, tmp_path / "shop_later.csv", style="uk")
    moved, _ = service.run_segment(shifted, like=base.id, classifier=False)
    report = service.compare_runs(base.id, moved.id)
    a = set(service.read_assignments(base.id).customer_id)
    b = set(service.read_assignments(moved.id).customer_id)
    assert report["customers"]["shared"] == len(a & b)
    assert report["customers"]["new"] == len(b - a) and report["customers"]["lost"] == len(a - b)
    assert np.array(report["migration"]["counts"]).sum() == len(a & b)
    assert report["migration"]["from"] == report["migration"]["to"] == seg.names
    assert set(report["drift"]) == {"recency", "frequency", "monetary"}


def test_runs_and_datasets_by_latest_and_exact_prefixes(backend, shop, data):
    first, _ = service.run_segment(shop, SegmentOptions(k=2), classifier=False)
    second, _ = service.run_segment(data / "retail_uk.csv", SegmentOptions(k=2), classifier=False)
    catalog = Catalog.open(get_settings().home, get_settings().database_url)
    assert catalog.run("latest").id == second.id
    assert catalog.run("latest~1").id == first.id
    assert catalog.dataset("latest").id == second.dataset
    with pytest.raises(NotFoundError):
        catalog.run("latest~2")
    for wildcard in ("%%%%", "____", "r%", "latest~x"):  # never a LIKE pattern
        with pytest.raises(NotFoundError):
            catalog.run(wildcard)
    catalog.update_run(second.id, status="failed")
    assert catalog.run("latest").id == first.id  # latest means the newest finished run


def test_match_numbers_a_refit_after_the_earlier_run(backend, shop):
    base, _ = service.run_segment(shop, SegmentOptions(seed=0))
    matched, _ = service.run_segment(shop, SegmentOptions(seed=11), match=base.id)
    a = service.read_assignments(base.id).set_index("customer_id").segment
    b = service.read_assignments(matched.id).set_index("customer_id").segment
    assert (a == b.loc[a.index]).mean() > 0.95  # same planted groups, same ids


def test_customer_look_up(backend, data, cli):
    dataset = service.ingest(data / "retail_uk.csv")
    run, _ = service.run_segment(dataset.id, SegmentOptions(k=2), classifier=False)
    want = pd.read_csv(data / "retail_expected.csv", dtype={"customer_id": str})
    for row in want.itertuples():
        found = service.lookup_customer(run.id, row.customer_id)
        assert found["features"]["monetary"] == pytest.approx(row.monetary)
        assert found["rfm"]["rfm_code"] == str(row.rfm_code)
        assert sum(m["spend"] for m in found["history"]) == pytest.approx(row.monetary)
        assert sum(m["purchases"] for m in found["history"]) == row.frequency
        assert all(0 <= p <= 100 for p in found["standing"].values())
    best = service.lookup_customer(run.id, want.sort_values("monetary").customer_id.iloc[-1])
    assert best["standing"]["monetary"] >= 90
    assert best["top_products"][0]["spend"] >= best["top_products"][-1]["spend"]
    with pytest.raises(NotFoundError):
        service.lookup_customer(run.id, "99999")
    shown = cli("customer", run.id, "12583", "--json")
    assert shown.exit_code == 0 and json.loads(shown.stdout)["customer_id"] == "12583"


def test_pseudonymised_ids_never_reach_storage_or_exports(
    backend, data, cli, monkeypatch, tmp_path
):
    assert cli("ingest", data / "retail_uk.csv", "--pseudonymise").exit_code == 2  # no key
    key = "k" * 24 + "-secret"
    monkeypatch.setenv("SEGWISE_PSEUDONYMISE_KEY", key)
    get_settings.cache_clear()
    out = tmp_path / "segments.csv"
    result = cli("segment", data / "retail_uk.csv", "--pseudonymise", "--k", "2", "--out", out)
    assert result.exit_code == 0, result.stderr
    real = set(pd.read_csv(data / "retail_expected.csv", dtype=str).customer_id)
    exported = set(pd.read_csv(out, dtype=str).customer_id)
    assert len(exported) == len(real) and not exported & real
    home = get_settings().home
    for parquet in home.rglob("*.parquet"):
        stored = pd.read_parquet(parquet)
        if "customer_id" in stored:
            assert not set(stored.customer_id.astype(str)) & real, parquet
    for blob in home.rglob("*"):
        if blob.is_file():
            assert key.encode() not in blob.read_bytes(), blob
    run = service.list_runs()[0]
    assert service.lookup_customer(run.id, "12583")["customer_id"] in exported


@pytest.mark.parametrize("fresh", [False, True], ids=["by-migrations", "created-at-head"])
def test_schema_matches_the_migrations(backend, fresh):
    """Both ways a catalog gets its schema (the migrations one by one, or an empty database
    created at the newest revision) give the schema the code declares."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(settings.database_url or f"sqlite:///{settings.home / 'c.db'}", fresh=fresh)
    with catalog.engine.connect() as con:
        assert con.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == HEAD
        from segwise.store import accounts  # noqa: F401 (its tables join Base's metadata)
        from segwise.store.schema import Base

        diff = compare_metadata(MigrationContext.configure(con), Base.metadata)
    assert diff == []


def test_a_created_catalog_has_the_migrated_tables_indexes_and_keys(tmp_path):
    """Beyond what autogenerate compares: index and constraint names, which later migrations
    may drop by name, are the same whichever way the catalog was made."""
    from sqlalchemy import inspect

    def shape(fresh: bool) -> dict[str, object]:
        engine = Catalog(f"sqlite:///{tmp_path / f'{fresh}.db'}", fresh=fresh).engine
        found = inspect(engine)
        return {
            table: (
                [(c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(table)],
                sorted(
                    (i["name"], tuple(i["column_names"]), i["unique"])
                    for i in found.get_indexes(table)
                ),
                sorted(
                    (u["name"] or "", tuple(u["column_names"]))
                    for u in found.get_unique_constraints(table)
                ),
                sorted(
                    (tuple(f["constrained_columns"]), f["referred_table"])
                    for f in found.get_foreign_keys(table)
                ),
                found.get_pk_constraint(table)["constrained_columns"],
            )
            for table in sorted(found.get_table_names())
        }

    migrated, created = shape(False), shape(True)
    assert set(migrated) == set(created) and len(created) >= 13
    for table in migrated:
        assert migrated[table] == created[table], table


def test_cli_ingest_segment_runs(cli, shop):
    ingested = cli("ingest", shop, "--json")
    assert ingested.exit_code == 0, ingested.stderr
    dataset = json.loads(ingested.stdout)
    assert dataset["customers"] == 400 and set(dataset["dropped"]) <= {
        "adjustment",
        "no_customer_id",
        "no_purchase",
    }
    segmented = cli("segment", dataset["id"], "--json", "--no-classifier")
    assert segmented.exit_code == 0, segmented.stderr
    run = json.loads(segmented.stdout)["run"]
    listed = json.loads(cli("runs", "--json").stdout)
    assert listed[0]["id"] == run and listed[0]["status"] == "done"
    assert "done" in cli("runs").stdout


def test_a_log_cut_two_months_earlier_compares_with_the_full_log(backend, tmp_path, cli):
    lines = generate_log(500, seed=13).lines.to_pandas()
    full = write_log(pa.Table.from_pandas(lines), tmp_path / "full.parquet")
    days = pd.to_datetime(lines["InvoiceDate"])
    cut = lines[days < days.max() - pd.Timedelta(days=61)]
    early = write_log(pa.Table.from_pandas(cut, preserve_index=False), tmp_path / "cut.parquet")
    first, _ = service.run_segment(early, classifier=False)
    second, _ = service.run_segment(full, classifier=False)
    shown = cli("compare", first.id, second.id, "--json")
    assert shown.exit_code == 0, shown.stderr
    report = json.loads(shown.stdout)
    a = set(service.read_assignments(first.id).customer_id)
    b = set(service.read_assignments(second.id).customer_id)
    assert a <= b and report["customers"]["lost"] == 0
    assert report["customers"]["shared"] == len(a) and report["customers"]["new"] == len(b - a)
    counts = np.array(report["migration"]["counts"])
    assert counts.shape == (first.k, second.k) and counts.sum() == len(a)
    assert set(report["drift"]) == {"recency", "frequency", "monetary"}
    assert report["drift"]["recency"] > 0.01  # two more months move recency
    assert cli("compare", first.id, second.id).exit_code == 0


def test_a_run_records_the_installed_versions_of_what_decides_its_numbers():
    """Read from the loaded modules where they are, they still say what is installed."""
    import sys
    from importlib.metadata import version

    import sklearn  # noqa: F401  loaded: its __version__ is read

    from segwise.service.run_tables import PACKAGES, versions

    found = versions()
    assert "sklearn" in sys.modules
    for package, _ in PACKAGES:
        assert found[package] == version(package)


def test_a_log_keeps_one_name_per_product_code_beside_its_lines(backend, shop, tmp_path):
    import duckdb

    from segwise.service import lookup
    from segwise.store.lake import product_names_path

    raw = pd.read_csv(shop, sep=";", dtype=str, keep_default_na=False)
    code = raw.StockCode[raw.CustomerID != ""].iloc[0]
    raw.loc[raw.index[(raw.StockCode == code) & (raw.CustomerID != "")][0], "Description"] = (
        "ZZ RENAMED"  # one line names the code otherwise: the stored name is the largest
    )
    renamed = tmp_path / "renamed.csv"
    raw.to_csv(renamed, sep=";", index=False)
    run, _ = service.run_segment(renamed, SegmentOptions(k=2, value=False))
    lines = service.dataset_file(run.dataset)
    stored = pd.read_parquet(lines)
    assert list(stored.columns) == ["customer_id", "day", "invoice", "value", "quantity", "product"]
    names = pd.read_parquet(product_names_path(lines)).set_index("product")["name"]
    assert set(stored["product"]) <= set(names.index)  # every line's, kept or not (POST...)
    assert names.to_dict() == raw.groupby("StockCode").Description.max().to_dict()
    assert names[code] == "ZZ RENAMED"
    shown = {}
    for buyer in stored.customer_id[stored["product"] == code].unique():
        found = service.lookup_customer(run.id, buyer)["top_products"]
        assert 0 < len(found) <= lookup.TOP_PRODUCTS
        assert all(p["name"] == names[p["product"]] for p in found)
        shown |= {p["product"]: p["name"] for p in found}
        if code in shown:
            break
    assert shown[code] == "ZZ RENAMED"
    # a log stored before the names were kept apart had a name on each line: still shown
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT l.*, n.name AS description FROM '{lines}' AS l LEFT JOIN "
            f"'{product_names_path(lines)}' AS n USING (product)) TO '{tmp_path / 'old.parquet'}'"
        )
    shutil.move(tmp_path / "old.parquet", lines)
    product_names_path(lines).unlink()
    lookup._view.cache_clear()
    assert service.lookup_customer(run.id, buyer)["top_products"] == found
