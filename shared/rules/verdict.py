"""What every reader alike concludes about one event at its place in its stream.

Verdicts are derived, never written back to the log. A rejection is either a normal conflict
(the writer re-decides and retries; ``ledger verify`` lists it) or evidence of tampering
(``ledger verify`` exits non-zero naming it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    accepted = "accepted"
    conflict = "conflict"
    tamper = "tamper"


class Reason(StrEnum):
    ok = "ok"
    # normal outcomes: listed, not alarms
    stale_prev = "stale_prev"  # prev names a superseded event of the stream
    replayed_id = "replayed_id"  # a byte-identical retry or an old event re-appended
    no_right = "no_right"  # the deployment lacks the right to write this type
    wrong_state = "wrong_state"  # not allowed in the stream's current state
    stale_registry = "stale_registry"  # names a registry version older than the stream's
    invalid_data = "invalid_data"  # payload fails its schema
    unknown_type = "unknown_type"
    wrong_stream = "wrong_stream"  # type does not belong in this kind of stream
    # who acted, and when (the rule book sees the actor, the signing deployment, the log time)
    not_assigned = "not_assigned"  # a unit acting on a case it is not (or no longer) on
    acts_for_other = "acts_for_other"  # unit:A acting as unit:B; a member for another member
    wrong_actor = "wrong_actor"  # the act is not this kind of actor's (a unit ruling its own)
    not_complainant = "not_complainant"  # confirmed, disputed or rated by anyone else
    unknown_complaint = "unknown_complaint"  # names a complaint number not on the case
    duplicate_act = "duplicate_act"  # a second score for a complaint; a second timer
    too_early = "too_early"  # a timer before its due time; a decision before the deadline
    complainant_askable = "complainant_askable"  # closed without a complainant who can answer
    unscreened = "unscreened"  # assigned before intake screened the complaint
    below_schedule = "below_schedule"  # a penalty under the schedule's minimum, no reason
    unknown_config = "unknown_config"  # names a schedule version or offence not in force
    not_owner = "not_owner"  # configuration published by a deployment that does not own it
    # tampering: verify fails
    malformed = "malformed"
    bad_signature = "bad_signature"
    unknown_key = "unknown_key"  # no such key at the named registry version (or revoked)
    foreign_key = "foreign_key"  # the key is not the actor's deployment's
    unknown_prev = "unknown_prev"  # prev names a hash that does not exist in the stream
    unknown_registry_version = "unknown_registry_version"
    wrong_partition = "wrong_partition"


TAMPER_REASONS = frozenset(
    {
        Reason.malformed,
        Reason.bad_signature,
        Reason.unknown_key,
        Reason.foreign_key,
        Reason.unknown_prev,
        Reason.unknown_registry_version,
        Reason.wrong_partition,
    }
)


@dataclass(frozen=True, slots=True)
class Verdict:
    reason: Reason
    detail: str = ""

    @property
    def outcome(self) -> Outcome:
        if self.reason is Reason.ok:
            return Outcome.accepted
        return Outcome.tamper if self.reason in TAMPER_REASONS else Outcome.conflict

    @property
    def accepted(self) -> bool:
        return self.reason is Reason.ok


ACCEPTED = Verdict(Reason.ok)


def reject(reason: Reason, detail: str = "") -> Verdict:
    return Verdict(reason, detail)
