"""The calibration / hold-out check: on CDNOW (calibration to 1997-09-30, hold-out weeks 40-78)
the per-group numbers equal Fader, Hardie & Lee's setting as docs/value.md tabulates it
(actual purchases counted independently from the raw lines in tests/test_value.py), through
the function and the CLI; a demo-log run's report shows it as a chart; logs that cannot
support it give a note and no numbers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import warnings
from datetime import date
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # lifetimes imports pkg_resources
    from lifetimes.datasets import load_dataset

from segwise.demo import generate_log, write_log
from segwise.service.value_check import check_log

CALIBRATION_END = date(1997, 9, 30)
FLAGS = ("--customer", "customer_id", "--date", "date", "--amount", "amount")
# docs/value.md, "Hold-out, weeks 40-78": (repeat purchases in weeks 1-39, customers,
# actual repeat purchase days per customer in weeks 40-78, BG/NBD expected)
PUBLISHED = [
    ("0", 1411, 0.237, 0.225),
    ("1", 439, 0.697, 0.523),
    ("2", 214, 1.393, 1.044),
    ("3", 100, 1.560, 1.520),
    ("4", 62, 2.532, 2.164),
    ("5", 38, 2.947, 2.654),
    ("6", 29, 3.862, 3.504),
    ("7+", 64, 6.359, 6.157),
]


@pytest.fixture(scope="module")
def cdnow_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = load_dataset("CDNOW_sample.txt", header=None, sep=r"\s+", dtype={0: str, 1: str})
    raw.columns = ["old_id", "customer_id", "date", "cds", "amount"]
    path = tmp_path_factory.mktemp("cdnow") / "cdnow_sample.csv"
    raw[["customer_id", "date", "amount"]].to_csv(path, index=False)
    return path


def check_published(found: dict[str, object]) -> None:
    """A check's summary equals the CDNOW hold-out table, group by group, to its 3 decimals."""
    assert (found["calibration_end"], found["holdout_start"]) == ("1997-09-30", "1997-10-01")
    assert (found["holdout_end"], found["holdout_weeks"]) == ("1998-06-30", 39.0)
    groups = found["groups"]
    assert isinstance(groups, list)
    got = [
        (g["repeat_purchases"], g["customers"], g["actual_mean"], g["predicted_mean"])
        for g in groups
    ]
    assert [g[:2] for g in got] == [p[:2] for p in PUBLISHED]
    for (name, _, actual, predicted), (_, _, want_actual, want_predicted) in zip(
        got, PUBLISHED, strict=True
    ):
        assert actual == pytest.approx(want_actual, abs=5e-4), name
        assert predicted == pytest.approx(want_predicted, abs=5e-4), name
    assert found["customers"] == 2357
    assert found["actual_total"] == 1882
    assert round(float(found["predicted_total"])) == 1653  # type: ignore[arg-type]
    assert found["bgnbd"]["r"] == pytest.approx(0.243, rel=0.02)  # type: ignore[index]


def test_cdnow_holdout_equals_the_published_setting(cdnow_log):
    found = check_log(cdnow_log, 39 * 7, CALIBRATION_END)
    assert found.note is None
    check_published(found.summary())
    # the groups add up to the per-group totals
    for g in found.groups:
        assert g.actual_total == pytest.approx(g.actual_mean * g.customers)


def test_cli_prints_the_check_and_carries_it_in_json(cli, cdnow_log):
    args = ("value", cdnow_log, "--calibration-end", "1997-09-30", "--holdout", "39w", *FLAGS)
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    check_published(summary["holdout"])
    assert summary["holdout"]["bgnbd"] == summary["bgnbd"]  # the same fit as the value's
    text = cli(*args)
    assert text.exit_code == 0, text.stderr
    assert "Hold-out check: learned up to 1997-09-30" in " ".join(text.stdout.split())
    assert re.search(r"7\+\s.*64\s.*6\.359\s.*6\.157", text.stdout)
    assert "1,882 in total" in text.stdout


def test_without_calibration_end_the_last_weeks_are_held_out(cli, cdnow_log):
    result = cli("value", cdnow_log, "--holdout", "13w", "--json", *FLAGS)
    assert result.exit_code == 0, result.stderr
    check = json.loads(result.stdout)["holdout"]
    assert (check["holdout_start"], check["holdout_end"]) == ("1998-04-01", "1998-06-30")
    assert check["calibration_end"] == "1998-03-31" and check["holdout_weeks"] == 13.0
    # everyone in CDNOW made the first purchase in the first quarter of 1997
    assert check["customers"] == 2357
    assert sum(g["customers"] for g in check["groups"]) == 2357


@pytest.mark.parametrize(
    ("end", "weeks", "words"),
    [
        ("1998-03-31", "26w", "the log ends on 1998-06-30, before the 26-week hold-out"),
        ("1997-03-31", "39w", "the log has only 90 days of purchases before the 39-week hold-out"),
    ],
)
def test_a_log_too_short_for_the_holdout_gives_a_note(cli, cdnow_log, end, weeks, words):
    args = ("value", cdnow_log, "--calibration-end", end, "--holdout", weeks, "--horizon", "30d")
    result = cli(*args, *FLAGS, "--json")
    assert result.exit_code == 0, result.stderr
    check = json.loads(result.stdout)["holdout"]
    assert check["note"].startswith("No hold-out check: ") and words in check["note"]
    assert "groups" not in check and "bgnbd" not in check
    text = cli(*args, *FLAGS)
    assert words in " ".join(text.stdout.split())


def test_too_few_repeat_customers_give_a_note(tmp_path):
    path = write_log(generate_log(40, seed=3).lines, tmp_path / "small.csv")
    found = check_log(path)
    assert found.note is not None and "customers bought again before the hold-out" in found.note
    assert found.groups == [] and found.bgnbd == {}


def test_bad_holdout_is_refused(cli, cdnow_log):
    result = cli("value", cdnow_log, "--holdout", "soon", *FLAGS)
    assert result.exit_code == 2 and "--holdout 'soon' is not a duration" in result.stderr
    result = cli("value", cdnow_log, "--holdout", "3d", *FLAGS)
    assert result.exit_code == 2 and "out of range" in result.stderr


def test_a_fit_that_does_not_converge_gives_a_note(tmp_path):
    # 600 planted customers (not drawn from BG/NBD): up to 13 weeks before the end, a
    # parameter runs off to infinity
    path = write_log(generate_log(600, seed=1).lines, tmp_path / "shop.csv")
    found = check_log(path)
    assert found.note == (
        "No hold-out check: the BG/NBD fit before the hold-out did not converge "
        "(a parameter ran off towards 0 or infinity)."
    )


def test_a_demo_log_run_reports_the_check(cli, tmp_path):
    log = write_log(generate_log(2000, seed=7).lines, tmp_path / "shop.csv")  # segwise demo's
    report = tmp_path / "report.html"
    result = cli("segment", log, "--k", "4", "--report", report, "--json")
    assert result.exit_code == 0, result.stderr
    check = json.loads(result.stdout)["value_check"]
    assert "note" not in check, check
    assert check["holdout_end"] == "2011-12-09" and check["holdout_weeks"] == 13.0
    groups = check["groups"]
    assert [g["repeat_purchases"] for g in groups][:2] == ["0", "1"]
    assert all(g["predicted_mean"] > 0 for g in groups)
    html = report.read_text(encoding="utf-8")
    assert "<h2>How well value is predicted</h2>" in html
    blocks = dict(
        re.findall(r'<script type="application/json" data-chart="([^"]+)">(.*?)</script>', html)
    )
    spec = json.loads(blocks["chart-value_check"])
    actual, predicted = spec["data"]
    assert actual["x"] == [g["repeat_purchases"] for g in groups]
    assert actual["y"] == [g["actual_mean"] for g in groups]
    assert predicted["y"] == [g["predicted_mean"] for g in groups]
    assert f"{groups[0]['actual_mean']:.3f}" in html


CHROMIUM = Path("/usr/bin/chromium")
IMAGES = Path(__file__).parent.parent / "docs" / "img"


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium: `make browser` installs it")
def test_the_cdnow_chart_draws_in_chromium(cdnow_log, tmp_path):
    """The report's chart of the CDNOW check, drawn by headless Chromium; with
    SEGWISE_SCREENSHOTS=1 the picture is docs/value.md's figure (docs/img/value-holdout.png)."""
    from plotly.offline import get_plotlyjs

    from segwise.report.value_check import holdout_chart

    spec = holdout_chart(check_log(cdnow_log, 39 * 7, CALIBRATION_END).summary())
    title = "CDNOW: repeat purchases in weeks 40-78 per customer, by repeat purchases in weeks 1-39"
    page = tmp_path / "chart.html"
    page.write_text(
        '<!doctype html><html><body style="margin:0;font-family:sans-serif">'
        '<div id="c" style="width:900px"></div>'
        f"<script>{get_plotlyjs()}</script>"
        f"<script>var s = {spec}; s.layout.title = {{text: {json.dumps(title)}, x: 0.01}};"
        "s.layout.margin.t = 70; Plotly.newPlot('c', s.data, s.layout, {staticPlot: true})"
        ".then(function () { document.title = 'drawn'; });</script></body></html>",
        encoding="utf-8",
    )
    dom = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--dump-dom",
            "--virtual-time-budget=15000",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "<title>drawn</title>" in dom and dom.count('class="point"') >= 8  # 8 bars
    target = IMAGES if os.environ.get("SEGWISE_SCREENSHOTS") == "1" else tmp_path
    image = target / "value-holdout.png"
    subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--hide-scrollbars",
            "--window-size=900,365",
            "--virtual-time-budget=15000",
            f"--screenshot={image}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
