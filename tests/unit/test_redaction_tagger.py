"""The redaction tagger: its labels read as spans, what it is told about each character, and
the model it ships with learnt from the tuning halves of the labelled set and nothing else."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

from shared.redaction import Kind, redact
from shared.redaction.tagger import MODEL, OUTSIDE, default_tagger, features, label_of, spans_of
from tests.data.redaction.labelled_set import HELD_OUT, TUNING, Example, LabelledSpan
from tests.data.redaction.train_tagger import MODEL_PATH, PROVENANCE, digest, labels


def test_the_labels_read_as_spans() -> None:
    text = "我叫张三丰住在和平路"
    tags = ["O", "O", "B-N", "I-N", "I-N", "O", "O", "B-A", "I-A", "I-A"]
    assert [(s.kind, s.start, s.end, s.person) for s in spans_of(text, tags)] == [
        (Kind.NAME, 2, 5, "张三丰"),
        (Kind.ADDRESS, 7, 10, None),
    ]


def test_a_run_starts_at_an_inside_label_and_ends_at_another_kind() -> None:
    text = "张三和平路"
    tags = ["I-N", "I-N", "I-A", "I-A", "I-A"]
    assert [(s.kind, s.start, s.end) for s in spans_of(text, tags)] == [
        (Kind.NAME, 0, 2),
        (Kind.ADDRESS, 2, 5),
    ]


def test_a_begin_label_starts_a_new_span_and_one_character_is_none() -> None:
    text = "王五赵六李"
    tags = ["B-N", "I-N", "B-N", "I-N", "B-N"]
    assert [(s.start, s.end) for s in spans_of(text, tags)] == [(0, 2), (2, 4)]


def test_an_address_of_a_number_alone_is_no_address() -> None:
    text = "第1000号。和平路"
    tags = ["B-A", "I-A", "I-A", "I-A", "I-A", "I-A", "O", "B-A", "I-A", "I-A"]
    assert [(s.start, s.end) for s in spans_of(text, tags)] == [(7, 10)]
    assert redact("第1000号。").text == "第1000号。"
    assert redact("第十二号窗口。").text == "第十二号窗口。"


def test_trailing_space_is_left_out_and_a_name_is_its_characters() -> None:
    text = "张 三 \n走"
    tags = ["B-N", "I-N", "I-N", "I-N", "I-N", "O"]
    (span,) = spans_of(text, tags)
    assert (span.start, span.end, span.person) == (0, 3, "张三")


def test_each_character_is_described_by_itself_its_neighbours_and_its_word() -> None:
    text = "找王建国"
    words = [(0, 1, "v"), (1, 4, "PER")]
    described = features(text, words)
    assert len(described) == 4
    second = described[1]
    assert {"c=王", "c-1=找", "c+1=建", "b-1=找王", "w=PERB", "wl=3B", "wt=v|PER|$"} <= set(second)
    assert "sur=2" in second and "sur-1=0" in second
    assert "c-3=\x02" in described[0] and "s=hh$" in described[3]


def test_the_training_labels_mark_names_and_addresses_only() -> None:
    ex = Example(
        id="x",
        text="李四13800138000和平路",
        known_names=[],
        spans=[
            LabelledSpan(kind=Kind.NAME, start=0, end=2, value="李四"),
            LabelledSpan(kind=Kind.MOBILE, start=2, end=13, value="13800138000"),
            LabelledSpan(kind=Kind.ADDRESS, start=13, end=16, value="和平路"),
        ],
        hard=[],
    )
    assert labels(ex) == ["B-N", "I-N", *[OUTSIDE] * 11, "B-A", "I-A", "I-A"]
    assert label_of(Kind.NAME) == "N" and label_of(Kind.ADDRESS) == "A"


def test_the_shipped_model_learnt_from_the_tuning_halves_and_never_the_held_out_one() -> None:
    record = json.loads(PROVENANCE.read_text(encoding="utf-8"))
    assert MODEL_PATH.name == MODEL and MODEL_PATH.is_file()
    assert tuple(record["halves"]) == TUNING
    assert HELD_OUT not in record["halves"]
    # The texts are the ones in the repository now: retrain (make redaction-model) after
    # changing a tuning half.
    assert record["sha256"] == digest(TUNING)


def test_the_tagger_adds_a_name_the_rules_leave_and_redact_can_go_without_it() -> None:
    text = "老板钱进把工资拖了四个月，工人们都找不到他。"
    with_tagger = redact(text)
    assert "钱进" not in with_tagger.text, with_tagger.text
    assert "钱进" in redact(text, use_tagger=False).text
    assert default_tagger() is default_tagger()


def test_each_thread_tags_with_its_own_tagger_and_gets_the_same_answer() -> None:
    texts = [f"老板钱进把第{i}个月的工资拖了，住在和平路{i}号。" for i in range(40)]
    alone = [redact(t).text for t in texts]
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(lambda t: redact(t).text, texts)) == alone
        together = threading.Barrier(4)

        def tagger_of_a_thread(_: int) -> int:
            together.wait(timeout=10)  # four threads at once
            return id(default_tagger())

        assert len(set(pool.map(tagger_of_a_thread, range(4)))) == 4
