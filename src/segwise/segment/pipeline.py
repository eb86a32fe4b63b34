"""One segmentation run, pure: table in, fitted pipeline, labels, profiles, names and advice out.

The fitted preprocessing and the clustering travel together as one scikit-learn ``Pipeline``
(``model``), so re-assigning customers later uses exactly what the run learned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from segwise.features.outcomes import HOW_TO_INCLUDE, outcome_columns
from segwise.features.prepare import PrepReport, Preprocessor
from segwise.segment import DataKind
from segwise.segment.cluster import SegmentClusterer, Stability, stability
from segwise.segment.kselect import MIN_SHARE, KSelection
from segwise.segment.naming import name_segments
from segwise.segment.outcomes import OutcomeRate, outcomes_by_profile
from segwise.segment.profile import SegmentProfile, profile_segments
from segwise.segment.projection import Projection, project
from segwise.segment.recommend import Domain, RecommendationRules, detect_domain, recommend

RFM_FEATURES = ("recency", "frequency", "monetary")
Progress = Callable[[str], None]


@dataclass
class Segmentation:
    """The outcome of a run: every customer labelled, and what each segment means."""

    kind: DataKind
    features: pd.DataFrame  # raw features in original units, indexed by customer_id
    labels: np.ndarray
    model: Pipeline
    profiles: list[SegmentProfile]
    names: list[str]
    recommendations: list[str]
    k_selection: KSelection | None
    stability: Stability
    projection: Projection
    prep: PrepReport
    rfm_segments: pd.Series | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. the cleaning report of a log
    k_reason: str | None = None  # why k, when no choice of k was made here
    outcomes: list[list[OutcomeRate]] = field(default_factory=list)  # per profile, set aside
    domain: Domain = "general"  # the kind of data the advice was chosen for
    value_columns: pd.DataFrame | None = None  # per customer in features' order (logs' value)
    segment_value: dict[int, dict[str, Any]] = field(default_factory=dict)  # by segment number

    @property
    def k(self) -> int:
        return len(self.profiles)

    def assignments(self) -> pd.DataFrame:
        """One row per customer: customer_id, the features used, segment, segment_name (and
        the value columns of a log, when the run has them)."""
        used = [c for c in self.prep.used if c in self.features.columns]
        out = self.features[used].copy()
        out.insert(0, "customer_id", self.features.index.astype(str))
        out["segment"] = self.labels.astype(int)
        out["segment_name"] = np.asarray(self.names, dtype=object)[self.labels]
        if self.value_columns is not None:
            for column in self.value_columns.columns.drop("customer_id", errors="ignore"):
                out[column] = self.value_columns[column].to_numpy()
        return out.reset_index(drop=True)

    def summary(self) -> dict[str, Any]:
        """The ``segwise segment --json`` summary (DESIGN.md contract) plus run details."""
        selection = self.k_selection
        rates = self.outcomes or [[] for _ in self.profiles]
        aside = {} if self.kind == "transactions" else {"outcomes": self.outcome_summary()}
        return {
            "kind": self.kind,
            "customers": len(self.labels),
            "k": self.k,
            "k_reason": self.k_reason
            or (selection.reason if selection else f"k = {self.k}, as asked"),
            "k_selection": [s.to_dict() for s in selection.scores] if selection else [],
            "elbow": selection.elbow if selection else None,
            "stability": self.stability.to_dict(),
            "preprocessing": self.prep.to_dict(),
            "advice_domain": self.domain,
            **aside,
            "segments": [
                {
                    "segment": p.segment,
                    "name": name,
                    "size": p.size,
                    "share": round(p.share, 4),
                    "profile": p.to_dict()["mean"],
                    "distinctive": [[f, round(z, 3)] for f, z in p.distinctive],
                    "rfm_mix": p.to_dict().get("rfm_mix"),
                    "recommendation": advice,
                    "outcomes": [rate.to_dict() for rate in found],
                }
                | ({"value": self.segment_value.get(p.segment)} if self.segment_value else {})
                for p, name, advice, found in zip(
                    self.profiles, self.names, self.recommendations, rates, strict=True
                )
            ],
        } | self.extra

    def outcome_summary(self) -> dict[str, Any]:
        """Which columns were set aside as outcomes, and how to cluster on them instead."""
        aside = list(self.prep.outcome_columns)
        return {"set_aside": aside, "how_to_include": HOW_TO_INCLUDE if aside else None}


def prepare_features(
    table: pd.DataFrame,
    *,
    kind: DataKind,
    features: Sequence[str] | None = None,
    outcomes: Sequence[str] | None = None,
) -> tuple[Preprocessor, np.ndarray]:
    """The run's preprocessing, fitted on ``table``, and the scaled matrix it clusters: a log's
    recency, frequency and monetary are log-transformed; a table's columns coded as found, its
    outcome columns (``outcomes``; None: those named like outcomes, not in ``features``) set
    aside."""
    log_columns = list(RFM_FEATURES) if kind == "transactions" else None
    if kind == "transactions" and features is None:
        features = list(RFM_FEATURES)
    aside: list[str] = []
    if kind == "customers":
        aside = outcome_columns(list(table.columns), features=features, outcomes=outcomes)
    prep = Preprocessor(features=features, log_columns=log_columns, outcomes=aside or None)
    return prep, prep.fit_transform(table)


def segment_table(
    table: pd.DataFrame,
    *,
    kind: DataKind,
    features: Sequence[str] | None = None,
    outcomes: Sequence[str] | None = None,
    k: int | Literal["auto"] = "auto",
    k_max: int = 10,
    k_min: int = 2,
    min_share: float = MIN_SHARE,
    seed: int = 0,
    rfm_segments: pd.Series | None = None,
    rules: RecommendationRules | None = None,
    progress: Progress | None = None,
) -> Segmentation:
    """Segment customers (one row each, index = customer id) and explain the segments.

    For a transaction log, ``table`` holds recency, frequency and monetary per customer
    (log-transformed before scaling) and ``rfm_segments`` the named RFM segment of each.
    A customer table's outcome columns (``outcomes``; None: those named like outcomes and not
    in ``features``) are set aside from clustering and described per segment as rates.
    """
    step = progress or (lambda _: None)
    step("preparing features")
    prep, matrix = prepare_features(table, kind=kind, features=features, outcomes=outcomes)
    step("choosing k" if k == "auto" else "fitting k-means")
    clusterer = SegmentClusterer(k=k, k_min=k_min, k_max=k_max, seed=seed, min_share=min_share).fit(
        matrix
    )
    labels = np.asarray(clusterer.labels_, dtype=np.intp)
    step("checking stability")
    stable = stability(
        matrix, int(clusterer.n_clusters_), seed=seed, centers=clusterer.cluster_centers_
    )
    step("projecting")
    projection = project(matrix, seed=seed)
    step("profiling segments")
    used = list(prep.report_.used)
    aside = list(prep.report_.outcome_columns)
    profiles = profile_segments(table[used], labels, rfm_segments=rfm_segments)
    names = name_segments(profiles, kind=kind)
    domain = detect_domain([*used, *aside], transactions=kind == "transactions")
    advice = recommend(profiles, names, rules=rules, domain=domain)
    rates = outcomes_by_profile(table, labels, aside, [p.segment for p in profiles])
    return Segmentation(
        kind=kind,
        features=table,
        labels=labels,
        model=Pipeline([("prepare", prep), ("cluster", clusterer)]),
        profiles=profiles,
        names=names,
        recommendations=advice,
        k_selection=clusterer.k_selection_,
        stability=stable,
        projection=projection,
        prep=prep.report_,
        rfm_segments=rfm_segments,
        outcomes=rates,
        domain=domain,
    )
