"""The self-contained HTML report: one file, offline, every section, all user text escaped."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from markupsafe import escape
from plotly.offline import get_plotlyjs

from segwise.config import Settings
from segwise.demo import generate_log, write_log
from segwise.errors import InputError
from segwise.features.rfm import DEFAULT_GRID
from segwise.report import SECTIONS, render_report, sections_for, write_report
from segwise.report.charts import MAP_POINTS, map_sample, rfm_cells
from segwise.segment.cluster import Stability
from segwise.segment.pipeline import Segmentation, segment_table
from segwise.service import SegmentOptions, segment

HOSTILE = "<script>alert(1)</script>"
HOSTILE_VALUE = "<img src=x onerror=alert(2)>"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(home=tmp_path_factory.mktemp("home"), threads=1)


@pytest.fixture(scope="module")
def log_run(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Segmentation:
    folder = tmp_path_factory.mktemp("log")
    path = write_log(generate_log(600, seed=1).lines, folder / "log.csv")
    return segment(path, SegmentOptions(k_max=6), settings=settings)


def _customer_table(n: int, seed: int = 0) -> pd.DataFrame:
    """Customers with planted groups, a hostile column name and a hostile category value."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    income = np.round(rng.lognormal(10 + 0.6 * group, 0.2), 2)
    income[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "customer_id": [f"c{i:05d}" for i in range(n)],
            "income": income,
            "shops": np.array(["Never", "Monthly", "Weekly"])[group],
            "visits": rng.poisson(2 + 4 * group),
            HOSTILE: np.round(rng.normal(group * 3.0, 1.0), 3),
            "owner": np.where(group == 2, "yes", "no"),
            "region": rng.choice(["north", "south", HOSTILE_VALUE], n),
        }
    )


@pytest.fixture(scope="module")
def table_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("table") / "customers.csv"
    _customer_table(300).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def table_run(table_path: Path, settings: Settings) -> Segmentation:
    return segment(table_path, SegmentOptions(kind="customers", k_max=6), settings=settings)


@pytest.fixture(scope="module")
def log_html(log_run: Segmentation, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = write_report(log_run, tmp_path_factory.mktemp("out") / "log.html")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def table_html(table_run: Segmentation) -> str:
    return render_report(table_run, title=f"Segments of {HOSTILE}")


def _chart_specs(html: str) -> dict[str, dict[str, object]]:
    blocks = re.findall(
        r'<script type="application/json" data-chart="([^"]+)">(.*?)</script>', html
    )
    return {name: json.loads(text) for name, text in blocks}


def _array(value: object) -> np.ndarray:
    """A Plotly array from JSON: a plain list or a base64 typed array {dtype, bdata, shape}."""
    if isinstance(value, dict):
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = [int(x) for x in str(value.get("shape", len(flat))).split(",")]
        return flat.reshape(shape)
    return np.asarray(value)


def _check_self_contained(html: str) -> None:
    assert html.count(get_plotlyjs()) == 1  # plotly.js inlined, exactly once
    assert html.count("plotly.js v") == 1
    lowered = html.lower()
    assert "<script src=" not in lowered
    assert not re.search(r"<link[^>]+href=[\"']?(https?:)?//", lowered)
    page = html.replace(get_plotlyjs(), "").lower()  # the bundle's own texts name plotly.com
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", page)
    assert "@import" not in page and "url(" not in page


def _check_segments(html: str, seg: Segmentation) -> None:
    for name, advice in zip(seg.names, seg.recommendations, strict=True):
        assert str(escape(name)) in html
        assert str(escape(advice)) in html


def test_log_report_is_self_contained_and_complete(log_html: str, log_run: Segmentation) -> None:
    _check_self_contained(log_html)
    for _, heading in sections_for(log_run):
        assert f"<h2>{escape(heading)}</h2>" in log_html
    assert [key for key, _ in sections_for(log_run)] == list(SECTIONS)
    # made without a run (no value, so no hold-out check): the section says so in one line
    assert "No hold-out check: this run did not value its customers." in log_html
    _check_segments(log_html, log_run)
    specs = _chart_specs(log_html)
    assert set(specs) == {f"chart-{k}" for k in ("sizes", "profiles", "map2d", "map3d", "k")} | {
        "chart-rfm",
        "chart-correlations",
    }
    # the elbow is marked in the k chart and named in the text
    assert log_run.k_selection is not None and log_run.k_selection.elbow is not None
    elbow = log_run.k_selection.elbow
    traces = specs["chart-k"]["data"]
    assert isinstance(traces, list)
    assert any(t.get("name") == f"elbow (k = {elbow})" and t["x"] == [elbow] for t in traces)
    assert f"★ at k = {elbow}" in log_html
    assert str(escape(log_run.k_selection.reason)) in log_html


def test_log_report_shows_cleaning_and_rfm_grid(log_html: str, log_run: Segmentation) -> None:
    rfm = log_run.extra["rfm"]
    report = rfm["report"]
    assert f"{report['lines']:,}" in log_html and f"{report['kept_lines']:,}" in log_html
    for reason, count in report["dropped"].items():
        if count:
            assert f"<code>{reason}</code>" in log_html
    for column in rfm["mapping"].values():
        assert f"<code>{escape(column)}</code>" in log_html
    assert rfm["as_of"] in log_html
    grid = _chart_specs(log_html)["chart-rfm"]["data"][0]  # type: ignore[index]
    assert _array(grid["z"]).sum() == len(log_run.labels)
    assert any("Champions" in cell for row in grid["text"] for cell in row)


def test_rfm_cells_follow_the_scores(log_run: Segmentation) -> None:
    cells = rfm_cells(log_run.features, 5)
    assert cells is not None
    counts, names = cells
    assert counts.shape == (5, 5) and counts.sum() == len(log_run.features)
    f = log_run.features
    fm = (f["f_score"] + f["m_score"] + 1) // 2
    champions = int(((f["r_score"] == 5) & (fm == 5)).sum())
    assert counts[4, 4] == champions
    for r in range(5):
        for c in range(5):
            assert names[r][c] == DEFAULT_GRID.cells[(r + 1, c + 1)]


def test_table_report_escapes_user_text(table_html: str, table_run: Segmentation) -> None:
    _check_self_contained(table_html)
    for _, heading in sections_for(table_run):
        assert f"<h2>{escape(heading)}</h2>" in table_html
    assert "rfm" not in dict(sections_for(table_run))
    assert "value_check" not in dict(sections_for(table_run))
    _check_segments(table_html, table_run)
    assert HOSTILE not in table_html and HOSTILE_VALUE not in table_html
    assert "<script>alert" not in table_html and "<img" not in table_html
    assert str(escape(HOSTILE)) in table_html  # shown, as text, in the page
    assert str(escape(HOSTILE_VALUE)) in table_html
    # inside the charts, labels are HTML-escaped too (Plotly reads a few tags in text)
    profiles = _chart_specs(table_html)["chart-profiles"]["data"][0]  # type: ignore[index]
    assert any(str(escape(HOSTILE)) in label for label in profiles["x"])
    assert all("<script" not in label for label in profiles["x"])


def test_table_report_shows_preparation(table_html: str, table_run: Segmentation) -> None:
    prep = table_run.prep
    assert "Yes/no columns" in table_html and '<span class="col">owner</span>' in table_html
    assert "Categories (one indicator per answer)" in table_html
    assert prep.onehot_columns == ("region",)
    assert "shops: Never &lt; Monthly &lt; Weekly" in table_html  # ordinal levels, in order
    missing = prep.imputed_columns["income"]
    assert missing > 0 and f"{missing:,} rows" in table_html
    assert "customers.csv" in table_html
    assert "customer_id" in table_html  # the id column found


def test_fixed_k_is_said_and_has_no_elbow_chart(table_path: Path, settings: Settings) -> None:
    run = segment(table_path, SegmentOptions(kind="customers", k=3), settings=settings)
    html = render_report(run)
    assert "k was fixed at 3" in html
    assert "chart-k" not in _chart_specs(html)
    _check_segments(html, run)


def test_stability_warning_is_shown(log_run: Segmentation, log_html: str) -> None:
    shaky = dataclasses.replace(
        log_run, stability=Stability(mean_ari=0.41, min_ari=0.2, warning="Segments <b>shift</b>")
    )
    html = render_report(shaky)
    assert "Unstable segments." in html and "Segments &lt;b&gt;shift&lt;/b&gt;" in html
    if log_run.stability.warning is None:
        assert "Unstable segments." not in log_html
    weak = (1.0,) * (log_run.k - 1) + (0.42,)
    named = render_report(dataclasses.replace(shaky, stability=Stability(0.9, 0.8, "w", weak)))
    assert f"The least stable segment, {log_run.names[-1]}, keeps 0.42 of its" in named


def test_write_report_is_atomic(log_run: Segmentation, tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    target.write_text("old", encoding="utf-8")
    assert write_report(log_run, target) == target
    assert target.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # no temp file left
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # as any new file, not mkstemp's 0600
    with pytest.raises(InputError):
        write_report(log_run, tmp_path / "missing" / "r.html")


def test_map_sample_is_small_seeded_and_keeps_every_segment() -> None:
    labels = np.r_[np.zeros(99_000, dtype=np.int64), np.ones(1_000, dtype=np.int64), [2] * 10]
    rows = map_sample(labels)
    assert len(rows) <= MAP_POINTS + 3 * 50
    assert set(np.unique(labels[rows])) == {0, 1, 2}
    assert (labels[rows] == 2).sum() == 10
    assert np.array_equal(rows, map_sample(labels))
    assert np.array_equal(map_sample(labels[:100]), np.arange(100))


@pytest.mark.slow
def test_report_of_50k_customers_stays_small(tmp_path: Path) -> None:
    table = _customer_table(50_000, seed=3).set_index("customer_id")
    run = segment_table(table, kind="customers", k=4, seed=0)
    path = write_report(run, tmp_path / "big.html")
    size = path.stat().st_size
    assert size < len(get_plotlyjs()) + 600_000  # the data adds well under 1 MB
    assert size < 6_000_000


NO_CHROMIUM = "no Chromium at /usr/bin/chromium: `make browser` installs it"


@pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)
def test_report_draws_in_headless_chromium(log_run: Segmentation, tmp_path: Path) -> None:
    path = write_report(log_run, tmp_path / "r.html")
    dom = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--virtual-time-budget=15000",
            "--dump-dom",
            path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert dom.count('class="main-svg"') >= 5  # the charts were drawn by the inlined plotly.js
    assert "chart chart-error" not in dom


def test_no_browser_needed_to_parse(log_html: str) -> None:
    """Every chart spec is valid JSON and every loader script is valid JavaScript (node)."""
    node = shutil.which("node")
    specs = _chart_specs(log_html)
    assert all("data" in spec and "layout" in spec for spec in specs.values())
    if node is None:
        pytest.skip("node not installed")
    scripts = re.findall(r"<script>(.*?)</script>", log_html, flags=re.S)
    loader = scripts[-1]
    subprocess.run([node, "--check", "-"], input=loader, text=True, check=True, timeout=60)
