"""Marketing recommendations for segments from a rules table users can replace.

The default rules are package data (``data/recommendations.csv``); ``load_rules`` reads a
user's file and is the only function here that touches files. The format is described in
``docs/recommendations.md``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal, NamedTuple

from segwise.errors import InputError
from segwise.segment.naming import RFM_GRID, STRONG, feature_keys, normalise_feature
from segwise.segment.profile import SegmentProfile

GENERIC = (
    "General advice (no rule fits this segment): keep in touch with regular, relevant offers "
    "and measure the response."
)
Domain = Literal["shop", "finance", "subscription", "survey", "general"]
DOMAINS: tuple[Domain, ...] = ("shop", "finance", "subscription", "survey", "general")
#: Pieces of normalised column names that say what kind of data a table is.
DOMAIN_WORDS: dict[Domain, tuple[str, ...]] = {
    "shop": ("purchase", "order", "basket", "cart", "product", "recency", "frequency",
             "monetary", "mnt", "spend", "spent", "visit", "store", "web", "catalog",
             "discount", "coupon", "deliver", "sales", "items", "quantity"),
    "finance": ("income", "salary", "credit", "card", "loan", "saving", "deposit", "balance",
                "debt", "mortgage", "shares", "dividend", "interest", "overdraft", "wealth"),
    "subscription": ("tenure", "contract", "charge", "churn", "plan", "subscri", "internet",
                     "phone", "streaming", "minutes", "calls", "billing", "roaming", "vmail",
                     "voicemail", "renewal"),
    "survey": ("satisf", "recommend", "agree", "rating", "likely", "survey", "question",
               "opinion", "experience", "nps", "importance"),
}  # fmt: skip


class Condition(NamedTuple):
    """A feature (first present of the alternatives) sitting high or low against everyone."""

    features: tuple[str, ...]
    direction: Literal["high", "low"]


@dataclass(frozen=True)
class Rule:
    """One row of a rules file: a segment name, ``*`` or conditions, and the advice."""

    match: str
    recommendation: str
    segment: str | None
    conditions: tuple[Condition, ...]
    row: int
    domain: Domain | Literal["any"] = "any"


@dataclass(frozen=True)
class RecommendationRules:
    """Rules in file order; the first rule that matches a segment gives its recommendation."""

    rules: tuple[Rule, ...]
    source: str


def recommend(
    profiles: list[SegmentProfile],
    names: list[str],
    *,
    rules: RecommendationRules | None = None,
    domain: Domain | None = None,
) -> list[str]:
    """A marketing recommendation per segment: the first matching rule of the data's domain
    (or of any domain), else a generic one. ``domain`` None: read from the profiles' columns."""
    if len(profiles) != len(names):
        raise ValueError(f"need one name per profile: {len(profiles)} profiles, {len(names)} names")
    table = rules if rules is not None else default_rules()
    if domain is None:
        domain = detect_domain(list(dict.fromkeys(f for p in profiles for f in p.z)))
    out = []
    for profile, name in zip(profiles, names, strict=True):
        rule = next(
            (r for r in table.rules if r.domain in ("any", domain) and _matches(r, profile, name)),
            None,
        )
        out.append(rule.recommendation if rule is not None else GENERIC)
    return out


def detect_domain(columns: Sequence[str], *, transactions: bool = False) -> Domain:
    """What kind of data the columns are: shop transactions, financial products, a
    subscription or telecom service, survey answers, or ``general`` when unclear.

    A transaction log is a shop. Otherwise each domain counts the columns whose normalised
    name holds one of its ``DOMAIN_WORDS``; the domain with the most wins when it has two or
    more, or one while no other has any.
    """
    if transactions:
        return "shop"
    keys = {normalise_feature(c.split("=", 1)[0]) for c in columns}
    counts = {
        domain: sum(any(word in key for word in words) for key in keys)
        for domain, words in DOMAIN_WORDS.items()
    }
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    (best, top), (_, second) = ranked[0], ranked[1]
    if top > second and (top >= 2 or (top == 1 and second == 0)):
        return best
    return "general"


def _matches(rule: Rule, profile: SegmentProfile, name: str) -> bool:
    if rule.segment is not None:
        lowered = name.lower()
        target = rule.segment.lower()
        return target == "*" or lowered == target or lowered.startswith(target + " ")
    keys = feature_keys(profile)
    for condition in rule.conditions:
        feature = next((keys[f] for f in condition.features if f in keys), None)
        if feature is None:
            return False
        z = profile.z[feature]
        if not (z >= STRONG if condition.direction == "high" else z <= -STRONG):
            return False
    return True


def default_rules() -> RecommendationRules:
    """The rules shipped with segwise (``segwise/data/recommendations.csv``)."""
    text = resources.files("segwise").joinpath("data/recommendations.csv").read_text("utf-8")
    return parse_rules(text, source="segwise/data/recommendations.csv")


def load_rules(path: str | Path) -> RecommendationRules:
    """Read a user's rules CSV, replacing the defaults; raise ``InputError`` naming the row.

    Format (UTF-8 CSV, header ``match,recommendation``; other columns are ignored):

    - ``match`` is one of: an RFM segment name (``Champions``, ``At Risk``, ... any case),
      matching segments with that name or a qualified one ("Champions (higher spend)");
      ``*``, matching every segment; or conditions ``feature:high`` / ``feature:low``
      joined by ``&``, true when the segment's z-score is >= 0.25 / <= -0.25. A feature may
      list alternatives, ``expenditure|spend:high``: the first one present in the run is used.
      Feature names ignore case, spaces, underscores and a trailing ``(...)``.
    - ``recommendation`` is the advice text.
    - ``domain`` (optional) is the kind of data the rule is for: ``shop``, ``finance``,
      ``subscription``, ``survey`` or ``general``; blank or ``any``: every kind.
    - Rows are tried top to bottom; the first match wins. A row whose match starts with ``#``
      is a comment. Segments no rule matches get a generic recommendation.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(
            f"cannot read the rules file: {error.__class__.__name__}",
            file=path,
            hint="pass a UTF-8 CSV with columns match,recommendation",
        ) from error
    return parse_rules(text, source=str(path))


def parse_rules(text: str, *, source: str) -> RecommendationRules:
    """Parse rules CSV text (see ``load_rules`` for the format); pure, for tests and defaults."""
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    for column in ("match", "recommendation"):
        if column not in header:
            raise InputError(
                f"rules file has no '{column}' column",
                file=source,
                column=column,
                hint="the header must name the columns match,recommendation",
            )
    at_match, at_text = header.index("match"), header.index("recommendation")
    at_domain = header.index("domain") if "domain" in header else None
    rules = []
    for row, fields in enumerate(reader, start=1):
        cells = [c.strip() for c in fields] + [""] * len(header)
        match, advice = cells[at_match], cells[at_text]
        if not any(cells) or match.startswith("#"):
            continue
        if not match:
            hint = "write a segment name, * or a condition like income:high"
            raise InputError("empty match", file=source, row=row, column="match", hint=hint)
        if not advice:
            raise InputError("empty recommendation", file=source, row=row, column="recommendation")
        segment, conditions = _parse_match(match, source, row)
        domain = _parse_domain(cells[at_domain] if at_domain is not None else "", source, row)
        rules.append(Rule(match, advice, segment, conditions, row, domain))
    if not rules:
        raise InputError("rules file has no rules", file=source, hint="add at least a '*' row")
    return RecommendationRules(tuple(rules), source)


def _parse_domain(text: str, source: str, row: int) -> Domain | Literal["any"]:
    """A rule's domain: blank or ``any`` for every kind of data, else one of ``DOMAINS``."""
    word = text.strip().lower() or "any"
    if word == "any":
        return "any"
    for known in DOMAINS:
        if word == known:
            return known
    raise InputError(
        f"unknown domain '{text}'",
        file=source,
        row=row,
        column="domain",
        hint=f"use any (or leave it blank), {', '.join(DOMAINS)}",
    )


def _parse_match(match: str, source: str, row: int) -> tuple[str | None, tuple[Condition, ...]]:
    """A segment name (or ``*``) or a tuple of conditions, else an InputError for the row."""
    if ":" not in match:
        names = {n.lower(): n for n in RFM_GRID} | {"*": "*"}
        if match.lower() not in names:
            raise InputError(
                f"unknown segment name '{match}'",
                file=source,
                row=row,
                column="match",
                hint=f"use one of {', '.join(RFM_GRID)}, '*', or conditions like income:high",
            )
        return names[match.lower()], ()
    conditions = []
    for part in match.split("&"):
        features, _, direction = part.strip().rpartition(":")
        keys = tuple(normalise_feature(f) for f in features.split("|"))
        direction = direction.strip().lower()
        if direction not in ("high", "low") or not all(keys):
            raise InputError(
                f"bad condition '{part.strip()}'",
                file=source,
                row=row,
                column="match",
                hint="write feature:high or feature:low, joined by &, e.g. income:low&spend:high",
            )
        conditions.append(Condition(keys, "high" if direction == "high" else "low"))
    return None, tuple(conditions)
