"""One JSON form for documents on both adapters, and the digest over it.

Both adapters store what JSON round-tripping gives (via orjson), so a datetime, UUID or tuple is
the same value whichever backend holds it, and the digest of equal content is equal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from shared.store.port import TOKENS_FIELD, Doc, InvalidQuery
from shared.store.query import ID_FIELD, check_guard, check_id


def _reject_nested_arrays(doc: Mapping[str, Any]) -> None:
    # FerretDB v1 refuses an array directly inside an array ("nested arrays are not
    # supported"); refusing it on both adapters keeps the contract one contract.
    stack: list[Any] = [doc]
    while stack:
        node = stack.pop()
        items = node.values() if isinstance(node, Mapping) else node
        for v in items:
            if isinstance(v, list | tuple):
                if isinstance(node, list | tuple):
                    raise InvalidQuery("arrays directly inside arrays are not supported")
                stack.append(v)
            elif isinstance(v, Mapping):
                stack.append(v)


def encode_body(id: str, doc: Mapping[str, Any]) -> bytes:
    """JSON of ``doc`` without ``_id`` (the id lives beside it); checks the reserved names."""
    check_id(id)
    if ID_FIELD in doc or TOKENS_FIELD in doc:
        if doc.get(ID_FIELD, id) != id:
            raise InvalidQuery("document _id differs from the id it is written under")
        if TOKENS_FIELD in doc:
            raise InvalidQuery(f"{TOKENS_FIELD} is reserved")
        doc = {k: v for k, v in doc.items() if k != ID_FIELD}
    try:
        body = orjson.dumps(doc if isinstance(doc, dict) else dict(doc))
    except TypeError as exc:
        # orjson's message names the type, not the value.
        raise InvalidQuery(f"document is not JSON: {exc}") from None
    # In compact JSON an array inside an array opens with "[[" or ",[" (an object's array
    # value follows ":"), so text without either has none; otherwise walk the document.
    if b"[[" in body or b",[" in body:
        _reject_nested_arrays(doc)
    return body


def decode(id: str, body: bytes | str) -> Doc:
    """The document as the store returns it: ``_id`` first."""
    out: Doc = {ID_FIELD: id}
    out.update(orjson.loads(body))
    return out


def normalise(id: str, doc: Mapping[str, Any]) -> Doc:
    """What ``decode(encode_body(...))`` gives, for backends that store objects, not text."""
    return decode(id, encode_body(id, doc))


def guarded(doc: Mapping[str, Any], guard_field: str, guard_value: int) -> Doc:
    """``doc`` carrying its guard, so the stored document always records what it applied."""
    if doc.get(guard_field, guard_value) != guard_value:
        raise InvalidQuery(f"document's {guard_field} differs from the guard value")
    out = dict(doc)
    out[guard_field] = guard_value
    return out


def guarded_batch(docs: Iterable[Mapping[str, Any]], guard_field: str) -> dict[str, Doc]:
    """A ``bulk_upsert_if`` batch checked whole before anything is written: by ``_id``, the
    document with the largest guard (the later of equals), as writing them in turn would leave.
    """
    out: dict[str, Doc] = {}
    for d in docs:
        if not isinstance(d, Mapping):
            raise InvalidQuery("bulk_upsert_if takes documents (mappings with _id)")
        id = check_id(d.get(ID_FIELD))
        value = d.get(guard_field)
        check_guard(guard_field, value)  # type: ignore[arg-type]
        kept = out.get(id)
        if kept is None or kept[guard_field] <= value:
            out[id] = dict(d)
    return out


def digest_line(doc: Mapping[str, Any]) -> bytes:
    """Canonical line of one document (with ``_id``, without search tokens)."""
    if TOKENS_FIELD in doc:
        doc = {k: v for k, v in doc.items() if k != TOKENS_FIELD}
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS) + b"\n"


class Digest:
    """sha256 over documents fed in strictly increasing ``_id`` order (checked, so a backend
    whose order differs fails loudly instead of giving a different digest)."""

    def __init__(self) -> None:
        self._h = hashlib.sha256()
        self._last: bytes | None = None

    def add(self, doc: Mapping[str, Any]) -> None:
        # UTF-8 byte order equals code-point order: the order both backends sort strings in.
        key = str(doc[ID_FIELD]).encode()
        if self._last is not None and key <= self._last:
            raise RuntimeError("documents reached the digest out of _id order")
        self._last = key
        self._h.update(digest_line(doc))

    def hexdigest(self) -> str:
        return self._h.hexdigest()
