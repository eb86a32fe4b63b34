"""Value models (BG/NBD + Gamma-Gamma) on CDNOW against the literature and lifetimes, and
``segwise value`` end to end.

Oracles: lifetimes' ``cdnow_customers_summary*.csv`` (Fader & Hardie's CDNOW summary, weeks),
the published parameters (BG/NBD: Fader, Hardie & Lee 2005; Gamma-Gamma: Fader & Hardie's
note on the 946 repeat customers), and lifetimes' own P(alive) and expected purchases.
"""

from __future__ import annotations

import json
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # lifetimes imports pkg_resources
    import lifetimes
    from lifetimes.datasets import load_dataset

from segwise.errors import FitError
from segwise.service.value import ValueOptions, compute_value, fit_models, repeat_summary
from segwise.value.bgnbd import BgNbd
from segwise.value.clv import churn_band
from segwise.value.gamma_gamma import GammaGamma

CALIBRATION_END = date(1997, 9, 30)
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}
FLAGS = ("--customer", "customer_id", "--date", "date", "--amount", "amount")


@pytest.fixture(scope="module")
def cdnow_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CDNOW_sample.txt (2,357 customers, 1997-01 to 1998-06) as a CSV log with a header."""
    raw = load_dataset("CDNOW_sample.txt", header=None, sep=r"\s+", dtype={0: str, 1: str})
    raw.columns = ["old_id", "customer_id", "date", "cds", "amount"]
    path = tmp_path_factory.mktemp("cdnow") / "cdnow_sample.csv"
    raw.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def summary(cdnow_log: Path) -> pd.DataFrame:
    frame = repeat_summary(cdnow_log, CALIBRATION_END).customers
    return frame.set_index(frame["customer_id"].astype(int))


@pytest.fixture(scope="module")
def models(summary: pd.DataFrame) -> tuple[BgNbd, GammaGamma]:
    return fit_models(summary, "cdnow")


def test_summary_equals_the_published_cdnow_summary_for_every_customer(summary):
    published = load_dataset("cdnow_customers_summary.csv", index_col="ID")
    with_value = load_dataset("cdnow_customers_summary_with_transactions.csv", index_col="ID")
    assert len(summary) == len(published) == 2357
    got = summary.loc[published.index]
    assert (got["repeat_purchases"] == published["frequency"]).all()
    assert (got["t_x"].round(2) == published["recency"]).all()  # published to 2 decimals
    assert (got["T"].round(2) == published["T"]).all()
    # zbar: the mean repeat value, published to cents
    assert np.abs(got["mean_repeat_value"] - with_value["zbar"]).max() <= 0.005 + 1e-9
    assert (got["repeat_purchases"] > 0).sum() == 946


def test_fitted_parameters_are_the_published_ones_within_2_percent(models):
    bgnbd, gamma_gamma = models
    for fitted, published in (
        (bgnbd.params_, PUBLISHED_BGNBD),
        (gamma_gamma.params_, PUBLISHED_GAMMA_GAMMA),
    ):
        for name, value in published.items():
            assert fitted[name] == pytest.approx(value, rel=0.02), name
    assert bgnbd.fit_.converged and gamma_gamma.fit_.converged
    assert bgnbd.fit_.log_likelihood == pytest.approx(-9582.4, abs=0.5)  # FHL 2005, Table 1


def test_p_alive_and_expected_purchases_agree_with_lifetimes(summary, models):
    bgnbd, gamma_gamma = models
    theirs = lifetimes.BetaGeoFitter()
    theirs.params_ = pd.Series(bgnbd.params_)
    x, t_x, T = (summary[c].to_numpy() for c in ("repeat_purchases", "t_x", "T"))
    np.testing.assert_allclose(
        bgnbd.p_alive(x, t_x, T), theirs.conditional_probability_alive(x, t_x, T), atol=1e-4
    )
    for t in (1.0, 13.0, 39.0):
        want = theirs.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T)
        np.testing.assert_allclose(bgnbd.expected_purchases(t, x, t_x, T), want, atol=1e-4)
    gg = lifetimes.GammaGammaFitter()
    gg.params_ = pd.Series(gamma_gamma.params_)
    m = summary["mean_repeat_value"]
    repeat = summary["repeat_purchases"] > 0
    want = gg.conditional_expected_average_profit(summary["repeat_purchases"][repeat], m[repeat])
    got = gamma_gamma.expected_value(
        summary["repeat_purchases"][repeat].to_numpy(), m[repeat].to_numpy()
    )
    np.testing.assert_allclose(got, want, rtol=1e-6)


def holdout_table(log: Path, summary: pd.DataFrame, bgnbd: BgNbd) -> pd.DataFrame:
    """Weeks 40-78: actual repeat purchase days per customer vs BG/NBD's expectation, by the
    number of repeat purchases in weeks 1-39 (7+ together), as Fader, Hardie & Lee's Figure 5."""
    raw = pd.read_csv(log, dtype={"customer_id": str})
    day = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    later = raw[day > pd.Timestamp(CALIBRATION_END)].assign(day=day)
    actual = later.groupby(later["customer_id"].astype(int))["day"].nunique()
    weeks = (day.max() - pd.Timestamp(CALIBRATION_END)).days / 7
    x, t_x, T = (summary[c].to_numpy() for c in ("repeat_purchases", "t_x", "T"))
    table = pd.DataFrame(
        {
            "group": np.minimum(x, 7),
            "actual": summary.index.map(actual).fillna(0).to_numpy(),
            "predicted": bgnbd.expected_purchases(weeks, x, t_x, T),
        }
    )
    return table.groupby("group").agg(
        customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean")
    )


def test_holdout_weeks_40_to_78_track_the_actual_purchases(cdnow_log, summary, models):
    table = holdout_table(cdnow_log, summary, models[0])
    assert list(table.index) == list(range(8))
    assert table["predicted"].is_monotonic_increasing
    ratio = table["predicted"] / table["actual"]
    assert ratio.between(0.7, 1.1).all(), table  # BG/NBD runs a little under, as published
    total = (table["customers"] * table["predicted"]).sum() / (
        table["customers"] * table["actual"]
    ).sum()
    assert 0.85 < total < 1.0


def simulate(n: int, r: float, alpha: float, a: float, b: float, weeks: float, seed: int):
    """Customers drawn from BG/NBD itself, all observed for ``weeks`` after their first buy."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    x, t_x, now = np.zeros(n), np.zeros(n), np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        now[active] += rng.exponential(1 / lam[active])
        bought = active & (now <= weeks)
        x[bought] += 1
        t_x[bought] = now[bought]
        active = bought & (rng.random(n) >= p)
    return x, t_x, np.full(n, weeks)


def test_planted_bgnbd_parameters_are_recovered():
    planted = {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 3.0}
    x, t_x, T = simulate(40_000, *planted.values(), weeks=52.0, seed=3)
    fitted = BgNbd().fit(x, t_x, T).params_
    for name, value in planted.items():
        assert fitted[name] == pytest.approx(value, rel=0.15), name
    # grouping is exact: the same fit with the rows given one by one, weight 1 each
    ones = BgNbd().fit(x[:3000], t_x[:3000], T[:3000], weight=np.ones(3000)).params_
    grouped = BgNbd().fit(x[:3000], t_x[:3000], T[:3000]).params_
    assert ones == pytest.approx(grouped, rel=1e-5)


def test_churn_band_thresholds():
    p = np.array([0.1, 0.29, 0.3, 0.69, 0.7, 1.0, 1.0])
    x = np.array([3, 1, 2, 5, 1, 4, 0])
    assert list(churn_band(p, x)) == ["high", "high", "medium", "medium", "low", "low", "one-time"]


def test_value_cli_on_cdnow(cli, cdnow_log, tmp_path):
    out = tmp_path / "value.csv"
    result = cli(
        "value",
        cdnow_log,
        "--calibration-end",
        "1997-09-30",
        "--horizon",
        "26w",
        "--discount-rate",
        "0.1",
        "--out",
        out,
        "--json",
        *FLAGS,
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["customers"] == 2357 and summary["repeat_customers"] == 946
    assert summary["horizon_days"] == 182
    assert summary["bgnbd"]["r"] == pytest.approx(0.243, rel=0.02)
    table = pd.read_csv(out, dtype={"customer_id": str})
    assert list(table.columns)[-5:] == [
        "p_alive",
        "expected_purchases",
        "expected_value",
        "clv",
        "churn_risk",
    ]
    assert len(table) == 2357 and table["customer_id"].iloc[0] == "0001"
    assert table["p_alive"].between(0, 1).all()
    assert (table["clv"] < table["expected_value"]).all()  # 10% a year discounts every purchase
    assert table["expected_value"].sum() == pytest.approx(summary["expected_value"], abs=0.01)
    segments = {s["segment"]: s for s in summary["segments"]}
    assert sum(s["customers"] for s in segments.values()) == 2357
    by_rfm = table.groupby("rfm_segment")["clv"].sum()
    for name, seg in segments.items():
        assert seg["clv"] == pytest.approx(by_rfm[name], abs=0.01)
    # one purchase only: P(alive) = 1 by the model, so the band says so instead of "low"
    one_time = table["repeat_purchases"] == 0
    assert (table.loc[one_time, "churn_risk"] == "one-time").all()
    assert (table.loc[one_time, "p_alive"] == 1).all()


def test_a_horizon_longer_than_the_log_is_refused(cli, cdnow_log):
    result = cli("value", cdnow_log, "--calibration-end", "1997-09-30", "--horizon", "300d", *FLAGS)
    assert result.exit_code == 2
    assert "covers 272 days up to 1997-09-30, shorter than the 300-day horizon" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_too_few_repeat_customers_is_refused(cli, cdnow_log):
    result = cli("value", cdnow_log, "--calibration-end", "1997-01-10", "--horizon", "7d", *FLAGS)
    assert result.exit_code == 2
    assert "customers bought again" in result.stderr and "at least 20" in result.stderr


def test_a_purchase_pattern_without_dropout_is_refused(tmp_path):
    # every customer buys every week for a year: nobody ever stops, so the dropout
    # probability runs off to 0 and BG/NBD has no optimum
    rng = np.random.default_rng(0)
    rows = [
        (f"C{c:03d}", (pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=w)).date(), rng.gamma(4, 5))
        for c in range(40)
        for w in range(52)
    ]
    log = tmp_path / "regular.csv"
    pd.DataFrame(rows, columns=["customer_id", "date", "amount"]).to_csv(log, index=False)
    with pytest.raises(FitError, match=r"BG/NBD fit did not converge.*nobody stops"):
        compute_value(log, ValueOptions(horizon_days=30))


def test_values_without_spread_between_customers_are_refused(summary):
    # CDNOW's purchases, but every repeat customer's mean is the same 20.00: nothing for the
    # Gamma-Gamma mixing distribution to fit, so its parameters run off to infinity
    flat = summary.assign(mean_repeat_value=np.where(summary["repeat_purchases"] > 0, 20.0, 0.0))
    with pytest.raises(FitError, match=r"Gamma-Gamma fit did not converge.*about the same"):
        fit_models(flat, "flat.csv")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--horizon", "six months"), "--horizon 'six months' is not a duration"),
        (("--horizon", "0d"), "--horizon 0d is out of range"),
        (("--discount-rate", "1.5"), "--discount-rate 1.5 is out of range"),
        (("--calibration-end", "30/09/1997"), "--calibration-end '30/09/1997' is not a date"),
    ],
)
def test_bad_flags_are_one_line_errors(cli, cdnow_log, flags, message):
    result = cli("value", cdnow_log, *flags, *FLAGS)
    assert result.exit_code == 2
    assert message in result.stderr


def test_planted_customer_types_of_the_demo_log(cli, tmp_path):
    # the demo shop plants Champions (recent, 15-40 invoices), At risk (6-15 invoices, none
    # in the last 120 days), New and Lost (1-2 invoices)
    from segwise.demo import generate_log, write_log

    log = generate_log(2000, seed=3)
    path = write_log(log.lines, tmp_path / "shop.csv", style="uk")
    out = tmp_path / "value.parquet"
    result = cli("value", path, "--horizon", "90d", "--out", out)
    assert result.exit_code == 0, result.stderr
    planted = log.customers.to_pandas().astype({"customer_id": str})
    table = pd.read_parquet(out).merge(planted, on="customer_id", validate="1:1")
    assert len(table) == 2000
    by_type = table.groupby("planted_type")
    p_alive = by_type["p_alive"].mean()
    assert p_alive["Champions"] > 0.8 and p_alive["At risk"] < 0.2
    assert by_type["expected_value"].mean().idxmax() == "Champions"
    assert (by_type["churn_risk"].agg(lambda s: s.mode()[0]))["At risk"] == "high"
    one_purchase = table["repeat_purchases"] == 0
    assert (table.loc[one_purchase, "churn_risk"] == "one-time").all()
