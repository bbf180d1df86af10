"""The command pipeline's pure part: validate → canonical bytes → chain → sign.

A deployment signs as itself (its ``source``) and names the actor it acts for inside the signed
bytes. The result is the exact stored record; a retry re-sends these bytes, never re-signs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.crypto.signing import ALG, SigningKey
from shared.events.catalog import payload_model
from shared.events.codec import canonical, canonical_checked, record_hash, signed_part
from shared.events.envelope import Envelope
from shared.events.ids import new_event_id


class UnknownEventType(ValueError):
    pass


@dataclass(frozen=True)
class Draft:
    """An event a decision produced, before it is chained and signed."""

    type: str
    data: dict[str, Any]
    actor: str
    id: str | None = None  # None: a new UUIDv7; derived events pass their UUIDv5


@dataclass(frozen=True)
class Signed:
    id: str
    stream: str
    record: bytes
    hash: str


def now_rfc3339() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Signer:
    deployment: str  # the CloudEvents source, e.g. /bodies/efficiency-office/intake
    key: SigningKey

    def envelope(
        self,
        stream: str,
        draft: Draft,
        *,
        prev: str | None,
        regseq: int,
        reghash: str | None,
        time: str | None = None,
    ) -> dict[str, Any]:
        """The event as it will be signed (payload validated, no ``sig`` yet)."""
        model = payload_model(draft.type)
        if model is None:
            raise UnknownEventType(draft.type)
        data = model.model_validate(draft.data).model_dump(mode="json")
        return Envelope(
            id=draft.id or new_event_id(),
            source=self.deployment,
            type=draft.type,
            subject=stream,
            time=time or now_rfc3339(),
            data=data,
            actor=draft.actor,
            alg=ALG,
            kid=self.key.kid,
            regseq=regseq,
            reghash=reghash,
            prev=prev,
            partitionkey=stream,
        ).as_dict()

    def sign(
        self,
        stream: str,
        draft: Draft,
        *,
        prev: str | None,
        regseq: int,
        reghash: str | None,
        time: str | None = None,
    ) -> Signed:
        env = self.envelope(stream, draft, prev=prev, regseq=regseq, reghash=reghash, time=time)
        message = canonical(env)
        env["sig"] = self.key.sign(message)
        stored = canonical_checked(env)  # the domain was checked above; sig is a string
        # JCS guarantees the stored bytes minus sig are the signed bytes; prove it cheaply.
        assert signed_part(stored, env["sig"]) == message
        return Signed(env["id"], stream, stored, record_hash(stored))

    def unsigned(
        self,
        stream: str,
        draft: Draft,
        *,
        prev: str | None,
        regseq: int,
        reghash: str | None,
        time: str | None = None,
    ) -> Signed:
        """The event as ``sign`` would store it, with an empty ``sig``: what the rule book
        judges before anything is signed (ids, times, data and registry version are the ones
        that will be signed)."""
        env = self.envelope(stream, draft, prev=prev, regseq=regseq, reghash=reghash, time=time)
        env["sig"] = ""
        stored = canonical_checked(env)
        return Signed(env["id"], stream, stored, record_hash(stored))

    def unsigned_chain(
        self,
        stream: str,
        drafts: list[Draft],
        *,
        head: str | None,
        regseq: int,
        reghash: str | None,
        time: str,
    ) -> list[Signed]:
        """The drafts as ``sign_chain`` would chain them, unsigned (the chain links are the
        unsigned records' hashes, consistent among themselves)."""
        return self._chain(self.unsigned, stream, drafts, head, regseq, reghash, time)

    def sign_chain(
        self,
        stream: str,
        drafts: list[Draft],
        *,
        head: str | None,
        regseq: int,
        reghash: str | None,
        time: str | None = None,
    ) -> list[Signed]:
        """Sign drafts as consecutive events of one stream, each naming the one before."""
        return self._chain(self.sign, stream, drafts, head, regseq, reghash, time)

    @staticmethod
    def _chain(
        make: Callable[..., Signed],
        stream: str,
        drafts: list[Draft],
        head: str | None,
        regseq: int,
        reghash: str | None,
        time: str | None,
    ) -> list[Signed]:
        out: list[Signed] = []
        prev = head
        for d in drafts:
            out.append(make(stream, d, prev=prev, regseq=regseq, reghash=reghash, time=time))
            prev = out[-1].hash
        return out
