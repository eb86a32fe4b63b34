"""Schedules and alerts: a scheduled source re-segmented like its previous run, compared, and
alerted on — checked against a local webhook receiver and a local SMTP sink on loopback.

The data plant the change: a shop whose next month is its last month moved on by 31 days
(the same customers buying the same way: nothing to alert on), and a shop where almost
nobody bought for five months (recency drifts, customers slide to worse segments).
"""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from segwise import service
from segwise.config import get_settings
from segwise.demo import END, generate_log, write_log
from segwise.errors import InputError, NotAllowedError
from segwise.segment.thresholds import Thresholds, segment_standing, worse_share
from segwise.service import alerts as alert_use_cases, notify
from segwise.service.schedules import next_start, parse_moment, period_of
from segwise.store import schedules as store
from segwise.store.catalog import Catalog

CUSTOMERS = 300
K = "4"


# --- loopback receivers ------------------------------------------------------------------------
@dataclass
class Webhook:
    """A local HTTP server taking JSON POSTs; ``answers`` are the status codes to give, in order
    (then 200)."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            hook.received.append(json.loads(body))
            self.send_response(hook.answers.pop(0) if hook.answers else 200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/t0ken"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hook
    server.shutdown()
    server.server_close()


@dataclass
class Mailbox:
    port: int
    messages: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)


@pytest.fixture
def smtp_sink() -> Iterator[Mailbox]:
    """A minimal SMTP server on loopback that keeps every message it is given."""
    box = Mailbox(port=0)

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            self.say("220 sink ready")
            data: list[str] | None = None
            while line := self.rfile.readline(65_536):
                text = line.decode().rstrip("\r\n")
                if data is not None:
                    if text == ".":
                        box.messages.append("\n".join(data))
                        data = None
                        self.say("250 kept")
                    else:
                        data.append(text[1:] if text.startswith("..") else text)
                    continue
                verb = text[:4].upper()
                if verb == "EHLO":
                    self.say("250-sink\r\n250 8BITMIME")
                elif verb == "RCPT":
                    box.recipients.append(text.split(":", 1)[1].strip(" <>"))
                    self.say("250 ok")
                elif verb == "DATA":
                    data = []
                    self.say("354 go on")
                elif verb == "QUIT":
                    self.say("221 bye")
                    return
                else:
                    self.say("250 ok")

        def say(self, text: str) -> None:
            self.wfile.write(text.encode() + b"\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    box.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box
    server.shutdown()
    server.server_close()


@pytest.fixture
def mail_settings(smtp_sink: Mailbox, monkeypatch: pytest.MonkeyPatch) -> Mailbox:
    monkeypatch.setenv("SEGWISE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SEGWISE_SMTP_PORT", str(smtp_sink.port))
    get_settings.cache_clear()
    return smtp_sink


# --- shops with planted months -----------------------------------------------------------------
def this_month(path: Path) -> Path:
    return write_log(generate_log(CUSTOMERS, seed=3).lines, path)


def quiet_month(path: Path) -> Path:
    """The same customers, buying the same way, 31 days later: every RFM value as before."""
    return write_log(generate_log(CUSTOMERS, seed=3, end=END + timedelta(days=31)).lines, path)


def stalled_months(path: Path) -> Path:
    """Five months later, and only one customer bought since: everyone else's recency grows."""
    lines = generate_log(CUSTOMERS, seed=3).lines
    late = lines.slice(lines.num_rows - 3)
    column = lines.schema.get_field_index("InvoiceDate")
    stamp = pa.array([datetime(2012, 5, 9, 10)] * 3, lines.schema.field("InvoiceDate").type)
    return write_log(pa.concat_tables([lines, late.set_column(column, "InvoiceDate", stamp)]), path)


def at(days: float) -> str:
    """An ISO time ``days`` after now (schedules added now are due at once)."""
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def run_due(cli: Any, now: str) -> list[dict[str, Any]]:
    result = cli("schedule", "run-due", "--now", now, "--json")
    assert result.exit_code == 0, result.stderr
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return found


# --- the done-when tests -----------------------------------------------------------------------
def test_planted_drift_fires_the_webhook_and_the_email(
    cli, tmp_path, webhook, mail_settings, segwise_home
):
    shop = this_month(tmp_path / "shop.parquet")
    added = cli(
        "schedule", "add", "shop", "--source", shop, "--every", "month", "--k", K,
        "--webhook", webhook.url, "--email", "ops@example.org, owner@example.org",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    first = run_due(cli, at(0.01))
    assert [o["status"] for o in first] == ["done"] and first[0]["alerts"] == []
    assert webhook.received == [] and mail_settings.messages == []  # nothing to compare yet

    stalled_months(shop)
    second = run_due(cli, at(40))
    outcome = second[0]
    assert outcome["status"] == "done" and outcome["previous_run"] == first[0]["run"]
    kinds = {a["kind"] for a in outcome["alerts"]}
    assert {"psi", "worse_share"} <= kinds
    psi = next(a for a in outcome["alerts"] if a["kind"] == "psi")
    assert "recency" in psi["message"] and psi["value"] >= 0.25
    assert outcome["measures"]["drift"]["frequency"] < 0.25  # nobody bought: counts stay
    assert outcome["measures"]["worse_share"] >= 0.2
    # --like semantics: the new run placed customers with the previous run's segments
    run = service.get_run(outcome["run"])
    assert run.params["like"] == first[0]["run"]
    assert [s["name"] for s in service.run_segments(outcome["run"])] == [
        s["name"] for s in service.run_segments(first[0]["run"])
    ]

    assert len(webhook.received) == 1
    posted = webhook.received[0]
    assert posted["schedule"] == "shop" and posted["run"] == outcome["run"]
    assert {a["kind"] for a in posted["alerts"]} == kinds
    assert outcome["delivery"] == {"webhook": "sent", "email": "sent"}
    assert len(mail_settings.messages) == 1
    assert sorted(mail_settings.recipients) == ["ops@example.org", "owner@example.org"]
    assert "alert" in mail_settings.messages[0] and "recency drifted" in mail_settings.messages[0]

    listed = cli("alerts", "list", "--json")
    alerts = json.loads(listed.stdout)
    assert {a["kind"] for a in alerts} == kinds
    assert all(a["delivery"] == {"webhook": "sent", "email": "sent"} for a in alerts)
    shown = cli("schedule", "list", "--json").stdout
    assert "t0ken" not in shown  # a webhook's path may carry a token: shown by host only
    assert json.loads(shown)[0]["last_run"] == outcome["run"]


def test_a_month_like_the_last_does_not_alert(cli, tmp_path, webhook, mail_settings):
    shop = this_month(tmp_path / "shop.parquet")
    cli(
        "schedule", "add", "shop", "--source", shop, "--every", "month", "--k", K,
        "--webhook", webhook.url, "--email", "ops@example.org",
    )  # fmt: skip
    run_due(cli, at(0.01))
    quiet_month(shop)
    outcome = run_due(cli, at(40))[0]
    assert outcome["status"] == "done" and outcome["alerts"] == []
    assert max(outcome["measures"]["drift"].values()) < 0.1
    assert outcome["measures"]["worse_share"] < 0.05
    assert webhook.received == [] and mail_settings.messages == []
    assert json.loads(cli("alerts", "list", "--json").stdout) == []
    # no new data at all: nothing is run again, nothing alerts
    unchanged = run_due(cli, at(80))[0]
    assert unchanged["status"] == "unchanged" and unchanged["run"] is None


def test_a_failed_run_alerts_and_the_other_schedules_still_run(cli, tmp_path, webhook, backend):
    broken = tmp_path / "broken.csv"
    broken.write_text("customer,date,amount\n1,2024-01-01,5\n")
    shop = this_month(tmp_path / "shop.parquet")
    for name, source in (("a-broken", broken), ("b-shop", shop)):
        added = cli(
            "schedule", "add", name, "--source", source, "--every", "week", "--k", K,
            "--webhook", webhook.url,
        )  # fmt: skip
        assert added.exit_code == 0, added.stderr
    broken.write_text("this is not a log\n")
    outcomes = {o["schedule"]: o for o in run_due(cli, at(0.01))}
    assert outcomes["a-broken"]["status"] == "failed" and outcomes["a-broken"]["error"]
    assert outcomes["b-shop"]["status"] == "done" and outcomes["b-shop"]["run"]
    assert [a["kind"] for a in outcomes["a-broken"]["alerts"]] == ["failed"]
    assert len(webhook.received) == 1 and webhook.received[0]["schedule"] == "a-broken"
    assert webhook.received[0]["alerts"][0]["kind"] == "failed"
    assert [a["kind"] for a in json.loads(cli("alerts", "list", "--json").stdout)] == ["failed"]
    # the failed period is recorded, and the schedule is due again next week
    listed = {s["name"]: s for s in json.loads(cli("schedule", "list", "--json").stdout)}
    assert listed["a-broken"]["last_run"] is None
    assert datetime.fromisoformat(listed["a-broken"]["next_due"]) > datetime.now(UTC)


def test_run_due_twice_in_a_period_does_nothing_and_a_held_period_is_skipped(
    cli, tmp_path, backend
):
    shop = this_month(tmp_path / "shop.parquet")
    cli("schedule", "add", "shop", "--source", shop, "--every", "day", "--k", K)
    now = at(0.001)
    assert [o["status"] for o in run_due(cli, now)] == ["done"]
    assert run_due(cli, now) == []  # not due again until tomorrow
    runs = service.list_runs()
    assert len(runs) == 1
    # tomorrow, another process (alive: this one) holds the period: this call leaves it alone
    settings = get_settings()
    catalog = Catalog.open(settings.home, settings.database_url)
    row = store.schedule(catalog, "shop")
    tomorrow = parse_moment(at(1.5))
    held = store.claim_period(
        catalog, row.id, period_of(tomorrow, "day"), "pheld", timedelta(hours=6)
    )
    assert held is not None
    assert [o["status"] for o in run_due(cli, tomorrow.isoformat())] == ["skipped"]
    assert len(service.list_runs()) == 1
    # a claim older than the lock's limit is taken over
    assert store.claim_period(catalog, row.id, period_of(tomorrow, "day"), "p2", timedelta(0))


def test_first_run_with_like_follows_and_compares_with_that_run(cli, tmp_path, webhook):
    shop = this_month(tmp_path / "shop.parquet")
    first = cli("segment", shop, "--k", K, "--json")
    earlier = json.loads(first.stdout)["run"]
    stalled_months(shop)
    cli(
        "schedule", "add", "shop", "--source", shop, "--every", "month", "--like", "latest",
        "--webhook", webhook.url,
    )  # fmt: skip
    outcome = run_due(cli, at(0.01))[0]
    assert outcome["previous_run"] == earlier
    assert service.get_run(outcome["run"]).params["like"] == earlier
    assert "worse_share" in {a["kind"] for a in outcome["alerts"]}
    assert len(webhook.received) == 1


def test_per_schedule_thresholds_override_the_settings(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("SEGWISE_ALERT_PSI", "0.001")
    get_settings.cache_clear()
    shop = this_month(tmp_path / "shop.parquet")
    for name, extra in (("strict", []), ("lenient", ["--psi", "50", "--size-shift", "100"])):
        cli(
            "schedule", "add", name, "--source", shop, "--every", "month", "--k", K,
            "--worse-share", "1", *extra,
        )  # fmt: skip
    run_due(cli, at(0.01))
    stalled_months(shop)
    outcomes = {o["schedule"]: o for o in run_due(cli, at(40))}
    assert "psi" in {a["kind"] for a in outcomes["strict"]["alerts"]}
    assert outcomes["lenient"]["alerts"] == []
    assert outcomes["lenient"]["measures"]["thresholds"]["psi"] == 50


# --- delivery ----------------------------------------------------------------------------------
def test_webhook_retries_server_errors_but_not_refusals(webhook, monkeypatch):
    monkeypatch.setattr(notify, "RETRY_PAUSE_S", 0.01)
    settings = get_settings()
    webhook.answers = [503, 502]
    assert notify.post_webhook(webhook.url, {"n": 1}, settings) == "sent"
    assert len(webhook.received) == 3
    webhook.answers = [404]
    assert notify.post_webhook(webhook.url, {"n": 2}, settings) == "failed after 1 try: HTTP 404"
    webhook.answers = [500, 500, 500]
    assert notify.post_webhook(webhook.url, {"n": 3}, settings).startswith("failed after 3 tries")


def test_unreachable_receivers_fail_in_words_without_secrets(monkeypatch):
    monkeypatch.setattr(notify, "RETRY_PAUSE_S", 0.01)
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = get_settings().model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "alert_webhook_retries": 1}
    )
    state = notify.post_webhook(f"http://127.0.0.1:{port}/secret-path", {}, settings)
    assert state.startswith("failed after 2 tries") and "secret" not in state
    assert notify.send_email(["a@example.org"], "s", "t", settings).startswith("failed")
    nothing = get_settings().model_copy(update={"smtp_host": None})
    assert "SEGWISE_SMTP_HOST" in notify.send_email(["a@example.org"], "s", "t", nothing)


# --- pure parts --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("moment", "every", "period", "start"),
    [
        ("2026-12-31T23:59", "day", "2026-12-31", "2027-01-01T00:00"),
        ("2026-12-31T23:59", "month", "2026-12", "2027-01-01T00:00"),
        ("2026-02-14T08:00", "month", "2026-02", "2026-03-01T00:00"),
        ("2026-12-02T08:00", "week", "2026-W49", "2026-12-07T00:00"),  # a Wednesday
        ("2026-12-07T00:00", "week", "2026-W50", "2026-12-14T00:00"),  # a Monday
        ("2027-01-01T10:00+03:00", "day", "2027-01-01", "2027-01-02T00:00"),  # 07:00 UTC
    ],
)
def test_periods_and_next_due(moment, every, period, start):
    when = parse_moment(moment)
    assert period_of(when, every) == period
    assert next_start(when, every) == parse_moment(start)


def test_worse_share_follows_the_segments_standing():
    profiles = [
        {"z": {"recency": -1.0, "frequency": 1.0, "monetary": 1.5}},  # the best customers
        {"z": {"recency": 1.0, "frequency": -1.0, "monetary": -1.0}},  # the worst
        {"z": {"recency": 0.0, "frequency": 0.0, "monetary": 0.0}},
    ]
    standing = segment_standing(profiles)
    assert standing is not None and standing[0] > standing[2] > standing[1]
    import numpy as np

    counts = np.array([[10, 5, 5], [0, 20, 10], [0, 0, 50]])  # 10 fell: 0->1, 0->2
    assert worse_share(counts, standing) == pytest.approx(10 / 100)
    assert segment_standing([{"z": {"age": 1.0}}]) is None


# --- bad input and roles -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--source", "postgresql://me:pw@db/shop", "--table", "t"], "password"),
        (["--source", "sqlite:///x.db"], "--table or --query"),
        (["--source", "missing.csv"], "does not exist"),
        (["--source", "{shop}", "--table", "t"], "read from a database"),
        (["--source", "{shop}", "--every", "year"], "--every 'year'"),
        (["--source", "{shop}", "--psi", "0"], "--psi 0"),
        (["--source", "{shop}", "--worse-share", "2"], "--worse-share 2"),
        (["--source", "{shop}", "--webhook", "ftp://x/y"], "not an http(s) URL"),
        (["--source", "{shop}", "--email", "nobody"], "e-mail addresses"),
        (["--source", "{shop}", "--webhook", "https://x/" + "a" * 2000], "characters long"),
        (["--source", "{shop}", "--k", "1"], "--k 1"),
        (["--source", "{shop}", "--like", "rnothere"], "rnothere"),
    ],
)
def test_bad_schedules_are_refused_in_one_line(cli, tmp_path, args, says):
    shop = this_month(tmp_path / "shop.parquet")
    args = [str(shop) if a == "{shop}" else a for a in args]
    if "--every" not in args:
        args += ["--every", "month"]
    result = cli("schedule", "add", "x", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "pw" not in result.stderr
    assert json.loads(cli("schedule", "list", "--json").stdout) == []


def test_names_are_unique_and_removal_keeps_the_alerts(cli, tmp_path):
    shop = this_month(tmp_path / "shop.parquet")
    assert cli("schedule", "add", "s", "--source", shop, "--every", "day").exit_code == 0
    again = cli("schedule", "add", "s", "--source", shop, "--every", "day")
    assert again.exit_code == 2 and "exists already" in again.stderr
    assert cli("schedule", "remove", "s").exit_code == 0
    assert cli("schedule", "remove", "s").exit_code == 2
    assert cli("schedule", "run-due").stdout.strip() == "nothing due"


def test_managing_schedules_needs_the_run_role_and_is_audited(tmp_path):
    shop = this_month(tmp_path / "shop.parquet")
    viewer = service.Actor(name="vera", role="viewer", via="password")
    with service.acting_as(viewer):
        with pytest.raises(NotAllowedError):
            service.add_schedule("s", str(shop), every="day")
        with pytest.raises(NotAllowedError):
            service.run_due()
        assert service.list_schedules() == []  # reading is allowed
    analyst = service.Actor(name="ana", role="analyst", via="password")
    with service.acting_as(analyst):
        service.add_schedule("s", str(shop), every="day")
        service.remove_schedule("s")
    actions = [(e.actor, e.action) for e in service.audit_events()]
    assert ("ana", "schedule.add") in actions and ("ana", "schedule.remove") in actions
    with pytest.raises(InputError):
        Thresholds(psi=-1)


def test_api_lists_schedules_and_alerts(cli, tmp_path, segwise_home):
    from fastapi.testclient import TestClient

    from segwise.api import create_app
    from segwise.config import Settings

    source = tmp_path / "log.csv"
    source.write_text("customer,date,amount\n1,2024-01-01,5\n")
    hook = "https://hooks.example.org/services/s3cret"
    cli("schedule", "add", "nightly", "--source", source, "--every", "day", "--webhook", hook)
    source.write_text("not a log\n")
    with pytest.MonkeyPatch.context() as patch:  # no network: the delivery fails in words
        offline = "failed: offline"
        patch.setattr(alert_use_cases, "post_webhook", lambda url, payload, settings: offline)
        assert run_due(cli, at(0.01))[0]["status"] == "failed"
    settings = Settings(home=segwise_home, api_read_keys="read-key-0123456789")
    with TestClient(create_app(settings, worker_mode="thread")) as client:
        assert client.get("/v1/schedules").status_code == 401
        read = {"X-API-Key": "read-key-0123456789"}
        schedules = client.get("/v1/schedules", headers=read).json()
        assert [s["name"] for s in schedules] == ["nightly"] and "s3cret" not in str(schedules)
        assert schedules[0]["webhook"] == "https://hooks.example.org/…"
        alerts = client.get("/v1/alerts", headers=read, params={"schedule": "nightly"}).json()
        assert [a["kind"] for a in alerts] == ["failed"]
        assert alerts[0]["delivery"] == {"webhook": "failed: offline"}
        assert client.get("/v1/alerts", headers=read, params={"limit": 0}).status_code == 422


def test_history_page_shows_alerts_in_plain_words(cli, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from segwise.app import state

    monkeypatch.setenv("SEGWISE_APP_HOST", "127.0.0.1")
    get_settings.cache_clear()
    shop = this_month(tmp_path / "shop.parquet")
    broken = tmp_path / "broken.csv"
    broken.write_text("customer,date,amount\n1,2024-01-01,5\n")
    cli("schedule", "add", "shop", "--source", shop, "--every", "month", "--k", K)
    cli("schedule", "add", "till", "--source", broken, "--every", "week")
    broken.write_text("not a log\n")
    assert {o["status"] for o in run_due(cli, at(0.01))} == {"done", "failed"}
    entry = Path(state.__file__).parent / "streamlit_app.py"
    page = AppTest.from_file(str(entry), default_timeout=120).run()
    page = page.switch_page("app_pages/history.py").run()
    assert not page.exception, [e.value for e in page.exception]
    assert "Scheduled runs and alerts" in [s.value for s in page.subheader]
    shown = page.dataframe[1].value
    assert shown["schedule"].tolist() == ["till"]
    assert shown["what"].tolist() == ["the run failed"]
    assert "broken.csv" not in shown.to_string()  # no paths or library messages
    assert any("shop every month" in c.value for c in page.caption)


def test_a_database_table_is_a_scheduled_source(cli, tmp_path, webhook):
    """A SQLite table grows between two runs; the URL is stored and shown, the run follows."""
    import pyarrow.parquet as pq
    import sqlalchemy as sa

    database = tmp_path / "shop.db"
    url = f"sqlite:///{database}"
    engine = sa.create_engine(url)
    generate_log(CUSTOMERS, seed=3).lines.to_pandas().to_sql("sales", engine, index=False)
    added = cli(
        "schedule", "add", "db", "--source", url, "--table", "sales", "--every", "month",
        "--k", K, "--webhook", webhook.url,
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert "table sales" in json.loads(cli("schedule", "list", "--json").stdout)[0]["source"]
    first = run_due(cli, at(0.01))[0]
    assert first["status"] == "done"
    stalled = tmp_path / "stalled.parquet"
    stalled_months(stalled)
    lines = pq.read_table(stalled).to_pandas()
    lines.tail(3).to_sql("sales", engine, index=False, if_exists="append")
    engine.dispose()
    second = run_due(cli, at(40))[0]
    assert second["previous_run"] == first["run"]
    assert "worse_share" in {a["kind"] for a in second["alerts"]}
    assert len(webhook.received) == 1


def test_a_bad_delivery_setting_fails_in_words_and_the_alert_is_kept(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("SEGWISE_ALERT_EMAIL", "not-an-address")
    monkeypatch.setenv("SEGWISE_ALERT_WEBHOOK", "gopher://old.example.org/1")
    get_settings.cache_clear()
    source = tmp_path / "log.csv"
    source.write_text("customer,date,amount\n1,2024-01-01,5\n")
    cli("schedule", "add", "nightly", "--source", source, "--every", "day")
    source.unlink()
    [outcome] = run_due(cli, at(0.01))
    assert outcome["status"] == "failed" and "file not found" in outcome["error"]
    assert outcome["delivery"]["webhook"].startswith("failed: webhook 'gopher://old.example.org")
    assert outcome["delivery"]["email"].startswith("failed: 'not-an-address'")
    [kept] = json.loads(cli("alerts", "list", "--json").stdout)
    assert kept["kind"] == "failed" and kept["delivery"] == outcome["delivery"]
    [event] = [e for e in service.audit_events() if e.action == "schedule.run"]
    assert event.target == "nightly" and event.detail["status"] == "failed"
    assert event.detail["alerts"] == 1


def test_two_run_due_at_once_run_a_schedule_once(tmp_path, backend):
    """Two cron invocations racing: one claims the period and runs it, the other skips it."""
    from concurrent.futures import ThreadPoolExecutor

    shop = this_month(tmp_path / "shop.parquet")
    service.add_schedule("shop", str(shop), every="day", options=service.SegmentOptions(k=4))
    now = at(0.01)
    with ThreadPoolExecutor(2) as pool:
        found = list(pool.map(lambda _: service.run_due(now), range(2)))
    statuses = sorted(o.status for outcomes in found for o in outcomes)
    assert statuses in (["done", "skipped"], ["done"])  # the late one may find it not due
    assert len(service.list_runs()) == 1
