"""The event envelope: CloudEvents 1.0 attributes plus the ledger's extensions.

Extensions (lowercase alphanumerics, as CloudEvents requires): ``prev`` (hash of the stream's
previous accepted event; absent on a stream's first event), ``actor`` (``org/person``),
``alg``, ``kid`` (the signing key), ``regseq`` and ``reghash`` (the key-registry version the
event was signed under), ``sig``, ``partitionkey`` (the stream id).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
# ledger.<family>.<name>.v<N>
TYPE_RE = re.compile(r"^ledger\.[a-z_]+\.[a-z_]+\.v[1-9][0-9]*$")
STREAM_RE = re.compile(
    r"^(registry|audit|case-[0-9a-f-]{36}|conf-[0-9a-f-]{36}|period-[0-9]{4}-(0[1-9]|1[0-2]|Q[1-4]))$"
)
ACTOR_RE = re.compile(r"^[a-z0-9:._-]+/[A-Za-z0-9:._-]+$")
SOURCE_RE = re.compile(r"^/[a-z0-9._/-]+$")


def split_type(event_type: str) -> tuple[str, int]:
    """'ledger.complaint.received.v1' -> ('ledger.complaint.received', 1)."""
    base, _, ver = event_type.rpartition(".v")
    return base, int(ver)


def actor_org(actor: str) -> str:
    return actor.partition("/")[0]


def actor_person(actor: str) -> str:
    """The staff id, or the complainant's pseudonym, of ``org/person``."""
    return actor.partition("/")[2]


def stream_period(stream: str) -> str:
    """'period-2026-Q4' -> '2026-Q4'."""
    return stream.partition("-")[2]


def stream_kind(stream: str) -> str:
    """registry | audit | case | conference | period (a month ``period-2026-11`` or a quarter
    ``period-2026-Q4``)."""
    if stream in ("registry", "audit"):
        return stream
    prefix = stream.partition("-")[0]
    return {"case": "case", "conf": "conference", "period": "period"}.get(prefix, "unknown")


class Envelope(BaseModel):
    """An event as written: every member is inside the signed bytes except ``sig``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    specversion: str = SPECVERSION
    id: str
    source: str
    type: str
    subject: str
    time: str
    datacontenttype: str = CONTENT_TYPE
    data: dict[str, Any]
    actor: str
    alg: str
    kid: str
    regseq: int = Field(ge=0)
    reghash: str | None = None
    prev: str | None = None
    partitionkey: str
    sig: str | None = None

    @field_validator("type")
    @classmethod
    def _type(cls, v: str) -> str:
        if not TYPE_RE.match(v):
            raise ValueError("type must look like ledger.<family>.<name>.v<N>")
        return v

    @field_validator("subject")
    @classmethod
    def _subject(cls, v: str) -> str:
        if not STREAM_RE.match(v):
            raise ValueError("subject is not a stream id")
        return v

    @field_validator("actor")
    @classmethod
    def _actor(cls, v: str) -> str:
        if not ACTOR_RE.match(v):
            raise ValueError("actor must be org/person")
        return v

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        if not SOURCE_RE.match(v):
            raise ValueError("source must be a deployment path")
        return v

    @model_validator(mode="after")
    def _key_is_stream(self) -> Envelope:
        if self.partitionkey != self.subject:
            raise ValueError("partitionkey must equal subject")
        return self

    def as_dict(self) -> dict[str, Any]:
        """The JSON object to canonicalise: absent optionals are omitted, not null."""
        return self.model_dump(exclude_none=True)
