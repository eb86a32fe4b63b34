"""The dashboard, page by page, in-process with Streamlit's ``AppTest`` (no browser).

Each test drives the real entry script (``st.navigation`` over ``app_pages/``) against its
own SEGWISE_HOME; the pieces pages call (uploads, form building, downloads) are tested
directly too. The browser smoke test is ``test_app_browser.py``.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from run_waiting import wait_until_ended
from segwise import service
from segwise.app import background, exports, forms, state
from segwise.app.widgets import plain
from segwise.config import Settings, get_settings
from segwise.demo import generate_customers, generate_log, write_log
from segwise.errors import InputError, SignInError
from segwise.io.validate import REASONS

ENTRY = Path(state.__file__).parent / "streamlit_app.py"
TIMEOUT = 180


@pytest.fixture(scope="module")
def shop_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Online-Retail-style export (`;`, day-first dates, decimal commas, float ids)."""
    folder = tmp_path_factory.mktemp("shop")
    return write_log(generate_log(300, seed=3).lines, folder / "online_retail.csv", style="uk")


@pytest.fixture(autouse=True)
def on_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard as `segwise app` starts it by default: on 127.0.0.1, so with no
    account it runs in single-user local mode."""
    monkeypatch.setenv("SEGWISE_APP_HOST", "127.0.0.1")
    get_settings.cache_clear()


def app() -> AppTest:
    return AppTest.from_file(str(ENTRY), default_timeout=TIMEOUT).run()


def open_page(at: AppTest, page: str) -> AppTest:
    return at.switch_page(f"app_pages/{page}.py").run()


def click(at: AppTest, label: str) -> AppTest:
    [button] = [b for b in at.button if b.label == label]
    return button.click().run()


def texts(at: AppTest) -> str:
    """Every markdown, caption, heading and alert text on the page, one string."""
    parts: list[Any] = [*at.markdown, *at.caption, *at.title, *at.subheader, *at.info]
    parts += [*at.warning, *at.success, *at.error]
    return "\n".join(str(p.value) for p in parts)


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def charts(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


def find_segments(at: AppTest) -> tuple[AppTest, str]:
    """Press "Find segments", wait for the background run to end, and show the page again."""
    at = click(at, "Find segments")
    run_id = at.session_state[state.RUN]
    wait_until_ended(run_id)
    return at.run(), run_id


def run_log(path: Path, k: int | str = "auto") -> str:
    run, _ = service.run_segment(path, service.SegmentOptions(k=k))  # type: ignore[arg-type]
    return run.id


# --- pages without data ---------------------------------------------------------------


@pytest.mark.parametrize("page", ["data", "segments", "customer", "predict", "target", "history"])
def test_every_page_opens_on_an_empty_catalog(page):
    at = open_page(app(), page)
    assert_no_exception(at)
    assert not at.error
    if page != "data":
        assert at.info, "an empty page says what to do first"


# --- Data ---------------------------------------------------------------------------------


def test_upload_preview_roles_and_cleaning_report(shop_csv):
    at = app()
    at.file_uploader[0].upload(shop_csv.name, shop_csv.read_bytes(), "text/csv")
    at.run()
    assert_no_exception(at)
    assert "reads as a **transaction log**" in texts(at)
    assert len(at.dataframe[0].value) == 20  # the preview: first rows only
    roles = {s.label: s.value for s in at.selectbox}
    assert roles["Customer id"] == "CustomerID"
    assert roles["Date"] == "InvoiceDate"
    assert roles["Line amount"] == forms.NOT_IN_FILE
    # the product roles are shown (and can be corrected) like the others
    assert (roles["Product code"], roles["Product name"]) == ("StockCode", "Description")
    click(at, "Store dataset")
    assert_no_exception(at)
    info = at.session_state[state.DATASET]
    assert info.kind == "transactions" and info.customers == 300
    # the same file with its detected roles gets the CLI's dataset id
    assert info.id == service.ingest(shop_csv).id
    assert [m.value for m in at.metric][:2] == [f"{info.rows:,}", "300"]
    reasons = at.dataframe[-1].value["left out"].tolist()
    assert REASONS["no_customer_id"] in reasons and REASONS["adjustment"] in reasons


def test_a_corrected_role_is_used(tmp_path):
    path = tmp_path / "log.csv"
    frame = pd.DataFrame(
        {
            "client": ["a", "a", "b", "b"],
            "when": ["2024-01-02", "2024-02-03", "2024-01-05", "2024-03-01"],
            "spent": [10.0, 20.0, 5.0, 7.5],
            "paid": [11.0, 21.0, 6.0, 8.0],
            "order": ["1", "2", "3", "4"],
        }
    )
    frame.to_csv(path, index=False)
    at = app()
    at.file_uploader[0].upload(path.name, path.read_bytes(), "text/csv")
    at.run()
    amount = next(s for s in at.selectbox if s.label == "Line amount")
    customer = next(s for s in at.selectbox if s.label == "Customer id")
    customer.select("client")
    next(s for s in at.selectbox if s.label == "Kind").select("transactions")
    amount.select("paid")
    next(s for s in at.selectbox if s.label == "Date").select("when")
    click(at, "Store dataset")
    assert_no_exception(at)
    assert not at.error, [e.value for e in at.error]
    info = at.session_state[state.DATASET]
    assert info.roles["amount"] == "paid" and info.roles["customer"] == "client"


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("empty.csv", b"", "empty"),
        ("binary.csv", b"\x00\x01\x02" * 100, "binary"),
        ("fake.xlsx", b"just text, not a workbook\n", "not a real .xlsx"),
    ],
)
def test_a_bad_file_gives_a_message_not_a_traceback(name, content, needle):
    at = app()
    at.file_uploader[0].upload(name, content, "application/octet-stream")
    at.run()
    assert_no_exception(at)
    assert any(needle in e.value.lower() for e in at.error), [e.value for e in at.error]


def test_save_upload_writes_once_and_refuses_what_it_cannot_take(segwise_home):
    path = state.save_upload("../../evil name?.csv", b"a,b\n1,2\n")
    assert path.name == "evil name_.csv" and path.is_relative_to(segwise_home / "uploads")
    again = state.save_upload("evil name?.csv", b"a,b\n1,2\n")
    assert again == path and path.read_bytes() == b"a,b\n1,2\n"
    small = Settings(home=segwise_home, max_upload_mb=1)
    with pytest.raises(InputError, match="over the 1 MB limit"):
        state.save_upload("big.csv", b"x" * (1024 * 1024 + 1), settings=small)
    with pytest.raises(InputError, match=r"cannot read '\.exe'"):
        state.save_upload("tool.exe", b"MZ")


def test_a_stored_dataset_can_be_chosen(shop_csv):
    stored = service.ingest(shop_csv, name="retail")
    at = app()
    at.radio[0].set_value("Stored dataset").run()
    assert_no_exception(at)
    assert at.session_state[state.DATASET].id == stored.id
    assert "Cleaning report" in texts(at)


# --- Segments -----------------------------------------------------------------------------


def test_upload_segment_and_download(shop_csv):
    at = app()
    at.file_uploader[0].upload(shop_csv.name, shop_csv.read_bytes(), "text/csv")
    at.run()
    click(at, "Store dataset")
    at = open_page(at, "segments")
    assert at.multiselect[0].value == forms.RFM_FEATURES
    at, run_id = find_segments(at)
    assert_no_exception(at)
    assert service.get_run(run_id).status == "done"
    seg = background.runner().result(run_id)
    assert seg is not None
    assert f"Run {run_id} is done: {seg.k} segments found." in [s.value for s in at.success]
    shown = texts(at)
    for name in seg.names:
        assert name in shown  # a card per segment
    assert len(seg.segment_value) == seg.k
    for found in seg.segment_value.values():  # with the segment's value in words
        assert plain(found["headline"].removeprefix(f"{found['segment']}: ")) in shown
    for heading in ("Segment sizes", "Profiles", "Segment map", "Number of segments", "RFM grid"):
        assert heading in shown
    assert charts(at) == 5
    labels = [d.label for d in at.download_button]
    assert labels == [
        "Customers with segments (CSV)",
        "Customers with segments (XLSX)",
        "HTML report",
    ]
    # what the buttons hand out, built as they build it: each customer with the advice
    # for their segment
    table = exports.run_table(run_id)
    assert list(table.columns[:11]) == [
        "customer_id",
        "recency",
        "frequency",
        "monetary",
        "segment",
        "segment_name",
        "p_alive",
        "expected_purchases",
        "expected_value",
        "clv",
        "churn_risk",
    ]
    advice = dict(zip(range(seg.k), seg.recommendations, strict=True))
    assert table["recommendation"].tolist() == [advice[s] for s in table["segment"]]
    csv = exports.table_bytes(table, ".csv").decode()
    assert csv.splitlines()[0].endswith(",recommendation") and len(csv.splitlines()) == 301
    assert exports.report_bytes(seg).lower().startswith(b"<!doctype html>")
    # the 3-D view is one click away
    at.radio[0].set_value("3-D").run()
    assert_no_exception(at)


def test_downloads_are_formula_safe():
    from openpyxl import load_workbook

    frame = pd.DataFrame({"customer_id": ["=HYPERLINK(1)", "+1", "ok"], "segment": [0, 1, 2]})
    csv = exports.table_bytes(frame, ".csv").decode()
    assert "'=HYPERLINK(1)" in csv and "'+1" in csv
    book = load_workbook(io.BytesIO(exports.table_bytes(frame, ".xlsx")))
    assert book.active["A2"].value == "'=HYPERLINK(1)"


def test_segments_of_a_customer_table_with_a_fixed_k(creditcard):
    service.ingest(creditcard)
    at = app()
    at.radio[0].set_value("Stored dataset").run()
    at = open_page(at, "segments")
    assert "income" in at.multiselect[0].options and "customer_id" not in at.multiselect[0].options
    at.multiselect[0].set_value(["income", "age", "expenditure", "owner"])
    at.toggle[0].set_value(False)
    at.slider[0].set_value(3)
    at, run_id = find_segments(at)
    assert_no_exception(at)
    seg = background.runner().result(run_id)
    assert (
        seg is not None
        and seg.k == 3
        and list(seg.prep.used) == ["income", "age", "expenditure", "owner"]
    )
    assert "Number of segments" not in [s.value for s in at.subheader]  # k was fixed
    assert "RFM grid" not in [s.value for s in at.subheader]
    assert not any("classifier trained" in c.value for c in at.caption)  # not asked for


def test_the_surrogate_classifier_runs_only_when_asked(creditcard):
    service.ingest(creditcard)
    at = app()
    at.radio[0].set_value("Stored dataset").run()
    at = open_page(at, "segments")
    at.toggle[0].set_value(False)
    at.slider[0].set_value(3)
    at.toggle[1].set_value(True)  # "Also check how learnable the segments are"
    at, run_id = find_segments(at)
    assert_no_exception(at)
    shown = [c.value for c in at.caption if "classifier trained" in c.value]
    assert len(shown) == 1 and "% of customers it did not see" in shown[0]
    assert service.get_run(run_id).to_dict(full=True)["classifier"]["accuracy"] > 0.5


def test_segments_page_asks_for_data_first():
    at = open_page(app(), "segments")
    assert "Choose a file or a stored dataset first." in texts(at)
    assert not at.button


# --- Customer -----------------------------------------------------------------------------


def test_customer_look_up_and_an_unknown_id(shop_csv):
    run = run_log(shop_csv)
    known = str(service.read_assignments(run).customer_id.iloc[3])
    at = open_page(app(), "customer")
    assert at.selectbox[0].value == run
    assert "Customers of this run include" in texts(at)
    at.text_input[0].input(known)
    click(at, "Look up")
    assert_no_exception(at)
    shown = texts(at)
    found = service.lookup_customer(run, known)
    assert f"Customer {known}" in shown
    assert found["segment_name"] in shown
    segment_heading = f"Against the {found['segment_name']} segment"
    assert {"Features and standing", segment_heading, "Purchases by month", "Top products"} <= {
        s.value for s in at.subheader
    }
    assert [m.label for m in at.metric][:4] == ["R score", "F score", "M score", "RFM segment"]
    standing = at.dataframe[0].value
    assert standing["among all"].tolist() == [found["standing"][f] for f in standing["feature"]]
    # within the segment: the share of its customers with a lower value, ties half
    table = service.read_assignments(run)
    members = table[table.segment == found["segment"]]
    for feature, within in zip(standing["feature"], standing["in segment"], strict=True):
        value = found["features"][feature]
        lower = (members[feature] < value).sum() + (members[feature] == value).sum() / 2
        assert within == pytest.approx(100 * lower / len(members), abs=0.05)
    assert charts(at) == 4  # recency, frequency and spend against the segment; history
    # top products by name (the log has descriptions beside its stock codes)
    products = at.dataframe[-1].value
    assert products["product"].tolist() == [p["name"] for p in found["top_products"]]
    assert products["code"].tolist() == [p["product"] for p in found["top_products"]]
    assert all(
        name != code for name, code in zip(products["product"], products["code"], strict=True)
    )
    # ids as a spreadsheet exports them ("17924.0") are found as the readers store them
    at.text_input[0].input(f"{known}.0 ")
    click(at, "Look up")
    assert f"Customer {known}" in texts(at)
    at.text_input[0].input("no-such-customer")
    click(at, "Look up")
    assert_no_exception(at)
    assert any("is not in run" in e.value for e in at.error)
    assert "Customers of this run include" in texts(at)  # a hint of what ids look like


# --- Predict ------------------------------------------------------------------------------


def test_predict_form_follows_the_model_and_resets(shop_csv):
    run = run_log(shop_csv)
    predictor = service.run_predictor(run)
    at = open_page(app(), "predict")
    assert_no_exception(at)
    labelled = {n.label: n for n in at.number_input}
    assert list(labelled) == [
        "recency (days since the last purchase)",
        "frequency (purchases)",
        "monetary (net spend)",
    ]
    inputs = {label.split(" (")[0]: n for label, n in labelled.items()}
    for name, spec in predictor.manifest.features.items():
        # the training range is said, not enforced by the widget (no silent red field)
        assert inputs[name].min is None and inputs[name].max is None
        assert f"{spec['minimum']:,.0f}" in inputs[name].help
    assert inputs["frequency"].value == round(predictor.typical_inputs()["frequency"])
    inputs["frequency"].set_value(30)
    inputs["recency"].set_value(5)
    row = {"recency": 5, "frequency": 30, "monetary": inputs["monetary"].value}
    click(at, "Predict")
    assert_no_exception(at)
    expected = predictor.predict(pd.DataFrame([row])).iloc[0]
    card = at.session_state[state.PREDICTION][1]
    assert (card.answer, card.probability) == (expected.segment_name, expected.probability)
    assert card.recommendation == expected.recommendation and card.reasons
    shown = texts(at)
    assert f"**{expected.segment_name}**" in shown and "Why" in shown
    assert at.get("progress")[0].proto.text == f"probability {expected.probability:.0%}"
    # far outside what the model learned: refused in words, and the earlier answer goes
    inputs = {n.label.split(" (")[0]: n for n in at.number_input}
    inputs["frequency"].set_value(10**9)
    click(at, "Predict")
    assert_no_exception(at)
    assert any("far outside" in e.value for e in at.error)
    assert state.PREDICTION not in at.session_state and not at.get("progress")
    click(at, "Reset")
    assert_no_exception(at)
    assert state.PREDICTION not in at.session_state
    assert {n.label: n.value for n in at.number_input}["frequency (purchases)"] != 30
    # the form places the run's own customers where the run put them
    table = service.read_assignments(run).head(25)
    for customer in table.itertuples():
        values = {"recency": customer.recency, "frequency": customer.frequency}
        placed = forms.predict_one(predictor, values | {"monetary": customer.monetary})
        assert placed.segment == customer.segment


def test_predict_form_offers_the_answers_of_a_category(creditcard):
    run, _ = service.run_segment(
        creditcard, service.SegmentOptions(k=3, features=["income", "owner", "selfemp"])
    )
    at = open_page(app(), "predict")
    assert_no_exception(at)
    choices = {s.label: s for s in at.selectbox if s.label != "Run"}
    assert set(choices) == {"owner", "selfemp"}
    levels = service.run_predictor(run.id).manifest.features["owner"]["levels"]
    assert choices["owner"].options == levels and len(levels) == 2
    choices["owner"].select(levels[1])
    click(at, "Predict")
    assert_no_exception(at)
    assert at.session_state[state.PREDICTION][0] == run.id


def test_input_fields_respect_the_schema():
    features = {
        "visits": {"kind": "number", "levels": [], "minimum": 1.0, "maximum": 40.0},
        "spend": {"kind": "number", "levels": [], "minimum": 14.57, "maximum": 12121.65},
        "tier": {"kind": "ordinal", "levels": ["low", "mid", "high"]},
        "city": {"kind": "category", "levels": ["Leeds", "York"]},
    }
    typical = {"visits": 7.5, "spend": 20000.0, "tier": "mid", "city": float("nan")}
    fields = {f.name: f for f in forms.input_fields(features, typical)}
    assert (fields["visits"].minimum, fields["visits"].maximum, fields["visits"].step) == (1, 40, 1)
    assert fields["visits"].value == 8 and isinstance(fields["visits"].value, int)
    assert fields["spend"].value == 12121.65  # the typical value, kept within the range
    assert fields["spend"].step == 100.0 and fields["spend"].format == "%.2f"
    assert fields["tier"].options == ["low", "mid", "high"] and fields["tier"].index == 1
    assert fields["city"].index == 0


def test_role_overrides_keep_only_what_changed():
    detected = {"customer": "CustomerID", "date": "InvoiceDate"}
    chosen = {"customer": "CustomerID", "date": "Shipped", "amount": forms.NOT_IN_FILE}
    assert forms.role_overrides(chosen, detected) == {"date": "Shipped"}
    assert forms.rfm_options(dict(detected), detected).columns is None


# --- Target -------------------------------------------------------------------------------


def test_target_trains_and_scores_every_customer(creditcard):
    service.ingest(creditcard)
    at = app()
    at.radio[0].set_value("Stored dataset").run()
    at = open_page(at, "target")
    assert_no_exception(at)
    click(at, "Train")
    assert any("Choose the column" in w.value for w in at.warning)
    at.selectbox[0].select("card")
    click(at, "Train")
    assert_no_exception(at)
    assert [m.label for m in at.metric] == ["Accuracy", "Macro F1", "Model"]
    assert at.metric[2].value in ("Random forest", "Logistic regression")  # not random_forest
    assert charts(at) == 2  # confusion matrix, importances
    grid = at.dataframe[-1].value  # yes/no answers as words, never checkboxes
    assert not [c for c in grid.columns if str(grid[c].dtype) in ("bool", "boolean")]
    model = at.session_state[state.TARGET]
    assert len(model.predictions) == 1319
    assert list(model.predictions.columns[:4]) == [
        "customer_id",
        "card",
        "prediction",
        "probability",
    ]
    right = model.predictions["prediction"] == model.predictions["card"].astype(str)
    assert right.mean() > 0.9
    assert [d.label for d in at.download_button] == ["Predictions (CSV)", "Predictions (XLSX)"]


def test_target_explains_itself_on_a_log(shop_csv):
    service.ingest(shop_csv)
    at = app()
    at.radio[0].set_value("Stored dataset").run()
    at = open_page(at, "target")
    assert "customer table" in texts(at) and not at.button


# --- History ------------------------------------------------------------------------------


def test_history_lists_runs_and_compares_two(shop_csv, tmp_path):
    first = run_log(shop_csv)
    later = write_log(generate_log(320, seed=21).lines, tmp_path / "december.csv", style="uk")
    second = run_log(later, k=3)
    at = open_page(app(), "history")
    assert_no_exception(at)
    runs = at.dataframe[0].value
    assert runs["run"].tolist() == [second, first]
    assert runs["asked"].tolist() == ["k=3", "auto"]
    compared = service.compare_runs(first, second)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["In both"] == f"{compared['customers']['shared']:,}"
    assert metrics["New"] == f"{compared['customers']['new']:,}"
    assert charts(at) == 2  # migration Sankey, drift bars
    for move in compared["moves"]:
        assert move["text"] in texts(at)


def test_settings_reach_the_pages(segwise_home, monkeypatch):
    monkeypatch.setenv("SEGWISE_MAX_UPLOAD_MB", "1")
    get_settings.cache_clear()
    at = app()
    at.file_uploader[0].upload("big.csv", b"a,b\n" + b"1,2\n" * 300_000, "text/csv")
    at.run()
    assert any("over the 1 MB limit" in e.value for e in at.error)


# --- the command ------------------------------------------------------------------------


def test_segwise_app_starts_streamlit_headless_with_the_upload_limit(cli, monkeypatch):
    from segwise.cli import dashboard

    started: list[list[str]] = []
    monkeypatch.setattr(dashboard, "launch", lambda command: started.append(command) or 0)
    monkeypatch.setenv("SEGWISE_MAX_UPLOAD_MB", "64")
    get_settings.cache_clear()
    result = cli("app", "--port", "8600")
    assert result.exit_code == 0, result.stderr
    assert "http://127.0.0.1:8600" in result.stdout
    [command] = started
    assert command[1:4] == ["-m", "streamlit", "run"] and Path(command[4]) == ENTRY
    flags = dict(zip(command[5::2], command[6::2], strict=True))
    assert flags["--server.address"] == "127.0.0.1" and flags["--server.port"] == "8600"
    assert flags["--server.maxUploadSize"] == "64"
    assert flags["--server.headless"] == "true"
    assert flags["--browser.gatherUsageStats"] == "false"


def test_segwise_app_qr_shows_the_network_address(cli, monkeypatch):
    from segwise.cli import dashboard

    monkeypatch.setattr(dashboard, "launch", lambda command: 0)
    monkeypatch.setattr(dashboard, "network_address", lambda: "192.168.1.20")
    refused = cli("app", "--host", "0.0.0.0", "--qr")  # open to the network, yet no account
    assert refused.exit_code == 2 and "segwise users add NAME --role admin" in refused.stderr
    service.add_user("amina", "admin", "a-long-password")
    result = cli("app", "--host", "0.0.0.0", "--qr")
    assert result.exit_code == 0, result.stderr
    assert "http://192.168.1.20:8501" in result.stdout
    assert "█" in result.stdout or "▀" in result.stdout  # the QR code, drawn in the terminal
    assert cli("app", "--port", "70000").exit_code == 2


# --- sign-in and roles ----------------------------------------------------------------


def sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input[0].input(name)
    at.text_input[1].input(password)
    return click(at, "Sign in")


def test_with_an_account_only_the_sign_in_form_shows_until_signed_in(shop_csv):
    service.add_user("vic", "viewer", "viewer-pass-0001")
    run_log(shop_csv, k=3)
    at = app()
    assert_no_exception(at)
    assert [t.value for t in at.title] == ["Sign in"]
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.get("file_uploader") and not at.get("plotly_chart")
    at = sign_in(at, "vic", "not-the-password")
    assert "Wrong name or password" in texts(at) and [t.value for t in at.title] == ["Sign in"]
    at = sign_in(at, "vic", "viewer-pass-0001")
    assert_no_exception(at)
    assert [t.value for t in at.title] == ["History"]  # a viewer's first page


@pytest.mark.parametrize("page", ["data", "segments", "customer", "predict", "audit"])
def test_a_viewer_cannot_reach_upload_export_or_look_up(shop_csv, page):
    service.add_user("vic", "viewer", "viewer-pass-0001")
    run_log(shop_csv, k=3)
    at = sign_in(app(), "vic", "viewer-pass-0001")
    assert_no_exception(at)
    assert not at.get("file_uploader") and not at.get("download_button")
    assert "Look up" not in [b.label for b in at.button]
    with pytest.raises(ValueError, match=r"Known pages: \['[^']*history\.py'\]"):
        open_page(at, page)  # the page is not in a viewer's navigation at all


def test_an_admin_sees_every_page_and_the_audit_log(shop_csv):
    service.add_user("ada", "admin", "admin-pass-0001")
    at = sign_in(app(), "ada", "admin-pass-0001")
    assert [t.value for t in at.title] == ["Data"]
    at = open_page(at, "audit")
    assert_no_exception(at)
    frame = at.dataframe[0].value
    assert {"signin", "user.add"} <= set(frame["what"])


def test_an_admin_adds_and_disables_an_account(shop_csv):
    service.add_user("ada", "admin", "admin-pass-0001")
    at = open_page(sign_in(app(), "ada", "admin-pass-0001"), "accounts")
    assert_no_exception(at)
    at.text_input[0].input("newbie")
    at.selectbox[0].select("analyst")
    at.text_input[1].input("newbie-pass-01")
    at.text_input[2].input("newbie-pass-01")
    at = click(at, "Add account")
    assert_no_exception(at)
    assert {u.name: u.role for u in service.list_users()} == {"ada": "admin", "newbie": "analyst"}
    at.selectbox[1].select("newbie")
    at = click(at, "Disable")
    assert [u.disabled for u in service.list_users() if u.name == "newbie"] == [True]
    with pytest.raises(SignInError):
        service.sign_in("newbie", "newbie-pass-01")


def test_a_sign_in_expires(shop_csv):

    from segwise.app import signin

    service.add_user("ali", "analyst", "analyst-pass-001")
    at = sign_in(app(), "ali", "analyst-pass-001")
    assert [t.value for t in at.title] == ["Data"]
    at.session_state[signin.SINCE] = time.monotonic() - 481 * 60  # past SESSION_MINUTES
    at = at.run()
    assert [t.value for t in at.title] == ["Sign in"]


def test_without_an_account_off_this_machine_it_asks_to_sign_in(monkeypatch):
    monkeypatch.setenv("SEGWISE_APP_HOST", "0.0.0.0")  # e.g. `streamlit run` on every address
    get_settings.cache_clear()
    at = app()
    assert [t.value for t in at.title] == ["Sign in"]


def test_history_compares_runs_of_the_same_data_and_says_when_none_is_shared(shop_csv, tmp_path):
    log_run = run_log(shop_csv)
    table = tmp_path / "customers.csv"
    generate_customers(300, seed=4).to_csv(table, index=False)
    table_run, _ = service.run_segment(table, service.SegmentOptions(k=3))
    at = open_page(app(), "history")
    assert_no_exception(at)
    earlier, later = at.selectbox[-2], at.selectbox[-1]
    assert (later.value, earlier.value) == (table_run.id, log_run)  # nothing of the same kind
    assert any("no customer in common" in w.value for w in at.warning)  # said, not 0 / 2,000
    assert not at.metric
