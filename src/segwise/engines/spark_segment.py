"""Segmentation of a log on Spark: RFM by Spark SQL, k chosen and k-means fitted by pyspark.ml.

Spark does the work that grows with the log: reading and aggregating the lines into one row
per customer (``engines.spark``), and the k-means fits (k-means||, seeded). The per-customer
table comes to the driver, where the local engine's own code prepares the features (the same
fitted ``Preprocessor``, so a Spark run's model file serves like a local one), scores each k
on samples (``segment.kselect``: silhouette, Calinski-Harabasz, Davies-Bouldin, elbow, one
rule), assigns each customer to its nearest Spark centre, and profiles, names and advises.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyspark.sql import DataFrame, SparkSession
from sklearn.metrics import (
    calinski_harabasz_score,
    davies_bouldin_score,
    pairwise_distances_argmin,
)
from sklearn.pipeline import Pipeline

from segwise.config import Settings
from segwise.engines.spark import compute_rfm
from segwise.engines.spark_session import quiet_pandas_check, spark_session
from segwise.errors import InputError
from segwise.features.prepare import Preprocessor
from segwise.features.rfm import RfmOptions
from segwise.segment.cluster import SegmentClusterer, stability
from segwise.segment.kselect import (
    MIN_SHARE,
    KScore,
    KSelection,
    choose_k,
    find_elbow,
    silhouettes,
    smallest_share,
    subsample,
)
from segwise.segment.naming import name_segments
from segwise.segment.pipeline import RFM_FEATURES, Progress, Segmentation
from segwise.segment.profile import profile_segments
from segwise.segment.projection import project
from segwise.segment.recommend import RecommendationRules, recommend

Matrix = NDArray[np.float64]

FIT_SAMPLE = 100_000
"""Customers each candidate k is fitted on when choosing k (a seeded Spark sample above it);
the final k-means runs on all customers. Calinski-Harabasz, Davies-Bouldin and inertia are
computed on a seeded sample of this many customers too, as the local engine does."""
SILHOUETTE_SAMPLE = 10_000
"""Customers the silhouette (quadratic in rows) is computed on, as the local engine does."""
MAX_ITER = 100


def segment_log(
    path: str | Path,
    rfm_options: RfmOptions,
    *,
    settings: Settings,
    features: Sequence[str] | None = None,
    k: int | Literal["auto"] = "auto",
    k_max: int = 10,
    k_min: int = 2,
    min_share: float = MIN_SHARE,
    seed: int = 0,
    rules: RecommendationRules | None = None,
    progress: Progress | None = None,
) -> Segmentation:
    """Segment the customers of a transaction log with Spark; the same ``Segmentation`` the
    local engine returns, so reports, model files and the catalog take it unchanged."""
    step = progress or (lambda _: None)
    spark = spark_session(settings)
    step("computing RFM with Spark")
    rfm = compute_rfm(path, rfm_options, settings)
    table = rfm.to_pandas().set_index("customer_id")
    rfm_segments = table["segment"]
    step("preparing features")
    prep = Preprocessor(
        features=list(features) if features is not None else list(RFM_FEATURES),
        log_columns=list(RFM_FEATURES),
    )
    matrix = prep.fit_transform(table)
    points = _points(spark, matrix)
    try:
        if k == "auto":
            step("choosing k with Spark k-means||")
            selection, centers = _select_k(
                points, matrix, k_min=k_min, k_max=k_max, min_share=min_share, seed=seed
            )
        else:
            if len(matrix) < k:
                raise InputError(f"--k {k} needs at least {k} customers, got {len(matrix)}")
            step("fitting k-means with Spark")
            selection, centers = None, _kmeans(points, k, seed)
    finally:
        points.unpersist()
    centers = _by_size(matrix, centers)
    clusterer = SegmentClusterer.from_centers(matrix, centers, k_selection=selection, seed=seed)
    labels = clusterer.labels_
    step("checking stability")
    stable = stability(matrix, len(centers), seed=seed, centers=clusterer.cluster_centers_)
    step("projecting")
    projection = project(matrix, seed=seed)
    step("profiling segments")
    used = list(prep.report_.used)
    profiles = profile_segments(table[used], labels, rfm_segments=rfm_segments)
    names = name_segments(profiles, kind="transactions")
    return Segmentation(
        kind="transactions",
        features=table,
        labels=labels,
        model=Pipeline([("prepare", prep), ("cluster", clusterer)]),
        profiles=profiles,
        names=names,
        recommendations=recommend(profiles, names, rules=rules),
        k_selection=selection,
        stability=stable,
        projection=projection,
        prep=prep.report_,
        rfm_segments=rfm_segments,
        extra={
            "rfm": rfm.summary(),
            "spark": {"master": settings.spark_master, "kmeans": "k-means||", "seed": seed},
        },
    )


def _points(spark: SparkSession, matrix: Matrix) -> DataFrame:
    """The prepared matrix as a cached Spark table with one vector column, ``features``."""
    from pyspark.ml.feature import VectorAssembler

    names = [f"x{j}" for j in range(matrix.shape[1])]
    with quiet_pandas_check():
        frame = spark.createDataFrame(pd.DataFrame(matrix, columns=names))
    assembler = VectorAssembler(inputCols=names, outputCol="features")
    points: DataFrame = assembler.transform(frame).select("features").cache()
    return points


def _kmeans(points: DataFrame, k: int, seed: int) -> Matrix:
    """Centres of pyspark.ml k-means (k-means|| start, seeded) on ``points``."""
    from pyspark.ml.clustering import KMeans

    model: Any = KMeans(k=k, seed=seed, initMode="k-means||", maxIter=MAX_ITER).fit(points)
    return np.asarray(model.clusterCenters(), dtype=np.float64)


def _select_k(
    points: DataFrame, matrix: Matrix, *, k_min: int, k_max: int, min_share: float, seed: int
) -> tuple[KSelection, Matrix]:
    """Fit every k on Spark, score each on samples on the driver, choose by kselect's rule."""
    n = len(matrix)
    if n < k_min + 1:
        raise InputError(
            f"{n} customers are too few to try k = {k_min}",
            hint=f"segments need at least {k_min + 1} customers",
        )
    fit = points if n <= FIT_SAMPLE else points.sample(fraction=FIT_SAMPLE / n, seed=seed).cache()
    try:
        fit_count = n if fit is points else fit.count()
        centers = {k: _kmeans(fit, k, seed) for k in range(k_min, min(k_max, n - 1) + 1)}
    finally:
        if fit is not points:
            fit.unpersist()
    rows = matrix[subsample(n, FIT_SAMPLE, seed)]
    sil_idx = subsample(len(rows), SILHOUETTE_SAMPLE, seed + 1)
    labelings = {k: pairwise_distances_argmin(rows, c) for k, c in centers.items()}
    sils = silhouettes(rows[sil_idx], [labels[sil_idx] for labels in labelings.values()])
    scores = []
    for (k, labels), sil in zip(labelings.items(), sils, strict=True):
        ok = 2 <= len(np.unique(labels)) < len(rows)
        nan = float("nan")
        scores.append(
            KScore(
                k=k,
                inertia=float(((rows - centers[k][labels]) ** 2).sum()) * n / len(rows),
                silhouette=sil,
                calinski_harabasz=float(calinski_harabasz_score(rows, labels)) if ok else nan,
                davies_bouldin=float(davies_bouldin_score(rows, labels)) if ok else nan,
                min_share=smallest_share(labels, k),
            )
        )
    elbow = find_elbow([s.k for s in scores], [s.inertia for s in scores])
    k, reason = choose_k(scores, elbow, min_share=min_share)
    reason += " " + _how_fitted(seed, n, fit_count, len(rows), len(sil_idx))
    # chosen on a sample: the final fit sees every customer
    final = centers[k] if fit is points else _kmeans(points, k, seed)
    selection = KSelection(
        k=k, scores=scores, elbow=elbow, reason=reason, sample_size=fit_count, centers=final
    )
    return selection, final


def _how_fitted(seed: int, n: int, fitted: int, scored: int, silhouette: int) -> str:
    """The sentence of the k reason that says what Spark fitted and what was sampled."""
    text = f"Each k was fitted by Spark k-means|| (seed {seed}) on "
    if fitted == n:
        text += f"all {n:,} customers"
    else:
        text += f"a seeded sample of {fitted:,} of the {n:,} customers (the chosen k then on all)"
    if scored < n:
        text += f"; inertia, Calinski-Harabasz and Davies-Bouldin on {scored:,}"
    if silhouette < n:
        text += f"; the silhouette on {silhouette:,}"
    return text + "."


def _by_size(matrix: Matrix, centers: Matrix) -> Matrix:
    """Spark's centres numbered by size (0 = largest, as the local engine does), centres
    nobody is nearest to dropped."""
    nearest = pairwise_distances_argmin(matrix, centers)
    counts = np.bincount(nearest, minlength=len(centers))
    order = np.argsort(-counts, kind="stable")
    return np.asarray(centers[order[counts[order] > 0]], dtype=np.float64)
