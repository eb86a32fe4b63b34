"""Ordered answers: survey scales and numeric bands, recognised and ranked.

Surveys carry ordered answers as words ("Weekly", "Strongly agree") or as bands
("1,000 - 4,999", "65+"). Coding them by rank keeps the order that one-hot coding throws
away. Everything here works on a column's distinct labels, never on its rows, and is pure.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

Band = tuple[float, float]

# Each scale lists its levels lowest first; "|" separates spellings of the same level.
# Levels of a scale a column does not use are skipped, so a 5-point column on a 7-point
# scale still codes 0..4. A word may sit in several scales if its order agrees in each.
_SCALES: dict[str, tuple[str, ...]] = {
    "binary": ("no|n|false|f|0|0.0|off", "yes|y|true|t|1|1.0|on"),
    "answer": ("no", "maybe|not sure|unsure|possibly|perhaps", "yes"),
    "frequency": (
        "never|not at all|none",
        "rarely|seldom|hardly ever|almost never",
        "less than once a year",
        "once a year|yearly|annually|every year|once per year",
        "a few times a year|several times a year|twice a year|2-3 times a year|every few months"
        "|quarterly",
        "less than once a month",
        "once a month|monthly|every month|once per month",
        "a few times a month|several times a month|2-3 times a month|twice a month|fortnightly"
        "|every two weeks|every 2 weeks|biweekly|bi-weekly",
        "less than once a week",
        "once a week|weekly|every week|once per week",
        "a few times a week|several times a week|2-3 times a week|twice a week",
        "most days|almost daily|almost every day|4-6 times a week",
        "daily|every day|once a day|once per day",
        "several times a day|a few times a day|more than once a day|many times a day"
        "|multiple times a day|hourly",
    ),
    "how_often": (
        "never",
        "rarely|seldom|hardly ever|almost never",
        "occasionally|once in a while",
        "sometimes",
        "often|frequently|regularly",
        "usually|very often|most of the time|almost always",
        "always|all the time",
    ),
    "agreement": (
        "strongly disagree|completely disagree|totally disagree",
        "disagree",
        "somewhat disagree|slightly disagree|mildly disagree|tend to disagree|partly disagree",
        "neutral|neither agree nor disagree|neither agree or disagree|neither|undecided"
        "|no opinion|indifferent",
        "somewhat agree|slightly agree|mildly agree|tend to agree|partly agree",
        "agree",
        "strongly agree|completely agree|totally agree",
    ),
    "satisfaction": (
        "very dissatisfied|extremely dissatisfied|completely dissatisfied|very unsatisfied",
        "dissatisfied|unsatisfied|not satisfied",
        "somewhat dissatisfied|slightly dissatisfied",
        "neutral|neither satisfied nor dissatisfied|neither satisfied or dissatisfied|neither",
        "somewhat satisfied|slightly satisfied|fairly satisfied",
        "satisfied",
        "very satisfied|extremely satisfied|completely satisfied",
    ),
    "likelihood": (
        "very unlikely|extremely unlikely|highly unlikely|definitely not|definitely will not",
        "unlikely|not likely|probably not|probably will not",
        "somewhat unlikely|slightly unlikely",
        "neutral|neither likely nor unlikely|neither likely or unlikely|neither|not sure"
        "|unsure|maybe|undecided",
        "somewhat likely|slightly likely|fairly likely",
        "likely|probably|probably will",
        "very likely|extremely likely|highly likely|definitely|definitely will|certainly",
    ),
    "quality": (
        "very poor|terrible|awful|very bad",
        "poor|bad",
        "below average",
        "fair|average|ok|okay|acceptable|adequate|satisfactory",
        "good|above average",
        "very good|great",
        "excellent|outstanding|exceptional",
    ),
    "level": (
        "none",
        "very low|extremely low",
        "low",
        "medium|moderate|mid|middle|average|intermediate",
        "high",
        "very high|extremely high",
    ),
    "importance": (
        "not at all important",
        "not important|unimportant|of little importance",
        "slightly important",
        "moderately important|somewhat important|neutral",
        "important",
        "very important",
        "extremely important",
    ),
    "size": (
        "extra small|very small|tiny",
        "small",
        "medium|mid-size|midsize",
        "large|big",
        "extra large|very large|huge",
    ),
    "education": (
        "none|no formal education|no education|no schooling",
        "primary|primary school|elementary|elementary school",
        "secondary|secondary school|high school",
        "tertiary|college|diploma|certificate|vocational",
        "university|bachelor|bachelors|bachelor's|bachelor's degree|undergraduate|degree",
        "master|masters|master's|master's degree|postgraduate|post graduate",
        "phd|doctorate|doctoral",
    ),
}

# spelling -> rank, per scale; first spelling of each rank names it when unobserved
_RANKS: dict[str, dict[str, int]] = {
    scale: {word: rank for rank, words in enumerate(levels) for word in words.split("|")}
    for scale, levels in _SCALES.items()
}
_NAMES: dict[str, tuple[str, ...]] = {
    scale: tuple(words.split("|")[0] for words in levels) for scale, levels in _SCALES.items()
}

_DASH = re.compile(r"\s*[-–—]\s*")
_SPACE = re.compile(r"\s+")
_STRIPPED = " .!"
MAX_LEVELS = 50  # more distinct answers than this is not a rating scale or band list
_NUMBERED = re.compile(r"^\d{1,2}\s*[.):=-]\s*(?=[a-z])")  # "1. strongly disagree"
_NUMBER = re.compile(
    r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?"
    r"(?:\s*(k|thousand|mn|m|million|bn|billion)(?![a-z]))?"
)
_MULTIPLIERS = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "million": 1e6,
    "bn": 1e9,
    "billion": 1e9,
}
_BELOW = re.compile(
    r"<|≤|\b(?:below|under|less than|fewer than|lower than|up to|upto|at most|no more than"
    r"|not more than|or less|or fewer|and below|and under|or below|or under)\b"
)
_ABOVE = re.compile(
    r">|≥|\+|\b(?:above|over|more than|greater than|at least|or more|and above|and over"
    r"|or above|or over|plus|and older|or older)\b"
)
_SEPARATORS = frozenset({"-", "to", "and", "till", "until", "through"})


@dataclass(frozen=True)
class LevelMap:
    """How one column's labels map to codes 0..n-1, learned from its distinct labels.

    ``levels`` holds one display label per code (the spelling seen most often);
    ``keys`` maps normalised spellings, synonyms included, to codes; ``bands`` holds the
    (lower, upper) bound of each code for numeric bands, so new spellings of a band match.
    """

    scale: str
    levels: tuple[str, ...]
    keys: Mapping[str, int]
    bands: tuple[Band, ...] = ()

    def codes(self, labels: pd.Index) -> npt.NDArray[np.float64]:
        """Codes of many labels at once; NaN where a label is none of the fitted levels."""
        keys = pd.Index(list(self.keys))
        found = keys.get_indexer(normalize_labels(labels))
        table = np.append(np.fromiter(self.keys.values(), float, len(keys)), np.nan)
        codes = table[found]
        if self.bands or self.scale in _RANKS:  # synonyms in other spellings, slow path
            for position in np.flatnonzero(found < 0):
                code = self.code(str(labels[int(position)]))
                codes[position] = np.nan if code is None else code
        return codes

    def code(self, label: str) -> int | None:
        """The code of ``label``, or None when it is none of the fitted levels.

        For bands, another spelling of a band finds it, and a plain number finds the band
        it falls in ("2500" -> "1,000 - 4,999"), so forms may ask for the number itself.
        """
        key = normalize_label(label)
        found = self.keys.get(key)
        if found is None and self.scale in _RANKS:
            found = self.keys.get(_NUMBERED.sub("", key))
        band = parse_band(label) if found is None and self.bands else None
        if band is not None and band in self.bands:
            found = self.bands.index(band)
        elif band is not None and band[0] == band[1]:
            position = bisect_right([low for low, _ in self.bands], band[0]) - 1
            found = position if position >= 0 else None
        return found


def normalize_label(label: str) -> str:
    """Lower case, single spaces, one kind of dash: the form labels are compared in."""
    text = label.lower().replace("_", " ").replace("’", "'")
    text = _DASH.sub("-", text)
    return _SPACE.sub(" ", text).strip(_STRIPPED)


def normalize_labels(labels: pd.Index) -> pd.Index:
    """``normalize_label`` over many labels at once (vectorised, same result)."""
    text = labels.astype(str).str.lower().str.replace("_", " ", regex=False)
    text = text.str.replace("’", "'", regex=False).str.replace(_DASH.pattern, "-", regex=True)
    return text.str.replace(_SPACE.pattern, " ", regex=True).str.strip(_STRIPPED)


def match_binary(labels: Sequence[str]) -> LevelMap | None:
    """Code yes/no, y/n, true/false, t/f, 1/0 labels (any case) as 0/1, else None."""
    return _match_scale("binary", labels, dense=False)


def match_ordinal(labels: Sequence[str]) -> LevelMap | None:
    """Rank distinct labels that all belong to one known scale, or that are all bands.

    ``labels`` are a column's distinct non-missing labels, most frequent first. Returns
    None unless every label fits, since a half-recognised column has no reliable order.
    """
    if not labels or len(labels) > MAX_LEVELS:
        return None
    for scale in _RANKS:
        if scale != "binary":
            found = _match_scale(scale, labels, dense=True)
            if found is not None:
                return found
    return _match_bands(labels)


def parse_band(label: str) -> Band | None:
    """Read a numeric band as (lower, upper); open ends are -inf/+inf, a number is (x, x).

    Understands "Below 1,000", "1,000 - 4,999", "KES 5,000-9,999", "18 to 24", "65+",
    "Above 10,000", "<100", ">500", "10k-50k", and a unit word such as "years" or "kes".
    """
    text = normalize_label(label)
    found = list(_NUMBER.finditer(text))
    if len(found) == 1:
        value, match = _number(found[0]), found[0]
        rest = f"{text[: match.start()]} {text[match.end() :]}"
        below, above = _BELOW.search(rest) is not None, _ABOVE.search(rest) is not None
        if "-" in rest or (below and above):
            return None
        if below:
            return (-math.inf, value)
        return (value, math.inf) if above else (value, value)
    if len(found) == 2:
        first, second = found
        outside = f"{text[: first.start()]} {text[second.end() :]}"
        between = re.findall(r"-|[a-z]+", text[first.end() : second.start()])
        separators = [token for token in between if token in _SEPARATORS]
        lower, upper = _number(first), _number(second)
        if (
            len(separators) == 1
            and len(between) <= 2
            and lower <= upper
            and "-" not in outside
            and _BELOW.search(outside) is None
            and _ABOVE.search(outside) is None
        ):
            return (lower, upper)
    return None


def _number(match: re.Match[str]) -> float:
    whole, fraction, unit = match.groups()
    value = float(whole.replace(",", "") + (fraction or ""))
    return value * _MULTIPLIERS.get(unit or "", 1.0)


def _match_scale(scale: str, labels: Sequence[str], *, dense: bool) -> LevelMap | None:
    """LevelMap of ``labels`` on ``scale`` if every label is one of its spellings."""
    ranks = _RANKS[scale]
    keys = [normalize_label(label) for label in labels]
    keys = [key if key in ranks else _NUMBERED.sub("", key) for key in keys]
    if not keys or any(key not in ranks for key in keys):
        return None
    used = sorted({ranks[key] for key in keys}) if dense else sorted(set(ranks.values()))
    code_of = {rank: code for code, rank in enumerate(used)}
    shown: dict[int, str] = {}
    for label, key in zip(labels, keys, strict=True):
        shown.setdefault(code_of[ranks[key]], label.strip())
    levels = tuple(shown.get(code, _NAMES[scale][rank]) for code, rank in enumerate(used))
    mapping = {word: code_of[rank] for word, rank in ranks.items() if rank in code_of}
    return LevelMap(scale, levels, mapping)


def _match_bands(labels: Sequence[str]) -> LevelMap | None:
    """LevelMap ordered by lower bound, if every label is a band and not all are numbers."""
    bands = [parse_band(label) for label in labels]
    parsed = [band for band in bands if band is not None]
    if len(parsed) < len(bands) or all(low == high for low, high in parsed):
        return None
    order = sorted(set(parsed))
    code_of = {band: code for code, band in enumerate(order)}
    shown: dict[int, str] = {}
    for label, band in zip(labels, parsed, strict=True):
        shown.setdefault(code_of[band], label.strip())
    keys = {
        normalize_label(label): code_of[band] for label, band in zip(labels, parsed, strict=True)
    }
    return LevelMap("band", tuple(shown[code] for code in range(len(order))), keys, tuple(order))
