"""Dispatch's API: HTTP in, commands out (its duties' placeholder page until they arrive)."""

from __future__ import annotations

from shared.web import Role
from shared.web.demo import demo_router

DUTIES = (
    "按转办规则直接交办或并联交办，写明办结时限（限时办结）",
    "受理退单申请并作出裁定，裁定前承办单位时限照常计算（首接负责）",
    "召集联席会议，记录各成员意见，缺席视为同意（缺席默认）",
)

router = demo_router("dispatch", Role.DISPATCH_OFFICER, DUTIES)
