"""The minutes of a joint conference (联席会议纪要): one record folded from the conference's
accepted events, and its readable text.

``advance`` is pure: (the record so far, one accepted event) -> the next record, a JSON
document. The conference read model stores it (``conference_projection.py``), the minutes page
and the printable document render it, and ``ledger replay`` of a conference folds the same
record from the log and prints :func:`minutes_text`, so all three say the same thing. Times are
the log's (µs since the epoch), shown in Beijing time; bodies by their id, or by name where the
body directory in force names them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from shared.events.catalog import BodyDirectory, ConfigKind
from shared.rules.registry import Registry
from shared.web.config_in_force import typed_at
from shared.web.pages import cn_log_time

CONVENED = "ledger.conference.convened.v1"
OPINION = "ledger.conference.opinion_given.v1"
NOTED = "ledger.conference.opinion_noted.v1"
DECIDED = "ledger.conference.decided.v1"
ELAPSED = "ledger.deadline.elapsed.v1"
TYPES = frozenset({CONVENED, OPINION, NOTED, DECIDED, ELAPSED})

OPINION_LABELS = {"consent": "同意", "object": "反对", "abstain": "弃权"}
RULE_LABELS = {
    "majority": "过半数同意（缺席视为同意）",
    "two_thirds": "三分之二以上同意（缺席视为同意）",
    "unanimous": "全体同意（缺席视为同意）",
}
OUTCOME_LABELS = {"adopted": "通过", "rejected": "未通过"}
STATUS_LABELS = {"open": "征求意见中", "decided": "已作出决定"}

Record = dict[str, Any]


def fresh(conference: str) -> Record:
    return {
        "conference": conference,
        "status": "new",
        "convener": None,
        "convened_by": None,
        "convened_at": None,
        "question": "",
        "rule": None,
        "cases": [],
        "members": [],
        "opinions_due_at": None,
        "opinions_elapsed_at": None,
        "opinions": [],
        "pending": [],
        "decision": None,
    }


def advance(
    record: Mapping[str, Any] | None,
    conference: str,
    event_type: str,
    data: Mapping[str, Any],
    actor: str,
    at: int,
) -> Record:
    """The minutes after one accepted event of the conference (pure; ``at`` is its log time)."""
    r: Record = {k: v for k, v in (record or fresh(conference)).items() if k not in ("_id", "_pos")}
    if event_type == CONVENED:
        r.update(
            status="open",
            convener=data["convener"],
            convened_by=actor,
            convened_at=at,
            question=data["question"],
            rule=data.get("rule", "majority"),
            cases=list(data["cases"]),
            members=list(data["members"]),
            pending=list(data["members"]),
            opinions_due_at=data["opinions_due_at"],
        )
    elif event_type == OPINION:
        r["opinions"] = [
            *r["opinions"],
            {
                "member": data["member"],
                "opinion": data["opinion"],
                "text": data.get("note", ""),
                "by": actor,
                "at": at,
                "notes": [],
            },
        ]
        r["pending"] = [m for m in r["pending"] if m != data["member"]]
    elif event_type == NOTED:
        r["opinions"] = [
            {**o, "notes": [*o["notes"], {"note": data["note"], "by": actor, "at": at}]}
            if o["member"] == data["member"]
            else o
            for o in r["opinions"]
        ]
    elif event_type == ELAPSED:
        r["opinions_elapsed_at"] = at
    elif event_type == DECIDED:
        r.update(
            status="decided",
            pending=[],
            decision={
                "decision": data["decision"],
                "outcome": data["outcome"],
                "tally": dict(data["tally"]),
                "absent_deemed_consent": list(data["absent_deemed_consent"]),
                "by": actor,
                "at": at,
            },
        )
    else:
        raise ValueError(f"no minutes rule for {event_type}")
    return r


def fold(conference: str, events: Iterable[tuple[str, Mapping[str, Any], str, int]]) -> Record:
    """The minutes of (type, data, actor, log time) accepted events, in stream order."""
    record: Record | None = None
    for event_type, data, actor, at in events:
        record = advance(record, conference, event_type, data, actor, at)
    return record if record is not None else fresh(conference)


def body_name(body: str | None, names: Mapping[str, str]) -> str:
    if body is None:
        return ""
    name = names.get(body)
    return f"{name}（{body}）" if name else body


def tally_text(tally: Mapping[str, int]) -> str:
    return (
        f"同意 {tally['consent']}，反对 {tally['object']}，弃权 {tally['abstain']}，"
        f"缺席视为同意 {tally['deemed_consent']}"
    )


def minutes_text(record: Mapping[str, Any], names: Mapping[str, str] | None = None) -> list[str]:
    """The minutes as plain lines (zh-CN), as ``ledger replay`` prints them."""
    names = names or {}
    if record.get("status", "new") == "new":
        return [f"联席会议纪要 {record['conference']}：尚未召集"]
    members = record["members"]
    out = [
        f"联席会议纪要  {record['conference']}",
        f"召集单位：{body_name(record['convener'], names)}（{record['convened_by']}）",
        f"召集时间：{cn_log_time(record['convened_at'])}",
        f"议题：{record['question']}",
        f"涉及案件：{'、'.join(record['cases'])}",
        f"成员单位（{len(members)}）：{'、'.join(body_name(m, names) for m in members)}",
        f"表决规则：{RULE_LABELS.get(record['rule'], record['rule'])}",
        f"意见期限：{cn_log_time(record['opinions_due_at'])}"
        + (
            f"（{cn_log_time(record['opinions_elapsed_at'])} 期限届满）"
            if record["opinions_elapsed_at"]
            else ""
        ),
        f"状态：{STATUS_LABELS.get(record['status'], record['status'])}",
        "",
        "各成员单位意见：",
    ]
    for o in record["opinions"]:
        out.append(
            f"  {body_name(o['member'], names)}：{OPINION_LABELS[o['opinion']]}"
            f"（{cn_log_time(o['at'])}，{o['by']}）"
        )
        if o["text"]:
            out.append(f"    意见说明：{o['text']}")
        for n in o["notes"]:
            out.append(f"    补充说明（{cn_log_time(n['at'])}，{n['by']}）：{n['note']}")
    if not record["opinions"]:
        out.append("  （尚无）")
    if record["pending"]:
        out.append(f"尚未发表意见：{'、'.join(body_name(m, names) for m in record['pending'])}")
    decision = record["decision"]
    if decision is not None:
        absent = decision["absent_deemed_consent"]
        out += [
            "",
            f"决定（{cn_log_time(decision['at'])}，{decision['by']}）：{decision['decision']}",
            f"表决结果：{tally_text(decision['tally'])}；"
            f"按“{RULE_LABELS.get(record['rule'], record['rule'])}”，"
            f"{OUTCOME_LABELS[decision['outcome']]}",
            "缺席默认（视为同意）："
            + ("、".join(body_name(m, names) for m in absent) if absent else "无"),
        ]
    return out


def replay_lines(
    conference: str, accepted: Sequence[tuple[int, Mapping[str, Any]]], registry: Registry
) -> list[str]:
    """``ledger replay``'s minutes of a conference: its accepted envelopes with their log
    times, folded and written out, bodies named by the body directory the registry holds."""
    found = typed_at(registry, ConfigKind.body_directory, BodyDirectory)
    names = {} if found is None else {b.id: b.name for b in found.content.bodies}
    record = fold(
        conference, ((env["type"], env["data"], env["actor"], at) for at, env in accepted)
    )
    return minutes_text(record, names)
