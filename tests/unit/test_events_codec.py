"""The canonical form's domain, edge by edge, and the helpers around the stored bytes."""

from __future__ import annotations

import hashlib

import orjson
import pytest

from shared.events.codec import (
    MAX_SAFE_INT,
    CanonicalFormError,
    canonical,
    canonical_checked,
    loads,
    record_hash,
    signed_part,
)


def test_the_safe_integer_range_is_ieee_doubles() -> None:
    assert MAX_SAFE_INT == 2**53 - 1


@pytest.mark.parametrize("n", [MAX_SAFE_INT, -MAX_SAFE_INT, 0, 1, -1])
def test_integers_up_to_the_safe_limit_are_allowed(n: int) -> None:
    assert canonical({"n": n}) == b'{"n":%d}' % n


@pytest.mark.parametrize("n", [MAX_SAFE_INT + 1, -MAX_SAFE_INT - 1, 2**64])
def test_integers_beyond_it_are_refused(n: int) -> None:
    with pytest.raises(CanonicalFormError, match="integer outside"):
        canonical({"n": n})


def test_every_json_scalar_and_container_is_allowed() -> None:
    value = {"s": "文字", "t": True, "f": False, "z": None, "l": [1, ["x"]], "d": {"k": {}}}
    assert canonical(value) == orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    assert canonical({"tuple": (1, 2)}) == b'{"tuple":[1,2]}'


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ({"x": 0.5}, "floats are not allowed"),
        ({"x": [1, 2.0]}, "floats are not allowed"),
        ({"x": (1, 2.0)}, "floats are not allowed"),
        ({"x": {"y": {"z": 1.0}}}, "floats are not allowed"),
        ({"x": [{"y": 2**53}]}, "integer outside"),
        ({1: "x"}, "key is not a string"),
        ({"x": {2: "y"}}, "key is not a string"),
        ({"\ue000": 1}, "at or above U\\+E000"),
        ({"a\uffff": 1}, "at or above U\\+E000"),
        ({"x": {"ok\ue001": 1}}, "at or above U\\+E000"),
        ({"x": b"bytes"}, "unsupported type bytes"),
        ({"x": {1, 2}}, "unsupported type set"),
    ],
)
def test_values_outside_the_domain_are_refused_with_the_reason(bad: dict, why: str) -> None:
    with pytest.raises(CanonicalFormError, match=why):
        canonical(bad)


def test_keys_below_the_private_use_area_and_the_empty_key_are_allowed() -> None:
    assert canonical({"": 1, "\ud7ff": 2, "z": 3}) == orjson.dumps(
        {"": 1, "\ud7ff": 2, "z": 3}, option=orjson.OPT_SORT_KEYS
    )


def test_keys_are_sorted_and_there_is_no_whitespace() -> None:
    assert canonical({"b": 1, "a": [1, 2], "c": {"y": 1, "x": 2}}) == (
        b'{"a":[1,2],"b":1,"c":{"x":2,"y":1}}'
    )


def test_canonical_checked_is_the_same_bytes_without_the_domain_check() -> None:
    value = {"b": "x", "a": 1}
    assert canonical_checked(value) == canonical(value)
    assert canonical_checked({"x": 0.5}) == b'{"x":0.5}'  # the caller vouched for the domain


def test_record_hash_is_the_hex_sha256_of_the_stored_bytes() -> None:
    stored = b'{"a":1}'
    assert record_hash(stored) == hashlib.sha256(stored).hexdigest()
    assert record_hash(stored) != record_hash(stored + b" ")


def test_signed_part_needs_a_top_level_sig() -> None:
    stored = canonical({"actor": "a/b", "id": "1", "sig": "abc", "type": "t"})
    assert signed_part(stored, "abc") == b'{"actor":"a/b","id":"1","type":"t"}'
    with pytest.raises(CanonicalFormError, match="no top-level sig"):
        signed_part(stored, "other")
    with pytest.raises(CanonicalFormError):
        signed_part(canonical({"actor": "a/b", "id": "1"}), "abc")


def test_loads_reads_an_object_and_refuses_anything_else() -> None:
    assert loads(b'{"a":[1,{"b":null}]}') == {"a": [1, {"b": None}]}
    for not_an_object in (b"[1]", b'"x"', b"1", b"null"):
        with pytest.raises(CanonicalFormError, match="not a JSON object"):
            loads(not_an_object)
    with pytest.raises(ValueError):
        loads(b"{not json")
