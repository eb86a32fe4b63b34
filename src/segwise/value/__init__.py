"""Customer value models on the per-customer repeat-purchase summary: BG/NBD for purchases and
P(alive), Gamma-Gamma for the value per purchase, and CLV over a horizon (pure: arrays in,
arrays out; the summary comes from the SQL of ``features/value_summary.py``)."""
