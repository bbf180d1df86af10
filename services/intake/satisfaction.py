"""满意度评价: the complainant scores the handling 1–5 with the tracking code, once per
complaint, once the case has its outcome (resolved or closed) — pure; intake signs for them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from shared.ledger.signer import Draft
from shared.rules.case.state import OUTCOME
from shared.rules.stream import StreamState
from shared.web.command_path import Refusal, known_case

RATED = "ledger.complainant.satisfaction_rated.v1"

Rating = Annotated[int, Field(ge=1, le=5, description="1 非常不满意 … 5 非常满意")]

RATING_WORDS: dict[int, str] = {
    5: "非常满意",
    4: "满意",
    3: "基本满意",
    2: "不满意",
    1: "非常不满意",
}


def rate(state: StreamState, number: str, complainant: str, rating: int) -> list[Draft]:
    """The complainant's score for their complaint on this case."""
    case = known_case(state)
    on_case, who = case.complainant_of(number)
    if not on_case or who is None or who != complainant:
        raise Refusal("not_complainant", "查询号或查询码不正确")
    if case.status not in OUTCOME:
        raise Refusal("no_outcome", "本件尚未解决或办结，暂不能评价")
    if number in case.rated:
        raise Refusal("already_rated", "您已对本件作出评价，每件投诉只能评价一次")
    if not 1 <= rating <= 5:
        raise Refusal("bad_rating", "评价须为 1 至 5 分")
    data = {"complaint_no": number, "rating": rating}
    return [Draft(RATED, data, f"complainant/{complainant}")]
