"""Oversight's API: HTTP in, commands out (its duties' placeholder page until they arrive)."""

from __future__ import annotations

from shared.web import Role
from shared.web.demo import demo_router

DUTIES = (
    "为每件投诉计时，超时即视为办结并由承办单位担责（超时默认）",
    "逐级督办与挂牌督办，直至办结",
    "承办单位工作台：签收、答复、进展、申请延期",
    "暗访、问责与效能考核，统计回复率、解决率、满意率",
)

router = demo_router("oversight", Role.SUPERVISOR, DUTIES)
