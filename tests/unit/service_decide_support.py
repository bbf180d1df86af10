"""What the services' decide tests share: a case stream in a given state, and the rule book's
own judgement of a draft (so an accepted decision is one every reader would accept too)."""

from __future__ import annotations

from typing import Any, cast

from shared.events.catalog import payload_model
from shared.ledger.signer import Draft
from shared.rules import case as rules
from shared.rules.act import Act, actor_parts
from shared.rules.case import CaseState, UnitClock
from shared.rules.registry import Registry
from shared.rules.stream import StreamState

STREAM = "case-0192f0c4-7a1b-7c2d-8e3f-405162738495"
UNIT = "unit:demo-unit"
DUE = "2026-12-15T00:00:00+08:00"
PSEUDONYM = "ab" * 32


def stream(case: CaseState, accepted: int = 1) -> StreamState:
    return StreamState(stream=STREAM, kind="case", accepted=accepted, domain=case)


def lead(unit: str = UNIT, **changes: Any) -> UnitClock:
    return UnitClock(unit, True, DUE, 1_765_728_000_000_000)._replace(**changes)


class ActsForTheBody:
    """The registry's one answer the case checks ask: the deployment acts for its body (and
    complainants), as ``ledger init`` registers an intake."""

    def may_act_for(self, deployment: str, org: str) -> bool:
        return org in ("efficiency-office", "complainant")


def judged(case: CaseState, draft: Draft) -> str | None:
    """None when the rule book accepts the draft in this state, else its reason."""
    model = payload_model(draft.type)
    assert model is not None
    data = model.model_validate(draft.data).model_dump(mode="json", exclude_none=True)
    org, person = actor_parts(draft.actor)
    act = Act(
        draft.actor, org, person, "/bodies/x/y", 0, 0, cast(Registry, ActsForTheBody()), STREAM
    )
    verdict = rules.check(case, draft.type, data, act)
    return None if verdict is None else str(verdict.reason)
