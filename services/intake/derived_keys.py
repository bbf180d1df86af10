"""Filing under a key derived from what is filed — an e-mail's Message-ID, an export's file hash
and row number — rather than one a client chose.

The command path derives a command's event ids (and so its case stream and tracking code) from
the operator and the idempotency key. Here the key says what the complaint *is*, and the ids are
derived under one name per channel instead of the operator's, so the same message or row filed
again — by a rerun, a retry after a kill, another clerk — opens the same stream, where the
writer finds the complaint already in the log and answers with it: nothing is written twice.
The events still name the clerk who sent them as their actor.
"""

from __future__ import annotations

from fastapi import Request

from shared.web.command_path import Ledger, ServiceWriter
from shared.web.context import get_context


class DerivedKeyLedger(Ledger):
    def __init__(self, service: ServiceWriter, request: Request, scope: str, key: str) -> None:
        super().__init__(service, request)
        self._id_scope = scope
        self._key = key

    @property
    def idempotency_key(self) -> str:
        return self._key

    def event_id(self, index: int) -> str:
        return self.service.event_id(self._id_scope, self._key, index)


def derived_ledger(request: Request, scope: str, key: str) -> DerivedKeyLedger:
    writer = get_context(request).writer
    if writer is None:
        raise RuntimeError("this service declares no deployment: it cannot write to the log")
    return DerivedKeyLedger(writer, request, scope, key)
