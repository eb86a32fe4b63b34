"""Segments, pure: choose k, fit, check stability, profile, name, advise, compare runs."""

from typing import Literal

DataKind = Literal["transactions", "customers"]
"""What a dataset is: a transaction log (segmented on its RFM) or a customer table."""
