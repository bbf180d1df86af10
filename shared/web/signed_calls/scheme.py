"""The signature of an internal call: RFC 9421 HTTP Message Signatures over the request, built
and checked with the ``http-message-signatures`` library; the body is pinned by an RFC 9530
``Content-Digest`` (SHA-256) that the signature covers. Pure: no clock, no registry, no I/O —
the caller passes the time and the key.

A signed request carries::

    Ledger-Caller: /bodies/efficiency-office/publication     (the calling deployment)
    Ledger-Target: /bodies/efficiency-office/intake          (the deployment called)
    Content-Digest: sha-256=:…:
    Signature-Input: ledger=("@method" "@path" "@query" "ledger-caller" "ledger-target"
        "content-digest");created=…;keyid="<kid>";alg="ed25519";nonce="…";tag="ledger-internal-call"
    Signature: ledger=:<Ed25519 signature of the RFC 9421 signature base>:

so the signature covers the method, the path and query as sent, the body's digest, the time
(``created``, Unix seconds), a random nonce, the caller's deployment, the deployment called and
the key id. The called deployment checks them in the order of :class:`Refusal`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

import http_sf
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from http_message_signatures import (
    ContentDigest,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    InvalidSignature,
    MappingKeyResolver,
    algorithms,
)
from http_message_signatures.exceptions import HTTPMessageSignaturesException

from shared.crypto.signing import SigningKey, unb64u

TAG = "ledger-internal-call"
LABEL = "ledger"
CALLER_HEADER = "Ledger-Caller"
TARGET_HEADER = "Ledger-Target"
COVERED = ("@method", "@path", "@query", "ledger-caller", "ledger-target", "content-digest")
ACCEPT_SIGNATURE = (
    f"{LABEL}=(" + " ".join(f'"{c}"' for c in COVERED) + ")"
    f';alg="ed25519";created;nonce;tag="{TAG}"'
)
"""RFC 9421 section 5.1: how a refused caller should sign (sent with every 401)."""
WINDOW_SECONDS = 60
"""A call is accepted only while ``created`` is within this many seconds of the called
service's clock (either way), and its nonce is remembered for as long."""

_DEPLOYMENT = re.compile(r"^/[a-z0-9._/-]{1,120}$")
_KID = re.compile(r"^[0-9a-f]{32}$")
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class Refusal(StrEnum):
    """Why a call is refused, in the order the called deployment checks."""

    unsigned = "unsigned"  # no Signature-Input / Signature
    malformed = "malformed"  # not our scheme's shape (tag, components, parameters, headers)
    stale = "stale"  # created outside the window
    key_unknown = "key_unknown"  # the key id is not in the registry
    key_revoked = "key_revoked"  # revoked at the registry version now
    key_foreign = "key_foreign"  # the key is another deployment's than Ledger-Caller names
    signature_invalid = "signature_invalid"  # the signature does not verify (altered headers)
    misdirected = "misdirected"  # signed for another deployment (Ledger-Target)
    body_altered = "body_altered"  # the body does not match the signed digest
    not_granted = "not_granted"  # the registry grants the caller no call to this endpoint
    replayed = "replayed"  # the nonce was seen within the window


class CallRefused(Exception):
    """A call fails a check; carries only the reason (never a value from the request)."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


class Message(Protocol):
    """What the library reads of a request: an upper-case method, the absolute encoded URL,
    and headers with ``items()`` (httpx's and Starlette's both fit)."""

    @property
    def method(self) -> str: ...

    @property
    def url(self) -> Any: ...

    @property
    def headers(self) -> Any: ...


@dataclass(frozen=True)
class Claim:
    """What a request's signature input says, before anything is verified."""

    kid: str
    created: int
    nonce: str
    caller: str
    target: str


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def sign(
    message: Message,
    body: bytes,
    key: SigningKey,
    *,
    caller: str,
    target: str,
    created: int,
    nonce: str,
) -> None:
    """Add the call's headers and its signature to ``message`` in place."""
    message.headers[CALLER_HEADER] = caller
    message.headers[TARGET_HEADER] = target
    signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519)
    prepared = signer.prepare(
        message,
        key_id=key.kid,
        created=datetime.fromtimestamp(created, UTC),  # aware: a naive one is local time
        nonce=nonce,
        label=LABEL,
        tag=TAG,
        covered_component_ids=COVERED[:-1],
        body=body,
    )
    signer.apply(message, prepared, unb64u(key.sign(prepared.signature_base)))


def _header(headers: Any, name: str) -> str | None:
    values = [v for k, v in headers.items() if k.lower() == name.lower()]
    return values[0] if len(values) == 1 else None


def _reject_duplicate(key: str, context: str) -> None:
    raise ValueError("duplicate")


def _dictionary(value: str) -> dict[str, Any]:
    """A structured-field dictionary (RFC 8941); a repeated key (a field sent twice and joined)
    is malformed, never silently the last one."""
    try:
        parsed = http_sf.parse(
            value.encode("ascii"), tltype="dictionary", on_duplicate_key=_reject_duplicate
        )
    except (ValueError, TypeError, UnicodeEncodeError):
        raise CallRefused(Refusal.malformed) from None
    if not isinstance(parsed, dict):
        raise CallRefused(Refusal.malformed)
    return parsed


def read_claim(headers: Any) -> Claim:
    """The claim of the one signature tagged as ours, checked for shape only."""
    sig_input = _header(headers, "Signature-Input")
    signature = _header(headers, "Signature")
    if sig_input is None and signature is None:
        if any(k.lower() in ("signature-input", "signature") for k, _ in headers.items()):
            raise CallRefused(Refusal.malformed)  # repeated fields
        raise CallRefused(Refusal.unsigned)
    if sig_input is None or signature is None:
        raise CallRefused(Refusal.malformed)
    inputs, signatures = _dictionary(sig_input), _dictionary(signature)
    ours = [
        (label, members, params)
        for label, (members, params) in inputs.items()
        if isinstance(params, dict) and params.get("tag") == TAG
    ]
    if len(ours) != 1 or not isinstance(ours[0][1], list):
        raise CallRefused(Refusal.malformed)
    label, members, params = ours[0]
    if not isinstance(signatures.get(label, (None,))[0], bytes):
        raise CallRefused(Refusal.malformed)
    covered = [m[0] if isinstance(m, tuple) else None for m in members]
    if sorted(str(c) for c in covered) != sorted(COVERED) or any(
        isinstance(m, tuple) and m[1] for m in members
    ):
        raise CallRefused(Refusal.malformed)
    kid, created, nonce = params.get("keyid"), params.get("created"), params.get("nonce")
    caller, target = _header(headers, CALLER_HEADER), _header(headers, TARGET_HEADER)
    shaped = (
        params.get("alg") == algorithms.ED25519.algorithm_id
        and set(params) == {"alg", "created", "keyid", "nonce", "tag"}
        and isinstance(kid, str)
        and _KID.match(kid) is not None
        and type(created) is int
        and isinstance(nonce, str)
        and _NONCE.match(nonce) is not None
        and caller is not None
        and _DEPLOYMENT.match(caller) is not None
        and target is not None
        and _DEPLOYMENT.match(target) is not None
    )
    if not shaped:
        raise CallRefused(Refusal.malformed)
    assert isinstance(kid, str) and isinstance(created, int) and isinstance(nonce, str)
    assert caller is not None and target is not None
    return Claim(kid, created, nonce, caller, target)


def check_time(claim: Claim, now: float, window: int = WINDOW_SECONDS) -> None:
    if abs(now - claim.created) > window:
        raise CallRefused(Refusal.stale)


class _Verifier(HTTPMessageVerifier):
    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        """The window is ours (:func:`check_time`, on the caller's clock argument), not the
        library's wall clock."""


def verify(
    message: Message,
    body: bytes,
    claim: Claim,
    public: Ed25519PublicKey,
    *,
    me: str,
) -> None:
    """The signature with the key the registry holds for ``claim.kid``, then the target and
    the body's digest."""
    verifier = _Verifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={claim.kid: public}, private_keys={}),
    )
    try:
        (result,) = verifier.verify(
            message, max_age=None, expect_tag=TAG, require_components=COVERED
        )
    except (HTTPMessageSignaturesException, ValueError):
        raise CallRefused(Refusal.signature_invalid) from None
    if result.parameters.get("keyid") != claim.kid or result.nonce != claim.nonce:
        raise CallRefused(Refusal.signature_invalid)  # not the signature the claim was read from
    if claim.target != me:
        raise CallRefused(Refusal.misdirected)
    try:
        digest_checked = ContentDigest.verify_components(result.covered_components, body)
    except InvalidSignature:
        raise CallRefused(Refusal.body_altered) from None
    if not digest_checked:
        raise CallRefused(Refusal.body_altered)
