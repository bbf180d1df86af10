"""Evidence files a unit sends with its claim of resolution (报办结): checked, then kept.

The log carries each file's SHA-256 only (``handling.resolution_claimed.evidence``); the bytes
live in oversight's durable store (``shared/durable/``: blobs addressed by their digest, checked
on every read), with one entry per case and file (``evidence``: ``<case id>/<sha256>`` -> media
type, size, the unit that sent it). ``ledger rebuild`` never touches that store.

Limits: at most ``MAX_FILES`` files, each non-empty and at most ``MAX_FILE_BYTES``, of a media
type in ``MEDIA_TYPES`` that the bytes themselves bear out (their magic numbers, read by the
``filetype`` library). A file outside them is refused with a precise problem (413 too large,
415 type not accepted or not what the bytes are, 422 empty or too many) before anything is
kept; the request body limit of the deployment (``LEDGER_MAX_BODY_BYTES``) bounds a request
as a whole. No problem names a file's name or content.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

import filetype
from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.durable.port import DurableStore
from shared.web.problems import (
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    VALIDATION,
    ProblemError,
)

EVIDENCE = "evidence"  # durable collection: "<case id>/<sha256>" -> what the file is
MAX_FILES = 5
MAX_FILE_BYTES = 8 * 1024 * 1024
MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "application/pdf", "video/mp4"})
BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"


class EvidenceUpload(BaseModel):
    """An evidence file as the API takes it (the page form takes files)."""

    model_config = ConfigDict(extra="forbid")

    media_type: Annotated[str, Field(max_length=100, examples=["image/jpeg"])]
    data: Annotated[
        str, Field(min_length=4, pattern=BASE64, description="The file's bytes, base64 (RFC 4648)")
    ]

    @field_validator("data")
    @classmethod
    def _base64(cls, value: str) -> str:
        try:
            base64.b64decode(value, validate=True)
        except (ValueError, binascii.Error):
            raise ValueError("not base64") from None
        return value

    def raw(self) -> bytes:
        return base64.b64decode(self.data, validate=True)


class ClaimWithEvidence(BaseModel):
    """报办结: what was done, and the evidence files it rests on (optional)."""

    model_config = ConfigDict(extra="forbid")

    summary: Annotated[str, Field(min_length=1, max_length=20_000)]
    evidence: Annotated[list[EvidenceUpload], Field(max_length=MAX_FILES)] = []


@dataclass(frozen=True)
class EvidenceFile:
    media_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def checked(files: Sequence[tuple[str, bytes]]) -> list[EvidenceFile]:
    """The files as (declared media type, bytes), each within the limits; else the problem."""
    if len(files) > MAX_FILES:
        raise ProblemError(VALIDATION, f"证据文件最多{MAX_FILES}个")
    out: list[EvidenceFile] = []
    for n, (declared, data) in enumerate(files, start=1):
        if not data:
            raise ProblemError(VALIDATION, f"第{n}个证据文件是空文件", extensions={"file": n})
        if len(data) > MAX_FILE_BYTES:
            raise ProblemError(
                PAYLOAD_TOO_LARGE,
                f"第{n}个证据文件超过{MAX_FILE_BYTES // (1024 * 1024)}MB",
                extensions={"file": n, "max_bytes": MAX_FILE_BYTES},
            )
        media = declared.strip().lower()
        if media not in MEDIA_TYPES:
            raise ProblemError(
                UNSUPPORTED_MEDIA_TYPE,
                f"第{n}个证据文件的类型不在允许之列（JPEG、PNG、PDF、MP4）",
                extensions={"file": n, "accepted": sorted(MEDIA_TYPES)},
            )
        if filetype.guess_mime(data) != media:
            raise ProblemError(
                UNSUPPORTED_MEDIA_TYPE,
                f"第{n}个证据文件的内容与所称类型不符",
                extensions={"file": n, "accepted": sorted(MEDIA_TYPES)},
            )
        out.append(EvidenceFile(media, data))
    return out


def of_uploads(uploads: Sequence[EvidenceUpload]) -> list[EvidenceFile]:
    return checked([(u.media_type, u.raw()) for u in uploads])


async def keep(store: DurableStore, case_id: str, unit: str, files: Sequence[EvidenceFile]) -> None:
    """Keep each file's bytes (by digest: a file sent twice is kept once) and what it is."""
    for f in files:
        digest = await store.put_blob(f.data)
        await store.put(
            EVIDENCE,
            f"{case_id}/{digest}",
            {"media_type": f.media_type, "size": len(f.data), "unit": unit},
        )
