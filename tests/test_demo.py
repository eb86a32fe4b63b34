"""`segwise demo` runs the whole flow; the sample log holds its planted types."""

from __future__ import annotations

import pandas as pd

from segwise.demo import PLANTED_TYPES, generate_log


def test_demo_writes_log_segments_model_and_report(cli, tmp_path):
    result = cli("demo", "--folder", tmp_path, "--customers", "600")
    assert result.exit_code == 0, result.stderr
    for name in ("shop_log.csv", "segments.csv", "model.skops", "report.html"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert "RFM segments as of 2011-12-" in result.stdout
    assert len(pd.read_csv(tmp_path / "segments.csv")) == 600


def test_generated_log_is_seeded_and_holds_every_planted_type():
    a, b = generate_log(300, seed=3), generate_log(300, seed=3)
    assert a.lines.equals(b.lines)
    types = set(a.customers.column("planted_type").to_pylist())
    assert types == {t.name for t in PLANTED_TYPES}
    invoices = a.lines.column("InvoiceNo").to_pylist()
    assert any(i.startswith("C") for i in invoices)  # cancellations
    assert a.lines.column("CustomerID").null_count > 0  # guests and adjustments
