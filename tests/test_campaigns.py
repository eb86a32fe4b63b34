"""Campaigns: the stratified treatment/control split, the audience export and the read-out.

The read-out is checked on planted effects: treated customers of one segment buy again
after the start with a higher probability than their control group, and the 95% interval
must hold the true uplift; with nothing planted it must hold 0.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from segwise import service
from segwise.config import get_settings
from segwise.errors import InputError, NotFoundError
from segwise.segment.campaign import control_size, grid_ranks, split_arms
from segwise.segment.uplift import MIN_ARM, mean_uplift, sentence, share_uplift
from segwise.service.campaigns import (
    campaign_audience,
    create_campaign,
    export_audience,
    list_campaigns,
)
from segwise.service.readout import campaign_report

START = "2011-12-10"  # the day after the demo log's last line
DATA = Path(__file__).parent / "data" / "retail_expected.csv"  # a customer table, no contacts


# --- the split -------------------------------------------------------------------------------
@pytest.mark.parametrize("share", [0.1, 0.25, 0.5, 0.33])
def test_control_share_per_segment_is_within_one_customer(share: float) -> None:
    rng = np.random.default_rng(1)
    sizes = {"A": 7, "B": 31, "C": 250, "D": 1_003, "E": 1}
    ids = [f"c{i}" for i in rng.permutation(sum(sizes.values()))]
    segs = [s for s, n in sizes.items() for _ in range(n)]
    control = split_arms(ids, segs, share, seed=3)
    for name, n in sizes.items():
        taken = int(control[np.asarray(segs) == name].sum())
        assert abs(taken - share * n) <= 1, (name, taken, share * n)
        assert taken == control_size(n, share)


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=6),
    share=st.floats(min_value=0.01, max_value=0.9),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_every_segment_gets_its_share_within_one_customer(
    sizes: list[int], share: float, seed: int
) -> None:
    segs = [f"s{k}" for k, n in enumerate(sizes) for _ in range(n)]
    ids = [str(i) for i in range(len(segs))]
    control = split_arms(ids, segs, share, seed)
    for k, n in enumerate(sizes):
        taken = int(control[np.asarray(segs, dtype=object) == f"s{k}"].sum())
        assert abs(taken - share * n) <= 0.5 + 1e-9 and taken == control_size(n, share)


def test_same_seed_same_split_whatever_the_order() -> None:
    ids = [str(i) for i in range(500)]
    segs = ["A" if i % 3 else "B" for i in range(500)]
    first = split_arms(ids, segs, 0.2, seed=11)
    order = np.random.default_rng(0).permutation(500)
    again = split_arms([ids[i] for i in order], [segs[i] for i in order], 0.2, seed=11)
    assert set(np.asarray(ids)[first]) == set(np.asarray(ids)[order][again])
    other = split_arms(ids, segs, 0.2, seed=12)
    assert set(np.asarray(ids)[first]) != set(np.asarray(ids)[other])


@pytest.mark.parametrize("share", [0.0, 0.95, float("nan"), -0.1])
def test_control_share_out_of_range_is_refused(share: float) -> None:
    with pytest.raises(InputError, match="control share"):
        split_arms(["a"], ["A"], share, seed=0)


def test_grid_ranks_order_the_rfm_segments() -> None:
    from segwise.features.rfm import DEFAULT_GRID

    rank = grid_ranks(DEFAULT_GRID.cells)
    assert rank["Lost"] == 2 and rank["Hibernating"] == 3
    assert max(rank, key=rank.__getitem__) == "Champions"
    assert rank["Lost"] < rank["About to Sleep"] < rank["Need Attention"] < rank["Loyal"]


# --- the statistics --------------------------------------------------------------------------
def test_share_uplift_finds_a_planted_effect_and_says_it() -> None:
    rng = np.random.default_rng(4)
    treated, control = rng.random(1_000) < 0.45, rng.random(1_000) < 0.25
    found = share_uplift("bought again", treated, control)
    assert found.low is not None and found.high is not None
    assert found.low < 0.20 < found.high
    assert found.low > 0 and found.verdict == "more"
    text = sentence(found)
    assert text.startswith(f"the offer brought back {100 * found.uplift:.1f} more customers")
    assert f"(95% CI {100 * found.low:.1f} to {100 * found.high:.1f})" in text


def test_intervals_cover_the_truth_about_95_percent_of_the_time() -> None:
    """Repeated planted experiments: Newcombe's and Welch's intervals hold the true uplift
    in close to 95% of them (the binomial spread of 400 trials is about +-1.1%)."""
    rng = np.random.default_rng(9)
    shares = means = 0
    trials = 400
    for _ in range(trials):
        found = share_uplift("x", rng.random(150) < 0.35, rng.random(120) < 0.25)
        shares += found.low is not None and found.low <= 0.10 <= (found.high or 0)
        spend_t, spend_c = rng.exponential(30, 150), rng.exponential(20, 120)
        mean = mean_uplift("y", spend_t, spend_c)
        means += mean.low is not None and mean.low <= 10 <= (mean.high or 0)
    assert 0.91 <= shares / trials <= 0.99
    assert 0.91 <= means / trials <= 0.99


def test_no_effect_interval_covers_zero() -> None:
    rng = np.random.default_rng(2)
    found = share_uplift("bought again", rng.random(800) < 0.3, rng.random(800) < 0.3)
    assert found.low is not None and found.high is not None
    assert found.low < 0 < found.high and found.verdict == "no clear difference"
    assert sentence(found).endswith("which could also be no effect")


def test_small_groups_are_too_few_to_tell() -> None:
    few = share_uplift("bought again", np.ones(MIN_ARM - 1, bool), np.zeros(200, bool))
    assert few.uplift is None and few.low is None and few.verdict == "too few to tell"
    assert "too few to tell" in sentence(few)
    rare = share_uplift(
        "bought again", np.r_[np.ones(2, bool), np.zeros(98, bool)], np.zeros(100, bool)
    )
    assert rare.verdict == "too few to tell"  # 2 buyers in all: not enough events
    assert "fewer than 5 customers to count" in sentence(rare)
    assert mean_uplift("spend", np.ones(10), np.ones(100)).verdict == "too few to tell"


# --- a shop with a finished run --------------------------------------------------------------
@pytest.fixture(scope="module")
def shop_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """One segmented demo log per test module (k=4), its home folder and run id."""
    from segwise.demo import generate_log, write_log

    home = tmp_path_factory.mktemp("campaigns") / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEGWISE_HOME", str(home))
        get_settings.cache_clear()
        log = write_log(generate_log(2_000, seed=3).lines, home.parent / "log.csv")
        run, _ = service.run_segment(log, service.SegmentOptions(k=4, seed=0))
        get_settings.cache_clear()
    yield home, run.id


@pytest.fixture
def shop(shop_home: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> str:
    """The shared shop's run id, with SEGWISE_HOME pointing at it for this test."""
    monkeypatch.setenv("SEGWISE_HOME", str(shop_home[0]))
    get_settings.cache_clear()
    return shop_home[1]


def _largest(run: str, count: int = 1) -> list[str]:
    found = sorted(service.run_segments(run), key=lambda s: -s["size"])
    return [s["name"] for s in found[:count]]


def _members(name: str) -> pd.DataFrame:
    from segwise.service.datasets import open_catalog
    from segwise.store.campaigns import campaign, members

    catalog = open_catalog()
    rows = members(catalog, campaign(catalog, name).id)
    return pd.DataFrame(rows, columns=["customer_id", "segment", "arm"])


def test_campaign_split_is_stored_stratified_and_reproducible(shop: str) -> None:
    names = _largest(shop, 2)
    made = create_campaign(shop, names, name="split a", control=0.1, seed=5, start=START)
    again = create_campaign(shop, names, name="split b", control=0.1, seed=5, start=START)
    sizes = {s["name"]: s["size"] for s in service.run_segments(shop)}
    for name in names:
        arms = made.sizes[name]
        assert arms["treatment"] + arms["control"] == sizes[name]
        assert abs(arms["control"] - 0.1 * sizes[name]) <= 1
    a, b = _members("split a"), _members("split b")
    assert a.equals(b)  # the same seed, the same split
    assert made.sizes == again.sizes and made.seed == again.seed == 5
    assert made.start.isoformat() == START
    assert [c.name for c in list_campaigns()][:2] == ["split b", "split a"]


def test_campaign_by_rfm_grid_names_and_bad_choices(shop: str) -> None:
    made = create_campaign(shop, ["at risk", "Cannot Lose Them"], name="grid", seed=1)
    assert made.grouping == "rfm_segment" and made.segments == ["At Risk", "Cannot Lose Them"]
    table = service.read_assignments(shop)
    assert made.treatment + made.control == int(
        table["rfm_segment"].isin(["At Risk", "Cannot Lose Them"]).sum()
    )
    with pytest.raises(InputError, match="exists already"):
        create_campaign(shop, ["At Risk"], name="grid")
    from segwise.segment.naming import RFM_GRID

    empty = next(name for name in RFM_GRID if name not in set(table["rfm_segment"]))
    with pytest.raises(InputError, match=f"no customer in {empty}"):
        create_campaign(shop, [empty.upper()], name="empty")
    with pytest.raises(InputError, match="no segment named 'Nobody'"):
        create_campaign(shop, ["Nobody"], name="nobody")
    with pytest.raises(InputError, match="not a date"):
        create_campaign(shop, ["At Risk"], name="when", start="01/12/2026")
    with pytest.raises(NotFoundError):
        create_campaign("rnotarun0000", ["At Risk"], name="norun")


def test_audience_is_the_treatment_group_only(shop: str, tmp_path: Path) -> None:
    names = _largest(shop, 2)
    create_campaign(shop, names, name="audience", control=0.2, seed=8)
    people = _members("audience")
    control = set(people.loc[people["arm"] == "control", "customer_id"])
    frame = campaign_audience("audience")
    assert set(frame["customer_id"]) == set(people["customer_id"]) - control
    assert list(frame.columns[:3]) == ["customer_id", "segment", "advice"]
    advice = {s["name"]: s["recommendation"] for s in service.run_segments(shop)}
    assert (frame["advice"] == frame["segment"].map(advice)).all()
    # contacts: a customer table with e-mail and phone, one formula among them
    ids = sorted(people["customer_id"])
    contacts = pd.DataFrame(
        {
            "customer_id": ids,
            "email": [f"{i}@example.org" for i in ids],
            "phone": [
                "=HYPERLINK(1)" if n == 0 else f"+44 20 7946 {n:04d}" for n in range(len(ids))
            ],
        }
    )
    contacts.to_csv(tmp_path / "contacts.csv", index=False)
    for suffix in (".csv", ".xlsx"):
        out = export_audience(
            "audience", tmp_path / f"aud{suffix}", contacts=tmp_path / "contacts.csv"
        )
        assert out.customers == len(frame) and out.with_contacts == len(frame)
        back = (
            pd.read_csv(out.path, dtype=str)
            if suffix == ".csv"
            else pd.read_excel(out.path, dtype=str)
        )
        assert set(back["customer_id"]).isdisjoint(control)
        assert {"email", "phone"} <= set(back.columns)
        assert not back["phone"].str.startswith("=").any()  # formula-safe
    with pytest.raises(InputError, match="no phone or e-mail"):
        pd.DataFrame({"customer_id": ids, "age": 1}).to_csv(tmp_path / "bad.csv", index=False)
        campaign_audience("audience", contacts=tmp_path / "bad.csv")


# --- the read-out ----------------------------------------------------------------------------
def _later_log(people: pd.DataFrame, buy: np.ndarray, path: Path, seed: int) -> Path:
    """Purchases of the chosen customers in the month after the start, plus lines before the
    start (they must be ignored: they buy for everybody)."""
    rng = np.random.default_rng(seed)
    who = people.loc[buy, "customer_id"].to_numpy()
    after = pd.DataFrame(
        {
            "InvoiceNo": np.arange(900_000, 900_000 + len(who)),
            "StockCode": "21000",
            "Quantity": 2,
            "InvoiceDate": pd.Timestamp(START)
            + pd.to_timedelta(rng.integers(0, 30, len(who)), unit="D"),
            "UnitPrice": np.round(rng.uniform(5, 40, len(who)), 2),
            "CustomerID": who,
        }
    )
    everybody = people["customer_id"].to_numpy()
    before = (
        after.iloc[:0]
        .reindex(range(len(everybody)))
        .assign(
            InvoiceNo=np.arange(800_000, 800_000 + len(everybody)),
            StockCode="21001",
            Quantity=1,
            InvoiceDate=pd.Timestamp("2011-12-05"),
            UnitPrice=9.99,
            CustomerID=everybody,
        )
    )
    pd.concat([before, after]).to_csv(path, index=False)
    return path


def test_read_out_finds_a_planted_effect(shop: str, tmp_path: Path) -> None:
    target, other = _largest(shop, 2)
    create_campaign(shop, [target, other], name="planted", control=0.5, seed=4, start=START)
    people = _members("planted")
    treated_target = (people["arm"] == "treatment") & (people["segment"] == target)
    p = np.where(treated_target, 0.45, 0.25)
    buy = np.random.default_rng(6).random(len(people)) < p
    report = campaign_report("planted", _later_log(people, buy, tmp_path / "after.csv", 6))
    by = {g.segment: g for g in report.groups}
    hit = by[target].measures[0]
    assert hit.measure == "bought again" and hit.low is not None and hit.high is not None
    assert hit.low < 0.20 < hit.high and hit.low > 0
    # the share is exactly what the planted log says (lines before the start ignored)
    arm = people[treated_target]
    assert hit.treatment == pytest.approx(buy[treated_target.to_numpy()].mean())
    assert hit.n_treatment == len(arm)
    calm = by[other].measures[0]  # nothing planted in the other segment
    assert calm.low is not None and calm.high is not None and calm.low < 0 < calm.high
    spend = by[target].measures[1]
    assert spend.measure == "spend per customer" and spend.low is not None and spend.low > 0
    rfm = by[target].measures[2]
    assert rfm.measure == "change in RFM score" and rfm.low is not None and rfm.low > 0
    moved = by[target].measures[3]
    assert moved.measure == "moved to a better segment" and moved.low is not None
    assert moved.low > 0  # a purchase after the start lifts recency: a better grid cell
    assert report.window_start.isoformat() == START
    assert by[target].summary.startswith("the offer brought back")
    assert report.to_dict()["groups"][0]["segment"] == "overall"


def test_read_out_without_an_effect_covers_zero(shop: str, tmp_path: Path) -> None:
    create_campaign(shop, _largest(shop, 2), name="flat", control=0.5, seed=7, start=START)
    people = _members("flat")
    buy = np.random.default_rng(3).random(len(people)) < 0.3
    report = campaign_report("flat", _later_log(people, buy, tmp_path / "after.csv", 3))
    overall = report.overall.measures[0]
    assert overall.low is not None and overall.high is not None
    assert overall.low < 0 < overall.high


def test_read_out_needs_lines_after_the_start(shop: str, tmp_path: Path) -> None:
    create_campaign(shop, _largest(shop), name="too late", seed=1, start="2030-01-01")
    log = tmp_path / "old.csv"
    pd.DataFrame(
        {
            "InvoiceNo": [1, 2],
            "InvoiceDate": ["2011-12-01", "2011-12-02"],
            "CustomerID": ["1", "2"],
            "Quantity": [1, 1],
            "UnitPrice": [2.0, 3.0],
        }
    ).to_csv(log, index=False)
    with pytest.raises(InputError, match="no line on or after"):
        campaign_report("too late", log)
    with pytest.raises(InputError, match="neither a file nor a stored dataset"):
        campaign_report("too late", tmp_path / "missing.csv")
    with pytest.raises(NotFoundError, match="no campaign"):
        campaign_report("nope", log)


# --- the command line ------------------------------------------------------------------------
def test_cli_create_audience_list_report(shop: str, cli, tmp_path: Path) -> None:
    segments = ",".join(_largest(shop, 2))
    out = tmp_path / "audience.csv"
    made = cli(
        "campaign", "create", "latest", "--segments", segments, "--name", "cli flow",
        "--control", "0.5", "--start", START, "--seed", "3", "--message", "=10% off",
        "--out", out,
    )  # fmt: skip
    assert made.exit_code == 0, made.stderr
    assert "'cli flow' on run " + shop in made.stdout and f"written to {out}" in made.stdout
    people = _members("cli flow")
    written = pd.read_csv(out, dtype=str)
    treated = people.loc[people["arm"] == "treatment", "customer_id"]
    assert sorted(written["customer_id"]) == sorted(treated)
    listed = cli("campaign", "list", "--json")
    assert listed.exit_code == 0
    found = next(c for c in json.loads(listed.stdout) if c["name"] == "cli flow")
    assert found["seed"] == 3 and found["message"] == "=10% off" and found["run"] == shop
    again = cli("campaign", "audience", "cli flow", "--out", tmp_path / "again.xlsx")
    assert again.exit_code == 0, again.stderr
    assert len(pd.read_excel(tmp_path / "again.xlsx")) == len(treated)
    buy = np.random.default_rng(1).random(len(people)) < 0.3
    log = _later_log(people, buy, tmp_path / "after.csv", 1)
    shown = cli("campaign", "report", "cli flow", "--after", log, "--json")
    assert shown.exit_code == 0, shown.stderr
    body = json.loads(shown.stdout)
    overall = body["groups"][0]
    assert overall["segment"] == "overall"
    assert overall["measures"]["bought again"]["treatment"] == pytest.approx(
        buy[(people["arm"] == "treatment").to_numpy()].mean(), abs=1e-6
    )
    page = tmp_path / "read-out.html"
    text = cli("campaign", "report", "cli flow", "--after", body["after"], "--html", page)
    assert text.exit_code == 0 and "bought again" in text.stdout  # by dataset id
    assert "the offer brought back" in text.stdout and f"Wrote read-out: {page}" in text.stdout
    html = page.read_text()
    assert "Uplift in bought again" in html and html.count('data-chart="chart-') == 4
    assert "=10% off" in html and overall["summary"] in html
    assert "<script src" not in html and "https://" not in html.split("<script>")[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--segments", "Nobody", "--name", "x"], "no segment named 'Nobody'"),
        (["--segments", "Lost", "--name", "x", "--control", "2"], "control share"),
        (["--segments", "Lost", "--name", "x", "--start", "soon"], "not a date"),
        (["--segments", "Lost", "--name", "x", "--out", "a.pdf"], "unknown file type"),
        (["--segments", "Lost", "--name", "x", "--contacts", "no.csv"], "file not found"),
        (["--segments", "Lost", "--name", "x", "--contacts", DATA], "no phone or e-mail column"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(
    shop: str, cli, args: list[str], message: str
) -> None:
    result = cli("campaign", "create", "latest", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not list_campaigns() or "x" not in [c.name for c in list_campaigns()]


# --- the REST API ----------------------------------------------------------------------------
def test_api_campaign_flow(shop: str, shop_home: tuple[Path, str], tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from segwise.api import create_app
    from segwise.config import Settings

    write, read = {"X-API-Key": "rw-campaign-key-0123"}, {"X-API-Key": "ro-campaign-key-0123"}
    settings = Settings(
        home=shop_home[0], api_keys=write["X-API-Key"], api_read_keys=read["X-API-Key"]
    )
    body = {
        "run": shop[:6],
        "segments": _largest(shop, 2),
        "name": "api flow",
        "control": 0.5,
        "start": START,
        "seed": 9,
    }
    with TestClient(create_app(settings, worker_mode="thread")) as client:
        assert client.post("/v1/campaigns", json=body, headers=read).status_code == 403
        made = client.post("/v1/campaigns", json=body, headers=write)
        assert made.status_code == 201, made.text
        found = made.json()
        assert made.headers["location"] == f"/v1/campaigns/{found['id']}"
        assert found["run"] == shop and found["seed"] == 9
        assert client.post("/v1/campaigns", json=body, headers=write).status_code == 422
        listed = client.get("/v1/campaigns", headers=read).json()
        assert "api flow" in [c["name"] for c in listed]
        assert client.get("/v1/campaigns/api flow", headers=read).json() == found
        people = _members("api flow")
        treated = set(people.loc[people["arm"] == "treatment", "customer_id"])
        path = "/v1/campaigns/api flow/audience"
        assert client.get(path, headers=read).status_code == 403  # viewers see no customers
        audience = client.get(f"{path}?format=json", headers=write)
        assert {r["customer_id"] for r in audience.json()} == treated
        csv = client.get(f"/v1/campaigns/{found['id']}/audience", headers=write)
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        assert len(csv.text.strip().splitlines()) == len(treated) + 1
        xlsx = client.get("/v1/campaigns/api flow/audience?format=xlsx", headers=write)
        assert xlsx.content[:2] == b"PK"
        buy = np.random.default_rng(2).random(len(people)) < 0.3
        log = _later_log(people, buy, tmp_path / "after.csv", 2)
        with log.open("rb") as handle:
            stored = client.post(
                "/v1/datasets", files={"file": ("after.csv", handle)}, headers=write
            )
        assert stored.status_code == 201, stored.text
        after = stored.json()["id"]
        report = client.get(f"/v1/campaigns/api flow/report?after={after}", headers=read)
        assert report.status_code == 200, report.text
        overall = report.json()["groups"][0]
        assert overall["segment"] == "overall" and overall["n_control"] == int(
            (people["arm"] == "control").sum()
        )
        assert overall["measures"]["bought again"]["verdict"] != "too few to tell"
        # errors: JSON with a detail, 4xx
        for url, code in [
            ("/v1/campaigns/nope", 404),
            ("/v1/campaigns/nope/audience", 404),
            ("/v1/campaigns/api flow/report?after=dffffffffff0", 404),
            ("/v1/campaigns/api flow/report?after=/etc/passwd", 404),  # never a server path
            ("/v1/campaigns/api flow/report", 422),
            ("/v1/campaigns/api flow/audience?format=pdf", 422),
        ]:
            answer = client.get(url, headers=write if "audience" in url else read)
            assert answer.status_code == code, (url, answer.text)
            assert answer.json()["detail"]
        bad = client.post("/v1/campaigns", json=body | {"control": 2}, headers=write)
        assert bad.status_code == 422 and bad.json()["detail"].startswith("body.control")
        gone = client.post(
            "/v1/campaigns", json=body | {"name": "x", "run": "rnope00000"}, headers=write
        )
        assert gone.status_code == 404
        assert client.get("/v1/campaigns").status_code == 401


# --- the dashboard ---------------------------------------------------------------------------
def _page(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The Campaigns page as `segwise app` serves it on this machine with no account (local
    single-user mode: no sign-in form)."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SEGWISE_APP_HOST", "127.0.0.1")
    get_settings.cache_clear()
    from segwise.app import state

    entry = Path(state.__file__).parent / "streamlit_app.py"
    at = AppTest.from_file(str(entry), default_timeout=180).run()
    return at.switch_page("app_pages/campaigns.py").run()


def _click(at: Any, label: str) -> Any:
    [button] = [b for b in at.button if b.label == label]
    return button.click().run()


def test_dashboard_page_on_an_empty_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(monkeypatch)
    assert not at.exception and not at.error
    assert any("No finished run yet" in str(i.value) for i in at.info)


def test_dashboard_create_download_and_read_out(
    shop: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _page(monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    [name] = [w for w in at.text_input if w.label == "Name"]
    name.input("dash flow")
    [segments] = [w for w in at.multiselect if w.label == "Segments"]
    segments.set_value(_largest(shop, 2))
    [slider] = [w for w in at.slider if w.label == "Control group"]
    slider.set_value(0.5)
    [seed] = [w for w in at.number_input if w.label.startswith("Seed")]
    seed.set_value(21)
    [start] = [w for w in at.date_input if w.label == "Start"]
    start.set_value(date.fromisoformat(START))
    at = _click(at, "Create")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("dash flow" in str(s.value) for s in at.success)
    made = next(c for c in list_campaigns() if c.name == "dash flow")
    assert made.seed == 21 and made.control_share == 0.5
    at.selectbox(key="campaign").set_value("dash flow").run()
    assert [b.label for b in at.get("download_button")] == ["Download CSV", "Download XLSX"]
    # the read-out of a stored log after the start
    people = _members("dash flow")
    treated = ((people["arm"] == "treatment") & (people["segment"] == made.segments[0])).to_numpy()
    buy = np.random.default_rng(5).random(len(people)) < np.where(treated, 0.45, 0.25)
    stored = service.ingest(_later_log(people, buy, tmp_path / "after.csv", 5))
    at = at.run()  # the page lists the stored logs afresh
    [after] = [w for w in at.selectbox if w.label == "The log after the start"]
    after.set_value(stored.id)
    at = _click(at, "Read out")
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = "\n".join(str(m.value) for m in at.markdown)
    expected = campaign_report("dash flow", stored.id)
    assert plain_summary(expected.overall.summary) in shown
    assert len(at.get("plotly_chart")) == 1


def plain_summary(text: str) -> str:
    from segwise.app.widgets import plain

    return plain(text)


def test_pseudonymised_ids_stay_so_unless_the_contacts_file_maps_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from segwise.demo import generate_log, write_log
    from segwise.store.lake import pseudonym

    key = "campaign-test-key-0123456789"
    monkeypatch.setenv("SEGWISE_PSEUDONYMISE_KEY", key)
    get_settings.cache_clear()
    shop = generate_log(400, seed=5)
    log = write_log(shop.lines, tmp_path / "log.csv")
    run, _ = service.run_segment(log, service.SegmentOptions(k=3, seed=0), pseudonymise=True)
    create_campaign(run.id, _largest(run.id), name="private", control=0.2, seed=1, start=START)
    frame = campaign_audience("private")
    real = {pseudonym(key.encode(), c): c for c in shop.customers["customer_id"].to_pylist()}
    assert set(frame["customer_id"]) <= set(real)  # pseudonyms, never the real ids
    known = sorted(real[c] for c in frame["customer_id"])[::2]  # the shop knows half of them
    pd.DataFrame({"customer_id": known, "email": [f"{c}@example.org" for c in known]}).to_csv(
        tmp_path / "contacts.csv", index=False
    )
    joined = campaign_audience("private", contacts=tmp_path / "contacts.csv")
    mapped = joined[joined["email"].notna()]
    assert sorted(mapped["customer_id"]) == known
    assert (mapped["email"] == mapped["customer_id"] + "@example.org").all()
    rest = joined[joined["email"].isna()]
    assert len(rest) == len(frame) - len(known) and set(rest["customer_id"]) <= set(real)
    # the read-out of a later file: stored pseudonymised too, so the ids meet
    people = _members("private")
    buy = np.random.default_rng(0).random(len(people)) < 0.5
    plain_people = people.assign(customer_id=people["customer_id"].map(real))
    report = campaign_report("private", _later_log(plain_people, buy, tmp_path / "after.csv", 0))
    assert report.overall.measures[0].treatment == pytest.approx(
        buy[(people["arm"] == "treatment").to_numpy()].mean()
    )


def test_customer_table_run_names_with_commas_numbers_and_read_out(tmp_path: Path, cli) -> None:
    """A customer table's segment names hold commas ("Mostly recommend B, high visits ..."):
    the comma-separated text is read against them; numbers name segments too. Its read-out
    has no RFM measures (a table has no purchase history)."""
    from segwise.demo import generate_customers

    table = generate_customers(400, seed=2)
    table.to_csv(tmp_path / "customers.csv", index=False)
    run, seg = service.run_segment(tmp_path / "customers.csv", service.SegmentOptions(k=5))
    assert all("," in name for name in seg.names)
    text = f"{seg.names[2].upper()},{seg.names[0]}"
    made = cli(
        "campaign", "create", run.id, "--segments", text, "--name", "table", "--control", "0.3",
        "--start", "2026-01-01", "--json",
    )  # fmt: skip
    assert made.exit_code == 0, made.stderr
    assert json.loads(made.stdout)["segments"] == [seg.names[2], seg.names[0]]
    by_number = create_campaign(run.id, "1, 2", name="numbers", start="2026-01-01")
    assert by_number.segments == [seg.names[1], seg.names[2]]
    buyers = table["customer_id"].sample(150, random_state=1)
    later = pd.DataFrame(
        {"member": buyers, "when": "2026-01-15", "amount": 12.5, "receipt": range(150)}
    )
    later.to_csv(tmp_path / "later.csv", index=False)
    report = campaign_report("table", tmp_path / "later.csv")
    assert [m.measure for m in report.overall.measures] == ["bought again", "spend per customer"]
    people = _members("table")
    bought = people["customer_id"].isin(set(buyers))
    treated = (people["arm"] == "treatment").to_numpy()
    assert report.overall.measures[0].treatment == pytest.approx(bought[treated].mean())
    assert report.overall.measures[1].control == pytest.approx(12.5 * bought[~treated].mean())


def test_html_read_out_escapes_user_text(shop: str, tmp_path: Path) -> None:
    from segwise.report.campaign import render_campaign_report

    name = "<b>Dec</b> & win-back"
    create_campaign(
        shop, _largest(shop), name=name, control=0.5, seed=2, start=START, message="<script>x"
    )
    people = _members(name)
    buy = np.random.default_rng(8).random(len(people)) < 0.3
    page = render_campaign_report(
        campaign_report(name, _later_log(people, buy, tmp_path / "a.csv", 8))
    )
    assert "&lt;b&gt;Dec&lt;/b&gt; &amp; win-back" in page and "<b>Dec" not in page
    assert "&lt;script&gt;x" in page and page.count("<script>") == 2  # plotly.js, drawing
