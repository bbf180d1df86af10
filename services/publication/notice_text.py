"""A notice's text, built from structured fields only (unit, category, finding): no free text,
so nothing personal can slip in until redaction of written notices arrives.

The same fields always give the same text, so the log's ``text_sha256`` pins the text, and the
read model rebuilds it from the case's own events (the unit and category of its receipt, the
finding of its closure) and shows it only when the hash matches.
"""

from __future__ import annotations

import hashlib

from shared.events.catalog import Finding

FINDING_WORDS: dict[str, str] = {
    Finding.substantiated: "属实",
    Finding.partly_substantiated: "部分属实",
    Finding.unsubstantiated: "不属实",
}


def notice_text(notice_id: str, unit: str, category: str, finding: str) -> str:
    words = FINDING_WORDS[finding]
    return (
        f"效能监督结果公告（{notice_id}）\n"
        f"被投诉单位：{unit}\n"
        f"问题类别：{category}\n"
        f"核查结论：经核查，群众反映的问题{words}。\n"
        "本件已依规办结。"
    )


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
