"""A valid payload for every event type, and helpers to write realistic case histories."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, NamedTuple

from shared.events.record import StoredRecord
from shared.ledger import keystore
from shared.ledger.deployments import DeploymentSpec, spec
from shared.ledger.signer import Draft, Signed, Signer
from shared.rules.fold import LedgerFold
from shared.settings import LedgerSettings

H = hashlib.sha256(b"sample").hexdigest()  # also the sample complainant's pseudonym
CASE = "case-00000000-0000-4000-8000-000000000001"
# Due times lie before every log time the tests see (in-memory logs stamp 2026-09-21, real
# logs the wall clock), so a timer for them is on time; LATER is after all of them.
DUE = "2026-09-01T18:00:00+08:00"
ANSWER_DUE = "2026-09-10T18:00:00+08:00"
LATER = "2099-01-01T00:00:00+08:00"
UNIT = "unit:health-bureau"
CO_UNIT = "unit:civil-affairs"
CLERK = "efficiency-office/S001"
OFFICER = "efficiency-office/D001"
SUPERVISOR = "efficiency-office/V001"
TIMER = "efficiency-office/timer"
HANDLER = f"{UNIT}/H001"
COMPLAINANT = f"complainant/{H}"
SCHEDULE_VERSION = "2026.1"
PENALTY_SCHEDULE = {
    "minimums": {"idle_at_window": ["criticism", "admonishment_talk", "public_criticism"]}
}

SAMPLES: dict[str, dict[str, Any]] = {
    "ledger.complaint.received.v1": {
        "complaint_no": "XN2026-000001",
        "channel": "web_form",
        "complainant": H,
        "received_by": "efficiency-office",
        "unit": UNIT,
        "category": "服务态度",
        "text": "[姓名1]在窗口上班时间玩手机，群众排队无人办理。",
        "attachments": [{"sha256": H, "media_type": "image/jpeg", "redacted": True}],
        "tracking_code_hash": H,
    },
    "ledger.complaint.screened.v1": {"outcome": "new", "method": "automatic", "note": ""},
    "ledger.complaint.delivered.v1": {
        "complaint_no": "XN2026-000001",
        "channel": "sms",
        "cause": str(uuid.UUID(int=7)),
        "what": "reply",
    },
    "ledger.complaint.linked_as_duplicate.v1": {
        "target": CASE,
        "complaint_no": "X2",
        "basis": "相似度0.93",
    },
    "ledger.complaint.gathered.v1": {"source": CASE, "complaint_no": "X2", "complainant": None},
    "ledger.complaint.link_split.v1": {"other": CASE, "reason": "并非同一事项"},
    "ledger.complaint.flagged_cross_level.v1": {
        "from_level": "区",
        "to_level": "市",
        "other_body": "district-3-efficiency-office",
        "other_case": "QX2026-0042",
        "basis": "越级",
    },
    "ledger.complaint.withdrawn.v1": {"reason": "投诉人撤回"},
    "ledger.complaint.declined.v1": {"reason_code": "out_of_scope", "reason": "不属于效能投诉"},
    "ledger.complaint.unit_resolved.v1": {"unit": "unit:housing-bureau"},
    "ledger.complaint.recategorised.v1": {"category": "buck_passing"},
    "ledger.complainant.confirmed.v1": {"complaint_no": "XN2026-000001"},
    "ledger.complaint.vault_erased.v1": {"complaint_no": "XN2026-000001", "cause": "request"},
    "ledger.complainant.disputed.v1": {"complaint_no": "XN2026-000001", "reason": "问题未解决"},
    "ledger.complainant.satisfaction_rated.v1": {"complaint_no": "XN2026-000001", "rating": 4},
    "ledger.dispatch.assigned.v1": {
        "lead_unit": UNIT,
        "due_at": DUE,
        "provisional": False,
        "co_units": [{"unit": CO_UNIT, "due_at": DUE, "provisional": False}],
        "calendar_version": "cn-2026.1",
        "urgency": "normal",
        "direct": True,
        "instructions": "限7个工作日内办结",
    },
    "ledger.dispatch.return_ruled.v1": {"unit": UNIT, "granted": False, "ruling": "首接负责"},
    "ledger.dispatch.deemed_done.v1": {"unit": UNIT, "due_at": DUE, "cause": str(uuid.uuid4())},
    "ledger.dispatch.due_confirmed.v1": {
        "unit": UNIT,
        "previous_due_at": DUE,
        "due_at": DUE,
        "provisional": False,
        "calendar_version": "cn-2027.1",
    },
    "ledger.dispatch.buck_passing_flagged.v1": {
        "pattern": "cycle",
        "units": [UNIT, CO_UNIT, UNIT],
        "cause": str(uuid.UUID(int=9)),
    },
    "ledger.conference.convened.v1": {
        "convener": "efficiency-office",
        "cases": [CASE],
        "members": ["efficiency-office", "petitions-office"],
        "question": "是否并联办理",
        "opinions_due_at": DUE,
    },
    "ledger.conference.opinion_given.v1": {"member": "efficiency-office", "opinion": "consent"},
    "ledger.conference.decided.v1": {
        "decision": "并联办理",
        "absent_deemed_consent": ["petitions-office"],
        "tally": {"consent": 1, "object": 0, "abstain": 0, "deemed_consent": 1},
        "outcome": "adopted",
    },
    "ledger.conference.opinion_noted.v1": {"member": "efficiency-office", "note": "补充说明"},
    "ledger.dispatch.conference_ruled.v1": {
        "conference": "conf-00000000-0000-4000-8000-0000000000aa",
        "outcome": "adopted",
        "decision": "并联办理",
        "cause": "0190a0b0-0000-7000-8000-000000000001",
    },
    "ledger.handling.acknowledged.v1": {"unit": UNIT},
    "ledger.handling.replied.v1": {"unit": UNIT, "text": "已约谈当事人"},
    "ledger.handling.progress.v1": {"unit": UNIT, "note": "正在调查"},
    "ledger.handling.resolution_claimed.v1": {
        "unit": UNIT,
        "summary": "已整改",
        "answer_due_at": ANSWER_DUE,
    },
    "ledger.handling.return_requested.v1": {"unit": UNIT, "reason": "不属本单位职责"},
    "ledger.handling.extension_requested.v1": {"unit": UNIT, "until": DUE, "reason": "需调取录像"},
    "ledger.handling.extension_ruled.v1": {
        "unit": UNIT,
        "granted": True,
        "due_at": LATER,
        "ruling": "同意",
    },
    "ledger.handling.reopened.v1": {
        "reason": "投诉人不满意",
        "units": [{"unit": UNIT, "due_at": LATER}, {"unit": CO_UNIT, "due_at": LATER}],
    },
    "ledger.handling.first_shown.v1": {
        "unit": UNIT,
        "due_at": DUE,
        "assignment": 1,
        "reopened": 0,
    },
    "ledger.handling.closed.v1": {
        "basis": "complainant_confirmed",
        "finding": "substantiated",
        "confidential": False,
        "note": "",
    },
    "ledger.deadline.elapsed.v1": {"deadline": "handling", "unit": UNIT, "due_at": DUE},
    "ledger.supervision.escalated.v1": {"level": 1, "reason": "超期未办", "cause": None},
    "ledger.supervision.reminded.v1": {
        "unit": UNIT,
        "due_at": DUE,
        "threshold_at": "2026-09-01T00:00:00+08:00",
        "thresholds": "1",
        "notice": "督办提醒",
    },
    "ledger.penalty.imposed.v1": {
        "penalty_id": "P1",
        "unit": UNIT,
        "post": "窗口受理岗",
        "staff_id": "E123",
        "offence": "idle_at_window",
        "schedule_version": SCHEDULE_VERSION,
        "penalty": "admonishment_talk",
        "departure_reason": "",
        "causes": [str(uuid.UUID(int=8))],
        "repeat_count": 2,
        "leadership": False,
    },
    "ledger.penalty.revoked.v1": {"penalty_id": "P1", "reason": "复核撤销"},
    "ledger.penalty.proposed.v1": {
        "proposal_id": str(uuid.UUID(int=9)),
        "cause": "deemed_done",
        "cause_event": str(uuid.UUID(int=8)),
        "unit": UNIT,
        "offence": "overdue_without_reason",
    },
    "ledger.penalty.proposal_dismissed.v1": {
        "proposal_id": str(uuid.UUID(int=9)),
        "reason": "已另案处理",
    },
    "ledger.inspection.finding_recorded.v1": {
        "unit": UNIT,
        "post": "窗口受理岗",
        "staff_id": "E123",
        "finding": "watching_videos",
        "text": "暗访发现工作人员戴耳机看电影",
        "inspected_on": "2026-11-20T10:00:00+08:00",
        "evidence": [H],
    },
    "ledger.period.figures_published.v1": {
        "period": "2026-11",
        "version": 1,
        "replaces": None,
        "units": [
            {
                "unit": UNIT,
                "figures": {
                    "reply": {"numerator": 9, "denominator": 10},
                    "resolution": {"numerator": 7, "denominator": 10},
                    "satisfaction": {"numerator": 6, "denominator": 8},
                },
            }
        ],
        "reason": "",
    },
    "ledger.publication.drafted.v1": {"notice_id": "N1", "text_sha256": H},
    "ledger.publication.published.v1": {"notice_id": "N1", "text_sha256": H},
    "ledger.publication.withheld.v1": {"notice_id": "N1", "reason": "涉密"},
    "ledger.publication.withdrawn.v1": {"notice_id": "N1", "reason": "处分期满"},
    "ledger.publication.corrected.v1": {"notice_id": "N1", "text_sha256": H, "reason": "更正"},
    "ledger.registry.deployment_registered.v1": {
        "deployment": "/bodies/x/intake",
        "body": "x",
        "service": "intake",
        "acts_for": ["x"],
    },
    "ledger.registry.key_added.v1": {
        "deployment": "/bodies/x/intake",
        "kid": "0" * 32,
        "public_key": "A" * 43,
    },
    "ledger.registry.key_revoked.v1": {"kid": "0" * 32, "reason": "泄露"},
    "ledger.registry.rights_granted.v1": {
        "deployment": "/bodies/x/intake",
        "types": ["ledger.complaint.*"],
    },
    "ledger.registry.rights_revoked.v1": {
        "deployment": "/bodies/x/intake",
        "types": ["ledger.complaint.*"],
    },
    "ledger.registry.config_owner_named.v1": {"kind": "routing", "deployment": "/bodies/x/intake"},
    "ledger.registry.config_published.v1": {
        "kind": "penalty_schedule",
        "version": SCHEDULE_VERSION,
        "content": PENALTY_SCHEDULE,
    },
    "ledger.registry.calls_granted.v1": {
        "deployment": "/bodies/x/publication",
        "callee": "/bodies/x/intake",
        "endpoints": ["redaction"],
    },
    "ledger.registry.calls_revoked.v1": {
        "deployment": "/bodies/x/publication",
        "callee": "/bodies/x/intake",
        "endpoints": ["redaction"],
    },
    "ledger.audit.digest_recorded.v1": {"partition": 0, "count": 0, "digest": H, "partitions": 1},
    "ledger.appeal.filed.v1": {
        "appeal_id": "A1",
        "target": "penalty",
        "target_event": str(uuid.UUID(int=11)),
        "unit": UNIT,
        "reasons": "当日系系统故障，非本单位人员离岗",
    },
    "ledger.appeal.ruled.v1": {
        "appeal_id": "A1",
        "outcome": "upheld",
        "reason": "经核实系统故障属实",
        "target": "penalty",
        "target_event": str(uuid.UUID(int=11)),
        "unit": UNIT,
    },
    "ledger.audit.acknowledged.v1": {
        "events": [[0, 3, H]],
        "reason": "事件编号 INC-7：已核实并处置",
    },
    "ledger.audit.seal_recorded.v1": {
        "positions": {"0": 1},
        "partitions": 1,
        "digests": {"0": H},
        "tampered": 0,
        "conflicts": 0,
    },
}

# Which default deployment writes each family, and an actor it may act for.
WRITER_OF_FAMILY = {
    "complaint": ("intake", CLERK),
    "complainant": ("intake", COMPLAINANT),
    "dispatch": ("dispatch", OFFICER),
    "conference": ("dispatch", OFFICER),
    "handling": ("oversight", HANDLER),
    "deadline": ("oversight", TIMER),
    "supervision": ("oversight", SUPERVISOR),
    "penalty": ("oversight", SUPERVISOR),
    "inspection": ("oversight", SUPERVISOR),
    "period": ("oversight", SUPERVISOR),
    "publication": ("publication", "efficiency-office/P001"),
    "audit": ("auditor", "ledger/auditor"),
    "appeal": ("oversight", HANDLER),
}


# The handling acts that are the supervisors', not the unit's (same deployment, other actor).
SUPERVISOR_ACTS = frozenset(
    {
        "ledger.handling.extension_ruled.v1",
        "ledger.handling.reopened.v1",
        "ledger.handling.closed.v1",
        "ledger.appeal.ruled.v1",
    }
)


def new_case() -> str:
    return f"case-{uuid.uuid4()}"


def signers(settings: LedgerSettings) -> dict[str, Signer]:
    return {
        name: Signer(spec(name).deployment, keystore.load(settings, name))
        for name in ("intake", "dispatch", "oversight", "publication", "auditor")
    }


def draft(event_type: str, **overrides: Any) -> tuple[str, Draft]:
    """(writer deployment name, draft) for a sample event of this type."""
    fam = event_type.split(".")[1]
    writer, actor = WRITER_OF_FAMILY[fam]
    if event_type in SUPERVISOR_ACTS:
        actor = SUPERVISOR
    data = {**SAMPLES[event_type], **overrides}
    return writer, Draft(event_type, data, actor)


# A case from filing to closure, each step by its own deployment.
LIFECYCLE = [
    "ledger.complaint.received.v1",
    "ledger.complaint.screened.v1",
    "ledger.dispatch.assigned.v1",
    "ledger.handling.acknowledged.v1",
    "ledger.handling.resolution_claimed.v1",
    "ledger.complainant.confirmed.v1",
    "ledger.handling.closed.v1",
]


def sign_steps(
    signers_by_name: dict[str, Signer],
    stream: str,
    steps: list[str],
    *,
    head: str | None,
    regseq: int,
    reghash: str | None,
    overrides: dict[str, dict[str, Any]] | None = None,
) -> list[Signed]:
    """Sign a chain of sample events on one stream, each by the deployment that owns it."""
    out: list[Signed] = []
    prev = head
    for t in steps:
        writer, d = draft(t, **(overrides or {}).get(t, {}))
        s = signers_by_name[writer].sign(stream, d, prev=prev, regseq=regseq, reghash=reghash)
        out.append(s)
        prev = s.hash
    return out


# A second member body for joint conferences: its own dispatch deployment gives its opinions.
PETITIONS = DeploymentSpec(
    "petitions",
    "/bodies/petitions-office/dispatch",
    "petitions-office",
    "dispatch",
    ("petitions-office",),
    ("ledger.conference.opinion_given.v1",),
)


class MemoryLedger:
    """Records built in memory (no log): a registry of the default deployments (plus a second
    member body, and the penalty schedule oversight published), and helpers to place signed
    records on partitions the way a log would."""

    def __init__(self, partitions: int = 3) -> None:
        from shared.crypto.signing import SigningKey
        from shared.ledger.bootstrap import registration_drafts
        from shared.ledger.deployments import GENESIS_ACTOR, default_deployments
        from shared.rules.registry import GENESIS_DEPLOYMENT

        self.partitions = partitions
        self.genesis_key = SigningKey.generate()
        self.genesis = self.genesis_key.public
        specs = (*default_deployments(), PETITIONS)
        self.keys = {s.name: SigningKey.generate() for s in specs}
        self.signers = {s.name: Signer(s.deployment, self.keys[s.name]) for s in specs}
        self.genesis_signer = Signer(GENESIS_DEPLOYMENT, self.genesis_key)
        signed = [
            (self.genesis_signer, d)
            for s in specs
            for d in registration_drafts(s, self.keys[s.name])
        ]
        assert all(d.actor == GENESIS_ACTOR for _, d in signed)
        schedule = Draft(
            "ledger.registry.config_published.v1",
            SAMPLES["ledger.registry.config_published.v1"],
            SUPERVISOR,
        )
        signed.append((self.signers["oversight"], schedule))
        pairs = []
        prev = None
        for i, (signer, d) in enumerate(signed):
            rec = signer.sign("registry", d, prev=prev, regseq=i, reghash=None)
            prev = rec.hash
            pairs.append(("registry", rec.record))
        self.registry_records: list[StoredRecord] = []
        self.registry_records = self.place(pairs)
        self.regseq = len(signed)
        self.reghash = prev

    def place(self, pairs: list[tuple[str, bytes]]) -> list[StoredRecord]:
        """Stored records for (stream, record) pairs appended after the registry, in order."""
        from shared.events.partitioner import partition_for

        offsets = dict.fromkeys(range(self.partitions), 0)
        for r in self.registry_records:
            offsets[r.partition] += 1
        out = []
        for i, (stream, record) in enumerate(pairs):
            p = partition_for(stream, self.partitions)
            out.append(StoredRecord(p, offsets[p], stream, 1_790_000_000_000_000 + i, record))
            offsets[p] += 1
        return out

    def fold(self, records: list[StoredRecord]) -> LedgerFold:
        fold = LedgerFold.rooted_in(self.genesis, self.partitions)
        for rec in self.registry_records:
            fold.apply(rec)
        for rec in records:
            fold.apply(rec)
        return fold


# ---- judging short histories, for the rule book's paired tests ------------------------------


class Step(NamedTuple):
    type: str
    data: dict[str, Any]
    actor: str | None
    signer: str | None


def step(event_type: str, actor: str | None = None, signer: str | None = None, **data: Any) -> Step:
    """One act: the sample payload with ``data`` over it, by the type's usual actor and signer
    unless named."""
    return Step(event_type, data, actor, signer)


OPENED = [step("ledger.complaint.received.v1"), step("ledger.complaint.screened.v1")]
ASSIGNED = [*OPENED, step("ledger.dispatch.assigned.v1")]
CLAIMED = [*ASSIGNED, step("ledger.handling.resolution_claimed.v1")]


def sign_unchecked(
    signer: Signer,
    stream: str,
    d: Draft,
    *,
    prev: str | None,
    regseq: int,
    reghash: str | None,
) -> Signed:
    """Sign as ``Signer.sign`` does, but let a payload that fails its schema through (as a
    faulty or hostile writer could), so the rule book's own schema check is what refuses it."""
    from pydantic import ValidationError

    from shared.crypto.signing import ALG
    from shared.events.catalog import payload_model
    from shared.events.codec import canonical, record_hash
    from shared.events.envelope import Envelope
    from shared.events.ids import new_event_id
    from shared.ledger.signer import now_rfc3339

    try:
        return signer.sign(stream, d, prev=prev, regseq=regseq, reghash=reghash)
    except ValidationError:
        pass
    model = payload_model(d.type)
    assert model is not None
    env = Envelope(
        id=d.id or new_event_id(),
        source=signer.deployment,
        type=d.type,
        subject=stream,
        time=now_rfc3339(),
        data=d.data,
        actor=d.actor,
        alg=ALG,
        kid=signer.key.kid,
        regseq=regseq,
        reghash=reghash,
        prev=prev,
        partitionkey=stream,
    ).as_dict()
    env["data"] = d.data  # absent optionals stay as the writer gave them
    env["sig"] = signer.key.sign(canonical(env))
    stored = canonical(env)
    return Signed(env["id"], stream, stored, record_hash(stored))


class Judge:
    """Signs a history on one stream (each step chained on the one before, as an honest writer
    that saw it accepted would) and folds it after the ledger's registry."""

    def __init__(self, ledger: MemoryLedger) -> None:
        self.ledger = ledger

    def sign(
        self,
        stream: str,
        steps: list[Step],
        *,
        head: str | None = None,
        regseq: int | None = None,
        reghash: str | None = None,
    ) -> list[Signed]:
        led = self.ledger
        out: list[Signed] = []
        prev = head
        for st in steps:
            writer, d = draft(st.type, **st.data)
            signer = led.signers[st.signer or writer]
            s = sign_unchecked(
                signer,
                stream,
                Draft(d.type, d.data, st.actor or d.actor),
                prev=prev,
                regseq=led.regseq if regseq is None else regseq,
                reghash=led.reghash if reghash is None else reghash,
            )
            out.append(s)
            prev = s.hash
        return out

    def run(self, pairs: list[tuple[str, bytes]]) -> tuple[list[Any], LedgerFold]:
        fold = self.ledger.fold([])
        return [fold.apply(r) for r in self.ledger.place(pairs)], fold

    def judge(self, stream: str, steps: list[Step]) -> tuple[list[Any], LedgerFold]:
        return self.run([(stream, s.record) for s in self.sign(stream, steps)])

    def accepted(self, steps: list[Step], stream: str | None = None) -> Any:
        """Every step is accepted; the stream's domain state after them."""
        from shared.rules.verdict import Reason

        stream = stream or new_case()
        verdicts, fold = self.judge(stream, steps)
        assert [v.reason for v in verdicts] == [Reason.ok] * len(steps), verdicts
        return fold.streams[stream].domain

    def refused(self, steps: list[Step], reason: Any, stream: str | None = None) -> Any:
        """Every step but the last is accepted; the last is a normal conflict for ``reason`` and
        leaves the state as it was."""
        from shared.rules.verdict import Outcome, Reason

        stream = stream or new_case()
        signed = [(stream, s.record) for s in self.sign(stream, steps)]
        verdicts, fold = self.run(signed)
        assert [v.reason for v in verdicts[:-1]] == [Reason.ok] * (len(steps) - 1), verdicts
        last = verdicts[-1]
        assert last.reason is reason, last
        assert last.outcome is Outcome.conflict
        if steps[:-1]:  # the same records without the refused act (in a fresh fold)
            assert fold.streams[stream].domain == self.run(signed[:-1])[1].streams[stream].domain
        return last
