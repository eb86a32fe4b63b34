"""The dashboard speaks dashboard: no command-line flag, server path, terminal command or
exception class name reaches a page, whether in the pages' own strings, in what the core's
errors become (``app/messages.py``, the one mapping), or on the rendered pages for good and
bad inputs."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from segwise import service
from segwise.app import messages, state
from segwise.app.messages import say
from segwise.demo import generate_log, write_log
from segwise.errors import InputError, SegwiseError

APP = Path(state.__file__).parent
ENTRY = APP / "streamlit_app.py"
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*")
PATH = re.compile(r"(?<![\w<])/(?:home|tmp|srv|var|etc|usr|root|Users|private)\b|[A-Za-z]:\\")
CLASS = re.compile(r"\b[A-Z]\w*(?:Error|Exception)\b|\bArrowInvalid\b|\bInvalid Input Error\b")
TERMINAL = re.compile(r"`segwise [a-z]|\bSEGWISE_[A-Z]")


def offences(text: str) -> list[str]:
    """What in ``text`` a dashboard user should never see."""
    return [m.group(0) for rule in (FLAG, PATH, CLASS, TERMINAL) for m in rule.finditer(text)]


def test_the_rules_catch_what_they_are_for():
    said = "pass --date-format (/home/ana/shop.csv); ValueError: x; `segwise ingest` SEGWISE_HOME"
    assert offences(said) == ["--date-format", "/home", "ValueError", "`segwise i", "SEGWISE_H"]
    assert offences("Date format on the Data page; 12 – 30 customers; 1/2 of them") == []


def _core_errors(tmp_path: Path) -> list[BaseException]:
    """Errors the core raises on real bad input, each caught as the dashboard catches it."""
    caught: list[BaseException] = []
    bad_parquet = tmp_path / "upload" / "bad.parquet"
    bad_parquet.parent.mkdir()
    bad_parquet.write_bytes(b"not parquet at all")
    no_customer = tmp_path / "nobody.csv"
    no_customer.write_text("when,what\n2024-01-02,3\n2024-01-03,4\n")
    odd_dates = tmp_path / "odd.csv"
    lines = ["CustomerID,InvoiceDate,Quantity,UnitPrice"]
    lines += [f"{c},0{d}/0{m}/2024,1,2.5" for c in (1, 2, 3) for d, m in ((1, 2), (3, 4), (5, 6))]
    odd_dates.write_text("\n".join(lines) + "\n")
    attempts = [
        lambda: service.preview_file(bad_parquet),
        lambda: service.ingest(bad_parquet),
        lambda: service.ingest(no_customer, kind="transactions"),
        lambda: service.ingest(odd_dates),
        lambda: service.SegmentOptions(k=1),
        lambda: service.SegmentOptions(k_max=99),
        lambda: service.SegmentOptions(seed=-1),
        lambda: service.RfmOptions(date_format="day-month"),
        lambda: service.get_run("r-none"),
        lambda: state.save_upload("tool.exe", b"MZ"),
        lambda: (_ for _ in ()).throw(ValueError("bad /srv/segwise/home/lake/x.parquet")),
    ]
    for attempt in attempts:
        try:
            attempt()
        except Exception as error:
            caught.append(error)
    return caught


def test_errors_become_dashboard_words(tmp_path):
    caught = _core_errors(tmp_path)
    raw = "\n".join(str(e) for e in caught if isinstance(e, SegwiseError))
    assert "--date-format" in raw or "--k" in raw, "the core speaks command line"
    assert len(caught) >= 10
    for error in caught:
        said = say(error)
        assert said and "\n" not in said
        assert offences(said) == [], (str(error), said)
    # and names the control to change instead of the flag
    words = {say(e) for e in caught}
    assert any("Number of segments" in w or "segments" in w for w in words)
    assert any("Date format" in w for w in words), words


@pytest.mark.parametrize(
    ("core", "dashboard"),
    [
        (
            InputError(
                "dates are ambiguous",
                file="/srv/home/uploads/ab12/shop.csv",
                column="InvoiceDate",
                hint="pass --date-format '%d/%m/%Y' (day first) or '%m/%d/%Y' (month first)",
            ),
            "Dates are ambiguous (shop.csv, column 'InvoiceDate'); type %d/%m/%Y (day first) "
            "or %m/%d/%Y (month first) in Date format on the Data page",
        ),
        (
            InputError("no customer column", hint="name it with --customer COL (columns: a, b)"),
            "No customer column; choose it as Customer id among the column roles on the Data "
            "page (columns: a, b)",
        ),
        (
            InputError(
                "not a readable Parquet file: Invalid Input Error: No magic bytes found at end "
                "of file '/tmp/x/bad.parquet'",
                file="/tmp/x/bad.parquet",
                hint="export it again or use CSV",
            ),
            "Not a readable Parquet file (bad.parquet); export it again or use CSV",
        ),
        (
            InputError("the file is too big", hint="raise it or use `segwise ingest`"),
            "The file is too big",
        ),
        (
            InputError("not a real .xlsx file", file="fake.xlsx", hint="rename it .csv"),
            "Not a real .xlsx file (fake.xlsx); rename it .csv",
        ),
        (KeyError("segment"), messages.UNEXPECTED),
    ],
)
def test_one_mapping_from_error_to_words(core, dashboard):
    assert say(core) == dashboard


def _literals(path: Path) -> list[str]:
    """The string constants of a module that can reach a page (docstrings left out)."""
    tree = ast.parse(path.read_text())
    docs = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
    ]


@pytest.mark.parametrize(
    "module",
    sorted(p.relative_to(APP).as_posix() for p in APP.rglob("*.py") if p.name != "messages.py"),
)
def test_the_pages_own_words_have_no_flags_paths_or_class_names(module):
    found = [(text, offences(text)) for text in _literals(APP / module) if offences(text)]
    assert found == []


def _shown(at: AppTest) -> str:
    parts = [*at.markdown, *at.caption, *at.title, *at.subheader, *at.info, *at.warning]
    parts += [*at.success, *at.error, *at.exception]
    parts += [*at.metric, *at.selectbox, *at.button, *at.text_input]
    return "\n".join(
        f"{getattr(p, 'label', '')} {getattr(p, 'value', '')} {getattr(p, 'help', '') or ''}"
        for p in parts
    )


def _mixed_dates() -> bytes:
    """A log whose dates are day-first but for one month-first line that cannot be."""
    rows = ["CustomerID,InvoiceNo,InvoiceDate,Quantity,UnitPrice"]
    rows += [
        f"{c},{c * 7 + d},{d:02d}/{d % 12 + 1:02d}/2024 10:00,1,2.5"
        for c in range(1, 30)
        for d in range(1, 4)
    ]
    rows.append("3,999,45/45/2024 10:00,1,2")
    return ("\n".join(rows) + "\n").encode()


def test_rendered_pages_on_good_and_bad_input(tmp_path):
    def app() -> AppTest:
        return AppTest.from_file(str(ENTRY), default_timeout=180).run()

    def page(at: AppTest, name: str) -> AppTest:
        return at.switch_page(f"app_pages/{name}.py").run()

    seen: list[str] = []
    bad = [
        ("bad.parquet", b"not parquet at all"),
        ("empty.csv", b""),
        ("mixed-dates.csv", _mixed_dates()),
        ("fake.xlsx", b"just text, not a workbook\n"),
    ]
    for name, content in bad:
        at = app()
        at.file_uploader[0].upload(name, content, "application/octet-stream").run()
        if any(b.label == "Store dataset" for b in at.button):
            [store] = [b for b in at.button if b.label == "Store dataset"]
            at = store.click().run()
        assert at.error, name
        seen.append(_shown(at))
    log = write_log(generate_log(120, seed=2).lines, tmp_path / "shop.csv")
    run, _ = service.run_segment(log, service.SegmentOptions(k=3))
    at = app()
    for name in ("data", "segments", "customer", "predict", "history"):
        at = page(at, name)
        seen.append(_shown(at))
    at = page(at, "customer")
    at.text_input[0].input("no-such-customer")
    [look] = [b for b in at.button if b.label == "Look up"]
    at = look.click().run()
    assert at.error
    seen.append(_shown(at))
    assert run.id in "\n".join(seen)
    assert [(i, offences(text)) for i, text in enumerate(seen) if offences(text)] == []
