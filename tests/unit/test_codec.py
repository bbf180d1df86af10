"""The canonical byte form is RFC 8785, and the signature covers exactly the stored bytes
without ``sig``."""

from __future__ import annotations

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from shared.crypto.signing import SigningKey, verify
from shared.events.codec import CanonicalFormError, canonical, signed_part

keys = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), max_codepoint=0xDFFF), max_size=8
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",))),
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(keys, json_values, max_size=6))
def test_canonical_is_rfc8785(value: dict) -> None:
    assert canonical(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "bad",
    [{"x": 1.5}, {"x": 2**53}, {"x": [{"y": 0.0}]}, {"\ue000": 1}, {"x": b"bytes"}],
)
def test_values_outside_the_domain_are_refused(bad: dict) -> None:
    with pytest.raises(CanonicalFormError):
        canonical(bad)


def test_signed_part_removes_only_the_top_level_sig() -> None:
    key = SigningKey.generate()
    event = {
        "actor": "a/b",
        "data": {"sig": "decoy", "nested": {"sig": "decoy"}},
        "id": "1",
        "source": "/x",
        "specversion": "1.0",
        "subject": "audit",
        "time": "t",
        "type": "ledger.audit.digest_recorded.v1",
    }
    message = canonical(event)
    sig = key.sign(message)
    stored = canonical({**event, "sig": sig})
    assert signed_part(stored, sig) == message
    assert verify(key.public.loaded(), signed_part(stored, sig), sig)
    tampered = stored.replace(b'"id":"1"', b'"id":"2"')
    assert not verify(key.public.loaded(), signed_part(tampered, sig), sig)
