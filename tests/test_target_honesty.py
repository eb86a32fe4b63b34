"""A target predictor says when its score is too good to trust, and speaks the data's words.

Proxies are planted or published: on AER CreditCard ``expenditure`` is zero for everyone
refused a card (Greene's textbook example of a variable recorded after the outcome), and in
a planted table ``time_to_work`` is blank exactly for people not working.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segwise import service
from segwise.predict.target import train_target

TREES = 30


def test_creditcard_flags_expenditure_and_keeps_yes_no(creditcard):
    pipeline, report, frame = service.train_target_model(creditcard, "card")
    summary = report.to_dict()
    assert summary["classes"] == ["no", "yes"]  # as written in the file, not False/True
    assert [m["class"] for m in summary["per_class"]] == ["no", "yes"]
    assert any(w.startswith("expenditure alone predicts card") for w in summary["warnings"])
    assert not any(w.startswith("income alone") for w in summary["warnings"])
    scored = service.target_predictions(pipeline, report, frame)
    assert set(scored["prediction"]) == {"no", "yes"}
    assert set(scored["card"]) == {"no", "yes"}


def _census(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    working = rng.random(n) < np.where(age > 65, 0.1, 0.7)
    commute = np.where(working, rng.gamma(3.0, 8.0, n), np.nan)  # blank when not working
    return pd.DataFrame(
        {
            "age": age,
            "household": rng.integers(1, 6, n),
            "region": rng.choice(["north", "south", "east", "west"], n),
            "time_to_work": commute,
            "employment": np.where(working, "employed", "not working"),
        }
    )


def test_missingness_that_encodes_the_target_is_flagged():
    _, report = train_target(_census(), "employment", n_estimators=TREES, cv=3)
    said = [w for w in report.warnings if w.startswith("missing values of time_to_work")]
    assert said and "'not working'" in said[0]
    assert not any("of age" in w or "of region" in w for w in report.warnings)


def test_no_warning_when_no_column_is_a_proxy():
    table = _census().drop(columns="time_to_work")
    _, report = train_target(table, "employment", n_estimators=TREES, cv=3)
    assert report.warnings == ()  # age predicts it, but far from perfectly


def test_small_whole_number_target_is_ordered():
    rng = np.random.default_rng(1)
    n = 500
    income = rng.gamma(2.0, 20.0, n)
    visits = np.clip(np.round(income / 15 + rng.normal(0, 1, n)), 0, 6).astype(int)
    table = pd.DataFrame({"income": income, "age": rng.integers(18, 80, n), "visits": visits})
    _, report = train_target(table, "visits", n_estimators=TREES, cv=3)
    assert report.ordered
    assert list(report.classes) == sorted(report.classes)
    _, plain = train_target(
        table.assign(visits=np.where(visits > 2, "many", "few")), "visits", n_estimators=TREES
    )
    assert not plain.ordered


def test_far_apart_codes_are_not_a_count():
    codes = [3, 17, 250]
    rng = np.random.default_rng(2)
    n = 300
    label = rng.choice(codes, n)
    x = np.asarray([codes.index(v) for v in label]) + rng.normal(0, 0.3, n)
    _, report = train_target(pd.DataFrame({"x": x, "code": label}), "code", n_estimators=TREES)
    assert not report.ordered


def test_dashboard_target_page_warns_and_speaks_yes_no(creditcard):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from segwise.app import state

    service.ingest(creditcard)  # stored as a table: the reader's booleans, read as no/yes
    entry = Path(state.__file__).parent / "streamlit_app.py"
    at = AppTest.from_file(str(entry), default_timeout=180).run()
    at.radio[0].set_value("Stored dataset").run()
    at = at.switch_page("app_pages/target.py").run()
    at.selectbox[0].select("card")
    [button] = [b for b in at.button if b.label == "Train"]
    at = button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("expenditure alone predicts card" in w.value for w in at.warning)
    model = at.session_state[state.TARGET]
    assert set(model.predictions["prediction"]) == {"no", "yes"}
