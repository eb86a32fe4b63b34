"""Segment profiles: size, typical values and what sets each segment apart.

A profile is read by people (names, recommendations, reports), so it is computed on the
features in their original units, before any scaling. Everything is vectorised per column
(bincount, one sort, one gather) so a million customers with twenty features take about a second.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segwise.errors import InputError

__all__ = ["SegmentProfile", "profile_segments"]

#: Text values read as yes (1) / no (0) when a text column holds nothing else.
_YES = frozenset({"yes", "y", "true", "t", "1"})
_NO = frozenset({"no", "n", "false", "f", "0"})
#: A text column with more categories keeps only this many (the most frequent) as indicators.
MAX_CATEGORIES = 20


@dataclass(frozen=True)
class SegmentProfile:
    """What one segment looks like next to all customers.

    ``z`` is (segment mean - overall mean) / overall std per feature (0 for a constant
    feature); for a 0/1 column this is the shift in share in units of its spread, so it is
    comparable across features. ``distinctive`` holds the ``top`` features with the largest
    ``|z|``, sign kept. ``binary`` names the 0/1 features (yes/no columns, and one indicator
    ``column=value`` per category of a text column). ``position`` gives, per non-binary
    feature, the shares of all customers strictly below and strictly above the segment median:
    a rank, robust to the skew of spend and frequency, that maps onto RFM scores exactly.
    """

    segment: int
    size: int
    share: float
    mean: dict[str, float]
    median: dict[str, float]
    z: dict[str, float]
    distinctive: list[tuple[str, float]]
    rfm_mix: dict[str, float] | None
    binary: tuple[str, ...] = ()
    position: dict[str, tuple[float, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values: floats rounded, NaN as None."""
        return {
            "segment": int(self.segment),
            "size": int(self.size),
            "share": _round(self.share, 4),
            "mean": {k: _sig(v) for k, v in self.mean.items()},
            "median": {k: _sig(v) for k, v in self.median.items()},
            "z": {k: _round(v, 3) for k, v in self.z.items()},
            "distinctive": [{"feature": k, "z": _round(v, 3)} for k, v in self.distinctive],
            "rfm_mix": (
                None if self.rfm_mix is None else {k: _round(v, 4) for k, v in self.rfm_mix.items()}
            ),
            "binary": list(self.binary),
            "position": {k: [_round(b, 4), _round(a, 4)] for k, (b, a) in self.position.items()},
        }


def profile_segments(
    features: pd.DataFrame,
    labels: np.ndarray,
    *,
    rfm_segments: pd.Series | None = None,
    top: int = 3,
) -> list[SegmentProfile]:
    """Profile every segment present in ``labels``, in label order.

    ``features`` are the clustering inputs in original units: numbers, 0/1 columns, ordinal
    codes, yes/no text or text categories (one 0/1 indicator per category, the
    ``MAX_CATEGORIES`` most frequent). Rows line up with ``labels`` and, when given, with
    ``rfm_segments`` (the standard RFM segment name per customer, by position).
    """
    codes = _check_labels(labels, len(features))
    if top < 0:
        raise ValueError(f"top must be >= 0, got {top}")
    columns, binary = _numeric_columns(features)
    names = list(columns)
    counts = np.bincount(codes)
    present = np.flatnonzero(counts)
    n = len(codes)
    k = len(counts)
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(counts)))

    p = len(names)
    means = np.full((k, p), np.nan)
    medians = np.full((k, p), np.nan)
    zs = np.zeros((k, p))
    below = np.full((k, p), np.nan)
    above = np.full((k, p), np.nan)
    for j, name in enumerate(names):
        x = columns[name]
        valid = ~np.isnan(x)
        has_nan = not bool(valid.all())
        xv = np.where(valid, x, 0.0) if has_nan else x
        sums = np.bincount(codes, weights=xv, minlength=k)
        nums = np.bincount(codes, weights=valid.astype(float), minlength=k) if has_nan else counts
        with np.errstate(invalid="ignore", divide="ignore"):
            means[:, j] = sums / nums
        clean = x[valid] if has_nan else x
        if clean.size:
            mu = float(clean.mean())
            sd = float(clean.std())
            if sd > 0:
                zs[:, j] = np.nan_to_num((means[:, j] - mu) / sd)
        gathered = x[order]
        median_of = np.nanmedian if has_nan else np.median
        for g in present:
            part = gathered[bounds[g] : bounds[g + 1]]
            if not has_nan or bool((~np.isnan(part)).any()):
                medians[g, j] = float(median_of(part))
        if name not in binary and clean.size:
            ranked = np.sort(clean)
            meds = medians[:, j]
            lower = np.searchsorted(ranked, meds, side="left") / clean.size
            higher = 1.0 - np.searchsorted(ranked, meds, side="right") / clean.size
            below[:, j] = np.where(np.isnan(meds), np.nan, lower)
            above[:, j] = np.where(np.isnan(meds), np.nan, higher)

    mixes = _rfm_mix(codes, k, rfm_segments) if rfm_segments is not None else None
    binary_names = tuple(b for b in names if b in binary)
    profiles = []
    for g in present:
        z = {name: float(zs[g, j]) for j, name in enumerate(names)}
        ranked_z = sorted(range(p), key=lambda j: (-abs(zs[g, j]), j))[:top]
        profiles.append(
            SegmentProfile(
                segment=int(g),
                size=int(counts[g]),
                share=float(counts[g] / n),
                mean={name: float(means[g, j]) for j, name in enumerate(names)},
                median={name: float(medians[g, j]) for j, name in enumerate(names)},
                z=z,
                distinctive=[(names[j], float(zs[g, j])) for j in ranked_z],
                rfm_mix=None if mixes is None else mixes[int(g)],
                binary=binary_names,
                position={
                    name: (float(below[g, j]), float(above[g, j]))
                    for j, name in enumerate(names)
                    if not np.isnan(below[g, j])
                },
            )
        )
    return profiles


def _check_labels(labels: np.ndarray, rows: int) -> np.ndarray:
    """Labels as a 1-D int64 array of non-negative segment numbers, one per row."""
    array = np.asarray(labels)
    if array.ndim != 1 or len(array) != rows:
        raise ValueError(f"labels must be 1-D with one entry per row ({rows}), got {array.shape}")
    if rows == 0:
        raise ValueError("cannot profile an empty table")
    integral = np.issubdtype(array.dtype, np.integer) or (
        np.issubdtype(array.dtype, np.floating) and bool(np.all(array == np.round(array)))
    )
    if not integral:
        raise ValueError(f"labels must be integers, got dtype {array.dtype}")
    codes = array.astype(np.int64)
    if int(codes.min()) < 0:
        raise ValueError(f"labels must be >= 0 (segments 0..k-1), got {int(codes.min())}")
    return codes


def _numeric_columns(features: pd.DataFrame) -> tuple[dict[str, np.ndarray], set[str]]:
    """Every feature as a float column; yes/no text becomes 0/1, categories become indicators."""
    columns: dict[str, np.ndarray] = {}
    binary: set[str] = set()
    for raw_name in features.columns:
        name = str(raw_name)
        series = features[raw_name]
        if pd.api.types.is_bool_dtype(series):
            columns[name] = series.to_numpy(dtype=float, na_value=np.nan)
            binary.add(name)
        elif pd.api.types.is_numeric_dtype(series):
            x = series.to_numpy(dtype=float, na_value=np.nan)
            columns[name] = x
            if bool(((x == 0) | (x == 1) | np.isnan(x)).all()):
                binary.add(name)
        elif pd.api.types.is_datetime64_any_dtype(series):
            raise InputError(
                "cannot profile a date column",
                column=name,
                hint="turn dates into numbers first, e.g. days since an as-of date",
            )
        else:
            codes, uniques = pd.factorize(series, sort=True)  # uniques sorted: ties by name
            if 2 <= len(uniques) <= len(_YES | _NO):
                lowered = [str(u).strip().lower() for u in uniques]
                if set(lowered) <= _YES | _NO and set(lowered) & _YES and set(lowered) & _NO:
                    flag = np.array([u in _YES for u in lowered], dtype=float)
                    columns[name] = np.where(codes >= 0, flag[np.maximum(codes, 0)], np.nan)
                    binary.add(name)
                    continue
            freq = np.bincount(codes[codes >= 0], minlength=len(uniques))
            missing = codes < 0
            for i in np.argsort(-freq, kind="stable")[:MAX_CATEGORIES]:
                indicator = f"{name}={str(uniques[i]).strip()}"
                columns[indicator] = np.where(missing, np.nan, (codes == i).astype(float))
                binary.add(indicator)
    if not columns:
        raise InputError("no feature columns to profile", hint="pass at least one column")
    return columns, binary


def _rfm_mix(codes: np.ndarray, k: int, rfm_segments: pd.Series) -> list[dict[str, float]]:
    """Share of each named RFM segment per cluster, largest first (missing names left out)."""
    if len(rfm_segments) != len(codes):
        raise ValueError(
            f"rfm_segments must have one entry per row ({len(codes)}), got {len(rfm_segments)}"
        )
    seg_codes, seg_names = pd.factorize(rfm_segments.to_numpy(), sort=True)
    known = seg_codes >= 0
    m = len(seg_names)
    table = np.bincount(codes[known] * m + seg_codes[known], minlength=k * m).reshape(k, m)
    mixes = []
    for g in range(k):
        total = int(table[g].sum())
        row = [(str(seg_names[i]), table[g, i] / total) for i in range(m) if table[g, i] > 0]
        row.sort(key=lambda item: (-item[1], item[0]))
        mixes.append({name: float(share) for name, share in row})
    return mixes


def _round(value: float, digits: int) -> float | None:
    """Round for JSON; NaN and infinities become None."""
    return round(float(value), digits) if math.isfinite(value) else None


def _sig(value: float, digits: int = 6) -> float | None:
    """Round to ``digits`` significant digits (means of cents and of shares alike)."""
    if not math.isfinite(value):
        return None
    if value == 0:
        return 0.0
    return round(float(value), digits - 1 - math.floor(math.log10(abs(value))))


def feature_quantiles(features: pd.DataFrame, columns: Sequence[str]) -> dict[str, list[float]]:
    """The 0..100th percentiles of every numeric column with values: where a customer stands
    among all (the look-up's percentiles are read off these)."""
    grid = np.linspace(0, 1, 101)
    return {
        c: np.nanquantile(features[c].to_numpy(dtype=float), grid).round(6).tolist()
        for c in columns
        if pd.api.types.is_numeric_dtype(features[c]) and features[c].notna().any()
    }
