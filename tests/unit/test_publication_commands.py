"""Publication's decisions, each as a pair: a notice drafted from the log's own facts and
published unchanged (the rule book agrees), or refused with the reason."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.publication import commands
from services.publication.notice_text import notice_text, text_sha256
from shared.rules.case import ASSIGNED, CLOSED, CaseState
from shared.web.command_path import Refusal
from tests.unit.service_decide_support import STREAM, judged, lead, stream

REVIEWER = "efficiency-office/P001"
CLOSED_CASE = CaseState(
    status=CLOSED, unit="city-housing-bureau", clocks=(lead(),), finding="substantiated"
)
FIELDS = commands.DraftNotice(
    unit="city-housing-bureau", category="窗口服务", finding="substantiated"
)


def test_a_draft_hashes_the_text_its_fields_give() -> None:
    [draft] = commands.draft(stream(CLOSED_CASE), FIELDS, "窗口服务", REVIEWER)
    nid = commands.notice_id(STREAM, 1)
    assert draft.data == {
        "notice_id": nid,
        "text_sha256": text_sha256(notice_text(nid, FIELDS.unit, "窗口服务", "substantiated")),
    }
    assert judged(CLOSED_CASE, draft) is None


@pytest.mark.parametrize(
    ("case", "fields", "category", "reason"),
    [
        (CLOSED_CASE._replace(status=ASSIGNED), FIELDS, "窗口服务", "not_closed"),
        (CLOSED_CASE._replace(confidential=True), FIELDS, "窗口服务", "confidential"),
        (CLOSED_CASE._replace(notices=(("N1", "drafted"),)), FIELDS, "窗口服务", "already_noticed"),
        (
            CLOSED_CASE,
            FIELDS.model_copy(update={"finding": "unsubstantiated"}),
            "窗口服务",
            "fields_mismatch",
        ),
        (
            CLOSED_CASE,
            FIELDS.model_copy(update={"unit": "other-bureau"}),
            "窗口服务",
            "fields_mismatch",
        ),
        (CLOSED_CASE, FIELDS, "服务态度", "fields_mismatch"),
    ],
)
def test_draft_refuses(
    case: CaseState, fields: commands.DraftNotice, category: str, reason: str
) -> None:
    with pytest.raises(Refusal) as refused:
        commands.draft(stream(case), fields, category, REVIEWER)
    assert refused.value.reason == reason


def test_a_notice_takes_no_free_text() -> None:
    with pytest.raises(ValidationError):
        commands.DraftNotice.model_validate({**FIELDS.model_dump(), "text": "自由文字"})


def test_publish_takes_the_drafted_notice_only() -> None:
    drafted = CLOSED_CASE._replace(notices=(("N1", "drafted"),))
    [draft] = commands.publish(stream(drafted), "N1", "a" * 64, REVIEWER)
    assert judged(drafted, draft) is None
    for case, nid in (
        (drafted, "N2"),
        (CLOSED_CASE._replace(notices=(("N1", "published"),)), "N1"),
    ):
        with pytest.raises(Refusal) as refused:
            commands.publish(stream(case), nid, "a" * 64, REVIEWER)
        assert refused.value.reason == "not_drafted"
