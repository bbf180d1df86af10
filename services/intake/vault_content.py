"""What the complainant vault holds, as models (pure): the complainant's identity as the form
gives it, attachments as the API takes and the vault keeps them, one complaint's held content,
and one recorded look at it."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.events.catalog import Attachment
from shared.redaction import KnownPersonalData

MEDIA_TYPE = r"^[a-z]+/[a-z0-9.+-]{1,80}$"
BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"


class Identity(BaseModel):
    """The complainant as the form gives them (every field optional)."""

    model_config = ConfigDict(frozen=True)

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    id_number: str | None = None
    address: str | None = None
    contact: str | None = None  # how they asked to be reached (phone or e-mail)

    def known(self) -> KnownPersonalData:
        """What redaction must take out of the text for certain."""
        phones = [v for v in (self.phone, self.contact) if v and "@" not in v]
        emails = [v for v in (self.email, self.contact) if v and "@" in v]
        return KnownPersonalData(
            names=tuple(v for v in (self.name,) if v),
            phones=tuple(phones),
            emails=tuple(emails),
            id_numbers=tuple(v for v in (self.id_number,) if v),
            addresses=tuple(v for v in (self.address,) if v),
        )

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(v for v in self.model_dump().values() if v)


class AttachmentUpload(BaseModel):
    """An attachment as the API takes it (the page form takes files)."""

    model_config = ConfigDict(extra="forbid")

    media_type: Annotated[str, Field(pattern=MEDIA_TYPE)]
    data: Annotated[
        str,
        Field(min_length=4, pattern=BASE64, description="The file's bytes, base64 (RFC 4648)"),
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


class HeldAttachment(BaseModel):
    sha256: str
    media_type: str
    data: str  # base64 of the original bytes

    @classmethod
    def of(cls, raw: bytes, media_type: str) -> HeldAttachment:
        return cls(
            sha256=hashlib.sha256(raw).hexdigest(),
            media_type=media_type,
            data=base64.b64encode(raw).decode(),
        )

    def logged(self) -> Attachment:
        """What the log carries: the hash and media type only (the bytes stay here)."""
        return Attachment(sha256=self.sha256, media_type=self.media_type, redacted=False)


class Held(BaseModel):
    """What the vault holds about one complaint (decrypted)."""

    complaint_no: str
    identity: Identity
    text: str  # the original, before redaction
    attachments: list[HeldAttachment] = []


class View(BaseModel):
    """One look at a vault entry by staff: who, when, why."""

    case: str
    complaint_no: str
    staff_id: str
    body: str
    role: str
    reason: str
    at: str
