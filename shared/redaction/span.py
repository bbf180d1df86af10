"""What redaction finds: a kind of personal data at a character range of the original text."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Kind(StrEnum):
    NAME = "name"
    ID_NUMBER = "id_number"
    MOBILE = "mobile"
    LANDLINE = "landline"
    EMAIL = "email"
    ADDRESS = "address"
    PLATE = "plate"

    @property
    def label(self) -> str:
        """The placeholder's word; names are numbered per person (【姓名1】)."""
        return _LABELS[self]


_LABELS = {
    Kind.NAME: "姓名",
    Kind.ID_NUMBER: "身份证号",
    Kind.MOBILE: "手机号",
    Kind.LANDLINE: "电话",
    Kind.EMAIL: "邮箱",
    Kind.ADDRESS: "地址",
    Kind.PLATE: "车牌",
}

# When two findings overlap, the earlier kind here wins (a checksum-valid ID number is surer
# than a mobile number inside it; an address absorbs an estate name the recogniser took for a
# person).
PRIORITY = (
    Kind.ID_NUMBER,
    Kind.EMAIL,
    Kind.MOBILE,
    Kind.LANDLINE,
    Kind.PLATE,
    Kind.ADDRESS,
    Kind.NAME,
)


class Span(BaseModel):
    """``text[start:end]`` of the original text is personal data of ``kind``."""

    model_config = ConfigDict(frozen=True)

    kind: Kind
    start: int
    end: int
    # For names while redacting: who it is (the folded, whitespace-free name), so one person
    # gets one number; empty in what ``redact`` returns.
    person: str | None = None
    placeholder: str = ""
