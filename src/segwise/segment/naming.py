"""Human names for segments, from their profiles.

Names come from what sets a segment apart: the familiar RFM names for recency/frequency/
monetary runs, level words plus readable feature labels for customer tables.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

from segwise.features.rfm import DEFAULT_CELLS
from segwise.segment import DataKind
from segwise.segment.profile import SegmentProfile

__all__ = ["RFM_GRID", "feature_keys", "name_segments", "normalise_feature"]


#: The standard RFM grid (DESIGN.md): name -> (R, FM) cells, in the canonical order.
RFM_GRID: dict[str, tuple[tuple[int, int], ...]] = {
    name: tuple((int(cell[0]), int(cell[1])) for cell in cells)
    for name, cells in DEFAULT_CELLS.items()
}
_RFM = ("recency", "frequency", "monetary")
STRONG = 0.25  # |z| from which a feature is "high"/"low" (names and rule conditions)
VERY = 1.0  # |z| from which it is "very high"/"very low"
MAX_PHRASES = 3  # feature phrases in a customer-table name before disambiguation
MAX_NAME = 40  # characters of a customer-table name before disambiguation
TOLERANCE = 0.5  # grid steps a clashing RFM segment may move to the next-best free name
MIX_WEIGHT = 1.0  # grid steps one whole cluster of a named RFM segment is worth


class _Term(NamedTuple):
    """How to say a feature: label, level words, comparatives and the 'very' word."""

    label: str
    high: str
    low: str
    up: str
    down: str
    very: str = "very"


def _level(label: str) -> _Term:
    return _Term(label, "high", "low", "higher", "lower")


def _count(label: str) -> _Term:
    return _Term(label, "many", "few", "more", "fewer")


def _binary(present: str, absent: str) -> _Term:
    return _Term("", present, absent, f"more {present}", f"fewer {present}", "")


# Words for common columns, one meaning a line: normalised names, then "label | level",
# "label | count" or "label | high, low, higher, lower, very-word" (numbers), or
# "present, absent" (0/1 columns). Anything else is humanised from the column name.
_NUMERIC_WORDS = """
income annualincome salary earnings: income | level
expenditure spend spending spendingscore monetary totalspend amount sales revenue: spend | level
creditlimit: credit limit | level
creditscore: credit score | level
tenure months monthsascustomer customerfor: tenure | long, short, longer, shorter, very
age: | older, younger, older, younger, much
recency: | lapsed, recent buyers, less recent, more recent, long
frequency: buyers | frequent, infrequent, more frequent, less frequent, very
kidhome: kids at home | count
teenhome: teens at home | count
dependents: dependents | count
children kids: children | count
reports: reports | count
purchases orders transactions: purchases | count
visits: visits | count
complaints: complaints | count
active: active accounts | count
"""
_BINARY_WORDS = """
owner homeowner ownhome houseowner: homeowners, renters
selfemp selfemployed: self-employed, not self-employed
card hascard hascrcard: card holders, no card
majorcards: major card holders, no major card
married: married, single
male: men, women
female: women, men
student: students, non-students
churn churned exited attrition: churned, retained
active isactive isactivemember: active, inactive
default: in default, not in default
urban: urban, rural
subscribed subscriber newsletter: subscribers, non-subscribers
complain complained: complainers, no complaints
response responded: responders, non-responders
parent haschildren: parents, no children
mortgage hasmortgage: with mortgage, no mortgage
loan hasloan personalloan: with loan, no loan
senior seniorcitizen: seniors, non-seniors
online: online shoppers, offline shoppers
"""
_PREFIXES = {"num": "count", "n": "count", "nb": "count", "count": "count", "mnt": "spend on",
             "amt": "amount of", "avg": "average", "pct": "share of"}  # fmt: skip


def _parse_words(table: str, *, binary: bool) -> dict[str, _Term]:
    """Read a words table above into normalised name -> term."""
    terms: dict[str, _Term] = {}
    for line in filter(None, map(str.strip, table.splitlines())):
        keys, _, spec = line.partition(":")
        if binary:
            present, absent = (w.strip() for w in spec.split(","))
            term = _binary(present, absent)
        else:
            label, _, style = (part.strip() for part in spec.partition("|"))
            if style in ("level", "count"):
                term = _level(label) if style == "level" else _count(label)
            else:
                high, low, up, down, very = (w.strip() for w in style.split(","))
                term = _Term(label, high, low, up, down, very)
        terms.update(dict.fromkeys(keys.split(), term))
    return terms


_NUMERIC = _parse_words(_NUMERIC_WORDS, binary=False)
_BINARY = _parse_words(_BINARY_WORDS, binary=True)


def name_segments(profiles: list[SegmentProfile], *, kind: DataKind) -> list[str]:
    """A short, unique, deterministic human name per profile, in the same order.

    RFM-like profiles (recency, frequency and monetary present, and either a transaction
    run or nothing else) get the familiar RFM names; customer tables get level words and
    feature labels, e.g. "High income, high spend, homeowners".
    """
    if kind not in ("transactions", "customers"):
        raise ValueError(f"kind must be 'transactions' or 'customers', got {kind!r}")
    if not profiles:
        return []
    keys = feature_keys(profiles[0])
    if all(f in keys for f in _RFM) and (kind == "transactions" or len(keys) == len(_RFM)):
        return _rfm_names(profiles, keys)
    return _customer_names(profiles)


def feature_keys(profile: SegmentProfile) -> dict[str, str]:
    """Normalised feature key -> feature name (first wins)."""
    keys: dict[str, str] = {}
    for feature in profile.z:
        keys.setdefault(normalise_feature(feature), feature)
    return keys


def normalise_feature(name: str) -> str:
    """'Spending Score (1-100)' -> 'spendingscore': lower case letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", re.sub(r"\(.*?\)", "", name).lower())


# --- RFM runs ---------------------------------------------------------------------------------


def _rfm_names(profiles: list[SegmentProfile], keys: dict[str, str]) -> list[str]:
    """Nearest grid name from the segment's R and FM scores (nudged by rfm_mix), made unique.

    Segments are served most-confident first; a segment whose best name is taken moves to the
    next-best free name if it fits within ``TOLERANCE`` grid steps, else it keeps the name and
    the clash is settled by qualifiers such as "(higher spend)".
    """
    costs = []
    for p in profiles:
        r, f, m = (_score(p, keys[feature], better_low=feature == "recency") for feature in _RFM)
        mix = p.rfm_mix or {}
        costs.append(
            {
                name: min(math.hypot(r - cr, (f + m) / 2 - cfm) for cr, cfm in cells)
                - MIX_WEIGHT * mix.get(name, 0.0)
                for name, cells in RFM_GRID.items()
            }
        )
    order = sorted(range(len(profiles)), key=lambda i: (min(costs[i].values()), i))
    names = [""] * len(profiles)
    taken: set[str] = set()
    for i in order:
        ranked = sorted(RFM_GRID, key=costs[i].__getitem__)  # stable: canonical order on ties
        limit = costs[i][ranked[0]] + TOLERANCE
        pick = next((n for n in ranked if n not in taken and costs[i][n] <= limit), ranked[0])
        taken.add(pick)
        names[i] = pick
    return _disambiguate(names, profiles, [keys[f] for f in _RFM])


def _score(profile: SegmentProfile, feature: str, *, better_low: bool) -> float:
    """Continuous RFM score 1..5 of the segment median; rounds to the DESIGN.md score."""
    if feature in profile.position:
        below, above = profile.position[feature]
        worse = above if better_low else below
    else:  # a hand-made profile: assume a normal shape
        z = -profile.z.get(feature, 0.0) if better_low else profile.z.get(feature, 0.0)
        worse = 0.5 * (1 + math.erf(z / math.sqrt(2)))
    return min(5.0, max(1.0, 0.5 + 5 * worse))


# --- customer tables -------------------------------------------------------------------------


def _customer_names(profiles: list[SegmentProfile]) -> list[str]:
    """Phrases for the strongest features (at least one), then qualifiers for look-alikes."""
    names = []
    for profile in profiles:
        phrases = _phrases(profile)[:MAX_PHRASES]
        strong = [text for z, text in phrases if abs(z) >= STRONG] or [phrases[0][1]]
        names.append(_short(strong))
    return _disambiguate(names, profiles, list(profiles[0].z))


def _short(phrases: list[str]) -> str:
    """Phrases joined, at most ``MAX_NAME`` characters: "very" and "much" go first (after the
    first phrase), then phrases from the end; the first phrase is always kept."""
    plain = [phrases[0], *(re.sub(r"^(?:very|much) ", "", p) for p in phrases[1:])]
    for count in range(len(phrases), 0, -1):
        for chosen in (phrases[:count], plain[:count]):
            name = ", ".join(chosen)
            if len(name) <= MAX_NAME or count == 1:
                return name[:1].upper() + name[1:]
    return phrases[0]


def _phrases(profile: SegmentProfile) -> list[tuple[float, str]]:
    """(z, phrase) by |z|, largest first, one per source column and per wording (the one-hot
    answers "internet service No" and "online security No internet service" both say "no
    internet service": once); "fewer <category>" last."""
    seen: set[str] = set()
    said: set[str] = set()
    out: list[tuple[float, str]] = []
    fewer: list[tuple[float, str]] = []
    for feature, z in sorted(profile.z.items(), key=lambda item: -abs(item[1])):
        column = feature.split("=", 1)[0] if feature in profile.binary else feature
        if column in seen or z == 0:
            continue
        seen.add(column)
        phrase = _phrase(profile, feature, z)
        if phrase in said:
            continue
        said.add(phrase)
        is_category = "=" in feature and feature in profile.binary
        (fewer if is_category and z < 0 else out).append((z, phrase))
    return out + fewer or [(0.0, "average customers")]


def _phrase(profile: SegmentProfile, feature: str, z: float) -> str:
    """'very high income', 'homeowners', 'fewer self-employed', 'mostly region north'."""
    term = _term(feature, is_binary=feature in profile.binary)
    share = profile.mean.get(feature, math.nan)
    if feature in profile.binary:
        if "=" in feature and z > 0 and share >= 0.5:
            return term.high
        if "=" not in feature and (share >= 0.5 if z > 0 else share <= 0.5):
            return term.high if z > 0 else term.low
        return term.up if z > 0 else term.down
    if abs(z) < STRONG:
        word = f"slightly {term.up if z > 0 else term.down}"
    else:
        word = term.high if z > 0 else term.low
        word = f"{term.very} {word}" if abs(z) >= VERY and term.very else word
    return f"{word} {term.label}".strip()


def _term(feature: str, *, is_binary: bool) -> _Term:
    """Dictionary words for common columns, else words made from the column name."""
    if is_binary and "=" in feature:
        return _answer(*feature.split("=", 1))
    known = (_BINARY if is_binary else _NUMERIC).get(normalise_feature(feature))
    if known is not None:
        return known
    words = _humanise(feature)
    if is_binary:
        for prefix, present in (("is ", ""), ("has ", "with ")):
            if words.startswith(prefix):
                rest = words[len(prefix) :]
                return _binary(
                    f"{present}{rest}", f"not {rest}" if not present else f"without {rest}"
                )
        return _binary(f"with {words}", f"no {words}")
    head, _, rest = words.partition(" ")
    style = _PREFIXES.get(head)
    if style == "count" and rest:
        return _count(rest)
    if style is not None and rest:
        return _level(f"{style} {rest}")
    return _level(words)


def _answer(column: str, value: str) -> _Term:
    """Words for one answer of a category column, as a trait: "no internet service" (from
    ``internet_service=No`` and from ``online_security=No internet service``), "with online
    security" (``=Yes``), "month-to-month contract", "region north"."""
    topic = _humanise(column)
    said = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in value.split())
    if said.lower() in _NO_WORDS:
        have, lack = f"no {topic}", f"with {topic}"
    elif said.lower() in _YES_WORDS:
        have, lack = f"with {topic}", f"no {topic}"
    elif said.lower().startswith(("no ", "without ")):
        have, lack = said, f"with {said.split(' ', 1)[1]}"
    elif _humanise(value).startswith(f"{topic} "):  # area_code=area_code_415
        have = _humanise(value)
        lack = f"not {have}"
    else:
        words = said.lower().split()
        short = len(words) <= 3 and not set(words) & set(topic.split())
        have = f"{said} {topic}" if short else f"{topic} {said}"
        lack = f"not {have}"
    return _Term("", have, lack, f"more {have}", f"fewer {have}", "")


_NO_WORDS = frozenset({"no", "n", "none", "false", "f", "never", "0"})
_YES_WORDS = frozenset({"yes", "y", "true", "t", "1"})


def _humanise(name: str) -> str:
    """'NumWebPurchases' -> 'num web purchases'; 'self_emp' -> 'self emp'."""
    name = re.sub(r"\(.*?\)", "", name)
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name)
    return " ".join(re.sub(r"[^0-9A-Za-z]+", " ", name).lower().split()) or name


# --- uniqueness -------------------------------------------------------------------------------


def _clashes(names: list[str]) -> list[list[int]]:
    """Groups of positions that share a name, in order of first appearance."""
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        groups.setdefault(name, []).append(i)
    return [g for g in groups.values() if len(g) > 1]


def _disambiguate(
    names: list[str], profiles: list[SegmentProfile], features: list[str]
) -> list[str]:
    """Settle clashes with qualifiers from where members differ most, then with numbers.

    In each clash the feature with the largest z spread among the members (not used yet for
    that name) qualifies its highest member "(higher spend)" and its lowest "(lower spend)".
    """
    qualifiers: list[list[str]] = [[] for _ in names]
    used: dict[str, set[str]] = {}
    full = list(names)
    progress = True
    while progress:
        progress = False
        for group in _clashes(full):
            spent = used.setdefault(full[group[0]], set())
            spreads = [
                (max(zs) - min(zs), f)
                for f in features
                if f not in spent
                for zs in [[profiles[i].z.get(f, 0.0) for i in group]]
            ]
            spread, feature = max(spreads, default=(0.0, ""), key=lambda s: s[0])
            if spread <= 0:
                continue
            spent.add(feature)
            ranked = sorted(group, key=lambda i: (profiles[i].z.get(feature, 0.0), i))
            term = _term(feature, is_binary=feature in profiles[ranked[0]].binary)
            for i, word in ((ranked[-1], term.up), (ranked[0], term.down)):
                qualifiers[i].append(f"{word} {term.label}".strip())
                full[i] = f"{names[i]} ({', '.join(qualifiers[i])})"
            progress = True
    seen: set[str] = set()
    for i, name in enumerate(full):  # identical profiles: number them
        rank = 1
        while full[i] in seen:
            rank += 1
            full[i] = f"{name} ({rank})"
        seen.add(full[i])
    return full
