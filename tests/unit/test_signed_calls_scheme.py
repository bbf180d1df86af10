"""The signature of an internal call, pure: the exact RFC 9421 signature base it signs, and each
way a request fails the checks (unsigned, malformed, stale, altered, misdirected, wrong key)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import httpx
import pytest

from shared.crypto.signing import SigningKey, verify
from shared.web.signed_calls import scheme
from shared.web.signed_calls.scheme import CallRefused, Claim, Refusal

CALLER = "/bodies/x/publication"
TARGET = "/bodies/x/intake"
CREATED = 1_790_000_000
NONCE = "n0nce-n0nce-n0nce-42"
BODY = b'{"case":"case-1","text":"t"}'
URL = "http://intake.internal:8001/internal/redaction?lang=zh"
KEY = SigningKey.generate()


def signed(
    body: bytes = BODY, url: str = URL, method: str = "POST", key: SigningKey = KEY
) -> httpx.Request:
    r = httpx.Request(method, url, content=body)
    scheme.sign(r, body, key, caller=CALLER, target=TARGET, created=CREATED, nonce=NONCE)
    return r


def refusal(fn: Callable[[], object]) -> Refusal:
    with pytest.raises(CallRefused) as caught:
        fn()
    return caught.value.reason


def check(r: httpx.Request, body: bytes = BODY, *, me: str = TARGET, now: float = CREATED) -> Claim:
    claim = scheme.read_claim(r.headers)
    scheme.check_time(claim, now)
    scheme.verify(r, body, claim, KEY.public.loaded(), me=me)
    return claim


def test_the_signature_base_is_exactly_rfc_9421_over_our_components() -> None:
    r = signed()
    digest = base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    assert r.headers["content-digest"] == f"sha-256=:{digest}:"
    params = (
        '("@method" "@path" "@query" "ledger-caller" "ledger-target" "content-digest")'
        f';created={CREATED};keyid="{KEY.kid}";alg="ed25519";nonce="{NONCE}"'
        ';tag="ledger-internal-call"'
    )
    base = "\n".join(
        [
            '"@method": POST',
            '"@path": /internal/redaction',
            '"@query": ?lang=zh',
            f'"ledger-caller": {CALLER}',
            f'"ledger-target": {TARGET}',
            f'"content-digest": sha-256=:{digest}:',
            f'"@signature-params": {params}',
        ]
    )
    assert r.headers["signature-input"] == f"ledger={params}"
    sig = r.headers["signature"]
    assert sig.startswith("ledger=:") and sig.endswith(":")
    raw = base64.b64decode(sig[len("ledger=:") : -1])
    b64u = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    assert verify(KEY.public.loaded(), base.encode(), b64u)


def test_a_signed_request_passes_and_its_claim_says_who_when_and_which_key() -> None:
    claim = check(signed())
    assert claim == Claim(KEY.kid, CREATED, NONCE, CALLER, TARGET)


def test_an_empty_body_is_signed_too() -> None:
    r = signed(b"", method="GET")
    check(r, b"")
    assert refusal(lambda: check(r, b"x")) is Refusal.body_altered


def test_a_request_without_signature_headers_is_unsigned() -> None:
    r = httpx.Request("POST", URL, content=BODY)
    assert refusal(lambda: scheme.read_claim(r.headers)) is Refusal.unsigned


def _without(r: httpx.Request, name: str) -> httpx.Request:
    del r.headers[name]
    return r


def _edit_input(old: str, new: str) -> Callable[[httpx.Request], httpx.Request]:
    def edit(r: httpx.Request) -> httpx.Request:
        r.headers["signature-input"] = r.headers["signature-input"].replace(old, new)
        return r

    return edit


@pytest.mark.parametrize(
    "spoil",
    [
        lambda r: _without(r, "signature"),
        lambda r: _without(r, "signature-input"),
        lambda r: _without(r, "ledger-caller"),
        lambda r: _without(r, "ledger-target"),
        _edit_input('tag="ledger-internal-call"', 'tag="other"'),
        _edit_input(f';nonce="{NONCE}"', ""),
        _edit_input(f'nonce="{NONCE}"', 'nonce="short"'),
        _edit_input(' "@query"', ""),
        _edit_input('alg="ed25519"', 'alg="hmac-sha256"'),
        _edit_input(f"created={CREATED}", f'created="{CREATED}"'),
        _edit_input(f'keyid="{KEY.kid}"', 'keyid="not-a-kid"'),
        _edit_input("ledger=(", "ledger=(("),
    ],
    ids=[
        "no-signature",
        "no-input",
        "no-caller",
        "no-target",
        "other-tag",
        "no-nonce",
        "bad-nonce",
        "component-missing",
        "other-alg",
        "created-text",
        "bad-kid",
        "unparseable",
    ],
)
def test_a_request_not_in_our_shape_is_malformed(
    spoil: Callable[[httpx.Request], httpx.Request],
) -> None:
    r = spoil(signed())
    assert refusal(lambda: scheme.read_claim(r.headers)) is Refusal.malformed


def test_a_repeated_signature_field_is_malformed() -> None:
    r = signed()
    r.headers = httpx.Headers([*r.headers.multi_items(), ("signature", r.headers["signature"])])
    assert refusal(lambda: scheme.read_claim(r.headers)) is Refusal.malformed


@pytest.mark.parametrize(
    ("now", "fresh"),
    [
        (CREATED, True),
        (CREATED + scheme.WINDOW_SECONDS, True),
        (CREATED - scheme.WINDOW_SECONDS, True),
        (CREATED + scheme.WINDOW_SECONDS + 1, False),
        (CREATED - scheme.WINDOW_SECONDS - 1, False),
    ],
)
def test_the_time_must_be_within_the_window_either_way(now: float, fresh: bool) -> None:
    r = signed()
    if fresh:
        check(r, now=now)
    else:
        assert refusal(lambda: check(r, now=now)) is Refusal.stale


def _set(name: str, value: str) -> Callable[[httpx.Request], httpx.Request]:
    def edit(r: httpx.Request) -> httpx.Request:
        r.headers[name] = value
        return r

    return edit


def _retarget(url: str, method: str | None = None) -> Callable[[httpx.Request], httpx.Request]:
    def edit(r: httpx.Request) -> httpx.Request:
        out = httpx.Request(method or r.method, url, content=BODY)
        out.headers = r.headers
        return out

    return edit


@pytest.mark.parametrize(
    "alter",
    [
        _retarget("http://intake.internal:8001/internal/vault?lang=zh"),
        _retarget("http://intake.internal:8001/internal/redaction?lang=en"),
        _retarget("http://intake.internal:8001/internal/redaction"),
        _retarget(URL, "PUT"),
        _set("ledger-caller", "/bodies/x/dispatch"),
        _set("ledger-target", "/bodies/y/intake"),
        _set("content-digest", "sha-256=:" + base64.b64encode(b"\0" * 32).decode() + ":"),
        _edit_input(f"created={CREATED}", f"created={CREATED + 1}"),
        _edit_input(f'nonce="{NONCE}"', 'nonce="another-nonce-000000"'),
    ],
    ids=["path", "query", "query-dropped", "method", "caller", "target", "digest", "time", "nonce"],
)
def test_an_altered_request_has_an_invalid_signature(
    alter: Callable[[httpx.Request], httpx.Request],
) -> None:
    r = alter(signed())
    assert refusal(lambda: check(r)) is Refusal.signature_invalid


def test_an_altered_body_under_the_signed_digest_is_caught_by_the_digest() -> None:
    assert refusal(lambda: check(signed(), BODY + b" ")) is Refusal.body_altered


def test_a_signature_by_another_key_than_the_claimed_one_is_invalid() -> None:
    r = signed(key=SigningKey.generate())
    assert refusal(lambda: check(r)) is Refusal.signature_invalid


def test_a_call_signed_for_another_deployment_is_misdirected() -> None:
    assert refusal(lambda: check(signed(), me="/bodies/y/intake")) is Refusal.misdirected


def test_nonces_are_fresh_and_in_shape() -> None:
    nonces = {scheme.new_nonce() for _ in range(100)}
    assert len(nonces) == 100
    assert all(scheme._NONCE.match(n) for n in nonces)
