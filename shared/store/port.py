"""The document-store port: what projections and pages need from a read store.

Read models are disposable (DESIGN principle 1), so the port is small on purpose: it offers only
what both backends (embedded SQLite and MongoDB, tested against FerretDB v1) do alike, and the
contract suite in ``tests/contract/test_store_contract.py`` holds both adapters to it.

The contract, beyond the signatures:

* Collection names match ``[a-z][a-z0-9_]{0,62}`` (lowercase only: SQLite table names ignore
  case, MongoDB's do not). Field paths are dotted identifiers (``unit.id``).
* A document is a JSON object; ``_id`` is a string. Values are stored as their JSON form
  (orjson's: a datetime becomes its RFC 3339 string, a tuple a list), by both adapters alike,
  so what ``get`` returns is what JSON round-tripping gives. ``_tokens`` is reserved. An array
  directly inside an array is refused (FerretDB v1 cannot store one).
* Filters are a MongoDB subset: ``{field: value}``, ``{field: {op: value, ...}}`` with ops
  ``$eq $ne $in $nin $gt $gte $lt $lte``, all fields ANDed. Operands are JSON scalars (a
  ``$in`` list of them). A missing field equals ``None`` (as in MongoDB). A field used in
  filters, sorts or groups must hold one scalar type across the collection (projections write
  them so); comparing across types, or against arrays, is outside the contract.
* Sort is a sequence of ``(field, ASC | DESC)``; ``_id`` in the direction of the last key is
  always appended, so pages are stable and identical on both adapters. Missing/None sorts
  first ascending. The default order is ``_id`` ascending.
* Text search is token based (see :mod:`shared.store.search_tokens`): every token of the query
  must occur in one of the collection's text fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, Protocol, TypeAlias, runtime_checkable

Doc: TypeAlias = dict[str, Any]
"""A JSON object. Documents returned by the store carry their ``_id`` first."""

Scalar: TypeAlias = str | int | float | bool | None

Filter: TypeAlias = Mapping[str, Any]
"""``{field: scalar}`` or ``{field: {"$op": operand, ...}}``; see the module docstring."""

Direction: TypeAlias = Literal[1, -1]
ASC: Direction = 1
DESC: Direction = -1

SortSpec: TypeAlias = Sequence[tuple[str, Direction]]
IndexSpec: TypeAlias = Sequence[str | tuple[str, Direction]]
"""Fields of a compound index, each ascending unless given as ``(field, DESC)``."""

TOKENS_FIELD = "_tokens"
"""Reserved: where the MongoDB adapter keeps a document's search tokens."""


class StoreError(Exception):
    """Base of the errors the store raises on purpose."""


class InvalidQuery(StoreError, ValueError):
    """A name, filter, sort or document the contract does not cover (never echoes values)."""


@runtime_checkable
class DocumentStore(Protocol):
    """An async document store holding named collections of JSON documents."""

    # -- single documents -------------------------------------------------------------------

    async def upsert(self, coll: str, id: str, doc: Mapping[str, Any]) -> None:
        """Create or replace the document ``id`` (``doc`` may carry the same ``_id``)."""
        ...

    async def upsert_if(
        self,
        coll: str,
        id: str,
        doc: Mapping[str, Any],
        guard_field: str,
        guard_value: int,
    ) -> bool:
        """Write ``doc`` with ``guard_field = guard_value`` only if the stored document is absent,
        lacks ``guard_field``, or holds a smaller value there. Returns whether it wrote.

        Projectors guard every write by the log position it applies, so a redelivered event
        never applies twice: this replaces a transaction (FerretDB v1 has none). A ``False``
        means "already applied (or newer)", which is also the right reading after a retry.
        """
        ...

    async def bulk_upsert_if(
        self, coll: str, docs: Iterable[Mapping[str, Any]], guard_field: str
    ) -> int:
        """``upsert_if`` for many documents, each carrying its ``_id`` and an integer
        ``guard_field``: each is written only if the stored one is absent, lacks the field, or
        holds a smaller value. Of two documents with one ``_id`` the larger guard wins, as if
        written one by one. Returns how many were written.

        Every document is checked before any is written (a bad one writes nothing). Not atomic
        as a whole: after a crash any subset may be in place, which the guards make harmless
        to write again. This is how projectors write a batch.
        """
        ...

    async def get(self, coll: str, id: str) -> Doc | None: ...

    async def get_many(self, coll: str, ids: Iterable[str]) -> dict[str, Doc]:
        """The stored documents among ``ids``, by ``_id`` (absent ones left out)."""
        ...

    async def delete(self, coll: str, id: str) -> bool:
        """Remove ``id``; returns whether it existed."""
        ...

    async def bulk_upsert(self, coll: str, docs: Iterable[Mapping[str, Any]]) -> int:
        """Create or replace many documents (each with its ``_id``), unguarded; for rebuilds.
        Returns how many were written. Not atomic as a whole."""
        ...

    # -- queries ----------------------------------------------------------------------------

    async def find(
        self,
        coll: str,
        filter: Filter | None = None,
        sort: SortSpec = (),
        skip: int = 0,
        limit: int | None = None,
        *,
        text: str | None = None,
    ) -> list[Doc]:
        """Documents matching ``filter`` (and the search ``text``, if given), ordered, paged."""
        ...

    async def count(
        self, coll: str, filter: Filter | None = None, *, text: str | None = None
    ) -> int: ...

    async def grouped_count(
        self, coll: str, field: str, filter: Filter | None = None
    ) -> dict[Scalar, int]:
        """``{value of field: number of documents}``; a missing field counts under ``None``."""
        ...

    async def search(
        self, coll: str, text: str, filter: Filter | None = None, limit: int = 50
    ) -> list[Doc]:
        """``find`` with ``text``; a query without any token matches nothing."""
        ...

    # -- schema -----------------------------------------------------------------------------

    async def ensure_index(self, coll: str, fields: IndexSpec) -> None:
        """Idempotent. Put equality fields first and the sort field last."""
        ...

    async def ensure_text_index(self, coll: str, fields: Sequence[str]) -> None:
        """Declare the fields (strings or lists of strings) that ``text`` searches. Idempotent;
        indexes existing documents when the declaration changes. Declare before writing."""
        ...

    async def drop_collection(self, coll: str) -> None: ...

    async def list_collections(self) -> list[str]:
        """Names of the collections holding documents or declarations, sorted."""
        ...

    # -- whole store ------------------------------------------------------------------------

    async def digest(self, coll: str) -> str:
        """sha256 (hex) of the collection's documents in ``_id`` order, canonical JSON: equal
        on both adapters for equal content, so a rebuild can be proved identical."""
        ...

    async def ping(self) -> bool:
        """Whether the store answers now (for ``/readyz``); never raises."""
        ...

    async def close(self) -> None: ...
