"""Who the complaint is about: the respondent unit a complainant names, resolved against the
unit directory in force — never guessed silently.

A name resolves when, after normalisation (NFKC width folding, spaces and punctuation dropped),
it is a unit's id, name or alias, or when exactly one unit is a clear fuzzy match: its best
score (RapidFuzz's ``ratio`` over characters, on the name and each alias, with and without a
leading 市) is at least :data:`FUZZY_AT_LEAST` and at least :data:`FUZZY_MARGIN` above the best
other unit's, for a name of at least :data:`FUZZY_MIN_LENGTH` characters. Anything else is
unresolved: the complaint is received with the placeholder ``unit:unresolved`` and waits in the
clerks' unresolved-unit queue, with the closest candidates.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz

from shared.events.catalog import UnitDirectory, UnitEntry
from shared.rules.case.complaint import UNRESOLVED_UNIT

FUZZY_AT_LEAST = 80.0
FUZZY_MIN_LENGTH = 4  # a shorter name (市局, 城管) matches too many units to be sure of one
FUZZY_MARGIN = 10.0
CANDIDATES = 3

_NOT_NAME = re.compile(r"[\s\W_]+", re.UNICODE)

How = Literal["id", "name", "alias", "fuzzy", "unresolved"]


@dataclass(frozen=True)
class Candidate:
    unit: str
    name: str
    score: int  # 0–100, rounded


@dataclass(frozen=True)
class Resolution:
    """The unit the complaint is received with (a directory id, or the placeholder), how it was
    found, and — when unresolved — the closest candidates for the clerk."""

    unit: str
    how: How
    candidates: tuple[Candidate, ...] = ()

    @property
    def resolved(self) -> bool:
        return self.unit != UNRESOLVED_UNIT


def normalise(name: str) -> str:
    return _NOT_NAME.sub("", unicodedata.normalize("NFKC", name)).lower()


def _forms(entry: UnitEntry) -> list[tuple[str, How]]:
    forms: list[tuple[str, How]] = [(normalise(entry.name), "name")]
    forms += [(normalise(a), "alias") for a in entry.aliases]
    return forms


def _without_city(form: str) -> str:
    return form[1:] if form.startswith("市") and len(form) > 2 else form


def resolve(stated: str, directory: UnitDirectory) -> Resolution:
    """Resolve a stated unit name (or id) against the directory (pure)."""
    wanted = normalise(stated)
    if not wanted:
        return Resolution(UNRESOLVED_UNIT, "unresolved")
    as_id = stated.strip().lower()
    for entry in directory.units:
        if as_id in (entry.id, entry.id.removeprefix("unit:")):
            return Resolution(entry.id, "id")
    for entry in directory.units:
        for form, how in _forms(entry):
            if wanted == form or _without_city(wanted) == _without_city(form):
                return Resolution(entry.id, how)
    scored: list[Candidate] = []
    for entry in directory.units:
        best = max(
            max(fuzz.ratio(wanted, form), fuzz.ratio(_without_city(wanted), _without_city(form)))
            for form, _ in _forms(entry)
        )
        scored.append(Candidate(entry.id, entry.name, round(best)))
    scored.sort(key=lambda c: (-c.score, c.unit))
    top = scored[0]
    runner_up = scored[1].score if len(scored) > 1 else 0
    sure = top.score >= FUZZY_AT_LEAST and top.score - runner_up >= FUZZY_MARGIN
    if sure and len(wanted) >= FUZZY_MIN_LENGTH:
        return Resolution(top.unit, "fuzzy")
    return Resolution(UNRESOLVED_UNIT, "unresolved", tuple(scored[:CANDIDATES]))
