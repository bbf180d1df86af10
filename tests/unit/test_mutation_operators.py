"""The mutation tool's operators reach module level: rule tables, frozensets, constants."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.mutation.mutate import REFUSAL, mutant_code, mutations

SOURCE = '''
"""A tiny rule book."""
OPEN = frozenset({"a", "b"})
LIMIT = 3


def _in(*states):
    return lambda s, d: None if s in states else "wrong state"


def _all(*checks):
    def check(s, d):
        for c in checks:
            if (why := c(s, d)) is not None:
                return why
        return None
    return check


def _small(s, d):
    return None if d["n"] < LIMIT else "too big"


def _grow(s, d) -> None:
    if s == "b":
        return
    print("grown")


RULES = {
    "open": (_all(_in("a"), _small), lambda s, d: "b"),
}


class State:
    @property
    def is_open(self):
        return "a" in OPEN
'''


def load(index: int) -> dict[str, Any]:
    _, code = mutant_code(SOURCE, Path("tiny.py"), index)
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    return namespace


def line_of(text: str) -> int:
    return next(i for i, line in enumerate(SOURCE.splitlines(), 1) if line.strip() == text)


def find(description: str, line: int | None = None) -> int:
    return next(
        m.index
        for m in mutations(SOURCE)
        if m.description == description and line in (None, m.line)
    )


def test_a_table_check_can_be_made_to_always_allow_and_an_evolve_the_identity() -> None:
    assert load(find("open: check -> always allow"))["RULES"]["open"][0]("z", {"n": 9}) is None
    assert load(find("open: evolve -> identity"))["RULES"]["open"][1]("a", {}) == "a"
    assert "open" not in load(find("remove entry 'open'"))["RULES"]


def test_module_level_constants_and_sets_are_mutated() -> None:
    assert load(find("3 -> 4"))["LIMIT"] == 4
    assert load(find("remove `'a'` from the set"))["OPEN"] == frozenset({"b"})
    found = {m.description: m for m in mutations(SOURCE)}
    assert found["3 -> 4"].module_level and found["remove `'a'` from the set"].module_level


def test_a_check_can_lose_a_condition_or_its_verdict() -> None:
    rule = load(find("remove `_small` from _all(...)"))["RULES"]["open"][0]
    assert rule("a", {"n": 99}) is None  # the size check is gone
    small = load(find("< -> <="))["_small"]
    assert small("a", {"n": 3}) is None
    refusing = [m for m in mutations(SOURCE) if m.description.endswith("-> return a refusal")]
    assert refusing and all(m.line != 0 for m in refusing)
    assert load(refusing[-1].index)["_all"]()("a", {}) == REFUSAL


def test_docstrings_and_early_exits_of_procedures_are_left_alone() -> None:
    descriptions = [m.description for m in mutations(SOURCE)]
    assert not any("A tiny rule book" in d for d in descriptions)
    early = line_of("return")
    assert not [m for m in mutations(SOURCE) if m.line == early and m.operator == "return"]


def test_a_property_is_mutated_too() -> None:
    state = load(find("in -> not in", line_of('return "a" in OPEN')))["State"]()
    assert state.is_open is False


def test_a_module_with_dict_unpacking_still_compiles_every_mutant() -> None:
    source = 'BASE = {"a": 1}\nMORE = {**BASE, "b": 2}\n'
    for m in mutations(source):
        namespace: dict[str, Any] = {}
        exec(mutant_code(source, Path("unpack.py"), m.index)[1], namespace)
    assert any(m.description == "remove entry 'b'" for m in mutations(source))


def test_the_export_list_is_left_alone() -> None:
    source = '__all__ = ["a", "b"]\nNAMES = ["a", "b"]\n'
    assert {m.line for m in mutations(source)} == {2}


def test_a_mutation_knows_the_first_line_of_its_statement() -> None:
    source = 'def f(t):\n    if t in (\n        "a",\n        "b",\n    ):\n        return 1\n'
    element = next(m for m in mutations(source) if m.description == "remove `'b'` from the tuple")
    assert (element.line, element.statement_line) == (4, 2)
