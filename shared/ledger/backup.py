"""``ledger backup`` and ``ledger restore``: one archive of what the log cannot rebuild.

What an archive holds (``manifest.json`` lists every part with its size and SHA-256):

* ``log/ledger.sqlite3`` — the embedded log, when it is the log (a Kafka log is the brokers'
  to keep; the manifest still records its position);
* ``durable/<deployment>.sqlite3`` — every deployment's durable store (a SQLite store copied, a
  MongoDB store exported through the port into the same file form);
* ``identity/<deployment>.sqlite3``, ``idempotency/<deployment>.sqlite3`` — operators, token
  and session hashes, lockouts; stored command results;
* ``var/…`` — the key directories (private keys: the archive is owner-only), each deployment's
  other files (its service secret, anonymous-form state, the demo operators' passwords), the
  auditor's digest copies and seals; stream snapshots only when asked (they are rebuildable).

Not in it, because the log rebuilds them: read-model copies and their pointer (a restored
service projects the log afresh), the Kafka stream index.

Consistent while services run: every SQLite file is copied with SQLite's online backup API
inside one read transaction (a snapshot: never a half-written commit), never by copying the
file. The order makes the parts agree with each other: command results first, then the log,
then keys and service state — so every key the log registers and every durable entry a logged
event refers to (a service keeps state before it appends the event) is in the archive, and a
stored command answer never names an event the archived log lacks. The manifest records the
log's position in the archived copy, checked there: each partition holds exactly the records
below its head.

``restore`` verifies every part against the manifest before it writes anything, refuses a
non-empty target unless forced (then the old directory is moved aside, never deleted), and
places the parts into a fresh var dir (owner-only).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from shared.durable import open_durable
from shared.durable.settings import (
    DURABLE_FILE,
    deployment_keys_dir,
    deployment_var_dir,
    durable_file,
)
from shared.durable.sqlite import SqliteDurableStore
from shared.durable.transfer import copy_store, is_empty
from shared.log.sqlite import OFFSET_BITS
from shared.private_files import private_dir, private_file
from shared.settings import LedgerSettings
from shared.web.command_path import SNAPSHOTS_FILE
from shared.web.settings import WebSettings

FORMAT = "supervision-ledger-backup/1"
MANIFEST = "manifest.json"
LOG_PART = "log/ledger.sqlite3"
_CHUNK = 1 << 20
_SQLITE_STEP_PAGES = 256
_SKIPPED_SUFFIXES = ("-wal", "-shm", "-journal", ".tmp", ".partial")

PartKind = Literal[
    "log", "durable", "identity", "idempotency", "key", "secret", "state", "snapshots", "audit"
]
Progress = Callable[[str, int], None]
"""``progress(what, bytes_done_since_last_call)``."""

EXCLUDED = [
    "read models (var/<service>/read-model-*): rebuilt from the log when the service starts",
    "the Kafka stream index (var/kafka-index/): rebuilt from the log",
]


BackupSettings = WebSettings
"""Every setting that says where a part lives: the log, identity and idempotency files,
durable stores (the web settings include the durable stores')."""


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str  # inside the archive, '/'-separated
    kind: PartKind
    deployment: str | None = None
    bytes: int
    sha256: str


class LogAtBackup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["sqlite", "kafka"]
    partitions: int
    position: dict[int, int]  # next offset per partition: the log's head in the archive
    records: int


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["supervision-ledger-backup/1"]
    created_at: datetime
    log: LogAtBackup
    durable_backend: Literal["sqlite", "mongo"]
    deployments: list[str]
    parts: list[Part]
    excluded: list[str]
    holds_private_keys: bool


class BackupError(RuntimeError):
    """A backup that cannot be taken as asked (the message says why)."""


class ArchiveError(RuntimeError):
    """An archive that fails its manifest: each problem named, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class RestoreRefused(RuntimeError):
    """The target is not fresh and ``--force`` was not given."""


# -- what to take ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    path: str  # in the archive
    kind: PartKind
    source: Path
    deployment: str | None = None
    how: Literal["sqlite", "file", "durable-export"] = "file"
    stage: int = 2  # 0: command results, 1: the log, 2: everything else (see the docstring)


def deployments(settings: LedgerSettings) -> list[str]:
    """The deployments whose state a backup covers: every configured service deployment's
    (the auditor keeps nothing but its keys, which are under the keys directory)."""
    from shared.ledger.deployments import AUDITOR, configured

    return [d.name for d in configured(settings) if d.name != AUDITOR.name]


def _skipped(path: Path) -> bool:
    return path.name.endswith(_SKIPPED_SUFFIXES)


def _read_model_file(path: Path) -> bool:
    return path.name == "read-model.json" or path.name.startswith("read-model-")


def _files(root: Path) -> Iterator[Path]:
    if root.is_dir():
        for p in sorted(root.rglob("*")):
            if p.is_file() and not p.is_symlink() and not _skipped(p):
                yield p


def plan(settings: BackupSettings, *, snapshots: bool = False) -> list[Source]:
    """Every part a backup takes, in the order it takes them. Pure but for listing files."""
    var = settings.var_dir.resolve()
    out: list[Source] = []
    taken: set[Path] = set()

    def add(src: Source) -> None:
        real = src.source.resolve()
        if src.how == "durable-export" or real not in taken:
            taken.add(real)
            out.append(src)

    def under_var(p: Path) -> str:
        if not p.resolve().is_relative_to(var):
            raise BackupError(f"{p} lies outside the var dir {var}: it cannot be placed back")
        return "var/" + PurePosixPath(p.resolve().relative_to(var)).as_posix()

    log_file = settings.sqlite_log_file
    if settings.log_backend == "sqlite" and log_file.exists():
        add(Source(LOG_PART, "log", log_file, how="sqlite", stage=1))
    taken.add(log_file.resolve())
    names = deployments(settings)
    for d in names:
        for kind, f in (
            ("idempotency", settings.idempotency_file(d)),
            ("identity", settings.identity_file(d)),
        ):
            if f.exists():
                stage = 0 if kind == "idempotency" else 2
                add(Source(f"{kind}/{d}.sqlite3", kind, f, d, "sqlite", stage))  # type: ignore[arg-type]
        if settings.durable_backend == "mongo":
            add(
                Source(
                    f"durable/{d}.sqlite3",
                    "durable",
                    durable_file(settings, d),
                    d,
                    "durable-export",
                )
            )
        elif durable_file(settings, d).exists():
            add(Source(f"durable/{d}.sqlite3", "durable", durable_file(settings, d), d, "sqlite"))
        # A durable SQLite file left from before a move to MongoDB is not this deployment's store.
        taken.add(durable_file(settings, d).resolve())
    key_dirs = dict.fromkeys(
        [settings.keys_dir, *(deployment_keys_dir(settings, d) for d in names)]
    )
    for kd in key_dirs:
        for f in _files(kd):
            add(Source(under_var(f), "key", f))
    for d in names:
        secrets = {settings.secret_file(d).resolve(), settings.demo_operators_file(d).resolve()}
        for f in _files(deployment_var_dir(settings, d)):
            if f.resolve() in taken or _read_model_file(f):
                continue
            if f.name == SNAPSHOTS_FILE:
                if snapshots:
                    add(Source(under_var(f), "snapshots", f, d, "sqlite"))
                continue
            if f.suffix == ".sqlite3":
                add(Source(under_var(f), "state", f, d, "sqlite"))
            else:
                secret = f.suffix == ".key" or f.resolve() in secrets
                add(Source(under_var(f), "secret" if secret else "state", f, d))
    for sub in ("digests", "seals"):
        for f in _files(settings.var_dir / sub):
            add(Source(under_var(f), "audit", f))
    return sorted(out, key=lambda s: s.stage)  # stable: within a stage, the order above


# -- copying ---------------------------------------------------------------------------------


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sqlite_online_copy(
    source: Path, target: Path, on_bytes: Callable[[int], None] | None = None
) -> None:
    """Copy a live SQLite database with the online backup API, inside one read transaction on
    the source (so the copy is one committed state, whatever writers do meanwhile), into a
    self-contained file (rollback journal, no ``-wal`` beside it), owner-only."""
    src = sqlite3.connect(source, timeout=30, isolation_level=None)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot starts here
        page_size = int(src.execute("PRAGMA page_size").fetchone()[0])
        private_file(target)
        dst = sqlite3.connect(target, isolation_level=None)
        try:
            done = 0

            def step(status: int, remaining: int, total: int) -> None:
                nonlocal done
                copied = total - remaining
                if on_bytes is not None and copied > done:
                    on_bytes((copied - done) * page_size)
                done = copied

            src.backup(dst, pages=_SQLITE_STEP_PAGES, progress=step)
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
        src.execute("ROLLBACK")
    finally:
        src.close()
    _fsync_file(target)


def _copy_file(source: Path, target: Path, on_bytes: Callable[[int], None] | None) -> None:
    private_file(target)
    with open(source, "rb") as fin, open(target, "wb") as fout:
        while chunk := fin.read(_CHUNK):
            fout.write(chunk)
            if on_bytes is not None:
                on_bytes(len(chunk))
        fout.flush()
        os.fsync(fout.fileno())


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def log_position(path: Path) -> dict[int, int]:
    """The head of a (copied) embedded log, checked against its records: each partition holds
    exactly offsets 0 … head-1, nothing beyond (no half-written event)."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        heads = {int(p): int(n) for p, n in db.execute("SELECT partition, next FROM heads")}
        for p, n in sorted(heads.items()):
            lo, hi = p << OFFSET_BITS, ((p + 1) << OFFSET_BITS) - 1
            count, top = db.execute(
                "SELECT count(*), max(pos) FROM records WHERE pos BETWEEN ? AND ?", (lo, hi)
            ).fetchone()
            if count != n or (n and top - lo != n - 1):
                raise BackupError(
                    f"the copied log is not consistent: partition {p} has {count} records "
                    f"for a head of {n}"
                )
    return heads


async def _kafka_position(settings: BackupSettings, scratch: Path | None = None) -> dict[int, int]:
    """The Kafka log's head; with ``scratch``, the log's local files (its stream index) go
    there, not into the var dir (a restore's target must stay untouched until it is checked)."""
    from shared.log.factory import open_log

    with contextlib.ExitStack() as stack:
        if scratch is not None:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix=".restore.", dir=scratch))
            settings = settings.model_copy(update={"var_dir": Path(tmp)})
        log = await open_log(settings)
        try:
            return dict(await log.head())
        finally:
            await log.close()


async def _export_durable(settings: BackupSettings, deployment: str, target: Path) -> bool:
    """Export the deployment's MongoDB durable store into a SQLite durable file; False (and no
    file) when the store is empty."""
    source = await open_durable(settings, deployment)
    try:
        if await is_empty(source):
            return False
        sink = await SqliteDurableStore.open(target)
        try:
            await copy_store(source, sink)
        finally:
            await sink.close()
    finally:
        await source.close()
    # Self-contained, like every other SQLite part: fold the WAL in, drop the side files.
    with contextlib.closing(sqlite3.connect(target, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode=DELETE")
    _fsync_file(target)
    return True


async def take_backup(
    settings: BackupSettings,
    dest: Path,
    *,
    snapshots: bool = False,
    progress: Progress | None = None,
) -> Manifest:
    """Write an archive of this machine's ledger state to ``dest``: a directory, or a tar file
    when ``dest`` ends in ``.tar``, ``.tar.gz`` or ``.tgz``. Refuses an existing ``dest``."""
    as_tar = _tar_mode(dest, "w") is not None
    if dest.exists() and (as_tar or not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} exists: a backup is written only to a new place")
    sources = plan(settings, snapshots=snapshots)
    if settings.log_backend == "sqlite" and not any(s.kind == "log" for s in sources):
        raise BackupError(f"no embedded log at {settings.sqlite_log_file}: nothing to back up")
    dest.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    try:
        os.chmod(build, 0o700)
        position: dict[int, int] | None = None
        parts: list[Part] = []
        for s in sources:
            if s.stage >= 1 and position is None and settings.log_backend == "kafka":
                position = await _kafka_position(settings)
            target = build / s.path
            private_dir(target.parent)

            def on_bytes(n: int, what: str = s.path) -> None:
                if progress is not None:
                    progress(what, n)

            if s.how == "sqlite":
                await asyncio.to_thread(sqlite_online_copy, s.source, target, on_bytes)
            elif s.how == "durable-export":
                assert s.deployment is not None
                if not await _export_durable(settings, s.deployment, target):
                    continue  # an empty store: nothing to keep
                on_bytes(target.stat().st_size)
            else:
                await asyncio.to_thread(_copy_file, s.source, target, on_bytes)
            if s.kind == "log":
                position = log_position(target)
            parts.append(
                Part(
                    path=s.path,
                    kind=s.kind,
                    deployment=s.deployment,
                    bytes=target.stat().st_size,
                    sha256=await asyncio.to_thread(file_sha256, target),
                )
            )
        if position is None:  # a Kafka log and no service state at all
            position = await _kafka_position(settings)
        excluded = [*EXCLUDED]
        if not snapshots:
            excluded.append("stream snapshots (var/<service>/stream-snapshots.sqlite3): rebuilt")
        if settings.log_backend == "kafka":
            excluded.append(f"the log itself: Kafka topic {settings.kafka_topic} (the brokers')")
        manifest = Manifest(
            format=FORMAT,
            created_at=datetime.now(UTC),
            log=LogAtBackup(
                backend=settings.log_backend,
                partitions=settings.log_partitions,
                position=position,
                records=sum(position.values()),
            ),
            durable_backend=settings.durable_backend,
            deployments=deployments(settings),
            parts=parts,
            excluded=excluded,
            holds_private_keys=any(p.kind in ("key", "secret") for p in parts),
        )
        manifest_file = build / MANIFEST
        private_file(manifest_file)
        manifest_file.write_bytes(manifest.model_dump_json(indent=2).encode() + b"\n")
        _fsync_file(manifest_file)
        if as_tar:
            await asyncio.to_thread(_write_tar, build, dest)
        else:
            if dest.exists():
                dest.rmdir()  # the empty directory checked above
            os.replace(build, dest)
            os.chmod(dest, 0o700)
    finally:
        if build.exists():
            shutil.rmtree(build, ignore_errors=True)
    return manifest


def _tar_mode(path: Path, verb: Literal["w", "r"]) -> str | None:
    name = path.name
    if name.endswith((".tar.gz", ".tgz")):
        return f"{verb}:gz"
    if name.endswith(".tar"):
        return f"{verb}:"
    return None


def _write_tar(build: Path, dest: Path) -> None:
    mode = _tar_mode(dest, "w")
    assert mode is not None
    tmp = dest.with_name(dest.name + ".partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh, tarfile.open(fileobj=fh, mode=mode) as tar:  # type: ignore[call-overload]
            for p in sorted(build.rglob("*")):
                tar.add(p, arcname=PurePosixPath(p.relative_to(build)).as_posix(), recursive=False)
        _fsync_file(tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


# -- checking an archive ---------------------------------------------------------------------


def _safe_part_path(path: str) -> bool:
    p = PurePosixPath(path)
    return (
        bool(path)
        and not p.is_absolute()
        and ".." not in p.parts
        and "\\" not in path
        and p.as_posix() == path
        and path != MANIFEST
    )


def check_archive(root: Path) -> Manifest:
    """The manifest of an unpacked archive, once every part matches it: present, of its size
    and SHA-256, and nothing in the archive that it does not list. Raises :class:`ArchiveError`
    naming every problem."""
    manifest_file = root / MANIFEST
    if not manifest_file.is_file():
        raise ArchiveError([f"not a backup: no {MANIFEST} in {root}"])
    try:
        manifest = Manifest.model_validate_json(manifest_file.read_bytes())
    except ValidationError as exc:
        where = sorted({".".join(str(x) for x in e["loc"]) or "(top)" for e in exc.errors()})
        at = ", ".join(where)
        raise ArchiveError(
            [f"{MANIFEST} is not a backup manifest of format {FORMAT}: at {at}"]
        ) from None
    problems: list[str] = []
    seen: set[str] = set()
    for part in manifest.parts:
        if not _safe_part_path(part.path):
            problems.append(f"part {part.path!r}: not a plain relative path inside the archive")
            continue
        if part.path in seen:
            problems.append(f"part {part.path}: listed twice in the manifest")
            continue
        seen.add(part.path)
        f = root / part.path
        if f.is_symlink() or not f.is_file():
            problems.append(f"part {part.path}: missing from the archive")
            continue
        size = f.stat().st_size
        if size != part.bytes:
            problems.append(f"part {part.path}: {size} bytes, the manifest says {part.bytes}")
            continue
        digest = file_sha256(f)
        if digest != part.sha256:
            problems.append(
                f"part {part.path}: SHA-256 {digest}, the manifest says {part.sha256} "
                "(the part is corrupt or was altered)"
            )
    for f in sorted(root.rglob("*")):
        rel = PurePosixPath(f.relative_to(root)).as_posix()
        if (f.is_file() or f.is_symlink()) and rel != MANIFEST and rel not in seen:
            problems.append(f"file {rel}: in the archive but not in the manifest")
    if problems:
        raise ArchiveError(problems)
    return manifest


def _quick_check(root: Path, manifest: Manifest) -> None:
    """Every SQLite part opens and passes ``PRAGMA quick_check`` (read-only, so a directory
    archive is left exactly as it is)."""
    problems = []
    for part in manifest.parts:
        if not part.path.endswith(".sqlite3"):
            continue
        uri = f"{(root / part.path).resolve().as_uri()}?mode=ro&immutable=1"
        try:
            with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
                answer = db.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            answer = str(exc)
        if answer != "ok":
            problems.append(f"part {part.path}: not a sound SQLite database ({answer})")
    if problems:
        raise ArchiveError(problems)


@contextlib.contextmanager
def opened_archive(src: Path, scratch: Path) -> Iterator[Path]:
    """The archive's root directory: ``src`` itself, or a tar unpacked into ``scratch``."""
    mode = _tar_mode(src, "r")
    if mode is None:
        if not src.is_dir():
            raise ArchiveError([f"{src}: neither a backup directory nor a .tar/.tar.gz archive"])
        yield src
        return
    if not src.is_file():
        raise ArchiveError([f"{src}: no such archive"])
    unpacked = Path(tempfile.mkdtemp(prefix=".restore.", dir=scratch))
    try:
        os.chmod(unpacked, 0o700)
        try:
            with tarfile.open(src, mode=mode) as tar:  # type: ignore[call-overload]
                tar.extractall(unpacked, filter="data")
        except (tarfile.TarError, OSError) as exc:
            raise ArchiveError(
                [f"{src}: cannot be unpacked ({type(exc).__name__}: {exc})"]
            ) from None
        yield unpacked
    finally:
        shutil.rmtree(unpacked, ignore_errors=True)


# -- restoring -------------------------------------------------------------------------------


@dataclass
class Restored:
    manifest: Manifest
    placed: list[tuple[Part, str]] = field(default_factory=list)  # part, where it went
    moved_aside: list[Path] = field(default_factory=list)


def _target(settings: BackupSettings, part: Part) -> Path | None:
    """Where a part goes (None: a MongoDB durable store, loaded through the port)."""
    head, _, rest = part.path.partition("/")
    d = part.deployment
    if part.kind == "log":
        return settings.sqlite_log_file
    if part.kind == "durable" and d is not None:
        return None if settings.durable_backend == "mongo" else durable_file(settings, d)
    if part.kind == "identity" and d is not None:
        return settings.identity_file(d)
    if part.kind == "idempotency" and d is not None:
        return settings.idempotency_file(d)
    if head == "var":
        return settings.var_dir / rest
    raise ArchiveError([f"part {part.path}: no place to restore it to"])


def _non_empty(path: Path) -> bool:
    return path.is_file() or (path.is_dir() and any(path.iterdir()))


def _aside(path: Path, stamp: str) -> Path:
    aside = path.with_name(f"{path.name}.before-restore-{stamp}")
    os.replace(path, aside)
    return aside


async def restore_backup(
    settings: BackupSettings,
    src: Path,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> Restored:
    """Check the archive against its manifest, then restore it into the var dir the settings
    name (which must be empty or absent, unless ``force``: then it is moved aside first)."""
    var = settings.var_dir
    if src.resolve().is_relative_to(var.resolve()):
        raise RestoreRefused(f"the archive {src} lies inside the target var dir {var}")
    var.parent.mkdir(parents=True, exist_ok=True)
    with opened_archive(src, var.parent) as root:
        manifest = await asyncio.to_thread(check_archive, root)
        await asyncio.to_thread(_quick_check, root, manifest)
        if manifest.log.backend != settings.log_backend:
            raise RestoreRefused(
                f"the archive's log is {manifest.log.backend}, these settings name "
                f"{settings.log_backend} (LEDGER_LOG_BACKEND)"
            )
        if manifest.log.partitions != settings.log_partitions:
            raise RestoreRefused(
                f"the archive's log has {manifest.log.partitions} partitions, these settings "
                f"name {settings.log_partitions} (LEDGER_LOG_PARTITIONS)"
            )
        targets = [(part, _target(settings, part)) for part in manifest.parts]
        busy: list[str] = []
        outside = sorted(
            {
                t
                for _, t in targets
                if t is not None and not t.resolve().is_relative_to(var.resolve())
            }
        )
        if _non_empty(var):
            busy.append(str(var))
        busy += [str(t) for t in outside if t.exists()]
        mongo_busy = []
        for part, t in targets:
            if t is None and part.deployment is not None:
                store = await open_durable(settings, part.deployment)
                try:
                    if not await is_empty(store):
                        mongo_busy.append(part.deployment)
                finally:
                    await store.close()
        busy += [f"the MongoDB durable store of {d}" for d in mongo_busy]
        if busy and not force:
            raise RestoreRefused(
                "the target is not fresh: " + "; ".join(busy) + " (--force moves it aside)"
            )
        if manifest.log.backend == "kafka":
            head = await _kafka_position(settings, scratch=var.parent)
            behind = [
                f"partition {p} at {head.get(p, 0)}, the archive's at {n}"
                for p, n in sorted(manifest.log.position.items())
                if head.get(p, 0) < n
            ]
            if behind:
                raise RestoreRefused(
                    f"the Kafka log (topic {settings.kafka_topic}) is behind the archive: "
                    + "; ".join(behind)
                    + " (another topic, or a log that lost records)"
                )
        result = Restored(manifest)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        if _non_empty(var):
            result.moved_aside.append(_aside(var, stamp))
        for t in outside:
            if t.exists():
                result.moved_aside.append(_aside(t, stamp))
        private_dir(var)
        os.chmod(var, 0o700)
        for part, t in targets:
            source = root / part.path

            def on_bytes(n: int, what: str = part.path) -> None:
                if progress is not None:
                    progress(what, n)

            if t is None:
                assert part.deployment is not None
                await _load_durable(settings, part.deployment, source, mongo_busy)
                on_bytes(part.bytes)
                result.placed.append((part, f"MongoDB durable store of {part.deployment}"))
                continue
            private_dir(t.parent)
            tmp = t.with_name(t.name + ".partial")
            tmp.unlink(missing_ok=True)
            await asyncio.to_thread(_copy_file, source, tmp, on_bytes)
            os.replace(tmp, t)
            result.placed.append((part, str(t)))
        if manifest.log.backend == "sqlite":
            restored = log_position(settings.sqlite_log_file)
            if restored != manifest.log.position:
                raise BackupError(
                    f"the restored log's head {restored} is not the archive's "
                    f"{manifest.log.position}"
                )
    return result


async def _load_durable(
    settings: BackupSettings, deployment: str, source: Path, drop_first: list[str]
) -> None:
    """Load an archived durable store into this deployment's MongoDB store, through the port
    (from a scratch copy: opening the archived file would write beside it)."""
    with tempfile.TemporaryDirectory(dir=settings.var_dir) as scratch:
        copy = Path(scratch) / DURABLE_FILE
        _copy_file(source, copy, None)
        archived = await SqliteDurableStore.open(copy)
        target = await open_durable(settings, deployment)
        try:
            if deployment in drop_first:
                from shared.durable.mongo import MongoDurableStore

                assert isinstance(target, MongoDurableStore)
                await target.drop_database()
            await copy_store(archived, target)
        finally:
            await target.close()
            await archived.close()
