"""The composed function: typed placeholders, one number per person, known data, determinism."""

from __future__ import annotations

from shared.redaction import Kind, KnownPersonalData, redact

TEXT = (
    "本人禤海燕，身份证号420106196407210499，手机138-0771-5526，座机0771-5568210，"
    "邮箱oymingyue@163.com，家住南宁市青秀区民族大道136号8栋1单元1203室，车牌桂A·D56789。"
    "窗口的覃丽华说不归她管，我又找覃丽华，她还是推给禤海燕的单位。"
)


def test_every_kind_gets_its_placeholder() -> None:
    out = redact(TEXT, KnownPersonalData(names=("禤海燕",)))
    assert out.text == (
        "本人【姓名1】，身份证号【身份证号】，手机【手机号】，座机【电话】，"
        "邮箱【邮箱】，家住【地址】，车牌【车牌】。"
        "窗口的【姓名2】说不归她管，我又找【姓名2】，她还是推给【姓名1】的单位。"
    )
    assert {s.kind for s in out.spans} == set(Kind)
    for s in out.spans:
        assert TEXT[s.start : s.end] not in out.text


def test_spans_hold_no_personal_data() -> None:
    out = redact(TEXT, KnownPersonalData(names=("禤海燕",)))
    dumped = out.model_dump_json()
    assert "海燕" not in dumped and "丽华" not in dumped and "5526" not in dumped
    assert all(s.person is None for s in out.spans)


def test_spans_index_the_original_in_order() -> None:
    out = redact(TEXT)
    starts = [s.start for s in out.spans]
    assert starts == sorted(starts)
    assert all(a.end <= b.start for a, b in zip(out.spans, out.spans[1:], strict=False))
    assert TEXT[out.spans[0].start : out.spans[0].end] == "禤海燕"


def test_known_details_are_redacted_in_any_spelling() -> None:
    known = KnownPersonalData(
        names=("訾红梅",),
        phones=("+86 139 8005 1192",),
        id_numbers=("11010119911013050x",),
        emails=("ZiHongMei@163.com",),
        addresses=("幸福巷",),
        plates=("川A·3J5K7",),
    )
    text = (
        "联系人訾 红梅，１３９８００５１１９２，110101 19911013 050X，"
        "zihongmei＠163.com，住幸福巷，车川A3J5K7"
    )
    out = redact(text, known, recognise_names=False)
    for value in ("訾", "红梅", "1192", "１１９２", "050X", "zihongmei", "幸福巷", "3J5K7"):
        assert value not in out.text
    assert out.text.count("【") == 6


def test_known_names_are_redacted_even_without_the_recogniser() -> None:
    out = redact(
        "仉志强去办事，仉志强很生气。", KnownPersonalData(names=("仉志强",)), recognise_names=False
    )
    assert out.text == "【姓名1】去办事，【姓名1】很生气。"


def test_name_like_words_survive() -> None:
    text = "黄金周期间，周先生在王府井大街的李宁专卖店门口等高新区的车。"
    assert redact(text).text == text


def test_overlapping_findings_leave_nothing_half_visible() -> None:
    # The recogniser may take an estate for a person; the address takes it in.
    text = "家住南宁市西乡塘区大学东路98号鑫利华小区6栋3单元401，"
    out = redact(text)
    assert out.text == "家住【地址】，"


def test_deterministic() -> None:
    known = KnownPersonalData(names=("禤海燕",))
    assert redact(TEXT, known) == redact(TEXT, known)


def test_a_number_does_not_swallow_the_digits_after_it() -> None:
    out = redact("罚款200元，138 0771 5526 2023年", recognise_names=False)
    assert out.text == "罚款200元，【手机号】 2023年"


def test_touching_findings_of_one_kind_are_one_placeholder() -> None:
    out = redact("住天津市南开区鞍山西道346号天大北五村19门301，", recognise_names=False)
    assert out.text == "住【地址】，"
