"""The administrative rules for operators, pure: each command's change, and each refusal."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.web.operator_changes import (
    Change,
    ChangeOwnPassword,
    Create,
    Disable,
    Enable,
    OperatorState,
    Refusal,
    RefusalKind,
    ResetPassword,
    SetBody,
    SetRoles,
    decide,
)
from shared.web.roles import Role

ADMIN = OperatorState(staff_id="a1", body="efficiency-office", roles=frozenset({Role.ADMIN}))
CLERK = OperatorState(staff_id="c1", body="efficiency-office", roles=frozenset({Role.INTAKE_CLERK}))
HANDLER = OperatorState(staff_id="h1", body="unit:roads", roles=frozenset({Role.UNIT_HANDLER}))
STORE = {op.staff_id: op for op in (ADMIN, CLERK, HANDLER)}


def changed(outcome: Change | Refusal) -> Change:
    assert isinstance(outcome, Change), outcome
    return outcome


def refused(outcome: Change | Refusal, kind: RefusalKind) -> None:
    assert isinstance(outcome, Refusal), outcome
    assert outcome.kind is kind


def test_create_makes_an_operator_who_must_change_the_password() -> None:
    c = changed(
        decide(STORE, Create(staff_id="n1", body="efficiency-office", roles={Role.AUDITOR}))
    )
    assert c.action == "created" and c.before is None and c.sets_password
    assert c.after.must_change_password and not c.after.disabled
    assert c.fields() == {
        "body": [None, "efficiency-office"],
        "roles": [None, ["auditor"]],
        "must_change_password": [None, True],
    }


def test_a_staff_id_is_created_once() -> None:
    refused(
        decide(STORE, Create(staff_id="c1", body="x", roles={Role.AUDITOR})),
        RefusalKind.duplicate_staff_id,
    )


def test_disable_revokes_and_enable_does_not() -> None:
    off = changed(decide(STORE, Disable(staff_id="c1")))
    assert off.after.disabled and off.revoke_credentials
    assert off.fields() == {"disabled": [False, True]}
    on = changed(decide({**STORE, "c1": off.after}, Enable(staff_id="c1")))
    assert not on.after.disabled and not on.revoke_credentials


def test_a_command_that_changes_nothing_is_refused() -> None:
    refused(decide(STORE, Enable(staff_id="c1")), RefusalKind.unchanged)
    off = {**STORE, "c1": STORE["c1"].model_copy(update={"disabled": True})}
    refused(decide(off, Disable(staff_id="c1")), RefusalKind.unchanged)
    refused(
        decide(STORE, SetRoles(staff_id="c1", roles={Role.INTAKE_CLERK})), RefusalKind.unchanged
    )
    refused(decide(STORE, SetBody(staff_id="c1", body="efficiency-office")), RefusalKind.unchanged)


@pytest.mark.parametrize(
    "command",
    [
        Disable(staff_id="nobody"),
        Enable(staff_id="nobody"),
        ResetPassword(staff_id="nobody"),
        SetRoles(staff_id="nobody", roles={Role.AUDITOR}),
        SetBody(staff_id="nobody", body="x"),
        ChangeOwnPassword(staff_id="nobody"),
    ],
)
def test_an_unknown_operator_is_refused(command: Disable) -> None:
    refused(decide(STORE, command), RefusalKind.unknown_operator)


def test_reset_sets_a_password_revokes_and_forces_a_change() -> None:
    c = changed(decide(STORE, ResetPassword(staff_id="c1")))
    assert c.sets_password and c.revoke_credentials and c.after.must_change_password
    own = changed(decide({**STORE, "c1": c.after}, ChangeOwnPassword(staff_id="c1")))
    assert own.sets_password and not own.after.must_change_password
    assert own.fields() == {"must_change_password": [True, False]}


def test_roles_and_body_changes_are_recorded_before_and_after() -> None:
    roles = changed(decide(STORE, SetRoles(staff_id="c1", roles={Role.AUDITOR, Role.SUPERVISOR})))
    assert roles.fields() == {"roles": [["intake_clerk"], ["auditor", "supervisor"]]}
    assert not roles.revoke_credentials
    body = changed(decide(STORE, SetBody(staff_id="c1", body="city-inspection")))
    assert body.fields() == {"body": ["efficiency-office", "city-inspection"]}


@pytest.mark.parametrize(
    "command",
    [
        Disable(staff_id="a1"),
        SetRoles(staff_id="a1", roles={Role.AUDITOR}),
    ],
)
def test_the_last_enabled_administrator_stays(command: Disable) -> None:
    refused(decide(STORE, command), RefusalKind.no_admin_left)
    second = ADMIN.model_copy(update={"staff_id": "a2"})
    assert isinstance(decide({**STORE, "a2": second}, command), Change)
    # A disabled second administrator does not count.
    off = second.model_copy(update={"disabled": True})
    refused(decide({**STORE, "a2": off}, command), RefusalKind.no_admin_left)


def test_a_store_without_an_administrator_can_still_be_changed() -> None:
    assert isinstance(decide({"c1": CLERK}, Disable(staff_id="c1")), Change)


@pytest.mark.parametrize(
    ("body", "roles"),
    [
        ("unit:roads", {Role.UNIT_HANDLER, Role.SUPERVISOR}),  # a unit handler holds one role
        ("unit:roads", {Role.SUPERVISOR}),  # a unit's operator is its handler
        ("efficiency-office", {Role.UNIT_HANDLER}),  # a body's staff handle no unit's cases
    ],
)
def test_a_units_handlers_belong_to_the_unit(body: str, roles: set[Role]) -> None:
    refused(
        decide(STORE, Create(staff_id="n1", body=body, roles=roles)),
        RefusalKind.roles_do_not_fit_body,
    )


def test_moving_a_handler_out_of_the_unit_or_giving_it_a_body_role_is_refused() -> None:
    refused(
        decide(STORE, SetBody(staff_id="h1", body="efficiency-office")),
        RefusalKind.roles_do_not_fit_body,
    )
    refused(
        decide(STORE, SetRoles(staff_id="h1", roles={Role.UNIT_HANDLER, Role.AUDITOR})),
        RefusalKind.roles_do_not_fit_body,
    )
    moved = changed(decide(STORE, SetBody(staff_id="h1", body="unit:water")))
    assert moved.after.body == "unit:water"


@pytest.mark.parametrize("staff_id", ["", "a/b", "有中文", " x", "x" * 65])
def test_a_staff_id_that_cannot_name_an_actor_is_invalid(staff_id: str) -> None:
    with pytest.raises(ValidationError):
        Disable(staff_id=staff_id)


@pytest.mark.parametrize("body", ["", "a/b", "unit:", "unit:a/b", "x y"])
def test_a_body_that_cannot_name_an_actor_is_invalid(body: str) -> None:
    with pytest.raises(ValidationError):
        SetBody(staff_id="c1", body=body)


def test_roles_may_not_be_empty() -> None:
    with pytest.raises(ValidationError):
        SetRoles(staff_id="c1", roles=frozenset())
