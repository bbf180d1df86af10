"""The same log always folds to the same state digest, whatever else is mixed in, and however
partitions interleave: validity depends only on the event's own stream (and the registry
version it names).

Histories mix honest lifecycles with acts the rule book must refuse: units acting on cases not
theirs or in another unit's name, members giving others' opinions, strangers confirming,
timers early and twice, co-units deemed done, reopens, penalties under the schedule, and
configuration published by its owners and by others — plus stale, replayed, forged and
garbled records.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from shared.events.record import StoredRecord
from shared.ledger.deployments import GENESIS_ACTOR
from shared.ledger.signer import Draft, Signer
from shared.rules.registry import GENESIS_DEPLOYMENT
from shared.rules.verdict import Outcome, Reason
from tests.samples import (
    ANSWER_DUE,
    CO_UNIT,
    DUE,
    HANDLER,
    LATER,
    OFFICER,
    SUPERVISOR,
    MemoryLedger,
    Step,
    draft,
    sign_unchecked,
    step,
)

LEDGER = MemoryLedger(partitions=3)
GENESIS = Signer(GENESIS_DEPLOYMENT, LEDGER.genesis_key)
CASES = [f"case-00000000-0000-4000-8000-00000000000{i}" for i in range(2)]
CONF = "conf-00000000-0000-4000-8000-0000000000aa"
PERIOD = "period-2026-Q4"
REGISTRY = "registry"
STREAMS = [*CASES, CONF, PERIOD, REGISTRY]
CO_HANDLER = f"{CO_UNIT}/H002"
STRANGER = "complainant/" + hashlib.sha256(b"someone else").hexdigest()

NEW_REASONS = [
    Reason.not_assigned,
    Reason.acts_for_other,
    Reason.wrong_actor,
    Reason.not_complainant,
    Reason.unknown_complaint,
    Reason.duplicate_act,
    Reason.too_early,
    Reason.complainant_askable,
    Reason.unscreened,
    Reason.below_schedule,
    Reason.unknown_config,
    Reason.not_owner,
]


def S(t: str, actor: str | None = None, signer: str | None = None, **data):  # type: ignore[no-untyped-def]
    return step(f"ledger.{t}.v1", actor, signer, **data)


ANSWER = S("deadline.elapsed", deadline="answer", unit=None, due_at=ANSWER_DUE)
# An honest lifecycle exercising the per-unit clocks: a co-unit deemed done, a dispute and a
# reopen, the complainant's answer deadline, a confirmation and a score.
CASE_SCRIPT = [
    S("complaint.received"),
    S("complaint.screened"),
    S("dispatch.assigned"),
    S("handling.resolution_claimed"),
    S("deadline.elapsed", unit=CO_UNIT),
    S("dispatch.deemed_done", unit=CO_UNIT),
    S("complainant.disputed"),
    S("handling.reopened"),
    S("handling.resolution_claimed", answer_due_at=ANSWER_DUE),
    S("complainant.confirmed"),
    S("handling.closed"),
    S("complainant.satisfaction_rated"),
]
# Acts drawn at random: valid in some states, refused in others, or refused always.
CASE_ACTS = [
    S("complaint.received", complainant=None),
    S("complaint.screened", method="manual"),
    S("dispatch.assigned"),
    S("dispatch.assigned", due_at=LATER, co_units=[{"unit": CO_UNIT, "due_at": LATER}]),
    S("handling.acknowledged", f"{'unit:housing-bureau'}/H9", unit="unit:housing-bureau"),
    S("handling.replied", CO_HANDLER),  # unit:B as unit:A
    S("handling.progress", SUPERVISOR),  # the body is no unit
    S("handling.resolution_claimed", CO_HANDLER, unit=CO_UNIT),
    S("handling.resolution_claimed"),
    S("handling.extension_requested"),
    S("handling.extension_ruled"),
    S("handling.extension_ruled", HANDLER),  # a unit ruling its own extension
    S("handling.return_requested", CO_HANDLER, unit=CO_UNIT),
    S("dispatch.return_ruled", unit=CO_UNIT, granted=True),
    S("deadline.elapsed"),
    S("deadline.elapsed", unit=CO_UNIT),
    S("deadline.elapsed", due_at=LATER),
    ANSWER,
    S("dispatch.deemed_done"),  # the lead: never
    S("dispatch.deemed_done", unit=CO_UNIT),
    S("complainant.confirmed"),
    S("complainant.confirmed", STRANGER),
    S("complainant.confirmed", complaint_no="XN-NOT-HERE"),
    S("complainant.disputed"),
    S("complainant.satisfaction_rated"),
    S("handling.closed", basis="no_answer_in_time", finding="partly_substantiated"),
    S("handling.closed", basis="anonymous", finding="unsubstantiated"),
    S("handling.reopened"),
    S("supervision.escalated"),
    S("penalty.imposed"),
    S("penalty.imposed", penalty_id="P2", penalty="criticism"),
    S("penalty.imposed", penalty_id="P3", schedule_version="1999.9"),
    S("penalty.revoked"),
    S("complaint.delivered"),
    S("complaint.gathered", source=CASES[0], complaint_no="X2", complainant=STRANGER[12:]),
    S("complaint.link_split", other=CASES[0]),
    S("publication.drafted"),
]
CONF_ACTS = [
    S("conference.convened"),
    S("conference.opinion_given"),
    S("conference.opinion_given", "petitions-office/P001", "petitions", member="petitions-office"),
    S("conference.opinion_given", member="petitions-office"),  # dispatch's officer for them
    S("deadline.elapsed", deadline="opinions", unit=None, due_at=DUE),
    S("conference.decided"),
    S(
        "conference.decided",
        absent_deemed_consent=[],
        tally={"consent": 2, "object": 0, "abstain": 0, "deemed_consent": 0},
    ),
]
PERIOD_ACTS = [
    S("period.figures_published", period="2026-Q4"),
    S("period.figures_published", period="2026-Q4", version=2, replaces=1, reason="更正"),
    S("period.figures_published", period="2026-Q3"),
]
SCHEDULE = {"minimums": {"idle_at_window": ["criticism"]}}
# (signer, actor, kind): owners and others
CONFIG_ACTS = [
    ("oversight", SUPERVISOR, "penalty_schedule"),
    ("dispatch", OFFICER, "routing"),
    ("dispatch", OFFICER, "penalty_schedule"),
    ("oversight", SUPERVISOR, "routing"),
    ("genesis", GENESIS_ACTOR, "time_limits"),
]
ACTS = {**{c: CASE_ACTS for c in CASES}, CONF: CONF_ACTS, PERIOD: PERIOD_ACTS}
SCRIPTS = {**{c: CASE_SCRIPT for c in CASES}, CONF: CONF_ACTS[:3], PERIOD: PERIOD_ACTS[:2]}

KINDS = [*["next"] * 4, *["act"] * 3, "stale", "replay", "nosig", "garbage", "foreign"]
# Cases are where most rules live: they get most of the steps.
STREAM_SLOTS = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 4]
MAX_STEPS = 80

# One step of a random history: (kind, stream slot, a number choosing the act)
steps = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.integers(0, len(STREAM_SLOTS) - 1),
        st.integers(0, 10_000),
    ),
    min_size=1,
    max_size=MAX_STEPS,
)


def _sign(stream: str, act: Step, prev: str | None, n: int) -> tuple[str, bytes]:
    if stream == REGISTRY:
        signer_name, actor, kind = CONFIG_ACTS[n % len(CONFIG_ACTS)]
        signer = GENESIS if signer_name == "genesis" else LEDGER.signers[signer_name]
        content = SCHEDULE if kind == "penalty_schedule" else {"v": n}
        if kind == "routing":
            content = {"entries": [{"code": f"R{n}", "category": "*", "lead": "respondent"}]}
        d = Draft(
            "ledger.registry.config_published.v1",
            {"kind": kind, "version": f"v{n}", "content": content},
            actor,
        )
        s = sign_unchecked(signer, stream, d, prev=prev, regseq=LEDGER.regseq, reghash=None)
        return s.hash, s.record
    writer, d = draft(act.type, **act.data)
    d = Draft(d.type, d.data, act.actor or d.actor)
    s = sign_unchecked(
        LEDGER.signers[act.signer or writer],
        stream,
        d,
        prev=prev,
        regseq=LEDGER.regseq,
        reghash=LEDGER.reghash,
    )
    return s.hash, s.record


def build(history: list[tuple[str, int, int]]) -> list[StoredRecord]:
    """Turn a random history into stored records, valid and invalid mixed."""
    heads: dict[str, str | None] = dict.fromkeys(STREAMS)
    heads[REGISTRY] = LEDGER.reghash
    progress = dict.fromkeys(STREAMS, 0)
    written: dict[str, list[tuple[str, bytes]]] = {s: [] for s in STREAMS}
    pairs: list[tuple[str, bytes]] = []
    fold = LEDGER.fold([])  # the honest writers' read-back, one record at a time
    for kind, slot, n in history:
        stream = STREAMS[STREAM_SLOTS[slot]]
        if stream == REGISTRY:
            act = S("registry.config_published")
        elif kind == "next":
            script = SCRIPTS[stream]
            act = script[progress[stream] % len(script)]
        else:
            act = ACTS[stream][n % len(ACTS[stream])]
        if kind == "replay" and written[stream]:
            pairs.append((stream, written[stream][n % len(written[stream])][1]))
            fold.apply(LEDGER.place(pairs)[-1])
            continue
        prev = heads[stream]
        if kind == "stale" and written[stream]:
            prev = written[stream][n % len(written[stream])][0]
        if kind == "foreign" and stream != REGISTRY:  # signed by a deployment that lacks the right
            writer = act.signer or draft(act.type)[0]
            act = act._replace(signer="publication" if writer != "publication" else "intake")
            act = act._replace(actor="efficiency-office/X1")
        h, record = _sign(stream, act, prev, n)
        if kind == "nosig":
            record = record.replace(b'"time":"', b'"time":"1')
        elif kind == "garbage":
            record = b"{not json" + record[:10]
        pairs.append((stream, record))
        fold.apply(LEDGER.place(pairs)[-1])
        if kind in ("nosig", "garbage"):
            continue
        written[stream].append((h, record))
        # An honest writer reads back and learns whether it was accepted: keep its head.
        if fold.streams[stream].head == h:
            heads[stream] = h
            progress[stream] += kind == "next"
    return LEDGER.place(pairs)


def interleave(records: list[StoredRecord], seed: int) -> list[StoredRecord]:
    """Another order that keeps each partition's order (partitions advance at their own pace)."""
    rng = random.Random(seed)
    queues = {p: [r for r in records if r.partition == p] for p in {r.partition for r in records}}
    out = []
    while queues:
        p = rng.choice(sorted(queues))
        out.append(queues[p].pop(0))
        if not queues[p]:
            del queues[p]
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps, st.integers(0, 2**32))
def test_same_log_same_digest_whatever_the_interleaving(history, seed) -> None:
    records = build(history)
    first = LEDGER.fold(records)
    again = LEDGER.fold(records)
    other = LEDGER.fold(interleave(records, seed))
    assert first.state_digest() == again.state_digest() == other.state_digest()
    verdicts = {(j.partition, j.offset): j.verdict for j in first.rejections}
    assert verdicts == {(j.partition, j.offset): j.verdict for j in other.rejections}
    for reason in {j.verdict.reason for j in first.rejections}:
        event(f"reason: {reason}")
    # Garbage and broken signatures are always tampering, never accepted.
    assert first.counts[Outcome.tamper] >= sum(
        1 for k, _, _ in history if k in ("nosig", "garbage")
    )


def test_a_different_state_has_a_different_digest() -> None:
    """The digest reads the state: one more accepted act changes it, a refused one does not."""
    history = [("next", 0, 0), ("next", 0, 0), ("next", 0, 0)]
    base = LEDGER.fold(build(history)).state_digest()
    assert LEDGER.fold(build([*history, ("next", 0, 0)])).state_digest() != base
    refused = ("act", 0, CASE_ACTS.index(S("handling.progress", SUPERVISOR)))
    longer = LEDGER.fold(build([*history, refused]))
    assert longer.counts[Outcome.conflict] == 1
    assert longer.state_digest() != base  # the refused record is remembered (seen hashes)...
    case = longer.streams[CASES[0]]
    assert case.domain == LEDGER.fold(build(history)).streams[CASES[0]].domain  # ...not applied


def _random_history(rng: random.Random) -> list[tuple[str, int, int]]:
    return [
        (rng.choice(KINDS), rng.randrange(len(STREAM_SLOTS)), rng.randrange(10_001))
        for _ in range(rng.randint(1, MAX_STEPS))
    ]


def test_every_new_reason_occurs_in_at_least_one_percent_of_histories() -> None:
    """The generator reaches every new rule: each new reason in ≥ 1% of histories (reported)."""
    rng = random.Random(20261201)
    histories = 200
    seen: Counter[Reason] = Counter()
    for _ in range(histories):
        fold = LEDGER.fold(build(_random_history(rng)))
        seen.update({j.verdict.reason for j in fold.rejections})
    report = {r.value: f"{100 * seen[r] / histories:.1f}%" for r in NEW_REASONS}
    print("share of histories with each new reason:", report)
    assert all(seen[r] >= histories / 100 for r in NEW_REASONS), report


@settings(max_examples=30, deadline=None)
@given(steps)
def test_precomputed_signature_checks_fold_the_same(history) -> None:
    """The parallel verifier passes signature results in; the verdicts must not change."""
    from shared.rules.registry import KeyEntry
    from shared.rules.stream import Parsed, check_signature, parse, resolve_key

    records = build(history)
    inline = LEDGER.fold(records)
    fold = LEDGER.fold([])
    for rec in records:
        parsed = parse(rec.record, hashlib.sha256(rec.record).hexdigest())
        ok = False
        if isinstance(parsed, Parsed):
            key = resolve_key(parsed, fold.registry)
            ok = isinstance(key, KeyEntry) and check_signature(parsed, key)
        fold.apply(rec, signature_ok=ok)
    assert fold.state_digest() == inline.state_digest()
    assert [j.verdict for j in fold.rejections] == [j.verdict for j in inline.rejections]
