"""A valid payload for every event type, and helpers to write realistic case histories."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from shared.ledger import keystore
from shared.ledger.deployments import spec
from shared.ledger.signer import Draft, Signed, Signer
from shared.log.port import StoredRecord
from shared.rules.fold import LedgerFold
from shared.settings import LedgerSettings

H = hashlib.sha256(b"sample").hexdigest()
CASE = "case-00000000-0000-4000-8000-000000000001"
DUE = "2026-12-03T18:00:00+08:00"
UNIT = "unit:health-bureau"
CLERK = "efficiency-office/S001"
OFFICER = "efficiency-office/D001"
SUPERVISOR = "efficiency-office/V001"
HANDLER = f"{UNIT}/H001"

SAMPLES: dict[str, dict[str, Any]] = {
    "ledger.complaint.received.v1": {
        "complaint_no": "XN2026-000001",
        "channel": "web",
        "complainant": H,
        "unit": UNIT,
        "category": "服务态度",
        "text": "[姓名1]在窗口上班时间玩手机，群众排队无人办理。",
        "attachments": [{"sha256": H, "media_type": "image/jpeg", "redacted": True}],
        "tracking_code_hash": H,
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
        "basis": "越级",
    },
    "ledger.complaint.withdrawn.v1": {"reason": "投诉人撤回"},
    "ledger.complaint.declined.v1": {"reason_code": "out_of_scope", "reason": "不属于效能投诉"},
    "ledger.complainant.confirmed.v1": {"complaint_no": "XN2026-000001"},
    "ledger.complainant.disputed.v1": {"complaint_no": "XN2026-000001", "reason": "问题未解决"},
    "ledger.complainant.satisfaction_rated.v1": {"complaint_no": "XN2026-000001", "rating": 4},
    "ledger.dispatch.assigned.v1": {
        "lead_unit": UNIT,
        "co_units": ["unit:civil-affairs"],
        "due_at": DUE,
        "calendar_version": "cn-2026.1",
        "urgency": "normal",
        "direct": True,
        "instructions": "限7个工作日内办结",
    },
    "ledger.dispatch.return_requested.v1": {"unit": UNIT, "reason": "不属本单位职责"},
    "ledger.dispatch.return_ruled.v1": {"unit": UNIT, "granted": False, "ruling": "首接负责"},
    "ledger.dispatch.deemed_done.v1": {"unit": UNIT, "due_at": DUE, "cause": str(uuid.uuid4())},
    "ledger.conference.convened.v1": {
        "cases": [CASE],
        "members": ["efficiency-office", "petitions-office"],
        "question": "是否并联办理",
        "opinions_due_at": DUE,
    },
    "ledger.conference.opinion_given.v1": {"member": "efficiency-office", "opinion": "consent"},
    "ledger.conference.decided.v1": {
        "decision": "并联办理",
        "absent_deemed_consent": ["petitions-office"],
    },
    "ledger.handling.acknowledged.v1": {"unit": UNIT},
    "ledger.handling.replied.v1": {"unit": UNIT, "text": "已约谈当事人"},
    "ledger.handling.progress.v1": {"unit": UNIT, "note": "正在调查"},
    "ledger.handling.resolution_claimed.v1": {"unit": UNIT, "summary": "已整改"},
    "ledger.handling.extension_requested.v1": {"unit": UNIT, "until": DUE, "reason": "需调取录像"},
    "ledger.handling.extension_ruled.v1": {
        "unit": UNIT,
        "granted": True,
        "due_at": DUE,
        "ruling": "同意",
    },
    "ledger.handling.reopened.v1": {"reason": "投诉人不满意"},
    "ledger.handling.closed.v1": {"basis": "complainant_confirmed", "note": ""},
    "ledger.deadline.elapsed.v1": {"deadline": "handling", "unit": UNIT, "due_at": DUE},
    "ledger.supervision.escalated.v1": {"level": 1, "reason": "超期未办", "cause": None},
    "ledger.penalty.imposed.v1": {
        "penalty_id": "P1",
        "post": "窗口受理岗",
        "staff_id": "E123",
        "offence": "工作时间玩手机",
        "schedule_minimum": "诫勉谈话",
        "measure": "诫勉谈话",
        "departure_reason": "",
        "leadership": False,
        "repeat_count": 2,
    },
    "ledger.penalty.revoked.v1": {"penalty_id": "P1", "reason": "复核撤销"},
    "ledger.inspection.finding_recorded.v1": {
        "unit": UNIT,
        "post": "窗口受理岗",
        "staff_id": "E123",
        "finding": "watching_videos",
        "text": "暗访发现工作人员戴耳机看电影",
        "inspected_on": "2026-11-20T10:00:00+08:00",
    },
    "ledger.figures.published.v1": {"period": "2026-11", "figures_sha256": H, "units": 12},
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
    "ledger.registry.config_published.v1": {
        "kind": "limits",
        "version": "2026.1",
        "content": {"normal_days": 7},
    },
    "ledger.audit.digest_recorded.v1": {"partition": 0, "count": 0, "digest": H, "partitions": 1},
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
    "complainant": ("intake", "complainant/" + H[:16]),
    "dispatch": ("dispatch", OFFICER),
    "conference": ("dispatch", OFFICER),
    "handling": ("oversight", HANDLER),
    "deadline": ("oversight", "efficiency-office/timer"),
    "supervision": ("oversight", SUPERVISOR),
    "penalty": ("oversight", SUPERVISOR),
    "inspection": ("oversight", SUPERVISOR),
    "figures": ("oversight", SUPERVISOR),
    "publication": ("publication", "efficiency-office/P001"),
    "audit": ("auditor", "ledger/auditor"),
}


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
    data = {**SAMPLES[event_type], **overrides}
    return writer, Draft(event_type, data, actor)


# A case from filing to closure, each step by its own deployment.
LIFECYCLE = [
    "ledger.complaint.received.v1",
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


class MemoryLedger:
    """Records built in memory (no log): a registry of the default deployments, and helpers to
    place signed records on partitions the way a log would."""

    def __init__(self, partitions: int = 3) -> None:
        from shared.crypto.signing import SigningKey
        from shared.ledger.bootstrap import registration_drafts
        from shared.ledger.deployments import GENESIS_ACTOR, default_deployments
        from shared.rules.registry import GENESIS_DEPLOYMENT

        self.partitions = partitions
        self.genesis_key = SigningKey.generate()
        self.genesis = self.genesis_key.public
        self.keys = {s.name: SigningKey.generate() for s in default_deployments()}
        self.signers = {
            s.name: Signer(s.deployment, self.keys[s.name]) for s in default_deployments()
        }
        genesis_signer = Signer(GENESIS_DEPLOYMENT, self.genesis_key)
        drafts = [
            d for s in default_deployments() for d in registration_drafts(s, self.keys[s.name])
        ]
        pairs = []
        prev = None
        for i, d in enumerate(drafts):
            assert d.actor == GENESIS_ACTOR
            s = genesis_signer.sign("registry", d, prev=prev, regseq=i, reghash=None)
            prev = s.hash
            pairs.append(("registry", s.record))
        self.registry_records: list[StoredRecord] = []
        self.registry_records = self.place(pairs)
        self.regseq = len(drafts)
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
