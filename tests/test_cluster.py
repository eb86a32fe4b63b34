"""k choice, k-means segments, stability and projection on planted and noise data."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from numpy.typing import NDArray
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from segwise.errors import ConfigError, InputError
from segwise.segment.cluster import (
    SegmentClusterer,
    _stability_warning,
    best_match_jaccard,
    stability,
)
from segwise.segment.kselect import KScore, choose_k, find_elbow, select_k, silhouettes
from segwise.segment.projection import project


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Small fits are fastest on one thread, and `pytest -n 2` already uses both cores."""
    with threadpool_limits(limits=1):
        yield


def planted(
    k: int, d: int, sizes: list[int], *, seed: int = 0, sep: float = 3.0
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Gaussian groups whose centres are at least ``sep * (std_i + std_j)`` apart, scaled."""
    rng = np.random.default_rng(seed)
    std = rng.uniform(0.5, 1.5, k)
    centers: list[NDArray[np.float64]] = []
    while len(centers) < k:
        c = rng.uniform(-1, 1, d) * (6 + 2 * k)
        i = len(centers)
        if all(np.linalg.norm(c - o) >= sep * (std[i] + std[j]) for j, o in enumerate(centers)):
            centers.append(c)
    X = np.vstack([rng.normal(centers[i], std[i], (sizes[i], d)) for i in range(k)])
    y = np.repeat(np.arange(k), sizes)
    return StandardScaler().fit_transform(X), y


# (k, d, sizes): equal and unequal groups, 3 to 20 features
CONFIGS = [
    (2, 3, [900, 300]),
    (3, 5, [600, 400, 200]),
    (4, 3, [500, 500, 500, 500]),
    (5, 8, [800, 400, 300, 200, 100]),
    (6, 4, [300, 600, 150, 450, 250, 200]),
    (7, 12, [200, 400, 300, 250, 350, 150, 450]),
    (8, 20, [150, 300, 200, 250, 400, 180, 220, 100]),
]


@pytest.mark.parametrize(("k", "d", "sizes"), CONFIGS)
def test_auto_k_recovers_planted_groups(k: int, d: int, sizes: list[int]) -> None:
    X, y = planted(k, d, sizes, seed=k)
    model = SegmentClusterer(seed=1).fit(X)
    assert model.n_clusters_ == k, model.k_selection_
    assert adjusted_rand_score(y, model.labels_) >= 0.9
    assert model.k_selection_ is not None
    assert model.k_selection_.reason.startswith(f"k = {k}: ")


def test_scores_cover_the_range_and_serialise() -> None:
    X, _ = planted(3, 4, [300, 200, 100])
    selection = select_k(X, k_min=2, k_max=7)
    assert [s.k for s in selection.scores] == list(range(2, 8))
    row = selection.scores[0].to_dict()
    assert set(row) == {
        "k",
        "inertia",
        "silhouette",
        "calinski_harabasz",
        "davies_bouldin",
        "min_share",
    }
    assert all(0 < s.min_share <= 0.5 for s in selection.scores)
    assert KScore(2, 1.0, float("nan"), 3.0, 4.0).to_dict()["silhouette"] is None  # JSON-safe
    inertia = [s.inertia for s in selection.scores]
    assert inertia == sorted(inertia, reverse=True)
    assert selection.reason.endswith(".") and ". " not in selection.reason  # one sentence


def test_large_input_chooses_on_a_sample_and_refines_on_all_rows() -> None:
    X, y = planted(4, 3, [20_000, 10_000, 6_000, 4_000], seed=3)
    model = SegmentClusterer(fit_sample_size=8_000, sample_size=2_000, seed=0).fit(X)
    assert model.k_selection_ is not None and model.k_selection_.sample_size == 8_000
    assert model.n_clusters_ == 4
    assert adjusted_rand_score(y, model.labels_) >= 0.99
    assert model.labels_.shape == (40_000,)


def test_fixed_k_is_honoured_and_skips_selection() -> None:
    X, _ = planted(4, 3, [200, 200, 200, 200])
    model = SegmentClusterer(k=6).fit(X)
    assert model.n_clusters_ == 6 and model.cluster_centers_.shape == (6, 3)
    assert model.k_selection_ is None
    assert set(model.labels_) == set(range(6))


def test_same_seed_same_labels_and_segments_ordered_by_size() -> None:
    X, _ = planted(5, 6, [500, 100, 300, 200, 400], seed=5)
    first = SegmentClusterer(seed=7).fit_predict(X)
    second = SegmentClusterer(seed=7).fit_predict(X)
    np.testing.assert_array_equal(first, second)
    sizes = np.bincount(first)
    assert list(sizes) == sorted(sizes, reverse=True)
    model = SegmentClusterer(seed=7).fit(X)
    np.testing.assert_array_equal(model.predict(X), model.labels_)


def test_bad_settings_raise_segwise_errors() -> None:
    X, _ = planted(2, 3, [50, 50])
    with pytest.raises(ConfigError, match="k must be"):
        SegmentClusterer(k=0).fit(X)
    with pytest.raises(ConfigError, match="k_min"):
        select_k(X, k_min=5, k_max=3)
    with pytest.raises(InputError, match="too few"):
        select_k(X[:2])
    assert [s.k for s in select_k(X[:6]).scores] == [2, 3, 4, 5]  # k_max lowered to n - 1


def test_batched_silhouette_matches_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    labelings = [rng.integers(0, k, 400) for k in (2, 3, 7)]
    labelings.append(np.r_[np.zeros(399, dtype=np.intp), 1])  # a singleton cluster
    expected = [silhouette_score(X, labels) for labels in labelings]
    np.testing.assert_allclose(silhouettes(X, labelings), expected, atol=1e-5)  # single precision
    # far from the origin and tightly packed: the points are centred before single precision
    # (the expected values are taken at the origin: a silhouette does not move with the points)
    expected = [silhouette_score(X * 1e-3, labels) for labels in labelings]
    np.testing.assert_allclose(silhouettes(X * 1e-3 + 1e4, labelings), expected, atol=1e-5)


def test_kneedle_finds_the_bend() -> None:
    ks = list(range(2, 11))
    assert find_elbow(ks, [100, 50, 20, 18, 16, 15, 14, 13, 12]) == 4
    assert find_elbow(ks, [2.0 ** (10 - k) for k in ks]) is None  # straight in log scale
    assert find_elbow([2, 3], [5.0, 1.0]) is None


def test_rule_takes_the_best_silhouette_unless_compact_groups_peak_inside() -> None:
    """The old rule (silhouette within 0.1 of the best, then highest CH) took k = 2 below;
    the best silhouette wins unless CH peaks inside the range within 10% of it."""

    def score(k: int, sil: float, ch: float, share: float = 0.2) -> KScore:
        return KScore(k, 100.0 / k, sil, ch, 1.0, min_share=share)

    real = [score(2, 0.164, 73), score(3, 0.149, 70), score(8, 0.200, 52), score(9, 0.189, 49)]
    k, reason = choose_k(real)
    assert k == 8  # ISLR Credit's scores: CH falls with k, so the silhouette decides
    assert reason.startswith("k = 8: customers are best separated into 8 segments")
    assert "next 0.189 at k = 9" in reason and "k = 9 is also the best finer split" in reason
    k, reason = choose_k([*real, score(10, 0.19, 45)])
    assert "next 0.190 at k = 10" in reason and "k = 10 is also the best" in reason
    k, reason = choose_k([score(2, 0.3, 50), score(3, 0.1, 40), score(4, 0.2, 30)])
    assert "next 0.200 at k = 4" in reason and "k = 4 is also" in reason
    k, reason = choose_k([score(2, 0.25, 50), score(3, 0.30, 40), score(4, 0.20, 30)])
    assert k == 3 and "next 0.250 at k = 2" in reason
    assert "for more segments, k = 4 separates best (silhouette 0.200)" in reason
    compact = [score(2, 0.58, 36_000), score(5, 0.54, 48_500), score(6, 0.47, 48_000)]
    k, reason = choose_k(compact)
    assert k == 5 and "peaks at 5" in reason  # within 10% of 0.58 and a CH peak inside
    far = [score(2, 0.58, 36_000), score(5, 0.50, 48_500), score(6, 0.47, 48_000)]
    assert choose_k(far)[0] == 2  # a CH peak more than 10% below the best silhouette
    edge = [score(2, 0.58, 36_000), score(5, 0.56, 40_000), score(6, 0.55, 48_000)]
    assert choose_k(edge)[0] == 2  # CH highest at the last k is no peak
    tiny = [score(2, 0.30, 100), score(3, 0.40, 90, share=0.01), score(4, 0.35, 80)]
    k, reason = choose_k(tiny)
    assert k == 4 and "k = 3 was left out because a segment would hold under 3%" in reason
    assert choose_k(tiny, min_share=0.0)[0] == 3


def test_stability_high_on_planted_low_on_noise() -> None:
    X, _ = planted(4, 4, [300, 250, 200, 150], seed=2)
    model = SegmentClusterer(k=4).fit(X)
    good = stability(X, 4, n_boot=5, centers=model.cluster_centers_)
    assert good.mean_ari > 0.95 and good.min_ari > 0.95 and good.warning is None
    assert len(good.segment_jaccard) == 4 and min(good.segment_jaccard) > 0.95
    assert [row["segment"] for row in good.to_dict()["segments"]] == [0, 1, 2, 3]
    noise = np.random.default_rng(0).uniform(size=(1000, 4))
    forced = SegmentClusterer(k=6).fit(noise)
    bad = stability(noise, 6, n_boot=5, centers=forced.cluster_centers_)
    assert bad.mean_ari < 0.75 and bad.min_ari <= bad.mean_ari
    assert min(bad.segment_jaccard) < 0.6  # some segment does not hold together
    assert bad.warning is not None and bad.warning.startswith("segments are unstable: ")
    weakest = int(np.argmin(bad.segment_jaccard))
    assert f"{weakest} (" in bad.warning and "(Jaccard)" in bad.warning
    assert "the worst of 5 refits agrees only" in bad.warning


def test_best_match_jaccard_and_a_warning_for_one_weak_segment() -> None:
    reference = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2])
    refit = np.array([5, 5, 5, 5, 1, 1, 2, 2, 3, 3])  # segment 1 split in two halves
    np.testing.assert_allclose(best_match_jaccard(reference, refit, 3), [1.0, 0.5, 1.0])
    # a good mean and a good worst refit do not hide one segment that falls apart
    warning = _stability_warning(0.9, 0.8, (0.98, 0.55, 0.97), 10, 3)
    assert warning is not None and "segment 1 (0.55) keeps less than 0.6" in warning
    assert _stability_warning(0.9, 0.8, (0.98, 0.75, 0.97), 10, 3) is None
    assert "the worst of 10 refits agrees only -0.03" in str(
        _stability_warning(0.8, -0.03, (0.9, 0.9), 10, 2)
    )


@pytest.mark.parametrize("d", [1, 2, 3, 7])
def test_projection_shapes_and_variance_shares(d: int) -> None:
    X = np.random.default_rng(d).normal(size=(200, d)) * np.arange(1, d + 1)
    p = project(X)
    assert p.coords_2d.shape == (200, 2) and p.coords_3d.shape == (200, 3)
    np.testing.assert_array_equal(p.coords_2d, p.coords_3d[:, :2])
    for shares in (p.explained_variance_2d, p.explained_variance_3d):
        assert all(0.0 <= s <= 1.0 for s in shares)
        assert shares == sorted(shares, reverse=True)
    assert len(p.explained_variance_3d) == 3
    if d <= 3:
        assert sum(p.explained_variance_3d) == pytest.approx(1.0)
    if d < 3:
        assert not p.coords_3d[:, d:].any()


@parametrize_with_checks([SegmentClusterer(k=3)])  # type: ignore[untyped-decorator]
def test_scikit_learn_estimator_contract(estimator: object, check: object) -> None:
    check(estimator)  # type: ignore[operator]
