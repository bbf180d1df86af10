"""Per-stream snapshots: a writer's stream states kept on disk beside the service's state, so
the first command after a restart does not fold a long stream from the log.

A snapshot holds one stream's state with where it stands (partition, the offset of its head
record, the offset folded to) and is trusted only after checking it against the log: the record
at the head offset must hash to the state's head. It is also bound to the rule book that
produced it (a digest of its source: another rule book folds afresh) and authenticated with a
key derived from the deployment's own (HMAC-SHA256) before it is decoded. Any doubt — a missing,
stale, foreign or unreadable snapshot — means folding from the log, as without one.
"""

from __future__ import annotations

import hashlib
import hmac
import pickle
import sqlite3
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from shared.log.port import EventLog
from shared.rules.stream import StreamState

_SCHEMA = """
CREATE TABLE IF NOT EXISTS snapshots(
  stream TEXT PRIMARY KEY, partition INTEGER NOT NULL, head_offset INTEGER NOT NULL,
  next_offset INTEGER NOT NULL, rules TEXT NOT NULL, mac BLOB NOT NULL, state BLOB NOT NULL);
"""


@cache
def rules_digest() -> str:
    """A digest of the rule book's source: states folded by other rules are not reused."""
    import shared.events.catalog
    import shared.rules

    h = hashlib.sha256()
    rules_dir = Path(shared.rules.__file__).parent
    for path in [*sorted(rules_dir.glob("*.py")), Path(shared.events.catalog.__file__)]:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


@dataclass(frozen=True)
class Snapshot:
    state: StreamState
    partition: int
    head_offset: int  # offset of the record whose hash is state.head
    next_offset: int  # the state holds every record of the partition before this


class StreamSnapshots:
    def __init__(self, path: Path, secret: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._secret = secret
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # a lost snapshot only costs a fold
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def _mac(self, stream: str, blob: bytes) -> bytes:
        return hmac.new(self._secret, stream.encode() + b"\0" + blob, hashlib.sha256).digest()

    def save(self, snapshot: Snapshot) -> None:
        st = snapshot.state
        blob = pickle.dumps(st, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._db.execute(
                "INSERT INTO snapshots VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(stream) DO UPDATE"
                " SET partition=excluded.partition, head_offset=excluded.head_offset,"
                " next_offset=excluded.next_offset, rules=excluded.rules, mac=excluded.mac,"
                " state=excluded.state WHERE excluded.next_offset >= snapshots.next_offset",
                (
                    st.stream,
                    snapshot.partition,
                    snapshot.head_offset,
                    snapshot.next_offset,
                    rules_digest(),
                    self._mac(st.stream, blob),
                    blob,
                ),
            )

    async def load(self, log: EventLog, stream: str) -> Snapshot | None:
        """The stream's snapshot, if it is there, authentic, of these rules and the log's."""
        with self._lock:
            row = self._db.execute(
                "SELECT partition, head_offset, next_offset, rules, mac, state FROM snapshots"
                " WHERE stream=?",
                (stream,),
            ).fetchone()
        if row is None:
            return None
        partition, head_offset, next_offset, rules, mac, blob = row
        if rules != rules_digest() or not hmac.compare_digest(mac, self._mac(stream, blob)):
            return None
        try:
            state = pickle.loads(blob)  # authenticated above: written by this deployment
        except Exception:
            return None
        if not isinstance(state, StreamState) or state.stream != stream or state.head is None:
            return None
        got = await log.read({partition: head_offset}, limit=1, until={partition: head_offset + 1})
        if not got or got[0].stream != stream:
            return None
        if hashlib.sha256(got[0].record).hexdigest() != state.head:
            return None  # not the log it was taken from
        return Snapshot(state, partition, head_offset, next_offset)

    def close(self) -> None:
        with self._lock:
            self._db.close()
