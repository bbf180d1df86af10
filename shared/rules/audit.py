"""The audit stream: signed partition digests and verification seals, as written."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class AuditState:
    digests: tuple[tuple[int, int, str], ...] = ()  # (partition, count, digest)
    seals: tuple[tuple[tuple[int, int], ...], ...] = ()  # positions of each seal
    last_rejected: tuple[tuple[int, int, str], ...] = ()  # rejections below the last seal

    @property
    def last_seal(self) -> dict[int, int] | None:
        return dict(self.seals[-1]) if self.seals else None

    def summary(self) -> dict[str, Any]:
        seals = [[list(p) for p in s] for s in self.seals]  # JSON keys must be strings
        return {"digests": [list(d) for d in self.digests], "seals": seals}


def check(state: AuditState, event_type: str, data: dict[str, Any]) -> str | None:
    if event_type in ("ledger.audit.digest_recorded.v1", "ledger.audit.seal_recorded.v1"):
        return None
    return "not an audit event"


def evolve(state: AuditState, event_type: str, data: dict[str, Any]) -> AuditState:
    if event_type == "ledger.audit.digest_recorded.v1":
        entry = (data["partition"], data["count"], data["digest"])
        return replace(state, digests=(*state.digests, entry))
    positions = tuple(sorted((int(p), n) for p, n in data["positions"].items()))
    rejected = tuple((int(p), int(o), str(r)) for p, o, r in data.get("rejected", ()))
    return replace(state, seals=(*state.seals, positions), last_rejected=rejected)
