"""The audit stream: signed partition digests and verification seals, as written."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class AuditState:
    digests: tuple[tuple[int, int, str], ...] = ()  # (partition, count, digest)
    seals: tuple[tuple[tuple[int, int], ...], ...] = ()  # positions of each seal
    last_rejected: tuple[tuple[int, int, str], ...] = ()  # rejections below the last seal
    sealed_digests: tuple[tuple[int, int, str], ...] = ()  # (partition, count, digest) of seals
    last_sealed_digests: tuple[tuple[int, str], ...] = ()  # (partition, digest) of the last seal
    acknowledged: tuple[tuple[int, int, str], ...] = ()  # (partition, offset, record hash)

    @property
    def last_seal(self) -> dict[int, int] | None:
        return dict(self.seals[-1]) if self.seals else None

    def summary(self) -> dict[str, Any]:
        seals = [[list(p) for p in s] for s in self.seals]  # JSON keys must be strings
        out: dict[str, Any] = {"digests": [list(d) for d in self.digests], "seals": seals}
        if self.acknowledged:
            out["acknowledged"] = [list(a) for a in self.acknowledged]
        return out


def check(state: AuditState, event_type: str, data: dict[str, Any]) -> str | None:
    if event_type in (
        "ledger.audit.digest_recorded.v1",
        "ledger.audit.seal_recorded.v1",
        "ledger.audit.acknowledged.v1",
    ):
        return None
    return "not an audit event"


def evolve(state: AuditState, event_type: str, data: dict[str, Any]) -> AuditState:
    if event_type == "ledger.audit.digest_recorded.v1":
        entry = (data["partition"], data["count"], data["digest"])
        return replace(state, digests=(*state.digests, entry))
    if event_type == "ledger.audit.acknowledged.v1":
        named = tuple((int(p), int(o), str(h)) for p, o, h in data["events"])
        return replace(state, acknowledged=(*state.acknowledged, *named))
    positions = tuple(sorted((int(p), n) for p, n in data["positions"].items()))
    rejected = tuple((int(p), int(o), str(r)) for p, o, r in data.get("rejected", ()))
    counts = dict(positions)
    digests = tuple(sorted((int(p), str(d)) for p, d in data.get("digests", {}).items()))
    sealed = tuple((p, counts.get(p, 0), d) for p, d in digests)
    return replace(
        state,
        seals=(*state.seals, positions),
        last_rejected=rejected,
        sealed_digests=(*state.sealed_digests, *sealed),
        last_sealed_digests=digests,
    )
