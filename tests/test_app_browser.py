"""The dashboard in a real browser: `segwise app` on a free port, driven by Playwright through
Debian's Chromium (never a downloaded browser). With accounts in the catalog only a sign-in
form shows at first; an analyst signs in, uploads an Online-Retail-style export, stores it,
finds segments (in the background: it leaves the page, comes back and reloads, and the run
ends as done), looks a customer up, predicts one, compares two runs, and visits every page
at phone size (390 x 844); a viewer signs in and reaches none of upload, export and look-up;
the screenshots it takes are the README's (docs/img/app-*.png) when SEGWISE_SCREENSHOTS=1,
so a test run leaves the tree as it was; otherwise they go to a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from segwise.app.forms import UNITS
from segwise.demo import generate_log, write_log

CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")
IMAGES = (
    Path(__file__).parent.parent / "docs" / "img"
    if os.environ.get("SEGWISE_SCREENSHOTS") == "1"
    else Path(tempfile.mkdtemp(prefix="segwise-screens-"))
)
WAIT_MS = 120_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SEGWISE_MAIN = "from segwise.cli import main; main()"
ACCOUNTS = {"ana": ("analyst", "analyst-pass-0001"), "vic": ("viewer", "viewer-pass-0001")}

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM}: `make browser` installs it",
    ),
    pytest.mark.xdist_group("browser"),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`segwise app` in a subprocess with its own data folder; its URL."""
    folder = tmp_path_factory.mktemp("dashboard")
    port = _free_port()
    script = Path(sys.executable).parent / "segwise"
    segwise = [str(script)] if script.exists() else [sys.executable, "-c", SEGWISE_MAIN]
    env = os.environ | {"SEGWISE_HOME": str(folder / "home"), "SEGWISE_THREADS": "2"}
    for name, (role, password) in ACCOUNTS.items():
        subprocess.run(
            [*segwise, "users", "add", name, "--role", role, "--password-stdin"],
            env=env,
            input=password + "\n",
            text=True,
            check=True,
            capture_output=True,
        )
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [*segwise, "app", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"segwise app did not start:\n{(folder / 'server.log').read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def shop_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Online-Retail-style export: `;`, day-first dates, decimal commas, float ids."""
    folder = tmp_path_factory.mktemp("upload")
    return write_log(generate_log(400, seed=5).lines, folder / "online_retail.csv", style="uk")


def _shoot(page: Any, name: str) -> None:
    """Screenshot the whole page (Streamlit scrolls inside its main pane, so the viewport is
    made as tall as that pane first)."""
    size = page.viewport_size
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": min(int(height), 8000)})
    page.wait_for_timeout(800)  # charts re-lay themselves out
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / name))
    page.set_viewport_size(size)


def _go(page: Any, title: str) -> None:
    """Open a page through the navigation (a new URL would start a new session)."""
    page.get_by_role("link", name=title, exact=True).first.click()
    page.get_by_role("heading", level=1, name=title, exact=True).wait_for(timeout=WAIT_MS)


def _idle(page: Any) -> None:
    """Wait until the script run the last click started has finished."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached", timeout=WAIT_MS)


def test_upload_segment_look_up_predict_compare(dashboard: str, shop_log: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page(viewport=DESKTOP)
        page.set_default_timeout(WAIT_MS)
        try:
            _walk_through(page, dashboard, shop_log)
        finally:
            browser.close()


def _sign_in(page: Any, name: str) -> None:
    """Only the sign-in form shows; fill it in as ``name``."""
    page.get_by_role("heading", name="Sign in", exact=True).wait_for()
    assert page.locator('input[type="file"]').count() == 0
    assert page.get_by_role("link", name="Data", exact=True).count() == 0
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Password", exact=True).fill(ACCOUNTS[name][1])
    page.get_by_role("button", name="Sign in", exact=True).click()


def _walk_through(page: Any, url: str, shop_log: Path) -> None:
    page.goto(url)
    page.get_by_label("Name", exact=True).wait_for()
    page.get_by_label("Name", exact=True).fill("ana")
    page.get_by_label("Password", exact=True).fill("a-wrong-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text("wrong name or password").wait_for()
    _sign_in(page, "ana")
    page.get_by_role("heading", name="Data", exact=True).wait_for()

    # Data: upload, preview with detected roles, store, cleaning report
    page.locator('input[type="file"]').set_input_files(str(shop_log))
    page.get_by_text("reads as a").wait_for()
    # the detected role, ready to be corrected
    assert page.get_by_role("combobox", name="Customer id").input_value() == "CustomerID"
    page.get_by_role("button", name="Store dataset").click()
    page.get_by_role("heading", name="Cleaning report").wait_for()
    page.get_by_text("guest lines without a customer id").wait_for(state="attached")  # a grid cell
    _idle(page)
    _shoot(page, "app-data.png")

    # Segments: a run starts in the background and goes on while the user clicks elsewhere
    _go(page, "Segments")
    page.get_by_role("button", name="Find segments").click()
    page.get_by_text("Finding segments of").wait_for()  # the strip, on every page
    run_id = page.url.split("run=")[1].split("&")[0]
    _go(page, "History")
    page.get_by_text(f"(run {run_id})").wait_for(state="attached")
    _go(page, "Segments")
    # a reload is a new session: signed in again, the address brings dataset and run back
    page.reload()
    _sign_in(page, "ana")
    page.get_by_text(f"Run {run_id} · done").wait_for()
    assert f"run={run_id}" in page.url
    page.get_by_role("heading", name="RFM grid").wait_for()
    _idle(page)
    cards = page.locator('[data-testid="stMarkdownContainer"] p').filter(has_text=" of all")
    assert cards.count() >= 2  # one card per segment: "N customers · S% of all"
    page.locator(".js-plotly-plot").nth(4).wait_for()  # sizes, profiles, map, k, RFM grid
    for label in ("Customers with segments (CSV)", "Customers with segments (XLSX)", "HTML report"):
        assert page.get_by_role("button", name=label).is_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Customers with segments (CSV)").click()
    saved = Path(download.value.path())
    header = saved.read_text().splitlines()[0]
    assert header.startswith("customer_id,") and header.endswith(",recommendation")
    _shoot(page, "app-segments.png")

    # the same page on a phone: one column, charts as wide as the screen
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(800)
    widest = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('.js-plotly-plot')]"
        ".map(e => e.getBoundingClientRect().right))"
    )
    assert widest <= PHONE["width"] + 1
    lefts = {round(card.bounding_box()["x"]) for card in cards.all()}
    assert len(lefts) == 1  # the cards stack in one column
    page.get_by_role("heading", name="Segment cards").scroll_into_view_if_needed()
    page.screenshot(path=str(IMAGES / "app-phone.png"))
    page.set_viewport_size(DESKTOP)
    page.wait_for_timeout(500)

    # Customer: look up the first customer the page suggests
    _go(page, "Customer")
    suggested = page.locator("code").first.inner_text()
    page.get_by_label("Customer id").fill(suggested)
    page.get_by_role("button", name="Look up").click()
    page.get_by_role("heading", name=f"Customer {suggested}").wait_for()
    page.get_by_role("heading", name="Purchases by month").wait_for()
    page.get_by_text("this customer").first.wait_for()  # marked in the segment's spread
    _idle(page)
    _shoot(page, "app-customer.png")

    # Predict: the form starts at a typical customer; predict, see the card
    _go(page, "Predict")
    for feature, unit in UNITS.items():  # each input named with its unit
        page.get_by_label(f"{feature} ({unit})", exact=True).wait_for()
    page.get_by_label(f"frequency ({UNITS['frequency']})", exact=True).fill("30")
    page.get_by_role("button", name="Predict").click()
    page.get_by_text("probability").wait_for()
    page.get_by_text("Why").wait_for()
    _idle(page)
    _shoot(page, "app-predict.png")

    # a second run with a fixed k, then History compares the two
    _go(page, "Segments")
    page.get_by_text("Choose the number of segments automatically").click()
    page.get_by_role("slider").first.focus()
    page.keyboard.press("ArrowLeft")
    page.get_by_role("button", name="Find segments").click()
    page.get_by_text("3 segments found").wait_for()
    _idle(page)
    _go(page, "History")
    page.get_by_text("Who moved").wait_for()
    page.get_by_text("What drifted").wait_for()
    _idle(page)
    page.locator(".js-plotly-plot").nth(1).wait_for()  # migration and drift
    _shoot(page, "app-history.png")
    _phone_pages(page)


PHONE_PAGES = ("Data", "Segments", "Customer", "Predict", "Target", "History", "Campaigns")


def _phone_pages(page: Any) -> None:
    """Every page at 390 x 844: the page links wrap across the top (no menu left open over
    the page after a choice), nothing is wider than the screen; a screenshot of each."""
    page.set_viewport_size(PHONE)
    for title in PHONE_PAGES:
        _go(page, title)
        _idle(page)
        assert not page.locator('[data-testid="stSidebar"][aria-expanded="true"]').count()
        heading = page.get_by_role("heading", level=1, name=title, exact=True)
        box = heading.bounding_box()
        assert box is not None and 0 <= box["y"] < PHONE["height"] / 2  # not pushed off
        # what is under the heading's centre is the heading: nothing covers the page
        covered = page.evaluate(
            "([x, y]) => { const e = document.elementFromPoint(x, y);"
            " return e ? e.closest('h1') === null : true; }",
            [box["x"] + min(box["width"], 60) / 2, box["y"] + box["height"] / 2],
        )
        assert not covered, f"something covers the {title} page"
        widest = page.evaluate(
            "() => Math.max(0, ...[...document.querySelectorAll("
            "'.js-plotly-plot, [data-testid=stHorizontalBlock]')]"
            ".map(e => e.getBoundingClientRect().right))"
        )
        assert widest <= PHONE["width"] + 1, f"{title} is wider than a phone"
        _shoot(page, f"app-phone-{title.lower()}.png")
    find = page.get_by_role("link", name="Segments", exact=True)
    find.first.click()
    button = page.get_by_role("button", name="Find segments")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box is not None
    reachable = page.evaluate(
        "([x, y]) => !!document.elementFromPoint(x, y)?.closest('button')",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert reachable, "the Find segments button is covered on a phone"
    page.set_viewport_size(DESKTOP)


def test_a_viewer_reaches_no_upload_export_or_look_up(dashboard: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page(viewport=DESKTOP)
        page.set_default_timeout(WAIT_MS)
        try:
            for path in ("", "/data", "/segments", "/customer", "/predict"):
                page.goto(dashboard + path)  # a new URL is a new session: sign in again
                _sign_in(page, "vic")
                page.get_by_role("heading", name="History", exact=True).wait_for()
                _idle(page)
                for title in ("Data", "Segments", "Customer", "Predict", "Target", "Audit"):
                    assert page.get_by_role("link", name=title, exact=True).count() == 0
                assert page.locator('input[type="file"]').count() == 0
                assert page.get_by_role("button", name="Look up").count() == 0
                assert page.locator('[data-testid="stDownloadButton"]').count() == 0
        finally:
            browser.close()
