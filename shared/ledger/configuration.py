"""Configuration by its owners: the versions of each kind as the registry holds them, what a new
version changes, the decision to publish one, and the defaults ``make run`` seeds.

Each kind (``catalog.ConfigKind``) has one owner deployment, named by the genesis key at
``ledger init``; the owner publishes ``ledger.registry.config_published.v1`` events signed with
its own key. Version labels are derived from the registry: the first version is ``1``, each
next one the highest number so far plus one. A new version names the version it was edited
from (``base``, ``0`` for none yet): published over a newer one, it is refused as stale, so two
administrators editing at once never overwrite each other unseen.

What a version changes is a line diff (``difflib``, the standard library's) of the canonical
JSON of the two contents: keys sorted, two-space indents, lists in their order. A line diff
shows an inserted directory entry as the lines it adds, where a path diff (deepdiff) would
report every later list index as changed.

The defaults (``deploy/config/<kind>.json``) are seeds: a kind that has no version yet gets the
shipped one, published by its owner; a kind with a version is left alone, so a restart
publishes nothing and never reverts an administrator's version.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import ValidationError

from shared.crypto.signing import PublicKey
from shared.events.catalog import CONFIG_CONTENT, ConfigKind
from shared.ledger import keystore
from shared.ledger.deployments import DeploymentSpec, configured
from shared.ledger.signer import Draft, Signer
from shared.ledger.writer import EventWriter
from shared.log.port import EventLog, StoredRecord
from shared.rules.fold import LedgerFold
from shared.rules.registry import Registry
from shared.rules.stream import REGISTRY_STREAM, StreamState
from shared.settings import LedgerSettings

logger = logging.getLogger(__name__)

CONFIG_PUBLISHED = "ledger.registry.config_published.v1"
NO_VERSION = "0"  # the base of a kind's first version
SOURCE_DEFAULTS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "config"
DEFAULTS_STAFF = "config-defaults"  # the staff id the seeding names, under the owner's body

KIND_LABELS: dict[str, str] = {
    ConfigKind.body_directory: "监督机构名录",
    ConfigKind.unit_directory: "被监督单位名录",
    ConfigKind.routing: "转办规则",
    ConfigKind.time_limits: "办理时限",
    ConfigKind.calendar: "节假日日历版本",
    ConfigKind.escalation_thresholds: "督办升级阈值",
    ConfigKind.penalty_schedule: "问责处理标准",
    ConfigKind.assessment_weights: "效能考核权重",
    ConfigKind.publication_policy: "公开政策",
}


class ConfigRefusal(Exception):
    """Why a new version cannot be published now (no submitted value in it)."""

    def __init__(
        self,
        reason: Literal["not_owner", "stale_version", "unknown_body"],
        in_force: str,
        fields: Sequence[tuple[str | int, ...]] = (),
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.in_force = in_force
        self.fields = list(fields)  # where in the content (unknown_body), never its values


@dataclass(frozen=True)
class PublishedVersion:
    """One accepted version of a kind, with who published it and when the log took it."""

    kind: str
    label: str
    content: dict[str, Any]
    registry_version: int  # the registry version this publication made
    actor: str | None = None
    deployment: str | None = None
    written_at: str | None = None  # the writer's clock (informational)
    appended_at: int | None = None  # the log's time, µs since the epoch: the one that counts


@dataclass(frozen=True)
class DiffLine:
    kind: Literal["hunk", "same", "added", "removed"]
    text: str


@dataclass(frozen=True)
class ConfigDiff:
    lines: list[DiffLine]
    added: int
    removed: int

    @property
    def unchanged(self) -> bool:
        return not self.added and not self.removed


# ---- contents -------------------------------------------------------------------------------


def normalized(kind: str, content: Any) -> dict[str, Any]:
    """The content as it is published: validated by the kind's model and dumped as JSON data
    (defaults filled in), so equal meanings compare equal. Raises ``ValidationError``."""
    model = CONFIG_CONTENT[ConfigKind(kind)]
    dumped: dict[str, Any] = model.model_validate(content).model_dump(mode="json")
    return dumped


def pretty(content: Mapping[str, Any] | None) -> str:
    """Canonical JSON for people: keys sorted, two-space indents, Chinese as written."""
    if content is None:
        return ""
    return json.dumps(content, ensure_ascii=False, sort_keys=True, indent=2)


def content_diff(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> ConfigDiff:
    """What ``new`` changes against ``old`` (None: nothing in force yet), line by line."""
    before = pretty(old).splitlines() if old is not None else []
    after = pretty(new).splitlines()
    lines: list[DiffLine] = []
    added = removed = 0
    for raw in difflib.unified_diff(before, after, lineterm="", n=3):
        if raw.startswith(("---", "+++")):
            continue
        if raw.startswith("@@"):
            lines.append(DiffLine("hunk", raw))
        elif raw.startswith("+"):
            added += 1
            lines.append(DiffLine("added", raw[1:]))
        elif raw.startswith("-"):
            removed += 1
            lines.append(DiffLine("removed", raw[1:]))
        else:
            lines.append(DiffLine("same", raw[1:]))
    return ConfigDiff(lines, added, removed)


# ---- versions, as the registry holds them -----------------------------------------------------


def in_force(registry: Registry, kind: str) -> tuple[str, dict[str, Any]] | None:
    return registry.config_entry_at(kind, registry.version)


def next_label(registry: Registry, kind: str) -> str:
    labels = [label for _, label, _ in registry.configs.get(kind, ())]
    numbers = [int(label) for label in labels if label.isdigit()]
    return str(max([len(labels), *numbers]) + 1)


def owner_of(registry: Registry, kind: str) -> str | None:
    owner = registry.config_owners.get(kind)
    return owner[0] if owner is not None else None


def versions(
    registry: Registry, kind: str, records: Iterable[StoredRecord]
) -> list[PublishedVersion]:
    """Every accepted version of ``kind``, oldest first, with who published it and when, from
    the registry (which versions count) and the registry stream's records (by their hash)."""
    entries = registry.configs.get(kind, [])
    wanted = {registry.hash_at(at): at for at, _, _ in entries}
    found: dict[int, StoredRecord] = {}
    for rec in records:
        at = wanted.get(hashlib.sha256(rec.record).hexdigest())
        if at is not None:
            found[at] = rec
    out: list[PublishedVersion] = []
    for at, label, content in entries:
        got = found.get(at)
        env = orjson.loads(got.record) if got is not None else {}
        out.append(
            PublishedVersion(
                kind,
                label,
                content,
                at,
                actor=env.get("actor"),
                deployment=env.get("source"),
                written_at=env.get("time"),
                appended_at=got.appended_at if got is not None else None,
            )
        )
    return out


async def registry_records(log: EventLog) -> list[StoredRecord]:
    """The registry stream's records (a small stream: registrations, keys and versions)."""
    return [r async for r in log.read_stream(REGISTRY_STREAM)]


def registry_of(genesis: PublicKey, partitions: int, records: Iterable[StoredRecord]) -> Registry:
    """The registry those records make, judged by the rule book (as every reader folds it)."""
    fold = LedgerFold.rooted_in(genesis, partitions)
    for rec in records:
        fold.apply(rec)
    return fold.registry


# ---- deciding a new version (pure) ------------------------------------------------------------


def decide_publication(
    registry: Registry,
    kind: str,
    deployment: str,
    base: str,
    content: dict[str, Any],
    actor: str,
) -> list[Draft]:
    """The new version's event, nothing if it changes nothing, or why not (``ConfigRefusal``).
    ``content`` is already normalized; ``base`` names the version it was edited from."""
    entry = in_force(registry, kind)
    current = entry[0] if entry is not None else NO_VERSION
    if owner_of(registry, kind) != deployment:
        raise ConfigRefusal("not_owner", current)
    if base != current:
        raise ConfigRefusal("stale_version", current)
    unknown = unknown_supervisors(registry, kind, content)
    if unknown:
        raise ConfigRefusal("unknown_body", current, unknown)
    if entry is not None and entry[1] == content:
        return []
    data = {"kind": kind, "version": next_label(registry, kind), "content": content}
    return [Draft(CONFIG_PUBLISHED, data, actor)]


def unknown_supervisors(
    registry: Registry, kind: str, content: Mapping[str, Any]
) -> list[tuple[str | int, ...]]:
    """Where a unit directory names a supervising body the body directory in force lacks
    (both live in the registry stream: the owner checks them against each other)."""
    if kind != ConfigKind.unit_directory:
        return []
    bodies = in_force(registry, ConfigKind.body_directory)
    if bodies is None:
        return []
    known = {b["id"] for b in bodies[1]["bodies"]}
    return [
        ("units", i, "supervised_by")
        for i, unit in enumerate(content["units"])
        if unit["supervised_by"] not in known
    ]


# ---- the shipped defaults ---------------------------------------------------------------------


class DefaultConfigError(ValueError):
    """A shipped default file does not hold valid content of its kind."""


def default_contents(directory: Path = SOURCE_DEFAULTS_DIR) -> dict[str, dict[str, Any]]:
    """``<kind>.json`` of every kind found in ``directory``, validated and normalized."""
    out: dict[str, dict[str, Any]] = {}
    for kind in ConfigKind:
        path = directory / f"{kind.value}.json"
        if not path.exists():
            continue
        try:
            out[kind.value] = normalized(kind, orjson.loads(path.read_bytes()))
        except (orjson.JSONDecodeError, ValidationError) as exc:
            raise DefaultConfigError(f"{path}: not a valid {kind.value} ({exc})") from None
    return out


def seed_drafts(
    registry: Registry, spec: DeploymentSpec, contents: Mapping[str, dict[str, Any]]
) -> list[Draft]:
    """The first version of each kind ``spec`` owns that has none yet and has a default."""
    actor = f"{spec.body}/{DEFAULTS_STAFF}"
    return [
        Draft(CONFIG_PUBLISHED, {"kind": kind, "version": "1", "content": contents[kind]}, actor)
        for kind in spec.configs
        if kind in contents
        and owner_of(registry, kind) == spec.deployment
        and in_force(registry, kind) is None
    ]


async def publish_defaults(
    log: EventLog,
    settings: LedgerSettings,
    specs: Sequence[DeploymentSpec] | None = None,
    directory: Path | None = None,
) -> list[tuple[str, str]]:
    """Seed the shipped defaults, each by the deployment that owns its kind, signed with that
    deployment's key (after ``ledger init``). Idempotent: returns the (kind, version) pairs
    published now, none when every kind already has a version."""
    contents = default_contents(directory or settings.config_defaults_dir or SOURCE_DEFAULTS_DIR)
    genesis = keystore.genesis_public(settings)
    published: list[tuple[str, str]] = []
    for spec in specs if specs is not None else configured(settings):
        if not any(kind in contents for kind in spec.configs):
            continue
        writer = EventWriter(
            log, Signer(spec.deployment, keystore.load(settings, spec.name)), genesis
        )

        def decide(state: StreamState, spec: DeploymentSpec = spec) -> list[Draft]:
            return seed_drafts(state.domain, spec, contents)

        result = await writer.submit(REGISTRY_STREAM, decide)
        refused = result.refused
        if refused is not None:
            raise RuntimeError(
                f"{spec.deployment}: default configuration refused ({refused.reason})"
            )
        published.extend((w_kind, "1") for w_kind in _kinds_of(result.written))
    if published:
        logger.info("configuration defaults published: %s", ", ".join(k for k, _ in published))
    return published


def _kinds_of(written: Iterable[Any]) -> list[str]:
    kinds = []
    for w in written:
        data = orjson.loads(w.record).get("data", {})
        kinds.append(str(data.get("kind", "")))
    return kinds
