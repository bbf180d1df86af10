"""A realistic signed corpus: many case streams, each a few events of the reform's lifecycle.

complaint.received → complaint.screened (intake) → dispatch.assigned (dispatch) →
handling.acknowledged → handling.resolution_claimed (oversight, signing for the unit) →
complainant.confirmed (intake, for the complainant) → handling.closed (oversight, a
supervisor). Anonymous complaints skip the confirmation and close on the supervisor's decision;
some cases are still open (a prefix of the lifecycle). Streams interleave in the log as they
would in a live system. Each deployment signs with its own key; chains are built with
``Signer.sign_chain`` per run of one signer.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.crypto.signing import PublicKey
from shared.ledger import keystore
from shared.ledger.bootstrap import init_ledger
from shared.ledger.deployments import spec
from shared.ledger.reader import registry_fold
from shared.ledger.signer import Draft, Signed, Signer
from shared.log.sqlite import SqliteLog
from shared.settings import LedgerSettings

PARTITIONS = 3

UNITS = (
    "unit:health-bureau",
    "unit:housing-bureau",
    "unit:market-regulation",
    "unit:social-security",
    "unit:transport-bureau",
    "unit:district-3.street-office",
)
CATEGORIES = ("态度", "拖延", "推诿", "不作为", "乱作为", "窗口纪律")
CHANNELS = ("web_form", "hotline_12345", "letter", "visit", "email")
TEXT = (
    "投诉人反映：[日期1]上午在[单位1]办事窗口办理业务，窗口工作人员[姓名1]长时间玩手机，"
    "对群众询问置之不理，要求补交的材料前后说法不一，往返三次仍未办结。另称该窗口"
    "“只收件不答复”，电话[电话1]无人接听，请求督办并答复办理时限。"
)
SUMMARY = (
    "经核查，反映情况基本属实。已对窗口工作人员[姓名1]进行批评教育并调离窗口岗位，"
    "投诉人所办事项已于[日期2]办结，并电话告知办理结果；窗口已公示一次性告知清单。"
)


@dataclass
class Step:
    signer: str  # deployment key name
    type: str
    data: dict[str, Any]
    actor: str


@dataclass
class Corpus:
    settings: LedgerSettings
    genesis: PublicKey
    signers: dict[str, Signer]
    regseq: int
    reghash: str | None
    cases: dict[str, list[Step]]  # stream -> lifecycle (the peer stores the same payloads)
    signed: list[Signed] = field(default_factory=list)  # every event, in log order

    @property
    def records(self) -> list[tuple[str, bytes]]:
        return [(s.stream, s.record) for s in self.signed]


def lifecycle(rng: random.Random, n: int) -> list[Step]:
    unit = rng.choice(UNITS)
    anonymous = rng.random() < 0.2
    pseudonym = None if anonymous else hashlib.sha256(f"complainant-{n}".encode()).hexdigest()
    complaint_no = f"XF2026{n:07d}"
    steps = [
        Step(
            "intake",
            "ledger.complaint.received.v1",
            {
                "complaint_no": complaint_no,
                "channel": rng.choice(CHANNELS),
                "complainant": pseudonym,
                "received_by": "efficiency-office",
                "unit": unit,
                "category": rng.choice(CATEGORIES),
                "text": TEXT,
                "tracking_code_hash": hashlib.sha256(f"track-{n}".encode()).hexdigest(),
            },
            "efficiency-office/S001",
        ),
        Step(
            "intake",
            "ledger.complaint.screened.v1",
            {"outcome": "new", "method": "automatic", "note": ""},
            "efficiency-office/S001",
        ),
        Step(
            "dispatch",
            "ledger.dispatch.assigned.v1",
            {
                "lead_unit": unit,
                "co_units": [],
                "due_at": "2026-12-10T17:00:00+08:00",
                "calendar_version": "2026-v1",
                "urgency": rng.choice(("normal", "normal", "high", "urgent")),
                "direct": rng.random() < 0.5,
                "instructions": "请于限期内办结并答复投诉人，逾期按超时默认处理。",
            },
            "efficiency-office/D017",
        ),
        Step("oversight", "ledger.handling.acknowledged.v1", {"unit": unit}, f"{unit}/S123"),
        Step(
            "oversight",
            "ledger.handling.resolution_claimed.v1",
            {"unit": unit, "summary": SUMMARY},
            f"{unit}/S123",
        ),
    ]
    if pseudonym is not None:
        steps.append(
            Step(
                "intake",
                "ledger.complainant.confirmed.v1",
                {"complaint_no": complaint_no},
                f"complainant/{pseudonym}",
            )
        )
        basis = "complainant_confirmed"
    else:
        basis = "anonymous"
    steps.append(
        Step(
            "oversight",
            "ledger.handling.closed.v1",
            {
                "basis": basis,
                "finding": "substantiated",
                "confidential": False,
                "note": "已回访，群众满意。" if pseudonym else "匿名件，督查室审核。",
            },
            "efficiency-office/S200",
        )
    )
    # About a quarter of the cases are still under way: a prefix of their lifecycle.
    if rng.random() < 0.25:
        steps = steps[: rng.randint(1, len(steps) - 1)]
    return steps


def plan_cases(total: int, seed: int = 7) -> dict[str, list[Step]]:
    rng = random.Random(seed)
    cases: dict[str, list[Step]] = {}
    n = 0
    while n < total:
        steps = lifecycle(rng, len(cases))[: total - n]
        cases[f"case-{uuid.UUID(int=rng.getrandbits(128), version=4)}"] = steps
        n += len(steps)
    return cases


def interleave(cases: dict[str, list[Step]], seed: int = 11) -> list[tuple[str, int]]:
    """(stream, step index) in a live-looking log order: cases overlap in time."""
    rng = random.Random(seed)
    timeline = []
    for i, (stream, steps) in enumerate(cases.items()):
        t = float(i)
        for k in range(len(steps)):
            timeline.append((t, i, k, stream))
            t += rng.uniform(5, 400)
    timeline.sort()
    return [(stream, k) for _, _, k, stream in timeline]


def sign_case(c: Corpus, stream: str, steps: list[Step]) -> list[Signed]:
    """Chain a case's events across signers: one ``sign_chain`` per run of one signer."""
    out: list[Signed] = []
    head = None
    i = 0
    while i < len(steps):
        j = i
        while j < len(steps) and steps[j].signer == steps[i].signer:
            j += 1
        drafts = [Draft(s.type, s.data, s.actor) for s in steps[i:j]]
        chain = c.signers[steps[i].signer].sign_chain(
            stream, drafts, head=head, regseq=c.regseq, reghash=c.reghash
        )
        out.extend(chain)
        head = chain[-1].hash
        i = j
    return out


async def build(root: Path, events: int) -> tuple[Corpus, SqliteLog]:
    """Keys and registry in a fresh ledger under ``root``, and ``events`` signed case events.

    Returns the corpus and the ledger's (open) log, which holds only the registry so far.
    """
    settings = LedgerSettings(
        var_dir=root, log_partitions=PARTITIONS, sqlite_log_path=None, genesis_public_key=None
    )
    log = await SqliteLog.open(settings.sqlite_log_file, PARTITIONS)
    await init_ledger(log, settings)
    genesis = keystore.genesis_public(settings)
    fold = await registry_fold(log, genesis)
    reg = fold.registry
    signers = {
        name: Signer(spec(name).deployment, keystore.load(settings, name))
        for name in ("intake", "dispatch", "oversight", "auditor")
    }
    c = Corpus(
        settings, genesis, signers, reg.version, reg.hash_at(reg.version), plan_cases(events)
    )
    by_stream = {stream: sign_case(c, stream, steps) for stream, steps in c.cases.items()}
    c.signed = [by_stream[stream][k] for stream, k in interleave(c.cases)]
    return c, log
