"""Use cases of prediction: save a run's segment model, train a target model, predict.

A segment model file holds the run artifact: the fitted preprocessing and clustering that
made the run's segments, so a customer is placed exactly as in the run (nearest centre), with
a confidence and reasons from the same geometry. A target model file holds preprocessing and
a classifier. ``Predictor`` loads a file once and answers single customers from memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from segwise.config import Settings
from segwise.errors import InputError
from segwise.predict.explain import explain
from segwise.predict.inputs import check_rows
from segwise.predict.placement import is_placement_model, place, placement_reasons
from segwise.predict.serving import serving_pipeline
from segwise.store.model_files import Manifest, data_hash, feature_specs, load_model, save_model

if TYPE_CHECKING:
    from segwise.predict.classifier import ClassifierReport
    from segwise.predict.target import TargetReport
    from segwise.segment.pipeline import Segmentation

REASONS_SHOWN = 3


def train_segment_model(seg: Segmentation, *, seed: int = 0) -> tuple[Pipeline, ClassifierReport]:
    """A surrogate classifier of the run's segments (its report, confusion matrix and feature
    importance say how learnable the segments are); placing customers never uses it."""
    from segwise.predict.classifier import train_segment_classifier

    prepare = seg.model.named_steps["prepare"]
    used = list(seg.prep.used)
    return train_segment_classifier(seg.features[used], seg.labels, prepare, seed=seed)


def save_segment_model(
    seg: Segmentation,
    path: str | Path,
    *,
    surrogate: tuple[Pipeline, ClassifierReport] | None = None,
) -> Path:
    """Write the run artifact (the fitted preprocessing + clustering) as a model file, with
    names, advice and each segment's averages in the manifest; with ``surrogate``, also its
    classifier as ``classifier.skops`` beside it, its report in both manifests."""
    from segwise.predict.placement import segment_means

    used = list(seg.prep.used)
    manifest = Manifest(
        kind="segment",
        features=feature_specs(seg.model),
        data_hash=data_hash(seg.features[used]),
        metrics=surrogate[1].to_dict() if surrogate else {},
        labels=[int(p.segment) for p in seg.profiles],
        names=list(seg.names),
        recommendations=list(seg.recommendations),
        extra={"input_kind": seg.kind, "means": segment_means(seg.profiles)},
    )
    if surrogate is not None:
        classifier = replace(manifest, features=feature_specs(surrogate[0]), extra={})
        save_model(Path(path).with_name("classifier.skops"), surrogate[0], classifier)
    return save_model(path, seg.model, manifest)


def train_target_model(
    path: str | Path, target: str, *, features: list[str] | None = None, seed: int = 0
) -> tuple[Pipeline, TargetReport, pd.DataFrame]:
    """A predictor of a business column of a customer table, e.g. 'would recommend' A-D."""
    from segwise.io.readers import read_table
    from segwise.predict.target import train_target

    source, frame = read_table(path)
    if target not in frame.columns:
        raise InputError(
            f"--target '{target}' is not a column",
            file=source.path,
            hint=f"columns are: {', '.join(frame.columns)}",
        )
    frame[target] = _as_written(frame[target], source.sample.get(target, ()))
    pipeline, report = train_target(frame, target, features=features, seed=seed)
    return pipeline, report, frame


def _as_written(column: pd.Series, texts: Sequence[object]) -> pd.Series:
    """A yes/no column the reader turned into booleans, back in the file's own words (a
    target's classes are reported and predicted as the user wrote them: yes/no, Y/N); plain
    booleans (true/false, a stored table's) as no/yes."""
    from segwise.features.ordinal import match_binary

    if not pd.api.types.is_bool_dtype(column.dtype):
        return column
    spelled = list(dict.fromkeys(str(t).strip() for t in texts if t is not None and str(t).strip()))
    found = match_binary(spelled) if 1 <= len(spelled) <= 2 else None
    levels = ("no", "yes")  # booleans without words (a stored table, true/false): yes/no
    spelled_out = found is not None and len(found.levels) == 2
    if found is not None and spelled_out and {v.lower() for v in found.levels} != {"false", "true"}:
        levels = (found.levels[0], found.levels[1])
    words = dict(zip((False, True), levels, strict=True))
    return column.astype(object).map(words).where(column.notna())


def save_target_model(
    pipeline: Pipeline, report: TargetReport, frame: pd.DataFrame, path: str | Path
) -> Path:
    """Write a target model file; the manifest carries the classes and the evaluation."""
    return save_model(path, pipeline, _target_manifest(pipeline, report, frame))


def target_predictions(
    pipeline: Pipeline, report: TargetReport, frame: pd.DataFrame
) -> pd.DataFrame:
    """Every row of a freshly trained target model's table with its actual value, the
    prediction, its probability and reasons (the dashboard's per-customer download)."""
    predictor = Predictor(pipeline, _target_manifest(pipeline, report, frame))
    out = predictor.predict(frame.reset_index(drop=True))
    ident = "customer_id" if "customer_id" in frame.columns else None
    if ident is None:
        from segwise.io.roles import id_column

        sample = {str(c): frame[c].head(2000).tolist() for c in frame.columns}
        ident = id_column(list(frame.columns), sample)
    ids = frame[ident] if ident is not None else pd.Series(range(1, len(frame) + 1))
    out.insert(0, "customer_id", ids.astype(str).to_numpy())
    out.insert(1, report.target, frame[report.target].to_numpy())
    return out


def _target_manifest(pipeline: Pipeline, report: TargetReport, frame: pd.DataFrame) -> Manifest:
    specs = feature_specs(pipeline)
    return Manifest(
        kind="target",
        features=specs,
        data_hash=data_hash(frame[list(specs)]),
        metrics=report.to_dict(),
        labels=[str(c) for c in pipeline.classes_],
        names=[str(c) for c in pipeline.classes_],
        target=report.target,
    )


@dataclass
class Predictor:
    """A loaded model, kept in memory to answer one or many customers fast.

    Shared between threads (the API, the dashboard's cache): answers carry their own notes
    (``frame.attrs["notes"]``), nothing about a call is kept on the predictor.
    """

    pipeline: Any
    manifest: Manifest
    _serving: tuple[Any, Any] | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def load(cls, path: str | Path) -> Predictor:
        pipeline, manifest = load_model(path)
        return cls(pipeline, manifest)

    @property
    def columns(self) -> list[str]:
        return list(self.manifest.features)

    def predict(self, rows: pd.DataFrame, *, file: str | None = None) -> pd.DataFrame:
        """One row per input row: segment, segment_name, probability (segment models) or
        prediction, probability, reasons (target models). Rows keep their index; what the
        input check noticed (ignored columns, unseen answers) is in ``attrs["notes"]``."""
        checked = check_rows(rows, self.manifest.features, file=file)
        if self.manifest.kind == "segment" and is_placement_model(self.pipeline):
            found = place(self.pipeline, checked.frame)
            result = self._segments(found.segment.tolist(), found.probability.round(4), rows)
            result.attrs["notes"] = list(checked.notes)
            return result
        pipeline = self._serving_pipeline()
        proba = pipeline.predict_proba(checked.frame)
        best = proba.argmax(axis=1)
        classes = list(pipeline.classes_)
        probability = proba[np.arange(len(best)), best].round(4)
        if self.manifest.kind == "segment":  # a model file saved with a classifier
            result = self._segments([int(classes[i]) for i in best], probability, rows)
        else:
            reasons = explain(pipeline, checked.frame, top=REASONS_SHOWN)
            columns = {
                "prediction": [str(classes[i]) for i in best],
                "probability": probability,
                "reasons": ["; ".join(r.text for r in row) for row in reasons],
            }
            result = pd.DataFrame(columns, index=rows.index)
        result.attrs["notes"] = list(checked.notes)
        return result

    def _segments(self, segments: list[int], probability: Any, rows: pd.DataFrame) -> pd.DataFrame:
        names = dict(zip(self.manifest.labels, self.manifest.names, strict=True))
        advice = dict(zip(self.manifest.labels, self.manifest.recommendations, strict=True))
        columns = {
            "segment": segments,
            "segment_name": [names.get(s, str(s)) for s in segments],
            "probability": probability,
            "recommendation": [advice.get(s, "") for s in segments],
        }
        return pd.DataFrame(columns, index=rows.index)

    def typical_inputs(self) -> dict[str, Any]:
        """A typical training customer, column by column (median number, commonest answer):
        the starting values of a prediction form."""
        from segwise.predict.explain import typical_values

        return typical_values(self.pipeline.steps[0][1])

    def reasons(self, rows: pd.DataFrame, *, top: int = REASONS_SHOWN) -> list[list[str]]:
        """Why each row got its answer: the few inputs that pushed it most, in plain words."""
        checked = check_rows(rows, self.manifest.features)
        names: dict[Any, str] | None = None
        if self.manifest.kind == "segment":
            names = dict(zip(self.manifest.labels, self.manifest.names, strict=True))
            if is_placement_model(self.pipeline):
                means = self.manifest.extra.get("means", {})
                return placement_reasons(
                    self.pipeline,
                    checked.frame,
                    names=names,
                    means={int(k): v for k, v in means.items()},
                    top=top,
                )
        found = explain(self.pipeline, checked.frame, top=top, class_names=names)
        return [[r.text for r in row] for row in found]

    def _serving_pipeline(self) -> Any:
        """``pipeline``, or the same fitted steps scoring its random forest in this thread."""
        if self._serving is None or self._serving[0] is not self.pipeline:
            self._serving = (self.pipeline, serving_pipeline(self.pipeline))
        return self._serving[1]


def predict_file(
    model: str | Path, path: str | Path, *, settings: Settings | None = None
) -> tuple[pd.DataFrame, Predictor]:
    """Predict every customer of a file; a log is turned into RFM first for log-based models.
    What the input check noticed is in the result's ``attrs["notes"]``."""
    from segwise.io.readers import read_table
    from segwise.io.roles import id_column
    from segwise.service.audit import require

    require("predict")
    predictor = Predictor.load(model)
    source, frame = read_table(path)
    needed = set(predictor.columns)
    if predictor.manifest.extra.get("input_kind") == "transactions" and not needed <= set(
        frame.columns
    ):
        from segwise.service.rfm import compute_rfm

        rfm = compute_rfm(path, settings=settings).to_pandas().set_index("customer_id")
        frame = rfm[[c for c in rfm.columns if c in needed]]  # the scores are ours, not extra
    else:
        ident = id_column(list(frame.columns), source.sample)
        if ident is not None and ident not in needed and frame[ident].is_unique:
            frame = frame.set_index(ident)
        else:
            frame.index = pd.Index([str(i) for i in range(1, len(frame) + 1)])
    result = predictor.predict(frame, file=str(source.path))
    notes = result.attrs["notes"]
    if predictor.manifest.kind == "segment":
        result = result.drop(columns="recommendation")
    result.insert(0, "customer_id", frame.index.astype(str))
    result = result.reset_index(drop=True)
    result.attrs["notes"] = notes
    from segwise.service.audit import record_event

    record_event("predict", Path(model).name, {"customers": len(result)}, settings=settings)
    return result, predictor
