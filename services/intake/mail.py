"""E-mail intake (电子邮件受理): one RFC 5322 message becomes one complaint — pure.

The subject and the body (text/plain preferred; HTML turned into text) are the complaint text;
the signature block (after the ``-- `` line, RFC 3676) is cut off, since it holds the sender's
name, post and numbers. Every header is personal data: the Reply-To (or From) address is the
complainant's contact, which reaches the filing path and the vault and never the log (only its
keyed pseudonym does); no other header value is kept. Attachments become their SHA-256 and media
type (the bytes are kept in intake's durable store, out of the log).

The message's identity is its Message-ID and sender, or the hash of its bytes when it has none
(:attr:`MailComplaint.key`): filing the same message again — a re-upload, a rerun over the
maildir — opens the same case stream and writes nothing new.
"""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import re
from dataclasses import dataclass
from email.message import EmailMessage, Message
from enum import StrEnum

from bs4 import BeautifulSoup

from services.intake.vault_content import MEDIA_TYPE, AttachmentUpload

MAX_TEXT = 20_000
_SIGNATURE = re.compile(r"^-- ?$", re.MULTILINE)
_BLANK_RUNS = re.compile(r"\n{3,}")


class MailProblem(StrEnum):
    unreadable = "unreadable"  # not an RFC 5322 message with a text body or a subject
    empty = "empty"  # neither a subject nor any body text
    too_long = "too_long"  # the text exceeds what one complaint holds


MAIL_PROBLEM_LABELS: dict[MailProblem, str] = {
    MailProblem.unreadable: "无法读取该邮件（不是有效的 RFC 5322 邮件）",
    MailProblem.empty: "邮件没有主题也没有正文",
    MailProblem.too_long: f"邮件正文超过 {MAX_TEXT} 字，请人工登记",
}


class MailRefused(Exception):
    def __init__(self, problem: MailProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True)
class MailAttachment:
    data: bytes
    media_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def as_upload(self) -> AttachmentUpload:
        """As the filing path takes it: the vault keeps the bytes (encrypted), the log only
        their SHA-256 and media type (a type the log cannot name is octet-stream)."""
        media = self.media_type.lower()
        if not re.fullmatch(MEDIA_TYPE, media):
            media = "application/octet-stream"
        return AttachmentUpload(media_type=media, data=base64.b64encode(self.data).decode())


@dataclass(frozen=True)
class MailComplaint:
    key: str  # the idempotency key: from the Message-ID, or the message's hash
    text: str
    contact: str | None
    attachments: tuple[MailAttachment, ...]


def message_key(msg: Message, raw: bytes, sender: str | None) -> str:
    """The Message-ID with the sender's address (so a sender cannot claim another's message
    by reusing its Message-ID), or the message's bytes when it has no Message-ID."""
    message_id = str(msg.get("Message-ID", "") or "").strip().strip("<>").strip()
    if message_id:
        named = f"{message_id}\x00{(sender or '').lower()}".encode("utf-8", "replace")
        return "mail:" + hashlib.sha256(named).hexdigest()
    return "mail-bytes:" + hashlib.sha256(raw).hexdigest()


def html_text(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup(["script", "style", "head"]):
        hidden.decompose()
    return soup.get_text("\n")


def without_signature(text: str) -> str:
    match = _SIGNATURE.search(text)
    return text[: match.start()] if match else text


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def _body_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    if not isinstance(content, str):
        return ""
    if part.get_content_type() == "text/html":
        content = html_text(content)
    return without_signature(content)


def _address(msg: EmailMessage, header: str) -> str | None:
    value = msg.get(header)
    addresses = getattr(value, "addresses", ()) if value is not None else ()
    for address in addresses:
        spec = str(address.addr_spec or "").strip()
        if 3 <= len(spec) <= 100 and "@" in spec:
            return spec
    return None


def _attachments(msg: EmailMessage) -> tuple[MailAttachment, ...]:
    found = []
    for part in msg.iter_attachments():
        data = part.get_payload(decode=True)
        if isinstance(data, bytes) and data:
            found.append(MailAttachment(data, part.get_content_type()))
    return tuple(found)


def parse_message(raw: bytes) -> MailComplaint:
    """The complaint one message makes, or :class:`MailRefused` naming why it cannot."""
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        if not msg.keys():
            raise MailRefused(MailProblem.unreadable)
        subject = _tidy(str(msg.get("Subject", "") or ""))
        body = _tidy(_body_text(msg))
        sender = _address(msg, "From")
        contact = _address(msg, "Reply-To") or sender
        attachments = _attachments(msg)
        key = message_key(msg, raw, sender)
    except MailRefused:
        raise
    except Exception:  # the email package raises many kinds on malformed input
        raise MailRefused(MailProblem.unreadable) from None
    text = "\n\n".join(t for t in (subject, body) if t)
    if not text:
        raise MailRefused(MailProblem.empty)
    if len(text) > MAX_TEXT:
        raise MailRefused(MailProblem.too_long)
    return MailComplaint(key, text, contact, attachments)
