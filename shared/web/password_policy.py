"""What a password chosen by its holder must be (NIST SP 800-63B's shape: length, not
composition rules): at least 12 characters, at most 256 (what the sign-in forms accept), not
containing the staff id, and not the password it replaces. Temporary passwords are made by
the service (``temporary_password``) and never chosen."""

from __future__ import annotations

import secrets

MIN_LENGTH = 12
MAX_LENGTH = 256


def password_faults(staff_id: str, new: str, current: str) -> list[str]:
    """Why ``new`` may not replace ``current`` for ``staff_id`` (fixed zh-CN texts; empty: it
    may)."""
    faults: list[str] = []
    if len(new) < MIN_LENGTH:
        faults.append(f"新密码至少 {MIN_LENGTH} 个字符")
    if len(new) > MAX_LENGTH:
        faults.append(f"新密码至多 {MAX_LENGTH} 个字符")
    if staff_id and staff_id.casefold() in new.casefold():
        faults.append("新密码不能包含工号")
    if new == current:
        faults.append("新密码不能与原密码相同")
    return faults


def temporary_password() -> str:
    """A one-time password an administrator hands over: 96 random bits, 16 URL-safe chars."""
    return secrets.token_urlsafe(12)
