"""The pure parts of the complainant's rights and the vault's content: who proves a complaint
is theirs, when an entry expires, what erasure drafts, and what redaction is told for certain."""

from __future__ import annotations

import hashlib

import pytest

from services.intake import rights
from services.intake.pseudonym import normalize_contact
from services.intake.vault_content import Identity
from shared.events.catalog import VaultErasureCause
from shared.rules.case import CLOSED, DECLINED, MERGED, RECEIVED, RESOLVED, WITHDRAWN, CaseState
from shared.rules.stream import StreamState
from shared.web.command_path import Refusal

CODE = hashlib.sha256(b"code").hexdigest()
WHO = hashlib.sha256(b"who").hexdigest()
CASE = "case-0190a3b2-7c1d-7e4f-8a9b-0123456789ab"


def test_the_code_proves_an_anonymous_complaint_and_code_and_contact_a_named_one() -> None:
    anonymous = {"tracking_code_hash": CODE, "complainant": None}
    named = {"tracking_code_hash": CODE, "complainant": WHO}
    assert rights.proves(anonymous, CODE, None)
    assert rights.proves(anonymous, CODE, WHO)
    assert not rights.proves(anonymous, "0" * 64, None)
    assert rights.proves(named, CODE, WHO)
    assert not rights.proves(named, CODE, None)
    assert not rights.proves(named, CODE, "0" * 64)
    assert not rights.proves(named, "0" * 64, WHO)
    assert not rights.proves(None, CODE, WHO)
    assert not rights.proves(named, "", WHO)


@pytest.mark.parametrize("status", [CLOSED, WITHDRAWN, DECLINED])
def test_an_ended_case_expires_the_retention_after_its_last_event(status: str) -> None:
    ended = rights.ended_at(CaseState(status=status), 1_000)
    assert ended == 1_000
    assert not rights.expired(ended, 1_000 + rights.DAY_US - 1, 1)
    assert rights.expired(ended, 1_000 + rights.DAY_US, 1)
    assert rights.expired(ended, 1_000, 0)


@pytest.mark.parametrize("status", [RECEIVED, RESOLVED, MERGED])
def test_a_case_not_ended_never_expires(status: str) -> None:
    ended = rights.ended_at(CaseState(status=status), 1_000)
    assert ended is None and not rights.expired(ended, 10**18, 0)


def test_erasure_drafts_one_event_without_personal_data_and_once_per_case() -> None:
    state = StreamState.empty(CASE)
    with pytest.raises(Refusal):
        rights.erase_decision(state, "TS1", VaultErasureCause.request, "efficiency-office/vault")
    state.domain = CaseState(status=CLOSED, complaints=(("TS1", WHO),))
    [draft] = rights.erase_decision(
        state, "TS1", VaultErasureCause.retention, "efficiency-office/vault"
    )
    assert draft.type == rights.VAULT_ERASED
    assert draft.data == {"complaint_no": "TS1", "cause": "retention"}
    assert rights.erasure_id(CASE) == rights.erasure_id(CASE) != rights.erasure_id(CASE + "x")


def test_the_form_tells_redaction_each_detail_under_its_kind() -> None:
    known = Identity(
        name="欧阳晓梅",
        phone="13912345678",
        email="a@example.com",
        id_number="11010119900307421X",
        address="建国路88号",
        contact="b@example.com",
    ).known()
    assert known.names == ("欧阳晓梅",)
    assert known.phones == ("13912345678",)
    assert known.emails == ("a@example.com", "b@example.com")
    assert known.id_numbers == ("11010119900307421X",)
    assert known.addresses == ("建国路88号",)
    assert Identity(contact="139 1234 5678").known().phones == ("139 1234 5678",)


def test_a_contact_is_one_form_whatever_its_width_spacing_or_case() -> None:
    assert normalize_contact("１３９-１２３４ ５６７８") == normalize_contact("13912345678")
    assert normalize_contact(" A@Example.COM ") == "a@example.com"
