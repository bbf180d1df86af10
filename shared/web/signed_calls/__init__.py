"""Signed internal calls between services: no shared secrets, no operator tokens.

A service calls another's internal endpoint with a request signed by its deployment key
(RFC 9421 HTTP Message Signatures, Ed25519; ``scheme.py``); the called service admits it only
if the key is its caller's and valid in the registry now, the signature and the body's digest
hold, the time is within the window, the nonce is new (``nonces.py``) and the registry grants
the caller that endpoint (``ledger.registry.calls_granted.v1``; ``guard.py``). ``client.py``
signs with ``httpx``.
"""

from shared.web.signed_calls.client import SignedCallAuth, service_client, signed_client
from shared.web.signed_calls.guard import SignedCallGuard, VerifiedCall, signed_call
from shared.web.signed_calls.scheme import CallRefused, Refusal

__all__ = [
    "CallRefused",
    "Refusal",
    "SignedCallAuth",
    "SignedCallGuard",
    "VerifiedCall",
    "service_client",
    "signed_call",
    "signed_client",
]
