"""The complainant vault: per complaint, what must never enter the log, encrypted at rest.

One entry per complaint, keyed by its case id, in intake's durable store (collection
``vault``; never in the read model, which the log rebuilds): the complainant's identity and
contact (name, phone, e-mail, ID number, address, the contact the clerk recorded), the original
text and the attachments' bytes — all one JSON document sealed with AES-256-GCM under the
vault key file's current key (``vault_keys``), bound to its case id. Beside the sealed value
the entry keeps only the complaint number and when it was written (for the orphan sweep).

Crash safety (``receipt.file_complaint``): the entry is written *before* the complaint's
append, under the case id the command's idempotency key derives, so a retry with the same key
finds it (``keep`` never writes a second one) and no acknowledged complaint lacks its entry. An
entry whose append never happened names a case with no event in the log; nobody can read it
(nothing leads to it) and the expiry run deletes it once older than the grace period
(``rights.expire``).

Every look at an original by staff is recorded in ``vault_views`` (who, when, why:
``record_view``), listed for auditors.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from fastapi import Request

from services.intake import vault_keys
from services.intake.vault_content import Held, View
from services.intake.vault_keys import Sealed, VaultKeys
from services.intake.vault_settings import VaultSettings
from shared.durable.port import DurableStore
from shared.web.context import get_context
from shared.web.problems import LEDGER_UNAVAILABLE, ProblemError

VAULT = "vault"
VIEWS = "vault_views"
APP_STATE = "intake_vault"
KEY_FILE_STATE = "intake_vault_key_file"


def _aad(case: str) -> bytes:
    return b"intake-vault\x00" + case.encode() + b"\x00"


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Vault:
    """The vault over a durable store and the key file's keys (re-read when the file changes)."""

    def __init__(self, store: DurableStore, keys: VaultKeys) -> None:
        self.store = store
        self.keys = keys

    def _seal(self, case: str, held: Held) -> dict[str, Any]:
        sealed = self.keys.seal(orjson.dumps(held.model_dump(mode="json")), _aad(case))
        return {"sealed": sealed.model_dump(), "complaint_no": held.complaint_no, "at": now_text()}

    def _open(self, case: str, value: dict[str, Any]) -> Held:
        raw = self.keys.open(Sealed.model_validate(value["sealed"]), _aad(case))
        return Held.model_validate_json(raw)

    async def keep(self, case: str, held: Held) -> None:
        """Write the entry if the case has none yet (a retry finds the first and keeps it)."""
        await self.store.compare_and_set(VAULT, case, self._seal(case, held), 0)

    async def read(self, case: str) -> Held | None:
        entry = await self.store.get(VAULT, case)
        return self._open(case, entry.value) if entry is not None else None

    async def erase(self, case: str) -> bool:
        return await self.store.delete(VAULT, case)

    async def discard_unfiled(self, case: str, written_before: str | None = None) -> bool:
        """Delete an entry whose complaint never reached the log (guarded by its version, so
        an entry a retry has just rewritten is not lost)."""
        entry = await self.store.get(VAULT, case)
        if entry is None or (written_before and str(entry.value.get("at", "")) >= written_before):
            return False
        return await self.store.delete(VAULT, case, expected_version=entry.version)

    async def cases(self) -> list[tuple[str, str]]:
        """Every entry's (case id, written at), in key order."""
        out: list[tuple[str, str]] = []
        after: str | None = None
        while page := await self.store.scan(VAULT, after=after):
            out += [(e.key, str(e.value.get("at", ""))) for e in page]
            after = page[-1].key
        return out

    async def reencrypt(self) -> tuple[int, int]:
        """Seal every entry not under the current key anew: (moved, already current)."""
        moved = kept = 0
        after: str | None = None
        while page := await self.store.scan(VAULT, after=after):
            for e in page:
                if e.value["sealed"]["kid"] == self.keys.current:
                    kept += 1
                    continue
                fresh = self._seal(e.key, self._open(e.key, e.value)) | {"at": e.value["at"]}
                if await self.store.compare_and_set(VAULT, e.key, fresh, e.version) is not None:
                    moved += 1
            after = page[-1].key
        return moved, kept

    async def record_view(self, view: View) -> None:
        key = f"{view.at}|{uuid.uuid4()}"
        await self.store.put(VIEWS, key, view.model_dump())

    async def views(self, case: str | None = None) -> list[View]:
        out: list[View] = []
        after: str | None = None
        while page := await self.store.scan(VIEWS, after=after):
            out += [View.model_validate(e.value) for e in page]
            after = page[-1].key
        return [v for v in out if case is None or v.case == case]


async def vault_of(request: Request) -> Vault:
    """The app's vault: its durable store as the app holds it now (opened on first use, closed
    with the app), and the key file's keys (re-read when the file changes)."""
    ctx = get_context(request)
    if ctx.durable is None:
        raise ProblemError(LEDGER_UNAVAILABLE, "保管库暂不可用")
    path: Path | None = getattr(request.app.state, KEY_FILE_STATE, None)
    if path is None:  # the settings are read once: reading them costs ms (env and .env file)
        path = VaultSettings().key_file(ctx.settings.var_dir, ctx.service)
        setattr(request.app.state, KEY_FILE_STATE, path)
    cached: tuple[int, VaultKeys] | None = getattr(request.app.state, APP_STATE, None)
    stamp = os.stat(path).st_mtime_ns if path.exists() else -1
    if cached is None or cached[0] != stamp:
        keys = vault_keys.load_or_create(path)
        cached = (os.stat(path).st_mtime_ns, keys)
        setattr(request.app.state, APP_STATE, cached)
    return Vault(await ctx.durable.store(), cached[1])
