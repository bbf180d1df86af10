"""First-run demo operators: one per role, each with a fresh random password.

Never a fixed password: a demo install reachable from a network must not open with a known
secret. The passwords are printed once to the console (not to the JSON log, which may be
shipped elsewhere) and written to a 0600 file beside the service's data.
"""

from __future__ import annotations

import os
import secrets
import sys
from typing import TextIO

from shared.rules.act import UNIT_PREFIX
from shared.web.identity import IdentityStore, Operator
from shared.web.roles import Role, role_label
from shared.web.settings import WebSettings


def demo_staff_id(role: Role) -> str:
    return "demo-" + role.value.replace("_", "-")


def demo_unit_body(settings: WebSettings) -> str:
    """The demo unit handler belongs to the unit (``unit:<id>``, as a unit's actors are named)."""
    unit = settings.demo_unit
    return unit if unit.startswith(UNIT_PREFIX) else UNIT_PREFIX + unit


def ensure_demo_operators(
    store: IdentityStore,
    settings: WebSettings,
    service: str,
    out: TextIO | None = None,
) -> list[tuple[Operator, str]]:
    """Create the demo operators if this service has no operator at all; else do nothing."""
    if not settings.demo_operators or store.count_operators() > 0:
        return []
    created: list[tuple[Operator, str]] = []
    for role in Role:
        password = secrets.token_urlsafe(12)
        body = demo_unit_body(settings) if role is Role.UNIT_HANDLER else settings.demo_body
        op = store.add_operator(
            demo_staff_id(role),
            body,
            [role],
            password,
            display_name="演示" + role_label(role),
            actor="system:demo",
        )
        created.append((op, password))
    lines = [f"# {service}: demo operators (one per role). Delete this file once read."]
    lines += [
        f"{op.staff_id}\t{password}\t{next(iter(op.roles)).value}\t{op.body}"
        for op, password in created
    ]
    text = "\n".join(lines) + "\n"
    path = settings.demo_operators_file(service)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created 0600 from the start (not chmod-ed afterwards), so no moment of wider access.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, 0o600)
    stream = out or sys.stdout
    stream.write(
        f"\n[{service}] 已创建演示账号 (demo operators created), saved to {path}:\n"
        + "".join(f"  {line}\n" for line in lines[1:])
    )
    stream.flush()
    return created
