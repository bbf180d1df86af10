"""The pure half of replies out (services/intake/delivery.py, satisfaction.py, the status
projection and the exports): which events reach complainants, who, on which channel, with which
text, under which id; the score's refusals; what the status table folds; what the exports hold."""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson
import pytest

from services.intake.delivery import (
    CLOSED,
    CONTEST,
    EXTENSION_RULED,
    NOTICES,
    REOPENED,
    REPLIED,
    Filed,
    channel_for,
    delivery_id,
    message,
    recipients,
)
from services.intake.delivery_channels import (
    DeliverySettings,
    OutboxRow,
    call_list_csv,
    mail_of,
    platform_jsonl,
)
from services.intake.satisfaction import RATED, rate
from services.intake.status_projection import CaseStatus
from services.intake.vault_content import Identity
from shared.events.catalog import Channel, ComplaintDelivered, DeliveryChannel
from shared.readside.projection import Accepted
from shared.rules.case.state import CLAIMED, RESOLVED, CaseState
from shared.rules.case.state import CLOSED as CLOSED_STATUS
from shared.rules.stream import StreamState
from shared.web.command_path import Refusal

P1, P2 = "a" * 64, "b" * 64


def test_the_table_covers_every_event_that_reaches_the_complainant() -> None:
    assert NOTICES == {
        REPLIED: "reply",
        CLOSED: "closure",
        EXTENSION_RULED: "notice",
        REOPENED: "notice",
    }
    for what in NOTICES.values():  # each is a ``what`` the catalog takes
        ComplaintDelivered(complaint_no="TS1", channel="web", cause="c", what=what)


def test_every_complainant_of_the_case_own_and_gathered_and_no_anonymous_one() -> None:
    case = CaseState(complaints=(("TS1", P1), ("TS2", None), ("TS3", P2)))
    assert [(r.complaint_no, r.complainant) for r in recipients(case)] == [
        ("TS1", P1),
        ("TS3", P2),
    ]


def test_a_delivery_id_is_derived_from_cause_and_complaint() -> None:
    cause = "0190a0b0-0000-7000-8000-000000000001"
    assert delivery_id(cause, "TS1") == delivery_id(cause, "TS1")
    assert delivery_id(cause, "TS1") != delivery_id(cause, "TS2")
    assert delivery_id(cause, "TS1") != delivery_id("0190a0b0-0000-7000-8000-000000000002", "TS1")


MAIL = Identity(email="a@example.cn")
PHONE = Identity(phone="13812345678")


@pytest.mark.parametrize(
    ("channel", "identity", "smtp", "expected"),
    [
        (Channel.email, MAIL, True, DeliveryChannel.email),
        (Channel.email, Identity(contact="a@example.cn", phone="13812345678"), False, "phone"),
        (Channel.email, MAIL, False, DeliveryChannel.web),  # no SMTP, nothing else known
        (Channel.phone, PHONE, True, DeliveryChannel.phone),
        (Channel.hotline_12345, PHONE, True, DeliveryChannel.phone),
        (Channel.letter, Identity(address="某路 1 号"), True, DeliveryChannel.letter),
        (Channel.online_platform, PHONE, True, DeliveryChannel.online_platform),
        (Channel.open311, Identity(), True, DeliveryChannel.open311),
        (Channel.web_form, Identity(contact="a@example.cn"), True, DeliveryChannel.email),
        (Channel.web_form, Identity(contact="13812345678"), True, DeliveryChannel.phone),
        (Channel.visit, Identity(address="某路 1 号"), True, DeliveryChannel.letter),
        (Channel.visit, Identity(), True, DeliveryChannel.web),
    ],
)
def test_each_complainant_on_their_own_channel(
    channel: Channel, identity: Identity, smtp: bool, expected: str
) -> None:
    assert channel_for(Filed("case-x", channel), identity, smtp) == expected


def test_the_texts_say_what_happened_and_the_closure_how_to_contest() -> None:
    reply = message(REPLIED, {"text": "原文"}, "TS1", "已整改[姓名1]")
    assert "TS1" in reply.subject and "已整改[姓名1]" in reply.body and "原文" not in reply.body
    closed = message(CLOSED, {"finding": "partly_substantiated"}, "TS1", "")
    assert "部分属实" in closed.body and CONTEST in closed.body and "/public/follow-up" in CONTEST
    granted = message(
        EXTENSION_RULED, {"granted": True, "due_at": "2026-12-31T18:00:00+08:00"}, "TS1", ""
    )
    assert "已批准" in granted.body and "2026年12月31日" in granted.body
    refused = message(EXTENSION_RULED, {"granted": False}, "TS1", "")
    assert "不予批准" in refused.body
    assert "重新办理" in message(REOPENED, {}, "TS1", "").body
    with pytest.raises(ValueError):
        message("ledger.handling.progress.v1", {}, "TS1", "")


def _row(**over: Any) -> OutboxRow:
    values: dict[str, Any] = {
        "id": "0190a0b0-0000-5000-8000-000000000001",
        "case": "case-x",
        "stream": "case-y",
        "cause": "c",
        "cause_type": REPLIED,
        "complaint_no": "TS1",
        "channel": DeliveryChannel.phone,
        "what": "reply",
        "subject": "主题",
        "body": "正文",
        "at": "2026-12-01T00:00:00+00:00",
        "sent": True,
        **over,
    }
    return OutboxRow(**values)


def test_the_mail_carries_a_message_id_derived_from_the_delivery() -> None:
    mail = mail_of(_row(channel="email"), "a@example.cn", "noreply@office.example")
    assert mail["Message-ID"] == "<0190a0b0-0000-5000-8000-000000000001@office.example>"
    assert mail["To"] == "a@example.cn" and mail.get_content().strip() == "正文"


def test_the_call_list_has_the_number_and_the_platform_file_no_contact() -> None:
    text = call_list_csv([(_row(), {"phone": "13812345678", "name": "李四"})])
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[1][:3] == ["TS1", "13812345678", "李四"]
    [line] = platform_jsonl([_row(channel="online_platform", platform="人民网")]).splitlines()
    assert orjson.loads(line) == {
        "complaint_no": "TS1",
        "what": "reply",
        "subject": "主题",
        "body": "正文",
        "at": "2026-12-01T00:00:00+00:00",
    }


def test_email_needs_an_smtp_host() -> None:
    assert not DeliverySettings(smtp_host="").smtp
    assert DeliverySettings(smtp_host="127.0.0.1").smtp


# -- the score ---------------------------------------------------------------------------------


def _state(status: str, rated: tuple[str, ...] = ()) -> StreamState:
    case = CaseState(status=status, complaints=(("TS1", P1), ("TS2", P2)), rated=rated)
    return StreamState(stream="case-x", kind="case", accepted=1, domain=case)


def test_a_score_once_per_complaint_by_its_complainant_after_the_outcome() -> None:
    [d] = rate(_state(RESOLVED), "TS2", P2, 5)
    assert d.type == RATED and d.data == {"complaint_no": "TS2", "rating": 5}
    assert d.actor == f"complainant/{P2}"
    assert rate(_state(CLOSED_STATUS), "TS1", P1, 1)[0].data["rating"] == 1
    for state, number, who, score, reason in (
        (_state(CLAIMED), "TS1", P1, 4, "no_outcome"),
        (_state(RESOLVED, ("TS1",)), "TS1", P1, 4, "already_rated"),
        (_state(RESOLVED), "TS1", P2, 4, "not_complainant"),
        (_state(RESOLVED), "TS9", P1, 4, "not_complainant"),
        (_state(RESOLVED), "TS1", P1, 6, "bad_rating"),
        (_state(RESOLVED), "TS1", P1, 0, "bad_rating"),
    ):
        with pytest.raises(Refusal) as refused:
            rate(state, number, who, score)
        assert refused.value.reason == reason


# -- the status table --------------------------------------------------------------------------


def _accepted(event_type: str, data: dict[str, Any], t: int) -> Accepted:
    return Accepted(
        stream="case-x",
        partition=0,
        offset=t,
        log_time=t,
        id=f"e{t}",
        type=event_type,
        actor="unit:x/H001",
        source="/bodies/efficiency-office/oversight",
        data=data,
        envelope={},
    )


def test_the_status_table_keeps_replies_rulings_and_finding_never_who() -> None:
    table = CaseStatus()
    doc: dict[str, Any] | None = None
    for event in (
        _accepted(REPLIED, {"unit": "unit:x", "text": "答复一"}, 1),
        _accepted(EXTENSION_RULED, {"unit": "unit:x", "granted": False, "ruling": "否"}, 2),
        _accepted(CLOSED, {"basis": "anonymous", "finding": "substantiated"}, 3),
        _accepted(REOPENED, {"reason": "r", "units": []}, 4),
        _accepted(CLOSED, {"basis": "anonymous", "finding": "unsubstantiated"}, 5),
        _accepted(RATED, {"complaint_no": "TS1", "rating": 3}, 6),
    ):
        [write] = table.apply(doc, event)
        doc = dict(write.doc)
    assert doc is not None
    assert doc["replies"] == [{"at": 1, "text": "答复一"}]
    assert doc["extensions"] == [{"at": 2, "granted": False, "due_at": None}]
    assert doc["reopened"] == [4] and doc["finding"] == "unsubstantiated"
    assert doc["closed_at"] == 5 and doc["ratings"] == {"TS1": 3}
    assert "H001" not in orjson.dumps(doc).decode()
    assert table.apply(doc, _accepted("ledger.handling.progress.v1", {}, 7)) == []


def test_oversight_s_own_sentence_is_sent_as_the_log_holds_it() -> None:
    told = "承办单位申请延长办理期限，经督办机构审核同意，办理期限延长至2026年12月31日24时。"
    data = {"granted": True, "due_at": "2027-01-01T00:00:00+08:00", "complainant_notice": told}
    sent = message(EXTENSION_RULED, data, "TS1", "")
    assert sent.body.startswith(told) and "已批准" not in sent.body
    assert "办理期限审批结果" in sent.subject
    reopened = message(REOPENED, {"complainant_notice": "重办。"}, "TS1", "")
    assert reopened.body.startswith("重办。") and "已重新交办" in reopened.subject
