"""The roles an operator can hold: the one list every service checks against."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    INTAKE_CLERK = "intake_clerk"
    DISPATCH_OFFICER = "dispatch_officer"
    CONFERENCE_MEMBER = "conference_member"
    SUPERVISOR = "supervisor"
    UNIT_HANDLER = "unit_handler"
    PUBLICATION_REVIEWER = "publication_reviewer"
    AUDITOR = "auditor"
    ADMIN = "admin"


ROLE_LABELS: dict[Role, str] = {
    Role.INTAKE_CLERK: "受理员",
    Role.DISPATCH_OFFICER: "转办员",
    Role.CONFERENCE_MEMBER: "联席会议成员",
    Role.SUPERVISOR: "督办员",
    Role.UNIT_HANDLER: "承办单位经办人",
    Role.PUBLICATION_REVIEWER: "公开审核员",
    Role.AUDITOR: "审计员",
    Role.ADMIN: "系统管理员",
}


def role_label(role: Role | str) -> str:
    try:
        return ROLE_LABELS[Role(role)]
    except ValueError:
        return str(role)
