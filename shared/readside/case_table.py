"""A service's own table of cases: one document per case stream, in one collection, folded by
a table of rules (event type -> a function that updates the document in place). Each service
names its table, its rules, its fresh document and its indexes; events no rule names write
nothing. Pure, like every projection."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from shared.readside.projection import Accepted, Write
from shared.store.port import Doc, DocumentStore

Rule = Callable[[Doc, Mapping[str, Any], Accepted], None]


class CaseTable:
    """Base of a per-case table (a :class:`~shared.readside.projection.Projection`)."""

    name: ClassVar[str]
    collection: ClassVar[str]
    rules: ClassVar[Mapping[str, Rule]]
    indexes: ClassVar[tuple[tuple[str, ...], ...]] = ()
    stream_kinds: ClassVar[frozenset[str]] = frozenset({"case"})

    @property
    def stream_collection(self) -> str:
        return self.collection

    @property
    def collections(self) -> tuple[str, ...]:
        return (self.collection,)

    def fresh(self) -> Doc:
        """The document of a case no rule has touched yet."""
        raise NotImplementedError

    def derive(self, doc: Doc) -> None:
        """Fields computed from the others after each rule (none by default)."""

    async def setup(self, store: DocumentStore) -> None:
        for fields in self.indexes:
            await store.ensure_index(self.collection, list(fields))

    def apply(self, current: Doc | None, event: Accepted) -> list[Write]:
        rule = self.rules.get(event.type)
        if rule is None:
            return []
        doc = {k: v for k, v in (current or self.fresh()).items() if k not in ("_id", "_pos")}
        rule(doc, event.data, event)
        self.derive(doc)
        return [Write(self.collection, event.stream, doc)]
