"""The complainant's rights over the vault (PIPL): access, erasure, and expiry by retention.

How a requester proves who they are: the **complaint number and its tracking code** (handed
out once, at filing; the read model keeps only its hash) and, when the complaint named a
complainant, **the contact they gave** (phone or e-mail, in any width, spacing or case): its
keyed pseudonym must be the complaint's. An anonymous complaint is proven by number and code
alone (there is no identity to protect, only the original text). Every mismatch is answered
alike and counted against the same guessing limits as the follow-up page.

* **Access** answers what the vault holds for that complaint (identity, contact, original text,
  attachments) and when, and by which role, staff looked at it. Nothing is stored: not in the
  idempotency store, not in a cache (``Cache-Control: no-store``).
* **Erasure** appends ``complaint.vault_erased`` (cause ``request``; no personal data, one per
  case by its derived id) and then deletes the entry. The log stays verifiable and the redacted
  text in ``complaint.received`` still replays. Interrupted after the append, the next expiry
  run finishes the deletion (it deletes every entry whose case records the erasure).
* **Retention**: an entry expires ``LEDGER_VAULT_RETENTION_DAYS`` after its case ended (closed,
  withdrawn or declined; a duplicate merged into another case ends with that case), counted
  from the case's last event once ended (never earlier than its end). The expiry run (``POST
  /vault/expiry``, an administrator's, e.g. daily from cron) erases it with cause
  ``retention``, deletes orphan entries older than the grace, and answers a report naming each
  case it touched; each expiry is also its event in the log and a log line — never silent.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping
from typing import Any, Literal

import structlog
from pydantic import BaseModel

from services.intake.commands import complaint_no
from services.intake.receipt import stream_state
from services.intake.vault import Vault
from shared.events.catalog import VaultErasureCause
from shared.events.ids import derived_event_id
from shared.ledger.signer import Draft
from shared.rules.case import CLOSED, DECLINED, MERGED, WITHDRAWN, CaseState
from shared.rules.stream import StreamState
from shared.web.command_path import CommandAnswer, Refusal, ServiceWriter, answer, known_case
from shared.web.problems import CONFLICT, ProblemError

log = structlog.get_logger("ledger.intake.vault")

VAULT_ERASED = "ledger.complaint.vault_erased.v1"
ENDED = frozenset({CLOSED, WITHDRAWN, DECLINED})
DAY_US = 86_400 * 1_000_000


# -- pure ----------------------------------------------------------------------------------------


def proves(doc: Mapping[str, Any] | None, code_hash: str, contact_pseudonym: str | None) -> bool:
    """Whether (number's document, typed code's hash, typed contact's pseudonym) prove the
    requester: the code matches, and the contact too when the complaint named a complainant."""
    if doc is None or not code_hash:
        return False
    code_ok = hmac.compare_digest(str(doc.get("tracking_code_hash") or ""), code_hash)
    named = doc.get("complainant")
    if not named:
        return code_ok
    contact_ok = contact_pseudonym is not None and hmac.compare_digest(
        str(named), contact_pseudonym
    )
    return code_ok and contact_ok


def erasure_id(case: str) -> str:
    """One erasure per case: a second is a replay every reader rejects."""
    return derived_event_id(case, "vault-erased")


def erase_decision(
    state: StreamState, complaint_no: str, cause: VaultErasureCause, actor: str
) -> list[Draft]:
    known_case(state)
    return [Draft(VAULT_ERASED, {"complaint_no": complaint_no, "cause": cause}, actor)]


def ended_at(case: CaseState, last_at: int) -> int | None:
    """When a case ended (µs, the log's time of its last event once ended), or None."""
    return last_at if case.status in ENDED else None


def expired(ended: int | None, now_us: int, retention_days: int) -> bool:
    return ended is not None and now_us >= ended + retention_days * DAY_US


# -- the shell -----------------------------------------------------------------------------------


async def erase(
    service: ServiceWriter,
    vault: Vault,
    case: str,
    complaint_no: str,
    cause: VaultErasureCause,
    actor: str,
) -> CommandAnswer:
    """Record the erasure in the log, then delete the entry (a repeat answers the first)."""
    writer = await service.signing_writer()
    try:
        result = await writer.submit(
            case,
            lambda st: erase_decision(st, complaint_no, cause, actor),
            ids=lambda i: erasure_id(case),
        )
    except Refusal as exc:
        raise ProblemError(CONFLICT, exc.detail, extensions={"reason": exc.reason}) from None
    if not result.accepted:
        reason = str(result.refused.reason) if result.refused is not None else "nothing_to_do"
        raise ProblemError(CONFLICT, "规则校验未通过，未删除", extensions={"reason": reason})
    if service.on_appended is not None:
        service.on_appended()
    await vault.erase(case)
    log.info("vault.erased", case=case, cause=str(cause))
    return answer(result)


class ExpiryLine(BaseModel):
    case: str
    complaint_no: str
    outcome: Literal["expired", "orphan_deleted", "erasure_completed"]


class ExpiryReport(BaseModel):
    retention_days: int
    checked: int
    lines: list[ExpiryLine]


async def _ended(service: ServiceWriter, state: StreamState) -> int | None:
    case = state.domain
    assert isinstance(case, CaseState)
    if case.status == MERGED and case.merged_into:
        target = await stream_state(service, case.merged_into)
        assert isinstance(target.domain, CaseState)
        return ended_at(target.domain, target.last_at)
    return ended_at(case, state.last_at)


def _number(state: StreamState, case: str) -> str:
    """The case's own complaint number as the log records it (an orphan, never filed, is
    named by the number its case id gives without a body code)."""
    if isinstance(state.domain, CaseState) and state.domain.complaints:
        return state.domain.complaints[0][0]
    return complaint_no(case)


async def expire(
    service: ServiceWriter,
    vault: Vault,
    actor: str,
    *,
    retention_days: int,
    orphan_grace_seconds: int,
    now: float | None = None,
) -> ExpiryReport:
    """One expiry run over every vault entry (see the module docstring)."""
    clock = time.time() if now is None else now
    now_us = int(clock * 1_000_000)
    grace = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(clock - orphan_grace_seconds))
    lines: list[ExpiryLine] = []
    entries = await vault.cases()
    for case, written_at in entries:
        state = await stream_state(service, case)
        number = _number(state, case)
        if state.accepted == 0:
            if written_at[:19] < grace and await vault.discard_unfiled(case):
                lines.append(ExpiryLine(case=case, complaint_no=number, outcome="orphan_deleted"))
            continue
        if erasure_id(case) in state.seen_ids:
            await vault.erase(case)
            lines.append(ExpiryLine(case=case, complaint_no=number, outcome="erasure_completed"))
            continue
        if expired(await _ended(service, state), now_us, retention_days):
            await erase(service, vault, case, number, VaultErasureCause.retention, actor)
            lines.append(ExpiryLine(case=case, complaint_no=number, outcome="expired"))
    for line in lines:
        log.warning("vault.expiry", case=line.case, outcome=line.outcome)
    return ExpiryReport(retention_days=retention_days, checked=len(entries), lines=lines)
