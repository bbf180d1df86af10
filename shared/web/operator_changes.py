"""What an administrator may change about an operator, decided without I/O.

``decide(operators, command)`` takes every operator of an identity store as it stands and one
administrative command (create, disable, enable, reset password, set roles, set body or unit;
or the person's own password change) and returns either the :class:`Change` to apply — the
operator's record before and after, and what else goes with it (credentials revoked, a new
password hash) — or a :class:`Refusal` that says why nothing may be written. The identity store
(``identity.py``) runs it inside one write transaction, so the "last administrator" rule sees
what every other writer committed.

The rules:

- a staff id is created once; a command names an operator that exists;
- a command that changes nothing is refused (it would fill the record with noise);
- no change may leave the store without an enabled administrator (when it had one);
- a unit's handlers are operators *of that unit*: role ``unit_handler`` goes with a body of the
  form ``unit:<unit id>`` (the org of the actor the unit's events name, ``shared/rules/act.py``)
  and with no other role; a body's staff hold no ``unit_handler`` role.

Disabling revokes every credential (so re-enabling brings no old session back), and so does a
password reset (the holder of the old password may be someone else).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.rules.act import UNIT_PREFIX
from shared.web.roles import Role

# A staff id is the person part of an ``org/person`` actor: no slash, no spaces.
STAFF_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
# A body id, or ``unit:`` and a unit id: the org part of an actor.
BODY_PATTERN = r"^(unit:)?[A-Za-z0-9][A-Za-z0-9._-]{0,95}$"

StaffId = Annotated[str, Field(pattern=STAFF_ID_PATTERN, description="工号")]
BodyId = Annotated[
    str, Field(pattern=BODY_PATTERN, description="所属机构；承办单位写作 unit:<单位编号>")
]
DisplayName = Annotated[str, Field(min_length=1, max_length=64, description="姓名")]

Action = Literal[
    "created",
    "disabled",
    "enabled",
    "password_reset",
    "roles_changed",
    "body_changed",
    "password_changed",
]

ACTION_LABELS: dict[str, str] = {
    "created": "创建",
    "disabled": "停用",
    "enabled": "重新启用",
    "password_reset": "重置密码",
    "roles_changed": "变更角色",
    "body_changed": "变更所属机构",
    "password_changed": "本人修改密码",
}


class OperatorState(BaseModel):
    """An operator as the administrator sees it (never a password or its hash)."""

    model_config = ConfigDict(frozen=True)

    staff_id: str
    body: str
    roles: frozenset[Role]
    display_name: str | None = None
    disabled: bool = False
    must_change_password: bool = False

    @property
    def is_unit_handler(self) -> bool:
        return self.body.startswith(UNIT_PREFIX)


class _Named(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    staff_id: StaffId


class Create(_Named):
    kind: Literal["create"] = "create"
    body: BodyId
    roles: frozenset[Role] = Field(min_length=1)
    display_name: DisplayName | None = None
    # A temporary password set by an administrator must be replaced at the first sign-in.
    must_change_password: bool = True


class Disable(_Named):
    kind: Literal["disable"] = "disable"


class Enable(_Named):
    kind: Literal["enable"] = "enable"


class ResetPassword(_Named):
    kind: Literal["reset_password"] = "reset_password"


class SetRoles(_Named):
    kind: Literal["set_roles"] = "set_roles"
    roles: frozenset[Role] = Field(min_length=1)


class SetBody(_Named):
    kind: Literal["set_body"] = "set_body"
    body: BodyId


class ChangeOwnPassword(_Named):
    """The person replaces their password (the must-change flag is cleared)."""

    kind: Literal["change_own_password"] = "change_own_password"


OperatorCommand = Create | Disable | Enable | ResetPassword | SetRoles | SetBody | ChangeOwnPassword


class RefusalKind(StrEnum):
    unknown_operator = "unknown_operator"
    duplicate_staff_id = "duplicate_staff_id"
    unchanged = "unchanged"
    no_admin_left = "no_admin_left"
    roles_do_not_fit_body = "roles_do_not_fit_body"


@dataclass(frozen=True)
class Refusal:
    kind: RefusalKind
    message: str  # fixed zh-CN text: never a submitted value


@dataclass(frozen=True)
class Change:
    action: Action
    before: OperatorState | None
    after: OperatorState
    revoke_credentials: bool = False  # every token and session of the operator ends now
    sets_password: bool = False  # the command brings a new password hash

    @property
    def staff_id(self) -> str:
        return self.after.staff_id

    def fields(self) -> dict[str, list[Any]]:
        """What changed, field by field, as ``[before, after]`` (the record of changes)."""
        out: dict[str, list[Any]] = {}
        for name in ("body", "roles", "display_name", "disabled", "must_change_password"):
            old = getattr(self.before, name) if self.before is not None else None
            new = getattr(self.after, name)
            if self.before is None and new in (None, False):
                continue  # a new operator's defaults say nothing
            if old != new:
                out[name] = [_plain(old), _plain(new)]
        return out


def _plain(value: Any) -> Any:
    return sorted(r.value for r in value) if isinstance(value, frozenset) else value


UNKNOWN = Refusal(RefusalKind.unknown_operator, "没有该工号的操作员")


def roles_fit_body(body: str, roles: frozenset[Role]) -> Refusal | None:
    """A unit's handlers belong to the unit and hold only that role; a body's staff never it."""
    in_unit = body.startswith(UNIT_PREFIX)
    if in_unit and roles != {Role.UNIT_HANDLER}:
        return Refusal(
            RefusalKind.roles_do_not_fit_body,
            "承办单位（unit:…）的操作员只能担任“承办单位经办人”，不能兼任其他角色",
        )
    if not in_unit and Role.UNIT_HANDLER in roles:
        return Refusal(
            RefusalKind.roles_do_not_fit_body,
            "“承办单位经办人”必须属于某一承办单位（所属机构写作 unit:<单位编号>）",
        )
    return None


def _enabled_admins(operators: Mapping[str, OperatorState]) -> int:
    return sum(1 for op in operators.values() if not op.disabled and Role.ADMIN in op.roles)


def _next_state(current: OperatorState | None, command: OperatorCommand) -> Change | Refusal:
    if isinstance(command, Create):
        if current is not None:
            return Refusal(RefusalKind.duplicate_staff_id, "该工号已存在")
        created = OperatorState(
            staff_id=command.staff_id,
            body=command.body,
            roles=command.roles,
            display_name=command.display_name,
            must_change_password=command.must_change_password,
        )
        return Change("created", None, created, sets_password=True)
    if current is None:
        return UNKNOWN
    if isinstance(command, Disable):
        if current.disabled:
            return Refusal(RefusalKind.unchanged, "该操作员已处于停用状态")
        after = current.model_copy(update={"disabled": True})
        return Change("disabled", current, after, revoke_credentials=True)
    if isinstance(command, Enable):
        if not current.disabled:
            return Refusal(RefusalKind.unchanged, "该操作员已处于启用状态")
        after = current.model_copy(update={"disabled": False})
        return Change("enabled", current, after)
    if isinstance(command, ResetPassword):
        after = current.model_copy(update={"must_change_password": True})
        return Change("password_reset", current, after, revoke_credentials=True, sets_password=True)
    if isinstance(command, SetRoles):
        if command.roles == current.roles:
            return Refusal(RefusalKind.unchanged, "角色没有变化")
        after = current.model_copy(update={"roles": command.roles})
        return Change("roles_changed", current, after)
    if isinstance(command, SetBody):
        if command.body == current.body:
            return Refusal(RefusalKind.unchanged, "所属机构没有变化")
        after = current.model_copy(update={"body": command.body})
        return Change("body_changed", current, after)
    after = current.model_copy(update={"must_change_password": False})
    # Other sessions end; the caller keeps the one the change was made in (identity.py).
    return Change("password_changed", current, after, revoke_credentials=True, sets_password=True)


def decide(operators: Mapping[str, OperatorState], command: OperatorCommand) -> Change | Refusal:
    """The change ``command`` makes to the operators as they stand, or why it may not."""
    outcome = _next_state(operators.get(command.staff_id), command)
    if isinstance(outcome, Refusal):
        return outcome
    after = outcome.after
    if outcome.before is None or (after.roles, after.body) != (
        outcome.before.roles,
        outcome.before.body,
    ):
        misfit = roles_fit_body(after.body, after.roles)
        if misfit is not None:
            return misfit
    admins_after = _enabled_admins({**operators, after.staff_id: after})
    if _enabled_admins(operators) > 0 and admins_after == 0:
        return Refusal(
            RefusalKind.no_admin_left, "此操作后本服务将没有可用的系统管理员：请先指定另一位管理员"
        )
    return outcome
