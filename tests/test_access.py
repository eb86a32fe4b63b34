"""Accounts, roles, keys, the audit log, erasure and retention, through the CLI and the API.

Real flows on the planted demo log: users and keys made with ``segwise users``/``keys``,
every role tried on the API (401 without a key, 403 for a role too low), a customer looked
up then erased with ``segwise forget``, and the catalog and logs searched for any password
or key in clear.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from segwise import service
from segwise.api import create_app
from segwise.cli import app
from segwise.config import Settings, get_settings
from segwise.errors import NotAllowedError, SignInError

PASSWORDS = {"vera": "viewer-pass-4471", "ali": "analyst-pass-9902", "ada": "admin-pass-3318"}
ROLES = {"vera": "viewer", "ali": "analyst", "ada": "admin"}
CUSTOMER = "12017"  # a Champion of the 600-customer demo


def add_users(cli: Any) -> dict[str, str]:
    """The three accounts, made with the CLI, and one API key each (shown once)."""
    keys = {}
    for name, password in PASSWORDS.items():
        made = cli.runner.invoke(
            app,
            ["users", "add", name, "--role", ROLES[name], "--password-stdin"],
            input=password + "\n",
        )
        assert made.exit_code == 0, made.output
        key = cli("keys", "create", "--user", name)
        assert key.exit_code == 0, key.stderr
        keys[name] = key.stdout.strip()
    return keys


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the demo's run (600 planted customers), made once."""
    from typer.testing import CliRunner

    home = tmp_path_factory.mktemp("demo-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("SEGWISE_HOME", str(home))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["demo", "--customers", "600"])
        assert result.exit_code == 0, result.output
    finally:
        mp.undo()
        get_settings.cache_clear()
    return home


@pytest.fixture
def home(demo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private copy of the demo's data folder as SEGWISE_HOME."""
    import shutil

    copy = tmp_path / "home"
    shutil.copytree(demo_home, copy)
    monkeypatch.setenv("SEGWISE_HOME", str(copy))
    get_settings.cache_clear()
    yield copy
    get_settings.cache_clear()


def latest_run(cli: Any) -> str:
    runs = json.loads(cli("runs", "--json").stdout)
    return str(runs[0]["id"])


# ------------------------------------------------------------------ accounts and the CLI
def test_users_are_added_listed_disabled_and_reset_and_every_change_is_audited(cli, home):
    add_users(cli)
    listed = json.loads(cli("users", "list", "--json").stdout)
    assert {(u["name"], u["role"]) for u in listed} == set(ROLES.items())
    assert cli("users", "disable", "vera").exit_code == 0
    with pytest.raises(SignInError):
        service.sign_in("vera", PASSWORDS["vera"])
    again = cli.runner.invoke(
        app, ["users", "reset-password", "ali", "--password-stdin"], input="a-new-pass-0001\n"
    )
    assert again.exit_code == 0, again.output
    with pytest.raises(SignInError):
        service.sign_in("ali", PASSWORDS["ali"])
    assert service.sign_in("ali", "a-new-pass-0001").role == "analyst"
    actions = [e["action"] for e in json.loads(cli("audit", "--json").stdout)]
    for action in ("user.add", "key.create", "user.disable", "user.reset-password", "signin"):
        assert action in actions, action
    assert actions.count("signin.failed") == 2


def test_bad_account_input_is_one_line_and_exit_2(cli, home):
    short = cli.runner.invoke(app, ["users", "add", "x", "--password-stdin"], input="short\n")
    assert short.exit_code == 2 and "at least 10" in short.output
    role = cli("users", "add", "x", "--role", "boss", "--password-stdin")
    assert role.exit_code == 2 and "viewer, analyst or admin" in role.stderr
    assert cli("keys", "create", "--user", "nobody").exit_code == 2
    assert cli("audit", "--since", "yesterday").exit_code == 2


def test_wrong_passwords_are_rate_limited_per_name(cli, home, monkeypatch):
    add_users(cli)
    monkeypatch.setenv("SEGWISE_SIGNIN_ATTEMPTS", "3")
    get_settings.cache_clear()
    for _ in range(3):
        with pytest.raises(SignInError, match="wrong name or password"):
            service.sign_in("ada", "not-the-password")
    with pytest.raises(SignInError, match="too many"):
        service.sign_in("ada", PASSWORDS["ada"])  # even the right one waits now
    assert service.sign_in("ali", PASSWORDS["ali"]).name == "ali"  # others are not held up


def test_a_viewer_acting_in_the_service_may_not_look_up_or_erase(cli, home):
    run = latest_run(cli)
    viewer = service.Actor(name="vera", role="viewer", via="password")
    with service.acting_as(viewer):
        assert service.run_segments(run)
        with pytest.raises(NotAllowedError, match="analyst"):
            service.lookup_customer(run, CUSTOMER)
        with pytest.raises(NotAllowedError, match="admin"):
            service.forget_customer(CUSTOMER)


# ------------------------------------------------------------------ the API, role by role
@pytest.fixture
def api(cli, home) -> Iterator[tuple[TestClient, dict[str, str], str]]:
    keys = add_users(cli)
    settings = Settings(home=home, api_keys="script-key-0123456789")
    with TestClient(create_app(settings, worker_mode="thread")) as client:
        yield client, keys, latest_run(cli)


def test_each_role_reaches_what_it_may_and_gets_403_beyond(api, home):
    client, keys, run = api
    log = home / "demo" / "shop_log.csv"
    one = {"customers": [{"recency": 5, "frequency": 4, "monetary": 300.0}]}

    def calls(name: str) -> dict[str, int]:
        h = {"X-API-Key": keys[name]} if name in keys else {"X-API-Key": name}
        with log.open("rb") as handle:
            up = client.post("/v1/datasets", files={"file": (log.name, handle)}, headers=h)
        return {
            "runs": client.get("/v1/runs", headers=h).status_code,
            "segments": client.get(f"/v1/runs/{run}/segments", headers=h).status_code,
            "upload": up.status_code,
            "lookup": client.get(f"/v1/runs/{run}/customers/{CUSTOMER}", headers=h).status_code,
            "predict": client.post(f"/v1/runs/{run}/predict", json=one, headers=h).status_code,
            "audit": client.get("/v1/audit", headers=h).status_code,
        }

    allowed = {"runs": 200, "segments": 200, "upload": 201, "lookup": 200, "predict": 200}
    assert calls("vera") == {
        "runs": 200,
        "segments": 200,
        "upload": 403,
        "lookup": 403,
        "predict": 403,
        "audit": 403,
    }
    assert calls("ali") == allowed | {"audit": 403}
    assert calls("ada") == allowed | {"audit": 200}
    assert calls("script-key-0123456789") == allowed | {"audit": 403}  # scripts: analyst
    assert set(calls("sw_00000000_not-a-key").values()) == {401}
    assert set(calls("").values()) == {401}
    events = client.get("/v1/audit", headers={"X-API-Key": keys["ada"]}).json()
    lookups = [e for e in events if e["action"] == "customer.lookup"]
    assert {e["actor"] for e in lookups} == {"ali", "ada"} | {
        e["actor"] for e in lookups if e["actor"].startswith("script:")
    }
    assert all(e["address"] == "testclient" for e in lookups)
    assert all(CUSTOMER not in json.dumps(e) for e in events)  # look-ups name a keyed hash
    assert any(e["action"] == "key.refused" for e in events)
    predictions = [e for e in events if e["action"] == "predict"]
    assert predictions and all(e["detail"] == {"customers": 1} for e in predictions)


def test_a_revoked_key_or_a_disabled_user_is_401(api, cli):
    client, keys, _ = api
    ali, ada = {"X-API-Key": keys["ali"]}, {"X-API-Key": keys["ada"]}
    assert client.get("/v1/runs", headers=ali).status_code == 200
    assert cli("keys", "revoke", keys["ali"].split("_")[1]).exit_code == 0
    assert client.get("/v1/runs", headers=ali).status_code == 401
    assert cli("users", "disable", "ada").exit_code == 0
    assert client.get("/v1/runs", headers=ada).status_code == 401
    listed = json.loads(cli("keys", "list", "--json").stdout)
    assert {k["user"]: k["revoked"] for k in listed} == {"vera": False, "ali": True, "ada": False}
    used = {k["user"]: k["last_used"] is not None for k in listed}
    assert used == {"vera": False, "ali": True, "ada": False}


def test_no_password_or_key_is_stored_or_logged_in_clear(api, home, caplog):
    client, keys, run = api
    caplog.set_level(logging.DEBUG)
    for name, key in keys.items():
        client.get(f"/v1/runs/{run}/segments", headers={"X-API-Key": key})
        service.sign_in(name, PASSWORDS[name])
        with pytest.raises(SignInError):
            service.sign_in(name, PASSWORDS[name] + "x")
    secrets = [*PASSWORDS.values(), *keys.values(), *(k.split("_", 2)[2] for k in keys.values())]
    stored = b"".join(p.read_bytes() for p in home.glob("catalog.db*"))
    assert b"$argon2id$" in stored  # the hashes are there ...
    for secret in secrets:
        assert secret.encode() not in stored  # ... never what they hash
        assert secret not in caplog.text


# ------------------------------------------------------------------ erasure and retention
def test_forget_erases_the_customer_everywhere_and_the_audit_shows_it(cli, home):
    run = latest_run(cli)
    assert cli("customer", run, CUSTOMER).exit_code == 0
    segments = pd.read_csv(home / "demo" / "segments.csv", dtype={"customer_id": str})
    assert CUSTOMER in set(segments["customer_id"])
    lines = service.dataset_file("latest")
    before = pd.read_parquet(lines)
    assert (before["customer_id"] == CUSTOMER).sum() > 0
    customers = service.list_datasets()[0].customers

    erased = cli("forget", CUSTOMER, "--json")
    assert erased.exit_code == 0, erased.stderr
    report = json.loads(erased.stdout)
    assert report["runs"] == {run: 2}  # its row in assignments and in the map sample

    missing = cli("customer", run, CUSTOMER)
    assert missing.exit_code == 2 and "is not in run" in missing.stderr
    after = pd.read_parquet(lines)
    assert CUSTOMER not in set(after["customer_id"])
    assert len(after) == len(before) - (before["customer_id"] == CUSTOMER).sum()
    assert service.list_datasets()[0].customers == customers - 1
    segments = pd.read_csv(home / "demo" / "segments.csv", dtype={"customer_id": str})
    assert CUSTOMER not in set(segments["customer_id"]) and len(segments) == 599
    assert not (home / "demo" / "report.html").exists()  # it drew the customer: deleted
    assert CUSTOMER not in set(service.read_assignments(run)["customer_id"])

    events = json.loads(cli("audit", "--json").stdout)
    ref = service.customer_ref(CUSTOMER)
    actions = [e["action"] for e in events if e["target"] == ref]
    assert actions == ["customer.lookup", "customer.erase", "customer.lookup"]
    assert CUSTOMER not in json.dumps(events)
    from segwise.service.audit import accounts

    [erased] = accounts().erasures()  # the erasure list: a keyed hash, not the id
    assert len(erased) == 64 and erased.startswith(ref.removeprefix("customer:"))


def test_an_erased_customer_never_comes_back_with_an_old_file(cli, home, tmp_path):
    assert cli("forget", CUSTOMER).exit_code == 0
    shop = home / "demo" / "shop_log.csv"
    assert f";{CUSTOMER}.0;" not in shop.read_text()  # kept copies were rewritten
    # the log as a user kept it before the erasure: the customer is in it again
    original = _demo_log_with(CUSTOMER, tmp_path / "old_log.csv")
    stored = json.loads(cli("ingest", original, "--json").stdout)
    lines = pd.read_parquet(service.dataset_file(stored["id"]))
    assert CUSTOMER not in set(lines["customer_id"]) and len(lines) > 0
    run = json.loads(cli("segment", stored["id"], "--k", "4", "--json").stdout)["run"]
    assert CUSTOMER not in set(service.read_assignments(run)["customer_id"])


def _demo_log_with(customer: str, path: Path) -> Path:
    """The demo's log as generated (the customer in it), written outside SEGWISE_HOME."""
    from segwise.demo import generate_log, write_log

    write_log(generate_log(600, seed=7).lines, path, style="uk")
    assert f";{customer}.0;" in path.read_text()
    return path


def test_retention_deletes_datasets_and_runs_past_the_limit(cli, home):
    from sqlalchemy import update

    from segwise.store.catalog import Catalog, Dataset, Run, now

    catalog = Catalog.open(home)
    old = now() - timedelta(days=40)
    with catalog.session() as s:
        s.execute(update(Dataset).values(created=old))
        s.execute(update(Run).values(created=old))
    run = latest_run(cli)
    assert cli("retention", "run").exit_code == 2  # no period set
    kept = cli("retention", "run", "--days", "60", "--json")
    assert json.loads(kept.stdout)["runs"] == []
    gone = json.loads(cli("retention", "run", "--days", "30", "--json").stdout)
    assert gone["runs"] == [run] and len(gone["datasets"]) == 1
    assert not (home / "runs" / run).exists()
    assert not list((home / "datasets").glob("*.parquet"))
    assert json.loads(cli("runs", "--json").stdout) == []
    assert "retention.run" in cli("audit").stdout
