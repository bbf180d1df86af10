"""The catalog's payloads and the envelope are built without a warning (a validator that
returns anything but the model warns when the model is built directly, as the signer does),
and a payload, once validated, cannot be changed."""

from __future__ import annotations

import warnings

import pytest
from pydantic import ValidationError

from shared.events.catalog import CATALOG
from shared.events.envelope import Envelope
from tests.samples import SAMPLES
from tests.unit.test_events_envelope import fields


def test_an_envelope_is_built_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = Envelope(**fields())
    assert env.partitionkey == env.subject


@pytest.mark.parametrize("event_type", sorted(CATALOG))
def test_a_payload_is_built_without_a_warning_and_is_frozen(event_type: str) -> None:
    model = CATALOG[event_type]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        payload = model(**SAMPLES[event_type])
    name = next(iter(SAMPLES[event_type]))
    with pytest.raises(ValidationError):
        setattr(payload, name, getattr(payload, name))
