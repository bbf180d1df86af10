"""The durable-store port: what a service must keep that the log cannot rebuild.

Read models are disposable (DESIGN principle 1); this store is not. Intake's vault and its
indexes, the staff directory, notice texts, the transparency log's state and uploaded evidence
files live here, one store per deployment, beside (never inside) the read model: ``ledger
rebuild`` drops read-model copies and never touches it, and ``ledger backup`` covers it.

Two kinds of content, both adapters alike (the contract suite in
``tests/contract/test_durable_contract.py`` holds them to it):

* **Entries**: a JSON object under (collection, key), with a version. ``put`` writes whatever
  is there and returns the new version (1 for a new entry); ``compare_and_set`` writes only if
  the stored version is the expected one (0: only if absent) and returns the new version, or
  ``None`` when another writer came first; ``delete`` may be guarded the same way. ``scan``
  lists a collection in key order (by UTF-8 bytes on both adapters), from a prefix and after a
  key, in pages. The value comes back exactly as JSON round-tripping gives it (orjson's form:
  a datetime becomes its RFC 3339 string, a tuple a list); both adapters keep its canonical
  JSON text (sorted keys), so FerretDB v1's limits on documents (no arrays in arrays, no
  dotted or ``$`` keys) do not narrow what a service may keep.
* **Blobs** (evidence files): bytes addressed by their SHA-256 (hex). ``put_blob`` is
  idempotent and returns the digest; ``get_blob`` checks the bytes against it on every read.

Names: collections match ``[a-z][a-z0-9_]{0,62}``; a key is a non-empty string of at most
512 characters without NUL. Values are at most ``MAX_VALUE_BYTES`` as JSON, blobs at most
``MAX_BLOB_BYTES``. Errors never echo a key or a value (keys may be personal: a phone number's
keyed hash is fine, the number is not).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

import orjson

MAX_KEY_CHARS = 512
MAX_VALUE_BYTES = 4 * 1024 * 1024
MAX_BLOB_BYTES = 64 * 1024 * 1024
SCAN_PAGE = 500

Backend = Literal["sqlite", "mongo"]

_COLLECTION = re.compile(r"[a-z][a-z0-9_]{0,62}")
_DIGEST = re.compile(r"[0-9a-f]{64}")


class DurableError(Exception):
    """Base of the errors the durable store raises on purpose."""


class InvalidEntry(DurableError, ValueError):
    """A name, key or value outside the contract (the message never echoes it)."""


class CorruptBlob(DurableError):
    """Stored bytes that no longer hash to the digest they are filed under."""


@dataclass(frozen=True, slots=True)
class Entry:
    collection: str
    key: str
    version: int
    value: dict[str, Any]


def check_collection(coll: str) -> str:
    if not isinstance(coll, str) or not _COLLECTION.fullmatch(coll):
        raise InvalidEntry("collection names match [a-z][a-z0-9_]{0,62}")
    return coll


def check_key(key: str) -> str:
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_CHARS or "\x00" in key:
        raise InvalidEntry(f"a key is a non-empty string of at most {MAX_KEY_CHARS} characters")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidEntry("a key must be valid Unicode text") from None
    return key


def check_digest(digest: str) -> str:
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise InvalidEntry("a blob digest is 64 lowercase hex characters (SHA-256)")
    return digest


def check_version(version: int) -> int:
    if type(version) is not int or version < 0:
        raise InvalidEntry("an expected version is an integer ≥ 0 (0: the entry is absent)")
    return version


def encode_value(value: Mapping[str, Any]) -> str:
    """The canonical JSON text both adapters keep (sorted keys, orjson's forms)."""
    if not isinstance(value, Mapping):
        raise InvalidEntry("a value is a JSON object")
    try:
        raw = orjson.dumps(
            value if isinstance(value, dict) else dict(value), option=orjson.OPT_SORT_KEYS
        )
    except TypeError as exc:  # orjson names the type, never the value
        raise InvalidEntry(f"value is not JSON: {exc}") from None
    if len(raw) > MAX_VALUE_BYTES:
        raise InvalidEntry(f"a value is at most {MAX_VALUE_BYTES} bytes of JSON")
    return raw.decode()


def decode_value(text: str | bytes) -> dict[str, Any]:
    value: dict[str, Any] = orjson.loads(text)
    return value


def blob_digest(data: bytes) -> str:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidEntry("a blob is bytes")
    if len(data) > MAX_BLOB_BYTES:
        raise InvalidEntry(f"a blob is at most {MAX_BLOB_BYTES} bytes")
    return hashlib.sha256(data).hexdigest()


def checked_blob(digest: str, data: bytes) -> bytes:
    if hashlib.sha256(data).hexdigest() != digest:
        raise CorruptBlob(f"blob {digest[:16]}…: its stored bytes no longer hash to its digest")
    return data


class StoreDigest:
    """SHA-256 over a whole store, fed in one order by both adapters: every collection in name
    order, its entries in key order (collection, key, version, canonical value), then every
    blob in digest order (digest, size). Equal content gives an equal digest on both."""

    def __init__(self) -> None:
        self._h = hashlib.sha256()

    def entry(self, coll: str, key: str, version: int, value_text: str) -> None:
        self._h.update(orjson.dumps(["entry", coll, key, version, value_text]) + b"\n")

    def blob(self, digest: str, size: int) -> None:
        self._h.update(orjson.dumps(["blob", digest, size]) + b"\n")

    def hexdigest(self) -> str:
        return self._h.hexdigest()


@runtime_checkable
class DurableStore(Protocol):
    """One deployment's durable state: versioned JSON entries and content-addressed blobs."""

    backend: Backend

    # -- entries ------------------------------------------------------------------------------

    async def get(self, coll: str, key: str) -> Entry | None: ...

    async def put(self, coll: str, key: str, value: Mapping[str, Any]) -> int:
        """Create or replace; returns the new version (the stored one + 1, or 1)."""
        ...

    async def compare_and_set(
        self, coll: str, key: str, value: Mapping[str, Any], expected_version: int
    ) -> int | None:
        """Write only if the stored version is ``expected_version`` (0: only if absent);
        the new version, or ``None`` if the entry had moved on (nothing written)."""
        ...

    async def delete(self, coll: str, key: str, expected_version: int | None = None) -> bool:
        """Remove the entry (only at ``expected_version``, if given); whether it was removed."""
        ...

    async def scan(
        self, coll: str, *, prefix: str = "", after: str | None = None, limit: int = SCAN_PAGE
    ) -> list[Entry]:
        """Entries whose key starts with ``prefix``, after the key ``after``, in key order."""
        ...

    async def collections(self) -> list[str]:
        """Names of the collections holding at least one entry, sorted."""
        ...

    async def load(self, entries: Iterable[Entry]) -> int:
        """Write entries exactly as given, versions included (restores and migrations);
        returns how many."""
        ...

    # -- blobs --------------------------------------------------------------------------------

    async def put_blob(self, data: bytes) -> str:
        """Keep the bytes; returns their SHA-256 (hex). Idempotent."""
        ...

    async def get_blob(self, digest: str) -> bytes | None:
        """The bytes, checked against the digest (``CorruptBlob`` if they no longer match)."""
        ...

    async def has_blob(self, digest: str) -> bool: ...

    async def delete_blob(self, digest: str) -> bool: ...

    async def blobs(self, *, after: str | None = None, limit: int = SCAN_PAGE) -> list[str]:
        """Digests of the stored blobs, in order, after ``after``."""
        ...

    # -- whole store --------------------------------------------------------------------------

    async def digest(self) -> str:
        """SHA-256 (hex) of the whole content (:class:`StoreDigest`): equal on both adapters
        for equal content, so a restore or a migration can be proved whole."""
        ...

    async def ping(self) -> bool:
        """Whether the store answers now (for ``/readyz``); never raises."""
        ...

    async def close(self) -> None: ...
