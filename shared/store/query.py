"""The query language both adapters accept, checked once and normalised.

Each adapter translates the same normalised :class:`Condition` list and sort keys, so neither
can quietly accept a filter the other would read differently. Errors name the field or operator,
never the operand (operands may be personal data; DESIGN principle 5).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from shared.store.port import (
    ASC,
    DESC,
    TOKENS_FIELD,
    Direction,
    Filter,
    IndexSpec,
    InvalidQuery,
    Scalar,
    SortSpec,
)

Op: TypeAlias = Literal["eq", "ne", "in", "nin", "gt", "gte", "lt", "lte"]

_OPS: dict[str, Op] = {
    "$eq": "eq",
    "$ne": "ne",
    "$in": "in",
    "$nin": "nin",
    "$gt": "gt",
    "$gte": "gte",
    "$lt": "lt",
    "$lte": "lte",
}
_RANGE_OPS = frozenset({"gt", "gte", "lt", "lte"})

# Lowercase only: SQLite table names are case-insensitive, MongoDB's are not.
_COLLECTION = re.compile(r"[a-z][a-z0-9_]{0,62}")
# Identifiers only: SQLite needs the path as a literal in SQL (so expression indexes match).
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}(?:\.[A-Za-z_][A-Za-z0-9_]{0,63}){0,7}")

ID_FIELD = "_id"


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    op: Op
    value: Scalar | tuple[Scalar, ...]


def check_collection(name: str) -> str:
    if not isinstance(name, str) or not _COLLECTION.fullmatch(name):
        raise InvalidQuery("collection name must match [a-z][a-z0-9_]{0,62}")
    return name


def check_field(field: str) -> str:
    if not isinstance(field, str) or not _FIELD.fullmatch(field):
        raise InvalidQuery("field path must be dotted identifiers")
    if field == TOKENS_FIELD or field.startswith(TOKENS_FIELD + "."):
        raise InvalidQuery(f"{TOKENS_FIELD} is reserved")
    return field


def check_id(id: Any) -> str:
    if not isinstance(id, str) or not id:
        raise InvalidQuery("_id must be a non-empty string")
    return id


def _check_scalar(field: str, op: str, value: Any) -> Scalar:
    # bool first: it is an int to isinstance, but a distinct JSON type.
    if value is None or isinstance(value, bool | str | int | float):
        return value
    raise InvalidQuery(f"{op} on {field} needs a JSON scalar operand")


def parse_filter(filter: Filter | None) -> list[Condition]:
    """Normalise a filter into ANDed conditions; raises InvalidQuery outside the subset."""
    if filter is None:
        return []
    if not isinstance(filter, Mapping):
        raise InvalidQuery("filter must be a mapping")
    out: list[Condition] = []
    for field, spec in filter.items():
        check_field(field)
        if isinstance(spec, Mapping):
            if not spec:
                raise InvalidQuery(f"empty operator set on {field}")
            for raw_op, operand in spec.items():
                op = _OPS.get(raw_op)
                if op is None:
                    raise InvalidQuery(f"operator {raw_op!r} is not supported")
                out.append(_condition(field, op, operand))
        else:
            out.append(_condition(field, "eq", spec))
    return out


def _condition(field: str, op: Op, operand: Any) -> Condition:
    if op in ("in", "nin"):
        if isinstance(operand, str | bytes) or not isinstance(operand, Sequence | set | frozenset):
            raise InvalidQuery(f"${op} on {field} needs a list")
        return Condition(field, op, tuple(_check_scalar(field, op, v) for v in operand))
    value = _check_scalar(field, op, operand)
    if op in _RANGE_OPS and value is None:
        raise InvalidQuery(f"${op} on {field} needs a non-null operand")
    return Condition(field, op, value)


def parse_sort(sort: SortSpec) -> list[tuple[str, Direction]]:
    """Validate and append the ``_id`` tie-breaker in the direction of the last key."""
    keys: list[tuple[str, Direction]] = []
    for item in sort:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise InvalidQuery("sort keys are (field, 1 | -1) pairs")
        field, direction = item
        check_field(field)
        if direction not in (ASC, DESC) or isinstance(direction, bool):
            raise InvalidQuery(f"sort direction of {field} must be 1 or -1")
        keys.append((field, direction))
        if field == ID_FIELD:
            # _id is unique: any later key could never take effect.
            return keys
    keys.append((ID_FIELD, keys[-1][1] if keys else ASC))
    return keys


def parse_index(fields: IndexSpec) -> list[tuple[str, Direction]]:
    keys: list[tuple[str, Direction]] = []
    for item in fields:
        field, direction = (item, ASC) if isinstance(item, str) else item
        check_field(field)
        if direction not in (ASC, DESC) or isinstance(direction, bool):
            raise InvalidQuery(f"index direction of {field} must be 1 or -1")
        keys.append((field, direction))
    if not keys:
        raise InvalidQuery("an index needs at least one field")
    return keys


def check_page(skip: int, limit: int | None) -> None:
    if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
        raise InvalidQuery("skip must be an int >= 0")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise InvalidQuery("limit must be an int >= 0 or None")


def index_name(keys: Sequence[tuple[str, Direction]]) -> str:
    """A stable, short name for an index: the same spec always names the same index."""
    spec = ",".join(f"{f}:{d}" for f, d in keys)
    return "ix_" + hashlib.sha256(spec.encode()).hexdigest()[:16]


def check_guard(guard_field: str, guard_value: int) -> None:
    if not isinstance(guard_field, str) or "." in guard_field:
        raise InvalidQuery("guard field must be a top-level field")
    check_field(guard_field)
    if guard_field == ID_FIELD:
        raise InvalidQuery("_id cannot be a guard field")
    if isinstance(guard_value, bool) or not isinstance(guard_value, int):
        raise InvalidQuery("guard value must be an int (a log position)")
