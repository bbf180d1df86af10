"""Publication's API: HTTP in, commands out (its duties' placeholder page until they arrive)."""

from __future__ import annotations

from shared.web import Role
from shared.web.demo import demo_router

DUTIES = (
    "起草通报与公告，经审核后公开，不含秘密与任何个人信息",
    "公开网站：无需脚本即可浏览，图表由服务器生成",
    "公开透明日志：可验证每份通报已发布且未被改动",
)

router = demo_router("publication", Role.PUBLICATION_REVIEWER, DUTIES)
