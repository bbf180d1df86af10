"""The complainant's pseudonym (DESIGN principle 5): a keyed hash of how they can be reached.

The log names a complainant only by this HMAC under the pseudonym key that the city's intake
deployments share (``vault_settings``: one file, distinct from each deployment's own service
secret): the same phone number or e-mail address gives the same pseudonym at every body's
intake (so one person's complaints match across bodies, and "only this case's complainant
confirms" can be checked by every reader), while the log, a read model or a copied file gives
back nothing that could be tried against a list of numbers without the key.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from fastapi import Request

from services.intake.vault_settings import VaultSettings
from shared.web.context import get_context
from shared.web.service_secret import ServiceSecret

PURPOSE = "complainant-pseudonym"
APP_STATE = "intake_pseudonym_key"


def normalize_contact(contact: str) -> str:
    """One form per contact: width, case, spaces and dashes do not matter."""
    folded = unicodedata.normalize("NFKC", contact).strip().lower()
    return "".join(ch for ch in folded if ch not in " -\t()")


def pseudonym_key(path: Path) -> ServiceSecret:
    """The shared key (32 random bytes, created 0600 if missing: the first deployment's)."""
    return ServiceSecret.at(path)


def pseudonym(key: ServiceSecret, contact: str) -> str:
    return key.digest(PURPOSE, normalize_contact(contact))


def pseudonym_key_of(request: Request) -> ServiceSecret:
    """The running app's shared pseudonym key (read once)."""
    key: ServiceSecret | None = getattr(request.app.state, APP_STATE, None)
    if key is None:
        ctx = get_context(request)
        key = pseudonym_key(VaultSettings().pseudonym_file(ctx.settings.var_dir))
        setattr(request.app.state, APP_STATE, key)
    return key
