"""The configuration a service acts on: the version of a kind in force now, typed by its model.

Every service reads published configuration (``ledger.registry.config_published.v1``) the same
way: the registry the service's writer signs against says which version of a kind is in force,
and the content is parsed by the kind's model (``catalog.CONFIG_CONTENT``, or a service's own
stricter model of a loose kind). A decision records the version label it used, so replay never
asks which version was meant. Until a kind has a version, a command needing it is refused with
a 503 problem (``config-missing``) naming the kind; ``make run`` seeds the shipped defaults.

``typed_at`` is the pure half, for workers and replays holding a registry of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from fastapi import Request
from pydantic import BaseModel

from shared.events.catalog import CONFIG_CONTENT, ConfigKind
from shared.rules.registry import Registry
from shared.web.context import get_context
from shared.web.problems import CONFIG_MISSING, ProblemError

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class InForce(Generic[M]):
    """One kind's version in force: its label (what decisions record) and its typed content."""

    kind: ConfigKind
    label: str
    content: M


def typed_at(
    registry: Registry, kind: ConfigKind, model: type[M] | None = None, version: int | None = None
) -> InForce[M] | None:
    """The version of ``kind`` in force at registry ``version`` (now, by default), parsed by
    ``model`` (the catalog's model of the kind, by default); None before its first version."""
    entry = registry.config_entry_at(kind, registry.version if version is None else version)
    if entry is None:
        return None
    label, content = entry
    parse = model if model is not None else CONFIG_CONTENT[kind]
    key = (kind, label, parse)
    parsed = _parsed.get(key)
    if parsed is None or parsed[0] is not content:
        parsed = (content, parse.model_validate(content))
        _parsed[key] = parsed
        if len(_parsed) > _PARSED_KEPT:
            del _parsed[next(iter(_parsed))]
    return InForce(kind, label, parsed[1])  # type: ignore[arg-type]


# A version's content never changes once published: each is parsed once (per registry object
# holding it: a hit needs the very content object, so two logs' equal labels never mix).
_PARSED_KEPT = 64
_parsed: dict[tuple[str, str, type[BaseModel]], tuple[object, BaseModel]] = {}


async def in_force(request: Request, kind: ConfigKind, model: type[M] | None = None) -> InForce[M]:
    """The version of ``kind`` in force for this service now, or a 503 ``config-missing``."""
    writer = get_context(request).writer
    if writer is None:
        raise RuntimeError("reading configuration needs the service's deployment")
    fold = await (await writer.writer()).registry()
    found: InForce[M] | None = typed_at(fold.registry, kind, model)
    if found is None:
        raise ProblemError(
            CONFIG_MISSING, f"尚未发布“{kind.value}”配置", extensions={"kind": kind.value}
        )
    return found
