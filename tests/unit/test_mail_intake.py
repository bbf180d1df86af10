"""E-mail intake's pure part: one RFC 5322 message → the complaint text, the contact, the
attachments by hash, and the key that makes a message one complaint however often it is filed."""

from __future__ import annotations

import base64
import hashlib
from email.message import EmailMessage

import pytest

from services.intake.mail import MAX_TEXT, MailProblem, MailRefused, parse_message


def mail(
    body: str = "窗口无人办理。",
    *,
    subject: str | None = "投诉：审批拖延",
    message_id: str | None = "<m1@example.net>",
    reply_to: str | None = None,
    sender: str = "张三 <zhang@example.net>",
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    if reply_to:
        msg["Reply-To"] = reply_to
    if subject is not None:
        msg["Subject"] = subject
    if message_id is not None:
        msg["Message-ID"] = message_id
    msg.set_content(body)
    return msg


def test_subject_and_plain_body_are_the_text_and_the_signature_is_cut() -> None:
    parsed = parse_message(mail("第一段。\n\n\n\n第二段。\n-- \n张三\n13800001111\n").as_bytes())
    assert parsed.text == "投诉：审批拖延\n\n第一段。\n\n第二段。"
    assert "13800001111" not in parsed.text and "张三" not in parsed.text


def test_plain_text_is_preferred_to_html() -> None:
    msg = mail("纯文本正文。")
    msg.add_alternative("<p>网页正文。</p>", subtype="html")
    assert parse_message(msg.as_bytes()).text.endswith("纯文本正文。")


def test_html_only_becomes_text_without_scripts_or_styles() -> None:
    msg = mail(subject=None)
    msg.set_content(
        "<html><head><title>t</title><style>p{color:red}</style></head><body>"
        "<p>第一段</p><script>alert(1)</script><p>第二段</p></body></html>",
        subtype="html",
    )
    assert parse_message(msg.as_bytes()).text == "第一段\n第二段"


def test_reply_to_is_the_contact_else_from() -> None:
    assert parse_message(mail(reply_to="r@example.org").as_bytes()).contact == "r@example.org"
    assert parse_message(mail().as_bytes()).contact == "zhang@example.net"
    assert parse_message(mail(sender="undisclosed-recipients:;").as_bytes()).contact is None


def test_attachments_go_to_the_vault_as_their_bytes_and_media_type() -> None:
    msg = mail()
    data = b"%PDF-1.4 evidence"
    msg.add_attachment(data, maintype="application", subtype="pdf", filename="a.pdf")
    msg.add_attachment(b"odd", maintype="application", subtype="x_odd type", filename="b")
    pdf, odd = parse_message(msg.as_bytes()).attachments
    assert pdf.sha256 == hashlib.sha256(data).hexdigest()
    upload = pdf.as_upload()
    assert (upload.media_type, base64.b64decode(upload.data)) == ("application/pdf", data)
    assert odd.as_upload().media_type == "application/octet-stream"  # a type the log cannot name


def test_the_message_id_names_the_message_else_its_bytes() -> None:
    a = parse_message(mail("甲。").as_bytes()).key
    b = parse_message(mail("乙。").as_bytes()).key  # same Message-ID, other bytes
    assert a == b and a.startswith("mail:") and "m1@" not in a
    other_sender = parse_message(mail("甲。", sender="w@example.org").as_bytes()).key
    assert other_sender != a  # a reused Message-ID does not make another's message one
    raw = mail(message_id=None).as_bytes()
    assert parse_message(raw).key == "mail-bytes:" + hashlib.sha256(raw).hexdigest()
    assert parse_message(raw).key != parse_message(mail("别的。", message_id=None).as_bytes()).key


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"", MailProblem.unreadable),
        (b"no headers at all, just words", MailProblem.unreadable),
        (mail("", subject=None).as_bytes(), MailProblem.empty),
        (mail("长" * MAX_TEXT).as_bytes(), MailProblem.too_long),
    ],
)
def test_what_cannot_be_a_complaint_is_refused_by_kind(raw: bytes, problem: MailProblem) -> None:
    with pytest.raises(MailRefused) as refused:
        parse_message(raw)
    assert refused.value.problem is problem
