"""The labelled complaints for duplicate and cross-level detection, and the pairs they make.

``tune.jsonl`` is for tuning and tests; ``eval.jsonl`` is read only by the make-up test and the
benchmark. Each line is a complaint as the log holds it (text already redacted, with
placeholders): ``id``, ``incident`` (complaints of one incident are duplicates of each other),
``channel``, ``platform``, ``received_by`` (the receiving body), ``unit``, ``category``,
``complainant`` (a label standing for the keyed pseudonym; null: anonymous), ``received_at``.
``directory.json`` holds the unit and body directories the set assumes (the shipped ones plus a
district's units and bodies).

Pairs are taken within a half. A *negative pair* is two complaints of different incidents that
share a signal a matcher looks at: the same or a related unit (one the other's parent), or the
same complainant. Among them, a *near-miss* has the same unit and the same category, and a
*distractor* the same complainant. Every other pair of different incidents shares nothing but
the city and is not counted as a negative (it would only dilute the ratios).

Expected cross-level flags: a complaint received by a municipal body while an earlier
complaint of its incident was received by a district body.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

HERE = Path(__file__).resolve().parent
Half = Literal["tune", "eval"]
LEVEL_RANK = {"district": 0, "municipal": 1}


class Labelled(BaseModel):
    id: str
    incident: str
    channel: str
    platform: str | None
    received_by: str
    unit: str
    category: str
    complainant: str | None
    received_at: str
    text: str

    @property
    def pseudonym(self) -> str | None:
        """A stand-in for the keyed pseudonym (64 hex, as the log holds it)."""
        if self.complainant is None:
            return None
        return hashlib.sha256(f"labelled-set:{self.complainant}".encode()).hexdigest()

    @property
    def at(self) -> datetime:
        return datetime.fromisoformat(self.received_at)


def load(half: Half) -> list[Labelled]:
    lines = (HERE / f"{half}.jsonl").read_text(encoding="utf-8").splitlines()
    return [Labelled.model_validate_json(line) for line in lines if line.strip()]


def directories() -> dict[str, dict[str, list[dict[str, object]]]]:
    """``{"unit_directory": {...}, "body_directory": {...}}`` as configuration content."""
    loaded: dict[str, dict[str, list[dict[str, object]]]] = json.loads(
        (HERE / "directory.json").read_text(encoding="utf-8")
    )
    return loaded


def pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def longest_common_run(a: str, b: str) -> int:
    """Length of the longest run of identical characters the two texts share."""
    best = 0
    prev = [0] * (len(b) + 1)
    for ca in a:
        cur = [0] * (len(b) + 1)
        for j, cb in enumerate(b, 1):
            if ca == cb:
                cur[j] = prev[j - 1] + 1
                if cur[j] > best:
                    best = cur[j]
        prev = cur
    return best


@dataclass
class Pairs:
    items: list[Labelled]

    @cached_property
    def by_id(self) -> dict[str, Labelled]:
        return {c.id: c for c in self.items}

    @cached_property
    def parents(self) -> dict[str, str]:
        units = directories()["unit_directory"]["units"]
        return {str(u["id"]): str(u["parent"]) for u in units if u.get("parent")}

    @cached_property
    def levels(self) -> dict[str, str]:
        bodies = directories()["body_directory"]["bodies"]
        return {str(b["id"]): str(b["level"]) for b in bodies}

    def related(self, a: str, b: str) -> bool:
        return a == b or self.parents.get(a) == b or self.parents.get(b) == a

    @cached_property
    def positive(self) -> set[tuple[str, str]]:
        return {
            pair(a.id, b.id)
            for a, b in itertools.combinations(self.items, 2)
            if a.incident == b.incident
        }

    @cached_property
    def negative(self) -> set[tuple[str, str]]:
        return {
            pair(a.id, b.id)
            for a, b in itertools.combinations(self.items, 2)
            if a.incident != b.incident
            and (
                self.related(a.unit, b.unit)
                or (a.complainant is not None and a.complainant == b.complainant)
            )
        }

    @cached_property
    def near_miss(self) -> set[tuple[str, str]]:
        return {
            p
            for p in self.negative
            if self.by_id[p[0]].unit == self.by_id[p[1]].unit
            and self.by_id[p[0]].category == self.by_id[p[1]].category
        }

    @cached_property
    def distractor(self) -> set[tuple[str, str]]:
        return {
            p
            for p in self.negative
            if self.by_id[p[0]].complainant is not None
            and self.by_id[p[0]].complainant == self.by_id[p[1]].complainant
        }

    @cached_property
    def cross_level(self) -> set[str]:
        """Ids of the complaints a screening should flag as cross-level."""
        flagged: set[str] = set()
        ordered = sorted(self.items, key=lambda c: (c.at, c.id))
        for i, c in enumerate(ordered):
            rank = LEVEL_RANK.get(self.levels.get(c.received_by, ""), -1)
            earlier = (
                LEVEL_RANK.get(self.levels.get(e.received_by, ""), 9)
                for e in ordered[:i]
                if e.incident == c.incident
            )
            if any(r < rank for r in earlier):
                flagged.add(c.id)
        return flagged


@dataclass
class PairScore:
    """Pair-level figures of a matcher's links against the labels."""

    true_links: int
    false_links: int
    missed: int
    near_misses_merged: int
    distractors_merged: int
    cross_level_true: int
    cross_level_false: int
    cross_level_missed: int

    @property
    def precision(self) -> float:
        linked = self.true_links + self.false_links
        return self.true_links / linked if linked else 1.0

    @property
    def recall(self) -> float:
        total = self.true_links + self.missed
        return self.true_links / total if total else 1.0

    @property
    def cross_level_precision(self) -> float:
        n = self.cross_level_true + self.cross_level_false
        return self.cross_level_true / n if n else 1.0

    @property
    def cross_level_recall(self) -> float:
        n = self.cross_level_true + self.cross_level_missed
        return self.cross_level_true / n if n else 1.0


def score(pairs: Pairs, linked: set[tuple[str, str]], flagged: set[str]) -> PairScore:
    """``linked``: every pair the matcher put in one case (the closure of its links);
    ``flagged``: the complaints it flagged as cross-level."""
    return PairScore(
        true_links=len(linked & pairs.positive),
        false_links=len(linked - pairs.positive),
        missed=len(pairs.positive - linked),
        near_misses_merged=len(linked & pairs.near_miss),
        distractors_merged=len(linked & pairs.distractor),
        cross_level_true=len(flagged & pairs.cross_level),
        cross_level_false=len(flagged - pairs.cross_level),
        cross_level_missed=len(pairs.cross_level - flagged),
    )
