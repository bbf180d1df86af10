"""The complainant's pseudonym (DESIGN principle 5): a keyed hash of how they can be reached.

The log names a complainant only by this HMAC under intake's own secret: the same phone number
or e-mail address gives the same pseudonym (so "only this case's complainant confirms" can be
checked by every reader), while the log, the read model or a copied file gives back nothing
that could be tried against a list of numbers without the secret.
"""

from __future__ import annotations

from shared.web.service_secret import ServiceSecret

PURPOSE = "complainant-pseudonym"


def normalize_contact(contact: str) -> str:
    """One form per contact: case, spaces and dashes do not matter."""
    return "".join(ch for ch in contact.strip().lower() if ch not in " -\t()")


def pseudonym(secret: ServiceSecret, contact: str) -> str:
    return secret.digest(PURPOSE, normalize_contact(contact))
