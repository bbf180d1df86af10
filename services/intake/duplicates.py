"""Is a new complaint about an incident the ledger already holds? The matcher, pure.

Texts are compared in their redacted form (placeholders dropped), so any body's deployment can
screen from the log alone. A complaint becomes a :class:`Profile` once, when it is read:

* its text, normalised (NFKC, lower case, letters and digits only);
* a MinHash signature (``datasketch``) of its character bigrams, cut into LSH bands: two
  complaints sharing a band are candidates wherever they were filed (a text re-sent through
  another channel, forwarded by 12345, copied to several bodies);
* its content words as character weights: ``jieba``'s TF-IDF keywords (its shipped IDF table
  of general Chinese), each word's weight spread over its characters. Complainants describe one
  incident in their own words; what they share is its nouns (公积金, 电梯, 烧烤, 井盖), far more
  than any run of characters.

Candidates also come from the unit and the time: complaints about the same or a related unit
(one the other's parent in the unit directory) received within the window. Each candidate is
confirmed by :func:`confirm`, which weighs the signals into one similarity (per mille):

* ``keywords``: cosine of the content-word weights;
* ``fuzz``: ``rapidfuzz``'s indel similarity of the normalised texts (near-copies score high);
* ``unit``: same, related or unrelated unit (unrelated costs a penalty, related a smaller one);
* ``time``: a penalty per day apart;
* ``complainant``: the same keyed pseudonym (the city's intakes share the key) adds a bonus;
* ``category``: the same category adds a bonus.

A candidate at or above the threshold is a match; the best match wins. Every figure is kept
as an integer (per mille, days) so the decision can be written into an event as it was made.
Thresholds and weights were tuned on the labelled set's tune half only
(``tests/data/duplicates``); the benchmark reports the other half.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz.distance import Indel

from shared.events.catalog import BodyDirectory, DuplicateFigures, UnitDirectory
from shared.rules.act import micros

if TYPE_CHECKING:
    import jieba.analyse
    from datasketch import MinHash

# jieba (its dictionaries) and datasketch (SciPy) are imported on first use, by the screening
# worker: every service process loads every service's declaration, and most never screen.

NUM_PERM = 48
BANDS = 8
ROWS = NUM_PERM // BANDS
SEED = 18  # fixed: signatures stored in an index must stay comparable
KEYWORDS = 40
_PLACEHOLDER = re.compile(r"【[^】]{1,12}】")


class Relation(StrEnum):
    same = "same"
    related = "related"  # one unit is the other's parent
    unrelated = "unrelated"


class Thresholds(BaseModel):
    """Weights and threshold of :func:`confirm` (per mille and days: integers, as in events)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = Field("tuned-2026-12", description="recorded in every decision's figures")
    threshold: int = Field(250, description="similarity (‰) at or above which it is a match")
    keywords_weight: int = Field(1000, description="‰ of the content-word cosine counted")
    fuzz_weight: int = Field(600, description="‰ of the rapidfuzz similarity counted")
    related_penalty: int = Field(40, description="‰ off for a related (parent/child) unit")
    unrelated_penalty: int = Field(150, description="‰ off for an unrelated unit")
    per_day_penalty: int = Field(10, description="‰ off per day between the two receipts")
    complainant_bonus: int = Field(120, description="‰ added for the same pseudonym")
    category_bonus: int = Field(40, description="‰ added for the same category")
    window_days: int = Field(30, description="unit-and-time candidates: days before")


@dataclass(frozen=True, slots=True)
class Profile:
    """What the matcher knows of one complaint (all of it from the log)."""

    case: str
    complaint_no: str
    received_by: str
    unit: str
    category: str
    complainant: str | None
    at: int  # µs, the log's append time of the receipt
    text: str  # normalised
    keywords: Mapping[str, int]  # character -> weight (per mille of the text's largest)
    bands: tuple[int, ...] = field(default=(), repr=False)
    channel: str = ""  # how it arrived (for the case page; not a signal)
    # the keywords' Euclidean norm, computed once here rather than in every comparison
    keywords_norm: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        norm = math.sqrt(sum(w * w for w in self.keywords.values()))
        object.__setattr__(self, "keywords_norm", norm)


def normalised(text: str) -> str:
    """The redacted text without placeholders, punctuation or spaces, NFKC, lower case."""
    text = unicodedata.normalize("NFKC", _PLACEHOLDER.sub("", text)).lower()
    return "".join(ch for ch in text if ch.isalnum())


@lru_cache(maxsize=1)
def _tfidf() -> jieba.analyse.TFIDF:
    import jieba
    import jieba.analyse

    jieba.setLogLevel(logging.WARNING)
    return jieba.analyse.TFIDF()


def warm() -> None:
    """Load jieba's dictionary now (about a second) rather than on the first complaint."""
    _tfidf().extract_tags("预热", topK=1)


def keyword_weights(text: str) -> dict[str, int]:
    """The text's content words (jieba TF-IDF), each word's weight spread over its characters,
    scaled so the heaviest character weighs 1000."""
    tags = _tfidf().extract_tags(_PLACEHOLDER.sub("", text), topK=KEYWORDS, withWeight=True)
    chars: dict[str, float] = {}
    for word, weight in tags:
        w = unicodedata.normalize("NFKC", word).lower()
        for ch in w:
            chars[ch] = chars.get(ch, 0.0) + weight / len(w)
    top = max(chars.values(), default=0.0)
    if top <= 0:
        return {}
    return {ch: max(1, round(1000 * v / top)) for ch, v in chars.items()}


@lru_cache(maxsize=1)
def _template() -> MinHash:
    """The permutations, made once (a fresh MinHash draws them again: most of its cost)."""
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=SEED)


def signature(text: str) -> np.ndarray:
    """MinHash (``datasketch``, fixed seed) of the normalised text's character bigrams."""
    grams = {text[i : i + 2] for i in range(max(1, len(text) - 1))} or {""}
    t = _template()
    mh = type(t)(num_perm=NUM_PERM, seed=SEED, permutations=t.permutations, scheme=t.scheme)
    mh.update_batch([g.encode("utf-8") for g in sorted(grams)])
    return mh.hashvalues


def _constants(what: str, n: int) -> np.ndarray:
    """Fixed odd 64-bit multipliers, from BLAKE2b (so they never change with a library)."""
    return np.array(
        [
            int.from_bytes(hashlib.blake2b(f"{what}-{i}".encode(), digest_size=8).digest()) | 1
            for i in range(n)
        ],
        dtype=np.uint64,
    )


_ROW_MULT = _constants("lsh-row", NUM_PERM).reshape(BANDS, ROWS)
_BAND_SALT = _constants("lsh-band", BANDS)


def band_keys_many(signatures: np.ndarray) -> np.ndarray:
    """LSH band keys of many signatures at once: ``(n, NUM_PERM)`` -> ``(n, BANDS)``, each a
    63-bit key (a band's rows hashed with its own multipliers, its number salted in, so two
    bands never share a key)."""
    v = np.asarray(signatures, dtype=np.uint64).reshape(-1, BANDS, ROWS)
    with np.errstate(over="ignore"):
        keys = (v * _ROW_MULT).sum(axis=2, dtype=np.uint64) ^ _BAND_SALT
    return keys >> np.uint64(1)


def band_keys(hashvalues: np.ndarray) -> tuple[int, ...]:
    """One 63-bit key per LSH band of one signature."""
    return tuple(int(k) for k in band_keys_many(hashvalues)[0])


def profile(
    case: str,
    data: Mapping[str, Any],
    at: int,
) -> Profile:
    """The profile of a ``complaint.received`` payload appended at log time ``at`` (µs). Its
    time is the receipt time the receiving body states, when it states one (a complaint
    imported from a body's older register was received then, not when it reached the log)."""
    stated = data.get("stated_received_at")
    if stated:
        at = micros(str(stated))
    text = str(data["text"])
    norm = normalised(text)
    return Profile(
        case=case,
        complaint_no=str(data["complaint_no"]),
        received_by=str(data["received_by"]),
        unit=str(data["unit"]),
        category=str(data["category"]),
        complainant=data.get("complainant"),
        at=at,
        text=norm,
        keywords=keyword_weights(text),
        bands=band_keys(signature(norm)),
        channel=str(data.get("channel", "")),
    )


@dataclass(frozen=True)
class Directory:
    """The parts of the published directories the matcher reads: unit parents, body levels."""

    parents: Mapping[str, str] = field(default_factory=dict)
    levels: Mapping[str, str] = field(default_factory=dict)
    label: str = ""  # the versions read, as decisions record them

    @classmethod
    def of(
        cls, units: UnitDirectory | None, bodies: BodyDirectory | None, label: str = ""
    ) -> Directory:
        parents = {u.id: u.parent for u in units.units if u.parent} if units else {}
        levels = {b.id: b.level.value for b in bodies.bodies} if bodies else {}
        return cls(parents, levels, label)

    def relation(self, a: str, b: str) -> Relation:
        if a == b:
            return Relation.same
        if self.parents.get(a) == b or self.parents.get(b) == a:
            return Relation.related
        return Relation.unrelated

    def related_units(self, unit: str) -> set[str]:
        """The unit, its parent and its children: the units a candidate may be about."""
        out = {unit}
        if unit in self.parents:
            out.add(self.parents[unit])
        out.update(u for u, p in self.parents.items() if p == unit)
        return out

    def level(self, body: str) -> str | None:
        return self.levels.get(body)


def _cosine(a: Profile, b: Profile) -> float:
    """The cosine of two profiles' keyword weights (each norm computed once, with its profile)."""
    if not a.keywords_norm or not b.keywords_norm:
        return 0.0
    ka, kb = a.keywords, b.keywords
    if len(kb) < len(ka):
        ka, kb = kb, ka
    dot = sum(w * kb.get(ch, 0) for ch, w in ka.items())
    return dot / (a.keywords_norm * b.keywords_norm)


def basis(f: DuplicateFigures) -> str:
    """The figures in one line for an event's ``basis`` (zh-CN)."""
    parts = [
        f"相似度 {f.similarity_permille}‰",
        f"内容词 {f.keywords_permille}‰",
        f"文本 {f.fuzz_permille}‰",
        UNIT_WORDS[f.unit_relation],
        f"相隔 {f.days_apart} 天",
    ]
    if f.same_complainant:
        parts.append("同一投诉人")
    return "；".join(parts)


UNIT_WORDS = {"same": "同一被投诉单位", "related": "上下级单位", "unrelated": "不同单位"}


@dataclass(frozen=True, slots=True)
class Weighed:
    """The signals between two complaints, as integers (what :func:`figures` records)."""

    similarity: int
    keywords: int
    fuzz: int
    relation: Relation
    days: int
    same_person: bool
    same_category: bool


def weigh(new: Profile, old: Profile, directory: Directory, t: Thresholds) -> Weighed:
    """Weigh every signal between a new complaint and an earlier one."""
    keywords = round(1000 * _cosine(new, old))
    fuzz = round(1000 * Indel.normalized_similarity(new.text, old.text))
    relation = directory.relation(new.unit, old.unit)
    days = abs(new.at - old.at) // 86_400_000_000
    same_person = new.complainant is not None and new.complainant == old.complainant
    same_category = new.category == old.category
    score = (keywords * t.keywords_weight + fuzz * t.fuzz_weight) // 1000
    score -= days * t.per_day_penalty
    if relation is Relation.related:
        score -= t.related_penalty
    elif relation is Relation.unrelated:
        score -= t.unrelated_penalty
    score += t.complainant_bonus if same_person else 0
    score += t.category_bonus if same_category else 0
    return Weighed(
        max(0, min(1000, score)), keywords, fuzz, relation, days, same_person, same_category
    )


def figures(w: Weighed, old: Profile, t: Thresholds) -> DuplicateFigures:
    """The figures an event records for a match."""
    signals = ["keywords", "fuzz", "time"]
    if w.relation is not Relation.unrelated:
        signals.append("unit")
    if w.same_person:
        signals.append("complainant")
    if w.same_category:
        signals.append("category")
    return DuplicateFigures(
        matched_complaint=old.complaint_no,
        similarity_permille=w.similarity,
        keywords_permille=w.keywords,
        fuzz_permille=w.fuzz,
        unit_relation=w.relation.value,
        days_apart=w.days,
        same_complainant=w.same_person,
        same_category=w.same_category,
        signals=signals,
        thresholds=t.label,
    )


def confirm(new: Profile, old: Profile, directory: Directory, t: Thresholds) -> DuplicateFigures:
    """The figures of one candidate, whether or not it reaches the threshold."""
    return figures(weigh(new, old, directory, t), old, t)


@dataclass(frozen=True)
class Match:
    """The earlier complaint a new one duplicates, and why."""

    other: Profile
    figures: DuplicateFigures


def best_match(
    new: Profile, candidates: Iterable[Profile], directory: Directory, t: Thresholds
) -> Match | None:
    """The best-scoring earlier complaint at or above the threshold, or None. Ties go to the
    earlier receipt (then the smaller case id), so every reader picks the same one."""
    best: tuple[Weighed, Profile] | None = None
    for old in candidates:
        if old.case == new.case:
            continue
        w = weigh(new, old, directory, t)
        if w.similarity < t.threshold:
            continue
        if best is None or (-w.similarity, old.at, old.case) < (
            -best[0].similarity,
            best[1].at,
            best[1].case,
        ):
            best = (w, old)
    return Match(best[1], figures(best[0], best[1], t)) if best else None


def window_micros(t: Thresholds) -> int:
    return t.window_days * 86_400_000_000


def is_candidate(new: Profile, old: Profile, directory: Directory, t: Thresholds) -> bool:
    """What the index looks up: a shared LSH band, or a related unit within the window."""
    if set(new.bands) & set(old.bands):
        return True
    return old.unit in directory.related_units(new.unit) and abs(new.at - old.at) <= window_micros(
        t
    )
